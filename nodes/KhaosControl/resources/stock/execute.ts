/**
 * Stock: Get Levels (one call per site for all items), Adjust (one batched
 * ImportStockAdjustments for all items) and Apply Return Stock Moves (one
 * batched ImportStockAdjustments for every moving line of every mapped return,
 * with references that make a re-delivery move nothing twice).
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { ReturnException } from '../../../../core/exceptions';
import { validateMappedReturn, type MappedLine, type MappedReturn } from '../../../../core/mapping';
import type { KhaosStockLevel, StockAdjustmentInput, StockAdjustmentResult } from '../../../../transports/khaos/api';
import {
	exceptionItem,
	failureExceptions,
	locatorValue,
	outputItem,
	perItem,
	recordException,
	recordName,
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

/**
 * Idempotency reference of one line's stock move: one per return line, ever.
 * The disposition is deliberately not part of it: a line re-graded after its
 * stock moved (Grade A → Damaged) must not move the unit a second time into
 * the new location (that would put two units in Khaos for one returned). The
 * second delivery comes back as a duplicate and the unit stays where it was
 * first put; moving it is an operator's call.
 */
export function moveReference(returnId: string, lineId: string): string {
	return `RB-${returnId}-${lineId}-move`;
}

interface PlannedMove {
	line: MappedLine;
	lineIndex: number;
	adjustment: StockAdjustmentInput | null;
}

/** Which lines move stock and where: restock/quarantine always; write-off only into a given location; no_movement never. */
export function planMoves(ret: MappedReturn, reasonText: string): PlannedMove[] {
	return ret.lines.map((line, lineIndex) => {
		const m = line.mapping;
		const moves = m.action === 'restock' || m.action === 'quarantine' || (m.action === 'write_off' && !!m.siteId && !!m.locationId);
		if (!moves || !m.siteId || !m.locationId) return { line, lineIndex, adjustment: null };
		return {
			line,
			lineIndex,
			adjustment: {
				stockCode: m.khaosSku,
				siteId: m.siteId,
				locationId: m.locationId,
				adjustBy: line.quantity,
				reason: `${reasonText} (${line.disposition})`.slice(0, 100),
				reference: moveReference(ret.returnId, line.lineId),
			},
		};
	});
}

async function applyReturnMoves(run: KhaosRun): Promise<OperationResult> {
	const done: INodeExecutionData[] = [];
	const exceptions: INodeExecutionData[] = [];
	const options = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const reasonText = String(options.adjustmentReason ?? 'ReBound return').trim() || 'ReBound return';

	const returns: Array<{ itemIndex: number; json: IDataObject; ret: MappedReturn; moves: PlannedMove[] }> = [];
	run.items.forEach((item, itemIndex) => {
		const parsed = validateMappedReturn(item.json);
		if (!parsed.ok) {
			exceptions.push(exceptionItem(recordException('invalid_payload', parsed.message, item.json, 'stock', { field: parsed.issues[0]?.field ?? null }), itemIndex));
			return;
		}
		returns.push({ itemIndex, json: item.json, ret: parsed.value, moves: planMoves(parsed.value, reasonText) });
	});

	// a return whose original order is not in Khaos moves nothing: it could not be credited, and
	// restocking it would put goods into sellable stock that no sale took out (order_not_found)
	if (options.checkOrder !== false) {
		const checked = await dropUnknownOrders(run, returns.filter((r) => r.moves.some((m) => m.adjustment)));
		exceptions.push(...checked.exceptions);
		for (let i = returns.length - 1; i >= 0; i--) if (checked.dropped.has(returns[i].itemIndex)) returns.splice(i, 1);
	}

	// one batched call for every moving line of the execution
	const batch = returns.flatMap((r) => r.moves.map((m) => m.adjustment).filter((a): a is StockAdjustmentInput => a !== null));
	const results = new Map<string, StockAdjustmentResult>();
	if (batch.length) {
		try {
			const out = await run.api.adjustStock(batch);
			batch.forEach((a, i) => {
				if (out[i]) results.set(a.reference, out[i]);
			});
		} catch (error) {
			const moving = returns.filter((r) => r.moves.some((m) => m.adjustment));
			exceptions.push(...failureExceptions(run, error, moving, 'stock', 'the Khaos stock adjustment'));
			for (const r of returns.filter((x) => !x.moves.some((m) => m.adjustment))) done.push(outputItem(resultJson(r.json, r.moves, results), r.itemIndex));
			return [done, exceptions];
		}
	}

	for (const r of returns) {
		const problems: ReturnException[] = [];
		for (const m of r.moves) {
			if (!m.adjustment) continue;
			const res = results.get(m.adjustment.reference);
			const ctx = { sku: m.adjustment.stockCode, lineId: m.line.lineId, code: m.adjustment.reference, details: { siteId: m.adjustment.siteId, locationId: m.adjustment.locationId } };
			if (!res) {
				problems.push(recordException('khaos_rejected', `${recordName(r.json)}: Khaos returned no result for stock move ${m.adjustment.reference}`, r.json, 'stock', ctx));
			} else if (res.rejectReason) {
				problems.push(recordException('khaos_rejected', `${recordName(r.json)}: Khaos rejected stock move ${m.adjustment.reference}: ${res.rejectReason}`, r.json, 'stock', ctx));
			}
		}
		if (problems.length) {
			// the other lines' moves stand; replaying the return skips them as duplicates
			for (const ex of problems) exceptions.push(exceptionItem(ex, r.itemIndex));
			continue;
		}
		done.push(outputItem(resultJson(r.json, r.moves, results), r.itemIndex));
	}
	return [done, exceptions];
}

