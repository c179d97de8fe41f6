/**
 * KhaosClient: the Khaos Control SOAP transport (IKosWeb on KhaosKSD.exe).
 * Owns the wire (envelopes, parameters, -1/0 booleans, UPPER_SNAKE XML),
 * batching, retries and response validation. No n8n import: the HTTP sender
 * and the retry clock are injected.
 *
 * Wire of every call (documented and MODELED) is described in sandbox/khaos/README.md.
 */
import { redactSecrets } from '../../core/exceptions';
import { formatPence } from '../../core/money';
import { formatPath } from '../../core/returnModel';
import { TransportError, httpStatusError, type HttpResponse, type HttpSend } from '../http';
import { withRetry, type RetryDeps } from '../retry';
import type {
	AppliedStockAdjustment,
	ImportReturnInput,
	ImportReturnResult,
	ImportReturnSkipCode,
	KhaosApi,
	KhaosConfig,
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
} from './api';
import { KhaosFault, classifyFault } from './faults';
import {
	ExportOrderStatusSchema,
	ExportOrdersSchema,
	ExportStockSchema,
	ExportStockStatusSchema,
	ImportStockAdjustmentsResultSchema,
	LocationListSchema,
	ReturnReasonListSchema,
	SiteListSchema,
	TAX_RATE_PERCENT,
	xDate,
	xInt,
	xList,
	xObj,
	xOptStr,
	xStr,
} from './schemas';
import { buildSoapRequest, parseSoapResponse, textOf, toXml } from './soap';
import { parseXml, type XmlObject } from './xml';
import { z } from 'zod';

export { KhaosFault } from './faults';

/**
 * Codes of protocol errors that concern the data of the call, not the whole service: a request value
 * refused before anything was sent (REQUEST_DATA), or an answer whose fields fail validation
 * (RESPONSE_FIELD). The node layer splits a batch that fails with one of these to find its culprit;
 * an unreadable answer (a wrong URL, an HTML page) is no record's fault.
 */
export const REQUEST_DATA = 'invalid_request_data';
export const RESPONSE_FIELD = 'invalid_response_field';

/** A SOAP array of structs: `<X><item>…</item>…</X>`; missing or empty → no items. */
const itemList = <T extends z.ZodTypeAny>(item: T) =>
	z.preprocess((v) => (v === undefined || v === '' ? {} : v), z.object({ item: xList(item) }));

/**
 * ImportReturns' answer (ImportReturnsResultSchema's fields) plus the MODELED per-return
 * `Results` list (one entry per return, in request order; absent from older answers).
 */
const ImportReturnsBatchResultSchema = xObj({
	ImportedCount: xInt,
	ReturnImport: itemList(xObj({ OrderRef: xStr, ReturnCode: xStr })),
	ReturnSkipped: itemList(xObj({ OrderRef: xStr, SkipReason: xStr })),
	Results: itemList(
		xObj({ OrderRef: xStr, Result: xStr, ReturnCode: xOptStr, SkipReason: xOptStr }),
	),
});

/** MappingType values (documented). */
export const MAPPING_TYPE = {
	automatic: -1,
	stockCode: 1,
	otherRef: 2,
	externalMap: 3,
	description: 4,
	barcode: 5,
	channelCode: 6,
	catalogueRef: 7,
} as const;
/** ExportOrderStatusEx / ExportOrders: 4 = associated refs, 1 = order codes. */
export const ORDER_MAPPING = { orderCode: 1, associatedRef: 4 } as const;

export interface KhaosClientDeps {
	send: HttpSend;
	retry: RetryDeps;
}

type Param = [string, string | number];

function chunk<T>(items: T[], size: number): T[][] {
	const n = Math.max(1, Math.floor(size) || 1);
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
	return out;
}

function uniqueCodes(codes: string[], what: string): string[] {
	const seen = new Set<string>();
	const out: string[] = [];
	codes.forEach((raw, i) => {
		if (typeof raw !== 'string')
			throw new TransportError(`${what}[${i}] is not a string`, {
				kind: 'protocol',
				retryable: false,
				code: REQUEST_DATA,
			});
		const code = raw.trim();
		if (code === '') return;
		if (code.includes(',')) {
			throw new TransportError(
				`${what}[${i}] "${code.slice(0, 60)}" contains a comma, which the comma-separated Khaos parameter cannot carry`,
				{
					kind: 'protocol',
					retryable: false,
					code: REQUEST_DATA,
				},
			);
		}
		if (!seen.has(code)) {
			seen.add(code);
			out.push(code);
		}
	});
	return out;
}

