/**
 * Product → Validate SKUs: every SKU of the incoming returns (or items with a `sku`) exists in
 * Khaos, is not archived and is stock controlled; one batched look-up of the distinct codes.
 * Outputs: "Valid" (whole returns) and "Exceptions" (one per bad line, never a half-passed return).
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { ReturnException } from '../../../core/exceptions';
import { validateMappedReturn } from '../../../core/mapping';
import { validateReturn, validateWith, wireKey } from '../../../core/returnModel';
import type { KhaosProduct } from '../../../transports/khaos/api';
import {
	exceptionItem,
	outputItem,
	recordException,
	recordName,
	type KhaosRun,
	type OperationResult,
} from '../common';
import { failureExceptions, isolateOrFail } from '../failures';
import { mappingTypeProperty } from '../properties';
import { productSummary } from './product.get';
import { defineOperation, flags } from './types';

interface CheckLine {
	/** index in json.lines, or -1 for an item with a `sku` field */
	index: number;
	code: string;
	lineId: string | null;
	sku: string;
}

/** The Khaos code of a line: the mapping's khaosSku when the return was mapped, else the SKU. */
function lineCode(line: IDataObject): string {
	const mapping = line.mapping as IDataObject | undefined;
	const mapped = mapping && typeof mapping.khaosSku === 'string' ? mapping.khaosSku.trim() : '';
	return mapped || String(line.sku ?? '').trim();
}

