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
