import { Builder, type WorkflowTemplate } from './builder';
import { addExceptionSink, connectToSink } from './exceptionSink';

const OVERVIEW = [
	'## Returns intake',
	'### How it works',
	'1. ReBound sends signed return events to the **ReBound Trigger**. The trigger checks the signature and passes on final returns.',
	'2. Events already in the **inbox** Data Table (a redelivery), and events older than one already queued for the same return, are dropped: both find a row of their return with this or a later sequence.',
	'3. Every other event becomes an inbox row with status `queued`. The **process queue** workflow applies the rows in arrival order.',
	'4. Deliveries that are not valid events go to the **exceptions** Data Table, with an alert.',
	'',
	'Deliveries arriving within {{WEBHOOK_BATCH_WINDOW_MS}} ms of each other run as one execution, one item each. Each delivery is answered once this workflow has queued it; a failed run answers 503 (500 without a batch window), so ReBound delivers it again.',
	'### Setup',
	'1. Import the templates with `npm run templates:import` (workflows/README.md): it fills in the credentials, Data Tables and values, and activates this workflow.',
	'2. Give ReBound the Production URL of the **ReBound Trigger** (`<n8n>/webhook/{{REBOUND_WEBHOOK_ID}}/rebound`) and the webhook secret of the ReBound credential.',
	'3. No webhooks from ReBound? Enable the **ReBound Poll Trigger** and disable the **ReBound Trigger**: use one of the two only.',
].join('\n');
import { PACKAGE, REBOUND_CREDENTIALS, dataTableNode, eq } from './nodes';

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
	// Table in n8n's own database, is the durable record and survives restarts: an event whose return
	// already has an inbox row with this or a later sequence is dropped here. That one check covers
	// redeliveries (the same event id is the same event: same return, same sequence) and stale,
	// out-of-order events; a separate Row Not Exists on the event id (one more Data Table statement
	// per delivery, the intake's costliest node) caught nothing more and was removed.
	// (The Data table node's Row Exists / Not Exists operations only compare with "equals", so the
	// sequence check is a Get of the later rows and a Merge that keeps events without one.)
	const later = b.add({
		...dataTableNode('Later Events Queued', [600, 200], 'inbox', 'get', {
			all: true,
			conditions: [
				eq('returnId', '={{ $json.returnId }}'),
				{ keyName: 'sequence', condition: 'gte', keyValue: '={{ $json.sequence }}' },
			],
			returnAll: false,
			limit: 1,
		}),
		alwaysOutputData: true,
		notes:
			'Per event: an inbox row of the same return with this or a later sequence (a redelivery finds its own)',
		notesInFlow: true,
	});
	const inOrder = b.add({
		name: 'Drop Stale Events',
		type: 'n8n-nodes-base.merge',
		typeVersion: 3.2,
		position: [840, 0],
		parameters: {
			mode: 'combine',
			combineBy: 'combineByFields',
			fieldsToMatchString: 'returnId',
			joinMode: 'keepNonMatches',
			outputDataFrom: 'input1',
			options: {},
		},
		notes: 'Keeps the events that have no later event of their return queued',
		notesInFlow: true,
	});
	const sink = addExceptionSink(b, 360, 760);
	for (const trigger of [webhook, poll])
		b.connect(trigger, inOrder, 0, 0).connect(trigger, later, 0);
	b.connect(later, inOrder, 0, 1).connect(inOrder, queue);
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
		'The inbox is the durable record: an event whose return already has an inbox row with this or a later sequence is a redelivery (its own row) or stale. Both are dropped.',
		[later, inOrder],
	);
	b.section(
		'Queue',
		'Each new event becomes an inbox row `queued`: one bulk insert per execution.',
		[queue],
	);
	return b.build();
}
