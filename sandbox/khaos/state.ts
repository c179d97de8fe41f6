/**
 * In-memory Khaos Control: sites/locations, products, stock per location,
 * sales orders, returns, credit notes and stock adjustments, seeded from a
 * fixture. Business rules follow Khaos (see README.md). Pure logic: the
 * server turns SOAP into calls on this class and back.
 */
import { parseToPence } from '../../core/money';
import type { Fixture } from './fixture';

export const FAULT = {
	returnNotFound: 'Return does not exist or has been deleted.',
	alreadyProcessed: 'Return has already been processed',
	partiallyProcessed: 'Return has been partially processed',
	codeMissing: 'Return Code or Auth Code not defined.',
	loginFailed: 'Login failed: invalid user name or password.',
} as const;

/** A SOAP fault raised by the state (the server renders it). */
export class SandboxFault extends Error {
	constructor(
		readonly faultString: string,
		readonly faultCode = 'SOAP-ENV:Server',
	) {
		super(faultString);
	}
}

const pence = (s: string | null | undefined): number =>
	s === null || s === undefined ? 0 : (parseToPence(s) ?? 0);

export interface Location {
	id: string;
	name: string;
	sellable: boolean;
}
export interface Site {
	id: string;
	name: string;
	locations: Location[];
}
export type Product = Fixture['products'][number];

export interface OrderLine {
	lineId: string;
	stockCode: string;
	description: string;
	qty: number;
	qtyReturned: number;
	/** Unit price in the price basis (sales orders); for credit note lines the line's credit gross / qty. */
	pricePence: number;
	discountPercent: number;
	discountValuePence: number;
	taxRate: number;
	/** Credit note lines only. */
	credit?: {
		netPence: number;
		taxPence: number;
		grossPence: number;
		sourceLineId: string;
		returnCode: string;
	};
}

export interface Order {
	orderId: number;
	orderCode: string;
	associatedRef: string;
	/** 1 sales order, 2 credit note */
	orderType: 1 | 2;
	orderDate: string;
	urn: string;
	siteId: string;
	currency: string;
	exchangeRate: number;
	priceBasis: 'gross' | 'net';
	vatPerLine: boolean;
	keycode: string | null;
	orderDiscountPence: number;
	delivery: { netPence: number; taxPence: number; grossPence: number; taxRate: number } | null;
	deliveryRefunded: boolean;
	complete: boolean;
	cancelled: boolean;
	lines: OrderLine[];
	/** Credit notes: the return and the original order. */
	returnCode?: string;
	sourceOrderCode?: string;
}

export interface ReturnLine {
	stockCode: string;
	orderLineId: string;
	quantity: number;
	reasonId: string;
	siteId: string;
	locationId: string | null;
	restock: boolean;
	creditNetPence: number;
	creditTaxPence: number;
	creditGrossPence: number;
	processed: boolean;
	restocked: boolean;
}

export interface KhaosReturn {
	returnCode: string;
	associatedRef: string;
	urn: string;
	sourceOrderCode: string;
	sourceOrderRef: string;
	currency: string;
	exchangeRate: number;
	notes: string | null;
	status: 'open' | 'processed' | 'partial';
	deleted: boolean;
	createdAt: string;
	processedAt: string | null;
	manualAuthCode: string | null;
	delivery: { netPence: number; taxPence: number; grossPence: number } | null;
	lines: ReturnLine[];
	creditNoteCode: string | null;
}

export interface Adjustment {
	reference: string;
	stockCode: string;
	siteId: string;
	locationId: string;
	adjustBy: number | null;
	adjustTo: number | null;
	delta: number;
	newLevel: number;
	reason: string;
	at: string;
}

export interface ReturnInput {
	associatedRef: string;
	urn: string;
	sourceOrderRef: string | null;
	sourceOrderCode: string | null;
	currency: string;
	exchangeRate: number;
	notes: string | null;
	delivery: { net: string; tax: string; gross: string } | null;
	lines: Array<{
		stockCode: string;
		orderLineId: string;
		quantity: string;
		reasonId: string;
		siteId: string;
		locationId: string | null;
		restock: string;
		creditNet: string;
		creditTax: string;
		creditGross: string;
	}>;
}

