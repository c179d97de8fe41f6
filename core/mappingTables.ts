/**
 * The three mapping tables operations staff edit (dispositions, reasons, SKU
 * aliases): row schemas, coercion of Data Table / UI values, validation and
 * compilation into look-up maps. Pure: a bad table is a result naming the
 * table, the row and the field, never a throw.
 */
import { z } from 'zod';
import { normaliseCode } from './returnModel';

export const STOCK_ACTIONS = ['restock', 'quarantine', 'write_off', 'no_movement'] as const;
export type StockAction = (typeof STOCK_ACTIONS)[number];

/**
 * What a disposition does to the credit note (finance's policy, a column of the disposition table):
 * credit the line, never credit it, or hold the return's credit for a finance person to release or
 * reject. A row without it: `hold` for no_movement (nothing came back), `credit` otherwise.
 */
export const CREDIT_DECISIONS = ['credit', 'no_credit', 'hold'] as const;
export type CreditDecision = (typeof CREDIT_DECISIONS)[number];

/** The default credit decision of a disposition row that names none. */
export function defaultCreditDecision(action: StockAction): CreditDecision {
	return action === 'no_movement' ? 'hold' : 'credit';
}

/**
 * What a line's ReBound action (`reason[].action`: Refund, Exchange …) does to its credit:
 * `follow` the disposition's credit decision, `no_credit`, `hold`, or `exchange` (no credit note for
 * the line, recorded as an exchange notice).
 */
export const ACTION_CREDIT_RULES = ['follow', 'no_credit', 'hold', 'exchange'] as const;
export type ActionCreditRule = (typeof ACTION_CREDIT_RULES)[number];

export interface ActionPolicy {
	/** Normalised action text → rule. */
	rules: ReadonlyMap<string, ActionCreditRule>;
	/** A non-empty action with no rule. */
	other: ActionCreditRule;
	/** A line with no action at all. */
	none: ActionCreditRule;
}

/** Refund follows the disposition, Exchange is an exchange, anything else is held for finance. */
export const DEFAULT_ACTION_POLICY: ActionPolicy = {
	rules: new Map<string, ActionCreditRule>([
		['refund', 'follow'],
		['exchange', 'exchange'],
	]),
	other: 'hold',
	none: 'follow',
};

export function toCreditDecision(value: unknown): unknown {
	if (typeof value !== 'string') return value;
	const word = value
		.trim()
		.toLowerCase()
		.replace(/[\s-]+/g, '_');
	if (['credit', 'yes', 'refund', 'true'].includes(word)) return 'credit';
	if (['no_credit', 'nocredit', 'no', 'none', 'false'].includes(word)) return 'no_credit';
	if (['hold', 'review', 'held'].includes(word)) return 'hold';
	return word;
}

function toActionRule(value: unknown): unknown {
	if (typeof value !== 'string') return value;
	const word = value
		.trim()
		.toLowerCase()
		.replace(/[\s-]+/g, '_');
	if (word === 'credit' || word === 'refund') return 'follow';
	return toCreditDecision(word) === 'no_credit' && word !== 'credit' ? 'no_credit' : word;
}

const ActionRuleSchema = z.preprocess(
	toActionRule,
	z.enum(ACTION_CREDIT_RULES, {
		errorMap: () => ({ message: `must be one of ${ACTION_CREDIT_RULES.join(', ')}` }),
	}),
);

export type ActionPolicyResult =
	| { ok: true; policy: ActionPolicy }
	| { ok: false; message: string };

/**
 * The action policy from node parameters / values: rules as `[{ action, rule }]`, plus the rule for
 * other actions and for lines with none. Missing parts take DEFAULT_ACTION_POLICY's.
 */
export function compileActionPolicy(input: {
	rules?: unknown;
	other?: unknown;
	none?: unknown;
}): ActionPolicyResult {
	const rules = new Map(DEFAULT_ACTION_POLICY.rules);
	const list = input.rules === undefined || input.rules === null ? [] : input.rules;
	if (!Array.isArray(list)) return { ok: false, message: 'Line actions must be a list of rules' };
	for (const [i, raw] of list.entries()) {
		const row = (raw ?? {}) as { action?: unknown; rule?: unknown };
		if (typeof row.action !== 'string' || row.action.trim() === '')
			return { ok: false, message: `Line action rule ${i + 1}: the action is empty` };
		const rule = ActionRuleSchema.safeParse(row.rule);
		if (!rule.success)
			return {
				ok: false,
				message: `Line action rule ${i + 1} ("${row.action.trim().slice(0, 40)}"): the rule ${rule.error.issues[0].message}`,
			};
		rules.set(normaliseCode(row.action), rule.data);
	}
	const one = (value: unknown, fallback: ActionCreditRule, what: string) => {
		if (value === undefined || value === null || value === '')
			return { ok: true as const, rule: fallback };
		const r = ActionRuleSchema.safeParse(value);
		return r.success
			? { ok: true as const, rule: r.data }
			: { ok: false as const, message: `${what} ${r.error.issues[0].message}` };
	};
	const other = one(input.other, DEFAULT_ACTION_POLICY.other, 'Other actions');
	if (!other.ok) return other;
	const none = one(input.none, DEFAULT_ACTION_POLICY.none, 'Lines without an action');
	if (!none.ok) return none;
	return { ok: true, policy: { rules, other: other.rule, none: none.rule } };
}

