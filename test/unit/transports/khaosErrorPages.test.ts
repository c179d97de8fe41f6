/**
 * An error status from IIS or a proxy in front of Khaos often comes with an HTML error page that
 * starts with `<!DOCTYPE html …>`. Such a page is not a SOAP answer: the HTTP status decides (a 5xx
 * is retried with back-off), as before the DOCTYPE refusal existed. A DOCTYPE in front of a SOAP
 * envelope (a 2xx answer, a 500/400 Fault) is still refused as a hostile answer, not retried; a 2xx
 * HTML page stays an unreadable answer (protocol, not retried). Nothing with a DOCTYPE is parsed.
 */
import nock from 'nock';
import type { KhaosConfig } from '../../../transports/khaos/api';
import { KhaosClient } from '../../../transports/khaos/client';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import {
	buildSoapFault,
	buildSoapResponse,
	escapeXml,
	parseSoapResponse,
} from '../../../transports/khaos/soap';
import { makeNodeHttpSend } from '../../helpers/nodeHttpSend';

const HOST = 'http://khaos.test:8084';
const PATH = '/LiveSoap/KhaosKSD.exe';
const NS = 'urn:KosWeb-IKosWeb';

function client() {
	const config: KhaosConfig = {
		url: `${HOST}${PATH}`,
		authMode: 'none',
		soapVersion: '1.1',
		namespace: NS,
		soapActionStyle: 'namespaceHash',
		timeoutMs: 1500,
		batchSize: 50,
		retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000, maxTotalMs: 60_000 },
	};
	const sleeps: number[] = [];
	let t = 0;
	const retry = {
		sleep: async (ms: number) => {
			sleeps.push(ms);
			t += ms;
		},
		now: () => t,
		random: () => 0.5,
	};
	return { c: new KhaosClient(config, { send: makeNodeHttpSend(), retry }), sleeps };
}

/** What IIS answers for a failing application (the page mentions SOAP, but is HTML). */
const IIS_PAGE =
	'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n' +
	'<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>' +
	'<title>500 - Internal server error.</title></head><body><div id="header"><h1>Server Error</h1></div>' +
	'<div id="content"><fieldset><h2>500 - Internal server error.</h2><h3>There is a problem with the resource you are looking for (SOAP Envelope / Fault), and it cannot be displayed.</h3></fieldset></div></body></html>';
const PROXY_PAGE =
	'<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>';

const siteList = () =>
	buildSoapResponse(
		'1.1',
		NS,
		'GetSiteList',
		'<return><item><SiteID>1</SiteID><SiteName>M</SiteName></item></return>',
	);
const withDoctype = (envelope: string, doctype = '<!DOCTYPE Envelope>') =>
	envelope.replace(
		'<?xml version="1.0" encoding="utf-8"?>',
		`<?xml version="1.0" encoding="utf-8"?>${doctype}`,
	);

async function failure(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		() => {
			throw new Error('expected a rejection');
		},
		(e: unknown) => e,
	);
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('an HTML error page with a DOCTYPE is an HTTP status error, not a hostile answer', () => {
	it.each([
		[500, IIS_PAGE],
		[503, PROXY_PAGE],
		[502, PROXY_PAGE],
	])(
		'HTTP %i with <!DOCTYPE html>: retried with back-off, ends as TransientExhaustedError',
		async (status, page) => {
			const scope = nock(HOST)
				.post(PATH)
				.times(4)
				.reply(status, page, { 'content-type': 'text/html' });
			const { c, sleeps } = client();
			const error = await failure(c.getSites());
			expect(error).toBeInstanceOf(TransientExhaustedError);
			const last = (error as TransientExhaustedError).lastError;
			expect(last).toMatchObject({
				kind: 'http',
				status,
				retryable: true,
				message: `Khaos GetSiteList: HTTP ${status}`,
			});
			expect((error as TransientExhaustedError).attempts).toBe(4);
			expect(sleeps).toEqual([75, 150, 300]);
			expect(scope.isDone()).toBe(true);
		},
	);

	it('one short outage (two HTML 500 pages) does not fail the call: the third attempt succeeds', async () => {
		nock(HOST)
			.post(PATH)
			.times(2)
			.reply(500, IIS_PAGE, { 'content-type': 'text/html' })
			.post(PATH)
			.reply(200, siteList());
		const { c, sleeps } = client();
		expect(await c.getSites()).toEqual([{ id: '1', name: 'M' }]);
		expect(sleeps).toEqual([75, 150]);
		expect(c.requestCount).toBe(3);
	});

	it('HTTP 400 with an HTML page: the HTTP 400 error (not retried), not a protocol refusal', async () => {
		nock(HOST).post(PATH).reply(400, '<!DOCTYPE html><html><body>Bad Request</body></html>', {
			'content-type': 'text/html',
		});
		const { c, sleeps } = client();
		const error = await failure(c.getSites());
		expect(error).toBeInstanceOf(TransportError);
		expect(error).toMatchObject({
			kind: 'http',
			status: 400,
			retryable: false,
			message: 'Khaos GetSiteList: HTTP 400',
		});
		expect(sleeps).toEqual([]);
	});
});

