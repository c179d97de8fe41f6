/**
 * The demo's summary: what each driven return did (inbox status, stock moves
 * and credit notes from the Khaos sandbox, exception rows from n8n's Data
 * Table) checked against the scenario's expectations, as JSON or text.
 * Pure functions: the demo gathers the state, these judge and print it.
 */
import { formatPence, parseToPence } from '../../core/money';
import type { ExpectedCreditLine, Scenario, ScenarioReturn } from './scenario';
import type { MappingAudit } from '../../core/usecases/auditMappings';

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
	/** Rows of the credit reviews Data Table (held credits); absent: none read. */
	reviews?: Array<Record<string, unknown>>;
	/** The finance decisions the demo made, by return id. */
	decisions?: Record<string, FinanceAction>;
}

/** A finance decision the demo made on a held credit's review row, as finance would. */
export interface FinanceAction {
	decision: string;
	decidedBy: string;
	note: string;
	/** When the row update was sent (ISO). */
	decidedAt: string;
	/** The pending row as finance saw it when deciding. */
	held: { gross: string; withoutHeldGross: string | null; heldLines: string; heldWhy: string };
	/** From the decision until the finance review workflow had acted on it (null: not within the bound). */
	settledAfterMs: number | null;
}

/** A credit reviews row, as the summary shows it. */
export interface ReviewOutcome {
	returnId: string;
	orderReference: string;
	status: string;
	/** The credit as computed, held lines included (£, "63.00"). */
	gross: string;
	/** The credit without the held lines; null when the held lines were all there was. */
	withoutHeldGross: string | null;
	heldLines: string;
	heldWhy: string;
	decision: string;
	decidedBy: string;
	note: string;
	creditNoteRef: string;
	creditGross: string;
	resolvedAt: string;
	lastError: string;
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
	/** Kinds of the return's exception rows, notices (status `notice`) left out. */
	exceptionKinds: string[];
	/** Kinds of the return's exception rows of status `notice`. */
	noticeKinds: string[];
	/** The return's credit reviews row (its credit was held), or null. */
	review: ReviewOutcome | null;
	/** The finance decision the demo made on it, or null. */
	finance: FinanceAction | null;
	ok: boolean;
	/** What differs from the expectation, one sentence each. */
	problems: string[];
}

export interface DemoSummary {
	ok: boolean;
	client: string;
	/** The n8n deployment the demo ran on (scripts/n8n/topology.ts), e.g. "single process, SQLite". */
	deployment?: string;
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
		/** The row's details (JSON in the table), e.g. credit_mismatch's refundPence, creditPence, differencePence. */
		details: Record<string, unknown>;
	}>;
	/** The credit reviews rows of the scenario's returns (held credits and what finance decided). */
	reviews: ReviewOutcome[];
	editor?: {
		url: string;
		email: string;
		password: string;
		workflows: Array<{ name: string; url: string }>;
	};
	userFolder?: string;
	timings?: Record<string, number>;
	/** The demo client's mapping audit (its tables against Khaos and the codes ReBound used). */
	mappingAudit?: MappingAuditSummary;
}

/** The mapping audit, as the demo summary shows it. */
export interface MappingAuditSummary {
	ok: boolean;
	summaryLine: string;
	rows: Array<{ where: string; code: string; problem: string; message: string; fix: string }>;
	unmapped: Array<{
		kind: string;
		code: string;
		count: number;
		returnCount: number;
		firstReturnId: string | null;
		fallsToDefault: boolean;
	}>;
}

export function mappingAuditSummary(
	a: MappingAudit & { summaryLine: string },
): MappingAuditSummary {
	return {
		ok: a.ok,
		summaryLine: a.summaryLine,
		rows: a.rows.map((r) => ({
			where: `${r.table === 'dispositions' ? 'disposition' : 'reason'} row ${r.row}`,
			code: r.code,
			problem: r.problem,
			message: r.message,
			fix: r.fix,
		})),
		unmapped: a.unmapped.map((u) => ({
			kind: u.kind,
			code: u.code,
			count: u.count,
			returnCount: u.returnCount,
			firstReturnId: u.firstReturnId,
			fallsToDefault: u.fallsToDefault,
		})),
	};
}

const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const pounds = (pence: number) => `£${formatPence(pence)}`;
const isNotice = (row: Record<string, unknown>) => text(row.status) === 'notice';

