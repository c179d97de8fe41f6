/**
 * Credit-note calculator: the value of a credit for returned units, computed
 * from the original sales order (never from the refund the returns platform
 * reports), following the rules of docs/credit-notes.md ("Step by step") to the penny.
 *
 * All money is integer pence. Products that can pass 2^53 are done in BigInt.
 * Bad data never throws from computeCredit: it comes back as problems.
 * See docs/credit-notes.md for the explanation written for finance staff.
 */
import {
	allocateBig,
	decimalFraction,
	floorDiv,
	roundDiv,
	toSafeNumber,
	type DecimalFraction,
} from './creditNoteMath';
import type { ExceptionKind } from './exceptions';

export type DeliveryPolicy = 'never' | 'whole_order' | 'always';
export type RoundingRule = 'half_up' | 'half_even';

export interface CreditOrderLine {
	lineId: string;
	sku: string;
	qtySold: number;
	/** units of this line already credited on earlier returns (they are counted first) */
	qtyPreviouslyReturned: number;
	/** unit price before the line discount, integer pence, in the order's price basis */
	unitPricePence: number;
	/** e.g. 10 or 12.5; 100 allowed */
	discountPercent: number;
	/** line value discount, pence */
	discountValuePence: number;
	/** 20, 5, 0 */
	vatRatePercent: number;
}

export interface CreditOrder {
	orderRef: string;
	currency: string;
	exchangeRate: number;
	priceBasis: 'gross' | 'net';
	/** default 'line' */
	vatRounding?: 'line' | 'total';
	/** order-level value discount (promotion), in the price basis */
	orderDiscountPence: number;
	/** in the price basis */
	delivery: { pricePence: number; vatRatePercent: number } | null;
	deliveryAlreadyRefunded: boolean;
	lines: CreditOrderLine[];
}

export interface CreditRequestLine {
	sku: string;
	quantity: number;
	lineId?: string;
	/** caller's id for tracing, e.g. the ReBound line id */
	ref?: string;
}

export interface CreditOptions {
	deliveryPolicy: DeliveryPolicy;
	/** rounding of line values and VAT, default 'half_up' */
	rounding?: RoundingRule;
	/** per credited line, default 1 */
	tolerancePencePerLine?: number;
	/** refund ReBound reports, pence, or null */
	refundPence?: number | null;
}

export interface CreditLine {
	kind: 'item' | 'delivery';
	lineId: string | null;
	sku: string | null;
	ref: string | null;
	/** every distinct caller ref whose units this line covers, in request order (optional extension) */
	refs?: string[];
	quantity: number;
	/** units a+1..b of the order line that this credit covers */
	fromUnit: number;
	toUnit: number;
	netPence: number;
	vatPence: number;
	grossPence: number;
	vatRatePercent: number;
}

export interface CreditProblem {
	kind: 'quantity_exceeds_sold' | 'line_not_found' | 'invalid_input';
	sku: string | null;
	lineId: string | null;
	requested: number;
	available: number;
	field: string | null;
	message: string;
}

export type CreditResult =
	| {
			ok: true;
			orderRef: string;
			currency: string;
			exchangeRate: number;
			lines: CreditLine[];
			totals: { netPence: number; vatPence: number; grossPence: number };
			deliveryRefunded: boolean;
			/** differencePence = refundPence − creditPence (positive: the platform refunded more than the credit) */
			mismatch: {
				refundPence: number;
				creditPence: number;
				differencePence: number;
				tolerancePence: number;
				overTolerance: boolean;
			} | null;
	  }
	| { ok: false; orderRef: string; problems: CreditProblem[] };

/** The exception kind (core/exceptions.ts) each credit problem becomes; an over-tolerance mismatch is 'credit_mismatch'. */
export const CREDIT_PROBLEM_EXCEPTION_KIND: Record<CreditProblem['kind'], ExceptionKind> = {
	quantity_exceeds_sold: 'quantity_exceeds_sold',
	line_not_found: 'unknown_sku',
	invalid_input: 'invalid_payload',
};

const ROUNDING_RULES: readonly RoundingRule[] = ['half_up', 'half_even'];
const POLICIES: readonly DeliveryPolicy[] = ['never', 'whole_order', 'always'];
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------- validation

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
	if (typeof value === 'string')
		return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
	if (
		typeof value === 'number' ||
		typeof value === 'boolean' ||
		value === null ||
		value === undefined
	)
		return String(value);
	return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

