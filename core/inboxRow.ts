/**
 * The intake's inbox row for one normalised return: the columns of the inbox
 * Data Table (workflows/README.md) that the intake writes, shaped here so the
 * intake's Data table insert maps them as they come ("map automatically").
 * Shaping in the trigger costs nothing per field; the same columns written by
 * n8n expressions cost one evaluation in n8n's expression isolate each, per
 * return (11 of them), which was the intake's largest CPU cost.
 *
 * `readyAtMs` is when the processor may take the row (epoch ms): at once for a delivery that
 * arrives promptly, `holdLateMs` later for a late one (its event occurred more than `holdLateMs`
 * before it arrived: a redelivery, which a newer event of the same return may be overtaking). A
 * newer event that reaches the inbox while the older one is held makes it `superseded` when it is
 * claimed (docs/idempotency.md, "Settle time"). A prompt delivery is the newest event of its
 * return when it arrives, so holding it would only add latency.
 */
import type { NormalisedReturn } from './returnModel';

export interface InboxRow {
	[column: string]: string | number;
	eventId: string;
	returnId: string;
	displayId: string;
	orderReference: string;
	eventType: string;
	sequence: number;
	receivedAt: string;
	status: 'queued';
	attempts: number;
	lastError: string;
	/** When the processor may take it (epoch ms). */
	readyAtMs: number;
	/** The normalised return as JSON: what the processor parses. */
	payload: string;
}

/**
 * When a row may be processed: received + holdLateMs if the event occurred more than holdLateMs
 * before it was received (a late delivery), else at once. An event time that cannot be read counts
 * as late (held): the hold is the safe side.
 */
export function readyAtMs(occurredAtIso: string, receivedMs: number, holdLateMs: number): number {
	const hold = Number.isFinite(holdLateMs) && holdLateMs > 0 ? Math.round(holdLateMs) : 0;
	if (hold === 0) return receivedMs;
	const occurred = Date.parse(occurredAtIso);
	const late = !Number.isFinite(occurred) || receivedMs - occurred > hold;
	return late ? receivedMs + hold : receivedMs;
}

export function toInboxRow(ret: NormalisedReturn, receivedAtIso: string, holdLateMs = 0): InboxRow {
	const receivedMs = Date.parse(receivedAtIso);
	return {
		eventId: ret.event.id,
		returnId: ret.returnId,
		displayId: ret.displayId ?? '',
		orderReference: ret.orderReference,
		eventType: ret.event.type,
		sequence: ret.event.sequence,
		receivedAt: receivedAtIso,
		status: 'queued',
		attempts: 0,
		lastError: '',
		readyAtMs: readyAtMs(ret.event.occurredAt, receivedMs, holdLateMs),
		payload: JSON.stringify(ret),
	};
}
