import {
	allocateProportionally,
	computeCredit,
	CREDIT_PROBLEM_EXCEPTION_KIND,
	lineValuePence,
	paidPerLine,
	type CreditOrder,
	type CreditRequestLine,
} from '../../../core/creditNote';
import { expectOk, expectProblems, line, order, workedExample } from './creditNote.fixtures';

const NEVER = { deliveryPolicy: 'never' } as const;
const ALWAYS = { deliveryPolicy: 'always' } as const;
const WHOLE = { deliveryPolicy: 'whole_order' } as const;

describe('worked example of credit-notes.md (WEB-1001)', () => {
	it('values the lines and shares the £10 promotion 4.26 / 5.74', () => {
		expect(paidPerLine(workedExample())).toEqual([
			{ lineId: 'L1', valuePence: 4000, sharePence: 426, paidPence: 3574 },
			{ lineId: 'L2', valuePence: 5400, sharePence: 574, paidPence: 4826 },
		]);
		expect(allocateProportionally([4000, 5400], 1000)).toEqual([426, 574]);
	});

	it('credits one B at 24.13 gross, VAT 4.02, net 20.11', () => {
		const r = expectOk(
			computeCredit(workedExample(), [{ sku: 'JEANS-BLU-32', quantity: 1, ref: 'rb-1' }], NEVER),
		);
		expect(r.lines).toEqual([
			{
				kind: 'item',
				lineId: 'L2',
				sku: 'JEANS-BLU-32',
				ref: 'rb-1',
				refs: ['rb-1'],
				quantity: 1,
				fromUnit: 0,
				toUnit: 1,
				netPence: 2011,
				vatPence: 402,
				grossPence: 2413,
				vatRatePercent: 20,
			},
		]);
		expect(r.totals).toEqual({ netPence: 2011, vatPence: 402, grossPence: 2413 });
		expect(r.deliveryRefunded).toBe(false);
		expect(r.mismatch).toBeNull();
		expect(r.orderRef).toBe('WEB-1001');
	});

	it('credits the second B later at 24.13 and A later at 35.74: the three total 84.00', () => {
		const second = expectOk(
			computeCredit(workedExample({}, { B: 1 }), [{ sku: 'JEANS-BLU-32', quantity: 1 }], NEVER),
		);
		expect(second.lines[0]).toMatchObject({
			fromUnit: 1,
			toUnit: 2,
			grossPence: 2413,
			vatPence: 402,
			netPence: 2011,
		});
		const a = expectOk(
			computeCredit(workedExample({}, { B: 2 }), [{ sku: 'TSHIRT-RED-M', quantity: 1 }], NEVER),
		);
		// 3574 × 20/120 = 595.67 → 596
		expect(a.lines[0]).toMatchObject({
			lineId: 'L1',
			grossPence: 3574,
			vatPence: 596,
			netPence: 2978,
		});
		expect(2413 + second.totals.grossPence + a.totals.grossPence).toBe(8400);
	});

	it('credits both B at once at 48.26, the same as one at a time', () => {
		const r = expectOk(
			computeCredit(workedExample(), [{ sku: 'JEANS-BLU-32', quantity: 2 }], NEVER),
		);
		expect(r.lines[0]).toMatchObject({
			quantity: 2,
			fromUnit: 0,
			toUnit: 2,
			grossPence: 4826,
			vatPence: 804,
			netPence: 4022,
		});
	});

	it('policy never: no delivery even when the whole order comes back', () => {
		const r = expectOk(
			computeCredit(
				workedExample(),
				[
					{ sku: 'TSHIRT-RED-M', quantity: 1 },
					{ sku: 'JEANS-BLU-32', quantity: 2 },
				],
				NEVER,
			),
		);
		expect(r.lines.map((l) => l.kind)).toEqual(['item', 'item']);
		expect(r.totals.grossPence).toBe(8400);
		expect(r.deliveryRefunded).toBe(false);
	});

	it('policy always: delivery 4.95 (VAT 0.83) on the first return only', () => {
		const first = expectOk(
			computeCredit(workedExample(), [{ sku: 'JEANS-BLU-32', quantity: 1 }], ALWAYS),
		);
		expect(first.lines[1]).toEqual({
			kind: 'delivery',
			lineId: null,
			sku: null,
			ref: null,
			quantity: 1,
			fromUnit: 0,
			toUnit: 1,
			netPence: 412,
			vatPence: 83,
			grossPence: 495,
			vatRatePercent: 20,
		});
		expect(first.totals.grossPence).toBe(2413 + 495);
		expect(first.deliveryRefunded).toBe(true);
		const later = expectOk(
			computeCredit(
				workedExample({ deliveryAlreadyRefunded: true }, { B: 1 }),
				[{ sku: 'JEANS-BLU-32', quantity: 1 }],
				ALWAYS,
			),
		);
		expect(later.lines).toHaveLength(1);
		expect(later.deliveryRefunded).toBe(false);
		expect(later.totals.grossPence).toBe(2413);
	});

	it('policy whole_order: delivery only with the return that completes the order', () => {
		const steps: Array<[{ A?: number; B?: number }, CreditRequestLine, boolean]> = [
			[{}, { sku: 'JEANS-BLU-32', quantity: 1 }, false],
			[{ B: 1 }, { sku: 'JEANS-BLU-32', quantity: 1 }, false],
			[{ B: 2 }, { sku: 'TSHIRT-RED-M', quantity: 1 }, true],
		];
		let total = 0;
		for (const [prev, req, delivery] of steps) {
			const r = expectOk(computeCredit(workedExample({}, prev), [req], WHOLE));
			expect(r.deliveryRefunded).toBe(delivery);
			expect(r.lines.some((l) => l.kind === 'delivery')).toBe(delivery);
			total += r.totals.grossPence;
		}
		expect(total).toBe(8400 + 495);
	});

	it('policy whole_order: the whole order in one return takes the delivery; already refunded it does not', () => {
		const req = [
			{ sku: 'TSHIRT-RED-M', quantity: 1 },
			{ sku: 'JEANS-BLU-32', quantity: 2 },
		];
		const r = expectOk(computeCredit(workedExample(), req, WHOLE));
		expect(r.totals).toEqual({
			grossPence: 8895,
			vatPence: 596 + 804 + 83,
			netPence: 8895 - (596 + 804 + 83),
		});
		const again = expectOk(
			computeCredit(workedExample({ deliveryAlreadyRefunded: true }), req, WHOLE),
		);
		expect(again.totals.grossPence).toBe(8400);
		expect(again.deliveryRefunded).toBe(false);
	});
});

