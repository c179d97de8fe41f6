/**
 * The mapping audit (docs/mapping.md "The mapping audit"): every row of the disposition and reason
 * tables checked against Khaos, and every disposition and reason ReBound used in a window checked
 * against the rows. Read-only: it moves nothing and never fails on a wrong row; each finding names
 * the row, what is wrong and the fix, and becomes an exception item with a stable key (the daily
 * template alerts each once).
 *
 * Rules, per disposition row: its site exists in Khaos; its location exists at that site; a
 * `restock` row's location is sellable; a `quarantine` or `write_off` row's location is not. Per
 * reason row: its reason id is one of Khaos' return reasons. A row the Returns Mapping node itself
 * would refuse (an empty action, a duplicate, a restock without a location …) is reported as it is
 * and left out of the Khaos checks. Codes seen: each final disposition and each line's reason (as
 * Returns Mapping matches it) without an exact row, with counts; one the default (*) row takes is
 * listed but only a code no row takes at all is alerted (a return with it would stop).
 */
import { makeException, type ReturnException } from '../exceptions';
import {
	DispositionRowSchema,
	ReasonRowSchema,
	TABLE_TITLES,
	checkCodes,
	compileTables,
	describeDispositionRule,
	matchDisposition,
	matchReason,
	primaryReason,
	reasonCode,
	rowsFromInput,
	type CompiledTables,
	type DispositionRule,
	type ReasonRule,
	type TableIssue,
	type UnmappedKind,
} from '../mapping';
import type { LocationInfo, MappingAuditPort, ReturnReasonInfo, SiteInfo } from '../ports';
import { isReturnException } from '../exceptions';
import { normaliseCode, validateReturn, type NormalisedReturn } from '../returnModel';

export type AuditTable = 'dispositions' | 'reasons';

/** What is wrong with a row. */
export type RowProblem =
	| 'row_invalid'
	| 'site_missing'
	| 'location_missing'
	| 'restock_not_sellable'
	| 'held_on_sellable'
	| 'reason_missing';

export interface RowFinding {
	problem: RowProblem;
	table: AuditTable;
	/** 1-based row number in the table as read (0: the table as a whole). */
	row: number;
	/** The row's disposition or reason text ('' when it has none). */
	code: string;
	/** What the row says, in words. */
	rowText: string;
	/** The column to change. */
	field: string;
	/** What is wrong, one sentence. */
	message: string;
	/** How to fix it, one sentence. */
	fix: string;
	/** Stable key of its exception row. */
	key: string;
}

export interface UnmappedFinding {
	kind: UnmappedKind;
	/** The code as first seen ('' for lines with no reason). */
	code: string;
	/** Lines it was seen on. */
	count: number;
	returnCount: number;
	firstReturnId: string | null;
	/** True when the default (*) row takes it: returns with it go through, by that row. */
	fallsToDefault: boolean;
	defaultMapping: string | null;
	message: string;
	fix: string;
	key: string;
}

/** A code ReBound used in the window, and the row that takes it. */
export interface SeenCode {
	kind: UnmappedKind;
	code: string;
	count: number;
	/** The table row that takes it (the default row's number when by default); null: none. */
	row: number | null;
	matchedBy: 'exact' | 'default' | null;
}

export interface MappingAudit {
	title: string;
	generatedAt: string;
	/** How many days of ReBound returns were read (a label: the caller chose the returns). */
	days: number | null;
	/** True when no row is wrong and every code seen is taken by a row. */
	ok: boolean;
	khaos: { sites: number; locations: number; reasons: number };
	counts: {
		dispositionRows: number;
		reasonRows: number;
		returns: number;
		lines: number;
		/** Input items that were not readable returns (left out). */
		skippedItems: number;
		dispositionsSeen: number;
		reasonsSeen: number;
	};
	rows: RowFinding[];
	unmapped: UnmappedFinding[];
	seen: SeenCode[];
}