export interface AdjustmentInput {
	stockCode: string;
	siteId: string;
	locationId: string;
	adjustBy: string | null;
	adjustTo: string | null;
	reason: string;
	reference: string;
}

export type AdjustmentOutcome = {
	reference: string;
	stockCode: string;
	result: 'APPLIED' | 'SKIPPED_DUPLICATE' | 'REJECTED';
	newLevel: number | null;
	reason: string | null;
};

const TAX_PERCENT: Record<number, number> = { 1: 20, 2: 0, 3: 0, 4: 5 };

function ddmmyyyy(iso: string): string {
	const [y, m, d] = iso.slice(0, 10).split('-');
	return `${d}/${m}/${y}`;
}

export class KhaosState {
	sites: Site[] = [];
	products: Product[] = [];
	/** key `${stockCode}|${siteId}|${locationId}` (stock code upper-cased) */
	stock = new Map<string, number>();
	customers: Fixture['customers'] = [];
	reasons: Fixture['returnReasons'] = [];
	orders: Order[] = [];
	returns: KhaosReturn[] = [];
	adjustments: Adjustment[] = [];
	private nextOrderNo = 1;
	private nextOrderId = 1;
	private nextReturnNo = 1;
	/** Clock for DATE_CREATED etc.; injectable for tests. */
	now: () => Date = () => new Date();

	constructor(private fixture: Fixture) {
		this.reset();
	}

	reset(fixture?: Fixture): void {
		if (fixture) this.fixture = fixture;
		const f = JSON.parse(JSON.stringify(this.fixture)) as Fixture;
		this.sites = f.sites;
		this.products = f.products;
		this.customers = f.customers;
		this.reasons = f.returnReasons;
		this.stock = new Map();
		for (const s of f.stock) this.stock.set(this.key(s.stockCode, s.siteId, s.locationId), s.level);
		this.orders = f.orders.map((o, i) => ({
			orderId: i + 1,
			orderCode: o.orderCode,
			associatedRef: o.associatedRef,
			orderType: 1,
			orderDate: o.orderDate,
			urn: o.urn,
			siteId: o.siteId,
			currency: o.currency,
			exchangeRate: o.exchangeRate,
			priceBasis: o.priceBasis,
			vatPerLine: o.vatRounding === 'line',
			keycode: o.keycode,
			orderDiscountPence: pence(o.orderDiscount),
			delivery: o.delivery
				? {
						netPence: pence(o.delivery.net),
						taxPence: pence(o.delivery.tax),
						grossPence: pence(o.delivery.gross),
						taxRate: o.delivery.taxRate,
					}
				: null,
			deliveryRefunded: o.deliveryRefunded,
			complete: o.complete,
			cancelled: o.cancelled,
			lines: o.lines.map((l) => ({
				lineId: l.lineId,
				stockCode: l.stockCode,
				description: l.description ?? this.product(l.stockCode)?.description ?? '',
				qty: l.qty,
				qtyReturned: l.qtyReturned,
				pricePence: pence(l.price),
				discountPercent: l.discountPercent,
				discountValuePence: pence(l.discountValue),
				taxRate: l.taxRate,
			})),
		}));
		this.returns = [];
		this.adjustments = [];
		this.nextOrderId = this.orders.length + 1;
		const nums = this.orders.map((o) => Number(/(\d+)$/.exec(o.orderCode)?.[1] ?? 0));
		this.nextOrderNo = Math.max(100, ...nums) + 1;
		this.nextReturnNo = 1;
	}

	key(stockCode: string, siteId: string, locationId: string): string {
		return `${stockCode.toUpperCase()}|${siteId}|${locationId.toUpperCase()}`;
	}

	level(stockCode: string, siteId: string, locationId: string): number {
		return this.stock.get(this.key(stockCode, siteId, locationId)) ?? 0;
	}

	product(code: string): Product | undefined {
		const c = code.toUpperCase();
		return (
			this.products.find((p) => p.stockCode.toUpperCase() === c && !p.deleted) ??
			this.products.find((p) => p.stockCode.toUpperCase() === c)
		);
	}