export const REASON_MATCH_ON = ['reason', 'action', 'wish'] as const;
export type ReasonMatchOn = (typeof REASON_MATCH_ON)[number];

/** The code of the default row: anything without an exact match falls to it. */
export const DEFAULT_CODE = '*';

export type TableName = 'dispositions' | 'reasons' | 'skuAliases';

export const TABLE_TITLES: Record<TableName, string> = {
	dispositions: 'Disposition table',
	reasons: 'Reason table',
	skuAliases: 'SKU alias table',
};

export interface DispositionRow {
	disposition: string;
	action: StockAction;
	siteId: string | null;
	locationId: string | null;
	sellable: boolean;
	/** What the line's credit does (finance's column). */
	credit: CreditDecision;
}

export interface ReasonRow {
	reason: string;
	reasonId: string;
	matchOn: ReasonMatchOn;
}

export interface SkuAliasRow {
	from: string;
	to: string;
}

/** A validated row plus its 1-based row number in the table it came from. */
export type DispositionRule = DispositionRow & { row: number };
export type ReasonRule = ReasonRow & { row: number };
export type SkuAliasRule = SkuAliasRow & { row: number };

export interface TableIssue {
	table: TableName;
	/** 1-based row number; 0 when the problem is the table as a whole. */
	row: number;
	field: string;
	message: string;
	/** The earlier row involved (duplicates, alias chains). */
	otherRow?: number;
}

export interface RawTables {
	dispositions?: unknown;
	reasons?: unknown;
	skuAliases?: unknown;
}

export interface CompiledTables {
	/** Exact rows by normalised disposition code (the default row excluded). */
	dispositions: ReadonlyMap<string, DispositionRule>;
	defaultDisposition: DispositionRule | null;
	/** Exact reason rows by what they match on, then by normalised code (the default row excluded). */
	reasons: Readonly<Record<ReasonMatchOn, ReadonlyMap<string, ReasonRule>>>;
	defaultReason: ReasonRule | null;
	/** Normalised ReBound SKU → Khaos stock code. */
	skuAliases: ReadonlyMap<string, SkuAliasRule>;
	counts: Record<TableName, number>;
}

export type CompileResult =
	| { ok: true; tables: CompiledTables }
	| { ok: false; issues: TableIssue[]; message: string };

export interface CompileOptions {
	/** Reject an empty disposition or reason table (the Map operation: an empty table means misconfiguration). Default true. */
	requireRows?: boolean;
}

// ---------------------------------------------------------------------------
// Coercion: rows arrive from the node's row editor (strings, booleans) or from
// n8n Data Tables / JSON (strings, numbers, booleans, null).

