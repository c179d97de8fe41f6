/**
 * Renderers of a reconciliation report (core/reconcile.ts): Markdown (Slack,
 * chat, files), self-contained HTML (e-mail: inline styles, every text
 * escaped) and a one-line summary for chat alerts. Headline numbers first,
 * then what needs attention, then the tables; the credits held for finance
 * review and the window's notices after the open exceptions.
 */
import { EXCEPTION_CATALOGUE } from './exceptions';
import {
	AGE_BUCKETS,
	RECONCILE_STATUSES,
	SERIOUS_STATUSES,
	STATUS_TITLES,
	formatMoney,
	formatMoneyMap,
	type MismatchKind,
	type MoneyByCurrency,
	type ReconcileIssue,
	type ReconcileReport,
	type ReconcileStatus,
} from './reconcile';
import type { ClosedException, ReportWithClosed } from './reconcileClosed';
import type { DecidedCredit, HeldCredit } from './reconcileHeld';

/** Rows shown in the per-return table before "and N more". */
const MAX_RETURN_ROWS = 100;

const BUCKET_TITLES: Record<(typeof AGE_BUCKETS)[number], string> = {
	'<24h': 'Under 24 hours',
	'1-3d': '1 to 3 days',
	'3-7d': '3 to 7 days',
	'>7d': '7 days or more',
};

const SERIOUS = SERIOUS_STATUSES;

const MISMATCH_TITLES: Record<MismatchKind, string> = {
	credit_vs_expected: 'Credit vs expected',
	refund_vs_credit: 'Refund vs credit',
	currency: 'Currency',
};

/** "Unknown SKU (unknown_sku)" for a catalogued kind, else the kind as stored. */
function kindTitle(kind: string): string {
	const info = (EXCEPTION_CATALOGUE as Record<string, { title: string } | undefined>)[kind];
	return info ? `${info.title} (${kind})` : kind;
}

/** Singular and plural labels for the one-line summary. */
const SHORT_LABELS: Record<ReconcileStatus, [string, string]> = {
	duplicate_credit: ['duplicate credit', 'duplicate credits'],
	over_moved: ['stock over-moved', 'stock over-moved'],
	stock_pending: ['credited before its stock moved', 'credited before their stock moved'],
	value_mismatch: ['credit value mismatch', 'credit value mismatches'],
	exception: ['open exception', 'open exceptions'],
	credit_pending: ['credit pending', 'credit pending'],
	pending: ['pending', 'pending'],
	complete: ['complete', 'complete'],
};

function plural(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}

function dateOnly(iso: string | null): string {
	return iso ? iso.slice(0, 10) : '?';
}

function windowText(report: ReconcileReport): string {
	const { from, to } = report.window;
	if (!from && !to) return 'window not given';
	const f = dateOnly(from);
	const t = dateOnly(to);
	return f === t ? f : `${f} to ${t}`;
}

function ageText(hours: number | null): string {
	if (hours === null) return 'unknown';
	if (hours < 0) return 'in the future';
	if (hours < 24) return `${Math.floor(hours)} h`;
	return `${Math.floor(hours / 24)} d ${Math.floor(hours % 24)} h`;
}

/**
 * What Khaos credited: gross when every credit note gives one; net when none does (the
 * order-status look-up reports net only); both, and how many notes lack a gross, when mixed.
 */
function creditedText(report: ReconcileReport): string {
	const t = report.summary.totals;
	const missing = t.creditNotesWithoutGross ?? 0;
	if (missing === 0) return `${formatMoneyMap(t.khaosCreditGross)} gross`;
	if (missing === t.creditNotes)
		return `${formatMoneyMap(t.khaosCreditNet)} net (Khaos gave no gross)`;
	return `${formatMoneyMap(t.khaosCreditNet)} net (gross ${formatMoneyMap(t.khaosCreditGross)}, but ${plural(missing, 'credit note gives', 'credit notes give')} no gross)`;
}

