/**
 * Issue 12, item 5: a secret must not leave through any sink in any form our transports
 * produce. The Khaos password travels XML-escaped in the SOAP body (inRequest) and as
 * base64 of `user:password` (HTTP Basic); the ReBound api_key travels form-encoded; our own
 * output is JSON. When Khaos or ReBound quote the request back (a fault string, an error
 * body), any of those forms can come back. A test per form per sink:
 * - error message: KhaosFault / ReboundApiError as the clients throw them;
 * - exception row: the ReturnException the Khaos node's failure path (failureExceptions) and
 *   the ReBound node's fetch failure make;
 * - alert text: the templates' e-mail and Slack alert expressions, resolved by n8n-workflow's
 *   expression engine over those rows (the row's message is what they send);
 * - execution data: every item the node outputs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Expression, type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import { MIN_SECRET_LENGTH, redactSecrets } from '../../../core/exceptions';
import { KhaosControl } from '../../../nodes/KhaosControl/KhaosControl.node';
import * as khaosTransport from '../../../nodes/KhaosControl/transport';
import { ReBound } from '../../../nodes/ReBound/ReBound.node';
import * as reboundGlue from '../../../nodes/shared/reboundApi';
import type { HttpRequest, HttpResponse } from '../../../transports/http';
import type { KhaosConfig } from '../../../transports/khaos/api';
import { KhaosClient, KhaosFault } from '../../../transports/khaos/client';
import { buildSoapFault, escapeXml } from '../../../transports/khaos/soap';
import type { ReboundApi } from '../../../transports/rebound/api';
import { ReboundApiError, ReboundClient } from '../../../transports/rebound/client';
import { FakeKhaosApi, KHAOS_TEST_CREDENTIALS, mappedReturn } from '../../helpers/khaosFakes';
import { mockExecuteContext } from '../../helpers/mockExecuteContext';
import { reboundCredentials } from '../../helpers/reboundFakes';
import { allStrings } from '../../helpers/allStrings';

// distinctive secrets with every character an encoding changes: & < > " ' + ! ( ) * space é
const KHAOS_USER = 'ops.khaos+é';
const KHAOS_PASSWORD = `Tr0ub&dor<3 "x'>+!()* é`;
const REBOUND_API_KEY = `k3y&<r>"b' +!(n)*d é`;
const REBOUND_LOGIN = 'acme-returns';

const upperHex = (s: string) => s.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());
const lowerHex = (s: string) => s.replace(/%[0-9a-f]{2}/gi, (m) => m.toLowerCase());
/** RFC 3986 form encoding (what many clients and PHP's rawurlencode+`+` produce): `!'()*` escaped too. */
const strictForm = (s: string) =>
	encodeURIComponent(s)
		.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
		.replace(/%20/g, '+');
