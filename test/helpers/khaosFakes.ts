/**
 * A fake KhaosApi for node unit tests (no transport, no HTTP): the shared demo
 * data (sites, products, orders WEB-1001..1005, reasons), call counting, and
 * per-method failure injection. Plus builders for mapped returns.
 */
import type {
	AppliedStockAdjustment,
	ImportReturnInput,
	ImportReturnResult,
	KhaosApi,
	KhaosLocation,
	KhaosOrderStatus,
	KhaosProduct,
	KhaosReturnReason,
	KhaosSalesOrder,
	KhaosSite,
	KhaosStockLevel,
	ProcessReturnOutcome,
	StockAdjustmentInput,
	StockAdjustmentQuery,
	StockAdjustmentResult,
} from '../../transports/khaos/api';
import { KhaosFault } from '../../transports/khaos/faults';

export type KhaosMethod = keyof KhaosApi;

function product(
	stockId: string,
	stockCode: string,
	flags: Partial<KhaosProduct> = {},
): KhaosProduct {
	return {
		stockId,
		stockCode,
		associatedRef: null,
		description: stockCode,
		sellPricePence: 1000,
		sellPriceIsNet: false,
		barcodes: [],
		deleted: false,
		discontinued: false,
		stockControlled: true,
		web: true,
		runToZero: false,
		...flags,
	};
}

export const DEMO_PRODUCTS: KhaosProduct[] = [
	product('10001', 'TSHIRT-RED-M'),
	product('10002', 'JEANS-BLU-32'),
	product('10003', 'HOODIE-GRY-L'),
	product('10004', 'MUG-WHT', { discontinued: true, runToZero: true }),
	product('10005', 'SCARF-OLD', { deleted: true, discontinued: true }),
	product('10006', 'GIFTCARD-25', { stockControlled: false }),
	product('10007', 'KIDS-TEE-5Y'),
];

const line = (
	lineId: string,
	stockCode: string,
	qty: number,
	pricePence: number,
	discountPercent = 0,
	vat = 20,
) => ({
	lineId,
	stockCode,
	description: stockCode,
	qtyOrdered: qty,
	qtyReturned: 0,
	unitPricePence: pricePence,
	discountPercent,
	discountValuePence: 0,
	taxRateCode: vat === 0 ? 2 : 1,
	vatRatePercent: vat,
});

function order(
	code: string,
	ref: string,
	urn: string,
	discount: number,
	deliveryGross: number,
	lines: KhaosSalesOrder['lines'],
): KhaosSalesOrder {
	const tax = deliveryGross - Math.round((deliveryGross * 100) / 120);
	return {
		orderCode: code,
		associatedRef: ref,
		orderDate: '2026-11-01',
		customerUrn: urn,
		siteId: '1',
		currency: 'GBP',
		exchangeRate: 1,
		priceBasis: 'gross',
		vatRounding: 'line',
		orderDiscountPence: discount,
		keycode: discount ? 'SPRING10' : null,
		delivery: {
			netPence: deliveryGross - tax,
			taxPence: tax,
			grossPence: deliveryGross,
			vatRatePercent: 20,
		},
		deliveryRefunded: false,
		lines,
	};
}

export function demoOrders(): KhaosSalesOrder[] {
	return [
		order('SO000101', 'WEB-1001', 'C1001', 1000, 495, [
			line('1001', 'TSHIRT-RED-M', 1, 4000),
			line('1002', 'JEANS-BLU-32', 2, 3000, 10),
		]),
		order('SO000102', 'WEB-1002', 'C1002', 0, 395, [
			line('2001', 'HOODIE-GRY-L', 1, 5500),
			line('2002', 'MUG-WHT', 2, 800),
		]),
		order('SO000103', 'WEB-1003', 'C1003', 0, 0, [
			line('3001', 'SCARF-OLD', 1, 1500),
			line('3002', 'TSHIRT-RED-M', 1, 4000),
		]),
	];
}

export class FakeKhaosApi implements KhaosApi {
	readonly calls: Record<KhaosMethod, number> = {
		getSites: 0,
		getLocations: 0,
		getReturnReasons: 0,
		getProducts: 0,
		getStockLevels: 0,
		getSalesOrder: 0,
		getSalesOrders: 0,
		getOrderStatuses: 0,
		importReturn: 0,
		importReturns: 0,
		processReturn: 0,
		adjustStock: 0,
		getStockAdjustments: 0,
	};
	/** Arguments of every call, in order. */
	readonly log: Array<{ method: KhaosMethod; args: unknown[] }> = [];
	/** Throw this error from a method (every call, or only the next `times`). */
	readonly failures = new Map<KhaosMethod, { error: Error; times: number }>();

