/**
 * Adapter from n8n's HTTP helpers to the transports' HttpSend seam, so every
 * call goes through n8n (proxy, SSRF policy, credential `authenticate`).
 */
import { sleep } from 'n8n-workflow';
import type { IExecuteFunctions, IHookFunctions, ILoadOptionsFunctions, IPollFunctions, IWebhookFunctions, IHttpRequestOptions } from 'n8n-workflow';
import { TransportError, type HttpRequest, type HttpResponse, type HttpSend } from '../../transports/http';
import type { RetryDeps } from '../../transports/retry';

type HttpContext = IExecuteFunctions | IPollFunctions | ILoadOptionsFunctions | IHookFunctions | IWebhookFunctions;

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET']);

function errorCode(error: unknown): string | undefined {
	const e = error as { code?: unknown; cause?: { code?: unknown } };
	if (typeof e?.code === 'string') return e.code;
	if (typeof e?.cause?.code === 'string') return e.cause.code;
	return undefined;
}

/**
 * @param credentialType when given, requests go through httpRequestWithAuthentication with that credential.
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
			encoding: 'text',
		};
		let raw: { statusCode?: number; headers?: Record<string, unknown>; body?: unknown };
		try {
			raw = credentialType
				? await ctx.helpers.httpRequestWithAuthentication.call(ctx, credentialType, options)
				: await ctx.helpers.httpRequest(options);
		} catch (error) {
			const code = errorCode(error);
			const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT';
			if (code && NETWORK_CODES.has(code)) {
				throw new TransportError(timeout ? `no response within ${req.timeoutMs} ms` : `connection failed: ${code}`, {
					kind: timeout ? 'timeout' : 'network',
					retryable: true,
				});
			}
			throw error;
		}
		const headers: Record<string, string | undefined> = {};
		for (const [k, v] of Object.entries(raw.headers ?? {})) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v === undefined ? undefined : String(v);
		const body = typeof raw.body === 'string' ? raw.body : raw.body === undefined || raw.body === null ? '' : Buffer.isBuffer(raw.body) ? raw.body.toString('utf8') : JSON.stringify(raw.body);
		return { status: raw.statusCode ?? 0, headers, body };
	};
}

export const n8nRetryDeps: RetryDeps = {
	sleep: (ms: number) => sleep(ms),
	now: () => Date.now(),
	random: () => Math.random(),
};