describe('the figures quoted in docs/credit-notes.md', () => {
	it('whole_order: the T-shirt credit that completes the order is £40.69; a £27.00 refund for one pair is flagged 287p out', () => {
		const last = expectOk(
			computeCredit(workedExample({}, { B: 2 }), [{ sku: 'TSHIRT-RED-M', quantity: 1 }], WHOLE),
		);
		expect(last.totals.grossPence).toBe(4069);
		expect(last.lines[1]).toMatchObject({ kind: 'delivery', vatPence: 83, netPence: 412 });
		const first = expectOk(
			computeCredit(workedExample(), [{ sku: 'JEANS-BLU-32', quantity: 1 }], {
				deliveryPolicy: 'always',
				refundPence: 2700,
			}),
		);
		expect(first.totals.grossPence).toBe(2908);
		// the refund is compared with the whole credit including delivery: 2700 − 2908
		expect(first.mismatch).toEqual({
			refundPence: 2700,
			creditPence: 2908,
			differencePence: -208,
			tolerancePence: 1,
			overTolerance: true,
		});
		const never = expectOk(
			computeCredit(workedExample(), [{ sku: 'JEANS-BLU-32', quantity: 1 }], {
				deliveryPolicy: 'never',
				refundPence: 2700,
			}),
		);
		expect(never.mismatch).toMatchObject({ differencePence: 287, overTolerance: true });
	});
});

describe('currency and exchange rate', () => {
	it('carries the order currency and rate unchanged', () => {
		const r = expectOk(
			computeCredit(
				workedExample({ currency: 'EUR', exchangeRate: 1.1734 }),
				[{ sku: 'JEANS-BLU-32', quantity: 1 }],
				NEVER,
			),
		);
		expect(r.currency).toBe('EUR');
		expect(r.exchangeRate).toBe(1.1734);
		expect(r.totals.grossPence).toBe(2413);
	});
});