function headline(report: ReconcileReport): { title: string; lines: string[] } {
	const t = report.summary.totals;
	const title = report.title ?? `Returns reconciliation ${windowText(report)}`;
	const lines = [
		`${plural(t.returns, 'return')} in the window: ${t.complete} complete, ${t.needsAttention} need${t.needsAttention === 1 ? 's' : ''} attention.`,
		`Credited in Khaos ${creditedText(report)}; refunded in ReBound ${formatMoneyMap(t.refund)}; ${plural(t.mismatches, 'value mismatch', 'value mismatches')}; ${plural(t.openExceptions, 'open exception')}.`,
		`Units returned ${t.unitsReturned}, units moved ${t.unitsMoved}; ${plural(t.creditNotes, 'credit note')}, ${plural(t.adjustments, 'stock adjustment')}.`,
	];
	const n = report.notices?.total ?? 0;
	const h = report.heldCredits;
	const held = h?.checked ? h.waiting.length : 0;
	if (n > 0 || held > 0) {
		const parts = [`Notices ${n}`];
		if (h?.checked) {
			let text = `held for finance review ${held}`;
			if (Object.keys(h.totals.waitingGross).length > 0)
				text += ` (${formatMoneyMap(h.totals.waitingGross)} if released as computed)`;
			if (h.totals.overdue > 0)
				text += `, ${h.totals.overdue} over ${plural(h.overdueAfterDays, 'day')}`;
			if (h.totals.failed > 0) text += `, ${h.totals.failed} failed`;
			parts.push(text);
		}
		lines.push(`${parts.join('; ')}.`);
	}
	return { title, lines };
}

// ---------------------------------------------------------------------------
// Held for finance review and notices: the texts both renderers use

const NOT_CHECKED = 'Not checked: the credit reviews rows were not passed to the report.';
const NONE_WAITING = 'No held credit waits for a decision.';

function returnText(returnId: string | null, displayId: string | null): string {
	if (returnId === null) return '-';
	return displayId ? `${returnId} (${displayId})` : returnId;
}

function heldStatusText(w: HeldCredit, overdueAfterDays: number): string {
	if (w.status === 'failed') return w.decision ? `Failed (${w.decision})` : 'Failed';
	return w.overdue ? `Pending, over ${plural(overdueAfterDays, 'day')}` : 'Pending';
}

function heldIntro(report: ReconcileReport): string {
	const h = report.heldCredits;
	const counts = [
		h.totals.pending ? `${h.totals.pending} pending` : '',
		h.totals.failed ? `${h.totals.failed} failed` : '',
	].filter(Boolean);
	const gross = Object.keys(h.totals.waitingGross).length
		? `: ${formatMoneyMap(h.totals.waitingGross)} if released as computed`
		: '';
	return `${plural(h.waiting.length, 'held credit waits', 'held credits wait')} (${counts.join(', ')})${gross}. A pending one held more than ${plural(h.overdueAfterDays, 'day')} is flagged.`;
}

function heldRow(w: HeldCredit, overdueAfterDays: number): string[] {
	return [
		returnText(w.returnId, w.displayId),
		w.orderReference ?? '-',
		heldStatusText(w, overdueAfterDays),
		w.ageDays === null ? 'unknown' : `${w.ageDays} d`,
		moneyOrDash(w.grossPence, w.currency),
		moneyOrDash(w.withoutHeldGrossPence, w.currency),
		w.heldWhy ?? '-',
		w.heldLines ?? '-',
		w.lastError ?? '-',
	];
}
const HELD_HEAD = [
	'Return',
	'Order',
	'Status',
	'Age',
	'If released',
	'Without held lines',
	'Why held',
	'Held lines',
	'Last error',
];

function decidedRow(d: DecidedCredit): string[] {
	const decision =
		d.status === 'rejected'
			? 'Rejected'
			: d.decision === 'release_without_held'
				? 'Released without the held lines'
				: 'Released';
	return [
		returnText(d.returnId, d.displayId),
		d.orderReference ?? '-',
		decision,
		d.decidedBy ?? '-',
		dateOnly(d.resolvedAt),
		d.creditNoteRef ?? '-',
		moneyOrDash(d.creditGrossPence, d.currency),
		[d.note, d.lastError].filter(Boolean).join('; ') || '-',
	];
}
const DECIDED_HEAD = [
	'Return',
	'Order',
	'Decision',
	'Decided by',
	'Resolved',
	'Credit note',
	'Credited gross',
	'Note',
];

function noticesIntro(report: ReconcileReport): string {
	const n = report.notices;
	const owners = sortedEntries(n.byOwner)
		.map(([o, c]) => `${o} ${c}`)
		.join(', ');
	return `${plural(n.total, 'notice')} seen in the window (${owners}): never blocking; each team reads its own and sets the row resolved once dealt with.`;
}

function noticeRows(report: ReconcileReport): string[][] {
	return report.notices.groups
		.slice(0, MAX_RETURN_ROWS)
		.map((g) => [
			g.owner,
			kindTitle(g.kind),
			returnText(g.returnId, g.displayId),
			String(g.count),
			g.skus.length ? `${g.message} (SKU ${g.skus.join(', ')})` : g.message,
		]);
}
const NOTICE_HEAD = ['Owner', 'Kind', 'Return', 'Rows', 'Message'];