const money = (pence: number): string => formatPence(pence);
const kbool = (b: boolean): string => (b ? '-1' : '0');

/** The Returns XML (MODELED) for ImportReturns. */
export function buildReturnsXml(returns: ImportReturnInput[]): string {
	return toXml('RETURNS', {
		RETURN: returns.map((r) => ({
			ASSOCIATED_REF: r.associatedRef,
			URN: r.customerUrn,
			SOURCE_ORDER: { ASSOCIATED_REF: r.orderAssociatedRef },
			CURRENCY_CODE: r.currency,
			EXCHANGE_RATE: String(r.exchangeRate),
			NOTES: r.notes ?? null,
			DELIVERY_NET: r.delivery ? money(r.delivery.netPence) : null,
			DELIVERY_TAX: r.delivery ? money(r.delivery.taxPence) : null,
			DELIVERY_GRS: r.delivery ? money(r.delivery.grossPence) : null,
			RETURN_ITEMS: {
				RETURN_ITEM: r.lines.map((l) => ({
					STOCK_CODE: l.stockCode,
					MAPPING_TYPE: '1',
					SORDER_ITEM_ID: l.orderLineId,
					QUANTITY: String(l.quantity),
					RETURN_REASON_ID: l.reasonId,
					SITE: l.siteId,
					LOCATION: l.locationId ?? null,
					RESTOCK: kbool(l.restock),
					CREDIT_NET: money(l.creditNetPence),
					CREDIT_TAX: money(l.creditTaxPence),
					CREDIT_GRS: money(l.creditGrossPence),
				})),
			},
		})),
	});
}

/** The Adjustments XML (MODELED) for ImportStockAdjustments. */
export function buildAdjustmentsXml(adjustments: StockAdjustmentInput[]): string {
	return toXml('STOCK_ADJUSTMENTS', {
		ADJUSTMENT: adjustments.map((a) => ({
			STOCK_CODE: a.stockCode,
			MAPPING_TYPE: '1',
			SITE: a.siteId,
			LOCATION: a.locationId,
			ADJUST_BY: a.adjustBy === undefined ? null : String(a.adjustBy),
			ADJUST_TO: a.adjustTo === undefined ? null : String(a.adjustTo),
			REASON: a.reason,
			REFERENCE: a.reference,
		})),
	});
}

/** Classify an ImportReturns SkipReason (sandbox/khaos/README.md lists the wording). */
export function classifySkipReason(reason: string): {
	code: ImportReturnSkipCode;
	existingReturnCode: string | null;
} {
	const dup = /already imported as return ([A-Za-z0-9_./-]+)/i.exec(reason);
	if (dup) return { code: 'duplicate', existingReturnCode: dup[1] };
	if (/duplicate/i.test(reason)) return { code: 'duplicate', existingReturnCode: null };
	if (/exceeds quantity sold/i.test(reason))
		return { code: 'quantity_exceeds_sold', existingReturnCode: null };
	if (/order .*not found/i.test(reason))
		return { code: 'order_not_found', existingReturnCode: null };
	if (/SORDER_ITEM_ID .*not a line/i.test(reason))
		return { code: 'line_not_found', existingReturnCode: null };
	if (/stock code .*(?:not found|deleted|not stock controlled|does not match)/i.test(reason))
		return { code: 'unknown_stock', existingReturnCode: null };
	if (/return reason .*not found/i.test(reason))
		return { code: 'unknown_reason', existingReturnCode: null };
	if (/(?:location|site) .*not found/i.test(reason))
		return { code: 'unknown_location', existingReturnCode: null };
	return { code: 'other', existingReturnCode: null };
}

export class KhaosClient implements KhaosApi {
	private readonly config: KhaosConfig;
	private readonly deps: KhaosClientDeps;
	/** SOAP requests sent (every attempt), for measurements. */
	requestCount = 0;

