/**
 * The mapping engine: ReBound dispositions → Khaos stock actions (site,
 * location, sellable), ReBound reasons → Khaos return-reason ids, ReBound SKUs
 * → Khaos stock codes. Pure functions: an unmapped code is a result (routed as
 * an exception by the node), never a throw. A return maps whole or not at all.
 *
 * Table schemas and compilation live in ./mappingTables (re-exported here).
 */
import { z } from 'zod';
import { makeException, type ReturnException } from './exceptions';
import {
	NormalisedReturnSchema,
	ReturnLineSchema,
	normaliseCode,
	text,
	validateWith,
	wireKey,
	type NormalisedReturn,
	type ReturnLine,
	type ReturnReason,
	type ValidationResult,
} from './returnModel';
import {
	ACTION_CREDIT_RULES,
	CREDIT_DECISIONS,
	DEFAULT_ACTION_POLICY,
	DEFAULT_CODE,
	REASON_MATCH_ON,
	type ActionPolicy,
	STOCK_ACTIONS,
	describeDispositionRule,
	type CompiledTables,
	type DispositionRule,
	type ReasonRule,
} from './mappingTables';

export * from './mappingTables';

export type MatchedBy = 'exact' | 'default';

// ---------------------------------------------------------------------------
// The mapped return: what the Returns Mapping node emits on "Mapped" and what
// the Khaos node validates on arrival.

const NEVER_SELLABLE = new Set(['quarantine', 'write_off', 'no_movement']);

export const LineMappingSchema = z
	.object({
		action: z.enum(STOCK_ACTIONS),
		siteId: wireKey(50, 'siteId is empty').nullable(),
		locationId: wireKey(50, 'locationId is empty').nullable(),
		sellable: z.boolean(),
		/** Khaos return-reason id. */
		reasonId: wireKey(50, 'reasonId is empty'),
		/** The Khaos stock code (the ReBound SKU after any alias). */
		khaosSku: wireKey(255, 'khaosSku is empty'),
		/** The disposition row that matched, as written in the table ("*" for the default row). */
		matchedDisposition: z.string().trim().min(1),
		matchedBy: z.enum(['exact', 'default']),
		reasonMatchedBy: z.enum(['exact', 'default']),
		/**
		 * The line's credit: credited, never credited, held for finance review, or an exchange (no
		 * credit, recorded). Mapped returns stored before this existed read as `credit`.
		 */
		credit: z.enum([...CREDIT_DECISIONS, 'exchange']).default('credit'),
		/** Which rule decided it: the disposition row's credit column or the line's action. */
		creditBy: z.enum(['disposition', 'action']).default('disposition'),
		/** The line's ReBound action as sent (Refund, Exchange …), null when it has none. */
		lineAction: z.string().nullable().default(null),
	})
	.superRefine((m, ctx) => {
		if ((m.action === 'restock' || m.action === 'quarantine') && (!m.siteId || !m.locationId)) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: [m.siteId ? 'locationId' : 'siteId'],
				message: `${m.action} needs a site and a location`,
			});
		}
		if (m.sellable && NEVER_SELLABLE.has(m.action)) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['sellable'],
				message: `${m.action} is never sellable`,
			});
		}
		if (m.sellable && m.matchedBy === 'default') {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['sellable'],
				message: 'a disposition matched by the default row is never sellable',
			});
		}
	});
export type LineMapping = z.infer<typeof LineMappingSchema>;

export const MappedLineSchema = ReturnLineSchema.extend({
	/** A mapped line always has a final disposition. */
	disposition: text(255, 1, 'a mapped line needs a final disposition'),
	mapping: LineMappingSchema,
});
export type MappedLine = z.infer<typeof MappedLineSchema>;

export const MappedReturnSchema = NormalisedReturnSchema.extend({
	lines: z.array(MappedLineSchema).min(1, 'a return needs at least one line'),
	/**
	 * A return carrying problems (core/carriedReturn.ts) is never a mapped return, even when every
	 * line mapped: nothing moves stock or credits it until its problems are fixed and it is replayed.
	 */
	problems: z
		.array(z.unknown())
		.max(
			0,
			'the return carries problems (passed on by Returns Mapping or Validate SKUs): it never moves stock or gets credited; Apply Return Stock Moves reports them',
		)
		.optional(),
});
export type MappedReturn = z.infer<typeof MappedReturnSchema>;

