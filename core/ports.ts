/**
 * Ports: the few Khaos calls the core use cases need, as plain interfaces. The Khaos transport
 * (transports/khaos) implements them; the use cases never see SOAP, HTTP or n8n. The shapes the
 * ports and the transport share are defined here only: transports/khaos/api.ts builds its own
 * types from them (the same shape, or these plus what only the transport reports).
 */

/** One line of the original sales order, as far as stock moves care. */
export interface OrderLineForStock {
	stockCode: string;
	qtyOrdered: number;
	/** Units of this line already returned in Khaos (imported returns). */
	qtyReturned: number;
}

export interface OrderForStock {
	associatedRef: string;
	lines: OrderLineForStock[];
}

/** A stock adjustment Khaos has applied. */
export interface AppliedMove {
	reference: string;
	stockCode: string;
	siteId: string;
	locationId: string;
	/** The signed change it made. */
	quantity: number;
}

export interface MoveRequest {
	stockCode: string;
	siteId: string;
	locationId: string;
	adjustBy: number;
	reason: string;
	/** Idempotency key: Khaos never applies a reference twice (an applied reference is skipped). */
	reference: string;
}

export interface MoveResult {
	reference: string;
	applied: boolean;
	/** True when skipped because the reference was already applied. */
	duplicate: boolean;
	/** Level at the location after the adjustment. */
	newLevel: number | null;
	/**
	 * Set when Khaos rejected this line (unknown stock code, deleted product, not stock controlled,
	 * unknown site or location, level would go below zero); then applied and duplicate are false
	 * and newLevel is null.
	 */
	rejectReason?: string | null;
}

export interface StockPort {
	/** Sales orders by associated ref; a ref with no order is absent from the map. */
	getSalesOrders(associatedRefs: string[]): Promise<Map<string, OrderForStock>>;
	/** Applied adjustments whose reference starts with one of the prefixes. */
	getStockAdjustments(query: { prefixes: string[] }): Promise<AppliedMove[]>;
	/** One result per request, in order. */
	adjustStock(moves: MoveRequest[]): Promise<MoveResult[]>;
}

/**
 * How a failed call is to be treated, decided by the adapter that knows the transport's errors:
 * - transient: the service kept failing (retries exhausted): the records are retried later;
 * - refused: the service (or our own encoder) refused the request permanently: it may be one
 *   record's fault, so a batch is split to find the culprit;
 * - fatal: nothing can succeed (credentials refused, misconfiguration): the run stops.
 */
export interface FailureInfo {
	category: 'transient' | 'refused' | 'fatal';
	/** A sentence with secrets removed. */
	message: string;
	code: string | null;
	status: number | null;
	attempts: number | null;
}

export type DescribeFailure = (error: unknown) => FailureInfo;

// ------------------------------------------------------------------ credit notes (core/usecases/postCreditNotes.ts)

/** One line of the original sales order, as far as its credit cares. */
export interface SalesOrderLineForCredit {
	/** Stable line id (SORDER_ITEM_ID). */
	lineId: string;
	stockCode: string;
	qtyOrdered: number;
	/** Units of this line already returned on processed returns. */
	qtyReturned: number;
	/** Unit price before the line's discount, in the order's price basis. */
	unitPricePence: number;
	/** Line percent discount (e.g. 10 or 12.5). */
	discountPercent: number;
	/** Line value discount in pence. */
	discountValuePence: number;
	/** The VAT rate as a percentage (20, 0, 5). */
	vatRatePercent: number;
}

export interface SalesOrderForCredit {
	orderCode: string;
	associatedRef: string;
	customerUrn: string;
	siteId: string;
	currency: string;
	/** Exchange rate of the order (1 for the base currency); credits use this, never today's. */
	exchangeRate: number;
	/** Whether line prices are gross (VAT inclusive) or net. */
	priceBasis: 'gross' | 'net';
	/** VAT rounding basis of the original invoice. */
	vatRounding: 'line' | 'total';
	/** Order-level value discount (promotion code) in pence, in the price basis. */
	orderDiscountPence: number;
	delivery: { netPence: number; grossPence: number; vatRatePercent: number };
	/** Whether delivery was already credited on an earlier return. */
	deliveryRefunded: boolean;
	lines: SalesOrderLineForCredit[];
}