	constructor(config: KhaosConfig, deps: KhaosClientDeps) {
		this.config = config;
		this.deps = deps;
	}

	private secrets(): string[] {
		const { username, password } = this.config;
		const out: string[] = [];
		if (username) out.push(username);
		if (password) out.push(password);
		// HTTP Basic encodes `user:password` as one text: listed as such, redactSecrets removes its base64/base64url
		// forms (and the raw pair); the XML-escaped UserName/Password of inRequest mode are derived from the parts
		if (username || password) out.push(`${username ?? ''}:${password ?? ''}`);
		return out;
	}

	private redact(text: string): string {
		return redactSecrets(text, this.secrets());
	}

	/** Re-create an error with secrets removed from its message (and fault string). */
	private clean(error: unknown, method: string): unknown {
		if (error instanceof KhaosFault) {
			const fs = this.redact(error.faultString);
			if (fs === error.faultString) return error;
			return new KhaosFault(method, fs, {
				code: error.code,
				faultCode: error.faultCode,
				retryable: error.retryable,
			});
		}
		if (error instanceof TransportError) {
			const msg = this.redact(error.message);
			if (msg === error.message) return error;
			return new TransportError(msg, {
				kind: error.kind,
				retryable: error.retryable,
				status: error.status,
				code: error.code,
				retryAfterMs: error.retryAfterMs,
			});
		}
		const msg = error instanceof Error ? error.message : String(error);
		return new TransportError(`Khaos ${method}: ${this.redact(msg)}`, {
			kind: 'network',
			retryable: true,
		});
	}

	private interpret(method: string, res: HttpResponse): XmlObject {
		const what = `Khaos ${method}`;
		if (res.status === 401 || res.status === 403) {
			throw new TransportError(
				`${what}: HTTP ${res.status}, credentials refused (check the auth mode, user name and password)`,
				{
					kind: 'auth',
					retryable: false,
					status: res.status,
				},
			);
		}
		const transientStatus =
			res.status === 429 || res.status === 408 || (res.status >= 502 && res.status <= 504);
		if (!transientStatus && (res.status === 200 || res.status === 500 || res.status === 400)) {
			const parsed = parseSoapResponse(res.body, method);
			if (parsed.kind === 'fault') {
				const faultString = this.redact(parsed.faultString);
				const c = classifyFault(method, faultString);
				throw new KhaosFault(method, faultString, {
					code: c.code,
					faultCode: parsed.faultCode,
					retryable: c.retryable,
				});
			}
			if (res.status === 200) {
				if (parsed.kind === 'invalid') {
					throw new TransportError(
						`${what}: unreadable SOAP response: ${this.redact(parsed.error)}`,
						{ kind: 'protocol', retryable: false },
					);
				}
				return parsed.element;
			}
		}
		if (res.status >= 200 && res.status < 300) {
			const parsed = parseSoapResponse(res.body, method);
			if (parsed.kind === 'response') return parsed.element;
			throw new TransportError(`${what}: unexpected HTTP ${res.status} without a SOAP response`, {
				kind: 'protocol',
				retryable: false,
				status: res.status,
			});
		}
		throw httpStatusError(res.status, res.headers, this.deps.retry.now(), what);
	}

	/** One SOAP call with retries; resolves with the `<Method>Response` element. */
	private async call(method: string, params: Param[]): Promise<XmlObject> {
		const cfg = this.config;
		const all: Param[] =
			cfg.authMode === 'inRequest'
				? [['UserName', cfg.username ?? ''], ['Password', cfg.password ?? ''], ...params]
				: params;
		const { body, headers } = buildSoapRequest(
			{ version: cfg.soapVersion, namespace: cfg.namespace, actionStyle: cfg.soapActionStyle },
			method,
			all,
		);
		if (cfg.authMode === 'basic') {
			headers.authorization = `Basic ${Buffer.from(`${cfg.username ?? ''}:${cfg.password ?? ''}`).toString('base64')}`;
		}
		return withRetry(
			`Khaos ${method}`,
			async () => {
				this.requestCount++;
				try {
					const res = await this.deps.send({
						method: 'POST',
						url: cfg.url,
						headers,
						body,
						timeoutMs: cfg.timeoutMs,
					});
					return this.interpret(method, res);
				} catch (error) {
					throw this.clean(error, method);
				}
			},
			cfg.retry,
			this.deps.retry,
		).catch((error: unknown) => {
			if (error instanceof Error && !(error instanceof TransportError))
				error.message = this.redact(error.message);
			throw error;
		});
	}

