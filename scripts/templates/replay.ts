import { Builder, type WorkflowTemplate } from './builder';
import { addCreditRecord, addCreditReview, addHeldSplit } from './creditOutcome';
import { addExceptionSink, connectToSink } from './exceptionSink';
import {
	CREDIT_PARAMETERS,
	UNCREDITED,
	MAPPING_PARAMETERS,
	VALIDATE_PARAMETERS,
	PACKAGE,
	addHeldRows,
	addMappingReads,
	constantIfNode,
	dataTableNode,
	eq,
	filterNode,
	khaos,
	neq,
	parseJsonNode,
	stockParameters,
	text,
} from './nodes';

export const REPLAYABLE_KINDS = [
	'unmapped_disposition',
	'unmapped_reason',
	'unknown_sku',
	'archived_sku',
	'order_not_found',
	'khaos_rejected',
	'transient_exhausted',
	'invalid_payload',
	'line_not_on_order',
	'quantity_exceeds_sold',
	'regraded_after_move',
] as const;
// Not replayed on a schedule: `stuck` (a record that stopped the processor three times would stop every
// replay run it is in; replay it by hand once its cause is fixed: set its inbox row back to queued) and
// `credit_mismatch` (the credit note exists; finance decides).

const OVERVIEW = [
	'## Replay exceptions',
	'### How it works',
	'After fixing the cause of exceptions (a mapping row, a SKU alias, Khaos back up…), run this workflow with **Execute workflow**, or let it run on its schedule.',
	'1. Take the **open** exceptions of the kinds a fix can clear: one per return, oldest first.',
	'2. Run each stored record through mapping → SKU check → stock → credit again. Stock moves and credit notes are never applied twice: a unit that already moved stays where it is. ' +
		'A replayed `regraded_after_move` goes on to its credit note and moves nothing; a replayed `quantity_exceeds_sold` is checked against the order again.',
	"3. On success every open exception of that return becomes `resolved` (`resolvedBy` = `replay`, the execution in `resolutionNote`) and its inbox row `replayed`; a failure bumps the exception's `attempts` and `lastSeen`.",
	'',
	'Not replayed: `credit_mismatch` (finance decides; set it `resolved` by hand) and `stuck` (fix the cause, then set its inbox row back to `queued`).',
	'### Setup',
	'1. With `schedules.replayEveryMinutes` in the values file, this runs every {{REPLAY_EVERY_MINUTES}} min and the import activates it; without it, run it by hand.',
	'2. Fix the cause first: docs/exceptions.md says what each exception kind needs.',
].join('\n');