describe('VAT rates and bases', () => {
	it('zero-rated and standard lines with an order discount (WEB-1004)', () => {
		const o = order(
			[
				line({
					lineId: 'K',
					sku: 'KIDS-TEE-5Y',
					qtySold: 3,
					unitPricePence: 600,
					vatRatePercent: 0,
				}),
				line({
					lineId: 'H',
					sku: 'HOODIE-GRY-L',
					qtySold: 1,
					unitPricePence: 5500,
					vatRatePercent: 20,
				}),
			],
			{
				orderRef: 'WEB-1004',
				orderDiscountPence: 500,
				delivery: { pricePence: 0, vatRatePercent: 20 },
			},
		);
		// 500 × 1800/7300 = 123.29, 500 × 5500/7300 = 376.71 → 123 / 377
		expect(paidPerLine(o).map((p) => p.sharePence)).toEqual([123, 377]);
		const r = expectOk(
			computeCredit(
				o,
				[
					{ sku: 'kids-tee-5y', quantity: 1 },
					{ sku: 'HOODIE-GRY-L', quantity: 1 },
				],
				ALWAYS,
			),
		);
		expect(r.lines).toHaveLength(2); // a £0 delivery makes no line
		expect(r.deliveryRefunded).toBe(false);
		expect(r.lines[0]).toMatchObject({
			sku: 'KIDS-TEE-5Y',
			grossPence: 559,
			vatPence: 0,
			netPence: 559,
			vatRatePercent: 0,
		});
		expect(r.lines[1]).toMatchObject({
			sku: 'HOODIE-GRY-L',
			grossPence: 5123,
			vatPence: 854,
			netPence: 4269,
		});
		expect(r.totals).toEqual({ grossPence: 5682, vatPence: 854, netPence: 4828 });
	});

	it('reduced rate 5 % from gross: 10.50 → VAT 0.50, net 10.00', () => {
		const r = expectOk(
			computeCredit(
				order([line({ lineId: 'X', sku: 'BOOK', unitPricePence: 1050, vatRatePercent: 5 })]),
				[{ sku: 'BOOK', quantity: 1 }],
				NEVER,
			),
		);
		expect(r.lines[0]).toMatchObject({
			grossPence: 1050,
			vatPence: 50,
			netPence: 1000,
			vatRatePercent: 5,
		});
	});

	it('net-basis order: VAT = round(net × r / 100), gross = net + VAT', () => {
		const o = order(
			[
				line({ lineId: 'A', sku: 'A', unitPricePence: 333, vatRatePercent: 20 }),
				line({ lineId: 'B', sku: 'B', unitPricePence: 1000, qtySold: 2, vatRatePercent: 5 }),
			],
			{ priceBasis: 'net', delivery: { pricePence: 500, vatRatePercent: 20 } },
		);
		const r = expectOk(
			computeCredit(
				o,
				[
					{ sku: 'A', quantity: 1 },
					{ sku: 'B', quantity: 1 },
				],
				ALWAYS,
			),
		);
		expect(r.lines.map((l) => [l.netPence, l.vatPence, l.grossPence])).toEqual([
			[333, 67, 400], // 66.6 → 67
			[1000, 50, 1050],
			[500, 100, 600],
		]);
		expect(r.totals).toEqual({ netPence: 1833, vatPence: 217, grossPence: 2050 });
	});

	it('delivery at its own rate (zero-rated delivery)', () => {
		const r = expectOk(
			computeCredit(
				workedExample({ delivery: { pricePence: 495, vatRatePercent: 0 } }),
				[{ sku: 'JEANS-BLU-32', quantity: 1 }],
				ALWAYS,
			),
		);
		expect(r.lines[1]).toMatchObject({
			kind: 'delivery',
			grossPence: 495,
			vatPence: 0,
			netPence: 495,
			vatRatePercent: 0,
		});
	});

	it("vatRounding 'total': VAT on the total per rate, spread by largest remainder (ties to the earlier line)", () => {
		const lines = [1, 2, 3].map((i) =>
			line({ lineId: `L${i}`, sku: `S${i}`, unitPricePence: 100 }),
		);
		const req = lines.map((l) => ({ sku: l.sku, quantity: 1 }));
		const perLine = expectOk(computeCredit(order(lines), req, NEVER));
		expect(perLine.lines.map((l) => l.vatPence)).toEqual([17, 17, 17]); // 16.67 each
		const onTotal = expectOk(computeCredit(order(lines, { vatRounding: 'total' }), req, NEVER));
		expect(onTotal.lines.map((l) => l.vatPence)).toEqual([17, 17, 16]); // 300/6 = 50
		expect(onTotal.totals).toEqual({ grossPence: 300, vatPence: 50, netPence: 250 });
	});

	it("vatRounding 'total' keeps rates apart and includes the delivery in its rate", () => {
		const o = order(
			[
				line({ lineId: 'A', sku: 'A', unitPricePence: 101, vatRatePercent: 20 }),
				line({ lineId: 'B', sku: 'B', unitPricePence: 101, vatRatePercent: 20 }),
				line({ lineId: 'C', sku: 'C', unitPricePence: 211, vatRatePercent: 5 }),
				line({ lineId: 'D', sku: 'D', unitPricePence: 211, vatRatePercent: 5 }),
			],
			{ vatRounding: 'total', delivery: { pricePence: 100, vatRatePercent: 20 } },
		);
		const r = expectOk(
			computeCredit(
				o,
				['A', 'B', 'C', 'D'].map((sku) => ({ sku, quantity: 1 })),
				ALWAYS,
			),
		);
		// 20 %: (101 + 101 + 100) / 6 = 50.33 → 50; 5 %: 422 × 5/105 = 20.10 → 20
		const vat = r.lines.map((l) => l.vatPence);
		expect(vat[0] + vat[1] + vat[4]).toBe(50);
		expect(vat[2] + vat[3]).toBe(20);
		expect(vat).toEqual([17, 17, 10, 10, 16]);
		for (const l of r.lines) expect(l.netPence + l.vatPence).toBe(l.grossPence);
	});
});