/** An exception row's details: a JSON text in the Data Table, an object when given one; {} when unreadable. */
export function detailsOf(row: Record<string, unknown>): Record<string, unknown> {
	let d = row.details;
	if (typeof d === 'string') {
		try {
			d = JSON.parse(d) as unknown;
		} catch {
			return {};
		}
	}
	return typeof d === 'object' && d !== null && !Array.isArray(d)
		? (d as Record<string, unknown>)
		: {};
}
const returnIdOfRef = (ref: string) => /^RB-(\d+)(?:-|$)/.exec(ref)?.[1] ?? '';

/** A money column of a reviews row in pence: its `<name>Pence` number when there is one, else its text; null when empty. */
function penceOf(row: Record<string, unknown>, name: string): number | null {
	const p = row[`${name}Pence`];
	if (typeof p === 'number' && Number.isFinite(p)) return p;
	const t = text(row[name]).trim();
	return t ? parseToPence(t) : null;
}

/** A reviews row as the summary shows it. */
export function reviewOf(row: Record<string, unknown>): ReviewOutcome {
	const money = (name: string) => {
		const p = penceOf(row, name);
		return p === null ? '' : formatPence(p);
	};
	return {
		returnId: text(row.returnId),
		orderReference: text(row.orderReference),
		status: text(row.status),
		gross: money('gross'),
		withoutHeldGross: money('withoutHeldGross') || null,
		heldLines: text(row.heldLines),
		heldWhy: text(row.heldWhy),
		decision: text(row.decision).trim(),
		decidedBy: text(row.decidedBy),
		note: text(row.note),
		creditNoteRef: text(row.creditNoteRef),
		creditGross: money('creditGross'),
		resolvedAt: text(row.resolvedAt),
		lastError: text(row.lastError),
	};
}

/** The return's credit reviews row: the newest (highest id) when a later event added another. */
export function reviewRowFor(
	reviews: Array<Record<string, unknown>>,
	returnId: string,
): Record<string, unknown> | undefined {
	const own = reviews.filter((r) => text(r.returnId) === returnId);
	return own.sort((a, b) => Number(a.id ?? 0) - Number(b.id ?? 0)).slice(-1)[0];
}

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

/**
 * A status the templates leave a row in for good (superseded: a later event of the return decides;
 * replayed: after a replay; credit_rejected: finance rejected its held credit). Not `credit_review`:
 * a held credit waits for finance.
 */