const charRefs = (s: string, ref: (cp: number) => string) =>
	Array.from(s, (c) => (/[&<>"'é]/.test(c) ? ref(c.codePointAt(0)!) : c)).join('');
const base64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

type Form = [name: string, encode: (secret: string) => string];

/** Every form our transports write a secret in, and the ways a service can quote it back. */
const FORMS: Form[] = [
	['raw', (s) => s],
	['URL-encoded (encodeURIComponent)', encodeURIComponent],
	['URL-encoded, lower-case hex', (s) => lowerHex(encodeURIComponent(s))],
	[
		'form-encoded (URLSearchParams, as the ReBound body)',
		(s) => new URLSearchParams({ api_key: s }).toString().slice('api_key='.length),
	],
	["form-encoded, RFC 3986 (!'()* as %21%27%28%29%2A, space as +)", (s) => upperHex(strictForm(s))],
	['form-encoded, RFC 3986, lower-case hex', (s) => lowerHex(strictForm(s))],
	['XML-escaped (the five entities, as the SOAP body)', escapeXml],
	[
		'XML-escaped, & < > only (quote characters left raw)',
		(s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
	],
	['XML decimal character references', (s) => charRefs(s, (cp) => `&#${cp};`)],
	[
		'XML hex character references, lower case',
		(s) => charRefs(s, (cp) => `&#x${cp.toString(16)};`),
	],
	[
		'XML hex character references, upper case',
		(s) => charRefs(s, (cp) => `&#X${cp.toString(16).toUpperCase()};`),
	],
	['JSON-escaped (JSON.stringify)', (s) => JSON.stringify(s).slice(1, -1)],
	[
		'JSON-escaped, ASCII only (\\u0026, \\u00e9 …)',
		(s) =>
			JSON.stringify(s)
				.slice(1, -1)
				.replace(
					/[&<>'\u0080-\uffff]/g,
					(c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
				),
	],
	[
		'JSON of the XML-escaped form (a quoted SOAP body inside a JSON error)',
		(s) => JSON.stringify(escapeXml(s)).slice(1, -1),
	],
	['base64', (s) => Buffer.from(s, 'utf8').toString('base64')],
	['base64url', base64url],
];

/** HTTP Basic: base64 of `user:password` as one text (KhaosControlApi authenticate → n8n → Authorization). */
const BASIC_FORMS: Form[] = [
	[
		'HTTP Basic: base64 of user:password',
		(s) => Buffer.from(`${KHAOS_USER}:${s}`, 'utf8').toString('base64'),
	],
	['HTTP Basic: base64url of user:password', (s) => base64url(`${KHAOS_USER}:${s}`)],
];

const KHAOS_FORMS = [...FORMS, ...BASIC_FORMS];

/** No form of the secret (not only the one injected) is left in the text. */
function expectClean(text: string, secret: string, forms: Form[]): void {
	for (const [name, encode] of forms)
		expect({ form: name, leaked: text.includes(encode(secret)) }).toEqual({
			form: name,
			leaked: false,
		});
}

/** Execution data: the serialised items and every string value in them. */
function expectCleanData(data: unknown, secret: string, forms: Form[]): void {
	expectClean(JSON.stringify(data), secret, forms);
	// every string inside node output (JSON text escapes quotes, so a form can hide in it: each value is checked as it is)
	for (const text of allStrings(data)) expectClean(text, secret, forms);
}

describe('the test forms are distinct, real encodings of the secrets', () => {
	it('each form differs from the raw secret (except raw) and the secrets carry every special character', () => {
		for (const ch of ['&', '<', '>', '"', "'", '+', '!', '(', ')', '*', ' ', 'é']) {
			expect(KHAOS_PASSWORD).toContain(ch);
			expect(REBOUND_API_KEY).toContain(ch);
		}
		for (const [name, encode] of KHAOS_FORMS.slice(1))
			expect({ name, same: encode(KHAOS_PASSWORD) === KHAOS_PASSWORD }).toEqual({
				name,
				same: false,
			});
		// what the transports really send
		expect(new URLSearchParams({ api_key: REBOUND_API_KEY }).toString()).toContain(
			FORMS[3][1](REBOUND_API_KEY),
		);
		expect(escapeXml(KHAOS_PASSWORD)).toBe('Tr0ub&amp;dor&lt;3 &quot;x&apos;&gt;+!()* é');
	});
});

describe('redactSecrets: the rule', () => {
	it.each(KHAOS_FORMS)('%s form is removed from a text', (_name, encode) => {
		const secrets = khaosTransport.khaosSecrets({ username: KHAOS_USER, password: KHAOS_PASSWORD });
		const out = redactSecrets(`fault: <${encode(KHAOS_PASSWORD)}> end`, secrets);
		expect(out).toBe('fault: <***> end');
	});

	it('longest first: user:password goes whole, then the password, then the user name', () => {
		const secrets = khaosTransport.khaosSecrets({ username: KHAOS_USER, password: KHAOS_PASSWORD });
		expect(
			redactSecrets(
				`a ${KHAOS_USER}:${KHAOS_PASSWORD} b ${KHAOS_PASSWORD} c ${KHAOS_USER} d`,
				secrets,
			),
		).toBe('a *** b *** c *** d');
	});

	it('mixed forms in one quote (only some characters escaped, hex of either case) are removed', () => {
		const mixed = 'Tr0ub%26dor&lt;3+&#x22;x%27&gt;%2b%21()%2a%20%C3%a9';
		expect(redactSecrets(`[${mixed}]`, [KHAOS_PASSWORD])).toBe('[***]');
	});

	it(`secrets shorter than ${MIN_SECRET_LENGTH} characters are left (they would blank ordinary text); other text is untouched`, () => {
		expect(redactSecrets('ab ab', ['ab'])).toBe('ab ab');
		expect(redactSecrets('abc', ['abc'])).toBe('***');
		const text = 'AT&T &amp; 100% + (x) "quoted" \\u0026 é';
		expect(redactSecrets(text, [KHAOS_PASSWORD, REBOUND_API_KEY, undefined, null, ''])).toBe(text);
	});
});

// ------------------------------------------------------------------ sink 1: error messages

const NS = 'urn:KosWeb-IKosWeb';

function khaosConfig(over: Partial<KhaosConfig>): KhaosConfig {
	return {
		url: 'http://khaos.test/KhaosKSD.exe',
		authMode: 'inRequest',
		username: KHAOS_USER,
		password: KHAOS_PASSWORD,
		soapVersion: '1.1',
		namespace: NS,
		soapActionStyle: 'namespaceHash',
		timeoutMs: 1000,
		batchSize: 50,
		retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1000 },
		...over,
	};
}

const noWait = { sleep: async () => undefined, now: () => 0, random: () => 0.5 };

describe('sink: error message (Khaos quotes the request back in a SOAP fault)', () => {
	it('the transports really put the password in the SOAP body XML-escaped and in the Basic header as base64 of user:password', async () => {
		const seen: HttpRequest[] = [];
		const send = async (req: HttpRequest): Promise<HttpResponse> => {
			seen.push(req);
			return { status: 500, headers: {}, body: buildSoapFault('1.1', 'no') };
		};
		await new KhaosClient(khaosConfig({}), { send, retry: noWait })
			.getSites()
			.catch(() => undefined);
		await new KhaosClient(khaosConfig({ authMode: 'basic' }), { send, retry: noWait })
			.getSites()
			.catch(() => undefined);
		expect(seen[0].body).toContain(`<Password>${escapeXml(KHAOS_PASSWORD)}</Password>`);
		expect(seen[1].headers.authorization).toBe(`Basic ${BASIC_FORMS[0][1](KHAOS_PASSWORD)}`);
	});

	it.each(KHAOS_FORMS)(
		'%s: the KhaosFault message and fault string carry no form of the password',
		async (_name, encode) => {
			// the server escapes the fault string once more in its envelope, the client decodes it once: the form comes back as is
			const send = async (req: HttpRequest): Promise<HttpResponse> => ({
				status: 500,
				headers: {},
				body: buildSoapFault(
					'1.1',
					`Server was unable to read request ${encode(KHAOS_PASSWORD)} (${req.body?.length} bytes)`,
					'SOAP-ENV:Client',
				),
			});
			const error = await new KhaosClient(khaosConfig({ authMode: 'basic' }), {
				send,
				retry: noWait,
			})
				.getSites()
				.catch((e: unknown) => e);
			expect(error).toBeInstanceOf(KhaosFault);
			const fault = error as KhaosFault;
			expect(fault.faultString).toContain('Server was unable to read request ***');
			expectClean(fault.message, KHAOS_PASSWORD, KHAOS_FORMS);
			expectClean(fault.faultString, KHAOS_PASSWORD, KHAOS_FORMS);
		},
	);

	it.each(FORMS)(
		'%s: a ReBound error quoting the form body carries no form of the api_key',
		async (_name, encode) => {
			let sentBody = '';
			const send = async (req: HttpRequest): Promise<HttpResponse> => {
				sentBody = req.body ?? '';
				const quoted = `invalid credentials in login=${REBOUND_LOGIN}&api_key=${encode(REBOUND_API_KEY)}`;
				return {
					status: 403,
					headers: {},
					body: JSON.stringify({ error: { code: 'access_denied', message: [quoted] } }),
				};
			};
			const client = new ReboundClient(
				{
					baseUrl: 'https://rebound.test/api',
					login: REBOUND_LOGIN,
					apiKey: REBOUND_API_KEY,
					timeoutMs: 1000,
					retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1000 },
				},
				{ send, retry: noWait },
			);
			const error = await client.getReturn('101').catch((e: unknown) => e);
			expect(sentBody).toContain(`api_key=${FORMS[3][1](REBOUND_API_KEY)}`);
			expect(error).toBeInstanceOf(ReboundApiError);
			expect((error as Error).message).toContain('api_key=***');
			expectClean((error as Error).message, REBOUND_API_KEY, FORMS);
		},
	);
});

// ------------------------------------------------------------------ sinks 2–4: exception row, alert text, execution data

const workflowsDir = path.join(__dirname, '../../../workflows');

/** The alert texts the templates send for these exception rows: every Alert node's message expression, resolved by n8n-workflow. */
function alertTexts(rows: IDataObject[]): string[] {
	const items = rows.map((json) => ({ json }));
	const texts: string[] = [];
	for (const file of fs.readdirSync(workflowsDir).filter((f) => f.endsWith('.json'))) {
		const wf = JSON.parse(fs.readFileSync(path.join(workflowsDir, file), 'utf8')) as {
			nodes: Array<{ name: string; parameters: Record<string, unknown> }>;
		};
		for (const node of wf.nodes.filter((n) => /^Alert/.test(n.name))) {
			const expression = String(node.parameters.html ?? node.parameters.text ?? '');
			if (!expression.startsWith('=')) continue;
			// template placeholders ({{CLIENT_NAME}}) are JSON literals once imported
			const imported = expression
				.slice(1)
				.replace(/\{\{([A-Z][A-Z0-9_]*)\}\}/g, () => JSON.stringify('Acme Ltd'));
			texts.push(
				String(
					Expression.resolveWithoutWorkflow(imported, { $input: { all: () => items }, String }),
				),
			);
		}
	}
	return texts;
}

async function khaosNodeRun(error: Error): Promise<INodeExecutionData[][]> {
	jest
		.spyOn(khaosTransport, 'createKhaosApi')
		.mockReturnValue(new FakeKhaosApi().fail('getProducts', error));
	const ctx = mockExecuteContext({
		items: [
			mappedReturn('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }]),
			mappedReturn('R2', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]),
		],
		params: { resource: 'product', operation: 'validateSkus', mappingType: 1 },
		credentials: {
			khaosControlApi: {
				...KHAOS_TEST_CREDENTIALS,
				authMode: 'basic',
				username: KHAOS_USER,
				password: KHAOS_PASSWORD,
			},
		},
	});
	return new KhaosControl().execute.call(ctx);
}

afterEach(() => jest.restoreAllMocks());

describe('sinks: exception row, alert text, execution data (Khaos node failure path)', () => {
	// the fault as a client that did not scrub would hand it over: the node's own redaction is what is tested here
	const quotedFault = (encode: (s: string) => string) =>
		new KhaosFault('ExportStock', `Cannot parse request ${encode(KHAOS_PASSWORD)}`, {
			code: 'invalid_request',
		});

	it.each(KHAOS_FORMS)('%s: exception row', async (_name, encode) => {
		const out = await khaosNodeRun(quotedFault(encode));
		const rows = out[1].map((i) => i.json);
		expect(rows.map((r) => [r.kind, r.returnId])).toEqual([
			['khaos_rejected', 'R1'],
			['khaos_rejected', 'R2'],
		]);
		for (const row of rows) {
			expect(row.message).toContain('Cannot parse request ***');
			expectCleanData(row, KHAOS_PASSWORD, KHAOS_FORMS);
			expectClean(String(row.message), KHAOS_PASSWORD, KHAOS_FORMS);
		}
	});

	it.each(KHAOS_FORMS)('%s: alert text', async (_name, encode) => {
		const out = await khaosNodeRun(quotedFault(encode));
		const texts = alertTexts(out[1].map((i) => i.json));
		expect(texts.length).toBeGreaterThanOrEqual(2);
		for (const text of texts) {
			expect(text).toContain('Cannot parse request ***');
			// the e-mail alert HTML-escapes the message: the XML-escaped forms are the ones it would show
			expectClean(text, KHAOS_PASSWORD, KHAOS_FORMS);
		}
	});

	it.each(KHAOS_FORMS)('%s: execution data', async (_name, encode) => {
		const out = await khaosNodeRun(quotedFault(encode));
		expect(out[0]).toEqual([]);
		expect(out[1]).toHaveLength(2);
		expectCleanData(out, KHAOS_PASSWORD, KHAOS_FORMS);
	});

	it('end to end: the real client and n8n helpers, Khaos quoting the SOAP body it received (XML-escaped password) back in its fault', async () => {
		const bodies: string[] = [];
		const ctx = mockExecuteContext({
			items: [mappedReturn('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }])],
			params: { resource: 'product', operation: 'validateSkus', mappingType: 1 },
			credentials: {
				khaosControlApi: {
					...KHAOS_TEST_CREDENTIALS,
					maxAttempts: 1,
					authMode: 'inRequest',
					username: KHAOS_USER,
					password: KHAOS_PASSWORD,
				},
			},
			helpers: {
				httpRequestWithAuthentication: async (_type: string, options: { body: string }) => {
					bodies.push(options.body);
					return {
						statusCode: 500,
						headers: {},
						body: buildSoapFault('1.1', `Bad request: ${options.body}`, 'SOAP-ENV:Client'),
					};
				},
			},
		});
		const out = await new KhaosControl().execute.call(ctx);
		expect(bodies[0]).toContain(escapeXml(KHAOS_PASSWORD));
		const rows = out[1].map((i) => i.json);
		expect(rows.map((r) => r.kind)).toEqual(['khaos_rejected']);
		expect(rows[0].message).toContain('<Password>***</Password>');
		expectCleanData(out, KHAOS_PASSWORD, KHAOS_FORMS);
		for (const text of alertTexts(rows)) expectClean(text, KHAOS_PASSWORD, KHAOS_FORMS);
	});
});

describe('sinks: exception row, alert text, execution data (ReBound node fetch failure)', () => {
	async function reboundNodeRun(encode: (s: string) => string): Promise<INodeExecutionData[][]> {
		const error = new ReboundApiError(
			'returns/get',
			'access_denied',
			[`api_key=${encode(REBOUND_API_KEY)} refused`],
			403,
			false,
		);
		const api = {
			getReturn: async () => Promise.reject(error),
			getReturns: async () => [],
			searchReturnIds: async () => [],
		} as unknown as ReboundApi;
		jest.spyOn(reboundGlue, 'createReboundApi').mockImplementation(() => api);
		const ctx = mockExecuteContext({
			items: [{}],
			params: { resource: 'return', operation: 'get', returnId: '101', options: {} },
			continueOnFail: true,
			credentials: {
				reBoundApi: reboundCredentials({ login: REBOUND_LOGIN, apiKey: REBOUND_API_KEY }),
			},
			node: { name: 'ReBound', type: 'n8n-nodes-rebound-khaos.reBound' },
		});
		return new ReBound().execute.call(ctx);
	}

	it.each(FORMS)('%s: exception row, alert text and execution data', async (_name, encode) => {
		const out = await reboundNodeRun(encode);
		const rows = out[0].map((i) => i.json);
		expect(rows).toEqual([
			expect.objectContaining({ exception: true, returnId: '101', code: 'access_denied' }),
		]);
		expect(rows[0].message).toContain('api_key=*** refused');
		expectClean(String(rows[0].message), REBOUND_API_KEY, FORMS);
		for (const text of alertTexts(rows)) {
			expect(text).toContain('api_key=*** refused');
			expectClean(text, REBOUND_API_KEY, FORMS);
		}
		expectCleanData(out, REBOUND_API_KEY, FORMS);
	});
});
