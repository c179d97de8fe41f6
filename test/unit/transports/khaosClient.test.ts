import nock from 'nock';
import { KhaosClient, KhaosFault, buildReturnsXml } from '../../../transports/khaos/client';
import type { KhaosConfig } from '../../../transports/khaos/api';
import {
	TransientExhaustedError,
	TransportError,
	type HttpRequest,
	type HttpSend,
} from '../../../transports/http';
import { buildSoapFault, buildSoapResponse, escapeXml } from '../../../transports/khaos/soap';
import { makeNodeHttpSend } from '../../helpers/nodeHttpSend';

const HOST = 'http://khaos.test:8084';
const PATH = '/LiveSoap/KhaosKSD.exe';
const NS = 'urn:KosWeb-IKosWeb';

function config(over: Partial<KhaosConfig> = {}): KhaosConfig {
	return {
		url: `${HOST}${PATH}`,
		authMode: 'none',
		soapVersion: '1.1',
		namespace: NS,
		soapActionStyle: 'namespaceHash',
		timeoutMs: 1500,
		batchSize: 50,
		retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000, maxTotalMs: 60_000 },
		...over,
	};
}

function fakeRetry() {
	const sleeps: number[] = [];
	let t = 0;
	return {
		sleeps,
		deps: {
			sleep: async (ms: number) => {
				sleeps.push(ms);
				t += ms;
			},
			now: () => t,
			random: () => 0.5,
		},
	};
}

function client(over: Partial<KhaosConfig> = {}, send: HttpSend = makeNodeHttpSend()) {
	const r = fakeRetry();
	return { c: new KhaosClient(config(over), { send, retry: r.deps }), sleeps: r.sleeps };
}

const exportResponse = (method: string, doc: string, version: '1.1' | '1.2' = '1.1') =>
	buildSoapResponse(
		version,
		NS,
		method,
		`<return xsi:type="xsd:string">${escapeXml(doc)}</return>`,
	);

const stockItem = (code: string, extra = '') =>
	`<STOCK_ITEM><STOCK_ID>${code.length}${code.charCodeAt(0)}</STOCK_ID><STOCK_CODE>${code}</STOCK_CODE><ASSOCIATED_REF/><STOCK_DESC>${code} desc</STOCK_DESC>` +
	`<SELL_PRICE IS_NET="0">12.50</SELL_PRICE><BARCODES><BARCODE>5000${code.length}</BARCODE></BARCODES><DELETED>0</DELETED><WEB>-1</WEB><DISCONTINUED>0</DISCONTINUED><STOCK_CONTROLLED>-1</STOCK_CONTROLLED><RUN_TO_ZERO>0</RUN_TO_ZERO>${extra}</STOCK_ITEM>`;