function noticesUndated(report: ReconcileReport): string | null {
	const u = report.notices.undated;
	return u > 0
		? `${plural(u, 'notice row has', 'notice rows have')} no date and ${u === 1 ? 'is' : 'are'} not listed.`
		: null;
}

// Resolved or ignored in the window (core/reconcileClosed.ts): who closed each row, and why

const CLOSED_TITLE = 'Resolved or ignored in the window';
const CLOSED_HEAD = ['Closed', 'Status', 'Owner', 'Kind', 'Return', 'By', 'Note'];

function closedIntro(report: ReportWithClosed): string | null {
	const c = report.closedExceptions;
	if (!c || c.total === 0) return null;
	const by = [
		...sortedEntries(c.byResolver).map(([who, n]) => `${who} ${n}`),
		...(c.unrecorded ? [`not recorded ${c.unrecorded}`] : []),
	].join(', ');
	return `${plural(c.total, 'exception')} closed in the window (resolved ${c.byStatus.resolved}, ignored ${c.byStatus.ignored}), by ${by}.`;
}

function closedRow(r: ClosedException): string[] {
	return [
		dateOnly(r.closedAt),
		r.status === 'ignored' ? 'Ignored' : 'Resolved',
		r.owner,
		kindTitle(r.kind),
		returnText(r.returnId, r.displayId),
		r.resolvedBy ?? 'not recorded',
		r.resolutionNote ?? '-',
	];
}

function closedUndated(report: ReportWithClosed): string | null {
	const u = report.closedExceptions?.undated ?? 0;
	return u > 0
		? `${plural(u, 'resolved or ignored row has', 'resolved or ignored rows have')} neither resolvedAt nor a change date and ${u === 1 ? 'is' : 'are'} not listed.`
		: null;
}

function sortedEntries(m: Record<string, number>): Array<[string, number]> {
	return Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function moneyOrDash(pence: number | null, currency: string): string {
	return pence === null ? '-' : formatMoney(pence, currency);
}

// ---------------------------------------------------------------------------
// Markdown

/**
 * Escape text for Markdown that is also posted to Slack: <, > and & become entities (what Slack
 * requires, and no raw HTML reaches a Markdown renderer), pipes are escaped (table cells) and
 * newlines flattened. Emphasis characters are left alone: Slack shows backslash escapes literally,
 * and a stray * or _ can only change emphasis, never inject markup.
 */
export function escapeMarkdown(text: string): string {
	return text
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/\|/g, '\\|')
		.replace(/\r?\n/g, ' ');
}

function mdTable(head: string[], rows: string[][]): string[] {
	return [
		`| ${head.join(' | ')} |`,
		`| ${head.map(() => '---').join(' | ')} |`,
		...rows.map((r) => `| ${r.join(' | ')} |`),
	];
}

function statusRows(
	report: ReconcileReport,
): Array<{ status: ReconcileStatus; count: number; value: MoneyByCurrency }> {
	return RECONCILE_STATUSES.map((status) => ({
		status,
		count: report.summary.countsByStatus[status],
		value: report.summary.valuesByStatus[status],
	}));
}

/** The storage section's lines (null: no storage measures passed): the estimate, then its warning. */
function storageTexts(report: ReconcileReport): string[] | null {
	const st = report.storage;
	if (!st) return null;
	return st.warning ? [st.line, st.warning] : [st.line];
}

