/**
 * The contract between the Khaos Control transport (client.ts, which owns the
 * SOAP wire) and its callers (the Khaos Control node, scripts, tests).
 * Types only. Money is integer pence; booleans are real booleans here (the
 * wire's -1/0 stays inside the transport).
 *
 * Documented calls: GetSiteList, ExportStock, ExportStockStatus,
 * ExportOrderStatusEx, ProcessReturn. MODELED (this project's design in Khaos' conventions;
 * the wire of each in sandbox/khaos/README.md, "Calls"):
 * ExportOrders, ImportReturns, ImportStockAdjustments, ExportStockAdjustments, GetReturnReasonList,
 * GetLocationList.
 *
 * Added (compatible, batching): getSalesOrders, importReturns, getStockAdjustments (MODELED
 * ExportStockAdjustments), StockAdjustmentQuery, AppliedStockAdjustment.
 * Added by the transport owner (compatible): KhaosFaultCode, ImportReturnSkipCode,
 * ImportReturnResult.skipCode, StockAdjustmentResult.rejectReason (all optional/new names).
 * Implementation: transports/khaos/client.ts (KhaosClient, createKhaosClient, KhaosFault,
 * MAPPING_TYPE); wire of every call: sandbox/khaos/README.md.
 *
 * The shapes the core's ports share with this contract (orders and their lines, order statuses,
 * return imports, stock adjustments) are defined once, in core/ports.ts: the types here are those,
 * or those plus what only the transport reports. The client satisfies the ports as it is.
 */
import type {
	AppliedAdjustment,
	ImportReturnSkipCode,
	LocationInfo,
	MoveRequest,
	MoveResult,
	OrderStatus,
	ReturnImport,
	ReturnImportLine,
	ReturnImportResult,
	ReturnReasonInfo,
	SalesOrderForCredit,
	SalesOrderLineForCredit,
	SiteInfo,
} from '../../core/ports';
import type { RetryPolicy } from '../retry';

export type { ImportReturnSkipCode };

/**
 * none: no credentials (on-premise, private network). basic: HTTP Basic `Authorization` header.
 * inRequest (MODELED: hosted systems pass credentials inside the SOAP request; the exact
 * parameter names are not published): `UserName` and `Password` as the first two parameters of
 * every call. Credentials never appear in error messages (the client redacts them).
 */
export type KhaosAuthMode = 'none' | 'basic' | 'inRequest';

export interface KhaosConfig {
	/** The client's KhaosKSD.exe URL, e.g. http://server:8084/LiveSoap/KhaosKSD.exe */
	url: string;
	authMode: KhaosAuthMode;
	username?: string;
	password?: string;
	soapVersion: '1.1' | '1.2';
	/** SOAP namespace of the IKosWeb interface, e.g. urn:KosWeb-IKosWeb */
	namespace: string;
	/** How SOAPAction is formed: `${namespace}#${Method}` (Delphi convention), the method name alone, or empty. */
	soapActionStyle: 'namespaceHash' | 'method' | 'empty';
	timeoutMs: number;
	/** Codes per look-up call (Khaos has no pagination; 50 is usual). */
	batchSize: number;
	retry: RetryPolicy;
}

/** A site (core/ports.ts SiteInfo). */
export type KhaosSite = SiteInfo;

/** A stock location of a site (core/ports.ts LocationInfo; MODELED GetLocationList). */
export type KhaosLocation = LocationInfo;

export interface KhaosProduct {
	stockId: string;
	stockCode: string;
	associatedRef: string | null;
	description: string;
	sellPricePence: number | null;
	sellPriceIsNet: boolean;
	barcodes: string[];
	deleted: boolean;
	discontinued: boolean;
	stockControlled: boolean;
	web: boolean;
	runToZero: boolean;
}

