import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { makeException } from '../../core/exceptions';
import type { ReboundApi } from '../../transports/rebound/api';
import { describeReboundError } from '../../transports/rebound/errors';
import { normaliseReboundReturn } from '../../transports/rebound/normalise';
import {
	invalidReturnException,
	planWindows,
	slashDate,
	slimRawReturn,
	withSyntheticEvent,
} from '../../transports/rebound/poll';
import {
	createReboundApi,
	getReboundCredentials,
	REBOUND_CREDENTIAL_TEST,
	reBoundApiTest,
	reboundSecrets,
	toNodeError,
} from '../shared/reboundApi';

/** Days per search call, as ReBound's own tooling does. */
const SEARCH_WINDOW_DAYS = 7;
/** Longest window one Search accepts. */
const MAX_SEARCH_DAYS = 731;

type Outcome =
	| { ok: true; json: IDataObject }
	| { ok: false; json: IDataObject; error: NodeOperationError | ReturnType<typeof toNodeError> };

function dayParam(value: unknown): string | null {
	if (typeof value !== 'string' || value.trim() === '') return null;
	const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
	if (Number.isNaN(ms)) return null;
	return value.length >= 10 && /^\d{4}-\d{2}-\d{2}/.test(value)
		? value.slice(0, 10)
		: new Date(ms).toISOString().slice(0, 10);
}

