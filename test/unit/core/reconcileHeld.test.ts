/**
 * Notices and held credits in the daily report: notice rows of the exceptions table seen in the
 * window (never problems), and the credit reviews Data Table (pending and failed whatever their
 * age, decisions taken in the window).
 */
import { reconcile, type RawReconcileInput } from '../../../core/reconcile';
import {
	renderReconciliationHtml,
	renderReconciliationMarkdown,
	renderReconciliationSummaryLine,
} from '../../../core/reconcileReport';
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

/** NOW is 2026-11-21T07:00Z: the window 2026-11-20 runs from 31 hours ago up to (not incl.) 7 hours ago. */
const WINDOW = { from: '2026-11-20', to: '2026-11-20' };

function run(input: RawReconcileInput) {
	return reconcile({
		window: WINDOW,
		...input,
		options: { now: NOW, title: 'Daily', ...((input.options as object) ?? {}) },
	});
}

const notice = (key: string, kind: string, extra: Record<string, unknown> = {}) =>
	exceptionRow(key, kind, { status: 'notice', ...extra });

/** A day with notices, an open exception and every kind of review row. */
function day(extra: Partial<RawReconcileInput> = {}) {
	return run({
		returns: [
			ret('R1'),
			ret('R5', [{ sku: 'TSHIRT-RED-M' }, { sku: 'MUG-WHT', disposition: 'Missing Item' }]),
			ret('R6', [{ sku: 'MUG-WHT', disposition: 'Missing Item' }]),
		],
		khaos: [
			holding('R1', [note('CN1', 4000)], [adj('R1', 1)]),
			holding('R5', [], [adj('R5', 1), adj('R5', 2)]),
			holding('R6', [], [adj('R6', 1)]),
		],
		exceptions: [
			exceptionRow('open-1', 'unknown_sku', { returnId: 'R9', firstSeen: hoursAgo(30) }),
			notice('n-held', 'credit_held', {
				returnId: 'R5',
				owner: 'finance',
				message: 'Credit held for finance review: £45.00 (£20.00 without the held lines)',
				lastSeen: hoursAgo(20),
			}),
			notice('n-ex-1', 'exchange_recorded', {
				returnId: 'R7',
				sku: 'JEANS-BLU-32',
				message: 'Exchange: no credit note for the line',
				lastSeen: hoursAgo(12),
			}),
			notice('n-ex-2', 'exchange_recorded', {
				returnId: 'R7',
				sku: 'JEANS-BLU-34',
				message: 'Exchange: no credit note for the line',
				lastSeen: hoursAgo(8),
			}),
			notice('n-disc', 'discontinued_sku', {
				returnId: 'R8',
				sku: '<b>OLD</b>',
				message: 'SKU <script>x</script> | is discontinued',
				firstSeen: hoursAgo(40),
				lastSeen: hoursAgo(31),
			}),
			// seen before the window, and after it: not this report's
			notice('n-old', 'zero_value_credit', { returnId: 'R2', lastSeen: hoursAgo(32) }),
			notice('n-today', 'zero_value_credit', { returnId: 'R3', lastSeen: hoursAgo(7) }),
			notice('n-resolved', 'exchange_recorded', { status: 'resolved', lastSeen: hoursAgo(10) }),
		],
		reviews: [
			reviewRow('R5', 24 * 5 + 2),
			reviewRow('R8', 20, { grossPence: 1250, withoutHeldGrossPence: null, withoutHeldGross: '' }),
			reviewRow('R10', 50, {
				status: 'failed',
				decision: 'release',
				lastError: 'Khaos refused the credit: account <b>on stop</b>',
			}),
			reviewRow('R11', 60, {
				status: 'released',
				decision: 'release_without_held',
				decidedBy: 'Jo',
				resolvedAt: hoursAgo(16),
				creditNoteRef: 'RB-R11',
				creditGross: '20.00',
			}),
			reviewRow('R6', 28, {
				status: 'rejected',
				decision: 'reject',
				decidedBy: 'Sam',
				note: 'customer kept the item & was told',
				resolvedAt: hoursAgo(9),
			}),
			// decided before the window: not listed
			reviewRow('R12', 24 * 12, { status: 'released', resolvedAt: hoursAgo(24 * 10) }),
		],
		...extra,
	});
}

