/**
 * What the daily reconciliation takes from the integration's own records, so that no unfinished
 * return drops out of the report and credits are checked against what the credit step computed:
 *
 * - the inbox rows not in a final state (queued, processing, credit_queued, credit_review,
 *   exception), whatever their age: each brings its return (the mapped return when the processor
 *   stored one, else the payload the intake stored) and its inbox status;
 * - the credit reviews finance released: the gross the credit step computed for the decision is
 *   the expected credit, and the gross it recorded for the credit note it raised is that note's
 *   gross (Khaos' order-status look-up gives net only);
 * - the credit notes raised without a review: the gross and net the credit step computed and sent
 *   (`creditGross`, `creditNet`; in the recorded credits, or on the `done` inbox rows of earlier
 *   versions) are the expected credit; Khaos' net is checked against them, and when it agrees the
 *   recorded gross is the note's gross.
 *
 * Pure; core/reconcile.ts applies both. See docs/reconciliation.md ("Which returns are in the report").
 */
import { z } from 'zod';
import type { ReviewRow } from './reconcileInput';

/** Inbox statuses that are not final: a return whose row has one of them is not finished. */
export const UNFINISHED_INBOX_STATUSES = [
	'queued',
	'processing',
	'credit_queued',
	'credit_review',
	'exception',
] as const;
export type UnfinishedInboxStatus = (typeof UNFINISHED_INBOX_STATUSES)[number];

/** Who acts on a return the inbox holds in this status, when no reconcile status says more. */
export const INBOX_STATUS_TITLES: Record<UnfinishedInboxStatus, string> = {
	queued: 'queued for processing',
	processing: 'being processed',
	credit_queued: 'stock moved, credit queued for the posting run',
	credit_review: 'stock moved, credit held for finance review',
	exception: 'stopped on an exception',
};

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && !v.trim());
const text = z.preprocess(
	(v) => (blank(v) ? null : typeof v === 'number' ? String(v) : v),
	z.string().trim().nullable(),
);

/** An inbox Data Table row as the report reads it (scripts/templates/tables.ts `inbox`). */
export const InboxRowSchema = z.object({
	id: text,
	returnId: z.preprocess(
		(v) => (typeof v === 'number' ? String(v) : v === null ? undefined : v),
		z
			.string({
				required_error: 'returnId is missing',
				invalid_type_error: 'returnId must be text',
			})
			.trim()
			.min(1, 'returnId is empty'),
	),
	status: z.preprocess(
		(v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
		z.string({ required_error: 'status is missing', invalid_type_error: 'status must be text' }),
	),
	receivedAt: text,
	lastError: text,
	/** The normalised return as JSON (the intake's payload). */
	payload: z.unknown(),
	/** The mapped return after its stock moves (credit_queued, credit_review), as JSON. */
	mapped: z.unknown(),
});
export type InboxRow = z.infer<typeof InboxRowSchema>;

export function isUnfinishedInboxStatus(status: string): status is UnfinishedInboxStatus {
	return (UNFINISHED_INBOX_STATUSES as readonly string[]).includes(status);
}

/** The return an inbox row carries: its mapped return when stored, else its payload; null: none. */
export function inboxReturn(row: InboxRow): unknown {
	for (const v of [row.mapped, row.payload]) {
		if (blank(v)) continue;
		if (typeof v !== 'string') return v;
		try {
			return JSON.parse(v) as unknown;
		} catch {
			continue;
		}
	}
	return null;
}

/**
 * The inbox row that says where each return stands: among a return's unfinished rows, the latest
 * received (a later event of the same return supersedes the earlier rows).
 */
export function inboxByReturn(rows: InboxRow[]): Map<string, InboxRow> {
	const out = new Map<string, InboxRow>();
	const when = (r: InboxRow) => Date.parse(r.receivedAt ?? '') || 0;
	for (const r of rows) {
		if (!isUnfinishedInboxStatus(r.status)) continue;
		const prev = out.get(r.returnId);
		if (!prev || when(r) >= when(prev)) out.set(r.returnId, r);
	}
	return out;
}

/**
 * The expected credit a released review gives: the gross the credit step computed for finance's
 * decision (release: as computed; release_without_held: without the held lines). Null when the
 * review is not released or gave no value.
 */
export function releasedExpectedGross(review: ReviewRow | undefined): number | null {
	if (!review || review.status !== 'released') return null;
	if (review.decision === 'release_without_held')
		return review.withoutHeldGrossPence ?? review.grossPence;
	return review.grossPence;
}

export interface RecordedCredit {
	returnId: string;
	receivedAt: string | null;
	creditNoteRef: string | null;
	grossPence: number | null;
	netPence: number;
}

/** Each return's latest recorded credit (of the rows that recorded a net). */
export function recordedCreditByReturn(rows: RecordedCredit[]): Map<string, RecordedCredit> {
	const out = new Map<string, RecordedCredit>();
	const when = (r: RecordedCredit) => Date.parse(r.receivedAt ?? '') || 0;
	for (const r of rows) {
		const prev = out.get(r.returnId);
		if (!prev || when(r) >= when(prev)) out.set(r.returnId, r);
	}
	return out;
}
