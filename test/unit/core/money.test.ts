import { formatPence, parseToPence, roundHalfUpDiv } from '../../../core/money';

describe('parseToPence', () => {
	it.each([
		['19.99', 1999],
		['19.9', 1990],
		['19', 1900],
		[' 4.95 ', 495],
		['0.005', 1],
		['0.004', 0],
		['-0.5', -50],
		[0.1 + 0.2, 30],
		[40, 4000],
		[1234567.89, 123456789],
	])('%p → %p pence', (input, pence) => {
		expect(parseToPence(input)).toBe(pence);
	});

	it.each([
		['abc'],
		[''],
		['1,000.00'],
		[null],
		[undefined],
		[Number.NaN],
		[Infinity],
		['1e5'],
		[{}],
	])('%p is not an amount', (input) => {
		expect(parseToPence(input)).toBeNull();
	});
});

describe('formatPence', () => {
	it('formats with two places and a sign', () => {
		expect(formatPence(2413)).toBe('24.13');
		expect(formatPence(5)).toBe('0.05');
		expect(formatPence(-1205)).toBe('-12.05');
		expect(formatPence(0)).toBe('0.00');
	});
});

describe('roundHalfUpDiv', () => {
	it('rounds halves up and the rest to nearest', () => {
		expect(roundHalfUpDiv(5, 2)).toBe(3);
		expect(roundHalfUpDiv(4, 3)).toBe(1);
		expect(roundHalfUpDiv(5, 3)).toBe(2);
		expect(roundHalfUpDiv(2413 * 20, 120)).toBe(402);
		expect(roundHalfUpDiv(-5, 2)).toBe(-3);
	});
	it('rejects a zero denominator', () => {
		expect(() => roundHalfUpDiv(1, 0)).toThrow(RangeError);
	});
});