class Problems {
	readonly list: CreditProblem[] = [];
	constructor(private readonly orderRef: string) {}

	invalid(
		field: string,
		value: unknown,
		expected: string,
		ctx: { sku?: string | null; lineId?: string | null } = {},
	): void {
		this.list.push({
			kind: 'invalid_input',
			sku: ctx.sku ?? null,
			lineId: ctx.lineId ?? null,
			requested: 0,
			available: 0,
			field,
			message: `Order ${this.orderRef}: ${field} must be ${expected} (got ${describe(value)})`,
		});
	}

	/** Non-negative safe integer (pence, quantities). */
	count(
		field: string,
		value: unknown,
		ctx: { sku?: string | null; lineId?: string | null } = {},
	): value is number {
		if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return true;
		this.invalid(field, value, 'a whole number, 0 or more', ctx);
		return false;
	}

	/** A percentage in 0..100 (fractions allowed). */
	percent(
		field: string,
		value: unknown,
		ctx: { sku?: string | null; lineId?: string | null } = {},
	): value is number {
		if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100)
			return true;
		this.invalid(field, value, 'a percentage from 0 to 100', ctx);
		return false;
	}
}

function labelOf(order: unknown): string {
	if (isObject(order) && typeof order.orderRef === 'string' && order.orderRef.trim() !== '')
		return order.orderRef;
	return '(no ref)';
}

function validateOrder(order: unknown, problems: Problems): order is CreditOrder {
	const before = problems.list.length;
	if (!isObject(order)) {
		problems.invalid('order', order, 'an object');
		return false;
	}
	if (typeof order.orderRef !== 'string' || order.orderRef.trim() === '')
		problems.invalid('order.orderRef', order.orderRef, 'a non-empty text');
	if (typeof order.currency !== 'string' || order.currency.trim() === '')
		problems.invalid('order.currency', order.currency, 'a currency code');
	if (
		typeof order.exchangeRate !== 'number' ||
		!Number.isFinite(order.exchangeRate) ||
		order.exchangeRate <= 0
	) {
		problems.invalid('order.exchangeRate', order.exchangeRate, 'a number above 0');
	}
	if (order.priceBasis !== 'gross' && order.priceBasis !== 'net')
		problems.invalid('order.priceBasis', order.priceBasis, "'gross' or 'net'");
	if (
		order.vatRounding !== undefined &&
		order.vatRounding !== 'line' &&
		order.vatRounding !== 'total'
	) {
		problems.invalid('order.vatRounding', order.vatRounding, "'line' or 'total'");
	}
	problems.count('order.orderDiscountPence', order.orderDiscountPence);
	if (order.delivery !== null) {
		if (!isObject(order.delivery))
			problems.invalid('order.delivery', order.delivery, 'null or { pricePence, vatRatePercent }');
		else {
			problems.count('order.delivery.pricePence', order.delivery.pricePence);
			problems.percent('order.delivery.vatRatePercent', order.delivery.vatRatePercent);
		}
	}
	if (typeof order.deliveryAlreadyRefunded !== 'boolean')
		problems.invalid(
			'order.deliveryAlreadyRefunded',
			order.deliveryAlreadyRefunded,
			'true or false',
		);
	if (!Array.isArray(order.lines)) {
		problems.invalid('order.lines', order.lines, 'a list of order lines');
		return false;
	}
	const seen = new Set<string>();
	order.lines.forEach((raw: unknown, i: number) => {
		const base = `order.lines[${i}]`;
		if (!isObject(raw)) {
			problems.invalid(base, raw, 'an order line object');
			return;
		}
		const sku = typeof raw.sku === 'string' ? raw.sku : null;
		const lineId = typeof raw.lineId === 'string' ? raw.lineId : null;
		const ctx = { sku, lineId };
		if (lineId === null || lineId.trim() === '')
			problems.invalid(`${base}.lineId`, raw.lineId, 'a non-empty text', ctx);
		else if (seen.has(lineId.trim()))
			problems.invalid(
				`${base}.lineId`,
				raw.lineId,
				'unique on the order (it repeats an earlier line)',
				ctx,
			);
		else seen.add(lineId.trim());
		if (sku === null) problems.invalid(`${base}.sku`, raw.sku, 'a text', ctx);
		const soldOk = problems.count(`${base}.qtySold`, raw.qtySold, ctx);
		if (
			problems.count(`${base}.qtyPreviouslyReturned`, raw.qtyPreviouslyReturned, ctx) &&
			soldOk &&
			raw.qtyPreviouslyReturned > (raw.qtySold as number)
		) {
			problems.invalid(
				`${base}.qtyPreviouslyReturned`,
				raw.qtyPreviouslyReturned,
				`at most the quantity sold (${String(raw.qtySold)})`,
				ctx,
			);
		}
		problems.count(`${base}.unitPricePence`, raw.unitPricePence, ctx);
		problems.percent(`${base}.discountPercent`, raw.discountPercent, ctx);
		problems.count(`${base}.discountValuePence`, raw.discountValuePence, ctx);
		problems.percent(`${base}.vatRatePercent`, raw.vatRatePercent, ctx);
	});
	return problems.list.length === before;
}