	private protocolError(method: string, field: string, message: string): TransportError {
		return new TransportError(`Khaos ${method}: response field ${field}: ${this.redact(message)}`, {
			kind: 'protocol',
			retryable: false,
			code: RESPONSE_FIELD,
		});
	}

	private validate<S extends z.ZodTypeAny>(
		method: string,
		schema: S,
		value: unknown,
		prefix: string,
	): z.infer<S> {
		const parsed = schema.safeParse(value);
		if (parsed.success) return parsed.data;
		const issue = parsed.error.issues[0];
		const path = formatPath(issue.path);
		throw this.protocolError(
			method,
			path === '(root)' ? prefix : `${prefix}.${path}`,
			issue.message,
		);
	}

	/** The `return` element's escaped XML document, parsed and validated. */
	private exportDoc<S extends z.ZodTypeAny>(
		method: string,
		response: XmlObject,
		schema: S,
	): z.infer<S> {
		const raw = textOf(response.return);
		if (raw === undefined)
			throw this.protocolError(method, 'return', 'expected the exported XML as text');
		const doc = parseXml(raw);
		if (!doc.ok) throw this.protocolError(method, 'return', `exported XML: ${doc.error}`);
		return this.validate(method, schema, doc.value, 'return');
	}

	async getSites(): Promise<KhaosSite[]> {
		const res = await this.call('GetSiteList', []);
		const list = this.validate('GetSiteList', SiteListSchema, res.return, 'return');
		return list.item.map((s) => ({ id: s.SiteID, name: s.SiteName }));
	}

	async getLocations(siteId: string): Promise<KhaosLocation[]> {
		const res = await this.call('GetLocationList', [['SiteID', siteId]]);
		const list = this.validate('GetLocationList', LocationListSchema, res.return, 'return');
		return list.item.map((l) => ({
			siteId: l.SiteID,
			id: l.LocationID,
			name: l.LocationName,
			sellable: l.Sellable,
		}));
	}

	async getReturnReasons(): Promise<KhaosReturnReason[]> {
		const res = await this.call('GetReturnReasonList', []);
		const list = this.validate('GetReturnReasonList', ReturnReasonListSchema, res.return, 'return');
		return list.item.map((r) => ({
			id: r.ReasonID,
			code: r.ReasonCode,
			description: r.Description,
			restock: r.Restock,
		}));
	}

	async getProducts(
		codes: string[],
		mappingType: number = MAPPING_TYPE.stockCode,
	): Promise<Map<string, KhaosProduct>> {
		const wanted = uniqueCodes(codes, 'codes');
		const result = new Map<string, KhaosProduct>();
		for (const batch of chunk(wanted, this.config.batchSize)) {
			const res = await this.call('ExportStock', [
				['StockCode', batch.join(',')],
				['MappingType', mappingType],
				['LastUpdated', ''],
			]);
			const doc = this.exportDoc('ExportStock', res, ExportStockSchema);
			const products: KhaosProduct[] = doc.STOCK_ITEMS.STOCK_ITEM.map((s) => ({
				stockId: s.STOCK_ID,
				stockCode: s.STOCK_CODE,
				associatedRef: s.ASSOCIATED_REF,
				description: s.STOCK_DESC ?? '',
				sellPricePence: s.SELL_PRICE['#text'],
				sellPriceIsNet: s.SELL_PRICE['@_IS_NET'],
				barcodes: s.BARCODES.BARCODE,
				deleted: s.DELETED,
				discontinued: s.DISCONTINUED,
				stockControlled: s.STOCK_CONTROLLED,
				web: s.WEB,
				runToZero: s.RUN_TO_ZERO,
			}));
			for (const code of batch) {
				const key = code.toLowerCase();
				const keysOf = (p: KhaosProduct): string[] => {
					if (mappingType === MAPPING_TYPE.stockCode) return [p.stockCode];
					if (mappingType === MAPPING_TYPE.otherRef) return [p.associatedRef ?? ''];
					if (mappingType === MAPPING_TYPE.barcode) return p.barcodes;
					return [p.stockCode, p.associatedRef ?? '', ...p.barcodes];
				};
				// a live product wins over a deleted one with the same code
				const matches = products.filter((p) => keysOf(p).some((k) => k.toLowerCase() === key));
				const found = matches.find((p) => !p.deleted) ?? matches[0];
				if (found) result.set(code, found);
			}
		}
		return result;
	}

