/**
 * The soak's data (seeded, sandbox/shared/prng.ts) and its oracle.
 *
 * N returns, each against its own Khaos sales order SOAK-<n> (so the oracle
 * needs no history): 1–5 returned lines of distinct soak products (20% or
 * zero-rated VAT), 1–3 units sold per line, some returned in part, some
 * orders with lines not returned, line and order discounts, delivery on half
 * of the orders. Dispositions mix the mapped ones with "Mystery Grade"
 * (unmapped), reasons with "Not as described" (unmapped), and a few lines of
 * an archived (SCARF-OLD) or unknown SKU.
 *
 * The oracle computes, with the package's own core (core/mapping.ts,
 * core/creditNote.ts) but from the generated order (not from Khaos), what each
 * return must end as: applied (these stock moves, this credit note) or an
 * exception of a given kind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeCredit, type CreditOrder } from '../../core/creditNote';
import {
	compileActionPolicy,
	compileTables,
	mapReturn,
	type ActionPolicy,
	type CompiledTables,
	type MappedLine,
} from '../../core/mapping';
import type { NormalisedReturn } from '../../core/returnModel';
import { mulberry32 } from '../../sandbox/shared/prng';
import { normaliseReboundReturn } from '../../transports/rebound/normalise';
import { EXAMPLE_VALUES_FILE } from '../templates/sandboxValues';

export const SOAK_PRODUCTS = Array.from(
	{ length: 12 },
	(_, i) => `SOAK-P${String(i + 1).padStart(2, '0')}`,
);
/** Zero-rated soak products (Khaos TAX_RATE 2). */
const ZERO_RATED = new Set(['SOAK-P11', 'SOAK-P12']);
/** Discontinued in Khaos: Validate SKUs writes a discontinued_sku notice and the return goes on. */
export const DISCONTINUED = new Set(['SOAK-P10']);
const ARCHIVED_SKU = 'SCARF-OLD';
const UNKNOWN_SKU = 'SOAK-GHOST';
const DEFAULT_KHAOS_FIXTURE = path.join(
	__dirname,
	'..',
	'..',
	'sandbox',
	'fixtures',
	'khaos-default.json',
);

export const soakReturnId = (n: number) => 300000 + n;
export const soakOrderRef = (n: number) => `SOAK-${String(n).padStart(6, '0')}`;
export const creditRef = (returnId: number | string) => `RB-${returnId}`;

const MAPPED_GRADES: Array<[string, number]> = [
	['Grade A', 30],
	['Grade B', 20],
	['Like New', 10],
	['Damaged', 12],
	['Dirty', 6],
	['Quarantine', 6],
	['Missing', 6],
];
const MAPPED_REASONS = ['Too small', 'Too big', 'Faulty', 'Changed my mind', 'Arrived damaged'];
/** The customer's action per line: Refund follows the grade, Exchange is not credited (a notice), Store credit is held. */
const LINE_ACTIONS: Array<[string, number]> = [
	['Refund', 95],
	['Exchange', 3],
	['Store credit', 2],
];

export interface SoakOrderLine {
	lineId: string;
	stockCode: string;
	qty: number;
	pricePence: number;
	discountPercent: number;
	taxRate: 1 | 2;
}

export interface SoakOrder {
	orderCode: string;
	associatedRef: string;
	orderDiscountPence: number;
	/** gross, 20% VAT */
	deliveryPence: number;
	lines: SoakOrderLine[];
}

export interface SoakItem {
	sku: string;
	quantity: number;
	pricePence: number;
	disposition: string;
	reason: string;
	/** the customer's action on ReBound (Refund, Exchange, Store credit); absent: Refund */
	action?: string;
}

export interface SoakReturn {
	n: number;
	returnId: number;
	order: SoakOrder;
	items: SoakItem[];
	/** sent a second time with the same event id: at once (concurrent) or later */
	duplicate: 'none' | 'concurrent' | 'later';
	/** an older event (lower sequence, other grades) sent after this one */
	outOfOrder: boolean;
	/** a bad-signature copy sent as noise */
	badSignature: boolean;
}

export interface Scenario {
	seed: number;
	returns: SoakReturn[];
}

const pounds = (p: number) => (p / 100).toFixed(2);