const TRUE_WORDS = new Set(['true', '-1', '1', 'yes', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', '']);

/** Coerce a Data Table / UI value to a boolean; undefined/null/'' are false; anything else unrecognised is left for zod to reject. */
export function coerceBoolean(value: unknown): unknown {
	if (typeof value === 'boolean') return value;
	if (value === undefined || value === null) return false;
	if (typeof value === 'number') {
		if (value === 0) return false;
		if (value === 1 || value === -1) return true;
		return value;
	}
	if (typeof value === 'string') {
		const word = value.trim().toLowerCase();
		if (TRUE_WORDS.has(word)) return true;
		if (FALSE_WORDS.has(word)) return false;
	}
	return value;
}

function toText(value: unknown): unknown {
	if (value === undefined || value === null) return '';
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	return value;
}

function toOptionalText(value: unknown): unknown {
	const v = toText(value);
	if (typeof v === 'string' && v.trim() === '') return null;
	return v;
}

function toAction(value: unknown): unknown {
	if (typeof value !== 'string') return value;
	const word = value
		.trim()
		.toLowerCase()
		.replace(/[\s-]+/g, '_');
	if (word === 'writeoff') return 'write_off';
	if (word === 'nomovement' || word === 'none' || word === 'no_move') return 'no_movement';
	return word;
}

const requiredText = (what: string, max = 255) =>
	z.preprocess(
		toText,
		z
			.string({ invalid_type_error: `${what} must be text` })
			.trim()
			.min(1, `${what} is empty`)
			.max(max, `${what} is longer than ${max} characters`),
	);

const optionalText = (what: string, max = 100) =>
	z.preprocess(
		toOptionalText,
		z
			.string({ invalid_type_error: `${what} must be text` })
			.trim()
			.max(max, `${what} is longer than ${max} characters`)
			.nullable(),
	);

const booleanField = z.preprocess(
	coerceBoolean,
	z.boolean({
		invalid_type_error:
			'expected true or false (also accepted: "true"/"false", "-1"/"0", "yes"/"no")',
	}),
);

const NEVER_SELLABLE: ReadonlySet<StockAction> = new Set([
	'quarantine',
	'write_off',
	'no_movement',
]);

export const DispositionRowSchema = z
	.object({
		disposition: requiredText('disposition'),
		action: z.preprocess(
			toAction,
			z.enum(STOCK_ACTIONS, {
				errorMap: () => ({ message: `action must be one of ${STOCK_ACTIONS.join(', ')}` }),
			}),
		),
		siteId: optionalText('siteId'),
		locationId: optionalText('locationId'),
		sellable: booleanField,
		// no credit column at all (a table from before the policy): credited, as it always was; an
		// empty cell (a new row): decided by the action (hold for no_movement, credit otherwise)
		credit: z.preprocess(
			(v) =>
				v === undefined
					? 'credit'
					: v === null || (typeof v === 'string' && v.trim() === '')
						? null
						: toCreditDecision(v),
			z
				.enum(CREDIT_DECISIONS, {
					errorMap: () => ({ message: `credit must be one of ${CREDIT_DECISIONS.join(', ')}` }),
				})
				.nullable(),
		),
	})
	.superRefine((row, ctx) => {
		if (row.action === 'restock' || row.action === 'quarantine') {
			if (!row.siteId)
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					path: ['siteId'],
					message: `${row.action} needs a site (siteId)`,
				});
			if (!row.locationId)
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					path: ['locationId'],
					message: `${row.action} needs a location (locationId)`,
				});
		}
		if (row.action === 'write_off' && Boolean(row.siteId) !== Boolean(row.locationId)) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: [row.siteId ? 'locationId' : 'siteId'],
				message: 'write_off takes both a site and a location (a write-off location) or neither',
			});
		}
		if (row.sellable && NEVER_SELLABLE.has(row.action)) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['sellable'],
				message: `${row.action} is never sellable: set sellable to false`,
			});
		}
		if (row.sellable && normaliseCode(row.disposition) === DEFAULT_CODE) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['sellable'],
				message:
					'the default row (*) must never be sellable: unknown grades must not go back on sale',
			});
		}
	})
	.transform(
		(row): DispositionRow => ({
			disposition: row.disposition,
			action: row.action,
			// no_movement moves nothing: drop any site/location so nothing downstream can act on it
			siteId: row.action === 'no_movement' ? null : row.siteId,
			locationId: row.action === 'no_movement' ? null : row.locationId,
			sellable: row.sellable,
			credit: row.credit ?? defaultCreditDecision(row.action),
		}),
	);

export const ReasonRowSchema = z.object({
	reason: requiredText('reason'),
	reasonId: requiredText('reasonId', 50),
	matchOn: z.preprocess(
		(v) =>
			v === undefined || v === null || (typeof v === 'string' && v.trim() === '')
				? 'reason'
				: typeof v === 'string'
					? v.trim().toLowerCase()
					: v,
		z.enum(REASON_MATCH_ON, {
			errorMap: () => ({ message: `matchOn must be one of ${REASON_MATCH_ON.join(', ')}` }),
		}),
	),
});

export const SkuAliasRowSchema = z.object({
	from: requiredText('from'),
	to: requiredText('to'),
});

// ---------------------------------------------------------------------------

/**
 * Accept the ways rows arrive: an array of rows, a JSON string of one, n8n
 * items (`{ json: row }`), or an object with a `rows` array. Returns null
 * (with no rows) for undefined / empty input.
 */
