/**
 * Small helpers for sandbox HTTP servers: body reading, JSON replies, a call
 * log, fault rendering at the HTTP level, and an admin router. Generic: the
 * Khaos and ReBound sandboxes both use them.
 */
import type http from 'node:http';
import type { FaultDecision, FaultInjector } from './faults';

export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export function readBody(req: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (c: Buffer) => {
			size += c.length;
			if (size > limit) {
				reject(new Error(`request body larger than ${limit} bytes`));
				req.destroy();
				return;
			}
			chunks.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body, null, 2);
	res.writeHead(status, {
		'content-type': 'application/json; charset=utf-8',
		'content-length': Buffer.byteLength(text),
	});
	res.end(text);
}

export function sendText(
	res: http.ServerResponse,
	status: number,
	contentType: string,
	body: string,
	headers: Record<string, string> = {},
): void {
	res.writeHead(status, {
		'content-type': contentType,
		'content-length': Buffer.byteLength(body),
		...headers,
	});
	res.end(body);
}

export const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CallLogEntry {
	seq: number;
	at: string;
	/** Call name (SOAP method, route). */
	method: string;
	durationMs: number;
	/** ok | fault | injected:<kind> | http_<status> | error */
	outcome: string;
	status: number | null;
	detail: string | null;
}

export class CallLog {
	private entries: CallLogEntry[] = [];
	private seq = 0;
	constructor(private readonly max = 10_000) {}

	add(entry: Omit<CallLogEntry, 'seq'>): CallLogEntry {
		const full = { seq: ++this.seq, ...entry };
		this.entries.push(full);
		if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
		return full;
	}

	since(seq: number): CallLogEntry[] {
		return this.entries.filter((e) => e.seq > seq);
	}

	all(): CallLogEntry[] {
		return [...this.entries];
	}

	get lastSeq(): number {
		return this.seq;
	}

	clear(): void {
		this.entries = [];
	}
}

/** Sockets held open by 'timeout' faults, so close() can end them. */
export class HeldSockets {
	private held = new Set<{ timer: NodeJS.Timeout; req: http.IncomingMessage }>();

	hold(req: http.IncomingMessage, ms: number): Promise<void> {
		return new Promise((resolve) => {
			const entry = {
				req,
				timer: setTimeout(() => {
					this.held.delete(entry);
					req.socket.destroy();
					resolve();
				}, ms),
			};
			this.held.add(entry);
			req.socket.once('close', () => {
				clearTimeout(entry.timer);
				this.held.delete(entry);
				resolve();
			});
		});
	}

	releaseAll(): void {
		for (const e of this.held) {
			clearTimeout(e.timer);
			e.req.socket.destroy();
		}
		this.held.clear();
	}
}

/**
 * Apply an injected HTTP-level fault. Returns the log outcome when the fault
 * ended the request, or null when the caller must render it ('fault' kind) or
 * when there was no fault.
 */
export async function applyHttpFault(
	decision: FaultDecision,
	req: http.IncomingMessage,
	res: http.ServerResponse,
	injector: FaultInjector,
	held: HeldSockets,
): Promise<string | null> {
	if (decision.latencyMs > 0) await sleepMs(decision.latencyMs);
	const f = decision.fault;
	if (!f || f.kind === 'fault' || f.kind === 'dropAfter') return null;
	switch (f.kind) {
		case 'drop':
			req.socket.destroy();
			return 'injected:drop';
		case 'timeout':
			await held.hold(req, injector.holdMs);
			return 'injected:timeout';
		case '429':
			sendText(res, 429, 'text/plain; charset=utf-8', 'Too Many Requests', {
				'retry-after': String(f.retryAfterSeconds ?? 1),
			});
			return 'injected:429';
		case '503':
			sendText(
				res,
				503,
				'text/html; charset=utf-8',
				'<html><body><h1>503 Service Unavailable</h1></body></html>',
				f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {},
			);
			return 'injected:503';
		default:
			sendText(
				res,
				500,
				'text/html; charset=utf-8',
				'<html><body><h1>500 Internal Server Error</h1></body></html>',
			);
			return 'injected:500';
	}
}

/** How a sandbox logs the outcome of the call it is serving (its call log fills in the rest). */
export type CallOutcomeLog = (
	outcome: string,
	status: number | null,
	detail: string | null,
) => void;