	async getStockLevels(codes: string[], siteId: string): Promise<KhaosStockLevel[]> {
		const wanted = uniqueCodes(codes, 'codes');
		const out: KhaosStockLevel[] = [];
		for (const batch of chunk(wanted, this.config.batchSize)) {
			const res = await this.call('ExportStockStatus', [
				['StockCodes', batch.join(',')],
				['MappingType', MAPPING_TYPE.stockCode],
				['LastUpdated', ''],
				['SiteID', siteId],
			]);
			const doc = this.exportDoc('ExportStockStatus', res, ExportStockStatusSchema);
			const site = doc.STOCK_STATUS['@_SITE'];
			for (const item of doc.STOCK_STATUS.STOCK_ITEM) {
				out.push({
					stockCode: item['@_CODE'],
					stockId: item['@_ID'],
					siteId: site,
					level: item.LEVEL,
					status: item.STATUS,
					locations: item.LOCATIONS.LOCATION.map((l) => ({
						locationId: l['@_ID'],
						level: l.LEVEL,
					})),
				});
			}
		}
		return out;
	}

	async getSalesOrder(ref: {
		associatedRef?: string;
		orderCode?: string;
	}): Promise<KhaosSalesOrder | null> {
		const byCode = ref.orderCode !== undefined && ref.orderCode.trim() !== '';
		const id = (byCode ? ref.orderCode : ref.associatedRef)?.trim() ?? '';
		if (id === '')
			throw new TransportError('getSalesOrder needs associatedRef or orderCode', {
				kind: 'protocol',
				retryable: false,
				code: REQUEST_DATA,
			});
		uniqueCodes([id], byCode ? 'orderCode' : 'associatedRef');
		const res = await this.call('ExportOrders', [
			['IDs', id],
			['MappingType', byCode ? ORDER_MAPPING.orderCode : ORDER_MAPPING.associatedRef],
		]);
		const doc = this.exportDoc('ExportOrders', res, ExportOrdersSchema);
		const o = doc.ORDERS.ORDER.find(
			(x) =>
				x.ORDER_TYPE === 1 &&
				(byCode ? x.SORDER_CODE === id : x.ASSOCIATED_REF.toLowerCase() === id.toLowerCase()),
		);
		return o ? this.toSalesOrder(o) : null;
	}

	async getSalesOrders(associatedRefs: string[]): Promise<Map<string, KhaosSalesOrder>> {
		const wanted = uniqueCodes(associatedRefs, 'associatedRefs');
		const out = new Map<string, KhaosSalesOrder>();
		for (const batch of chunk(wanted, this.config.batchSize)) {
			const res = await this.call('ExportOrders', [
				['IDs', batch.join(',')],
				['MappingType', ORDER_MAPPING.associatedRef],
			]);
			const doc = this.exportDoc('ExportOrders', res, ExportOrdersSchema);
			const salesOrders = doc.ORDERS.ORDER.filter((x) => x.ORDER_TYPE === 1);
			for (const ref of batch) {
				const o = salesOrders.find((x) => x.ASSOCIATED_REF.toLowerCase() === ref.toLowerCase());
				if (o) out.set(ref, this.toSalesOrder(o));
			}
		}
		return out;
	}

