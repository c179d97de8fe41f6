/**
 * Product → Validate SKUs: every SKU of the incoming returns (or items with a `sku`) exists in
 * Khaos, is not archived and is stock controlled; one batched look-up of the distinct codes.
 * Outputs: "Valid" (whole returns) and "Exceptions" (one per bad line, never a half-passed return).
 * A return carrying problems (Returns Mapping's pass-on mode, core/carriedReturn.ts) is checked
 * too: its problems and these leave together, or with Returns With Problems: Pass On it goes on to
 * Valid carrying them all, so Apply Return Stock Moves checks its order and reports every problem.
 */
import { sleep, type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import { carryProblems, releaseProblems, withoutProblems } from '../../../core/carriedReturn';
import type { ReturnException } from '../../../core/exceptions';
import {
	judgeSkus,
	skuRequestOf,
	type DiscontinuedRule,
	type SkuFinding,
	type SkuRequest,
} from '../../../core/skuCheck';
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
import { skuLookUp, type ReadAheadReturn } from '../../../transports/khaos/readAhead';
import { productSummary } from './product.get';
import { defineOperation, flags } from './types';

interface Check extends SkuRequest {
	itemIndex: number;
	json: IDataObject;
}

function exceptionOf(
	check: Check,
	finding: SkuFinding,
	blockDiscontinued: boolean,
): ReturnException {
	const { line } = finding;
	return recordException(finding.kind, finding.message, check.json, 'validate', {
		sku: line.code,
		lineId: line.lineId,
		code: line.code,
		details: { reboundSku: line.sku },
		...(finding.kind === 'discontinued_sku' ? { blocking: blockDiscontinued } : {}),
	});
}

/** A return with no problem: its lines annotated with their products, on Valid. */
function validJson(check: Check, products: Map<string, KhaosProduct>): IDataObject {
	const discontinued: string[] = [];
	const annotate = (json: IDataObject, code: string) => {
		const p = products.get(code) as KhaosProduct;
		if (p.discontinued) discontinued.push(p.stockCode);
		return { ...json, product: productSummary(p), discontinued: p.discontinued };
	};
	const json = check.plain
		? annotate(check.json, check.lines[0].code)
		: {
				...check.json,
				lines: (check.json.lines as IDataObject[]).map((l, i) => annotate(l, check.lines[i].code)),
			};
	return { ...json, skuValidation: { valid: true, checked: check.lines.length, discontinued } };
}

/** A return's ids for the read ahead; an item without a return id (a plain SKU item) asks for nothing. */
function readAheadOf({ json }: Check): ReadAheadReturn[] {
	const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
	const returnId = text(json.returnId).trim();
	return returnId ? [{ returnId, orderReference: text(json.orderReference).trim() }] : [];
}

async function validateSkus(run: KhaosRun): Promise<OperationResult> {
	const valid: INodeExecutionData[] = [];
	const exceptions: INodeExecutionData[] = [];
	const mappingType = Number(run.ctx.getNodeParameter('mappingType', 0, 1));
	const rule = run.ctx.getNodeParameter('discontinued', 0, 'flag') as string;
	const discontinuedRule: DiscontinuedRule = rule === 'block' || rule === 'notice' ? rule : 'flag';
	const blockDiscontinued = discontinuedRule === 'block';
	const passOn = run.ctx.getNodeParameter('withProblems', 0, 'route') === 'passOn';
	const readAheadFor = run.ctx.getNodeParameter('readAhead', 0, 'none');

	// 1. what each item asks for
	const checks: Check[] = [];
	run.items.forEach(({ json }, itemIndex) => {
		const asked = skuRequestOf(json, recordName(json));
		if (asked.ok) checks.push({ ...asked.request, itemIndex, json });
		else {
			const field = asked.field;
			const ex = recordException('invalid_payload', asked.message, json, 'validate', { field });
			exceptions.push(exceptionItem(ex, itemIndex));
		}
	});
	if (checks.length === 0) return [valid, exceptions];

	// 2. one batched look-up for every distinct code of the execution; a refused call is split until
	// only the culprit item fails (core/usecases/isolate.ts)
	const products = new Map<string, KhaosProduct>();
	// (all items in one chunk: their codes are deduplicated across the whole run; the transport batches the codes)
	const codesOf = (batch: Check[]) => [
		...new Set(batch.flatMap((c) => c.lines.map((l) => l.code))),
	];
	// an early read ahead of this execution (Return → Read Ahead) gives its products, or this look-up
	// reads ahead itself (Read Ahead) in the same round trip: transports/khaos/readAhead.ts
	const lookUp = await skuLookUp(
		run.api,
		run.ctx.getExecutionId(),
		readAheadFor === 'stock' || readAheadFor === 'stockAndCredit'
			? { returns: checks.flatMap(readAheadOf), credit: readAheadFor === 'stockAndCredit' }
			: null,
		sleep,
	);
	const looked = await isolateOrFail(
		run,
		checks,
		(batch) => lookUp.api.getProducts(codesOf(batch), mappingType),
		Math.max(1, checks.length),
	);
	await lookUp.settle();
	const answered: Check[] = [];
	for (const part of looked) {
		if ('failure' in part) {
			// retried or replayed from the start: a carried return's problems are found again
			const items = part.items.map((c) => ({ ...c, json: withoutProblems(c.json) }));
			const what = 'the Khaos product look-up';
			exceptions.push(...failureExceptions(run, part.error, items, 'validate', what));
		} else {
			for (const [code, p] of part.result) products.set(code, p);
			answered.push(...part.items);
		}
	}

	// 3. per item: all lines good → Valid, its notices beside it; otherwise every problem at once
	// (those it carried too), as exceptions or (pass on) carried on to Valid; never half-passed
	for (const check of answered) {
		const verdict = judgeSkus(recordName(check.json), check.lines, products, discontinuedRule);
		const own = verdict.problems.map((f) => exceptionOf(check, f, blockDiscontinued));
		const problems = [...check.carried, ...own];
		if (problems.length === 0) {
			valid.push(outputItem(validJson(check, products), check.itemIndex));
			for (const f of verdict.notices)
				exceptions.push(exceptionItem(exceptionOf(check, f, blockDiscontinued), check.itemIndex));
		} else if (passOn && !check.plain) {
			const skuValidation = { valid: own.length === 0, checked: check.lines.length };
			const json = carryProblems({ ...check.json, skuValidation }, problems);
			valid.push(outputItem(json as unknown as IDataObject, check.itemIndex));
		} else {
			for (const ex of releaseProblems(check.json, problems))
				exceptions.push(exceptionItem(ex, check.itemIndex));
		}
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
		{
			displayName: 'Returns With Problems',
			name: 'withProblems',
			type: 'options',
			options: [
				{
					name: 'Route to Exceptions',
					value: 'route',
					description:
						'Every problem of the return (those it arrived with too) goes to Exceptions, one item each',
				},
				{
					name: 'Pass On (Checked Further Downstream)',
					value: 'passOn',
					description:
						'The return goes on to Valid carrying its problems, so Apply Return Stock Moves checks its order too and reports them all; it never moves stock',
				},
			],
			default: 'route',
			description:
				'Where a return with an unknown, archived or blocked SKU, or one passed on by Returns Mapping with its problems, goes',
		},
		{
			displayName: 'Read Ahead',
			name: 'readAhead',
			type: 'options',
			options: [
				{
					name: 'Off',
					value: 'none',
					description: 'Each later step asks Khaos for what it needs itself',
				},
				{
					name: 'For Apply Return Stock Moves',
					value: 'stock',
					description:
						"The returns' orders and the stock moves already made, in the same round trip as the SKU look-up",
				},
				{
					name: 'For Apply Return Stock Moves and Create Credit Note',
					value: 'stockAndCredit',
					description: 'Those, and the credit notes already made, in the same round trip',
				},
			],
			default: 'none',
			description:
				'What to ask Khaos for in the same round trip as the SKU look-up, for the steps after this one in the same execution, so that they do not wait for their own first look-ups. Each answer is used once, within 5 s; a failed read ahead is simply asked again by the step that needs it. Not used when a Return → Read Ahead node already asked earlier in the execution (this node then takes its products from it).',
		},
	],
	flags: flags({ firstOutput: 'Valid' }),
	execute: validateSkus,
});