function paramOf(body: string, name: string): string | undefined {
	const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(body);
	return m ? m[1] : undefined;
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('envelopes and headers', () => {
	it('SOAP 1.1: text/xml, quoted SOAPAction namespace#Method, scalar parameters in the method element', async () => {
		let seen: { headers: Record<string, string | string[]>; body: string } | undefined;
		nock(HOST)
			.post(PATH)
			.reply(function (_uri, body) {
				seen = {
					headers: this.req.headers as Record<string, string | string[]>,
					body: String(body),
				};
				return [
					200,
					exportResponse('ExportStock', `<STOCK_ITEMS>${stockItem('AB-1')}</STOCK_ITEMS>`),
					{ 'content-type': 'text/xml' },
				];
			});
		const { c } = client();
		const map = await c.getProducts(['AB-1', 'ZZ-9']);
		expect(seen?.headers['content-type']).toBe('text/xml; charset=utf-8');
		expect(seen?.headers.soapaction).toBe('"urn:KosWeb-IKosWeb#ExportStock"');
		expect(seen?.headers.authorization).toBeUndefined();
		expect(seen?.body).toContain(
			'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"',
		);
		expect(seen?.body).toContain(
			'<ns1:ExportStock xmlns:ns1="urn:KosWeb-IKosWeb"><StockCode>AB-1,ZZ-9</StockCode><MappingType>1</MappingType><LastUpdated></LastUpdated></ns1:ExportStock>',
		);
		expect([...map.keys()]).toEqual(['AB-1']);
		expect(map.get('AB-1')).toMatchObject({
			stockCode: 'AB-1',
			sellPricePence: 1250,
			sellPriceIsNet: false,
			barcodes: ['50004'],
			deleted: false,
			web: true,
			stockControlled: true,
		});
	});

	it('SOAP 1.2: application/soap+xml with the action parameter, no SOAPAction header, 1.2 envelope both ways', async () => {
		let seen: { headers: Record<string, string | string[]>; body: string } | undefined;
		nock(HOST)
			.post(PATH)
			.reply(function (_uri, body) {
				seen = {
					headers: this.req.headers as Record<string, string | string[]>,
					body: String(body),
				};
				return [
					200,
					buildSoapResponse(
						'1.2',
						NS,
						'GetSiteList',
						'<return><item><SiteID>1</SiteID><SiteName>Main</SiteName></item><item><SiteID>2</SiteID><SiteName>Outlet</SiteName></item></return>',
					),
				];
			});
		const { c } = client({ soapVersion: '1.2' });
		expect(await c.getSites()).toEqual([
			{ id: '1', name: 'Main' },
			{ id: '2', name: 'Outlet' },
		]);
		expect(seen?.headers['content-type']).toBe(
			'application/soap+xml; charset=utf-8; action="urn:KosWeb-IKosWeb#GetSiteList"',
		);
		expect(seen?.headers.soapaction).toBeUndefined();
		expect(seen?.body).toContain('xmlns:soap="http://www.w3.org/2003/05/soap-envelope"');
	});

	it.each([
		['method', '"GetReturnReasonList"'],
		['empty', '""'],
	] as const)('SOAPAction style %s', async (style, expected) => {
		let action: unknown;
		nock(HOST)
			.post(PATH)
			.reply(function () {
				action = this.req.headers.soapaction;
				return [
					200,
					buildSoapResponse(
						'1.1',
						NS,
						'GetReturnReasonList',
						'<return><item><ReasonID>2</ReasonID><ReasonCode>SIZE</ReasonCode><Description>Wrong size</Description><Restock>-1</Restock></item></return>',
					),
				];
			});
		const { c } = client({ soapActionStyle: style });
		expect(await c.getReturnReasons()).toEqual([
			{ id: '2', code: 'SIZE', description: 'Wrong size', restock: true },
		]);
		expect(action).toBe(expected);
	});

	it('SOAP 1.2 faults are read from Code/Reason', async () => {
		nock(HOST)
			.post(PATH)
			.reply(500, buildSoapFault('1.2', 'Return does not exist or has been deleted.'));
		const { c } = client({ soapVersion: '1.2' });
		await expect(c.processReturn('RTN1', 'A')).rejects.toMatchObject({
			name: 'KhaosFault',
			code: 'return_not_found',
			faultString: 'Return does not exist or has been deleted.',
		});
	});
});

describe('auth modes', () => {
	it('basic: Authorization header, credentials not in the body', async () => {
		let seen: { auth: unknown; body: string } | undefined;
		nock(HOST)
			.post(PATH)
			.reply(function (_u, body) {
				seen = { auth: this.req.headers.authorization, body: String(body) };
				return [200, buildSoapResponse('1.1', NS, 'GetSiteList', '<return/>')];
			});
		const { c } = client({ authMode: 'basic', username: 'kuser', password: 's3cret-pw' });
		expect(await c.getSites()).toEqual([]);
		expect(seen?.auth).toBe(`Basic ${Buffer.from('kuser:s3cret-pw').toString('base64')}`);
		expect(seen?.body).not.toContain('s3cret-pw');
	});

	it('inRequest: UserName and Password as the first parameters, no Authorization header', async () => {
		let seen: { auth: unknown; body: string } | undefined;
		nock(HOST)
			.post(PATH)
			.reply(function (_u, body) {
				seen = { auth: this.req.headers.authorization, body: String(body) };
				return [
					200,
					buildSoapResponse(
						'1.1',
						NS,
						'GetLocationList',
						'<return><item><SiteID>1</SiteID><LocationID>QUAR</LocationID><LocationName>Quarantine</LocationName><Sellable>0</Sellable></item></return>',
					),
				];
			});
		const { c } = client({ authMode: 'inRequest', username: 'kuser', password: 'p&<w' });
		expect(await c.getLocations('1')).toEqual([
			{ siteId: '1', id: 'QUAR', name: 'Quarantine', sellable: false },
		]);
		expect(seen?.auth).toBeUndefined();
		expect(seen?.body).toContain(
			'<ns1:GetLocationList xmlns:ns1="urn:KosWeb-IKosWeb"><UserName>kuser</UserName><Password>p&amp;&lt;w</Password><SiteID>1</SiteID>',
		);
	});
});

describe('batching', () => {
	it('120 codes with batchSize 50 → 3 ExportStock calls (50, 50, 20) merged into one map', async () => {
		const codes = Array.from({ length: 120 }, (_, i) => `SKU-${String(i).padStart(3, '0')}`);
		const batches: string[][] = [];
		nock(HOST)
			.post(PATH)
			.times(3)
			.reply((_u, body) => {
				const asked = (paramOf(String(body), 'StockCode') ?? '').split(',');
				batches.push(asked);
				// every third code does not exist
				const found = asked.filter((_, i) => i % 3 !== 2);
				return [
					200,
					exportResponse(
						'ExportStock',
						`<STOCK_ITEMS>${found.map((c) => stockItem(c)).join('')}</STOCK_ITEMS>`,
					),
				];
			});
		const { c } = client();
		const map = await c.getProducts([...codes, 'SKU-000', ' SKU-001 ']);
		expect(batches.map((b) => b.length)).toEqual([50, 50, 20]);
		expect(batches.flat()).toEqual(codes);
		// per batch, every third code is missing: 34 + 34 + 14 found
		expect(map.size).toBe(82);
		expect(map.has('SKU-002')).toBe(false);
		expect(map.get('SKU-119')?.stockCode).toBe('SKU-119');
		expect(c.requestCount).toBe(3);
	});

	it('stock levels and order statuses are batched the same way', async () => {
		const asked: string[] = [];
		nock(HOST)
			.post(PATH)
			.times(2)
			.reply((_u, body) => {
				const b = String(body);
				asked.push(paramOf(b, 'StockCodes') ?? '');
				expect(paramOf(b, 'SiteID')).toBe('2');
				const codes = (paramOf(b, 'StockCodes') ?? '').split(',');
				return [
					200,
					exportResponse(
						'ExportStockStatus',
						`<STOCK_STATUS SITE="2">${codes.map((c, i) => `<STOCK_ITEM CODE="${c}" ID="${i}"><LEVEL>${i}</LEVEL><STATUS>0</STATUS><LOCATIONS><LOCATION ID="OUT1"><LEVEL>${i}</LEVEL></LOCATION></LOCATIONS></STOCK_ITEM>`).join('')}</STOCK_STATUS>`,
					),
				];
			});
		const { c } = client({ batchSize: 3 });
		const levels = await c.getStockLevels(['A', 'B', 'C', 'D', 'E'], '2');
		expect(asked).toEqual(['A,B,C', 'D,E']);
		expect(levels.map((l) => [l.stockCode, l.siteId, l.level])).toEqual([
			['A', '2', 0],
			['B', '2', 1],
			['C', '2', 2],
			['D', '2', 0],
			['E', '2', 1],
		]);
		expect(levels[4].locations).toEqual([{ locationId: 'OUT1', level: 1 }]);
	});

	it('a code containing a comma is refused before any call', async () => {
		const { c } = client();
		await expect(c.getProducts(['OK', 'BAD,CODE'])).rejects.toThrow(
			/codes\[1\] "BAD,CODE" contains a comma/,
		);
		expect(c.requestCount).toBe(0);
	});
});

describe('retries', () => {
	it('retries 503 with exponential back-off, then succeeds', async () => {
		nock(HOST)
			.post(PATH)
			.times(2)
			.reply(503, 'busy')
			.post(PATH)
			.reply(
				200,
				buildSoapResponse(
					'1.1',
					NS,
					'GetSiteList',
					'<return><item><SiteID>1</SiteID><SiteName>M</SiteName></item></return>',
				),
			);
		const { c, sleeps } = client();
		expect(await c.getSites()).toEqual([{ id: '1', name: 'M' }]);
		// base 100, random 0.5: 50 + 25 = 75, then 100 + 50 = 150
		expect(sleeps).toEqual([75, 150]);
		expect(c.requestCount).toBe(3);
	});

	it('honours Retry-After on 429 (and on 408)', async () => {
		nock(HOST)
			.post(PATH)
			.reply(429, 'slow down', { 'retry-after': '3' })
			.post(PATH)
			.reply(408, '', { 'retry-after': '1' })
			.post(PATH)
			.reply(200, buildSoapResponse('1.1', NS, 'GetSiteList', '<return/>'));
		const { c, sleeps } = client();
		await c.getSites();
		expect(sleeps).toEqual([3000, 1000]);
	});

	it('a permanent 500 without a SOAP fault exhausts into TransientExhaustedError', async () => {
		nock(HOST).post(PATH).times(4).reply(500, '<html>Internal Server Error</html>');
		const { c, sleeps } = client();
		const error = await c.getSites().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TransientExhaustedError);
		expect((error as TransientExhaustedError).attempts).toBe(4);
		expect((error as TransientExhaustedError).lastError.status).toBe(500);
		expect(sleeps).toHaveLength(3);
	});

	it('timeouts are retried and exhaust; every request carries config.timeoutMs', async () => {
		const requests: HttpRequest[] = [];
		const send: HttpSend = async (req) => {
			requests.push(req);
			throw new TransportError(`no response within ${req.timeoutMs} ms`, {
				kind: 'timeout',
				retryable: true,
			});
		};
		const { c } = client({ timeoutMs: 1234 }, send);
		const error = await c.getStockLevels(['A'], '1').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TransientExhaustedError);
		expect((error as TransientExhaustedError).lastError.kind).toBe('timeout');
		expect(requests).toHaveLength(4);
		expect(requests.every((r) => r.timeoutMs === 1234)).toBe(true);
	});

	it('a non-transient SOAP fault is not retried', async () => {
		nock(HOST)
			.post(PATH)
			.reply(500, buildSoapFault('1.1', 'MappingType 9 is not supported by this system.'));
		const { c, sleeps } = client();
		const error = await c.getProducts(['A']).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(KhaosFault);
		expect(error).toMatchObject({
			kind: 'remote',
			code: 'other',
			retryable: false,
			faultString: 'MappingType 9 is not supported by this system.',
		});
		expect(sleeps).toEqual([]);
		expect(c.requestCount).toBe(1);
	});

	it('a clearly transient fault (deadlock) is retried', async () => {
		nock(HOST)
			.post(PATH)
			.reply(500, buildSoapFault('1.1', 'Transaction deadlock detected, try again'))
			.post(PATH)
			.reply(200, buildSoapResponse('1.1', NS, 'GetSiteList', '<return/>'));
		const { c, sleeps } = client();
		expect(await c.getSites()).toEqual([]);
		expect(sleeps).toHaveLength(1);
	});
});

