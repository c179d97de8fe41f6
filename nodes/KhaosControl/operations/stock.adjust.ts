/** Stock → Adjust: one batched ImportStockAdjustments for all items (the reference keeps a re-run from applying twice). */
import type { INodeExecutionData } from 'n8n-workflow';
import type { StockAdjustmentInput, StockAdjustmentResult } from '../../../transports/khaos/api';
import {
	locatorValue,
	outputItem,
	perItem,
	siteFor,
	type KhaosRun,
	type OperationResult,
} from '../common';
import { locationLocator, siteLocator } from '../properties';
import { defineOperation } from './types';

async function adjust(run: KhaosRun): Promise<OperationResult> {
	const inputs: Array<StockAdjustmentInput | { error: unknown }> = run.items.map((_, i) => {
		try {
			const stockCode = String(run.ctx.getNodeParameter('stockCode', i, '')).trim();
			const siteId = siteFor(run, i);
			const locationId = locatorValue(run, 'location', i);
			const mode = run.ctx.getNodeParameter('adjustMode', i, 'by') as string;
			const quantity = Number(run.ctx.getNodeParameter('quantity', i, 0));
			const reason = String(run.ctx.getNodeParameter('reason', i, '')).trim();
			const reference = String(run.ctx.getNodeParameter('reference', i, '')).trim();
			if (!stockCode) throw new Error('Stock Code is empty');
			if (!locationId) throw new Error('Location is empty');
			if (!reference)
				throw new Error('Reference is empty (it keeps the adjustment from being applied twice)');
			if (!Number.isInteger(quantity))
				throw new Error(`Quantity ${quantity} is not a whole number`);
			if (mode === 'to' && quantity < 0)
				throw new Error(`Quantity ${quantity}: a level cannot be set below zero`);
			return mode === 'to'
				? { stockCode, siteId, locationId, adjustTo: quantity, reason, reference }
				: { stockCode, siteId, locationId, adjustBy: quantity, reason, reference };
		} catch (error) {
			return { error };
		}
	});
	const batch = inputs.filter((x): x is StockAdjustmentInput => !('error' in x));
	let results: StockAdjustmentResult[] = [];
	let callError: unknown = null;
	if (batch.length) {
		try {
			results = await run.api.adjustStock(batch);
		} catch (error) {
			callError = error;
		}
	}
	let cursor = 0;
	const resultFor = inputs.map((x) => ('error' in x ? null : (results[cursor++] ?? null)));
	const out: INodeExecutionData[] = await perItem(run, async (itemIndex) => {
		const input = inputs[itemIndex];
		if ('error' in input) throw input.error;
		if (callError) throw callError;
		const r = resultFor[itemIndex];
		if (!r) throw new Error(`Khaos returned no result for adjustment ${input.reference}`);
		if (r.rejectReason)
			throw new Error(`Khaos rejected adjustment ${input.reference}: ${r.rejectReason}`);
		return [
			outputItem(
				{
					reference: r.reference,
					stockCode: input.stockCode,
					siteId: input.siteId,
					locationId: input.locationId,
					adjustBy: input.adjustBy ?? null,
					adjustTo: input.adjustTo ?? null,
					applied: r.applied,
					duplicate: r.duplicate,
					newLevel: r.newLevel,
				},
				itemIndex,
			),
		];
	});
	return [out];
}

export const stockAdjust = defineOperation({
	resource: 'stock',
	option: {
		name: 'Adjust',
		value: 'adjust',
		action: 'Adjust stock at a location',
		description: 'Adjust a stock level at a site and location (all items in one batched call)',
	},
	properties: [
		siteLocator(),
		{ displayName: 'Stock Code', name: 'stockCode', type: 'string', default: '', required: true },
		locationLocator(),
		{
			displayName: 'Adjustment',
			name: 'adjustMode',
			type: 'options',
			options: [
				{
					name: 'Adjust By',
					value: 'by',
					description: 'Add (or, negative, remove) this many units',
				},
				{
					name: 'Adjust To',
					value: 'to',
					description: 'Set the level at the location to this many units',
				},
			],
			default: 'by',
		},
		{
			displayName: 'Quantity',
			name: 'quantity',
			type: 'number',
			typeOptions: { numberPrecision: 0 },
			default: 1,
		},
		{
			displayName: 'Reason',
			name: 'reason',
			type: 'string',
			default: 'n8n stock adjustment',
			description: 'Reason recorded on the adjustment',
		},
		{
			displayName: 'Reference',
			name: 'reference',
			type: 'string',
			default: '',
			required: true,
			description:
				'Unique reference of this adjustment: Khaos skips an adjustment whose reference was already applied, so a re-run moves nothing twice',
		},
	],
	execute: adjust,
});