describe('reconcile: notices', () => {
	it('lists the notice rows seen in the window, grouped by owner, kind, return and message', () => {
		const { report, issues } = day();
		expect(issues).toEqual([]);
		const n = report.notices;
		expect(n.total).toBe(4);
		expect(n.byKind).toEqual({ credit_held: 1, exchange_recorded: 2, discontinued_sku: 1 });
		expect(n.byOwner).toEqual({ finance: 3, ops: 1 });
		expect(
			n.groups.map((g) => [g.owner, g.kind, g.returnId, g.count, g.skus, g.keys, g.lastSeen]),
		).toEqual([
			['finance', 'credit_held', 'R5', 1, [], ['n-held'], hoursAgo(20)],
			[
				'finance',
				'exchange_recorded',
				'R7',
				2,
				['JEANS-BLU-32', 'JEANS-BLU-34'],
				['n-ex-1', 'n-ex-2'],
				hoursAgo(8),
			],
			['ops', 'discontinued_sku', 'R8', 1, ['<b>OLD</b>'], ['n-disc'], hoursAgo(31)],
		]);
		expect(report.windowRange).toEqual({
			from: '2026-11-20T00:00:00.000Z',
			to: '2026-11-21T00:00:00.000Z',
		});
	});

	it('never counts as a problem: open totals, statuses and the clean day are about open rows only', () => {
		const { report } = run({
			returns: [ret('R1')],
			khaos: [holding('R1', [note('CN1', 4000)], [adj('R1', 1)])],
			exceptions: [notice('n1', 'discontinued_sku', { returnId: 'R1', lastSeen: hoursAgo(10) })],
		});
		expect(report.perReturn[0].status).toBe('complete');
		expect(report.perReturn[0].openExceptions).toEqual([]);
		expect(report.summary.totals.openExceptions).toBe(0);
		expect(report.openExceptions.total).toBe(0);
		expect(report.notices.total).toBe(1);
		expect(report.attention).toEqual(['The 1 return in the window is complete in Khaos.']);
		expect(renderReconciliationSummaryLine(report)).toBe(
			'OK: Daily: 1 return, 1 complete; credited £40.00; 1 notice.',
		);
	});

	it('no window given: the 24 hours before the report', () => {
		const { report } = reconcile({
			returns: [],
			exceptions: [
				notice('in', 'exchange_recorded', { lastSeen: hoursAgo(23) }),
				notice('out', 'exchange_recorded', { lastSeen: hoursAgo(25) }),
				notice('undated', 'exchange_recorded', { firstSeen: null, lastSeen: null }),
			],
			options: { now: NOW },
		});
		expect(report.windowRange).toEqual({ from: hoursAgo(24), to: NOW });
		expect(report.notices.groups.flatMap((g) => g.keys)).toEqual(['in']);
		expect(report.notices.undated).toBe(1);
	});
});