export function renderReconciliationMarkdown(
	report: ReportWithClosed,
	issues: ReconcileIssue[] = report.issues ?? [],
): string {
	const e = escapeMarkdown;
	const h = headline(report);
	const out: string[] = [
		`# ${e(h.title)}`,
		'',
		`_${e(windowText(report))}, generated ${e(report.generatedAt)}_`,
		'',
	];
	out.push(...h.lines.map((l, i) => (i === 0 ? `**${e(l)}**` : e(l))), '');

	out.push('## Needs attention', '');
	out.push(...report.attention.map((a) => `- ${e(a)}`), '');

	out.push('## By status', '');
	out.push(
		...mdTable(
			['Status', 'Returns', 'Credit gross'],
			statusRows(report).map((r) => [
				e(STATUS_TITLES[r.status]),
				String(r.count),
				e(formatMoneyMap(r.value)),
			]),
		),
		'',
	);

	out.push('## Not complete, by age', '');
	out.push(
		...mdTable(
			['Age', 'Returns', 'Return ids'],
			AGE_BUCKETS.map((b) => {
				const bucket = report.stuck.buckets[b];
				return [e(BUCKET_TITLES[b]), String(bucket.count), e(bucket.returnIds.join(', ') || '-')];
			}),
		),
		'',
	);

	out.push('## Not complete, by owner', '');
	const owners = Object.entries(report.summary.notCompleteByOwner ?? {});
	if (owners.length === 0) out.push('None.', '');
	else
		out.push(
			...mdTable(
				['Owner', 'Returns', 'Return ids'],
				owners.map(([o, g]) => [e(o), String(g.count), e(g.returnIds.join(', '))]),
			),
			'',
		);

	if (report.mismatches.length > 0) {
		out.push('## Value mismatches', '');
		out.push(
			...mdTable(
				['Return', 'Kind', 'Expected', 'Actual', 'Difference', 'Tolerance', 'Detail'],
				report.mismatches.map((m) => [
					e(m.returnId),
					e(MISMATCH_TITLES[m.kind] ?? m.kind),
					e(moneyOrDash(m.expectedPence, m.currency)),
					e(moneyOrDash(m.actualPence, m.currency)),
					e(moneyOrDash(m.differencePence, m.currency)),
					e(formatMoney(m.tolerancePence, m.currency)),
					e(m.message),
				]),
			),
			'',
		);
	}

	const ex = report.openExceptions;
	out.push('## Open exceptions', '');
	if (ex.total === 0) out.push('None.', '');
	else {
		out.push(
			...mdTable(
				['Kind', 'Open'],
				sortedEntries(ex.byKind).map(([k, n]) => [e(kindTitle(k)), String(n)]),
			),
			'',
		);
		out.push(
			...mdTable(
				['Owner', 'Open'],
				sortedEntries(ex.byOwner).map(([k, n]) => [e(k), String(n)]),
			),
			'',
		);
		out.push(
			...mdTable(
				['Age (first seen)', 'Open'],
				AGE_BUCKETS.map((b) => [e(BUCKET_TITLES[b]), String(ex.byAgeBucket[b])]),
			),
			'',
		);
		if (ex.undated > 0)
			out.push(
				`${plural(ex.undated, 'open exception has', 'open exceptions have')} no first-seen date.`,
				'',
			);
		if (ex.oldest) {
			out.push(
				`Oldest: ${e(kindTitle(ex.oldest.kind))} (${e(ex.oldest.owner)})${ex.oldest.returnId ? `, return ${e(ex.oldest.returnId)}` : ''}${ex.oldest.sku ? `, SKU ${e(ex.oldest.sku)}` : ''}, open ${e(ageText(ex.oldest.ageHours))}: ${e(ex.oldest.message)}`,
				'',
			);
		}
	}

	const closed = report.closedExceptions;
	if (closed) {
		out.push(`## ${CLOSED_TITLE}`, '');
		const intro = closedIntro(report);
		if (intro === null) out.push('None in the window.', '');
		else {
			out.push(e(intro), '');
			out.push(
				...mdTable(
					CLOSED_HEAD,
					closed.rows.slice(0, MAX_RETURN_ROWS).map((r) => closedRow(r).map(e)),
				),
				'',
			);
			if (closed.rows.length > MAX_RETURN_ROWS)
				out.push(`… and ${closed.rows.length - MAX_RETURN_ROWS} more (see the JSON output).`, '');
		}
		const undatedClosed = closedUndated(report);
		if (undatedClosed) out.push(e(undatedClosed), '');
	}

	const held = report.heldCredits;
	out.push('## Held for finance review', '');
	if (!held.checked) out.push(NOT_CHECKED, '');
	else {
		if (held.waiting.length === 0) out.push(NONE_WAITING, '');
		else {
			out.push(e(heldIntro(report)), '');
			out.push(
				...mdTable(
					HELD_HEAD,
					held.waiting.map((w) => heldRow(w, held.overdueAfterDays).map(e)),
				),
				'',
			);
		}
		out.push('### Decided in the window', '');
		if (held.decided.length === 0) out.push('None.', '');
		else
			out.push(
				...mdTable(
					DECIDED_HEAD,
					held.decided.map((d) => decidedRow(d).map(e)),
				),
				'',
			);
	}

	out.push('## Notices', '');
	if (report.notices.total === 0) out.push('None seen in the window.', '');
	else {
		out.push(e(noticesIntro(report)), '');
		out.push(
			...mdTable(
				NOTICE_HEAD,
				noticeRows(report).map((r) => r.map(e)),
			),
			'',
		);
		if (report.notices.groups.length > MAX_RETURN_ROWS)
			out.push(
				`… and ${report.notices.groups.length - MAX_RETURN_ROWS} more (see the JSON output).`,
				'',
			);
	}
	const undated = noticesUndated(report);
	if (undated) out.push(e(undated), '');

	const rows = report.perReturn.filter((p) => p.status !== 'complete');
	out.push('## Returns not complete', '');
	if (rows.length === 0) out.push('None.', '');
	else {
		out.push(
			...mdTable(
				['Return', 'Order', 'Status', 'Age', 'Value', 'Finding'],
				rows
					.slice(0, MAX_RETURN_ROWS)
					.map((p) => [
						e(p.displayId ? `${p.returnId} (${p.displayId})` : p.returnId),
						e(p.orderReference),
						e(STATUS_TITLES[p.status]),
						e(ageText(p.ageHours)),
						e(formatMoney(p.valuePence, p.currency)),
						e(p.findings[0] ?? ''),
					]),
			),
		);
		if (rows.length > MAX_RETURN_ROWS)
			out.push('', `… and ${rows.length - MAX_RETURN_ROWS} more (see the JSON output).`);
		out.push('');
	}

	const storage = storageTexts(report);
	if (storage) out.push('## Data Table storage', '', ...storage.flatMap((l) => [e(l), '']));

	if (issues.length > 0) {
		out.push('## Input rows that could not be read', '');
		out.push(
			...mdTable(
				['Input', 'Row', 'Field', 'Problem'],
				issues.map((i) => [
					e(i.input),
					i.index >= 0 ? String(i.index) : '-',
					e(i.field),
					e(i.message),
				]),
			),
			'',
		);
	}
	return out.join('\n').replace(/\n+$/, '\n');
}