export interface AuditInput {
	/** The disposition table's rows (an array, its JSON text, n8n items). */
	dispositions: unknown;
	reasons: unknown;
	/** What ReBound returned over the window (normalised returns); anything else is skipped. */
	returns: readonly unknown[];
	days?: number | null;
	title?: string | null;
	now?: Date;
}

const ACTION_WORDS: Record<string, string> = {
	restock: 'restock',
	quarantine: 'quarantine',
	write_off: 'write-off',
	no_movement: 'no movement',
};

function q(text: string): string {
	return `"${text}"`;
}

function rowWhere(table: AuditTable, row: number, code: string): string {
	const title = TABLE_TITLES[table];
	if (row === 0) return title;
	return `${title} row ${row}${code ? ` (${q(code)})` : ''}`;
}

function rowKey(table: AuditTable, code: string, row: number, problem: RowProblem): string {
	return [
		'mapping_row_wrong',
		'-',
		`${table}:${normaliseCode(code) || `row ${row}`}`,
		problem,
	].join('|');
}

/** The stable key of an unmapped code's exception row: one per table and code, whatever the day. */
export function unmappedCodeKey(kind: UnmappedKind, code: string): string {
	return ['unmapped_code_seen', '-', kind, normaliseCode(code) || '(no reason)'].join('|');
}

function dispositionText(rule: DispositionRule): string {
	return `${q(rule.disposition)} → ${describeDispositionRule(rule)}`;
}

function reasonText(rule: ReasonRule): string {
	return `${q(rule.reason)}${rule.matchOn === 'reason' ? '' : ` (matched on ${rule.matchOn})`} → reason id ${rule.reasonId}`;
}

/** The raw value of a column, as text, for a row that did not validate. */
function rawText(raw: unknown, column: string): string {
	if (!raw || typeof raw !== 'object') return '';
	const v = (raw as Record<string, unknown>)[column];
	return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
}

const FIX_FOR_FIELD: Record<string, string> = {
	disposition: 'Type the ReBound disposition exactly as ReBound shows it.',
	action: 'Set action to one of restock, quarantine, write_off, no_movement.',
	siteId: 'Set siteId to the Khaos site ID (restock and quarantine need one).',
	locationId: 'Set locationId to the Khaos location ID at that site.',
	sellable:
		'Set sellable to false: only a restock row into a sellable location may make stock sellable.',
	credit: 'Set credit to credit, no_credit or hold (or leave it empty).',
	reason: 'Type the ReBound reason exactly as ReBound shows it.',
	reasonId: "Set reasonId to one of Khaos' return reason IDs.",
	matchOn: 'Set matchOn to reason, action or wish (or leave it empty).',
};

function invalidRowFinding(issue: TableIssue, raw: unknown[]): RowFinding {
	const table = issue.table as AuditTable;
	const code =
		issue.row > 0
			? rawText(raw[issue.row - 1], table === 'dispositions' ? 'disposition' : 'reason')
			: '';
	const duplicate = issue.otherRow !== undefined;
	const fix = duplicate
		? `Keep one of rows ${issue.otherRow} and ${issue.row}: delete the other (codes match ignoring case and spaces).`
		: issue.row === 0
			? 'Check the table is the mapping table and its rows have the named columns.'
			: (FIX_FOR_FIELD[issue.field] ?? `Correct the ${issue.field} column.`);
	return {
		problem: 'row_invalid',
		table,
		row: issue.row,
		code,
		rowText: issue.row > 0 ? rowSummary(raw[issue.row - 1]) : '',
		field: issue.field,
		message: `${rowWhere(table, issue.row, code)}: ${issue.message}; the Returns Mapping node refuses the tables until it is fixed, so no return maps`,
		fix,
		key: rowKey(table, code, issue.row, 'row_invalid') + `|${issue.field}`,
	};
}

