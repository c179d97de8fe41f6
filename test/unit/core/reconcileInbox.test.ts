/**
 * The report misses nothing (issue 17): unfinished inbox rows bring their returns whatever their
 * age; released credit reviews give the expected credit and the credit note's gross; a period
 * window (from / to, cut-off) for month end.
 */
import { reconcile, type RawReconcileInput } from '../../../core/reconcile';
import { renderReconciliation } from '../../../core/reconcileReport';
import {
	NOW,
	adj,
	exceptionRow,
	holding,
	hoursAgo,
	note,
	ret,
	reviewRow,
} from './reconcile.fixtures';

function run(input: RawReconcileInput) {
	return reconcile({ ...input, options: { now: NOW, ...((input.options as object) ?? {}) } });
}

/** An inbox Data Table row for a return (payload: the normalised return as JSON). */
function inboxRow(
	returnId: string,
	status: string,
	ageHours: number,
	extra: Record<string, unknown> = {},
	lines?: Parameters<typeof ret>[1],
) {
	return {
		id: `in-${returnId}`,
		eventId: `poll:${returnId}`,
		returnId,
		status,
		receivedAt: hoursAgo(ageHours - 0.1),
		attempts: 0,
		lastError: '',
		payload: JSON.stringify(ret(returnId, lines, { ageHours })),
		mapped: '',
		...extra,
	};
}

const YESTERDAY = { from: '2026-11-20', to: '2026-11-20' };

describe('reconcile: unfinished inbox rows are in the report whatever their age', () => {
	it('a return stuck pending 5 days with no exception row, not among the window’s returns, is reported with its age, inbox status and owner', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [ret('R1', undefined, { ageHours: 10 })],
			khaos: [holding('R1', [note('CN1', null, 2500)], [adj('R1', 1)])],
			exceptions: [],
			inbox: [inboxRow('R9', 'queued', 24 * 5)],
		});
		expect(issues).toEqual([]);
		const p = report.perReturn.find((r) => r.returnId === 'R9');
		expect(p).toMatchObject({
			status: 'pending',
			source: 'inbox',
			ageBucket: '3-7d',
			owner: 'tech',
			inbox: { status: 'queued', title: 'queued for processing' },
		});
		expect(p!.findings).toContain('The inbox holds it as queued (queued for processing).');
		expect(report.stuck.buckets['3-7d'].returnIds).toEqual(['R9']);
		expect(report.summary.totals).toMatchObject({ returns: 2, fromInbox: 1, needsAttention: 1 });
		expect(report.summary.notCompleteByOwner).toEqual({ tech: { count: 1, returnIds: ['R9'] } });
		const r = renderReconciliation(report);
		expect(r.markdown).toContain('## Not complete, by owner');
		expect(r.markdown).toMatch(/\| tech \| 1 \| R9 \|/);
		expect(r.html).toContain('Not complete, by owner');
	});

	it('every unfinished status brings its return, grouped by owner; final statuses do not', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [],
			khaos: [
				holding('Q2', [], [adj('Q2', 1)]),
				holding('Q3', [], [adj('Q3', 1)]),
				holding('Q4', [note('CN4', null, 1000)], [adj('Q4', 1)]),
			],
			exceptions: [exceptionRow('unknown_sku|Q5', 'unknown_sku', { returnId: 'Q5' })],
			reviews: [reviewRow('Q3', 24 * 4)],
			inbox: [
				inboxRow('Q1', 'processing', 30),
				inboxRow('Q2', 'credit_queued', 50),
				inboxRow('Q3', 'credit_review', 24 * 4, { lastError: 'credit held for finance review' }),
				inboxRow('Q4', 'done', 24 * 9),
				inboxRow('Q5', 'exception', 24 * 12),
				inboxRow('Q6', 'superseded', 24 * 2),
				inboxRow('Q7', 'credit_rejected', 24 * 2),
			],
		});
		expect(issues).toEqual([]);
		const by = Object.fromEntries(report.perReturn.map((p) => [p.returnId, [p.status, p.owner]]));
		expect(by).toEqual({
			Q1: ['pending', 'tech'],
			Q2: ['credit_pending', 'finance'],
			Q3: ['credit_pending', 'finance'],
			Q5: ['exception', 'ops'],
		});
		expect(report.summary.notCompleteByOwner).toEqual({
			ops: { count: 1, returnIds: ['Q5'] },
			finance: { count: 2, returnIds: ['Q3', 'Q2'] },
			tech: { count: 1, returnIds: ['Q1'] },
		});
		expect(report.stuck.buckets['>7d'].returnIds).toEqual(['Q5']);
	});

	it('a return both in the window and in the inbox counts once and shows its inbox status; the mapped return gives the stock expectation', () => {
		const mapped = {
			...ret('R2', [{ sku: 'TSHIRT-RED-M' }, { sku: 'MUG-WHT', disposition: 'Missing Item' }]),
			lines: ret('R2', [
				{ sku: 'TSHIRT-RED-M' },
				{ sku: 'MUG-WHT', disposition: 'Missing Item' },
			]).lines.map((l, i) => ({
				...l,
				mapping: {
					action: i === 0 ? 'restock' : 'no_movement',
					siteId: i === 0 ? '1' : null,
					locationId: i === 0 ? 'A1' : null,
					sellable: i === 0,
					reasonId: '7',
					khaosSku: l.sku,
					matchedDisposition: l.disposition,
					matchedBy: 'exact',
					reasonMatchedBy: 'exact',
				},
			})),
		};
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [
				ret('R2', [{ sku: 'TSHIRT-RED-M' }, { sku: 'MUG-WHT', disposition: 'Missing Item' }]),
			],
			khaos: [holding('R2', [], [adj('R2', 1)])],
			exceptions: [],
			inbox: [inboxRow('R2', 'credit_queued', 10, { mapped: JSON.stringify(mapped) })],
		});
		expect(issues).toEqual([]);
		expect(report.perReturn).toHaveLength(1);
		expect(report.perReturn[0]).toMatchObject({
			status: 'credit_pending',
			source: 'rebound',
			inbox: { status: 'credit_queued' },
			stock: { expectationSource: 'mapping', missingLineIds: [] },
		});
	});

	it('an inbox row that cannot be read is named, never dropped silently', () => {
		const { report, issues } = run({
			returns: [],
			inbox: [
				{ id: 1, returnId: 'R3', status: 'queued', payload: 'not json', mapped: '' },
				{ id: 2 },
			],
		});
		expect(report.perReturn).toEqual([]);
		expect(issues.map((i) => [i.input, i.index, i.field])).toEqual([
			['inbox', 0, 'payload'],
			['inbox', 1, 'returnId'],
			['inbox', 1, 'status'],
		]);
	});
});