describe('line values and discounts', () => {
	it('100 % line discount: value 0, its credit is 0 and the promotion goes to the other lines', () => {
		const o = order(
			[
				line({ lineId: 'F', sku: 'FREE', unitPricePence: 1000, discountPercent: 100 }),
				line({ lineId: 'P', sku: 'PAID', unitPricePence: 2000 }),
			],
			{ orderDiscountPence: 300 },
		);
		expect(paidPerLine(o)).toEqual([
			{ lineId: 'F', valuePence: 0, sharePence: 0, paidPence: 0 },
			{ lineId: 'P', valuePence: 2000, sharePence: 300, paidPence: 1700 },
		]);
		const r = expectOk(computeCredit(o, [{ sku: 'FREE', quantity: 1 }], NEVER));
		expect(r.lines[0]).toMatchObject({
			sku: 'FREE',
			quantity: 1,
			grossPence: 0,
			vatPence: 0,
			netPence: 0,
		});
		expect(r.totals.grossPence).toBe(0);
	});

	it('order discount larger than a tiny line: the tiny line keeps at most its value', () => {
		const o = order(
			[
				line({ lineId: 'T', sku: 'TINY', unitPricePence: 1 }),
				line({ lineId: 'B', sku: 'BIG', unitPricePence: 10000 }),
			],
			{ orderDiscountPence: 5000 },
		);
		// tiny: 5000 × 1/10001 = 0.49995; big: 4999.50005 → the penny goes to the big line
		expect(paidPerLine(o).map((p) => [p.sharePence, p.paidPence])).toEqual([
			[0, 1],
			[5000, 5000],
		]);
	});

	it('order discount larger than the whole order: capped, every line paid 0, credit 0', () => {
		const o = order(
			[
				line({ lineId: 'T', sku: 'TINY', unitPricePence: 1, qtySold: 2 }),
				line({ lineId: 'U', sku: 'U', unitPricePence: 3 }),
			],
			{ orderDiscountPence: 500 },
		);
		expect(paidPerLine(o).map((p) => [p.valuePence, p.sharePence, p.paidPence])).toEqual([
			[2, 2, 0],
			[3, 3, 0],
		]);
		const r = expectOk(computeCredit(o, [{ sku: 'TINY', quantity: 2 }], NEVER));
		expect(r.totals.grossPence).toBe(0);
	});

	it('single-penny lines: 1p × 3 with a 1p discount credits 0, 1, 1 one at a time and 2 at once', () => {
		const o = (prev: number) =>
			order(
				[
					line({
						lineId: 'P',
						sku: 'PENNY',
						unitPricePence: 1,
						qtySold: 3,
						qtyPreviouslyReturned: prev,
					}),
				],
				{ orderDiscountPence: 1 },
			);
		expect(paidPerLine(o(0))[0]).toMatchObject({ valuePence: 3, sharePence: 1, paidPence: 2 });
		const one = [0, 1, 2].map(
			(prev) =>
				expectOk(computeCredit(o(prev), [{ sku: 'PENNY', quantity: 1 }], NEVER)).totals.grossPence,
		);
		expect(one).toEqual([0, 1, 1]);
		expect(
			expectOk(computeCredit(o(0), [{ sku: 'PENNY', quantity: 3 }], NEVER)).totals.grossPence,
		).toBe(2);
		expect(
			expectOk(computeCredit(o(1), [{ sku: 'PENNY', quantity: 2 }], NEVER)).totals.grossPence,
		).toBe(2);
	});

	it('fractional percents are exact: 12.5 % and 33.33 %', () => {
		// 999 × 3 × 87.5 % = 2622.375 → 2622
		expect(
			lineValuePence({
				unitPricePence: 999,
				qtySold: 3,
				discountPercent: 12.5,
				discountValuePence: 0,
			}),
		).toBe(2622);
		// 1000 × 66.67 % = 666.7 → 667
		expect(
			lineValuePence({
				unitPricePence: 1000,
				qtySold: 1,
				discountPercent: 33.33,
				discountValuePence: 0,
			}),
		).toBe(667);
		// 1p less 50 % = 0.5p: half up 1, half even 0
		expect(
			lineValuePence({ unitPricePence: 1, qtySold: 1, discountPercent: 50, discountValuePence: 0 }),
		).toBe(1);
		expect(
			lineValuePence(
				{ unitPricePence: 1, qtySold: 1, discountPercent: 50, discountValuePence: 0 },
				'half_even',
			),
		).toBe(0);
		// 1.5 % of 10p × 1 = 9.85 → 10 (no float drift from 0.985)
		expect(
			lineValuePence({
				unitPricePence: 10,
				qtySold: 1,
				discountPercent: 1.5,
				discountValuePence: 0,
			}),
		).toBe(10);
		// 0.005 % of 10 000p = 0.5p off: 9999.5 → 10000 (half up and half even)
		expect(
			lineValuePence({
				unitPricePence: 10000,
				qtySold: 1,
				discountPercent: 0.005,
				discountValuePence: 0,
			}),
		).toBe(10000);
		expect(
			lineValuePence(
				{ unitPricePence: 10000, qtySold: 1, discountPercent: 0.005, discountValuePence: 0 },
				'half_even',
			),
		).toBe(10000);
		// 0.005 % of 30 000p = 1.5p off: 29998.5 → 29999 half up, 29998 half even
		expect(
			lineValuePence({
				unitPricePence: 30000,
				qtySold: 1,
				discountPercent: 0.005,
				discountValuePence: 0,
			}),
		).toBe(29999);
		expect(
			lineValuePence(
				{ unitPricePence: 30000, qtySold: 1, discountPercent: 0.005, discountValuePence: 0 },
				'half_even',
			),
		).toBe(29998);
	});

	it('line value discount after the percent, never below 0', () => {
		expect(
			lineValuePence({
				unitPricePence: 3000,
				qtySold: 2,
				discountPercent: 10,
				discountValuePence: 400,
			}),
		).toBe(5000);
		expect(
			lineValuePence({
				unitPricePence: 300,
				qtySold: 1,
				discountPercent: 0,
				discountValuePence: 500,
			}),
		).toBe(0);
	});

	it('half_even rounding: line value and VAT ties go to the even penny', () => {
		// 25 × 90 % = 22.5: half up 23, half even 22
		const o = order([line({ lineId: 'X', sku: 'X', unitPricePence: 25, discountPercent: 10 })], {
			delivery: { pricePence: 495, vatRatePercent: 20 },
		});
		const up = expectOk(computeCredit(o, [{ sku: 'X', quantity: 1 }], ALWAYS));
		const even = expectOk(
			computeCredit(o, [{ sku: 'X', quantity: 1 }], {
				deliveryPolicy: 'always',
				rounding: 'half_even',
			}),
		);
		expect(up.lines[0].grossPence).toBe(23);
		expect(even.lines[0].grossPence).toBe(22);
		// delivery 495 × 20/120 = 82.5: half up 83, half even 82
		expect(up.lines[1].vatPence).toBe(83);
		expect(even.lines[1].vatPence).toBe(82);
		expect(even.lines[1].netPence).toBe(413);
	});
});