export function isFinalStatus(status: unknown): boolean {
	return (
		status === 'done' ||
		status === 'exception' ||
		status === 'superseded' ||
		status === 'replayed' ||
		status === 'credit_rejected'
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

/**
 * The credit note's lines against the expected ones: each expected product line is paired with a
 * line of the same SKU (the same quantity first), the delivery line with the note's delivery; every
 * field that differs, every line missing and every line not expected is named with both values.
 */
export function creditLineProblems(
	what: string,
	note: KhaosCreditNote,
	expected: ExpectedCreditLine[],
): string[] {
	const problems: string[] = [];
	const money = (l: { grossPence: number; taxPence: number; netPence: number }) =>
		`${pounds(l.grossPence)} gross, ${pounds(l.taxPence)} VAT, ${pounds(l.netPence)} net`;
	const compare = (
		label: string,
		got: { grossPence: number; taxPence: number; netPence: number; quantity?: number },
		want: ExpectedCreditLine,
	) => {
		if (want.quantity !== undefined && got.quantity !== want.quantity)
			problems.push(`${what} line ${label} quantity ${got.quantity}, expected ${want.quantity}`);
		const fields: Array<[string, number, number]> = [
			['gross', got.grossPence, want.gross],
			['VAT', got.taxPence, want.vat],
			['net', got.netPence, want.net],
		];
		for (const [field, actual, wanted] of fields)
			if (actual !== wanted)
				problems.push(
					`${what} line ${label} ${field} ${pounds(actual)}, expected ${pounds(wanted)}`,
				);
	};
	const open = note.lines.map((l, i) => ({ l, i }));
	const take = (pick: (l: KhaosCreditNote['lines'][number]) => boolean) => {
		const at = open.findIndex((x) => pick(x.l));
		return at < 0 ? undefined : open.splice(at, 1)[0].l;
	};
	const sameSku = (a: string, b: string | undefined) => a.toUpperCase() === (b ?? '').toUpperCase();
	for (const want of expected.filter((l) => !l.delivery)) {
		const got =
			take((l) => sameSku(l.stockCode, want.sku) && l.quantity === want.quantity) ??
			take((l) => sameSku(l.stockCode, want.sku));
		const label = `${want.sku} ×${want.quantity}`;
		if (got) compare(label, got, want);
		else
			problems.push(
				`${what} has no line ${label}, expected ${money({ grossPence: want.gross, taxPence: want.vat, netPence: want.net })}`,
			);
	}
	for (const { l } of open)
		problems.push(`${what} line ${l.stockCode} ×${l.quantity} (${money(l)}) is not expected`);
	const wantDelivery = expected.find((l) => l.delivery);
	if (wantDelivery && !note.delivery)
		problems.push(
			`${what} has no delivery line, expected ${money({ grossPence: wantDelivery.gross, taxPence: wantDelivery.vat, netPence: wantDelivery.net })}`,
		);
	else if (wantDelivery && note.delivery) compare('delivery', note.delivery, wantDelivery);
	else if (note.delivery)
		problems.push(`${what} delivery line (${money(note.delivery)}) is not expected`);
	return problems;
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
	const rows = input.exceptions.filter((e) => text(e.returnId) === spec.returnId);
	const exceptionRows = rows.filter((e) => !isNotice(e));
	const exceptionKinds = exceptionRows.map((e) => text(e.kind));
	const noticeKinds = rows.filter(isNotice).map((e) => text(e.kind));
	const problems: string[] = [];
	const ret = `return ${spec.returnId}`;
	const ref = `credit note RB-${spec.returnId}`;

	if (!sent) problems.push(`${ret}: not sent`);
	if (status !== spec.expect.status)
		problems.push(`${ret}: inbox status ${status ?? '(no row)'}, expected ${spec.expect.status}`);

	const got = netMoves(stock);
	const want = netMoves(spec.expect.stock);
	const signed = (v: number) => `${v > 0 ? '+' : ''}${v}`;
	for (const [k, v] of want)
		if (got.get(k) !== v)
			problems.push(`${ret}: stock ${k}: moved ${signed(got.get(k) ?? 0)}, expected ${signed(v)}`);
	for (const [k, v] of got)
		if (!want.has(k)) problems.push(`${ret}: stock ${k}: moved ${signed(v)}, expected no move`);

	if (note.length > 1)
		problems.push(`${ret}: ${note.length} credit notes RB-${spec.returnId}, expected at most one`);
	const exp = spec.expect.creditNote;
	if (exp === null && note.length)
		problems.push(
			`${ret}: ${ref} of ${pounds(note[0].totals.grossPence)} gross raised, expected none`,
		);
	if (exp !== null) {
		if (!note.length) problems.push(`${ret}: no ${ref}, expected ${pounds(exp.gross)} gross`);
		else {
			const t = note[0].totals;
			const fields: Array<[string, number, number]> = [
				['gross', t.grossPence, exp.gross],
				['VAT', t.taxPence, exp.vat],
				['net', t.netPence, exp.net],
			];
			for (const [field, actual, expected] of fields)
				if (actual !== expected)
					problems.push(`${ret}: ${ref} ${field} ${pounds(actual)}, expected ${pounds(expected)}`);
			if (exp.lines) problems.push(...creditLineProblems(`${ret}: ${ref}`, note[0], exp.lines));
		}
	}

	const gotKinds = [...new Set(exceptionKinds)].sort();
	const wantKinds = [
		...new Set(spec.expect.exceptions.map((e) => (typeof e === 'string' ? e : e.kind))),
	].sort();
	if (gotKinds.join(',') !== wantKinds.join(','))
		problems.push(
			`${ret}: exceptions [${gotKinds.join(', ')}], expected [${wantKinds.join(', ')}]`,
		);
	for (const e of spec.expect.exceptions) {
		if (typeof e === 'string' || e.differencePence === undefined) continue;
		const ofKind = exceptionRows.filter((r) => text(r.kind) === e.kind);
		if (!ofKind.length) continue; // already named above
		if (ofKind.some((r) => detailsOf(r).differencePence === e.differencePence)) continue;
		const found = ofKind.map((r) => {
			const d = detailsOf(r);
			if (typeof d.differencePence !== 'number') return '(none in its details)';
			const of =
				typeof d.refundPence === 'number' && typeof d.creditPence === 'number'
					? ` (refund ${pounds(d.refundPence)}, credit ${pounds(d.creditPence)})`
					: '';
			return `${d.differencePence}${of}`;
		});
		problems.push(
			`${ret}: ${e.kind} differencePence ${found.join(' / ')}, expected ${e.differencePence}`,
		);
	}
	const gotNotices = [...new Set(noticeKinds)].sort();
	const wantNotices = [...new Set(spec.expect.notices)].sort();
	if (gotNotices.join(',') !== wantNotices.join(','))
		problems.push(
			`${ret}: notices [${gotNotices.join(', ')}], expected [${wantNotices.join(', ')}]`,
		);

	const reviewRow = reviewRowFor(input.reviews ?? [], spec.returnId);
	const review = reviewRow ? reviewOf(reviewRow) : null;
	const finance = input.decisions?.[spec.returnId] ?? null;
	problems.push(...reviewProblems(spec, reviewRow, finance, status));

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
		noticeKinds,
		review,
		finance,
		ok: problems.length === 0,
		problems,
	};
}

/** The return's credit reviews row against `expect.review`, and whether the finance step was made. */
export function reviewProblems(
	spec: ScenarioReturn,
	row: Record<string, unknown> | undefined,
	finance: FinanceAction | null,
	status: string | null,
): string[] {
	const problems: string[] = [];
	const ret = `return ${spec.returnId}`;
	const exp = spec.expect.review;
	const got = row ? reviewOf(row) : null;
	if (spec.finance && !finance)
		problems.push(
			`${ret}: finance could not ${spec.finance.decision} it: no pending credit review came (inbox status ${status ?? '(no row)'})`,
		);
	if (exp === null) {
		if (got)
			problems.push(
				`${ret}: credit review ${got.status} (£${got.gross || '?'} gross) recorded, expected none`,
			);
		return problems;
	}
	if (!got || !row) {
		problems.push(
			`${ret}: no credit review row, expected ${exp.status} at ${pounds(exp.gross)} gross`,
		);
		return problems;
	}
	if (got.status !== exp.status)
		problems.push(
			`${ret}: credit review status ${got.status || '(empty)'}, expected ${exp.status}${got.lastError ? ` (lastError: ${got.lastError})` : ''}`,
		);
	const money = (field: string, actual: number | null, wanted: number | null) => {
		if (actual !== wanted)
			problems.push(
				`${ret}: credit review ${field} ${actual === null ? '(empty)' : pounds(actual)}, expected ${wanted === null ? '(empty)' : pounds(wanted)}`,
			);
	};
	money('gross', penceOf(row, 'gross'), exp.gross);
	if (exp.withoutHeldGross !== undefined)
		money('withoutHeldGross', penceOf(row, 'withoutHeldGross'), exp.withoutHeldGross);
	if (exp.creditGross !== undefined)
		money('creditGross', penceOf(row, 'creditGross'), exp.creditGross);
	if (exp.decision !== undefined && got.decision.toLowerCase() !== exp.decision)
		problems.push(
			`${ret}: credit review decision ${got.decision || '(empty)'}, expected ${exp.decision}`,
		);
	const ref = `RB-${spec.returnId}`;
	if (exp.status === 'released' && got.creditNoteRef !== ref)
		problems.push(
			`${ret}: credit review creditNoteRef ${got.creditNoteRef || '(empty)'}, expected ${ref}`,
		);
	return problems;
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
			details: detailsOf(e),
		}));
	const reviews = (input.reviews ?? [])
		.filter((r) => ids.has(text(r.returnId)))
		.sort((a, b) => Number(a.id ?? 0) - Number(b.id ?? 0))
		.map(reviewOf);
	return {
		ok: returns.every((r) => r.ok),
		client: input.scenario.client,
		returns,
		stockMoves,
		creditNotes,
		exceptions,
		reviews,
	};
}