describe('ProcessReturn fault mapping', () => {
	it('processes and sends ReturnCode and ManualAuthCode', async () => {
		let body = '';
		nock(HOST)
			.post(PATH)
			.reply((_u, b) => {
				body = String(b);
				return [200, buildSoapResponse('1.1', NS, 'ProcessReturn', '')];
			});
		const { c } = client();
		expect(await c.processReturn('RTN000001', 'RB-77')).toBe('processed');
		expect(paramOf(body, 'ReturnCode')).toBe('RTN000001');
		expect(paramOf(body, 'ManualAuthCode')).toBe('RB-77');
	});

	it('"Return has already been processed" resolves already_processed (idempotent success)', async () => {
		nock(HOST).post(PATH).reply(500, buildSoapFault('1.1', 'Return has already been processed'));
		const { c } = client();
		expect(await c.processReturn('RTN000001', 'X')).toBe('already_processed');
	});

	it.each([
		['Return does not exist or has been deleted.', 'return_not_found'],
		['Return has been partially processed', 'return_partially_processed'],
		['Return Code or Auth Code not defined.', 'return_code_missing'],
	])('"%s" → KhaosFault %s, not retried', async (faultString, code) => {
		nock(HOST).post(PATH).reply(500, buildSoapFault('1.1', faultString));
		const { c, sleeps } = client();
		const error = await c.processReturn('RTN9', 'X').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(KhaosFault);
		expect(error).toBeInstanceOf(TransportError);
		expect(error).toMatchObject({ code, faultString, kind: 'remote' });
		expect(sleeps).toEqual([]);
	});
});

