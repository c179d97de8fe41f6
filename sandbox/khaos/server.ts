/**
 * The Khaos Control SOAP sandbox: an IKosWeb endpoint on 127.0.0.1 speaking
 * the same wire as transports/khaos (SOAP 1.1 and 1.2) with its own XML code
 * (./xml.ts, nothing shared with the client), state from a fixture, fault
 * injection and an admin API. See README.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type FaultConfig } from '../shared/faults';
import {
	CallLog,
	HeldSockets,
	parseJsonBody,
	readBody,
	routeAdmin,
	sendJson,
	sendText,
	serveGatedCall,
} from '../shared/http';
import { loadFixture, type Fixture } from './fixture';
import {
	FAULT,
	KhaosState,
	SandboxFault,
	type AdjustmentInput,
	type Order,
	type ReturnInput,
} from './state';
import {
	readXml,
	soapFault,
	soapResponse,
	textOf,
	xmlElement,
	xmlEscape,
	type SoapVersion,
	type XmlObject,
	type XmlTree,
	type XmlValue,
} from './xml';

export interface KhaosSandboxOptions {
	port?: number;
	host?: '127.0.0.1';
	fixture?: string | object;
	seed?: number;
	/** Most calls the call log keeps (default 10,000; the bench's long phases need more). */
	callLogMax?: number;
}

export interface KhaosSandbox {
	/** The KhaosKSD.exe URL (POST SOAP here; WSDL at `${url}/wsdl/IKosWeb`). */
	url: string;
	adminUrl: string;
	port: number;
	state: KhaosState;
	faults: FaultInjector;
	calls: CallLog;
	close(): Promise<void>;
}

export const OPERATIONS: Record<string, string[]> = {
	GetSiteList: [],
	GetLocationList: ['SiteID'],
	GetReturnReasonList: [],
	ExportStock: ['StockCode', 'MappingType', 'LastUpdated'],
	ExportStockStatus: ['StockCodes', 'MappingType', 'LastUpdated', 'SiteID'],
	ExportOrderStatusEx: ['IDs', 'MappingType', 'DateFrom', 'DateTo', 'IncludeCancelled'],
	ExportOrders: ['IDs', 'MappingType'],
	ImportReturns: ['Returns'],
	ImportStockAdjustments: ['Adjustments'],
	ExportStockAdjustments: ['References', 'ReferencePrefixes'],
	ProcessReturn: ['ReturnCode', 'ManualAuthCode'],
};

const money = (p: number) => {
	const sign = p < 0 ? '-' : '';
	const a = Math.abs(p);
	return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
};
const kb = (b: boolean) => (b ? '-1' : '0');
const csv = (s: string | undefined) =>
	(s ?? '')
		.split(',')
		.map((x) => x.trim())
		.filter((x) => x !== '');

function exportReturn(doc: string): string {
	return `<return xsi:type="xsd:string">${xmlEscape(doc)}</return>`;
}
function itemsReturn(items: Array<Record<string, XmlTree>>): string {
	return `<return>${xmlElement('item', items)}</return>`;
}

function list(v: XmlValue | undefined): XmlValue[] {
	if (v === undefined || v === '') return [];
	return Array.isArray(v) ? v : [v];
}
function child(o: XmlValue | undefined, name: string): XmlValue | undefined {
	if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
	return (o as XmlObject)[name];
}
function str(o: XmlValue | undefined, name: string): string {
	return (textOf(child(o, name)) ?? '').trim();
}
function optStr(o: XmlValue | undefined, name: string): string | null {
	const v = textOf(child(o, name));
	return v === undefined || v.trim() === '' ? null : v.trim();
}

class KhaosSoapHandler {
	constructor(
		private state: KhaosState,
		private fixture: () => Fixture,
	) {}

