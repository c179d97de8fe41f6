import { Builder, type WorkflowTemplate } from './builder';
import { addExceptionSink, connectToSink } from './exceptionSink';

const OVERVIEW = [
	'## Returns intake',
	'### How it works',
	'1. ReBound sends signed return events to the **ReBound Trigger**. The trigger checks the signature and passes on final returns.',
	'2. Events already queued (the same event id for the same return, in the **return events** Data Table), and events older than one already queued for the same return, are dropped.',
	'3. Every other event becomes an inbox row with status `queued` (and a row of the return events table). The **process queue** workflow applies the rows in arrival order.',
	'4. Deliveries that are not valid events go to the **exceptions** Data Table, with an alert.',
	'',
	'Deliveries arriving within {{WEBHOOK_BATCH_WINDOW_MS}} ms of each other run as one execution, one item each. Each delivery is answered once this workflow has queued it; a failed run answers 503 (500 without a batch window), so ReBound delivers it again.',
	'### Setup',
	'1. Import the templates with `npm run templates:import` (workflows/README.md): it fills in the credentials, Data Tables and values, and activates this workflow.',
	'2. Give ReBound the Production URL of the **ReBound Trigger** (`<n8n>/webhook/{{REBOUND_WEBHOOK_ID}}/rebound`) and the webhook secret of the ReBound credential.',
	'3. No webhooks from ReBound? Enable the **ReBound Poll Trigger** and disable the **ReBound Trigger**: use one of the two only.',
].join('\n');
import {
	PACKAGE,
	REBOUND_CREDENTIALS,
	dataTableNode,
	eq,
	eventsOfReturnsNode,
	filterNode,
	ifNode,
	returnIdsNode,
} from './nodes';