async function validateSkus(run: KhaosRun): Promise<OperationResult> {
	const valid: INodeExecutionData[] = [];
	const exceptions: INodeExecutionData[] = [];
	const mappingType = Number(run.ctx.getNodeParameter('mappingType', 0, 1));
	const discontinuedRule = run.ctx.getNodeParameter('discontinued', 0, 'flag') as string;
	const blockDiscontinued = discontinuedRule === 'block';

	// 1. what each item asks for
	const checks: Array<{ itemIndex: number; json: IDataObject; lines: CheckLine[] }> = [];
	run.items.forEach((item, itemIndex) => {
		const json = item.json;
		if (Array.isArray(json.lines)) {
			// a mapped return carries Khaos stock codes (SKU aliases) that go onto the wire too
			const mapped = (json.lines as unknown[]).some(
				(l) => typeof l === 'object' && l !== null && 'mapping' in l,
			);
			const parsed = mapped ? validateMappedReturn(json) : validateReturn(json);
			if (!parsed.ok) {
				exceptions.push(
					exceptionItem(
						recordException('invalid_payload', parsed.message, json, 'validate', {
							field: parsed.issues[0]?.field ?? null,
						}),
						itemIndex,
					),
				);
				return;
			}
			const lines = (json.lines as IDataObject[]).map((line, index) => ({
				index,
				code: lineCode(line),
				lineId: typeof line.lineId === 'string' ? line.lineId : null,
				sku: String(line.sku),
			}));
			checks.push({ itemIndex, json, lines });
		} else if (typeof json.sku === 'string' && json.sku.trim() !== '') {
			const sku = validateWith(wireKey(255, 'sku is empty'), lineCode(json), recordName(json));
			if (!sku.ok) {
				exceptions.push(
					exceptionItem(
						recordException(
							'invalid_payload',
							sku.message.replace('(root)', 'sku'),
							json,
							'validate',
							{ field: 'sku' },
						),
						itemIndex,
					),
				);
				return;
			}
			checks.push({
				itemIndex,
				json,
				lines: [{ index: -1, code: lineCode(json), lineId: null, sku: json.sku }],
			});
		} else {
			exceptions.push(
				exceptionItem(
					recordException(
						'invalid_payload',
						`${recordName(json)} is invalid: expected a return (lines) or an item with a sku field`,
						json,
						'validate',
						{ field: 'lines' },
					),
					itemIndex,
				),
			);
		}
	});
	if (checks.length === 0) return [valid, exceptions];

	// 2. one batched look-up for every distinct code of the execution; a refused call is split until
	// only the culprit item fails (core/usecases/isolate.ts)
	const products = new Map<string, KhaosProduct>();
	// (all items in one chunk: their codes are deduplicated across the whole run; the transport batches the codes)
	const codesOf = (batch: typeof checks) => [
		...new Set(batch.flatMap((c) => c.lines.map((l) => l.code))),
	];
	const looked = await isolateOrFail(
		run,
		checks,
		(batch) => run.api.getProducts(codesOf(batch), mappingType),
		Math.max(1, checks.length),
	);
	const answered: typeof checks = [];
	for (const part of looked) {
		if ('failure' in part)
			exceptions.push(
				...failureExceptions(run, part.error, part.items, 'validate', 'the Khaos product look-up'),
			);
		else {
			for (const [code, p] of part.result) products.set(code, p);
			answered.push(...part.items);
		}
	}

	// 3. per item: all lines good → Valid; otherwise one exception per bad line, never half-passed
	for (const check of answered) {
		const problems: ReturnException[] = [];
		const notices: ReturnException[] = [];
		for (const line of check.lines) {
			const p = products.get(line.code);
			const ctx = {
				sku: line.code,
				lineId: line.lineId,
				code: line.code,
				details: { reboundSku: line.sku },
			};
			const where = line.lineId ? ` (line ${line.lineId})` : '';
			if (!p) {
				problems.push(
					recordException(
						'unknown_sku',
						`${recordName(check.json)}: SKU ${line.code}${where} is not a Khaos product`,
						check.json,
						'validate',
						ctx,
					),
				);
			} else if (p.deleted) {
				problems.push(
					recordException(
						'archived_sku',
						`${recordName(check.json)}: SKU ${line.code}${where} is deleted (archived) in Khaos`,
						check.json,
						'validate',
						ctx,
					),
				);
			} else if (p.discontinued) {
				// a notice beside the valid return, or (set to block) a problem that stops it
				const ex = recordException(
					'discontinued_sku',
					`${recordName(check.json)}: SKU ${line.code}${where} is discontinued in Khaos${blockDiscontinued ? ': the return waits (Discontinued SKUs: block)' : ' and was let through (its stock moves by its grade)'}`,
					check.json,
					'validate',
					{ ...ctx, blocking: blockDiscontinued },
				);
				if (blockDiscontinued) problems.push(ex);
				else if (discontinuedRule === 'notice') notices.push(ex);
			}
			if (p && !p.deleted && !p.stockControlled) {
				problems.push(
					recordException(
						'archived_sku',
						`${recordName(check.json)}: SKU ${line.code}${where} is not stock controlled in Khaos`,
						check.json,
						'validate',
						ctx,
					),
				);
			}
		}
		if (problems.length) {
			for (const ex of problems) exceptions.push(exceptionItem(ex, check.itemIndex));
			continue;
		}
		const discontinued: string[] = [];
		let json: IDataObject;
		if (check.lines[0]?.index === -1) {
			const p = products.get(check.lines[0].code) as KhaosProduct;
			if (p.discontinued) discontinued.push(p.stockCode);
			json = { ...check.json, product: productSummary(p), discontinued: p.discontinued };
		} else {
			const lines = (check.json.lines as IDataObject[]).map((line, i) => {
				const p = products.get(check.lines[i].code) as KhaosProduct;
				if (p.discontinued) discontinued.push(p.stockCode);
				return { ...line, product: productSummary(p), discontinued: p.discontinued };
			});
			json = { ...check.json, lines };
		}
		valid.push(
			outputItem(
				{ ...json, skuValidation: { valid: true, checked: check.lines.length, discontinued } },
				check.itemIndex,
			),
		);
		for (const ex of notices) exceptions.push(exceptionItem(ex, check.itemIndex));
	}
	return [valid, exceptions];
}

export const productValidateSkus = defineOperation({
	resource: 'product',
	option: {
		name: 'Validate SKUs',
		value: 'validateSkus',
		action: 'Validate return skus',
		description:
			'Check every SKU of the incoming returns exists, is not archived and is stock controlled (one batched look-up)',
	},
	properties: [
		mappingTypeProperty,
		{
			displayName: 'Discontinued SKUs',
			name: 'discontinued',
			type: 'options',
			options: [
				{
					name: 'Flag Only',
					value: 'flag',
					description: 'The return goes on; the line is flagged discontinued in the output',
				},
				{
					name: 'Notice (Let Through)',
					value: 'notice',
					description: 'The return goes on; a discontinued_sku notice is recorded',
				},
				{
					name: 'Block',
					value: 'block',
					description: 'The return waits as a discontinued_sku exception until replayed',
				},
			],
			default: 'flag',
		},
	],
	flags: flags({ firstOutput: 'Valid' }),
	execute: validateSkus,
});