describe('matching request lines to the order', () => {
	const twoLines = (prev1 = 0, prev2 = 0): CreditOrder =>
		order([
			line({
				lineId: 'L1',
				sku: 'SOCK',
				qtySold: 1,
				unitPricePence: 500,
				qtyPreviouslyReturned: prev1,
			}),
			line({
				lineId: 'L2',
				sku: 'SOCK',
				qtySold: 2,
				unitPricePence: 450,
				qtyPreviouslyReturned: prev2,
			}),
		]);

	it('matches SKUs trimmed and case-insensitively and aggregates several request lines into one credit line', () => {
		const r = expectOk(
			computeCredit(
				workedExample(),
				[
					{ sku: ' jeans-blu-32 ', quantity: 1, ref: 'r1' },
					{ sku: 'JEANS-BLU-32', quantity: 1, ref: 'r2' },
				],
				NEVER,
			),
		);
		expect(r.lines).toHaveLength(1);
		expect(r.lines[0]).toMatchObject({
			lineId: 'L2',
			sku: 'JEANS-BLU-32',
			quantity: 2,
			fromUnit: 0,
			toUnit: 2,
			grossPence: 4826,
			ref: 'r1',
			refs: ['r1', 'r2'],
		});
	});

	it('duplicate SKU across two order lines: fills them in order', () => {
		const r = expectOk(computeCredit(twoLines(), [{ sku: 'SOCK', quantity: 2 }], NEVER));
		expect(r.lines.map((l) => [l.lineId, l.quantity, l.fromUnit, l.toUnit, l.grossPence])).toEqual([
			['L1', 1, 0, 1, 500],
			['L2', 1, 0, 1, 450],
		]);
		const later = expectOk(computeCredit(twoLines(1, 0), [{ sku: 'SOCK', quantity: 2 }], NEVER));
		expect(later.lines.map((l) => [l.lineId, l.quantity, l.fromUnit, l.toUnit])).toEqual([
			['L2', 2, 0, 2],
		]);
	});

	it('duplicate SKU: more than all its lines together is one problem with the total available', () => {
		const r = expectProblems(
			computeCredit(
				twoLines(0, 1),
				[
					{ sku: 'SOCK', quantity: 2 },
					{ sku: 'SOCK', quantity: 1 },
				],
				NEVER,
			),
		);
		expect(r.problems).toEqual([
			expect.objectContaining({
				kind: 'quantity_exceeds_sold',
				sku: 'SOCK',
				lineId: null,
				requested: 3,
				available: 2,
				field: 'request[1].quantity',
			}),
		]);
	});

	it('a request naming a lineId takes that line first; SKU-only requests fill what is left', () => {
		const r = expectOk(
			computeCredit(
				twoLines(),
				[
					{ sku: 'SOCK', quantity: 2, ref: 'by-sku' },
					{ sku: 'SOCK', quantity: 1, lineId: 'L1', ref: 'by-id' },
				],
				NEVER,
			),
		);
		expect(r.lines.map((l) => [l.lineId, l.quantity, l.ref])).toEqual([
			['L1', 1, 'by-id'],
			['L2', 2, 'by-sku'],
		]);
	});

	it('previously returned units are counted first', () => {
		const r = expectOk(
			computeCredit(workedExample({}, { B: 1 }), [{ sku: 'JEANS-BLU-32', quantity: 1 }], NEVER),
		);
		expect(r.lines[0]).toMatchObject({ fromUnit: 1, toUnit: 2, quantity: 1 });
	});

	it('quantity over sold: no credit, the problem names sku, field, requested and available', () => {
		const r = expectProblems(
			computeCredit(workedExample(), [{ sku: 'JEANS-BLU-32', quantity: 3 }], NEVER),
		);
		expect(r.orderRef).toBe('WEB-1001');
		expect(r.problems).toEqual([
			{
				kind: 'quantity_exceeds_sold',
				sku: 'JEANS-BLU-32',
				lineId: 'L2',
				requested: 3,
				available: 2,
				field: 'request[0].quantity',
				message: expect.stringContaining('3 × JEANS-BLU-32 returned but only 2 can be credited'),
			},
		]);
	});

	it('quantity over what is left after earlier returns', () => {
		const r = expectProblems(
			computeCredit(workedExample({}, { B: 1 }), [{ sku: 'JEANS-BLU-32', quantity: 2 }], NEVER),
		);
		expect(r.problems[0]).toMatchObject({
			kind: 'quantity_exceeds_sold',
			requested: 2,
			available: 1,
		});
		expect(r.problems[0].message).toContain('1 credited before');
		const byId = expectProblems(
			computeCredit(workedExample({}, { A: 1 }), [{ sku: 'x', lineId: 'L1', quantity: 1 }], NEVER),
		);
		expect(byId.problems[0]).toMatchObject({
			kind: 'quantity_exceeds_sold',
			lineId: 'L1',
			sku: 'TSHIRT-RED-M',
			requested: 1,
			available: 0,
		});
	});

	it('SKU not on the order and unknown lineId: line_not_found; every problem is listed', () => {
		const r = expectProblems(
			computeCredit(
				workedExample(),
				[
					{ sku: 'TSHIRT-RED-M', quantity: 1 },
					{ sku: 'SCARF-OLD', quantity: 1 },
					{ sku: 'SCARF-OLD', quantity: 2 },
					{ sku: 'MUG-WHT', quantity: 1, lineId: 'L9' },
					{ sku: 'JEANS-BLU-32', quantity: 5 },
				],
				ALWAYS,
			),
		);
		expect(
			r.problems.map((p) => [p.kind, p.sku, p.lineId, p.requested, p.available, p.field]),
		).toEqual([
			['line_not_found', 'MUG-WHT', 'L9', 1, 0, 'request[3].lineId'],
			['line_not_found', 'SCARF-OLD', null, 3, 0, 'request[1].sku'],
			['quantity_exceeds_sold', 'JEANS-BLU-32', 'L2', 5, 2, 'request[4].quantity'],
		]);
		expect(r.problems[1].message).toBe(
			'Order WEB-1001: SKU SCARF-OLD is not on the order (request[1].sku)',
		);
	});

	it('zero quantities credit nothing and never trigger the delivery', () => {
		const r = expectOk(
			computeCredit(workedExample(), [{ sku: 'JEANS-BLU-32', quantity: 0 }], ALWAYS),
		);
		expect(r.lines).toEqual([]);
		expect(r.totals).toEqual({ netPence: 0, vatPence: 0, grossPence: 0 });
		expect(r.deliveryRefunded).toBe(false);
	});
});