export function rowsFromInput(
	value: unknown,
): { ok: true; rows: unknown[] } | { ok: false; message: string } {
	let v = value;
	if (v === undefined || v === null) return { ok: true, rows: [] };
	if (typeof v === 'string') {
		const text = v.trim();
		if (text === '') return { ok: true, rows: [] };
		try {
			v = JSON.parse(text) as unknown;
		} catch {
			return { ok: false, message: 'is not valid JSON (expected an array of rows)' };
		}
	}
	if (
		v &&
		typeof v === 'object' &&
		!Array.isArray(v) &&
		Array.isArray((v as { rows?: unknown }).rows)
	)
		v = (v as { rows: unknown[] }).rows;
	if (!Array.isArray(v)) return { ok: false, message: 'must be an array of rows' };
	const rows = v.map((row: unknown) =>
		row &&
		typeof row === 'object' &&
		!Array.isArray(row) &&
		'json' in row &&
		typeof (row as { json: unknown }).json === 'object'
			? (row as { json: unknown }).json
			: row,
	);
	return { ok: true, rows };
}

function rowIssues<T>(
	table: TableName,
	schema: z.ZodType<T, z.ZodTypeDef, unknown>,
	rows: unknown[],
	issues: TableIssue[],
): Array<T & { row: number }> {
	const out: Array<T & { row: number }> = [];
	rows.forEach((raw, index) => {
		const row = index + 1;
		if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
			issues.push({ table, row, field: '(row)', message: 'must be an object with named columns' });
			return;
		}
		const parsed = schema.safeParse(raw);
		if (parsed.success) {
			out.push({ ...parsed.data, row });
			return;
		}
		for (const issue of parsed.error.issues) {
			issues.push({
				table,
				row,
				field: issue.path.length ? String(issue.path[0]) : '(row)',
				message: issue.message,
			});
		}
	});
	return out;
}

function indexRows<T extends { row: number }>(
	table: TableName,
	field: string,
	rules: T[],
	keyOf: (rule: T) => string,
	describe: (rule: T) => string,
	issues: TableIssue[],
): Map<string, T> {
	const map = new Map<string, T>();
	for (const rule of rules) {
		const key = keyOf(rule);
		const earlier = map.get(key);
		if (earlier) {
			issues.push({
				table,
				row: rule.row,
				otherRow: earlier.row,
				field,
				message: `duplicates row ${earlier.row}: both map ${describe(rule)} (codes match ignoring case and spaces); keep one`,
			});
			continue;
		}
		map.set(key, rule);
	}
	return map;
}

function checkAliasChains(rules: Map<string, SkuAliasRule>, issues: TableIssue[]): void {
	const reportedCycles = new Set<string>();
	for (const [from, rule] of rules) {
		const to = normaliseCode(rule.to);
		if (to === from) {
			issues.push({
				table: 'skuAliases',
				row: rule.row,
				field: 'to',
				message: `aliases "${rule.from}" to itself`,
			});
			continue;
		}
		const next = rules.get(to);
		if (!next) continue;
		// follow the chain (bounded by the table size) to tell a cycle from a chain
		const path = [rule];
		const seen = new Set([from]);
		let cursor: SkuAliasRule | undefined = next;
		let cycle = false;
		while (cursor && path.length <= rules.size) {
			const key = normaliseCode(cursor.from);
			if (seen.has(key)) {
				cycle = key === from;
				break;
			}
			seen.add(key);
			path.push(cursor);
			cursor = rules.get(normaliseCode(cursor.to));
		}
		if (cycle) {
			const id = path
				.map((r) => r.row)
				.sort((a, b) => a - b)
				.join(',');
			if (reportedCycles.has(id)) continue;
			reportedCycles.add(id);
			const text = [...path.map((r) => `"${r.from}"`), `"${rule.from}"`].join(' → ');
			issues.push({
				table: 'skuAliases',
				row: rule.row,
				otherRow: next.row,
				field: 'to',
				message: `alias cycle ${text} (rows ${path.map((r) => r.row).join(', ')}): a SKU cannot resolve`,
			});
		} else {
			const last = path[path.length - 1];
			issues.push({
				table: 'skuAliases',
				row: rule.row,
				otherRow: next.row,
				field: 'to',
				message: `maps "${rule.from}" to "${rule.to}", which row ${next.row} aliases again: aliases are single-hop, point this row straight at "${last.to}"`,
			});
		}
	}
}

export function formatTableIssue(issue: TableIssue): string {
	const where =
		issue.row > 0 ? `${TABLE_TITLES[issue.table]} row ${issue.row}` : TABLE_TITLES[issue.table];
	const field =
		issue.field && issue.field !== '(row)' && issue.field !== '(table)'
			? `, field "${issue.field}"`
			: '';
	return `${where}${field}: ${issue.message}`;
}