/**
 * What is known of a line that did not map, in a return passed on with its problems
 * (core/carriedReturn.ts): its Khaos stock code, and its stock action when only the reason failed.
 * It has no reason id, no matched row and no sellable flag, so it can never pass as a LineMapping
 * and no stock move can be made of it.
 */
export const PartialMappingSchema = z.object({
	/** The Khaos stock code (the ReBound SKU after any alias): what the SKU and order checks read. */
	khaosSku: wireKey(255, 'khaosSku is empty'),
	/** What did not map: the disposition (none, or not graded) and/or the reason. */
	missing: z.array(z.enum(['disposition', 'reason'])).min(1),
	/** The disposition row's stock action when the disposition mapped (only the reason did not), else null. */
	action: z.enum(STOCK_ACTIONS).nullable(),
	siteId: wireKey(50, 'siteId is empty').nullable(),
	locationId: wireKey(50, 'locationId is empty').nullable(),
});
export type PartialMapping = z.infer<typeof PartialMappingSchema>;

/** A line of a return carried on with its problems: a full mapping, or what is known of it. */
export const CarriedLineSchema = ReturnLineSchema.extend({
	mapping: z.union([LineMappingSchema, PartialMappingSchema]),
});
export type CarriedLine = z.infer<typeof CarriedLineSchema>;

export const isPartialMapping = (m: LineMapping | PartialMapping): m is PartialMapping =>
	'missing' in m;

/** Validate an item arriving downstream of the mapping node (e.g. at the Khaos node). */
export function validateMappedReturn(input: unknown): ValidationResult<MappedReturn> {
	return validateWith(MappedReturnSchema, input);
}

// ---------------------------------------------------------------------------

export type UnmappedKind = 'disposition' | 'reason';
/** no_mapping: a code with no row and no default; not_graded: no final disposition yet; no_reason: the line has no reason and no default row exists. */
export type UnmappedProblem = 'no_mapping' | 'not_graded' | 'no_reason';

export interface UnmappedCode {
	kind: UnmappedKind;
	/** The code as ReBound sent it (trimmed); null when there is none (not graded, no reason). */
	code: string | null;
	lineId: string;
	sku: string;
	problem: UnmappedProblem;
	/** A sentence for an operator. */
	message: string;
}

export type MapResult =
	| { ok: true; mapped: MappedReturn }
	| {
			ok: false;
			unmapped: UnmappedCode[];
			/** Every line as far as it mapped (for a return passed on with its problems). */
			lines: CarriedLine[];
	  };

export interface MapOptions {
	/** What each line's ReBound action does to its credit (default DEFAULT_ACTION_POLICY). */
	actions?: ActionPolicy;
}

const RULE_STRENGTH: Record<(typeof ACTION_CREDIT_RULES)[number] | 'credit', number> = {
	follow: 0,
	credit: 0,
	exchange: 1,
	hold: 2,
	no_credit: 3,
};

/**
 * A line's credit: the disposition's decision unless the line's action rule is stricter
 * (no_credit > hold > exchange > credit), so finance's hold on a grade is never undone by "Refund",
 * and an exchange asked for an item that did not come back (a held "Missing Item") waits for finance
 * rather than shipping a replacement unreviewed.
 */
export function lineCredit(
	dispositionCredit: DispositionRule['credit'],
	action: string | null,
	policy: ActionPolicy = DEFAULT_ACTION_POLICY,
): Pick<LineMapping, 'credit' | 'creditBy'> {
	const rule =
		action === null || action.trim() === ''
			? policy.none
			: (policy.rules.get(normaliseCode(action)) ?? policy.other);
	if (RULE_STRENGTH[rule] > RULE_STRENGTH[dispositionCredit])
		return { credit: rule as LineMapping['credit'], creditBy: 'action' };
	return { credit: dispositionCredit, creditBy: 'disposition' };
}

/** The action of a line: the first reason entry's with any action text. */
export function lineActionOf(line: Pick<ReturnLine, 'reasons'>): string | null {
	const withAction = line.reasons.find((r) => r.action.trim() !== '');
	return withAction ? withAction.action.trim().replace(/\s+/g, ' ') : null;
}

