import { Builder, type WorkflowTemplate } from './builder';
import {
	PACKAGE,
	REBOUND_CREDENTIALS,
	SLACK_CREDENTIALS,
	SMTP_CREDENTIALS,
	cronTrigger,
	dataTableNode,
	eq,
	khaos,
	slackEscape,
} from './nodes';

const OVERVIEW = [
	'## Daily reconciliation',
	'### How it works',
	'Every morning on `{{RECONCILIATION_CRON}}`:',
	'1. Housekeeping: inbox rows `done` and exceptions `resolved` more than {{KEEP_DONE_DAYS}} days ago are deleted (Data Tables have a size limit).',
	"2. Yesterday's processed returns in ReBound are checked against the stock moves and credit notes in Khaos, together with the open exceptions: " +
		'counts and values by status, stuck items by age, value mismatches, open exceptions by type and age.',
	'3. The report is e-mailed and/or posted to Slack.',
	'',
	'docs/reconciliation.md explains every number of the report.',
	'### Setup',
	'1. The import activates this workflow. Set `reconciliation.emailTo` and/or `reconciliation.slackChannel` in the values file; a report without either is disabled.',
	'2. Send it to whoever works the exceptions each morning (docs/operating-guide.md).',
].join('\n');

export function buildReconciliation(): WorkflowTemplate {
	const b = new Builder('reconciliation', 'Returns: daily reconciliation ({{CLIENT_NAME}})');
	const trigger = b.add(cronTrigger('Every Morning', [0, 0], '{{RECONCILIATION_CRON}}'));
	const before = '={{ $now.minus({ days: {{KEEP_DONE_DAYS}} }).toISO() }}';
	const purgeInbox = b.add({
		...dataTableNode('Purge Old Done Rows', [240, 0], 'inbox', 'deleteRows', {
			all: true,
			conditions: [
				eq('status', 'done'),
				{ keyName: 'updatedAt', condition: 'lt', keyValue: before },
			],
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Housekeeping: Data Tables have a size limit',
		notesInFlow: true,
	});
	const purgeExceptions = b.add({
		...dataTableNode('Purge Old Resolved Exceptions', [480, 0], 'exceptions', 'deleteRows', {
			all: true,
			conditions: [
				eq('status', 'resolved'),
				{ keyName: 'updatedAt', condition: 'lt', keyValue: before },
			],
		}),
		executeOnce: true,
		alwaysOutputData: true,
	});
	const open = b.add({
		...dataTableNode('Open Exceptions', [840, 0], 'exceptions', 'get', {
			conditions: [eq('status', 'open')],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
	});
	const search = b.add({
		name: "Yesterday's Returns",
		type: `${PACKAGE}.reBound`,
		typeVersion: 1,
		position: [1080, 0],
		executeOnce: true,
		alwaysOutputData: true,
		credentials: REBOUND_CREDENTIALS,
		parameters: {
			resource: 'return',
			operation: 'search',
			dateFrom: '={{ $today.minus({ days: 1 }).toISODate() }}',
			dateTo: '={{ $today.minus({ days: 1 }).toISODate() }}',
			output: 'returns',
			options: {},
		},
	});
	const reconcile = b.add(
		khaos(
			'Reconcile',
			[1440, 0],
			{
				resource: 'return',
				operation: 'reconcile',
				exceptionsJson:
					"={{ JSON.stringify($('Open Exceptions').all().map(i => i.json).filter(r => r.key)) }}",
				options: {
					tolerancePencePerLine: '{{CREDIT_TOLERANCE_PENCE}}',
					title:
						'=Returns reconciliation {{CLIENT_NAME}} – {{ $today.minus({ days: 1 }).toISODate() }}',
				},
			},
			'ReBound vs Khaos stock moves and credit notes',
		),
	);
	const email = b.add({
		name: 'Email Report',
		type: 'n8n-nodes-base.emailSend',
		typeVersion: 2.1,
		position: [1800, -120],
		executeOnce: true,
		disabled: '{{REPORT_EMAIL_DISABLED}}',
		credentials: SMTP_CREDENTIALS,
		parameters: {
			resource: 'email',
			operation: 'send',
			fromEmail: '{{ALERT_EMAIL_FROM}}',
			toEmail: '{{REPORT_EMAIL_TO}}',
			subject:
				'=Returns reconciliation {{CLIENT_NAME}}: {{ $today.minus({ days: 1 }).toISODate() }}',
			emailFormat: 'html',
			html: "={{ $json.html ?? ('<pre>' + JSON.stringify($json, null, 2) + '</pre>') }}",
			options: { appendAttribution: false },
		},
	});
	const slack = b.add({
		name: 'Post Report to Slack',
		type: 'n8n-nodes-base.slack',
		typeVersion: 2.3,
		position: [1800, 120],
		executeOnce: true,
		disabled: '{{REPORT_SLACK_DISABLED}}',
		credentials: SLACK_CREDENTIALS,
		parameters: {
			authentication: 'accessToken',
			resource: 'message',
			operation: 'post',
			select: 'channel',
			channelId: { __rl: true, mode: 'name', value: '{{REPORT_SLACK_CHANNEL}}' },
			messageType: 'text',
			text: `={{ ${slackEscape('$json.markdown ?? JSON.stringify($json)')} }}`,
			otherOptions: { includeLinkToWorkflow: false },
		},
	});
	b.connect(trigger, purgeInbox)
		.connect(purgeInbox, purgeExceptions)
		.connect(purgeExceptions, open)
		.connect(open, search)
		.connect(search, reconcile)
		.connect(reconcile, email)
		.connect(reconcile, slack);

	b.overview(OVERVIEW);
	b.section(
		'Housekeeping',
		'Deletes inbox rows `done` and exceptions `resolved` more than {{KEEP_DONE_DAYS}} days ago.',
		[trigger, purgeInbox, purgeExceptions],
	);
	b.section('Gather', "The open exceptions, and yesterday's returns from ReBound.", [open, search]);
	b.section('Reconcile', 'ReBound against Khaos stock moves and credit notes.', [reconcile]);
	b.section('Report', 'HTML by e-mail, Markdown to Slack.', [email, slack]);
	return b.build();
}
