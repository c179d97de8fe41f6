/**
 * scripts/soak/ledger.ts and the soak's scenario/oracle: the verdict per
 * return (applied, excepted, lost, doubled, wrong) and the stock drift check,
 * on hand-made states; the seeded scenario is repeatable and its oracle
 * agrees with the worked numbers of core/creditNote.
 */
import { checkLedger, type LedgerInput } from '../../../scripts/soak/ledger';
import {
	creditOrderOf,
	expectedOutcome,
	generateScenario,
	normalised,
	reboundInput,
	type Expected,
} from '../../../scripts/soak/scenario';
import { ReboundState, loadFixture } from '../../../sandbox/rebound/state';

const applied = (id: string, qty = 1, gross = 1200): Expected => ({
	outcome: 'applied',
	moves: [
		{
			reference: `RB-${id}-${id}:1-move`,
			stockCode: 'SOAK-P01',
			siteId: '1',
			locationId: 'A1',
			quantity: qty,
		},
	],
	credit: { netPence: gross - gross / 6, taxPence: gross / 6, grossPence: gross },
});
const adj = (id: string, delta = 1) => ({
	reference: `RB-${id}-${id}:1-move`,
	stockCode: 'SOAK-P01',
	siteId: '1',
	locationId: 'A1',
	delta,
});
const note = (id: string, gross = 1200) => ({
	associatedRef: `RB-${id}`,
	totals: { netPence: gross - gross / 6, taxPence: gross / 6, grossPence: gross },
});

function input(over: Partial<LedgerInput>): LedgerInput {
	return {
		expected: new Map(),
		adjustments: [],
		creditNotes: [],
		stockBefore: new Map(),
		stockAfter: new Map(),
		exceptions: [],
		...over,
	};
}

describe('checkLedger', () => {
	test('one verdict per return: applied, excepted, lost, doubled, wrong', () => {
		const expected = new Map<string, Expected>([
			['1', applied('1')],
			['2', { outcome: 'exception', kinds: ['unmapped_disposition'] }],
			['3', applied('3')],
			['4', applied('4')],
			['5', applied('5', 2)],
			['6', applied('6')],
			['7', applied('7')],
		]);
		const r = checkLedger(
			input({
				expected,
				adjustments: [adj('1'), adj('4'), adj('4'), adj('5', 1), adj('6'), adj('7')],
				creditNotes: [note('1'), note('4'), note('5'), note('6', 1300), note('7')],
				exceptions: [
					{ returnId: '2', kind: 'unmapped_disposition', status: 'open' },
					{ returnId: '7', kind: 'quantity_exceeds_sold', status: 'open' },
				],
				stockBefore: new Map([['SOAK-P01|1|A1', 10]]),
				stockAfter: new Map([['SOAK-P01|1|A1', 16]]),
			}),
		);
		expect({
			applied: r.applied,
			excepted: r.excepted,
			lost: r.lost,
			doubled: r.doubled,
			wrong: r.wrong,
		}).toEqual({ applied: 1, excepted: 1, lost: 1, doubled: 1, wrong: 3 });
		expect(r.exceptedByKind).toEqual({ unmapped_disposition: 1 });
		expect(r.problems.map((p) => [p.returnId, p.verdict])).toEqual([
			['3', 'lost'],
			['4', 'doubled'],
			['5', 'wrong'],
			['6', 'wrong'],
			['7', 'wrong'],
		]);
		expect(r.stockDrift).toEqual([]);
	});

	test('a half-applied return with an exception row is excepted; stock moved outside the references is drift', () => {
		const r = checkLedger(
			input({
				expected: new Map([['1', applied('1')]]),
				adjustments: [adj('1')],
				exceptions: [{ returnId: '1', kind: 'transient_exhausted', status: 'open' }],
				stockBefore: new Map([['SOAK-P01|1|A1', 0]]),
				stockAfter: new Map([['SOAK-P01|1|A1', 2]]),
			}),
		);
		expect([r.excepted, r.exceptedByKind, r.lost, r.wrong]).toEqual([
			1,
			{ transient_exhausted: 1 },
			0,
			0,
		]);
		expect(r.stockDrift).toEqual([{ key: 'SOAK-P01|1|A1', expected: 1, actual: 2 }]);
	});
});

test('a return whose inbox row is still queued or processing is pending, not lost', () => {
	const r = checkLedger(
		input({
			expected: new Map([
				['1', applied('1')],
				['2', applied('2')],
			]),
			pending: new Set(['1']),
		}),
	);
	expect([r.pending, r.lost, r.problems.map((p) => [p.returnId, p.verdict])]).toEqual([
		1,
		1,
		[
			['1', 'pending'],
			['2', 'lost'],
		],
	]);
});

