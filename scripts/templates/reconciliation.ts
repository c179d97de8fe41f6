import { Builder, type WorkflowTemplate } from './builder';
import {
	SLACK_CREDENTIALS,
	SMTP_CREDENTIALS,
	cronTrigger,
	dataTableNode,
	eq,
	htmlEscape,
	ifNode,
	khaos,
	parseJsonNode,
	slackEscape,
	reboundSearchNode,
} from './nodes';
import { UNFINISHED_INBOX_STATUSES } from '../../core/reconcileInbox';
import { addExceptionSink } from './exceptionSink';
import { addReportDelivery, addReportDeliverySections } from './reportDelivery';
import type { Builder as B } from './builder';
import type { Condition, Pos } from './nodes';
import type { TableKey } from './tables';

/** A kind of row the housekeeping deletes once older than its age (days placeholder). */
export interface Purge {
	/** Node names: `Old <label>` (the bounded read) and `Purge <label>` (the delete). */
	label: string;
	table: TableKey;
	conditions: Condition[];
	/** The age past which a matching row is deleted (a placeholder), in days or in hours. */
	age:
		| { days: '{{KEEP_DONE_DAYS}}' | '{{KEEP_REPORTED_DAYS}}' }
		| { hours: '{{KEEP_DONE_INBOX_HOURS}}' };
}

/** Units of an order a row still holds (the stock step counts them): such a row is never deleted. */
const HOLDS_NO_UNITS: Condition = { keyName: 'uncredited', condition: 'isEmpty' };

/**
 * What the housekeeping deletes: only rows whose deletion cannot change a future decision.
 * Kept whatever their age: unfinished inbox rows, `credit_rejected` rows and final rows with
 * moved-but-uncredited units (they count against their order's sold quantity in the stock step),
 * open exceptions (replayed; a credit-stage one holds units) and pending, releasing or failed reviews.
 */
export const PURGES: Purge[] = [
	// The inbox holds live rows and about a day of finished ones: every statement of the intake and
	// the processor on it scans it (n8n's Data Tables have no index but the id), and SQLite frees its
	// pages only when rows are deleted. A done row whose credit the processor recorded in the
	// recorded credits or finance released from a review (its creditNet blank: the values are in the
	// recorded credits or the credit reviews, or there were none) and a superseded row carry nothing
	// the reconciliation, the held units or the duplicate checks read (the return events, the recorded
	// credits and the reviews keep their record keepDoneDays and keepReportedDays)
	{
		label: 'Finished Inbox Rows',
		table: 'inbox',
		conditions: [
			eq('status', 'done'),
			HOLDS_NO_UNITS,
			{ keyName: 'creditNet', condition: 'isEmpty' },
		],
		age: { hours: '{{KEEP_DONE_INBOX_HOURS}}' },
	},
	{
		label: 'Superseded Inbox Rows',
		table: 'inbox',
		// a row credited (its uncredited written) by a run that stopped, requeued and then superseded
		// by a later event whose credit was a duplicate is the only holder of those units
		conditions: [eq('status', 'superseded'), HOLDS_NO_UNITS],
		age: { hours: '{{KEEP_DONE_INBOX_HOURS}}' },
	},
	// a replayed row (its exception replayed: the replay records the credit it raised in the recorded
	// credits, and no version wrote values on the row)
	{
		label: 'Replayed Inbox Rows',
		table: 'inbox',
		conditions: [eq('status', 'replayed'), HOLDS_NO_UNITS],
		age: { hours: '{{KEEP_DONE_INBOX_HOURS}}' },
	},
	// done rows carrying their credit's values (rows of versions before the credit steps recorded
	// into the recorded credits): the reconciliation reads those values
	{
		label: 'Done Inbox Rows',
		table: 'inbox',
		conditions: [eq('status', 'done'), HOLDS_NO_UNITS],
		age: { days: '{{KEEP_DONE_DAYS}}' },
	},

	{
		label: 'Recorded Credits',
		table: 'credits',
		conditions: [],
		age: { days: '{{KEEP_DONE_DAYS}}' },
	},
	// the intake's duplicate and stale check and the processor's later-event check: an event is known
	// for keepDoneDays after it was queued, whether or not its inbox row is. An inbox row kept longer
	// (an exception, a held or rejected credit, units kept) no longer stops a copy of its event that
	// arrives after that (docs/idempotency.md). Not tied to the inbox rows on purpose: the Data table
	// node cannot delete a set of rows, and a delete-then-write-back left the events of kept rows
	// to a second write that could fail (reviewed, reverted)
	{
		label: 'Queued Events',
		table: 'events',
		conditions: [],
		age: { days: '{{KEEP_DONE_DAYS}}' },
	},
	{
		label: 'Resolved Exceptions',
		table: 'exceptions',
		conditions: [eq('status', 'resolved')],
		age: { days: '{{KEEP_DONE_DAYS}}' },
	},
	{
		label: 'Ignored Exceptions',
		table: 'exceptions',
		conditions: [eq('status', 'ignored')],
		age: { days: '{{KEEP_DONE_DAYS}}' },
	},
	{
		label: 'Notices',
		table: 'exceptions',
		conditions: [eq('status', 'notice')],
		age: { days: '{{KEEP_REPORTED_DAYS}}' },
	},
	{
		label: 'Released Reviews',
		table: 'reviews',
		conditions: [eq('status', 'released')],
		age: { days: '{{KEEP_REPORTED_DAYS}}' },
	},
	{
		label: 'Rejected Reviews',
		table: 'reviews',
		conditions: [eq('status', 'rejected')],
		age: { days: '{{KEEP_REPORTED_DAYS}}' },
	},
];

