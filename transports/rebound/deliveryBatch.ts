/**
 * The ReBound Trigger's batch window, free of n8n: which deliveries run together.
 *
 * n8n costs ~45 ms of its own per execution, so one execution per webhook delivery caps intake
 * at ~20 deliveries a second on 2 cores. With batching on, deliveries that arrive within a short
 * window start ONE execution together (one item per delivery): the first delivery of a window is
 * the *leader*, which waits for the window to close (or the batch to fill) and then starts the
 * execution with every member's item; later deliveries in the window are *followers*, answered
 * with the leader's outcome (nodes/shared/reboundDeliveryBatch.ts: the answers, through n8n's
 * response object).
 *
 * The open batches and the batch runs in flight live in this module's memory: in n8n's queue
 * mode each webhook process batches its own deliveries.
 */

/** Sleeps `ms` (n8n-workflow's `sleep` in the node; injectable for tests). */
export type Sleeper = (ms: number) => Promise<void>;

export interface BatchSettings {
	/** How long the leader waits for others, ms (> 0). */
	windowMs: number;
	/** Deliveries per execution at most; a full batch starts at once. */
	maxSize: number;
	/** Followers not answered after this long get 503 (the run hangs or its answer was lost), ms. */
	maxWaitMs: number;
	/** After its window, a batch waits up to this long for the previous batch's run to finish, ms. */
	holdMs?: number;
	/**
	 * A delivery that finds no batch run of its key going starts its run at once instead of waiting
	 * for the window: the window then gathers only what arrives while a run is going (group commit),
	 * so a trickle of deliveries pays no window and a burst still runs in batches.
	 */
	startWhenIdle?: boolean;
}

export const DEFAULT_BATCH_MAX_SIZE = 100;
/** How long a closed window may wait for the previous batch's run to finish, ms. */
export const DEFAULT_BATCH_HOLD_MS = 2000;
export const DEFAULT_BATCH_MAX_WAIT_MS = 120_000;

/** The window's settings from the trigger's options: at most 5 s, full at Max Deliveries per Batch (1–1000). */
export function batchSettingsFor(
	windowMs: number,
	maxSizeOption: unknown,
	startWhenIdle = false,
): BatchSettings {
	return {
		windowMs: Math.min(5000, windowMs),
		startWhenIdle,
		maxSize: Math.max(
			1,
			Math.min(1000, Number(maxSizeOption ?? DEFAULT_BATCH_MAX_SIZE) || DEFAULT_BATCH_MAX_SIZE),
		),
		maxWaitMs: DEFAULT_BATCH_MAX_WAIT_MS,
	};
}

/** A batch is open while it is the map's entry for its key. */
interface OpenBatch {
	members: unknown[];
	onFull: () => void;
}

const openBatches = new Map<string, OpenBatch>();

/** The run of the latest batch of each key, until n8n answered its leader (or the connection closed). */
const inFlight = new Map<string, Promise<void>>();

export type JoinResult<M> = { role: 'follower' } | { role: 'leader'; members: M[] };

/**
 * Joins the open batch for `key` (one per workflow and trigger node) or opens one.
 * A follower returns at once; the leader returns when the window closed or the batch is full,
 * with every member (itself first).
 */
export async function joinBatch<M>(
	key: string,
	member: M,
	settings: BatchSettings,
	sleep: Sleeper,
): Promise<JoinResult<M>> {
	const maxSize = Math.max(1, Math.floor(settings.maxSize));
	const open = openBatches.get(key);
	if (open && open.members.length < maxSize) {
		open.members.push(member);
		if (open.members.length >= maxSize) open.onFull();
		return { role: 'follower' };
	}
	let full!: () => void;
	const filled = new Promise<void>((resolve) => {
		full = resolve;
	});
	const batch: OpenBatch = { members: [member], onFull: () => full() };
	openBatches.set(key, batch);
	// Idle (no run of this key going): with startWhenIdle the leader goes at once, alone; whatever
	// arrives while its run goes gathers in the next batch below.
	const idleStart = settings.startWhenIdle === true && !inFlight.has(key);
	if (maxSize > 1 && !idleStart) {
		await Promise.race([sleep(Math.max(1, settings.windowMs)), filled]);
		// Group commit: while the previous batch's run is still going, this batch keeps filling (up to
		// its size, at most holdMs), so under load one run takes many deliveries instead of many runs
		// taking one each; when idle, nothing is in flight and the window alone applies.
		const previous = inFlight.get(key);
		if (previous && batch.members.length < maxSize)
			await Promise.race([
				previous,
				filled,
				sleep(Math.max(1, settings.holdMs ?? DEFAULT_BATCH_HOLD_MS)),
			]);
	}
	// A full batch may already have been replaced by the next one: only this batch is removed.
	if (openBatches.get(key) === batch) openBatches.delete(key);
	return { role: 'leader', members: batch.members as M[] };
}

/** Records that `key`'s latest batch is running until `answered` settles (its leader answered, or the wait gave up). */
export function trackInFlight(key: string, answered: Promise<unknown>): void {
	const running = answered.then(() => {
		if (inFlight.get(key) === running) inFlight.delete(key);
	});
	inFlight.set(key, running);
}

/** What the batch needs of a delivery: its output (0 returns, 1 exceptions), its item, its answer. */
export interface BatchedDelivery<Item> {
	output: 0 | 1;
	item: Item;
	ack: { eventId?: unknown };
}

/**
 * The workflow data a leader starts: returns on output 0, exceptions on output 1, in arrival order.
 * A return delivered twice within one batch (ReBound retrying while the first delivery waits) is
 * emitted once: the inbox check after the trigger cannot see a copy that is not inserted yet.
 */
export function batchWorkflowData<Item>(members: Array<BatchedDelivery<Item>>): Item[][] {
	const outputs: Item[][] = [[], []];
	const events = new Set<string>();
	for (const m of members) {
		const eventId = m.output === 0 && typeof m.ack.eventId === 'string' ? m.ack.eventId : null;
		if (eventId !== null) {
			if (events.has(eventId)) continue;
			events.add(eventId);
		}
		outputs[m.output].push(m.item);
	}
	return outputs;
}

/** Test hook: how many batches are open (none once every window closed). */
export function openBatchCount(): number {
	return openBatches.size;
}

/** Test hook: how many keys have a batch run in flight. */
export function inFlightCount(): number {
	return inFlight.size;
}