	handle(method: string, p: Record<string, string>): string {
		const s = this.state;
		switch (method) {
			case 'GetSiteList':
				return itemsReturn(s.sites.map((x) => ({ SiteID: x.id, SiteName: x.name })));
			case 'GetLocationList': {
				const site = s.site(p.SiteID ?? '');
				if (!site) throw new SandboxFault(`Site ${p.SiteID || '(empty)'} not found.`);
				return itemsReturn(
					site.locations.map((l) => ({
						SiteID: site.id,
						LocationID: l.id,
						LocationName: l.name,
						Sellable: kb(l.sellable),
					})),
				);
			}
			case 'GetReturnReasonList':
				return itemsReturn(
					s.reasons.map((r) => ({
						ReasonID: r.id,
						ReasonCode: r.code,
						Description: r.description,
						Restock: kb(r.restock),
					})),
				);
			case 'ExportStock': {
				const products = s.findProducts(csv(p.StockCode), this.mappingType(p.MappingType, 1));
				const items = products
					.map((x) => {
						const price =
							x.sellPrice === null
								? ''
								: `<SELL_PRICE IS_NET="${kb(x.sellPriceIsNet)}">${xmlEscape(x.sellPrice)}</SELL_PRICE>`;
						return (
							'<STOCK_ITEM>' +
							xmlElement('STOCK_ID', x.stockId) +
							xmlElement('STOCK_CODE', x.stockCode) +
							xmlElement('ASSOCIATED_REF', x.associatedRef ?? '') +
							xmlElement('STOCK_DESC', x.description) +
							price +
							xmlElement('BARCODES', { BARCODE: x.barcodes }) +
							xmlElement('STOCK_TYPE', x.stockType ?? null) +
							xmlElement('TAX_RATE', String(x.taxRate)) +
							xmlElement('DELETED', kb(x.deleted)) +
							xmlElement('WEB', kb(x.web)) +
							xmlElement('DISCONTINUED', kb(x.discontinued)) +
							xmlElement('STOCK_CONTROLLED', kb(x.stockControlled)) +
							xmlElement('RUN_TO_ZERO', kb(x.runToZero)) +
							'</STOCK_ITEM>'
						);
					})
					.join('');
				return exportReturn(`<STOCK_ITEMS>${items}</STOCK_ITEMS>`);
			}
			case 'ExportStockStatus': {
				const siteId = p.SiteID && p.SiteID !== '' ? p.SiteID : (s.sites[0]?.id ?? '');
				const site = s.site(siteId);
				if (!site) throw new SandboxFault(`Site ${siteId || '(empty)'} not found.`);
				const products = s.findProducts(csv(p.StockCodes), this.mappingType(p.MappingType, 1));
				const items = products
					.map((x) => {
						const locXml = x.stockControlled
							? `<LOCATIONS>${site.locations.map((l) => `<LOCATION ID="${xmlEscape(l.id)}" SELLABLE="${kb(l.sellable)}"><LEVEL>${s.level(x.stockCode, site.id, l.id)}</LEVEL></LOCATION>`).join('')}</LOCATIONS>`
							: '';
						return (
							`<STOCK_ITEM CODE="${xmlEscape(x.stockCode)}" ID="${xmlEscape(x.stockId)}">` +
							`<LEVEL>${x.stockControlled ? s.available(x.stockCode, site.id) : 0}</LEVEL>` +
							`<STATUS>${s.stockStatusCode(x, site.id)}</STATUS>` +
							`<SAFE_LEVEL>${x.safeLevel}</SAFE_LEVEL><MIN_LEVEL>${x.minLevel}</MIN_LEVEL>` +
							xmlElement('BUY_PRICE', x.buyPrice ?? '') +
							xmlElement('SELL_PRICE', x.sellPrice ?? '') +
							`<LEAD_TIME>${x.leadTime}</LEAD_TIME><BUILD_POTENTIAL_CHILDREN>0</BUILD_POTENTIAL_CHILDREN><BUILD_POTENTIAL_PARENTS>0</BUILD_POTENTIAL_PARENTS>` +
							locXml +
							'</STOCK_ITEM>'
						);
					})
					.join('');
				return exportReturn(`<STOCK_STATUS SITE="${xmlEscape(site.id)}">${items}</STOCK_STATUS>`);
			}
			case 'ExportOrderStatusEx': {
				const includeCancelled = p.IncludeCancelled === '-1';
				const orders = s
					.findOrders(csv(p.IDs), this.mappingType(p.MappingType, 4))
					.filter((o) => includeCancelled || !o.cancelled);
				return exportReturn(
					`<STATUS_LIST>${orders.map((o) => this.orderStatusXml(o)).join('')}</STATUS_LIST>`,
				);
			}
			case 'ExportOrders': {
				const orders = s.findOrders(csv(p.IDs), this.mappingType(p.MappingType, 4));
				return exportReturn(`<ORDERS>${orders.map((o) => this.orderXml(o)).join('')}</ORDERS>`);
			}
			case 'ImportReturns':
				return this.importReturns(p.Returns ?? '');
			case 'ImportStockAdjustments':
				return this.importAdjustments(p.Adjustments ?? '');
			case 'ExportStockAdjustments':
				return this.exportAdjustments(p.References ?? '', p.ReferencePrefixes ?? '');
			case 'ProcessReturn':
				s.processReturn(p.ReturnCode ?? '', p.ManualAuthCode ?? '');
				return '';
			default:
				throw new SandboxFault(
					`Method ${method} not found in interface IKosWeb.`,
					'SOAP-ENV:Client',
				);
		}
	}

