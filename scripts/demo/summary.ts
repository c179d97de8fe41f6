/**
 * The demo's summary: what each driven return did (inbox status, stock moves
 * and credit notes from the Khaos sandbox, exception rows from n8n's Data
 * Table) checked against the scenario's expectations, as JSON or text.
 * Pure functions: the demo gathers the state, these judge and print it.
 */
import { formatPence } from '../../core/money';
import type { Scenario, ScenarioReturn } from './scenario';

export interface KhaosAdjustment {
	reference: string;
	stockCode: string;
	siteId: string;
	locationId: string;
	delta: number;
	newLevel: number;
}

export interface KhaosCreditNote {
	orderCode: string;
	associatedRef: string;
	sourceOrderCode: string | null;
	lines: Array<{
		stockCode: string;
		quantity: number;
		grossPence: number;
		taxPence: number;
		netPence: number;
	}>;
	delivery: { grossPence: number; taxPence: number; netPence: number } | null;
	totals: { netPence: number; taxPence: number; grossPence: number };
}

export interface DemoStateInput {
	scenario: Scenario;
	/** Event id sent per return id. */
	sent: Record<string, { eventId: string; orderReference: string }>;
	inbox: Array<Record<string, unknown>>;
	exceptions: Array<Record<string, unknown>>;
	khaos: { adjustments: KhaosAdjustment[]; creditNotes: KhaosCreditNote[] };
}

export interface ReturnOutcome {
	returnId: string;
	label: string;
	orderReference: string;
	eventId: string;
	/** Final inbox status of the event sent (null: no row). */
	status: string | null;
	expectedStatus: string;
	stock: Array<{ sku: string; siteId: string; locationId: string; delta: number }>;
	creditNote: { reference: string; gross: string; vat: string; net: string } | null;
	exceptionKinds: string[];
	ok: boolean;
	/** What differs from the expectation, one sentence each. */
	problems: string[];
}

export interface DemoSummary {
	ok: boolean;
	client: string;
	returns: ReturnOutcome[];
	stockMoves: Array<{
		returnId: string;
		reference: string;
		sku: string;
		siteId: string;
		locationId: string;
		before: number;
		after: number;
		delta: number;
	}>;
	creditNotes: Array<{
		returnId: string;
		reference: string;
		khaosOrderCode: string;
		sourceOrderCode: string | null;
		gross: string;
		vat: string;
		net: string;
		grossPence: number;
		vatPence: number;
		netPence: number;
		lines: Array<{ sku: string; quantity: number; gross: string; vat: string; net: string }>;
		delivery: { gross: string; vat: string; net: string } | null;
	}>;
	exceptions: Array<{
		kind: string;
		returnId: string;
		sku: string;
		owner: string;
		status: string;
		message: string;
	}>;
	editor?: {
		url: string;
		email: string;
		password: string;
		workflows: Array<{ name: string; url: string }>;
	};
	userFolder?: string;
	timings?: Record<string, number>;
}

const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const returnIdOfRef = (ref: string) => /^RB-(\d+)(?:-|$)/.exec(ref)?.[1] ?? '';

/** The final inbox row for the event sent for a return (falls back to the newest row of the return). */
export function inboxRowFor(
	inbox: DemoStateInput['inbox'],
	returnId: string,
	eventId: string,
): Record<string, unknown> | undefined {
	return (
		inbox.find((r) => text(r.eventId) === eventId) ??
		inbox.filter((r) => text(r.returnId) === returnId).slice(-1)[0]
	);
}

/** A status the processor leaves a row in for good (superseded: a later event of the return decides; replayed: after a replay). */
export function isFinalStatus(status: unknown): boolean {
	return (
		status === 'done' || status === 'exception' || status === 'superseded' || status === 'replayed'
	);
}

function stockKey(m: { sku: string; siteId: string; locationId: string }): string {
	return `${m.sku.toUpperCase()} at site ${m.siteId} / ${m.locationId.toUpperCase()}`;
}

function netMoves(
	moves: Array<{ sku: string; siteId: string; locationId: string; delta: number }>,
): Map<string, number> {
	const out = new Map<string, number>();
	for (const m of moves) out.set(stockKey(m), (out.get(stockKey(m)) ?? 0) + m.delta);
	for (const [k, v] of [...out]) if (v === 0) out.delete(k);
	return out;
}