/**
 * One bounded purge: `Old <label>` reads at most PURGE_BATCH_SIZE matching rows older than the age,
 * oldest id first; `Purge <label>` deletes the rows matching the same conditions within the ids
 * from the first to the last row read (none read: the range 0 to -1, which holds no row).
 */
export function addBoundedPurge(b: B, p: Purge, pos: Pos): [string, string] {
	const [unit, value] = 'days' in p.age ? ['days', p.age.days] : ['hours', p.age.hours];
	const age: Condition = {
		keyName: 'updatedAt',
		condition: 'lt',
		keyValue: `={{ $now.minus({ ${unit}: ${value} }).toISO() }}`,
	};
	const conditions = [...p.conditions, age];
	const read = b.add({
		...dataTableNode(`Old ${p.label}`, pos, p.table, 'get', {
			all: true,
			conditions,
			returnAll: false,
			limit: '{{PURGE_BATCH_SIZE}}',
			orderBy: { column: 'id', direction: 'ASC' },
		}),
		executeOnce: true,
		alwaysOutputData: true,
	});
	const rows = `$('Old ${p.label}').all().filter(i => i.json.id !== undefined)`;
	const purge = b.add({
		...dataTableNode(`Purge ${p.label}`, [pos[0] + 120, pos[1] + 180], p.table, 'deleteRows', {
			all: true,
			conditions: [
				...conditions,
				{
					keyName: 'id',
					condition: 'gte',
					keyValue: `={{ ${rows}.length ? ${rows}[0].json.id : 0 }}`,
				},
				{
					keyName: 'id',
					condition: 'lte',
					keyValue: `={{ ${rows}.length ? ${rows}[${rows}.length - 1].json.id : -1 }}`,
				},
			],
		}),
		executeOnce: true,
		alwaysOutputData: true,
	});
	return [read, purge]; // connected in the housekeeping chain
}

/** Rows older than this may have been deleted; younger ones never were (the recent id span is exact). */
const COUNT_CUTOFF =
	'$now.minus({ days: Math.min({{KEEP_DONE_DAYS}}, {{KEEP_REPORTED_DAYS}}) }).toISO()';
/** The inbox's: its finished rows leave it after KEEP_DONE_INBOX_HOURS. */
const INBOX_COUNT_CUTOFF =
	'$now.minus({ hours: Math.min({{KEEP_DONE_INBOX_HOURS}}, 24 * Math.min({{KEEP_DONE_DAYS}}, {{KEEP_REPORTED_DAYS}})) }).toISO()';
/** At most this many rows older than the cut-off are read per table (beyond: counted by their ids, an upper bound). */
export const OLDER_READ_CAP = 1000;
const STORAGE_TABLES: Array<[TableKey, string]> = [
	['inbox', 'Inbox'],
	['exceptions', 'Exception'],
	['reviews', 'Review'],
	['credits', 'Credit'],
	['events', 'Event'],
];

/**
 * Per table, three cheap reads: the newest row (its id), the first row created since the cut-off
 * (its id) and the rows older than the cut-off (at most OLDER_READ_CAP). Returns the nodes in
 * their order and the last one.
 */