function validateOptions(options: unknown, problems: Problems): void {
	if (!isObject(options)) {
		problems.invalid('options', options, 'an object');
		return;
	}
	if (!POLICIES.includes(options.deliveryPolicy as DeliveryPolicy)) {
		problems.invalid(
			'options.deliveryPolicy',
			options.deliveryPolicy,
			"'never', 'whole_order' or 'always'",
		);
	}
	if (
		options.rounding !== undefined &&
		!ROUNDING_RULES.includes(options.rounding as RoundingRule)
	) {
		problems.invalid('options.rounding', options.rounding, "'half_up' or 'half_even'");
	}
	if (options.tolerancePencePerLine !== undefined)
		problems.count('options.tolerancePencePerLine', options.tolerancePencePerLine);
	if (options.refundPence !== undefined && options.refundPence !== null)
		problems.count('options.refundPence', options.refundPence);
}

/** Validates every request line; returns the indexes that are usable. */
function validateRequest(request: unknown, problems: Problems): number[] {
	if (!Array.isArray(request)) {
		problems.invalid('request', request, 'a list of returned lines');
		return [];
	}
	if (request.length === 0) {
		problems.invalid('request', request, 'a list with at least one returned line');
		return [];
	}
	const usable: number[] = [];
	request.forEach((raw: unknown, i: number) => {
		const base = `request[${i}]`;
		if (!isObject(raw)) {
			problems.invalid(base, raw, 'a returned-line object');
			return;
		}
		const before = problems.list.length;
		const sku = typeof raw.sku === 'string' ? raw.sku : null;
		const hasLineId = typeof raw.lineId === 'string' && raw.lineId.trim() !== '';
		const lineId = hasLineId ? (raw.lineId as string) : null;
		const ctx = { sku, lineId };
		if (raw.lineId !== undefined && raw.lineId !== null && typeof raw.lineId !== 'string')
			problems.invalid(`${base}.lineId`, raw.lineId, 'a text', ctx);
		if (!hasLineId && (sku === null || sku.trim() === ''))
			problems.invalid(`${base}.sku`, raw.sku, 'a non-empty SKU (or give a lineId)', ctx);
		if (raw.ref !== undefined && raw.ref !== null && typeof raw.ref !== 'string')
			problems.invalid(`${base}.ref`, raw.ref, 'a text', ctx);
		problems.count(`${base}.quantity`, raw.quantity, ctx);
		if (problems.list.length === before) usable.push(i);
	});
	return usable;
}

// ---------------------------------------------------------------- line values

interface Fraction {
	num: bigint;
	den: bigint;
}

function percentFraction(percent: number): Fraction {
	const f: DecimalFraction = decimalFraction(percent);
	return { num: f.num, den: f.den };
}

function lineValueBig(
	line: Pick<
		CreditOrderLine,
		'unitPricePence' | 'qtySold' | 'discountPercent' | 'discountValuePence'
	>,
	rounding: RoundingRule,
): bigint {
	const pct = percentFraction(line.discountPercent);
	// unit × qty × (100 − pct) / 100 with pct = num/den: unit × qty × (100·den − num) / (100·den)
	const keep = 100n * pct.den - pct.num;
	const gross = roundDiv(
		BigInt(line.unitPricePence) * BigInt(line.qtySold) * keep,
		100n * pct.den,
		rounding,
	);
	const value = gross - BigInt(line.discountValuePence);
	return value > 0n ? value : 0n;
}

