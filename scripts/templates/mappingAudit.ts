/**
 * The mapping audit template: every morning (and on demand, for a go-live sign-off) the disposition
 * and reason tables are checked against Khaos and against the codes ReBound used in the last N days
 * (Khaos Control › Mapping › Audit, core/usecases/auditMappings.ts). Each finding (a wrong row, a
 * code no row takes) becomes an exception row through the shared exception sink, with a key per
 * table and code, so it is alerted once, before the first return with it fails; a finding that has
 * gone (the row was fixed or added) is set resolved by the next run. A run started by hand also
 * e-mails / posts the whole report to the report recipients (scripts/templates/reportDelivery.ts).
 */
import { Builder, EXCEPTION_COLOR, type WorkflowTemplate } from './builder';
import { addExceptionSink, connectToSink } from './exceptionSink';
import { addReportDelivery, addReportDeliverySections } from './reportDelivery';
import {
	addMappingReads,
	cronTrigger,
	dataTableNode,
	eq,
	filterNode,
	ifNode,
	khaos,
	parseJsonNode,
	reboundSearchNode,
} from './nodes';

/** The exception kinds the audit writes (core/exceptions.ts); only these are resolved by it. */
export const AUDIT_KINDS = ['unmapped_code_seen', 'mapping_row_wrong'] as const;

const OVERVIEW = [
	'## Daily mapping audit',
	'### How it works',
	'Every morning on `{{MAPPING_AUDIT_CRON}}`, or now with **Run Audit Now** (the go-live sign-off):',
	'1. The disposition and reason tables are read, and the returns ReBound has for the last {{MAPPING_AUDIT_DAYS}} days.',
	"2. **Audit Mappings** checks every row against Khaos: the site and location exist, a `restock` row's location is sellable, a `quarantine` or `write_off` row's is not, the reason id exists. It lists every disposition and reason ReBound used that no row takes, with counts.",
	'3. Each finding becomes an exception row (`mapping_row_wrong`, `unmapped_code_seen`; owner ops) and is alerted once, before the first return with a new code fails. A finding that has gone is set `resolved` by the next run.',
	'4. Run by hand, the whole report is e-mailed (HTML, attached too) and/or posted to Slack like the daily reconciliation report; a failed delivery is a `report_delivery_failed` row.',
	'',
	'docs/mapping.md says what each finding means and how to fix it.',
	'### Setup',
	'1. The import activates this workflow; `schedules.mappingAuditCron` and `mappingAudit.days` in the values file set when and how far back.',
	'2. Before go-live: fill the mapping tables, run **Run Audit Now**, fix what it lists, run it again until it is all good.',
].join('\n');

const WINDOW_FROM = "{{ $('Audit Window').first().json.from }}";
const WINDOW_TO = "{{ $('Audit Window').first().json.to }}";
/** The rows of a mapping table as JSON (the empty item alwaysOutputData passes on is not a row). */
const tableRowsJson = (node: string) =>
	`={{ JSON.stringify($('${node}').all().map(i => i.json).filter(r => r.id !== undefined)) }}`;