describe('reconcile: expected credit values from the credit step (released reviews)', () => {
	it('a released review gives the expected credit and the credit note its gross: a note off by more than the tolerance is a value_mismatch', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [ret('R6', [{ sku: 'TSHIRT-RED-M' }, { sku: 'MUG-WHT' }])],
			khaos: [
				holding(
					'R6',
					[note('SO000120', null, 3842, { associatedRef: 'RB-R6' })],
					[adj('R6', 1), adj('R6', 2)],
				),
			],
			exceptions: [],
			reviews: [
				reviewRow('R6', 30, {
					status: 'released',
					decision: 'release',
					resolvedAt: hoursAgo(20),
					creditNoteRef: 'RB-R6',
					creditGross: '46.10',
				}),
			],
		});
		expect(issues).toEqual([]);
		const p = report.perReturn[0];
		expect(p.status).toBe('value_mismatch');
		expect(p.owner).toBe('finance');
		expect(p.credit).toMatchObject({
			khaosGrossPence: 4610,
			khaosGrossSource: 'credit_review',
			expectedGrossPence: 4500,
			expectedSource: 'credit_review',
		});
		expect(report.mismatches).toEqual([
			expect.objectContaining({
				kind: 'credit_vs_expected',
				basis: 'gross',
				expectedPence: 4500,
				actualPence: 4610,
			}),
		]);
		// the gross is shown, not "net (Khaos gave no gross)"
		expect(report.summary.totals).toMatchObject({
			khaosCreditGross: { GBP: 4610 },
			creditNotesWithoutGross: 0,
		});
		expect(renderReconciliation(report).markdown).not.toContain('Khaos gave no gross');
	});

	it('released without the held lines: the expected credit is the gross without them; equal within tolerance is complete', () => {
		const p = run({
			window: YESTERDAY,
			returns: [ret('R7', [{ sku: 'TSHIRT-RED-M' }, { sku: 'MUG-WHT' }])],
			khaos: [
				holding(
					'R7',
					[note('SO000121', null, 1667, { associatedRef: 'RB-R7' })],
					[adj('R7', 1), adj('R7', 2)],
				),
			],
			exceptions: [],
			reviews: [
				reviewRow('R7', 30, {
					status: 'released',
					decision: 'release_without_held',
					resolvedAt: hoursAgo(20),
					creditNoteRef: 'RB-R7',
					creditGross: '20.01',
				}),
			],
		}).report.perReturn[0];
		expect(p.status).toBe('complete');
		expect(p.credit).toMatchObject({ expectedGrossPence: 2000, khaosGrossPence: 2001 });
		expect(p.valueSource).toBe('khaos_credit');
	});

	it('explicit expected values win over the review; a pending review gives no expected value', () => {
		const { report } = run({
			window: YESTERDAY,
			returns: [ret('R8'), ret('R10')],
			khaos: [
				holding('R8', [note('CN8', 4000, 3333)], [adj('R8', 1)]),
				holding('R10', [], [adj('R10', 1)]),
			],
			exceptions: [],
			expected: [{ returnId: 'R8', creditGrossPence: 4000 }],
			reviews: [
				reviewRow('R8', 30, { status: 'released', decision: 'release', creditGross: '45.00' }),
				reviewRow('R10', 30),
			],
		});
		const by = Object.fromEntries(report.perReturn.map((p) => [p.returnId, p]));
		expect(by.R8.status).toBe('complete');
		expect(by.R8.credit).toMatchObject({ expectedSource: 'expected', khaosGrossSource: 'khaos' });
		expect(by.R10.credit).toMatchObject({ expectedGrossPence: null, expectedSource: null });
	});
});

