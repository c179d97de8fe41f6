import { readFileSync } from 'node:fs';
import {
	ageBucket,
	reconcile,
	RECONCILE_STATUSES,
	type PerReturn,
	type RawReconcileInput,
} from '../../../core/reconcile';
import { NOW, adj, exceptionRow, holding, hoursAgo, note, ret } from './reconcile.fixtures';

function run(input: RawReconcileInput) {
	return reconcile({ ...input, options: { now: NOW, ...((input.options as object) ?? {}) } });
}

function one(input: RawReconcileInput): PerReturn {
	const { report, issues } = run(input);
	expect(issues).toEqual([]);
	expect(report.perReturn).toHaveLength(1);
	return report.perReturn[0];
}

describe('reconcile: one status per return', () => {
	it('complete: every graded line moved once and one credit note of the expected value', () => {
		const p = one({
			returns: [
				ret('R1', [{ sku: 'TSHIRT-RED-M' }, { sku: 'JEANS-BLU-32', quantity: 2 }], {
					refundPence: 5000,
				}),
			],
			khaos: [holding('R1', [note('CN1', 5000, 4167)], [adj('R1', 1), adj('R1', 2, 2)])],
			expected: [{ returnId: 'R1', creditGrossPence: 5000, creditNetPence: 4167 }],
		});
		expect(p.status).toBe('complete');
		expect(p.stock).toMatchObject({
			movedLineIds: ['R1:1', 'R1:2'],
			missingLineIds: [],
			unitsReturned: 3,
			unitsMoved: 3,
			expectationSource: 'assumed',
		});
		expect(p.credit).toMatchObject({
			khaosGrossPence: 5000,
			khaosNetPence: 4167,
			expectedGrossPence: 5000,
			refundPence: 5000,
			tolerancePence: 2,
		});
		expect(p.valuePence).toBe(5000);
		expect(p.valueSource).toBe('khaos_credit');
		expect(p.findings).toEqual(['Stock moved and credit note raised as expected.']);
	});

	it('credit_pending: stock moved, no credit note yet', () => {
		const p = one({ returns: [ret('R2')], khaos: [holding('R2', [], [adj('R2', 1)])] });
		expect(p.status).toBe('credit_pending');
		expect(p.findings[0]).toBe('Stock moved; no credit note yet.');
	});

	it('credit_pending also when only the return import exists', () => {
		const p = one({
			returns: [ret('R2')],
			khaos: [holding('R2', [], [], { returnCode: 'RET-9', processed: false })],
			expected: [{ returnId: 'R2', moveLineIds: [] }],
		});
		expect(p.khaos).toMatchObject({ imported: true, returnCode: 'RET-9', processed: false });
		expect(p.status).toBe('credit_pending');
	});

	it('stock_pending: a credit note exists but an expected stock move is missing (sequencing violated)', () => {
		const p = one({
			returns: [ret('R3', [{ sku: 'TSHIRT-RED-M' }, { sku: 'MUG-WHT' }])],
			khaos: [holding('R3', [note('CN3', 4000)], [adj('R3', 1)])],
		});
		expect(p.status).toBe('stock_pending');
		expect(p.stock.missingLineIds).toEqual(['R3:2']);
		expect(p.findings[0]).toContain('Credited before the stock moved');
	});

	it('pending: nothing for the return in Khaos', () => {
		const p = one({
			returns: [ret('R4', [{ sku: 'TSHIRT-RED-M' }], { refundPence: 1234 })],
			khaos: [],
		});
		expect(p.status).toBe('pending');
		expect(p.khaos).toMatchObject({ imported: false, creditNotes: [], adjustments: 0 });
		expect(p.valuePence).toBe(1234);
		expect(p.valueSource).toBe('refund');
		expect(p.findings).toEqual(['Nothing in Khaos yet for this return.']);
	});

	it('exception: an open exception row for the return explains the gap', () => {
		const p = one({
			returns: [ret('R5')],
			khaos: [],
			exceptions: [
				exceptionRow('unknown_sku|R5|R5:1|-', 'unknown_sku', { returnId: 'R5' }),
				exceptionRow('k2', 'unknown_sku', { returnId: 'R5', status: 'resolved' }),
			],
		});
		expect(p.status).toBe('exception');
		expect(p.openExceptions).toEqual([
			{ key: 'unknown_sku|R5|R5:1|-', kind: 'unknown_sku', owner: 'ops' },
		]);
		expect(p.findings[0]).toBe('Waiting on 1 open exception: unknown_sku (ops).');
	});

	it('a resolved or ignored exception does not explain anything: the return stays pending', () => {
		const p = one({
			returns: [ret('R5')],
			exceptions: [exceptionRow('k1', 'unknown_sku', { returnId: 'R5', status: 'ignored' })],
		});
		expect(p.status).toBe('pending');
	});

	it('value_mismatch: the credit note differs from the expected credit beyond tolerance', () => {
		const { report } = run({
			returns: [ret('R6')],
			khaos: [holding('R6', [note('CN6', 4010)], [adj('R6', 1)])],
			expected: [{ returnId: 'R6', creditGrossPence: 4000 }],
		});
		const p = report.perReturn[0];
		expect(p.status).toBe('value_mismatch');
		expect(report.mismatches).toEqual([
			expect.objectContaining({
				returnId: 'R6',
				kind: 'credit_vs_expected',
				basis: 'gross',
				expectedPence: 4000,
				actualPence: 4010,
				differencePence: 10,
				tolerancePence: 1,
			}),
		]);
		expect(p.findings[0]).toContain('£40.10');
		expect(p.findings[0]).toContain('£40.00');
	});

	it('value_mismatch compares net (items + delivery) when Khaos gives no gross', () => {
		const p = one({
			returns: [ret('R6')],
			khaos: [holding('R6', [note('CN6', null, 3000, { deliveryNetPence: 413 })], [adj('R6', 1)])],
			expected: [{ returnId: 'R6', creditGrossPence: 4000, creditNetPence: 3333 }],
		});
		expect(p.credit.khaosNetPence).toBe(3413);
		expect(p.credit.khaosGrossPence).toBeNull();
		expect(p.status).toBe('value_mismatch');
		expect(p.valueSource).toBe('expected_credit');
	});

	it('duplicate_credit: two active credit notes for one return; a cancelled one does not count', () => {
		const dup = one({
			returns: [ret('R7')],
			khaos: [holding('R7', [note('CN7a', 4000), note('CN7b', 4000)], [adj('R7', 1)])],
		});
		expect(dup.status).toBe('duplicate_credit');
		expect(dup.credit.khaosGrossPence).toBe(8000);
		expect(dup.findings[0]).toContain('CN7a, CN7b');

		const cancelled = one({
			returns: [ret('R7')],
			khaos: [
				holding(
					'R7',
					[note('CN7a', 4000), note('CN7b', 4000, 0, { cancelled: '-1' })],
					[adj('R7', 1)],
				),
			],
		});
		expect(cancelled.status).toBe('complete');
		expect(cancelled.khaos.cancelledCreditNotes).toBe(1);
	});

	it('over_moved: the same line moved twice under two dispositions (a re-grade) is a double move', () => {
		const p = one({
			returns: [ret('R8')],
			khaos: [
				holding(
					'R8',
					[note('CN8', 4000)],
					[adj('R8', 1, 1, 'Grade A'), adj('R8', 1, 1, 'Grade B')],
				),
			],
		});
		expect(p.status).toBe('over_moved');
		expect(p.stock.overMoved).toEqual([
			{
				lineId: 'R8:1',
				sku: 'TSHIRT-RED-M',
				expected: 1,
				moved: 2,
				references: ['RB-R8-R8:1-Grade A', 'RB-R8-R8:1-Grade B'],
			},
		]);
		expect(p.stock.unitsMoved).toBe(2);
	});

	it('a re-grade that reverses the first move (+1, -1, +1) is not a double move: units moved are the signed sum', () => {
		const p = one({
			returns: [ret('R8')],
			khaos: [
				holding(
					'R8',
					[note('CN8', 4000)],
					[
						adj('R8', 1, 1, 'Grade A'),
						adj('R8', 1, -1, 'Grade A-reversal'),
						adj('R8', 1, 1, 'Grade B', { locationId: 'RET' }),
					],
				),
			],
		});
		expect(p.status).toBe('complete');
		expect(p.stock).toMatchObject({ overMoved: [], unitsMoved: 1, movedLineIds: ['R8:1'] });
	});

	it('over_moved: more units than returned, a move on a line that needed none, and a reference that matches no line', () => {
		const more = one({
			returns: [ret('R9', [{ sku: 'JEANS-BLU-32', quantity: 2 }])],
			khaos: [holding('R9', [], [adj('R9', 1, 3)])],
		});
		expect(more.status).toBe('over_moved');
		expect(more.stock.overMoved[0]).toMatchObject({ expected: 2, moved: 3 });

		const notNeeded = one({
			returns: [ret('R9', [{ sku: 'TSHIRT-RED-M' }, { sku: 'MUG-WHT', disposition: 'Missing' }])],
			khaos: [holding('R9', [], [adj('R9', 1), adj('R9', 2, 1, 'Missing')])],
			expected: [{ returnId: 'R9', moveLineIds: 'R9:1' }],
		});
		expect(notNeeded.status).toBe('over_moved');
		expect(notNeeded.stock.overMoved).toEqual([
			expect.objectContaining({ lineId: 'R9:2', expected: 0, moved: 1 }),
		]);

		const stray = one({
			returns: [ret('R9')],
			khaos: [
				holding(
					'R9',
					[],
					[
						adj('R9', 1),
						{ reference: 'RB-R9-R9:7-Grade A', stockCode: 'HOODIE-GRY-L', quantity: 1 },
						{ reference: 'RB-OTHER-X-Grade A', quantity: 5 },
					],
				),
			],
		});
		expect(stray.status).toBe('over_moved');
		expect(stray.stock.overMoved).toEqual([
			{
				lineId: null,
				sku: 'HOODIE-GRY-L',
				expected: 0,
				moved: 1,
				references: ['RB-R9-R9:7-Grade A'],
			},
		]);
		expect(stray.stock.unitsMoved).toBe(2);
	});

	it('line ids that prefix each other are told apart (R1:1 vs R1:10)', () => {
		const lines = Array.from({ length: 10 }, () => ({ sku: 'TSHIRT-RED-M' }));
		const adjustments = Array.from({ length: 10 }, (_, i) => adj('R10', i + 1));
		const p = one({
			returns: [ret('R10', lines)],
			khaos: [holding('R10', [note('CN', 100)], adjustments)],
		});
		expect(p.status).toBe('complete');
		expect(p.stock.overMoved).toEqual([]);
		expect(p.stock.movedLineIds).toHaveLength(10);
	});

	it('no_movement lines: with line mappings (mapped returns) a Missing line needs no move', () => {
		const mapping = (action: string, siteId: string | null, locationId: string | null) => ({
			action,
			siteId,
			locationId,
			sellable: action === 'restock',
			reasonId: '2',
			khaosSku: 'TSHIRT-RED-M',
			matchedDisposition: 'x',
			matchedBy: 'exact',
			reasonMatchedBy: 'exact',
		});
		const r = ret('R11', [
			{ sku: 'TSHIRT-RED-M' },
			{ sku: 'MUG-WHT', disposition: 'Missing' },
			{ sku: 'JEANS-BLU-32', disposition: 'Damaged' },
		]);
		const lines = (r.lines as Array<Record<string, unknown>>).map((l, i) => ({
			...l,
			mapping: [
				mapping('restock', '1', 'A1'),
				mapping('no_movement', null, null),
				mapping('write_off', null, null),
			][i],
		}));
		const p = one({
			returns: [{ ...r, lines }],
			khaos: [holding('R11', [note('CN11', 100)], [adj('R11', 1)])],
		});
		expect(p.stock.expectationSource).toBe('mapping');
		expect(p.stock.expectedLineIds).toEqual(['R11:1']);
		expect(p.status).toBe('complete');

		// without mappings every graded line is assumed to move: the same Khaos state is stock_pending
		const assumed = one({
			returns: [r],
			khaos: [holding('R11', [note('CN11', 100)], [adj('R11', 1)])],
		});
		expect(assumed.stock.expectationSource).toBe('assumed');
		expect(assumed.status).toBe('stock_pending');
		expect(assumed.stock.missingLineIds).toEqual(['R11:2', 'R11:3']);
	});

	it('ungraded lines expect neither a move nor a credit when nothing is graded', () => {
		const p = one({ returns: [ret('R12', [{ sku: 'TSHIRT-RED-M', disposition: null }])] });
		expect(p.credit.expected).toBe(false);
		expect(p.stock.expectedLineIds).toEqual([]);
		expect(p.status).toBe('complete');
	});

	it('expected.creditExpected false: stock alone completes the return', () => {
		const p = one({
			returns: [ret('R13')],
			khaos: [holding('R13', [], [adj('R13', 1)])],
			expected: [{ returnId: 'R13', creditExpected: 'false' }],
		});
		expect(p.status).toBe('complete');
	});
});