/** Judges one return against its expectation. */
export function judgeReturn(spec: ScenarioReturn, input: DemoStateInput): ReturnOutcome {
	const sent = input.sent[spec.returnId];
	const row = inboxRowFor(input.inbox, spec.returnId, sent?.eventId ?? '');
	const status = row ? text(row.status) : null;
	const stock = input.khaos.adjustments
		.filter((a) => returnIdOfRef(a.reference) === spec.returnId)
		.map((a) => ({ sku: a.stockCode, siteId: a.siteId, locationId: a.locationId, delta: a.delta }));
	const note = input.khaos.creditNotes.filter((c) => c.associatedRef === `RB-${spec.returnId}`);
	const exceptionKinds = input.exceptions
		.filter((e) => text(e.returnId) === spec.returnId)
		.map((e) => text(e.kind));
	const problems: string[] = [];

	if (!sent) problems.push('not sent');
	if (status !== spec.expect.status)
		problems.push(`inbox status ${status ?? '(no row)'}, expected ${spec.expect.status}`);

	const got = netMoves(stock);
	const want = netMoves(spec.expect.stock);
	for (const [k, v] of want)
		if (got.get(k) !== v)
			problems.push(`stock ${k}: moved ${got.get(k) ?? 0}, expected ${v > 0 ? '+' : ''}${v}`);
	for (const [k, v] of got)
		if (!want.has(k)) problems.push(`stock ${k}: moved ${v > 0 ? '+' : ''}${v}, expected no move`);

	if (note.length > 1)
		problems.push(`${note.length} credit notes RB-${spec.returnId}, expected at most one`);
	const exp = spec.expect.creditNote;
	if (exp === null && note.length)
		problems.push(
			`credit note RB-${spec.returnId} of £${formatPence(note[0].totals.grossPence)} raised, expected none`,
		);
	if (exp !== null) {
		if (!note.length)
			problems.push(
				`no credit note RB-${spec.returnId}, expected £${formatPence(exp.gross)} gross`,
			);
		else {
			const t = note[0].totals;
			if (t.grossPence !== exp.gross || t.taxPence !== exp.vat || t.netPence !== exp.net)
				problems.push(
					`credit note RB-${spec.returnId} gross/VAT/net £${formatPence(t.grossPence)}/£${formatPence(t.taxPence)}/£${formatPence(t.netPence)}, expected £${formatPence(exp.gross)}/£${formatPence(exp.vat)}/£${formatPence(exp.net)}`,
				);
		}
	}

	const gotKinds = [...new Set(exceptionKinds)].sort();
	const wantKinds = [...new Set(spec.expect.exceptions)].sort();
	if (gotKinds.join(',') !== wantKinds.join(','))
		problems.push(`exceptions [${gotKinds.join(', ')}], expected [${wantKinds.join(', ')}]`);

	return {
		returnId: spec.returnId,
		label: spec.label,
		orderReference: sent?.orderReference ?? text(row?.orderReference),
		eventId: sent?.eventId ?? '',
		status,
		expectedStatus: spec.expect.status,
		stock,
		creditNote: note.length
			? {
					reference: note[0].associatedRef,
					gross: formatPence(note[0].totals.grossPence),
					vat: formatPence(note[0].totals.taxPence),
					net: formatPence(note[0].totals.netPence),
				}
			: null,
		exceptionKinds,
		ok: problems.length === 0,
		problems,
	};
}