	site(id: string): Site | undefined {
		return this.sites.find((s) => s.id === id);
	}

	location(siteId: string, locationId: string): Location | undefined {
		const l = locationId.toUpperCase();
		return this.site(siteId)?.locations.find((x) => x.id.toUpperCase() === l);
	}

	/** Look products up by MappingType: 1 stock code, 2 other ref, 5 barcode, -1 any of them. */
	findProducts(codes: string[], mappingType: number): Product[] {
		if (![-1, 1, 2, 5].includes(mappingType))
			throw new SandboxFault(`MappingType ${mappingType} is not supported by this system.`);
		if (codes.length === 0) return [...this.products];
		const wanted = new Set(codes.map((c) => c.toUpperCase()));
		return this.products.filter((p) => {
			const keys =
				mappingType === 1
					? [p.stockCode]
					: mappingType === 2
						? [p.associatedRef ?? '']
						: mappingType === 5
							? p.barcodes
							: [p.stockCode, p.associatedRef ?? '', ...p.barcodes];
			return keys.some((k) => wanted.has(k.toUpperCase()));
		});
	}

	/** Available to sell at a site: the sum over its sellable locations. */
	available(stockCode: string, siteId: string): number {
		const site = this.site(siteId);
		if (!site) return 0;
		return site.locations
			.filter((l) => l.sellable)
			.reduce((sum, l) => sum + this.level(stockCode, siteId, l.id), 0);
	}

	stockStatusCode(p: Product, siteId: string): number {
		if (!p.stockControlled) return 5;
		const level = this.available(p.stockCode, siteId);
		if (level > 0) return 0;
		if (p.discontinued) return 4;
		return 3;
	}

	findOrders(ids: string[], mappingType: number): Order[] {
		if (mappingType !== 1 && mappingType !== 4)
			throw new SandboxFault(
				`MappingType ${mappingType} is not supported for orders (1 order code, 4 associated ref).`,
			);
		const wanted = new Set(ids.map((i) => i.toUpperCase()));
		return this.orders.filter((o) =>
			wanted.has((mappingType === 1 ? o.orderCode : o.associatedRef).toUpperCase()),
		);
	}

	/** Units of an order line on returns not yet processed (other than `except`). */
	private pendingQty(orderCode: string, lineId: string): number {
		let n = 0;
		for (const r of this.returns) {
			if (r.deleted || r.sourceOrderCode !== orderCode) continue;
			for (const l of r.lines) if (l.orderLineId === lineId && !l.processed) n += l.quantity;
		}
		return n;
	}

	/** Net/gross totals for the status export. */
	orderTotals(o: Order): { itemsNetPence: number; deliveryNetPence: number } {
		if (o.orderType === 2) {
			return {
				itemsNetPence: o.lines.reduce((s, l) => s + (l.credit?.netPence ?? 0), 0),
				deliveryNetPence: o.delivery?.netPence ?? 0,
			};
		}
		const values = o.lines.map(
			(l) =>
				Math.round((l.pricePence * l.qty * (100 - l.discountPercent)) / 100) - l.discountValuePence,
		);
		const total = values.reduce((a, b) => a + b, 0);
		let net = 0;
		o.lines.forEach((l, i) => {
			const share = total > 0 ? Math.round((o.orderDiscountPence * values[i]) / total) : 0;
			const v = values[i] - share;
			const r = TAX_PERCENT[l.taxRate] ?? 20;
			net += o.priceBasis === 'gross' ? v - Math.round((v * r) / (100 + r)) : v;
		});
		return { itemsNetPence: net, deliveryNetPence: o.delivery?.netPence ?? 0 };
	}

	dateOf(iso: string): string {
		return ddmmyyyy(iso);
	}

