/**
 * What the ReBound Trigger decides about one webhook delivery that needs no n8n: how large a body
 * may be, which events the default setting lets through, and the invalid_payload exception a
 * delivery becomes when it is signed but not a valid event (Emit Invalid Payloads as Exceptions).
 * The node (nodes/ReBoundTrigger) reads the request, answers it and starts the workflow.
 */
import { makeException, type ReturnException } from '../../core/exceptions';
import { isFullyGraded, type FieldIssue, type NormalisedReturn } from '../../core/returnModel';
import { invalidReturnException, jsonSafe, slimRawReturn } from './poll';
import type { WebhookEvent } from './webhook';

/** Event types that can carry a final disposition. */
export const FINAL_EVENT_TYPES = ['return.processed', 'return.received'];

/** True when the event is one the default ("final dispositions only") setting lets through. */
export function isFinalEvent(type: string, ret: NormalisedReturn): boolean {
	return FINAL_EVENT_TYPES.includes(type) && isFullyGraded(ret);
}

/** Largest delivery body accepted by default (KiB): a return event is a few KiB; anything far larger is refused 413 before it is verified or parsed. */
export const DEFAULT_MAX_BODY_KB = 1024;

/** The Max Body Size (KiB) option in bytes: at least 16 KiB, the default when it is not a number. */
export function maxBodyBytes(maxBodyKbOption: unknown): number {
	const maxBodyKb = Number(maxBodyKbOption ?? DEFAULT_MAX_BODY_KB);
	return Math.max(16, Number.isFinite(maxBodyKb) ? maxBodyKb : DEFAULT_MAX_BODY_KB) * 1024;
}

/** The `id` of a return as ReBound sent it (before validation), or null. */
export function rawReturnId(data: unknown): string | null {
	if (!data || typeof data !== 'object') return null;
	const id = (data as Record<string, unknown>).id;
	return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/**
 * A signed delivery that is not a valid event envelope, as an invalid_payload exception: the
 * payload is the parsed JSON (its return slimmed), or the text as it came when it is not JSON,
 * JSON `null`, or nested too deeply to serialise again.
 */
export function invalidDeliveryException(
	rawBody: Buffer,
	failure: { field: string; message: string },
	occurredAt: string,
): ReturnException {
	const rawText = rawBody.toString('utf8');
	let payload: unknown = rawText;
	try {
		payload = JSON.parse(rawText);
		const env = payload as Record<string, unknown>;
		if (env && typeof env === 'object' && env.data !== undefined)
			env.data = slimRawReturn(env.data);
	} catch {
		// Not JSON: keep the text as it came (it is what ReBound sent).
	}
	if (payload === null || payload === undefined || !jsonSafe(payload)) payload = rawText;
	const data =
		payload && typeof payload === 'object' ? (payload as Record<string, unknown>).data : undefined;
	const recordId = rawReturnId(data);
	const about = recordId === null ? '' : ` for return ${recordId}`;
	return makeException(
		'invalid_payload',
		`ReBound webhook delivery${about} is invalid: ${failure.field}: ${failure.message}`,
		{
			stage: 'trigger',
			returnId: recordId,
			field: failure.field,
			occurredAt,
			payload,
		},
	);
}

/** A valid event whose return failed normalisation, as an invalid_payload exception. */
export function invalidEventException(
	event: WebhookEvent,
	returnId: string | null,
	failure: { issues: FieldIssue[]; message: string },
	rawBody: Buffer,
	occurredAt: string,
): ReturnException {
	return invalidReturnException(
		returnId ?? '(no id)',
		event.data,
		failure.issues,
		failure.message,
		occurredAt,
		{ eventId: event.id, eventType: event.event, sequence: event.sequence },
		rawBody.toString('utf8'),
	);
}