describe('mismatch with the refund ReBound reports', () => {
	const req = [{ sku: 'JEANS-BLU-32', quantity: 1 }];
	it('null when no refund is known', () => {
		expect(
			expectOk(computeCredit(workedExample(), req, { deliveryPolicy: 'never', refundPence: null }))
				.mismatch,
		).toBeNull();
		expect(expectOk(computeCredit(workedExample(), req, NEVER)).mismatch).toBeNull();
	});

	it('equal, within and over the default 1p a line', () => {
		const m = (refundPence: number) =>
			expectOk(computeCredit(workedExample(), req, { deliveryPolicy: 'never', refundPence }))
				.mismatch;
		expect(m(2413)).toEqual({
			refundPence: 2413,
			creditPence: 2413,
			differencePence: 0,
			tolerancePence: 1,
			overTolerance: false,
		});
		expect(m(2414)).toEqual({
			refundPence: 2414,
			creditPence: 2413,
			differencePence: 1,
			tolerancePence: 1,
			overTolerance: false,
		});
		expect(m(2412)).toMatchObject({ differencePence: -1, overTolerance: false });
		expect(m(2415)).toMatchObject({ differencePence: 2, overTolerance: true });
		expect(m(2700)).toMatchObject({ differencePence: 287, overTolerance: true });
	});

	it('tolerance scales with item lines (not the delivery line) and the per-line setting', () => {
		const both = [
			{ sku: 'TSHIRT-RED-M', quantity: 1 },
			{ sku: 'JEANS-BLU-32', quantity: 2 },
		];
		const r = expectOk(
			computeCredit(workedExample(), both, { deliveryPolicy: 'whole_order', refundPence: 8897 }),
		);
		expect(r.mismatch).toEqual({
			refundPence: 8897,
			creditPence: 8895,
			differencePence: 2,
			tolerancePence: 2,
			overTolerance: false,
		});
		const strict = expectOk(
			computeCredit(workedExample(), both, {
				deliveryPolicy: 'whole_order',
				refundPence: 8896,
				tolerancePencePerLine: 0,
			}),
		);
		expect(strict.mismatch).toMatchObject({
			differencePence: 1,
			tolerancePence: 0,
			overTolerance: true,
		});
		const loose = expectOk(
			computeCredit(workedExample(), both, {
				deliveryPolicy: 'never',
				refundPence: 8895,
				tolerancePencePerLine: 500,
			}),
		);
		expect(loose.mismatch).toMatchObject({
			differencePence: 495,
			tolerancePence: 1000,
			overTolerance: false,
		});
	});
});