describe('reconcile: expected credit values from the credit step (done inbox rows)', () => {
	const doneRow = (id: string, gross: string, net: string, extra: Record<string, unknown> = {}) =>
		inboxRow(id, 'done', 10, {
			creditNoteRef: `RB-${id}`,
			creditGross: gross,
			creditNet: net,
			...extra,
		});

	it('a credit note raised straight away: the gross and net the credit step recorded are the expected values; Khaos’ net agreeing gives the note its gross', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [ret('R20', [{ sku: 'TSHIRT-RED-M' }])],
			khaos: [
				holding(
					'R20',
					[note('SO000130', null, 2011, { associatedRef: 'RB-R20' })],
					[adj('R20', 1)],
				),
			],
			exceptions: [],
			inbox: [doneRow('R20', '24.13', '20.11')],
		});
		expect(issues).toEqual([]);
		const p = report.perReturn[0];
		expect(p.status).toBe('complete');
		expect(p.credit).toMatchObject({
			expectedGrossPence: 2413,
			expectedNetPence: 2011,
			expectedSource: 'credit_step',
			khaosGrossPence: 2413,
			khaosGrossSource: 'credit_step',
		});
		expect(p.inbox).toBeNull();
		expect(report.summary.totals).toMatchObject({
			khaosCreditGross: { GBP: 2413 },
			creditNotesWithoutGross: 0,
		});
		expect(renderReconciliation(report).markdown).not.toContain('Khaos gave no gross');
	});

	it('Khaos’ credit note net differs from what the credit step computed beyond tolerance: value_mismatch on the net, owned by finance, both figures named', () => {
		const { report } = run({
			window: YESTERDAY,
			returns: [ret('R21', [{ sku: 'TSHIRT-RED-M' }])],
			khaos: [
				holding(
					'R21',
					[note('SO000131', null, 1811, { associatedRef: 'RB-R21' })],
					[adj('R21', 1)],
				),
			],
			exceptions: [],
			inbox: [doneRow('R21', '24.13', '20.11')],
		});
		const p = report.perReturn[0];
		expect(p.status).toBe('value_mismatch');
		expect(p.owner).toBe('finance');
		expect(p.credit).toMatchObject({ khaosGrossPence: null, expectedSource: 'credit_step' });
		expect(report.mismatches).toEqual([
			expect.objectContaining({
				returnId: 'R21',
				kind: 'credit_vs_expected',
				basis: 'net',
				expectedPence: 2011,
				actualPence: 1811,
				differencePence: -200,
			}),
		]);
	});

	it('the latest done row of a return counts; a row without recorded values, or of another status, gives none; a review or explicit expected values win', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [ret('R22'), ret('R23'), ret('R24')],
			khaos: [
				holding('R22', [note('CN22', null, 2000, { associatedRef: 'RB-R22' })], [adj('R22', 1)]),
				holding('R23', [note('CN23', null, 2000, { associatedRef: 'RB-R23' })], [adj('R23', 1)]),
				holding('R24', [note('CN24', 2400, 2000, { associatedRef: 'RB-R24' })], [adj('R24', 1)]),
			],
			exceptions: [],
			expected: [{ returnId: 'R24', creditGrossPence: 2400 }],
			inbox: [
				{ ...doneRow('R22', '30.00', '25.00'), receivedAt: hoursAgo(30) },
				{ ...doneRow('R22', '24.00', '20.00'), id: 'in-R22b', receivedAt: hoursAgo(12) },
				doneRow('R23', '', ''),
				{ ...doneRow('R23', '99.00', '99.00'), id: 'in-R23b', status: 'superseded' },
				doneRow('R24', '50.00', '50.00'),
			],
		});
		expect(issues).toEqual([]);
		const by = Object.fromEntries(report.perReturn.map((p) => [p.returnId, p]));
		expect(by.R22.credit).toMatchObject({
			expectedGrossPence: 2400,
			expectedNetPence: 2000,
			khaosGrossPence: 2400,
		});
		expect(by.R22.status).toBe('complete');
		expect(by.R23.credit).toMatchObject({
			expectedGrossPence: null,
			expectedSource: null,
			khaosGrossPence: null,
		});
		expect(by.R24.credit).toMatchObject({
			expectedSource: 'expected',
			expectedGrossPence: 2400,
			khaosGrossSource: 'khaos',
		});
	});

	it('a recorded amount that is not money names the row and field, and only that row loses its values', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [ret('R25'), ret('R26')],
			khaos: [
				holding('R25', [note('CN25', null, 2000, { associatedRef: 'RB-R25' })], [adj('R25', 1)]),
				holding('R26', [note('CN26', null, 2000, { associatedRef: 'RB-R26' })], [adj('R26', 1)]),
			],
			exceptions: [],
			inbox: [doneRow('R25', 'twenty', '20.00'), doneRow('R26', '24.00', '20.00')],
		});
		expect(issues).toEqual([
			expect.objectContaining({ input: 'inbox', index: 0, field: 'creditGross', recordId: 'R25' }),
		]);
		const by = Object.fromEntries(report.perReturn.map((p) => [p.returnId, p]));
		expect(by.R25.credit).toMatchObject({ expectedSource: null });
		expect(by.R26.credit).toMatchObject({ expectedGrossPence: 2400, khaosGrossPence: 2400 });
	});
});

