/**
 * What every Khaos Control operation shares: the run context (client,
 * credential, secrets), output and exception items with pairedItem, error
 * routing, money formatting and the site/location/reason picker properties.
 */
import type { IDataObject, IDisplayOptions, IExecuteFunctions, INodeExecutionData, INodeProperties, IPairedItemData } from 'n8n-workflow';
import { makeException, type ExceptionKind, type ExceptionStage, type ReturnException } from '../../core/exceptions';
import { formatPence } from '../../core/money';
import type { DescribeFailure, FailureInfo } from '../../core/ports';
import { isolateInChunks, type Isolated } from '../../core/usecases/isolate';
import { TransportError } from '../../transports/http';
import type { KhaosApi, KhaosProduct } from '../../transports/khaos/api';
import { REQUEST_DATA, RESPONSE_FIELD } from '../../transports/khaos/client';
import { KhaosFault } from '../../transports/khaos/faults';
import { toNodeError } from '../shared/nodeError';
import { describeKhaosError, khaosAdvice, type KhaosCredentials } from './transport';

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
export function runError(run: Pick<KhaosRun, 'ctx' | 'secrets'>, error: unknown, itemIndex: number) {
	return toNodeError(run.ctx.getNode(), error, { itemIndex, secrets: run.secrets, advice: khaosAdvice });
}

/** The continueOnFail item on the main output of operations without an exception output. */
export function errorItem(run: KhaosRun, error: unknown, itemIndex: number): INodeExecutionData {
	const nodeError = runError(run, error, itemIndex);
	return { json: { error: nodeError.message, ...(nodeError.description ? { errorDescription: nodeError.description } : {}) }, pairedItem: paired(itemIndex) };
}

/**
 * Run `fn` for each input item; a thrown error becomes an error item
 * (continueOnFail) or a NodeApiError/NodeOperationError with the item index.
 */
export async function perItem(run: KhaosRun, fn: (itemIndex: number) => Promise<INodeExecutionData[]>): Promise<INodeExecutionData[]> {
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
	return typeof value === 'string' && value.trim() !== '' ? value : typeof value === 'number' ? String(value) : null;
}

export function identityOf(json: IDataObject): ReturnIdentity {
	return { returnId: idOf(json.returnId), displayId: idOf(json.displayId), orderReference: idOf(json.orderReference) };
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
	extra: { sku?: string | null; lineId?: string | null; code?: string | null; field?: string | null; details?: Record<string, string | number | boolean | null> } = {},
): ReturnException {
	return makeException(kind, message, { stage, ...identityOf(json), ...extra, payload: json });
}

/**
 * How the core use cases treat a Khaos error (core/ports.ts FailureInfo):
 * - transient (retries exhausted) → the records are retried later (transient_exhausted);
 * - refused: a SOAP fault about the data (not a login or an unknown method), a request value
 *   refused before sending, an answer whose fields fail validation, an HTTP 400/413/422: possibly
 *   one record's fault, so a batch is split to find it (khaos_rejected for the culprit);
 * - fatal: credentials refused, an unknown method, an answer that is not SOAP at all (a wrong URL,
 *   an HTML page), a bug: no record can succeed, so nothing is split and the node fails (with
 *   continueOnFail, the records become khaos_rejected exceptions instead). A run that fails leaves
 *   its rows to the processor's stall recovery, which retries them one by one and ends a row that
 *   keeps failing as `stuck`.
 */
export function classifyKhaosFailure(run: KhaosRun, error: unknown): FailureInfo {
	const info = describeKhaosError(error, run.secrets);
	const base = { message: info.message, code: info.code, status: info.status, attempts: info.attempts };
	if (info.category === 'transient') return { category: 'transient', ...base };
	let recordLevel = false;
	if (error instanceof KhaosFault) recordLevel = !SERVICE_FAULTS.has(error.code);
	else if (error instanceof TransportError) {
		recordLevel =
			(error.kind === 'protocol' && (error.code === REQUEST_DATA || error.code === RESPONSE_FIELD)) ||
			(error.kind === 'http' && [400, 413, 422].includes(error.status ?? 0));
	}
	return { category: recordLevel || run.ctx.continueOnFail() ? 'refused' : 'fatal', ...base };
}

/** SOAP faults about the service or the credential, never about one record's data. */
const SERVICE_FAULTS = new Set<string>(['auth_failed', 'unknown_method']);

export function failureDescriber(run: KhaosRun): DescribeFailure {
	return (error) => classifyKhaosFailure(run, error);
}

/**
 * A batched call over records, in chunks (default: the credential's batch size), each isolated: a
 * refusal is split down to its culprit record; a fatal error fails the node.
 */
