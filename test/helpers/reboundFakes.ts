/**
 * Fakes for the ReBound nodes' unit tests: an in-memory ReboundApi, mocked
 * webhook / poll / hook contexts, and a store that plays n8n's database for
 * workflow static data (saved as JSON after each call, reloaded on "restart").
 */
import type { ICredentialDataDecryptedObject, IDataObject, INode } from 'n8n-workflow';
import { TransportError } from '../../transports/http';
import type { ReboundApi } from '../../transports/rebound/api';

export const TEST_LOGIN = 'acme-login';
export const TEST_API_KEY = 'key-SECRET-123456';
export const TEST_WEBHOOK_SECRET = 'whsec-SECRET-abcdef';

export function reboundCredentials(
	overrides: Record<string, unknown> = {},
): ICredentialDataDecryptedObject {
	return {
		login: TEST_LOGIN,
		apiKey: TEST_API_KEY,
		baseUrl: 'https://test.intelligentreturns.net/api',
		webhookSecret: TEST_WEBHOOK_SECRET,
		signatureHeader: 'X-Rebound-Signature',
		signaturePrefix: '',
		timestampHeader: 'X-Rebound-Timestamp',
		signatureEncoding: 'hex',
		signTimestamp: true,
		toleranceSeconds: 300,
		...overrides,
	} as ICredentialDataDecryptedObject;
}

export interface RawLineSpec {
	sku: string;
	qty?: number;
	price?: number;
	disposition?: string | null;
	reason?: string;
}

/** A raw return as ReBound's returns/get gives it (the fields transports/rebound/normalise reads). */
export function rawReturn(
	id: string | number,
	orderRef: string,
	lines: RawLineSpec[],
	extra: Record<string, unknown> = {},
): Record<string, unknown> {
	return {
		id,
		display_id: `RB-${id}`,
		external_id: null,
		order_reference: orderRef,
		date_added: '2026-11-20 10:00:00',
		customer_name: 'Jo Bloggs',
		customer_email: 'jo@example.com',
		label: 'A'.repeat(5000),
		items: lines.map((l) => ({
			sku_code: l.sku,
			sku_desc: `${l.sku} description`,
			quantity: l.qty ?? 1,
			price: l.price ?? 10,
			final_disposition: l.disposition ?? null,
			reason: l.reason ? [{ reason: l.reason, action: 'Refund', wish: '' }] : [],
		})),
		...extra,
	};
}

interface StoredReturn {
	raw: unknown;
	/** YYYY-MM-DD the search filters on. */
	date: string;
}

/** An in-memory ReboundApi that counts calls. */
export class FakeReboundApi implements ReboundApi {
	readonly returns = new Map<string, StoredReturn>();
	readonly searches: Array<{ from: string; to: string }> = [];
	readonly gets: string[] = [];
	/** Ids whose fetch fails (transient when true). */
	readonly failing = new Map<string, boolean>();
	/** Search windows (by `from`) that fail. */
	readonly failingSearchFrom = new Set<string>();

	put(id: string | number, date: string, raw: unknown): this {
		this.returns.set(String(id), { raw, date });
		return this;
	}