	private mappingType(v: string | undefined, fallback: number): number {
		if (v === undefined || v.trim() === '') return fallback;
		if (!/^-?\d+$/.test(v.trim()))
			throw new SandboxFault(`MappingType "${v}" is not a valid integer.`, 'SOAP-ENV:Client');
		return Number(v);
	}

	private orderStatusXml(o: Order): string {
		const t = this.state.orderTotals(o);
		const invoice =
			o.orderType === 1
				? xmlElement('INVOICES', {
						INVOICE: {
							INVOICE_CODE: `INV${o.orderCode.replace(/^\D+/, '')}`,
							INVOICE_STAGE_ID: '70',
							INVOICE_ITEMS: {
								INVOICE_ITEM: o.lines.map((l) => ({
									STOCK_CODE: l.stockCode,
									QTY_SENT: String(l.qty),
								})),
							},
						},
					})
				: '';
		return (
			'<ORDER_STATUS>' +
			xmlElement('SORDER_CODE', o.orderCode) +
			xmlElement('ASSOCIATED_REF', o.associatedRef) +
			xmlElement('ORDER_TYPE', String(o.orderType)) +
			xmlElement('CURRENCY_CODE', o.currency) +
			xmlElement('DATE_CREATED', this.state.dateOf(o.orderDate)) +
			`<ITEMS_TOTAL NET_VALUE="${money(t.itemsNetPence)}"/>` +
			`<DELIVERY_TOTAL NET_VALUE="${money(t.deliveryNetPence)}"/>` +
			xmlElement('COMPLETE', kb(o.complete)) +
			xmlElement('CANCELLED', kb(o.cancelled)) +
			invoice +
			'</ORDER_STATUS>'
		);
	}

	private orderXml(o: Order): string {
		const priceTag = o.priceBasis === 'gross' ? 'PRICE_GRS' : 'PRICE_NET';
		const lines = o.lines.map((l) => ({
			SORDER_ITEM_ID: l.lineId,
			STOCK_CODE: l.stockCode,
			MAPPING_TYPE: '1',
			STOCK_DESC: l.description,
			ORDER_QTY: String(l.qty),
			QTY_RETURNED: String(l.qtyReturned),
			[priceTag]: money(l.pricePence),
			KSD_DISCOUNT: String(l.discountPercent),
			DISCOUNT_VALUE: money(l.discountValuePence),
			TAX_RATE: String(l.taxRate),
			CREDIT_NET: l.credit ? money(l.credit.netPence) : null,
			CREDIT_TAX: l.credit ? money(l.credit.taxPence) : null,
			CREDIT_GRS: l.credit ? money(l.credit.grossPence) : null,
		}));
		const t = this.state.orderTotals(o);
		return xmlElement('ORDER', {
			SORDER_ID: String(o.orderId),
			SORDER_CODE: o.orderCode,
			ASSOCIATED_REF: o.associatedRef,
			ORDER_TYPE: String(o.orderType),
			ORDER_DATE: this.state.dateOf(o.orderDate),
			URN: o.urn,
			SITE: o.siteId,
			ORDER_CURRENCY_CODE: o.currency,
			EXCHANGE_RATE: String(o.exchangeRate),
			VAT_PER_LINE: kb(o.vatPerLine),
			KEYCODE_CODE: o.keycode ?? '',
			ORDER_DISCOUNT: money(o.orderDiscountPence),
			ORDER_AMOUNT_NET: money(t.itemsNetPence + t.deliveryNetPence),
			DELIVERY_NET: money(o.delivery?.netPence ?? 0),
			DELIVERY_TAX: money(o.delivery?.taxPence ?? 0),
			DELIVERY_GRS: money(o.delivery?.grossPence ?? 0),
			DELIVERY_TAX_RATE: String(o.delivery?.taxRate ?? 1),
			DELIVERY_REFUNDED: kb(o.deliveryRefunded),
			RETURN_CODE: o.returnCode ?? null,
			SOURCE_SORDER_CODE: o.sourceOrderCode ?? null,
			ORDER_ITEMS: { ORDER_ITEM: lines },
		});
	}

