/**
 * Bad Khaos responses (nock, real HTTP path through test/helpers/nodeHttpSend):
 * truncated XML, unexpected elements, faults with odd strings (unicode, empty,
 * very long, HTML, echoing the password), empty results, a wrong content-type,
 * HTTP 200 carrying a SOAP fault, non-XML bodies. Every call ends in a value
 * or a typed error (KhaosFault / TransportError / TransientExhaustedError),
 * never a crash, and no error message carries the user name, the password or
 * the Basic credentials.
 */
import nock from 'nock';
import { randomBytes } from 'node:crypto';
import { KhaosClient, KhaosFault } from '../../../transports/khaos/client';
import type { KhaosConfig } from '../../../transports/khaos/api';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import { buildSoapFault, buildSoapResponse, escapeXml } from '../../../transports/khaos/soap';
import { makeNodeHttpSend } from '../../helpers/nodeHttpSend';

const HOST = 'http://khaos.badinput.test:8084';
const PATH = '/LiveSoap/KhaosKSD.exe';
const NS = 'urn:KosWeb-IKosWeb';
const USER = `kuser-${randomBytes(3).toString('hex')}`;
const PASSWORD = `SECRET-KPW-${randomBytes(6).toString('hex')}`;
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const SECRETS = [USER, PASSWORD, BASIC, encodeURIComponent(PASSWORD)];

function client(authMode: 'basic' | 'inRequest' = 'basic') {
	const config: KhaosConfig = {
		url: `${HOST}${PATH}`,
		authMode,
		username: USER,
		password: PASSWORD,
		soapVersion: '1.1',
		namespace: NS,
		soapActionStyle: 'namespaceHash',
		timeoutMs: 1500,
		batchSize: 50,
		retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20, maxTotalMs: 1000 },
	};
	let t = 0;
	return new KhaosClient(config, {
		send: makeNodeHttpSend(),
		retry: { sleep: async (ms) => void (t += ms), now: () => t, random: () => 0.5 },
	});
}

const xmlCt = { 'content-type': 'text/xml; charset=utf-8' };
const response = (method: string, inner: string) => buildSoapResponse('1.1', NS, method, inner);
const exportDoc = (method: string, doc: string) =>
	response(method, `<return xsi:type="xsd:string">${escapeXml(doc)}</return>`);
const sites = (items: string) => response('GetSiteList', `<return>${items}</return>`);
const stockItem = (code: string) =>
	`<STOCK_ITEM><STOCK_ID>11</STOCK_ID><STOCK_CODE>${code}</STOCK_CODE><ASSOCIATED_REF/><STOCK_DESC>${code} desc</STOCK_DESC><SELL_PRICE IS_NET="0">12.50</SELL_PRICE><BARCODES/><DELETED>0</DELETED><WEB>-1</WEB><DISCONTINUED>0</DISCONTINUED><STOCK_CONTROLLED>-1</STOCK_CONTROLLED><RUN_TO_ZERO>0</RUN_TO_ZERO></STOCK_ITEM>`;

type Call = 'GetSiteList' | 'ExportStock' | 'ProcessReturn';
const calls: Record<Call, (c: KhaosClient) => Promise<unknown>> = {
	GetSiteList: (c) => c.getSites(),
	ExportStock: (c) => c.getProducts(['TSHIRT-RED-M']),
	ProcessReturn: (c) => c.processReturn('R-1', 'REBOUND'),
};

interface Variant {
	name: string;
	status: number;
	headers?: Record<string, string>;
	/** Body per method (a function) or the same for all. */
	body: string | ((method: Call) => string);
	/** Expected: 'value' (resolves) or the error class and kind. */
	expect: Partial<Record<Call, Expectation>> & { all?: Expectation };
}

type Expectation =
	| { value: (v: unknown) => void }
	| { error: 'fault'; code?: string; faultIncludes?: string }
	| { error: 'protocol' | 'auth' | 'http'; retryable?: boolean }
	| { error: 'exhausted'; lastKind: string };

const longFault = `Database error: ${'x'.repeat(200_000)} end`;
const fault = (s: string, code = 'SOAP-ENV:Server') => buildSoapFault('1.1', s, code);

