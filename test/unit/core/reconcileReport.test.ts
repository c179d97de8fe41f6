import { formatMoney, reconcile, type RawReconcileInput } from '../../../core/reconcile';
import {
	escapeHtml,
	escapeMarkdown,
	renderReconciliation,
	renderReconciliationHtml,
	renderReconciliationMarkdown,
	renderReconciliationSummaryLine,
} from '../../../core/reconcileReport';
import { NOW, adj, exceptionRow, holding, hoursAgo, note, ret } from './reconcile.fixtures';

function run(input: RawReconcileInput) {
	return reconcile({
		...input,
		options: {
			now: NOW,
			title: 'Returns reconciliation Acme – 2026-11-20',
			...((input.options as object) ?? {}),
		},
	});
}

/** A window with one return of each kind, an evil SKU and an open exception. */
function mixed() {
	return run({
		window: { from: '2026-11-20T00:00:00Z', to: '2026-11-20T23:59:59Z' },
		returns: [
			ret('R1', [{ sku: 'TSHIRT-RED-M' }], { refundPence: 4000 }),
			ret('R2', [{ sku: 'JEANS-BLU-32' }], { refundPence: 2700 }),
			ret('R3', [{ sku: '<script>alert(1)</script>' }], {
				ageHours: 200,
				displayId: 'RMA-3 & "co"',
			}),
			ret('R4', [{ sku: 'MUG-WHT' }], { refundPence: 4500 }),
		],
		khaos: [
			holding('R1', [note('CN1', 4000)], [adj('R1', 1)]),
			holding('R2', [note('CN2a', 2700), note('CN2b', 2700)], [adj('R2', 1)]),
			holding('R4', [note('CN4', 4000)], [adj('R4', 1)]),
		],
		exceptions: [
			exceptionRow('unknown_sku|R3|R3:1|-', 'unknown_sku', {
				returnId: 'R3',
				sku: '<script>alert(1)</script>',
				firstSeen: hoursAgo(190),
				message: 'SKU <script>alert(1)</script> | not found',
			}),
		],
	});
}

describe('formatMoney', () => {
	it('uses the currency symbol for GBP/EUR/USD, else the code', () => {
		expect(formatMoney(1234, 'GBP')).toBe('£12.34');
		expect(formatMoney(5, 'EUR')).toBe('€0.05');
		expect(formatMoney(-250, 'USD')).toBe('-$2.50');
		expect(formatMoney(100000, 'SEK')).toBe('1,000.00 SEK');
		expect(formatMoney(12498750, 'GBP')).toBe('£124,987.50');
		expect(formatMoney(-123456789, 'GBP')).toBe('-£1,234,567.89');
		expect(formatMoney(99999, 'GBP')).toBe('£999.99');
		expect(formatMoney(0, 'GBP')).toBe('£0.00');
	});
});

