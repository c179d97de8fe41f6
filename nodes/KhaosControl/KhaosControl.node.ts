import type {
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	INodeListSearchResult,
	INodePropertyOptions,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import type { KhaosRun, OperationResult } from './common';
import { creditNoteFields, creditNoteOperations } from './resources/creditNote/description';
import { executeCreditNote, returnAssociatedRef } from './resources/creditNote/execute';
import { creditedMeanwhile, onePerReturn } from './resources/onePerReturn';
import { productFields, productOperations } from './resources/product/description';
import { executeProduct } from './resources/product/execute';
import { returnFields, returnOperations } from './resources/return/description';
import { executeReturn } from './resources/return/execute';
import { salesOrderFields, salesOrderOperations } from './resources/salesOrder/description';
import { executeSalesOrder } from './resources/salesOrder/execute';
import { stockFields, stockOperations } from './resources/stock/description';
import { executeStock } from './resources/stock/execute';
import { toNodeError } from '../shared/nodeError';
import { KHAOS_CREDENTIAL, createKhaosApi, getKhaosCredentials, khaosAdvice, khaosSecrets } from './transport';

/** Operations with a second output for exception items, and the name of their first output. */
export const EXCEPTION_OUTPUT_OPERATIONS: Record<string, string> = {
	validateSkus: 'Valid',
	applyReturnMoves: 'Moved',
	createFromReturn: 'Created',
};

const OUTPUTS_EXPRESSION = ('={{ ["validateSkus", "applyReturnMoves", "createFromReturn"].includes($parameter["operation"]) ? ' +
	'[{ "type": "main", "displayName": ({ "validateSkus": "Valid", "applyReturnMoves": "Moved", "createFromReturn": "Created" })[$parameter["operation"]] }, { "type": "main", "displayName": "Exceptions" }] : ' +
	'[{ "type": "main", "displayName": "" }] }}') as `={{${string}}}`;

type Executor = (run: KhaosRun, operation: string) => Promise<OperationResult>;

const EXECUTORS: Record<string, Executor> = {
	product: executeProduct,
	stock: executeStock,
	salesOrder: executeSalesOrder,
	return: executeReturn,
	creditNote: executeCreditNote,
};

/** Operations that must act once per return even when a batch holds two items of it. */
const ONE_PER_RETURN = new Set(['stock.applyReturnMoves', 'creditNote.createFromReturn']);

function includes(name: string, filter: string | undefined): boolean {
	return !filter || name.toLowerCase().includes(filter.toLowerCase());
}

async function loadContext(ctx: ILoadOptionsFunctions) {
	const creds = await getKhaosCredentials(ctx);
	return { creds, api: createKhaosApi(ctx, creds), secrets: khaosSecrets(creds) };
}

export class KhaosControl implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Khaos Control',
		name: 'khaosControl',
		icon: { light: 'file:khaosControl.svg', dark: 'file:khaosControl.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Products, stock, sales orders, returns and credit notes in Khaos Control (SOAP web services)',
		defaults: { name: 'Khaos Control' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: OUTPUTS_EXPRESSION,
		credentials: [{ name: KHAOS_CREDENTIAL, required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Credit Note', value: 'creditNote' },
					{ name: 'Product', value: 'product' },
					{ name: 'Return', value: 'return' },
					{ name: 'Sales Order', value: 'salesOrder' },
					{ name: 'Stock', value: 'stock' },
				],
				default: 'product',
			},
			productOperations,
			stockOperations,
			salesOrderOperations,
			returnOperations,
			creditNoteOperations,
			...productFields,
			...stockFields,
			...salesOrderFields,
			...returnFields,
			...creditNoteFields,
		],
	};

	methods = {
		listSearch: {
			async searchSites(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
				const { api, secrets } = await loadContext(this);
				try {
					const sites = await api.getSites();
					return { results: sites.filter((s) => includes(`${s.id} ${s.name}`, filter)).map((s) => ({ name: `${s.name} (${s.id})`, value: s.id })) };
				} catch (error) {
					throw toNodeError(this.getNode(), error, { itemIndex: 0, secrets, advice: khaosAdvice });
				}
			},
			async searchLocations(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
				const { api, creds, secrets } = await loadContext(this);
				const raw = this.getCurrentNodeParameter('site', { extractValue: true }) as unknown;
				const site = (typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : '') || creds.defaultSiteId;
				if (!site) return { results: [] };
				try {
					const locations = await api.getLocations(site);
					return {
						results: locations
							.filter((l) => includes(`${l.id} ${l.name}`, filter))
							.map((l) => ({ name: `${l.name} (${l.id})${l.sellable ? '' : ' – not sellable'}`, value: l.id })),
					};
				} catch (error) {
					throw toNodeError(this.getNode(), error, { itemIndex: 0, secrets, advice: khaosAdvice });
				}
			},
		},
		loadOptions: {
			async getReturnReasons(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				const { api, secrets } = await loadContext(this);
				try {
					const reasons = await api.getReturnReasons();
					return reasons.map((r) => ({
						name: `${r.description || r.code} (${r.id})`,
						value: r.id,
						description: `${r.code}; Khaos ${r.restock ? 'restocks' : 'does not restock'} on processing`,
					}));
				} catch (error) {
					throw toNodeError(this.getNode(), error, { itemIndex: 0, secrets, advice: khaosAdvice });
				}
			},
			async getSites(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				const { api, secrets } = await loadContext(this);
				try {
					return (await api.getSites()).map((s) => ({ name: `${s.name} (${s.id})`, value: s.id }));
				} catch (error) {
					throw toNodeError(this.getNode(), error, { itemIndex: 0, secrets, advice: khaosAdvice });
				}
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const resource = this.getNodeParameter('resource', 0) as string;
		const operation = this.getNodeParameter('operation', 0) as string;
		const outputs = EXCEPTION_OUTPUT_OPERATIONS[operation] ? 2 : 1;
		// Reconcile reports on an empty window too; every other operation has nothing to do
		if (items.length === 0 && !(resource === 'return' && operation === 'reconcile')) return outputs === 2 ? [[], []] : [[]];
		const executor = EXECUTORS[resource];
		if (!executor) throw toNodeError(this.getNode(), new Error(`Unknown resource "${resource}"`), { itemIndex: 0 });

		const creds = await getKhaosCredentials(this);
		const run: KhaosRun = { ctx: this, api: createKhaosApi(this, creds), creds, secrets: khaosSecrets(creds), items };
		let result: OperationResult;
		try {
			// one item per return and execution: a second row of the same return is a duplicate (resources/onePerReturn.ts)
			result = ONE_PER_RETURN.has(`${resource}.${operation}`) ? await onePerReturn(run, (r) => executor(r, operation)) : await executor(run, operation);
			// an overlapping run may have credited a return between this run's look-up and its order read
			if (resource === 'creditNote' && operation === 'createFromReturn') result = await creditedMeanwhile(run, result, returnAssociatedRef);
		} catch (error) {
			throw toNodeError(this.getNode(), error, { itemIndex: 0, secrets: run.secrets, advice: khaosAdvice });
		}
		while (result.length < outputs) result.push([]);
		return result;
	}
}