/**
 * Serve one call under the injector's concurrency limit (fault config `concurrency`): wait for a
 * slot in arrival order (a client that goes away while waiting is never served: logged
 * 'abandoned'), then decide the call's fault and apply it at the HTTP level (an injected drop,
 * timeout, 429, 503 or 500 ends the call, logged with its status and rule). Otherwise `handle`
 * serves the call (synchronously), rendering the 'fault' and 'dropAfter' kinds of the decision
 * itself. The slot is held until then.
 */
export async function serveGatedCall(
	call: string,
	req: http.IncomingMessage,
	res: http.ServerResponse,
	injector: FaultInjector,
	held: HeldSockets,
	log: CallOutcomeLog,
	handle: (decision: FaultDecision) => void,
): Promise<void> {
	const gone = new AbortController();
	const onClose = () => gone.abort();
	res.once('close', onClose);
	const release = await injector.gate.acquire(gone.signal);
	res.off('close', onClose);
	if (!release) {
		log('abandoned', null, 'the client went away while the call waited for a slot');
		return;
	}
	try {
		const decision = injector.decide(call);
		const injected = await applyHttpFault(decision, req, res, injector, held);
		if (injected) {
			log(
				injected,
				injected === 'injected:drop' || injected === 'injected:timeout'
					? null
					: Number(injected.split(':')[1]),
				decision.fault?.rule ?? null,
			);
			return;
		}
		handle(decision);
	} finally {
		release();
	}
}

export type AdminHandler = (ctx: {
	req: http.IncomingMessage;
	res: http.ServerResponse;
	url: URL;
	body: string;
	params: Record<string, string>;
}) => Promise<void> | void;

/** Match "METHOD /a/:id/b" route keys against a request; exact keys win. */
function findRoute(
	routes: Record<string, AdminHandler>,
	method: string,
	path: string,
): { handler: AdminHandler; params: Record<string, string> } | null {
	const exact = routes[`${method} ${path}`];
	if (exact) return { handler: exact, params: {} };
	const parts = path.split('/');
	for (const [key, handler] of Object.entries(routes)) {
		const [m, pattern] = key.split(' ');
		if (m !== method || !pattern.includes('/:')) continue;
		const want = pattern.split('/');
		if (want.length !== parts.length) continue;
		const params: Record<string, string> = {};
		if (
			want.every((w, i) =>
				w.startsWith(':')
					? ((params[w.slice(1)] = decodeURIComponent(parts[i])), parts[i] !== '')
					: w === parts[i],
			)
		)
			return { handler, params };
	}
	return null;
}

/**
 * Route `/__admin/...` requests: keys are "METHOD /path" (e.g. "GET /__admin/state");
 * a segment ":name" matches any one segment and arrives in `params`.
 * Returns false when the path is not an admin path. Errors become 400 JSON.
 */
export async function routeAdmin(
	req: http.IncomingMessage,
	res: http.ServerResponse,
	routes: Record<string, AdminHandler>,
): Promise<boolean> {
	const url = new URL(req.url ?? '/', 'http://127.0.0.1');
	if (!url.pathname.startsWith('/__admin')) return false;
	const found = findRoute(routes, req.method ?? 'GET', url.pathname.replace(/\/+$/, ''));
	if (!found) {
		sendJson(res, 404, {
			error: `no admin route ${req.method} ${url.pathname}`,
			routes: Object.keys(routes),
		});
		return true;
	}
	try {
		const body =
			req.method === 'POST' || req.method === 'DELETE' || req.method === 'PUT'
				? await readBody(req)
				: '';
		await found.handler({ req, res, url, body, params: found.params });
	} catch (error) {
		// an error may carry its own 4xx status (e.g. 404 no such record, 409 wrong state)
		const status = (error as { status?: unknown } | null)?.status;
		const code = typeof status === 'number' && status >= 400 && status < 500 ? status : 400;
		if (!res.headersSent)
			sendJson(res, code, { error: error instanceof Error ? error.message : String(error) });
	}
	return true;
}

export function parseJsonBody(body: string): unknown {
	if (body.trim() === '') return {};
	try {
		return JSON.parse(body) as unknown;
	} catch {
		throw new Error('request body is not valid JSON');
	}
}