test('the inbox invariant: no row done without its effects, no row exception without an exception row', () => {
	const r = checkLedger(
		input({
			expected: new Map([
				['1', applied('1')],
				['2', applied('2')],
				['3', applied('3')],
				['4', { outcome: 'exception', kinds: ['unknown_sku'] }],
				['5', { outcome: 'exception', kinds: ['unknown_sku'] }],
			]),
			adjustments: [adj('1'), adj('3')],
			creditNotes: [note('1'), note('2')],
			exceptions: [{ returnId: '4', kind: 'unknown_sku', status: 'resolved' }],
			inbox: [
				{ returnId: '1', status: 'done', eventId: 'e1' },
				{ returnId: '1', status: 'superseded', eventId: 'e1-old' },
				{ returnId: '2', status: 'done', eventId: 'e2' },
				{ returnId: '3', status: 'done', eventId: 'e3' },
				{ returnId: '4', status: 'exception', eventId: 'e4' },
				{ returnId: '5', status: 'exception', eventId: 'e5' },
				{ returnId: '5', status: 'processing', eventId: 'e5b' },
			],
		}),
	);
	expect(r.silentEnds).toEqual([
		{
			returnId: '2',
			eventId: 'e2',
			status: 'done',
			detail: 'inbox row done, stock move(s) not in Khaos: RB-2-2:1-move',
		},
		{
			returnId: '3',
			eventId: 'e3',
			status: 'done',
			detail: 'inbox row done, no credit note in Khaos',
		},
		{
			returnId: '5',
			eventId: 'e5',
			status: 'exception',
			detail: 'inbox row exception, no exception row for the return',
		},
	]);
	// without inbox rows there is nothing to check
	expect(checkLedger(input({ expected: new Map([['1', applied('1')]]) })).silentEnds).toEqual([]);
});

describe('soak scenario and oracle', () => {
	test('the same seed gives the same returns; another seed others', () => {
		expect(JSON.stringify(generateScenario(50, 7))).toBe(JSON.stringify(generateScenario(50, 7)));
		expect(JSON.stringify(generateScenario(50, 7))).not.toBe(
			JSON.stringify(generateScenario(50, 8)),
		);
	});

	test('every return has 1–5 lines, its own order, and the oracle covers applied and each exception kind', () => {
		const s = generateScenario(600, 42);
		const state = new ReboundState(loadFixture());
		const kinds = new Set<string>();
		for (const r of s.returns) {
			expect(r.items.length).toBeGreaterThanOrEqual(1);
			expect(r.items.length).toBeLessThanOrEqual(5);
			for (const it of r.items) {
				const line = r.order.lines.find((l) => l.stockCode === it.sku);
				if (line) expect(it.quantity).toBeLessThanOrEqual(line.qty);
			}
			const e = expectedOutcome(r, normalised(state.wire(state.add(reboundInput(r)), false)));
			if (e.outcome === 'exception') e.kinds.forEach((k) => kinds.add(k));
			else kinds.add(e.outcome);
		}
		expect([...kinds].sort()).toEqual([
			'applied',
			'archived_sku',
			'held',
			'unknown_sku',
			'unmapped_disposition',
			'unmapped_reason',
		]);
	});

	test('the oracle credits a whole order with delivery and an order discount to the penny', () => {
		const r = generateScenario(1, 1).returns[0];
		r.order = {
			orderCode: 'SK1',
			associatedRef: 'SOAK-000001',
			orderDiscountPence: 500,
			deliveryPence: 395,
			lines: [
				{
					lineId: '11',
					stockCode: 'SOAK-P01',
					qty: 2,
					pricePence: 2000,
					discountPercent: 10,
					taxRate: 1,
				},
			],
		};
		r.items = [
			{
				sku: 'SOAK-P01',
				quantity: 2,
				pricePence: 2000,
				disposition: 'Grade A',
				reason: 'Too small',
			},
		];
		expect(creditOrderOf(r.order).lines[0]).toMatchObject({
			unitPricePence: 2000,
			discountPercent: 10,
			vatRatePercent: 20,
		});
		const state = new ReboundState(loadFixture());
		const e = expectedOutcome(r, normalised(state.wire(state.add(reboundInput(r)), false)));
		// 2 × 20.00 − 10% = 36.00, − 5.00 order discount = 31.00, + 3.95 delivery (whole order) = 34.95 gross
		expect(e).toEqual({
			outcome: 'applied',
			moves: [
				{
					reference: `RB-${r.returnId}-${r.returnId}:SOAK-P01#1-move`,
					stockCode: 'SOAK-P01',
					siteId: '1',
					locationId: 'A1',
					quantity: 2,
				},
			],
			credit: expect.objectContaining({ grossPence: 3495 }),
		});
	});
});
