/**
 * Reconcile the returns of a window against what Khaos holds: one batched look-up of the credit
 * notes (associated ref `RB-<returnId>`, ORDER_TYPE 2) and one of the stock adjustments
 * (reference prefix `RB-<returnId>-`), grouped per return, then core/reconcile's report and its
 * renderings. A failed look-up rejects with KhaosLookupFailed (no report from half the data).
 */
import {
	isUnfinishedInboxStatus,
	reconcile,
	type ReconcileReport,
	type ReconcileResult,
	type StorageSection,
} from '../reconcile';
import { estimateDataTableStorage, storageLine, storageWarning } from '../dataTableStorage';
import { withClosedExceptions, type ReportWithClosed } from '../reconcileClosed';
import {
	renderReconciliationHtml,
	renderReconciliationMarkdown,
	renderReconciliationSummaryLine,
} from '../reconcileReport';
import type { AppliedAdjustment, OrderStatus, ReconcilePort } from '../ports';
import { returnAssociatedRef } from './postCreditNotes';

export interface ReconcileParams {
	/** Rows of the exceptions table (open ones are reported and linked to their returns; notices seen in the window are listed). */
	exceptions: unknown[];
	/** Rows of the credit reviews table; undefined: held credits are not checked (the report says so). */
	reviews?: unknown[];
	/** Rows of the inbox table: those not in a final state bring their returns, whatever their age. */
	inbox?: unknown[];
	/** Rows of the recorded credits table (the credit each credited return was given: the expected values). */
	credits?: unknown[];
	/** A pending review held more than this many days is flagged (default 3). */
	reviewOverdueDays?: number;
	/** The Data Table storage measures (core/dataTableStorage.ts StorageInput); undefined: no storage section. */
	storage?: unknown;
	tolerancePencePerLine: number;
	title: string | null;
	window: { from: string | null; to: string | null } | null;
}

export interface Reconciliation {
	report: ReportWithClosed;
	issues: ReconcileResult['issues'];
	subject: string;
	summaryLine: string;
	markdown: string;
	html: string;
}

/** A Khaos look-up failed: there is no report (`error` is the port's). */
export class KhaosLookupFailed extends Error {
	constructor(readonly error: unknown) {
		super(error instanceof Error ? error.message : String(error));
		this.name = 'KhaosLookupFailed';
	}
}

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

function idOf(row: Record<string, unknown>): string | null {
	const v = row.returnId;
	if (typeof v === 'number') return String(v);
	return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** Return ids whose Khaos keys can be looked up (no comma: the look-ups are comma-separated; ref within 50 characters). */
function lookupIds(rows: Array<Record<string, unknown>>): string[] {
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
	return (
		idsLongestFirst.find((id) => upper.startsWith(`${returnAssociatedRef(id)}-`.toUpperCase())) ??
		null
	);
}

export function reconciliationSubject(report: ReconcileReport, fallbackTitle: string): string {
	const t = report.summary.totals;
	const title = report.title ?? fallbackTitle;
	if (t.returns === 0)
		return `${title}: no returns in the window${t.openExceptions ? `, ${t.openExceptions} open exception${t.openExceptions === 1 ? '' : 's'}` : ''}`;
	const attention = t.needsAttention
		? `, ${t.needsAttention} need${t.needsAttention === 1 ? 's' : ''} attention`
		: '';
	return `${title}: ${t.complete} of ${t.returns} complete${attention}`;
}

/**
 * The report with its Data Table storage section (params.storage passed): the estimate, and its
 * warning from 80 % among the lines that need attention.
 */
export function withStorage(report: ReconcileReport, measures: unknown): ReconcileReport {
	if (measures === undefined) return report;
	const estimate = estimateDataTableStorage(measures);
	const usage = estimate.ok ? estimate.storage : null;
	const warning = usage ? storageWarning(usage) : null;
	const storage: StorageSection = {
		usage,
		problem: estimate.ok ? null : estimate.problem,
		line: usage
			? storageLine(usage)
			: `Data Tables: not estimated (${estimate.ok ? '' : estimate.problem}).`,
		warning,
	};
	return {
		...report,
		storage,
		attention: warning ? [...report.attention, warning] : report.attention,
	};
}

/** `rows`: the returns of the window (ReBound's normalised returns), as records. */
export async function reconcileReturns(
	port: ReconcilePort,
	rows: Array<Record<string, unknown>>,
	params: ReconcileParams,
): Promise<Reconciliation> {
	// the unfinished inbox rows' returns are looked up too (core/reconcileInbox: they join the report)
	const unfinished = (params.inbox ?? []).filter(
		(r): r is Record<string, unknown> =>
			!!r &&
			typeof r === 'object' &&
			typeof (r as Record<string, unknown>).status === 'string' &&
			isUnfinishedInboxStatus(
				String((r as Record<string, unknown>).status)
					.trim()
					.toLowerCase(),
			),
	);
	const ids = lookupIds([...rows, ...unfinished]);
	let statuses: OrderStatus[] = [];
	let adjustments: AppliedAdjustment[] = [];
	if (ids.length > 0) {
		try {
			statuses = await port.getOrderStatuses(ids.map((id) => returnAssociatedRef(id)));
			adjustments = await port.getStockAdjustments({
				prefixes: ids.map((id) => `${returnAssociatedRef(id)}-`),
			});
		} catch (error) {
			throw new KhaosLookupFailed(error);
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
		list.push({
			id: a.id,
			reference: a.reference,
			stockCode: a.stockCode,
			siteId: a.siteId,
			locationId: a.locationId,
			quantity: a.quantity,
		});
		moves.set(id, list);
	}
	const khaos = ids.map((id) => {
		const creditNotes = notes.get(id) ?? [];
		const processed = creditNotes.some((n) => !n.cancelled);
		// ExportOrderStatusEx shows the credit note, not the return: a credit note means it was imported and processed
		return {
			returnId: id,
			returnCode: null,
			imported: processed,
			processed,
			creditNotes,
			adjustments: moves.get(id) ?? [],
		};
	});

	const { report: reconciled, issues } = reconcile({
		returns: rows,
		khaos,
		exceptions: params.exceptions,
		...(params.reviews !== undefined ? { reviews: params.reviews } : {}),
		...(params.inbox !== undefined ? { inbox: params.inbox } : {}),
		...(params.credits !== undefined ? { credits: params.credits } : {}),
		options: {
			tolerancePencePerLine: params.tolerancePencePerLine,
			title: params.title,
			...(params.reviewOverdueDays !== undefined
				? { reviewOverdueDays: params.reviewOverdueDays }
				: {}),
		},
		...(params.window ? { window: params.window } : {}),
	});
	// the exceptions resolved or ignored in the window, with who and why (core/reconcileClosed.ts)
	const report = withClosedExceptions(withStorage(reconciled, params.storage), params.exceptions);
	return {
		report,
		issues,
		subject: reconciliationSubject(
			report,
			`Returns reconciliation ${report.generatedAt.slice(0, 10)}`,
		),
		summaryLine: renderReconciliationSummaryLine(report, issues),
		markdown: renderReconciliationMarkdown(report, issues),
		html: renderReconciliationHtml(report, issues),
	};
}
