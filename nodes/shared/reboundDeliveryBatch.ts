import { sleep } from 'n8n-workflow';
import type {
	IDataObject,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import {
	ackWhenBodyless,
	answerHeld,
	whenAnswered,
	type HeldResponse,
	type Sleeper,
} from './webhookResponse';

export type { HeldResponse, Sleeper } from './webhookResponse';

/**
 * Delivery batching for the ReBound Trigger.
 *
 * n8n costs ~45 ms of its own per execution, so one execution per webhook delivery caps
 * intake at ~20 deliveries a second on 2 cores. With batching on, deliveries that arrive
 * within a short window start ONE execution together (one item per delivery):
 *
 * - the first delivery of a window is the *leader*: it waits for the window to close (or the
 *   batch to fill) and then starts the execution with every member's item. The trigger runs
 *   in n8n's "last node" response mode, so n8n answers the leader only when the execution
 *   has finished (500 if it failed);
 * - later deliveries in the window are *followers*: the trigger keeps their HTTP responses
 *   open (`noWebhookResponse`) and answers them with the leader's outcome, so every member
 *   is acknowledged only after the workflow (the intake template: inbox checks and insert)
 *   ran. A failed or lost run answers 503 and ReBound delivers again; the inbox's event-id
 *   check drops what was in fact queued. Acknowledgement after queuing is stronger than
 *   n8n's own "on received" mode, which answers before the workflow has written anything.
 *
 * The open batches live in this module's memory: in n8n's queue mode each webhook process
 * batches its own deliveries (the leader's answer still comes when the worker is done).
 *
 * The trigger calls `deliverAlone` or `deliverInBatch`; everything done to n8n's response object
 * (holding it, answering it later, watching how n8n answered, the leader's body) goes through
 * ./webhookResponse.ts.
 */

export interface BatchSettings {
	/** How long the leader waits for others, ms (> 0). */
	windowMs: number;
	/** Deliveries per execution at most; a full batch starts at once. */
	maxSize: number;
	/** Followers not answered after this long get 503 (the run hangs or its answer was lost), ms. */
	maxWaitMs: number;
	/** After its window, a batch waits up to this long for the previous batch's run to finish, ms. */
	holdMs?: number;
}

export const DEFAULT_BATCH_MAX_SIZE = 100;
/** How long a closed window may wait for the previous batch's run to finish, ms. */
export const DEFAULT_BATCH_HOLD_MS = 2000;
export const DEFAULT_BATCH_MAX_WAIT_MS = 120_000;

export interface BatchMember {
	/** Output 0 (returns) or output 1 (exceptions) of the trigger. */
	output: 0 | 1;
	item: INodeExecutionData;
	/** What this delivery is answered with when its batch was queued. */
	ack: IDataObject;
	/** The follower's open response (the leader's is answered by n8n). */
	res?: HeldResponse;
}

/** A batch is open while it is the map's entry for its key. */
interface OpenBatch {
	members: BatchMember[];
	onFull: () => void;
}

const openBatches = new Map<string, OpenBatch>();

export type JoinResult = { role: 'follower' } | { role: 'leader'; members: BatchMember[] };

/**
 * Joins the open batch for `key` (one per workflow and trigger node) or opens one.
 * A follower returns at once; the leader returns when the window closed or the batch is full,
 * with every member (itself first).
 */
export async function joinBatch(
	key: string,
	member: BatchMember,
	settings: BatchSettings,
	sleep: Sleeper,
): Promise<JoinResult> {
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
	if (maxSize > 1) {
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
	return { role: 'leader', members: batch.members };
}

/** The run of the latest batch of each key, until n8n answered its leader (or the connection closed). */
const inFlight = new Map<string, Promise<void>>();

/** Records that `key`'s latest batch is running until its leader is answered (bounded by maxWaitMs). */
export function markInFlight(
	key: string,
	leaderRes: HeldResponse,
	maxWaitMs: number,
	sleep: Sleeper,
): void {
	const running = whenAnswered(leaderRes, maxWaitMs, sleep).then(() => {
		if (inFlight.get(key) === running) inFlight.delete(key);
	});
	inFlight.set(key, running);
}

/**
 * The workflow data a leader starts: returns on output 0, exceptions on output 1, in arrival order.
 * A return delivered twice within one batch (ReBound retrying while the first delivery waits) is
 * emitted once: the inbox check after the trigger cannot see a copy that is not inserted yet.
 */
export function batchWorkflowData(members: BatchMember[]): INodeExecutionData[][] {
	const outputs: INodeExecutionData[][] = [[], []];
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

/**
 * Answers the followers with the outcome of the leader's run: when n8n has answered the
 * leader (its status code is the run's outcome: 2xx = finished without error), each follower
 * gets 200 and its own ack; otherwise, or when the leader's connection closed unanswered, or
 * after `maxWaitMs`, 503 so ReBound delivers again. Resolves with the status the followers got.
 */
export function settleFollowers(
	leaderRes: HeldResponse,
	followers: BatchMember[],
	batchInfo: { size: number; leaderEventId: string },
	maxWaitMs: number,
	sleep: Sleeper,
): Promise<number> {
	if (followers.every((f) => !f.res)) return Promise.resolve(200);
	// Held until settled, then dropped, so a pending longest-wait timer keeps no response alive.
	let held: BatchMember[] | null = followers.slice();
	return whenAnswered(leaderRes, maxWaitMs, sleep).then(({ status: leaderStatus, why }) => {
		const waiting = held ?? [];
		held = null;
		const ok = leaderStatus !== null && leaderStatus >= 200 && leaderStatus < 300;
		for (const f of waiting) {
			if (!f.res) continue;
			if (ok)
				answerHeld(f.res, 200, {
					...f.ack,
					batch: { size: batchInfo.size, leader: batchInfo.leaderEventId },
				});
			else
				answerHeld(f.res, 503, {
					status: 'retry',
					eventId: f.ack.eventId ?? null,
					message: `This delivery was batched with event ${batchInfo.leaderEventId}, whose run ${why}: nothing is acknowledged, send it again`,
				});
		}
		return ok ? 200 : 503;
	});
}

/** Where a batched delivery goes: its batch key (one per workflow and trigger node), the window's settings and the sleep. */
export interface BatchPlace {
	key: string;
	settings: BatchSettings;
	sleep: Sleeper;
}

/**
 * Where a delivery to this trigger node batches: one window per workflow and node, `windowMs`
 * long (at most 5 s), full at the Max Deliveries per Batch option (1–1000).
 */
export function batchPlaceOf(
	ctx: IWebhookFunctions,
	windowMs: number,
	maxSizeOption: unknown,
): BatchPlace {
	const workflowId =
		typeof ctx.getWorkflow === 'function' ? String(ctx.getWorkflow().id ?? '') : '';
	const settings: BatchSettings = {
		windowMs: Math.min(5000, windowMs),
		maxSize: Math.max(
			1,
			Math.min(1000, Number(maxSizeOption ?? DEFAULT_BATCH_MAX_SIZE) || DEFAULT_BATCH_MAX_SIZE),
		),
		maxWaitMs: DEFAULT_BATCH_MAX_WAIT_MS,
	};
	return { key: `${workflowId}:${ctx.getNode().name}`, settings, sleep };
}

/**
 * A delivery that starts an execution alone: n8n answers it when the run has finished ("last
 * node" mode), with `ack` as the body.
 */
export function deliverAlone(
	res: HeldResponse,
	delivery: Omit<BatchMember, 'res'>,
): IWebhookResponseData {
	const workflowData: INodeExecutionData[][] = [[], []];
	workflowData[delivery.output].push(delivery.item);
	ackWhenBodyless(res, delivery.ack);
	return { webhookResponse: delivery.ack, workflowData };
}

/**
 * A delivery that joins the batch window: a follower's response is held open (n8n is told
 * `noWebhookResponse`) and answered with its leader's outcome; the leader starts the execution
 * with every member's item and is answered by n8n when that run has finished.
 */
export async function deliverInBatch(
	res: HeldResponse,
	delivery: Omit<BatchMember, 'res'>,
	place: BatchPlace,
): Promise<IWebhookResponseData> {
	const { key, settings, sleep } = place;
	const joined = await joinBatch(key, { ...delivery, res }, settings, sleep);
	if (joined.role === 'follower') return { noWebhookResponse: true };
	const leaderEventId = String(delivery.ack.eventId ?? '(invalid payload)');
	markInFlight(key, res, settings.maxWaitMs, sleep);
	const batch = { size: joined.members.length, leader: leaderEventId };
	ackWhenBodyless(res, { ...delivery.ack, batch });
	void settleFollowers(
		res,
		joined.members.slice(1),
		{ size: batch.size, leaderEventId },
		settings.maxWaitMs,
		sleep,
	);
	return { workflowData: batchWorkflowData(joined.members) };
}

/** Test hook: how many batches are open (none once every window closed). */
export function openBatchCount(): number {
	return openBatches.size;
}

/** Test hook: how many keys have a batch run in flight. */
export function inFlightCount(): number {
	return inFlight.size;
}
