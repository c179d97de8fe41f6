/**
 * The daily report's "Resolved or ignored in the window": rows of the exceptions table closed
 * (status `resolved` or `ignored`) within the report's window, with who closed them
 * (`resolvedBy`: a person's name, or `replay` / `mapping audit` when a workflow did) and why
 * (`resolutionNote`). The reconciliation template reads, besides the open rows and the notices,
 * every row changed since the window began; a row is placed by its `resolvedAt` (ISO, or a date
 * typed by hand, which counts its day), else by the Data Table's `updatedAt`.
 *
 * Kept apart from core/reconcile.ts: the section is added to the report by the Reconcile
 * operation (core/usecases/reconcileReturns.ts withClosedExceptions) and rendered by
 * core/reconcileReport.ts when present. Pure; never throws on a bad row (it is left out:
 * core/reconcile already names unreadable exception rows among the report's issues).
 */
import { z } from 'zod';
import type { ReconcileReport } from './reconcile';
import { exceptionOwner } from './reconcileHeld';
import { ExceptionRowSchema, type WindowRange } from './reconcileInput';

/** Text from a Data Table cell: numbers as text, blank → null. */
const looseText = z.preprocess((v) => {
	if (v === undefined || v === null) return null;
	if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
	if (typeof v === 'number' || typeof v === 'boolean') return String(v);
	if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
	return null;
}, z.string().nullable());

/** An exceptions table row with the columns that say when, by whom and why it was closed. */
export const ClosedExceptionRowSchema = ExceptionRowSchema.extend({
	resolvedAt: looseText,
	resolvedBy: looseText,
	resolutionNote: looseText,
	updatedAt: looseText,
});

export interface ClosedException {
	key: string;
	kind: string;
	owner: string;
	status: 'resolved' | 'ignored';
	returnId: string | null;
	displayId: string | null;
	sku: string | null;
	message: string;
	/** When it was closed (ISO): its resolvedAt, else the row's updatedAt. */
	closedAt: string;
	/** Who closed it; null when nobody wrote a name. */
	resolvedBy: string | null;
	resolutionNote: string | null;
}

export interface ClosedExceptionSummary {
	total: number;
	byStatus: { resolved: number; ignored: number };
	/** Rows per resolvedBy (rows without one are counted in `unrecorded`). */
	byResolver: Record<string, number>;
	/** Rows closed in the window with no resolvedBy. */
	unrecorded: number;
	/** Oldest first. */
	rows: ClosedException[];
	/** Closed rows with neither a readable resolvedAt nor an updatedAt: not placed in any window, not listed. */
	undated: number;
}

/** The report with its closed-exceptions section (absent: the rows were not passed, nothing is shown). */
export type ReportWithClosed = ReconcileReport & { closedExceptions?: ClosedExceptionSummary };

/** An instant from an ISO text (a date alone is its day's first instant, UTC); anything else → null. */
function instant(text: string | null): string | null {
	if (text === null || !/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
	const ms = Date.parse(text);
	return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function parseRow(raw: unknown): z.infer<typeof ClosedExceptionRowSchema> | null {
	let v = raw;
	if (typeof v === 'string' && /^\s*\{/.test(v)) {
		try {
			v = JSON.parse(v) as unknown;
		} catch {
			return null;
		}
	}
	const parsed = ClosedExceptionRowSchema.safeParse(v);
	return parsed.success ? parsed.data : null;
}

export function summariseClosedExceptions(
	rows: unknown[],
	range: WindowRange,
): ClosedExceptionSummary {
	const fromMs = Date.parse(range.from);
	const toMs = Date.parse(range.to);
	const out: ClosedException[] = [];
	let undated = 0;
	for (const raw of rows) {
		const row = parseRow(raw);
		if (row === null || (row.status !== 'resolved' && row.status !== 'ignored')) continue;
		const closedAt = instant(row.resolvedAt) ?? instant(row.updatedAt);
		if (closedAt === null) {
			undated++;
			continue;
		}
		const ms = Date.parse(closedAt);
		if (ms < fromMs || ms >= toMs) continue;
		out.push({
			key: row.key,
			kind: row.kind,
			owner: exceptionOwner(row),
			status: row.status,
			returnId: row.returnId,
			displayId: row.displayId,
			sku: row.sku,
			message: row.message,
			closedAt,
			resolvedBy: row.resolvedBy,
			resolutionNote: row.resolutionNote,
		});
	}
	out.sort((a, b) => a.closedAt.localeCompare(b.closedAt) || a.key.localeCompare(b.key));
	const byResolver: Record<string, number> = {};
	let unrecorded = 0;
	for (const r of out) {
		if (r.resolvedBy === null) unrecorded++;
		else byResolver[r.resolvedBy] = (byResolver[r.resolvedBy] ?? 0) + 1;
	}
	return {
		total: out.length,
		byStatus: {
			resolved: out.filter((r) => r.status === 'resolved').length,
			ignored: out.filter((r) => r.status === 'ignored').length,
		},
		byResolver,
		unrecorded,
		rows: out,
		undated,
	};
}

/** The report with the exceptions closed in its window (`rows`: the exceptions table's rows as read). */
export function withClosedExceptions(report: ReconcileReport, rows: unknown): ReportWithClosed {
	let list: unknown = rows;
	if (typeof list === 'string') {
		try {
			list = JSON.parse(list) as unknown;
		} catch {
			list = [];
		}
	}
	return {
		...report,
		closedExceptions: summariseClosedExceptions(
			Array.isArray(list) ? list : [],
			report.windowRange,
		),
	};
}
