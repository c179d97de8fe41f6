import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import type { ReboundApi } from '../../transports/rebound/api';
import {
	fetchFailureException,
	judgeFetchedReturn,
	searchWindow,
	searchWindowIds,
} from '../../transports/rebound/read';
import {
	createReboundApi,
	getReboundCredentials,
	reboundSecrets,
	toNodeError,
} from '../shared/reboundApi';
import { reBoundProperties } from './ReBoundDescription';

type Outcome =
	| { ok: true; json: IDataObject }
	| { ok: false; json: IDataObject; error: NodeOperationError | ReturnType<typeof toNodeError> };

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
		credentials: [{ name: 'reBoundApi', required: true }],
		properties: reBoundProperties(),
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
			const judged = judgeFetchedReturn(id, raw, includeRaw, Date.now());
			if (judged.ok) return { ok: true, json: judged.json as IDataObject };
			return {
				ok: false,
				json: judged.exception as unknown as IDataObject,
				error: new NodeOperationError(node, judged.message, {
					itemIndex,
					description:
						'The return from ReBound is malformed at the field named. Turn on "Continue On Fail" to get it as an invalid_payload exception item instead.',
				}),
			};
		};

		const fetchFailure = (id: string, error: unknown, itemIndex: number): Outcome => ({
			ok: false,
			json: fetchFailureException(id, error, secrets) as unknown as IDataObject,
			error: toNodeError(node, error, secrets, itemIndex, `ReBound get return ${id}`),
		});

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
					const window = searchWindow(
						this.getNodeParameter('dateFrom', i, ''),
						this.getNodeParameter('dateTo', i, ''),
					);
					if (!window.ok) throw new NodeOperationError(node, window.message, { itemIndex: i });
					const { from, to } = window;
					const ids = await searchWindowIds(api, from, to, secrets, (error, w) =>
						toNodeError(node, error, secrets, i, `ReBound search ${w.from} to ${w.to}`),
					);
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