/** Events of a run read together (one Get, one condition each); the rest are read one by one. */
const RUN_READ = 8;

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
				// the window gathers only deliveries that arrive while an intake run is going: one that
				// finds none going (a quiet moment, or 5 a second) is queued at once, not a window later
				batchStartWhenIdle: true,
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
	// delivery starts an execution (found by test/e2e/returnsFlow.test.ts), so the intake's durable
	// record, in n8n's own database, survives restarts: an event whose id is already among its
	// return's events is a redelivery, and an event whose sequence is not above one already queued
	// for the same return is stale (out of order); both are dropped here. (The id is compared within
	// the return: a ReBound event id names one event of one return, and the poll trigger's ids carry
	// the return.)
	// ONE read per event, of the **return events** table: a narrow copy (eventId, returnId, sequence,
	// receivedAt) of every row queued, written after the inbox insert. Data Tables have no index but
	// the id, so every read scans its whole table: the inbox's rows carry the whole return (~2 kB), so
	// at a month's retention (30,000 rows) one read of it (a select and a count) costs ~40 ms of SQLite
	// and this one ~2.3 ms (bench/sqlite_scan.py; docs/benchmark.md, "the steady state"). Until
	// 2026-12-04 this read the inbox;
	// before that it was two reads per event, and before 2026-12-03 a Merge on returnId dropped EVERY
	// event of a return when one event of the batch was stale (a new event delivered in the same
	// batch window as a stale one was answered 200 and lost).
	// The first RUN_READ events of a run are read together: one Get for any of their returns (a read
	// per item costs ~20 ms of n8n's work and a scan; an expression ~2 ms), the rest one by one. The
	// run's return ids are gathered into one item (Returns of the Run: an Aggregate, no expression)
	// and read in two tiers, so that a run of one event (every run at a steady rate, with Start at
	// Once When Idle) evaluates one condition and an If, not RUN_READ conditions (issue 15): the first
	// event's return, then, only when the run has more events, the returns of its events 2 to RUN_READ.
	const runReturns = b.add(
		returnIdsNode('Returns of the Run', [360, -600], "The run's return ids, in one item"),
	);
	const runRows = b.add(
		eventsOfReturnsNode(
			'Events of the First Return',
			[600, -760],
			0,
			1,
			"The events already queued of the run's first return",
		),
	);
	const moreEvents = b.add(
		ifNode('More Than One Event?', [600, -600], '={{ $json.returnId.length > 1 }}'),
	);
	const runRowsNext = b.add(
		eventsOfReturnsNode(
			`Events of Returns 2 to ${RUN_READ}`,
			[840, -600],
			1,
			RUN_READ,
			`Only for a run of more events: those of its events 2 to ${RUN_READ}`,
		),
	);
	const beyond = b.add(
		filterNode(`Beyond the First ${RUN_READ}`, [360, -200], `={{ $itemIndex >= ${RUN_READ} }}`),
	);
	const rows = b.add({
		...dataTableNode('Events of the Return', [600, -200], 'events', 'get', {
			all: true,
			conditions: [eq('returnId', '={{ $json.returnId }}')],
			returnAll: true,
		}),
		alwaysOutputData: true,
		notes: "Per later event of a large run: its return's events already queued",
		notesInFlow: true,
	});
	// Below the Get: n8n's v1 order runs the trigger's children top to bottom, so the Get has run for
	// every event before the Filter reads it.
	const fresh = b.add({
		...filterNode(
			'Drop Known and Stale Events',
			[600, 0],
			`={{ !$('${runRows}').all().concat(${[runRowsNext, rows].map((n) => `$('${n}').isExecuted ? $('${n}').all() : []`).join(', ')}).some((l) => String(l.json.returnId) === String($json.returnId) && (String(l.json.eventId) === String($json.eventId) || Number(l.json.sequence) >= Number($json.sequence))) }}`,
		),
		notes:
			'Keeps each event whose id is new and whose return has no row with its sequence or a later one',
		notesInFlow: true,
	});
	// The queued events' record, below Queue Return: n8n's v1 order runs it after the inbox insert, so
	// an event is in the events table only once its inbox row is (a run failing between the two
	// leaves the row without its event: a redelivery then queues it again, which the processor's
	// exactly-once guards, the Khaos references, make safe; the other order would lose the event).
	// The Set keeps the four columns as they are (no expression), and the insert maps them.
	const eventFields = b.add({
		name: 'Event Fields',
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		position: [1200, 240],
		parameters: {
			mode: 'manual',
			assignments: { assignments: [] },
			includeOtherFields: true,
			include: 'selected',
			includeFields: 'eventId, returnId, sequence, receivedAt',
			options: {},
		},
		notes: 'eventId, returnId, sequence, receivedAt',
		notesInFlow: true,
	});
	const recordEvents = b.add({
		...dataTableNode('Record Events', [1440, 240], 'events', 'insert', { autoMap: true }),
		notes: 'One insert a run, after the inbox rows',
		notesInFlow: true,
	});
	const sink = addExceptionSink(b, 360, 760);
	for (const trigger of [webhook, poll])
		b.connect(trigger, runReturns, 0).connect(trigger, beyond, 0).connect(trigger, fresh, 0);
	b.connect(runReturns, runRows)
		.connect(runReturns, moreEvents)
		.connect(moreEvents, runRowsNext, 0)
		.connect(beyond, rows);
	b.connect(fresh, queue).connect(fresh, eventFields).connect(eventFields, recordEvents);
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
		`The return events table is the durable record: one read for the returns of a run's first ${RUN_READ} events (two for more events), one per event after. An event id already among them is a redelivery, and an event whose return has this or a later sequence queued is stale. Both are dropped.`,
		[runReturns, runRows, moreEvents, runRowsNext, beyond, rows, fresh],
	);
	b.section(
		'Queue',
		'Each new event becomes an inbox row `queued`, then a row of the return events table (its id, return and sequence): one bulk insert each per execution.',
		[queue, eventFields, recordEvents],
	);
	return b.build();
}