	// ------------------------------------------------------------------ ImportReturns
	importReturn(
		input: ReturnInput,
	): { ok: true; returnCode: string } | { ok: false; reason: string } {
		const ref = input.associatedRef.trim();
		if (ref === '') return { ok: false, reason: 'ASSOCIATED_REF not defined.' };
		if (ref.length > 50)
			return {
				ok: false,
				reason: `ASSOCIATED_REF ${ref.slice(0, 50)}… is longer than 50 characters.`,
			};
		const existing = this.returns.find(
			(r) => !r.deleted && r.associatedRef.toUpperCase() === ref.toUpperCase(),
		);
		if (existing)
			return {
				ok: false,
				reason: `Duplicate ASSOCIATED_REF ${ref}: already imported as return ${existing.returnCode}`,
			};
		if (!this.customers.some((c) => c.urn === input.urn))
			return { ok: false, reason: `Customer URN ${input.urn || '(empty)'} not found.` };
		const order = input.sourceOrderCode
			? this.orders.find((o) => o.orderType === 1 && o.orderCode === input.sourceOrderCode)
			: this.orders.find(
					(o) =>
						o.orderType === 1 &&
						o.associatedRef.toUpperCase() === (input.sourceOrderRef ?? '').toUpperCase(),
				);
		if (!order)
			return {
				ok: false,
				reason: `Source order ${input.sourceOrderCode ?? input.sourceOrderRef ?? '(empty)'} not found.`,
			};
		if (input.lines.length === 0) return { ok: false, reason: 'RETURN_ITEMS has no RETURN_ITEM.' };
		const lines: ReturnLine[] = [];
		const inThisReturn = new Map<string, number>();
		for (let i = 0; i < input.lines.length; i++) {
			const l = input.lines[i];
			const n = i + 1;
			const ol = order.lines.find((x) => x.lineId === l.orderLineId);
			if (!ol)
				return {
					ok: false,
					reason: `SORDER_ITEM_ID ${l.orderLineId || '(empty)'} is not a line of order ${order.orderCode} (item ${n}).`,
				};
			if (ol.stockCode.toUpperCase() !== l.stockCode.toUpperCase())
				return {
					ok: false,
					reason: `Stock code ${l.stockCode} does not match SORDER_ITEM_ID ${l.orderLineId} (${ol.stockCode}) (item ${n}).`,
				};
			const p = this.product(l.stockCode);
			if (!p) return { ok: false, reason: `Stock code ${l.stockCode} not found (item ${n}).` };
			if (p.deleted)
				return { ok: false, reason: `Stock code ${l.stockCode} is deleted (item ${n}).` };
			if (!this.reasons.some((r) => r.id === l.reasonId))
				return {
					ok: false,
					reason: `Return reason ${l.reasonId || '(empty)'} not found (item ${n}).`,
				};
			if (!this.site(l.siteId))
				return { ok: false, reason: `Site ${l.siteId || '(empty)'} not found (item ${n}).` };
			if (l.locationId && !this.location(l.siteId, l.locationId))
				return {
					ok: false,
					reason: `Location ${l.locationId} not found at site ${l.siteId} (item ${n}).`,
				};
			if (!/^\d+$/.test(l.quantity.trim()) || Number(l.quantity) < 1)
				return {
					ok: false,
					reason: `QUANTITY ${l.quantity || '(empty)'} must be a whole number of at least 1 (item ${n}).`,
				};
			const qty = Number(l.quantity);
			const credit = [l.creditNet, l.creditTax, l.creditGross].map((v) => parseToPence(v));
			if (credit.some((c) => c === null))
				return {
					ok: false,
					reason: `CREDIT_NET/CREDIT_TAX/CREDIT_GRS must be decimal amounts (item ${n}).`,
				};
			const already =
				ol.qtyReturned +
				this.pendingQty(order.orderCode, ol.lineId) +
				(inThisReturn.get(ol.lineId) ?? 0);
			const left = ol.qty - already;
			if (qty > left) {
				return {
					ok: false,
					reason: `Quantity returned ${qty} exceeds quantity sold less returned ${Math.max(0, left)} for SORDER_ITEM_ID ${ol.lineId} (${ol.stockCode}) (item ${n}).`,
				};
			}
			inThisReturn.set(ol.lineId, (inThisReturn.get(ol.lineId) ?? 0) + qty);
			lines.push({
				stockCode: ol.stockCode,
				orderLineId: ol.lineId,
				quantity: qty,
				reasonId: l.reasonId,
				siteId: l.siteId,
				locationId: l.locationId
					? (this.location(l.siteId, l.locationId)?.id ?? l.locationId)
					: null,
				restock: l.restock.trim() === '-1' || l.restock.trim() === '1',
				creditNetPence: credit[0] as number,
				creditTaxPence: credit[1] as number,
				creditGrossPence: credit[2] as number,
				processed: false,
				restocked: false,
			});
		}
		let delivery: KhaosReturn['delivery'] = null;
		if (input.delivery && input.delivery.gross.trim() !== '') {
			const d = [input.delivery.net, input.delivery.tax, input.delivery.gross].map((v) =>
				parseToPence(v),
			);
			if (d.some((x) => x === null))
				return {
					ok: false,
					reason: 'DELIVERY_NET/DELIVERY_TAX/DELIVERY_GRS must be decimal amounts.',
				};
			const pendingDelivery = this.returns.some(
				(r) =>
					!r.deleted && r.sourceOrderCode === order.orderCode && r.delivery && r.status === 'open',
			);
			if (order.deliveryRefunded || pendingDelivery)
				return {
					ok: false,
					reason: `Delivery for order ${order.orderCode} has already been refunded.`,
				};
			delivery = { netPence: d[0] as number, taxPence: d[1] as number, grossPence: d[2] as number };
		}
		const returnCode = `RTN${String(this.nextReturnNo++).padStart(6, '0')}`;
		this.returns.push({
			returnCode,
			associatedRef: ref,
			urn: input.urn,
			sourceOrderCode: order.orderCode,
			sourceOrderRef: order.associatedRef,
			currency: input.currency || order.currency,
			exchangeRate: input.exchangeRate || order.exchangeRate,
			notes: input.notes,
			status: 'open',
			deleted: false,
			createdAt: this.now().toISOString(),
			processedAt: null,
			manualAuthCode: null,
			delivery,
			lines,
			creditNoteCode: null,
		});
		return { ok: true, returnCode };
	}