describe('reconcile: precedence', () => {
	const openEx = (id: string) => exceptionRow(`k-${id}`, 'khaos_rejected', { returnId: id });

	it('duplicate_credit beats over_moved, stock_pending, value_mismatch and exception', () => {
		const p = one({
			returns: [ret('P1', [{ sku: 'A' }, { sku: 'B' }])],
			khaos: [holding('P1', [note('C1', 1), note('C2', 1)], [adj('P1', 1, 5)])],
			expected: [{ returnId: 'P1', creditGrossPence: 9999 }],
			exceptions: [openEx('P1')],
		});
		expect(p.status).toBe('duplicate_credit');
		expect(p.findings[0]).toContain('2 credit notes');
		expect(p.findings[1]).toContain('moved 5 units');
	});

	it('over_moved beats stock_pending and value_mismatch', () => {
		const p = one({
			returns: [ret('P2', [{ sku: 'A' }, { sku: 'B' }])],
			khaos: [holding('P2', [note('C1', 1)], [adj('P2', 1, 2)])],
			expected: [{ returnId: 'P2', creditGrossPence: 9999 }],
		});
		expect(p.status).toBe('over_moved');
	});

	it('stock_pending beats value_mismatch and exception', () => {
		const p = one({
			returns: [ret('P3', [{ sku: 'A' }, { sku: 'B' }])],
			khaos: [holding('P3', [note('C1', 1)], [adj('P3', 1)])],
			expected: [{ returnId: 'P3', creditGrossPence: 9999 }],
			exceptions: [openEx('P3')],
		});
		expect(p.status).toBe('stock_pending');
	});

	it('value_mismatch beats exception; exception beats credit_pending and pending', () => {
		expect(
			one({
				returns: [ret('P4')],
				khaos: [holding('P4', [note('C1', 1)], [adj('P4', 1)])],
				expected: [{ returnId: 'P4', creditGrossPence: 9999 }],
				exceptions: [openEx('P4')],
			}).status,
		).toBe('value_mismatch');
		expect(
			one({
				returns: [ret('P5')],
				khaos: [holding('P5', [], [adj('P5', 1)])],
				exceptions: [openEx('P5')],
			}).status,
		).toBe('exception');
		expect(one({ returns: [ret('P6')], exceptions: [openEx('P6')] }).status).toBe('exception');
	});

	it('complete beats an open exception (stale row), which is then listed for resolving', () => {
		const { report } = run({
			returns: [ret('P7')],
			khaos: [holding('P7', [note('C1', 100)], [adj('P7', 1)])],
			exceptions: [openEx('P7')],
		});
		expect(report.perReturn[0].status).toBe('complete');
		expect(report.perReturn[0].findings[0]).toContain('still open (k-P7)');
		expect(report.attention).toContain(
			'1 return is complete in Khaos but still has open exceptions (P7): mark them resolved.',
		);
	});

	it('the status list is the documented precedence order', () => {
		expect(RECONCILE_STATUSES).toEqual([
			'duplicate_credit',
			'over_moved',
			'stock_pending',
			'value_mismatch',
			'exception',
			'credit_pending',
			'pending',
			'complete',
		]);
	});
});

