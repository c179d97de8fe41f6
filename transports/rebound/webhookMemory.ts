/**
 * What the ReBound Trigger remembers between deliveries: event ids (to answer
 * duplicates) and, per return, the highest event sequence seen (to drop stale,
 * out-of-order events). Kept in the workflow's static data. Best effort only:
 * n8n 2.40.7 saves static data changed by webhook() when the call starts no
 * execution, but not when it does (seen on a real n8n: the same event delivered
 * three times was accepted three times and staticData kept no record). The
 * durable dedupe is the Returns intake template's inbox checks (event id, and
 * sequence per return, against a Data Table in n8n's database; see
 * workflows/README.md and docs/idempotency.md).
 *
 * Why not n8n's deduplication store (`helpers.checkProcessedAndRecord`)? In
 * n8n 2.x it is only offered to execute() contexts: IWebhookFunctions.helpers
 * is RequestHelperFunctions & BaseHelperFunctions & BinaryHelperFunctions
 * (n8n-workflow 2.40 interfaces.d.ts; n8n-core's WebhookContext builds exactly
 * those). Limitation shared by both: n8n saves static data read-modify-write,
 * so two deliveries processed at the same instant can each miss the other's
 * record. The sequence memory makes a redelivery stale even when its event id
 * was forgotten, and the Khaos side (the return reference / ASSOCIATED_REF
 * guards) refuses to apply the same return twice.
 */

export interface WebhookMemory {
	version: 1;
	/** Event id → unix seconds first seen. */
	events: Record<string, number>;
	/** Return id → [highest sequence seen, unix seconds it was seen]. */
	seq: Record<string, [number, number]>;
}

export interface WebhookMemoryLimits {
	/** Event ids remembered (oldest forgotten first). */
	maxEvents: number;
	/** Returns whose highest sequence is remembered (least recently updated forgotten first). */
	maxReturns: number;
}

export const DEFAULT_WEBHOOK_MEMORY_LIMITS: WebhookMemoryLimits = {
	maxEvents: 5000,
	maxReturns: 5000,
};

export type DeliveryVerdict = 'new' | 'duplicate' | 'stale';

export function readWebhookMemory(raw: unknown): WebhookMemory {
	const o = (raw && typeof raw === 'object' ? raw : {}) as Partial<WebhookMemory>;
	// Null-prototype maps: an event or return id such as "__proto__" or "constructor" is an ordinary key
	// (never an inherited property read as "seen", never a prototype assignment).
	const events = Object.create(null) as Record<string, number>;
	const seq = Object.create(null) as Record<string, [number, number]>;
	if (o.events && typeof o.events === 'object') {
		for (const [k, v] of Object.entries(o.events)) if (typeof v === 'number') events[k] = v;
	}
	if (o.seq && typeof o.seq === 'object') {
		for (const [k, v] of Object.entries(o.seq)) {
			if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number')
				seq[k] = [v[0], v[1]];
		}
	}
	return { version: 1, events, seq };
}

function trimOldest<T>(map: Record<string, T>, max: number, time: (v: T) => number): void {
	const keys = Object.keys(map);
	if (keys.length <= max) return;
	keys.sort((a, b) => time(map[a]) - time(map[b]));
	for (const key of keys.slice(0, keys.length - Math.max(0, max))) delete map[key];
}

/**
 * Judge one delivery and record it (mutates `memory`). A delivery is a
 * duplicate when its event id was seen; stale when its sequence is not above
 * the highest already seen for the same return (an equal sequence with another
 * event id is treated as stale too: it cannot be newer).
 */
export function recordDelivery(
	memory: WebhookMemory,
	delivery: { eventId: string; returnId: string | null; sequence: number },
	nowSec: number,
	limits: WebhookMemoryLimits = DEFAULT_WEBHOOK_MEMORY_LIMITS,
): DeliveryVerdict {
	if (Object.prototype.hasOwnProperty.call(memory.events, delivery.eventId)) return 'duplicate';
	memory.events[delivery.eventId] = nowSec;
	let verdict: DeliveryVerdict = 'new';
	if (delivery.returnId !== null) {
		const prev = Object.prototype.hasOwnProperty.call(memory.seq, delivery.returnId)
			? memory.seq[delivery.returnId]
			: undefined;
		if (prev && delivery.sequence <= prev[0]) verdict = 'stale';
		else memory.seq[delivery.returnId] = [delivery.sequence, nowSec];
	}
	trimOldest(memory.events, limits.maxEvents, (t) => t);
	trimOldest(memory.seq, limits.maxReturns, (v) => v[1]);
	return verdict;
}

/** The trigger's Remembered Event IDs / Remembered Returns options as limits (at least 100 each). */
export function webhookMemoryLimits(options: {
	maxEvents?: unknown;
	maxReturns?: unknown;
}): WebhookMemoryLimits {
	return {
		maxEvents: Math.max(100, Number(options.maxEvents ?? DEFAULT_WEBHOOK_MEMORY_LIMITS.maxEvents)),
		maxReturns: Math.max(
			100,
			Number(options.maxReturns ?? DEFAULT_WEBHOOK_MEMORY_LIMITS.maxReturns),
		),
	};
}

/**
 * Judge and record one delivery in the memory kept at `store.deliveries` (the trigger's static
 * data). The memory is reassigned, not mutated in place, so n8n notices the change and saves it.
 */
export function recordDeliveryIn(
	store: Record<string, unknown>,
	delivery: { eventId: string; returnId: string | null; sequence: number },
	nowSec: number,
	limits: WebhookMemoryLimits,
): DeliveryVerdict {
	const memory = readWebhookMemory(store.deliveries);
	const verdict = recordDelivery(memory, delivery, nowSec, limits);
	store.deliveries = memory;
	return verdict;
}