	// ------------------------------------------------------------------ ProcessReturn
	processReturn(returnCode: string, manualAuthCode: string): void {
		if (returnCode.trim() === '' || manualAuthCode.trim() === '')
			throw new SandboxFault(FAULT.codeMissing);
		const r = this.returns.find(
			(x) => x.returnCode.toUpperCase() === returnCode.trim().toUpperCase(),
		);
		if (!r || r.deleted) throw new SandboxFault(FAULT.returnNotFound);
		if (r.status === 'processed') throw new SandboxFault(FAULT.alreadyProcessed);
		const order = this.orders.find((o) => o.orderCode === r.sourceOrderCode);
		if (!order) throw new SandboxFault(FAULT.returnNotFound);
		let credit = r.creditNoteCode
			? this.orders.find((o) => o.orderCode === r.creditNoteCode)
			: undefined;
		if (!credit) {
			credit = {
				orderId: this.nextOrderId++,
				orderCode: `SO${String(this.nextOrderNo++).padStart(6, '0')}`,
				associatedRef: r.associatedRef,
				orderType: 2,
				orderDate: this.now().toISOString().slice(0, 10),
				urn: r.urn,
				siteId: order.siteId,
				currency: r.currency,
				exchangeRate: r.exchangeRate,
				priceBasis: order.priceBasis,
				vatPerLine: order.vatPerLine,
				keycode: null,
				orderDiscountPence: 0,
				delivery: null,
				deliveryRefunded: false,
				complete: true,
				cancelled: false,
				lines: [],
				returnCode: r.returnCode,
				sourceOrderCode: order.orderCode,
			};
			this.orders.push(credit);
			r.creditNoteCode = credit.orderCode;
		}
		let unprocessed = 0;
		for (const l of r.lines) {
			if (l.processed) continue;
			const p = this.product(l.stockCode);
			const ol = order.lines.find((x) => x.lineId === l.orderLineId);
			let targetLocation: string | null = null;
			if (l.restock && p && p.stockControlled) {
				targetLocation =
					l.locationId ?? this.site(l.siteId)?.locations.find((x) => x.sellable)?.id ?? null;
			}
			const blocked =
				!p ||
				p.deleted ||
				!ol ||
				(l.restock &&
					p.stockControlled &&
					(!targetLocation || !this.location(l.siteId, targetLocation)));
			if (blocked) {
				unprocessed++;
				continue;
			}
			if (targetLocation) {
				const k = this.key(l.stockCode, l.siteId, targetLocation);
				this.stock.set(k, (this.stock.get(k) ?? 0) + l.quantity);
				l.restocked = true;
			}
			ol.qtyReturned += l.quantity;
			l.processed = true;
			credit.lines.push({
				lineId: `${credit.orderId}${String(credit.lines.length + 1).padStart(2, '0')}`,
				stockCode: l.stockCode,
				description: ol.description,
				qty: l.quantity,
				qtyReturned: 0,
				pricePence: l.quantity > 0 ? Math.round(l.creditGrossPence / l.quantity) : 0,
				discountPercent: 0,
				discountValuePence: 0,
				taxRate: ol.taxRate,
				credit: {
					netPence: l.creditNetPence,
					taxPence: l.creditTaxPence,
					grossPence: l.creditGrossPence,
					sourceLineId: ol.lineId,
					returnCode: r.returnCode,
				},
			});
		}
		if (r.delivery && !credit.delivery && !order.deliveryRefunded) {
			credit.delivery = { ...r.delivery, taxRate: order.delivery?.taxRate ?? 1 };
			order.deliveryRefunded = true;
		}
		r.manualAuthCode = manualAuthCode;
		r.processedAt = this.now().toISOString();
		r.status = unprocessed > 0 ? 'partial' : 'processed';
		if (unprocessed > 0) throw new SandboxFault(FAULT.partiallyProcessed);
	}

