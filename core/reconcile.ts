/**
 * Daily reconciliation: what ReBound says was processed in a window against
 * what Khaos holds (return import, credit notes `RB-<returnId>`, stock
 * adjustments `RB-<returnId>-<lineId>-move`), per return, plus the
 * open exception queue, the window's notices and the credits held for
 * finance review (./reconcileHeld). Pure: the Khaos node's Return →
 * Reconcile operation gathers the data and calls reconcile(); the renderers
 * live in ./reconcileReport. See docs/reconciliation.md for what every
 * status means.
 */
import {
	exceptionOwner,
	heldAttentionLines,
	reviewFinding,
	reviewsByReturn,
	summariseNotices,
	summariseReviews,
	type HeldCreditSummary,
	type NoticeSummary,
} from './reconcileHeld';
import {
	INBOX_STATUS_TITLES,
	inboxByReturn,
	recordedCreditByReturn,
	releasedExpectedGross,
	type InboxRow,
	type RecordedCredit,
	type UnfinishedInboxStatus,
} from './reconcileInbox';
import {
	readReconcileInput,
	type ExceptionRow,
	type ExpectedReturn,
	type KhaosAdjustment,
	type KhaosCreditNote,
	type KhaosHolding,
	type RawReconcileInput,
	type ReconcileIssue,
	type ReconcileWindow,
	type ReturnWithMapping,
	type ReviewRow,
	type WindowRange,
} from './reconcileInput';
import type { NormalisedReturn } from './returnModel';
import type { DataTableStorage } from './dataTableStorage';

export * from './reconcileHeld';
export * from './reconcileInbox';
export * from './reconcileInput';
export * from './reconcileKhaos';

/**
 * Statuses in precedence order: a return gets the first that applies.
 * Integrity problems (money or stock wrong) come before "not finished yet".
 */
export const RECONCILE_STATUSES = [
	'duplicate_credit',
	'over_moved',
	'stock_pending',
	'value_mismatch',
	'exception',
	'credit_pending',
	'pending',
	'complete',
] as const;
export type ReconcileStatus = (typeof RECONCILE_STATUSES)[number];

/**
 * Statuses counted in `stuck` (by age, once past options.stuckAfterHours): every status but
 * complete. A duplicate credit or an over-move is not "waiting", but it is not done either.
 */
export const STUCK_STATUSES: ReadonlySet<ReconcileStatus> = new Set(
	RECONCILE_STATUSES.filter((s) => s !== 'complete'),
);

/** Statuses where money or stock is wrong, not just late: the summary line says ACTION NEEDED. */
export const SERIOUS_STATUSES: ReadonlySet<ReconcileStatus> = new Set([
	'duplicate_credit',
	'over_moved',
	'stock_pending',
	'value_mismatch',
]);

export const STATUS_TITLES: Record<ReconcileStatus, string> = {
	duplicate_credit: 'Duplicate credit',
	over_moved: 'Stock over-moved',
	stock_pending: 'Stock pending (credited first)',
	value_mismatch: 'Credit value mismatch',
	exception: 'Open exception',
	credit_pending: 'Credit pending',
	pending: 'Pending',
	complete: 'Complete',
};

export const AGE_BUCKETS = ['<24h', '1-3d', '3-7d', '>7d'] as const;
export type AgeBucket = (typeof AGE_BUCKETS)[number];

const HOUR_MS = 3_600_000;

/** <24 h: under 24 hours; 1-3d: 24 h up to (not incl.) 72 h; 3-7d: 72 h up to 168 h; >7d: 168 h (7 days) or more. Future times count as <24h. */
export function ageBucket(ageHours: number): AgeBucket {
	if (ageHours < 24) return '<24h';
	if (ageHours < 72) return '1-3d';
	if (ageHours < 168) return '3-7d';
	return '>7d';
}

/** Amounts per currency code, in pence (minor units). */
export type MoneyByCurrency = Record<string, number>;

export interface OverMovedLine {
	lineId: string | null;
	sku: string | null;
	/** Units that should have moved (0 when the line needed no move or is not on the return). */
	expected: number;
	moved: number;
	references: string[];
}

export interface PerReturn {
	returnId: string;
	displayId: string | null;
	orderReference: string;
	currency: string;
	status: ReconcileStatus;
	/** Every finding, most serious first; the first explains the status. */
	findings: string[];
	occurredAt: string;
	ageHours: number;
	ageBucket: AgeBucket;
	khaos: {
		imported: boolean;
		returnCode: string | null;
		processed: boolean;
		/** Active (not cancelled) credit notes. */
		creditNotes: Array<{
			orderCode: string | null;
			grossPence: number | null;
			netPence: number;
			currency: string;
			created: string | null;
		}>;
		cancelledCreditNotes: number;
		adjustments: number;
	};
	credit: {
		expected: boolean;
		/** Sum of the active credit notes' gross; null when none or none gave a gross. */
		khaosGrossPence: number | null;
		/** Sum of the active credit notes' items + delivery net; null when none. */
		khaosNetPence: number | null;
		expectedGrossPence: number | null;
		expectedNetPence: number | null;
		/** Where the expected credit came from: the expected input, a released credit review, or none. */
		expectedSource: 'expected' | 'credit_review' | 'credit_step' | null;
		/** Where the credit note's gross came from: Khaos, the gross the release recorded (credit review), or none. */
		khaosGrossSource: 'khaos' | 'credit_review' | 'credit_step' | null;
		refundPence: number | null;
		tolerancePence: number;
	};
	stock: {
		/** Line ids that needed a stock move. */
		expectedLineIds: string[];
		/** How the expectation was decided: the expected input, the line mappings, or the assumption (every graded line moves). */
		expectationSource: 'expected' | 'mapping' | 'assumed';
		movedLineIds: string[];
		missingLineIds: string[];
		overMoved: OverMovedLine[];
		unitsReturned: number;
		unitsMoved: number;
	};
	openExceptions: Array<{ key: string; kind: string; owner: string }>;
	/** Where the return came from: ReBound's returns of the window, or an unfinished inbox row (any age). */
	source: 'rebound' | 'inbox';
	/** The return's unfinished inbox row (queued … exception), when it has one. */
	inbox: {
		status: string;
		title: string;
		receivedAt: string | null;
		lastError: string | null;
	} | null;
	/** The team that acts on it (null when complete): see docs/reconciliation.md, Statuses. */
	owner: string | null;
	/** The value counted in valuesByStatus: the Khaos credit gross, else the expected gross, else the refund, else 0. */
	valuePence: number;
	valueSource: 'khaos_credit' | 'expected_credit' | 'refund' | 'none';
}

