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
	parseJsonNode,
	slackEscape,
} from './nodes';
import { UNFINISHED_INBOX_STATUSES } from '../../core/reconcileInbox';

const OVERVIEW = [
	'## Daily reconciliation',
	'### How it works',
	'Every morning on `{{RECONCILIATION_CRON}}` (window: yesterday), or for a period from **Month-End Run** (window: the dates in **Month-End Period**, last month by default):',
	'1. Housekeeping: inbox rows `done` and exceptions `resolved` more than {{KEEP_DONE_DAYS}} days ago are deleted (Data Tables have a size limit).',
	"2. The window's returns in ReBound, and every return whose inbox row is not finished whatever its age, are checked against the stock moves and credit notes in Khaos, together with the open exceptions: " +
		'counts and values by status, not complete by age and by owner, value mismatches (released credits against what the credit step computed), open exceptions by type and age.',
	"3. Finance's sections: every held credit waiting (pending or failed, whatever its age) and the reviews decided in the window; " +
		"the window's notices by owner, kind and return.",
	'4. The report is e-mailed and/or posted to Slack.',
	'',
	'docs/reconciliation.md explains every number of the report.',
	'### Setup',
	'1. The import activates this workflow. Set `reconciliation.emailTo` and/or `reconciliation.slackChannel` in the values file; a report without either is disabled.',
	'2. Send it to whoever works the exceptions each morning (docs/operating-guide.md).',
].join('\n');

/** Yesterday (the workflow's time zone) as YYYY-MM-DD: the daily window. */
const YESTERDAY = '$today.minus({ days: 1 }).toISODate()';
/** The window of the search and of the report (YYYY-MM-DD each), as the Report Window node set it. */
const WINDOW_FROM = "{{ $('Report Window').first().json.from }}";
const WINDOW_TO = "{{ $('Report Window').first().json.to }}";
/** The first instant of the window (workflow time zone), for the Data Table filter on updatedAt. */
const WINDOW_START =
	"{{ DateTime.fromISO($('Report Window').first().json.from).startOf('day').toISO() }}";
/**
 * The heading: the day, or "from to to" for a period (yesterday when the window node has not run,
 * e.g. a parameter evaluated on its own).
 */
const WINDOW_TITLE =
	"{{ (() => { try { const w = $('Report Window').first().json; return w.from === w.to ? w.to : w.from + ' to ' + w.to; } catch (e) { return $today.minus({ days: 1 }).toISODate(); } })() }}";