describe('reconcile: tolerance', () => {
	const at = (
		khaosGross: number,
		expectedGross: number,
		extra: Record<string, unknown> = {},
		lines = 1,
	) =>
		one({
			returns: [
				ret(
					'T1',
					Array.from({ length: lines }, () => ({ sku: 'A' })),
				),
			],
			khaos: [
				holding(
					'T1',
					[note('C', khaosGross)],
					Array.from({ length: lines }, (_, i) => adj('T1', i + 1)),
				),
			],
			expected: [{ returnId: 'T1', creditGrossPence: expectedGross, ...extra }],
			options: { now: NOW, ...((extra.options as object) ?? {}) },
		});

	it('default 1p per line: 1p off is fine, 2p off is a mismatch (both directions)', () => {
		expect(at(4001, 4000).status).toBe('complete');
		expect(at(3999, 4000).status).toBe('complete');
		expect(at(4002, 4000).status).toBe('value_mismatch');
		expect(at(3998, 4000).status).toBe('value_mismatch');
	});

	it('scales with the number of credited lines (3 lines: 3p allowed, 4p not), or creditLineCount', () => {
		expect(at(4003, 4000, {}, 3).status).toBe('complete');
		expect(at(4004, 4000, {}, 3).status).toBe('value_mismatch');
		expect(at(4003, 4000, { creditLineCount: '2' }, 3).status).toBe('value_mismatch');
	});

	it('tolerancePencePerLine option (coerced from text), including 0', () => {
		const p = run({
			returns: [ret('T2')],
			khaos: [holding('T2', [note('C', 4005)], [adj('T2', 1)])],
			expected: [{ returnId: 'T2', creditGrossPence: 4000 }],
			options: { now: NOW, tolerancePencePerLine: '5' },
		}).report.perReturn[0];
		expect(p.credit.tolerancePence).toBe(5);
		expect(p.status).toBe('complete');
		const strict = run({
			returns: [ret('T2')],
			khaos: [holding('T2', [note('C', 4001)], [adj('T2', 1)])],
			expected: [{ returnId: 'T2', creditGrossPence: 4000 }],
			options: { now: NOW, tolerancePencePerLine: 0 },
		}).report.perReturn[0];
		expect(strict.status).toBe('value_mismatch');
	});

	it('refund vs credit gross: listed in mismatches over tolerance, without changing the status', () => {
		const ok = run({
			returns: [ret('T3', [{ sku: 'A' }], { refundPence: 4001 })],
			khaos: [holding('T3', [note('C', 4000)], [adj('T3', 1)])],
		});
		expect(ok.report.mismatches).toEqual([]);
		const off = run({
			returns: [ret('T3', [{ sku: 'A' }], { refundPence: 4500 })],
			khaos: [holding('T3', [note('C', 4000)], [adj('T3', 1)])],
		});
		expect(off.report.perReturn[0].status).toBe('complete');
		expect(off.report.mismatches).toEqual([
			expect.objectContaining({
				returnId: 'T3',
				kind: 'refund_vs_credit',
				expectedPence: 4000,
				actualPence: 4500,
				differencePence: 500,
				tolerancePence: 1,
			}),
		]);
		expect(off.report.mismatches[0].message).toBe(
			'ReBound refunded £45.00 but the Khaos credit note is £40.00 gross (difference £5.00, tolerance £0.01).',
		);
		expect(off.report.attention.some((a) => a.startsWith('1 refund differs from the credit'))).toBe(
			true,
		);
	});

	it('refund vs the expected credit when no credit note exists yet', () => {
		const { report } = run({
			returns: [ret('T4', [{ sku: 'A' }], { refundPence: 1000 })],
			expected: [{ returnId: 'T4', creditGrossPence: 900 }],
		});
		expect(report.mismatches[0]).toMatchObject({
			kind: 'refund_vs_credit',
			expectedPence: 900,
			actualPence: 1000,
		});
		expect(report.mismatches[0].message).toContain('the expected credit');
	});

	it('a credit note in another currency is a currency mismatch', () => {
		const { report } = run({
			returns: [ret('T5')],
			khaos: [holding('T5', [note('C', 100, 0, { currency: 'eur' })], [adj('T5', 1)])],
		});
		expect(report.mismatches).toEqual([
			expect.objectContaining({ kind: 'currency', returnId: 'T5' }),
		]);
	});
});

