/**
 * Inputs of the daily reconciliation (core/reconcile.ts): zod schemas that
 * coerce the loose values n8n Data Tables and expressions produce (numbers as
 * strings, booleans as "true"/"-1", arrays as JSON text) and a reader that
 * turns every bad row into an issue naming the input, the row index and the
 * field, never a throw.
 */
import { z } from 'zod';
import { LineMappingSchema, type LineMapping } from './mapping';
import { parseToPence } from './money';
import {
	InboxRowSchema,
	inboxReturn,
	isUnfinishedInboxStatus,
	type InboxRow,
	type RecordedCredit,
} from './reconcileInbox';
import { NormalisedReturnSchema, formatPath, type NormalisedReturn } from './returnModel';

// ---------------------------------------------------------------------------
// Coercion helpers

function isBlank(v: unknown): boolean {
	return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** A text field: numbers and booleans become text; blank → null. */
const optText = z.preprocess(
	(v) => (isBlank(v) ? null : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
	z.string().trim().nullable(),
);
/** A required text field (numbers accepted: a return id may arrive as 1001). */
const reqText = (what: string) =>
	z.preprocess(
		(v) =>
			typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === null ? undefined : v,
		z
			.string({ required_error: `${what} is missing`, invalid_type_error: `${what} must be text` })
			.trim()
			.min(1, `${what} is empty`),
	);

function toNumber(v: unknown): unknown {
	if (typeof v === 'string') {
		const t = v.trim();
		if (/^[-+]?\d+(\.\d+)?$/.test(t)) return Number(t);
	}
	return v;
}

/** Whole pence, from a number or numeric text; blank → null. */
const optPence = z.preprocess(
	(v) => (isBlank(v) ? null : toNumber(v)),
	z
		.number({ invalid_type_error: 'must be a whole number of pence' })
		.int('must be a whole number of pence')
		.nullable(),
);
const pence = (fallback: number) =>
	z.preprocess(
		(v) => (isBlank(v) ? fallback : toNumber(v)),
		z
			.number({ invalid_type_error: 'must be a whole number of pence' })
			.int('must be a whole number of pence'),
	);
const wholeNumber = (what: string) =>
	z.preprocess(
		(v) => (isBlank(v) ? undefined : toNumber(v)),
		z
			.number({
				required_error: `${what} is missing`,
				invalid_type_error: `${what} must be a whole number`,
			})
			.int(`${what} must be a whole number`),
	);

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', '-1', 'on']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', 'off', '']);
/** A boolean from true/false, 1/0/-1 (Khaos uses -1 for true) or their text forms; blank → fallback. */
const bool = (fallback: boolean) =>
	z.preprocess(
		(v) => {
			if (v === undefined || v === null) return fallback;
			if (typeof v === 'number') return v !== 0;
			if (typeof v === 'string') {
				const t = v.trim().toLowerCase();
				if (TRUE_WORDS.has(t)) return true;
				if (FALSE_WORDS.has(t)) return t === '' ? fallback : false;
			}
			return v;
		},
		z.boolean({ invalid_type_error: 'must be true or false' }),
	);

/** A date-time: ISO text, YYYY-MM-DD, epoch milliseconds or a Date; blank → null. Output is ISO 8601. */
const optDate = z.preprocess(
	(v) => {
		if (isBlank(v)) return null;
		if (typeof v === 'number' && Number.isFinite(v)) return new Date(v).toISOString();
		if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString();
		return v;
	},
	z
		.string({ invalid_type_error: 'must be a date-time' })
		.trim()
		.refine((s) => !Number.isNaN(Date.parse(s)), { message: 'is not a valid date-time' })
		.transform((s) => new Date(Date.parse(s)).toISOString())
		.nullable(),
);

const currency = z.preprocess(
	(v) => (isBlank(v) ? 'GBP' : v),
	z
		.string()
		.trim()
		.toUpperCase()
		.regex(/^[A-Z]{3}$/, 'currency must be a 3-letter ISO code'),
);

/** An array that may arrive as JSON text (a Data Table column cannot hold an array); blank → []. */
function jsonArray<T extends z.ZodTypeAny>(item: T) {
	return z.preprocess(
		(v, ctx) => {
			if (isBlank(v)) return [];
			if (typeof v === 'string') {
				try {
					return JSON.parse(v) as unknown;
				} catch {
					ctx.addIssue({
						code: z.ZodIssueCode.custom,
						message: 'is text but not valid JSON (expected a JSON array)',
					});
					return z.NEVER;
				}
			}
			return v;
		},
		z.array(item, { invalid_type_error: 'must be an array' }),
	);
}