describe('large quantities and prices without float error', () => {
	it('P × b beyond 2^53 is exact', () => {
		const unit = 1_000_000_007; // £10m a unit
		const sold = 999_983;
		const o = (prev: number) =>
			order(
				[
					line({
						lineId: 'BIG',
						sku: 'BIG',
						unitPricePence: unit,
						qtySold: sold,
						discountPercent: 12.5,
						qtyPreviouslyReturned: prev,
					}),
				],
				{
					orderDiscountPence: 123_456_789,
				},
			);
		const value = (BigInt(unit) * BigInt(sold) * 875n + 500n) / 1000n; // half up, exact
		const paid = value - 123_456_789n;
		expect(BigInt(paidPerLine(o(0))[0].paidPence)).toBe(paid);
		expect(Number(paid) * 333_334).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
		const r = expectOk(computeCredit(o(1), [{ sku: 'BIG', quantity: 333_333 }], NEVER));
		const expected = (paid * 333_334n) / BigInt(sold) - paid / BigInt(sold);
		expect(BigInt(r.lines[0].grossPence)).toBe(expected);
		expect(r.lines[0].netPence + r.lines[0].vatPence).toBe(r.lines[0].grossPence);
		// the rest of the line brings the total to exactly P
		const rest = expectOk(
			computeCredit(o(333_334), [{ sku: 'BIG', quantity: sold - 333_334 }], NEVER),
		);
		const first = expectOk(computeCredit(o(0), [{ sku: 'BIG', quantity: 1 }], NEVER));
		expect(BigInt(first.totals.grossPence + r.totals.grossPence + rest.totals.grossPence)).toBe(
			paid,
		);
	});

	it('an order worth more than 2^53 pence is invalid input, not a wrong number', () => {
		const r = expectProblems(
			computeCredit(
				order([
					line({ lineId: 'H', sku: 'H', unitPricePence: 9_000_000_000_000, qtySold: 10_000 }),
				]),
				[{ sku: 'H', quantity: 1 }],
				NEVER,
			),
		);
		expect(r.problems[0]).toMatchObject({ kind: 'invalid_input', field: 'order.lines' });
	});
});