export function generateScenario(count: number, seed: number): Scenario {
	const rnd = mulberry32(seed);
	// the actions come from their own stream: the rest of a seed's returns stay what they were
	const actionRnd = mulberry32(seed ^ 0xac7105);
	const action = () => {
		let x = actionRnd() * 100;
		for (const [a, w] of LINE_ACTIONS) if ((x -= w) < 0) return a;
		return 'Refund';
	};
	const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
	const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
	const weighted = (table: Array<[string, number]>) => {
		const total = table.reduce((s, [, w]) => s + w, 0);
		let x = rnd() * total;
		for (const [v, w] of table) if ((x -= w) < 0) return v;
		return table[table.length - 1][0];
	};
	const returns: SoakReturn[] = [];
	for (let n = 1; n <= count; n++) {
		const returned = int(1, 5);
		const extra = rnd() < 0.25 ? int(1, 2) : 0;
		const products = [...SOAK_PRODUCTS]
			.sort(() => rnd() - 0.5)
			.slice(0, Math.min(SOAK_PRODUCTS.length, returned + extra));
		const special = rnd();
		// a few returns carry an archived or unknown SKU line (validation exception)
		if (special < 0.02) products[0] = ARCHIVED_SKU;
		const lines: SoakOrderLine[] = products.map((sku, j) => ({
			lineId: String(n * 10 + j + 1),
			stockCode: sku,
			qty: int(1, 3),
			pricePence: int(10, 160) * 50,
			discountPercent: rnd() < 0.15 ? pick([10, 15, 25]) : 0,
			taxRate: ZERO_RATED.has(sku) ? 2 : 1,
		}));
		const itemsValue = lines.reduce(
			(s, l) => s + Math.round((l.pricePence * l.qty * (100 - l.discountPercent)) / 100),
			0,
		);
		const order: SoakOrder = {
			orderCode: `SK${String(n).padStart(6, '0')}`,
			associatedRef: soakOrderRef(n),
			orderDiscountPence: rnd() < 0.15 ? Math.min(int(2, 10) * 100, Math.floor(itemsValue / 4)) : 0,
			deliveryPence: rnd() < 0.5 ? 395 : 0,
			lines,
		};
		const items: SoakItem[] = lines.slice(0, returned).map((l) => ({
			sku: l.stockCode,
			quantity: rnd() < 0.3 ? int(1, l.qty) : l.qty,
			pricePence: l.pricePence,
			disposition: weighted(MAPPED_GRADES),
			reason: pick(MAPPED_REASONS),
			action: action(),
		}));
		if (special >= 0.02 && special < 0.03)
			items[items.length - 1] = { ...items[items.length - 1], sku: UNKNOWN_SKU };
		else if (special >= 0.03 && special < 0.07)
			items[int(0, items.length - 1)].disposition = 'Mystery Grade';
		else if (special >= 0.07 && special < 0.1)
			items[int(0, items.length - 1)].reason = 'Not as described';
		const d = rnd();
		returns.push({
			n,
			returnId: soakReturnId(n),
			order,
			items,
			duplicate: d < 0.025 ? 'concurrent' : d < 0.05 ? 'later' : 'none',
			outOfOrder: rnd() < 0.02,
			badSignature: rnd() < 0.01,
		});
	}
	return { seed, returns };
}

// ------------------------------------------------------------------ sandboxes

/** The default Khaos fixture plus the soak products and one order per return. */
export function khaosFixture(s: Scenario): Record<string, any> {
	const f = JSON.parse(fs.readFileSync(DEFAULT_KHAOS_FIXTURE, 'utf8')) as Record<string, any>;
	SOAK_PRODUCTS.forEach((code, i) => {
		f.products.push({
			stockId: String(80001 + i),
			stockCode: code,
			associatedRef: code,
			description: `Soak product ${i + 1}`,
			sellPrice: '20.00',
			sellPriceIsNet: false,
			barcodes: [],
			stockType: 'Soak',
			taxRate: ZERO_RATED.has(code) ? 2 : 1,
			deleted: false,
			discontinued: DISCONTINUED.has(code),
			stockControlled: true,
			web: true,
			runToZero: false,
		});
	});
	for (const r of s.returns) {
		const o = r.order;
		f.orders.push({
			orderCode: o.orderCode,
			associatedRef: o.associatedRef,
			orderDate: '2026-11-01',
			urn: 'C1001',
			siteId: '1',
			currency: 'GBP',
			exchangeRate: 1,
			priceBasis: 'gross',
			vatRounding: 'line',
			keycode: o.orderDiscountPence ? 'SOAK' : null,
			orderDiscount: pounds(o.orderDiscountPence),
			delivery: o.deliveryPence
				? {
						net: pounds(Math.round(o.deliveryPence / 1.2)),
						tax: pounds(o.deliveryPence - Math.round(o.deliveryPence / 1.2)),
						gross: pounds(o.deliveryPence),
						taxRate: 1,
					}
				: null,
			lines: o.lines.map((l) => ({
				lineId: l.lineId,
				stockCode: l.stockCode,
				qty: l.qty,
				price: pounds(l.pricePence),
				discountPercent: l.discountPercent,
				discountValue: '0.00',
				taxRate: l.taxRate,
			})),
		});
	}
	return f;
}

