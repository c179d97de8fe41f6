import { sleep } from 'n8n-workflow';
import type {
	IDataObject,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import {
	batchSettingsFor,
	batchWorkflowData,
	joinBatch,
	trackInFlight,
	type BatchSettings,
	type Sleeper,
} from '../../transports/rebound/deliveryBatch';
import { ackWhenBodyless, answerHeld, whenAnswered, type HeldResponse } from './webhookResponse';

/**
 * Delivery batching for the ReBound Trigger, on n8n's side: which batch a delivery joins
 * (transports/rebound/deliveryBatch.ts decides who leads and what runs together) and how each
 * member is answered.
 *
 * The trigger runs in n8n's "last node" response mode, so n8n answers the leader only when the
 * execution has finished (500 if it failed). Followers' HTTP responses are kept open
 * (`noWebhookResponse`) and answered with the leader's outcome, so every member is acknowledged
 * only after the workflow (the intake template: inbox checks and insert) ran. A failed or lost
 * run answers 503 and ReBound delivers again; the inbox's event-id check drops what was in fact
 * queued. Acknowledgement after queuing is stronger than n8n's own "on received" mode, which
 * answers before the workflow has written anything. In queue mode the leader's answer still
 * comes when the worker is done.
 *
 * The trigger calls `deliverAlone` or `deliverInBatch`; everything done to n8n's response object
 * (holding it, answering it later, watching how n8n answered, the leader's body) goes through
 * ./webhookResponse.ts.
 */

export interface BatchMember {
	/** Output 0 (returns) or output 1 (exceptions) of the trigger. */
	output: 0 | 1;
	item: INodeExecutionData;
	/** What this delivery is answered with when its batch was queued. */
	ack: IDataObject;
	/** The follower's open response (the leader's is answered by n8n). */
	res?: HeldResponse;
}

/** Records that `key`'s latest batch is running until its leader is answered (bounded by maxWaitMs). */
export function markInFlight(
	key: string,
	leaderRes: HeldResponse,
	maxWaitMs: number,
	sleep: Sleeper,
): void {
	trackInFlight(key, whenAnswered(leaderRes, maxWaitMs, sleep));
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

/** Where a delivery to this trigger node batches: one window per workflow and node. */
export function batchPlaceOf(
	ctx: IWebhookFunctions,
	windowMs: number,
	maxSizeOption: unknown,
	startWhenIdle = false,
): BatchPlace {
	const workflowId =
		typeof ctx.getWorkflow === 'function' ? String(ctx.getWorkflow().id ?? '') : '';
	const settings = batchSettingsFor(windowMs, maxSizeOption, startWhenIdle);
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
	const joined = await joinBatch<BatchMember>(key, { ...delivery, res }, settings, sleep);
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