// ---------------------------------------------------------------------------
// HTML

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
	return text
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&#39;');
}

const CSS = {
	body: 'font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1f2328;line-height:1.45;max-width:960px;',
	h1: 'font-size:20px;margin:0 0 4px 0;',
	h2: 'font-size:16px;margin:20px 0 8px 0;border-bottom:1px solid #d0d7de;padding-bottom:4px;',
	h3: 'font-size:14px;margin:12px 0 6px 0;',
	meta: 'color:#57606a;font-size:12px;margin:0 0 12px 0;',
	tiles: 'border-collapse:separate;border-spacing:8px 0;margin:0 -8px 8px -8px;',
	tile: 'border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;text-align:left;vertical-align:top;',
	tileNum: 'font-size:20px;font-weight:bold;',
	tileLabel: 'font-size:12px;color:#57606a;',
	table: 'border-collapse:collapse;margin:0 0 8px 0;',
	th: 'border:1px solid #d0d7de;background:#f6f8fa;padding:4px 8px;text-align:left;font-size:13px;',
	td: 'border:1px solid #d0d7de;padding:4px 8px;font-size:13px;vertical-align:top;',
	tdNum:
		'border:1px solid #d0d7de;padding:4px 8px;font-size:13px;text-align:right;white-space:nowrap;',
	attention:
		'background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px 8px 28px;margin:0;',
	ok: 'background:#dafbe1;border:1px solid #4ac26b;border-radius:6px;padding:8px 12px 8px 28px;margin:0;',
	serious: 'color:#cf222e;font-weight:bold;',
	p: 'margin:4px 0;',
};