interface DispositionMatch {
	rule: DispositionRule;
	matchedBy: MatchedBy;
}
interface ReasonMatch {
	rule: ReasonRule;
	matchedBy: MatchedBy;
}

export function matchDisposition(code: string, tables: CompiledTables): DispositionMatch | null {
	const exact = tables.dispositions.get(normaliseCode(code));
	if (exact) return { rule: exact, matchedBy: 'exact' };
	if (tables.defaultDisposition) return { rule: tables.defaultDisposition, matchedBy: 'default' };
	return null;
}

/** The reason entry that decides a line's reason id: the first with any text. */
export function primaryReason(line: Pick<ReturnLine, 'reasons'>): ReturnReason | null {
	return (
		line.reasons.find((r) => [r.reason, r.action, r.wish].some((t) => t.trim() !== '')) ?? null
	);
}

/** The code to show for a reason entry: its reason text, else its action, else its wish. */
export function reasonCode(entry: ReturnReason): string {
	return (entry.reason.trim() || entry.action.trim() || entry.wish.trim()).replace(/\s+/g, ' ');
}

function matchReasonExact(entry: ReturnReason, tables: CompiledTables): ReasonRule | null {
	for (const on of REASON_MATCH_ON) {
		const text = entry[on];
		if (!text.trim()) continue;
		const rule = tables.reasons[on].get(normaliseCode(text));
		if (rule) return rule;
	}
	return null;
}

export function matchReason(
	entry: ReturnReason | null,
	tables: CompiledTables,
): ReasonMatch | null {
	if (entry) {
		const exact = matchReasonExact(entry, tables);
		if (exact) return { rule: exact, matchedBy: 'exact' };
	}
	if (tables.defaultReason) return { rule: tables.defaultReason, matchedBy: 'default' };
	return null;
}

/** The Khaos stock code for a ReBound SKU (one alias hop, matched ignoring case and spaces). */
export function resolveSku(sku: string, tables: CompiledTables): string {
	const alias = tables.skuAliases.get(normaliseCode(sku));
	return alias ? alias.to.trim() : sku.trim();
}

function lineLabel(
	ret: Pick<NormalisedReturn, 'returnId'>,
	line: Pick<ReturnLine, 'lineId' | 'sku'>,
): string {
	return `Return ${ret.returnId} line ${line.lineId} (SKU ${line.sku})`;
}

/**
 * Map every line of a return. Either every line maps (ok) or the return is
 * reported with every unmapped code (never half-applied). An ungraded line is
 * always unmapped: stock never moves on an uninspected item.
 */
export function mapReturn(
	ret: NormalisedReturn,
	tables: CompiledTables,
	options: MapOptions = {},
): MapResult {
	const unmapped: UnmappedCode[] = [];
	const lines: MappedLine[] = [];
	const carried: CarriedLine[] = [];
	for (const line of ret.lines) {
		const label = lineLabel(ret, line);
		let disposition: DispositionMatch | null = null;
		const graded = line.disposition !== null && line.disposition.trim() !== '';
		if (!graded) {
			unmapped.push({
				kind: 'disposition',
				code: null,
				lineId: line.lineId,
				sku: line.sku,
				problem: 'not_graded',
				message: `${label} is not graded yet (no final disposition): stock never moves on an ungraded item`,
			});
		} else {
			disposition = matchDisposition(line.disposition as string, tables);
			if (!disposition) {
				unmapped.push({
					kind: 'disposition',
					code: (line.disposition as string).trim(),
					lineId: line.lineId,
					sku: line.sku,
					problem: 'no_mapping',
					message: `${label}: disposition "${(line.disposition as string).trim()}" has no row in the disposition table and there is no default (*) row`,
				});
			}
		}

		const entry = primaryReason(line);
		const reason = matchReason(entry, tables);
		if (!reason) {
			const code = entry ? reasonCode(entry) : null;
			unmapped.push({
				kind: 'reason',
				code,
				lineId: line.lineId,
				sku: line.sku,
				problem: entry ? 'no_mapping' : 'no_reason',
				message: entry
					? `${label}: reason "${code}" has no row in the reason table and there is no default (*) row`
					: `${label} has no return reason and the reason table has no default (*) row`,
			});
		}

		const khaosSku = resolveSku(line.sku, tables);
		if (!disposition || !reason) {
			carried.push({
				...line,
				mapping: {
					khaosSku,
					missing: [
						...(disposition ? [] : ['disposition' as const]),
						...(reason ? [] : ['reason' as const]),
					],
					action: disposition?.rule.action ?? null,
					siteId: disposition?.rule.siteId ?? null,
					locationId: disposition?.rule.locationId ?? null,
				},
			});
		} else {
			const rule = disposition.rule;
			const lineAction = lineActionOf(line);
			const mapped: MappedLine = {
				...line,
				disposition: line.disposition as string,
				mapping: {
					action: rule.action,
					siteId: rule.siteId,
					locationId: rule.locationId,
					// belt and braces: only an exact restock row can make stock sellable
					sellable: rule.sellable && rule.action === 'restock' && disposition.matchedBy === 'exact',
					reasonId: reason.rule.reasonId,
					khaosSku,
					matchedDisposition: rule.disposition,
					matchedBy: disposition.matchedBy,
					reasonMatchedBy: reason.matchedBy,
					...lineCredit(rule.credit, lineAction, options.actions),
					lineAction,
				},
			};
			lines.push(mapped);
			carried.push(mapped);
		}
	}
	if (unmapped.length > 0) return { ok: false, unmapped, lines: carried };
	return { ok: true, mapped: { ...ret, lines } };
}

