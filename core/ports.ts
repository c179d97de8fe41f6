/**
 * Ports: the few Khaos calls the core use cases need, as plain interfaces. The Khaos transport
 * (transports/khaos) implements them; the use cases never see SOAP, HTTP or n8n.
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
	quantity: number;
}

export interface MoveRequest {
	stockCode: string;
	siteId: string;
	locationId: string;
	adjustBy: number;
	reason: string;
	/** Idempotency key: Khaos never applies a reference twice. */
	reference: string;
}

export interface MoveResult {
	reference: string;
	applied: boolean;
	duplicate: boolean;
	newLevel: number | null;
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
	lineId: string;
	stockCode: string;
	qtyOrdered: number;
	/** Units of this line already returned on processed returns. */
	qtyReturned: number;
	/** Unit price before the line's discount, in the order's price basis. */
	unitPricePence: number;
	discountPercent: number;
	discountValuePence: number;
	vatRatePercent: number;
}

export interface SalesOrderForCredit {
	orderCode: string;
	associatedRef: string;
	customerUrn: string;
	siteId: string;
	currency: string;
	exchangeRate: number;
	priceBasis: 'gross' | 'net';
	vatRounding: 'line' | 'total';
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
	orderLineId: string;
	siteId: string;
	locationId: string | null;
	restock: boolean;
	creditNetPence: number;
	creditTaxPence: number;
	creditGrossPence: number;
}

export interface ReturnImport {
	/** The duplicate guard: Khaos never imports an associated ref twice. */
	associatedRef: string;
	customerUrn: string;
	orderAssociatedRef: string;
	currency: string;
	exchangeRate: number;
	notes?: string;
	lines: ReturnImportLine[];
	delivery: { netPence: number; taxPence: number; grossPence: number } | null;
}

export interface ReturnImportResult {
	imported: boolean;
	/** New, or (a duplicate) the existing one. */
	returnCode: string;
	duplicate: boolean;
	skipReason: string | null;
	skipCode?: string | null;
}

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

/** An applied stock adjustment with Khaos' own id (null when not sent). */
export interface AppliedAdjustment extends AppliedMove {
	id: string | null;
}

export interface ReconcilePort {
	/** Orders and credit notes by associated ref. */
	getOrderStatuses(associatedRefs: string[]): Promise<OrderStatus[]>;
	/** Applied adjustments whose reference starts with one of the prefixes. */
	getStockAdjustments(query: { prefixes: string[] }): Promise<AppliedAdjustment[]>;
}
