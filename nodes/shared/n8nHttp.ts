/**
 * Adapter from n8n's HTTP helpers to the transports' HttpSend seam, so every
 * call goes through n8n (proxy, SSRF policy, credential `authenticate`).
 */
import { sleep } from 'n8n-workflow';
import type {
	ICredentialTestFunctions,
	IExecuteFunctions,
	IHookFunctions,
	ILoadOptionsFunctions,
	IPollFunctions,
	IWebhookFunctions,
	IHttpRequestOptions,
} from 'n8n-workflow';
import {
	ResponseTooLargeError,
	TransportError,
	type HttpRequest,
	type HttpResponse,
	type HttpSend,
} from '../../transports/http';
import type { RetryDeps } from '../../transports/retry';

type HttpContext =
	| IExecuteFunctions
	| IPollFunctions
	| ILoadOptionsFunctions
	| IHookFunctions
	| IWebhookFunctions;

const NETWORK_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'EPIPE',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'ERR_SOCKET_CONNECTION_TIMEOUT',
	'ECONNABORTED',
	'ETIMEDOUT',
	'ESOCKETTIMEDOUT',
	'UND_ERR_SOCKET',
]);

function errorCode(error: unknown): string | undefined {
	const e = error as { code?: unknown; cause?: { code?: unknown } };
	if (typeof e?.code === 'string') return e.code;
	if (typeof e?.cause?.code === 'string') return e.cause.code;
	return undefined;
}

/** Response headers with lower-case names, several values joined. */
function headerRecord(
	raw: Record<string, unknown> | undefined,
): Record<string, string | undefined> {
	const headers: Record<string, string | undefined> = {};
	for (const [k, v] of Object.entries(raw ?? {}))
		headers[k.toLowerCase()] = Array.isArray(v)
			? v.join(', ')
			: v === undefined
				? undefined
				: String(v);
	return headers;
}

/** A response body as text (a helper may answer with a string, a Buffer, parsed JSON or nothing). */
function bodyText(raw: unknown): string {
	return typeof raw === 'string'
		? raw
		: raw === undefined || raw === null
			? ''
			: Buffer.isBuffer(raw)
				? raw.toString('utf8')
				: JSON.stringify(raw);
}

/** The part of a Node readable stream the capped reader needs (no `node:stream` import: the package scanner allows none). */
interface BodyStream {
	on(event: 'data', listener: (chunk: unknown) => void): unknown;
	on(event: 'end' | 'close', listener: () => void): unknown;
	on(event: 'error', listener: (error: unknown) => void): unknown;
	destroy?(error?: Error): unknown;
}

function isBodyStream(value: unknown): value is BodyStream {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as { on?: unknown }).on === 'function' &&
		typeof (value as { pipe?: unknown }).pipe === 'function'
	);
}

/**
 * Read a streamed body, giving up (and destroying the stream, which closes the connection) as
 * soon as it passes `maxBytes`, so an oversized answer is never held in memory whole. Time is
 * bounded too: axios only watches the socket for idleness, so a server sending a byte now and then
 * could keep the read going for ever; at `deadline` (ms since the epoch: the request's start plus
 * its timeout) the stream is destroyed and the read fails with a retryable timeout. The deadline's
 * timer is a `sleep` aborted whenever the read settles.
 */
function readCapped(
	stream: BodyStream,
	maxBytes: number,
	deadline: number,
	timeoutMs: number,
): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let settled = false;
		const timer = new AbortController();
		const finish = (error: Error | null) => {
			if (settled) return;
			settled = true;
			timer.abort();
			if (error) {
				stream.destroy?.();
				reject(error);
			} else resolve(Buffer.concat(chunks, size));
		};
		// a timeout of 0 is none (as for axios)
		if (timeoutMs > 0) {
			sleep(Math.max(0, deadline - Date.now()), timer.signal).then(
				() =>
					finish(
						new TransportError(`no complete response within ${timeoutMs} ms`, {
							kind: 'timeout',
							retryable: true,
						}),
					),
				// aborted: the read settled first
				() => undefined,
			);
		}
		stream.on('data', (chunk: unknown) => {
			if (settled) return;
			const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), 'utf8');
			size += bytes.length;
			if (size > maxBytes) finish(new ResponseTooLargeError('response', maxBytes, size));
			else chunks.push(bytes);
		});
		stream.on('end', () => finish(null));
		stream.on('error', (error: unknown) => {
			const code = errorCode(error);
			finish(
				new TransportError(
					`connection failed while reading the response${code ? `: ${code}` : ''}`,
					{ kind: 'network', retryable: true },
				),
			);
		});
		// a connection closed before 'end' is a truncated answer (a socket timeout ends this way too)
		stream.on('close', () =>
			finish(
				new TransportError('connection closed before the response was complete', {
					kind: 'network',
					retryable: true,
				}),
			),
		);
	});
}

