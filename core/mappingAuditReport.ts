/**
 * The mapping audit (core/usecases/auditMappings.ts) for people: Markdown (also posted to Slack),
 * HTML (e-mail, the go-live sign-off), a subject and a one-line summary. Every text from a table
 * or from ReBound is escaped: a hostile code never becomes markup, a link or a mention.
 */
import { TABLE_TITLES } from './mappingTables';
import { escapeHtml, escapeMarkdown } from './reconcileReport';
import type { MappingAudit, RowFinding, SeenCode, UnmappedFinding } from './usecases/auditMappings';

const PROBLEM_TITLES: Record<RowFinding['problem'], string> = {
	row_invalid: 'Row refused by Returns Mapping',
	site_missing: 'Site not in Khaos',
	location_missing: 'Location not in Khaos',
	restock_not_sellable: 'Restock into a non-sellable location',
	held_on_sellable: 'Quarantine or write-off into a sellable location',
	reason_missing: 'Reason id not in Khaos',
};

function plural(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}

function codeText(kind: 'disposition' | 'reason', code: string): string {
	return code === '' ? (kind === 'reason' ? '(no reason)' : '(none)') : code;
}

function rowLabel(f: RowFinding): string {
	return f.row === 0 ? TABLE_TITLES[f.table] : `${TABLE_TITLES[f.table]} row ${f.row}`;
}

function seenBy(s: SeenCode): string {
	if (s.matchedBy === null) return 'no row';
	return s.matchedBy === 'default' ? `default row (${s.row})` : `row ${s.row}`;
}

function windowText(audit: MappingAudit): string {
	return audit.days ? `the last ${plural(audit.days, 'day')}` : 'the returns read';
}

/** Where the audit stands, in one line (Slack, the demo, a log). */
export function renderMappingAuditSummaryLine(audit: MappingAudit): string {
	const stopping = audit.unmapped.filter((u) => !u.fallsToDefault);
	const byDefault = audit.unmapped.filter((u) => u.fallsToDefault);
	const parts: string[] = [];
	if (audit.rows.length) parts.push(`${plural(audit.rows.length, 'wrong row')}`);
	if (stopping.length) parts.push(`${plural(stopping.length, 'code')} seen without a row`);
	if (byDefault.length) parts.push(`${plural(byDefault.length, 'code')} taken by the default row`);
	const read = `${plural(audit.counts.dispositionRows, 'disposition row')}, ${plural(audit.counts.reasonRows, 'reason row')}; ${plural(audit.counts.returns, 'return')} of ${windowText(audit)}`;
	return audit.ok && !byDefault.length
		? `Mapping audit: all good (${read})`
		: `Mapping audit: ${parts.join(', ') || 'all good'} (${read})`;
}

export function renderMappingAuditSubject(audit: MappingAudit): string {
	const n = audit.rows.length + audit.unmapped.filter((u) => !u.fallsToDefault).length;
	return `${audit.title}: ${n ? `${n} to fix` : 'all good'}`;
}

// ------------------------------------------------------------------ Markdown

/**
 * escapeMarkdown (entities for <, > and &, pipes escaped, newlines flattened) plus link and code
 * syntax: a code like `[x](http://…)` stays text in any Markdown renderer.
 */