export type MismatchKind = 'credit_vs_expected' | 'refund_vs_credit' | 'currency';

export interface Mismatch {
	returnId: string;
	kind: MismatchKind;
	/** 'gross' or 'net': which values were compared. */
	basis: 'gross' | 'net' | null;
	currency: string;
	expectedPence: number | null;
	actualPence: number | null;
	/** actual − expected (for refund_vs_credit: refund − credit). */
	differencePence: number | null;
	tolerancePence: number;
	message: string;
}

export interface OpenExceptionSummary {
	total: number;
	byKind: Record<string, number>;
	byOwner: Record<string, number>;
	byAgeBucket: Record<AgeBucket, number>;
	oldest: {
		key: string;
		kind: string;
		owner: string;
		returnId: string | null;
		sku: string | null;
		firstSeen: string | null;
		ageHours: number | null;
		message: string;
	} | null;
	/** Open rows whose first-seen date could not be read (not in any age bucket). */
	undated: number;
}

export interface ReconcileReport {
	title: string | null;
	window: ReconcileWindow;
	generatedAt: string;
	tolerancePencePerLine: number;
	/** Hours past the final state before a return that is not complete counts as stuck (0: at once). */
	stuckAfterHours: number;
	perReturn: PerReturn[];
	summary: {
		countsByStatus: Record<ReconcileStatus, number>;
		valuesByStatus: Record<ReconcileStatus, MoneyByCurrency>;
		totals: {
			returns: number;
			complete: number;
			needsAttention: number;
			unitsReturned: number;
			unitsMoved: number;
			creditNotes: number;
			adjustments: number;
			/** Sum of the active Khaos credit notes' gross per currency. */
			khaosCreditGross: MoneyByCurrency;
			/** Sum of the active Khaos credit notes' net (items + delivery) per currency. */
			khaosCreditNet: MoneyByCurrency;
			/**
			 * Active credit notes with no gross (the order-status look-up gives net only). A return
			 * with any such note is left out of khaosCreditGross; the renderers then show net.
			 */
			creditNotesWithoutGross: number;
			/** Sum of the expected credit gross per currency (returns with an expected value). */
			expectedCreditGross: MoneyByCurrency;
			/** Sum of the refunds ReBound reports per currency. */
			refund: MoneyByCurrency;
			mismatches: number;
			openExceptions: number;
			/** Returns brought in by an unfinished inbox row (not among ReBound's returns of the window). */
			fromInbox: number;
		};
		/** Returns not complete, per owning team. */
		notCompleteByOwner: Record<string, { count: number; returnIds: string[] }>;
	};
	/** Returns not complete and at least stuckAfterHours old, by age since event.occurredAt. */
	stuck: { buckets: Record<AgeBucket, { count: number; returnIds: string[] }> };
	mismatches: Mismatch[];
	openExceptions: OpenExceptionSummary;
	/** The instants Notices and decided reviews are taken from (from inclusive, to exclusive). */
	windowRange: WindowRange;
	/** Notice rows (never blocking, never a problem) seen in the window. */
	notices: NoticeSummary;
	/** Credits held for finance review: pending and failed whatever their age, decided in the window. */
	heldCredits: HeldCreditSummary;
	attention: string[];
	/** Khaos or expected rows whose return is not in the window (ignored). */
	unmatched: { khaos: string[]; expected: string[] };
	/** Returns of unfinished inbox rows whose final state is after the window's end (the cut-off): left for the next report. */
	afterCutOff: string[];
	/** Input rows that could not be read (left out of the report); the renderers list them. */
	issues: ReconcileIssue[];
	/** How full n8n's Data Tables are (an estimate); absent when the storage measures were not passed. */
	storage?: StorageSection;
}

/** The report's Data Table storage: the estimate, or why there is none. */
export interface StorageSection {
	usage: DataTableStorage | null;
	/** Why the measures could not be used (usage null). */
	problem: string | null;
	/** The report's line (used, limit, percent, rows), or why there is no estimate. */
	line: string;
	/** The warning from 80 % (what it means, what to do); null below. */
	warning: string | null;
}

export interface ReconcileResult {
	report: ReconcileReport;
	/** Input rows that could not be read (left out of the report). */
	issues: ReconcileIssue[];
}

// ---------------------------------------------------------------------------

function emptyStatusRecord<T>(make: () => T): Record<ReconcileStatus, T> {
	const out = {} as Record<ReconcileStatus, T>;
	for (const s of RECONCILE_STATUSES) out[s] = make();
	return out;
}

function addMoney(target: MoneyByCurrency, currency: string, pence: number): void {
	target[currency] = (target[currency] ?? 0) + pence;
}

const ownerOf = exceptionOwner;

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