interface PaidBig {
	value: bigint;
	share: bigint;
	paid: bigint;
}

function paidBig(order: CreditOrder, rounding: RoundingRule): PaidBig[] {
	const values = order.lines.map((line) => lineValueBig(line, rounding));
	const total = values.reduce((sum, v) => sum + v, 0n);
	// a discount larger than everything on the order can only take the lines to 0: never a share above V
	const discount =
		BigInt(order.orderDiscountPence) > total ? total : BigInt(order.orderDiscountPence);
	const shares = allocateBig(values, discount);
	return values.map((value, i) => ({ value, share: shares[i], paid: value - shares[i] }));
}

function throwFirst(problems: Problems): void {
	if (problems.list.length > 0) throw new RangeError(problems.list[0].message);
}

/**
 * Largest-remainder split of `discount` over `values` in proportion; ties to
 * the earlier index; sums exactly to discount. When every value is 0 there is
 * nothing to share over and every part is 0. Throws RangeError for negative or
 * non-integer input (computeCredit validates first and never throws).
 */
export function allocateProportionally(values: number[], discount: number): number[] {
	const problems = new Problems('(allocation)');
	if (!Array.isArray(values)) problems.invalid('values', values, 'a list of whole numbers');
	else values.forEach((v, i) => problems.count(`values[${i}]`, v));
	problems.count('discount', discount);
	throwFirst(problems);
	const parts = allocateBig(
		values.map((v) => BigInt(v)),
		BigInt(discount),
	);
	return parts.map((p, i) => toSafeNumber(p, `part ${i}`));
}

/**
 * Line value V = round(unit × qty sold × (100 − pct) / 100) − value discount,
 * never below 0. Exact for fractional percents (12.5, 33.33). Throws
 * RangeError for invalid input.
 */
export function lineValuePence(
	line: Pick<
		CreditOrderLine,
		'unitPricePence' | 'qtySold' | 'discountPercent' | 'discountValuePence'
	>,
	rounding: RoundingRule = 'half_up',
): number {
	const problems = new Problems('(line)');
	problems.count('unitPricePence', line.unitPricePence);
	problems.count('qtySold', line.qtySold);
	problems.percent('discountPercent', line.discountPercent);
	problems.count('discountValuePence', line.discountValuePence);
	if (!ROUNDING_RULES.includes(rounding))
		problems.invalid('rounding', rounding, "'half_up' or 'half_even'");
	throwFirst(problems);
	return toSafeNumber(lineValueBig(line, rounding), 'line value');
}

/**
 * Amount paid for each order line: P = V − its share of the order discount
 * (shared in proportion to V by largest remainder; an order discount above
 * ΣV is capped at ΣV). Throws RangeError for an invalid order.
 */
export function paidPerLine(
	order: CreditOrder,
	rounding: RoundingRule = 'half_up',
): Array<{ lineId: string; valuePence: number; sharePence: number; paidPence: number }> {
	const problems = new Problems(labelOf(order));
	validateOrder(order, problems);
	if (!ROUNDING_RULES.includes(rounding))
		problems.invalid('rounding', rounding, "'half_up' or 'half_even'");
	throwFirst(problems);
	return paidBig(order, rounding).map((p, i) => ({
		lineId: order.lines[i].lineId,
		valuePence: toSafeNumber(p.value, `order.lines[${i}] value`),
		sharePence: toSafeNumber(p.share, `order.lines[${i}] discount share`),
		paidPence: toSafeNumber(p.paid, `order.lines[${i}] paid`),
	}));
}

// ---------------------------------------------------------------- matching

function normSku(sku: string): string {
	return sku.trim().toLowerCase();
}

interface Allocation {
	/** units credited now, per order line */
	take: number[];
	/** refs per order line, in request order */
	refs: string[][];
}

