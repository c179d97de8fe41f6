/**
 * Generic fault injection for sandbox HTTP servers, keyed by call name (a SOAP
 * method, an HTTP route name …) or '*' for every call. Deterministic: rates
 * are drawn from a seeded PRNG, and "next N calls fail with X" is exact.
 *
 * Config (JSON, from a fixture's `faults` or POST /__admin/faults):
 * {
 *   "seed": 42,               // PRNG seed (reset re-seeds)
 *   "holdMs": 60000,          // how long a 'timeout' holds the response before dropping it
 *   "concurrency": 1,         // at most this many calls served at once, the rest wait in
 *                             // arrival order (FIFO); 0 or absent: unlimited
 *   "rules": {
 *     "*":           { "latencyMs": 5 },
 *     "ExportStock": { "rate500": 0.1, "rate429": 0.2, "retryAfterSeconds": 1,
 *                      "rateTimeout": 0.05, "rateDrop": 0.05,
 *                      "next": { "count": 2, "kind": "429", "retryAfterSeconds": 0 } }
 *   }
 * }
 * Kinds: "500" (HTTP 500, not a protocol error body), "503", "429" (with Retry-After),
 * "timeout" (no response until holdMs, then the socket is destroyed), "drop" (socket destroyed
 * at once), "dropAfter" (the call is handled, then the socket is destroyed instead of answering:
 * the work is done but the client never hears it), "fault" (a protocol-level error the server
 * renders, e.g. a SOAP fault with `faultString`).
 *
 * `concurrency` models a service that serves few calls at a time (a Khaos Control web-services
 * server on a client's own machine may serve one): a call holds its slot from the moment it is
 * read, through its latency and handling, until it is answered (or dropped); a call whose client
 * goes away while it waits is never served. The limit applies to every call name.
 */
import { mulberry32 } from './prng';

export type FaultKind = '500' | '503' | '429' | 'timeout' | 'drop' | 'dropAfter' | 'fault';

export interface NextFault {
	count: number;
	kind: FaultKind;
	retryAfterSeconds?: number;
	faultString?: string;
}

export interface FaultRule {
	latencyMs?: number;
	rate500?: number;
	rate429?: number;
	retryAfterSeconds?: number;
	rateTimeout?: number;
	rateDrop?: number;
	next?: NextFault | null;
}

export interface FaultConfig {
	seed?: number;
	holdMs?: number;
	rules?: Record<string, FaultRule>;
	/**
	 * A strict service: any call whose parameters contain one of these texts is refused whole
	 * (Khaos: a SOAP Client fault naming the value), as a real service refuses a batch for one bad
	 * record. Used to prove that only the culprit of a refused batch becomes an exception.
	 */
	refuseMentioning?: string[];
	/** At most this many calls served at once (FIFO queue for the rest); 0 or absent: unlimited. */
	concurrency?: number;
}

export interface FaultDecision {
	latencyMs: number;
	fault: { kind: FaultKind; retryAfterSeconds?: number; faultString?: string; rule: string } | null;
}

const RATE_KEYS = ['rate500', 'rate429', 'rateTimeout', 'rateDrop'] as const;

export function validateFaultConfig(input: unknown): FaultConfig {
	if (typeof input !== 'object' || input === null || Array.isArray(input))
		throw new Error('fault config must be an object');
	const c = input as FaultConfig;
	if (c.seed !== undefined && !Number.isFinite(c.seed)) throw new Error('seed must be a number');
	if (c.holdMs !== undefined && !(Number.isFinite(c.holdMs) && c.holdMs >= 0))
		throw new Error('holdMs must be a number >= 0');
	if (
		c.concurrency !== undefined &&
		!(Number.isInteger(c.concurrency) && c.concurrency >= 0 && c.concurrency <= 10_000)
	)
		throw new Error('concurrency must be a whole number from 0 (unlimited) to 10000');
	if (
		c.refuseMentioning !== undefined &&
		!(
			Array.isArray(c.refuseMentioning) &&
			c.refuseMentioning.every((t) => typeof t === 'string' && t !== '')
		)
	) {
		throw new Error('refuseMentioning must be a list of non-empty texts');
	}
	for (const [name, rule] of Object.entries(c.rules ?? {})) {
		if (typeof rule !== 'object' || rule === null)
			throw new Error(`rules.${name} must be an object`);
		for (const k of RATE_KEYS) {
			const v = rule[k];
			if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1))
				throw new Error(`rules.${name}.${k} must be a number between 0 and 1`);
		}
		if (
			rule.latencyMs !== undefined &&
			!(typeof rule.latencyMs === 'number' && rule.latencyMs >= 0)
		)
			throw new Error(`rules.${name}.latencyMs must be >= 0`);
		if (rule.next) {
			if (!Number.isInteger(rule.next.count) || rule.next.count < 0)
				throw new Error(`rules.${name}.next.count must be a whole number >= 0`);
			if (!['500', '503', '429', 'timeout', 'drop', 'dropAfter', 'fault'].includes(rule.next.kind))
				throw new Error(`rules.${name}.next.kind is not a known fault kind`);
		}
	}
	return c;
}

/**
 * At most `limit` holders at once; the others wait in arrival order (FIFO). A limit of 0 is
 * unlimited. A waiter whose signal aborts leaves the queue and gets null (its call is never
 * served). Counts what happened, for tests and the bench.
 */