export interface KhaosStockLevel {
	stockCode: string;
	stockId: string;
	siteId: string;
	/** Available to sell at the site. */
	level: number;
	/** 0 in stock, 1 all allocated, 2 out of stock but due, 3 out of stock not due, 4 discontinued, 5 not stock controlled */
	status: number;
	/** Per location (modeled extension: LOCATIONS/LOCATION under the item). */
	locations: Array<{ locationId: string; level: number }>;
}

/** A line of a sales order: what its credit needs (core/ports.ts), plus what Khaos shows. */
export interface KhaosOrderLine extends SalesOrderLineForCredit {
	description: string;
	/** Khaos TAX_RATE code: 1 standard, 2 zero, 4 reduced. */
	taxRateCode: number;
}

/** A sales order: what its credit needs (core/ports.ts), plus its date, keycode and delivery tax. */
export interface KhaosSalesOrder extends SalesOrderForCredit {
	orderDate: string;
	keycode: string | null;
	delivery: SalesOrderForCredit['delivery'] & { taxPence: number };
	lines: KhaosOrderLine[];
}

/** A return reason (core/ports.ts ReturnReasonInfo; MODELED GetReturnReasonList). */
export type KhaosReturnReason = ReturnReasonInfo;

/** One line of a return to import (core/ports.ts ReturnImportLine). */
export type ImportReturnLine = ReturnImportLine;

/** A return to import against its original order (core/ports.ts ReturnImport). */
export type ImportReturnInput = ReturnImport;

/** What ImportReturns did with one return (core/ports.ts ReturnImportResult; skipCode added by the transport). */
export type ImportReturnResult = ReturnImportResult;

export type ProcessReturnOutcome = 'processed' | 'already_processed';

/** A stock adjustment to apply: a move (core/ports.ts MoveRequest), by or (only here) to a level. */
export interface StockAdjustmentInput extends Omit<MoveRequest, 'adjustBy'> {
	/** Exactly one of adjustBy / adjustTo. */
	adjustBy?: number;
	adjustTo?: number;
}

/** What Khaos did with one adjustment (core/ports.ts MoveResult; rejectReason added by the transport). */
export type StockAdjustmentResult = MoveResult;

/** An order or credit note's status (core/ports.ts OrderStatus), with whether it is complete. */
export interface KhaosOrderStatus extends OrderStatus {
	complete: boolean;
}

/**
 * Added (compatible): `code` of a KhaosFault (transports/khaos/faults.ts), an error of
 * TransportError kind 'remote' carrying the SOAP `faultstring` word for word in `faultString`.
 * - return_not_found: "Return does not exist or has been deleted."
 * - return_already_processed: "Return has already been processed" (processReturn resolves it as
 *   'already_processed' instead of throwing)
 * - return_partially_processed: the fault saying a return was partially processed
 * - return_code_missing: "Return Code or Auth Code not defined."
 * - auth_failed: credentials passed in the request were refused (inRequest auth)
 * - invalid_adjustment: an adjustment line sets both ADJUST_BY and ADJUST_TO
 * - invalid_request: an Import* call refused its XML (malformed, a required field missing)
 * - unknown_method: the server does not know the call (wrong namespace/SOAPAction or an older Khaos)
 * - transient: the only retried fault: deadlock/lock timeout/server busy/temporarily unavailable/
 *   too many connections/timed out/try again
 * - other: anything else (not retried)
 */
export type KhaosFaultCode =
	| 'return_not_found'
	| 'return_already_processed'
	| 'return_partially_processed'
	| 'return_code_missing'
	| 'auth_failed'
	| 'invalid_adjustment'
	| 'invalid_request'
	| 'unknown_method'
	| 'transient'
	| 'other';

/**
 * Notes on values (added): dates (orderDate, dateCreated) are ISO `YYYY-MM-DD` (the wire's
 * DD/MM/YYYY converted); getSalesOrder returns sales orders only (ORDER_TYPE 1), never credit notes.
 * Errors: TransportError (http/network/timeout/protocol/auth), KhaosFault (remote), and after the
 * last retry TransientExhaustedError (transports/http.ts).
 */