export async function isolateOrFail<T extends { itemIndex: number }, R>(
	run: KhaosRun,
	records: T[],
	call: (batch: T[]) => Promise<R>,
	chunkSize = Math.max(1, run.creds.batchSize || 50),
): Promise<Array<Isolated<T, R>>> {
	try {
		return await isolateInChunks(records, chunkSize, call, failureDescriber(run));
	} catch (error) {
		throw runError(run, error, records[0]?.itemIndex ?? 0);
	}
}

/**
 * A Khaos call failed for these records (already isolated to them, or not splittable): transient
 * (retries exhausted) → transient_exhausted; refused → khaos_rejected; fatal → the node fails.
 * Messages are scrubbed of secrets.
 */
export function failureExceptions(
	run: KhaosRun,
	error: unknown,
	records: Array<{ json: IDataObject; itemIndex: number }>,
	stage: ExceptionStage,
	what: string,
): INodeExecutionData[] {
	const info = classifyKhaosFailure(run, error);
	if (info.category === 'fatal') throw runError(run, error, records[0]?.itemIndex ?? 0);
	const kind: ExceptionKind = info.category === 'transient' ? 'transient_exhausted' : 'khaos_rejected';
	const details: Record<string, string | number | boolean | null> = { status: info.status, attempts: info.attempts };
	return records.map(({ json, itemIndex }) =>
		exceptionItem(recordException(kind, `${recordName(json)}: ${what} failed: ${info.message}`, json, stage, { code: info.code, details }), itemIndex),
	);
}

export function money(pence: number): string {
	return formatPence(pence);
}

export function productSummary(p: KhaosProduct): IDataObject {
	return {
		stockId: p.stockId,
		stockCode: p.stockCode,
		description: p.description,
		discontinued: p.discontinued,
		stockControlled: p.stockControlled,
		deleted: p.deleted,
	};
}

export function productJson(p: KhaosProduct): IDataObject {
	return {
		...productSummary(p),
		associatedRef: p.associatedRef,
		sellPricePence: p.sellPricePence,
		sellPrice: p.sellPricePence === null ? null : money(p.sellPricePence),
		sellPriceIsNet: p.sellPriceIsNet,
		barcodes: p.barcodes,
		web: p.web,
		runToZero: p.runToZero,
		usableForReturns: !p.deleted && p.stockControlled,
	};
}

/** Split a comma/newline separated list of codes, trimmed, empties dropped. */
export function splitCodes(value: unknown): string[] {
	if (Array.isArray(value)) return value.flatMap((v) => splitCodes(v));
	if (typeof value !== 'string' && typeof value !== 'number') return [];
	return String(value)
		.split(/[,\n]/)
		.map((s) => s.trim())
		.filter((s) => s !== '');
}

/** A resourceLocator or plain parameter value as a string ('' when empty). */
export function locatorValue(run: KhaosRun, name: string, itemIndex: number): string {
	const value = run.ctx.getNodeParameter(name, itemIndex, '', { extractValue: true }) as unknown;
	if (value && typeof value === 'object' && 'value' in (value as IDataObject)) return String((value as IDataObject).value ?? '').trim();
	return value === undefined || value === null ? '' : String(value).trim();
}

export function siteFor(run: KhaosRun, itemIndex: number, name = 'site'): string {
	const site = locatorValue(run, name, itemIndex);
	if (site) return site;
	if (run.creds.defaultSiteId) return run.creds.defaultSiteId;
	throw new Error('No site chosen and the credential has no default site ID');
}

// ------------------------------------------------------------------ picker properties

export function siteLocator(show: NonNullable<IDisplayOptions['show']>, name = 'site'): INodeProperties {
	return {
		displayName: 'Site',
		name,
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		description: "Khaos site. Empty uses the credential's default site ID.",
		modes: [
			{ displayName: 'From List', name: 'list', type: 'list', typeOptions: { searchListMethod: 'searchSites', searchable: true } },
			{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'e.g. 1' },
		],
		displayOptions: { show },
	};
}

export function locationLocator(show: NonNullable<IDisplayOptions['show']>, name = 'location'): INodeProperties {
	return {
		displayName: 'Location',
		name,
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: 'Stock location at the chosen site',
		modes: [
			{ displayName: 'From List', name: 'list', type: 'list', typeOptions: { searchListMethod: 'searchLocations', searchable: true } },
			{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'e.g. A1' },
		],
		displayOptions: { show },
	};
}

export function reasonOptions(show: NonNullable<IDisplayOptions['show']>, name = 'reasonId', displayName = 'Return Reason Name or ID'): INodeProperties {
	return {
		displayName,
		name,
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getReturnReasons' },
		default: '',
		description: 'Khaos return reason (used for lines that name none). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		displayOptions: { show },
	};
}
