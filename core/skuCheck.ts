/**
 * What Validate SKUs finds wrong with a return's Khaos stock codes, from one batched product
 * look-up: unknown (not a Khaos product), deleted (archived), not stock controlled, and
 * discontinued (flagged on the valid return, a notice beside it too, or a problem: DiscontinuedRule).
 */
import { isCarried, validateCarriedReturn } from './carriedReturn';
import type { ExceptionKind, ReturnException } from './exceptions';
import { validateMappedReturn } from './mapping';
import { validateReturn, validateWith, wireKey } from './returnModel';

/** The product facts the check reads (transports/khaos/api.ts KhaosProduct has them). */
export interface ProductFacts {
	stockCode: string;
	deleted: boolean;
	discontinued: boolean;
	stockControlled: boolean;
}

export interface SkuLine {
	/** The Khaos stock code checked (the mapping's khaosSku, else the SKU). */
	code: string;
	lineId: string | null;
	/** The SKU as ReBound sent it. */
	sku: string;
}

export interface SkuFinding {
	kind: Extract<ExceptionKind, 'unknown_sku' | 'archived_sku' | 'discontinued_sku'>;
	message: string;
	line: SkuLine;
}

export interface SkuVerdict {
	/** Findings that stop the return. */
	problems: SkuFinding[];
	/** Findings recorded beside a return that goes on (discontinued, set to notice). */
	notices: SkuFinding[];
}

/** The stock code of a line: the mapping's khaosSku when the return was mapped, else the SKU. */
export function lineCode(line: { sku?: unknown; mapping?: unknown }): string {
	const mapping = line.mapping as { khaosSku?: unknown } | undefined;
	const mapped = mapping && typeof mapping.khaosSku === 'string' ? mapping.khaosSku.trim() : '';
	return mapped || String(line.sku ?? '').trim();
}

/**
 * What a discontinued product does: `flag` (the line is marked discontinued on the valid return
 * only), `notice` (a discontinued_sku notice beside it too) or `block` (a problem that stops it).
 */
export type DiscontinuedRule = 'flag' | 'notice' | 'block';

/** Judge every line of one record (`name`: "Return R1" or "Item") against the products found. */
export function judgeSkus(
	name: string,
	lines: SkuLine[],
	products: ReadonlyMap<string, ProductFacts>,
	discontinued: DiscontinuedRule,
): SkuVerdict {
	const block = discontinued === 'block';
	const verdict: SkuVerdict = { problems: [], notices: [] };
	for (const line of lines) {
		const p = products.get(line.code);
		const where = line.lineId ? ` (line ${line.lineId})` : '';
		const at = `${name}: SKU ${line.code}${where}`;
		const add = (kind: SkuFinding['kind'], message: string, notice = false) =>
			(notice ? verdict.notices : verdict.problems).push({ kind, message, line });
		if (!p) add('unknown_sku', `${at} is not a Khaos product`);
		else if (p.deleted) add('archived_sku', `${at} is deleted (archived) in Khaos`);
		else if (p.discontinued && discontinued !== 'flag')
			add(
				'discontinued_sku',
				`${at} is discontinued in Khaos${block ? ': the return waits (Discontinued SKUs: block)' : ' and was let through (its stock moves by its grade)'}`,
				!block,
			);
		if (p && !p.deleted && !p.stockControlled)
			add('archived_sku', `${at} is not stock controlled in Khaos`);
	}
	return verdict;
}

/** What one item asks Validate SKUs to check. */
export interface SkuRequest {
	/** One per return line, or one for an item with a `sku` field (a plain SKU check). */
	lines: SkuLine[];
	plain: boolean;
	/** The problems a carried return arrived with (core/carriedReturn.ts). */
	carried: ReturnException[];
}

/**
 * The lines an item asks to check: a return (normalised, mapped, or carried with its problems:
 * validated, since its stock codes go onto the wire) or an item with a `sku` field; else why not.
 */
export function skuRequestOf(
	json: Record<string, unknown>,
	name: string,
): { ok: true; request: SkuRequest } | { ok: false; message: string; field: string | null } {
	if (Array.isArray(json.lines)) {
		const mapped = (json.lines as unknown[]).some(
			(l) => typeof l === 'object' && l !== null && 'mapping' in l,
		);
		const carried = isCarried(json) ? validateCarriedReturn(json) : null;
		const parsed = carried ?? (mapped ? validateMappedReturn(json) : validateReturn(json));
		if (!parsed.ok)
			return { ok: false, message: parsed.message, field: parsed.issues[0]?.field ?? null };
		const lines = (json.lines as Array<Record<string, unknown>>).map((line) => ({
			code: lineCode(line),
			lineId: typeof line.lineId === 'string' ? line.lineId : null,
			sku: String(line.sku),
		}));
		const problems = carried?.ok ? carried.value.problems : [];
		return { ok: true, request: { lines, plain: false, carried: problems } };
	}
	if (typeof json.sku === 'string' && json.sku.trim() !== '') {
		const sku = validateWith(wireKey(255, 'sku is empty'), lineCode(json), name);
		if (!sku.ok) return { ok: false, message: sku.message.replace('(root)', 'sku'), field: 'sku' };
		const line = { code: lineCode(json), lineId: null, sku: json.sku };
		return { ok: true, request: { lines: [line], plain: true, carried: [] } };
	}
	return {
		ok: false,
		message: `${name} is invalid: expected a return (lines) or an item with a sku field`,
		field: 'lines',
	};
}
