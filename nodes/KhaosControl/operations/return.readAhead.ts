/**
 * Return → Read Ahead (issue 15): starts asking Khaos, all at once and without waiting, for what
 * the steps later in the same execution will ask first: Validate SKUs' product look-up, the
 * returns' original orders and the stock moves already made (Apply Return Stock Moves) and,
 * optionally, the credit notes already made (Create Credit Note). The items go on unchanged at
 * once, so the answers come back while n8n does the run's other work (in the processor: the
 * claim and the look for another run's rows, the later-event check, the mapping) instead of holding Validate SKUs up for a round
 * trip. What was read is taken under transports/khaos/readAhead.ts's rules (same execution, within 5 s, each
 * reference once, all or none); a failed read ahead is simply asked again by the step that needs it.
 *
 * It reads the items as they come: inbox rows (the return in `payload`, as the processor reads
 * them before mapping) or returns (`lines`). SKUs are read as ReBound sent them: a line whose SKU
 * the alias table changes is looked up by Validate SKUs itself.
 */
import type { IDataObject } from 'n8n-workflow';
import { lineCode } from '../../../core/skuCheck';
import { outputItem, type KhaosRun, type OperationResult } from '../common';
import { mappingTypeProperty } from '../properties';
import { startReadAhead, type ReadAheadReturn } from '../../../transports/khaos/readAhead';
import { defineOperation } from './types';

const text = (v: unknown) =>
	typeof v === 'string' || typeof v === 'number' ? String(v).trim() : '';

/** The return an item carries: the inbox row's payload when it has one, else the item itself. */
function returnOf(json: IDataObject): IDataObject {
	if (typeof json.payload !== 'string') return json;
	try {
		const parsed: unknown = JSON.parse(json.payload);
		return parsed && typeof parsed === 'object' ? (parsed as IDataObject) : {};
	} catch {
		return {}; // an unreadable payload is reported by the step that maps it, not here
	}
}

async function readAheadForRun(run: KhaosRun): Promise<OperationResult> {
	const mappingType = Number(run.ctx.getNodeParameter('mappingType', 0, 1));
	const forWhat = run.ctx.getNodeParameter('readAheadFor', 0, 'stockAndCredit');
	const returns: ReadAheadReturn[] = [];
	const codes: string[] = [];
	for (const { json } of run.items) {
		const ret = returnOf(json);
		const returnId = text(json.returnId) || text(ret.returnId);
		if (!returnId) continue;
		returns.push({
			returnId,
			orderReference: text(json.orderReference) || text(ret.orderReference),
		});
		if (Array.isArray(ret.lines))
			for (const line of ret.lines)
				if (line && typeof line === 'object') codes.push(lineCode(line as IDataObject));
	}
	startReadAhead(run.api, run.ctx.getExecutionId(), returns, {
		credit: forWhat === 'stockAndCredit',
		products: { codes: codes.filter(Boolean), mappingType },
	});
	return [run.items.map((item, i) => outputItem(item.json, i))];
}

export const returnReadAhead = defineOperation({
	resource: 'return',
	option: {
		name: 'Read Ahead',
		value: 'readAhead',
		action: 'Read ahead for the returns of this run',
		description:
			'Start asking Khaos for what Validate SKUs and the stock and credit steps after it in this execution will ask first, and pass the items on at once',
	},
	properties: [
		{
			...mappingTypeProperty,
			description:
				'How Validate SKUs looks the codes up (the same setting as there; a different one is asked again)',
		},
		{
			displayName: 'Read Ahead For',
			name: 'readAheadFor',
			type: 'options',
			options: [
				{
					name: 'Validate SKUs and Apply Return Stock Moves',
					value: 'stock',
					description:
						"The returns' products, orders and the stock moves already made (a run whose credit notes are posted later)",
				},
				{
					name: 'Those and Create Credit Note',
					value: 'stockAndCredit',
					description: 'Those, and the credit notes already made',
				},
			],
			default: 'stockAndCredit',
			description:
				'Each answer is used once by the first look-up of its step in this execution, within 5 s; what fails or comes late is asked again by the step',
		},
	],
	execute: readAheadForRun,
});
