import {
	isFullyGraded,
	normaliseCode,
	validateReturn,
	type NormalisedReturnInput,
} from '../../../core/returnModel';

function sample(overrides: Partial<NormalisedReturnInput> = {}): NormalisedReturnInput {
	return {
		schemaVersion: 1,
		source: 'rebound-webhook',
		returnId: '5001',
		orderReference: 'WEB-1001',
		event: {
			id: 'evt-1',
			type: 'return.processed',
			occurredAt: '2026-11-20T10:00:00Z',
			sequence: 3,
		},
		lines: [
			{
				lineId: '5001:1',
				sku: 'JEANS-BLU-32',
				quantity: 1,
				disposition: 'Grade A',
				reasons: [{ reason: 'Too small' }],
			},
		],
		...overrides,
	};
}

describe('validateReturn', () => {
	it('accepts a valid return and fills defaults', () => {
		const result = validateReturn(sample());
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.value.currency).toBe('GBP');
		expect(result.value.lines[0].reasons[0]).toEqual({
			reason: 'Too small',
			action: '',
			wish: '',
			additional: [],
		});
		expect(result.value.lines[0].unitPricePence).toBeNull();
		expect(result.value.customer).toEqual({ name: '', email: '' });
	});

	it('names the record and the field of every problem', () => {
		const bad = sample({
			lines: [
				{ lineId: '5001:1', sku: 'A', quantity: 1 },
				{ lineId: '5001:2', sku: 'B', quantity: '2' as unknown as number },
				{ lineId: '5001:3', sku: '  ', quantity: 0 },
			],
		});
		const result = validateReturn(bad);
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.message).toMatch(/^Return 5001 is invalid: /);
		const fields = result.issues.map((i) => i.field);
		expect(fields).toEqual(
			expect.arrayContaining(['lines[1].quantity', 'lines[2].sku', 'lines[2].quantity']),
		);
		expect(result.message).toContain('lines[1].quantity');
	});

	it('rejects a missing order reference and an empty line list', () => {
		const result = validateReturn(sample({ orderReference: '', lines: [] }));
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.issues.map((i) => i.field).sort()).toEqual(['lines', 'orderReference']);
	});

	it('rejects a bad currency and a non-date event time', () => {
		const result = validateReturn(
			sample({
				currency: 'pounds',
				event: { id: 'e', type: 't', occurredAt: 'yesterday', sequence: 1 },
			}),
		);
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.issues.map((i) => i.field).sort()).toEqual(['currency', 'event.occurredAt']);
	});

	it('labels a record without an id', () => {
		const result = validateReturn({});
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.message).toMatch(/^Return \(no id\) is invalid/);
	});

	it('rejects fractional and negative quantities and over-long text', () => {
		const result = validateReturn(
			sample({
				lines: [
					{ lineId: 'x', sku: 'S'.repeat(256), quantity: 1.5 },
					{ lineId: 'y', sku: 'A', quantity: -1 },
				],
			}),
		);
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.issues.map((i) => i.field).sort()).toEqual([
			'lines[0].quantity',
			'lines[0].sku',
			'lines[1].quantity',
		]);
	});
});

describe('isFullyGraded / normaliseCode', () => {
	it('is graded only when every line has a disposition', () => {
		expect(isFullyGraded({ lines: [{ disposition: 'A' }, { disposition: null }] as never })).toBe(
			false,
		);
		expect(isFullyGraded({ lines: [{ disposition: 'A' }, { disposition: 'B' }] as never })).toBe(
			true,
		);
	});
	it('normalises case and whitespace', () => {
		expect(normaliseCode('  Grade   A ')).toBe('grade a');
		expect(normaliseCode('LIKE\tNEW')).toBe('like new');
	});
});
