/**
 * Issue 12, item 4: Khaos answers are untrusted XML. A DOCTYPE or an entity declaration (in
 * the SOAP envelope or in the escaped document inside `<return>`) is refused with a typed,
 * non-retryable error; only the five predefined entities and numeric references of legal XML
 * characters are decoded, by our own decoder (the parser runs with processEntities off); a
 * reference to anything else (an undeclared entity, `&#0;`, a surrogate, beyond U+10FFFF) makes
 * the document unreadable rather than being kept literally; a response over the credential's
 * Max Response Size is refused before parsing, while it streams where n8n allows.
 */
import { Readable } from 'node:stream';
import { NodeApiError } from 'n8n-workflow';
import { KhaosControl } from '../../../nodes/KhaosControl/KhaosControl.node';
import {
	DEFAULT_MAX_RESPONSE_MB,
	khaosSend,
	readKhaosCredentials,
} from '../../../nodes/KhaosControl/transport';
import { makeN8nSend } from '../../../nodes/shared/n8nHttp';
import {
	BYTES_PER_MB,
	ResponseTooLargeError,
	TransportError,
	capResponseSize,
	type HttpRequest,
	type HttpResponse,
	type HttpSend,
} from '../../../transports/http';
import type { KhaosConfig } from '../../../transports/khaos/api';
import { KhaosClient } from '../../../transports/khaos/client';
import { buildSoapResponse, escapeXml, parseSoapResponse } from '../../../transports/khaos/soap';
import { decodeXmlText, parseXml, XmlReferenceError } from '../../../transports/khaos/xml';
import { KHAOS_TEST_CREDENTIALS } from '../../helpers/khaosFakes';
import { mockExecuteContext } from '../../helpers/mockExecuteContext';

const NS = 'urn:KosWeb-IKosWeb';
const ENV = 'http://schemas.xmlsoap.org/soap/envelope/';

function config(): KhaosConfig {
	return {
		url: 'http://khaos.test/KhaosKSD.exe',
		authMode: 'none',
		soapVersion: '1.1',
		namespace: NS,
		soapActionStyle: 'namespaceHash',
		timeoutMs: 1000,
		batchSize: 50,
		retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 60_000 },
	};
}

const noWait = { sleep: async () => undefined, now: () => 0, random: () => 0.5 };

/** A client whose every call is answered with `body` (and `status`); counts the requests. */
function clientAnswering(
	body: string,
	status = 200,
	wrap: (send: HttpSend) => HttpSend = (s) => s,
) {
	const sent: HttpRequest[] = [];
	const send: HttpSend = async (req) => {
		sent.push(req);
		return { status, headers: { 'content-type': 'text/xml' }, body };
	};
	return { client: new KhaosClient(config(), { send: wrap(send), retry: noWait }), sent };
}

const siteList = (inner = '<item><SiteID>1</SiteID><SiteName>Main</SiteName></item>') =>
	buildSoapResponse('1.1', NS, 'GetSiteList', `<return>${inner}</return>`);

const stockItem = (code: string, desc: string) =>
	`<STOCK_ITEM><STOCK_ID>1</STOCK_ID><STOCK_CODE>${code}</STOCK_CODE><ASSOCIATED_REF/><STOCK_DESC>${desc}</STOCK_DESC>` +
	'<SELL_PRICE IS_NET="0">12.50</SELL_PRICE><BARCODES><BARCODE>5000</BARCODE></BARCODES><DELETED>0</DELETED><WEB>-1</WEB><DISCONTINUED>0</DISCONTINUED>' +
	'<STOCK_CONTROLLED>-1</STOCK_CONTROLLED><RUN_TO_ZERO>0</RUN_TO_ZERO></STOCK_ITEM>';

/** ExportStock's answer: the document escaped as the text of `return`, as Khaos sends it. */
const exportStock = (doc: string) =>
	buildSoapResponse(
		'1.1',
		NS,
		'ExportStock',
		`<return xsi:type="xsd:string">${escapeXml(doc)}</return>`,
	);

async function rejection(promise: Promise<unknown>): Promise<TransportError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(TransportError);
	return error as TransportError;
}