function rowSummary(raw: unknown): string {
	if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return String(raw);
	return Object.entries(raw as Record<string, unknown>)
		.filter(([k]) => !['id', 'createdAt', 'updatedAt'].includes(k))
		.map(([k, v]) => `${k}: ${v === null || v === undefined ? '' : String(v)}`)
		.join(', ');
}

function listSites(sites: SiteInfo[]): string {
	return sites.length
		? sites.map((s) => `${s.id}${s.name ? ` (${s.name})` : ''}`).join(', ')
		: 'none (Khaos lists no sites: check the Khaos credential)';
}

function listLocations(locations: LocationInfo[], sellable?: boolean): string {
	const shown =
		sellable === undefined ? locations : locations.filter((l) => l.sellable === sellable);
	return shown.length
		? shown.map((l) => `${l.id}${l.name ? ` (${l.name})` : ''}`).join(', ')
		: 'none at this site';
}

function listReasons(reasons: ReturnReasonInfo[]): string {
	const shown = reasons
		.slice(0, 20)
		.map((r) => `${r.id} ${r.code}${r.description ? ` (${r.description})` : ''}`);
	const more = reasons.length > 20 ? ` and ${reasons.length - 20} more` : '';
	return shown.length ? `${shown.join(', ')}${more}` : 'none (Khaos lists no return reasons)';
}

/** The same ID written differently (case, spaces): what the row probably meant. */
function sameIdDifferently<T extends { id: string }>(list: T[], id: string): T | undefined {
	return list.find((x) => normaliseCode(x.id) === normaliseCode(id));
}

interface Parsed {
	/** Rows that passed the Returns Mapping rules, with their row numbers in the table as read. */
	dispositions: DispositionRule[];
	reasons: ReasonRule[];
	/** Compiled from those rows (for matching the codes seen). */
	tables: CompiledTables;
	/** Row number in the compiled tables → row number in the table as read. */
	dispositionRowOf: number[];
	reasonRowOf: number[];
	findings: RowFinding[];
	counts: { dispositionRows: number; reasonRows: number };
}

function parseTables(input: AuditInput): Parsed {
	const findings: RowFinding[] = [];
	const rowsOf = (table: AuditTable, value: unknown): unknown[] => {
		const r = rowsFromInput(value);
		if (r.ok) return r.rows;
		findings.push(invalidRowFinding({ table, row: 0, field: '(table)', message: r.message }, []));
		return [];
	};
	const dRaw = rowsOf('dispositions', input.dispositions);
	const rRaw = rowsOf('reasons', input.reasons);
	// the Returns Mapping rules: a row it would refuse is a finding of its own
	const compiled = compileTables({ dispositions: dRaw, reasons: rRaw }, { requireRows: false });
	const bad = { dispositions: new Set<number>(), reasons: new Set<number>() };
	if (!compiled.ok) {
		for (const issue of compiled.issues) {
			if (issue.table === 'skuAliases') continue;
			findings.push(invalidRowFinding(issue, issue.table === 'dispositions' ? dRaw : rRaw));
			bad[issue.table].add(issue.row);
		}
	}
	const good = <T>(
		raw: unknown[],
		table: AuditTable,
		schema: { safeParse: (v: unknown) => { success: boolean; data?: T } },
	) => {
		const rows: Array<T & { row: number }> = [];
		raw.forEach((r, i) => {
			if (bad[table].has(i + 1)) return;
			const p = schema.safeParse(r);
			if (p.success) rows.push({ ...(p.data as T), row: i + 1 });
		});
		return rows;
	};
	const dispositions = good(dRaw, 'dispositions', DispositionRowSchema) as DispositionRule[];
	const reasons = good(rRaw, 'reasons', ReasonRowSchema) as ReasonRule[];
	const strip = <T extends { row: number }>(rows: T[]) =>
		rows.map((r) => {
			const copy: Partial<T> = { ...r };
			delete copy.row;
			return copy;
		});
	const again = compileTables(
		{ dispositions: strip(dispositions), reasons: strip(reasons) },
		{ requireRows: false },
	);
	if (!again.ok) throw new Error(`mapping audit: ${again.message}`); // cannot happen: the bad rows are out
	return {
		dispositions,
		reasons,
		tables: again.tables,
		dispositionRowOf: dispositions.map((r) => r.row),
		reasonRowOf: reasons.map((r) => r.row),
		findings,
		counts: { dispositionRows: dRaw.length, reasonRows: rRaw.length },
	};
}

