/**
 * The daily report's two finance sections (core/reconcile.ts): the **notices** of the window (rows
 * of the exceptions table with status `notice`: recorded, never blocking, never a problem) and the
 * credits **held for finance review** (rows of the credit reviews Data Table: every `pending` and
 * `failed` one whatever its age, and the decisions taken in the window). Pure; see
 * docs/reconciliation.md for what each means for finance.
 */
import { EXCEPTION_CATALOGUE, EXCEPTION_KINDS, type ExceptionKind } from './exceptions';
import type { ExceptionRow, ReviewRow, WindowRange } from './reconcileInput';

/** Amounts per currency code, in pence. */
type MoneyByCurrency = Record<string, number>;

const HOUR_MS = 3_600_000;

/** The row's owner, else the team that owns its kind (core/exceptions), else `unknown`. */
export function exceptionOwner(row: Pick<ExceptionRow, 'owner' | 'kind'>): string {
	if (row.owner) return row.owner;
	const kind = row.kind as ExceptionKind;
	return (EXCEPTION_KINDS as readonly string[]).includes(kind)
		? EXCEPTION_CATALOGUE[kind].owner
		: 'unknown';
}

function inRange(iso: string | null, range: WindowRange): boolean {
	if (iso === null) return false;
	const t = Date.parse(iso);
	return t >= Date.parse(range.from) && t < Date.parse(range.to);
}

function plural(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}

/** "5 hours", "1 day", "12 days" (whole units, rounded down). */
function ageWords(hours: number): string {
	if (hours < 24) return plural(Math.max(0, Math.floor(hours)), 'hour');
	return plural(Math.floor(hours / 24), 'day');
}

function listIds(ids: string[], max = 5): string {
	const shown = ids.slice(0, max).join(', ');
	return ids.length > max ? `${shown} and ${ids.length - max} more` : shown;
}

function addMoney(target: MoneyByCurrency, currency: string, pence: number): void {
	target[currency] = (target[currency] ?? 0) + pence;
}

// ---------------------------------------------------------------------------
// Notices

/** Notice rows with the same owner, kind, return and message. */
export interface NoticeGroup {
	owner: string;
	kind: string;
	returnId: string | null;
	displayId: string | null;
	message: string;
	/** Rows in the group. */
	count: number;
	/** The rows' SKUs, each once, in row order. */
	skus: string[];
	keys: string[];
	/** The latest lastSeen (else firstSeen) of the group. */
	lastSeen: string;
}

export interface NoticeSummary {
	/** Notice rows seen in the window (lastSeen, else firstSeen, within report.windowRange). */
	total: number;
	byKind: Record<string, number>;
	byOwner: Record<string, number>;
	/** By owner, kind, return and message. */
	groups: NoticeGroup[];
	/** Notice rows with neither lastSeen nor firstSeen: not placed in any window, not listed. */
	undated: number;
}

export function summariseNotices(rows: ExceptionRow[], range: WindowRange): NoticeSummary {
	const byKind: Record<string, number> = {};
	const byOwner: Record<string, number> = {};
	const groups = new Map<string, NoticeGroup>();
	let total = 0;
	let undated = 0;
	for (const row of rows) {
		if (row.status !== 'notice') continue;
		const seen = row.lastSeen ?? row.firstSeen;
		if (seen === null) {
			undated++;
			continue;
		}
		if (!inRange(seen, range)) continue;
		total++;
		const owner = exceptionOwner(row);
		byKind[row.kind] = (byKind[row.kind] ?? 0) + 1;
		byOwner[owner] = (byOwner[owner] ?? 0) + 1;
		const id = JSON.stringify([owner, row.kind, row.returnId, row.message]);
		let g = groups.get(id);
		if (!g) {
			g = {
				owner,
				kind: row.kind,
				returnId: row.returnId,
				displayId: row.displayId,
				message: row.message,
				count: 0,
				skus: [],
				keys: [],
				lastSeen: seen,
			};
			groups.set(id, g);
		}
		g.count++;
		g.keys.push(row.key);
		if (row.sku !== null && !g.skus.includes(row.sku)) g.skus.push(row.sku);
		if (Date.parse(seen) > Date.parse(g.lastSeen)) g.lastSeen = seen;
		g.displayId = g.displayId ?? row.displayId;
	}
	const sorted = [...groups.values()].sort(
		(a, b) =>
			a.owner.localeCompare(b.owner) ||
			a.kind.localeCompare(b.kind) ||
			(a.returnId ?? '').localeCompare(b.returnId ?? '') ||
			a.message.localeCompare(b.message),
	);
	return { total, byKind, byOwner, groups: sorted, undated };
}