/** A list of ids: an array, a JSON array text, or comma-separated text. */
const idList = z.preprocess(
	(v) => {
		if (isBlank(v)) return [];
		if (typeof v === 'string') {
			const t = v.trim();
			if (t.startsWith('[')) {
				try {
					return JSON.parse(t) as unknown;
				} catch {
					return v;
				}
			}
			return t
				.split(',')
				.map((s) => s.trim())
				.filter(Boolean);
		}
		return v;
	},
	z.array(
		z.preprocess(
			(x) => (typeof x === 'number' ? String(x) : x),
			z.string().trim().min(1, 'an id is empty'),
		),
		{ invalid_type_error: 'must be a list of line ids' },
	),
);

// ---------------------------------------------------------------------------
// Khaos holdings per return

/**
 * Other spellings a credit-note row may use, mapped to this schema's names before validation:
 * `netPence` (the note's whole net, taken as items net when itemsNetPence is absent),
 * `createdAt` / `dateCreated` (KhaosOrderStatus) for `created`. Only fills names that are absent.
 */
function creditNoteAliases(v: unknown): unknown {
	const o = parseMaybeJson(v);
	if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
	const r: Record<string, unknown> = { ...(o as Record<string, unknown>) };
	if (r.itemsNetPence === undefined && r.netPence !== undefined) r.itemsNetPence = r.netPence;
	if (r.created === undefined) r.created = r.createdAt ?? r.dateCreated;
	return r;
}

const KhaosCreditNoteObject = z.object({
	/** Khaos order code of the credit note (ORDER_TYPE 2); used to tell two notes apart. */
	orderCode: optText,
	/**
	 * Khaos ORDER_TYPE when the row came from an order-status look-up (1 sales order, 2 credit
	 * note); blank = a credit note. Rows of another type are not credit notes and are ignored.
	 */
	orderType: z.preprocess(
		(v) => (isBlank(v) ? null : toNumber(v)),
		z
			.number({ invalid_type_error: 'orderType must be a whole number' })
			.int('orderType must be a whole number')
			.nullable(),
	),
	/** ASSOCIATED_REF; `RB-<returnId>` for notes the integration created. */
	associatedRef: optText,
	itemsNetPence: pence(0),
	deliveryNetPence: pence(0),
	/** Gross (VAT inclusive) total when known; null when Khaos only gave net values. */
	grossPence: optPence,
	currency,
	created: optDate,
	/** A cancelled credit note does not count (neither as the credit nor as a duplicate). */
	cancelled: bool(false),
});
export const KhaosCreditNoteSchema = z.preprocess(creditNoteAliases, KhaosCreditNoteObject);
export type KhaosCreditNote = z.infer<typeof KhaosCreditNoteObject>;

export const KhaosAdjustmentSchema = z.object({
	/** Optional unique id of the adjustment in Khaos: two rows with the same id are one adjustment listed twice. */
	id: optText,
	/** `RB-<returnId>-<lineId>-move`. */
	reference: reqText('reference'),
	stockCode: optText,
	siteId: optText,
	locationId: optText,
	/** Units moved (the ADJUST_BY). */
	quantity: wholeNumber('quantity'),
});
export type KhaosAdjustment = z.infer<typeof KhaosAdjustmentSchema>;

export const KhaosHoldingSchema = z.object({
	returnId: reqText('returnId'),
	/** Khaos return code of the import (ASSOCIATED_REF `RB-<returnId>`); null when no import exists. */
	returnCode: optText,
	/** Whether the return import exists; defaults to "a return code is known". */
	imported: z.preprocess((v) => (isBlank(v) ? undefined : v), bool(false).optional()),
	processed: bool(false),
	creditNotes: jsonArray(KhaosCreditNoteSchema),
	adjustments: jsonArray(KhaosAdjustmentSchema),
});
export type KhaosHolding = Omit<z.infer<typeof KhaosHoldingSchema>, 'imported'> & {
	imported: boolean;
};

// ---------------------------------------------------------------------------
// Expected outcome per return (optional)

