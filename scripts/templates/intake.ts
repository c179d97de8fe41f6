import { Builder, type WorkflowTemplate } from './builder';
import { addExceptionSink, connectToSink } from './exceptionSink';
import { PACKAGE, REBOUND_CREDENTIALS, dataTableNode, eq, sticky } from './nodes';

export function buildIntake(): WorkflowTemplate {
	const b = new Builder('intake', 'Returns: ReBound → Khaos – 1 intake ({{CLIENT_NAME}})', true);
	b.add(
		sticky(
			'About',
			[-40, -260],
			'## Returns intake\nReBound pushes signed return events to the **ReBound Trigger** (webhook URL: `<n8n>/webhook/{{REBOUND_WEBHOOK_ID}}/rebound`). ' +
				'Each final return is written to the **inbox** Data Table as `queued`; the **process queue** workflow applies them in order. ' +
				'Deliveries arriving within {{WEBHOOK_BATCH_WINDOW_MS}} ms run as one execution (one item each), and each is answered only once this workflow has queued it (a failed run answers 503, so ReBound delivers again; 0 ms = one execution per delivery, answered on receipt).\n\n' +
				'The **ReBound Poll Trigger** is the alternative for clients without webhooks: enable it and disable the webhook trigger (one of the two only).',
			560,
			220,
		),
	);
	const webhook = b.add({
		name: 'ReBound Trigger',
		type: `${PACKAGE}.reBoundTrigger`,
		typeVersion: 1,
		position: [0, 100],
		webhookId: '{{REBOUND_WEBHOOK_ID}}',
		disabled: '{{WEBHOOK_TRIGGER_DISABLED}}',
		credentials: REBOUND_CREDENTIALS,
		parameters: { events: 'final', options: { emitInvalidAsExceptions: true, batchWindowMs: '{{WEBHOOK_BATCH_WINDOW_MS}}', batchMaxSize: '{{WEBHOOK_BATCH_MAX_SIZE}}', output: 'inboxRow' } },
	});
	const poll = b.add({
		name: 'ReBound Poll Trigger',
		type: `${PACKAGE}.reBoundPollTrigger`,
		typeVersion: 1,
		position: [0, 400],
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
		...dataTableNode('Queue Return', [860, 100], 'inbox', 'insert', { autoMap: true }),
		notes: 'status queued: the processor takes it on its next run',
		notesInFlow: true,
	});
	// The trigger's duplicate memory (workflow static data) is not kept by n8n 2.40.x when a
	// delivery starts an execution (found by test/e2e/returnsFlow.test.ts), so the inbox, a Data
	// Table in n8n's own database, is the durable record and survives restarts: an event id
	// already queued is a redelivery, and an event whose sequence is not above one already
	// queued for the same return is stale (out of order); both are dropped here.
	// (The Data table node's Row Exists / Not Exists operations only compare with "equals", so the
	// sequence check is a Get of the later rows and a Merge that keeps events without one.)
	const fresh = b.add({
		...dataTableNode('New Event?', [200, 100], 'inbox', 'rowNotExists', { conditions: [eq('eventId', '={{ $json.eventId }}')] }),
		notes: 'Drops redeliveries: an event id already in the inbox',
		notesInFlow: true,
	});
	const later = b.add({
		...dataTableNode('Later Events Queued', [420, 260], 'inbox', 'get', {
			all: true,
			conditions: [eq('returnId', '={{ $json.returnId }}'), { keyName: 'sequence', condition: 'gte', keyValue: '={{ $json.sequence }}' }],
			returnAll: false,
			limit: 1,
		}),
		alwaysOutputData: true,
		notes: 'Per event: an inbox row of the same return with this or a later sequence',
		notesInFlow: true,
	});
	const inOrder = b.add({
		name: 'Drop Stale Events',
		type: 'n8n-nodes-base.merge',
		typeVersion: 3.2,
		position: [640, 100],
		parameters: { mode: 'combine', combineBy: 'combineByFields', fieldsToMatchString: 'returnId', joinMode: 'keepNonMatches', outputDataFrom: 'input1', options: {} },
		notes: 'Keeps the events that have no later event of their return queued',
		notesInFlow: true,
	});
	b.connect(fresh, later).connect(fresh, inOrder, 0, 0).connect(later, inOrder, 0, 1);
	const sink = addExceptionSink(b, 300, 500);
	b.connect(webhook, fresh, 0).connect(poll, fresh, 0).connect(inOrder, queue);
	connectToSink(b, webhook, 1, sink);
	connectToSink(b, poll, 1, sink);
	return b.build();
}
