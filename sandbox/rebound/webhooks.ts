/**
 * Webhook delivery for the ReBound sandbox (the MODELED push format): one
 * signed JSON POST per event and registered target, retried with exponential
 * back-off on anything but 2xx (bounded attempts), and on demand duplicated,
 * delayed and reordered. Every attempt is logged. All timers are tracked so
 * close() leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { signWebhookBody, type WebhookSignatureSettings } from '../../transports/rebound/webhook';
import { mulberry32 } from '../shared/prng';

export interface WebhookOptions {
	/** Probability (0..1) that a delivery is sent twice (same event id, same body). */
	duplicateRate: number;
	/** The next N deliveries are sent twice. */
	duplicateNext: number;
	/** Wait before the first attempt of every delivery. */
	delayMs: number;
	/** Extra random wait 0..jitterMs (seeded) before the first attempt. */
	jitterMs: number;
	/** Hold deliveries per target until this many are queued (or reorderHoldMs passed), then send them newest first. 0/1 = off. */
	reorderWindow: number;
	reorderHoldMs: number;
	maxAttempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
	timeoutMs: number;
	seed: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
	duplicateRate: 0,
	duplicateNext: 0,
	delayMs: 0,
	jitterMs: 0,
	reorderWindow: 0,
	reorderHoldMs: 250,
	maxAttempts: 5,
	baseDelayMs: 250,
	maxDelayMs: 10_000,
	timeoutMs: 5000,
	seed: 1,
};

export interface WebhookEventBody {
	id: string;
	event: string;
	occurred_at: string;
	sequence: number;
	data: Record<string, unknown>;
}

export interface DeliveryLogEntry {
	seq: number;
	at: string;
	deliveryId: string;
	eventId: string;
	event: string;
	returnId: string;
	sequence: number;
	target: string;
	attempt: number;
	/** HTTP status of the receiver, null when no response came. */
	status: number | null;
	/** delivered | retrying | failed */
	outcome: 'delivered' | 'retrying' | 'failed';
	error: string | null;
	ms: number;
	/** True for the extra copy of a duplicated delivery. */
	duplicate: boolean;
}

interface Job {
	deliveryId: string;
	event: WebhookEventBody;
	body: Buffer;
	target: string;
	attempt: number;
	duplicate: boolean;
	/** The dispatcher generation it was queued in: a reset abandons older jobs. */
	gen: number;
}

export interface WebhookSigning extends WebhookSignatureSettings {
	secret: string;
}

export function validateWebhookOptions(input: unknown): Partial<WebhookOptions> {
	if (typeof input !== 'object' || input === null || Array.isArray(input))
		throw new Error('webhook options must be an object');
	const out: Partial<WebhookOptions> = {};
	for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
		if (!(key in DEFAULT_WEBHOOK_OPTIONS))
			throw new Error(
				`unknown webhook option "${key}" (known: ${Object.keys(DEFAULT_WEBHOOK_OPTIONS).join(', ')})`,
			);
		if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
			throw new Error(`webhook option ${key} must be a number >= 0`);
		if (key === 'duplicateRate' && value > 1)
			throw new Error('webhook option duplicateRate must be between 0 and 1');
		if (key === 'maxAttempts' && (!Number.isInteger(value) || value < 1 || value > 20))
			throw new Error('webhook option maxAttempts must be a whole number from 1 to 20');
		if (['duplicateNext', 'reorderWindow'].includes(key) && !Number.isInteger(value))
			throw new Error(`webhook option ${key} must be a whole number`);
		(out as Record<string, number>)[key] = value;
	}
	return out;
}

export class WebhookDispatcher {
	private targets = new Map<string, string>();
	private options: WebhookOptions;
	private random: () => number;
	private log: DeliveryLogEntry[] = [];
	private logSeq = 0;
	private timers = new Set<NodeJS.Timeout>();
	private inFlight = new Set<http.ClientRequest>();
	private buffers = new Map<string, { jobs: Job[]; timer: NodeJS.Timeout | null }>();
	private pending = 0;
	private idleWaiters: Array<() => void> = [];
	private closed = false;
	private gen = 0;
	private readonly agent = new http.Agent({ keepAlive: false });

	constructor(
		private signing: WebhookSigning,
		options: Partial<WebhookOptions> = {},
		private readonly maxLog = 20_000,
	) {
		this.options = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
		this.random = mulberry32(this.options.seed);
	}