export class ReBound implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ReBound',
		name: 'reBound',
		icon: { light: 'file:rebound.svg', dark: 'file:rebound.dark.svg' },
		group: ['input'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Read returns from ReBound (Intelligentreturns): get one, or search a date window',
		defaults: { name: 'ReBound' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'reBoundApi', required: true, testedBy: 'reBoundApiTest' }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Return', value: 'return' }],
				default: 'return',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['return'] } },
				options: [
					{
						name: 'Get',
						value: 'get',
						description: 'Get a return by its ReBound ID',
						action: 'Get a return',
					},
					{
						name: 'Search',
						value: 'search',
						description: 'Find the returns of a date window',
						action: 'Search returns',
					},
				],
				default: 'get',
			},
			{
				displayName: 'Return ID',
				name: 'returnId',
				type: 'string',
				required: true,
				default: '',
				placeholder: '123456',
				description: "The return's ReBound ID (not its display ID)",
				displayOptions: { show: { resource: ['return'], operation: ['get'] } },
			},
			{
				displayName: 'From Date',
				name: 'dateFrom',
				type: 'dateTime',
				required: true,
				default: '',
				description: 'First day of the window (UTC, inclusive)',
				displayOptions: { show: { resource: ['return'], operation: ['search'] } },
			},
			{
				displayName: 'To Date',
				name: 'dateTo',
				type: 'dateTime',
				required: true,
				default: '',
				description: 'Last day of the window (UTC, inclusive)',
				displayOptions: { show: { resource: ['return'], operation: ['search'] } },
			},
			{
				displayName: 'Output',
				name: 'output',
				type: 'options',
				options: [
					{
						name: 'Returns',
						value: 'returns',
						description: 'Fetch each return and output it normalised',
					},
					{
						name: 'IDs Only',
						value: 'ids',
						description: 'Output one item per return ID (one search call per 7 days)',
					},
				],
				default: 'returns',
				displayOptions: { show: { resource: ['return'], operation: ['search'] } },
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				displayOptions: { show: { resource: ['return'] } },
				options: [
					{
						displayName: 'Include Raw Return',
						name: 'includeRaw',
						type: 'boolean',
						default: false,
						description:
							'Whether to add the return as ReBound sent it under `raw` (without the base64 label)',
					},
					{
						displayName: 'Fetch Concurrency',
						name: 'concurrency',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 16 },
						default: 4,
						description: 'Returns fetched at the same time by Search',
					},
				],
			},
		],
	};

	methods = {
		credentialTest: { [REBOUND_CREDENTIAL_TEST]: reBoundApiTest },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const out: INodeExecutionData[] = [];
		const creds = await getReboundCredentials(this);
		const secrets = reboundSecrets(creds);
		const api: ReboundApi = createReboundApi(this, creds);
		const node = this.getNode();
		const continueOnFail = this.continueOnFail();

		/** One fetched raw return → a normalised item, or an exception (failed normalisation). */
		const judge = (id: string, raw: unknown, includeRaw: boolean, itemIndex: number): Outcome => {
			const nowMs = Date.now();
			const norm = normaliseReboundReturn(raw, { source: 'rebound-api' });
			if (!norm.ok) {
				const ex = invalidReturnException(
					id,
					raw,
					norm.issues,
					norm.message,
					new Date(nowMs).toISOString(),
				);
				return {
					ok: false,
					json: ex as unknown as IDataObject,
					error: new NodeOperationError(node, norm.message, {
						itemIndex,
						description:
							'The return from ReBound is malformed at the field named. Turn on "Continue On Fail" to get it as an invalid_payload exception item instead.',
					}),
				};
			}
			const ret = withSyntheticEvent(norm.value, norm.value.lines, nowMs, {
				source: 'rebound-api',
				prefix: 'api',
				type: 'return.fetched',
			});
			const json = ret as unknown as IDataObject;
			if (includeRaw) json.raw = slimRawReturn(raw) as IDataObject;
			return { ok: true, json };
		};

		const fetchFailure = (id: string, error: unknown, itemIndex: number): Outcome => {
			const info = describeReboundError(error, secrets);
			const ex = makeException(
				info.transient ? 'transient_exhausted' : 'invalid_payload',
				`Return ${id} could not be fetched from ReBound: ${info.message}`,
				{
					stage: 'trigger',
					returnId: id,
					code: info.code ?? null,
					details: { status: info.status ?? null },
				},
			);
			return {
				ok: false,
				json: ex as unknown as IDataObject,
				error: toNodeError(node, error, secrets, itemIndex, `ReBound get return ${id}`),
			};
		};

		for (let i = 0; i < items.length; i++) {
			try {
				const operation = this.getNodeParameter('operation', i) as string;
				const options = this.getNodeParameter('options', i, {}) as IDataObject;
				const includeRaw = options.includeRaw === true;
				const outcomes: Outcome[] = [];

				if (operation === 'get') {
					const id = String(this.getNodeParameter('returnId', i, '')).trim();
					if (!id) throw new NodeOperationError(node, 'Return ID is empty', { itemIndex: i });
					let raw: unknown;
					let failed: Outcome | undefined;
					try {
						raw = await api.getReturn(id);
					} catch (error) {
						failed = fetchFailure(id, error, i);
					}
					outcomes.push(failed ?? judge(id, raw, includeRaw, i));
				} else if (operation === 'search') {
					const from = dayParam(this.getNodeParameter('dateFrom', i, ''));
					const to = dayParam(this.getNodeParameter('dateTo', i, ''));
					if (!from)
						throw new NodeOperationError(node, 'From Date is empty or not a date', {
							itemIndex: i,
						});
					if (!to)
						throw new NodeOperationError(node, 'To Date is empty or not a date', { itemIndex: i });
					if (from > to)
						throw new NodeOperationError(node, `From Date (${from}) is after To Date (${to})`, {
							itemIndex: i,
						});
					if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > MAX_SEARCH_DAYS) {
						throw new NodeOperationError(
							node,
							`The window ${from} to ${to} is longer than ${MAX_SEARCH_DAYS} days`,
							{ itemIndex: i },
						);
					}
					const ids: string[] = [];
					const seen = new Set<string>();
					for (const window of planWindows(from, to, SEARCH_WINDOW_DAYS)) {
						let found: string[];
						try {
							found = await api.searchReturnIds(slashDate(window.from), slashDate(window.to));
						} catch (error) {
							if (describeReboundError(error, secrets).code === 'empty') continue;
							throw toNodeError(
								node,
								error,
								secrets,
								i,
								`ReBound search ${window.from} to ${window.to}`,
							);
						}
						for (const id of found.map(String)) {
							if (!seen.has(id)) {
								seen.add(id);
								ids.push(id);
							}
						}
					}
					if (this.getNodeParameter('output', i, 'returns') === 'ids') {
						for (const id of ids)
							outcomes.push({ ok: true, json: { returnId: id, dateFrom: from, dateTo: to } });
					} else {
						const concurrency = Math.min(
							16,
							Math.max(1, Math.floor(Number(options.concurrency ?? 4)) || 4),
						);
						const results = await api.getReturns(ids, concurrency);
						for (const r of results)
							outcomes.push(
								r.ok ? judge(r.id, r.value, includeRaw, i) : fetchFailure(r.id, r.error, i),
							);
					}
				} else {
					throw new NodeOperationError(node, `Unknown operation "${operation}"`, { itemIndex: i });
				}

				for (const outcome of outcomes) {
					if (!outcome.ok && !continueOnFail) throw outcome.error;
					out.push({ json: outcome.json, pairedItem: { item: i } });
				}
			} catch (error) {
				const wrapped = toNodeError(node, error, secrets, i);
				if (continueOnFail) {
					out.push({ json: { error: wrapped.message }, pairedItem: { item: i } });
					continue;
				}
				throw wrapped;
			}
		}
		return [out];
	}
}