function dispositionFindings(
	rules: DispositionRule[],
	sites: SiteInfo[],
	locationsBySite: Map<string, LocationInfo[]>,
): RowFinding[] {
	const out: RowFinding[] = [];
	for (const rule of rules) {
		if (!rule.siteId) continue; // no_movement, or a write-off without a location
		const where = rowWhere('dispositions', rule.row, rule.disposition);
		const action = ACTION_WORDS[rule.action] ?? rule.action;
		const finding = (problem: RowProblem, field: string, message: string, fix: string) =>
			out.push({
				problem,
				table: 'dispositions',
				row: rule.row,
				code: rule.disposition,
				rowText: dispositionText(rule),
				field,
				message: `${where}: ${message}`,
				fix,
				key: rowKey('dispositions', rule.disposition, rule.row, problem),
			});
		const site = sites.find((s) => s.id === rule.siteId);
		if (!site) {
			const like = sameIdDifferently(sites, rule.siteId);
			finding(
				'site_missing',
				'siteId',
				`site ${q(rule.siteId)} does not exist in Khaos, so every ${action} with this grade is refused`,
				like
					? `Set siteId to ${q(like.id)} (Khaos writes the ID so).`
					: `Set siteId to the Khaos site this grade goes to: ${listSites(sites)}.`,
			);
			continue;
		}
		if (!rule.locationId) continue;
		const locations = locationsBySite.get(site.id) ?? [];
		const location = locations.find((l) => l.id === rule.locationId);
		const wantSellable =
			rule.action === 'restock' ? true : rule.action === 'no_movement' ? undefined : false;
		if (!location) {
			const like = sameIdDifferently(locations, rule.locationId);
			const kind =
				wantSellable === true ? 'sellable ' : wantSellable === false ? 'non-sellable ' : '';
			finding(
				'location_missing',
				'locationId',
				`location ${q(rule.locationId)} does not exist at site ${site.id}${site.name ? ` (${site.name})` : ''} in Khaos, so every ${action} with this grade is refused`,
				like
					? `Set locationId to ${q(like.id)} (Khaos writes the ID so).`
					: `Set locationId to a ${kind}location of site ${site.id}: ${listLocations(locations, wantSellable)}.`,
			);
			continue;
		}
		if (rule.action === 'restock' && !location.sellable) {
			finding(
				'restock_not_sellable',
				'locationId',
				`restock into location ${location.id} of site ${site.id}, which Khaos does not count as sellable: restocked units would never go back on sale`,
				`Point the row at a sellable location of site ${site.id} (${listLocations(locations, true)}), or set its action to quarantine if these units must not be sold.`,
			);
		}
		if ((rule.action === 'quarantine' || rule.action === 'write_off') && location.sellable) {
			finding(
				'held_on_sellable',
				'locationId',
				`${action} into location ${location.id} of site ${site.id}, which Khaos counts as sellable: units meant to be held back would be on sale`,
				`Point the row at a non-sellable location of site ${site.id} (${listLocations(locations, false)}).`,
			);
		}
	}
	return out;
}