	private importReturns(xml: string): string {
		const doc = readXml(xml);
		if (!doc.ok)
			throw new SandboxFault(`Returns XML is not well formed: ${doc.error}`, 'SOAP-ENV:Client');
		const root = doc.value.RETURNS;
		if (root === undefined)
			throw new SandboxFault(
				'Returns XML is invalid: RETURNS element required.',
				'SOAP-ENV:Client',
			);
		const imported: Array<Record<string, XmlTree>> = [];
		const skipped: Array<Record<string, XmlTree>> = [];
		const results: Array<Record<string, XmlTree>> = [];
		for (const r of list(child(root, 'RETURN'))) {
			const source = child(r, 'SOURCE_ORDER');
			const dg = optStr(r, 'DELIVERY_GRS');
			const input: ReturnInput = {
				associatedRef: str(r, 'ASSOCIATED_REF'),
				urn: str(r, 'URN'),
				sourceOrderRef: optStr(source, 'ASSOCIATED_REF'),
				sourceOrderCode: optStr(source, 'SORDER_CODE'),
				currency: str(r, 'CURRENCY_CODE'),
				exchangeRate: Number(str(r, 'EXCHANGE_RATE') || '1') || 1,
				notes: optStr(r, 'NOTES'),
				delivery:
					dg === null
						? null
						: { net: str(r, 'DELIVERY_NET'), tax: str(r, 'DELIVERY_TAX'), gross: dg },
				lines: list(child(child(r, 'RETURN_ITEMS'), 'RETURN_ITEM')).map((l) => ({
					stockCode: str(l, 'STOCK_CODE'),
					orderLineId: str(l, 'SORDER_ITEM_ID'),
					quantity: str(l, 'QUANTITY'),
					reasonId: str(l, 'RETURN_REASON_ID'),
					siteId: str(l, 'SITE'),
					locationId: optStr(l, 'LOCATION'),
					restock: str(l, 'RESTOCK') || '0',
					creditNet: str(l, 'CREDIT_NET'),
					creditTax: str(l, 'CREDIT_TAX'),
					creditGross: str(l, 'CREDIT_GRS'),
				})),
			};
			// each return on its own: a skip never affects the others of the call
			const res = this.state.importReturn(input);
			if (res.ok) {
				imported.push({ OrderRef: input.associatedRef, ReturnCode: res.returnCode });
				results.push({
					OrderRef: input.associatedRef,
					Result: 'IMPORTED',
					ReturnCode: res.returnCode,
					SkipReason: '',
				});
			} else {
				skipped.push({ OrderRef: input.associatedRef, SkipReason: res.reason });
				results.push({
					OrderRef: input.associatedRef,
					Result: 'SKIPPED',
					ReturnCode: '',
					SkipReason: res.reason,
				});
			}
		}
		return (
			`<return><ImportedCount>${imported.length}</ImportedCount><ReturnImport>${xmlElement('item', imported)}</ReturnImport>` +
			`<ReturnSkipped>${xmlElement('item', skipped)}</ReturnSkipped><Results>${xmlElement('item', results)}</Results></return>`
		);
	}

