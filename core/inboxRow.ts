/**
 * The intake's inbox row for one normalised return: the columns of the inbox
 * Data Table (workflows/README.md) that the intake writes, shaped here so the
 * intake's Data table insert maps them as they come ("map automatically").
 * Shaping in the trigger costs nothing per field; the same columns written by
 * n8n expressions cost one evaluation in n8n's expression isolate each, per
 * return (11 of them), which was the intake's largest CPU cost.
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
	/** The normalised return as JSON: what the processor parses. */
	payload: string;
}

export function toInboxRow(ret: NormalisedReturn, receivedAtIso: string): InboxRow {
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
		payload: JSON.stringify(ret),
	};
}