	async searchReturnIds(dateFrom: string, dateTo: string): Promise<string[]> {
		this.searches.push({ from: dateFrom, to: dateTo });
		if (this.failingSearchFrom.has(dateFrom))
			throw new TransportError('ReBound search: HTTP 503', {
				kind: 'http',
				retryable: true,
				status: 503,
			});
		const from = dateFrom.replace(/\//g, '-');
		const to = dateTo.replace(/\//g, '-');
		return [...this.returns.entries()]
			.filter(([, r]) => r.date >= from && r.date <= to)
			.map(([id]) => id);
	}

	async getReturn(id: string): Promise<never> {
		this.gets.push(id);
		const transient = this.failing.get(id);
		if (transient !== undefined) {
			throw new TransportError(
				`ReBound returns/get ${id}: ${transient ? 'HTTP 503' : 'access_denied'} (api_key=${TEST_API_KEY})`,
				{
					kind: transient ? 'http' : 'remote',
					retryable: transient,
					status: transient ? 503 : 200,
					code: transient ? undefined : 'access_denied',
				},
			);
		}
		const hit = this.returns.get(id);
		if (!hit)
			throw new TransportError(`ReBound returns/get ${id}: empty`, {
				kind: 'remote',
				retryable: false,
				code: 'empty',
			});
		return JSON.parse(JSON.stringify(hit.raw)) as never;
	}

	async getReturns(
		ids: string[],
	): Promise<
		Array<{ id: string; ok: true; value: never } | { id: string; ok: false; error: Error }>
	> {
		const out: Array<
			{ id: string; ok: true; value: never } | { id: string; ok: false; error: Error }
		> = [];
		for (const id of ids) {
			try {
				out.push({ id, ok: true, value: await this.getReturn(id) });
			} catch (error) {
				out.push({ id, ok: false, error: error as Error });
			}
		}
		return out;
	}
}

/** Plays n8n's database for workflow static data: saved as JSON, reloaded on each "restart". */
export class StaticDataStore {
	private saved = '{}';

	open(): IDataObject {
		return JSON.parse(this.saved) as IDataObject;
	}

	save(data: IDataObject): void {
		this.saved = JSON.stringify(data);
	}

	peek(): IDataObject {
		return this.open();
	}
}

const testNode = (type: string): INode => ({
	id: 'node-1',
	name: 'ReBound',
	type: `n8n-nodes-rebound-khaos.${type}`,
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
});

function paramGetter(params: Record<string, unknown>) {
	return (name: string, fallback?: unknown) => {
		if (Object.prototype.hasOwnProperty.call(params, name) && params[name] !== undefined)
			return params[name];
		if (fallback !== undefined) return fallback;
		throw new Error(`Could not get parameter "${name}"`);
	};
}

const logger = () => ({
	debug: jest.fn(),
	info: jest.fn(),
	warn: jest.fn(),
	error: jest.fn(),
	verbose: jest.fn(),
});

export interface CapturedResponse {
	status?: number;
	body?: unknown;
}

export interface WebhookContextOptions {
	rawBody: Buffer | undefined;
	headers?: Record<string, string | string[] | undefined>;
	/** What n8n's body parser made of the body (the node must not use it for the signature). */
	body?: unknown;
	params?: Record<string, unknown>;
	credentials?: ICredentialDataDecryptedObject;
	staticData?: IDataObject;
	mode?: string;
}

export function makeWebhookContext(options: WebhookContextOptions) {
	const response: CapturedResponse = {};
	const res = {
		status(code: number) {
			response.status = code;
			return res;
		},
		json(body: unknown) {
			response.body = body;
			if (response.status === undefined) response.status = 200;
			return res;
		},
		send(body: unknown) {
			return res.json(body);
		},
		end() {
			return res;
		},
	};
	const headers: Record<string, string | string[] | undefined> = {};
	for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = v;
	const req = { rawBody: options.rawBody, headers, body: options.body ?? {} };
	const staticData = options.staticData ?? {};
	const ctx = {
		getRequestObject: () => req,
		getResponseObject: () => res,
		getBodyData: () => req.body,
		getHeaderData: () => headers,
		getNodeParameter: paramGetter({ events: 'final', options: {}, ...options.params }),
		getCredentials: async () => options.credentials ?? reboundCredentials(),
		getWorkflowStaticData: () => staticData,
		getMode: () => options.mode ?? 'webhook',
		getNode: () => testNode('reBoundTrigger'),
		getNodeWebhookUrl: () => 'http://127.0.0.1:5678/webhook/abc/rebound',
		logger: logger(),
		helpers: {},
	};
	return { ctx: ctx as never, response, staticData };
}

export interface PollContextOptions {
	params?: Record<string, unknown>;
	credentials?: ICredentialDataDecryptedObject;
	staticData?: IDataObject;
	mode?: string;
	budgetMs?: number;
	/** When given, HTTP goes here (integration tests); unit tests spy on createReboundApi instead. */
	httpRequestWithAuthentication?: (credentialType: string, options: unknown) => Promise<unknown>;
}

export function makePollContext(options: PollContextOptions = {}) {
	const staticData = options.staticData ?? {};
	const ctx = {
		getNodeParameter: paramGetter({
			emitMode: 'return',
			lookbackDays: 30,
			overlapDays: 2,
			windowDays: 7,
			options: {},
			...options.params,
		}),
		getCredentials: async () => options.credentials ?? reboundCredentials(),
		getWorkflowStaticData: () => staticData,
		getMode: () => options.mode ?? 'trigger',
		getActivationMode: () => 'activate',
		getNode: () => testNode('reBoundPollTrigger'),
		getPollBudgetMs: () => options.budgetMs ?? 60_000,
		logger: logger(),
		helpers: {
			httpRequestWithAuthentication:
				options.httpRequestWithAuthentication ??
				(async () => {
					throw new Error('no HTTP in this test');
				}),
		},
	};
	return { ctx: ctx as never, staticData };
}

export function makeHookContext(
	staticData: IDataObject = {},
	url = 'http://127.0.0.1:5678/webhook/abc/rebound',
) {
	const log = logger();
	const ctx = {
		getWorkflowStaticData: () => staticData,
		getNodeWebhookUrl: () => url,
		getNode: () => testNode('reBoundTrigger'),
		getMode: () => 'trigger',
		logger: log,
	};
	return { ctx: ctx as never, staticData, logger: log };
}

/**
 * `helpers.httpRequestWithAuthentication` for integration tests: the request
 * n8n would make (IHttpRequestOptions from nodes/shared/n8nHttp.ts), sent with
 * Node's http module to a sandbox on 127.0.0.1. Counts requests by path.
 */
export function n8nHttpOverNode(
	send: (req: {
		method: 'GET' | 'POST';
		url: string;
		headers: Record<string, string>;
		body?: string;
		timeoutMs: number;
	}) => Promise<{ status: number; headers: Record<string, string | undefined>; body: string }>,
) {
	const calls: string[] = [];
	const fn = async (_credentialType: string, options: unknown) => {
		const o = options as {
			method: 'GET' | 'POST';
			url: string;
			headers?: Record<string, string>;
			body?: string;
			timeout?: number;
		};
		calls.push(new URL(o.url).pathname);
		const res = await send({
			method: o.method,
			url: o.url,
			headers: o.headers ?? {},
			body: o.body,
			timeoutMs: o.timeout ?? 30_000,
		});
		return { statusCode: res.status, headers: res.headers, body: res.body };
	};
	return { fn, calls };
}