	private importAdjustments(xml: string): string {
		const doc = readXml(xml);
		if (!doc.ok)
			throw new SandboxFault(`Adjustments XML is not well formed: ${doc.error}`, 'SOAP-ENV:Client');
		const root = doc.value.STOCK_ADJUSTMENTS;
		if (root === undefined)
			throw new SandboxFault(
				'Adjustments XML is invalid: STOCK_ADJUSTMENTS element required.',
				'SOAP-ENV:Client',
			);
		const lines: AdjustmentInput[] = list(child(root, 'ADJUSTMENT')).map((a) => ({
			stockCode: str(a, 'STOCK_CODE'),
			siteId: str(a, 'SITE'),
			locationId: str(a, 'LOCATION'),
			adjustBy: optStr(a, 'ADJUST_BY'),
			adjustTo: optStr(a, 'ADJUST_TO'),
			reason: str(a, 'REASON'),
			reference: str(a, 'REFERENCE'),
		}));
		const results = this.state.adjust(lines);
		const items = results.map((r) => ({
			Reference: r.reference,
			StockCode: r.stockCode,
			Result: r.result,
			NewLevel: r.newLevel === null ? '' : String(r.newLevel),
			Reason: r.reason ?? '',
		}));
		return `<return><AppliedCount>${results.filter((r) => r.result === 'APPLIED').length}</AppliedCount><Lines>${xmlElement('item', items)}</Lines></return>`;
	}

	private exportAdjustments(references: string, prefixes: string): string {
		const refs = new Set(csv(references).map((r) => r.toUpperCase()));
		const pre = csv(prefixes).map((r) => r.toUpperCase());
		if (refs.size === 0 && pre.length === 0)
			throw new SandboxFault('References or ReferencePrefixes must be set.', 'SOAP-ENV:Client');
		const found = this.state.adjustments
			.map((a, i) => ({ a, id: i + 1 }))
			.filter(({ a }) => {
				const r = a.reference.toUpperCase();
				return refs.has(r) || pre.some((p) => r.startsWith(p));
			});
		const items = found.map(({ a, id }) =>
			xmlElement('ADJUSTMENT', {
				ADJUSTMENT_ID: String(id),
				REFERENCE: a.reference,
				STOCK_CODE: a.stockCode,
				SITE: a.siteId,
				LOCATION: a.locationId,
				QUANTITY: String(a.delta),
				NEW_LEVEL: String(a.newLevel),
				REASON: a.reason,
				DATE_APPLIED: this.state.dateOf(a.at),
			}),
		);
		return exportReturn(`<STOCK_ADJUSTMENTS>${items.join('')}</STOCK_ADJUSTMENTS>`);
	}

	/** A small generated WSDL listing the operations (document/literal style, string parameters). */
	wsdl(url: string): string {
		const ns = this.fixture().soap.namespace;
		const ops = Object.entries(OPERATIONS);
		const messages = ops
			.map(
				([op, params]) =>
					`<message name="${op}Request">${params.map((p) => `<part name="${p}" type="xs:string"/>`).join('')}</message>` +
					`<message name="${op}Response"><part name="return" type="xs:string"/></message>`,
			)
			.join('');
		const portOps = ops
			.map(
				([op]) =>
					`<operation name="${op}"><input message="tns:${op}Request"/><output message="tns:${op}Response"/></operation>`,
			)
			.join('');
		const bindingOps = ops
			.map(
				([op]) =>
					`<operation name="${op}"><soap:operation soapAction="${xmlEscape(`${ns}#${op}`)}" style="rpc"/>` +
					`<input><soap:body use="encoded" encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" namespace="${xmlEscape(ns)}"/></input>` +
					`<output><soap:body use="encoded" encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" namespace="${xmlEscape(ns)}"/></output></operation>`,
			)
			.join('');
		return (
			'<?xml version="1.0" encoding="utf-8"?>' +
			`<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema" name="IKosWebservice" targetNamespace="http://tempuri.org/" xmlns:tns="http://tempuri.org/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/">` +
			messages +
			`<portType name="IKosWeb">${portOps}</portType>` +
			`<binding name="IKosWebbinding" type="tns:IKosWeb"><soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>${bindingOps}</binding>` +
			`<service name="IKosWebservice"><port name="IKosWebPort" binding="tns:IKosWebbinding"><soap:address location="${xmlEscape(url)}"/></port></service>` +
			'</definitions>'
		);
	}
}

