/**
 * ReBound's documented legacy API: every call is a form-encoded POST of
 * `login`, `api_key` and `request` (a JSON string) to `<base>/<call>/json`.
 * Success is `{"success": …}`; failure `{"error": {"code", "message": [..]}}`.
 * Retries (via withRetry) only what can pass: `internal`, HTTP 5xx/429/408,
 * timeouts and dropped connections. `ip_blocked` and `access_denied` are never
 * retried: hammering with bad credentials is what gets an IP blocked.
 */
import { redactSecrets } from '../../core/exceptions';
import {
	TransientExhaustedError,
	TransportError,
	httpStatusError,
	parseRetryAfter,
	type HttpSend,
} from '../http';
import { withRetry, type RetryDeps } from '../retry';
import type { ReboundApi, ReboundConfig, ReboundFetchResult, ReboundRawReturn } from './api';
import { PERMANENT_ERROR_CODES, TRANSIENT_ERROR_CODES } from './schemas';

/** Longest string kept from a return: anything larger is a blob (label, image, PDF). */
const MAX_KEPT_STRING = 20_000;

export class ReboundApiError extends TransportError {
	readonly call: string;
	constructor(
		call: string,
		code: string,
		messages: string[],
		status: number | undefined,
		retryable: boolean,
		retryAfterMs?: number,
	) {
		const text = messages.length ? messages.join('; ') : 'no message';
		super(`ReBound ${call}: ${code}: ${text}`, {
			kind: 'remote',
			retryable,
			status,
			code,
			retryAfterMs,
		});
		this.name = 'ReboundApiError';
		this.call = call;
	}
}

/** A string that looks like base64 (a label or an image), judged on a bounded sample. */
function looksLikeBase64Blob(value: string): boolean {
	if (value.length < 512) return false;
	return /^(data:[a-z/+.-]+;base64,)?[A-Za-z0-9+/=\r\n]+$/.test(value.slice(0, 4096));
}

/**
 * Drop the large blobs a return carries (the base64 `label`, any other
 * label/base64 field, any string over 20,000 characters), at any depth.
 */
export function dropBlobs(raw: ReboundRawReturn): ReboundRawReturn {
	const walk = (value: unknown, depth: number): unknown => {
		if (depth > 8 || value === null || typeof value !== 'object') return value;
		if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
		const out: Record<string, unknown> = {};
		for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
			if (typeof v === 'string') {
				if (/label/i.test(key) && v.length > 200) continue;
				if (v.length > MAX_KEPT_STRING || looksLikeBase64Blob(v)) continue;
			}
			out[key] = walk(v, depth + 1);
		}
		return out;
	};
	return walk(raw, 0) as ReboundRawReturn;
}

function envelopeError(body: unknown): { code: string; messages: string[] } | null {
	if (!body || typeof body !== 'object') return null;
	const err = (body as { error?: unknown }).error;
	if (!err || typeof err !== 'object') return null;
	const code = (err as { code?: unknown }).code;
	const message = (err as { message?: unknown }).message;
	const messages = Array.isArray(message)
		? message.map(String)
		: typeof message === 'string'
			? [message]
			: [];
	return { code: typeof code === 'string' && code ? code : 'unknown', messages };
}

export class ReboundClient implements ReboundApi {
	/** Requests sent, retries included (for tests and benchmarks). */
	requestCount = 0;

	constructor(
		private readonly config: ReboundConfig,
		private readonly deps: { send: HttpSend; retry: RetryDeps },
	) {}

	private secrets(): string[] {
		return [this.config.apiKey, this.config.login];
	}