function matchRequest(
	order: CreditOrder,
	request: CreditRequestLine[],
	usable: number[],
	problems: Problems,
): Allocation {
	const lines = order.lines;
	const remaining = lines.map((l) => l.qtySold - l.qtyPreviouslyReturned);
	const take = lines.map(() => 0);
	const refs: string[][] = lines.map(() => []);
	const byId = new Map<string, number>();
	lines.forEach((l, i) => byId.set(l.lineId.trim(), i));
	const bySku = new Map<string, number[]>();
	lines.forEach((l, i) => {
		const key = normSku(l.sku);
		bySku.set(key, [...(bySku.get(key) ?? []), i]);
	});
	const addRef = (lineIndex: number, ref: string | undefined) => {
		if (typeof ref === 'string' && ref !== '' && !refs[lineIndex].includes(ref))
			refs[lineIndex].push(ref);
	};

	// Pass 1: request lines naming an order line by id. They go first so a SKU-only line cannot take units they need.
	const idGroups = new Map<
		number,
		{ requested: number; firstOver: number | null; sku: string | null }
	>();
	const missingIds = new Map<string, { requested: number; first: number; sku: string | null }>();
	for (const i of usable) {
		const req = request[i];
		if (typeof req.lineId !== 'string' || req.lineId.trim() === '') continue;
		const id = req.lineId.trim();
		const idx = byId.get(id);
		if (idx === undefined) {
			const m = missingIds.get(id) ?? {
				requested: 0,
				first: i,
				sku: typeof req.sku === 'string' ? req.sku : null,
			};
			m.requested += req.quantity;
			missingIds.set(id, m);
			continue;
		}
		const g = idGroups.get(idx) ?? { requested: 0, firstOver: null, sku: lines[idx].sku };
		g.requested += req.quantity;
		if (g.requested > remaining[idx] && g.firstOver === null) g.firstOver = i;
		idGroups.set(idx, g);
		if (g.firstOver === null && req.quantity > 0) {
			take[idx] += req.quantity;
			addRef(idx, req.ref);
		}
	}
	for (const [id, m] of missingIds) {
		problems.list.push({
			kind: 'line_not_found',
			sku: m.sku,
			lineId: id,
			requested: m.requested,
			available: 0,
			field: `request[${m.first}].lineId`,
			message: `Order ${order.orderRef}: there is no order line with id ${JSON.stringify(id)}${m.sku ? ` (SKU ${m.sku})` : ''} (request[${m.first}].lineId)`,
		});
	}
	for (const [idx, g] of idGroups) {
		if (g.firstOver === null) continue;
		const line = lines[idx];
		problems.list.push({
			kind: 'quantity_exceeds_sold',
			sku: line.sku,
			lineId: line.lineId,
			requested: g.requested,
			available: remaining[idx],
			field: `request[${g.firstOver}].quantity`,
			message:
				`Order ${order.orderRef}: ${g.requested} × ${line.sku} (line ${line.lineId}) returned but only ${remaining[idx]} can be credited ` +
				`(${line.qtySold} sold, ${line.qtyPreviouslyReturned} credited before) (request[${g.firstOver}].quantity)`,
		});
	}

	// Pass 2: request lines by SKU, aggregated per SKU; several order lines with the SKU are filled in order.
	const skuGroups = new Map<
		string,
		{ sku: string; requested: number; first: number; firstOver: number | null; members: number[] }
	>();
	for (const i of usable) {
		const req = request[i];
		if (typeof req.lineId === 'string' && req.lineId.trim() !== '') continue;
		const key = normSku(req.sku);
		const g = skuGroups.get(key) ?? {
			sku: req.sku.trim(),
			requested: 0,
			first: i,
			firstOver: null,
			members: [],
		};
		g.requested += req.quantity;
		g.members.push(i);
		skuGroups.set(key, g);
	}
	for (const [key, g] of skuGroups) {
		const candidates = bySku.get(key);
		if (!candidates) {
			problems.list.push({
				kind: 'line_not_found',
				sku: g.sku,
				lineId: null,
				requested: g.requested,
				available: 0,
				field: `request[${g.first}].sku`,
				message: `Order ${order.orderRef}: SKU ${g.sku} is not on the order (request[${g.first}].sku)`,
			});
			continue;
		}
		const available = candidates.reduce(
			(sum, idx) => sum + Math.max(0, remaining[idx] - take[idx]),
			0,
		);
		if (g.requested > available) {
			let running = 0;
			let over = g.first;
			for (const i of g.members) {
				running += request[i].quantity;
				if (running > available) {
					over = i;
					break;
				}
			}
			const sold = candidates.reduce((sum, idx) => sum + lines[idx].qtySold, 0);
			const before = candidates.reduce((sum, idx) => sum + lines[idx].qtyPreviouslyReturned, 0);
			problems.list.push({
				kind: 'quantity_exceeds_sold',
				sku: g.sku,
				lineId: candidates.length === 1 ? lines[candidates[0]].lineId : null,
				requested: g.requested,
				available,
				field: `request[${over}].quantity`,
				message:
					`Order ${order.orderRef}: ${g.requested} × ${g.sku} returned but only ${available} can be credited ` +
					`(${sold} sold, ${before} credited before${candidates.length > 1 ? `, over ${candidates.length} order lines` : ''}) (request[${over}].quantity)`,
			});
			continue;
		}
		for (const i of g.members) {
			let want = request[i].quantity;
			for (const idx of candidates) {
				if (want === 0) break;
				const t = Math.min(want, remaining[idx] - take[idx]);
				if (t <= 0) continue;
				take[idx] += t;
				want -= t;
				addRef(idx, request[i].ref);
			}
		}
	}
	return { take, refs };
}

