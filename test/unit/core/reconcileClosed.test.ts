/**
 * Who resolved an exception, and why (issue 17): the exceptions closed in the report's window
 * (status resolved or ignored) with `resolvedBy` and `resolutionNote`, in the report's JSON,
 * Markdown and HTML.
 */
import { reconcile } from '../../../core/reconcile';
import { summariseClosedExceptions, withClosedExceptions } from '../../../core/reconcileClosed';
import {
	renderReconciliationHtml,
	renderReconciliationMarkdown,
} from '../../../core/reconcileReport';
import { reconcileReturns } from '../../../core/usecases/reconcileReturns';
import type { ReconcilePort } from '../../../core/ports';
import { NOW, exceptionRow } from './reconcile.fixtures';

const WINDOW = { from: '2026-11-20T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z' };

/** The exceptions table as the reconciliation template reads it: open, notices, and rows changed since the window began. */
const ROWS = [
	exceptionRow('credit_mismatch|5010', 'credit_mismatch', {
		owner: 'finance',
		status: 'resolved',
		returnId: '5010',
		displayId: 'RMA-5010',
		resolvedAt: '2026-11-20T15:30:00.000Z',
		resolvedBy: 'Priya (finance)',
		resolutionNote: 'Refund included delivery; credited £4.95 by hand as CN-ADJ-77',
	}),
	exceptionRow('unmapped_disposition|5003|5003:MUG-WHT#1', 'unmapped_disposition', {
		owner: 'ops',
		status: 'resolved',
		returnId: '5003',
		sku: 'MUG-WHT',
		resolvedAt: '2026-11-20T09:12:00.000Z',
		resolvedBy: 'replay',
		resolutionNote: 'Replayed after the fix: the return went through (execution 41)',
	}),
	// ignored by hand, no resolvedAt typed: the row's updatedAt dates it; nobody named
	exceptionRow('unknown_sku|5020|5020:1', 'unknown_sku', {
		status: 'ignored',
		returnId: '5020',
		resolvedAt: '',
		updatedAt: '2026-11-20T11:00:00.000Z',
	}),
	// a date typed by hand (date only) counts its day
	exceptionRow('order_not_found|5007', 'order_not_found', {
		status: 'resolved',
		returnId: '5007',
		resolvedAt: '2026-11-20',
		resolvedBy: 'Sam',
		resolutionNote: 'Credited by hand, order was a phone order',
		updatedAt: '2026-11-21T06:00:00.000Z',
	}),
	// resolved before the window (its note edited today): not this report's
	exceptionRow('archived_sku|4990|4990:1', 'archived_sku', {
		status: 'resolved',
		returnId: '4990',
		resolvedAt: '2026-11-18T10:00:00.000Z',
		resolvedBy: 'replay',
		updatedAt: '2026-11-20T10:00:00.000Z',
	}),
	// resolved after the window's end: the next report's
	exceptionRow('unknown_sku|5030|5030:1', 'unknown_sku', {
		status: 'resolved',
		returnId: '5030',
		resolvedAt: '2026-11-21T08:00:00.000Z',
		resolvedBy: 'replay',
	}),
	// open and notice rows are not closed ones
	exceptionRow('unknown_sku|5040|5040:1', 'unknown_sku', { returnId: '5040' }),
	exceptionRow('exchange_recorded|5041', 'exchange_recorded', {
		status: 'notice',
		returnId: '5041',
	}),
];

describe('summariseClosedExceptions', () => {
	it('lists the rows resolved or ignored in the window, oldest first, with who and why', () => {
		const s = summariseClosedExceptions(ROWS, WINDOW);
		expect(s.rows.map((r) => [r.returnId, r.status, r.resolvedBy, r.closedAt])).toEqual([
			['5007', 'resolved', 'Sam', '2026-11-20T00:00:00.000Z'],
			['5003', 'resolved', 'replay', '2026-11-20T09:12:00.000Z'],
			['5020', 'ignored', null, '2026-11-20T11:00:00.000Z'],
			['5010', 'resolved', 'Priya (finance)', '2026-11-20T15:30:00.000Z'],
		]);
		expect(s.rows.find((r) => r.returnId === '5010')).toMatchObject({
			kind: 'credit_mismatch',
			owner: 'finance',
			displayId: 'RMA-5010',
			resolutionNote: 'Refund included delivery; credited £4.95 by hand as CN-ADJ-77',
		});
		// the owner of a row without one is its kind's team
		expect(s.rows.find((r) => r.returnId === '5020')?.owner).toBe('ops');
		expect(s.total).toBe(4);
		expect(s.byStatus).toEqual({ resolved: 3, ignored: 1 });
		expect(s.byResolver).toEqual({ 'Priya (finance)': 1, replay: 1, Sam: 1 });
		expect(s.unrecorded).toBe(1);
		expect(s.undated).toBe(0);
	});

	it('a closed row with neither a readable resolvedAt nor updatedAt is counted as undated, not listed', () => {
		const s = summariseClosedExceptions(
			[exceptionRow('k', 'unknown_sku', { status: 'resolved', resolvedAt: 'last Tuesday' })],
			WINDOW,
		);
		expect([s.total, s.rows, s.undated]).toEqual([0, [], 1]);
	});

	it('reads loose Data Table values: numbers as text, blanks as not recorded, a bad row left out', () => {
		const s = summariseClosedExceptions(
			[
				exceptionRow('k1', 'unknown_sku', {
					status: 'Resolved',
					returnId: 5050,
					resolvedAt: '2026-11-20T10:00:00Z',
					resolvedBy: '  ',
					resolutionNote: 12,
				}),
				{ kind: 'unknown_sku', status: 'resolved' },
				'not a row',
			],
			WINDOW,
		);
		expect(s.rows).toEqual([
			expect.objectContaining({
				key: 'k1',
				returnId: '5050',
				resolvedBy: null,
				resolutionNote: '12',
			}),
		]);
	});
});

