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
	"3. Finance's sections: every credit held for finance review (pending or failed, whatever its age; one pending more than 3 days is flagged) and the reviews decided yesterday, from the credit reviews table; " +
		"yesterday's notices (never blocking) by owner, kind and return.",
	'4. The report is e-mailed and/or posted to Slack.',
	'',
	'docs/reconciliation.md explains every number of the report.',
	'### Setup',
	'1. The import activates this workflow. Set `reconciliation.emailTo` and/or `reconciliation.slackChannel` in the values file; a report without either is disabled.',
	'2. Send it to whoever works the exceptions each morning (docs/operating-guide.md).',
].join('\n');

/** Yesterday (the workflow's time zone) as YYYY-MM-DD: the window of the search and of the report. */
const YESTERDAY = '{{ $today.minus({ days: 1 }).toISODate() }}';
/** The first instant of yesterday, for the Data Table filter on updatedAt. */
const WINDOW_START = '{{ $today.minus({ days: 1 }).toISO() }}';

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
		// anyCondition: status open OR notice
		...dataTableNode('Open Exceptions and Notices', [840, 0], 'exceptions', 'get', {
			conditions: [eq('status', 'open'), eq('status', 'notice')],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
	});
	const reviews = b.add({
		// anyCondition: pending OR failed (whatever their age) OR changed since the window began
		// (the decisions of the window among them: the report keeps those resolved in it)
		...dataTableNode('Credit Reviews', [1080, 0], 'reviews', 'get', {
			conditions: [
				eq('status', 'pending'),
				eq('status', 'failed'),
				{ keyName: 'updatedAt', condition: 'gte', keyValue: `=${WINDOW_START}` },
			],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Held credits: waiting, and decided yesterday',
		notesInFlow: true,
	});
	const search = b.add({
		name: "Yesterday's Returns",
		type: `${PACKAGE}.reBound`,
		typeVersion: 1,
		position: [1320, 0],
		executeOnce: true,
		alwaysOutputData: true,
		credentials: REBOUND_CREDENTIALS,
		parameters: {
			resource: 'return',
			operation: 'search',
			dateFrom: `=${YESTERDAY}`,
			dateTo: `=${YESTERDAY}`,
			output: 'returns',
			options: {},
		},
	});
	const reconcile = b.add(
		khaos(
			'Reconcile',
			[1680, 0],
			{
				resource: 'return',
				operation: 'reconcile',
				exceptionsJson:
					"={{ JSON.stringify($('Open Exceptions and Notices').all().map(i => i.json).filter(r => r.key)) }}",
				// every row of the table (the empty item alwaysOutputData passes on is not one): a row
				// without returnId is named in the report rather than dropped here
				reviewsJson:
					"={{ JSON.stringify($('Credit Reviews').all().map(i => i.json).filter(r => r.id !== undefined)) }}",
				options: {
					tolerancePencePerLine: '{{CREDIT_TOLERANCE_PENCE}}',
					title:
						'=Returns reconciliation {{CLIENT_NAME}} – {{ $today.minus({ days: 1 }).toISODate() }}',
					windowFrom: `=${YESTERDAY}`,
					windowTo: `=${YESTERDAY}`,
				},
			},
			'ReBound vs Khaos stock moves and credit notes',
		),
	);
	const email = b.add({
		name: 'Email Report',
		type: 'n8n-nodes-base.emailSend',
		typeVersion: 2.1,
		position: [2040, -120],
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
		position: [2040, 120],
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
		.connect(open, reviews)
		.connect(reviews, search)
		.connect(search, reconcile)
		.connect(reconcile, email)
		.connect(reconcile, slack);

	b.overview(OVERVIEW);
	b.section(
		'Housekeeping',
		'Deletes inbox rows `done` and exceptions `resolved` more than {{KEEP_DONE_DAYS}} days ago.',
		[trigger, purgeInbox, purgeExceptions],
	);
	b.section(
		'Gather',
		"The open exceptions and the notices, the held credits (credit reviews: pending or failed, and those decided since yesterday), and yesterday's returns from ReBound.",
		[open, reviews, search],
	);
	b.section('Reconcile', 'ReBound against Khaos stock moves and credit notes.', [reconcile]);
	b.section('Report', 'HTML by e-mail, Markdown to Slack.', [email, slack]);
	return b.build();
}