/** The ReBound sandbox return (admin input) of a soak return, graded. */
export function reboundInput(r: SoakReturn, dispositions?: string[]): Record<string, unknown> {
	return {
		id: r.returnId,
		order_reference: r.order.associatedRef,
		status: 'graded',
		date_added_days_ago: 0,
		item: r.items.map((it, j) => ({
			sku_code: it.sku,
			sku_desc: it.sku,
			quantity: it.quantity,
			price: pounds(it.pricePence),
			final_disposition: dispositions?.[j] ?? it.disposition,
			// one reason text is read with the action Refund; other actions need the reason entry
			reason:
				(it.action ?? 'Refund') === 'Refund'
					? it.reason
					: [{ reason: it.reason, action: it.action, wish: '' }],
		})),
	};
}

// ------------------------------------------------------------------ oracle

export interface ExpectedMove {
	reference: string;
	stockCode: string;
	siteId: string;
	locationId: string;
	quantity: number;
}

export interface ExpectedCredit {
	netPence: number;
	taxPence: number;
	grossPence: number;
}

export type Expected =
	| {
			outcome: 'applied';
			moves: ExpectedMove[];
			/** the credit note; null: none (every line an exchange or not credited, or worth nothing) */
			credit: ExpectedCredit | null;
			/** notice kinds the return must have (status notice); absent: none expected */
			notices?: string[];
	  }
	| {
			outcome: 'held';
			moves: ExpectedMove[];
			/** the credit if released as computed, held lines included (the review row's gross) */
			credit: ExpectedCredit;
			/** the credit if released without the held lines (null: nothing else to credit) */
			withoutHeld: ExpectedCredit | null;
			/** the held lines' ids */
			heldLines: string[];
			notices?: string[];
	  }
	| { outcome: 'exception'; kinds: string[] };

interface ExampleValues {
	mapping: { dispositions: unknown; reasons: unknown; skuAliases: unknown };
	finance?: { lineActions?: { rules?: unknown; other?: unknown; none?: unknown } };
}

let example: ExampleValues | null = null;
function exampleValues(): ExampleValues {
	example ??= JSON.parse(fs.readFileSync(EXAMPLE_VALUES_FILE, 'utf8')) as ExampleValues;
	return example;
}

let tables: CompiledTables | null = null;
function demoTables(): CompiledTables {
	if (tables) return tables;
	const compiled = compileTables(exampleValues().mapping);
	if (!compiled.ok)
		throw new Error(`values.example.json mapping does not compile: ${compiled.message}`);
	tables = compiled.tables;
	return tables;
}

let actions: ActionPolicy | null = null;
/** The line-action rules the templates get from values.example.json (finance.lineActions). */
function demoActions(): ActionPolicy {
	if (actions) return actions;
	const compiled = compileActionPolicy(exampleValues().finance?.lineActions ?? {});
	if (!compiled.ok)
		throw new Error(`values.example.json finance.lineActions do not compile: ${compiled.message}`);
	actions = compiled.policy;
	return actions;
}

/** The normalised return the ReBound Trigger makes of this wire payload. */
export function normalised(wire: Record<string, unknown>): NormalisedReturn {
	const n = normaliseReboundReturn(wire, { source: 'rebound-webhook' });
	if (!n.ok) throw new Error(`soak return ${String(wire.id)} does not normalise: ${n.message}`);
	return n.value;
}

export function creditOrderOf(o: SoakOrder): CreditOrder {
	return {
		orderRef: o.associatedRef,
		currency: 'GBP',
		exchangeRate: 1,
		priceBasis: 'gross',
		vatRounding: 'line',
		orderDiscountPence: o.orderDiscountPence,
		delivery: o.deliveryPence ? { pricePence: o.deliveryPence, vatRatePercent: 20 } : null,
		deliveryAlreadyRefunded: false,
		lines: o.lines.map((l) => ({
			lineId: l.lineId,
			sku: l.stockCode,
			qtySold: l.qty,
			qtyPreviouslyReturned: 0,
			unitPricePence: l.pricePence,
			discountPercent: l.discountPercent,
			discountValuePence: 0,
			vatRatePercent: l.taxRate === 2 ? 0 : 20,
		})),
	};
}