const variants: Variant[] = [
	{
		name: 'truncated XML (200)',
		status: 200,
		headers: xmlCt,
		body: (m) => response(m, '<return>abc</return>').slice(0, 120),
		expect: { all: { error: 'protocol', retryable: false } },
	},
	{
		name: 'truncated XML whose open element is named like the password',
		status: 200,
		headers: xmlCt,
		body: `<?xml version="1.0"?><${PASSWORD}><a>`,
		expect: { all: { error: 'protocol' } },
	},
	{
		name: 'mismatched tags',
		status: 200,
		headers: xmlCt,
		body: '<Envelope><Body><X></Y></Body></Envelope>',
		expect: { all: { error: 'protocol' } },
	},
	{
		name: 'unexpected element in the Body',
		status: 200,
		headers: xmlCt,
		body: response('Surprise', '<return/>').replace(/SurpriseResponse/g, 'Unexpected'),
		expect: { all: { error: 'protocol' } },
	},
	{
		name: 'XML that is not SOAP',
		status: 200,
		headers: xmlCt,
		body: '<?xml version="1.0"?><html><body>hello</body></html>',
		expect: { all: { error: 'protocol' } },
	},
	{
		name: 'unexpected extra elements around the expected ones',
		status: 200,
		headers: xmlCt,
		body: (m) =>
			m === 'GetSiteList'
				? sites(
						'<item><SiteID>1</SiteID><SiteName>Main</SiteName><Extra>?</Extra></item><Unknown>1</Unknown>',
					)
				: m === 'ExportStock'
					? exportDoc(
							m,
							`<STOCK_ITEMS>${stockItem('TSHIRT-RED-M').replace('<STOCK_ID>', '<FUTURE_FIELD>1</FUTURE_FIELD><STOCK_ID>')}<NOTE>x</NOTE></STOCK_ITEMS>`,
						)
					: response(m, '<return/><Bonus>1</Bonus>'),
		expect: {
			GetSiteList: { value: (v) => expect(v).toEqual([{ id: '1', name: 'Main' }]) },
			ExportStock: {
				value: (v) => expect([...(v as Map<string, unknown>).keys()]).toEqual(['TSHIRT-RED-M']),
			},
			ProcessReturn: { value: (v) => expect(v).toBe('processed') },
		},
	},
	{
		name: 'a required field missing in a list item',
		status: 200,
		headers: xmlCt,
		body: (m) =>
			m === 'GetSiteList'
				? sites('<item><SiteName>Main</SiteName></item>')
				: m === 'ExportStock'
					? exportDoc(
							m,
							'<STOCK_ITEMS><STOCK_ITEM><STOCK_DESC>no code</STOCK_DESC></STOCK_ITEM></STOCK_ITEMS>',
						)
					: response(m, ''),
		expect: {
			GetSiteList: { error: 'protocol' },
			ExportStock: { error: 'protocol' },
			ProcessReturn: { value: (v) => expect(v).toBe('processed') },
		},
	},
	{
		name: 'empty results',
		status: 200,
		headers: xmlCt,
		body: (m) =>
			m === 'GetSiteList'
				? sites('')
				: m === 'ExportStock'
					? exportDoc(m, '<STOCK_ITEMS/>')
					: response(m, ''),
		expect: {
			GetSiteList: { value: (v) => expect(v).toEqual([]) },
			ExportStock: { value: (v) => expect((v as Map<string, unknown>).size).toBe(0) },
			ProcessReturn: { value: (v) => expect(v).toBe('processed') },
		},
	},
	{
		name: 'export document that is not XML',
		status: 200,
		headers: xmlCt,
		body: (m) =>
			m === 'ExportStock'
				? exportDoc(m, 'ERROR: <<not xml')
				: m === 'GetSiteList'
					? sites('')
					: response(m, ''),
		expect: { ExportStock: { error: 'protocol' } },
	},
	{
		name: 'empty export document',
		status: 200,
		headers: xmlCt,
		body: (m) =>
			m === 'ExportStock'
				? response(m, '<return></return>')
				: m === 'GetSiteList'
					? sites('')
					: response(m, ''),
		expect: { ExportStock: { error: 'protocol' } },
	},
	{
		name: 'SOAP fault with a unicode string (500)',
		status: 500,
		headers: xmlCt,
		body: fault('Fehler: Lagerplatz „Ü-1“ 不存在 😀'),
		expect: { all: { error: 'fault', faultIncludes: '不存在 😀' } },
	},
	{
		name: 'SOAP fault with an empty string (500)',
		status: 500,
		headers: xmlCt,
		body: fault(''),
		expect: { all: { error: 'fault', code: 'other' } },
	},
	{
		name: 'SOAP fault with a very long string (500)',
		status: 500,
		headers: xmlCt,
		body: fault(longFault),
		expect: { all: { error: 'fault' } },
	},
	{
		name: 'SOAP fault with HTML in it (500)',
		status: 500,
		headers: xmlCt,
		body: fault('<html><body><h1>Access violation</h1><script>alert(1)</script></body></html>'),
		expect: { all: { error: 'fault', faultIncludes: '<script>alert(1)</script>' } },
	},
	{
		name: 'SOAP fault echoing the credentials (500)',
		status: 500,
		headers: xmlCt,
		body: fault(`Login failed for ${USER} with password ${PASSWORD} (Basic ${BASIC})`),
		expect: { all: { error: 'fault', code: 'auth_failed' } },
	},
	{
		name: 'HTTP 200 carrying a SOAP fault',
		status: 200,
		headers: xmlCt,
		body: fault('Return does not exist or has been deleted.'),
		expect: { all: { error: 'fault', code: 'return_not_found' } },
	},
	{
		name: 'HTTP 200 SOAP 1.2 fault',
		status: 200,
		headers: { 'content-type': 'application/soap+xml' },
		body: buildSoapFault('1.2', 'Site 9 not found.'),
		expect: { all: { error: 'fault' } },
	},
	{
		name: 'wrong content-type (text/html) on a good SOAP answer',
		status: 200,
		headers: { 'content-type': 'text/html' },
		body: (m) =>
			m === 'GetSiteList'
				? sites('<item><SiteID>1</SiteID><SiteName>Main</SiteName></item>')
				: m === 'ExportStock'
					? exportDoc(m, `<STOCK_ITEMS>${stockItem('TSHIRT-RED-M')}</STOCK_ITEMS>`)
					: response(m, ''),
		expect: {
			GetSiteList: { value: (v) => expect(v).toEqual([{ id: '1', name: 'Main' }]) },
			ExportStock: { value: (v) => expect((v as Map<string, unknown>).size).toBe(1) },
			ProcessReturn: { value: (v) => expect(v).toBe('processed') },
		},
	},
	{
		name: 'wrong content-type (application/json) with a JSON body',
		status: 200,
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ error: `bad password ${PASSWORD}` }),
		expect: { all: { error: 'protocol' } },
	},
	{
		name: 'non-XML body (200, plain text)',
		status: 200,
		headers: { 'content-type': 'text/plain' },
		body: 'OK',
		expect: { all: { error: 'protocol' } },
	},
	{ name: 'empty body (200)', status: 200, body: '', expect: { all: { error: 'protocol' } } },
	{
		name: 'binary garbage (200)',
		status: 200,
		headers: { 'content-type': 'application/octet-stream' },
		body: Buffer.from([0xff, 0xfe, 0x00, 0x3c, 0x01]).toString('latin1'),
		expect: { all: { error: 'protocol' } },
	},
	{
		name: 'HTML error page (500) echoing the password',
		status: 500,
		headers: { 'content-type': 'text/html' },
		body: `<html><body>Internal error for ${PASSWORD}</body></html>`,
		expect: { all: { error: 'exhausted', lastKind: 'http' } },
	},
	{
		name: 'HTML proxy page (502)',
		status: 502,
		headers: { 'content-type': 'text/html' },
		body: '<html><body>Bad gateway</body></html>',
		expect: { all: { error: 'exhausted', lastKind: 'http' } },
	},
	{
		name: 'non-XML 400',
		status: 400,
		headers: { 'content-type': 'text/plain' },
		body: `Bad request from ${USER}`,
		expect: { all: { error: 'http', retryable: false } },
	},
	{
		name: '401 with a body echoing the Basic credentials',
		status: 401,
		headers: { 'www-authenticate': 'Basic realm="Khaos"' },
		body: `Authorization: Basic ${BASIC}`,
		expect: { all: { error: 'auth' } },
	},
	{
		name: '404 (wrong URL)',
		status: 404,
		headers: { 'content-type': 'text/html' },
		body: '<html>Not found</html>',
		expect: { all: { error: 'http', retryable: false } },
	},
];

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const outcomes: Array<{ variant: string; method: Call; outcome: string }> = [];