// ---------------------------------------------------------------- VAT

interface DraftLine {
	line: Omit<CreditLine, 'netPence' | 'vatPence' | 'grossPence'>;
	/** the credit in the order's price basis (gross or net) */
	amount: bigint;
	rate: Fraction;
}

function vatOf(
	amount: bigint,
	rate: Fraction,
	basis: 'gross' | 'net',
	rounding: RoundingRule,
): bigint {
	if (rate.num === 0n) return 0n;
	// gross: VAT = gross × r / (100 + r); net: VAT = net × r / 100, with r = num/den
	return basis === 'gross'
		? roundDiv(amount * rate.num, 100n * rate.den + rate.num, rounding)
		: roundDiv(amount * rate.num, 100n * rate.den, rounding);
}

function applyVat(
	drafts: DraftLine[],
	basis: 'gross' | 'net',
	mode: 'line' | 'total',
	rounding: RoundingRule,
): CreditLine[] {
	const vat = drafts.map(() => 0n);
	if (mode === 'line') {
		drafts.forEach((d, i) => (vat[i] = vatOf(d.amount, d.rate, basis, rounding)));
	} else {
		// VAT on the total per rate, spread over that rate's lines by largest remainder in proportion to their amounts
		const groups = new Map<string, number[]>();
		drafts.forEach((d, i) => {
			const key = `${d.rate.num.toString()}/${d.rate.den.toString()}`;
			groups.set(key, [...(groups.get(key) ?? []), i]);
		});
		for (const members of groups.values()) {
			const amounts = members.map((i) => drafts[i].amount);
			const total = amounts.reduce((sum, a) => sum + a, 0n);
			const parts = allocateBig(amounts, vatOf(total, drafts[members[0]].rate, basis, rounding));
			members.forEach((i, k) => (vat[i] = parts[k]));
		}
	}
	return drafts.map((d, i) => {
		const net = basis === 'gross' ? d.amount - vat[i] : d.amount;
		const gross = basis === 'gross' ? d.amount : d.amount + vat[i];
		return {
			...d.line,
			netPence: toSafeNumber(net, 'net credit'),
			vatPence: toSafeNumber(vat[i], 'VAT credit'),
			grossPence: toSafeNumber(gross, 'gross credit'),
		};
	});
}

// ---------------------------------------------------------------- computeCredit

/**
 * The credit for the returned SKUs and quantities of one order. Never throws:
 * bad data, unknown lines and quantities beyond what is left to credit come
 * back as `ok: false` with every problem listed (no partial credit).
 *
 * Matching: a request line with a lineId goes to that order line (its sku is
 * then only used in messages) and these are served first; the others match
 * by SKU (trimmed, case-insensitive), aggregated per SKU, filling the order's
 * lines with that SKU in order. One item credit line per order line credited
 * (`ref` = the first caller ref, `refs` = all), in order-line order, then the
 * delivery line if the policy credits it (only when at least one unit is
 * credited and the delivery charge is above 0). Inputs are never mutated.
 */
export function computeCredit(
	order: CreditOrder,
	request: CreditRequestLine[],
	options: CreditOptions,
): CreditResult {
	const orderRef = labelOf(order);
	try {
		return compute(order, request, options, orderRef);
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		return {
			ok: false,
			orderRef,
			problems: [
				{
					kind: 'invalid_input',
					sku: null,
					lineId: null,
					requested: 0,
					available: 0,
					field: null,
					message: `Order ${orderRef}: ${message}`,
				},
			],
		};
	}
}

