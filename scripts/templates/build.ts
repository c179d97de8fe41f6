/**
 * Generates the workflow templates in workflows/*.json (n8n workflow JSON with
 * `{{PLACEHOLDER}}` values). The templates are committed; this generator keeps
 * the five of them consistent (same Data table shapes, same exception sink)
 * and a unit test checks the committed files equal its output.
 *
 *   npx ts-node --transpile-only scripts/templates/build.ts          # write workflows/
 *   npx ts-node --transpile-only scripts/templates/build.ts --check  # exit 1 if out of date
 *
 * Only the fields n8n's public API accepts on POST /api/v1/workflows are
 * written: name, nodes, connections, settings (no id, active or tags).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXCEPTION_CATALOGUE } from '../../core/exceptions';
import { placeholderUses } from './placeholders';
import { TABLES, type TableKey } from './tables';

export const PACKAGE = 'n8n-nodes-rebound-khaos';

export interface N8nConnection {
	node: string;
	type: 'main';
	index: number;
}

export interface N8nNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string | null; name: string } | string>;
	/** A boolean, or a `{{…_DISABLED}}` placeholder that becomes one. */
	disabled?: boolean | string;
	executeOnce?: boolean;
	alwaysOutputData?: boolean;
	notes?: string;
	notesInFlow?: boolean;
	webhookId?: string;
	onError?: string;
}

export interface WorkflowTemplate {
	name: string;
	nodes: N8nNode[];
	connections: Record<string, { main: N8nConnection[][] }>;
	settings: Record<string, unknown>;
}

export interface TemplateInfo {
	/** File name under workflows/ without .json. */
	file: string;
	title: string;
	/** When the import command activates it: always, only when finance is batched, only when replay is scheduled. */
	activate: 'always' | 'financeBatched' | 'replayScheduled';
	build: () => WorkflowTemplate;
}

// ------------------------------------------------------------------ builder