export const ExpectedReturnSchema = z.object({
	returnId: reqText('returnId'),
	/** Line ids that needed a stock move (restock, quarantine, write-off into a location). Absent → derived from the return. */
	moveLineIds: z.preprocess((v) => (v === undefined ? undefined : v), idList.optional()),
	/** Whether a credit note is expected at all (default: yes). */
	creditExpected: bool(true),
	creditGrossPence: optPence,
	creditNetPence: optPence,
	/** Number of credited lines, for the tolerance (default: the return's line count). */
	creditLineCount: z.preprocess(
		(v) => (isBlank(v) ? null : toNumber(v)),
		z.number().int().positive('creditLineCount must be at least 1').nullable(),
	),
});
export type ExpectedReturn = z.infer<typeof ExpectedReturnSchema>;

// ---------------------------------------------------------------------------
// Exception table rows

/** `notice`: recorded, never blocking (core/exceptions NOTICE_KINDS); reported apart from the open rows. */
export const EXCEPTION_ROW_STATUSES = ['open', 'notice', 'resolved', 'ignored'] as const;
export type ExceptionRowStatus = (typeof EXCEPTION_ROW_STATUSES)[number];

export const ExceptionRowSchema = z.object({
	key: reqText('key'),
	kind: reqText('kind'),
	owner: z.preprocess(
		(v) => (isBlank(v) ? null : typeof v === 'string' ? v.trim().toLowerCase() : v),
		z.string().nullable(),
	),
	status: z.preprocess(
		(v) => (isBlank(v) ? 'open' : typeof v === 'string' ? v.trim().toLowerCase() : v),
		z.enum(EXCEPTION_ROW_STATUSES, {
			errorMap: () => ({ message: `status must be one of ${EXCEPTION_ROW_STATUSES.join(', ')}` }),
		}),
	),
	returnId: optText,
	displayId: optText,
	sku: optText,
	message: z.preprocess(
		(v) => (isBlank(v) ? '' : typeof v === 'number' ? String(v) : v),
		z.string(),
	),
	firstSeen: optDate,
	lastSeen: optDate,
	attempts: pence(0).pipe(z.number().nonnegative('attempts cannot be negative')),
});
export type ExceptionRow = z.infer<typeof ExceptionRowSchema>;

// ---------------------------------------------------------------------------
// Credit review rows (held credits waiting for, or decided by, finance)

export const REVIEW_ROW_STATUSES = ['pending', 'released', 'rejected', 'failed'] as const;
export type ReviewRowStatus = (typeof REVIEW_ROW_STATUSES)[number];

/**
 * The Data Table's own columns a review row may carry, used when the row's columns are blank:
 * `createdAt` for `heldAt`, `updatedAt` for `resolvedAt`; the pounds (`gross`, `withoutHeldGross`)
 * for blank pence. Only fills names that are blank.
 */
function reviewAliases(v: unknown): unknown {
	const o = parseMaybeJson(v);
	if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
	const r: Record<string, unknown> = { ...(o as Record<string, unknown>) };
	if (isBlank(r.heldAt) && !isBlank(r.createdAt)) r.heldAt = r.createdAt;
	if (isBlank(r.resolvedAt) && !isBlank(r.updatedAt) && isResolvedStatus(r.status))
		r.resolvedAt = r.updatedAt;
	for (const [pounds, pence] of [
		['gross', 'grossPence'],
		['withoutHeldGross', 'withoutHeldGrossPence'],
	] as const) {
		if (isBlank(r[pence]) && !isBlank(r[pounds])) {
			const p = parseToPence(r[pounds]);
			if (p !== null) r[pence] = p;
		}
	}
	return r;
}

function isResolvedStatus(v: unknown): boolean {
	return typeof v === 'string' && ['released', 'rejected'].includes(v.trim().toLowerCase());
}

/** Lower-case text (decisions, statuses); blank → null. */
const optWord = z.preprocess(
	(v) => (isBlank(v) ? null : typeof v === 'string' ? v.trim().toLowerCase() : v),
	z.string({ invalid_type_error: 'must be text' }).nullable(),
);

/** Pounds as the Data Table stores them ("24.13", 24.13) → pence; blank → null. */
const optPounds = z.preprocess(
	(v) => {
		if (isBlank(v)) return null;
		const p = parseToPence(v);
		return p === null ? v : p;
	},
	z
		.number({ invalid_type_error: 'must be an amount in pounds, e.g. 24.13' })
		.int('must be an amount in pounds, e.g. 24.13')
		.nullable(),
);