describe('reconcile: held for finance review', () => {
	it('every pending and failed review whatever its age, oldest first; a pending one over 3 days is flagged', () => {
		const { report } = day();
		const h = report.heldCredits;
		expect(h.checked).toBe(true);
		expect(h.overdueAfterDays).toBe(3);
		expect(
			h.waiting.map((w) => [w.returnId, w.status, w.ageDays, w.overdue, w.grossPence, w.lastError]),
		).toEqual([
			['R5', 'pending', 5, true, 4500, null],
			['R10', 'failed', 2, false, 4500, 'Khaos refused the credit: account <b>on stop</b>'],
			['R8', 'pending', 0, false, 1250, null],
		]);
		expect(h.waiting[0]).toMatchObject({
			displayId: 'RMA-R5',
			orderReference: 'WEB-1001',
			currency: 'GBP',
			heldWhy: 'a line graded Missing Item is held',
			heldLines: '1 × MUG-WHT (Missing Item)',
			withoutHeldGrossPence: 2000,
			heldAt: hoursAgo(24 * 5 + 2),
		});
		expect(h.waiting[2].withoutHeldGrossPence).toBeNull();
		expect(h.totals).toEqual({
			pending: 2,
			failed: 1,
			overdue: 1,
			released: 1,
			rejected: 1,
			waitingGross: { GBP: 4500 + 4500 + 1250 },
			releasedGross: { GBP: 2000 },
		});
	});

	it('the decisions taken in the window: released with its credit note and gross, rejected with who and why', () => {
		const { report } = day();
		expect(
			report.heldCredits.decided.map((d) => [
				d.returnId,
				d.status,
				d.decision,
				d.decidedBy,
				d.note,
				d.creditNoteRef,
				d.creditGrossPence,
				d.resolvedAt,
			]),
		).toEqual([
			['R11', 'released', 'release_without_held', 'Jo', null, 'RB-R11', 2000, hoursAgo(16)],
			[
				'R6',
				'rejected',
				'reject',
				'Sam',
				'customer kept the item & was told',
				null,
				null,
				hoursAgo(9),
			],
		]);
	});

	it('a return in the window: held → credit pending with the review named; rejected → no credit expected', () => {
		const { report } = day();
		const byId = new Map(report.perReturn.map((p) => [p.returnId, p]));
		expect(byId.get('R5')?.status).toBe('credit_pending');
		expect(byId.get('R5')?.findings).toContain(
			'Credit held for finance review for 5 days (a line graded Missing Item is held): finance decides it in credit reviews.',
		);
		expect(byId.get('R6')?.status).toBe('complete');
		expect(byId.get('R6')?.credit.expected).toBe(false);
		expect(byId.get('R6')?.findings).toEqual([
			'Credit rejected by finance (Sam): no credit note expected.',
		]);
		expect(report.summary.countsByStatus).toMatchObject({ complete: 2, credit_pending: 1 });
	});

	it('needs attention: the overdue and the failed ones; reviewOverdueDays moves the flag', () => {
		const { report } = day();
		expect(report.attention).toEqual(
			expect.arrayContaining([
				'1 held credit release failed (R10): lastError says why; once the cause is fixed set its status back to pending in credit reviews.',
				'1 held credit has waited more than 3 days for a finance decision (R5, held 5 days): finance, decide it in credit reviews.',
			]),
		);
		const week = day({ options: { reviewOverdueDays: '7' } }).report;
		expect(week.heldCredits.overdueAfterDays).toBe(7);
		expect(week.heldCredits.waiting.map((w) => w.overdue)).toEqual([false, false, false]);
		expect(week.attention.join(' ')).not.toContain('waited more than');
	});

	it('no review rows passed: the section says it was not checked; an empty list is checked', () => {
		expect(run({ returns: [] }).report.heldCredits.checked).toBe(false);
		const empty = run({ returns: [], reviews: [] }).report;
		expect(empty.heldCredits.checked).toBe(true);
		expect(renderReconciliationMarkdown(empty)).toContain(
			'## Held for finance review\n\nNo held credit waits for a decision.',
		);
		expect(renderReconciliationMarkdown(run({ returns: [] }).report)).toContain(
			'## Held for finance review\n\nNot checked: the credit reviews rows were not passed to the report.',
		);
	});

	it('a bad review row is named by row and field and left out; the others are reported', () => {
		const { report, issues } = day({
			reviews: [
				reviewRow('R5', 24 * 5 + 2),
				{ returnId: 'R13', status: 'maybe', heldAt: 'last week', grossPence: '12.5' },
				{ status: 'pending' },
				'not a row',
			],
		});
		expect(issues.map((i) => `${i.input}[${i.index}].${i.field}: ${i.message}`)).toEqual([
			'reviews[1].grossPence: must be a whole number of pence',
			'reviews[1].status: status must be one of pending, released, rejected, failed',
			'reviews[1].heldAt: is not a valid date-time',
			'reviews[2].returnId: returnId is missing',
			'reviews[3].(root): Expected object, received string',
		]);
		expect(issues[0].recordId).toBe('R13');
		expect(report.heldCredits.waiting.map((w) => w.returnId)).toEqual(['R5']);
	});

	it('coerces Data Table values: pence as text, gross in pounds when the pence are blank, createdAt for a blank heldAt', () => {
		const { report, issues } = run({
			reviews: [
				reviewRow('R20', 0, {
					grossPence: '',
					gross: '12.34',
					withoutHeldGrossPence: '500',
					heldAt: '',
					createdAt: hoursAgo(24 * 4),
					status: ' Pending ',
				}),
				reviewRow('R21', 0, {
					status: 'released',
					resolvedAt: '',
					updatedAt: hoursAgo(10),
					creditGross: 24.13,
				}),
			],
		});
		expect(issues).toEqual([]);
		expect(report.heldCredits.waiting[0]).toMatchObject({
			returnId: 'R20',
			grossPence: 1234,
			withoutHeldGrossPence: 500,
			heldAt: hoursAgo(96),
			ageDays: 4,
			overdue: true,
		});
		expect(report.heldCredits.decided[0]).toMatchObject({
			returnId: 'R21',
			resolvedAt: hoursAgo(10),
			creditGrossPence: 2413,
		});
	});
});