function redactParams(p: Record<string, string>): string {
	const keys = Object.keys(p).filter((k) => k !== 'UserName' && k !== 'Password');
	return keys.map((k) => `${k}=${(p[k] ?? '').slice(0, 80)}`).join(' ');
}

export async function startKhaosSandbox(opts: KhaosSandboxOptions = {}): Promise<KhaosSandbox> {
	let fixture = loadFixture(opts.fixture);
	const state = new KhaosState(fixture);
	const faults = new FaultInjector(fixture.faults ?? {}, opts.seed);
	const calls = new CallLog(opts.callLogMax);
	const held = new HeldSockets();
	const handler = new KhaosSoapHandler(state, () => fixture);
	const exePath = fixture.soap.exePath;
	let url = '';

	const adminRoutes = {
		'GET /__admin/state': ({ res }: { res: http.ServerResponse }) =>
			sendJson(res, 200, {
				...state.snapshot(),
				faults: faults.current,
				lastCallSeq: calls.lastSeq,
			}),
		'GET /__admin/calls': ({ res, url: u }: { res: http.ServerResponse; url: URL }) => {
			const since = Number(u.searchParams.get('since') ?? '0');
			sendJson(res, 200, {
				calls: calls.since(Number.isFinite(since) ? since : 0),
				lastSeq: calls.lastSeq,
			});
		},
		'POST /__admin/reset': ({ res, body }: { res: http.ServerResponse; body: string }) => {
			const b = parseJsonBody(body) as { fixture?: object; clearCalls?: boolean };
			if (b.fixture) fixture = loadFixture(b.fixture);
			state.reset(fixture);
			faults.configure(fixture.faults ?? {}, opts.seed);
			if (b.clearCalls !== false) calls.clear();
			sendJson(res, 200, { ok: true });
		},
		'GET /__admin/faults': ({ res }: { res: http.ServerResponse }) =>
			sendJson(res, 200, faults.current),
		'DELETE /__admin/credit-notes/:associatedRef': ({
			res,
			params,
		}: {
			res: http.ServerResponse;
			params: Record<string, string>;
		}) => {
			const removed = state.removeCreditNotes(params.associatedRef);
			if (removed.length === 0)
				throw Object.assign(
					new Error(`no credit note has the associated ref ${params.associatedRef}`),
					{ status: 404 },
				);
			sendJson(res, 200, { removed });
		},
		'POST /__admin/faults': ({ res, body }: { res: http.ServerResponse; body: string }) => {
			const b = parseJsonBody(body) as FaultConfig & { merge?: boolean };
			const { merge, ...config } = b;
			if (merge) faults.merge(config);
			else faults.configure(config, config.seed ?? opts.seed);
			sendJson(res, 200, faults.current);
		},
	};

	const server = http.createServer((req, res) => {
		void (async () => {
			if (await routeAdmin(req, res, adminRoutes)) return;
			const u = new URL(req.url ?? '/', 'http://127.0.0.1');
			const path = u.pathname.replace(/\/+$/, '');
			if (req.method === 'GET' && path.toLowerCase() === `${exePath}/wsdl/IKosWeb`.toLowerCase()) {
				sendText(res, 200, 'text/xml; charset=utf-8', handler.wsdl(url));
				return;
			}
			if (req.method === 'GET' && path === exePath) {
				sendText(
					res,
					200,
					'text/html; charset=utf-8',
					`<html><body><h1>KhaosKSD sandbox</h1><p>WSDL: <a href="${exePath}/wsdl/IKosWeb">${exePath}/wsdl/IKosWeb</a></p></body></html>`,
				);
				return;
			}
			if (req.method !== 'POST' || path !== exePath) {
				sendText(res, 404, 'text/plain; charset=utf-8', 'Not found');
				return;
			}
			const started = Date.now();
			const body = await readBody(req);
			const contentType = String(req.headers['content-type'] ?? '');
			const version: SoapVersion =
				/application\/soap\+xml/i.test(contentType) ||
				body.includes('http://www.w3.org/2003/05/soap-envelope')
					? '1.2'
					: '1.1';
			const log = (method: string, outcome: string, status: number | null, detail: string | null) =>
				calls.add({
					at: new Date(started).toISOString(),
					method,
					durationMs: Date.now() - started,
					outcome,
					status,
					detail,
				});
			const fault = (
				method: string,
				faultString: string,
				code = 'SOAP-ENV:Server',
				status = 500,
			) => {
				sendText(
					res,
					status,
					version === '1.2' ? 'application/soap+xml; charset=utf-8' : 'text/xml; charset=utf-8',
					soapFault(version, faultString, code),
				);
				log(method, 'fault', status, faultString);
			};
			const doc = readXml(body);
			const envelope = doc.ok ? child(doc.value.Envelope, 'Body') : undefined;
			const methodName =
				envelope && typeof envelope === 'object' && !Array.isArray(envelope)
					? Object.keys(envelope).find((k) => !k.startsWith('@_'))
					: undefined;
			if (!doc.ok || !methodName) {
				fault(
					'(unreadable)',
					doc.ok ? 'No SOAP Body method element.' : `Request is not well formed XML: ${doc.error}`,
					'SOAP-ENV:Client',
				);
				return;
			}
			// the concurrency limit and injected HTTP faults (shared with the other sandbox)
			await serveGatedCall(
				methodName,
				req,
				res,
				faults,
				held,
				(outcome, status, detail) => log(methodName, outcome, status, detail),
				(decision) => {
					if (decision.fault?.kind === 'fault') {
						fault(methodName, decision.fault.faultString ?? 'Injected fault');
						return;
					}
					const methodEl = (envelope as XmlObject)[methodName];
					const params: Record<string, string> = {};
					if (methodEl && typeof methodEl === 'object' && !Array.isArray(methodEl)) {
						for (const [k, v] of Object.entries(methodEl))
							if (!k.startsWith('@_')) params[k] = textOf(v) ?? '';
					}
					const refused = faults.refusal(params);
					if (refused !== null) {
						fault(
							methodName,
							`Request refused: invalid value "${refused.slice(0, 40)}" (the whole call was rejected).`,
							'SOAP-ENV:Client',
						);
						return;
					}
					const auth = fixture.auth;
					if (auth.mode === 'basic') {
						const expected = `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}`;
						if (req.headers.authorization !== expected) {
							sendText(res, 401, 'text/plain; charset=utf-8', 'Unauthorized', {
								'www-authenticate': 'Basic realm="KhaosKSD"',
							});
							log(methodName, 'http_401', 401, 'basic auth refused');
							return;
						}
					} else if (auth.mode === 'inRequest') {
						if (
							params.UserName !== (auth.username ?? '') ||
							params.Password !== (auth.password ?? '')
						) {
							fault(methodName, FAULT.loginFailed, 'SOAP-ENV:Client');
							return;
						}
					}
					try {
						const inner = handler.handle(methodName, params);
						if (decision.fault?.kind === 'dropAfter') {
							req.socket.destroy();
							log(methodName, 'injected:dropAfter', null, redactParams(params) || null);
							return;
						}
						sendText(
							res,
							200,
							version === '1.2' ? 'application/soap+xml; charset=utf-8' : 'text/xml; charset=utf-8',
							soapResponse(version, fixture.soap.namespace, methodName, inner),
						);
						log(methodName, 'ok', 200, redactParams(params) || null);
					} catch (error) {
						if (error instanceof SandboxFault)
							fault(methodName, error.faultString, error.faultCode);
						else
							fault(
								methodName,
								`Internal error: ${error instanceof Error ? error.message : String(error)}`,
							);
					}
				},
			);
		})().catch((error: unknown) => {
			if (!res.headersSent)
				sendText(
					res,
					500,
					'text/plain; charset=utf-8',
					`sandbox error: ${error instanceof Error ? error.message : String(error)}`,
				);
		});
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
	});
	const port = (server.address() as AddressInfo).port;
	url = `http://127.0.0.1:${port}${exePath}`;
	return {
		url,
		adminUrl: `http://127.0.0.1:${port}/__admin`,
		port,
		state,
		faults,
		calls,
		close: () =>
			new Promise<void>((resolve) => {
				held.releaseAll();
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}