export function buildSummary(input: DemoStateInput): DemoSummary {
	const ids = new Set(input.scenario.returns.map((r) => r.returnId));
	const returns = input.scenario.returns.map((r) => judgeReturn(r, input));
	const stockMoves = input.khaos.adjustments
		.filter((a) => ids.has(returnIdOfRef(a.reference)))
		.map((a) => ({
			returnId: returnIdOfRef(a.reference),
			reference: a.reference,
			sku: a.stockCode,
			siteId: a.siteId,
			locationId: a.locationId,
			before: a.newLevel - a.delta,
			after: a.newLevel,
			delta: a.delta,
		}));
	const creditNotes = input.khaos.creditNotes
		.filter((c) => ids.has(returnIdOfRef(c.associatedRef)))
		.map((c) => ({
			returnId: returnIdOfRef(c.associatedRef),
			reference: c.associatedRef,
			khaosOrderCode: c.orderCode,
			sourceOrderCode: c.sourceOrderCode,
			gross: formatPence(c.totals.grossPence),
			vat: formatPence(c.totals.taxPence),
			net: formatPence(c.totals.netPence),
			grossPence: c.totals.grossPence,
			vatPence: c.totals.taxPence,
			netPence: c.totals.netPence,
			lines: c.lines.map((l) => ({
				sku: l.stockCode,
				quantity: l.quantity,
				gross: formatPence(l.grossPence),
				vat: formatPence(l.taxPence),
				net: formatPence(l.netPence),
			})),
			delivery: c.delivery
				? {
						gross: formatPence(c.delivery.grossPence),
						vat: formatPence(c.delivery.taxPence),
						net: formatPence(c.delivery.netPence),
					}
				: null,
		}));
	const exceptions = input.exceptions
		.filter((e) => ids.has(text(e.returnId)))
		.map((e) => ({
			kind: text(e.kind),
			returnId: text(e.returnId),
			sku: text(e.sku),
			owner: text(e.owner),
			status: text(e.status),
			message: text(e.message),
		}));
	return {
		ok: returns.every((r) => r.ok),
		client: input.scenario.client,
		returns,
		stockMoves,
		creditNotes,
		exceptions,
	};
}

function table(rows: string[][]): string[] {
	if (!rows.length) return [];
	const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
	return rows.map((r) =>
		`  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')}`.trimEnd(),
	);
}

/** The summary as text for people. */
export function renderSummary(s: DemoSummary): string {
	const out: string[] = [];
	const okCount = s.returns.filter((r) => r.ok).length;
	out.push(
		`ReBound → Khaos Control demo (client "${s.client}"): ${s.returns.length} returns driven through the intake webhook, ${okCount} ended as expected${s.ok ? '' : ' — SOME DID NOT'}`,
	);
	out.push('');
	out.push('Returns');
	out.push(
		...table([
			['return', 'order', 'outcome', 'check', 'what it shows'],
			...s.returns.map((r) => [
				r.returnId,
				r.orderReference,
				r.status === 'exception'
					? `exception (${[...new Set(r.exceptionKinds)].join(', ') || '?'})`
					: r.status === 'done'
						? `done${r.creditNote ? `, credit £${r.creditNote.gross}` : ''}`
						: (r.status ?? 'no inbox row'),
				r.ok ? 'ok' : 'UNEXPECTED',
				r.label,
			]),
		]),
	);
	for (const r of s.returns.filter((x) => !x.ok))
		out.push(`    ${r.returnId}: ${r.problems.join('; ')}`);
	out.push('');
	out.push('Stock moved (Khaos sandbox)');
	if (!s.stockMoves.length) out.push('  none');
	out.push(
		...table(
			s.stockMoves.map((m) => [
				m.sku,
				`site ${m.siteId} / ${m.locationId}`,
				`${m.before} → ${m.after}`,
				`(${m.delta > 0 ? '+' : ''}${m.delta}, ${m.reference})`,
			]),
		),
	);
	out.push('');
	out.push('Credit notes (Khaos sandbox; gross includes VAT)');
	if (!s.creditNotes.length) out.push('  none');
	out.push(
		...table(
			s.creditNotes.map((c) => [
				c.reference,
				`from ${c.sourceOrderCode ?? '?'}`,
				`gross £${c.gross}`,
				`VAT £${c.vat}`,
				`net £${c.net}`,
				c.lines.map((l) => `${l.sku} ×${l.quantity}`).join(', ') +
					(c.delivery ? ` + delivery £${c.delivery.gross}` : ''),
			]),
		),
	);
	out.push('');
	out.push('Exceptions (exceptions Data Table)');
	if (!s.exceptions.length) out.push('  none');
	out.push(
		...table(s.exceptions.map((e) => [e.kind, e.returnId, e.sku || '-', e.owner, e.message])),
	);
	if (s.editor) {
		out.push('');
		out.push(`n8n editor: ${s.editor.url}`);
		out.push(
			`login:      ${s.editor.email} / ${s.editor.password}   (a throw-away demo owner on 127.0.0.1)`,
		);
		for (const w of s.editor.workflows) out.push(`  ${w.name}: ${w.url}`);
	}
	return out.join('\n');
}