	// ------------------------------------------------------------------ ImportStockAdjustments
	adjust(lines: AdjustmentInput[]): AdjustmentOutcome[] {
		lines.forEach((l, i) => {
			if (l.adjustBy !== null && l.adjustTo !== null) {
				throw new SandboxFault(
					`Adjustment line ${i + 1} (REFERENCE ${l.reference}): ADJUST_BY and ADJUST_TO cannot both be set.`,
					'SOAP-ENV:Client',
				);
			}
		});
		const out: AdjustmentOutcome[] = [];
		for (const l of lines) {
			const reject = (reason: string) =>
				out.push({
					reference: l.reference,
					stockCode: l.stockCode,
					result: 'REJECTED',
					newLevel: null,
					reason,
				});
			if (l.reference.trim() === '') {
				reject('REFERENCE not defined.');
				continue;
			}
			const p = this.product(l.stockCode);
			if (!p) {
				reject(`Stock code ${l.stockCode || '(empty)'} not found.`);
				continue;
			}
			if (p.deleted) {
				reject(`Stock code ${l.stockCode} is deleted.`);
				continue;
			}
			if (!p.stockControlled) {
				reject(`Stock code ${l.stockCode} is not stock controlled.`);
				continue;
			}
			if (!this.site(l.siteId)) {
				reject(`Site ${l.siteId || '(empty)'} not found.`);
				continue;
			}
			const loc = this.location(l.siteId, l.locationId);
			if (!loc) {
				reject(`Location ${l.locationId || '(empty)'} not found at site ${l.siteId}.`);
				continue;
			}
			const current = this.level(p.stockCode, l.siteId, loc.id);
			const done = this.adjustments.find((a) => a.reference === l.reference);
			if (done) {
				out.push({
					reference: l.reference,
					stockCode: l.stockCode,
					result: 'SKIPPED_DUPLICATE',
					newLevel: this.level(done.stockCode, done.siteId, done.locationId),
					reason: `REFERENCE ${l.reference} already applied.`,
				});
				continue;
			}
			const raw = l.adjustBy ?? l.adjustTo;
			if (raw === null) {
				reject('Neither ADJUST_BY nor ADJUST_TO is set.');
				continue;
			}
			if (!/^-?\d+$/.test(raw.trim())) {
				reject(`${l.adjustBy !== null ? 'ADJUST_BY' : 'ADJUST_TO'} ${raw} is not a whole number.`);
				continue;
			}
			const n = Number(raw);
			const next = l.adjustBy !== null ? current + n : n;
			if (next < 0) {
				reject(
					`Adjustment would take ${p.stockCode} at site ${l.siteId} location ${loc.id} below zero (level ${current}).`,
				);
				continue;
			}
			this.stock.set(this.key(p.stockCode, l.siteId, loc.id), next);
			this.adjustments.push({
				reference: l.reference,
				stockCode: p.stockCode,
				siteId: l.siteId,
				locationId: loc.id,
				adjustBy: l.adjustBy !== null ? n : null,
				adjustTo: l.adjustTo !== null ? n : null,
				delta: next - current,
				newLevel: next,
				reason: l.reason,
				at: this.now().toISOString(),
			});
			out.push({
				reference: l.reference,
				stockCode: p.stockCode,
				result: 'APPLIED',
				newLevel: next,
				reason: null,
			});
		}
		return out;
	}