describe('reconcile: age buckets and stuck returns', () => {
	it('bucket boundaries: <24h, 24h → 1-3d, 72h → 3-7d, 168h → >7d; future → <24h', () => {
		expect(ageBucket(-5)).toBe('<24h');
		expect(ageBucket(23.99)).toBe('<24h');
		expect(ageBucket(24)).toBe('1-3d');
		expect(ageBucket(71.99)).toBe('1-3d');
		expect(ageBucket(72)).toBe('3-7d');
		expect(ageBucket(167.99)).toBe('3-7d');
		expect(ageBucket(168)).toBe('>7d');
	});

	it('stuck: every return not complete, bucketed by event.occurredAt against the fixed clock (a duplicate credit too); complete is not stuck', () => {
		const ages: Array<[string, number]> = [
			['S1', 23.99],
			['S2', 24],
			['S3', 71.99],
			['S4', 72],
			['S5', 167.99],
			['S6', 168],
			['S7', 400],
		];
		const { report } = run({
			returns: [
				...ages.map(([id, h]) => ret(id, [{ sku: 'A' }], { ageHours: h })),
				ret('DONE', [{ sku: 'A' }], { ageHours: 500 }),
				ret('DUP', [{ sku: 'A' }], { ageHours: 500 }),
			],
			khaos: [
				holding('DONE', [note('C', 1)], [adj('DONE', 1)]),
				holding('DUP', [note('C1', 1), note('C2', 1)], [adj('DUP', 1)]),
				holding('S2', [], [adj('S2', 1)]),
			],
		});
		expect(report.stuckAfterHours).toBe(0);
		expect(report.stuck.buckets).toEqual({
			'<24h': { count: 1, returnIds: ['S1'] },
			'1-3d': { count: 2, returnIds: ['S3', 'S2'] },
			'3-7d': { count: 2, returnIds: ['S5', 'S4'] },
			'>7d': { count: 3, returnIds: ['DUP', 'S7', 'S6'] },
		});
		expect(report.perReturn.find((p) => p.returnId === 'S6')?.ageHours).toBe(168);
		expect(report.attention).toContain(
			'3 returns are still not complete in Khaos after 7 days or more (DUP, S7, S6): they will show as period-end drift.',
		);
		expect(report.attention).toContain(
			'2 returns are still not complete in Khaos after 3 to 7 days (S5, S4).',
		);
		expect(report.attention).toContain(
			'2 returns are still not complete in Khaos after 1 to 3 days (S3, S2).',
		);
		expect(report.attention.some((a) => a.includes('S1'))).toBe(false);
	});

	it('stuckAfterHours: only returns at least that old count as stuck (boundary included); a future time counts as age 0', () => {
		const returns = [
			ret('F', [{ sku: 'A' }], { ageHours: -2 }),
			ret('Y', [{ sku: 'A' }], { ageHours: 11.99 }),
			ret('Z', [{ sku: 'A' }], { ageHours: 12 }),
			ret('W', [{ sku: 'A' }], { ageHours: 30 }),
		];
		const all = run({ returns }).report;
		expect(all.stuck.buckets['<24h']).toEqual({ count: 3, returnIds: ['Z', 'Y', 'F'] }); // oldest first
		const twelve = run({ returns, options: { stuckAfterHours: '12' } }).report;
		expect(twelve.stuckAfterHours).toBe(12);
		expect(twelve.stuck.buckets['<24h']).toEqual({ count: 1, returnIds: ['Z'] });
		expect(twelve.stuck.buckets['1-3d']).toEqual({ count: 1, returnIds: ['W'] });
		expect(twelve.summary.countsByStatus.pending).toBe(4); // the status does not change, only what counts as stuck
		const bad = run({ returns, options: { stuckAfterHours: -1 } });
		expect(bad.issues).toEqual([
			expect.objectContaining({
				input: 'options',
				index: -1,
				field: 'stuckAfterHours',
				message: 'stuckAfterHours cannot be negative',
			}),
		]);
		expect(bad.report.stuckAfterHours).toBe(0);
	});
});