// the classic billion laughs: ten levels of ten references
const LAUGHS =
	'<!DOCTYPE lolz [<!ENTITY lol "lol">' +
	Array.from(
		{ length: 9 },
		(_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`,
	).join('') +
	']>';
// GHSA-jmr7-xgp7-cmfj: one large plain entity referenced many times (no entity inside an entity)
const BIG_ENTITY = `<!DOCTYPE r [<!ENTITY big "${'A'.repeat(20_000)}">]>`;

describe('DOCTYPE and entity declarations are refused', () => {
	it('in the SOAP envelope: a typed protocol error, not retried, on HTTP 200 and on HTTP 500', async () => {
		const hostile =
			LAUGHS +
			siteList('<item><SiteID>&lol9;</SiteID><SiteName>x</SiteName></item>').replace(
				'<?xml version="1.0" encoding="utf-8"?>',
				'',
			);
		for (const status of [200, 500]) {
			const { client, sent } = clientAnswering(hostile, status);
			const error = await rejection(client.getSites());
			expect(error.kind).toBe('protocol');
			expect(error.retryable).toBe(false);
			expect(error.message).toBe(
				'Khaos GetSiteList: response refused: the document contains a DOCTYPE declaration; DTDs and entity declarations are refused (entity expansion)',
			);
			// a hostile answer is not asked for again (an unreadable 500 otherwise reads as a server error to retry)
			expect(sent).toHaveLength(1);
		}
	});

	it('in the escaped document inside <return>: a typed protocol error naming the field', async () => {
		const doc = `${BIG_ENTITY}<STOCK_ITEMS>${stockItem('AB-1', '&big;&big;&big;')}</STOCK_ITEMS>`;
		const { client, sent } = clientAnswering(exportStock(doc));
		const error = await rejection(client.getProducts(['AB-1']));
		expect(error.kind).toBe('protocol');
		expect(error.retryable).toBe(false);
		expect(error.message).toBe(
			'Khaos ExportStock: response field return: exported XML: the document contains a DOCTYPE declaration; DTDs and entity declarations are refused (entity expansion)',
		);
		expect(sent).toHaveLength(1);
	});

	it('an entity declaration without a DOCTYPE, any other markup declaration, and any spelling of DOCTYPE', () => {
		expect(parseXml('<!ENTITY x "y"><a>&x;</a>')).toEqual({
			ok: false,
			refused: true,
			error:
				'the document contains an entity declaration; DTDs and entity declarations are refused (entity expansion)',
		});
		expect(parseXml('<!ELEMENT a ANY><a/>')).toMatchObject({
			ok: false,
			refused: true,
			error: expect.stringContaining('a markup declaration (<!ELEMENT…>)'),
		});
		for (const doc of [
			'<!doctype a><a/>',
			'<! DOCTYPE a><a/>',
			'<a><![CDATA[<!DOCTYPE a>]]></a>',
			'<a><!-- <!ENTITY x "y"> --></a>',
		]) {
			expect({ doc, result: parseXml(doc) }).toMatchObject({
				doc,
				result: { ok: false, refused: true },
			});
		}
		expect(() =>
			parseSoapResponse(`<!DOCTYPE e><Envelope xmlns="${ENV}"><Body/></Envelope>`, 'GetSiteList'),
		).toThrow(TransportError);
	});

	it('GHSA-m7jm-9gc2-mpf2: an entity named `l.` never replaces &lt; (declared: refused; only referenced: undeclared, unreadable)', () => {
		const declared = parseXml('<!DOCTYPE r [<!ENTITY l. "PWNED">]><r>&lt;script&gt;</r>');
		expect(declared).toMatchObject({ ok: false, refused: true });
		expect(JSON.stringify(declared)).not.toContain('PWNED');
		expect(parseXml('<r>&l.;</r>')).toEqual({
			ok: false,
			error: expect.stringMatching(/^not well-formed XML/),
		});
		expect(() => decodeXmlText('&l.;')).toThrow(
			'undeclared entity &l.; (only &lt; &gt; &amp; &quot; &apos; are decoded)',
		);
		expect(parseXml('<r>&lt;script&gt;</r>')).toEqual({ ok: true, value: { r: '<script>' } });
	});

	it('billion laughs and GHSA-jmr7-xgp7-cmfj (a 61 KiB answer that grew to 190 MiB) are refused at once, nothing expanded', () => {
		const laughs = `${LAUGHS}<r>${'&lol9;'.repeat(10)}</r>`;
		const big = `${BIG_ENTITY.replace('A'.repeat(20_000), 'A'.repeat(61 * 1024 - 200))}<r>${'&big;'.repeat(3000)}</r>`;
		for (const doc of [laughs, big]) {
			const t0 = process.hrtime.bigint();
			const result = parseXml(doc);
			const ms = Number(process.hrtime.bigint() - t0) / 1e6;
			expect(result).toMatchObject({ ok: false, refused: true });
			expect(JSON.stringify(result).length).toBeLessThan(300);
			expect(ms).toBeLessThan(100);
		}
	});
});

describe('our own entity decoding: predefined entities and legal numeric references only', () => {
	it('the five predefined entities and decimal/hex references (either case, astral) in text and attributes', () => {
		const doc =
			'<A k="&quot;&amp;&#x41;&#66;&apos;"><B>&lt;x&gt; &amp;amp; &#233;&#xe9;&#xE9;&#x1F600; &#9;tab</B><C>AT&amp;T</C></A>';
		expect(parseXml(doc)).toEqual({
			ok: true,
			value: { A: { '@_k': `"&AB'`, B: '<x> &amp; ééé😀 \ttab', C: 'AT&T' } },
		});
	});

	it('decoding happens once: &amp;lt; stays &lt;, an escaped document stays a document to parse again', () => {
		expect(decodeXmlText('&amp;lt;&amp;#60;')).toBe('&lt;&#60;');
		const inner = `<STOCK_ITEMS>${stockItem('AB&amp;1', 'Tee &lt;red&gt; &#8364;5')}</STOCK_ITEMS>`;
		const outer = parseXml(`<R><return>${escapeXml(inner)}</return></R>`);
		expect(outer.ok && (outer.value.R as { return: string }).return).toBe(inner);
	});

	it('CDATA content is kept literally (not decoded), and joins the surrounding text in order', () => {
		expect(parseXml('<a>x &amp; <![CDATA[&amp; <b> ]]>y</a>')).toEqual({
			ok: true,
			value: { a: 'x & &amp; <b> y' },
		});
		expect(parseXml('<a><!-- <![CDATA[ --><b>&lt;</b></a>')).toEqual({
			ok: true,
			value: { a: { b: '<' } },
		});
	});

	it.each([
		['NUL', '&#0;'],
		['a C0 control', '&#1;'],
		['U+FFFE', '&#xFFFE;'],
		['U+FFFF', '&#65535;'],
		['a lone surrogate', '&#xD800;'],
		['beyond U+10FFFF', '&#x110000;'],
		['a huge number', '&#99999999999999999999;'],
	])(
		'a reference to an illegal character (%s) makes the document unreadable, never kept literally',
		(_what, ref) => {
			const result = parseXml(`<a>x${ref}y</a>`);
			expect(result.ok).toBe(false);
			expect(result).not.toHaveProperty('refused');
			expect(JSON.stringify(result)).toMatch(/not well-formed XML/);
			expect(() => decodeXmlText(`x${ref}`)).toThrow(XmlReferenceError);
		},
	);

	it('undeclared named entities (HTML ones included) and bare ampersands are unreadable too', () => {
		for (const text of ['&nbsp;', '&eacute;', '&foo;', '& x', '&#;', '&#x;', '&lt'])
			expect(() => decodeXmlText(text)).toThrow(XmlReferenceError);
		expect(parseXml('<a x="&nbsp;"/>').ok).toBe(false);
	});

	it('a million numeric references decode in linear time and never grow the text', () => {
		const doc = `<a>${'&#65;'.repeat(1_000_000)}</a>`;
		const t0 = process.hrtime.bigint();
		const result = parseXml(doc);
		const ms = Number(process.hrtime.bigint() - t0) / 1e6;
		expect(result.ok && (result.value.a as string).length).toBe(1_000_000);
		expect(ms).toBeLessThan(5000);
	});

	it('what the sandbox and a Khaos export send still reads the same (escaped document, attributes, empty elements)', async () => {
		const { client } = clientAnswering(
			exportStock(`<STOCK_ITEMS>${stockItem('AB-1', 'Mug &amp; "Tee" &lt;2&gt; é')}</STOCK_ITEMS>`),
		);
		const products = await client.getProducts(['AB-1']);
		expect(products.get('AB-1')).toMatchObject({
			stockCode: 'AB-1',
			description: 'Mug & "Tee" <2> é',
			associatedRef: null,
			sellPricePence: 1250,
		});
	});
});