/** What the return must end as, from the core's mapping, credit policy and credit computation. */
export function expectedOutcome(
	r: SoakReturn,
	ret: NormalisedReturn,
	deliveryPolicy: 'never' | 'whole_order' | 'always' = 'whole_order',
): Expected {
	const mapped = mapReturn(ret, demoTables(), { actions: demoActions() });
	if (!mapped.ok)
		return {
			outcome: 'exception',
			kinds: [
				...new Set(
					mapped.unmapped.map((u) =>
						u.kind === 'disposition' ? 'unmapped_disposition' : 'unmapped_reason',
					),
				),
			],
		};
	const lines = mapped.mapped.lines;
	const skus = lines.map((l) => l.mapping.khaosSku.toUpperCase());
	if (skus.includes(UNKNOWN_SKU)) return { outcome: 'exception', kinds: ['unknown_sku'] };
	if (skus.includes(ARCHIVED_SKU)) return { outcome: 'exception', kinds: ['archived_sku'] };
	const compute = (ls: MappedLine[]) =>
		computeCredit(
			creditOrderOf(r.order),
			ls.map((l) => ({ sku: l.mapping.khaosSku, quantity: l.quantity, ref: l.lineId })),
			{
				deliveryPolicy,
				rounding: 'half_up',
				tolerancePencePerLine: 1,
				refundPence: ret.refundPence,
			},
		);
	// every line against the order first (the stock step bounds every moving line, whatever its credit)
	const all = compute(lines);
	if (!all.ok)
		return { outcome: 'exception', kinds: [...new Set(all.problems.map((p) => p.kind))] };
	const moves: ExpectedMove[] = [];
	for (const l of lines) {
		const m = l.mapping;
		const moving =
			m.action === 'restock' ||
			m.action === 'quarantine' ||
			(m.action === 'write_off' && !!m.siteId && !!m.locationId);
		if (!moving || !m.siteId || !m.locationId) continue;
		moves.push({
			reference: `RB-${ret.returnId}-${l.lineId}-move`,
			stockCode: m.khaosSku,
			siteId: m.siteId,
			locationId: m.locationId,
			quantity: l.quantity,
		});
	}
	// finance's credit policy (core/usecases/postCreditNotes.ts splitByPolicy): credit | hold | no_credit | exchange
	const credited = lines.filter((l) => l.mapping.credit === 'credit');
	const held = lines.filter((l) => l.mapping.credit === 'hold');
	const notices = new Set<string>();
	if (lines.some((l) => DISCONTINUED.has(l.mapping.khaosSku.toUpperCase())))
		notices.add('discontinued_sku');
	if (lines.some((l) => l.mapping.credit === 'exchange')) notices.add('exchange_recorded');
	const totals = (ls: MappedLine[]): ExpectedCredit => {
		const c = compute(ls);
		if (!c.ok)
			throw new Error(
				`soak return ${ret.returnId}: the credit of a part fails where the whole did not: ${c.problems.map((p) => p.kind).join(', ')}`,
			);
		return {
			netPence: c.totals.netPence,
			taxPence: c.totals.vatPence,
			grossPence: c.totals.grossPence,
		};
	};
	if (held.length > 0) {
		notices.add('credit_held');
		return {
			outcome: 'held',
			moves,
			// released as computed: the credited and the held lines (return order, as a release takes them)
			credit: totals(
				lines.filter((l) => l.mapping.credit === 'credit' || l.mapping.credit === 'hold'),
			),
			withoutHeld: credited.length ? totals(credited) : null,
			heldLines: held.map((l) => l.lineId),
			notices: [...notices].sort(),
		};
	}
	let credit: ExpectedCredit | null = credited.length ? totals(credited) : null;
	if (credit && credit.grossPence === 0) {
		// Zero-Value Credits: skip (values.example.json): no credit note, a notice
		notices.add('zero_value_credit');
		credit = null;
	}
	return {
		outcome: 'applied',
		moves,
		credit,
		...(notices.size ? { notices: [...notices].sort() } : {}),
	};
}