/**
 * What the credit step recorded on a `done` inbox row for the credit note it raised: the gross and
 * net it computed from the order and sent to Khaos, and the note's reference (RB-<returnId>).
 */
const recordedPounds = optPounds.refine((v) => v === null || v >= 0, 'cannot be negative');
export const InboxCreditSchema = z.object({
	creditNoteRef: optText,
	creditGross: recordedPounds,
	creditNet: recordedPounds,
});

/** A recorded credits Data Table row (scripts/templates/tables.ts `credits`). */
const RecordedCreditRowSchema = InboxCreditSchema.extend({
	returnId: reqText('returnId'),
	receivedAt: optText,
});

/** A list of held lines: the table stores text ("1 × MUG-WHT (Missing Item); …"); a list is joined. */
const heldLinesText = z.preprocess(
	(v) =>
		Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('; ') : v,
	optText,
);

const ReviewRowObject = z.object({
	/** The Data Table row id. */
	id: optText,
	returnId: reqText('returnId'),
	displayId: optText,
	orderReference: optText,
	currency,
	heldWhy: optText,
	heldLines: heldLinesText,
	/** The credit if released as computed (held lines included). */
	grossPence: optPence,
	/** The credit if released without the held lines; null when there is nothing else to credit. */
	withoutHeldGrossPence: optPence,
	/** release | release_without_held | reject; null while finance has not decided. */
	decision: optWord,
	decidedBy: optText,
	note: optText,
	status: z.preprocess(
		(v) => (isBlank(v) ? 'pending' : typeof v === 'string' ? v.trim().toLowerCase() : v),
		z.enum(REVIEW_ROW_STATUSES, {
			errorMap: () => ({ message: `status must be one of ${REVIEW_ROW_STATUSES.join(', ')}` }),
		}),
	),
	heldAt: optDate,
	resolvedAt: optDate,
	creditNoteRef: optText,
	/** The credit note's gross as the release recorded it, in pounds (read as creditGrossPence). */
	creditGross: optPounds,
	lastError: optText,
});
/** A credit reviews Data Table row (scripts/templates/tables.ts `reviews`); `mapped` is not read. */
export const ReviewRowSchema = z.preprocess(
	reviewAliases,
	ReviewRowObject.transform(({ creditGross, ...row }) => ({
		...row,
		creditGrossPence: creditGross,
	})),
);
export type ReviewRow = z.output<typeof ReviewRowSchema>;

// ---------------------------------------------------------------------------
// Options

export const ReconcileOptionsSchema = z.object({
	/** The clock for ages (ISO); defaults to the time of the call. */
	now: optDate,
	/** Pence of difference allowed per credited line before a value counts as a mismatch. */
	tolerancePencePerLine: pence(1).pipe(
		z.number().nonnegative('tolerancePencePerLine cannot be negative'),
	),
	/** Heading of the rendered report. */
	title: optText,
	/**
	 * A return not complete counts as stuck once it is this many hours past its final state in
	 * ReBound (event.occurredAt). Default 0: every return that is not complete is stuck.
	 */
	stuckAfterHours: z.preprocess(
		(v) => (isBlank(v) ? 0 : toNumber(v)),
		z
			.number({ invalid_type_error: 'stuckAfterHours must be a number of hours' })
			.nonnegative('stuckAfterHours cannot be negative')
			.finite(),
	),
	/** A pending credit review held more than this many days (× 24 hours) is flagged. Default 3. */
	reviewOverdueDays: z.preprocess(
		(v) => (isBlank(v) ? 3 : toNumber(v)),
		z
			.number({ invalid_type_error: 'reviewOverdueDays must be a number of days' })
			.nonnegative('reviewOverdueDays cannot be negative')
			.finite(),
	),
});
export type ReconcileOptions = {
	now: string;
	tolerancePencePerLine: number;
	title: string | null;
	stuckAfterHours: number;
	reviewOverdueDays: number;
};

export const WindowSchema = z.object({ from: optDate, to: optDate });
export type ReconcileWindow = { from: string | null; to: string | null };
/**
 * The instants the report's Notices and decided reviews are taken from: `from` inclusive, `to`
 * exclusive (ISO). A date-only `window.to` counts its whole day (up to the next midnight, UTC);
 * no `window.from`: 24 hours before `to`; no `window.to`: the report's `now`.
 */
export type WindowRange = { from: string; to: string };

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\s*\d{4}-\d{2}-\d{2}\s*$/;