	products = new Map(DEMO_PRODUCTS.map((p) => [p.stockCode, p]));
	orders = demoOrders();
	levels = new Map<string, number>([
		['TSHIRT-RED-M|1|A1', 10],
		['JEANS-BLU-32|1|A1', 6],
		['TSHIRT-RED-M|1|QUAR', 1],
	]);
	appliedRefs = new Map<string, number>();
	/** Every applied adjustment, in order (what getStockAdjustments reports). */
	appliedAdjustments: AppliedStockAdjustment[] = [];
	/** Stock codes whose adjustments Khaos rejects. */
	rejectCodes = new Set<string>(['SCARF-OLD', 'GIFTCARD-25']);
	imports: ImportReturnInput[] = [];
	returnsByRef = new Map<string, string>();
	processed = new Set<string>();
	creditNotes: KhaosOrderStatus[] = [];

	fail(method: KhaosMethod, error: Error, times = Infinity): this {
		this.failures.set(method, { error, times });
		return this;
	}

	/** A strict Khaos that refuses a whole call (SOAP fault) when any argument mentions one of these texts. */
	readonly refuseMentioning = new Set<string>();

	private enter(method: KhaosMethod, args: unknown[]): void {
		this.calls[method]++;
		this.log.push({ method, args });
		const seen = JSON.stringify(args);
		for (const text of this.refuseMentioning) {
			if (seen.includes(JSON.stringify(text).slice(1, -1)))
				throw new KhaosFault(method, `Request refused: invalid value "${text.slice(0, 20)}"`, {
					code: 'invalid_request',
				});
		}
		const f = this.failures.get(method);
		if (f && f.times > 0) {
			f.times--;
			throw f.error;
		}
	}

	async getSites(): Promise<KhaosSite[]> {
		this.enter('getSites', []);
		return [
			{ id: '1', name: 'Main Warehouse' },
			{ id: '2', name: 'Outlet' },
		];
	}

	async getLocations(siteId: string): Promise<KhaosLocation[]> {
		this.enter('getLocations', [siteId]);
		if (siteId === '2') return [{ siteId: '2', id: 'OUT1', name: 'Outlet floor', sellable: true }];
		return [
			{ siteId: '1', id: 'A1', name: 'Pick face A1', sellable: true },
			{ siteId: '1', id: 'RET', name: 'Returns bay', sellable: true },
			{ siteId: '1', id: 'QUAR', name: 'Quarantine', sellable: false },
			{ siteId: '1', id: 'WOFF', name: 'Write-off', sellable: false },
		];
	}

	async getReturnReasons(): Promise<KhaosReturnReason[]> {
		this.enter('getReturnReasons', []);
		return [
			{ id: '1', code: 'FAULTY', description: 'Faulty', restock: false },
			{ id: '2', code: 'SIZE', description: 'Wrong size', restock: true },
		];
	}

	async getProducts(codes: string[], mappingType?: number): Promise<Map<string, KhaosProduct>> {
		this.enter('getProducts', [codes, mappingType]);
		const out = new Map<string, KhaosProduct>();
		for (const c of codes) {
			const p = [...this.products.values()].find(
				(x) => x.stockCode.toLowerCase() === c.toLowerCase(),
			);
			if (p) out.set(c, p);
		}
		return out;
	}

	async getStockLevels(codes: string[], siteId: string): Promise<KhaosStockLevel[]> {
		this.enter('getStockLevels', [codes, siteId]);
		return codes
			.filter((c) => this.products.has(c))
			.map((c) => {
				const p = this.products.get(c) as KhaosProduct;
				const locations = [...this.levels.entries()]
					.filter(([k]) => k.startsWith(`${c}|${siteId}|`))
					.map(([k, level]) => ({ locationId: k.split('|')[2], level }));
				return {
					stockCode: c,
					stockId: p.stockId,
					siteId,
					level: locations.reduce((s, l) => s + l.level, 0),
					status: 0,
					locations,
				};
			});
	}

	async getSalesOrder(ref: {
		associatedRef?: string;
		orderCode?: string;
	}): Promise<KhaosSalesOrder | null> {
		this.enter('getSalesOrder', [ref]);
		const o = this.orders.find((x) =>
			ref.orderCode
				? x.orderCode === ref.orderCode
				: x.associatedRef.toLowerCase() === (ref.associatedRef ?? '').toLowerCase(),
		);
		return o ? (JSON.parse(JSON.stringify(o)) as KhaosSalesOrder) : null;
	}