/** One Khaos record per return: several rows for the same return are merged (credit notes told apart by order code, adjustments by id). */
function mergeHoldings(rows: KhaosHolding[]): Map<string, KhaosHolding> {
	const out = new Map<string, KhaosHolding>();
	for (const h of rows) {
		const prev = out.get(h.returnId);
		if (!prev) {
			out.set(h.returnId, {
				...h,
				creditNotes: [...h.creditNotes],
				adjustments: [...h.adjustments],
			});
			continue;
		}
		prev.returnCode = prev.returnCode ?? h.returnCode;
		prev.imported = prev.imported || h.imported;
		prev.processed = prev.processed || h.processed;
		for (const note of h.creditNotes) {
			if (note.orderCode !== null && prev.creditNotes.some((n) => n.orderCode === note.orderCode))
				continue;
			prev.creditNotes.push(note);
		}
		for (const adj of h.adjustments) {
			if (adj.id !== null && prev.adjustments.some((a) => a.id === adj.id)) continue;
			prev.adjustments.push(adj);
		}
	}
	return out;
}

/** Keep the latest event per return id (highest sequence, then latest occurredAt). */
function latestReturns(rows: ReturnWithMapping[]): ReturnWithMapping[] {
	const byId = new Map<string, ReturnWithMapping>();
	for (const r of rows) {
		const prev = byId.get(r.ret.returnId);
		if (
			!prev ||
			r.ret.event.sequence > prev.ret.event.sequence ||
			(r.ret.event.sequence === prev.ret.event.sequence &&
				(Date.parse(r.ret.event.occurredAt) > Date.parse(prev.ret.event.occurredAt) ||
					(Date.parse(r.ret.event.occurredAt) === Date.parse(prev.ret.event.occurredAt) &&
						r.mappings.size > prev.mappings.size)))
		) {
			byId.set(r.ret.returnId, r);
		}
	}
	return [...byId.values()];
}

/** Which line each adjustment belongs to: the longest line id with `RB-<returnId>-<lineId>-` as a prefix of its reference. */
function assignAdjustments(
	ret: NormalisedReturn,
	adjustments: KhaosAdjustment[],
): { byLine: Map<string, KhaosAdjustment[]>; unassigned: KhaosAdjustment[] } {
	const byLine = new Map<string, KhaosAdjustment[]>();
	const unassigned: KhaosAdjustment[] = [];
	const lineIds = ret.lines.map((l) => l.lineId).sort((a, b) => b.length - a.length);
	for (const adj of adjustments) {
		const lineId = lineIds.find((id) => adj.reference.startsWith(`RB-${ret.returnId}-${id}-`));
		if (lineId === undefined) {
			unassigned.push(adj);
			continue;
		}
		const list = byLine.get(lineId) ?? [];
		list.push(adj);
		byLine.set(lineId, list);
	}
	return { byLine, unassigned };
}

function expectedMoves(
	r: ReturnWithMapping,
	expected: ExpectedReturn | undefined,
): { lineIds: Set<string>; source: PerReturn['stock']['expectationSource'] } {
	if (expected?.moveLineIds !== undefined)
		return { lineIds: new Set(expected.moveLineIds), source: 'expected' };
	const lineIds = new Set<string>();
	const allMapped = r.ret.lines.every((l) => r.mappings.has(l.lineId));
	if (allMapped) {
		for (const line of r.ret.lines) {
			const m = r.mappings.get(line.lineId);
			if (!m) continue;
			const moves =
				m.action === 'restock' ||
				m.action === 'quarantine' ||
				(m.action === 'write_off' && !!m.siteId && !!m.locationId);
			if (moves) lineIds.add(line.lineId);
		}
		return { lineIds, source: 'mapping' };
	}
	for (const line of r.ret.lines) if (line.disposition !== null) lineIds.add(line.lineId);
	return { lineIds, source: 'assumed' };
}

/** "£1,234.56" for GBP (€ EUR, $ USD), "1,234.56 SEK" for other codes; minus sign first. */
function money(pence: number, currency: string): string {
	const symbols: Record<string, string> = { GBP: '£', EUR: '€', USD: '$' };
	const sign = pence < 0 ? '-' : '';
	const abs = Math.abs(pence);
	const amount = `${String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${String(abs % 100).padStart(2, '0')}`;
	return symbols[currency]
		? `${sign}${symbols[currency]}${amount}`
		: `${sign}${amount} ${currency}`;
}

interface Ctx {
	nowMs: number;
	tolerancePerLine: number;
	openByReturn: Map<string, ExceptionRow[]>;
	/** The credit review that settles each return's credit (core/reconcileHeld reviewsByReturn). */
	reviewByReturn: Map<string, ReviewRow>;
	/** Each return's latest unfinished inbox row. */
	inboxByReturn: Map<string, InboxRow>;
	/** Return ids that only an inbox row brought in. */
	fromInbox: Set<string>;
	/** The credit the credit step recorded on each return's latest `done` inbox row. */
	recordedCredits: Map<string, RecordedCredit>;
	/** `exchange_recorded|<return>|<line>` of every line the credit step recorded as an exchange. */
	exchangeLines: Set<string>;
}

/**
 * A released review's recorded gross for the one credit note it raised, when Khaos gave none
 * (its order-status look-up gives net only). Cancelled notes and duplicates are left as they are.
 */
function withReviewGross(
	notes: KhaosCreditNote[],
	review: ReviewRow | undefined,
): KhaosCreditNote[] {
	if (!review || review.status !== 'released' || review.creditGrossPence === null) return notes;
	const active = notes.filter((n) => !n.cancelled && (n.orderType === null || n.orderType === 2));
	if (active.length !== 1 || active[0].grossPence !== null) return notes;
	const ref = review.creditNoteRef?.toUpperCase() ?? null;
	const note = active[0];
	if (
		ref !== null &&
		note.associatedRef?.toUpperCase() !== ref &&
		note.orderCode?.toUpperCase() !== ref
	)
		return notes;
	return notes.map((n) => (n === note ? { ...n, grossPence: review.creditGrossPence } : n));
}

/**
 * The gross the credit step recorded for the one credit note it raised, when Khaos gave none and
 * Khaos' net for that note is the net the credit step sent (a note whose net differs keeps no gross:
 * its net is then checked against the recorded net).
 */