	/** Drop queued work and the log; apply new signing, options and targets. */
	reset(signing: WebhookSigning, options: Partial<WebhookOptions>, targets: string[]): void {
		this.cancelAll();
		this.signing = signing;
		this.options = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
		this.random = mulberry32(this.options.seed);
		this.log = [];
		this.logSeq = 0;
		this.targets.clear();
		for (const t of targets) this.register(t);
	}

	configure(options: Partial<WebhookOptions>): WebhookOptions {
		this.options = { ...this.options, ...options };
		if (options.seed !== undefined) this.random = mulberry32(options.seed);
		return this.current;
	}

	get current(): WebhookOptions {
		return { ...this.options };
	}

	register(url: string): { id: string; url: string } {
		let parsed: URL;
		try {
			parsed = new URL(url);
		} catch {
			throw new Error(`"${url}" is not a URL`);
		}
		if (parsed.protocol !== 'http:')
			throw new Error(`webhook target ${url}: only http:// targets are supported by the sandbox`);
		for (const [id, u] of this.targets) if (u === url) return { id, url };
		const id = `wh_${this.targets.size + 1}_${randomUUID().slice(0, 8)}`;
		this.targets.set(id, url);
		return { id, url };
	}

	/** Remove by id or URL; true when something was removed. */
	unregister(idOrUrl: string): boolean {
		if (this.targets.delete(idOrUrl)) return true;
		for (const [id, u] of this.targets) if (u === idOrUrl) return this.targets.delete(id);
		return false;
	}

	listTargets(): Array<{ id: string; url: string }> {
		return [...this.targets].map(([id, url]) => ({ id, url }));
	}

	deliveries(since = 0): DeliveryLogEntry[] {
		return this.log.filter((e) => e.seq > since);
	}

	get pendingCount(): number {
		return this.pending;
	}

	/** Queue one event for every target. */
	emit(event: WebhookEventBody): void {
		if (this.closed) return;
		const body = Buffer.from(JSON.stringify(event), 'utf8');
		for (const target of this.targets.values()) {
			const copies = this.takeDuplicate() ? 2 : 1;
			for (let c = 0; c < copies; c++) {
				const job: Job = {
					deliveryId: `dl_${randomUUID()}`,
					event,
					body,
					target,
					attempt: 0,
					duplicate: c > 0,
					gen: this.gen,
				};
				this.pending++;
				this.enqueue(job);
			}
		}
	}

	private takeDuplicate(): boolean {
		if (this.options.duplicateNext > 0) {
			this.options.duplicateNext--;
			return true;
		}
		return this.options.duplicateRate > 0 && this.random() < this.options.duplicateRate;
	}

	private enqueue(job: Job): void {
		const window = this.options.reorderWindow;
		if (window <= 1) {
			this.scheduleFirst(job);
			return;
		}
		let buf = this.buffers.get(job.target);
		if (!buf) {
			buf = { jobs: [], timer: null };
			this.buffers.set(job.target, buf);
		}
		buf.jobs.push(job);
		if (buf.jobs.length >= window) {
			this.release(job.target);
			return;
		}
		if (!buf.timer) {
			const target = job.target;
			buf.timer = this.timer(() => this.release(target), this.options.reorderHoldMs);
		}
	}

	/** Send a target's held deliveries, newest first. */
	private release(target: string): void {
		const buf = this.buffers.get(target);
		if (!buf) return;
		this.buffers.delete(target);
		if (buf.timer) {
			clearTimeout(buf.timer);
			this.timers.delete(buf.timer);
		}
		for (const job of buf.jobs.reverse()) this.scheduleFirst(job);
	}

	private scheduleFirst(job: Job): void {
		const wait =
			this.options.delayMs +
			(this.options.jitterMs > 0 ? Math.floor(this.random() * this.options.jitterMs) : 0);
		if (wait > 0) this.timer(() => void this.attempt(job), wait);
		else void this.attempt(job);
	}

	private timer(fn: () => void, ms: number): NodeJS.Timeout {
		const t = setTimeout(() => {
			this.timers.delete(t);
			if (!this.closed) fn();
		}, ms);
		this.timers.add(t);
		return t;
	}