describe('renderReconciliationMarkdown', () => {
	it('headline numbers first, then attention, then the tables, with every number present', () => {
		const { report, issues } = mixed();
		const md = renderReconciliationMarkdown(report, issues);
		expect(md.startsWith('# Returns reconciliation Acme – 2026-11-20\n')).toBe(true);
		expect(md).toContain('**4 returns in the window: 2 complete, 2 need attention.**');
		expect(md).toContain(
			'Credited in Khaos £134.00 gross; refunded in ReBound £112.00; 2 value mismatches; 1 open exception.',
		);
		const order = [
			'**4 returns',
			'## Needs attention',
			'## By status',
			'## Not complete, by age',
			'## Value mismatches',
			'## Open exceptions',
			'## Returns not complete',
		].map((h) => md.indexOf(h));
		expect(order.every((i) => i >= 0)).toBe(true);
		expect([...order].sort((a, b) => a - b)).toEqual(order);
		expect(md).toContain('| Duplicate credit | 1 | £54.00 |');
		expect(md).toContain('| Complete | 2 | £80.00 |');
		expect(md).toContain('| Open exception | 1 | £0.00 |');
		expect(md).toContain(
			'| R2 | Refund vs credit | £54.00 | £27.00 | -£27.00 | £0.01 | ReBound refunded £27.00 but the 2 Khaos credit notes total £54.00 gross (difference -£27.00, tolerance £0.01). |',
		);
		expect(md).toContain('| 7 days or more | 1 | R3 |');
		expect(md).toContain('| Under 24 hours | 1 | R2 |'); // the duplicate credit is not complete either
		expect(md).toContain('| R4 | Refund vs credit | £40.00 | £45.00 | £5.00 | £0.01 |');
		expect(md).toContain('the customer may have been credited twice');
		expect(md).toContain('| Unknown SKU (unknown_sku) | 1 |');
		expect(md).toContain(
			'Oldest: Unknown SKU (unknown_sku) (ops), return R3, SKU &lt;script&gt;alert(1)&lt;/script&gt;, open 7 d 22 h:',
		);
		expect(md).toContain('| ops | 1 |');
	});

	it('escapes <, >, & and pipes so a SKU cannot inject markup into Slack or a table', () => {
		const { report } = mixed();
		const md = renderReconciliationMarkdown(report);
		expect(md).not.toContain('<script>');
		expect(md).toContain('SKU &lt;script&gt;alert(1)&lt;/script&gt;');
		expect(md).toContain('\\| not found');
		expect(md).toContain('R3 (RMA-3 &amp; "co")');
		expect(escapeMarkdown('a|b\nc *d* <@here> & x')).toBe('a\\|b c *d* &lt;@here&gt; &amp; x');
	});

	it('lists unreadable input rows by input, row and field', () => {
		const { report, issues } = run({
			returns: [ret('G'), { returnId: 'BAD' }],
			exceptions: [{ key: 'k', kind: 'x', status: 'nope' }],
		});
		const md = renderReconciliationMarkdown(report, issues);
		expect(md).toContain('## Input rows that could not be read');
		expect(md).toContain('| returns | 1 | lines | Required |');
		expect(md).toContain(
			'| exceptions | 0 | status | status must be one of open, notice, resolved, ignored |',
		);
	});

	it('empty window', () => {
		const { report } = run({ returns: [], window: { from: '2026-11-20', to: '2026-11-20' } });
		const md = renderReconciliationMarkdown(report);
		expect(md).toContain('_2026-11-20, generated 2026-11-21T07:00:00.000Z_');
		expect(md).toContain('**0 returns in the window: 0 complete, 0 need attention.**');
		expect(md).toContain('- No returns were processed in ReBound in this window.');
		expect(md).toContain('## Open exceptions\n\nNone.');
		expect(md).toContain('## Returns not complete\n\nNone.');
		expect(md).not.toContain('## Value mismatches');
	});
});

describe('renderReconciliationHtml', () => {
	it('is a self-contained document with inline styles and the numbers', () => {
		const { report } = mixed();
		const html = renderReconciliationHtml(report);
		expect(html.startsWith('<!DOCTYPE html><html><head><meta charset="utf-8">')).toBe(true);
		expect(html).not.toMatch(/<style|<link|<script|src=|class=/);
		expect(html).toContain('style="');
		expect(html).toContain('£134.00');
		expect(html).toContain('credited in Khaos (gross)');
		expect(html.indexOf('Needs attention')).toBeLessThan(html.indexOf('By status'));
		expect(html.indexOf('£134.00')).toBeLessThan(html.indexOf('Needs attention'));
		expect(html).toMatch(/Duplicate credit<\/td><td[^>]*>1<\/td><td[^>]*>£54\.00<\/td>/);
	});

	it('escapes every text: a <script> SKU, quotes and ampersands', () => {
		const { report, issues } = mixed();
		const html = renderReconciliationHtml(report, issues);
		expect(html).not.toContain('<script>');
		expect(html).toContain('SKU &lt;script&gt;alert(1)&lt;/script&gt;');
		expect(html).toContain('R3 (RMA-3 &amp; &quot;co&quot;)');
		expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
			'&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
		);
	});

	it('escapes a malicious title too', () => {
		const { report } = run({ returns: [], options: { title: '</title><script>x</script>' } });
		const html = renderReconciliationHtml(report);
		expect(html).not.toContain('<script>');
		expect(html).toContain('<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;</title>');
	});
});