// ---------------------------------------------------------------------------
// Held for finance review

/** A held credit still waiting: a `pending` review (finance has not decided) or a `failed` release. */
export interface HeldCredit {
	id: string | null;
	returnId: string;
	displayId: string | null;
	orderReference: string | null;
	currency: string;
	status: 'pending' | 'failed';
	/** Finance's decision when one is filled in (a failed release, or one the next run acts on). */
	decision: string | null;
	heldWhy: string | null;
	heldLines: string | null;
	/** The credit if released as computed, held lines included. */
	grossPence: number | null;
	/** The credit if released without the held lines; null when there is nothing else to credit. */
	withoutHeldGrossPence: number | null;
	heldAt: string | null;
	/** Hours since heldAt (null when unknown; never negative). */
	ageHours: number | null;
	/** Whole days since heldAt. */
	ageDays: number | null;
	/** Pending and held more than overdueAfterDays × 24 hours ago. */
	overdue: boolean;
	lastError: string | null;
}

/** A review finance decided in the window: released (credit note raised) or rejected (nothing raised). */
export interface DecidedCredit {
	id: string | null;
	returnId: string;
	displayId: string | null;
	orderReference: string | null;
	currency: string;
	status: 'released' | 'rejected';
	decision: string | null;
	decidedBy: string | null;
	note: string | null;
	heldAt: string | null;
	resolvedAt: string;
	creditNoteRef: string | null;
	/** The credit note's gross as the release recorded it. */
	creditGrossPence: number | null;
	grossPence: number | null;
	withoutHeldGrossPence: number | null;
	lastError: string | null;
}

export interface HeldCreditSummary {
	/** False when no review rows were passed to the report: held credits were not checked. */
	checked: boolean;
	/** A pending review held more than this many days is flagged (options.reviewOverdueDays). */
	overdueAfterDays: number;
	/** Every pending and failed review, whatever its age; oldest first. */
	waiting: HeldCredit[];
	/** Reviews released or rejected in the window (resolvedAt within report.windowRange); in order. */
	decided: DecidedCredit[];
	totals: {
		pending: number;
		failed: number;
		overdue: number;
		released: number;
		rejected: number;
		/** Gross of the waiting reviews if released as computed, per currency. */
		waitingGross: MoneyByCurrency;
		/** Gross of the credit notes released in the window, per currency. */
		releasedGross: MoneyByCurrency;
	};
}

function hoursSince(iso: string | null, nowMs: number): number | null {
	if (iso === null) return null;
	return Math.max(0, Math.round(((nowMs - Date.parse(iso)) / HOUR_MS) * 100) / 100);
}

export function summariseReviews(
	rows: ReviewRow[] | null,
	range: WindowRange,
	nowMs: number,
	overdueAfterDays: number,
): HeldCreditSummary {
	const waiting: HeldCredit[] = [];
	const decided: DecidedCredit[] = [];
	for (const r of rows ?? []) {
		if (r.status === 'pending' || r.status === 'failed') {
			const ageHours = hoursSince(r.heldAt, nowMs);
			waiting.push({
				id: r.id,
				returnId: r.returnId,
				displayId: r.displayId,
				orderReference: r.orderReference,
				currency: r.currency,
				status: r.status,
				decision: r.decision,
				heldWhy: r.heldWhy,
				heldLines: r.heldLines,
				grossPence: r.grossPence,
				withoutHeldGrossPence: r.withoutHeldGrossPence,
				heldAt: r.heldAt,
				ageHours,
				ageDays: ageHours === null ? null : Math.floor(ageHours / 24),
				overdue: r.status === 'pending' && ageHours !== null && ageHours > overdueAfterDays * 24,
				lastError: r.lastError,
			});
		} else if (r.resolvedAt !== null && inRange(r.resolvedAt, range)) {
			decided.push({
				id: r.id,
				returnId: r.returnId,
				displayId: r.displayId,
				orderReference: r.orderReference,
				currency: r.currency,
				status: r.status,
				decision: r.decision,
				decidedBy: r.decidedBy,
				note: r.note,
				heldAt: r.heldAt,
				resolvedAt: r.resolvedAt,
				creditNoteRef: r.creditNoteRef,
				creditGrossPence: r.creditGrossPence,
				grossPence: r.grossPence,
				withoutHeldGrossPence: r.withoutHeldGrossPence,
				lastError: r.lastError,
			});
		}
	}
	const time = (iso: string | null) => (iso === null ? Infinity : Date.parse(iso));
	waiting.sort((a, b) => time(a.heldAt) - time(b.heldAt) || a.returnId.localeCompare(b.returnId));
	decided.sort(
		(a, b) => time(a.resolvedAt) - time(b.resolvedAt) || a.returnId.localeCompare(b.returnId),
	);
	const waitingGross: MoneyByCurrency = {};
	for (const w of waiting)
		if (w.grossPence !== null) addMoney(waitingGross, w.currency, w.grossPence);
	const releasedGross: MoneyByCurrency = {};
	for (const d of decided)
		if (d.status === 'released' && d.creditGrossPence !== null)
			addMoney(releasedGross, d.currency, d.creditGrossPence);
	return {
		checked: rows !== null,
		overdueAfterDays,
		waiting,
		decided,
		totals: {
			pending: waiting.filter((w) => w.status === 'pending').length,
			failed: waiting.filter((w) => w.status === 'failed').length,
			overdue: waiting.filter((w) => w.overdue).length,
			released: decided.filter((d) => d.status === 'released').length,
			rejected: decided.filter((d) => d.status === 'rejected').length,
			waitingGross,
			releasedGross,
		},
	};
}

