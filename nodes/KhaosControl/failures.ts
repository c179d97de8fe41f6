/**
 * How the Khaos Control operations treat a failed Khaos call: classified for the core use cases
 * (core/ports.ts FailureInfo), isolated to its culprit record in batched calls, or turned into
 * exception items.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { ExceptionKind, ExceptionStage } from '../../core/exceptions';
import type { DescribeFailure, FailureInfo } from '../../core/ports';
import { isolateInChunks, type Isolated } from '../../core/usecases/isolate';
import { TransportError } from '../../transports/http';
import { REQUEST_DATA, RESPONSE_FIELD } from '../../transports/khaos/client';
import { KhaosFault } from '../../transports/khaos/faults';
import { exceptionItem, recordException, recordName, runError, type KhaosRun } from './common';
import { describeKhaosError } from './transport';

/** SOAP faults about the service or the credential, never about one record's data. */
const SERVICE_FAULTS = new Set<string>(['auth_failed', 'unknown_method']);

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
	const base = {
		message: info.message,
		code: info.code,
		status: info.status,
		attempts: info.attempts,
	};
	if (info.category === 'transient') return { category: 'transient', ...base };
	let recordLevel = false;
	if (error instanceof KhaosFault) recordLevel = !SERVICE_FAULTS.has(error.code);
	else if (error instanceof TransportError) {
		recordLevel =
			(error.kind === 'protocol' &&
				(error.code === REQUEST_DATA || error.code === RESPONSE_FIELD)) ||
			(error.kind === 'http' && [400, 413, 422].includes(error.status ?? 0));
	}
	return { category: recordLevel || run.ctx.continueOnFail() ? 'refused' : 'fatal', ...base };
}

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
	const kind: ExceptionKind =
		info.category === 'transient' ? 'transient_exhausted' : 'khaos_rejected';
	const details: Record<string, string | number | boolean | null> = {
		status: info.status,
		attempts: info.attempts,
	};
	return records.map(({ json, itemIndex }) =>
		exceptionItem(
			recordException(kind, `${recordName(json)}: ${what} failed: ${info.message}`, json, stage, {
				code: info.code,
				details,
			}),
			itemIndex,
		),
	);
}
