/**
 * Return → Reconcile: the ReBound returns of a window (input items, normalised returns from the
 * ReBound node's Search) against what Khaos holds, plus the open exception rows; one output item
 * with the report and its renderings (core/usecases/reconcileReturns.ts). An empty input (no
 * item, or the one empty item a search that found nothing passes on) still produces a report.
 */
import { NodeOperationError, type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import {
	KhaosLookupFailed,
	reconcileReturns,
	type ReconcileParams,
	type Reconciliation,
} from '../../../core/usecases/reconcileReturns';
import { textOrNull } from '../../shared/values';
import { errorItem, runError, type KhaosRun, type OperationResult } from '../common';
import { defineOperation, flags } from './types';

function readParams(run: KhaosRun): ReconcileParams {
	const raw = run.ctx.getNodeParameter('exceptionsJson', 0, '[]') as unknown;
	let rows: unknown = raw;
	if (typeof raw === 'string') {
		if (raw.trim() === '') rows = [];
		else {
			try {
				rows = JSON.parse(raw) as unknown;
			} catch {
				throw new NodeOperationError(
					run.ctx.getNode(),
					'Exception Rows (JSON) is not valid JSON (expected an array of exception table rows)',
					{ itemIndex: 0 },
				);
			}
		}
	}
	if (rows === null || rows === undefined) rows = [];
	if (!Array.isArray(rows))
		throw new NodeOperationError(
			run.ctx.getNode(),
			'Exception Rows (JSON) must be a JSON array of exception table rows',
			{ itemIndex: 0 },
		);

	const o = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const tolerance =
		o.tolerancePencePerLine === undefined || o.tolerancePencePerLine === ''
			? 1
			: Number(o.tolerancePencePerLine);
	if (!Number.isFinite(tolerance) || tolerance < 0)
		throw new NodeOperationError(
			run.ctx.getNode(),
			'Options › Tolerance (Pence per Line) must be 0 or more',
			{ itemIndex: 0 },
		);
	const from = textOrNull(o.windowFrom);
	const to = textOrNull(o.windowTo);
	return {
		exceptions: rows,
		tolerancePencePerLine: Math.floor(tolerance),
		title: textOrNull(o.title),
		window: from || to ? { from, to } : null,
	};
}

/** Input items that are returns (or meant to be): empty items and error items are not. */
function returnRows(items: INodeExecutionData[]): IDataObject[] {
	return items
		.map((i) => i.json ?? {})
		.filter(
			(j) =>
				Object.keys(j).length > 0 &&
				!(Object.keys(j).length <= 2 && 'error' in j && !('returnId' in j)),
		);
}

async function reconcile(run: KhaosRun): Promise<OperationResult> {
	const paired = run.items.length > 0 ? run.items.map((_, item) => ({ item })) : { item: 0 };
	const params = readParams(run);
	let result: Reconciliation;
	try {
		result = await reconcileReturns(run.api, returnRows(run.items), params);
	} catch (failed) {
		if (!(failed instanceof KhaosLookupFailed)) throw runError(run, failed, 0);
		// no report from half the data: the node fails (or, with continueOnFail, one error item)
		if (run.ctx.continueOnFail())
			return [[{ ...errorItem(run, failed.error, 0), pairedItem: paired }]];
		throw runError(run, failed.error, 0);
	}
	const { report, issues, subject, summaryLine, markdown, html } = result;
	const json = {
		...(report as unknown as IDataObject),
		issues: issues as unknown as IDataObject[],
		subject,
		summaryLine,
		markdown,
		html,
	};
	return [[{ json, pairedItem: paired }]];
}

export const returnReconcile = defineOperation({
	resource: 'return',
	option: {
		name: 'Reconcile',
		value: 'reconcile',
		action: 'Reconcile returns',
		description:
			'Check the input returns (from ReBound) against Khaos stock adjustments and credit notes plus the open exceptions; outputs one report (JSON, subject, Markdown, HTML, summary line)',
	},
	properties: [
		{
			displayName: 'Exception Rows (JSON)',
			name: 'exceptionsJson',
			type: 'json',
			default: '[]',
			description:
				'The exceptions Data Table\'s rows as a JSON array, whose open rows are reported with their returns (the input items are the window\'s returns): columns in <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/reconciliation.md#for-integrators">docs/reconciliation.md</a>',
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Title',
					name: 'title',
					type: 'string',
					default: '',
					description:
						'Heading of the report and its e-mail subject (empty: "Returns reconciliation" and the window)',
				},
				{
					displayName: 'Tolerance (Pence per Line)',
					name: 'tolerancePencePerLine',
					type: 'number',
					typeOptions: { minValue: 0 },
					default: 1,
					description: 'Difference allowed per credited line before a value counts as a mismatch',
				},
				{
					displayName: 'Window From',
					name: 'windowFrom',
					type: 'string',
					default: '',
					placeholder: 'e.g. 2026-11-27',
					description: 'First day of the window the returns come from (shown in the report)',
				},
				{
					displayName: 'Window To',
					name: 'windowTo',
					type: 'string',
					default: '',
					placeholder: 'e.g. 2026-11-27',
					description: 'Last day of the window (shown in the report)',
				},
			],
		},
	],
	flags: flags({ runsOnEmptyInput: true }),
	execute: reconcile,
});
