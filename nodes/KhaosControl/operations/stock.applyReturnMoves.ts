/**
 * Stock → Apply Return Stock Moves: a thin adapter of core/usecases/applyReturnStock.ts (what has
 * moved already, the order bound, one batched ImportStockAdjustments with references that make a
 * re-delivery move nothing twice). Outputs: "Moved" and "Exceptions". A return carrying problems
 * (passed on by Returns Mapping or Validate SKUs) is checked against its order, never moved, and
 * leaves as every problem it has, one exception item each.
 */
import { NodeOperationError, type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import { xmlIllegalChar } from '../../../core/returnModel';
import {
	applyReturnStock,
	heldFromRecords,
	type LineStockMove,
	type StockInput,
	type StockOutcome,
} from '../../../core/usecases/applyReturnStock';
import { jsonList } from '../../shared/values';
import {
	exceptionItem,
	outputItem,
	parseMappedReturns,
	runError,
	type KhaosRun,
	type OperationResult,
} from '../common';
import { failureDescriber } from '../failures';
import { defineOperation, flags } from './types';
import { takingReadAhead } from '../../../transports/khaos/readAhead';
import { recordingOrders } from '../runOrders';

async function applyReturnMoves(run: KhaosRun): Promise<OperationResult> {
	const done: INodeExecutionData[] = [];
	const options = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const reasonText =
		String(options.adjustmentReason ?? 'ReBound return').trim() || 'ReBound return';
	const badReason = xmlIllegalChar(reasonText);
	if (badReason)
		throw new NodeOperationError(
			run.ctx.getNode(),
			`Adjustment Reason contains ${badReason}, a character XML cannot carry to Khaos`,
		);

	// a return carrying problems is checked against its order too and leaves as all its exceptions
	const parsed = parseMappedReturns(run, 'stock', { carried: true });
	const exceptions = parsed.invalid;
	const records: Array<{ itemIndex: number; json: IDataObject; input: StockInput }> = [
		...parsed.records.map((r) => ({ ...r, input: { ret: r.ret, payload: r.json } })),
		...parsed.carried.map((r) => ({ ...r, input: { carried: r.carried, payload: r.json } })),
	].sort((a, b) => a.itemIndex - b.itemIndex);
	let outcomes: StockOutcome[];
	try {
		outcomes = await applyReturnStock(
			// the orders it reads serve this execution's credit step too (../runOrders.ts); what Validate
			// SKUs read ahead for it is taken first (transports/khaos/readAhead.ts)
			recordingOrders(takingReadAhead(run.api, run.ctx.getExecutionId()), run.ctx.getExecutionId()),
			records.map((r) => r.input),
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
		throw runError(run, error, records[0]?.itemIndex ?? 0);
	}
	outcomes.forEach((outcome, i) => {
		const { itemIndex, json } = records[i];
		if (!outcome.ok)
			for (const ex of outcome.exceptions) exceptions.push(exceptionItem(ex, itemIndex));
		else done.push(outputItem(resultJson(json, outcome.lines), itemIndex));
	});
	return [done, exceptions];
}

function resultJson(json: IDataObject, moves: LineStockMove[]): IDataObject {
	const lines = (json.lines as IDataObject[]).map((line, i) => {
		const m = moves[i];
		const stockMove: IDataObject =
			m.result === 'no_movement'
				? {
						result: 'no_movement',
						applied: false,
						duplicate: false,
						reference: null,
						newLevel: null,
					}
				: {
						result: m.result,
						applied: m.applied,
						duplicate: m.duplicate,
						reference: m.reference,
						stockCode: m.stockCode,
						siteId: m.siteId,
						locationId: m.locationId,
						quantity: m.quantity,
						newLevel: m.newLevel,
					};
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

export const stockApplyReturnMoves = defineOperation({
	resource: 'stock',
	option: {
		name: 'Apply Return Stock Moves',
		value: 'applyReturnMoves',
		action: 'Apply the stock moves of mapped returns',
		description:
			'Restock or quarantine every line of mapped returns into its mapped location, once (idempotent references)',
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
					displayName: 'Adjustment Reason',
					name: 'adjustmentReason',
					type: 'string',
					default: 'ReBound return',
					description: 'Reason text recorded on each adjustment (the disposition is appended)',
				},
				{
					displayName: 'Check Original Order',
					name: 'checkOrder',
					type: 'boolean',
					default: true,
					description:
						'Whether to check each return against its original order before anything moves: the order exists, has each SKU, and sold at least the units moved plus those already returned or held',
				},
				{
					displayName: 'Changed After Move',
					name: 'changedAfterMove',
					type: 'options',
					default: 'block',
					options: [
						{
							name: 'Block (Exception for Ops)',
							value: 'block',
							description: 'Raise regraded_after_move and move nothing for the return',
						},
						{
							name: 'Continue (Already Handled)',
							value: 'continue',
							description:
								'Leave the moved unit where it is and let the return go on, e.g. when replaying after ops dealt with it',
						},
					],
					description:
						'What to do with a line whose unit already moved but whose grade or quantity has changed since',
				},
				{
					displayName: 'Held Returns',
					name: 'heldReturns',
					type: 'json',
					default: '[]',
					description:
						'Mapped returns outside this run whose stock moved but whose credit is not yet in Khaos (e.g. rows awaiting credit posting), as records or JSON strings; their units count against the order',
				},
			],
		},
	],
	flags: flags({ firstOutput: 'Moved', oncePerReturn: true }),
	execute: applyReturnMoves,
});