describe('protocol errors', () => {
	it('truncated XML → protocol error naming the call', async () => {
		const full = buildSoapResponse(
			'1.1',
			NS,
			'GetSiteList',
			'<return><item><SiteID>1</SiteID><SiteName>M</SiteName></item></return>',
		);
		nock(HOST)
			.post(PATH)
			.reply(200, full.slice(0, full.length - 40));
		const { c } = client();
		const error = await c.getSites().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TransportError);
		expect(error).toMatchObject({ kind: 'protocol', retryable: false });
		expect((error as Error).message).toMatch(
			/Khaos GetSiteList: unreadable SOAP response: not well-formed XML/,
		);
	});

	it('truncated exported document inside return → protocol error naming the field', async () => {
		nock(HOST)
			.post(PATH)
			.reply(200, exportResponse('ExportStock', `<STOCK_ITEMS>${stockItem('A')}`.slice(0, 60)));
		const { c } = client();
		await expect(c.getProducts(['A'])).rejects.toThrow(
			/Khaos ExportStock: response field return: exported XML: not well-formed/,
		);
	});

	it('an unexpected response element → protocol error', async () => {
		nock(HOST)
			.post(PATH)
			.reply(200, buildSoapResponse('1.1', NS, 'ExportStockStatus', '<return/>'));
		const { c } = client();
		await expect(c.getProducts(['A'])).rejects.toMatchObject({
			kind: 'protocol',
			message: expect.stringMatching(
				/expected ExportStockResponse in the SOAP Body, found ExportStockStatusResponse/,
			),
		});
	});

	it('an unexpected root in the exported document → protocol error naming it', async () => {
		nock(HOST).post(PATH).reply(200, exportResponse('ExportStock', '<ORDERS><ORDER/></ORDERS>'));
		const { c } = client();
		await expect(c.getProducts(['A'])).rejects.toThrow(
			/Khaos ExportStock: response field return\.STOCK_ITEMS: STOCK_ITEMS missing|response field return.STOCK_ITEMS/,
		);
	});

	it('a missing or malformed field is named with its path', async () => {
		nock(HOST)
			.post(PATH)
			.reply(
				200,
				exportResponse(
					'ExportStock',
					`<STOCK_ITEMS>${stockItem('A')}${stockItem('B').replace('<DELETED>0</DELETED>', '<DELETED>maybe</DELETED>')}</STOCK_ITEMS>`,
				),
			);
		const { c } = client();
		await expect(c.getProducts(['A', 'B'])).rejects.toThrow(
			'Khaos ExportStock: response field return.STOCK_ITEMS.STOCK_ITEM[1].DELETED: expected -1 or 0',
		);
		nock(HOST)
			.post(PATH)
			.reply(
				200,
				exportResponse(
					'ExportStock',
					`<STOCK_ITEMS>${stockItem('A').replace(/<STOCK_ID>.*?<\/STOCK_ID>/, '')}</STOCK_ITEMS>`,
				),
			);
		await expect(c.getProducts(['A'])).rejects.toThrow(
			'Khaos ExportStock: response field return.STOCK_ITEMS.STOCK_ITEM[0].STOCK_ID: element missing',
		);
	});

	it('HTTP 200 with HTML is a protocol error, not a crash', async () => {
		nock(HOST).post(PATH).reply(200, '<html><body>proxy login</body></html>');
		const { c } = client();
		await expect(c.getSites()).rejects.toMatchObject({
			kind: 'protocol',
			message: expect.stringContaining('no SOAP Envelope'),
		});
	});
});

