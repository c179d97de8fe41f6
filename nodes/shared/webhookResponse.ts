import type { IDataObject } from 'n8n-workflow';
import type { Sleeper } from '../../transports/rebound/deliveryBatch';

/**
 * The one place that touches n8n's webhook response object (Express' `res`, from
 * `this.getResponseObject()`): the ReBound Trigger and its batch window go through here only.
 *
 * What it relies on, as the pinned n8n (2.40.7) answers a webhook whose trigger runs in the
 * "last node" response mode (n8n's webhooks/webhook-request-handler): an answer n8n sends is
 * `res.status(code)` then `res.json(body)` (with "no data", `res.json(undefined)`; a failed run
 * 500 `{ message: 'Error in workflow' }`), and a `noWebhookResponse` result sends nothing, so the
 * node may answer later itself. Of the response it uses:
 * - `status(code)` (returning the response) and `json(body)`, to answer;
 * - the 'finish' and 'close' events and `statusCode`, to learn how n8n answered a leader;
 * - `headersSent` and `writableEnded`, to answer at most once.
 * test/unit/nodes/webhookResponse.test.ts runs this module through the pinned n8n's own request
 * handler and Express: an n8n upgrade that changes any of this fails there.
 */

/** Methods of the response used here. */
export const RESPONSE_METHODS = ['status', 'json', 'on'] as const;
/** Properties of the response read here. */
export const RESPONSE_PROPERTIES = ['statusCode', 'headersSent', 'writableEnded'] as const;

/** The part of Express' response used here. */
export interface HeldResponse {
	status(code: number): HeldResponse;
	json(body: unknown): unknown;
	on?(event: 'finish' | 'close', listener: () => void): unknown;
	statusCode?: number;
	headersSent?: boolean;
	writableEnded?: boolean;
}

/** n8n's webhook response (typed as Express' Response) seen through the part used here. */
export function heldResponse(res: unknown): HeldResponse {
	return res as HeldResponse;
}

/** Answers now; the node then tells n8n `noWebhookResponse` (the delivery starts nothing). */
export function replyNow(res: HeldResponse, status: number, body: IDataObject): void {
	res.status(status).json(body);
}

/** Answers a response held open earlier, once: false when it was answered already or the client went away. */
export function answerHeld(res: HeldResponse, status: number, body: IDataObject): boolean {
	if (res.headersSent || res.writableEnded) return false;
	try {
		res.status(status).json(body);
		return true;
	} catch {
		// The client went away: ReBound treats that as not delivered and sends again.
		return false;
	}
}

/** How n8n answered a response: its status code, or null (connection lost, or no answer in time). */
export interface AnswerOutcome {
	status: number | null;
	why: string;
}

const outcomes = new WeakMap<HeldResponse, Promise<AnswerOutcome>>();

/**
 * Resolves when n8n answered `res`, its connection closed, or `maxWaitMs` passed. Watches each
 * response once (one pair of listeners and one longest-wait timer, however many callers ask).
 */
export function whenAnswered(
	res: HeldResponse,
	maxWaitMs: number,
	sleep: Sleeper,
): Promise<AnswerOutcome> {
	const known = outcomes.get(res);
	if (known) return known;
	const outcome = new Promise<AnswerOutcome>((resolve) => {
		if (typeof res.on !== 'function') {
			resolve({ status: null, why: 'could not be watched' });
			return;
		}
		res.on('finish', () => {
			const code = res.statusCode ?? 200;
			resolve({ status: code, why: `ended with HTTP ${code}` });
		});
		// 'close' follows 'finish' on a normal answer (then the promise is already settled).
		res.on('close', () =>
			resolve({ status: null, why: 'lost its connection before it was answered' }),
		);
		void sleep(Math.max(1, maxWaitMs)).then(() =>
			resolve({ status: null, why: `was not answered within ${Math.round(maxWaitMs / 1000)} s` }),
		);
	});
	outcomes.set(res, outcome);
	return outcome;
}

/**
 * In the "last node" mode with "no data" n8n answers the run with no body (`res.json(undefined)`):
 * this gives that answer `ack` as its JSON body; any other answer (n8n's error bodies) passes
 * through unchanged.
 */
export function ackWhenBodyless(res: HeldResponse, ack: IDataObject): void {
	const json = res.json.bind(res);
	res.json = (body: unknown) => json(body === undefined ? ack : body);
}
