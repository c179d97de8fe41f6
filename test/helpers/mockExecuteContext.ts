/**
 * A reusable mocked IExecuteFunctions for node unit tests: input items,
 * parameters (the same for every item, per item, or computed), continueOnFail,
 * getNode, credentials, static data and the helpers nodes commonly call.
 *
 *   const ctx = mockExecuteContext({ items: [{ returnId: 'R1' }], params: { operation: 'map' } });
 *   const [out] = await new MyNode().execute.call(ctx);
 */
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	IPairedItemData,
} from 'n8n-workflow';

/** A parameter value, or a function computing it from the item index. */
export type MockParam = unknown | ((itemIndex: number) => unknown);

export interface MockExecuteOptions {
	/** Input items; plain objects are wrapped as `{ json }`. */
	items?: Array<INodeExecutionData | IDataObject>;
	/** Parameters for every item (dotted names such as `options.limit` are looked up inside objects). */
	params?: Record<string, MockParam>;
	/** Per-item overrides: paramsPerItem[i] wins over params for item i. */
	paramsPerItem?: Array<Record<string, MockParam> | undefined>;
	continueOnFail?: boolean;
	node?: Partial<INode>;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	/** Extra or replacement helpers (httpRequest, httpRequestWithAuthentication, checkProcessedAndRecord …). */
	helpers?: Record<string, unknown>;
	staticData?: IDataObject;
	mode?: string;
	timezone?: string;
	/** The execution id (default: a new one per context, as each n8n run has its own). */
	executionId?: string;
}

export interface MockExecuteContext extends IExecuteFunctions {
	/** Every getNodeParameter call, in order. */
	readonly parameterCalls: Array<{ name: string; itemIndex: number }>;
	readonly staticData: IDataObject;
}

function isExecutionData(value: unknown): value is INodeExecutionData {
	return (
		typeof value === 'object' &&
		value !== null &&
		'json' in value &&
		typeof (value as { json: unknown }).json === 'object'
	);
}

function lookup(
	source: Record<string, MockParam> | undefined,
	name: string,
): { found: boolean; value: MockParam } {
	if (!source) return { found: false, value: undefined };
	if (Object.prototype.hasOwnProperty.call(source, name))
		return { found: true, value: source[name] };
	const [head, ...rest] = name.split('.');
	if (rest.length === 0 || !Object.prototype.hasOwnProperty.call(source, head))
		return { found: false, value: undefined };
	let cursor: unknown = source[head];
	for (const part of rest) {
		if (typeof cursor !== 'object' || cursor === null || !(part in cursor))
			return { found: false, value: undefined };
		cursor = (cursor as Record<string, unknown>)[part];
	}
	return { found: true, value: cursor };
}

export function toExecutionData(
	items: Array<INodeExecutionData | IDataObject>,
): INodeExecutionData[] {
	return items.map((item) => (isExecutionData(item) ? item : { json: item as IDataObject }));
}

let executions = 0;

export function mockExecuteContext(options: MockExecuteOptions = {}): MockExecuteContext {
	const items = toExecutionData(options.items ?? []);
	const executionId = options.executionId ?? `test-execution-${++executions}`;
	const node: INode = {
		id: 'node-1',
		name: 'Test Node',
		type: 'n8n-nodes-rebound-khaos.test',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		...options.node,
	};
	const parameterCalls: Array<{ name: string; itemIndex: number }> = [];
	const staticData: IDataObject = options.staticData ?? {};

	const returnJsonArray = (data: IDataObject | IDataObject[]): INodeExecutionData[] =>
		(Array.isArray(data) ? data : [data]).map((json) => ({ json }));
	const constructExecutionMetaData = (
		data: INodeExecutionData[],
		meta: { itemData: IPairedItemData | IPairedItemData[] },
	): INodeExecutionData[] => data.map((item) => ({ ...item, pairedItem: meta.itemData }));
	const noHttp = (what: string) =>
		jest.fn(async () => {
			throw new Error(`${what} was called but the test gave no mock for it`);
		});

	const ctx = {
		parameterCalls,
		staticData,
		getInputData: (inputIndex = 0) => (inputIndex === 0 ? items : []),
		getNode: () => node,
		continueOnFail: () => options.continueOnFail ?? false,
		getNodeParameter: (
			name: string,
			itemIndex: number,
			fallback?: unknown,
			paramOptions?: { extractValue?: boolean },
		) => {
			parameterCalls.push({ name, itemIndex });
			let hit = lookup(options.paramsPerItem?.[itemIndex], name);
			if (!hit.found) hit = lookup(options.params, name);
			if (!hit.found || hit.value === undefined) {
				if (fallback !== undefined) return fallback;
				throw new Error(`Could not get parameter "${name}" (item ${itemIndex})`);
			}
			let value =
				typeof hit.value === 'function'
					? (hit.value as (i: number) => unknown)(itemIndex)
					: hit.value;
			if (
				paramOptions?.extractValue &&
				typeof value === 'object' &&
				value !== null &&
				'__rl' in value
			)
				value = (value as unknown as { value: unknown }).value;
			return value;
		},
		getCredentials: async (type: string) => {
			const creds = options.credentials?.[type];
			if (!creds) throw new Error(`No credentials of type "${type}" in this test`);
			return creds;
		},
		getWorkflowStaticData: () => staticData,
		getMode: () => options.mode ?? 'manual',
		getTimezone: () => options.timezone ?? 'Europe/London',
		getExecutionId: () => executionId,
		getWorkflow: () => ({ id: 'test-workflow', name: 'Test workflow', active: false }),
		logger: {
			debug: jest.fn(),
			info: jest.fn(),
			warn: jest.fn(),
			error: jest.fn(),
			verbose: jest.fn(),
		},
		helpers: {
			returnJsonArray,
			constructExecutionMetaData,
			httpRequest: noHttp('helpers.httpRequest'),
			httpRequestWithAuthentication: noHttp('helpers.httpRequestWithAuthentication'),
			...options.helpers,
		},
	};
	return ctx as unknown as MockExecuteContext;
}