describe('reconcile: expected credit values from the recorded credits table (the processor, in bulk)', () => {
	/** A recorded credits Data Table row (scripts/templates/tables.ts `credits`). */
	const creditRow = (returnId: string, gross: string, net: string, ageHours = 10) => ({
		id: `cr-${returnId}`,
		inboxId: 7,
		eventId: `poll:${returnId}`,
		returnId,
		displayId: returnId,
		receivedAt: hoursAgo(ageHours),
		creditNoteRef: `RB-${returnId}`,
		creditGross: gross,
		creditNet: net,
		claim: '41',
	});

	it('a credited return whose inbox row is done without values: the recorded credit is the expected value, and Khaos’ net agreeing gives the note its gross', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [ret('R30', [{ sku: 'TSHIRT-RED-M' }])],
			khaos: [
				holding(
					'R30',
					[note('SO000140', null, 2011, { associatedRef: 'RB-R30' })],
					[adj('R30', 1)],
				),
			],
			exceptions: [],
			inbox: [inboxRow('R30', 'done', 10)],
			credits: [creditRow('R30', '24.13', '20.11')],
		});
		expect(issues).toEqual([]);
		const p = report.perReturn[0];
		expect(p.status).toBe('complete');
		expect(p.credit).toMatchObject({
			expectedGrossPence: 2413,
			expectedNetPence: 2011,
			expectedSource: 'credit_step',
			khaosGrossPence: 2413,
			khaosGrossSource: 'credit_step',
		});
	});

	it('Khaos’ net differs from the recorded one: value_mismatch on the net; the latest recorded credit of a return counts, a row without a net gives none', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [ret('R31', [{ sku: 'TSHIRT-RED-M' }]), ret('R32')],
			khaos: [
				holding(
					'R31',
					[note('SO000141', null, 1811, { associatedRef: 'RB-R31' })],
					[adj('R31', 1)],
				),
				holding('R32', [note('CN32', null, 2000, { associatedRef: 'RB-R32' })], [adj('R32', 1)]),
			],
			exceptions: [],
			credits: [
				// the later event's record first: the latest received counts, not the last read
				{ ...creditRow('R31', '24.13', '20.11', 12), id: 'cr-R31b' },
				creditRow('R31', '30.00', '25.00', 30),
				creditRow('R32', '', ''),
			],
		});
		expect(issues).toEqual([]);
		const by = Object.fromEntries(report.perReturn.map((p) => [p.returnId, p]));
		expect(by.R31.status).toBe('value_mismatch');
		expect(report.mismatches).toEqual([
			expect.objectContaining({
				returnId: 'R31',
				basis: 'net',
				expectedPence: 2011,
				actualPence: 1811,
			}),
		]);
		expect(by.R32.credit).toMatchObject({ expectedSource: null, khaosGrossPence: null });
	});

	it('a row re-run after a crash records again without values (a duplicate): the first record keeps counting, whichever is read first', () => {
		for (const order of ['first', 'last'] as const) {
			const withValues = creditRow('R36', '24.13', '20.11');
			const duplicate = { ...creditRow('R36', '', ''), id: 'cr-R36b', claim: '42' };
			const { report, issues } = run({
				window: YESTERDAY,
				returns: [ret('R36', [{ sku: 'TSHIRT-RED-M' }])],
				khaos: [
					holding(
						'R36',
						[note('SO000146', null, 2011, { associatedRef: 'RB-R36' })],
						[adj('R36', 1)],
					),
				],
				exceptions: [],
				credits: order === 'first' ? [withValues, duplicate] : [duplicate, withValues],
			});
			expect({ order, issues }).toEqual({ order, issues: [] });
			expect({ order, credit: report.perReturn[0].credit }).toMatchObject({
				order,
				credit: { expectedGrossPence: 2413, expectedNetPence: 2011, khaosGrossPence: 2413 },
			});
		}
	});

	it('a recorded credit that is not money, or has no returnId, names its row and field; only that row is left out', () => {
		const { report, issues } = run({
			window: YESTERDAY,
			returns: [ret('R33'), ret('R34')],
			khaos: [
				holding('R33', [note('CN33', null, 2000, { associatedRef: 'RB-R33' })], [adj('R33', 1)]),
				holding('R34', [note('CN34', null, 2000, { associatedRef: 'RB-R34' })], [adj('R34', 1)]),
			],
			exceptions: [],
			credits: [
				creditRow('R33', '24.00', 'twenty'),
				{ ...creditRow('R35', '1.00', '1.00'), returnId: '' },
				creditRow('R34', '24.00', '20.00'),
			],
		});
		expect(issues).toEqual([
			expect.objectContaining({ input: 'credits', index: 0, field: 'creditNet', recordId: 'R33' }),
			expect.objectContaining({ input: 'credits', index: 1, field: 'returnId' }),
		]);
		const by = Object.fromEntries(report.perReturn.map((p) => [p.returnId, p]));
		expect(by.R33.credit).toMatchObject({ expectedSource: null });
		expect(by.R34.credit).toMatchObject({ expectedGrossPence: 2400, khaosGrossPence: 2400 });
	});
});

