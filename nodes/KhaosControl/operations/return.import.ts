/**
 * Return → Import: one return against its original order, one ImportReturns call per item.
 * ASSOCIATED_REF is the duplicate guard: a second import is a success with `duplicate: true` and
 * the existing return code. (Create Credit Note from Return batches imports.)
 */
import type { IDataObject } from 'n8n-workflow';
import { z } from 'zod';
import { describeIssues, issuesFromZod } from '../../../core/returnModel';
import type { ImportReturnInput } from '../../../transports/khaos/api';
import { locatorValue, outputItem, perItem, type KhaosRun, type OperationResult } from '../common';
import { reasonOptions, siteLocator } from '../properties';
import { defineOperation } from './types';

const pence = z.number().int('must be whole pence').nonnegative();
const id = z.union([z.string(), z.number()]).transform((v) => String(v).trim());

const ImportLineSchema = z.object({
	stockCode: z.string().trim().min(1, 'stockCode is empty'),
	quantity: z
		.number()
		.int('quantity must be a whole number')
		.positive('quantity must be at least 1'),
	reasonId: id.optional(),
	orderLineId: id.pipe(z.string().min(1, 'orderLineId is empty')),
	siteId: id.optional(),
	locationId: id.nullable().optional(),
	restock: z.boolean().default(false),
	creditNetPence: pence,
	creditTaxPence: pence,
	creditGrossPence: pence,
});

const ImportReturnSchema = z.object({
	associatedRef: z
		.string()
		.trim()
		.min(1, 'associatedRef is empty (it is the duplicate guard)')
		.max(50, 'associatedRef is longer than 50 characters'),
	customerUrn: z.string().trim().min(1, 'customerUrn is empty'),
	orderAssociatedRef: z.string().trim().min(1, 'orderAssociatedRef is empty'),
	currency: z
		.string()
		.trim()
		.toUpperCase()
		.regex(/^[A-Z]{3}$/, 'currency must be a 3-letter code')
		.default('GBP'),
	exchangeRate: z.number().positive().default(1),
	notes: z.string().optional(),
	lines: z.array(ImportLineSchema).min(1, 'a return needs at least one line'),
	delivery: z
		.object({ netPence: pence, taxPence: pence, grossPence: pence })
		.nullable()
		.default(null),
});

function parseJsonParam(value: unknown): { ok: true; value: unknown } | { ok: false } {
	if (typeof value !== 'string') return { ok: true, value };
	try {
		return { ok: true, value: JSON.parse(value) as unknown };
	} catch {
		return { ok: false };
	}
}

async function importReturns(run: KhaosRun): Promise<OperationResult> {
	const out = await perItem(run, async (itemIndex) => {
		const raw = parseJsonParam(run.ctx.getNodeParameter('returnJson', itemIndex, '{}'));
		if (!raw.ok) throw new Error('Return (JSON) is not valid JSON');
		const parsed = ImportReturnSchema.safeParse(raw.value);
		if (!parsed.success)
			throw new Error(describeIssues('Return (JSON)', issuesFromZod(parsed.error)));
		const r = parsed.data;
		const defaultReason = String(
			run.ctx.getNodeParameter('defaultReasonId', itemIndex, '') ?? '',
		).trim();
		const defaultSite = locatorValue(run, 'defaultSite', itemIndex) || run.creds.defaultSiteId;
		const input: ImportReturnInput = {
			associatedRef: r.associatedRef,
			customerUrn: r.customerUrn,
			orderAssociatedRef: r.orderAssociatedRef,
			currency: r.currency,
			exchangeRate: r.exchangeRate,
			notes: r.notes,
			delivery: r.delivery,
			lines: r.lines.map((l, i) => {
				const reasonId = l.reasonId || defaultReason;
				const siteId = l.siteId || defaultSite;
				if (!reasonId)
					throw new Error(
						`Return (JSON) lines[${i}].reasonId is empty and no default return reason is set`,
					);
				if (!siteId)
					throw new Error(`Return (JSON) lines[${i}].siteId is empty and no default site is set`);
				return { ...l, reasonId, siteId, locationId: l.locationId || null };
			}),
		};
		const result = await run.api.importReturn(input);
		if (!result.imported && !result.duplicate) {
			throw new Error(
				`Khaos did not import return ${r.associatedRef}: ${result.skipReason ?? 'no reason given'}`,
			);
		}
		const json: IDataObject = {
			associatedRef: r.associatedRef,
			returnCode: result.returnCode || null,
			imported: result.imported,
			duplicate: result.duplicate,
			skipReason: result.skipReason,
		};
		return [outputItem(json, itemIndex)];
	});
	return [out];
}

export const returnImport = defineOperation({
	resource: 'return',
	option: {
		name: 'Import',
		value: 'import',
		action: 'Import a return',
		description:
			'Create a customer return against its original order (a second import with the same associated ref is reported as a duplicate, never created twice)',
	},
	properties: [
		{
			displayName: 'Return (JSON)',
			name: 'returnJson',
			type: 'json',
			default: '={{ JSON.stringify($json) }}',
			required: true,
			description:
				'The return to import as JSON, keyed by a unique associatedRef of at most 50 characters (the duplicate guard): fields in <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/credit-notes.md#importing-a-return-the-fields">docs/credit-notes.md</a>',
		},
		reasonOptions('defaultReasonId', 'Default Return Reason Name or ID'),
		siteLocator('defaultSite'),
	],
	execute: importReturns,
});