describe('the report shows who resolved what in the window', () => {
	const report = () =>
		withClosedExceptions(
			reconcile({
				window: WINDOW,
				returns: [],
				khaos: [],
				exceptions: ROWS,
				options: { now: NOW, title: 'Returns reconciliation Acme – 2026-11-20' },
			}).report,
			ROWS,
		);

	it('Markdown: a section after the open exceptions, each row with its resolver and note', () => {
		const md = renderReconciliationMarkdown(report());
		const section = md.slice(md.indexOf('## Resolved or ignored in the window'));
		expect(md.indexOf('## Open exceptions')).toBeLessThan(
			md.indexOf('## Resolved or ignored in the window'),
		);
		expect(section).toContain(
			'4 exceptions closed in the window (resolved 3, ignored 1), by Priya (finance) 1, replay 1, Sam 1, not recorded 1.',
		);
		expect(section).toContain(
			'| 2026-11-20 | Resolved | finance | Credit differs from the refund (credit_mismatch) | 5010 (RMA-5010) | Priya (finance) | Refund included delivery; credited £4.95 by hand as CN-ADJ-77 |',
		);
		expect(section).toContain(
			'| 2026-11-20 | Resolved | ops | Unmapped disposition (unmapped_disposition) | 5003 | replay | Replayed after the fix: the return went through (execution 41) |',
		);
		expect(section).toContain(
			'| 2026-11-20 | Ignored | ops | Unknown SKU (unknown_sku) | 5020 | not recorded | - |',
		);
		expect(section).not.toContain('4990');
		expect(section).not.toContain('5030');
	});

	it('HTML: the same rows, escaped', () => {
		const rows = [
			exceptionRow('k', 'unknown_sku', {
				status: 'resolved',
				returnId: '5060',
				resolvedAt: '2026-11-20T10:00:00Z',
				resolvedBy: '<b>eve</b>',
				resolutionNote: 'fixed & "done"',
			}),
		];
		const html = renderReconciliationHtml(
			withClosedExceptions(
				reconcile({ window: WINDOW, returns: [], exceptions: rows, options: { now: NOW } }).report,
				rows,
			),
		);
		expect(html).toContain('Resolved or ignored in the window</h2>');
		expect(html).toContain('&lt;b&gt;eve&lt;/b&gt;');
		expect(html).toContain('fixed &amp; &quot;done&quot;');
		expect(html).not.toContain('<b>eve</b>');
	});

	it('none closed: the section says so', () => {
		const md = renderReconciliationMarkdown(
			withClosedExceptions(
				reconcile({ window: WINDOW, returns: [], exceptions: [], options: { now: NOW } }).report,
				[],
			),
		);
		expect(md).toContain('## Resolved or ignored in the window\n\nNone in the window.');
	});

	it("the Reconcile operation's report carries the section (reconcileReturns)", async () => {
		const port: ReconcilePort = {
			getOrderStatuses: async () => [],
			getStockAdjustments: async () => [],
		} as unknown as ReconcilePort;
		const r = await reconcileReturns(port, [], {
			exceptions: ROWS,
			tolerancePencePerLine: 1,
			title: 'Returns reconciliation Acme – 2026-11-20',
			window: { from: '2026-11-20', to: '2026-11-20' },
		});
		expect((r.report as { closedExceptions?: { total: number } }).closedExceptions?.total).toBe(4);
		expect(r.markdown).toContain('| Priya (finance) |');
		expect(r.html).toContain('Priya (finance)');
	});
});