function assertNoSecret(text: string, where: string) {
	for (const s of SECRETS)
		if (text.includes(s)) throw new Error(`${where} carries a secret: ${text.slice(0, 200)}`);
}

describe.each(variants.map((v) => [v.name, v] as const))('Khaos response: %s', (_name, variant) => {
	it.each(Object.keys(calls) as Call[])(
		'%s ends in a value or a typed error without a secret',
		async (method) => {
			const body = typeof variant.body === 'function' ? variant.body(method) : variant.body;
			const sent: string[] = [];
			nock(HOST)
				.post(PATH)
				.times(3)
				.reply(function (_uri, reqBody) {
					sent.push(String(this.req.headers.authorization ?? ''), String(reqBody));
					return [variant.status, body, variant.headers ?? {}];
				});
			const want = variant.expect[method] ?? variant.expect.all;
			let value: unknown;
			let error: unknown;
			try {
				value = await calls[method](client());
			} catch (e) {
				error = e;
			}
			// Basic auth is sent (and only in the header), so the redaction is tested against real use
			expect(sent[0]).toBe(`Basic ${BASIC}`);
			expect(sent[1]).not.toContain(PASSWORD);
			if (error !== undefined) {
				expect(error).toBeInstanceOf(Error);
				const e = error as Error;
				assertNoSecret(e.message, 'message');
				assertNoSecret(String(e.stack), 'stack');
				assertNoSecret(JSON.stringify(error), 'serialised error');
				if (e instanceof KhaosFault) assertNoSecret(e.faultString, 'fault string');
				if (e instanceof TransientExhaustedError) assertNoSecret(e.lastError.message, 'last error');
				expect(e.message.length).toBeLessThanOrEqual(2100);
			}
			outcomes.push({
				variant: variant.name,
				method,
				outcome:
					error === undefined
						? 'value'
						: `${(error as Error).name}${error instanceof TransportError ? `:${error.kind}` : ''}`,
			});
			if (want === undefined) {
				// not specified for this method: a value or a typed error are both fine
				if (error !== undefined)
					expect(error instanceof TransportError || error instanceof TransientExhaustedError).toBe(
						true,
					);
				return;
			}
			if ('value' in want) {
				expect(error).toBeUndefined();
				want.value(value);
				return;
			}
			expect(error).toBeDefined();
			if (want.error === 'fault') {
				expect(error).toBeInstanceOf(KhaosFault);
				const f = error as KhaosFault;
				expect(f.kind).toBe('remote');
				if (want.code) expect(f.code).toBe(want.code);
				if (want.faultIncludes) expect(f.faultString).toContain(want.faultIncludes);
				expect(f.message).toMatch(new RegExp(`^Khaos ${method} fault: `));
			} else if (want.error === 'exhausted') {
				expect(error).toBeInstanceOf(TransientExhaustedError);
				expect((error as TransientExhaustedError).lastError.kind).toBe(want.lastKind);
				expect((error as TransientExhaustedError).attempts).toBe(2);
			} else {
				expect(error).toBeInstanceOf(TransportError);
				expect(error).not.toBeInstanceOf(KhaosFault);
				expect((error as TransportError).kind).toBe(want.error);
				if (want.retryable !== undefined)
					expect((error as TransportError).retryable).toBe(want.retryable);
				expect((error as Error).message).toContain(`Khaos ${method}`);
			}
		},
	);
});