describe('reconcile: open exceptions', () => {
	it('aggregates open rows by kind, owner (row, else catalogue, else unknown) and first-seen age; names the oldest', () => {
		const { report } = run({
			returns: [],
			exceptions: [
				exceptionRow('a', 'unknown_sku', { firstSeen: hoursAgo(2) }),
				exceptionRow('b', 'unknown_sku', { firstSeen: hoursAgo(30), owner: 'Finance' }),
				exceptionRow('c', 'credit_mismatch', {
					firstSeen: hoursAgo(100),
					returnId: 'R77',
					sku: 'JEANS-BLU-32',
					message: 'refund 45.00 vs credit 40.00',
				}),
				exceptionRow('d', 'transient_exhausted', { firstSeen: hoursAgo(24 * 9) }),
				exceptionRow('e', 'something_new', { firstSeen: hoursAgo(168) }),
				exceptionRow('f', 'unknown_sku', { firstSeen: hoursAgo(24 * 30), status: 'resolved' }),
				exceptionRow('g', 'unknown_sku', { firstSeen: hoursAgo(24 * 30), status: 'ignored' }),
				exceptionRow('h', 'order_not_found', { firstSeen: null, lastSeen: null }),
			],
		});
		const ex = report.openExceptions;
		expect(ex.total).toBe(6);
		expect(ex.byKind).toEqual({
			unknown_sku: 2,
			credit_mismatch: 1,
			transient_exhausted: 1,
			something_new: 1,
			order_not_found: 1,
		});
		expect(ex.byOwner).toEqual({ ops: 1, finance: 3, tech: 1, unknown: 1 });
		expect(ex.byAgeBucket).toEqual({ '<24h': 1, '1-3d': 1, '3-7d': 1, '>7d': 2 });
		expect(ex.undated).toBe(1);
		expect(ex.oldest).toEqual(
			expect.objectContaining({
				key: 'd',
				kind: 'transient_exhausted',
				owner: 'tech',
				ageHours: 216,
			}),
		);
		expect(report.summary.totals.openExceptions).toBe(6);
		expect(report.attention).toContain(
			'6 exceptions are open (finance 3, ops 1, tech 1, unknown 1); the oldest (transient_exhausted) is 9 days old.',
		);
	});

	it('falls back to lastSeen when firstSeen is blank', () => {
		const { report } = run({
			exceptions: [exceptionRow('a', 'unknown_sku', { firstSeen: '', lastSeen: hoursAgo(80) })],
		});
		expect(report.openExceptions.byAgeBucket['3-7d']).toBe(1);
	});
});

