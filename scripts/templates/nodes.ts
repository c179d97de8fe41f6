/**
 * Node helpers shared by the templates: Data table rows, If / Filter / Set nodes,
 * the package's nodes with their credentials, and the parameter sets and node
 * groups (with their section stickies) more than one template uses.
 */
import { uuidFor, type Builder, type N8nNode } from './builder';
import { TABLES, type TableKey } from './tables';

export const PACKAGE = 'n8n-nodes-rebound-khaos';

export const KHAOS_CREDENTIALS = {
	khaosControlApi: { id: '{{KHAOS_CREDENTIAL_ID}}', name: '{{KHAOS_CREDENTIAL_NAME}}' },
};
export const REBOUND_CREDENTIALS = {
	reBoundApi: { id: '{{REBOUND_CREDENTIAL_ID}}', name: '{{REBOUND_CREDENTIAL_NAME}}' },
};
export const SMTP_CREDENTIALS = {
	smtp: { id: '{{SMTP_CREDENTIAL_ID}}', name: '{{SMTP_CREDENTIAL_NAME}}' },
};
export const SLACK_CREDENTIALS = {
	slackApi: { id: '{{SLACK_CREDENTIAL_ID}}', name: '{{SLACK_CREDENTIAL_NAME}}' },
};

export type Pos = [number, number];

export function tableLocator(table: TableKey) {
	const stem = TABLES[table].stem;
	return {
		__rl: true,
		mode: 'id',
		value: `{{${stem}_TABLE_ID}}`,
		cachedResultName: `{{${stem}_TABLE_NAME}}`,
	};
}

export interface Condition {
	keyName: string;
	condition:
		| 'eq'
		| 'neq'
		| 'lt'
		| 'lte'
		| 'gt'
		| 'gte'
		| 'like'
		| 'ilike'
		| 'isEmpty'
		| 'isNotEmpty'
		| 'isTrue'
		| 'isFalse';
	keyValue?: string | number | boolean;
}

export const eq = (keyName: string, keyValue: string | number | boolean): Condition => ({
	keyName,
	condition: 'eq',
	keyValue,
});
export const neq = (keyName: string, keyValue: string | number | boolean): Condition => ({
	keyName,
	condition: 'neq',
	keyValue,
});

export function columnsParam(table: TableKey, value: Record<string, string | number | boolean>) {
	for (const col of Object.keys(value)) {
		if (!TABLES[table].columns.some((c) => c.name === col))
			throw new Error(`Table ${table} has no column ${col}`);
	}
	return {
		mappingMode: 'defineBelow',
		value,
		matchingColumns: [],
		schema: TABLES[table].columns
			.filter((c) => c.name in value)
			.map((c) => ({
				id: c.name,
				displayName: c.name,
				required: false,
				defaultMatch: false,
				display: true,
				type: c.type,
				canBeUsedToMatch: true,
			})),
		attemptToConvertTypes: false,
		convertFieldsToString: false,
	};
}

export interface DataTableOptions {
	conditions?: Condition[];
	all?: boolean;
	columns?: Record<string, string | number | boolean>;
	returnAll?: boolean;
	limit?: number | string;
	orderBy?: { column: string; direction: 'ASC' | 'DESC' };
	/** Insert the input items as they come (their fields are the columns), in one bulk statement. */
	autoMap?: boolean;
}

export function dataTableNode(
	name: string,
	position: Pos,
	table: TableKey,
	operation: 'get' | 'insert' | 'update' | 'upsert' | 'rowExists' | 'rowNotExists' | 'deleteRows',
	o: DataTableOptions = {},
): Omit<N8nNode, 'id'> {
	const parameters: Record<string, unknown> = {
		resource: 'row',
		operation,
		dataTableId: tableLocator(table),
	};
	// n8n's Row Exists / Row Not Exists hide the condition operator (always "equals"): a stored
	// `lt` would be dropped when n8n resolves the parameters, leaving an equality that matches nothing
	if (
		(operation === 'rowExists' || operation === 'rowNotExists') &&
		(o.conditions ?? []).some((c) => (c.condition ?? 'eq') !== 'eq')
	)
		throw new Error(`${name}: ${operation} compares by equality only (use a Get with a limit)`);
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
		parameters.columns = {
			...columnsParam(table, o.columns ?? {}),
			...(o.autoMap ? { mappingMode: 'autoMapInputData' } : {}),
		};
		parameters.options = o.autoMap ? { optimizeBulk: true } : {};
	}
	if (operation === 'deleteRows') parameters.options = {};
	return { name, type: 'n8n-nodes-base.dataTable', typeVersion: 1.1, position, parameters };
}

export function ifNode(name: string, position: Pos, expression: string): Omit<N8nNode, 'id'> {
	return {
		name,
		type: 'n8n-nodes-base.if',
		typeVersion: 2.2,
		position,
		parameters: {
			conditions: {
				options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
				conditions: [
					{
						id: uuidFor(`if:${name}`),
						leftValue: expression,
						rightValue: '',
						operator: { type: 'boolean', operation: 'true', singleValue: true },
					},
				],
				combinator: 'and',
			},
			options: {},
		},
	};
}