function htmlTable(
	head: string[],
	rows: Array<Array<{ text: string; num?: boolean; style?: string }>>,
): string {
	const th = head.map((h) => `<th style="${CSS.th}">${escapeHtml(h)}</th>`).join('');
	const body = rows
		.map(
			(r) =>
				`<tr>${r.map((c) => `<td style="${(c.num ? CSS.tdNum : CSS.td) + (c.style ?? '')}">${escapeHtml(c.text)}</td>`).join('')}</tr>`,
		)
		.join('');
	return `<table style="${CSS.table}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderReconciliationHtml(
	report: ReportWithClosed,
	issues: ReconcileIssue[] = report.issues ?? [],
): string {
	const x = escapeHtml;
	const t = report.summary.totals;
	const h = headline(report);
	const parts: string[] = [];
	parts.push(`<h1 style="${CSS.h1}">${x(h.title)}</h1>`);
	parts.push(
		`<p style="${CSS.meta}">${x(windowText(report))}, generated ${x(report.generatedAt)}</p>`,
	);

	const tiles: Array<[string, string]> = [
		[String(t.returns), 'returns'],
		[String(t.complete), 'complete'],
		[String(t.needsAttention), 'need attention'],
		t.creditNotesWithoutGross > 0 && t.creditNotesWithoutGross === t.creditNotes
			? [formatMoneyMap(t.khaosCreditNet), 'credited in Khaos (net)']
			: [formatMoneyMap(t.khaosCreditGross), 'credited in Khaos (gross)'],
		[String(t.mismatches), 'value mismatches'],
		[String(t.openExceptions), 'open exceptions'],
	];
	const held = report.heldCredits;
	if (held.checked) tiles.push([String(held.waiting.length), 'held for finance review']);
	parts.push(
		`<table style="${CSS.tiles}"><tr>${tiles
			.map(
				([n, l]) =>
					`<td style="${CSS.tile}"><div style="${CSS.tileNum}">${x(n)}</div><div style="${CSS.tileLabel}">${x(l)}</div></td>`,
			)
			.join('')}</tr></table>`,
	);
	parts.push(...h.lines.map((l) => `<p style="${CSS.p}">${x(l)}</p>`));

	parts.push(`<h2 style="${CSS.h2}">Needs attention</h2>`);
	const allGood =
		report.attention.length > 0 &&
		t.needsAttention === 0 &&
		t.openExceptions === 0 &&
		t.mismatches === 0 &&
		held.totals.overdue === 0 &&
		held.totals.failed === 0 &&
		issues.length === 0 &&
		(report.storage?.usage?.state ?? 'ok') === 'ok';
	parts.push(
		`<ul style="${allGood ? CSS.ok : CSS.attention}">${report.attention.map((a) => `<li>${x(a)}</li>`).join('')}</ul>`,
	);

	parts.push(`<h2 style="${CSS.h2}">By status</h2>`);
	parts.push(
		htmlTable(
			['Status', 'Returns', 'Credit gross'],
			statusRows(report).map((r) => [
				{
					text: STATUS_TITLES[r.status],
					style: SERIOUS.has(r.status) && r.count > 0 ? CSS.serious : '',
				},
				{ text: String(r.count), num: true },
				{ text: formatMoneyMap(r.value), num: true },
			]),
		),
	);

	parts.push(`<h2 style="${CSS.h2}">Not complete, by age</h2>`);
	parts.push(
		htmlTable(
			['Age', 'Returns', 'Return ids'],
			AGE_BUCKETS.map((b) => [
				{ text: BUCKET_TITLES[b] },
				{ text: String(report.stuck.buckets[b].count), num: true },
				{ text: report.stuck.buckets[b].returnIds.join(', ') || '-' },
			]),
		),
	);

	parts.push(`<h2 style="${CSS.h2}">Not complete, by owner</h2>`);
	const owners = Object.entries(report.summary.notCompleteByOwner ?? {});
	if (owners.length === 0) parts.push(`<p style="${CSS.p}">None.</p>`);
	else
		parts.push(
			htmlTable(
				['Owner', 'Returns', 'Return ids'],
				owners.map(([o, g]) => [
					{ text: o },
					{ text: String(g.count), num: true },
					{ text: g.returnIds.join(', ') },
				]),
			),
		);

	if (report.mismatches.length > 0) {
		parts.push(`<h2 style="${CSS.h2}">Value mismatches</h2>`);
		parts.push(
			htmlTable(
				['Return', 'Kind', 'Expected', 'Actual', 'Difference', 'Tolerance', 'Detail'],
				report.mismatches.map((m) => [
					{ text: m.returnId },
					{ text: MISMATCH_TITLES[m.kind] ?? m.kind },
					{ text: moneyOrDash(m.expectedPence, m.currency), num: true },
					{ text: moneyOrDash(m.actualPence, m.currency), num: true },
					{ text: moneyOrDash(m.differencePence, m.currency), num: true },
					{ text: formatMoney(m.tolerancePence, m.currency), num: true },
					{ text: m.message },
				]),
			),
		);
	}

	const ex = report.openExceptions;
	parts.push(`<h2 style="${CSS.h2}">Open exceptions</h2>`);
	if (ex.total === 0) parts.push(`<p style="${CSS.p}">None.</p>`);
	else {
		parts.push(
			htmlTable(
				['Kind', 'Open'],
				sortedEntries(ex.byKind).map(([k, n]) => [
					{ text: kindTitle(k) },
					{ text: String(n), num: true },
				]),
			),
		);
		parts.push(
			htmlTable(
				['Owner', 'Open'],
				sortedEntries(ex.byOwner).map(([k, n]) => [{ text: k }, { text: String(n), num: true }]),
			),
		);
		parts.push(
			htmlTable(
				['Age (first seen)', 'Open'],
				AGE_BUCKETS.map((b) => [
					{ text: BUCKET_TITLES[b] },
					{ text: String(ex.byAgeBucket[b]), num: true },
				]),
			),
		);
		if (ex.undated > 0)
			parts.push(
				`<p style="${CSS.p}">${x(plural(ex.undated, 'open exception has', 'open exceptions have'))} no first-seen date.</p>`,
			);
		if (ex.oldest) {
			const o = ex.oldest;
			parts.push(
				`<p style="${CSS.p}">Oldest: ${x(kindTitle(o.kind))} (${x(o.owner)})${o.returnId ? `, return ${x(o.returnId)}` : ''}${o.sku ? `, SKU ${x(o.sku)}` : ''}, open ${x(ageText(o.ageHours))}: ${x(o.message)}</p>`,
			);
		}
	}

	const closed = report.closedExceptions;
	if (closed) {
		parts.push(`<h2 style="${CSS.h2}">${CLOSED_TITLE}</h2>`);
		const intro = closedIntro(report);
		if (intro === null) parts.push(`<p style="${CSS.p}">None in the window.</p>`);
		else {
			parts.push(`<p style="${CSS.p}">${x(intro)}</p>`);
			parts.push(
				htmlTable(
					CLOSED_HEAD,
					closed.rows.slice(0, MAX_RETURN_ROWS).map((r) => closedRow(r).map((text) => ({ text }))),
				),
			);
			if (closed.rows.length > MAX_RETURN_ROWS)
				parts.push(
					`<p style="${CSS.p}">… and ${closed.rows.length - MAX_RETURN_ROWS} more (see the JSON output).</p>`,
				);
		}
		const undatedClosed = closedUndated(report);
		if (undatedClosed) parts.push(`<p style="${CSS.p}">${x(undatedClosed)}</p>`);
	}

	parts.push(`<h2 style="${CSS.h2}">Held for finance review</h2>`);
	if (!held.checked) parts.push(`<p style="${CSS.p}">${x(NOT_CHECKED)}</p>`);
	else {
		if (held.waiting.length === 0) parts.push(`<p style="${CSS.p}">${x(NONE_WAITING)}</p>`);
		else {
			parts.push(`<p style="${CSS.p}">${x(heldIntro(report))}</p>`);
			parts.push(
				htmlTable(
					HELD_HEAD,
					held.waiting.map((w) =>
						heldRow(w, held.overdueAfterDays).map((text, i) => ({
							text,
							num: i === 3 || i === 4 || i === 5,
							style: i === 2 && (w.overdue || w.status === 'failed') ? CSS.serious : '',
						})),
					),
				),
			);
		}
		parts.push(`<h3 style="${CSS.h3}">Decided in the window</h3>`);
		if (held.decided.length === 0) parts.push(`<p style="${CSS.p}">None.</p>`);
		else
			parts.push(
				htmlTable(
					DECIDED_HEAD,
					held.decided.map((d) => decidedRow(d).map((text, i) => ({ text, num: i === 6 }))),
				),
			);
	}

	parts.push(`<h2 style="${CSS.h2}">Notices</h2>`);
	if (report.notices.total === 0) parts.push(`<p style="${CSS.p}">None seen in the window.</p>`);
	else {
		parts.push(`<p style="${CSS.p}">${x(noticesIntro(report))}</p>`);
		parts.push(
			htmlTable(
				NOTICE_HEAD,
				noticeRows(report).map((r) => r.map((text, i) => ({ text, num: i === 3 }))),
			),
		);
		if (report.notices.groups.length > MAX_RETURN_ROWS)
			parts.push(
				`<p style="${CSS.p}">… and ${report.notices.groups.length - MAX_RETURN_ROWS} more (see the JSON output).</p>`,
			);
	}
	const undatedNotices = noticesUndated(report);
	if (undatedNotices) parts.push(`<p style="${CSS.p}">${x(undatedNotices)}</p>`);

	const rows = report.perReturn.filter((p) => p.status !== 'complete');
	parts.push(`<h2 style="${CSS.h2}">Returns not complete</h2>`);
	if (rows.length === 0) parts.push(`<p style="${CSS.p}">None.</p>`);
	else {
		parts.push(
			htmlTable(
				['Return', 'Order', 'Status', 'Age', 'Value', 'Findings'],
				rows
					.slice(0, MAX_RETURN_ROWS)
					.map((p) => [
						{ text: p.displayId ? `${p.returnId} (${p.displayId})` : p.returnId },
						{ text: p.orderReference },
						{ text: STATUS_TITLES[p.status], style: SERIOUS.has(p.status) ? CSS.serious : '' },
						{ text: ageText(p.ageHours), num: true },
						{ text: formatMoney(p.valuePence, p.currency), num: true },
						{ text: p.findings.join(' ') },
					]),
			),
		);
		if (rows.length > MAX_RETURN_ROWS)
			parts.push(
				`<p style="${CSS.p}">… and ${rows.length - MAX_RETURN_ROWS} more (see the JSON output).</p>`,
			);
	}

	const storageLines = storageTexts(report);
	if (storageLines) {
		parts.push(`<h2 style="${CSS.h2}">Data Table storage</h2>`);
		const warn = report.storage?.usage?.state !== undefined && report.storage.usage.state !== 'ok';
		parts.push(
			...storageLines.map(
				(l, i) => `<p style="${i > 0 && warn ? CSS.attention : CSS.p}">${x(l)}</p>`,
			),
		);
	}

	if (issues.length > 0) {
		parts.push(`<h2 style="${CSS.h2}">Input rows that could not be read</h2>`);
		parts.push(
			htmlTable(
				['Input', 'Row', 'Field', 'Problem'],
				issues.map((i) => [
					{ text: i.input },
					{ text: i.index >= 0 ? String(i.index) : '-', num: true },
					{ text: i.field },
					{ text: i.message },
				]),
			),
		);
	}

	return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${x(h.title)}</title></head><body style="${CSS.body}">${parts.join('\n')}</body></html>`;
}

