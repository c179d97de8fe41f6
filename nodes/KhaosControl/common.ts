/**
 * What every Khaos Control operation shares: the run context (client, credential, secrets),
 * output and exception items with pairedItem, per-item error routing, the identity of a
 * return-shaped record and the parameters every resource reads. Failure classification and
 * isolation: ./failures.ts; picker properties: ./properties.ts.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IPairedItemData,
} from 'n8n-workflow';
import {
	makeException,
	type ExceptionKind,
	type ExceptionStage,
	type ReturnException,
} from '../../core/exceptions';
import {
	isCarried,
	releaseProblems,
	validateCarriedReturn,
	type CarriedReturn,
} from '../../core/carriedReturn';
import { validateMappedReturn, type MappedReturn } from '../../core/mapping';
import { formatPence } from '../../core/money';
import type { KhaosApi } from '../../transports/khaos/api';
import { toNodeError } from '../shared/nodeError';
import { locatorText } from '../shared/values';
import { khaosAdvice, type KhaosCredentials } from './transport';

export interface KhaosRun {
	ctx: IExecuteFunctions;
	api: KhaosApi;
	creds: KhaosCredentials;
	secrets: string[];
	items: INodeExecutionData[];
}

export type OperationResult = INodeExecutionData[][];

export function paired(itemIndex: number): IPairedItemData {
	return { item: itemIndex };
}

export function outputItem(json: IDataObject, itemIndex: number): INodeExecutionData {
	return { json, pairedItem: paired(itemIndex) };
}

export function exceptionItem(ex: ReturnException, itemIndex: number): INodeExecutionData {
	return { json: ex as unknown as IDataObject, pairedItem: paired(itemIndex) };
}

/** The n8n error for a run's failure (nodes/shared/nodeError.ts): secrets scrubbed, Khaos' advice under it. */
export function runError(
	run: Pick<KhaosRun, 'ctx' | 'secrets'>,
	error: unknown,
	itemIndex: number,
) {
	return toNodeError(run.ctx.getNode(), error, {
		itemIndex,
		secrets: run.secrets,
		advice: khaosAdvice,
	});
}

/** The continueOnFail item on the main output of operations without an exception output. */
export function errorItem(run: KhaosRun, error: unknown, itemIndex: number): INodeExecutionData {
	const nodeError = runError(run, error, itemIndex);
	return {
		json: {
			error: nodeError.message,
			...(nodeError.description ? { errorDescription: nodeError.description } : {}),
		},
		pairedItem: paired(itemIndex),
	};
}

/**
 * Run `fn` for each input item; a thrown error becomes an error item
 * (continueOnFail) or a NodeApiError/NodeOperationError with the item index.
 */
export async function perItem(
	run: KhaosRun,
	fn: (itemIndex: number) => Promise<INodeExecutionData[]>,
): Promise<INodeExecutionData[]> {
	const out: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < run.items.length; itemIndex++) {
		try {
			out.push(...(await fn(itemIndex)));
		} catch (error) {
			if (run.ctx.continueOnFail()) out.push(errorItem(run, error, itemIndex));
			else throw runError(run, error, itemIndex);
		}
	}
	return out;
}

/** The identity fields of a return-shaped item, read leniently. */
export interface ReturnIdentity {
	returnId: string | null;
	displayId: string | null;
	orderReference: string | null;
}

function idOf(value: unknown): string | null {
	return typeof value === 'string' && value.trim() !== ''
		? value
		: typeof value === 'number'
			? String(value)
			: null;
}

export function identityOf(json: IDataObject): ReturnIdentity {
	return {
		returnId: idOf(json.returnId),
		displayId: idOf(json.displayId),
		orderReference: idOf(json.orderReference),
	};
}

export function recordName(json: IDataObject): string {
	const id = identityOf(json);
	return id.returnId ? `Return ${id.returnId}` : 'Item';
}

/** An exception for a record (payload = the record as it arrived, for replay). */
export function recordException(
	kind: ExceptionKind,
	message: string,
	json: IDataObject,
	stage: ExceptionStage,
	extra: {
		sku?: string | null;
		lineId?: string | null;
		code?: string | null;
		field?: string | null;
		details?: Record<string, string | number | boolean | null>;
		blocking?: boolean;
	} = {},
): ReturnException {
	return makeException(kind, message, { stage, ...identityOf(json), ...extra, payload: json });
}

/**
 * A mapped return read from each item: the valid ones, and an invalid_payload exception item for
 * every other. A return carrying problems (core/carriedReturn.ts) is never a mapped one: with
 * `carried` it is read as such (Apply Return Stock Moves checks it), otherwise its problems leave
 * here as exception items.
 */
export function parseMappedReturns(
	run: KhaosRun,
	stage: ExceptionStage,
	options: { carried?: boolean } = {},
): {
	records: Array<{ itemIndex: number; json: IDataObject; ret: MappedReturn }>;
	carried: Array<{ itemIndex: number; json: IDataObject; carried: CarriedReturn }>;
	invalid: INodeExecutionData[];
} {
	const records: Array<{ itemIndex: number; json: IDataObject; ret: MappedReturn }> = [];
	const carried: Array<{ itemIndex: number; json: IDataObject; carried: CarriedReturn }> = [];
	const invalid: INodeExecutionData[] = [];
	run.items.forEach(({ json }, itemIndex) => {
		const isCarriedItem = isCarried(json);
		const parsed = isCarriedItem ? validateCarriedReturn(json) : validateMappedReturn(json);
		if (!parsed.ok) {
			const field = parsed.issues[0]?.field ?? null;
			const ex = recordException('invalid_payload', parsed.message, json, stage, { field });
			invalid.push(exceptionItem(ex, itemIndex));
		} else if (!isCarriedItem) records.push({ itemIndex, json, ret: parsed.value as MappedReturn });
		else if (options.carried)
			carried.push({ itemIndex, json, carried: parsed.value as CarriedReturn });
		else
			for (const ex of releaseProblems(json, (parsed.value as CarriedReturn).problems))
				invalid.push(exceptionItem(ex, itemIndex));
	});
	return { records, carried, invalid };
}

export function money(pence: number): string {
	return formatPence(pence);
}

/** A resourceLocator or plain parameter value as a string ('' when empty). */
export function locatorValue(run: KhaosRun, name: string, itemIndex: number): string {
	return locatorText(run.ctx.getNodeParameter(name, itemIndex, '', { extractValue: true }));
}

export function siteFor(run: KhaosRun, itemIndex: number, name = 'site'): string {
	const site = locatorValue(run, name, itemIndex);
	if (site) return site;
	if (run.creds.defaultSiteId) return run.creds.defaultSiteId;
	throw new Error('No site chosen and the credential has no default site ID');
}