describe('invalid input never throws and names the field', () => {
	const fields = (r: ReturnType<typeof computeCredit>) =>
		expectProblems(r).problems.map((p) => `${p.kind}:${p.field}`);

	it('bad request quantities', () => {
		expect(
			fields(
				computeCredit(
					workedExample(),
					[
						{ sku: 'JEANS-BLU-32', quantity: -1 },
						{ sku: 'JEANS-BLU-32', quantity: 1.5 },
						{ sku: 'TSHIRT-RED-M', quantity: Number.NaN },
						{ sku: '', quantity: 1 },
					],
					NEVER,
				),
			),
		).toEqual([
			'invalid_input:request[0].quantity',
			'invalid_input:request[1].quantity',
			'invalid_input:request[2].quantity',
			'invalid_input:request[3].sku',
		]);
		const r = expectProblems(
			computeCredit(workedExample(), [{ sku: 'JEANS-BLU-32', quantity: -1 }], NEVER),
		);
		expect(r.problems[0]).toMatchObject({
			sku: 'JEANS-BLU-32',
			message: 'Order WEB-1001: request[0].quantity must be a whole number, 0 or more (got -1)',
		});
	});

	it('bad order lines', () => {
		const bad = workedExample();
		bad.lines = [
			{ ...bad.lines[0], unitPricePence: Number.NaN, discountPercent: 120 },
			{ ...bad.lines[1], qtyPreviouslyReturned: 3, vatRatePercent: -5, discountValuePence: 1.25 },
			{ ...bad.lines[1], sku: 'DUP' },
		];
		expect(fields(computeCredit(bad, [{ sku: 'JEANS-BLU-32', quantity: 1 }], NEVER))).toEqual([
			'invalid_input:order.lines[0].unitPricePence',
			'invalid_input:order.lines[0].discountPercent',
			'invalid_input:order.lines[1].qtyPreviouslyReturned',
			'invalid_input:order.lines[1].discountValuePence',
			'invalid_input:order.lines[1].vatRatePercent',
			'invalid_input:order.lines[2].lineId',
		]);
	});

	it('bad order header, options and an empty request', () => {
		const o = {
			...workedExample(),
			exchangeRate: 0,
			priceBasis: 'both',
			orderDiscountPence: -1,
			delivery: { pricePence: 4.5, vatRatePercent: 20 },
		} as unknown as CreditOrder;
		expect(
			fields(
				computeCredit(o, [], {
					deliveryPolicy: 'sometimes',
					rounding: 'bankers',
					refundPence: 'lots',
				} as never),
			),
		).toEqual([
			'invalid_input:order.exchangeRate',
			'invalid_input:order.priceBasis',
			'invalid_input:order.orderDiscountPence',
			'invalid_input:order.delivery.pricePence',
			'invalid_input:options.deliveryPolicy',
			'invalid_input:options.rounding',
			'invalid_input:options.refundPence',
			'invalid_input:request',
		]);
	});

	it('garbage instead of objects', () => {
		expect(fields(computeCredit(null as never, null as never, null as never))).toEqual([
			'invalid_input:order',
			'invalid_input:options',
			'invalid_input:request',
		]);
		expect(expectProblems(computeCredit(null as never, [], NEVER)).orderRef).toBe('(no ref)');
		expect(
			fields(
				computeCredit(
					{ ...workedExample(), lines: 'x' } as never,
					[{ sku: 'A', quantity: 1 }],
					NEVER,
				),
			),
		).toEqual(['invalid_input:order.lines']);
	});

	it('the exported helpers throw RangeError for bad numbers (computeCredit validates first)', () => {
		expect(() => allocateProportionally([1, -2], 1)).toThrow(RangeError);
		expect(() => allocateProportionally([1, 2], 0.5)).toThrow(/discount/);
		expect(() =>
			lineValuePence({
				unitPricePence: 1,
				qtySold: 1,
				discountPercent: 101,
				discountValuePence: 0,
			}),
		).toThrow(/discountPercent/);
		expect(() => paidPerLine({ ...workedExample(), orderDiscountPence: Number.NaN })).toThrow(
			/orderDiscountPence/,
		);
	});
});

describe('allocateProportionally', () => {
	it('ties go to the earlier index', () => {
		expect(allocateProportionally([1, 1, 1], 2)).toEqual([1, 1, 0]);
		expect(allocateProportionally([5, 5], 1)).toEqual([1, 0]);
		expect(allocateProportionally([100, 100, 100], 50)).toEqual([17, 17, 16]);
	});

	it('largest remainder wins over position', () => {
		// 10 × [1, 2, 4] / 7 = 1.43, 2.86, 5.71 → 1, 3, 6
		expect(allocateProportionally([1, 2, 4], 10)).toEqual([1, 3, 6]);
	});

	it('nothing to share over: all zero; no discount: all zero; empty list', () => {
		expect(allocateProportionally([0, 0], 5)).toEqual([0, 0]);
		expect(allocateProportionally([3, 4], 0)).toEqual([0, 0]);
		expect(allocateProportionally([], 0)).toEqual([]);
	});
});

describe('inputs and exception kinds', () => {
	it('never mutates the order or the request (frozen inputs work)', () => {
		const deepFreeze = <T>(value: T): T => {
			if (value && typeof value === 'object') {
				Object.values(value).forEach(deepFreeze);
				Object.freeze(value);
			}
			return value;
		};
		const o = deepFreeze(workedExample());
		const req = deepFreeze([{ sku: 'JEANS-BLU-32', quantity: 2, ref: 'r' }]);
		const before = JSON.stringify([o, req]);
		expect(expectOk(computeCredit(o, req, ALWAYS)).totals.grossPence).toBe(4826 + 495);
		expect(JSON.stringify([o, req])).toBe(before);
	});

	it('maps every problem kind to an exception kind of core/exceptions.ts', () => {
		expect(CREDIT_PROBLEM_EXCEPTION_KIND).toEqual({
			quantity_exceeds_sold: 'quantity_exceeds_sold',
			line_not_found: 'unknown_sku',
			invalid_input: 'invalid_payload',
		});
	});
});