export function describeTableIssues(issues: TableIssue[]): string {
	const shown = issues.slice(0, 5).map(formatTableIssue);
	const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
	return `Mapping tables are invalid: ${shown.join('; ')}${more}`;
}

/** Validate and compile the three tables. Each table may be an array of rows, a JSON string of one, or n8n items. */
export function compileTables(raw: RawTables, options: CompileOptions = {}): CompileResult {
	const requireRows = options.requireRows ?? true;
	const issues: TableIssue[] = [];
	const rowsOf = (table: TableName, value: unknown): unknown[] => {
		const parsed = rowsFromInput(value);
		if (!parsed.ok) {
			issues.push({ table, row: 0, field: '(table)', message: parsed.message });
			return [];
		}
		return parsed.rows;
	};

	const dispositionRows = rowsOf('dispositions', raw.dispositions);
	const reasonRows = rowsOf('reasons', raw.reasons);
	const aliasRows = rowsOf('skuAliases', raw.skuAliases);
	const hadTableError = issues.length > 0;

	const dispositionRules = rowIssues('dispositions', DispositionRowSchema, dispositionRows, issues);
	const reasonRules = rowIssues('reasons', ReasonRowSchema, reasonRows, issues);
	const aliasRules = rowIssues('skuAliases', SkuAliasRowSchema, aliasRows, issues);

	if (requireRows && !hadTableError) {
		if (dispositionRows.length === 0) {
			issues.push({
				table: 'dispositions',
				row: 0,
				field: '(table)',
				message:
					'has no rows: add at least one disposition (an empty table would send every return to Unmapped)',
			});
		}
		if (reasonRows.length === 0) {
			issues.push({
				table: 'reasons',
				row: 0,
				field: '(table)',
				message:
					'has no rows: add the reasons, or a single "*" row with the Khaos reason id to use for every return',
			});
		}
	}

	const allDispositions = indexRows(
		'dispositions',
		'disposition',
		dispositionRules,
		(r) => normaliseCode(r.disposition),
		(r) => `"${r.disposition}"`,
		issues,
	);
	const allReasons = indexRows(
		'reasons',
		'reason',
		reasonRules,
		(r) =>
			normaliseCode(r.reason) === DEFAULT_CODE
				? DEFAULT_CODE
				: `${r.matchOn}:${normaliseCode(r.reason)}`,
		(r) =>
			normaliseCode(r.reason) === DEFAULT_CODE
				? 'the default "*"'
				: r.matchOn === 'reason'
					? `"${r.reason}"`
					: `"${r.reason}" matched on ${r.matchOn}`,
		issues,
	);
	const aliases = indexRows(
		'skuAliases',
		'from',
		aliasRules,
		(r) => normaliseCode(r.from),
		(r) => `"${r.from}"`,
		issues,
	);
	checkAliasChains(aliases, issues);

	if (issues.length > 0) {
		issues.sort((a, b) => tableOrder(a.table) - tableOrder(b.table) || a.row - b.row);
		return { ok: false, issues, message: describeTableIssues(issues) };
	}

	const defaultDisposition = allDispositions.get(DEFAULT_CODE) ?? null;
	allDispositions.delete(DEFAULT_CODE);
	const defaultReason = allReasons.get(DEFAULT_CODE) ?? null;
	allReasons.delete(DEFAULT_CODE);
	const reasons: Record<ReasonMatchOn, Map<string, ReasonRule>> = {
		reason: new Map(),
		action: new Map(),
		wish: new Map(),
	};
	for (const rule of allReasons.values())
		reasons[rule.matchOn].set(normaliseCode(rule.reason), rule);

	return {
		ok: true,
		tables: {
			dispositions: allDispositions,
			defaultDisposition,
			reasons,
			defaultReason,
			skuAliases: aliases,
			counts: {
				dispositions: dispositionRules.length,
				reasons: reasonRules.length,
				skuAliases: aliasRules.length,
			},
		},
	};
}

function tableOrder(table: TableName): number {
	return table === 'dispositions' ? 0 : table === 'reasons' ? 1 : 2;
}

/** A short description of what a disposition row does ("restock into site 1, location A1 (sellable)"). */
export function describeDispositionRule(rule: DispositionRow): string {
	const where = rule.siteId ? ` into site ${rule.siteId}, location ${rule.locationId}` : '';
	const credit =
		rule.credit === 'credit' ? '' : rule.credit === 'hold' ? ', credit held' : ', no credit';
	return `${rule.action}${where}${rule.sellable ? ' (sellable)' : ' (not sellable)'}${credit}`;
}