export function buildMappingAudit(): WorkflowTemplate {
	const b = new Builder('mappingAudit', 'Returns: daily mapping audit ({{CLIENT_NAME}})');
	const trigger = b.add(cronTrigger('Every Morning', [0, 0], '{{MAPPING_AUDIT_CRON}}'));
	const manual = b.add({
		name: 'Run Audit Now',
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: [0, 260],
		parameters: {},
		notes: 'Go-live sign-off: run, fix, run again',
		notesInFlow: true,
	});
	const window = b.add(
		parseJsonNode(
			'Audit Window',
			[280, 120],
			'={{ JSON.stringify({ from: $today.minus({ days: {{MAPPING_AUDIT_DAYS}} }).toISODate(), to: $today.toISODate() }) }}',
			'The last days of ReBound returns to read',
		),
	);
	const lastTable = addMappingReads(b, [window], 560, 120);
	const search = b.add(
		reboundSearchNode('ReBound Returns Seen', [1360, 120], WINDOW_FROM, WINDOW_TO),
	);
	const audit = b.add(
		khaos(
			'Audit Mappings',
			[1640, 120],
			{
				resource: 'mapping',
				operation: 'audit',
				dispositionsJson: tableRowsJson('Disposition Map'),
				reasonsJson: tableRowsJson('Reason Map'),
				options: {
					days: '{{MAPPING_AUDIT_DAYS}}',
					title: '=Mapping audit {{CLIENT_NAME}}',
				},
			},
			'Rows against Khaos, codes seen against the rows',
		),
	);
	b.connect(trigger, window)
		.connect(manual, window)
		.connect(lastTable, search)
		.connect(search, audit);

	// findings gone since the last run: resolved (only the audit's own kinds, only open rows)
	const stillOpen = b.add({
		...dataTableNode('Audit Findings on Record', [2000, -560], 'exceptions', 'get', {
			conditions: AUDIT_KINDS.map((k) => eq('kind', k)),
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
	});
	const cleared = b.add(
		filterNode(
			'Cleared Since',
			[2240, -560],
			"={{ $json.status === 'open' && !!$json.key && !$('Audit Mappings').first().json.exceptionKeys.includes($json.key) }}",
		),
	);
	const resolve = b.add(
		dataTableNode('Resolve Cleared Findings', [2480, -560], 'exceptions', 'update', {
			conditions: [eq('key', '={{ $json.key }}')],
			columns: {
				status: 'resolved',
				resolvedAt: '={{ $now.toISO() }}',
				resolvedBy: 'mapping audit',
				resolutionNote: 'The mapping audit no longer finds it: the row was corrected or added',
			},
		}),
	);
	b.connect(audit, stillOpen, 0).connect(stillOpen, cleared).connect(cleared, resolve);

	// the whole report, when a person asked for it (Run Audit Now)
	const byHand = b.add(ifNode('Run by Hand?', [2000, 160], "={{ $('Run Audit Now').isExecuted }}"));
	const sink = addExceptionSink(b, 3640, 700);
	connectToSink(b, audit, 1, sink);
	// the shared delivery (the daily reconciliation's): e-mail with the HTML attached, Slack with the
	// file in the thread, a failed delivery a report_delivery_failed row through the same sink
	const delivery = addReportDelivery(b, {
		label: 'Audit',
		source: audit,
		at: [2280, 160],
		reportId: "'mapping-audit:' + $today.toISODate()",
		fileName: "'mapping-audit-' + $today.toISODate() + '.html'",
		fallbackSubject: "'Mapping audit ' + {{CLIENT_NAME}}",
		email: {
			disabled: '{{REPORT_EMAIL_DISABLED}}',
			from: '{{ALERT_EMAIL_FROM}}',
			to: '{{REPORT_EMAIL_TO}}',
		},
		slack: { disabled: '{{REPORT_SLACK_DISABLED}}', channel: '{{REPORT_SLACK_CHANNEL}}' },
		sink,
	});
	b.connect(audit, byHand, 0);
	for (const entry of delivery.entries) b.connect(byHand, entry, 0);

	b.overview(OVERVIEW);
	b.section(
		'When',
		'Every morning, or by hand before go-live. Reads the last {{MAPPING_AUDIT_DAYS}} days of ReBound returns.',
		[trigger, manual, window],
	);
	b.section(
		'Audit',
		"ReBound's returns of the window, then every row checked against Khaos and every code seen against the rows. Report: JSON, Markdown, HTML.",
		[search, audit],
	);
	b.section(
		'Cleared findings',
		'A wrong row fixed or a code given its row since the last run: its open exception row is set resolved.',
		[stillOpen, cleared, resolve],
		EXCEPTION_COLOR,
	);
	b.section(
		'Run by hand?',
		'Run by hand (the sign-off): the report goes to the daily report recipients. Every morning: findings are alerted, once each.',
		[byHand],
	);
	addReportDeliverySections(b, delivery);
	return b.build();
}