describe('secrets never reach error messages', () => {
	const username = 'khaos-admin';
	const password = 'Tr0ub4dor&3';
	const b64 = Buffer.from(`${username}:${password}`).toString('base64');
	const leaks = (text: string) =>
		[username, password, b64, encodeURIComponent(password)].some((s) => text.includes(s));

	it('401 with basic auth', async () => {
		nock(HOST).post(PATH).reply(401, `bad credentials for ${username}/${password}`);
		const { c } = client({ authMode: 'basic', username, password });
		const error = (await c.getSites().catch((e: unknown) => e)) as TransportError;
		expect(error.kind).toBe('auth');
		expect(leaks(error.message)).toBe(false);
		expect(leaks(JSON.stringify(error))).toBe(false);
	});

	it('a fault echoing the in-request credentials', async () => {
		nock(HOST)
			.post(PATH)
			.reply(
				500,
				buildSoapFault(
					'1.1',
					`Login failed: invalid user name or password. (UserName=${username} Password=${password})`,
				),
			);
		const { c } = client({ authMode: 'inRequest', username, password });
		const error = (await c.getSites().catch((e: unknown) => e)) as KhaosFault;
		expect(error.code).toBe('auth_failed');
		expect(leaks(error.message)).toBe(false);
		expect(leaks(error.faultString)).toBe(false);
	});

	it('a network error carrying the Authorization header, through exhaustion', async () => {
		const send: HttpSend = async (req) => {
			throw new TransportError(`connection failed sending ${req.headers.authorization}`, {
				kind: 'network',
				retryable: true,
			});
		};
		const { c } = client({ authMode: 'basic', username, password }, send);
		const error = (await c.getSites().catch((e: unknown) => e)) as TransientExhaustedError;
		expect(error).toBeInstanceOf(TransientExhaustedError);
		expect(leaks(error.message)).toBe(false);
		expect(leaks(error.lastError.message)).toBe(false);
		expect(error.message).toContain('***');
	});

	it('a protocol error whose document contains the password', async () => {
		nock(HOST).post(PATH).reply(200, `<Envelope>${password}`);
		const { c } = client({ authMode: 'inRequest', username, password });
		const error = (await c.getSites().catch((e: unknown) => e)) as TransportError;
		expect(error.kind).toBe('protocol');
		expect(leaks(error.message)).toBe(false);
	});
});