/**
 * Looks up the original orders of the returns that would move stock (batched
 * ExportOrders, batchSize references a call) and turns a return whose order is
 * not in Khaos into an order_not_found exception; a failed look-up fails only
 * the returns of its batch (transient failures are retried like any other).
 */
async function dropUnknownOrders(run: KhaosRun, moving: Array<{ itemIndex: number; json: IDataObject; ret: MappedReturn }>): Promise<{ dropped: Set<number>; exceptions: INodeExecutionData[] }> {
	const dropped = new Set<number>();
	const exceptions: INodeExecutionData[] = [];
	const key = (ref: string) => ref.trim().toLowerCase();
	const refs = [...new Map(moving.map((r) => [key(r.ret.orderReference), r.ret.orderReference.trim()])).values()];
	const batchSize = Math.max(1, run.creds.batchSize || 50);
	const known = new Set<string>();
	const failed = new Map<string, unknown>();
	for (let i = 0; i < refs.length; i += batchSize) {
		const batch = refs.slice(i, i + batchSize);
		try {
			const found = await run.api.getSalesOrders(batch);
			for (const ref of found.keys()) known.add(key(ref));
		} catch (error) {
			for (const ref of batch) failed.set(key(ref), error);
		}
	}
	for (const r of moving) {
		const k = key(r.ret.orderReference);
		if (failed.has(k)) {
			dropped.add(r.itemIndex);
			exceptions.push(...failureExceptions(run, failed.get(k), [r], 'stock', 'looking up the original order in Khaos'));
		} else if (!known.has(k)) {
			dropped.add(r.itemIndex);
			const ex = recordException(
				'order_not_found',
				`${recordName(r.json)}: the original order "${r.ret.orderReference.slice(0, 60)}" is not in Khaos, so no stock was moved (nor can it be credited)`,
				r.json,
				'stock',
				{ code: r.ret.orderReference.slice(0, 60), field: 'orderReference' },
			);
			exceptions.push(exceptionItem(ex, r.itemIndex));
		}
	}
	return { dropped, exceptions };
}

function resultJson(json: IDataObject, moves: PlannedMove[], results: Map<string, StockAdjustmentResult>): IDataObject {
	const lines = (json.lines as IDataObject[]).map((line, i) => {
		const m = moves[i];
		const a = m?.adjustment ?? null;
		const res = a ? results.get(a.reference) : undefined;
		const stockMove: IDataObject = a
			? {
					result: res?.duplicate ? 'duplicate' : 'applied',
					applied: res?.applied ?? false,
					duplicate: res?.duplicate ?? false,
					reference: a.reference,
					stockCode: a.stockCode,
					siteId: a.siteId,
					locationId: a.locationId,
					quantity: a.adjustBy ?? null,
					newLevel: res?.newLevel ?? null,
				}
			: { result: 'no_movement', applied: false, duplicate: false, reference: null, newLevel: null };
		return { ...line, stockMove };
	});
	const moved = lines.filter((l) => (l.stockMove as IDataObject).result !== 'no_movement');
	return {
		...json,
		lines,
		stockMoves: {
			applied: moved.filter((l) => (l.stockMove as IDataObject).result === 'applied').length,
			duplicate: moved.filter((l) => (l.stockMove as IDataObject).result === 'duplicate').length,
			noMovement: lines.length - moved.length,
		},
	};
}