describe('reconcile: bad rows are issues named by input, index and field', () => {
	it('never throws; bad rows are left out and named', () => {
		const good = ret('G1');
		const { report, issues } = run({
			returns: [
				good,
				{ ...ret('B1'), lines: [{ lineId: 'B1:1', sku: 'X', quantity: 'two' }] },
				'not json',
				{ ...ret('B2'), event: { ...ret('B2').event, occurredAt: 'yesterday' } },
			],
			khaos: [
				holding('G1', [note('C', 'abc' as unknown as number)], []),
				holding('G1', [], [{ reference: 'RB-G1-G1:1-Grade A', quantity: '1.5' }]),
				{ returnId: '', creditNotes: '[oops' },
				holding('G1', [], [adj('G1', 1)]),
			],
			expected: [{ returnId: 'G1', creditGrossPence: '12.5' }],
			exceptions: [
				exceptionRow('x', 'unknown_sku', { status: 'closed' }),
				{ kind: 'unknown_sku' },
				exceptionRow('ok', 'unknown_sku', { attempts: '-1' }),
			],
		});
		const named = issues.map((i) => `${i.input}[${i.index}].${i.field}`);
		expect(named).toEqual(
			expect.arrayContaining([
				'returns[1].lines[0].quantity',
				'returns[2].(root)',
				'returns[3].event.occurredAt',
				'khaos[0].creditNotes[0].grossPence',
				'khaos[1].adjustments[0].quantity',
				'khaos[2].returnId',
				'khaos[2].creditNotes',
				'expected[0].creditGrossPence',
				'exceptions[0].status',
				'exceptions[1].key',
				'exceptions[2].attempts',
			]),
		);
		expect(issues.find((i) => i.input === 'khaos' && i.index === 0)?.message).toBe(
			'must be a whole number of pence',
		);
		expect(
			issues.find((i) => i.input === 'khaos' && i.index === 2 && i.field === 'creditNotes')
				?.message,
		).toContain('not valid JSON');
		expect(issues.find((i) => i.input === 'returns' && i.index === 1)?.recordId).toBe('B1');
		expect(issues.find((i) => i.input === 'exceptions' && i.index === 0)?.message).toBe(
			'status must be one of open, notice, resolved, ignored',
		);
		// the good rows are still reconciled
		expect(report.perReturn.map((p) => p.returnId)).toEqual(['G1']);
		expect(report.perReturn[0].status).toBe('credit_pending');
		expect(report.attention[0]).toMatch(
			/^\d+ input rows could not be read and are left out of this report \(first: returns\[1\]\.lines\[0\]\.quantity: /,
		);
	});

	it('coerces Data Table strings: numbers, booleans (-1/true), JSON arrays, comma lists', () => {
		const { report, issues } = run({
			returns: [
				JSON.stringify({ ...ret('C1', [{ sku: 'A' }, { sku: 'B' }]), refundPence: '4000' }),
			],
			khaos: [
				{
					returnId: 'C1',
					returnCode: 'RET-1',
					processed: '-1',
					creditNotes: JSON.stringify([
						{
							orderCode: 'CN',
							itemsNetPence: '3333',
							deliveryNetPence: '',
							grossPence: '4000',
							currency: 'gbp',
							created: 1763600000000,
						},
					]),
					adjustments: JSON.stringify([adj('C1', 1, '1' as unknown as number)]),
				},
			],
			expected: [{ returnId: 'C1', moveLineIds: 'C1:1, ', creditGrossPence: '4000' }],
			exceptions: [
				{ ...exceptionRow('k', 'unknown_sku'), status: ' OPEN ', attempts: '3', returnId: 42 },
			],
		});
		expect(issues).toEqual([]);
		const p = report.perReturn[0];
		expect(p.status).toBe('complete');
		expect(p.khaos).toMatchObject({ imported: true, processed: true, returnCode: 'RET-1' });
		expect(p.khaos.creditNotes[0]).toMatchObject({
			grossPence: 4000,
			netPence: 3333,
			currency: 'GBP',
			created: '2025-11-20T00:53:20.000Z',
		});
		expect(p.credit.refundPence).toBe(4000);
		expect(report.openExceptions.total).toBe(1);
	});

	it('credit-note rows in other spellings: netPence, createdAt / dateCreated; rows of another ORDER_TYPE are not credit notes', () => {
		const { report, issues } = run({
			returns: [ret('N1', [{ sku: 'A' }]), ret('N2', [{ sku: 'A' }])],
			khaos: [
				holding(
					'N1',
					[
						{
							orderCode: 'CN1',
							netPence: '3333',
							grossPence: null,
							currency: 'GBP',
							createdAt: '2026-11-20T10:00:00Z',
						},
						{ orderCode: 'SO-9', orderType: '1', itemsNetPence: 9999, currency: 'GBP' },
					],
					[adj('N1', 1)],
				),
				holding(
					'N2',
					[
						{
							orderCode: 'CN2',
							orderType: 2,
							itemsNetPence: 1000,
							deliveryNetPence: 250,
							currency: 'GBP',
							dateCreated: '2026-11-20',
						},
					],
					[adj('N2', 1)],
				),
			],
			expected: [
				{ returnId: 'N1', creditNetPence: 3334 },
				{ returnId: 'N2', creditNetPence: 1300 },
			],
		});
		expect(issues).toEqual([]);
		const [n1, n2] = report.perReturn;
		expect(n1.status).toBe('complete'); // SO-9 is a sales order, not a second credit note
		expect(n1.khaos.creditNotes).toEqual([
			{
				orderCode: 'CN1',
				grossPence: null,
				netPence: 3333,
				currency: 'GBP',
				created: '2026-11-20T10:00:00.000Z',
			},
		]);
		expect(n1.khaos.cancelledCreditNotes).toBe(0);
		expect(n2.khaos.creditNotes[0]).toMatchObject({
			netPence: 1250,
			created: '2026-11-20T00:00:00.000Z',
		});
		expect(n2.status).toBe('value_mismatch'); // 1250 vs 1300 net, tolerance 1p
		expect(report.mismatches).toEqual([
			expect.objectContaining({
				returnId: 'N2',
				kind: 'credit_vs_expected',
				basis: 'net',
				expectedPence: 1300,
				actualPence: 1250,
				differencePence: -50,
			}),
		]);
		const bad = run({
			returns: [ret('N3')],
			khaos: [holding('N3', [{ orderCode: 'X', orderType: 'two', itemsNetPence: 1 }])],
		});
		expect(bad.issues).toEqual([
			expect.objectContaining({
				input: 'khaos',
				index: 0,
				field: 'creditNotes[0].orderType',
				message: 'orderType must be a whole number',
			}),
		]);
	});

	it('the report carries its issues, so the renderers need only the report', () => {
		const { report, issues } = run({ returns: [{ returnId: 'x' }] });
		expect(issues.length).toBeGreaterThan(0);
		expect(report.issues).toEqual(issues);
		expect(JSON.parse(JSON.stringify(report)).issues[0]).toMatchObject({
			input: 'returns',
			index: 0,
			recordId: 'x',
		});
	});

	it('a bad mapping on a line is reported and the line falls back to the assumption', () => {
		const r = ret('M1');
		const lines = (r.lines as Array<Record<string, unknown>>).map((l) => ({
			...l,
			mapping: { action: 'teleport' },
		}));
		const { report, issues } = run({ returns: [{ ...r, lines }] });
		expect(issues[0]).toMatchObject({
			input: 'returns',
			index: 0,
			field: 'lines[0].mapping.action',
			recordId: 'M1',
		});
		expect(report.perReturn[0].stock.expectationSource).toBe('assumed');
	});

	it('inputs that are not lists, and bad options, are issues too', () => {
		const { report, issues } = reconcile({
			returns: { not: 'a list' },
			options: { now: 'soon', tolerancePencePerLine: 'lots' },
		});
		expect(issues.map((i) => `${i.input}.${i.field}`)).toEqual([
			'returns.(root)',
			'options.now',
			'options.tolerancePencePerLine',
		]);
		expect(report.tolerancePencePerLine).toBe(1);
		expect(report.perReturn).toEqual([]);
	});
});

describe('reconcile: merging and duplicates in the input', () => {
	it('the latest event per return id is used', () => {
		const older = ret('D1', [{ sku: 'A', disposition: null }], { ageHours: 50 });
		const newer = {
			...ret('D1', [{ sku: 'A' }], { ageHours: 2 }),
			event: { id: 'e2', type: 'return.processed', occurredAt: hoursAgo(2), sequence: 9 },
		};
		const { report } = run({ returns: [newer, older] });
		expect(report.perReturn).toHaveLength(1);
		expect(report.perReturn[0].ageBucket).toBe('<24h');
		expect(report.perReturn[0].status).toBe('pending');
	});

	it('two Khaos rows for one return merge; the same credit note (order code) or adjustment (id) listed twice counts once', () => {
		const p = one({
			returns: [ret('D2')],
			khaos: [
				holding('D2', [note('CN', 100)], [adj('D2', 1, 1, 'Grade A', { id: 'A-1' })]),
				holding('D2', [note('CN', 100)], [adj('D2', 1, 1, 'Grade A', { id: 'A-1' })]),
			],
		});
		expect(p.status).toBe('complete');
		expect(p.khaos.creditNotes).toHaveLength(1);
		expect(p.stock.unitsMoved).toBe(1);
	});

	it('khaos and expected rows for returns outside the window are listed as unmatched', () => {
		const { report } = run({
			returns: [ret('W1')],
			khaos: [holding('W1'), holding('ZZ')],
			expected: [{ returnId: 'YY' }],
		});
		expect(report.unmatched).toEqual({ khaos: ['ZZ'], expected: ['YY'] });
	});
});

describe('reconcile: summary', () => {
	it('counts and credit values by status, per currency, and totals', () => {
		const { report } = run({
			returns: [
				ret('V1', [{ sku: 'A' }], { refundPence: 4000 }),
				ret('V2', [{ sku: 'A' }], { refundPence: 1500 }),
				ret('V3', [{ sku: 'A', quantity: 2 }], { currency: 'EUR', refundPence: 2000 }),
				ret('V4'),
			],
			khaos: [
				holding('V1', [note('C1', 4000)], [adj('V1', 1)]),
				holding('V2', [note('C2a', 1500), note('C2b', 1500)], [adj('V2', 1)]),
				holding('V3', [note('C3', 2000, 0, { currency: 'EUR' })], [adj('V3', 1, 2)]),
			],
			expected: [{ returnId: 'V4', creditGrossPence: 999 }],
		});
		const s = report.summary;
		expect(s.countsByStatus).toEqual({
			duplicate_credit: 1,
			over_moved: 0,
			stock_pending: 0,
			value_mismatch: 0,
			exception: 0,
			credit_pending: 0,
			pending: 1,
			complete: 2,
		});
		expect(s.valuesByStatus.complete).toEqual({ GBP: 4000, EUR: 2000 });
		expect(s.valuesByStatus.duplicate_credit).toEqual({ GBP: 3000 });
		expect(s.valuesByStatus.pending).toEqual({ GBP: 999 });
		expect(s.totals).toMatchObject({
			returns: 4,
			complete: 2,
			needsAttention: 2,
			unitsReturned: 5,
			unitsMoved: 4,
			creditNotes: 4,
			adjustments: 3,
			khaosCreditGross: { GBP: 7000, EUR: 2000 },
			expectedCreditGross: { GBP: 999 },
			refund: { GBP: 5500, EUR: 2000 },
		});
		expect(report.attention[0]).toBe(
			'1 return has more than one credit note in Khaos (V2, £30.00 credited): the customer may have been credited twice. Finance: cancel the extra credit note.',
		);
	});

	it('empty window: zero counts, empty buckets, one sentence', () => {
		const { report, issues } = run({
			returns: [],
			khaos: [],
			exceptions: [],
			window: { from: '2026-11-20', to: '2026-11-20T23:59:59Z' },
		});
		expect(issues).toEqual([]);
		expect(report.perReturn).toEqual([]);
		expect(Object.values(report.summary.countsByStatus).every((n) => n === 0)).toBe(true);
		expect(report.stuck.buckets['>7d']).toEqual({ count: 0, returnIds: [] });
		expect(report.openExceptions).toEqual({
			total: 0,
			byKind: {},
			byOwner: {},
			byAgeBucket: { '<24h': 0, '1-3d': 0, '3-7d': 0, '>7d': 0 },
			oldest: null,
			undated: 0,
		});
		expect(report.attention).toEqual(['No returns were processed in ReBound in this window.']);
		expect(report.window).toEqual({
			from: '2026-11-20T00:00:00.000Z',
			to: '2026-11-20T23:59:59.000Z',
		});
		expect(report.generatedAt).toBe(NOW);
	});

	it('all complete: one reassuring sentence', () => {
		const { report } = run({
			returns: [ret('A1'), ret('A2')],
			khaos: [
				holding('A1', [note('C', 1)], [adj('A1', 1)]),
				holding('A2', [note('C', 1)], [adj('A2', 1)]),
			],
		});
		expect(report.attention).toEqual(['All 2 returns in the window are complete in Khaos.']);
		const single = run({
			returns: [ret('A')],
			khaos: [holding('A', [note('C', 100)], [adj('A', 1)])],
		}).report;
		expect(single.attention).toEqual(['The 1 return in the window is complete in Khaos.']);
	});
});

describe('docs/reconciliation.md', () => {
	it('documents every status in the precedence order the code uses, and every age bucket', () => {
		const doc = readFileSync(`${__dirname}/../../../docs/reconciliation.md`, 'utf8');
		const positions = RECONCILE_STATUSES.map((s) => doc.indexOf(`(\`${s}\`)`));
		expect(positions.every((p) => p > 0)).toBe(true);
		expect([...positions].sort((a, b) => a - b)).toEqual(positions);
		for (const b of ['<24h', '1-3d', '3-7d', '>7d']) expect(doc).toContain(`(\`${b}\`)`);
	});
});