	async getSalesOrders(associatedRefs: string[]): Promise<Map<string, KhaosSalesOrder>> {
		this.enter('getSalesOrders', [associatedRefs]);
		const out = new Map<string, KhaosSalesOrder>();
		for (const ref of associatedRefs) {
			const o = this.orders.find((x) => x.associatedRef.toLowerCase() === ref.toLowerCase());
			if (o) out.set(ref, JSON.parse(JSON.stringify(o)) as KhaosSalesOrder);
		}
		return out;
	}

	async getOrderStatuses(associatedRefs: string[]): Promise<KhaosOrderStatus[]> {
		this.enter('getOrderStatuses', [associatedRefs]);
		const wanted = new Set(associatedRefs.map((r) => r.toLowerCase()));
		return this.creditNotes.filter((s) => wanted.has(s.associatedRef.toLowerCase()));
	}

	async importReturn(input: ImportReturnInput): Promise<ImportReturnResult> {
		this.enter('importReturn', [input]);
		return this.importOne(input);
	}

	async importReturns(inputs: ImportReturnInput[]): Promise<ImportReturnResult[]> {
		this.enter('importReturns', [inputs]);
		return inputs.map((i) => this.importOne(i));
	}

	private importOne(input: ImportReturnInput): ImportReturnResult {
		const existing = this.returnsByRef.get(input.associatedRef.toLowerCase());
		if (existing) {
			return {
				imported: false,
				duplicate: true,
				returnCode: existing,
				skipReason: `Duplicate ASSOCIATED_REF ${input.associatedRef}: already imported as return ${existing}`,
				skipCode: 'duplicate',
			};
		}
		const code = `RTN${String(this.imports.length + 1).padStart(6, '0')}`;
		this.imports.push(input);
		this.returnsByRef.set(input.associatedRef.toLowerCase(), code);
		return { imported: true, duplicate: false, returnCode: code, skipReason: null, skipCode: null };
	}

	async processReturn(returnCode: string, manualAuthCode: string): Promise<ProcessReturnOutcome> {
		this.enter('processReturn', [returnCode, manualAuthCode]);
		if (this.processed.has(returnCode)) return 'already_processed';
		this.processed.add(returnCode);
		const input = this.imports.find(
			(i) => this.returnsByRef.get(i.associatedRef.toLowerCase()) === returnCode,
		);
		if (input) {
			const net = input.lines.reduce((s, l) => s + l.creditNetPence, 0);
			this.creditNotes.push({
				orderCode: `CN${returnCode}`,
				associatedRef: input.associatedRef,
				orderType: 2,
				currency: input.currency,
				dateCreated: '2026-11-28',
				itemsNetPence: net,
				deliveryNetPence: input.delivery?.netPence ?? 0,
				complete: true,
				cancelled: false,
			});
		}
		return 'processed';
	}

	async getStockAdjustments(query: StockAdjustmentQuery): Promise<AppliedStockAdjustment[]> {
		this.enter('getStockAdjustments', [query]);
		const refs = new Set((query.references ?? []).map((r) => r.toLowerCase()));
		const prefixes = (query.prefixes ?? []).map((p) => p.toLowerCase());
		return this.appliedAdjustments.filter(
			(a) =>
				refs.has(a.reference.toLowerCase()) ||
				prefixes.some((p) => a.reference.toLowerCase().startsWith(p)),
		);
	}

	async adjustStock(adjustments: StockAdjustmentInput[]): Promise<StockAdjustmentResult[]> {
		this.enter('adjustStock', [adjustments]);
		return adjustments.map((a) => {
			if (this.rejectCodes.has(a.stockCode))
				return {
					reference: a.reference,
					applied: false,
					duplicate: false,
					newLevel: null,
					rejectReason: `Stock code ${a.stockCode} is deleted.`,
				};
			const key = `${a.stockCode}|${a.siteId}|${a.locationId}`;
			if (this.appliedRefs.has(a.reference))
				return {
					reference: a.reference,
					applied: false,
					duplicate: true,
					newLevel: this.levels.get(key) ?? 0,
					rejectReason: null,
				};
			const next =
				a.adjustTo !== undefined ? a.adjustTo : (this.levels.get(key) ?? 0) + (a.adjustBy ?? 0);
			const before = this.levels.get(key) ?? 0;
			this.levels.set(key, next);
			this.appliedRefs.set(a.reference, next);
			this.appliedAdjustments.push({
				id: String(this.appliedAdjustments.length + 1),
				reference: a.reference,
				stockCode: a.stockCode,
				siteId: a.siteId,
				locationId: a.locationId,
				quantity: next - before,
				newLevel: next,
				reason: a.reason,
				appliedDate: '2026-11-28',
			});
			return {
				reference: a.reference,
				applied: true,
				duplicate: false,
				newLevel: next,
				rejectReason: null,
			};
		});
	}
}

