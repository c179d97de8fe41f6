/** The exception sink every template that can raise exceptions ends in (built by one function, so identical in all). */
import { EXCEPTION_COLOR, type Builder } from './builder';
import {
	SLACK_CREDENTIALS,
	SMTP_CREDENTIALS,
	dataTableNode,
	eq,
	htmlEscape,
	ifNode,
	parseJsonNode,
	slackEscape,
	text,
} from './nodes';
import { ERROR_TEXT, recordlessExceptionExpression } from './reportDelivery';

/**
 * A Set node's raw JSON: an alert that could not be sent as an `alert_failed` exception item
 * (core/exceptions.ts; key alertFailedKey: one row per workflow, day and channel), naming the
 * channel, the recipient (a placeholder, its own operand), the error (secret-shaped texts removed)
 * and how many exceptions of this run it was for, with their first keys.
 */
export function alertFailedExpression(channel: 'email' | 'slack', recipient: string): string {
	const where = channel === 'email' ? "'by e-mail to ' + to" : "'on Slack channel ' + to";
	return recordlessExceptionExpression({
		kind: 'alert_failed',
		stage: 'alert',
		params: 'to, err, rows',
		args: `${recipient}, ${ERROR_TEXT}, $('Record New Exception').all()`,
		key: `'alert_failed|-|' + ($workflow.id || '-') + ':' + $now.toISODate() + '|${channel}'`,
		code: `'${channel}'`,
		details:
			`{ channel: '${channel}', recipient: to, workflow: $workflow.name || null, executionId: $execution.id || null, ` +
			"exceptions: rows.length, keys: rows.slice(0, 20).map((i) => i.json.key).join(', '), error: err }",
		message: `rows.length + ' new exception(s) recorded by ' + ($workflow.name || 'this workflow') + ' (execution ' + $execution.id + ') could not be alerted ' + ${where} + ': ' + err + '. They are in this table.'`,
	});
}

/**
 * The exception sink: new problems are upserted into the exceptions table
 * (status open, attempts 1; `notice` for a notice, which never blocks) and
 * alerted; problems already in the table (same key) get lastSeen, attempts + 1
 * and status open (or notice) again, except a notice told again as it was that
 * a person already closed, which stays closed. Returns the names of
 * the two entry nodes (connect every exception output to both).
 *
 * The "known" branch sits above the "new" one on purpose: with execution order
 * v1, n8n runs sibling branches top to bottom, so known problems are updated
 * before new ones are inserted (otherwise a new row would be seen as known in
 * the same run and counted twice).
 */