// ---------------------------------------------------------------------------
// Exceptions

const NOT_GRADED_ACTION =
	'The item has not been graded yet: nothing moves until the hub sets a final disposition. Replay the exception once it is graded (or let the trigger re-emit it).';
const NO_REASON_ACTION =
	'The line has no return reason: add a default (*) row to the reason table with the Khaos reason id to use, then replay the exception.';

/** One exception per (line, code), each carrying the whole return as payload for replay. */
export function unmappedToExceptions(
	ret: NormalisedReturn,
	unmapped: UnmappedCode[],
	occurredAt?: string,
): ReturnException[] {
	const seen = new Set<string>();
	const out: ReturnException[] = [];
	for (const u of unmapped) {
		const dedupe = `${u.kind}|${u.lineId}|${u.code ?? ''}|${u.problem}`;
		if (seen.has(dedupe)) continue;
		seen.add(dedupe);
		const line = ret.lines.find((l) => l.lineId === u.lineId);
		const ex = makeException(
			u.kind === 'disposition' ? 'unmapped_disposition' : 'unmapped_reason',
			u.message,
			{
				stage: 'mapping',
				returnId: ret.returnId,
				displayId: ret.displayId,
				orderReference: ret.orderReference,
				sku: u.sku,
				lineId: u.lineId,
				code: u.code,
				field: u.kind === 'disposition' ? 'disposition' : 'reasons',
				details: { problem: u.problem, quantity: line ? line.quantity : null },
				occurredAt,
				payload: ret,
			},
		);
		if (u.problem === 'not_graded') ex.action = NOT_GRADED_ACTION;
		else if (u.problem === 'no_reason') ex.action = NO_REASON_ACTION;
		out.push(ex);
	}
	return out;
}

// ---------------------------------------------------------------------------
// Check mode: every code seen without an exact mapping.

/** A code to check when no returns are at hand (e.g. a list of grades exported from ReBound). */
export interface CodeInput {
	/** Which table the code belongs to; default 'disposition'. */
	kind?: UnmappedKind;
	code?: string | null;
	codes?: Array<string | null> | null;
	returnId?: string | number | null;
}

export interface CodeCheck {
	kind: UnmappedKind;
	/** The code as first seen (trimmed); '' for lines with no reason. */
	code: string;
	/** Lines (or code inputs) it was seen on. */
	count: number;
	/** Distinct returns it was seen on. */
	returnCount: number;
	firstReturnId: string | null;
	/** True when the default (*) row would take it: it maps, but not by an exact row. */
	fallsToDefault: boolean;
	/** What the default row would do, or null when there is no default (the return goes to Unmapped). */
	defaultMapping: string | null;
	message: string;
	/** Indexes into the input array where the code was seen (for pairedItem). */
	inputIndexes: number[];
}