describe('renderReconciliationSummaryLine', () => {
	it('one line with the counts, serious statuses flagged', () => {
		const { report } = mixed();
		expect(renderReconciliationSummaryLine(report)).toBe(
			'ACTION NEEDED: Returns reconciliation Acme – 2026-11-20: 4 returns, 2 complete (1 duplicate credit, 1 open exception); credited £134.00; 1 not complete after 7+ days; 2 value mismatches; 1 open exception (oldest 7 d).',
		);
	});

	it('OK when everything is complete; Check when only unfinished; no returns', () => {
		const done = run({
			returns: [ret('A')],
			khaos: [holding('A', [note('C', 100)], [adj('A', 1)])],
		}).report;
		expect(renderReconciliationSummaryLine(done)).toBe(
			'OK: Returns reconciliation Acme – 2026-11-20: 1 return, 1 complete; credited £1.00.',
		);
		const pending = run({ returns: [ret('B')] }).report;
		expect(renderReconciliationSummaryLine(pending)).toBe(
			'Check: Returns reconciliation Acme – 2026-11-20: 1 return, 0 complete (1 pending); credited £0.00.',
		);
		const empty = run({ returns: [] }).report;
		expect(renderReconciliationSummaryLine(empty)).toBe(
			'OK: Returns reconciliation Acme – 2026-11-20: no returns in the window.',
		);
	});

	it('is Slack-safe and names unreadable rows', () => {
		const { report, issues } = run({
			returns: [{ returnId: 'x' }],
			options: { title: 'a <b> & c' },
		});
		expect(renderReconciliationSummaryLine(report, issues)).toBe(
			'Check: a &lt;b&gt; &amp; c: no returns in the window; 1 unreadable input row.',
		);
	});
});

describe('renderReconciliation', () => {
	it('gives all three renderings; the unreadable rows come from the report itself', () => {
		const { report } = run({
			returns: [
				ret('R1', [{ sku: 'TSHIRT-RED-M' }], { refundPence: 4000 }),
				{ returnId: 'BAD', lines: 'oops' },
			],
			khaos: [holding('R1', [note('CN1', 4000)], [adj('R1', 1)])],
		});
		const out = renderReconciliation(report);
		expect(out.summaryLine).toBe(renderReconciliationSummaryLine(report, report.issues));
		expect(out.summaryLine).toBe(
			'Check: Returns reconciliation Acme – 2026-11-20: 1 return, 1 complete; credited £40.00; 1 unreadable input row.',
		);
		expect(out.markdown).toContain('## Input rows that could not be read');
		expect(out.markdown).toMatch(/\| returns \| 1 \| lines \| /);
		expect(out.html).toContain('Input rows that could not be read');
		expect(out.html).toContain('£40.00');
	});
});

describe('credited amount when Khaos gives no gross', () => {
	it('net only: the headline, the tile and the summary line say net', () => {
		const { report } = run({
			returns: [ret('R1'), ret('R2')],
			khaos: [
				holding('R1', [note('CN1', null, 3333)], [adj('R1', 1)]),
				holding('R2', [note('CN2', null, 2500, { deliveryNetPence: 412 })], [adj('R2', 1)]),
			],
		});
		expect(report.summary.totals).toMatchObject({
			khaosCreditGross: {},
			khaosCreditNet: { GBP: 6245 },
			creditNotesWithoutGross: 2,
			creditNotes: 2,
		});
		expect(renderReconciliationMarkdown(report)).toContain(
			'Credited in Khaos £62.45 net (Khaos gave no gross); refunded in ReBound £0.00;',
		);
		expect(renderReconciliationHtml(report)).toContain(
			'£62.45</div><div style="font-size:12px;color:#57606a;">credited in Khaos (net)',
		);
		expect(renderReconciliationSummaryLine(report)).toBe(
			'OK: Returns reconciliation Acme – 2026-11-20: 2 returns, 2 complete; credited £62.45 net.',
		);
	});

	it('mixed: net in full, and the gross of the notes that give one', () => {
		const { report } = run({
			returns: [ret('R1'), ret('R2')],
			khaos: [
				holding('R1', [note('CN1', 4000, 3333)], [adj('R1', 1)]),
				holding('R2', [note('CN2', null, 2500)], [adj('R2', 1)]),
			],
		});
		expect(renderReconciliationMarkdown(report)).toContain(
			'Credited in Khaos £58.33 net (gross £40.00, but 1 credit note gives no gross);',
		);
	});
});