	private async attempt(job: Job): Promise<void> {
		if (this.closed || job.gen !== this.gen) return;
		job.attempt++;
		const started = Date.now();
		const headers = {
			'content-type': 'application/json; charset=utf-8',
			'user-agent': 'ReBound-Sandbox-Webhooks/1.0',
			'x-rebound-event': job.event.event,
			'x-rebound-event-id': job.event.id,
			'x-rebound-delivery': job.deliveryId,
			'x-rebound-attempt': String(job.attempt),
			...signWebhookBody(job.body, this.signing.secret, Date.now() / 1000, this.signing),
		};
		const result = await this.post(job.target, headers, job.body);
		if (this.closed || job.gen !== this.gen) return;
		const ok = result.status !== null && result.status >= 200 && result.status < 300;
		const last = job.attempt >= this.options.maxAttempts;
		this.record(
			job,
			result.status,
			ok ? 'delivered' : last ? 'failed' : 'retrying',
			result.error,
			Date.now() - started,
		);
		if (ok || last) {
			this.finish();
			return;
		}
		const delay = Math.min(
			this.options.maxDelayMs,
			this.options.baseDelayMs * 2 ** (job.attempt - 1),
		);
		this.timer(() => void this.attempt(job), delay);
	}

	private post(
		url: string,
		headers: Record<string, string>,
		body: Buffer,
	): Promise<{ status: number | null; error: string | null }> {
		return new Promise((resolve) => {
			let settled = false;
			const done = (status: number | null, error: string | null) => {
				if (settled) return;
				settled = true;
				this.inFlight.delete(req);
				resolve({ status, error });
			};
			let answered: number | null = null;
			const req = http.request(
				url,
				{
					method: 'POST',
					headers: { ...headers, 'content-length': String(body.length) },
					agent: this.agent,
				},
				(res) => {
					answered = res.statusCode ?? 0;
					res.resume();
					res.on('end', () => done(res.statusCode ?? 0, null));
					res.on('error', (e) => done(res.statusCode ?? null, e.message));
					res.on('aborted', () => done(res.statusCode ?? null, 'response aborted'));
				},
			);
			this.inFlight.add(req);
			req.setTimeout(this.options.timeoutMs, () =>
				req.destroy(new Error(`no response within ${this.options.timeoutMs} ms`)),
			);
			req.on('error', (e: NodeJS.ErrnoException) => done(null, e.code ?? e.message));
			req.on('close', () => done(answered, answered === null ? 'connection closed' : null));
			req.end(body);
		});
	}

	private record(
		job: Job,
		status: number | null,
		outcome: DeliveryLogEntry['outcome'],
		error: string | null,
		ms: number,
	): void {
		this.log.push({
			seq: ++this.logSeq,
			at: new Date().toISOString(),
			deliveryId: job.deliveryId,
			eventId: job.event.id,
			event: job.event.event,
			returnId: String(job.event.data.id ?? ''),
			sequence: job.event.sequence,
			target: job.target,
			attempt: job.attempt,
			status,
			outcome,
			error,
			ms,
			duplicate: job.duplicate,
		});
		if (this.log.length > this.maxLog) this.log.splice(0, this.log.length - this.maxLog);
	}

	private finish(): void {
		this.pending = Math.max(0, this.pending - 1);
		if (this.pending === 0) {
			const waiters = this.idleWaiters;
			this.idleWaiters = [];
			for (const w of waiters) w();
		}
	}

	/**
	 * Release held (reorder) deliveries and wait until nothing is queued or in
	 * flight, at most timeoutMs. Retries still wait their back-off.
	 */
	async flush(timeoutMs = 10_000): Promise<{ done: boolean; pending: number }> {
		for (const target of [...this.buffers.keys()]) this.release(target);
		if (this.pending === 0) return { done: true, pending: 0 };
		await new Promise<void>((resolve) => {
			const t = setTimeout(() => {
				this.timers.delete(t);
				resolve();
			}, timeoutMs);
			this.timers.add(t);
			this.idleWaiters.push(() => {
				clearTimeout(t);
				this.timers.delete(t);
				resolve();
			});
		});
		return { done: this.pending === 0, pending: this.pending };
	}

	private cancelAll(): void {
		this.gen++;
		for (const t of this.timers) clearTimeout(t);
		this.timers.clear();
		for (const b of this.buffers.values()) if (b.timer) clearTimeout(b.timer);
		this.buffers.clear();
		for (const r of this.inFlight) r.destroy();
		this.inFlight.clear();
		this.pending = 0;
		const waiters = this.idleWaiters;
		this.idleWaiters = [];
		for (const w of waiters) w();
	}

	/** Stop for good: cancel every timer and in-flight request. */
	close(): void {
		this.cancelAll();
		this.closed = true;
		this.agent.destroy();
	}
}