	private toSalesOrder(
		o: z.infer<typeof ExportOrdersSchema>['ORDERS']['ORDER'][number],
	): KhaosSalesOrder {
		const items = o.ORDER_ITEMS.ORDER_ITEM;
		const gross = items.length === 0 || items.some((l) => l.PRICE_GRS !== null);
		const lines = items.map((l, i) => {
			const price = gross ? l.PRICE_GRS : l.PRICE_NET;
			if (price === null)
				throw this.protocolError(
					'ExportOrders',
					`return.ORDERS.ORDER.ORDER_ITEMS.ORDER_ITEM[${i}].${gross ? 'PRICE_GRS' : 'PRICE_NET'}`,
					'element missing (lines mix gross and net prices)',
				);
			return {
				lineId: l.SORDER_ITEM_ID,
				stockCode: l.STOCK_CODE,
				description: l.STOCK_DESC ?? '',
				qtyOrdered: l.ORDER_QTY,
				qtyReturned: l.QTY_RETURNED,
				unitPricePence: price,
				discountPercent: l.KSD_DISCOUNT,
				discountValuePence: l.DISCOUNT_VALUE,
				taxRateCode: l.TAX_RATE,
				vatRatePercent:
					l.TAX_RATE_PERCENT >= 0 ? l.TAX_RATE_PERCENT : (TAX_RATE_PERCENT[l.TAX_RATE] ?? 20),
			};
		});
		return {
			orderCode: o.SORDER_CODE,
			associatedRef: o.ASSOCIATED_REF,
			orderDate: o.ORDER_DATE,
			customerUrn: o.URN,
			siteId: o.SITE,
			currency: o.ORDER_CURRENCY_CODE,
			exchangeRate: o.EXCHANGE_RATE,
			priceBasis: gross ? 'gross' : 'net',
			vatRounding: o.VAT_PER_LINE ? 'line' : 'total',
			orderDiscountPence: o.ORDER_DISCOUNT,
			keycode: o.KEYCODE_CODE,
			delivery: {
				netPence: o.DELIVERY_NET,
				taxPence: o.DELIVERY_TAX,
				grossPence: o.DELIVERY_GRS,
				vatRatePercent: TAX_RATE_PERCENT[o.DELIVERY_TAX_RATE] ?? 20,
			},
			deliveryRefunded: o.DELIVERY_REFUNDED,
			lines,
		};
	}

	async getOrderStatuses(associatedRefs: string[]): Promise<KhaosOrderStatus[]> {
		const wanted = uniqueCodes(associatedRefs, 'associatedRefs');
		const out: KhaosOrderStatus[] = [];
		for (const batch of chunk(wanted, this.config.batchSize)) {
			const res = await this.call('ExportOrderStatusEx', [
				['IDs', batch.join(',')],
				['MappingType', ORDER_MAPPING.associatedRef],
			]);
			const doc = this.exportDoc('ExportOrderStatusEx', res, ExportOrderStatusSchema);
			for (const s of doc.STATUS_LIST.ORDER_STATUS) {
				out.push({
					orderCode: s.SORDER_CODE,
					associatedRef: s.ASSOCIATED_REF,
					orderType: s.ORDER_TYPE,
					currency: s.CURRENCY_CODE,
					dateCreated: s.DATE_CREATED,
					itemsNetPence: s.ITEMS_TOTAL['@_NET_VALUE'],
					deliveryNetPence: s.DELIVERY_TOTAL['@_NET_VALUE'],
					complete: s.COMPLETE,
					cancelled: s.CANCELLED,
				});
			}
		}
		return out;
	}

	async importReturn(input: ImportReturnInput): Promise<ImportReturnResult> {
		const [result] = await this.importReturns([input]);
		return result;
	}

	async importReturns(inputs: ImportReturnInput[]): Promise<ImportReturnResult[]> {
		inputs.forEach((input, i) => {
			const label = inputs.length === 1 ? 'importReturn' : `importReturns[${i}]`;
			if (!input.associatedRef || input.associatedRef.trim() === '') {
				throw new TransportError(`${label}: associatedRef is empty (it is the duplicate guard)`, {
					kind: 'protocol',
					retryable: false,
					code: REQUEST_DATA,
				});
			}
			if (input.associatedRef.length > 50) {
				throw new TransportError(
					`${label}: associatedRef "${input.associatedRef.slice(0, 60)}" is longer than 50 characters`,
					{ kind: 'protocol', retryable: false, code: REQUEST_DATA },
				);
			}
		});
		const out: ImportReturnResult[] = [];
		for (const batch of chunk(inputs, this.config.batchSize)) {
			const res = await this.call('ImportReturns', [['Returns', buildReturnsXml(batch)]]);
			const r = this.validate(
				'ImportReturns',
				ImportReturnsBatchResultSchema,
				res.return,
				'return',
			);
			out.push(...this.matchReturnResults(batch, r));
		}
		return out;
	}