function table(rows: string[][]): string[] {
	if (!rows.length) return [];
	const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
	return rows.map((r) =>
		`  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')}`.trimEnd(),
	);
}

/** One return's outcome in a few words: status, credit, exceptions and notices, a held credit. */
function outcomeText(r: ReturnOutcome): string {
	const kinds = [...new Set(r.exceptionKinds)];
	const notices = [...new Set(r.noticeKinds)];
	const extra = [...kinds, ...(notices.length ? [`notices: ${notices.join(', ')}`] : [])];
	const tail = extra.length ? ` (${extra.join('; ')})` : '';
	const released =
		r.review?.status === 'released'
			? ` held, released${r.review.decidedBy ? ` by ${r.review.decidedBy}` : ''}`
			: '';
	if (r.status === 'exception') return `exception (${kinds.join(', ') || '?'})`;
	if (r.status === 'done')
		return `done${r.creditNote ? `, credit £${r.creditNote.gross}` : ''}${released ? `,${released}` : ''}${tail}`;
	if (r.status === 'credit_review')
		return `credit held for finance (review ${r.review?.status ?? '?'}${r.review?.gross ? `, £${r.review.gross}` : ''})${tail}`;
	if (r.status === 'credit_rejected') return `done, credit rejected by finance${tail}`;
	return r.status ?? 'no inbox row';
}