function isReturnLike(value: unknown): value is Pick<NormalisedReturn, 'returnId' | 'lines'> {
	return (
		typeof value === 'object' &&
		value !== null &&
		Array.isArray((value as { lines?: unknown }).lines)
	);
}

/**
 * Every disposition/reason code seen without an exact mapping (a code the
 * default row would take is still listed, with `fallsToDefault`), sorted by
 * count, most frequent first. Accepts normalised returns and code inputs.
 */
export function checkCodes(
	inputs: ReadonlyArray<Pick<NormalisedReturn, 'returnId' | 'lines'> | CodeInput>,
	tables: CompiledTables,
): CodeCheck[] {
	interface Acc {
		kind: UnmappedKind;
		code: string;
		count: number;
		returns: Set<string>;
		firstReturnId: string | null;
		indexes: number[];
	}
	const acc = new Map<string, Acc>();
	const see = (kind: UnmappedKind, code: string, returnId: string | null, index: number) => {
		const key = `${kind}|${normaliseCode(code)}`;
		let a = acc.get(key);
		if (!a) {
			a = {
				kind,
				code: code.trim().replace(/\s+/g, ' '),
				count: 0,
				returns: new Set(),
				firstReturnId: returnId,
				indexes: [],
			};
			acc.set(key, a);
		}
		a.count += 1;
		if (returnId !== null) a.returns.add(returnId);
		if (a.firstReturnId === null) a.firstReturnId = returnId;
		if (a.indexes[a.indexes.length - 1] !== index) a.indexes.push(index);
	};

	inputs.forEach((input, index) => {
		if (isReturnLike(input)) {
			const returnId = String(input.returnId);
			for (const line of input.lines) {
				const d = line.disposition;
				if (d !== null && d.trim() !== '' && !tables.dispositions.has(normaliseCode(d)))
					see('disposition', d, returnId, index);
				const entry = primaryReason(line);
				if (entry) {
					if (!matchReasonExact(entry, tables)) see('reason', reasonCode(entry), returnId, index);
				} else if (!tables.defaultReason) {
					see('reason', '', returnId, index);
				}
			}
			return;
		}
		const ci = (input ?? {}) as CodeInput;
		const kind: UnmappedKind = ci.kind === 'reason' ? 'reason' : 'disposition';
		const returnId = ci.returnId === undefined || ci.returnId === null ? null : String(ci.returnId);
		const codes = [ci.code, ...(Array.isArray(ci.codes) ? ci.codes : [])].filter(
			(c): c is string => typeof c === 'string' && c.trim() !== '',
		);
		for (const code of codes) {
			const mapped =
				kind === 'disposition'
					? tables.dispositions.has(normaliseCode(code))
					: REASON_MATCH_ON.some((on) => tables.reasons[on].has(normaliseCode(code)));
			if (!mapped) see(kind, code, returnId, index);
		}
	});

	const out: CodeCheck[] = [];
	for (const a of acc.values()) {
		const def = a.kind === 'disposition' ? tables.defaultDisposition : tables.defaultReason;
		const defaultMapping = def
			? a.kind === 'disposition'
				? describeDispositionRule(def as DispositionRule)
				: `reason id ${(def as ReasonRule).reasonId}`
			: null;
		const what =
			a.kind === 'disposition'
				? `Disposition "${a.code}"`
				: a.code === ''
					? 'Lines with no reason'
					: `Reason "${a.code}"`;
		const seenText = `seen ${a.count} time${a.count === 1 ? '' : 's'}${a.firstReturnId ? `, first on return ${a.firstReturnId}` : ''}`;
		const message = defaultMapping
			? `${what} has no exact mapping (${seenText}); the default (${DEFAULT_CODE}) row would take it: ${defaultMapping}`
			: `${what} has no mapping (${seenText}); returns with it go to Unmapped until a row is added`;
		out.push({
			kind: a.kind,
			code: a.code,
			count: a.count,
			returnCount: a.returns.size,
			firstReturnId: a.firstReturnId,
			fallsToDefault: defaultMapping !== null,
			defaultMapping,
			message,
			inputIndexes: a.indexes,
		});
	}
	out.sort(
		(x, y) =>
			y.count - x.count ||
			(x.kind === y.kind ? 0 : x.kind === 'disposition' ? -1 : 1) ||
			x.code.localeCompare(y.code),
	);
	return out;
}