function withRecordedGross(
	notes: KhaosCreditNote[],
	recorded: RecordedCredit | undefined,
): KhaosCreditNote[] {
	if (!recorded || recorded.grossPence === null) return notes;
	const active = notes.filter((n) => !n.cancelled && (n.orderType === null || n.orderType === 2));
	if (active.length !== 1 || active[0].grossPence !== null) return notes;
	const note = active[0];
	const ref = recorded.creditNoteRef?.toUpperCase() ?? null;
	if (
		ref !== null &&
		note.associatedRef?.toUpperCase() !== ref &&
		note.orderCode?.toUpperCase() !== ref
	)
		return notes;
	if (note.itemsNetPence + note.deliveryNetPence !== recorded.netPence) return notes;
	return notes.map((n) => (n === note ? { ...n, grossPence: recorded.grossPence } : n));
}

/** The team that acts on a return in this status (docs/reconciliation.md, Statuses); null: complete. */
function ownerOfReturn(
	status: ReconcileStatus,
	open: ExceptionRow[],
	review: ReviewRow | undefined,
	inbox: InboxRow | undefined,
): string | null {
	switch (status) {
		case 'duplicate_credit':
		case 'value_mismatch':
			return 'finance';
		case 'over_moved':
			return 'ops';
		case 'stock_pending':
		case 'pending':
			return 'tech';
		case 'exception':
			return open.length > 0 ? ownerOf(open[0]) : 'tech';
		case 'credit_pending':
			return review || inbox?.status === 'credit_queued' || inbox?.status === 'credit_review'
				? 'finance'
				: 'tech';
		default:
			return null;
	}
}

