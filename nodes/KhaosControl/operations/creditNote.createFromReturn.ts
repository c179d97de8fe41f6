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
	uncreditedMoves,
	type CreditInput,
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
import { takingReadAhead } from '../../../transports/khaos/readAhead';
import { reusingOrders } from '../runOrders';

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
		zeroValue: (['skip', 'raise', 'hold'] as const).find((z) => z === o.zeroValue) ?? 'skip',
	};
}

/** Per item: a finance review's release of a held credit, and the gross it showed (pence). */
function releaseOf(
	run: KhaosRun,
	itemIndex: number,
): Pick<CreditInput, 'release' | 'reviewedGrossPence'> {
	const o = run.ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const release = (['release', 'release_without_held'] as const).find((r) => r === o.heldCredit);
	if (!release) return {};
	const reviewed = Number(o.reviewedGrossPence);
	return {
		release,
		reviewedGrossPence:
			o.reviewedGrossPence === undefined ||
			o.reviewedGrossPence === null ||
			o.reviewedGrossPence === '' ||
			!Number.isInteger(reviewed)
				? null
				: reviewed,
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
		...releaseOf(run, r.itemIndex),
	}));
	let posting: CreditPosting;
	try {
		// the orders this execution's stock step read are not asked for again (../runOrders.ts); the
		// credit notes Validate SKUs read ahead answer the first look-up (transports/khaos/readAhead.ts)
		const id = run.ctx.getExecutionId();
		const api = reusingOrders(takingReadAhead(run.api, id), id);
		posting = await postCreditNotes(api, inputs, policy, failureDescriber(run));
	} catch (error) {
		if (error instanceof PostingStopped)
			throw runError(run, error.error, records[error.index]?.itemIndex ?? 0);
		throw runError(run, error, records[0]?.itemIndex ?? 0);
	}
	for (const { index, credit } of posting.created) {
		// units moved that no credit note records as returned: the templates keep them held
		const uncredited = uncreditedMoves(records[index].json, credit);
		created.push(
			outputItem({ ...credit, uncredited } as unknown as IDataObject, records[index].itemIndex),
		);
	}
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
					displayName: 'Held Credit',
					name: 'heldCredit',
					type: 'options',
					options: [
						{ name: 'Hold (Finance Review)', value: 'hold' },
						{ name: 'Release as Computed', value: 'release' },
						{ name: 'Release Without the Held Lines', value: 'release_without_held' },
					],
					default: 'hold',
					description:
						'A return with a held line is held for finance review; the finance review template releases it with an expression from its row',
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
					displayName: 'Reviewed Gross (Pence)',
					name: 'reviewedGrossPence',
					type: 'number',
					default: 0,
					description:
						'With a release: the gross the review showed; a credit computed differently gets a review_value_changed notice',
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
				{
					displayName: 'Zero-Value Credits',
					name: 'zeroValue',
					type: 'options',
					options: [
						{ name: 'Skip With a Notice', value: 'skip' },
						{ name: 'Raise Anyway', value: 'raise' },
						{ name: 'Hold for Finance Review', value: 'hold' },
					],
					default: 'skip',
					description:
						'A credit worth nothing after discounts (e.g. a promotion larger than the goods)',
				},
			],
		},
	],
	flags: flags({ firstOutput: 'Created', oncePerReturn: true }),
	execute: createFromReturn,
	// an overlapping run may have credited a return between this run's look-up and its order read
	settle: (run, result) => creditedMeanwhile(run, result, returnAssociatedRef),
});