	/**
	 * One result per return of the batch, in order: from `Results` (MODELED: per return, in request
	 * order) when it has one entry per return, else by OrderRef from ReturnImport/ReturnSkipped,
	 * each entry used once, in order (so a ref repeated in one call matches its own answers).
	 */
	private matchReturnResults(
		batch: ImportReturnInput[],
		r: z.infer<typeof ImportReturnsBatchResultSchema>,
	): ImportReturnResult[] {
		const skippedResult = (reason: string): ImportReturnResult => {
			const c = classifySkipReason(reason);
			return {
				imported: false,
				returnCode: c.existingReturnCode ?? '',
				duplicate: c.code === 'duplicate',
				skipReason: this.redact(reason),
				skipCode: c.code,
			};
		};
		const importedResult = (code: string): ImportReturnResult => ({
			imported: true,
			returnCode: code,
			duplicate: false,
			skipReason: null,
			skipCode: null,
		});
		const ordered = r.Results.item;
		if (
			ordered.length === batch.length &&
			ordered.every((x, i) => x.OrderRef.toLowerCase() === batch[i].associatedRef.toLowerCase())
		) {
			return ordered.map((x, i) => {
				if (x.Result === 'IMPORTED') {
					if (!x.ReturnCode)
						throw this.protocolError(
							'ImportReturns',
							`return.Results.item[${i}].ReturnCode`,
							'element missing for an imported return',
						);
					return importedResult(x.ReturnCode);
				}
				return skippedResult(x.SkipReason ?? 'no reason given');
			});
		}
		const imported = r.ReturnImport.item.map((x) => ({ ...x, used: false }));
		const skipped = r.ReturnSkipped.item.map((x) => ({ ...x, used: false }));
		return batch.map((input) => {
			const ref = input.associatedRef.toLowerCase();
			const single = batch.length === 1;
			const imp =
				imported.find((x) => !x.used && x.OrderRef.toLowerCase() === ref) ??
				(single && imported.length === 1 ? imported[0] : undefined);
			if (imp) {
				imp.used = true;
				return importedResult(imp.ReturnCode);
			}
			const sk =
				skipped.find((x) => !x.used && x.OrderRef.toLowerCase() === ref) ??
				(single && skipped.length === 1 ? skipped[0] : undefined);
			if (!sk)
				throw this.protocolError(
					'ImportReturns',
					'return',
					`neither ReturnImport nor ReturnSkipped names ${input.associatedRef}`,
				);
			sk.used = true;
			return skippedResult(sk.SkipReason);
		});
	}

	async getStockAdjustments(query: StockAdjustmentQuery): Promise<AppliedStockAdjustment[]> {
		const refs = uniqueCodes(query.references ?? [], 'references').map((value) => ({
			kind: 'ref' as const,
			value,
		}));
		const prefixes = uniqueCodes(query.prefixes ?? [], 'prefixes').map((value) => ({
			kind: 'prefix' as const,
			value,
		}));
		const wanted = [...refs, ...prefixes];
		const out: AppliedStockAdjustment[] = [];
		const seen = new Set<string>();
		for (const batch of chunk(wanted, this.config.batchSize)) {
			const res = await this.call('ExportStockAdjustments', [
				[
					'References',
					batch
						.filter((b) => b.kind === 'ref')
						.map((b) => b.value)
						.join(','),
				],
				[
					'ReferencePrefixes',
					batch
						.filter((b) => b.kind === 'prefix')
						.map((b) => b.value)
						.join(','),
				],
			]);
			const doc = this.exportDoc('ExportStockAdjustments', res, ExportStockAdjustmentsSchema);
			for (const a of doc.STOCK_ADJUSTMENTS.ADJUSTMENT) {
				const key =
					a.ADJUSTMENT_ID !== null ? `id:${a.ADJUSTMENT_ID}` : `ref:${a.REFERENCE.toLowerCase()}`;
				if (seen.has(key)) continue;
				seen.add(key);
				out.push({
					id: a.ADJUSTMENT_ID,
					reference: a.REFERENCE,
					stockCode: a.STOCK_CODE,
					siteId: a.SITE,
					locationId: a.LOCATION,
					quantity: a.QUANTITY,
					newLevel: a.NEW_LEVEL ?? null,
					reason: a.REASON ?? '',
					appliedDate: a.DATE_APPLIED ?? null,
				});
			}
		}
		return out;
	}