function addStorageMeasures(b: B, pos: Pos): [string[], string] {
	const nodes: string[] = [];
	let x = pos[0];
	for (const [table, label] of STORAGE_TABLES) {
		const cutoff = table === 'inbox' ? INBOX_COUNT_CUTOFF : COUNT_CUTOFF;
		const add = (name: string, o: Parameters<typeof dataTableNode>[4]) => {
			nodes.push(
				b.add({
					...dataTableNode(name, [x, pos[1] + (nodes.length % 2) * 180], table, 'get', o),
					executeOnce: true,
					alwaysOutputData: true,
				}),
			);
			x += 160;
		};
		add(`Newest ${label} Row`, {
			all: true,
			conditions: [{ keyName: 'id', condition: 'gte', keyValue: 0 }],
			returnAll: false,
			limit: 1,
			orderBy: { column: 'id', direction: 'DESC' },
		});
		add(`First Recent ${label} Row`, {
			all: true,
			conditions: [{ keyName: 'createdAt', condition: 'gte', keyValue: `={{ ${cutoff} }}` }],
			returnAll: false,
			limit: 1,
			orderBy: { column: 'id', direction: 'ASC' },
		});
		add(`Older ${label} Rows`, {
			all: true,
			conditions: [{ keyName: 'createdAt', condition: 'lt', keyValue: `={{ ${cutoff} }}` }],
			returnAll: false,
			limit: OLDER_READ_CAP,
			orderBy: { column: 'id', direction: 'ASC' },
		});
	}
	return [nodes, nodes[nodes.length - 1]];
}

/** The Reconcile node's Data Table Storage (JSON): core/dataTableStorage.ts StorageInput. */
const STORAGE_JSON =
	'={{ JSON.stringify({ limitBytes: {{DATA_TABLES_MAX_BYTES}}, tables: ' +
	JSON.stringify(STORAGE_TABLES.map(([table]) => table)) +
	'.map((table, i) => { const label = ' +
	JSON.stringify(STORAGE_TABLES.map(([, label]) => label)) +
	'[i]; const ids = (n) => $(n).all().map(r => r.json.id).filter(id => id !== undefined); ' +
	"const older = ids('Older ' + label + ' Rows'); " +
	"return { table, newestId: ids('Newest ' + label + ' Row')[0] ?? null, firstRecentId: ids('First Recent ' + label + ' Row')[0] ?? null, " +
	`olderRows: older.length, oldestId: older[0] ?? null, lastOlderId: older[older.length - 1] ?? null, olderRowsCapped: older.length >= ${OLDER_READ_CAP} }; }) }) }}`;

