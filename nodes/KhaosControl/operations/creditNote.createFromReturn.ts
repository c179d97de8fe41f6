/**
 * Credit Note → Create From Return: a thin adapter of core/usecases/postCreditNotes.ts (waves,
 * duplicate and already-credited checks, isolation of refused calls), then the "credited
 * meanwhile" re-check of ../onePerReturn.ts. Items come out in input order.
 * Outputs: "Created" (credit notes, duplicates included) and "Exceptions".
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import {
	PostingStopped,
	postCreditNotes,
	returnAssociatedRef,
	type CreditPolicy,
	type CreditPosting,
} from '../../../core/usecases/postCreditNotes';
import { int } from '../../shared/values';
import {
	exceptionItem,
	identityOf,
	outputItem,
	parseMappedReturns,
	runError,
	type KhaosRun,
	type OperationResult,
} from '../common';
import { failureDescriber } from '../failures';
import { creditedMeanwhile } from '../onePerReturn';
import { defineOperation, flags } from './types';

function readPolicy(run: KhaosRun): CreditPolicy {
	const o = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const deliveryPolicy =
		(['never', 'whole_order', 'always'] as const).find((p) => p === o.deliveryPolicy) ?? 'never';
	const rounding = (['half_up', 'half_even'] as const).find((r) => r === o.rounding) ?? 'half_up';
	const tolerance = o.tolerancePencePerLine === undefined ? 1 : Number(o.tolerancePencePerLine);
	if (!Number.isFinite(tolerance) || tolerance < 0)
		throw new Error('Options › Tolerance (Pence per Line) must be 0 or more');
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
	const { records, invalid } = parseMappedReturns(run, 'credit');
	exceptions.push(...invalid);
	const inputs = records.map((r) => ({
		ret: r.ret,
		payload: r.json,
		identity: identityOf(r.json),
	}));
	let posting: CreditPosting;
	try {
		posting = await postCreditNotes(run.api, inputs, policy, failureDescriber(run));
	} catch (error) {
		if (error instanceof PostingStopped)
			throw runError(run, error.error, records[error.index]?.itemIndex ?? 0);
		throw runError(run, error, records[0]?.itemIndex ?? 0);
	}
	for (const { index, credit } of posting.created)
		created.push(outputItem(credit as unknown as IDataObject, records[index].itemIndex));
	for (const { index, exception } of posting.exceptions)
		exceptions.push(exceptionItem(exception, records[index].itemIndex));
	return [created, exceptions];
}

export const creditNoteCreateFromReturn = defineOperation({
	resource: 'creditNote',
	option: {
		name: 'Create From Return',
		value: 'createFromReturn',
		action: 'Create a credit note from a return',
		description:
			'Compute the credit from the original Khaos order, import the return with those values and process it',
	},
	properties: [
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Delivery Refund',
					name: 'deliveryPolicy',
					type: 'options',
					options: [
						{ name: 'Never', value: 'never' },
						{ name: 'When the Whole Order Comes Back', value: 'whole_order' },
						{ name: 'Always (Once per Order)', value: 'always' },
					],
					default: 'never',
				},
				{
					displayName: 'Manual Auth Code',
					name: 'manualAuthCode',
					type: 'string',
					default: 'REBOUND',
					description:
						'Recorded when the return is processed (the refund is marked as manually processed)',
				},
				{
					displayName: 'Process Concurrency',
					name: 'processConcurrency',
					type: 'number',
					typeOptions: { minValue: 1, maxValue: 16 },
					default: 4,
					description:
						'How many ProcessReturn calls (one return each) may be in flight at once; 1 processes them one after another',
				},
				{
					displayName: 'Process Return',
					name: 'processReturn',
					type: 'boolean',
					default: true,
					description:
						'Whether to process the imported return (which raises the credit note) straight away',
				},
				{
					displayName: 'Rounding',
					name: 'rounding',
					type: 'options',
					options: [
						{ name: 'Half Up', value: 'half_up' },
						{ name: 'Half Even (Banker’s)', value: 'half_even' },
					],
					default: 'half_up',
				},
				{
					displayName: 'Tolerance (Pence per Line)',
					name: 'tolerancePencePerLine',
					type: 'number',
					typeOptions: { minValue: 0 },
					default: 1,
					description:
						'A difference between the computed credit and the refund ReBound reports above this (times the credited lines) is reported as a credit mismatch',
				},
			],
		},
	],
	flags: flags({ firstOutput: 'Created', oncePerReturn: true }),
	execute: createFromReturn,
	// an overlapping run may have credited a return between this run's look-up and its order read
	settle: (run, result) => creditedMeanwhile(run, result, returnAssociatedRef),
});