export function buildReplay(): WorkflowTemplate {
	const b = new Builder('replay', 'Returns: exception replay ({{CLIENT_NAME}})');
	const manual = b.add({
		name: 'Run Now',
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: [0, -120],
		parameters: {},
	});
	const scheduled = b.add({
		name: 'On Replay Schedule',
		type: 'n8n-nodes-base.scheduleTrigger',
		typeVersion: 1.2,
		position: [0, 120],
		disabled: '{{REPLAY_SCHEDULE_DISABLED}}',
		parameters: {
			rule: { interval: [{ field: 'minutes', minutesInterval: '{{REPLAY_EVERY_MINUTES}}' }] },
		},
	});
	const lastTable = addMappingReads(b, [manual, scheduled], 360, 0);
	const open = b.add({
		...dataTableNode('Open Exceptions', [1200, 0], 'exceptions', 'get', {
			conditions: [eq('status', 'open')],
			returnAll: true,
			orderBy: { column: 'id', direction: 'ASC' },
		}),
		executeOnce: true,
	});
	const kinds = JSON.stringify(REPLAYABLE_KINDS).replace(/"/g, "'");
	const replayable = b.add({
		...filterNode(
			'Replayable, One per Return',
			[1440, 0],
			`={{ ${kinds}.includes($json.kind) && !!$json.payload && !!$json.returnId && ` +
				`$input.all().findIndex(i => i.json.returnId === $json.returnId && ${kinds}.includes(i.json.kind) && !!i.json.payload) === $itemIndex }}`,
		),
		notes: 'Kinds a fix can clear; the oldest exception of each return',
		notesInFlow: true,
	});
	const parse = b.add(
		parseJsonNode(
			'Parse Stored Record',
			[1680, 0],
			'={{ $json.payload }}',
			'The record as it was when it failed',
		),
	);
	const map = b.add({
		name: 'Map Returns',
		type: `${PACKAGE}.returnsMapping`,
		typeVersion: 1,
		position: [2040, 0],
		parameters: MAPPING_PARAMETERS,
	});
	const validate = b.add(khaos('Validate SKUs', [2280, 0], VALIDATE_PARAMETERS));
	const stock = b.add(khaos('Apply Stock Moves', [2640, 0], stockParameters('continue')));
	const batched = b.add(
		constantIfNode(
			'Finance Batched?',
			[3000, 0],
			'FINANCE_BATCHED',
			'Set by the import (finance.batchCreditNotes)',
		),
	);
	const queueCredit = b.add({
		...dataTableNode('Queue for Credit Posting', [3240, -200], 'inbox', 'insert', {
			columns: {
				eventId: "={{ 'replay:' + $json.returnId + ':' + $now.toMillis() }}",
				returnId: '={{ $json.returnId }}',
				displayId: text('$json.displayId'),
				orderReference: text('$json.orderReference'),
				eventType: 'replay',
				sequence: 0,
				receivedAt: '={{ $now.toISO() }}',
				status: 'credit_queued',
				attempts: 0,
				lastError: '',
				payload: '',
				mapped: '={{ JSON.stringify($json) }}',
			},
		}),
		notes: 'Stock done; the posting workflow creates the credit note',
		notesInFlow: true,
	});
	const credit = b.add(khaos('Create Credit Note', [3240, 100], CREDIT_PARAMETERS));
	const heldSplit = addHeldSplit(b, [3480, 100]);
	const [review, markReview] = addCreditReview(b, [3840, -400], "$('Finance Batched?').item.json", [
		eq('returnId', '={{ $json.returnId }}'),
		eq('status', 'exception'),
	]);
	// the credit it raised, recorded as the processor's (the reconciliation's expected values); the
	// upper child of the held split's output 1, so n8n's v1 order records it before resolving
	const [creditRecord, record] = addCreditRecord(
		b,
		[3840, -250],
		"((m) => ({ ...m, id: null, eventId: 'replay:' + m.returnId, receivedAt: $now.toISO() }))($('Finance Batched?').item.json)",
	);
	const resolve = b.add({
		...dataTableNode('Resolve Exceptions', [3840, -100], 'exceptions', 'update', {
			all: true,
			conditions: [
				eq('returnId', '={{ $json.returnId }}'),
				eq('status', 'open'),
				neq('kind', 'credit_mismatch'),
			],
			columns: {
				status: 'resolved',
				resolvedAt: '={{ $now.toISO() }}',
				resolvedBy: 'replay',
				resolutionNote:
					"={{ 'Replayed after the fix: the return went through (execution ' + $execution.id + ')' }}",
			},
		}),
		notes: 'Every open exception of the return that the replay cleared',
		notesInFlow: true,
	});
	const replayed = b.add(
		dataTableNode('Mark Inbox Replayed', [3840, 140], 'inbox', 'update', {
			all: true,
			conditions: [eq('returnId', '={{ $json.returnId }}'), eq('status', 'exception')],
			columns: { status: 'replayed', processedAt: '={{ $now.toISO() }}', uncredited: UNCREDITED },
		}),
	);
	const sink = addExceptionSink(b, 3840, 600);

	const held = addHeldRows(b, [1440, -400]);
	b.connect(lastTable, open)
		.connect(open, held)
		.connect(open, replayable)
		.connect(replayable, parse)
		.connect(parse, map);
	b.connect(map, validate, 0).connect(validate, stock, 0).connect(stock, batched, 0);
	b.connect(batched, queueCredit, 0).connect(batched, credit, 1);
	b.connect(queueCredit, resolve).connect(queueCredit, replayed).connect(credit, heldSplit, 0);
	// held (finance's credit policy): a pending credit review, the inbox row credit_review; then resolved
	b.connect(heldSplit, review, 0).connect(heldSplit, resolve, 0);
	b.connect(heldSplit, creditRecord, 1)
		.connect(heldSplit, resolve, 1)
		.connect(heldSplit, replayed, 1);
	for (const [from, output] of [
		[map, 1],
		[validate, 1],
		[stock, 1],
		[credit, 1],
	] as const)
		connectToSink(b, from, output, sink);

	b.overview(OVERVIEW);
	b.section('Start', 'By hand after a fix, or on the replay schedule when one is set.', [
		manual,
		scheduled,
	]);
	b.section(
		'Pick the exceptions',
		'Open exceptions of the kinds a fix can clear, one per return, oldest first, each with the record as it was when it failed.',
		[open, replayable, parse],
	);
	b.section(
		'Mapping and checks',
		'Dispositions, reasons and SKU aliases from the mapping tables; then the SKUs are checked in Khaos.',
		[map, validate],
	);
	b.section(
		'Stock',
		'Moves only what has not moved yet: a unit that already moved stays where it is.',
		[stock],
	);
	b.section(
		'Credit',
		"Finance batched: queued for the posting workflow. Otherwise the credit note is created now; a credit held by finance's policy becomes a `pending` credit review.",
		[batched, queueCredit, credit, heldSplit],
	);
	b.section(
		'Resolve',
		'The credit raised is recorded (recorded credits); the open exceptions of the return (but a credit mismatch) become `resolved`, its inbox row `replayed`; a held credit first becomes a `pending` credit review (inbox row `credit_review`).',
		[review, markReview, creditRecord, record, resolve, replayed],
	);
	return b.build();
}