function compute(
	order: CreditOrder,
	request: CreditRequestLine[],
	options: CreditOptions,
	orderRef: string,
): CreditResult {
	const problems = new Problems(orderRef);
	const orderOk = validateOrder(order, problems);
	validateOptions(options, problems);
	const usable = validateRequest(request, problems);
	if (!orderOk || problems.list.length > 0) return { ok: false, orderRef, problems: problems.list };

	const rounding = options.rounding ?? 'half_up';
	const paid = paidBig(order, rounding);
	const valueTotal =
		paid.reduce((sum, p) => sum + p.value, 0n) + BigInt(order.delivery?.pricePence ?? 0);
	if (valueTotal > MAX_SAFE) {
		problems.invalid(
			'order.lines',
			valueTotal.toString(),
			`worth at most ${Number.MAX_SAFE_INTEGER} pence in total`,
		);
		return { ok: false, orderRef, problems: problems.list };
	}

	const { take, refs } = matchRequest(order, request, usable, problems);
	if (problems.list.length > 0) return { ok: false, orderRef, problems: problems.list };

	const drafts: DraftLine[] = [];
	order.lines.forEach((line, i) => {
		if (take[i] === 0) return;
		const n = BigInt(line.qtySold);
		const a = line.qtyPreviouslyReturned;
		const b = a + take[i];
		const p = paid[i].paid;
		// units a+1..b: floor(P·b/n) − floor(P·a/n): one-at-a-time equals all-at-once, the last unit takes the remainder
		const amount = floorDiv(p * BigInt(b), n) - floorDiv(p * BigInt(a), n);
		drafts.push({
			line: {
				kind: 'item',
				lineId: line.lineId,
				sku: line.sku,
				ref: refs[i][0] ?? null,
				refs: refs[i],
				quantity: take[i],
				fromUnit: a,
				toUnit: b,
				vatRatePercent: line.vatRatePercent,
			},
			amount,
			rate: percentFraction(line.vatRatePercent),
		});
	});

	let deliveryRefunded = false;
	if (
		order.delivery &&
		order.delivery.pricePence > 0 &&
		!order.deliveryAlreadyRefunded &&
		drafts.length > 0
	) {
		const wholeOrderBack = order.lines.every(
			(line, i) => line.qtyPreviouslyReturned + take[i] === line.qtySold,
		);
		if (
			options.deliveryPolicy === 'always' ||
			(options.deliveryPolicy === 'whole_order' && wholeOrderBack)
		) {
			deliveryRefunded = true;
			drafts.push({
				line: {
					kind: 'delivery',
					lineId: null,
					sku: null,
					ref: null,
					quantity: 1,
					fromUnit: 0,
					toUnit: 1,
					vatRatePercent: order.delivery.vatRatePercent,
				},
				amount: BigInt(order.delivery.pricePence),
				rate: percentFraction(order.delivery.vatRatePercent),
			});
		}
	}

	const lines = applyVat(drafts, order.priceBasis, order.vatRounding ?? 'line', rounding);
	const totals = lines.reduce(
		(t, l) => ({
			netPence: t.netPence + l.netPence,
			vatPence: t.vatPence + l.vatPence,
			grossPence: t.grossPence + l.grossPence,
		}),
		{ netPence: 0, vatPence: 0, grossPence: 0 },
	);
	if (!Number.isSafeInteger(totals.grossPence))
		throw new RangeError('the credit total is too large to represent exactly');

	let mismatch: Extract<CreditResult, { ok: true }>['mismatch'] = null;
	if (typeof options.refundPence === 'number') {
		const itemLines = lines.filter((l) => l.kind === 'item').length;
		const tolerancePence = (options.tolerancePencePerLine ?? 1) * itemLines;
		const differencePence = options.refundPence - totals.grossPence;
		mismatch = {
			refundPence: options.refundPence,
			creditPence: totals.grossPence,
			differencePence,
			tolerancePence,
			overTolerance: Math.abs(differencePence) > tolerancePence,
		};
	}

	return {
		ok: true,
		orderRef: order.orderRef,
		currency: order.currency,
		exchangeRate: order.exchangeRate,
		lines,
		totals,
		deliveryRefunded,
		mismatch,
	};
}
