/**
 * The HTTP seam every transport speaks through. Transports build requests and
 * read responses; how bytes move is injected: the n8n nodes pass a sender
 * backed by `this.helpers.httpRequestWithAuthentication` (n8n's proxy, SSRF
 * policy and credential handling apply), tests and scripts pass one backed by
 * Node's http module (test/helpers/nodeHttpSend.ts).
 */
export interface HttpRequest {
	method: 'GET' | 'POST';
	url: string;
	headers: Record<string, string>;
	body?: string;
	timeoutMs: number;
	/**
	 * The most bytes of body to accept (set by capResponseSize). A sender that can stop
	 * receiving once past it (nodes/shared/n8nHttp.ts streams the body) does so and rejects
	 * with responseTooLarge; capResponseSize checks again whatever a sender returns.
	 */
	maxResponseBytes?: number;
}

export interface HttpResponse {
	status: number;
	/** Lower-case header names. */
	headers: Record<string, string | undefined>;
	body: string;
}

/**
 * Sends one request. Resolves with any HTTP status (the transport judges it);
 * rejects with a TransportError of kind `network` or `timeout` when no
 * response arrived.
 */
export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

export type TransportErrorKind =
	/** connection refused/reset/dropped */
	| 'network'
	| 'timeout'
	/** an HTTP status that is an error (5xx, 429, 4xx) */
	| 'http'
	/** the body could not be read as the protocol says (bad XML/JSON, schema mismatch) */
	| 'protocol'
	/** the service answered with a well-formed error (SOAP fault, ReBound error envelope) */
	| 'remote'
	/** credentials missing or refused */
	| 'auth';

export class TransportError extends Error {
	readonly kind: TransportErrorKind;
	readonly retryable: boolean;
	readonly status?: number;
	/** Service error code (ReBound `error.code`, a Khaos fault classification). */
	readonly code?: string;
	/** Milliseconds the service asked us to wait (Retry-After). */
	readonly retryAfterMs?: number;

	constructor(
		message: string,
		options: {
			kind: TransportErrorKind;
			retryable: boolean;
			status?: number;
			code?: string;
			retryAfterMs?: number;
		},
	) {
		super(message);
		this.name = 'TransportError';
		this.kind = options.kind;
		this.retryable = options.retryable;
		this.status = options.status;
		this.code = options.code;
		this.retryAfterMs = options.retryAfterMs;
	}
}

/** Thrown after the last retry of a transient failure: the record becomes a `transient_exhausted` exception. */
export class TransientExhaustedError extends Error {
	readonly attempts: number;
	readonly elapsedMs: number;
	readonly lastError: TransportError;

	constructor(operation: string, attempts: number, elapsedMs: number, lastError: TransportError) {
		super(
			`${operation} failed after ${attempts} attempt(s) over ${elapsedMs} ms: ${lastError.message}`,
		);
		this.name = 'TransientExhaustedError';
		this.attempts = attempts;
		this.elapsedMs = elapsedMs;
		this.lastError = lastError;
	}
}

/** Parse a Retry-After header (delta seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
	if (value === undefined) return undefined;
	const trimmed = value.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
	const date = Date.parse(trimmed);
	if (Number.isNaN(date)) return undefined;
	return Math.max(0, date - nowMs);
}

/** Classify a status that is not a success: 429, 408 and 5xx are transient. */
export function httpStatusError(
	status: number,
	headers: Record<string, string | undefined>,
	nowMs: number,
	what: string,
): TransportError {
	const retryable = status === 429 || status === 408 || status >= 500;
	return new TransportError(`${what}: HTTP ${status}`, {
		kind: 'http',
		retryable,
		status,
		retryAfterMs: parseRetryAfter(headers['retry-after'], nowMs),
	});
}

export const BYTES_PER_MB = 1024 * 1024;

function megabytes(bytes: number): string {
	const mb = bytes / BYTES_PER_MB;
	return Number.isInteger(mb) ? String(mb) : mb.toFixed(2);
}

/**
 * A body over the cap: kind `protocol`, not retryable (asking again brings the same answer), with
 * a message naming the cap. `bytes` is what was received (or declared in Content-Length) when known.
 */
export class ResponseTooLargeError extends TransportError {
	readonly maxBytes: number;
	readonly bytes?: number;

	constructor(what: string, maxBytes: number, bytes?: number, hint = '') {
		const seen = bytes === undefined ? '' : ` (${bytes} bytes)`;
		super(
			`${what}: response larger than the ${megabytes(maxBytes)} MB cap${seen}, refused before parsing${hint ? `; ${hint}` : ''}`,
			{
				kind: 'protocol',
				retryable: false,
				code: 'response_too_large',
			},
		);
		this.name = 'ResponseTooLargeError';
		this.maxBytes = maxBytes;
		this.bytes = bytes;
	}
}

/**
 * A sender that refuses bodies over `maxBytes` (UTF-8 bytes) before anything parses them. It
 * passes the cap on in the request so a streaming sender stops receiving early, and checks the
 * body it gets back in any case: a sender that cannot stream (n8n's helpers in text mode, the
 * test senders) has received the whole body by then, but it is still refused before parsing.
 */
export function capResponseSize(
	send: HttpSend,
	maxBytes: number,
	what = 'HTTP',
	hint = '',
): HttpSend {
	return async (request: HttpRequest): Promise<HttpResponse> => {
		let response: HttpResponse;
		try {
			response = await send({ ...request, maxResponseBytes: maxBytes });
		} catch (error) {
			// a streaming sender names no caller and no setting: say which cap of which setting it was
			if (error instanceof ResponseTooLargeError)
				throw new ResponseTooLargeError(what, maxBytes, error.bytes, hint);
			throw error;
		}
		// length in UTF-16 units ≤ UTF-8 bytes ≤ 3 × length: count bytes only when it can matter
		const body = response.body;
		if (
			body.length > maxBytes ||
			(body.length * 3 > maxBytes && Buffer.byteLength(body, 'utf8') > maxBytes)
		) {
			throw new ResponseTooLargeError(what, maxBytes, Buffer.byteLength(body, 'utf8'), hint);
		}
		return response;
	};
}

/** The system error code of a network error (`ECONNRESET` …), on the error or its cause. */
export function errorCode(error: unknown): string | undefined {
	const e = error as { code?: unknown; cause?: { code?: unknown } };
	if (typeof e?.code === 'string') return e.code;
	if (typeof e?.cause?.code === 'string') return e.cause.code;
	return undefined;
}

/** The part of a Node readable stream the capped reader needs (no `node:stream` import: the package scanner allows none). */
export interface BodyStream {
	on(event: 'data', listener: (chunk: unknown) => void): unknown;
	on(event: 'end' | 'close', listener: () => void): unknown;
	on(event: 'error', listener: (error: unknown) => void): unknown;
	destroy?(error?: Error): unknown;
}

export function isBodyStream(value: unknown): value is BodyStream {
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
 * timer is the injected abortable `sleep` (n8n-workflow's in the nodes), aborted whenever the read settles.
 */
export function readCapped(
	stream: BodyStream,
	maxBytes: number,
	deadline: number,
	timeoutMs: number,
	sleep: (ms: number, signal: AbortSignal) => Promise<void>,
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