/**
 * An If on a boolean the import fills in (a placeholder that is exactly the left value becomes a
 * JSON boolean): no expression evaluated per item. Loose type validation, so that a person who
 * types `true` or `false` over it in the editor (a string then) still gets a working node.
 */
export function constantIfNode(
	name: string,
	position: Pos,
	placeholder: string,
	notes: string,
): Omit<N8nNode, 'id'> {
	const n = ifNode(name, position, `{{${placeholder}}}`);
	const { conditions } = n.parameters as { conditions: { options: Record<string, unknown> } };
	return {
		...n,
		parameters: {
			...n.parameters,
			conditions: { ...conditions, options: { ...conditions.options, typeValidation: 'loose' } },
			looseTypeValidation: true,
		},
		notes,
		notesInFlow: true,
	};
}

export function filterNode(name: string, position: Pos, expression: string): Omit<N8nNode, 'id'> {
	return { ...ifNode(name, position, expression), type: 'n8n-nodes-base.filter' };
}

export function parseJsonNode(
	name: string,
	position: Pos,
	expression: string,
	notes: string,
): Omit<N8nNode, 'id'> {
	return {
		name,
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		position,
		parameters: { mode: 'raw', jsonOutput: expression, options: {} },
		notes,
		notesInFlow: true,
	};
}

export function khaos(
	name: string,
	position: Pos,
	parameters: Record<string, unknown>,
	notes?: string,
): Omit<N8nNode, 'id'> {
	return {
		name,
		type: `${PACKAGE}.khaosControl`,
		typeVersion: 1,
		position,
		parameters,
		credentials: KHAOS_CREDENTIALS,
		...(notes ? { notes, notesInFlow: true } : {}),
	};
}

/** The ReBound node searching the returns graded between two dates (expressions), once per run, emitting the returns. */
export function reboundSearchNode(
	name: string,
	position: Pos,
	dateFrom: string,
	dateTo: string,
): Omit<N8nNode, 'id'> {
	return {
		name,
		type: `${PACKAGE}.reBound`,
		typeVersion: 1,
		position,
		executeOnce: true,
		alwaysOutputData: true,
		credentials: REBOUND_CREDENTIALS,
		parameters: {
			resource: 'return',
			operation: 'search',
			dateFrom: `=${dateFrom}`,
			dateTo: `=${dateTo}`,
			output: 'returns',
			options: {},
		},
	};
}

export function cronTrigger(
	name: string,
	position: Pos,
	cronPlaceholder: string,
): Omit<N8nNode, 'id'> {
	return {
		name,
		type: 'n8n-nodes-base.scheduleTrigger',
		typeVersion: 1.2,
		position,
		parameters: { rule: { interval: [{ field: 'cronExpression', expression: cronPlaceholder }] } },
	};
}

/** The three mapping tables, read once per run (executeOnce; an empty table still lets the run go on). */
export function addMappingReads(b: Builder, from: string[], x: number, y: number): string {
	const read = (name: string, table: TableKey, pos: Pos) =>
		b.add({
			...dataTableNode(name, pos, table, 'get', { returnAll: true }),
			executeOnce: true,
			alwaysOutputData: true,
		});
	const d = read('Disposition Map', 'dispositions', [x, y]);
	const r = read('Reason Map', 'reasons', [x + 240, y]);
	const s = read('SKU Aliases', 'skuAliases', [x + 480, y]);
	for (const f of from) b.connect(f, d);
	b.connect(d, r).connect(r, s);
	b.section(
		'Mapping tables',
		'The disposition, reason and SKU alias tables, read once per run: an edited row counts from the next run.',
		[d, r, s],
	);
	return s;
}

/**
 * Map Returns in the templates: a return that does not map goes on carrying its problems, so that
 * Validate SKUs and Apply Stock Moves report every problem of it in one pass (nothing moves).
 */
export const MAPPING_PARAMETERS = {
	operation: 'map',
	unmappedReturns: 'passOn',
	dispositionSource: 'json',
	dispositionJson:
		"={{ JSON.stringify($('Disposition Map').all().map(i => i.json).filter(r => r.disposition)) }}",
	reasonSource: 'json',
	reasonJson: "={{ JSON.stringify($('Reason Map').all().map(i => i.json).filter(r => r.reason)) }}",
	skuAliasSource: 'json',
	skuAliasJson:
		"={{ JSON.stringify($('SKU Aliases').all().map(i => i.json).filter(r => r.from)) }}",
	lineActions: {
		rulesJson: '{{LINE_ACTION_RULES_JSON}}',
		other: '{{LINE_ACTION_OTHER}}',
		none: '{{LINE_ACTION_NONE}}',
	},
};

/** Validate SKUs in the templates: problems go on to the stock step (one pass); discontinued → notice. */
export const VALIDATE_PARAMETERS = {
	resource: 'product',
	operation: 'validateSkus',
	mappingType: 1,
	withProblems: 'passOn',
	discontinued: 'notice',
	// the stock and credit steps after it take their first look-ups from this round trip (issue 15);
	// the credit notes only when the credit step follows in the run (not finance batched)
	readAhead: "={{ {{FINANCE_BATCHED}} ? 'stock' : 'stockAndCredit' }}",
};