export function escapeAuditMarkdown(text: string): string {
	return escapeMarkdown(text).replace(/([[\]`])/g, '\\$1');
}

function mdTable(head: string[], rows: string[][]): string[] {
	return [
		`| ${head.join(' | ')} |`,
		`| ${head.map(() => '---').join(' | ')} |`,
		...rows.map((r) => `| ${r.map(escapeAuditMarkdown).join(' | ')} |`),
	];
}

export function renderMappingAuditMarkdown(audit: MappingAudit): string {
	const out: string[] = [`# ${escapeAuditMarkdown(audit.title)}`, ''];
	out.push(
		`Generated ${audit.generatedAt.slice(0, 16).replace('T', ' ')} UTC. Khaos: ${plural(audit.khaos.sites, 'site')}, ${plural(audit.khaos.locations, 'location')} of the sites the rows name, ${plural(audit.khaos.reasons, 'return reason')}. ` +
			`Tables: ${plural(audit.counts.dispositionRows, 'disposition row')}, ${plural(audit.counts.reasonRows, 'reason row')}. ` +
			`ReBound: ${plural(audit.counts.returns, 'return')} (${plural(audit.counts.lines, 'line')}) of ${windowText(audit)}.`,
		'',
		`**${escapeAuditMarkdown(renderMappingAuditSummaryLine(audit))}**`,
		'',
	);
	out.push('## Rows to fix', '');
	if (!audit.rows.length)
		out.push(
			'None: every site, location and reason id the rows name exists in Khaos, restock rows point at sellable locations and quarantine and write-off rows at non-sellable ones.',
			'',
		);
	else
		out.push(
			...mdTable(
				['Row', 'Code', 'What is wrong', 'Fix'],
				audit.rows.map((f) => [
					rowLabel(f),
					f.code || '-',
					`${PROBLEM_TITLES[f.problem]}: ${f.message}`,
					f.fix,
				]),
			),
			'',
		);
	const stopping = audit.unmapped.filter((u) => !u.fallsToDefault);
	const byDefault = audit.unmapped.filter((u) => u.fallsToDefault);
	out.push(`## Codes seen in ReBound without a row (${windowText(audit)})`, '');
	if (!stopping.length)
		out.push('None: every disposition and reason ReBound used is taken by a row.', '');
	else
		out.push(
			...mdTable(
				['Table', 'Code', 'Lines', 'Returns', 'First return', 'Fix'],
				stopping.map(unmappedRow),
			),
			'',
		);
	if (byDefault.length)
		out.push(
			'### Taken by the default (*) row',
			'',
			...mdTable(
				['Table', 'Code', 'Lines', 'Returns', 'First return', 'Note'],
				byDefault.map(unmappedRow),
			),
			'',
		);
	if (audit.seen.length) {
		out.push('## Codes seen and the row that takes them', '');
		out.push(
			...mdTable(
				['Table', 'Code', 'Lines', 'Taken by'],
				audit.seen.map((s) => [s.kind, codeText(s.kind, s.code), String(s.count), seenBy(s)]),
			),
			'',
		);
	}
	if (audit.counts.skippedItems)
		out.push(
			`${plural(audit.counts.skippedItems, 'item')} from ReBound could not be read as a return and were left out.`,
			'',
		);
	return out.join('\n').trimEnd() + '\n';
}

function unmappedRow(u: UnmappedFinding): string[] {
	return [
		u.kind,
		codeText(u.kind, u.code),
		String(u.count),
		String(u.returnCount),
		u.firstReturnId ?? '-',
		u.fix,
	];
}

// ------------------------------------------------------------------ HTML

const CSS = {
	body: 'font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1f2328;line-height:1.45;max-width:960px;',
	h1: 'font-size:20px;margin:0 0 4px 0;',
	h2: 'font-size:16px;margin:20px 0 8px 0;border-bottom:1px solid #d0d7de;padding-bottom:4px;',
	meta: 'color:#57606a;font-size:12px;margin:0 0 12px 0;',
	table: 'border-collapse:collapse;margin:0 0 8px 0;',
	th: 'border:1px solid #d0d7de;background:#f6f8fa;padding:4px 8px;text-align:left;font-size:13px;',
	td: 'border:1px solid #d0d7de;padding:4px 8px;font-size:13px;vertical-align:top;',
	num: 'border:1px solid #d0d7de;padding:4px 8px;font-size:13px;text-align:right;',
	attention:
		'background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;margin:0;',
	ok: 'background:#dafbe1;border:1px solid #4ac26b;border-radius:6px;padding:8px 12px;margin:0;',
	p: 'margin:4px 0;',
};

function htmlTable(head: string[], rows: Array<Array<string | number>>): string {
	const th = head.map((h) => `<th style="${CSS.th}">${escapeHtml(h)}</th>`).join('');
	const body = rows
		.map(
			(r) =>
				`<tr>${r.map((c) => `<td style="${typeof c === 'number' ? CSS.num : CSS.td}">${escapeHtml(String(c))}</td>`).join('')}</tr>`,
		)
		.join('');
	return `<table style="${CSS.table}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderMappingAuditHtml(audit: MappingAudit): string {
	const h: string[] = [
		`<div style="${CSS.body}">`,
		`<h1 style="${CSS.h1}">${escapeHtml(audit.title)}</h1>`,
	];
	h.push(
		`<p style="${CSS.meta}">Generated ${escapeHtml(audit.generatedAt.slice(0, 16).replace('T', ' '))} UTC · Khaos: ${plural(audit.khaos.sites, 'site')}, ${plural(audit.khaos.locations, 'location')}, ${plural(audit.khaos.reasons, 'return reason')} · ` +
			`${plural(audit.counts.dispositionRows, 'disposition row')}, ${plural(audit.counts.reasonRows, 'reason row')} · ReBound: ${plural(audit.counts.returns, 'return')} of ${escapeHtml(windowText(audit))}</p>`,
	);
	const toFix = audit.rows.length + audit.unmapped.filter((u) => !u.fallsToDefault).length;
	h.push(
		`<p style="${toFix ? CSS.attention : CSS.ok}">${escapeHtml(renderMappingAuditSummaryLine(audit))}</p>`,
	);
	h.push(`<h2 style="${CSS.h2}">Rows to fix</h2>`);
	h.push(
		audit.rows.length
			? htmlTable(
					['Row', 'Code', 'The row says', 'What is wrong', 'Fix'],
					audit.rows.map((f) => [
						rowLabel(f),
						f.code || '-',
						f.rowText || '-',
						`${PROBLEM_TITLES[f.problem]}: ${f.message}`,
						f.fix,
					]),
				)
			: `<p style="${CSS.p}">None: every site, location and reason id the rows name exists in Khaos, restock rows point at sellable locations and quarantine and write-off rows at non-sellable ones.</p>`,
	);
	const stopping = audit.unmapped.filter((u) => !u.fallsToDefault);
	const byDefault = audit.unmapped.filter((u) => u.fallsToDefault);
	const unmappedHtml = (list: UnmappedFinding[], last: string) =>
		htmlTable(
			['Table', 'Code', 'Lines', 'Returns', 'First return', last],
			list.map((u) => [
				u.kind,
				codeText(u.kind, u.code),
				u.count,
				u.returnCount,
				u.firstReturnId ?? '-',
				u.fix,
			]),
		);
	h.push(
		`<h2 style="${CSS.h2}">Codes seen in ReBound without a row (${escapeHtml(windowText(audit))})</h2>`,
	);
	h.push(
		stopping.length
			? unmappedHtml(stopping, 'Fix')
			: `<p style="${CSS.p}">None: every disposition and reason ReBound used is taken by a row.</p>`,
	);
	if (byDefault.length)
		h.push(
			`<h2 style="${CSS.h2}">Taken by the default (*) row</h2>`,
			unmappedHtml(byDefault, 'Note'),
		);
	if (audit.seen.length)
		h.push(
			`<h2 style="${CSS.h2}">Codes seen and the row that takes them</h2>`,
			htmlTable(
				['Table', 'Code', 'Lines', 'Taken by'],
				audit.seen.map((s) => [s.kind, codeText(s.kind, s.code), s.count, seenBy(s)]),
			),
		);
	if (audit.counts.skippedItems)
		h.push(
			`<p style="${CSS.p}">${plural(audit.counts.skippedItems, 'item')} from ReBound could not be read as a return and were left out.</p>`,
		);
	h.push('</div>');
	return h.join('\n');
}

export function renderMappingAudit(audit: MappingAudit): {
	subject: string;
	summaryLine: string;
	markdown: string;
	html: string;
} {
	return {
		subject: renderMappingAuditSubject(audit),
		summaryLine: renderMappingAuditSummaryLine(audit),
		markdown: renderMappingAuditMarkdown(audit),
		html: renderMappingAuditHtml(audit),
	};
}