describe('a DOCTYPE where the body is read as SOAP is still refused (protocol, not retried)', () => {
	const refused =
		'Khaos GetSiteList: response refused: the document contains a DOCTYPE declaration; DTDs and entity declarations are refused (entity expansion)';

	it('HTTP 200 (and 202) with a DOCTYPE before the envelope', async () => {
		for (const status of [200, 202]) {
			const scope = nock(HOST).post(PATH).reply(status, withDoctype(siteList()));
			const { c, sleeps } = client();
			const error = await failure(c.getSites());
			expect(error).toBeInstanceOf(TransportError);
			expect(error).toMatchObject({ kind: 'protocol', retryable: false, message: refused });
			expect(sleeps).toEqual([]);
			expect(scope.isDone()).toBe(true);
			nock.cleanAll();
		}
	});

	it('HTTP 200 or 202 with an HTML page with a DOCTYPE: an unreadable answer (protocol, not retried), never parsed', async () => {
		const expected = {
			200: 'Khaos GetSiteList: unreadable SOAP response: no SOAP Envelope element (the document contains a DOCTYPE declaration; not parsed)',
			202: 'Khaos GetSiteList: unexpected HTTP 202 without a SOAP response',
		};
		for (const status of [200, 202] as const) {
			nock(HOST).post(PATH).reply(status, PROXY_PAGE, { 'content-type': 'text/html' });
			const { c, sleeps } = client();
			expect(await failure(c.getSites())).toMatchObject({
				kind: 'protocol',
				retryable: false,
				message: expected[status],
			});
			expect(sleeps).toEqual([]);
			nock.cleanAll();
		}
	});

	it('parseSoapResponse: a declaration without an Envelope element is invalid (not SOAP); with one it is refused', () => {
		expect(parseSoapResponse(IIS_PAGE, 'GetSiteList')).toEqual({
			kind: 'invalid',
			error: 'no SOAP Envelope element (the document contains a DOCTYPE declaration; not parsed)',
		});
		expect(() => parseSoapResponse(withDoctype(buildSoapFault('1.1', 'x')), 'GetSiteList')).toThrow(
			refused,
		);
		expect(() => parseSoapResponse('<!DOCTYPE x><soapenv:Envelope/>', 'GetSiteList')).toThrow(
			refused,
		);
	});

	it.each([
		['500, SOAP 1.1 Fault', 500, buildSoapFault('1.1', 'Access violation')],
		['500, SOAP 1.2 Fault', 500, buildSoapFault('1.2', 'Access violation')],
		['400, SOAP 1.1 Client Fault', 400, buildSoapFault('1.1', 'Bad request', 'SOAP-ENV:Client')],
	])(
		'HTTP %s with a DOCTYPE before it: refused as hostile, asked once',
		async (_label, status, fault) => {
			for (const doctype of [
				'<!DOCTYPE Envelope>',
				'<!DOCTYPE x [<!ENTITY e "Access violation">]>',
			]) {
				const scope = nock(HOST).post(PATH).reply(status, withDoctype(fault, doctype));
				const { c, sleeps } = client();
				const error = await failure(c.getSites());
				expect(error).toBeInstanceOf(TransportError);
				expect(error).toMatchObject({ kind: 'protocol', retryable: false, message: refused });
				expect(sleeps).toEqual([]);
				expect(scope.isDone()).toBe(true);
				nock.cleanAll();
			}
		},
	);

	it('HTTP 500 with a SOAP envelope whose prefix is unusual, after an entity declaration without a DOCTYPE', async () => {
		const body =
			'<!ENTITY e "x"><s:Envelope\n xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>&e;</faultstring></s:Fault></s:Body></s:Envelope>';
		nock(HOST).post(PATH).reply(500, body);
		const { c } = client();
		expect(await failure(c.getSites())).toMatchObject({
			kind: 'protocol',
			retryable: false,
			message: expect.stringMatching(
				/^Khaos GetSiteList: response refused: the document contains an entity declaration/,
			),
		});
	});

	it('the exported document inside <return> with a DOCTYPE, in an HTTP 200 answer', async () => {
		const doc = '<!DOCTYPE STOCK_ITEMS><STOCK_ITEMS/>';
		nock(HOST)
			.post(PATH)
			.reply(
				200,
				buildSoapResponse(
					'1.1',
					NS,
					'ExportStock',
					`<return xsi:type="xsd:string">${escapeXml(doc)}</return>`,
				),
			);
		const { c } = client();
		expect(await failure(c.getProducts(['AB-1']))).toMatchObject({
			kind: 'protocol',
			retryable: false,
			message: expect.stringMatching(
				/^Khaos ExportStock: response field return: exported XML: the document contains a DOCTYPE declaration/,
			),
		});
	});

	it('without a DOCTYPE a 500 SOAP Fault is still read as the fault (unchanged)', async () => {
		nock(HOST)
			.post(PATH)
			.reply(500, buildSoapFault('1.1', 'Return does not exist or has been deleted.'));
		const { c } = client();
		const error = await failure(c.getSites());
		expect((error as Error).name).toBe('KhaosFault');
	});
});