describe('orders, returns, adjustments', () => {
	const orderDoc =
		'<ORDERS><ORDER><SORDER_ID>1</SORDER_ID><SORDER_CODE>SO000101</SORDER_CODE><ASSOCIATED_REF>WEB-1001</ASSOCIATED_REF><ORDER_TYPE>1</ORDER_TYPE><ORDER_DATE>01/11/2026</ORDER_DATE>' +
		'<URN>C1001</URN><SITE>1</SITE><ORDER_CURRENCY_CODE>EUR</ORDER_CURRENCY_CODE><EXCHANGE_RATE>1.1625</EXCHANGE_RATE><VAT_PER_LINE>0</VAT_PER_LINE><KEYCODE_CODE>SPRING10</KEYCODE_CODE>' +
		'<ORDER_DISCOUNT>10.00</ORDER_DISCOUNT><DELIVERY_NET>4.12</DELIVERY_NET><DELIVERY_TAX>0.83</DELIVERY_TAX><DELIVERY_GRS>4.95</DELIVERY_GRS><DELIVERY_TAX_RATE>1</DELIVERY_TAX_RATE><DELIVERY_REFUNDED>-1</DELIVERY_REFUNDED>' +
		'<ORDER_ITEMS><ORDER_ITEM><SORDER_ITEM_ID>1002</SORDER_ITEM_ID><STOCK_CODE>JEANS-BLU-32</STOCK_CODE><STOCK_DESC>Jeans</STOCK_DESC><ORDER_QTY>2</ORDER_QTY><QTY_RETURNED>1</QTY_RETURNED>' +
		'<PRICE_GRS>30.00</PRICE_GRS><KSD_DISCOUNT>12.5</KSD_DISCOUNT><DISCOUNT_VALUE>1.50</DISCOUNT_VALUE><TAX_RATE>4</TAX_RATE></ORDER_ITEM></ORDER_ITEMS></ORDER></ORDERS>';

	it('getSalesOrder reads the v1.35 order format back into pence, -1/0 into booleans, DD/MM/YYYY into ISO', async () => {
		let body = '';
		nock(HOST)
			.post(PATH)
			.reply((_u, b) => {
				body = String(b);
				return [200, exportResponse('ExportOrders', orderDoc)];
			});
		const { c } = client();
		const order = await c.getSalesOrder({ associatedRef: 'WEB-1001' });
		expect(paramOf(body, 'IDs')).toBe('WEB-1001');
		expect(paramOf(body, 'MappingType')).toBe('4');
		expect(order).toEqual({
			orderCode: 'SO000101',
			associatedRef: 'WEB-1001',
			orderDate: '2026-11-01',
			customerUrn: 'C1001',
			siteId: '1',
			currency: 'EUR',
			exchangeRate: 1.1625,
			priceBasis: 'gross',
			vatRounding: 'total',
			orderDiscountPence: 1000,
			keycode: 'SPRING10',
			delivery: { netPence: 412, taxPence: 83, grossPence: 495, vatRatePercent: 20 },
			deliveryRefunded: true,
			lines: [
				{
					lineId: '1002',
					stockCode: 'JEANS-BLU-32',
					description: 'Jeans',
					qtyOrdered: 2,
					qtyReturned: 1,
					unitPricePence: 3000,
					discountPercent: 12.5,
					discountValuePence: 150,
					taxRateCode: 4,
					vatRatePercent: 5,
				},
			],
		});
	});

	it('getSalesOrder by order code uses MappingType 1; no order → null', async () => {
		let body = '';
		nock(HOST)
			.post(PATH)
			.reply((_u, b) => {
				body = String(b);
				return [200, exportResponse('ExportOrders', '<ORDERS/>')];
			});
		const { c } = client();
		expect(await c.getSalesOrder({ orderCode: 'SO9' })).toBeNull();
		expect(paramOf(body, 'MappingType')).toBe('1');
	});

	it('importReturn sends the Returns XML escaped as one parameter and reads ReturnImport', async () => {
		let body = '';
		nock(HOST)
			.post(PATH)
			.reply((_u, b) => {
				body = String(b);
				return [
					200,
					buildSoapResponse(
						'1.1',
						NS,
						'ImportReturns',
						'<return><ImportedCount>1</ImportedCount><ReturnImport><item><OrderRef>RB-5</OrderRef><ReturnCode>RTN000042</ReturnCode></item></ReturnImport><ReturnSkipped/></return>',
					),
				];
			});
		const { c } = client();
		const input = {
			associatedRef: 'RB-5',
			customerUrn: 'C1001',
			orderAssociatedRef: 'WEB-1001',
			currency: 'GBP',
			exchangeRate: 1,
			lines: [
				{
					stockCode: 'JEANS-BLU-32',
					quantity: 1,
					reasonId: '2',
					orderLineId: '1002',
					siteId: '1',
					locationId: 'A1',
					restock: false,
					creditNetPence: 2011,
					creditTaxPence: 402,
					creditGrossPence: 2413,
				},
			],
			delivery: { netPence: 412, taxPence: 83, grossPence: 495 },
		};
		expect(await c.importReturn(input)).toEqual({
			imported: true,
			returnCode: 'RTN000042',
			duplicate: false,
			skipReason: null,
			skipCode: null,
		});
		const xml = buildReturnsXml([input]);
		expect(body).toContain(`<Returns>${escapeXml(xml)}</Returns>`);
		expect(xml).toContain(
			'<RESTOCK>0</RESTOCK><CREDIT_NET>20.11</CREDIT_NET><CREDIT_TAX>4.02</CREDIT_TAX><CREDIT_GRS>24.13</CREDIT_GRS>',
		);
		expect(xml).toContain('<SOURCE_ORDER><ASSOCIATED_REF>WEB-1001</ASSOCIATED_REF></SOURCE_ORDER>');
		expect(xml).toContain('<DELIVERY_GRS>4.95</DELIVERY_GRS>');
	});

	it.each([
		[
			'Duplicate ASSOCIATED_REF RB-5: already imported as return RTN000007',
			{ duplicate: true, returnCode: 'RTN000007', skipCode: 'duplicate' },
		],
		[
			'Quantity returned 3 exceeds quantity sold less returned 1 for SORDER_ITEM_ID 1002 (JEANS-BLU-32) (item 1).',
			{ duplicate: false, returnCode: '', skipCode: 'quantity_exceeds_sold' },
		],
		[
			'Source order WEB-9 not found.',
			{ duplicate: false, returnCode: '', skipCode: 'order_not_found' },
		],
	])('importReturn skipped: %s', async (reason, expected) => {
		nock(HOST)
			.post(PATH)
			.reply(
				200,
				buildSoapResponse(
					'1.1',
					NS,
					'ImportReturns',
					`<return><ImportedCount>0</ImportedCount><ReturnImport/><ReturnSkipped><item><OrderRef>RB-5</OrderRef><SkipReason>${escapeXml(reason)}</SkipReason></item></ReturnSkipped></return>`,
				),
			);
		const { c } = client();
		const r = await c.importReturn({
			associatedRef: 'RB-5',
			customerUrn: 'C1',
			orderAssociatedRef: 'WEB-1',
			currency: 'GBP',
			exchangeRate: 1,
			lines: [],
			delivery: null,
		});
		expect(r).toEqual({ imported: false, skipReason: reason, ...expected });
	});

	it('adjustStock refuses both adjustBy and adjustTo before sending, and maps per-line results', async () => {
		const { c } = client();
		await expect(
			c.adjustStock([
				{
					stockCode: 'A',
					siteId: '1',
					locationId: 'A1',
					adjustBy: 1,
					adjustTo: 5,
					reason: 'r',
					reference: 'X1',
				},
			]),
		).rejects.toThrow('adjustments[0] (reference X1): set exactly one of adjustBy and adjustTo');
		expect(c.requestCount).toBe(0);
		let body = '';
		nock(HOST)
			.post(PATH)
			.reply((_u, b) => {
				body = String(b);
				return [
					200,
					buildSoapResponse(
						'1.1',
						NS,
						'ImportStockAdjustments',
						'<return><AppliedCount>1</AppliedCount><Lines><item><Reference>X1</Reference><StockCode>A</StockCode><Result>APPLIED</Result><NewLevel>7</NewLevel><Reason/></item>' +
							'<item><Reference>X2</Reference><StockCode>A</StockCode><Result>SKIPPED_DUPLICATE</Result><NewLevel>7</NewLevel><Reason>REFERENCE X2 already applied.</Reason></item>' +
							'<item><Reference>X3</Reference><StockCode>OLD</StockCode><Result>REJECTED</Result><NewLevel/><Reason>Stock code OLD is deleted.</Reason></item></Lines></return>',
					),
				];
			});
		const res = await c.adjustStock([
			{
				stockCode: 'A',
				siteId: '1',
				locationId: 'A1',
				adjustBy: 2,
				reason: 'Grade A',
				reference: 'X1',
			},
			{
				stockCode: 'A',
				siteId: '1',
				locationId: 'A1',
				adjustTo: 7,
				reason: 'count',
				reference: 'X2',
			},
			{
				stockCode: 'OLD',
				siteId: '1',
				locationId: 'A1',
				adjustBy: 1,
				reason: 'r',
				reference: 'X3',
			},
		]);
		expect(res).toEqual([
			{ reference: 'X1', applied: true, duplicate: false, newLevel: 7, rejectReason: null },
			{ reference: 'X2', applied: false, duplicate: true, newLevel: 7, rejectReason: null },
			{
				reference: 'X3',
				applied: false,
				duplicate: false,
				newLevel: null,
				rejectReason: 'Stock code OLD is deleted.',
			},
		]);
		expect(body).toContain(
			escapeXml('<ADJUST_BY>2</ADJUST_BY><REASON>Grade A</REASON><REFERENCE>X1</REFERENCE>'),
		);
		expect(body).toContain(escapeXml('<ADJUST_TO>7</ADJUST_TO>'));
		expect(body).not.toContain(escapeXml('<ADJUST_TO>2'));
	});

	it('order statuses: credit notes (ORDER_TYPE 2) by associated ref, NET_VALUE attributes into pence', async () => {
		nock(HOST)
			.post(PATH)
			.reply(
				200,
				exportResponse(
					'ExportOrderStatusEx',
					'<STATUS_LIST><ORDER_STATUS><SORDER_CODE>SO000106</SORDER_CODE><ASSOCIATED_REF>RB-1</ASSOCIATED_REF><ORDER_TYPE>2</ORDER_TYPE><CURRENCY_CODE>GBP</CURRENCY_CODE><DATE_CREATED>28/11/2026</DATE_CREATED><ITEMS_TOTAL NET_VALUE="20.11"/><DELIVERY_TOTAL NET_VALUE="4.12"/><COMPLETE>-1</COMPLETE><CANCELLED>0</CANCELLED></ORDER_STATUS></STATUS_LIST>',
				),
			);
		const { c } = client();
		expect(await c.getOrderStatuses(['RB-1'])).toEqual([
			{
				orderCode: 'SO000106',
				associatedRef: 'RB-1',
				orderType: 2,
				currency: 'GBP',
				dateCreated: '2026-11-28',
				itemsNetPence: 2011,
				deliveryNetPence: 412,
				complete: true,
				cancelled: false,
			},
		]);
	});
});