function reasonFindings(rules: ReasonRule[], reasons: ReturnReasonInfo[]): RowFinding[] {
	const out: RowFinding[] = [];
	for (const rule of rules) {
		if (reasons.some((r) => r.id === rule.reasonId)) continue;
		const byCode = reasons.find(
			(r) =>
				normaliseCode(r.code) === normaliseCode(rule.reasonId) ||
				normaliseCode(r.id) === normaliseCode(rule.reasonId),
		);
		out.push({
			problem: 'reason_missing',
			table: 'reasons',
			row: rule.row,
			code: rule.reason,
			rowText: reasonText(rule),
			field: 'reasonId',
			message: `${rowWhere('reasons', rule.row, rule.reason)}: reason id ${q(rule.reasonId)} is not a Khaos return reason, so Khaos refuses every return with this reason`,
			fix: byCode
				? `Set reasonId to ${q(byCode.id)} (the ID of Khaos' reason ${byCode.code}).`
				: `Set reasonId to one of Khaos' return reason IDs: ${listReasons(reasons)}.`,
			key: rowKey('reasons', rule.reason, rule.row, 'reason_missing'),
		});
	}
	return out;
}

/** The returns among the input items (exception items and unreadable items are skipped). */
function readReturns(items: readonly unknown[]): { returns: NormalisedReturn[]; skipped: number } {
	const returns: NormalisedReturn[] = [];
	let skipped = 0;
	for (const item of items) {
		if (!item || typeof item !== 'object' || Object.keys(item).length === 0) continue;
		if (isReturnException(item)) {
			skipped++;
			continue;
		}
		const v = validateReturn(item);
		if (v.ok) returns.push(v.value);
		else skipped++;
	}
	return { returns, skipped };
}

function seenCodes(returns: NormalisedReturn[], p: Parsed): SeenCode[] {
	const acc = new Map<string, SeenCode>();
	const see = (kind: UnmappedKind, code: string, row: number | null, by: SeenCode['matchedBy']) => {
		const key = `${kind}|${normaliseCode(code)}`;
		const s = acc.get(key);
		if (s) s.count++;
		else
			acc.set(key, { kind, code: code.trim().replace(/\s+/g, ' '), count: 1, row, matchedBy: by });
	};
	for (const ret of returns) {
		for (const line of ret.lines) {
			if (line.disposition !== null && line.disposition.trim() !== '') {
				const m = matchDisposition(line.disposition, p.tables);
				see(
					'disposition',
					line.disposition,
					m ? p.dispositionRowOf[m.rule.row - 1] : null,
					m?.matchedBy ?? null,
				);
			}
			const entry = primaryReason(line);
			const m = matchReason(entry, p.tables);
			see(
				'reason',
				entry ? reasonCode(entry) : '',
				m ? p.reasonRowOf[m.rule.row - 1] : null,
				m?.matchedBy ?? null,
			);
		}
	}
	return [...acc.values()].sort(
		(a, b) =>
			(a.kind === b.kind ? 0 : a.kind === 'disposition' ? -1 : 1) ||
			b.count - a.count ||
			a.code.localeCompare(b.code),
	);
}

function unmappedFindings(returns: NormalisedReturn[], p: Parsed): UnmappedFinding[] {
	return checkCodes(returns, p.tables).map((c) => {
		const what = c.kind === 'disposition' ? 'disposition' : 'reason';
		const fix =
			c.kind === 'disposition'
				? `Add a row for ${q(c.code)} to the disposition table: its action and, for restock or quarantine, the Khaos site and location.`
				: c.code === ''
					? 'Add a default (*) row to the reason table with the Khaos reason id for lines without a reason.'
					: `Add a row for ${q(c.code)} to the reason table with its Khaos return reason id.`;
		return {
			kind: c.kind,
			code: c.code,
			count: c.count,
			returnCount: c.returnCount,
			firstReturnId: c.firstReturnId,
			fallsToDefault: c.fallsToDefault,
			defaultMapping: c.defaultMapping,
			message: c.message,
			fix: c.fallsToDefault
				? `Nothing stops: the default row takes it (${c.defaultMapping}). If that is not right for it, add a ${what} row for ${q(c.code)}.`
				: fix,
			key: unmappedCodeKey(c.kind, c.code),
		};
	});
}

/**
 * Audit the mapping tables against Khaos and the codes ReBound used. Khaos is asked for its sites,
 * the locations of each site a row names, and its return reasons; a failed call rejects (the node
 * reports it), a wrong row never does.
 */
