/**
 * The contract between the ReBound transport (client.ts owns the legacy
 * API's wire format) and its callers (the ReBound nodes, scripts, tests).
 */
import type { RetryPolicy } from '../retry';

export interface ReboundConfig {
	/** e.g. https://intelligentreturns.net/api (live) or https://test.intelligentreturns.net/api */
	baseUrl: string;
	login: string;
	apiKey: string;
	timeoutMs: number;
	retry: RetryPolicy;
}

/** A return as `returns/get/json` gives it, minus the label and other large blobs. */
export type ReboundRawReturn = Record<string, unknown>;

export type ReboundFetchResult =
	| { id: string; ok: true; value: ReboundRawReturn }
	| { id: string; ok: false; error: Error };

export interface ReboundApi {
	/** `returns/search/json` over one date window (YYYY/MM/DD, inclusive, UTC). The `empty` error means []. Ids as strings. */
	searchReturnIds(dateFrom: string, dateTo: string): Promise<string[]>;
	/** `returns/get/json`. Throws ReboundApiError with code `empty` when there is no such return. */
	getReturn(id: string): Promise<ReboundRawReturn>;
	/** Several returns with bounded concurrency (default 4); results in input order; per-id failures reported, not thrown. */
	getReturns(ids: string[], concurrency?: number): Promise<ReboundFetchResult[]>;
}
