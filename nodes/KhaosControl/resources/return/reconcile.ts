/**
 * Return → Reconcile: the ReBound returns of a window (input items, normalised
 * returns from the ReBound node's Search) against what Khaos holds, plus the
 * open exception rows; one output item with the report (core/reconcile) and
 * its renderings (subject, Markdown, HTML, summary line).
 *
 * Khaos look-ups, batched (config.batchSize per call): credit notes by
 * associated ref `RB-<returnId>` (ExportOrderStatusEx, ORDER_TYPE 2) and stock
 * adjustments by reference prefix `RB-<returnId>-` (ExportStockAdjustments).
 * An empty input (no item, or the one empty item a search that found nothing
 * passes on) still produces a report.
 */
import { NodeOperationError, type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import { reconcile, type ReconcileReport } from '../../../../core/reconcile';
import { renderReconciliationHtml, renderReconciliationMarkdown, renderReconciliationSummaryLine } from '../../../../core/reconcileReport';
import type { AppliedStockAdjustment, KhaosOrderStatus } from '../../../../transports/khaos/api';
import { returnAssociatedRef } from '../creditNote/execute';
import { errorItem, runError, type KhaosRun, type OperationResult } from '../../common';

/** A credit-note row of core/reconcile's `khaos` input (its schema reads it; loose on purpose). */
interface CreditNoteRow {
	orderCode: string;
	orderType: number;
	associatedRef: string;
	itemsNetPence: number;
	deliveryNetPence: number;
	grossPence: null;
	currency: string;
	created: string | null;
	cancelled: boolean;
}

/** A stock-adjustment row of core/reconcile's `khaos` input. */
interface AdjustmentRow {
	id: string | null;
	reference: string;
	stockCode: string;
	siteId: string;
	locationId: string;
	quantity: number;
}

interface ReconcileParams {
	exceptions: unknown[];
	tolerancePencePerLine: number;
	title: string | null;
	window: { from: string | null; to: string | null } | null;
}

function readParams(run: KhaosRun): ReconcileParams {
	const raw = run.ctx.getNodeParameter('exceptionsJson', 0, '[]') as unknown;
	let rows: unknown = raw;
	if (typeof raw === 'string') {
		if (raw.trim() === '') rows = [];
		else {
			try {
				rows = JSON.parse(raw) as unknown;
			} catch {
				throw new NodeOperationError(run.ctx.getNode(), 'Exception Rows (JSON) is not valid JSON (expected an array of exception table rows)', { itemIndex: 0 });
			}
		}
	}
	if (rows === null || rows === undefined) rows = [];
	if (!Array.isArray(rows)) throw new NodeOperationError(run.ctx.getNode(), 'Exception Rows (JSON) must be a JSON array of exception table rows', { itemIndex: 0 });

	const o = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const tolerance = o.tolerancePencePerLine === undefined || o.tolerancePencePerLine === '' ? 1 : Number(o.tolerancePencePerLine);
	if (!Number.isFinite(tolerance) || tolerance < 0) throw new NodeOperationError(run.ctx.getNode(), 'Options › Tolerance (Pence per Line) must be 0 or more', { itemIndex: 0 });
	const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
	const from = text(o.windowFrom);
	const to = text(o.windowTo);
	return { exceptions: rows, tolerancePencePerLine: Math.floor(tolerance), title: text(o.title), window: from || to ? { from, to } : null };
}

/** Input items that are returns (or meant to be): empty items and error items are not. */
function returnRows(items: INodeExecutionData[]): IDataObject[] {
	return items.map((i) => i.json ?? {}).filter((j) => Object.keys(j).length > 0 && !(Object.keys(j).length <= 2 && 'error' in j && !('returnId' in j)));
}

function idOf(json: IDataObject): string | null {
	const v = json.returnId;
	if (typeof v === 'number') return String(v);
	return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** Return ids whose Khaos keys can be looked up (no comma: the look-ups are comma-separated; ref within 50 characters). */
function lookupIds(rows: IDataObject[]): string[] {
	const ids = new Set<string>();
	for (const row of rows) {
		const id = idOf(row);
		if (id && !id.includes(',') && returnAssociatedRef(id).length <= 50) ids.add(id);
	}
	return [...ids];
}

/** The return an adjustment belongs to: the longest id whose `RB-<id>-` starts its reference. */
function ownerOf(ref: string, idsLongestFirst: string[]): string | null {
	const upper = ref.toUpperCase();
	return idsLongestFirst.find((id) => upper.startsWith(`${returnAssociatedRef(id)}-`.toUpperCase())) ?? null;
}

export function reconciliationSubject(report: ReconcileReport, fallbackTitle: string): string {
	const t = report.summary.totals;
	const title = report.title ?? fallbackTitle;
	if (t.returns === 0) return `${title}: no returns in the window${t.openExceptions ? `, ${t.openExceptions} open exception${t.openExceptions === 1 ? '' : 's'}` : ''}`;
	const attention = t.needsAttention ? `, ${t.needsAttention} need${t.needsAttention === 1 ? 's' : ''} attention` : '';
	return `${title}: ${t.complete} of ${t.returns} complete${attention}`;
}

export async function reconcileReturns(run: KhaosRun): Promise<OperationResult> {
	const paired = run.items.map((_, item) => ({ item }));
	const params = readParams(run);
	const rows = returnRows(run.items);
	const ids = lookupIds(rows);

	let statuses: KhaosOrderStatus[] = [];
	let adjustments: AppliedStockAdjustment[] = [];
	if (ids.length > 0) {
		try {
			statuses = await run.api.getOrderStatuses(ids.map((id) => returnAssociatedRef(id)));
			adjustments = await run.api.getStockAdjustments({ prefixes: ids.map((id) => `${returnAssociatedRef(id)}-`) });
		} catch (error) {
			// no report from half the data: the node fails (or, with continueOnFail, one error item)
			if (run.ctx.continueOnFail()) return [[{ ...errorItem(run, error, 0), pairedItem: paired.length > 0 ? paired : { item: 0 } }]];
			throw runError(run, error, 0);
		}
	}

	const byRef = new Map(ids.map((id) => [returnAssociatedRef(id).toUpperCase(), id]));
	const notes = new Map<string, CreditNoteRow[]>();
	for (const s of statuses) {
		if (s.orderType !== 2) continue;
		const id = byRef.get(s.associatedRef.toUpperCase());
		if (!id) continue;
		const list = notes.get(id) ?? [];
		list.push({
			orderCode: s.orderCode,
			orderType: s.orderType,
			associatedRef: s.associatedRef,
			itemsNetPence: s.itemsNetPence,
			deliveryNetPence: s.deliveryNetPence,
			grossPence: null,
			currency: s.currency,
			created: s.dateCreated || null,
			cancelled: s.cancelled,
		});
		notes.set(id, list);
	}
	const longestFirst = [...ids].sort((a, b) => b.length - a.length);
	const moves = new Map<string, AdjustmentRow[]>();
	for (const a of adjustments) {
		const id = ownerOf(a.reference, longestFirst);
		if (!id) continue;
		const list = moves.get(id) ?? [];
		list.push({ id: a.id, reference: a.reference, stockCode: a.stockCode, siteId: a.siteId, locationId: a.locationId, quantity: a.quantity });
		moves.set(id, list);
	}
	const khaos = ids.map((id) => {
		const creditNotes = notes.get(id) ?? [];
		const processed = creditNotes.some((n) => !n.cancelled);
		// ExportOrderStatusEx shows the credit note, not the return: a credit note means it was imported and processed
		return { returnId: id, returnCode: null, imported: processed, processed, creditNotes, adjustments: moves.get(id) ?? [] };
	});

	const { report, issues } = reconcile({
		returns: rows,
		khaos,
		exceptions: params.exceptions,
		options: { tolerancePencePerLine: params.tolerancePencePerLine, title: params.title },
		...(params.window ? { window: params.window } : {}),
	});
	const markdown = renderReconciliationMarkdown(report, issues);
	const html = renderReconciliationHtml(report, issues);
	const summaryLine = renderReconciliationSummaryLine(report, issues);
	const subject = reconciliationSubject(report, `Returns reconciliation ${report.generatedAt.slice(0, 10)}`);
	const json = { ...(report as unknown as IDataObject), issues: issues as unknown as IDataObject[], subject, summaryLine, markdown, html };
	return [[{ json, pairedItem: paired.length > 0 ? paired : { item: 0 } }]];
}