const OVERVIEW = [
	'## Daily reconciliation',
	'### How it works',
	'Every morning on `{{RECONCILIATION_CRON}}` (window: yesterday), or for a period from **Month-End Run** (window: the dates in **Month-End Period**, last month by default):',
	"1. Housekeeping (Data Tables have an instance-wide size limit): finished inbox rows whose record lives on elsewhere after {{KEEP_DONE_INBOX_HOURS}} hours; other final inbox rows holding no units, recorded credits, queued events, resolved or ignored exceptions after {{KEEP_DONE_DAYS}} days; notices and decided credit reviews after {{KEEP_REPORTED_DAYS}} days: deleted, at most {{PURGE_BATCH_SIZE}} of each kind per run. The rows of the growing tables are counted for the report's storage estimate; from 80 % of {{DATA_TABLES_MAX_BYTES}} bytes it is alerted.",
	"2. The window's returns in ReBound, and every return whose inbox row is not finished whatever its age, are checked against the stock moves and credit notes in Khaos, together with the open exceptions: " +
		'counts and values by status, not complete by age and by owner, value mismatches (released credits against what the credit step computed), open exceptions by type and age.',
	"3. Finance's sections: every held credit waiting (pending or failed, whatever its age) and the reviews decided in the window; " +
		"the window's notices by owner, kind and return; the exceptions resolved or ignored in the window, with who (`resolvedBy`) and why (`resolutionNote`).",
	'4. The report is e-mailed (HTML body, HTML attached) and/or posted to Slack (text, HTML file in its thread). A failed delivery is a `report_delivery_failed` exception (owner tech), never silent.',
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
/** The window as an id (exception keys, the attachment's name): the day, or `from_to_to` for a period; yesterday when the window node has not run. */
const WINDOW_ID =
	"(() => { try { const w = $('Report Window').first().json; return w.from === w.to ? String(w.to) : w.from + '_to_' + w.to; } catch (e) { return $today.minus({ days: 1 }).toISODate(); } })()";
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
	// Housekeeping: n8n caps all Data Tables of the instance together (N8N_DATA_TABLES_MAX_SIZE_BYTES).
	// Only rows whose deletion cannot change a future decision go (docs/integrator-reference.md#retention-and-data-table-size),
	// each kind in a bounded batch: read at most PURGE_BATCH_SIZE of them (oldest first), then one delete
	// over exactly that id range with the same conditions, so a run never holds a huge delete.
	let x = 840;
	const purges: string[] = [];
	for (const p of PURGES) {
		purges.push(...addBoundedPurge(b, p, [x, -640]));
		x += 240;
	}
	const [storageNodes, storageLast] = addStorageMeasures(b, [x + 360, -640]);
	// the gathering and the report, right of the housekeeping and the storage measures
	const G = x + 360 + storageNodes.length * 160 + 240;
	const open = b.add({
		// anyCondition: status open OR notice OR changed since the window began (the rows resolved or
		// ignored in it among them: the report lists them with resolvedBy and resolutionNote)
		...dataTableNode('Open Exceptions and Notices', [G, 0], 'exceptions', 'get', {
			conditions: [
				eq('status', 'open'),
				eq('status', 'notice'),
				{ keyName: 'updatedAt', condition: 'gte', keyValue: `=${WINDOW_START}` },
			],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Open, notices, and closed in the window (who and why)',
		notesInFlow: true,
	});
	const reviews = b.add({
		// anyCondition: pending OR failed (whatever their age) OR changed since the window began
		// (the decisions of the window among them: the report keeps those resolved in it)
		...dataTableNode('Credit Reviews', [G + 240, 0], 'reviews', 'get', {
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
		// anyCondition: every status that is not final, whatever the row's age, OR changed since the
		// window began (done rows of earlier versions carry the credit the credit step computed: the
		// expected values; the credit steps now record it in the recorded credits)
		...dataTableNode('Inbox Rows', [G + 480, 0], 'inbox', 'get', {
			conditions: [
				...UNFINISHED_INBOX_STATUSES.map((st) => eq('status', st)),
				{ keyName: 'updatedAt', condition: 'gte', keyValue: `=${WINDOW_START}` },
			],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes:
			'Not finished, whatever their age (none drops out of the report), and done in the window (the credit each was given)',
		notesInFlow: true,
	});
	const credits = b.add({
		...dataTableNode('Recorded Credits', [G + 600, 220], 'credits', 'get', {
			conditions: [{ keyName: 'updatedAt', condition: 'gte', keyValue: `=${WINDOW_START}` }],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'The credit each return credited in the window was given',
		notesInFlow: true,
	});
	const search = b.add(
		reboundSearchNode('ReBound Returns of the Window', [G + 720, 0], WINDOW_FROM, WINDOW_TO),
	);
	const reconcile = b.add(
		khaos(
			'Reconcile',
			[G + 1080, 0],
			{
				resource: 'return',
				operation: 'reconcile',
				exceptionsJson:
					"={{ JSON.stringify($('Open Exceptions and Notices').all().map(i => i.json).filter(r => r.key)) }}",
				// every row of the table (the empty item alwaysOutputData passes on is not one): a row
				// without returnId is named in the report rather than dropped here
				reviewsJson:
					"={{ JSON.stringify($('Credit Reviews').all().map(i => i.json).filter(r => r.id !== undefined)) }}",
				// the unfinished rows and the window's done rows (the empty item alwaysOutputData passes on is not one)
				inboxJson:
					"={{ JSON.stringify($('Inbox Rows').all().map(i => i.json).filter(r => r.id !== undefined)) }}",
				// the credits the credit steps recorded in the window (the expected values, read by returnId)
				creditsJson:
					"={{ JSON.stringify($('Recorded Credits').all().map(i => i.json).filter(r => r.id !== undefined)) }}",
				storageJson: STORAGE_JSON,
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
	// delivery: e-mail (HTML body, HTML attached) and Slack (text, HTML in its thread); a failed
	// delivery is a report_delivery_failed exception through the shared sink (scripts/templates/reportDelivery.ts)
	const sink = addExceptionSink(b, G + 2800, -420);
	const delivery = addReportDelivery(b, {
		label: 'Report',
		source: reconcile,
		at: [G + 1440, 0],
		reportId: `'reconciliation:' + ${WINDOW_ID}`,
		fileName: `'returns-reconciliation-' + ${WINDOW_ID} + '.html'`,
		fallbackSubject: `'Returns reconciliation ' + {{CLIENT_NAME}} + ': ' + ${WINDOW_ID}`,
		email: {
			disabled: '{{REPORT_EMAIL_DISABLED}}',
			from: '{{ALERT_EMAIL_FROM}}',
			to: '{{REPORT_EMAIL_TO}}',
		},
		slack: { disabled: '{{REPORT_SLACK_DISABLED}}', channel: '{{REPORT_SLACK_CHANNEL}}' },
		sink,
	});
	const nearlyFull = b.add(
		ifNode(
			'Data Tables Nearly Full?',
			[G + 1440, 940],
			"={{ !!($json.storage && $json.storage.usage && $json.storage.usage.state !== 'ok') }}",
		),
	);
	const warning = '($json.storage.warning || $json.storage.line)';
	const storageEmail = b.add({
		name: 'Storage Alert by Email',
		type: 'n8n-nodes-base.emailSend',
		typeVersion: 2.1,
		position: [G + 1680, 840],
		executeOnce: true,
		disabled: '{{ALERT_EMAIL_DISABLED}}',
		credentials: SMTP_CREDENTIALS,
		parameters: {
			resource: 'email',
			operation: 'send',
			fromEmail: '{{ALERT_EMAIL_FROM}}',
			toEmail: '{{ALERT_EMAIL_TO}}',
			subject:
				'=Returns sync ({{CLIENT_NAME}}): Data Tables {{ $json.storage.usage.percent }} % full',
			emailFormat: 'html',
			html: `={{ '<p>' + ${htmlEscape(warning)} + '</p><p>' + ${htmlEscape('$json.storage.line')} + '</p><p>See the retention section of the integrator reference (docs/integrator-reference.md).</p>' }}`,
			options: { appendAttribution: false },
		},
	});
	const storageSlack = b.add({
		name: 'Storage Alert on Slack',
		type: 'n8n-nodes-base.slack',
		typeVersion: 2.3,
		position: [G + 1680, 1040],
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
			text: `={{ ':warning: *Returns sync (' + ${slackEscape('{{CLIENT_NAME}}')} + ')*: ' + ${slackEscape(warning)} }}`,
			otherOptions: { includeLinkToWorkflow: false },
		},
	});
	b.connect(trigger, window)
		.connect(manual, period)
		.connect(period, window)
		.connect(window, purges[0])
		.connect(open, reviews)
		.connect(reviews, inbox)
		.connect(inbox, credits)
		.connect(credits, search)
		.connect(search, reconcile)
		.connect(reconcile, delivery.entries[0])
		.connect(reconcile, delivery.entries[1])
		.connect(reconcile, nearlyFull, 0)
		.connect(nearlyFull, storageEmail, 0)
		.connect(nearlyFull, storageSlack, 0);
	for (let i = 0; i + 1 < purges.length; i++) b.connect(purges[i], purges[i + 1]);
	b.connect(purges[purges.length - 1], storageNodes[0]);
	for (let i = 0; i + 1 < storageNodes.length; i++) b.connect(storageNodes[i], storageNodes[i + 1]);
	b.connect(storageLast, open);

	b.overview(OVERVIEW);
	b.section(
		'Window',
		'Every morning: yesterday. Month end: open **Month-End Period**, type the first and last day (YYYY-MM-DD), then run **Month-End Run**.',
		[trigger, manual, period, window],
	);
	b.section(
		'Housekeeping',
		'Data Tables share a size limit. Deletes, at most {{PURGE_BATCH_SIZE}} per kind and run, oldest first: finished inbox rows whose record lives on elsewhere after {{KEEP_DONE_INBOX_HOURS}} hours; other final inbox rows holding no units, recorded credits, queued events, resolved or ignored exceptions after {{KEEP_DONE_DAYS}} days; notices and decided reviews after {{KEEP_REPORTED_DAYS}} days. Rows that still count are kept.',
		purges,
	);
	b.section(
		'Data Table storage',
		'Counts the rows of the inbox, exceptions, credit reviews, recorded credits and return events tables from their ids, without reading them all: the report estimates their size (rows × bytes measured per row) against {{DATA_TABLES_MAX_BYTES}} bytes.',
		storageNodes,
	);
	b.section(
		'Storage alert',
		'From 80 % of the limit (estimated) the storage warning is alerted like a new exception, every morning until the tables are smaller.',
		[nearlyFull, storageEmail, storageSlack],
	);
	b.section(
		'Gather',
		"The open exceptions and the notices, the held credits (pending or failed, and those decided in the window), every unfinished inbox row whatever its age and the window's done ones, the credits recorded in the window (the expected values), and the window's returns from ReBound.",
		[open, reviews, inbox, credits, search],
	);
	b.section('Reconcile', 'ReBound against Khaos stock moves and credit notes.', [reconcile]);
	addReportDeliverySections(b, delivery);
	return b.build();
}