function windowRange(raw: unknown, window: ReconcileWindow, now: string): WindowRange {
	const rawTo = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).to : undefined;
	let toMs = window.to === null ? Date.parse(now) : Date.parse(window.to);
	if (window.to !== null && typeof rawTo === 'string' && DATE_ONLY.test(rawTo)) toMs += DAY_MS;
	const fromMs = window.from === null ? toMs - DAY_MS : Date.parse(window.from);
	return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
}

// ---------------------------------------------------------------------------
// Reading

export type InputName =
	| 'returns'
	| 'khaos'
	| 'expected'
	| 'exceptions'
	| 'reviews'
	| 'inbox'
	| 'credits'
	| 'options'
	| 'window';

export interface ReconcileIssue {
	input: InputName;
	/** 0-based index of the row in its input; -1 for options and window. */
	index: number;
	/** Dotted path inside the row, e.g. `creditNotes[0].grossPence`. */
	field: string;
	message: string;
	/** The row's id, when one could be read (return id, exception key). */
	recordId: string | null;
}

/** A return plus, per line, the mapping the Returns Mapping node attached (when the item came through it). */
export interface ReturnWithMapping {
	ret: NormalisedReturn;
	mappings: Map<string, LineMapping>;
}

export interface ReadInputs {
	returns: ReturnWithMapping[];
	khaos: KhaosHolding[];
	expected: ExpectedReturn[];
	exceptions: ExceptionRow[];
	/** null when no review rows were passed (the report then says held credits were not checked). */
	reviews: ReviewRow[] | null;
	/** The unfinished inbox rows and the return each carries. */
	inbox: Array<{ row: InboxRow; ret: ReturnWithMapping }>;
	/** What the credit step recorded on `done` rows: the credit it computed and sent. */
	recordedCredits: RecordedCredit[];
	options: ReconcileOptions;
	window: ReconcileWindow;
	windowRange: WindowRange;
	issues: ReconcileIssue[];
}

function idOf(row: unknown): string | null {
	if (row && typeof row === 'object') {
		const o = row as Record<string, unknown>;
		const id = o.returnId ?? o.key;
		if (typeof id === 'string' || typeof id === 'number') return String(id);
	}
	return null;
}

function parseMaybeJson(v: unknown): unknown {
	if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
		try {
			return JSON.parse(v) as unknown;
		} catch {
			return v;
		}
	}
	return v;
}

/** Loosen a return row: JSON text, numbers as text in the numeric fields. */
function loosenReturn(raw: unknown): unknown {
	const v = parseMaybeJson(raw);
	if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
	const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
	if (typeof o.returnId === 'number') o.returnId = String(o.returnId);
	if (typeof o.refundPence === 'string')
		o.refundPence = o.refundPence.trim() === '' ? null : toNumber(o.refundPence);
	if (typeof o.schemaVersion === 'string') o.schemaVersion = toNumber(o.schemaVersion);
	const event = parseMaybeJson(o.event);
	if (event && typeof event === 'object' && !Array.isArray(event)) {
		const e = { ...(event as Record<string, unknown>) };
		if (typeof e.sequence === 'string') e.sequence = toNumber(e.sequence);
		o.event = e;
	}
	const lines = parseMaybeJson(o.lines);
	if (Array.isArray(lines)) {
		o.lines = lines.map((line: unknown) => {
			if (!line || typeof line !== 'object') return line;
			const l = { ...(line as Record<string, unknown>) };
			if (typeof l.quantity === 'string') l.quantity = toNumber(l.quantity);
			if (typeof l.unitPricePence === 'string')
				l.unitPricePence = l.unitPricePence.trim() === '' ? null : toNumber(l.unitPricePence);
			return l;
		});
	} else if (lines !== undefined) {
		o.lines = lines;
	}
	return o;
}

function asArray(value: unknown, input: InputName, issues: ReconcileIssue[]): unknown[] {
	const v = parseMaybeJson(value);
	if (v === undefined || v === null || v === '') return [];
	if (Array.isArray(v)) return v;
	issues.push({
		input,
		index: -1,
		field: '(root)',
		message: `${input} must be a list of rows`,
		recordId: null,
	});
	return [];
}

function pushZodIssues(
	issues: ReconcileIssue[],
	input: InputName,
	index: number,
	recordId: string | null,
	error: z.ZodError,
	prefix: Array<string | number> = [],
): void {
	for (const issue of error.issues) {
		issues.push({
			input,
			index,
			field: formatPath([...prefix, ...issue.path]),
			message: issue.message,
			recordId,
		});
	}
}