export interface KhaosApi {
	getSites(): Promise<KhaosSite[]>;
	getLocations(siteId: string): Promise<KhaosLocation[]>;
	getReturnReasons(): Promise<KhaosReturnReason[]>;
	/** Batched by config.batchSize; codes not found are absent from the map. Keys are the codes as asked. */
	getProducts(codes: string[], mappingType?: number): Promise<Map<string, KhaosProduct>>;
	getStockLevels(codes: string[], siteId: string): Promise<KhaosStockLevel[]>;
	/** null when no order has that ref/code. */
	getSalesOrder(ref: {
		associatedRef?: string;
		orderCode?: string;
	}): Promise<KhaosSalesOrder | null>;
	/**
	 * Added (compatible): several sales orders by associated ref in one ExportOrders call per
	 * config.batchSize refs (IDs CSV, MappingType 4). Keys are the refs as asked (trimmed); refs
	 * with no sales order are absent. Credit notes (ORDER_TYPE 2) are never returned.
	 */
	getSalesOrders(associatedRefs: string[]): Promise<Map<string, KhaosSalesOrder>>;
	/** Order/credit-note status by associated refs (MappingType 4), batched. */
	getOrderStatuses(associatedRefs: string[]): Promise<KhaosOrderStatus[]>;
	/** One return: a one-element importReturns. */
	importReturn(input: ImportReturnInput): Promise<ImportReturnResult>;
	/**
	 * Added (compatible): config.batchSize returns per ImportReturns call; one result per input,
	 * in input order. Each return is imported or skipped on its own (a skip never affects the
	 * others in the call; an associated ref repeated in one call is a duplicate the second time).
	 * A transport failure rejects the whole promise: callers that need per-batch isolation pass
	 * at most batchSize inputs per call.
	 */
	importReturns(inputs: ImportReturnInput[]): Promise<ImportReturnResult[]>;
	/** "Return has already been processed" resolves as already_processed; other faults throw. */
	processReturn(returnCode: string, manualAuthCode: string): Promise<ProcessReturnOutcome>;
	adjustStock(adjustments: StockAdjustmentInput[]): Promise<StockAdjustmentResult[]>;
	/**
	 * Added (compatible, MODELED ExportStockAdjustments): adjustments applied in Khaos, by exact
	 * references and/or reference prefixes (e.g. `RB-R1-`), batched by config.batchSize. Order of
	 * application; each adjustment once even when several queries match it.
	 */
	getStockAdjustments(query: StockAdjustmentQuery): Promise<AppliedStockAdjustment[]>;
}

/** Added (compatible): what getStockAdjustments looks for. At least one reference or prefix. */
export interface StockAdjustmentQuery {
	references?: string[];
	prefixes?: string[];
}

/** Added (compatible): one applied stock adjustment as ExportStockAdjustments reports it (core/ports.ts AppliedAdjustment, plus these). */
export interface AppliedStockAdjustment extends AppliedAdjustment {
	/** Level at the location right after it. */
	newLevel: number | null;
	reason: string;
	/** The day it was applied (YYYY-MM-DD), null when Khaos does not say. */
	appliedDate: string | null;
}

/**
 * The same Khaos API with some of its methods answered otherwise (nodes/KhaosControl/runOrders.ts, ./readAhead.ts):
 * every other method is the client's own, bound to it.
 */
export function withMethods(api: KhaosApi, overrides: Partial<KhaosApi>): KhaosApi {
	return new Proxy(api, {
		get(target, prop) {
			if (prop in overrides) return overrides[prop as keyof KhaosApi];
			const value = Reflect.get(target, prop, target) as unknown;
			return typeof value === 'function'
				? (value as (...a: unknown[]) => unknown).bind(target)
				: value;
		},
	});
}
