/**
 * Mapping → Audit: the disposition and reason tables checked against Khaos (sites, locations and
 * whether they are sellable, return reasons) and against the codes ReBound used (the input items:
 * the returns of the last N days, from the ReBound node's Search). One report item (JSON, subject,
 * summary line, Markdown, HTML) on Report and one exception item per finding on Exceptions (the
 * exception sink alerts each once). Read-only: a wrong row is a finding naming the row and the fix,
 * never a failure; only Khaos failing to answer fails the node (core/usecases/auditMappings.ts).
 *
 * It lives here rather than in Returns Mapping because it needs the Khaos credential and calls;
 * Returns Mapping's Check Mappings stays offline (no credential): the codes without a row only.
 */
import type { IDataObject } from 'n8n-workflow';
import { renderMappingAudit } from '../../../core/mappingAuditReport';
import { auditExceptions, auditMappings } from '../../../core/usecases/auditMappings';
import { textOrNull } from '../../shared/values';
import { errorItem, exceptionItem, runError, type KhaosRun, type OperationResult } from '../common';
import { defineOperation, flags } from './types';

/** The items that are returns (or meant to be): the empty item a search that found nothing passes on is not. */
function inputReturns(run: KhaosRun): unknown[] {
	return run.items.map((i) => i.json ?? {}).filter((j) => Object.keys(j).length > 0);
}

async function audit(run: KhaosRun): Promise<OperationResult> {
	const paired = run.items.length > 0 ? run.items.map((_, item) => ({ item })) : { item: 0 };
	const o = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const days = Number(o.days ?? 30);
	let result: Awaited<ReturnType<typeof auditMappings>>;
	try {
		result = await auditMappings(run.api, {
			// the rows as given (an array or its JSON text): a table that is not one is a finding
			dispositions: run.ctx.getNodeParameter('dispositionsJson', 0, '[]'),
			reasons: run.ctx.getNodeParameter('reasonsJson', 0, '[]'),
			returns: inputReturns(run),
			days: Number.isFinite(days) && days > 0 ? days : null,
			title: textOrNull(o.title),
		});
	} catch (error) {
		if (run.ctx.continueOnFail())
			return [[{ ...errorItem(run, error, 0), pairedItem: paired }], []];
		throw runError(run, error, 0);
	}
	const found = auditExceptions(result);
	const json = {
		...(result as unknown as IDataObject),
		...renderMappingAudit(result),
		// the keys of this run's findings: a template resolves the open rows no longer among them
		exceptionKeys: found.map((ex) => ex.key),
	};
	const exceptions = found.map((ex) => ({ ...exceptionItem(ex, 0), pairedItem: paired }));
	return [[{ json, pairedItem: paired }], exceptions];
}

export const mappingAudit = defineOperation({
	resource: 'mapping',
	option: {
		name: 'Audit',
		value: 'audit',
		action: 'Audit mappings against Khaos',
		description:
			'Check every disposition and reason row against Khaos (site and location exist, restock into a sellable location, quarantine and write-off into a non-sellable one, reason ID exists) and list the codes ReBound used (the input returns) that no row takes, with counts; one report (JSON, Markdown, HTML) and one exception item per finding',
	},
	properties: [
		{
			displayName: 'Disposition Rows (JSON)',
			name: 'dispositionsJson',
			type: 'json',
			default: '[]',
			description:
				"The disposition table's rows as a JSON array (the Data Table the Returns Mapping node reads)",
		},
		{
			displayName: 'Reason Rows (JSON)',
			name: 'reasonsJson',
			type: 'json',
			default: '[]',
			description: "The reason table's rows as a JSON array",
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Days Read',
					name: 'days',
					type: 'number',
					typeOptions: { minValue: 1 },
					default: 30,
					description:
						'How many days of ReBound returns the input items cover (shown in the report; the ReBound Search before this node reads them)',
				},
				{
					displayName: 'Title',
					name: 'title',
					type: 'string',
					default: '',
					description: 'Heading of the report (empty: "Mapping audit")',
				},
			],
		},
	],
	flags: flags({ firstOutput: 'Report', runsOnEmptyInput: true }),
	execute: audit,
});
