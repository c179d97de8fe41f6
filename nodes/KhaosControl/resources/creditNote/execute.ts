/**
 * Credit Note: Create From Return (a thin adapter of core/usecases/postCreditNotes.ts: waves,
 * duplicate and already-credited checks, isolation of refused calls) and Find By Reference.
 * Items come out in input order. Outputs: "Created" (credit notes, duplicates included) and "Exceptions".
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { KhaosOrderStatus } from '../../../../transports/khaos/api';
import { PostingStopped, postCreditNotes, returnAssociatedRef, toCreditOrder, type CreditPolicy, type CreditPosting } from '../../../../core/usecases/postCreditNotes';
import { validateMappedReturn } from '../../../../core/mapping';
import { int } from '../../../shared/values';
import {
	exceptionItem,
	failureDescriber,
	identityOf,
	money,
	outputItem,
	perItem,
	recordException,
	runError,
	splitCodes,
	type KhaosRun,
	type OperationResult,
} from '../../common';

export { returnAssociatedRef, toCreditOrder };

export async function executeCreditNote(run: KhaosRun, operation: string): Promise<OperationResult> {
	if (operation === 'createFromReturn') return createFromReturn(run);
	if (operation === 'findByReference') return [await findByReference(run)];
	throw new Error(`Unknown credit note operation "${operation}"`);
}

function readPolicy(run: KhaosRun): CreditPolicy {
	const o = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const deliveryPolicy = (['never', 'whole_order', 'always'] as const).find((p) => p === o.deliveryPolicy) ?? 'never';
	const rounding = (['half_up', 'half_even'] as const).find((r) => r === o.rounding) ?? 'half_up';
	const tolerance = o.tolerancePencePerLine === undefined ? 1 : Number(o.tolerancePencePerLine);
	if (!Number.isFinite(tolerance) || tolerance < 0) throw new Error('Options › Tolerance (Pence per Line) must be 0 or more');
	return {
		credit: { deliveryPolicy, rounding, tolerancePencePerLine: Math.floor(tolerance) },
		manualAuthCode: String(o.manualAuthCode ?? 'REBOUND').trim() || 'REBOUND',
		processReturn: o.processReturn === undefined ? true : o.processReturn === true,
		processConcurrency: int(o.processConcurrency ?? 4, 1, 1, 16),
		defaultSiteId: run.creds.defaultSiteId,
		batchSize: run.creds.batchSize,
	};
}

async function createFromReturn(run: KhaosRun): Promise<OperationResult> {
	const created: INodeExecutionData[] = [];
	const exceptions: INodeExecutionData[] = [];
	const policy = readPolicy(run);
	const records: Array<{ itemIndex: number; json: IDataObject }> = [];
	const inputs = run.items.flatMap((item, itemIndex) => {
		const parsed = validateMappedReturn(item.json);
		if (!parsed.ok) {
			exceptions.push(exceptionItem(recordException('invalid_payload', parsed.message, item.json, 'credit', { field: parsed.issues[0]?.field ?? null }), itemIndex));
			return [];
		}
		records.push({ itemIndex, json: item.json });
		return [{ ret: parsed.value, payload: item.json, identity: identityOf(item.json) }];
	});
	let posting: CreditPosting;
	try {
		posting = await postCreditNotes(run.api, inputs, policy, failureDescriber(run));
	} catch (error) {
		if (error instanceof PostingStopped) throw runError(run, error.error, records[error.index]?.itemIndex ?? 0);
		throw runError(run, error, records[0]?.itemIndex ?? 0);
	}
	for (const { index, credit } of posting.created) created.push(outputItem(credit as unknown as IDataObject, records[index].itemIndex));
	for (const { index, exception } of posting.exceptions) exceptions.push(exceptionItem(exception, records[index].itemIndex));
	return [created, exceptions];
}

async function findByReference(run: KhaosRun): Promise<INodeExecutionData[]> {
	const refsPerItem = run.items.map((_, i) => splitCodes(run.ctx.getNodeParameter('references', i, '')));
	const all = [...new Set(refsPerItem.flat())];
	let statuses: KhaosOrderStatus[] = [];
	let lookupError: unknown = null;
	if (all.length) {
		try {
			statuses = await run.api.getOrderStatuses(all);
		} catch (error) {
			lookupError = error;
		}
	}
	const creditNotes = statuses.filter((s) => s.orderType === 2);
	return perItem(run, async (itemIndex) => {
		if (lookupError) throw lookupError;
		const refs = refsPerItem[itemIndex];
		if (refs.length === 0) throw new Error('Associated Refs is empty');
		return refs.flatMap((ref) => {
			const found = creditNotes.filter((s) => s.associatedRef.toLowerCase() === ref.toLowerCase());
			if (found.length === 0) return [outputItem({ associatedRef: ref, found: false }, itemIndex)];
			return found.map((s) =>
				outputItem(
					{
						associatedRef: ref,
						found: true,
						creditNoteCode: s.orderCode,
						currency: s.currency,
						dateCreated: s.dateCreated,
						itemsNetPence: s.itemsNetPence,
						deliveryNetPence: s.deliveryNetPence,
						netPence: s.itemsNetPence + s.deliveryNetPence,
						net: money(s.itemsNetPence + s.deliveryNetPence),
						complete: s.complete,
						cancelled: s.cancelled,
					},
					itemIndex,
				),
			);
		});
	});
}
