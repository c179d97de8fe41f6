import { Builder, type WorkflowTemplate } from './builder';
import { addExceptionSink, connectToSink } from './exceptionSink';

const OVERVIEW = [
	'## Returns intake',
	'### How it works',
	'1. ReBound sends signed return events to the **ReBound Trigger**. The trigger checks the signature and passes on final returns.',
	'2. Events already in the **inbox** Data Table (the same event id for the same return), and events older than one already queued for the same return, are dropped.',
	'3. Every other event becomes an inbox row with status `queued`. The **process queue** workflow applies the rows in arrival order.',
	'4. Deliveries that are not valid events go to the **exceptions** Data Table, with an alert.',
	'',
	'Deliveries arriving within {{WEBHOOK_BATCH_WINDOW_MS}} ms of each other run as one execution, one item each. Each delivery is answered once this workflow has queued it; a failed run answers 503 (500 without a batch window), so ReBound delivers it again.',
	'### Setup',
	'1. Import the templates with `npm run templates:import` (workflows/README.md): it fills in the credentials, Data Tables and values, and activates this workflow.',
	'2. Give ReBound the Production URL of the **ReBound Trigger** (`<n8n>/webhook/{{REBOUND_WEBHOOK_ID}}/rebound`) and the webhook secret of the ReBound credential.',
	'3. No webhooks from ReBound? Enable the **ReBound Poll Trigger** and disable the **ReBound Trigger**: use one of the two only.',
].join('\n');
import { PACKAGE, REBOUND_CREDENTIALS, dataTableNode, eq, filterNode } from './nodes';

export function buildIntake(): WorkflowTemplate {
	const b = new Builder('intake', 'Returns: ReBound → Khaos – 1 intake ({{CLIENT_NAME}})', true);
	const webhook = b.add({
		name: 'ReBound Trigger',
		type: `${PACKAGE}.reBoundTrigger`,
		// 1.1: n8n evaluates no expression in the webhook phase of a delivery (see the node)
		typeVersion: 1.1,
		position: [0, 0],
		webhookId: '{{REBOUND_WEBHOOK_ID}}',
		disabled: '{{WEBHOOK_TRIGGER_DISABLED}}',
		credentials: REBOUND_CREDENTIALS,
		parameters: {
			events: 'final',
			options: {
				emitInvalidAsExceptions: true,
				batchWindowMs: '{{WEBHOOK_BATCH_WINDOW_MS}}',
				batchMaxSize: '{{WEBHOOK_BATCH_MAX_SIZE}}',
				output: 'inboxRow',
				// a late delivery (a redelivery) is ready for the processor SETTLE_SECONDS after it arrived
				holdLateSeconds: '{{SETTLE_SECONDS}}',
			},
		},
	});
	const poll = b.add({
		name: 'ReBound Poll Trigger',
		type: `${PACKAGE}.reBoundPollTrigger`,
		typeVersion: 1,
		position: [0, 300],
		disabled: '{{POLL_TRIGGER_DISABLED}}',
		credentials: REBOUND_CREDENTIALS,
		parameters: {
			pollTimes: { item: [{ mode: 'everyX', value: '{{POLL_EVERY_MINUTES}}', unit: 'minutes' }] },
			emitMode: 'return',
			lookbackDays: 30,
			overlapDays: 2,
			windowDays: 7,
			options: { output: 'inboxRow' },
		},
	});
	// Both triggers emit the inbox row itself (Output: Inbox Row), so the insert maps it as it comes:
	// no n8n expression per column and return (those ran in n8n's expression isolate, 11 per return,
	// the intake's largest CPU cost), and one bulk insert per execution.
	const queue = b.add({
		...dataTableNode('Queue Return', [1200, 0], 'inbox', 'insert', { autoMap: true }),
		notes: 'status queued: the processor takes it on its next run',
		notesInFlow: true,
	});
	// The trigger's duplicate memory (workflow static data) is not kept by n8n 2.40.x when a
	// delivery starts an execution (found by test/e2e/returnsFlow.test.ts), so the inbox, a Data
	// Table in n8n's own database, is the durable record and survives restarts: an event whose id
	// is already among its return's inbox rows is a redelivery, and an event whose sequence is not
	// above one already queued for the same return is stale (out of order); both are dropped here.
	// (The id is compared within the return, where "New Event?" compared it across the inbox: a
	// ReBound event id names one event of one return, and the poll trigger's ids carry the return.)
	// ONE read per event: the inbox rows of its return (a return has a handful), then a Filter judges
	// each event against them by its own id and sequence. (Until 2026-12-04 this was a Row Not Exists
	// on eventId and a Get of later rows: two reads per event, each a select and a count that scan the
	// whole inbox, since Data Tables have no index but the id; at a month's retention, ~30,000 rows of
	// ~2 kB, each scan costs ~10 ms of SQLite. Before 2026-12-03 a Merge on returnId dropped EVERY
	// event of a return when one event of the batch was stale, so a new event delivered in the same
	// batch window as a stale one was answered 200 and lost.)
	const rows = b.add({
		...dataTableNode('Inbox Rows of the Return', [360, -200], 'inbox', 'get', {
			all: true,
			conditions: [eq('returnId', '={{ $json.returnId }}')],
			returnAll: true,
		}),
		alwaysOutputData: true,
		notes: "Per event: its return's rows already in the inbox",
		notesInFlow: true,
	});
	// Below the Get: n8n's v1 order runs the trigger's children top to bottom, so the Get has run for
	// every event before the Filter reads it.
	const fresh = b.add({
		...filterNode(
			'Drop Known and Stale Events',
			[600, 0],
			"={{ !$('Inbox Rows of the Return').all().some((l) => String(l.json.returnId) === String($json.returnId) && (String(l.json.eventId) === String($json.eventId) || Number(l.json.sequence) >= Number($json.sequence))) }}",
		),
		notes:
			'Keeps each event whose id is new and whose return has no row with its sequence or a later one',
		notesInFlow: true,
	});
	const sink = addExceptionSink(b, 360, 760);
	for (const trigger of [webhook, poll]) b.connect(trigger, rows, 0).connect(trigger, fresh, 0);
	b.connect(fresh, queue);
	connectToSink(b, webhook, 1, sink);
	connectToSink(b, poll, 1, sink);

	b.overview(OVERVIEW);
	b.section(
		'Receive',
		"The webhook trigger receives ReBound's signed events. The poll trigger is the alternative for clients without webhooks (disabled): use one of the two.",
		[webhook, poll],
	);
	b.section(
		'Drop redeliveries and stale events',
		"The inbox is the durable record: one read of the return's rows per event. An event id already among them is a redelivery, and an event whose return has this or a later sequence queued is stale. Both are dropped.",
		[rows, fresh],
	);
	b.section(
		'Queue',
		'Each new event becomes an inbox row `queued`: one bulk insert per execution.',
		[queue],
	);
	return b.build();
}