	async processReturn(returnCode: string, manualAuthCode: string): Promise<ProcessReturnOutcome> {
		try {
			await this.call('ProcessReturn', [
				['ReturnCode', returnCode],
				['ManualAuthCode', manualAuthCode],
			]);
			return 'processed';
		} catch (error) {
			if (error instanceof KhaosFault && error.code === 'return_already_processed')
				return 'already_processed';
			throw error;
		}
	}

	async adjustStock(adjustments: StockAdjustmentInput[]): Promise<StockAdjustmentResult[]> {
		adjustments.forEach((a, i) => {
			const hasBy = a.adjustBy !== undefined && a.adjustBy !== null;
			const hasTo = a.adjustTo !== undefined && a.adjustTo !== null;
			const label = `adjustments[${i}] (reference ${a.reference})`;
			if (hasBy === hasTo)
				throw new TransportError(`${label}: set exactly one of adjustBy and adjustTo`, {
					kind: 'protocol',
					retryable: false,
					code: REQUEST_DATA,
				});
			const n = hasBy ? a.adjustBy : a.adjustTo;
			if (!Number.isInteger(n))
				throw new TransportError(
					`${label}: ${hasBy ? 'adjustBy' : 'adjustTo'} must be a whole number`,
					{ kind: 'protocol', retryable: false, code: REQUEST_DATA },
				);
			if (!a.reference || a.reference.trim() === '')
				throw new TransportError(`${label}: reference is empty (it is the idempotency key)`, {
					kind: 'protocol',
					retryable: false,
					code: REQUEST_DATA,
				});
		});
		const out: StockAdjustmentResult[] = [];
		for (const batch of chunk(adjustments, this.config.batchSize)) {
			const res = await this.call('ImportStockAdjustments', [
				['Adjustments', buildAdjustmentsXml(batch)],
			]);
			const r = this.validate(
				'ImportStockAdjustments',
				ImportStockAdjustmentsResultSchema,
				res.return,
				'return',
			);
			const lines = r.Lines.item;
			if (lines.length !== batch.length) {
				throw this.protocolError(
					'ImportStockAdjustments',
					'return.Lines',
					`expected ${batch.length} line result(s), got ${lines.length}`,
				);
			}
			lines.forEach((l, i) => {
				out.push({
					reference: batch[i].reference,
					applied: l.Result === 'APPLIED',
					duplicate: l.Result === 'SKIPPED_DUPLICATE',
					newLevel: l.Result === 'REJECTED' ? null : (l.NewLevel ?? null),
					rejectReason: l.Result === 'REJECTED' ? (l.Reason ?? 'rejected') : null,
				});
			});
		}
		return out;
	}
}

/** ExportStockAdjustments' document (MODELED; sandbox/khaos/README.md). */
const ExportStockAdjustmentsSchema = z.object(
	{
		STOCK_ADJUSTMENTS: xObj({
			ADJUSTMENT: xList(
				xObj({
					ADJUSTMENT_ID: xOptStr,
					REFERENCE: xStr,
					STOCK_CODE: xStr,
					SITE: xStr,
					LOCATION: xStr,
					QUANTITY: xInt,
					NEW_LEVEL: z.preprocess((v) => (v === '' ? undefined : v), xInt.optional()),
					REASON: xOptStr,
					DATE_APPLIED: z.preprocess((v) => (v === '' ? undefined : v), xDate.optional()),
				}),
			),
		}),
	},
	{ required_error: 'STOCK_ADJUSTMENTS missing' },
);

export function createKhaosClient(config: KhaosConfig, deps: KhaosClientDeps): KhaosClient {
	return new KhaosClient(config, deps);
}
