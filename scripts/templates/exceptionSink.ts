/** The exception sink every template that can raise exceptions ends in (built by one function, so identical in all). */
import { EXCEPTION_COLOR, type Builder } from './builder';
import {
	SLACK_CREDENTIALS,
	SMTP_CREDENTIALS,
	dataTableNode,
	eq,
	htmlEscape,
	slackEscape,
	text,
} from './nodes';

/**
 * The exception sink: new problems are upserted into the exceptions table
 * (status open, attempts 1; `notice` for a notice, which never blocks) and
 * alerted; problems already in the table (same key) get lastSeen, attempts + 1
 * and status open (or notice) again. Returns the names of
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
	const record = b.add(
		dataTableNode('Record New Exception', [x + 240, y + 300], 'exceptions', 'upsert', {
			conditions: [eq('key', '={{ $json.key }}')],
			columns: {
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
			},
		}),
	);
	const email = b.add({
		name: 'Alert by Email',
		type: 'n8n-nodes-base.emailSend',
		typeVersion: 2.1,
		position: [x + 480, y + 200],
		executeOnce: true,
		disabled: '{{ALERT_EMAIL_DISABLED}}',
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
	const update = b.add(
		dataTableNode('Update Known Exception', [x + 480, y], 'exceptions', 'update', {
			conditions: [eq('key', '={{ $json.key }}')],
			columns: {
				status: `={{ ${seen}.notice ? 'notice' : 'open' }}`,
				stage: `={{ ${seen}.stage }}`,
				message: `={{ ${seen}.message }}`,
				lastSeen: `={{ ${seen}.occurredAt ?? $now.toISO() }}`,
				attempts: '={{ Number($json.attempts || 0) + 1 }}',
				// a problem that came back is open again: whoever closed it before, and why, no longer holds
				resolvedAt: '',
				resolvedBy: '',
				resolutionNote: '',
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