// ---------------------------------------------------------------------------
// One line for chat alerts

/** One line for a chat alert: counts, the serious statuses, mismatches, open exceptions. <, > and & are escaped (Slack-safe). */
export function renderReconciliationSummaryLine(
	report: ReconcileReport,
	issues: ReconcileIssue[] = report.issues ?? [],
): string {
	const t = report.summary.totals;
	const c = report.summary.countsByStatus;
	const h = headline(report);
	const parts: string[] = [];
	if (t.returns === 0) parts.push('no returns in the window');
	else {
		const notDone = RECONCILE_STATUSES.filter((s) => s !== 'complete' && c[s] > 0).map(
			(s) => `${c[s]} ${c[s] === 1 ? SHORT_LABELS[s][0] : SHORT_LABELS[s][1]}`,
		);
		parts.push(
			`${plural(t.returns, 'return')}, ${t.complete} complete${notDone.length ? ` (${notDone.join(', ')})` : ''}`,
		);
		parts.push(
			t.creditNotesWithoutGross > 0 && t.creditNotesWithoutGross === t.creditNotes
				? `credited ${formatMoneyMap(t.khaosCreditNet)} net`
				: `credited ${formatMoneyMap(t.khaosCreditGross)}`,
		);
	}
	const stuckOld = report.stuck.buckets['>7d'].count;
	if (stuckOld > 0) parts.push(`${stuckOld} not complete after 7+ days`);
	if (t.mismatches > 0) parts.push(plural(t.mismatches, 'value mismatch', 'value mismatches'));
	if (t.openExceptions > 0) {
		const oldest = report.openExceptions.oldest?.ageHours;
		parts.push(
			`${plural(t.openExceptions, 'open exception')}${oldest !== null && oldest !== undefined ? ` (oldest ${Math.floor(oldest / 24)} d)` : ''}`,
		);
	}
	const held = report.heldCredits;
	if (held?.checked && held.waiting.length > 0) {
		const flags = [
			held.totals.overdue
				? `${held.totals.overdue} over ${plural(held.overdueAfterDays, 'day')}`
				: '',
			held.totals.failed ? `${held.totals.failed} failed` : '',
		].filter(Boolean);
		parts.push(
			`${held.waiting.length} held for finance review${flags.length ? ` (${flags.join(', ')})` : ''}`,
		);
	}
	if ((report.notices?.total ?? 0) > 0) parts.push(plural(report.notices.total, 'notice'));
	const storage = report.storage?.usage;
	const storageFull = !!storage && storage.state !== 'ok';
	if (storage && storageFull)
		parts.push(`Data Tables ${storage.percent.toFixed(1)} % full (estimated)`);
	if (issues.length > 0)
		parts.push(
			`${plural(new Set(issues.map((i) => `${i.input}[${i.index}]`)).size, 'unreadable input row')}`,
		);
	const serious = RECONCILE_STATUSES.some((s) => SERIOUS.has(s) && c[s] > 0);
	const heldNeedsSomeone = !!held && (held.totals.overdue > 0 || held.totals.failed > 0);
	const mark =
		serious || storage?.state === 'full'
			? 'ACTION NEEDED'
			: storageFull ||
				  t.needsAttention > 0 ||
				  t.openExceptions > 0 ||
				  t.mismatches > 0 ||
				  heldNeedsSomeone ||
				  issues.length > 0
				? 'Check'
				: 'OK';
	const line = `${mark}: ${h.title}: ${parts.join('; ')}.`;
	return line
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/\r?\n/g, ' ');
}

// ---------------------------------------------------------------------------

/** The three renderings at once (what the Return → Reconcile operation adds to its output item). */
export function renderReconciliation(report: ReportWithClosed): {
	markdown: string;
	html: string;
	summaryLine: string;
} {
	return {
		markdown: renderReconciliationMarkdown(report),
		html: renderReconciliationHtml(report),
		summaryLine: renderReconciliationSummaryLine(report),
	};
}