describe('rendering notices and held credits', () => {
	it('Markdown: both sections after the open exceptions, every row there, the overdue one flagged', () => {
		const { report } = day();
		const md = renderReconciliationMarkdown(report);
		const order = [
			'## Open exceptions',
			'## Held for finance review',
			'## Notices',
			'## Returns not complete',
		].map((s) => md.indexOf(s));
		expect(order.every((i) => i >= 0)).toBe(true);
		expect([...order].sort((a, b) => a - b)).toEqual(order);
		expect(md).toContain(
			'Notices 4; held for finance review 3 (£102.50 if released as computed), 1 over 3 days, 1 failed.',
		);
		expect(md).toContain(
			'3 held credits wait (2 pending, 1 failed): £102.50 if released as computed. A pending one held more than 3 days is flagged.',
		);
		expect(md).toContain(
			'| R5 (RMA-R5) | WEB-1001 | Pending, over 3 days | 5 d | £45.00 | £20.00 | a line graded Missing Item is held | 1 × MUG-WHT (Missing Item) | - |',
		);
		expect(md).toContain(
			'| R10 (RMA-R10) | WEB-1001 | Failed (release) | 2 d | £45.00 | £20.00 | a line graded Missing Item is held | 1 × MUG-WHT (Missing Item) | Khaos refused the credit: account &lt;b&gt;on stop&lt;/b&gt; |',
		);
		expect(md).toContain('| R8 (RMA-R8) | WEB-1001 | Pending | 0 d | £12.50 | - |');
		expect(md).toContain('### Decided in the window');
		expect(md).toContain(
			'| R11 (RMA-R11) | WEB-1001 | Released without the held lines | Jo | 2026-11-20 | RB-R11 | £20.00 | - |',
		);
		expect(md).toContain(
			'| R6 (RMA-R6) | WEB-1001 | Rejected | Sam | 2026-11-20 | - | - | customer kept the item &amp; was told |',
		);
		expect(md).toContain('4 notices seen in the window (finance 3, ops 1): never blocking');
		expect(md).toContain(
			'| finance | Exchange: no credit note for the line (exchange_recorded) | R7 | 2 | Exchange: no credit note for the line (SKU JEANS-BLU-32, JEANS-BLU-34) |',
		);
		expect(md).toContain(
			'| ops | Discontinued SKU returned (discontinued_sku) | R8 | 1 | SKU &lt;script&gt;x&lt;/script&gt; \\| is discontinued (SKU &lt;b&gt;OLD&lt;/b&gt;) |',
		);
		expect(md).not.toMatch(/<script|<b>/);
	});

	it('HTML: the same sections, every text escaped, the overdue and failed rows marked', () => {
		const { report } = day();
		const html = renderReconciliationHtml(report);
		expect(html).not.toMatch(/<script|<b>/);
		expect(html.indexOf('>Open exceptions<')).toBeLessThan(
			html.indexOf('>Held for finance review<'),
		);
		expect(html.indexOf('>Held for finance review<')).toBeLessThan(html.indexOf('>Notices<'));
		expect(html).toContain('account &lt;b&gt;on stop&lt;/b&gt;');
		expect(html).toContain('SKU &lt;script&gt;x&lt;/script&gt; | is discontinued');
		expect(html).toContain('customer kept the item &amp; was told');
		expect(html).toMatch(/color:#cf222e;font-weight:bold;">Pending, over 3 days</);
		expect(html).toMatch(/color:#cf222e;font-weight:bold;">Failed \(release\)</);
		expect(html).toContain('Decided in the window');
		// held credits that need someone keep the "all good" colour off
		expect(html).not.toContain('background:#dafbe1');
	});

	it('summary line: held credits and notices named; overdue or failed ones make it Check', () => {
		const { report } = day();
		expect(renderReconciliationSummaryLine(report)).toBe(
			'Check: Daily: 3 returns, 2 complete (1 credit pending); credited £40.00; 1 open exception (oldest 1 d); 3 held for finance review (1 over 3 days, 1 failed); 4 notices.',
		);
		const fresh = run({
			returns: [ret('R1')],
			khaos: [holding('R1', [note('CN1', 4000)], [adj('R1', 1)])],
			reviews: [reviewRow('R8', 20)],
		}).report;
		expect(renderReconciliationSummaryLine(fresh)).toBe(
			'OK: Daily: 1 return, 1 complete; credited £40.00; 1 held for finance review.',
		);
		expect(fresh.attention).toEqual([
			'The 1 return in the window is complete in Khaos.',
			'1 held credit waits for a finance decision (R8, held 20 hours): finance, decide it in credit reviews.',
		]);
	});
});