function uuidFor(seed: string): string {
	const h = createHash('sha1').update(seed).digest('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

class Builder {
	private readonly nodes: N8nNode[] = [];
	private readonly connections: WorkflowTemplate['connections'] = {};

	constructor(
		private readonly key: string,
		private readonly name: string,
		/** High-volume workflows: whether successful runs are saved is a client value (the inbox row is the record). */
		private readonly keepSuccessSetting = false,
	) {}

	add(node: Omit<N8nNode, 'id'>): string {
		if (this.nodes.some((n) => n.name === node.name)) throw new Error(`${this.key}: duplicate node name ${node.name}`);
		this.nodes.push({ id: uuidFor(`${this.key}:${node.name}`), ...node });
		return node.name;
	}

	connect(from: string, to: string, output = 0, input = 0): this {
		const entry = (this.connections[from] ??= { main: [] });
		while (entry.main.length <= output) entry.main.push([]);
		entry.main[output].push({ node: to, type: 'main', index: input });
		return this;
	}

	build(): WorkflowTemplate {
		return {
			name: this.name,
			nodes: this.nodes,
			connections: this.connections,
			settings: {
				executionOrder: 'v1',
				timezone: '{{TIMEZONE}}',
				saveManualExecutions: true,
				saveDataErrorExecution: 'all',
				...(this.keepSuccessSetting ? { saveDataSuccessExecution: '{{SAVE_SUCCESS_EXECUTIONS}}' } : {}),
				callerPolicy: 'workflowsFromSameOwner',
			},
		};
	}
}

// ------------------------------------------------------------------ node helpers

const KHAOS_CREDENTIALS = { khaosControlApi: { id: '{{KHAOS_CREDENTIAL_ID}}', name: '{{KHAOS_CREDENTIAL_NAME}}' } };
const REBOUND_CREDENTIALS = { reBoundApi: { id: '{{REBOUND_CREDENTIAL_ID}}', name: '{{REBOUND_CREDENTIAL_NAME}}' } };
const SMTP_CREDENTIALS = { smtp: { id: '{{SMTP_CREDENTIAL_ID}}', name: '{{SMTP_CREDENTIAL_NAME}}' } };
const SLACK_CREDENTIALS = { slackApi: { id: '{{SLACK_CREDENTIAL_ID}}', name: '{{SLACK_CREDENTIAL_NAME}}' } };

type Pos = [number, number];

function tableLocator(table: TableKey) {
	const stem = TABLES[table].stem;
	return { __rl: true, mode: 'id', value: `{{${stem}_TABLE_ID}}`, cachedResultName: `{{${stem}_TABLE_NAME}}` };
}

interface Condition {
	keyName: string;
	condition: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'like' | 'ilike' | 'isEmpty' | 'isNotEmpty' | 'isTrue' | 'isFalse';
	keyValue?: string | number | boolean;
}

const eq = (keyName: string, keyValue: string | number | boolean): Condition => ({ keyName, condition: 'eq', keyValue });
const neq = (keyName: string, keyValue: string | number | boolean): Condition => ({ keyName, condition: 'neq', keyValue });

function columnsParam(table: TableKey, value: Record<string, string | number | boolean>) {
	for (const col of Object.keys(value)) {
		if (!TABLES[table].columns.some((c) => c.name === col)) throw new Error(`Table ${table} has no column ${col}`);
	}
	return {
		mappingMode: 'defineBelow',
		value,
		matchingColumns: [],
		schema: TABLES[table].columns
			.filter((c) => c.name in value)
			.map((c) => ({ id: c.name, displayName: c.name, required: false, defaultMatch: false, display: true, type: c.type, canBeUsedToMatch: true })),
		attemptToConvertTypes: false,
		convertFieldsToString: false,
	};
}

interface DataTableOptions {
	conditions?: Condition[];
	all?: boolean;
	columns?: Record<string, string | number | boolean>;
	returnAll?: boolean;
	limit?: number | string;
	orderBy?: { column: string; direction: 'ASC' | 'DESC' };
	/** Insert the input items as they come (their fields are the columns), in one bulk statement. */
	autoMap?: boolean;
}

function dataTableNode(name: string, position: Pos, table: TableKey, operation: 'get' | 'insert' | 'update' | 'upsert' | 'rowExists' | 'rowNotExists' | 'deleteRows', o: DataTableOptions = {}): Omit<N8nNode, 'id'> {
	const parameters: Record<string, unknown> = { resource: 'row', operation, dataTableId: tableLocator(table) };
	if (operation !== 'insert') {
		parameters.matchType = o.all ? 'allConditions' : 'anyCondition';
		parameters.filters = { conditions: o.conditions ?? [] };
	}
	if (operation === 'get') {
		parameters.returnAll = o.returnAll ?? true;
		if (!parameters.returnAll) parameters.limit = o.limit ?? 50;
		if (o.orderBy) {
			parameters.orderBy = true;
			parameters.orderByColumn = o.orderBy.column;
			parameters.orderByDirection = o.orderBy.direction;
		}
	}
	if (operation === 'insert' || operation === 'update' || operation === 'upsert') {
		parameters.columns = { ...columnsParam(table, o.columns ?? {}), ...(o.autoMap ? { mappingMode: 'autoMapInputData' } : {}) };
		parameters.options = o.autoMap ? { optimizeBulk: true } : {};
	}
	if (operation === 'deleteRows') parameters.options = {};
	return { name, type: 'n8n-nodes-base.dataTable', typeVersion: 1.1, position, parameters };
}

function ifNode(name: string, position: Pos, expression: string): Omit<N8nNode, 'id'> {
	return {
		name,
		type: 'n8n-nodes-base.if',
		typeVersion: 2.2,
		position,
		parameters: {
			conditions: {
				options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
				conditions: [{ id: uuidFor(`if:${name}`), leftValue: expression, rightValue: '', operator: { type: 'boolean', operation: 'true', singleValue: true } }],
				combinator: 'and',
			},
			options: {},
		},
	};
}

function filterNode(name: string, position: Pos, expression: string): Omit<N8nNode, 'id'> {
	return { ...ifNode(name, position, expression), type: 'n8n-nodes-base.filter' };
}

function parseJsonNode(name: string, position: Pos, expression: string, notes: string): Omit<N8nNode, 'id'> {
	return { name, type: 'n8n-nodes-base.set', typeVersion: 3.4, position, parameters: { mode: 'raw', jsonOutput: expression, options: {} }, notes, notesInFlow: true };
}

function sticky(name: string, position: Pos, content: string, width = 420, height = 300): Omit<N8nNode, 'id'> {
	return { name, type: 'n8n-nodes-base.stickyNote', typeVersion: 1, position, parameters: { content, width, height } };
}

function khaos(name: string, position: Pos, parameters: Record<string, unknown>, notes?: string): Omit<N8nNode, 'id'> {
	return { name, type: `${PACKAGE}.khaosControl`, typeVersion: 1, position, parameters, credentials: KHAOS_CREDENTIALS, ...(notes ? { notes, notesInFlow: true } : {}) };
}

function cronTrigger(name: string, position: Pos, cronPlaceholder: string): Omit<N8nNode, 'id'> {
	return { name, type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, position, parameters: { rule: { interval: [{ field: 'cronExpression', expression: cronPlaceholder }] } } };
}

/** The three mapping tables, read once per run (executeOnce; an empty table still lets the run go on). */
function addMappingReads(b: Builder, from: string[], x: number, y: number): string {
	const read = (name: string, table: TableKey, pos: Pos) =>
		b.add({ ...dataTableNode(name, pos, table, 'get', { returnAll: true }), executeOnce: true, alwaysOutputData: true });
	const d = read('Disposition Map', 'dispositions', [x, y]);
	const r = read('Reason Map', 'reasons', [x + 240, y]);
	const s = read('SKU Aliases', 'skuAliases', [x + 480, y]);
	for (const f of from) b.connect(f, d);
	b.connect(d, r).connect(r, s);
	return s;
}

const MAPPING_PARAMETERS = {
	operation: 'map',
	dispositionSource: 'json',
	dispositionJson: "={{ JSON.stringify($('Disposition Map').all().map(i => i.json).filter(r => r.disposition)) }}",
	reasonSource: 'json',
	reasonJson: "={{ JSON.stringify($('Reason Map').all().map(i => i.json).filter(r => r.reason)) }}",
	skuAliasSource: 'json',
	skuAliasJson: "={{ JSON.stringify($('SKU Aliases').all().map(i => i.json).filter(r => r.from)) }}",
};

const CREDIT_PARAMETERS = {
	resource: 'creditNote',
	operation: 'createFromReturn',
	options: {
		deliveryPolicy: '{{DELIVERY_POLICY}}',
		manualAuthCode: '{{MANUAL_AUTH_CODE}}',
		processReturn: true,
		rounding: '{{CREDIT_ROUNDING}}',
		tolerancePencePerLine: '{{CREDIT_TOLERANCE_PENCE}}',
	},
};

/** Text of a field of the item, '' when empty (Data table string columns). */
const text = (expr: string) => `={{ ${expr} == null ? '' : String(${expr}) }}`;

const htmlEscape = (expr: string) => `String(${expr} ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;')`;
/** Slack's control characters: text from a payload must not become <!channel>, a link or a mention. */
const slackEscape = (expr: string) => `String(${expr} ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')`;

/**
 * The exception sink: new problems are upserted into the exceptions table
 * (status open, attempts 1) and alerted; problems already in the table (same
 * key) get lastSeen, attempts + 1 and status open again. Returns the names of
 * the two entry nodes (connect every exception output to both).
 *
 * The "known" branch sits above the "new" one on purpose: with execution order
 * v1, n8n runs sibling branches top to bottom, so known problems are updated
 * before new ones are inserted (otherwise a new row would be seen as known in
 * the same run and counted twice).
 */
function addExceptionSink(b: Builder, x: number, y: number): [string, string] {
	const isNew = b.add({
		...dataTableNode('New Exception?', [x, y + 300], 'exceptions', 'rowNotExists', { conditions: [eq('key', '={{ $json.key }}')] }),
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
				status: 'open',
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
		...dataTableNode('Known Exception?', [x, y], 'exceptions', 'rowExists', { conditions: [eq('key', '={{ $json.key }}')] }),
		notes: 'Exception items already in the table (same key)',
		notesInFlow: true,
	});
	const stored = b.add(dataTableNode('Stored Exception', [x + 240, y], 'exceptions', 'get', { conditions: [eq('key', '={{ $json.key }}')], returnAll: false, limit: 1 }));
	const seen = "$('Known Exception?').item.json";
	const update = b.add(
		dataTableNode('Update Known Exception', [x + 480, y], 'exceptions', 'update', {
			conditions: [eq('key', '={{ $json.key }}')],
			columns: {
				status: 'open',
				stage: `={{ ${seen}.stage }}`,
				message: `={{ ${seen}.message }}`,
				lastSeen: `={{ ${seen}.occurredAt ?? $now.toISO() }}`,
				attempts: '={{ Number($json.attempts || 0) + 1 }}',
				resolvedAt: '',
				details: `={{ JSON.stringify(${seen}.details ?? {}) }}`,
				payload: `={{ ${seen}.payload ? String(${seen}.payload) : ($json.payload ?? '') }}`,
			},
		}),
	);
	b.connect(known, stored).connect(stored, update);
	return [isNew, known];
}

function connectToSink(b: Builder, from: string, output: number, sink: [string, string]): void {
	b.connect(from, sink[0], output).connect(from, sink[1], output);
}

// ------------------------------------------------------------------ 1a. intake

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

// Returns whose stock moved but whose credit is not in Khaos yet hold units of their orders, which the
// stock step counts against what the order sold (core/usecases/applyReturnStock.ts): rows waiting for
// credit posting (finance batched), and returns whose credit step failed after their stock moved (open
// exceptions of the return and credit stages keep the moved return as their payload). Read once per
// run, beside the main path (executeOnce), before the rows' own path (n8n's v1 order: top to bottom).
function addHeldRows(b: Builder, position: [number, number]) {
	const posting = b.add({
		...dataTableNode('Held by Credit Posting', position, 'inbox', 'get', { conditions: [eq('status', 'credit_queued')], returnAll: true }),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Stock moved, credit not posted yet: their units count against the order',
		notesInFlow: true,
	});
	const failed = b.add({
		...dataTableNode('Open Credit Exceptions', [position[0] + 240, position[1]], 'exceptions', 'get', { conditions: [eq('status', 'open')], returnAll: true }),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Credit failed after the stock moved: their units count too',
		notesInFlow: true,
	});
	b.connect(posting, failed);
	return posting;
}
const HELD_RETURNS =
	"={{ $('Held by Credit Posting').all().map((i) => i.json.mapped)" +
	".concat($('Open Credit Exceptions').all().filter((i) => i.json.stage === 'return' || i.json.stage === 'credit').map((i) => i.json.payload))" +
	'.filter((m) => !!m) }}';
const stockParameters = (changedAfterMove: 'block' | 'continue') => ({
	resource: 'stock',
	operation: 'applyReturnMoves',
	options: { adjustmentReason: '{{ADJUSTMENT_REASON}}', heldReturns: HELD_RETURNS, changedAfterMove },
});

// ------------------------------------------------------------------ 1b. processor

const THIS_RUNS_ROW = [eq('id', "={{ $('Mark Processing').item.json.id }}"), eq('status', 'processing'), eq('claim', '={{ $execution.id }}')];

export function buildProcessor(): WorkflowTemplate {
	const b = new Builder('processor', 'Returns: ReBound → Khaos – 2 process queue ({{CLIENT_NAME}})', true);
	b.add(
		sticky(
			'About',
			[-40, -300],
			'## Process the returns queue\nEvery {{PROCESS_EVERY_SECONDS}} s: take up to {{BATCH_SIZE}} `queued` inbox rows **in arrival order**, map them with the mapping Data Tables, ' +
				'validate the SKUs, apply the stock moves (**restock / quarantine first**), then create the credit note, or mark the row `credit_queued` when finance is batched.\n\n' +
				'Rows younger than {{SETTLE_SECONDS}} s wait for the next run, and a row whose return has a later event in the inbox is marked `superseded` (it moves nothing: the later event decides).\n\n' +
				'A row reads `done` only once its own credit note step succeeded; every exception output goes to the **exceptions** Data Table (and an alert) **before** its row becomes `exception`. Transient failures (Khaos down, rate limits) are retried on later runs up to {{MAX_TRANSIENT_ATTEMPTS}} times. ' +
				'A run starts only when no row is `processing` (runs never pile up); a row left `processing` by a crash is queued again after {{STALE_AFTER_MINUTES}} min, alone in its next run, at most {{MAX_REQUEUES}} times: after that it becomes a `stuck` exception. Khaos-side references make the re-run safe.',
			640,
			320,
		),
	);
	const trigger = b.add({
		name: 'Every Few Seconds',
		type: 'n8n-nodes-base.scheduleTrigger',
		typeVersion: 1.2,
		position: [0, 200],
		parameters: { rule: { interval: [{ field: 'seconds', secondsInterval: '{{PROCESS_EVERY_SECONDS}}' }] } },
	});
	// Crash recovery runs on its own minute schedule, not in every run: one Data Table write less per run
	// (a run every second spent ~0.1 s on it). A stalled row is requeued after STALE_AFTER_MINUTES anyway.
	const everyMinute = b.add({
		name: 'Every Minute',
		type: 'n8n-nodes-base.scheduleTrigger',
		typeVersion: 1.2,
		position: [0, 0],
		parameters: { rule: { interval: [{ field: 'minutes', minutesInterval: 1 }] } },
	});
	// The requeue is counted per row (requeues) and bounded: a row that stops a run every time (a record
	// that makes a node throw, say) would otherwise be requeued forever and hold the queue for
	// STALE_AFTER_MINUTES each time. After MAX_REQUEUES requeues, the next stall makes it a `stuck`
	// exception instead. One read, then one update per stalled row (stalls are rare; a per-row count
	// cannot be written by one update of many rows).
	const stalled = b.add({
		...dataTableNode('Stalled Rows', [240, 0], 'inbox', 'get', {
			all: true,
			conditions: [eq('status', 'processing'), { keyName: 'updatedAt', condition: 'lt', keyValue: '={{ $now.minus({ minutes: {{STALE_AFTER_MINUTES}} }).toISO() }}' }],
			returnAll: true,
		}),
		executeOnce: true,
		notes: 'Crash recovery: rows left processing by a run that stopped',
		notesInFlow: true,
	});
	const tooOften = b.add(ifNode('Requeued Too Often?', [480, 0], '={{ Number($json.requeues || 0) >= {{MAX_REQUEUES}} }}'));
	// The last error a stalled row had before it was first requeued is carried along in lastError (after
	// " | last error: "), so the stuck exception can quote it; the run that stopped is named by its claim.
	const cause = "((e) => e.startsWith('left processing') ? '' : e)(String($json.lastError || '').split(' | last error: ').pop())";
	const requeueRow = b.add({
		...dataTableNode('Requeue Stalled Row', [720, -60], 'inbox', 'update', {
			all: true,
			conditions: [eq('id', '={{ $json.id }}'), eq('status', 'processing')],
			columns: {
				status: 'queued',
				requeues: '={{ Number($json.requeues || 0) + 1 }}',
				lastError:
					"={{ 'left processing by execution ' + $json.claim + ' (requeue ' + (Number($json.requeues || 0) + 1) + ' of ' + {{MAX_REQUEUES}} + ')' + " +
					`((c) => c ? ' | last error: ' + c : '')(${cause}) }}`,
			},
		}),
		notes: 'Back to queued, counted (only if still processing)',
		notesInFlow: true,
	});
	const stuck = EXCEPTION_CATALOGUE.stuck;
	const stuckException = b.add(
		parseJsonNode(
			'Stuck Exception',
			[720, 100],
			// The item the exception sink expects (core/exceptions.ts ReturnException; key = exceptionKey('stuck', { returnId })).
			'={{ JSON.stringify({ exception: true, kind: \'stuck\', ' +
				`title: ${JSON.stringify(stuck.title)}, owner: ${JSON.stringify(stuck.owner)}, action: ${JSON.stringify(stuck.action)}, stage: 'processor', ` +
				"key: 'stuck|' + ($json.returnId || '-') + '|-|-', returnId: $json.returnId, displayId: $json.displayId, orderReference: $json.orderReference, " +
				"sku: null, lineId: null, code: null, field: null, occurredAt: $now.toISO(), payload: $json.payload || null, " +
				"details: { inboxId: $json.id, eventId: $json.eventId, sequence: $json.sequence, requeues: Number($json.requeues || 0), lastExecution: $json.claim }, " +
				"message: 'Return ' + ($json.displayId || $json.returnId) + ' (event ' + $json.eventId + ') was left processing by a processor run ' + (Number($json.requeues || 0) + 1) + " +
				"' times (requeued ' + Number($json.requeues || 0) + ' times, the limit), the last time by execution ' + $json.claim + '. Last error: ' + " +
				"(String($json.lastError || '') || 'none recorded (see that execution)') }) }}",
			'The row as a stuck exception (owner tech)',
		),
	);
	// Below the exception sink: the exception row is written before the inbox row leaves `processing` (see Mark Inbox Exception).
	const markStuck = b.add({
		...dataTableNode('Mark Inbox Stuck', [2880, 1700], 'inbox', 'update', {
			all: true,
			conditions: [eq('id', "={{ $('Stalled Rows').item.json.id }}"), eq('status', 'processing')],
			columns: { status: 'exception', processedAt: '={{ $now.toISO() }}', lastError: '={{ $json.message }}' },
		}),
		notes: 'After its exception row is written',
		notesInFlow: true,
	});
	b.connect(everyMinute, stalled).connect(stalled, tooOften).connect(tooOften, stuckException, 0).connect(tooOften, requeueRow, 1).connect(stuckException, markStuck);
	// One run at a time: the schedule starts a run every few seconds whatever the previous one is
	// doing; under Khaos faults a run can take minutes, and overlapping runs took the same rows and
	// piled up (the soak saw ~200 processor executions running at once and throughput collapse). A run
	// goes on only when no row is `processing`; a crashed run's rows are requeued above after
	// STALE_AFTER_MINUTES, so a crash never blocks the queue for longer.
	const idle = b.add({
		...dataTableNode('No Run In Progress?', [240, 400], 'inbox', 'rowNotExists', { conditions: [eq('status', 'processing')] }),
		executeOnce: true,
		notes: 'Skips this run while another run holds rows (processing)',
		notesInFlow: true,
	});
	b.connect(trigger, idle);
	const lastTable = addMappingReads(b, [idle], 480, 200);
	// Only rows older than SETTLE_SECONDS (n8n's own createdAt): under load the intake inserts seconds
	// behind its answers, and a later event of the same return that is still on its way would otherwise
	// find its older event already applied (docs/idempotency.md). Younger rows wait for the next run.
	const queued = b.add({
		...dataTableNode('Queued Returns', [1200, 200], 'inbox', 'get', {
			all: true,
			conditions: [eq('status', 'queued'), { keyName: 'createdAt', condition: 'lt', keyValue: '={{ $now.minus({ seconds: {{SETTLE_SECONDS}} }).toISO() }}' }],
			returnAll: false,
			limit: '{{BATCH_SIZE}}',
			orderBy: { column: 'id', direction: 'ASC' },
		}),
		executeOnce: true,
		notes: 'Oldest first (arrival order), settled rows only, at most one batch',
		notesInFlow: true,
	});
	// Claim the whole batch with ONE compare-and-set update: rows from the first to the last id read
	// above that are still queued become processing, and the update returns exactly the rows it
	// changed, so a run that overlaps another (or a row requeued meanwhile) never takes a row twice
	// (found by the benchmark: overlapping runs re-processing the same rows). One update for the batch
	// instead of one per row: per-row Data Table writes were the processor's largest cost. (SQLite
	// gives the rows back in id order; where a database does not, two rows of one return still end
	// the same way: the Khaos nodes apply the first and settle the other as its duplicate.)
	// A requeued row (a run stopped with it) comes first again, being the oldest: it is claimed ALONE, so
	// a record that stops every run it is in stops only its own runs and ends `stuck` by itself, while
	// the rows that shared its batch go through one by one.
	const first = "$('Queued Returns').first().json";
	const processing = b.add({
		...dataTableNode('Mark Processing', [1440, 200], 'inbox', 'update', {
			all: true,
			conditions: [
				eq('status', 'queued'),
				{ keyName: 'id', condition: 'gte', keyValue: `={{ ${first}.id }}` },
				{ keyName: 'id', condition: 'lte', keyValue: `={{ Number(${first}.requeues || 0) > 0 ? ${first}.id : $('Queued Returns').last().json.id }}` },
			],
			columns: { status: 'processing', claim: '={{ $execution.id }}' },
		}),
		executeOnce: true,
		notes: 'Claims the batch in one update (only rows still queued): overlapping runs never take the same row',
		notesInFlow: true,
	});
	// Out of order: a claimed row whose return has a later event (a higher sequence) anywhere in the inbox
	// is `superseded` and moves nothing; the later event decides. The Data table node has no "in" or
	// join condition, so this is one Get per claimed row (limit 1). n8n's v1 order runs the children of
	// Mark Processing top to bottom, so the Get has run for every row before Superseded? reads it.
	const later = b.add({
		...dataTableNode('Later Event in Inbox', [1680, 40], 'inbox', 'get', {
			all: true,
			conditions: [eq('returnId', '={{ $json.returnId }}'), { keyName: 'sequence', condition: 'gt', keyValue: '={{ $json.sequence }}' }],
			returnAll: false,
			limit: 1,
		}),
		alwaysOutputData: true,
		notes: 'Per claimed row: a row of the same return with a later sequence',
		notesInFlow: true,
	});
	const laterOf = "$('Later Event in Inbox').all().find(l => l.json.returnId === $json.returnId && Number(l.json.sequence) > Number($json.sequence))";
	const superseded = b.add(ifNode('Superseded?', [1680, 260], `={{ !!${laterOf} }}`));
	const markSuperseded = b.add({
		...dataTableNode('Mark Superseded', [1920, 420], 'inbox', 'update', {
			conditions: [eq('id', '={{ $json.id }}')],
			columns: {
				status: 'superseded',
				processedAt: '={{ $now.toISO() }}',
				lastError: `={{ 'superseded by a later event of the return (sequence ' + ${laterOf}.json.sequence + '): nothing moved' }}`,
			},
		}),
		notes: 'Moves nothing: the later event of the return decides',
		notesInFlow: true,
	});
	// Map Returns reads the return from each claimed row's payload itself (no parse node, no expression per row).
	const map = b.add({ name: 'Map Returns', type: `${PACKAGE}.returnsMapping`, typeVersion: 1, position: [1920, 200], parameters: MAPPING_PARAMETERS });
	const validate = b.add(khaos('Validate SKUs', [2160, 100], { resource: 'product', operation: 'validateSkus', mappingType: 1 }, 'Exists, not archived, stock controlled'));
	const stock = b.add(
		khaos('Apply Stock Moves', [2400, 0], stockParameters('block'), 'Restock / quarantine before any credit, bounded by the order'),
	);
	const batched = b.add(ifNode('Finance Batched?', [2640, 0], '={{ {{FINANCE_BATCHED}} }}'));
	const queueCredit = b.add({
		...dataTableNode('Queue for Credit Posting', [2880, -120], 'inbox', 'update', {
			all: true,
			// this row, only while this run holds it: a run that outlived the stall limit (its rows
			// requeued or stuck, maybe claimed by another run) must not overwrite what came after
			conditions: THIS_RUNS_ROW,
			columns: { status: 'credit_queued', mapped: '={{ JSON.stringify($json) }}', lastError: '' },
		}),
		notes: 'Stock done; the posting workflow creates the credit note',
		notesInFlow: true,
	});
	const credit = b.add(khaos('Create Credit Note', [2880, 80], CREDIT_PARAMETERS, 'Values from the original Khaos order'));
	// Only the rows that succeeded become done, each by its id (its item pairs back to Mark Processing's
	// row), once its credit note step has succeeded. One update per succeeded row: the Data table node's
	// conditions (equals, not equals, greater / less than, contains, empty, true / false) cannot name a
	// set of ids, and the one-update form (this run's rows still processing) also caught the excepted
	// rows of the batch, which n8n's v1 order settles only after this branch: for a moment, or for good
	// after a crash, they read done with no exception row. Every other end of a row is its own update
	// on the failure path, after its exception row. The credit note's reference is RB-<returnId>.
	const done = b.add({
		...dataTableNode('Mark Done', [3120, 80], 'inbox', 'update', {
			all: true,
			// this row, only while this run holds it: a run that outlived the stall limit (its rows
			// requeued or stuck, maybe claimed by another run) must not overwrite what came after
			conditions: THIS_RUNS_ROW,
			columns: { status: 'done', processedAt: '={{ $now.toISO() }}', lastError: '' },
		}),
		notes: 'Each row whose credit note step succeeded, by id',
		notesInFlow: true,
	});
	const retry = b.add(
		ifNode('Retry Later?', [2640, 500], "={{ $json.kind === 'transient_exhausted' && Number($('Mark Processing').item.json.attempts || 0) + 1 < {{MAX_TRANSIENT_ATTEMPTS}} }}"),
	);
	const requeueRetry = b.add({
		...dataTableNode('Requeue for Retry', [2880, 400], 'inbox', 'update', {
			all: true,
			// this row, only while this run holds it: a run that outlived the stall limit (its rows
			// requeued or stuck, maybe claimed by another run) must not overwrite what came after
			conditions: THIS_RUNS_ROW,
			columns: { status: 'queued', attempts: "={{ Number($('Mark Processing').item.json.attempts || 0) + 1 }}", lastError: '={{ $json.message }}' },
		}),
		notes: 'Transient failure: tried again on a later run (attempts counts these)',
		notesInFlow: true,
	});
	const markException = b.add(
		// Below the exception sink on purpose: n8n's v1 order runs the children of one output top to
		// bottom, each branch to its end, so the exception row is written BEFORE the inbox row leaves
		// `processing`. The other order lost two exceptions in the full soak when n8n was killed between
		// the two (the inbox said "exception", the exceptions table had no row, nothing requeued it).
		dataTableNode('Mark Inbox Exception', [2880, 1500], 'inbox', 'update', {
			all: true,
			// this row, only while this run holds it: a run that outlived the stall limit (its rows
			// requeued or stuck, maybe claimed by another run) must not overwrite what came after
			conditions: THIS_RUNS_ROW,
			columns: { status: "={{ $json.kind === 'credit_mismatch' ? 'done' : 'exception' }}", lastError: '={{ $json.message }}' },
		}),
	);
	const sink = addExceptionSink(b, 2880, 900);

	// children of Mark Processing run top to bottom (n8n's v1 order): held rows, later events, then the rows
	const held = addHeldRows(b, [1680, -120]);
	b.connect(lastTable, queued).connect(queued, processing).connect(processing, held).connect(processing, later).connect(processing, superseded);
	b.connect(superseded, markSuperseded, 0).connect(superseded, map, 1);
	b.connect(map, validate, 0).connect(validate, stock, 0).connect(stock, batched, 0);
	b.connect(batched, queueCredit, 0).connect(batched, credit, 1).connect(credit, done, 0);
	for (const [from, output] of [
		[map, 1],
		[validate, 1],
		[stock, 1],
		[credit, 1],
	] as const)
		b.connect(from, retry, output);
	b.connect(retry, requeueRetry, 0).connect(retry, markException, 1);
	connectToSink(b, retry, 1, sink);
	connectToSink(b, stuckException, 0, sink);
	return b.build();
}

// ------------------------------------------------------------------ 2. credit-note posting

export function buildCreditPosting(): WorkflowTemplate {
	const b = new Builder('creditPosting', 'Returns: credit-note posting ({{CLIENT_NAME}})');
	b.add(
		sticky(
			'About',
			[-40, -260],
			'## Credit-note posting (finance batching)\nFor clients who post credit notes in batches: on the schedule `{{CREDIT_POSTING_CRON}}` it takes every `credit_queued` inbox row in arrival order ' +
				'(their stock moves were applied by the processor) and creates the credit notes from the original Khaos orders. ' +
				'A credit note that already exists is reported as a duplicate, never raised twice. Only active when finance batching is on.',
			560,
			220,
		),
	);
	const trigger = b.add(cronTrigger('On Posting Schedule', [0, 200], '{{CREDIT_POSTING_CRON}}'));
	const rows = b.add(
		dataTableNode('Credit-Queued Returns', [240, 200], 'inbox', 'get', { conditions: [eq('status', 'credit_queued')], returnAll: true, orderBy: { column: 'id', direction: 'ASC' } }),
	);
	const parse = b.add(parseJsonNode('Parse Mapped Return', [480, 200], '={{ $json.mapped }}', 'The mapped return after its stock moves'));
	const credit = b.add(khaos('Create Credit Note', [720, 200], CREDIT_PARAMETERS, 'Values from the original Khaos order'));
	const done = b.add(
		dataTableNode('Mark Done', [960, 100], 'inbox', 'update', {
			conditions: [eq('id', "={{ $('Credit-Queued Returns').item.json.id }}")],
			columns: { status: 'done', processedAt: '={{ $now.toISO() }}', creditNoteRef: text('$json.associatedRef'), lastError: '' },
		}),
	);
	const row = "$('Credit-Queued Returns').item.json";
	const retry = b.add(ifNode('Retry Later?', [960, 400], `={{ $json.kind === 'transient_exhausted' && Number(${row}.attempts || 0) + 1 < {{MAX_TRANSIENT_ATTEMPTS}} }}`));
	const keep = b.add({
		...dataTableNode('Keep Queued', [1200, 300], 'inbox', 'update', {
			conditions: [eq('id', `={{ ${row}.id }}`)],
			columns: { attempts: `={{ Number(${row}.attempts || 0) + 1 }}`, lastError: '={{ $json.message }}' },
		}),
		notes: 'Transient failure: posted on the next run',
		notesInFlow: true,
	});
	const markException = b.add(
		// Below the exception sink: the exception row is written first (see the processor).
		dataTableNode('Mark Inbox Exception', [1200, 1400], 'inbox', 'update', {
			conditions: [eq('id', `={{ ${row}.id }}`)],
			columns: { status: "={{ $json.kind === 'credit_mismatch' ? 'done' : 'exception' }}", lastError: '={{ $json.message }}' },
		}),
	);
	const sink = addExceptionSink(b, 1200, 800);
	b.connect(trigger, rows).connect(rows, parse).connect(parse, credit).connect(credit, done, 0).connect(credit, retry, 1);
	b.connect(retry, keep, 0).connect(retry, markException, 1);
	connectToSink(b, retry, 1, sink);
	return b.build();
}

// ------------------------------------------------------------------ 3. reconciliation

export function buildReconciliation(): WorkflowTemplate {
	const b = new Builder('reconciliation', 'Returns: daily reconciliation ({{CLIENT_NAME}})');
	b.add(
		sticky(
			'About',
			[-40, -260],
			"## Daily reconciliation\nOn `{{RECONCILIATION_CRON}}`: yesterday's processed returns in ReBound against Khaos stock moves and credit notes, " +
				'plus the open exceptions. Counts and values by status, stuck items by age, value mismatches, open exceptions by type and age. ' +
				'The report is e-mailed and/or posted to Slack. See docs/reconciliation.md for what each number means.\n\n' +
				'Housekeeping first: inbox rows `done` and exceptions `resolved` more than {{KEEP_DONE_DAYS}} days ago are deleted (Data Tables have a size limit).',
			560,
			220,
		),
	);
	const trigger = b.add(cronTrigger('Every Morning', [0, 200], '{{RECONCILIATION_CRON}}'));
	const before = "={{ $now.minus({ days: {{KEEP_DONE_DAYS}} }).toISO() }}";
	const purgeInbox = b.add({
		...dataTableNode('Purge Old Done Rows', [240, 200], 'inbox', 'deleteRows', {
			all: true,
			conditions: [eq('status', 'done'), { keyName: 'updatedAt', condition: 'lt', keyValue: before }],
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Housekeeping: Data Tables have a size limit',
		notesInFlow: true,
	});
	const purgeExceptions = b.add({
		...dataTableNode('Purge Old Resolved Exceptions', [480, 200], 'exceptions', 'deleteRows', {
			all: true,
			conditions: [eq('status', 'resolved'), { keyName: 'updatedAt', condition: 'lt', keyValue: before }],
		}),
		executeOnce: true,
		alwaysOutputData: true,
	});
	const open = b.add({
		...dataTableNode('Open Exceptions', [720, 200], 'exceptions', 'get', { conditions: [eq('status', 'open')], returnAll: true }),
		executeOnce: true,
		alwaysOutputData: true,
	});
	const search = b.add({
		name: "Yesterday's Returns",
		type: `${PACKAGE}.reBound`,
		typeVersion: 1,
		position: [960, 200],
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
			[1200, 200],
			{
				resource: 'return',
				operation: 'reconcile',
				exceptionsJson: "={{ JSON.stringify($('Open Exceptions').all().map(i => i.json).filter(r => r.key)) }}",
				options: {
					tolerancePencePerLine: '{{CREDIT_TOLERANCE_PENCE}}',
					title: '=Returns reconciliation {{CLIENT_NAME}} – {{ $today.minus({ days: 1 }).toISODate() }}',
				},
			},
			'ReBound vs Khaos stock moves and credit notes',
		),
	);
	const email = b.add({
		name: 'Email Report',
		type: 'n8n-nodes-base.emailSend',
		typeVersion: 2.1,
		position: [1440, 100],
		executeOnce: true,
		disabled: '{{REPORT_EMAIL_DISABLED}}',
		credentials: SMTP_CREDENTIALS,
		parameters: {
			resource: 'email',
			operation: 'send',
			fromEmail: '{{ALERT_EMAIL_FROM}}',
			toEmail: '{{REPORT_EMAIL_TO}}',
			subject: '=Returns reconciliation {{CLIENT_NAME}}: {{ $today.minus({ days: 1 }).toISODate() }}',
			emailFormat: 'html',
			html: "={{ $json.html ?? ('<pre>' + JSON.stringify($json, null, 2) + '</pre>') }}",
			options: { appendAttribution: false },
		},
	});
	const slack = b.add({
		name: 'Post Report to Slack',
		type: 'n8n-nodes-base.slack',
		typeVersion: 2.3,
		position: [1440, 300],
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
	b.connect(trigger, purgeInbox).connect(purgeInbox, purgeExceptions).connect(purgeExceptions, open).connect(open, search).connect(search, reconcile).connect(reconcile, email).connect(reconcile, slack);
	return b.build();
}

// ------------------------------------------------------------------ 4. exception replay

export const REPLAYABLE_KINDS = [
	'unmapped_disposition',
	'unmapped_reason',
	'unknown_sku',
	'archived_sku',
	'order_not_found',
	'khaos_rejected',
	'transient_exhausted',
	'invalid_payload',
	'line_not_on_order',
	'quantity_exceeds_sold',
	'regraded_after_move',
] as const;
// Not replayed on a schedule: `stuck` (a record that stopped the processor three times would stop every
// replay run it is in; replay it by hand once its cause is fixed: set its inbox row back to queued) and
// `credit_mismatch` (the credit note exists; finance decides).

export function buildReplay(): WorkflowTemplate {
	const b = new Builder('replay', 'Returns: exception replay ({{CLIENT_NAME}})');
	b.add(
		sticky(
			'About',
			[-40, -300],
			'## Replay exceptions\nAfter fixing the cause (a mapping row, a SKU alias, Khaos back up…) run this workflow (**Execute workflow**), or let it run on its schedule. ' +
				'It takes the **open** exceptions of replayable kinds (one per return, oldest first) and runs their stored record through mapping → SKU check → stock → credit again. ' +
				'Success marks every open exception of that return `resolved`; a failure bumps `attempts` and `lastSeen`. Stock moves and credit notes are never applied twice.\n\n' +
				'A replayed `regraded_after_move` goes on to its credit note and moves nothing (ops have dealt with the unit); a replayed `quantity_exceeds_sold` is checked against the order again.\n\n' +
				'Not replayed: `credit_mismatch` (finance decides; set it `resolved` by hand) and `stuck` (fix the cause, then set its inbox row back to `queued`).',
			640,
			260,
		),
	);
	const manual = b.add({ name: 'Run Now', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 100], parameters: {} });
	const scheduled = b.add({
		name: 'On Replay Schedule',
		type: 'n8n-nodes-base.scheduleTrigger',
		typeVersion: 1.2,
		position: [0, 300],
		disabled: '{{REPLAY_SCHEDULE_DISABLED}}',
		parameters: { rule: { interval: [{ field: 'minutes', minutesInterval: '{{REPLAY_EVERY_MINUTES}}' }] } },
	});
	const lastTable = addMappingReads(b, [manual, scheduled], 240, 200);
	const open = b.add({
		...dataTableNode('Open Exceptions', [960, 200], 'exceptions', 'get', { conditions: [eq('status', 'open')], returnAll: true, orderBy: { column: 'id', direction: 'ASC' } }),
		executeOnce: true,
	});
	const kinds = JSON.stringify(REPLAYABLE_KINDS).replace(/"/g, "'");
	const replayable = b.add({
		...filterNode(
			'Replayable, One per Return',
			[1200, 200],
			`={{ ${kinds}.includes($json.kind) && !!$json.payload && !!$json.returnId && ` +
				`$input.all().findIndex(i => i.json.returnId === $json.returnId && ${kinds}.includes(i.json.kind) && !!i.json.payload) === $itemIndex }}`,
		),
		notes: 'Kinds a fix can clear; the oldest exception of each return',
		notesInFlow: true,
	});
	const parse = b.add(parseJsonNode('Parse Stored Record', [1440, 200], '={{ $json.payload }}', 'The record as it was when it failed'));
	const map = b.add({ name: 'Map Returns', type: `${PACKAGE}.returnsMapping`, typeVersion: 1, position: [1680, 200], parameters: MAPPING_PARAMETERS });
	const validate = b.add(khaos('Validate SKUs', [1920, 100], { resource: 'product', operation: 'validateSkus', mappingType: 1 }));
	const stock = b.add(khaos('Apply Stock Moves', [2160, 0], stockParameters('continue')));
	const batched = b.add(ifNode('Finance Batched?', [2400, 0], '={{ {{FINANCE_BATCHED}} }}'));
	const queueCredit = b.add({
		...dataTableNode('Queue for Credit Posting', [2640, -120], 'inbox', 'insert', {
			columns: {
				eventId: "={{ 'replay:' + $json.returnId + ':' + $now.toMillis() }}",
				returnId: '={{ $json.returnId }}',
				displayId: text('$json.displayId'),
				orderReference: text('$json.orderReference'),
				eventType: 'replay',
				sequence: 0,
				receivedAt: '={{ $now.toISO() }}',
				status: 'credit_queued',
				attempts: 0,
				lastError: '',
				payload: '',
				mapped: '={{ JSON.stringify($json) }}',
			},
		}),
		notes: 'Stock done; the posting workflow creates the credit note',
		notesInFlow: true,
	});
	const credit = b.add(khaos('Create Credit Note', [2640, 80], CREDIT_PARAMETERS));
	const resolve = b.add({
		...dataTableNode('Resolve Exceptions', [2880, 0], 'exceptions', 'update', {
			all: true,
			conditions: [eq('returnId', '={{ $json.returnId }}'), eq('status', 'open'), neq('kind', 'credit_mismatch')],
			columns: { status: 'resolved', resolvedAt: '={{ $now.toISO() }}' },
		}),
		notes: 'Every open exception of the return that the replay cleared',
		notesInFlow: true,
	});
	const replayed = b.add(
		dataTableNode('Mark Inbox Replayed', [2880, 200], 'inbox', 'update', {
			all: true,
			conditions: [eq('returnId', '={{ $json.returnId }}'), eq('status', 'exception')],
			columns: { status: 'replayed', processedAt: '={{ $now.toISO() }}' },
		}),
	);
	const sink = addExceptionSink(b, 2640, 600);

	const held = addHeldRows(b, [1200, 0]);
	b.connect(lastTable, open).connect(open, held).connect(open, replayable).connect(replayable, parse).connect(parse, map);
	b.connect(map, validate, 0).connect(validate, stock, 0).connect(stock, batched, 0);
	b.connect(batched, queueCredit, 0).connect(batched, credit, 1);
	b.connect(queueCredit, resolve).connect(queueCredit, replayed).connect(credit, resolve, 0).connect(credit, replayed, 0);
	for (const [from, output] of [
		[map, 1],
		[validate, 1],
		[stock, 1],
		[credit, 1],
	] as const)
		connectToSink(b, from, output, sink);
	return b.build();
}

// ------------------------------------------------------------------ catalogue

export const TEMPLATES: TemplateInfo[] = [
	{ file: 'returns-intake', title: 'Returns: ReBound → Khaos – 1 intake', activate: 'always', build: buildIntake },
	{ file: 'returns-processor', title: 'Returns: ReBound → Khaos – 2 process queue', activate: 'always', build: buildProcessor },
	{ file: 'credit-posting', title: 'Returns: credit-note posting', activate: 'financeBatched', build: buildCreditPosting },
	{ file: 'reconciliation', title: 'Returns: daily reconciliation', activate: 'always', build: buildReconciliation },
	{ file: 'exception-replay', title: 'Returns: exception replay', activate: 'replayScheduled', build: buildReplay },
];

export const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');

export function renderTemplate(info: TemplateInfo): string {
	const template = info.build();
	// fails loudly when a placeholder stands where its value could become expression code
	placeholderUses(template, `${info.file}.json`);
	return `${JSON.stringify(template, null, '\t')}\n`;
}

function main(argv: string[]): number {
	const check = argv.includes('--check');
	let stale = 0;
	for (const info of TEMPLATES) {
		const file = path.join(WORKFLOWS_DIR, `${info.file}.json`);
		const text = renderTemplate(info);
		const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
		if (current === text) continue;
		if (check) {
			console.error(`${path.relative(process.cwd(), file)} is out of date: run scripts/templates/build.ts`);
			stale++;
		} else {
			fs.writeFileSync(file, text);
			console.log(`wrote ${path.relative(process.cwd(), file)}`);
		}
	}
	return stale ? 1 : 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