describe('response size cap (credential: Max Response Size)', () => {
	const MB = BYTES_PER_MB;

	it('the credential setting: default 20 MB, clamped to 1–1024', () => {
		expect(DEFAULT_MAX_RESPONSE_MB).toBe(20);
		expect(readKhaosCredentials({ url: 'http://x' }).maxResponseMb).toBe(20);
		expect(readKhaosCredentials({ url: 'http://x', maxResponseMb: 0 }).maxResponseMb).toBe(1);
		expect(readKhaosCredentials({ url: 'http://x', maxResponseMb: 5000 }).maxResponseMb).toBe(1024);
		expect(readKhaosCredentials({ url: 'http://x', maxResponseMb: '7' }).maxResponseMb).toBe(7);
	});

	it('an answer over the cap is refused before parsing with a typed error naming the cap; not retried', async () => {
		const body = siteList(`<item><SiteID>1</SiteID><SiteName>${'x'.repeat(MB)}</SiteName></item>`);
		const { client, sent } = clientAnswering(body, 200, (send) =>
			khaosSend(send, { maxResponseMb: 1 }),
		);
		const error = await rejection(client.getSites());
		expect(error).toBeInstanceOf(ResponseTooLargeError);
		expect(error.kind).toBe('protocol');
		expect(error.retryable).toBe(false);
		expect(error.code).toBe('response_too_large');
		expect(error.message).toBe(
			`Khaos: response larger than the 1 MB cap (${Buffer.byteLength(body)} bytes), refused before parsing; raise Max Response Size in the Khaos Control credential only if Khaos really sends answers this large`,
		);
		expect(sent).toHaveLength(1);
		expect(sent[0].maxResponseBytes).toBe(MB);
		// the same answer under a larger cap is read
		const ok = clientAnswering(body, 200, (send) => khaosSend(send, { maxResponseMb: 2 }));
		expect((await ok.client.getSites())[0].name).toHaveLength(MB);
	});

	it('counts UTF-8 bytes, not characters', async () => {
		const send: HttpSend = async () => ({ status: 200, headers: {}, body: 'é'.repeat(600) });
		await expect(
			capResponseSize(send, 1000)({ method: 'POST', url: 'x', headers: {}, timeoutMs: 1 }),
		).rejects.toMatchObject({ bytes: 1200, maxBytes: 1000 });
		await expect(
			capResponseSize(send, 1200)({ method: 'POST', url: 'x', headers: {}, timeoutMs: 1 }),
		).resolves.toMatchObject({ status: 200 });
	});

	describe('through n8n helpers (nodes/shared/n8nHttp.ts)', () => {
		const request = (max?: number): HttpRequest => ({
			method: 'POST',
			url: 'http://khaos.test/x',
			headers: {},
			body: '<a/>',
			timeoutMs: 1000,
			maxResponseBytes: max,
		});

		function helperCtx(answer: (options: Record<string, unknown>) => unknown) {
			const calls: Array<Record<string, unknown>> = [];
			const ctx = mockExecuteContext({
				helpers: {
					httpRequestWithAuthentication: async (
						_type: string,
						options: Record<string, unknown>,
					) => {
						calls.push(options);
						return answer(options);
					},
				},
			});
			return { send: makeN8nSend(ctx, 'khaosControlApi'), calls };
		}

		/** An endless body in 64 KiB chunks, counting what was pulled. */
		function endless() {
			let pulled = 0;
			const stream = new Readable({
				read() {
					pulled += 65536;
					this.push(Buffer.alloc(65536, 0x61));
				},
			});
			return { stream, pulled: () => pulled };
		}

		it('asks for a stream only when capped, and stops receiving once past the cap', async () => {
			const body = endless();
			const { send, calls } = helperCtx(() => ({
				statusCode: 200,
				headers: {},
				body: body.stream,
			}));
			const error = await rejection(send(request(MB)));
			expect(error).toBeInstanceOf(ResponseTooLargeError);
			expect(calls[0].encoding).toBe('stream');
			expect(body.stream.destroyed).toBe(true);
			// read just past the cap, not the endless rest
			expect(body.pulled()).toBeLessThan(MB + 4 * 65536);

			const plain = helperCtx(() => ({ statusCode: 200, headers: {}, body: '<a/>' }));
			await plain.send(request());
			expect(plain.calls[0].encoding).toBe('text');
		});

		it('refuses a declared Content-Length over the cap without reading the body', async () => {
			const body = endless();
			const { send } = helperCtx(() => ({
				statusCode: 200,
				headers: { 'Content-Length': String(5 * MB) },
				body: body.stream,
			}));
			const error = await rejection(send(request(MB)));
			expect(error).toMatchObject({
				bytes: 5 * MB,
				maxBytes: MB,
				kind: 'protocol',
				retryable: false,
			});
			expect(body.stream.destroyed).toBe(true);
			expect(body.pulled()).toBeLessThanOrEqual(65536);
		});

		it('a streamed body under the cap is read whole, multi-byte characters split across chunks included', async () => {
			const bytes = Buffer.from('<a>é€😀</a>', 'utf8');
			const chunks = Array.from(bytes, (b) => Buffer.from([b]));
			const { send } = helperCtx(() => ({
				statusCode: 500,
				headers: { 'content-type': 'text/xml' },
				body: Readable.from(chunks),
			}));
			expect(await send(request(MB))).toEqual({
				status: 500,
				headers: { 'content-type': 'text/xml' },
				body: '<a>é€😀</a>',
			});
		});

		it('a helper that answers with a whole string anyway is still checked before parsing; a dropped stream is a retryable network error', async () => {
			const big = helperCtx(() => ({ statusCode: 200, headers: {}, body: 'x'.repeat(MB + 1) }));
			expect(await rejection(big.send(request(MB)))).toMatchObject({
				bytes: MB + 1,
				code: 'response_too_large',
			});
			const dropped = new Readable({ read() {} });
			const cut = helperCtx(() => {
				setImmediate(() =>
					dropped.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })),
				);
				return { statusCode: 200, headers: {}, body: dropped };
			});
			expect(await rejection(cut.send(request(MB)))).toMatchObject({
				kind: 'network',
				retryable: true,
				message: 'connection failed while reading the response: ECONNRESET',
			});
		});

		it('the Khaos node: an answer over the credential cap fails the call with a NodeApiError naming the cap', async () => {
			const ctx = mockExecuteContext({
				items: [{}],
				params: { resource: 'product', operation: 'get', stockCodes: 'AB-1', mappingType: 1 },
				credentials: {
					khaosControlApi: { ...KHAOS_TEST_CREDENTIALS, authMode: 'none', maxResponseMb: 1 },
				},
				helpers: {
					httpRequestWithAuthentication: async () => ({
						statusCode: 200,
						headers: {},
						body: exportStock(`<STOCK_ITEMS>${stockItem('AB-1', 'y'.repeat(MB))}</STOCK_ITEMS>`),
					}),
				},
			});
			const error = await new KhaosControl().execute.call(ctx).then(
				() => undefined,
				(e: unknown) => e,
			);
			expect(error).toBeInstanceOf(NodeApiError);
			expect((error as Error).message).toMatch(
				/^Khaos: response larger than the 1 MB cap \(\d+ bytes\), refused before parsing/,
			);
		});
	});
});

describe('the answer is the one Khaos sent: HttpResponse bodies are not altered by the cap', () => {
	it('capResponseSize passes the response through untouched', async () => {
		const response: HttpResponse = { status: 200, headers: { a: 'b' }, body: siteList() };
		const send: HttpSend = async () => response;
		expect(
			await capResponseSize(
				send,
				BYTES_PER_MB,
			)({ method: 'POST', url: 'x', headers: {}, timeoutMs: 1 }),
		).toBe(response);
	});
});