/** The summary as text for people. */
export function renderSummary(s: DemoSummary): string {
	const out: string[] = [];
	const okCount = s.returns.filter((r) => r.ok).length;
	out.push(
		`ReBound → Khaos Control demo (client "${s.client}"): ${s.returns.length} returns driven through the intake webhook, ${okCount} ended as expected${s.ok ? '' : ' — SOME DID NOT'}`,
	);
	if (s.deployment) out.push(`n8n: ${s.deployment}`);
	out.push('');
	out.push('Returns');
	out.push(
		...table([
			['return', 'order', 'outcome', 'check', 'what it shows'],
			...s.returns.map((r) => [
				r.returnId,
				r.orderReference,
				outcomeText(r),
				r.ok ? 'ok' : 'UNEXPECTED',
				r.label,
			]),
		]),
	);
	for (const r of s.returns.filter((x) => !x.ok)) for (const p of r.problems) out.push(`    ${p}`);
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
	out.push('Credit reviews (held credits: the credit reviews Data Table; finance sets decision)');
	if (!s.reviews.length) out.push('  none');
	out.push(
		...table(
			s.reviews.map((v) => {
				const f = s.returns.find((r) => r.returnId === v.returnId)?.finance;
				const decided = v.decision
					? `decision ${v.decision}${v.decidedBy ? ` by ${v.decidedBy}` : ''}${f?.settledAfterMs != null ? `, acted on ${(f.settledAfterMs / 1000).toFixed(0)} s later` : ''}`
					: 'no decision yet';
				return [
					v.returnId,
					v.orderReference,
					v.status,
					`£${v.gross} as computed${v.withoutHeldGross ? `, £${v.withoutHeldGross} without the held lines` : ''}`,
					`held: ${v.heldLines || '?'}`,
					decided +
						(v.creditNoteRef ? ` → ${v.creditNoteRef} £${v.creditGross}` : '') +
						(v.lastError ? ` (${v.lastError})` : ''),
				];
			}),
		),
	);
	out.push('');
	out.push('Exceptions (exceptions Data Table)');
	if (!s.exceptions.length) out.push('  none');
	out.push(
		...table(
			s.exceptions.map((e) => [
				e.status === 'notice' ? `${e.kind} (notice)` : e.kind,
				e.returnId,
				e.sku || '-',
				e.owner,
				e.message,
			]),
		),
	);
	if (s.mappingAudit) {
		const m = s.mappingAudit;
		out.push('');
		out.push(
			'Mapping audit (the mapping tables against Khaos, the codes ReBound used in the last 30 days)',
		);
		out.push(`  ${m.summaryLine}`);
		out.push(...table(m.rows.map((r) => [r.where, r.code || '-', r.message, `fix: ${r.fix}`])));
		out.push(
			...table(
				m.unmapped.map((u) => [
					u.kind,
					u.code || '(no reason)',
					`${u.count} line(s) of ${u.returnCount} return(s), first ${u.firstReturnId ?? '-'}`,
					u.fallsToDefault ? 'taken by the default row' : 'no row: alerted once',
				]),
			),
		);
	}
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
