import type { CreditOrder, CreditOrderLine, CreditResult } from '../../../core/creditNote';

/** WEB-1001, the worked example of credit-notes.md: A £40 ×1, B £30 ×2 less 10 %, £10 promotion, £4.95 delivery, gross, VAT 20 %. */
export function workedExample(
	overrides: Partial<CreditOrder> = {},
	prev: { A?: number; B?: number } = {},
): CreditOrder {
	return {
		orderRef: 'WEB-1001',
		currency: 'GBP',
		exchangeRate: 1,
		priceBasis: 'gross',
		orderDiscountPence: 1000,
		delivery: { pricePence: 495, vatRatePercent: 20 },
		deliveryAlreadyRefunded: false,
		lines: [
			line({
				lineId: 'L1',
				sku: 'TSHIRT-RED-M',
				qtySold: 1,
				unitPricePence: 4000,
				qtyPreviouslyReturned: prev.A ?? 0,
			}),
			line({
				lineId: 'L2',
				sku: 'JEANS-BLU-32',
				qtySold: 2,
				unitPricePence: 3000,
				discountPercent: 10,
				qtyPreviouslyReturned: prev.B ?? 0,
			}),
		],
		...overrides,
	};
}

export function line(
	partial: Partial<CreditOrderLine> & Pick<CreditOrderLine, 'lineId' | 'sku'>,
): CreditOrderLine {
	return {
		qtySold: 1,
		qtyPreviouslyReturned: 0,
		unitPricePence: 100,
		discountPercent: 0,
		discountValuePence: 0,
		vatRatePercent: 20,
		...partial,
	};
}

export function order(lines: CreditOrderLine[], overrides: Partial<CreditOrder> = {}): CreditOrder {
	return {
		orderRef: 'T-1',
		currency: 'GBP',
		exchangeRate: 1,
		priceBasis: 'gross',
		orderDiscountPence: 0,
		delivery: null,
		deliveryAlreadyRefunded: false,
		lines,
		...overrides,
	};
}

export function expectOk(result: CreditResult): Extract<CreditResult, { ok: true }> {
	if (!result.ok)
		throw new Error(
			`expected a credit, got problems: ${result.problems.map((p) => p.message).join(' | ')}`,
		);
	return result;
}

export function expectProblems(result: CreditResult): Extract<CreditResult, { ok: false }> {
	if (result.ok) throw new Error(`expected problems, got a credit of ${result.totals.grossPence}`);
	return result;
}

/** mulberry32: a small seeded PRNG so property tests are repeatable. */
export function prng(seed: number): {
	next: () => number;
	int: (min: number, max: number) => number;
	pick: <T>(items: readonly T[]) => T;
	chance: (p: number) => boolean;
} {
	let state = seed >>> 0;
	const next = () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
	return { next, int, pick: (items) => items[int(0, items.length - 1)], chance: (p) => next() < p };
}