export function addExceptionSink(b: Builder, x: number, y: number): [string, string] {
	const isNew = b.add({
		...dataTableNode('New Exception?', [x, y + 300], 'exceptions', 'rowNotExists', {
			conditions: [eq('key', '={{ $json.key }}')],
		}),
		notes: 'Exception items whose key is not in the exceptions table yet',
		notesInFlow: true,
	});
	const exceptionColumns = {
		key: '={{ $json.key }}',
		kind: '={{ $json.kind }}',
		title: '={{ $json.title }}',
		owner: '={{ $json.owner }}',
		stage: '={{ $json.stage }}',
		returnId: text('$json.returnId'),
		displayId: text('$json.displayId'),
		orderReference: text('$json.orderReference'),
		sku: text('$json.sku'),
		lineId: text('$json.lineId'),
		code: text('$json.code'),
		field: text('$json.field'),
		message: '={{ $json.message }}',
		action: '={{ $json.action }}',
		status: "={{ $json.notice ? 'notice' : 'open' }}",
		firstSeen: '={{ $json.occurredAt ?? $now.toISO() }}',
		lastSeen: '={{ $json.occurredAt ?? $now.toISO() }}',
		attempts: 1,
		resolvedAt: '',
		details: '={{ JSON.stringify($json.details ?? {}) }}',
		payload: text('$json.payload'),
	};
	const record = b.add(
		dataTableNode('Record New Exception', [x + 240, y + 300], 'exceptions', 'upsert', {
			conditions: [eq('key', '={{ $json.key }}')],
			columns: exceptionColumns,
		}),
	);
	const email = b.add({
		name: 'Alert by Email',
		type: 'n8n-nodes-base.emailSend',
		typeVersion: 2.1,
		position: [x + 480, y + 200],
		executeOnce: true,
		disabled: '{{ALERT_EMAIL_DISABLED}}',
		// a refused or unreachable mail server costs the alert only (an alert_failed row), never the run
		onError: 'continueErrorOutput',
		credentials: SMTP_CREDENTIALS,
		parameters: {
			resource: 'email',
			operation: 'send',
			fromEmail: '{{ALERT_EMAIL_FROM}}',
			toEmail: '{{ALERT_EMAIL_TO}}',
			subject: '=Returns sync ({{CLIENT_NAME}}): {{ $input.all().length }} new exception(s)',
			emailFormat: 'html',
			html:
				"={{ '<p>' + $input.all().length + ' new exception(s) in the returns sync. Work them in the exceptions Data Table; see the operating guide.</p><ul>' + " +
				`$input.all().map(i => '<li><b>' + ${htmlEscape('i.json.title')} + '</b> [' + ${htmlEscape('i.json.owner')} + '] return ' + ${htmlEscape('i.json.returnId')} + ': ' + ${htmlEscape('i.json.message')} + '<br><i>' + ${htmlEscape('i.json.action')} + '</i></li>').join('') + '</ul>' }}`,
			options: { appendAttribution: false },
		},
	});
	const slack = b.add({
		name: 'Alert on Slack',
		type: 'n8n-nodes-base.slack',
		typeVersion: 2.3,
		position: [x + 480, y + 400],
		executeOnce: true,
		disabled: '{{ALERT_SLACK_DISABLED}}',
		onError: 'continueErrorOutput',
		credentials: SLACK_CREDENTIALS,
		parameters: {
			authentication: 'accessToken',
			resource: 'message',
			operation: 'post',
			select: 'channel',
			channelId: { __rl: true, mode: 'name', value: '{{ALERT_SLACK_CHANNEL}}' },
			messageType: 'text',
			text:
				// the client name is its own operand: substitution writes it as a JSON string literal (scripts/templates/placeholders.ts)
				`={{ ':warning: *Returns sync (' + ${slackEscape('{{CLIENT_NAME}}')} + ')*: ' + $input.all().length + ' new exception(s)\\n' + ` +
				`$input.all().slice(0, 20).map(i => '• *' + ${slackEscape('i.json.title')} + '* [' + ${slackEscape('i.json.owner')} + '] return ' + ${slackEscape('i.json.returnId')} + ': ' + ${slackEscape('i.json.message')}).join('\\n') + ` +
				"($input.all().length > 20 ? '\\n… and ' + ($input.all().length - 20) + ' more in the exceptions table' : '') }}",
			otherOptions: { includeLinkToWorkflow: false },
		},
	});
	b.connect(isNew, record).connect(record, email).connect(record, slack);

	// An alert that failed: one alert_failed row, written here and not through the sink (whose alert
	// would fail the same way). Nothing else waits on it: the exceptions are recorded above.
	const accepted = b.add({
		...ifNode(
			'Alert E-mail Accepted?',
			[x + 800, y + 200],
			'={{ !!$json.messageId && !(($json.rejected || []).length) }}',
		),
		disabled: '{{ALERT_EMAIL_DISABLED}}',
		notes: 'Sent, and no recipient refused',
		notesInFlow: true,
	});
	const [emailFailed, slackFailed] = (
		[
			['Alert E-mail Failed', y + 200, 'email', '{{ALERT_EMAIL_TO}}', 'recipient'],
			['Alert Slack Post Failed', y + 400, 'slack', '{{ALERT_SLACK_CHANNEL}}', 'channel'],
		] as const
	).map(([name, at, channel, to, what]) =>
		b.add({
			...parseJsonNode(
				name,
				[x + 1040, at],
				alertFailedExpression(channel, to),
				`An alert_failed exception (owner tech): ${what}, error`,
			),
			executeOnce: true,
		}),
	);
	const recordFailure = b.add(
		dataTableNode('Record Alert Failure', [x + 1280, y + 300], 'exceptions', 'upsert', {
			conditions: [eq('key', '={{ $json.key }}')],
			// the day's row again (the latest failure's message and details; its firstSeen the latest
			// too): open again, whoever closed it before, and why, no longer holds
			columns: { ...exceptionColumns, resolvedBy: '', resolutionNote: '' },
		}),
	);
	b.connect(email, accepted, 0)
		.connect(email, emailFailed, 1)
		.connect(accepted, emailFailed, 1)
		.connect(slack, slackFailed, 1)
		.connect(emailFailed, recordFailure)
		.connect(slackFailed, recordFailure);

	const known = b.add({
		...dataTableNode('Known Exception?', [x, y], 'exceptions', 'rowExists', {
			conditions: [eq('key', '={{ $json.key }}')],
		}),
		notes: 'Exception items already in the table (same key)',
		notesInFlow: true,
	});
	const stored = b.add(
		dataTableNode('Stored Exception', [x + 240, y], 'exceptions', 'get', {
			conditions: [eq('key', '={{ $json.key }}')],
			returnAll: false,
			limit: 1,
		}),
	);
	const seen = "$('Known Exception?').item.json";
	// A notice told again as it was (the same key and message: a replay, a redelivery, a run cut
	// after the credit note) that a person or a resolver already closed (resolved or ignored) stays
	// closed, with who closed it and why: the same fact again is nothing new to act on, and the
	// closure is a person's record. Anything else that came back is open (or a notice) again: a
	// problem that came back, or a notice whose facts changed (a new message), and whoever closed it
	// before, and why, no longer holds. (Items of one key in one run are each compared with the row
	// as stored before the run, and the last one is written: as with attempts, which moves by one.)
	const kept = `(${seen}.notice && ['resolved', 'ignored'].includes($json.status) && String($json.message ?? '') === String(${seen}.message ?? ''))`;
	const keptOr = (column: string) => `={{ ${kept} ? ($json.${column} ?? '') : '' }}`;
	// the closure's date, frozen: a person closing a row by hand sets status and resolvedBy, often not
	// resolvedAt, and the daily report then dates the closure by updatedAt, which this update moves:
	// without it, every repeat would list the notice as closed again that day
	const closedAt = `={{ ${kept} ? ($json.resolvedAt || ($json.updatedAt ? new Date($json.updatedAt).toISOString() : '')) : '' }}`;
	const update = b.add(
		dataTableNode('Update Known Exception', [x + 480, y], 'exceptions', 'update', {
			conditions: [eq('key', '={{ $json.key }}')],
			columns: {
				status: `={{ ${kept} ? $json.status : ${seen}.notice ? 'notice' : 'open' }}`,
				stage: `={{ ${seen}.stage }}`,
				message: `={{ ${seen}.message }}`,
				lastSeen: `={{ ${seen}.occurredAt ?? $now.toISO() }}`,
				attempts: '={{ Number($json.attempts || 0) + 1 }}',
				resolvedAt: closedAt,
				resolvedBy: keptOr('resolvedBy'),
				resolutionNote: keptOr('resolutionNote'),
				details: `={{ JSON.stringify(${seen}.details ?? {}) }}`,
				payload: `={{ ${seen}.payload ? String(${seen}.payload) : ($json.payload ?? '') }}`,
			},
		}),
	);
	b.connect(known, stored).connect(stored, update);
	b.section(
		'Exceptions',
		'Every problem becomes one row of the **exceptions** Data Table (a repeat updates its row: `lastSeen`, `attempts` + 1); ' +
			'new ones are alerted by e-mail and/or Slack, once per run. Known problems sit above new ones on purpose: ' +
			'n8n runs branches top to bottom, so a new row is not counted twice.',
		[known, stored, update, isNew, record, email, slack],
		EXCEPTION_COLOR,
	);
	b.section(
		'Alert not sent',
		'A refused or unreachable mail server, a refused recipient or a Slack error is one `alert_failed` row (owner tech) a workflow, channel and day, naming the recipient and the error; the exceptions it was for are already recorded, and the run goes on.',
		[accepted, emailFailed, slackFailed, recordFailure],
		EXCEPTION_COLOR,
	);
	return [isNew, known];
}

/**
 * The section over the nodes that set an inbox row's status after its exception row: they sit below
 * the exception sink, on the same output, so n8n's v1 order writes the exception row first.
 */
export function addInboxAfterExceptionSection(b: Builder, nodes: string[]): void {
	b.section(
		'Inbox row after its exception',
		'The row becomes `exception` (`done` for a credit mismatch) only once its exception row is written: ' +
			'these nodes sit below the sink on purpose, as n8n runs branches top to bottom.',
		nodes,
		EXCEPTION_COLOR,
	);
}

export function connectToSink(
	b: Builder,
	from: string,
	output: number,
	sink: [string, string],
): void {
	b.connect(from, sink[0], output).connect(from, sink[1], output);
}