export class ConcurrencyGate {
	private held = 0;
	private queue: Array<{ grant: (release: (() => void) | null) => void; signal?: AbortSignal }> =
		[];
	/** Most holders at once since the last reset. */
	maxInFlight = 0;
	/** Calls that waited for a slot, and those abandoned while waiting. */
	waited = 0;
	abandoned = 0;

	constructor(private limit = 0) {}

	get inFlight(): number {
		return this.held;
	}

	get waiting(): number {
		return this.queue.length;
	}

	/** Change the limit; a larger one lets waiting calls in at once. */
	setLimit(limit: number): void {
		this.limit = limit;
		this.pump();
	}

	resetCounters(): void {
		this.maxInFlight = this.held;
		this.waited = 0;
		this.abandoned = 0;
	}

	/** A slot: resolves with its release function (call it once), or null when `signal` aborted first. */
	acquire(signal?: AbortSignal): Promise<(() => void) | null> {
		if (signal?.aborted) {
			this.abandoned++;
			return Promise.resolve(null);
		}
		if (this.queue.length === 0 && this.free()) return Promise.resolve(this.take());
		this.waited++;
		return new Promise((grant) => {
			const entry = { grant, signal };
			this.queue.push(entry);
			signal?.addEventListener(
				'abort',
				() => {
					const i = this.queue.indexOf(entry);
					if (i < 0) return;
					this.queue.splice(i, 1);
					this.abandoned++;
					grant(null);
				},
				{ once: true },
			);
		});
	}

	private free(): boolean {
		return this.limit <= 0 || this.held < this.limit;
	}

	private take(): () => void {
		this.held++;
		this.maxInFlight = Math.max(this.maxInFlight, this.held);
		let released = false;
		return () => {
			if (released) return;
			released = true;
			this.held--;
			this.pump();
		};
	}

	private pump(): void {
		while (this.queue.length && this.free()) {
			const next = this.queue.shift()!;
			next.grant(this.take());
		}
	}
}

export class FaultInjector {
	private config: FaultConfig = {};
	private random: () => number = mulberry32(1);
	/** The `concurrency` limit every call of the sandbox passes through. */
	readonly gate = new ConcurrencyGate();

	constructor(config: FaultConfig = {}, seed?: number) {
		this.configure(config, seed);
	}

	/** Replace the whole configuration (and re-seed). */
	configure(config: FaultConfig, seed?: number): void {
		const valid = validateFaultConfig(config);
		this.config = JSON.parse(JSON.stringify(valid)) as FaultConfig;
		this.random = mulberry32(seed ?? valid.seed ?? 1);
		this.gate.setLimit(this.config.concurrency ?? 0);
	}

	/** Merge rules into the current configuration (a rule replaces the rule of the same name). */
	merge(config: FaultConfig): void {
		const valid = validateFaultConfig(config);
		this.config = {
			seed: valid.seed ?? this.config.seed,
			holdMs: valid.holdMs ?? this.config.holdMs,
			rules: {
				...(this.config.rules ?? {}),
				...(JSON.parse(JSON.stringify(valid.rules ?? {})) as Record<string, FaultRule>),
			},
			refuseMentioning: valid.refuseMentioning ?? this.config.refuseMentioning,
			concurrency: valid.concurrency ?? this.config.concurrency,
		};
		if (valid.seed !== undefined) this.random = mulberry32(valid.seed);
		this.gate.setLimit(this.config.concurrency ?? 0);
	}

	get current(): FaultConfig {
		return JSON.parse(JSON.stringify(this.config)) as FaultConfig;
	}

	/** The refused text a call's parameters contain, if any (see FaultConfig.refuseMentioning). */
	refusal(params: Record<string, string>): string | null {
		const texts = this.config.refuseMentioning ?? [];
		for (const value of Object.values(params))
			for (const t of texts) if (value.includes(t)) return t;
		return null;
	}

	get holdMs(): number {
		return this.config.holdMs ?? 60_000;
	}

	decide(call: string): FaultDecision {
		const rules = this.config.rules ?? {};
		const specific = rules[call];
		const star = rules['*'];
		const latencyMs = (star?.latencyMs ?? 0) + (specific?.latencyMs ?? 0);
		for (const [name, rule] of [
			[call, specific],
			['*', star],
		] as Array<[string, FaultRule | undefined]>) {
			if (rule?.next && rule.next.count > 0) {
				rule.next.count--;
				const n = rule.next;
				return {
					latencyMs,
					fault: {
						kind: n.kind,
						retryAfterSeconds: n.retryAfterSeconds ?? rule.retryAfterSeconds,
						faultString: n.faultString,
						rule: `${name}.next`,
					},
				};
			}
		}
		const rate = (k: (typeof RATE_KEYS)[number]) => specific?.[k] ?? star?.[k] ?? 0;
		const retryAfterSeconds = specific?.retryAfterSeconds ?? star?.retryAfterSeconds ?? 1;
		// one draw per kind, always in the same order, so a seed gives the same sequence
		const draws = RATE_KEYS.map(() => this.random());
		if (draws[3] < rate('rateDrop'))
			return { latencyMs, fault: { kind: 'drop', rule: 'rateDrop' } };
		if (draws[2] < rate('rateTimeout'))
			return { latencyMs, fault: { kind: 'timeout', rule: 'rateTimeout' } };
		if (draws[0] < rate('rate500')) return { latencyMs, fault: { kind: '500', rule: 'rate500' } };
		if (draws[1] < rate('rate429'))
			return { latencyMs, fault: { kind: '429', retryAfterSeconds, rule: 'rate429' } };
		return { latencyMs, fault: null };
	}
}