describe('Khaos odd faults in detail', () => {
	it('a very long fault string is kept whole on the error but the message is bounded', async () => {
		nock(HOST).post(PATH).reply(500, fault(longFault), xmlCt);
		const error = (await client()
			.getSites()
			.catch((e: unknown) => e)) as KhaosFault;
		expect(error).toBeInstanceOf(KhaosFault);
		expect(error.faultString).toBe(longFault);
		expect(error.message.length).toBeLessThanOrEqual(2100);
		expect(error.message).toContain('characters in all');
	});

	it('credentials in a fault string are redacted from the message and the fault string (in-request auth too)', async () => {
		for (const mode of ['basic', 'inRequest'] as const) {
			nock(HOST)
				.post(PATH)
				.reply(
					500,
					fault(`Login failed: invalid user name or password. (${USER}/${PASSWORD})`),
					xmlCt,
				);
			const error = (await client(mode)
				.getSites()
				.catch((e: unknown) => e)) as KhaosFault;
			expect(error.code).toBe('auth_failed');
			expect(error.faultString).toBe('Login failed: invalid user name or password. (***/***)');
			assertNoSecret(error.message, mode);
		}
	});

	it('summary', () => {
		const byOutcome: Record<string, number> = {};
		for (const o of outcomes) byOutcome[o.outcome] = (byOutcome[o.outcome] ?? 0) + 1;
		process.stdout.write(
			`\nKhaos bad responses: ${variants.length} variants × 3 calls = ${outcomes.length} calls → ${JSON.stringify(byOutcome)}\n`,
		);
		expect(outcomes).toHaveLength(variants.length * 3);
		expect(
			Object.keys(byOutcome).every(
				(k) =>
					k === 'value' ||
					/^(KhaosFault:remote|TransportError:(protocol|http|auth)|TransientExhaustedError)$/.test(
						k,
					),
			),
		).toBe(true);
	});
});
