/** Product → Get: one batched look-up per mapping type for all items (the transport splits it into calls of `batchSize` codes). */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { KhaosProduct } from '../../../transports/khaos/api';
import { splitCodes } from '../../shared/values';
import { money, outputItem, perItem, type KhaosRun } from '../common';
import { mappingTypeProperty, stockCodesProperty } from '../properties';
import { defineOperation } from './types';

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

async function getProducts(run: KhaosRun): Promise<INodeExecutionData[][]> {
	// gather every item's codes per mapping type, one look-up per mapping type
	const perItemCodes: Array<{ codes: string[]; mappingType: number }> = run.items.map((_, i) => ({
		codes: splitCodes(run.ctx.getNodeParameter('stockCodes', i, '')),
		mappingType: Number(run.ctx.getNodeParameter('mappingType', i, 1)),
	}));
	const byType = new Map<number, string[]>();
	for (const { codes, mappingType } of perItemCodes)
		byType.set(mappingType, [...(byType.get(mappingType) ?? []), ...codes]);
	const found = new Map<number, Map<string, KhaosProduct>>();
	let lookupError: unknown = null;
	try {
		for (const [mappingType, codes] of byType)
			found.set(
				mappingType,
				codes.length ? await run.api.getProducts(codes, mappingType) : new Map(),
			);
	} catch (error) {
		lookupError = error;
	}
	const out = await perItem(run, async (itemIndex) => {
		if (lookupError) throw lookupError;
		const { codes, mappingType } = perItemCodes[itemIndex];
		if (codes.length === 0) throw new Error('Stock Codes is empty');
		const products = found.get(mappingType) ?? new Map<string, KhaosProduct>();
		const missing = codes.filter((c) => !products.has(c));
		if (missing.length)
			throw new Error(
				`No Khaos product matches ${missing.map((c) => `"${c}"`).join(', ')} (mapping type ${mappingType})`,
			);
		return codes.map((code) =>
			outputItem({ code, ...productJson(products.get(code) as KhaosProduct) }, itemIndex),
		);
	});
	return [out];
}

export const productGet = defineOperation({
	resource: 'product',
	option: {
		name: 'Get',
		value: 'get',
		action: 'Get products',
		description: 'Look products up by code (one batched call for all items)',
	},
	properties: [stockCodesProperty, mappingTypeProperty],
	execute: getProducts,
});