	/** One legacy call with retries; resolves with the `success` value. */
	async call(call: string, request: unknown): Promise<unknown> {
		const url = `${this.config.baseUrl.replace(/\/+$/, '')}/${call}/json`;
		const form = new URLSearchParams({
			login: this.config.login,
			api_key: this.config.apiKey,
			request: JSON.stringify(request),
		}).toString();
		try {
			return await withRetry(
				`ReBound ${call}`,
				async () => {
					this.requestCount++;
					const response = await this.deps.send({
						method: 'POST',
						url,
						headers: {
							'content-type': 'application/x-www-form-urlencoded',
							accept: 'application/json',
						},
						body: form,
						timeoutMs: this.config.timeoutMs,
					});
					let body: unknown;
					try {
						body = response.body ? JSON.parse(response.body) : undefined;
					} catch {
						body = undefined;
					}
					const envelope = envelopeError(body);
					if (envelope) {
						const retryable =
							!PERMANENT_ERROR_CODES.has(envelope.code) &&
							(TRANSIENT_ERROR_CODES.has(envelope.code) ||
								response.status === 429 ||
								response.status >= 500);
						const retryAfterMs = parseRetryAfter(
							response.headers['retry-after'],
							this.deps.retry.now(),
						);
						throw new ReboundApiError(
							call,
							envelope.code,
							envelope.messages,
							response.status,
							retryable,
							retryAfterMs,
						);
					}
					if (response.status < 200 || response.status >= 300)
						throw httpStatusError(
							response.status,
							response.headers,
							this.deps.retry.now(),
							`ReBound ${call}`,
						);
					if (!body || typeof body !== 'object' || !('success' in body)) {
						throw new TransportError(
							`ReBound ${call}: the response is not the documented {"success": …} envelope`,
							{ kind: 'protocol', retryable: false, status: response.status },
						);
					}
					return (body as { success: unknown }).success;
				},
				this.config.retry,
				this.deps.retry,
			);
		} catch (error) {
			if (error instanceof Error) error.message = redactSecrets(error.message, this.secrets());
			if (error instanceof TransientExhaustedError)
				error.lastError.message = redactSecrets(error.lastError.message, this.secrets());
			throw error;
		}
	}

	async searchReturnIds(dateFrom: string, dateTo: string): Promise<string[]> {
		for (const [field, value] of [
			['date_from', dateFrom],
			['date_to', dateTo],
		] as const) {
			if (!/^\d{4}\/\d{2}\/\d{2}$/.test(value))
				throw new TransportError(
					`ReBound returns/search: ${field} must be YYYY/MM/DD, got "${value}"`,
					{ kind: 'protocol', retryable: false },
				);
		}
		let success: unknown;
		try {
			success = await this.call('returns/search', {
				filter: { date_from: dateFrom, date_to: dateTo },
			});
		} catch (error) {
			if (error instanceof ReboundApiError && error.code === 'empty') return [];
			throw error;
		}
		const ids =
			success && typeof success === 'object' ? (success as { id?: unknown }).id : undefined;
		if (ids === undefined || ids === null) return [];
		const list = Array.isArray(ids) ? ids : [ids];
		if (!list.every((v) => typeof v === 'string' || typeof v === 'number')) {
			throw new TransportError('ReBound returns/search: success.id must be a list of ids', {
				kind: 'protocol',
				retryable: false,
			});
		}
		return [...new Set(list.map((v) => String(v)))];
	}

	async getReturn(id: string): Promise<ReboundRawReturn> {
		const numeric = /^\d+$/.test(id) ? Number(id) : id;
		const success = await this.call('returns/get', { return: { id: numeric, type: 'id' } });
		const value = Array.isArray(success) ? success[0] : success;
		if (
			value === undefined ||
			value === null ||
			value === false ||
			(Array.isArray(success) && success.length === 0)
		) {
			throw new ReboundApiError('returns/get', 'not_found', [`return ${id} not found`], 200, false);
		}
		if (typeof value !== 'object') {
			throw new TransportError(
				`ReBound returns/get: return ${id} came back without a return object`,
				{ kind: 'protocol', retryable: false },
			);
		}
		return dropBlobs(value as ReboundRawReturn);
	}

	async getReturns(ids: string[], concurrency = 4): Promise<ReboundFetchResult[]> {
		const results: ReboundFetchResult[] = new Array(ids.length);
		let next = 0;
		const worker = async () => {
			while (next < ids.length) {
				const index = next++;
				const id = ids[index];
				try {
					results[index] = { id, ok: true, value: await this.getReturn(id) };
				} catch (error) {
					results[index] = {
						id,
						ok: false,
						error: error instanceof Error ? error : new Error(String(error)),
					};
				}
			}
		};
		const workers = Math.max(1, Math.min(Math.floor(concurrency) || 1, ids.length));
		await Promise.all(Array.from({ length: workers }, worker));
		return results;
	}
}