function reconcileOne(
	r: ReturnWithMapping,
	holding: KhaosHolding | undefined,
	expected: ExpectedReturn | undefined,
	ctx: Ctx,
	mismatches: Mismatch[],
): PerReturn {
	const ret = r.ret;
	const cur = ret.currency;
	const occurredMs = Date.parse(ret.event.occurredAt);
	const ageHours = Math.round(((ctx.nowMs - occurredMs) / HOUR_MS) * 100) / 100;
	const review = ctx.reviewByReturn.get(ret.returnId);
	const khaosNotes: KhaosCreditNote[] = holding?.creditNotes ?? [];
	// the credit step's recorded values count only where no expected row and no released review speak
	const recorded =
		expected || releasedExpectedGross(review) !== null
			? undefined
			: ctx.recordedCredits.get(ret.returnId);
	const notes = withRecordedGross(withReviewGross(khaosNotes, review), recorded);
	const active = notes.filter((n) => !n.cancelled && (n.orderType === null || n.orderType === 2));
	const adjustments = holding?.adjustments ?? [];

	// --- stock
	const { lineIds: expectedIds, source } = expectedMoves(r, expected);
	const { byLine, unassigned } = assignAdjustments(ret, adjustments);
	const movedLineIds: string[] = [];
	const missing: string[] = [];
	const overMoved: OverMovedLine[] = [];
	let unitsMoved = 0;
	for (const line of ret.lines) {
		const adjs = byLine.get(line.lineId) ?? [];
		const moved = adjs.reduce((sum, a) => sum + a.quantity, 0);
		unitsMoved += moved;
		const needs = expectedIds.has(line.lineId);
		const expectedQty = needs ? line.quantity : 0;
		if (adjs.length > 0) movedLineIds.push(line.lineId);
		if (needs && adjs.length === 0) missing.push(line.lineId);
		if (moved > expectedQty)
			overMoved.push({
				lineId: line.lineId,
				sku: line.sku,
				expected: expectedQty,
				moved,
				references: adjs.map((a) => a.reference),
			});
	}
	for (const adj of unassigned) {
		// a reference that is not this return's (no `RB-<returnId>-` prefix) was gathered by mistake: not counted
		if (!adj.reference.startsWith(`RB-${ret.returnId}-`)) continue;
		unitsMoved += adj.quantity;
		if (adj.quantity > 0)
			overMoved.push({
				lineId: null,
				sku: adj.stockCode,
				expected: 0,
				moved: adj.quantity,
				references: [adj.reference],
			});
	}
	const unitsReturned = ret.lines.reduce((s, l) => s + l.quantity, 0);

	// --- credit (a held credit finance rejected is not expected any more; nor one for a line no credit
	// note takes: an exchange or no_credit by the mapping the return carries, or a line the credit
	// step recorded as an exchange; the ReBound action alone does not say, the client's rules do)
	const uncredited = ret.lines
		.filter((l) => {
			const c = r.mappings.get(l.lineId)?.credit;
			return (
				c === 'exchange' ||
				c === 'no_credit' ||
				ctx.exchangeLines.has(`exchange_recorded|${ret.returnId}|${l.lineId}`)
			);
		})
		.map((l) => l.lineId);
	const creditExpected =
		review?.status === 'rejected'
			? false
			: expected
				? expected.creditExpected
				: ret.lines.some((l) => l.disposition !== null && !uncredited.includes(l.lineId));
	const lineCount = expected?.creditLineCount ?? ret.lines.length - uncredited.length;
	const tolerance = ctx.tolerancePerLine * Math.max(1, lineCount);
	const khaosNet = active.length
		? active.reduce((s, n) => s + n.itemsNetPence + n.deliveryNetPence, 0)
		: null;
	const withGross = active.filter((n) => n.grossPence !== null);
	const khaosGross =
		active.length && withGross.length === active.length
			? withGross.reduce((s, n) => s + (n.grossPence as number), 0)
			: null;
	const reviewGross = expected ? null : releasedExpectedGross(review);
	const expGross = expected?.creditGrossPence ?? reviewGross ?? recorded?.grossPence ?? null;
	const expNet = expected?.creditNetPence ?? recorded?.netPence ?? null;
	const findings: string[] = [];
	const rowMismatches: Mismatch[] = [];

	for (const n of active) {
		if (n.currency !== cur) {
			rowMismatches.push({
				returnId: ret.returnId,
				kind: 'currency',
				basis: null,
				currency: cur,
				expectedPence: null,
				actualPence: null,
				differencePence: null,
				tolerancePence: tolerance,
				message: `Credit note ${n.orderCode ?? '(no code)'} is in ${n.currency} but the return is in ${cur}.`,
			});
		}
	}

	let valueMismatch = false;
	if (active.length === 1) {
		const note = active[0];
		const noteGross = note.grossPence;
		let basis: 'gross' | 'net' | null = null;
		let exp: number | null = null;
		let act: number | null = null;
		if (expGross !== null && noteGross !== null) {
			basis = 'gross';
			exp = expGross;
			act = noteGross;
		} else if (expNet !== null) {
			basis = 'net';
			exp = expNet;
			act = note.itemsNetPence + note.deliveryNetPence;
		}
		if (basis && exp !== null && act !== null && Math.abs(act - exp) > tolerance) {
			valueMismatch = true;
			rowMismatches.push({
				returnId: ret.returnId,
				kind: 'credit_vs_expected',
				basis,
				currency: cur,
				expectedPence: exp,
				actualPence: act,
				differencePence: act - exp,
				tolerancePence: tolerance,
				message:
					`Credit note ${note.orderCode ?? ''} ${basis} ${money(act, cur)} differs from the expected ${money(exp, cur)} by ${money(act - exp, cur)} (tolerance ${money(tolerance, cur)}).`.replace(
						'  ',
						' ',
					),
			});
		}
	}

	// refund (ReBound) vs credit gross (Khaos, else expected)
	const creditGrossForRefund = khaosGross ?? expGross;
	if (
		ret.refundPence !== null &&
		creditGrossForRefund !== null &&
		Math.abs(ret.refundPence - creditGrossForRefund) > tolerance
	) {
		const which =
			khaosGross === null
				? 'the expected credit is'
				: active.length > 1
					? `the ${active.length} Khaos credit notes total`
					: 'the Khaos credit note is';
		rowMismatches.push({
			returnId: ret.returnId,
			kind: 'refund_vs_credit',
			basis: 'gross',
			currency: cur,
			expectedPence: creditGrossForRefund,
			actualPence: ret.refundPence,
			differencePence: ret.refundPence - creditGrossForRefund,
			tolerancePence: tolerance,
			message: `ReBound refunded ${money(ret.refundPence, cur)} but ${which} ${money(creditGrossForRefund, cur)} gross (difference ${money(ret.refundPence - creditGrossForRefund, cur)}, tolerance ${money(tolerance, cur)}).`,
		});
	}
	mismatches.push(...rowMismatches);

	// --- status, in precedence order
	const open = ctx.openByReturn.get(ret.returnId) ?? [];
	const anyKhaos = (holding?.imported ?? false) || active.length > 0 || adjustments.length > 0;
	const hasCredit = active.length > 0;
	const stockDone = missing.length === 0;
	const creditDone = !creditExpected || hasCredit;
	const finished = stockDone && creditDone;

	if (active.length > 1)
		findings.push(
			`${active.length} credit notes in Khaos for one return (${active.map((n) => n.orderCode ?? '(no code)').join(', ')}): the customer may have been credited twice.`,
		);
	for (const o of overMoved) {
		findings.push(
			o.lineId === null
				? `Stock adjustment ${o.references.join(', ')} (${o.moved} units) does not match any line of the return.`
				: `Line ${o.lineId} (${o.sku}) moved ${o.moved} units where ${o.expected} should have moved (${o.references.join(', ')}).`,
		);
	}
	if (hasCredit && !stockDone)
		findings.push(
			`Credited before the stock moved: no stock adjustment for ${plural(missing.length, 'line')} (${listIds(missing)}).`,
		);
	for (const m of rowMismatches) if (m.kind === 'credit_vs_expected') findings.push(m.message);
	if (!finished && open.length > 0)
		findings.push(
			`Waiting on ${plural(open.length, 'open exception')}: ${open.map((o) => `${o.kind} (${ownerOf(o)})`).join(', ')}.`,
		);
	// a held credit's review says why the credit is not there yet (or that none is expected)
	const reviewSays = review ? reviewFinding(review, hasCredit, ctx.nowMs) : null;
	if (reviewSays) findings.push(reviewSays);
	if (creditExpected && !hasCredit && anyKhaos) {
		findings.push(
			stockDone
				? 'Stock moved; no credit note yet.'
				: `No credit note yet and ${plural(missing.length, 'stock move')} still missing (${listIds(missing)}).`,
		);
	}
	if (!anyKhaos && !finished) findings.push('Nothing in Khaos yet for this return.');
	if (anyKhaos && !finished && !(creditExpected && !hasCredit) && !(hasCredit && !stockDone)) {
		findings.push(`${plural(missing.length, 'stock move')} still missing (${listIds(missing)}).`);
	}
	for (const m of rowMismatches) if (m.kind !== 'credit_vs_expected') findings.push(m.message);
	if (finished && open.length > 0)
		findings.push(
			`Complete in Khaos but ${plural(open.length, 'exception')} still open (${open.map((o) => o.key).join(', ')}): resolve ${open.length === 1 ? 'it' : 'them'}.`,
		);

	const inbox = ctx.inboxByReturn.get(ret.returnId);
	if (inbox && !finished) {
		const title = INBOX_STATUS_TITLES[inbox.status as UnfinishedInboxStatus] ?? inbox.status;
		findings.push(
			`The inbox holds it as ${inbox.status} (${title})${inbox.lastError ? `: ${inbox.lastError}` : ''}.`,
		);
	}

	let status: ReconcileStatus;
	if (active.length > 1) status = 'duplicate_credit';
	else if (overMoved.length > 0) status = 'over_moved';
	else if (hasCredit && !stockDone) status = 'stock_pending';
	else if (valueMismatch) status = 'value_mismatch';
	else if (!finished && open.length > 0) status = 'exception';
	else if (!finished && anyKhaos && creditExpected && !hasCredit) status = 'credit_pending';
	else if (!finished) status = 'pending';
	else status = 'complete';
	if (status === 'complete' && findings.length === 0)
		findings.push(
			!creditExpected && !hasCredit && uncredited.length > 0
				? `Stock moved; no credit note expected: every line is an exchange or not credited (${listIds(uncredited)}).`
				: 'Stock moved and credit note raised as expected.',
		);

	let valuePence = 0;
	let valueSource: PerReturn['valueSource'] = 'none';
	if (khaosGross !== null) {
		valuePence = khaosGross;
		valueSource = 'khaos_credit';
	} else if (expGross !== null) {
		valuePence = expGross;
		valueSource = 'expected_credit';
	} else if (ret.refundPence !== null) {
		valuePence = ret.refundPence;
		valueSource = 'refund';
	}

	return {
		returnId: ret.returnId,
		displayId: ret.displayId,
		orderReference: ret.orderReference,
		currency: cur,
		status,
		findings,
		occurredAt: ret.event.occurredAt,
		ageHours,
		ageBucket: ageBucket(ageHours),
		khaos: {
			imported: holding?.imported ?? false,
			returnCode: holding?.returnCode ?? null,
			processed: holding?.processed ?? false,
			creditNotes: active.map((n) => ({
				orderCode: n.orderCode,
				grossPence: n.grossPence,
				netPence: n.itemsNetPence + n.deliveryNetPence,
				currency: n.currency,
				created: n.created,
			})),
			cancelledCreditNotes: notes.filter(
				(n) => n.cancelled && (n.orderType === null || n.orderType === 2),
			).length,
			adjustments: adjustments.length,
		},
		credit: {
			expected: creditExpected,
			khaosGrossPence: khaosGross,
			khaosNetPence: khaosNet,
			expectedGrossPence: expGross,
			expectedNetPence: expNet,
			expectedSource: expected
				? 'expected'
				: reviewGross !== null
					? 'credit_review'
					: recorded
						? 'credit_step'
						: null,
			khaosGrossSource:
				khaosGross === null
					? null
					: khaosNotes
								.filter((n) => !n.cancelled && (n.orderType === null || n.orderType === 2))
								.every((n) => n.grossPence !== null)
						? 'khaos'
						: recorded
							? 'credit_step'
							: 'credit_review',
			refundPence: ret.refundPence,
			tolerancePence: tolerance,
		},
		stock: {
			expectedLineIds: ret.lines.filter((l) => expectedIds.has(l.lineId)).map((l) => l.lineId),
			expectationSource: source,
			movedLineIds,
			missingLineIds: missing,
			overMoved,
			unitsReturned,
			unitsMoved,
		},
		openExceptions: open.map((o) => ({ key: o.key, kind: o.kind, owner: ownerOf(o) })),
		source: ctx.fromInbox.has(ret.returnId) ? 'inbox' : 'rebound',
		inbox: inbox
			? {
					status: inbox.status,
					title: INBOX_STATUS_TITLES[inbox.status as UnfinishedInboxStatus] ?? inbox.status,
					receivedAt: inbox.receivedAt,
					lastError: inbox.lastError,
				}
			: null,
		owner: ownerOfReturn(status, open, review, inbox),
		valuePence,
		valueSource,
	};
}