/**
 * The review that settles each return's credit: a pending or failed one (still waiting), else the
 * latest decided one (by resolvedAt, else heldAt).
 */
export function reviewsByReturn(rows: ReviewRow[] | null): Map<string, ReviewRow> {
	const out = new Map<string, ReviewRow>();
	const waits = (r: ReviewRow) => r.status === 'pending' || r.status === 'failed';
	const when = (r: ReviewRow) => Date.parse(r.resolvedAt ?? r.heldAt ?? '') || 0;
	for (const r of rows ?? []) {
		const prev = out.get(r.returnId);
		if (!prev || (waits(r) && !waits(prev)) || (waits(r) === waits(prev) && when(r) >= when(prev)))
			out.set(r.returnId, r);
	}
	return out;
}

/** The finding a return's review adds to its row (null: none). `hasCredit`: Khaos holds a credit note for it. */
export function reviewFinding(review: ReviewRow, hasCredit: boolean, nowMs: number): string | null {
	if (review.status === 'pending' && !hasCredit) {
		const age = hoursSince(review.heldAt, nowMs);
		return `Credit held for finance review${age === null ? '' : ` for ${ageWords(age)}`}${review.heldWhy ? ` (${review.heldWhy})` : ''}: finance decides it in credit reviews.`;
	}
	if (review.status === 'failed' && !hasCredit)
		return `The held credit's release failed${review.lastError ? ` (${review.lastError})` : ''}: once the cause is fixed, set its review back to pending.`;
	if (review.status === 'rejected') {
		const by = review.decidedBy ? ` (${review.decidedBy})` : '';
		return hasCredit
			? `Credit rejected by finance${by}, but Khaos holds a credit note for the return: check it.`
			: `Credit rejected by finance${by}: no credit note expected.`;
	}
	return null;
}

/** "R5, held 5 days" for one, "R5, R8; the oldest held 5 days" for several (oldest first). */
function heldIds(rows: HeldCredit[]): string {
	const ids = listIds(rows.map((r) => r.returnId));
	const age = rows[0]?.ageHours ?? null;
	if (age === null) return ids;
	return rows.length === 1
		? `${ids}, held ${ageWords(age)}`
		: `${ids}; the oldest held ${ageWords(age)}`;
}

/** "Needs attention" sentences for the held credits: failed releases, overdue ones, the others waiting. */
export function heldAttentionLines(h: HeldCreditSummary): string[] {
	const out: string[] = [];
	const failed = h.waiting.filter((w) => w.status === 'failed');
	const overdue = h.waiting.filter((w) => w.overdue);
	const waiting = h.waiting.filter((w) => w.status === 'pending' && !w.overdue);
	if (failed.length > 0)
		out.push(
			`${plural(failed.length, 'held credit release')} failed (${listIds(failed.map((f) => f.returnId))}): lastError says why; once the cause is fixed set ${failed.length === 1 ? 'its' : 'their'} status back to pending in credit reviews.`,
		);
	if (overdue.length > 0)
		out.push(
			`${plural(overdue.length, 'held credit has', 'held credits have')} waited more than ${plural(h.overdueAfterDays, 'day')} for a finance decision (${heldIds(overdue)}): finance, decide ${overdue.length === 1 ? 'it' : 'them'} in credit reviews.`,
		);
	if (waiting.length > 0)
		out.push(
			`${plural(waiting.length, 'held credit waits', 'held credits wait')} for a finance decision (${heldIds(waiting)}): finance, decide ${waiting.length === 1 ? 'it' : 'them'} in credit reviews.`,
		);
	return out;
}