export function buildReconciliation(): WorkflowTemplate {
	const b = new Builder('reconciliation', 'Returns: daily reconciliation ({{CLIENT_NAME}})');
	const trigger = b.add(cronTrigger('Every Morning', [0, 0], '{{RECONCILIATION_CRON}}'));
	// month end: finance opens the workflow, edits the two dates of Month-End Period and runs it
	const manual = b.add({
		name: 'Month-End Run',
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: [0, 260],
		parameters: {},
	});
	const period = b.add({
		name: 'Month-End Period',
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		position: [240, 260],
		parameters: {
			mode: 'manual',
			assignments: {
				assignments: [
					{
						id: 'period-from',
						name: 'from',
						value: "={{ $today.minus({ months: 1 }).startOf('month').toISODate() }}",
						type: 'string',
					},
					{
						id: 'period-to',
						name: 'to',
						value: "={{ $today.minus({ months: 1 }).endOf('month').toISODate() }}",
						type: 'string',
					},
				],
			},
			options: {},
		},
		notes: 'Finance: first and last day of the period (YYYY-MM-DD); last month by default',
		notesInFlow: true,
	});
	// the window: the period's dates when the month-end run set them, else yesterday
	const window = b.add(
		parseJsonNode(
			'Report Window',
			[480, 0],
			`={{ JSON.stringify({ from: String($json.from || ${YESTERDAY}).trim(), to: String($json.to || $json.from || ${YESTERDAY}).trim() }) }}`,
			'Yesterday, or the month-end period',
		),
	);
	const before = '={{ $now.minus({ days: {{KEEP_DONE_DAYS}} }).toISO() }}';
	const purgeInbox = b.add({
		...dataTableNode('Purge Old Done Rows', [840, 0], 'inbox', 'deleteRows', {
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
		...dataTableNode('Purge Old Resolved Exceptions', [1080, 0], 'exceptions', 'deleteRows', {
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
		...dataTableNode('Open Exceptions and Notices', [1440, 0], 'exceptions', 'get', {
			conditions: [eq('status', 'open'), eq('status', 'notice')],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
	});
	const reviews = b.add({
		// anyCondition: pending OR failed (whatever their age) OR changed since the window began
		// (the decisions of the window among them: the report keeps those resolved in it)
		...dataTableNode('Credit Reviews', [1680, 0], 'reviews', 'get', {
			conditions: [
				eq('status', 'pending'),
				eq('status', 'failed'),
				{ keyName: 'updatedAt', condition: 'gte', keyValue: `=${WINDOW_START}` },
			],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Held credits: waiting, and decided in the window',
		notesInFlow: true,
	});
	const inbox = b.add({
		// anyCondition: every status that is not final, whatever the row's age
		...dataTableNode('Unfinished Inbox Rows', [1920, 0], 'inbox', 'get', {
			conditions: UNFINISHED_INBOX_STATUSES.map((st) => eq('status', st)),
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Not finished, whatever their age: none drops out of the report',
		notesInFlow: true,
	});
	const search = b.add({
		name: 'ReBound Returns of the Window',
		type: `${PACKAGE}.reBound`,
		typeVersion: 1,
		position: [2160, 0],
		executeOnce: true,
		alwaysOutputData: true,
		credentials: REBOUND_CREDENTIALS,
		parameters: {
			resource: 'return',
			operation: 'search',
			dateFrom: `=${WINDOW_FROM}`,
			dateTo: `=${WINDOW_TO}`,
			output: 'returns',
			options: {},
		},
	});
	const reconcile = b.add(
		khaos(
			'Reconcile',
			[2520, 0],
			{
				resource: 'return',
				operation: 'reconcile',
				exceptionsJson:
					"={{ JSON.stringify($('Open Exceptions and Notices').all().map(i => i.json).filter(r => r.key)) }}",
				// every row of the table (the empty item alwaysOutputData passes on is not one): a row
				// without returnId is named in the report rather than dropped here
				reviewsJson:
					"={{ JSON.stringify($('Credit Reviews').all().map(i => i.json).filter(r => r.id !== undefined)) }}",
				// the unfinished rows (the empty item alwaysOutputData passes on is not one)
				inboxJson:
					"={{ JSON.stringify($('Unfinished Inbox Rows').all().map(i => i.json).filter(r => r.id !== undefined)) }}",
				options: {
					tolerancePencePerLine: '{{CREDIT_TOLERANCE_PENCE}}',
					title: `=Returns reconciliation {{CLIENT_NAME}} – ${WINDOW_TITLE}`,
					windowFrom: `=${WINDOW_FROM}`,
					windowTo: `=${WINDOW_TO}`,
				},
			},
			'ReBound vs Khaos stock moves and credit notes',
		),
	);
	const email = b.add({
		name: 'Email Report',
		type: 'n8n-nodes-base.emailSend',
		typeVersion: 2.1,
		position: [2880, -120],
		executeOnce: true,
		disabled: '{{REPORT_EMAIL_DISABLED}}',
		credentials: SMTP_CREDENTIALS,
		parameters: {
			resource: 'email',
			operation: 'send',
			fromEmail: '{{ALERT_EMAIL_FROM}}',
			toEmail: '{{REPORT_EMAIL_TO}}',
			subject: `=Returns reconciliation {{CLIENT_NAME}}: ${WINDOW_TITLE}`,
			emailFormat: 'html',
			html: "={{ $json.html ?? ('<pre>' + JSON.stringify($json, null, 2) + '</pre>') }}",
			options: { appendAttribution: false },
		},
	});
	const slack = b.add({
		name: 'Post Report to Slack',
		type: 'n8n-nodes-base.slack',
		typeVersion: 2.3,
		position: [2880, 120],
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
	b.connect(trigger, window)
		.connect(manual, period)
		.connect(period, window)
		.connect(window, purgeInbox)
		.connect(purgeInbox, purgeExceptions)
		.connect(purgeExceptions, open)
		.connect(open, reviews)
		.connect(reviews, inbox)
		.connect(inbox, search)
		.connect(search, reconcile)
		.connect(reconcile, email)
		.connect(reconcile, slack);

	b.overview(OVERVIEW);
	b.section(
		'Window',
		'Every morning: yesterday. Month end: open **Month-End Period**, type the first and last day (YYYY-MM-DD), then run **Month-End Run**.',
		[trigger, manual, period, window],
	);
	b.section(
		'Housekeeping',
		'Deletes inbox rows `done` and exceptions `resolved` more than {{KEEP_DONE_DAYS}} days ago.',
		[purgeInbox, purgeExceptions],
	);
	b.section(
		'Gather',
		"The open exceptions and the notices, the held credits (pending or failed, and those decided in the window), every unfinished inbox row whatever its age, and the window's returns from ReBound.",
		[open, reviews, inbox, search],
	);
	b.section('Reconcile', 'ReBound against Khaos stock moves and credit notes.', [reconcile]);
	b.section('Report', 'HTML by e-mail, Markdown to Slack.', [email, slack]);
	return b.build();
}