/** An order or credit note found by associated ref. */
export interface OrderStatus {
	orderCode: string;
	associatedRef: string;
	/** 1 sales order, 2 credit note */
	orderType: number;
	currency: string;
	dateCreated: string;
	itemsNetPence: number;
	deliveryNetPence: number;
	cancelled: boolean;
}

export interface ReturnImportLine {
	stockCode: string;
	quantity: number;
	reasonId: string;
	/** Source order line (SORDER_ITEM_ID). */
	orderLineId: string;
	siteId: string;
	locationId: string | null;
	/** Whether Khaos itself should restock on processing. The returns flow moves stock with adjustments, so false there. */
	restock: boolean;
	/** The credit for this line, computed by the integration (core/creditNote). */
	creditNetPence: number;
	creditTaxPence: number;
	creditGrossPence: number;
}

export interface ReturnImport {
	/**
	 * The duplicate guard: Khaos never imports an associated ref twice. Unique per return: the flow
	 * uses the ReBound return id (`RB-<id>`).
	 */
	associatedRef: string;
	customerUrn: string;
	/** The source order (its associated ref). */
	orderAssociatedRef: string;
	currency: string;
	exchangeRate: number;
	notes?: string;
	lines: ReturnImportLine[];
	delivery: { netPence: number; taxPence: number; grossPence: number } | null;
}

export interface ReturnImportResult {
	imported: boolean;
	/** The return code, new or (when skipped as a duplicate) the existing one. */
	returnCode: string;
	duplicate: boolean;
	skipReason: string | null;
	/** Why the return was skipped, classified from SkipReason; absent or null when imported. */
	skipCode?: ImportReturnSkipCode | null;
}

/**
 * Classification of ImportReturns' SkipReason: 'duplicate' (ASSOCIATED_REF already imported),
 * 'quantity_exceeds_sold', 'order_not_found', 'line_not_found' (SORDER_ITEM_ID not on the order),
 * 'unknown_stock', 'unknown_reason', 'unknown_location', 'other'.
 */
export type ImportReturnSkipCode =
	| 'duplicate'
	| 'quantity_exceeds_sold'
	| 'order_not_found'
	| 'line_not_found'
	| 'unknown_stock'
	| 'unknown_reason'
	| 'unknown_location'
	| 'other';

export interface CreditPort {
	/** Orders and credit notes by associated ref. */
	getOrderStatuses(associatedRefs: string[]): Promise<OrderStatus[]>;
	/** Sales orders by associated ref; a ref with no order is absent from the map. */
	getSalesOrders(associatedRefs: string[]): Promise<Map<string, SalesOrderForCredit>>;
	/** One result per import, in order; each imported or skipped on its own. */
	importReturns(imports: ReturnImport[]): Promise<ReturnImportResult[]>;
	/** Processes an imported return (raising its credit note); "already processed" is an answer, not an error. */
	processReturn(returnCode: string, manualAuthCode: string): Promise<string>;
}

// ------------------------------------------------------------------ reconciliation (core/usecases/reconcileReturns.ts)

/** An applied stock adjustment with Khaos' own id. */
export interface AppliedAdjustment extends AppliedMove {
	/** Khaos' id of the adjustment (ADJUSTMENT_ID), null when not sent. */
	id: string | null;
}

export interface ReconcilePort {
	/** Orders and credit notes by associated ref. */
	getOrderStatuses(associatedRefs: string[]): Promise<OrderStatus[]>;
	/** Applied adjustments whose reference starts with one of the prefixes. */
	getStockAdjustments(query: { prefixes: string[] }): Promise<AppliedAdjustment[]>;
}

// ------------------------------------------------------------------ mapping audit (core/usecases/auditMappings.ts)

/** A Khaos site (documented GetSiteList). */
export interface SiteInfo {
	id: string;
	name: string;
}

/** A stock location of a site (MODELED GetLocationList). */
export interface LocationInfo {
	siteId: string;
	id: string;
	name: string;
	/** Whether stock here counts as available to sell. */
	sellable: boolean;
}

/** A Khaos return reason (MODELED GetReturnReasonList). */
export interface ReturnReasonInfo {
	id: string;
	code: string;
	description: string;
	/** Whether Khaos restocks items returned with this reason when it processes the return. */
	restock: boolean;
}

export interface MappingAuditPort {
	getSites(): Promise<SiteInfo[]>;
	/** The locations of one site (a site Khaos listed). */
	getLocations(siteId: string): Promise<LocationInfo[]>;
	getReturnReasons(): Promise<ReturnReasonInfo[]>;
}