function readRows<S extends z.ZodTypeAny>(
	schema: S,
	rows: unknown[],
	input: InputName,
	issues: ReconcileIssue[],
): Array<z.infer<S>> {
	const out: Array<z.infer<S>> = [];
	rows.forEach((row, index) => {
		const parsed = schema.safeParse(parseMaybeJson(row));
		if (parsed.success) out.push(parsed.data);
		else pushZodIssues(issues, input, index, idOf(row), parsed.error);
	});
	return out;
}

export interface RawReconcileInput {
	returns?: unknown;
	khaos?: unknown;
	expected?: unknown;
	exceptions?: unknown;
	/** Rows of the credit reviews Data Table; absent (undefined or null): held credits not checked. */
	reviews?: unknown;
	/** Rows of the inbox Data Table: those not in a final state bring their returns, whatever their age. */
	inbox?: unknown;
	/**
	 * Rows of the recorded credits Data Table (the credit steps': returnId, receivedAt,
	 * creditNoteRef, creditGross, creditNet): each return's latest is its expected credit, as a
	 * `done` inbox row's values are.
	 */
	credits?: unknown;
	window?: unknown;
	options?: unknown;
}

/** One return row (a ReBound return, or the return an inbox row carries), with its line mappings. */
function readReturn(
	row: unknown,
	input: InputName,
	index: number,
	prefix: string[],
	issues: ReconcileIssue[],
): ReturnWithMapping | null {
	const loose = loosenReturn(row);
	const parsed = NormalisedReturnSchema.safeParse(loose);
	if (!parsed.success) {
		pushZodIssues(issues, input, index, idOf(loose), parsed.error, prefix);
		return null;
	}
	const mappings = new Map<string, LineMapping>();
	const rawLines = (loose as { lines?: unknown[] }).lines ?? [];
	rawLines.forEach((line, lineIndex) => {
		const m =
			line && typeof line === 'object' ? (line as { mapping?: unknown }).mapping : undefined;
		if (m === undefined || m === null) return;
		const pm = LineMappingSchema.safeParse(parseMaybeJson(m));
		const lineId = parsed.data.lines[lineIndex]?.lineId;
		if (pm.success && lineId) mappings.set(lineId, pm.data);
		else if (!pm.success) {
			for (const issue of pm.error.issues) {
				issues.push({
					input,
					index,
					field: formatPath([...prefix, 'lines', lineIndex, 'mapping', ...issue.path]),
					message: `${issue.message} (mapping ignored: the line is treated as unmapped)`,
					recordId: parsed.data.returnId,
				});
			}
		}
	});
	return { ret: parsed.data, mappings };
}

/**
 * Validate every row of every input. A bad row is left out and reported as an
 * issue (input, index, field, message); a bad `lines[i].mapping` is reported and
 * the line falls back to the no-mapping assumption. Never throws.
 */
