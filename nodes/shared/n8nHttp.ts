/**
 * Adapter from n8n's HTTP helpers to the transports' HttpSend seam, so every
 * call goes through n8n (proxy, SSRF policy, credential `authenticate`).
 */
import { sleep } from 'n8n-workflow';
import type {
	IExecuteFunctions,
	IHookFunctions,
	ILoadOptionsFunctions,
	IPollFunctions,
	IWebhookFunctions,
	IHttpRequestOptions,
} from 'n8n-workflow';
import {
	errorCode,
	isBodyStream,
	readCapped,
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

/** What n8n's helpers answer with `returnFullResponse`. */
interface RawResponse {
	statusCode?: number;
	headers?: Record<string, unknown>;
	body?: unknown;
}

/**
 * What a failed helper call becomes: a network failure or a timeout (by the error's code) a
 * retryable TransportError, anything else (n8n's own errors) the helper's error as it is.
 */
function helperFailure(error: unknown, timeoutMs: number): unknown {
	const code = errorCode(error);
	if (!code || !NETWORK_CODES.has(code)) return error;
	const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT';
	return new TransportError(
		timeout ? `no response within ${timeoutMs} ms` : `connection failed: ${code}`,
		{ kind: timeout ? 'timeout' : 'network', retryable: true },
	);
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
		// Settled without a catch block: a failure is classified and thrown after the call.
		const sent = await Promise.resolve()
			.then(
				(): Promise<RawResponse> =>
					credentialType
						? ctx.helpers.httpRequestWithAuthentication.call(ctx, credentialType, options)
						: ctx.helpers.httpRequest(options),
			)
			.then(
				(raw): { raw: RawResponse } => ({ raw }),
				(error: unknown): { failure: unknown } => ({ failure: error }),
			);
		if ('failure' in sent) throw helperFailure(sent.failure, req.timeoutMs);
		const { raw } = sent;
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
			rawBody = await readCapped(rawBody, max, startedAt + req.timeoutMs, req.timeoutMs, sleep);
		}
		const body = bodyText(rawBody);
		if (max !== undefined && Buffer.byteLength(body, 'utf8') > max)
			throw new ResponseTooLargeError('response', max, Buffer.byteLength(body, 'utf8'));
		return { status: raw.statusCode ?? 0, headers, body };
	};
}

export const n8nRetryDeps: RetryDeps = {
	sleep: (ms: number) => sleep(ms),
	now: () => Date.now(),
	random: () => Math.random(),
};
