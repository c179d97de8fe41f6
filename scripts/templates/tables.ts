/**
 * The n8n Data Tables the templates use, with their columns. The import command
 * creates them through n8n's public API (POST /api/v1/data-tables) when asked;
 * the templates' Data table nodes write exactly these columns.
 */
export type ColumnType = 'string' | 'number' | 'boolean';

export interface TableSpec {
	/** Key in the values file (`dataTables.<key>`) and in placeholder names. */
	key: TableKey;
	/** Placeholder stem: `{{<stem>_TABLE_ID}}`, `{{<stem>_TABLE_NAME}}`. */
	stem: string;
	/** Default table name (the client name is put in front). */
	defaultName: string;
	purpose: string;
	columns: Array<{ name: string; type: ColumnType }>;
}

export type TableKey =
	| 'inbox'
	| 'exceptions'
	| 'reviews'
	| 'dispositions'
	| 'reasons'
	| 'skuAliases'
	| 'credits'
	| 'events';

const s = (name: string) => ({ name, type: 'string' as const });
const n = (name: string) => ({ name, type: 'number' as const });
const b = (name: string) => ({ name, type: 'boolean' as const });

export const TABLES: Record<TableKey, TableSpec> = {
	inbox: {
		key: 'inbox',
		stem: 'INBOX',
		defaultName: 'returns inbox',
		purpose:
			'Queue of return events received from ReBound, processed in order by the processor workflow',
		columns: [
			s('eventId'),
			s('returnId'),
			s('displayId'),
			s('orderReference'),
			s('eventType'),
			n('sequence'),
			s('receivedAt'),
			s('status'),
			n('attempts'),
			s('lastError'),
			/** When the processor may take the row (epoch ms; core/inboxRow.ts readyAtMs). */
			n('readyAtMs'),
			s('processedAt'),
			s('creditNoteRef'),
			// the credit the credit step computed and sent (the reconciliation's expected values)
			s('creditGross'),
			s('creditNet'),
			s('payload'),
			s('mapped'),
			/** The processor run (execution id) that claimed the row. */
			s('claim'),
			/** Times the row was put back to queued after a run left it processing (a crash or a stopped run); see processing.maxRequeues. */
			n('requeues'),
			/** The lines whose stock moved but which no credit note records as returned in Khaos (exchange, never credited, released without, zero value skipped), JSON: they keep counting against the order. */
			s('uncredited'),
		],
	},
	exceptions: {
		key: 'exceptions',
		stem: 'EXCEPTIONS',
		defaultName: 'returns exceptions',
		purpose:
			'The exception queue: one row per problem (key), with owner, action and the record for replay',
		columns: [
			s('key'),
			s('kind'),
			s('title'),
			s('owner'),
			s('stage'),
			s('returnId'),
			s('displayId'),
			s('orderReference'),
			s('sku'),
			s('lineId'),
			s('code'),
			s('field'),
			s('message'),
			s('action'),
			s('status'),
			s('firstSeen'),
			s('lastSeen'),
			n('attempts'),
			s('resolvedAt'),
			/** Who closed the row (resolved or ignored): a person's name, or `replay` / `mapping audit` when the workflow did. */
			s('resolvedBy'),
			/** Why, or what was done (the correction's Khaos reference, say); the daily report shows it. */
			s('resolutionNote'),
			s('details'),
			s('payload'),
		],
	},
	dispositions: {
		key: 'dispositions',
		stem: 'DISPOSITIONS',
		defaultName: 'disposition map',
		purpose: 'ReBound grade → Khaos stock action, site and location (edited by operations)',
		columns: [
			s('disposition'),
			s('action'),
			s('siteId'),
			s('locationId'),
			b('sellable'),
			/** Finance's credit policy for the grade: credit | no_credit | hold (empty: hold for no_movement, else credit). */
			s('credit'),
			s('notes'),
		],
	},
	reasons: {
		key: 'reasons',
		stem: 'REASONS',
		defaultName: 'reason map',
		purpose: 'ReBound reason → Khaos return-reason id (edited by operations)',
		columns: [s('reason'), s('reasonId'), s('matchOn'), s('notes')],
	},
	skuAliases: {
		key: 'skuAliases',
		stem: 'SKU_ALIASES',
		defaultName: 'sku aliases',
		purpose: 'ReBound SKU → Khaos stock code, for renamed products (edited by operations)',
		columns: [s('from'), s('to'), s('notes')],
	},
	reviews: {
		key: 'reviews',
		stem: 'REVIEWS',
		defaultName: 'credit reviews',
		purpose:
			'Finance review of held credits: one row per held return with the computed values; finance sets decision (release, release_without_held, reject) and the finance review workflow acts on it',
		columns: [
			s('returnId'),
			s('displayId'),
			s('orderReference'),
			s('currency'),
			s('heldWhy'),
			s('heldLines'),
			/** Gross if released as computed (pounds), and in pence. */
			s('gross'),
			n('grossPence'),
			/** Gross if released without the held lines; empty when there is nothing else to credit. */
			s('withoutHeldGross'),
			n('withoutHeldGrossPence'),
			/** Finance's decision: release | release_without_held | reject (empty: not decided yet). */
			s('decision'),
			s('decidedBy'),
			s('note'),
			/** pending → released | rejected; failed (with lastError) when a release could not be raised. */
			s('status'),
			s('heldAt'),
			s('resolvedAt'),
			s('creditNoteRef'),
			s('creditGross'),
			s('lastError'),
			/** The mapped return after its stock moves, as the credit step takes it. */
			s('mapped'),
		],
	},
	credits: {
		key: 'credits',
		stem: 'CREDITS',
		defaultName: 'recorded credits',
		purpose:
			"The credits the credit steps raised (the processor's, the credit posting's, the replay's): one row per credited inbox row (a row re-run after a crash records again, without values), with the credit note's reference and the gross and net it computed from the order and sent to Khaos, the daily reconciliation's expected values. Written for a whole batch in one insert, before the batch's rows become done",
		columns: [
			/** The inbox row's id (its Data Table row id). */
			n('inboxId'),
			s('eventId'),
			s('returnId'),
			s('displayId'),
			/** The inbox row's receivedAt (a replay: its time): of two credits of one return, the later one's wins. */
			s('receivedAt'),
			s('creditNoteRef'),
			s('creditGross'),
			s('creditNet'),
			/** The execution that recorded it (the processor's, the credit posting's or the replay's). */
			s('claim'),
		],
	},
	events: {
		key: 'events',
		stem: 'EVENTS',
		defaultName: 'return events',
		purpose:
			"The events the intake queued, narrow (id, return, sequence, time): what the intake reads to drop redeliveries and stale events, and the processor to find a later event of a return, instead of the inbox, whose rows carry the whole return (at a month's retention a read of this table costs about a twentieth). Written after the inbox rows, in one insert a run; copied from the inbox by the import",
		columns: [s('eventId'), s('returnId'), n('sequence'), s('receivedAt')],
	},
};

export const TABLE_KEYS = Object.keys(TABLES) as TableKey[];

export function columnType(table: TableKey, column: string): ColumnType {
	const col = TABLES[table].columns.find((c) => c.name === column);
	if (!col) throw new Error(`Table ${table} has no column ${column}`);
	return col.type;
}

/** Inbox statuses, in the order a row normally passes through them. */
export const INBOX_STATUSES = [
	'queued',
	'processing',
	'credit_queued',
	'credit_review',
	'credit_rejected',
	'done',
	'exception',
	'superseded',
	'replayed',
] as const;
