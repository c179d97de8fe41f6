/** Stock → Get Levels: one call per site for all items' codes. */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { KhaosStockLevel } from '../../../transports/khaos/api';
import { splitCodes } from '../../shared/values';
import { outputItem, perItem, siteFor, type KhaosRun, type OperationResult } from '../common';
import { siteLocator, stockCodesProperty } from '../properties';
import { defineOperation } from './types';

const STATUS_TEXT: Record<number, string> = {
	0: 'in stock',
	1: 'all allocated',
	2: 'out of stock, due',
	3: 'out of stock, not due',
	4: 'discontinued',
	5: 'not stock controlled',
};

function levelJson(l: KhaosStockLevel): IDataObject {
	return {
		stockCode: l.stockCode,
		stockId: l.stockId,
		siteId: l.siteId,
		level: l.level,
		status: l.status,
		statusText: STATUS_TEXT[l.status] ?? 'unknown',
		locations: l.locations.map((x) => ({ locationId: x.locationId, level: x.level })),
	};
}

async function getLevels(run: KhaosRun): Promise<OperationResult> {
	const asks: Array<{ codes: string[]; site: string } | { error: unknown }> = run.items.map(
		(_, i) => {
			try {
				return {
					codes: splitCodes(run.ctx.getNodeParameter('stockCodes', i, '')),
					site: siteFor(run, i),
				};
			} catch (error) {
				return { error };
			}
		},
	);
	const bySite = new Map<string, string[]>();
	for (const a of asks)
		if ('site' in a) bySite.set(a.site, [...(bySite.get(a.site) ?? []), ...a.codes]);
	const levels = new Map<string, KhaosStockLevel[]>();
	let lookupError: unknown = null;
	try {
		for (const [site, codes] of bySite)
			levels.set(site, codes.length ? await run.api.getStockLevels(codes, site) : []);
	} catch (error) {
		lookupError = error;
	}
	const out: INodeExecutionData[] = await perItem(run, async (itemIndex) => {
		const ask = asks[itemIndex];
		if ('error' in ask) throw ask.error;
		if (lookupError) throw lookupError;
		if (ask.codes.length === 0) throw new Error('Stock Codes is empty');
		const wanted = new Set(ask.codes.map((c) => c.toLowerCase()));
		const rows = (levels.get(ask.site) ?? []).filter((l) => wanted.has(l.stockCode.toLowerCase()));
		const missing = ask.codes.filter(
			(c) => !rows.some((r) => r.stockCode.toLowerCase() === c.toLowerCase()),
		);
		if (missing.length)
			throw new Error(
				`No Khaos stock status for ${missing.map((c) => `"${c}"`).join(', ')} at site ${ask.site}`,
			);
		return rows.map((r) => outputItem(levelJson(r), itemIndex));
	});
	return [out];
}

export const stockGetLevels = defineOperation({
	resource: 'stock',
	option: {
		name: 'Get Levels',
		value: 'getLevels',
		action: 'Get stock levels',
		description: 'Stock levels per site and location',
	},
	properties: [stockCodesProperty, siteLocator()],
	execute: getLevels,
});