/**
 * @param credentialType when given, requests go through httpRequestWithAuthentication with that credential.
 *
 * A request with `maxResponseBytes` (transports/http.ts capResponseSize) asks n8n for the body as a
 * stream (`encoding: 'stream'`; n8n's helpers offer no size limit of their own: axios runs with
 * maxContentLength Infinity) and stops receiving past the cap: a Content-Length over the cap is
 * refused before reading, a body that grows past it while streaming is cut off. A helper that
 * answers with a string or Buffer anyway (older n8n, test doubles) is checked after receiving,
 * before anything parses it. Reading the stream ends `timeoutMs` after the request started; a
 * stream is destroyed on every path that does not read it to the end.
 */
export function makeN8nSend(ctx: HttpContext, credentialType?: string): HttpSend {
	return async (req: HttpRequest): Promise<HttpResponse> => {
		const options: IHttpRequestOptions = {
			method: req.method,
			url: req.url,
			headers: req.headers,
			body: req.body,
			timeout: req.timeoutMs,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			json: false,
			encoding: req.maxResponseBytes === undefined ? 'text' : 'stream',
		};
		const startedAt = Date.now();
		let raw: { statusCode?: number; headers?: Record<string, unknown>; body?: unknown };
		try {
			raw = credentialType
				? await ctx.helpers.httpRequestWithAuthentication.call(ctx, credentialType, options)
				: await ctx.helpers.httpRequest(options);
		} catch (error) {
			const code = errorCode(error);
			const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT';
			if (code && NETWORK_CODES.has(code)) {
				throw new TransportError(
					timeout ? `no response within ${req.timeoutMs} ms` : `connection failed: ${code}`,
					{
						kind: timeout ? 'timeout' : 'network',
						retryable: true,
					},
				);
			}
			throw error;
		}
		const headers = headerRecord(raw.headers);
		const max = req.maxResponseBytes;
		let rawBody = raw.body;
		if (isBodyStream(rawBody)) {
			if (max === undefined) {
				rawBody.destroy?.();
				throw new TransportError('the HTTP helper answered with a stream that was not asked for', {
					kind: 'protocol',
					retryable: false,
				});
			}
			const declared = Number(headers['content-length']);
			if (Number.isFinite(declared) && declared > max) {
				rawBody.destroy?.();
				throw new ResponseTooLargeError('response', max, declared);
			}
			rawBody = await readCapped(rawBody, max, startedAt + req.timeoutMs, req.timeoutMs);
		}
		const body = bodyText(rawBody);
		if (max !== undefined && Buffer.byteLength(body, 'utf8') > max)
			throw new ResponseTooLargeError('response', max, Buffer.byteLength(body, 'utf8'));
		return { status: raw.statusCode ?? 0, headers, body };
	};
}

type LegacyRequest = ICredentialTestFunctions['helpers']['request'];

/**
 * An HttpSend over the legacy `helpers.request` that credential tests get
 * (ICredentialTestFunctions has no httpRequest). Any status resolves.
 */
export function makeLegacyRequestSend(request: LegacyRequest): HttpSend {
	return async (req: HttpRequest): Promise<HttpResponse> => {
		let raw:
			| {
					statusCode?: number;
					status?: number;
					headers?: Record<string, unknown>;
					body?: unknown;
					data?: unknown;
			  }
			| undefined;
		let failureCode: string | undefined;
		try {
			raw = (await request({
				method: req.method,
				uri: req.url,
				headers: req.headers,
				body: req.body,
				timeout: req.timeoutMs,
				json: false,
				resolveWithFullResponse: true,
				simple: false,
			})) as typeof raw;
		} catch (error) {
			const e = error as {
				response?: typeof raw;
				statusCode?: number;
				code?: string;
				cause?: { code?: string };
			};
			if (e?.response && (e.response.statusCode ?? e.response.status) !== undefined) {
				raw = e.response;
			} else {
				failureCode = e?.code ?? e?.cause?.code ?? 'unknown';
			}
		}
		if (raw === undefined) {
			const code = failureCode ?? 'unknown';
			const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT';
			throw new TransportError(
				timeout ? `no response within ${req.timeoutMs} ms` : `connection failed: ${code}`,
				{
					kind: timeout ? 'timeout' : 'network',
					retryable: true,
				},
			);
		}
		const headers = headerRecord(raw.headers);
		return {
			status: raw.statusCode ?? raw.status ?? 0,
			headers,
			body: bodyText(raw.body ?? raw.data),
		};
	};
}

export const n8nRetryDeps: RetryDeps = {
	sleep: (ms: number) => sleep(ms),
	now: () => Date.now(),
	random: () => Math.random(),
};