describe('reconcile: a period window (month end, cut-off)', () => {
	it('from / to give the period: inbox returns after the cut-off wait for the next report; notices and decisions of the period are listed', () => {
		const now = '2026-11-03T09:00:00.000Z';
		const at = (iso: string, id: string, status: string) => ({
			...inboxRow(id, status, 1),
			receivedAt: iso,
			payload: JSON.stringify({
				...ret(id),
				event: { id: `poll:${id}`, type: 'return.processed', occurredAt: iso, sequence: 3 },
			}),
		});
		const { report, issues } = reconcile({
			window: { from: '2026-10-01', to: '2026-10-31' },
			returns: [],
			khaos: [],
			exceptions: [
				exceptionRow('n1', 'exchange_recorded', {
					status: 'notice',
					returnId: 'P1',
					firstSeen: '2026-10-15T10:00:00Z',
					lastSeen: '2026-10-15T10:00:00Z',
				}),
				exceptionRow('n2', 'exchange_recorded', {
					status: 'notice',
					returnId: 'P3',
					firstSeen: '2026-11-02T10:00:00Z',
					lastSeen: '2026-11-02T10:00:00Z',
				}),
			],
			reviews: [],
			inbox: [
				at('2026-10-10T10:00:00.000Z', 'P1', 'queued'),
				at('2026-10-31T23:59:00.000Z', 'P2', 'credit_queued'),
				at('2026-11-01T00:00:00.000Z', 'P3', 'queued'),
			],
			options: { now },
		});
		expect(issues).toEqual([]);
		expect(report.windowRange).toEqual({
			from: '2026-10-01T00:00:00.000Z',
			to: '2026-11-01T00:00:00.000Z',
		});
		expect(report.perReturn.map((p) => p.returnId)).toEqual(['P1', 'P2']);
		expect(report.afterCutOff).toEqual(['P3']);
		expect(report.notices.groups.map((g) => g.returnId)).toEqual(['P1']);
		expect(report.perReturn[0]).toMatchObject({ ageBucket: '>7d', owner: 'tech' });
	});
});