// ------------------------------------------------------------------ mapped returns

export type Action = 'restock' | 'quarantine' | 'write_off' | 'no_movement';

export interface LineSpec {
	sku: string;
	quantity?: number;
	disposition?: string;
	action?: Action;
	siteId?: string | null;
	locationId?: string | null;
	reasonId?: string;
	/** The line's credit decision (finance's policy); absent: as mapped before the policy existed. */
	credit?: 'credit' | 'no_credit' | 'hold' | 'exchange';
	/** The line's ReBound action (default Refund). */
	lineAction?: string;
}

const PLACES: Record<
	Action,
	{ siteId: string | null; locationId: string | null; sellable: boolean; disposition: string }
> = {
	restock: { siteId: '1', locationId: 'A1', sellable: true, disposition: 'Grade A' },
	quarantine: { siteId: '1', locationId: 'QUAR', sellable: false, disposition: 'Damaged' },
	write_off: { siteId: null, locationId: null, sellable: false, disposition: 'Dirty' },
	no_movement: { siteId: null, locationId: null, sellable: false, disposition: 'Missing' },
};

/** A mapped return as the Returns Mapping node emits it (passes MappedReturnSchema). */
export function mappedReturn(
	returnId: string,
	orderReference: string,
	lines: LineSpec[],
	extra: { refundPence?: number | null; displayId?: string } = {},
) {
	return {
		schemaVersion: 1 as const,
		source: 'rebound-webhook' as const,
		returnId,
		displayId: extra.displayId ?? `D-${returnId}`,
		externalId: null,
		orderReference,
		customer: { name: 'Alice Archer', email: 'alice@example.com' },
		currency: 'GBP',
		refundPence: extra.refundPence ?? null,
		createdAt: '2026-11-20T10:00:00.000Z',
		event: {
			id: `evt-${returnId}`,
			type: 'return.processed',
			occurredAt: '2026-11-21T10:00:00.000Z',
			sequence: 3,
		},
		lines: lines.map((l, i) => {
			const action = l.action ?? 'restock';
			const place = PLACES[action];
			return {
				lineId: `${returnId}:${i + 1}`,
				sku: l.sku,
				description: l.sku,
				quantity: l.quantity ?? 1,
				unitPricePence: null,
				disposition: l.disposition ?? place.disposition,
				reasons: [
					{ reason: 'Too small', action: l.lineAction ?? 'Refund', wish: '', additional: [] },
				],
				nonReturnable: false,
				mapping: {
					action,
					siteId: l.siteId === undefined ? place.siteId : l.siteId,
					locationId: l.locationId === undefined ? place.locationId : l.locationId,
					sellable: place.sellable,
					reasonId: l.reasonId ?? '2',
					khaosSku: l.sku,
					matchedDisposition: l.disposition ?? place.disposition,
					matchedBy: 'exact' as const,
					reasonMatchedBy: 'exact' as const,
					...(l.credit
						? {
								credit: l.credit,
								creditBy: l.credit === 'exchange' ? ('action' as const) : ('disposition' as const),
								lineAction: l.lineAction ?? 'Refund',
							}
						: {}),
				},
			};
		}),
	};
}

export const KHAOS_TEST_CREDENTIALS = {
	url: 'http://127.0.0.1:1/DemoSoap/defaultSoap/KhaosKSD.exe',
	authMode: 'inRequest',
	username: 'khaos-user',
	password: 'S3cret-Khaos-Pw!',
	soapVersion: '1.1',
	namespace: 'urn:KosWeb-IKosWeb',
	soapActionStyle: 'namespaceHash',
	defaultSiteId: '1',
	timeoutSeconds: 5,
	maxAttempts: 3,
	batchSize: 50,
};

/** The credit step's policy the core tests use: no delivery refund, half up, 1p a line, batches of 50. */
export const TEST_CREDIT_POLICY = {
	credit: {
		deliveryPolicy: 'never' as const,
		rounding: 'half_up' as const,
		tolerancePencePerLine: 1,
	},
	manualAuthCode: 'REBOUND',
	processReturn: true,
	processConcurrency: 4,
	defaultSiteId: '1',
	batchSize: 50,
};