function summariseExceptions(rows: ExceptionRow[], nowMs: number): OpenExceptionSummary {
	const open = rows.filter((r) => r.status === 'open');
	const byKind: Record<string, number> = {};
	const byOwner: Record<string, number> = {};
	const byAgeBucket: Record<AgeBucket, number> = { '<24h': 0, '1-3d': 0, '3-7d': 0, '>7d': 0 };
	let oldest: OpenExceptionSummary['oldest'] = null;
	let oldestMs = Infinity;
	let undated = 0;
	for (const row of open) {
		byKind[row.kind] = (byKind[row.kind] ?? 0) + 1;
		const owner = ownerOf(row);
		byOwner[owner] = (byOwner[owner] ?? 0) + 1;
		const seen = row.firstSeen ?? row.lastSeen;
		if (seen === null) {
			undated++;
			if (oldest === null && oldestMs === Infinity) {
				oldest = {
					key: row.key,
					kind: row.kind,
					owner,
					returnId: row.returnId,
					sku: row.sku,
					firstSeen: null,
					ageHours: null,
					message: row.message,
				};
			}
			continue;
		}
		const seenMs = Date.parse(seen);
		const ageHours = Math.round(((nowMs - seenMs) / HOUR_MS) * 100) / 100;
		byAgeBucket[ageBucket(ageHours)]++;
		if (seenMs < oldestMs) {
			oldestMs = seenMs;
			oldest = {
				key: row.key,
				kind: row.kind,
				owner,
				returnId: row.returnId,
				sku: row.sku,
				firstSeen: seen,
				ageHours,
				message: row.message,
			};
		}
	}
	return { total: open.length, byKind, byOwner, byAgeBucket, oldest, undated };
}

function formatMoneyMap(m: MoneyByCurrency): string {
	const parts = Object.entries(m).map(([c, p]) => money(p, c));
	return parts.length ? parts.join(' + ') : money(0, 'GBP');
}

