/**
 * Return → Reconcile: the ReBound returns of a window (input items, normalised returns from the
 * ReBound node's Search) against what Khaos holds, plus the exception rows (open ones, and the
 * notices seen in the window) and the credit review rows (held credits); one output item with the
 * report and its renderings (core/usecases/reconcileReturns.ts). An empty input (no
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

/** A JSON parameter: the value, or its JSON text parsed; blank text or no value → undefined. */
function jsonParam(run: KhaosRun, name: string, title: string, expected: string): unknown {
	const raw = run.ctx.getNodeParameter(name, 0, '') as unknown;
	if (typeof raw !== 'string') return raw ?? undefined;
	if (raw.trim() === '') return undefined;
	try {
		return JSON.parse(raw) as unknown;
	} catch {
		throw new NodeOperationError(
			run.ctx.getNode(),
			`${title} is not valid JSON (expected ${expected})`,
			{ itemIndex: 0 },
		);
	}
}

/**
 * A JSON parameter holding Data Table rows: an array, or its JSON text; blank → `blank`. The rows
 * themselves are checked one by one in core (a bad row is an issue of the report, never a failure).
 */
function jsonRows<T>(
	run: KhaosRun,
	name: string,
	title: string,
	what: string,
	blank: T,
): unknown[] | T {
	const rows = jsonParam(run, name, title, `an array of ${what}`);
	if (rows === undefined || rows === null) return blank;
	if (!Array.isArray(rows))
		throw new NodeOperationError(run.ctx.getNode(), `${title} must be a JSON array of ${what}`, {
			itemIndex: 0,
		});
	return rows as unknown[];
}

/** A number option that must be 0 or more; blank → `fallback`. */
function nonNegative(run: KhaosRun, value: unknown, fallback: number, title: string): number {
	const n = value === undefined || value === '' ? fallback : Number(value);
	if (!Number.isFinite(n) || n < 0)
		throw new NodeOperationError(run.ctx.getNode(), `Options › ${title} must be 0 or more`, {
			itemIndex: 0,
		});
	return n;
}

/**
 * The row inputs that may be left empty, each meaning something of its own: reviews (held credits
 * were not checked, the report says so, unlike `[]`: checked, none), inbox (only the input
 * returns are reported), credits (only the credits recorded on done inbox rows).
 */
const OPTIONAL_ROWS = [
	['reviews', 'reviewsJson', 'Credit Review Rows (JSON)', 'credit review rows'],
	['inbox', 'inboxJson', 'Inbox Rows (JSON)', 'inbox rows'],
	['credits', 'creditsJson', 'Recorded Credit Rows (JSON)', 'recorded credit rows'],
] as const;

function readParams(run: KhaosRun): ReconcileParams {
	const rows = jsonRows(run, 'exceptionsJson', 'Exception Rows (JSON)', 'exception table rows', []);
	const optional: Pick<ReconcileParams, (typeof OPTIONAL_ROWS)[number][0]> = {};
	for (const [key, name, title, what] of OPTIONAL_ROWS) {
		const given = jsonRows(run, name, title, what, undefined);
		if (given !== undefined) optional[key] = given;
	}
	// Data Table Storage: an object or its text; blank → no storage section
	const storage = jsonParam(
		run,
		'storageJson',
		'Data Table Storage (JSON)',
		'an object with limitBytes and tables',
	);
	const o = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const tolerance = nonNegative(run, o.tolerancePencePerLine, 1, 'Tolerance (Pence per Line)');
	const overdue = nonNegative(run, o.reviewOverdueDays, 3, 'Review Overdue After (Days)');
	const from = textOrNull(o.windowFrom);
	const to = textOrNull(o.windowTo);
	return {
		exceptions: rows,
		...optional,
		...(storage !== undefined ? { storage } : {}),
		reviewOverdueDays: overdue,
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
			'Check the input returns (from ReBound) against Khaos stock adjustments and credit notes plus the open exceptions, notices and held credits; outputs one report (JSON, subject, Markdown, HTML, summary line)',
	},
	properties: [
		{
			displayName: 'Exception Rows (JSON)',
			name: 'exceptionsJson',
			type: 'json',
			default: '[]',
			description:
				'The exceptions Data Table\'s rows as a JSON array, whose open rows are reported with their returns, whose notices seen in the window are listed, and whose rows resolved or ignored in the window are listed with who closed them and why (resolvedBy, resolutionNote; the input items are the window\'s returns): columns in <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/reconciliation.md#for-integrators">docs/reconciliation.md</a>',
		},
		{
			displayName: 'Credit Review Rows (JSON)',
			name: 'reviewsJson',
			type: 'json',
			default: '',
			description:
				'The credit reviews Data Table\'s rows as a JSON array (pending and failed ones, and those decided in the window): the report\'s Held for Finance Review section. Left empty, that section says held credits were not checked. Columns in <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/reconciliation.md#held-for-finance-review">docs/reconciliation.md</a>.',
		},
		{
			displayName: 'Inbox Rows (JSON)',
			name: 'inboxJson',
			type: 'json',
			default: '',
			description:
				"The inbox Data Table's rows not in a final state (queued, processing, credit_queued, credit_review, exception) as a JSON array: each return among them is reported whatever its age, even when it is not among the input returns. Left empty: only the input returns.",
		},
		{
			displayName: 'Recorded Credit Rows (JSON)',
			name: 'creditsJson',
			type: 'json',
			default: '',
			description:
				"The recorded credits Data Table's rows of the window as a JSON array (returnId, receivedAt, creditNoteRef, creditGross, creditNet): the credit the processor computed and sent for each credited return, the expected values Khaos' credit notes are checked against. Left empty: only the values recorded on done inbox rows.",
		},
		{
			displayName: 'Data Table Storage (JSON)',
			name: 'storageJson',
			type: 'json',
			default: '',
			description:
				"Row counts of the sync's Data Tables and n8n's size limit, as an object {limitBytes, tables: [{table, newestId, firstRecentId, olderRows, olderRowsCapped}]}: the report estimates how full the Data Tables are and warns from 80 %. Left empty: no storage section.",
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Review Overdue After (Days)',
					name: 'reviewOverdueDays',
					type: 'number',
					typeOptions: { minValue: 0 },
					default: 3,
					description:
						'A pending credit review held for finance more than this many days is flagged in the report',
				},
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
					description:
						'First day of the window the returns come from (shown in the report; notices and review decisions are taken from it)',
				},
				{
					displayName: 'Window To',
					name: 'windowTo',
					type: 'string',
					default: '',
					placeholder: 'e.g. 2026-11-27',
					description:
						'Last day of the window (a date counts its whole day, UTC). Empty: notices and review decisions of the 24 hours before the report.',
				},
			],
		},
	],
	flags: flags({ runsOnEmptyInput: true }),
	execute: reconcile,
});
