/**
 * Stock: Get Levels (one call per site for all items), Adjust (one batched
 * ImportStockAdjustments for all items) and Apply Return Stock Moves (one
 * batched ImportStockAdjustments for every moving line of every mapped return,
 * with references that make a re-delivery move nothing twice).
 */
import { NodeOperationError, type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import { validateMappedReturn } from '../../../../core/mapping';
import { xmlIllegalChar } from '../../../../core/returnModel';
import { applyReturnStock, heldFromRecords, type LineStockMove, type StockInput, type StockOutcome } from '../../../../core/usecases/applyReturnStock';
import type { KhaosStockLevel, StockAdjustmentInput, StockAdjustmentResult } from '../../../../transports/khaos/api';
import {
	exceptionItem,
	failureDescriber,
	runError,
	locatorValue,
	outputItem,
	perItem,
	recordException,
	siteFor,
	splitCodes,
	type KhaosRun,
	type OperationResult,
} from '../../common';

const STATUS_TEXT: Record<number, string> = {
	0: 'in stock',
	1: 'all allocated',
	2: 'out of stock, due',
	3: 'out of stock, not due',
	4: 'discontinued',
	5: 'not stock controlled',
};

export async function executeStock(run: KhaosRun, operation: string): Promise<OperationResult> {
	if (operation === 'getLevels') return [await getLevels(run)];
	if (operation === 'adjust') return [await adjust(run)];
	if (operation === 'applyReturnMoves') return applyReturnMoves(run);
	throw new Error(`Unknown stock operation "${operation}"`);
}

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

async function getLevels(run: KhaosRun): Promise<INodeExecutionData[]> {
	const asks: Array<{ codes: string[]; site: string } | { error: unknown }> = run.items.map((_, i) => {
		try {
			return { codes: splitCodes(run.ctx.getNodeParameter('stockCodes', i, '')), site: siteFor(run, i) };
		} catch (error) {
			return { error };
		}
	});
	const bySite = new Map<string, string[]>();
	for (const a of asks) if ('site' in a) bySite.set(a.site, [...(bySite.get(a.site) ?? []), ...a.codes]);
	const levels = new Map<string, KhaosStockLevel[]>();
	let lookupError: unknown = null;
	try {
		for (const [site, codes] of bySite) levels.set(site, codes.length ? await run.api.getStockLevels(codes, site) : []);
	} catch (error) {
		lookupError = error;
	}
	return perItem(run, async (itemIndex) => {
		const ask = asks[itemIndex];
		if ('error' in ask) throw ask.error;
		if (lookupError) throw lookupError;
		if (ask.codes.length === 0) throw new Error('Stock Codes is empty');
		const wanted = new Set(ask.codes.map((c) => c.toLowerCase()));
		const rows = (levels.get(ask.site) ?? []).filter((l) => wanted.has(l.stockCode.toLowerCase()));
		const missing = ask.codes.filter((c) => !rows.some((r) => r.stockCode.toLowerCase() === c.toLowerCase()));
		if (missing.length) throw new Error(`No Khaos stock status for ${missing.map((c) => `"${c}"`).join(', ')} at site ${ask.site}`);
		return rows.map((r) => outputItem(levelJson(r), itemIndex));
	});
}

async function adjust(run: KhaosRun): Promise<INodeExecutionData[]> {
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
			if (!reference) throw new Error('Reference is empty (it keeps the adjustment from being applied twice)');
			if (!Number.isInteger(quantity)) throw new Error(`Quantity ${quantity} is not a whole number`);
			if (mode === 'to' && quantity < 0) throw new Error(`Quantity ${quantity}: a level cannot be set below zero`);
			return mode === 'to' ? { stockCode, siteId, locationId, adjustTo: quantity, reason, reference } : { stockCode, siteId, locationId, adjustBy: quantity, reason, reference };
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
	return perItem(run, async (itemIndex) => {
		const input = inputs[itemIndex];
		if ('error' in input) throw input.error;
		if (callError) throw callError;
		const r = resultFor[itemIndex];
		if (!r) throw new Error(`Khaos returned no result for adjustment ${input.reference}`);
		if (r.rejectReason) throw new Error(`Khaos rejected adjustment ${input.reference}: ${r.rejectReason}`);
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
}

export { moveReference } from '../../../../core/usecases/applyReturnStock';

async function applyReturnMoves(run: KhaosRun): Promise<OperationResult> {
	const done: INodeExecutionData[] = [];
	const exceptions: INodeExecutionData[] = [];
	const options = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const reasonText = String(options.adjustmentReason ?? 'ReBound return').trim() || 'ReBound return';
	const badReason = xmlIllegalChar(reasonText);
	if (badReason) throw new NodeOperationError(run.ctx.getNode(), `Adjustment Reason contains ${badReason}, a character XML cannot carry to Khaos`);

	const inputs: Array<StockInput & { itemIndex: number; json: IDataObject }> = [];
	run.items.forEach((item, itemIndex) => {
		const parsed = validateMappedReturn(item.json);
		if (!parsed.ok) {
			exceptions.push(exceptionItem(recordException('invalid_payload', parsed.message, item.json, 'stock', { field: parsed.issues[0]?.field ?? null }), itemIndex));
			return;
		}
		inputs.push({ itemIndex, json: item.json, ret: parsed.value, payload: item.json });
	});
	let outcomes: StockOutcome[];
	try {
		outcomes = await applyReturnStock(
			run.api,
			inputs,
			{
				reasonText,
				checkOrder: options.checkOrder !== false,
				held: heldFromRecords(jsonList(options.heldReturns)),
				batchSize: run.creds.batchSize,
				changedAfterMove: options.changedAfterMove === 'continue' ? 'continue' : 'block',
			},
			failureDescriber(run),
		);
	} catch (error) {
		throw runError(run, error, inputs[0]?.itemIndex ?? 0);
	}
	outcomes.forEach((outcome, i) => {
		const { itemIndex, json } = inputs[i];
		if (!outcome.ok) for (const ex of outcome.exceptions) exceptions.push(exceptionItem(ex, itemIndex));
		else done.push(outputItem(resultJson(json, outcome.lines), itemIndex));
	});
	return [done, exceptions];
}

/** A JSON option that may hold an array, a JSON string of one, or nothing. */
function jsonList(value: unknown): unknown[] {
	if (Array.isArray(value)) return value;
	if (typeof value === 'string' && value.trim() !== '') {
		try {
			const parsed = JSON.parse(value) as unknown;
			return Array.isArray(parsed) ? parsed : [];
		} catch {
			return [];
		}
	}
	return [];
}

function resultJson(json: IDataObject, moves: LineStockMove[]): IDataObject {
	const lines = (json.lines as IDataObject[]).map((line, i) => {
		const m = moves[i];
		const stockMove: IDataObject =
			m.result === 'no_movement'
				? { result: 'no_movement', applied: false, duplicate: false, reference: null, newLevel: null }
				: { result: m.result, applied: m.applied, duplicate: m.duplicate, reference: m.reference, stockCode: m.stockCode, siteId: m.siteId, locationId: m.locationId, quantity: m.quantity, newLevel: m.newLevel };
		return { ...line, stockMove };
	});
	return {
		...json,
		lines,
		stockMoves: {
			applied: moves.filter((m) => m.result === 'applied').length,
			duplicate: moves.filter((m) => m.result === 'duplicate').length,
			noMovement: moves.filter((m) => m.result === 'no_movement').length,
		},
	};
}