function attentionLines(report: Omit<ReconcileReport, 'attention'>): string[] {
	const issues = report.issues;
	const out: string[] = [];
	const ids = (s: ReconcileStatus) =>
		report.perReturn.filter((p) => p.status === s).map((p) => p.returnId);
	const counts = report.summary.countsByStatus;
	const values = report.summary.valuesByStatus;

	if (issues.length > 0) {
		const rows = new Set(issues.map((i) => `${i.input}[${i.index}]`));
		const first = issues[0];
		out.push(
			`${plural(rows.size, 'input row')} could not be read and ${rows.size === 1 ? 'is' : 'are'} left out of this report (first: ${first.input}${first.index >= 0 ? `[${first.index}]` : ''}.${first.field}: ${first.message}).`,
		);
	}
	if (counts.duplicate_credit > 0) {
		out.push(
			`${plural(counts.duplicate_credit, 'return has', 'returns have')} more than one credit note in Khaos (${listIds(ids('duplicate_credit'))}, ${formatMoneyMap(values.duplicate_credit)} credited): the customer may have been credited twice. Finance: cancel the extra credit note.`,
		);
	}
	if (counts.over_moved > 0) {
		out.push(
			`${plural(counts.over_moved, 'return has', 'returns have')} more stock moved than was returned (${listIds(ids('over_moved'))}): stock is overstated. Operations: count the locations and reverse the extra adjustment.`,
		);
	}
	if (counts.stock_pending > 0) {
		out.push(
			`${plural(counts.stock_pending, 'return was', 'returns were')} credited before the stock moved (${listIds(ids('stock_pending'))}): the sequencing was broken. Tech: find why the stock step failed; operations: move the stock by hand if it stays missing.`,
		);
	}
	if (counts.value_mismatch > 0) {
		out.push(
			`${plural(counts.value_mismatch, 'credit note differs', 'credit notes differ')} from the expected credit beyond tolerance (${listIds(ids('value_mismatch'))}). Finance: check the credit note against the original order.`,
		);
	}
	const refund = report.mismatches.filter((m) => m.kind === 'refund_vs_credit');
	if (refund.length > 0) {
		out.push(
			`${plural(refund.length, 'refund differs', 'refunds differ')} from the credit by more than the tolerance (${listIds(refund.map((m) => m.returnId))}). Finance: check what the customer was refunded.`,
		);
	}
	const currency = report.mismatches.filter((m) => m.kind === 'currency');
	if (currency.length > 0)
		out.push(
			`${plural(currency.length, 'credit note is', 'credit notes are')} in a different currency from the return (${listIds(currency.map((m) => m.returnId))}). Finance: check them.`,
		);
	const b = report.stuck.buckets;
	const stuckSentence = (n: number, age: string) =>
		`${plural(n, 'return is', 'returns are')} still not complete in Khaos after ${age}`;
	if (b['>7d'].count > 0)
		out.push(
			`${stuckSentence(b['>7d'].count, '7 days or more')} (${listIds(b['>7d'].returnIds)}): ${b['>7d'].count === 1 ? 'it' : 'they'} will show as period-end drift.`,
		);
	if (b['3-7d'].count > 0)
		out.push(`${stuckSentence(b['3-7d'].count, '3 to 7 days')} (${listIds(b['3-7d'].returnIds)}).`);
	if (b['1-3d'].count > 0)
		out.push(`${stuckSentence(b['1-3d'].count, '1 to 3 days')} (${listIds(b['1-3d'].returnIds)}).`);
	if (counts.exception > 0)
		out.push(
			`${plural(counts.exception, 'return waits', 'returns wait')} on an open exception (${listIds(ids('exception'))}): work the exception queue, then replay.`,
		);
	const ex = report.openExceptions;
	if (ex.total > 0) {
		const owners = Object.entries(ex.byOwner)
			.sort((a, b2) => b2[1] - a[1])
			.map(([o, n]) => `${o} ${n}`)
			.join(', ');
		const oldest =
			ex.oldest && ex.oldest.ageHours !== null
				? `; the oldest (${ex.oldest.kind}${ex.oldest.returnId ? `, return ${ex.oldest.returnId}` : ''}) is ${ageWords(ex.oldest.ageHours)} old`
				: '';
		out.push(`${plural(ex.total, 'exception is', 'exceptions are')} open (${owners})${oldest}.`);
	}
	const staleOpen = report.perReturn.filter(
		(p) => p.status === 'complete' && p.openExceptions.length > 0,
	);
	if (staleOpen.length > 0)
		out.push(
			`${plural(staleOpen.length, 'return is', 'returns are')} complete in Khaos but still ${staleOpen.length === 1 ? 'has' : 'have'} open exceptions (${listIds(staleOpen.map((p) => p.returnId))}): mark them resolved.`,
		);
	if (report.perReturn.length === 0)
		out.push('No returns were processed in ReBound in this window.');
	else if (counts.complete === report.perReturn.length && out.length === 0) {
		out.push(
			report.perReturn.length === 1
				? 'The 1 return in the window is complete in Khaos.'
				: `All ${report.perReturn.length} returns in the window are complete in Khaos.`,
		);
	}
	// held credits after the returns' sentences (notices are never in this list: they are not problems)
	out.push(...heldAttentionLines(report.heldCredits));
	return out;
}

/**
 * Reconcile a window: one row per return (the latest event per return id),
 * counts and credit values by status, stuck returns by age, value mismatches,
 * the open exception queue and the sentences to read first. Never throws on
 * bad rows: they come back as `issues` and are left out.
 */