export const CREDIT_PARAMETERS = {
	resource: 'creditNote',
	operation: 'createFromReturn',
	options: {
		deliveryPolicy: '{{DELIVERY_POLICY}}',
		manualAuthCode: '{{MANUAL_AUTH_CODE}}',
		processReturn: true,
		rounding: '{{CREDIT_ROUNDING}}',
		tolerancePencePerLine: '{{CREDIT_TOLERANCE_PENCE}}',
		zeroValue: '{{ZERO_VALUE_CREDITS}}',
	},
};

/** Text of a field of the item, '' when empty (Data table string columns). */
export const text = (expr: string) => `={{ ${expr} == null ? '' : String(${expr}) }}`;

export const htmlEscape = (expr: string) =>
	`String(${expr} ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;')`;
/** Slack's control characters: text from a payload must not become <!channel>, a link or a mention. */
export const slackEscape = (expr: string) =>
	`String(${expr} ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')`;

/** The items' return ids gathered into ONE item, in item order, one per item (an Aggregate with static parameters: no expression). */
export function returnIdsNode(name: string, position: Pos, notes: string): Omit<N8nNode, 'id'> {
	return {
		name,
		type: 'n8n-nodes-base.aggregate',
		typeVersion: 1,
		position,
		parameters: {
			aggregate: 'aggregateIndividualFields',
			fieldsToAggregate: { fieldToAggregate: [{ fieldToAggregate: 'returnId' }] },
			options: {},
		},
		notes,
		notesInFlow: true,
	};
}

/**
 * One read of the return events table: every event of the returns at positions `from` to `to` − 1
 * of the list a returnIdsNode gathered (any of its conditions, one a return; '' past the end of the
 * list, which no return id is). The Data table node has no "in" condition.
 */
export function eventsOfReturnsNode(
	name: string,
	position: Pos,
	from: number,
	to: number,
	notes: string,
): Omit<N8nNode, 'id'> {
	return {
		...dataTableNode(name, position, 'events', 'get', {
			conditions: Array.from({ length: to - from }, (_, k) =>
				eq('returnId', `={{ $json.returnId[${from + k}] ?? '' }}`),
			),
			returnAll: true,
		}),
		alwaysOutputData: true,
		notes,
		notesInFlow: true,
	};
}

// Returns whose stock moved but whose credit is not in Khaos yet hold units of their orders, which the
// stock step counts against what the order sold (core/usecases/applyReturnStock.ts): rows waiting for
// credit posting (finance batched), and returns whose credit step failed after their stock moved (open
// exceptions of the return and credit stages keep the moved return as their payload). Read once per
// run, beside the main path (executeOnce), before the rows' own path (n8n's v1 order: top to bottom).
export function addHeldRows(b: Builder, position: [number, number]) {
	const posting = b.add({
		...dataTableNode('Held by Credit Posting', position, 'inbox', 'get', {
			// any of these: waiting for the posting run, for a finance review, or rejected by finance
			// (its moved units never reach Khaos' quantity returned)
			conditions: [
				eq('status', 'credit_queued'),
				eq('status', 'credit_review'),
				eq('status', 'credit_rejected'),
				// finished, but with units no credit note records as returned in Khaos
				{ keyName: 'uncredited', condition: 'isNotEmpty' },
			],
			returnAll: true,
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Stock moved, credit not posted yet (queued or under review): their units count',
		notesInFlow: true,
	});
	const failed = b.add({
		...dataTableNode(
			'Open Credit Exceptions',
			[position[0] + 240, position[1]],
			'exceptions',
			'get',
			{ conditions: [eq('status', 'open')], returnAll: true },
		),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Credit failed after the stock moved: their units count too',
		notesInFlow: true,
	});
	b.connect(posting, failed);
	b.section(
		'Held units',
		'Rows waiting for credit posting, and returns whose credit failed after their stock moved, still hold units of their orders: ' +
			'the stock step counts them against what the order sold. Read first (n8n runs the branches top to bottom).',
		[posting, failed],
	);
	return posting;
}

export const HELD_RETURNS =
	"={{ $('Held by Credit Posting').all().map((i) => ['credit_queued', 'credit_review', 'credit_rejected'].includes(i.json.status) ? i.json.mapped : i.json.uncredited)" +
	".concat($('Open Credit Exceptions').all().filter((i) => i.json.stage === 'return' || i.json.stage === 'credit').map((i) => i.json.payload))" +
	'.filter((m) => !!m) }}';
/** The credit outcome's moved-but-uncredited lines for the inbox row (empty when none): held units. */
export const UNCREDITED = "={{ $json.uncredited ? JSON.stringify($json.uncredited) : '' }}";

export const stockParameters = (changedAfterMove: 'block' | 'continue') => ({
	resource: 'stock',
	operation: 'applyReturnMoves',
	options: {
		adjustmentReason: '{{ADJUSTMENT_REASON}}',
		heldReturns: HELD_RETURNS,
		changedAfterMove,
	},
});