export function readReconcileInput(input: RawReconcileInput, fallbackNow: string): ReadInputs {
	const issues: ReconcileIssue[] = [];
	const raw = (input && typeof input === 'object' ? input : {}) as RawReconcileInput;

	const returns: ReturnWithMapping[] = [];
	asArray(raw.returns, 'returns', issues).forEach((row, index) => {
		const r = readReturn(row, 'returns', index, [], issues);
		if (r) returns.push(r);
	});

	// the inbox rows not in a final state, whatever their age: each brings its return
	const inbox: Array<{ row: InboxRow; ret: ReturnWithMapping }> = [];
	const recordedCredits: RecordedCredit[] = [];
	/** A credit the credit step recorded (a done inbox row's or a recorded credits row's); none without a net. */
	const record = (
		returnId: string,
		receivedAt: string | null,
		c: z.output<typeof InboxCreditSchema>,
	) => {
		if (c.creditNet !== null)
			recordedCredits.push({
				returnId,
				receivedAt,
				creditNoteRef: c.creditNoteRef,
				grossPence: c.creditGross,
				netPence: c.creditNet,
			});
	};
	asArray(raw.inbox, 'inbox', issues).forEach((rawRow, index) => {
		const parsed = InboxRowSchema.safeParse(parseMaybeJson(rawRow));
		if (!parsed.success) {
			pushZodIssues(issues, 'inbox', index, idOf(rawRow), parsed.error);
			return;
		}
		const row = parsed.data;
		if (row.status === 'done' || row.status === 'replayed') {
			// the credit the credit step recorded (a bad amount: this row's values only are left out)
			const credit = InboxCreditSchema.safeParse(parseMaybeJson(rawRow));
			if (!credit.success) pushZodIssues(issues, 'inbox', index, row.returnId, credit.error);
			else record(row.returnId, row.receivedAt, credit.data);
			return;
		}
		if (!isUnfinishedInboxStatus(row.status)) return;
		const carried = inboxReturn(row);
		if (carried === null) {
			issues.push({
				input: 'inbox',
				index,
				field: 'payload',
				message: 'no return stored (payload and mapped are blank or not JSON)',
				recordId: row.returnId,
			});
			return;
		}
		const field = isBlank(row.mapped) ? 'payload' : 'mapped';
		const r = readReturn(carried, 'inbox', index, [field], issues);
		if (r) inbox.push({ row, ret: r });
	});

	// the recorded credits (one row per credited inbox row, written by the processor in bulk)
	asArray(raw.credits, 'credits', issues).forEach((rawRow, index) => {
		const parsed = RecordedCreditRowSchema.safeParse(parseMaybeJson(rawRow));
		if (!parsed.success) {
			pushZodIssues(issues, 'credits', index, idOf(rawRow), parsed.error);
			return;
		}
		record(parsed.data.returnId, parsed.data.receivedAt, parsed.data);
	});

	const khaos = readRows(
		KhaosHoldingSchema,
		asArray(raw.khaos, 'khaos', issues),
		'khaos',
		issues,
	).map((h): KhaosHolding => ({ ...h, imported: h.imported ?? h.returnCode !== null }));
	const expected = readRows(
		ExpectedReturnSchema,
		asArray(raw.expected, 'expected', issues),
		'expected',
		issues,
	);
	const exceptions = readRows(
		ExceptionRowSchema,
		asArray(raw.exceptions, 'exceptions', issues),
		'exceptions',
		issues,
	);

	const reviews =
		raw.reviews === undefined || raw.reviews === null
			? null
			: readRows(ReviewRowSchema, asArray(raw.reviews, 'reviews', issues), 'reviews', issues);

	let options: ReconcileOptions = {
		now: fallbackNow,
		tolerancePencePerLine: 1,
		title: null,
		stuckAfterHours: 0,
		reviewOverdueDays: 3,
	};
	const po = ReconcileOptionsSchema.safeParse(parseMaybeJson(raw.options ?? {}) ?? {});
	if (po.success) {
		options = {
			now: po.data.now ?? fallbackNow,
			tolerancePencePerLine: po.data.tolerancePencePerLine,
			title: po.data.title,
			stuckAfterHours: po.data.stuckAfterHours,
			reviewOverdueDays: po.data.reviewOverdueDays,
		};
	} else {
		pushZodIssues(issues, 'options', -1, null, po.error);
		// keep whatever parts are readable
		const o = (parseMaybeJson(raw.options) ?? {}) as Record<string, unknown>;
		const now = optDate.safeParse(o.now);
		const tol = pence(1).safeParse(o.tolerancePencePerLine);
		const title = optText.safeParse(o.title);
		const stuck = ReconcileOptionsSchema.shape.stuckAfterHours.safeParse(o.stuckAfterHours);
		const overdue = ReconcileOptionsSchema.shape.reviewOverdueDays.safeParse(o.reviewOverdueDays);
		options = {
			now: now.success && now.data ? now.data : fallbackNow,
			tolerancePencePerLine: tol.success && tol.data >= 0 ? tol.data : 1,
			title: title.success ? title.data : null,
			stuckAfterHours: stuck.success ? stuck.data : 0,
			reviewOverdueDays: overdue.success ? overdue.data : 3,
		};
	}

	let window: ReconcileWindow = { from: null, to: null };
	const rawWindow = parseMaybeJson(raw.window);
	if (rawWindow !== undefined && rawWindow !== null) {
		const pw = WindowSchema.safeParse(rawWindow);
		if (pw.success) window = { from: pw.data.from, to: pw.data.to };
		else pushZodIssues(issues, 'window', -1, null, pw.error);
	}

	return {
		returns,
		khaos,
		expected,
		exceptions,
		reviews,
		inbox,
		recordedCredits,
		options,
		window,
		windowRange: windowRange(rawWindow, window, options.now),
		issues,
	};
}