export function reconcile(input: RawReconcileInput): ReconcileResult {
	const read = readReconcileInput(input, new Date().toISOString());
	const nowMs = Date.parse(read.options.now);
	const holdings = mergeHoldings(read.khaos);
	const expectedById = new Map<string, ExpectedReturn>();
	for (const e of read.expected) expectedById.set(e.returnId, e);
	const openByReturn = new Map<string, ExceptionRow[]>();
	for (const row of read.exceptions) {
		if (row.status !== 'open' || !row.returnId) continue;
		const list = openByReturn.get(row.returnId) ?? [];
		list.push(row);
		openByReturn.set(row.returnId, list);
	}

	// every unfinished inbox row's return joins ReBound's returns of the window, whatever its age;
	// one whose final state is after the window's end (the cut-off) is left for the next report
	const inReBound = new Set(read.returns.map((r) => r.ret.returnId));
	const cutOffMs = Date.parse(read.windowRange.to);
	const afterCutOff = new Set<string>();
	const fromInbox = new Set<string>();
	const carried: ReturnWithMapping[] = [];
	for (const { ret } of read.inbox) {
		const id = ret.ret.returnId;
		if (!inReBound.has(id) && Date.parse(ret.ret.event.occurredAt) >= cutOffMs) {
			afterCutOff.add(id);
			continue;
		}
		carried.push(ret);
		if (!inReBound.has(id)) fromInbox.add(id);
	}
	for (const id of fromInbox) afterCutOff.delete(id);
	const returns = latestReturns([...read.returns, ...carried]).sort(
		(a, b) =>
			Date.parse(a.ret.event.occurredAt) - Date.parse(b.ret.event.occurredAt) ||
			a.ret.returnId.localeCompare(b.ret.returnId),
	);
	const mismatches: Mismatch[] = [];
	const ctx: Ctx = {
		nowMs,
		tolerancePerLine: read.options.tolerancePencePerLine,
		openByReturn,
		reviewByReturn: reviewsByReturn(read.reviews),
		inboxByReturn: inboxByReturn(read.inbox.map((i) => i.row)),
		fromInbox,
		recordedCredits: recordedCreditByReturn(read.recordedCredits),
		exchangeLines: new Set(
			read.exceptions
				.filter((e) => e.kind === 'exchange_recorded')
				.map((e) => e.key.split('|').slice(0, 3).join('|')),
		),
	};
	const perReturn = returns.map((r) =>
		reconcileOne(
			r,
			holdings.get(r.ret.returnId),
			expectedById.get(r.ret.returnId),
			ctx,
			mismatches,
		),
	);

	const inWindow = new Set(perReturn.map((p) => p.returnId));
	const countsByStatus = emptyStatusRecord(() => 0);
	const valuesByStatus = emptyStatusRecord<MoneyByCurrency>(() => ({}));
	const buckets: Record<AgeBucket, { count: number; returnIds: string[] }> = {
		'<24h': { count: 0, returnIds: [] },
		'1-3d': { count: 0, returnIds: [] },
		'3-7d': { count: 0, returnIds: [] },
		'>7d': { count: 0, returnIds: [] },
	};
	const khaosCreditGross: MoneyByCurrency = {};
	const khaosCreditNet: MoneyByCurrency = {};
	let creditNotesWithoutGross = 0;
	const expectedCreditGross: MoneyByCurrency = {};
	const refund: MoneyByCurrency = {};
	let unitsReturned = 0;
	let unitsMoved = 0;
	let creditNotes = 0;
	let adjustments = 0;
	const notCompleteByOwner: Record<string, { count: number; returnIds: string[] }> = {};
	for (const p of perReturn) {
		countsByStatus[p.status]++;
		if (p.owner !== null) {
			const o = (notCompleteByOwner[p.owner] ??= { count: 0, returnIds: [] });
			o.count++;
			o.returnIds.push(p.returnId);
		}
		addMoney(valuesByStatus[p.status], p.currency, p.valuePence);
		if (STUCK_STATUSES.has(p.status) && Math.max(0, p.ageHours) >= read.options.stuckAfterHours) {
			buckets[p.ageBucket].count++;
			buckets[p.ageBucket].returnIds.push(p.returnId);
		}
		if (p.credit.khaosGrossPence !== null)
			addMoney(khaosCreditGross, p.currency, p.credit.khaosGrossPence);
		if (p.credit.khaosNetPence !== null)
			addMoney(khaosCreditNet, p.currency, p.credit.khaosNetPence);
		creditNotesWithoutGross += p.khaos.creditNotes.filter((n) => n.grossPence === null).length;
		if (p.credit.expectedGrossPence !== null)
			addMoney(expectedCreditGross, p.currency, p.credit.expectedGrossPence);
		if (p.credit.refundPence !== null) addMoney(refund, p.currency, p.credit.refundPence);
		unitsReturned += p.stock.unitsReturned;
		unitsMoved += p.stock.unitsMoved;
		creditNotes += p.khaos.creditNotes.length;
		adjustments += p.khaos.adjustments;
	}
	const openExceptions = summariseExceptions(read.exceptions, nowMs);

	const partial: Omit<ReconcileReport, 'attention'> = {
		title: read.options.title,
		window: read.window,
		generatedAt: new Date(nowMs).toISOString(),
		tolerancePencePerLine: read.options.tolerancePencePerLine,
		stuckAfterHours: read.options.stuckAfterHours,
		perReturn,
		summary: {
			countsByStatus,
			valuesByStatus,
			totals: {
				returns: perReturn.length,
				complete: countsByStatus.complete,
				needsAttention: perReturn.length - countsByStatus.complete,
				unitsReturned,
				unitsMoved,
				creditNotes,
				adjustments,
				khaosCreditGross,
				khaosCreditNet,
				creditNotesWithoutGross,
				expectedCreditGross,
				refund,
				mismatches: mismatches.length,
				openExceptions: openExceptions.total,
				fromInbox: perReturn.filter((p) => p.source === 'inbox').length,
			},
			notCompleteByOwner,
		},
		stuck: { buckets },
		mismatches,
		openExceptions,
		windowRange: read.windowRange,
		notices: summariseNotices(read.exceptions, read.windowRange),
		heldCredits: summariseReviews(
			read.reviews,
			read.windowRange,
			nowMs,
			read.options.reviewOverdueDays,
		),
		unmatched: {
			khaos: [...holdings.keys()].filter((id) => !inWindow.has(id)),
			expected: [...expectedById.keys()].filter((id) => !inWindow.has(id)),
		},
		afterCutOff: [...afterCutOff],
		issues: read.issues,
	};
	return { report: { ...partial, attention: attentionLines(partial) }, issues: read.issues };
}

export { money as formatMoney, formatMoneyMap };