export async function auditMappings(
	port: MappingAuditPort,
	input: AuditInput,
): Promise<MappingAudit> {
	const now = input.now ?? new Date();
	const parsed = parseTables(input);
	const sites = await port.getSites();
	const locationsBySite = new Map<string, LocationInfo[]>();
	for (const siteId of new Set(
		parsed.dispositions.map((r) => r.siteId).filter((s): s is string => !!s),
	)) {
		if (!sites.some((s) => s.id === siteId)) continue;
		locationsBySite.set(siteId, await port.getLocations(siteId));
	}
	const reasons = await port.getReturnReasons();
	const { returns, skipped } = readReturns(input.returns);
	const rows = [
		...parsed.findings,
		...dispositionFindings(parsed.dispositions, sites, locationsBySite),
		...reasonFindings(parsed.reasons, reasons),
	].sort(
		(a, b) => (a.table === b.table ? 0 : a.table === 'dispositions' ? -1 : 1) || a.row - b.row,
	);
	const unmapped = unmappedFindings(returns, parsed);
	const seen = seenCodes(returns, parsed);
	return {
		title: input.title?.trim() || 'Mapping audit',
		generatedAt: now.toISOString(),
		days: input.days ?? null,
		ok: rows.length === 0 && unmapped.every((u) => u.fallsToDefault),
		khaos: {
			sites: sites.length,
			locations: [...locationsBySite.values()].reduce((n, l) => n + l.length, 0),
			reasons: reasons.length,
		},
		counts: {
			...parsed.counts,
			returns: returns.length,
			lines: returns.reduce((n, r) => n + r.lines.length, 0),
			skippedItems: skipped,
			dispositionsSeen: seen.filter((s) => s.kind === 'disposition').length,
			reasonsSeen: seen.filter((s) => s.kind === 'reason').length,
		},
		rows,
		unmapped,
		seen,
	};
}

/**
 * The audit's findings as exception items for the exception sink (owner ops): one per wrong row
 * (mapping_row_wrong) and one per code seen that no row takes (unmapped_code_seen; a code the
 * default row takes is not alerted). Keys are stable (table and code, not the day or the row
 * number), so the daily run alerts each once and then only updates its row.
 */
export function auditExceptions(audit: MappingAudit): ReturnException[] {
	const out: ReturnException[] = [];
	for (const f of audit.rows) {
		const ex = makeException('mapping_row_wrong', f.message, {
			stage: 'mapping',
			code: f.code || null,
			field: f.field,
			occurredAt: audit.generatedAt,
			details: { table: f.table, row: f.row, problem: f.problem, row_says: f.rowText, fix: f.fix },
		});
		out.push({ ...ex, key: f.key, action: f.fix });
	}
	for (const u of audit.unmapped.filter((x) => !x.fallsToDefault)) {
		const days = audit.days ? ` in the last ${audit.days} days` : '';
		const what = u.kind === 'disposition' ? 'Disposition' : 'Reason';
		const ex = makeException(
			'unmapped_code_seen',
			`${u.code === '' ? 'Lines with no reason' : `${what} ${q(u.code)}`} was seen in ReBound${days} on ${u.count} line${u.count === 1 ? '' : 's'} of ${u.returnCount} return${u.returnCount === 1 ? '' : 's'}${u.firstReturnId ? ` (first ${u.firstReturnId})` : ''} and has no mapping row: a return with it stops at mapping`,
			{
				stage: 'mapping',
				code: u.code || null,
				field: u.kind === 'disposition' ? 'disposition' : 'reasons',
				occurredAt: audit.generatedAt,
				details: {
					kind: u.kind,
					count: u.count,
					returnCount: u.returnCount,
					firstReturnId: u.firstReturnId,
					days: audit.days,
				},
			},
		);
		out.push({ ...ex, key: u.key, action: u.fix });
	}
	return out;
}