	// ------------------------------------------------------------------ admin: break things on purpose
	/**
	 * Removes the credit notes (ORDER_TYPE 2) whose associated ref is `associatedRef`, as if
	 * someone deleted them in Khaos (for reconciliation tests). The return stays imported and
	 * processed; its `creditNoteCode` is cleared. Returns the removed order codes.
	 */
	removeCreditNotes(associatedRef: string): string[] {
		const ref = associatedRef.trim().toUpperCase();
		const removed = this.orders
			.filter((o) => o.orderType === 2 && o.associatedRef.toUpperCase() === ref)
			.map((o) => o.orderCode);
		if (removed.length === 0) return [];
		this.orders = this.orders.filter((o) => !removed.includes(o.orderCode));
		for (const r of this.returns)
			if (r.creditNoteCode && removed.includes(r.creditNoteCode)) r.creditNoteCode = null;
		return removed;
	}

	// ------------------------------------------------------------------ admin view
	snapshot() {
		const stock = [...this.stock.entries()]
			.map(([k, level]) => {
				const [stockCode, siteId, locationId] = k.split('|');
				return { stockCode, siteId, locationId, level };
			})
			.sort((a, b) =>
				(a.stockCode + a.siteId + a.locationId).localeCompare(
					b.stockCode + b.siteId + b.locationId,
				),
			);
		const creditNotes = this.orders
			.filter((o) => o.orderType === 2)
			.map((o) => {
				const lines = o.lines.map((l) => ({
					lineId: l.lineId,
					stockCode: l.stockCode,
					quantity: l.qty,
					sourceLineId: l.credit?.sourceLineId ?? null,
					netPence: l.credit?.netPence ?? 0,
					taxPence: l.credit?.taxPence ?? 0,
					grossPence: l.credit?.grossPence ?? 0,
				}));
				const d = o.delivery
					? {
							netPence: o.delivery.netPence,
							taxPence: o.delivery.taxPence,
							grossPence: o.delivery.grossPence,
						}
					: null;
				const sum = (k: 'netPence' | 'taxPence' | 'grossPence') =>
					lines.reduce((s, l) => s + l[k], 0) + (d ? d[k] : 0);
				return {
					orderCode: o.orderCode,
					associatedRef: o.associatedRef,
					returnCode: o.returnCode ?? null,
					sourceOrderCode: o.sourceOrderCode ?? null,
					currency: o.currency,
					exchangeRate: o.exchangeRate,
					dateCreated: o.orderDate,
					lines,
					delivery: d,
					totals: {
						netPence: sum('netPence'),
						taxPence: sum('taxPence'),
						grossPence: sum('grossPence'),
					},
				};
			});
		return {
			sites: this.sites,
			stock,
			orders: this.orders
				.filter((o) => o.orderType === 1)
				.map((o) => ({
					orderCode: o.orderCode,
					associatedRef: o.associatedRef,
					deliveryRefunded: o.deliveryRefunded,
					lines: o.lines.map((l) => ({
						lineId: l.lineId,
						stockCode: l.stockCode,
						qty: l.qty,
						qtyReturned: l.qtyReturned,
					})),
				})),
			returns: this.returns,
			creditNotes,
			adjustments: this.adjustments,
		};
	}
}
