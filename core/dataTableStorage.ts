/**
 * How full n8n's Data Tables are, for the daily report and its alert.
 *
 * n8n 2.x caps all Data Tables of an instance together (N8N_DATA_TABLES_MAX_SIZE_BYTES, 200 MiB by
 * default), warns at 80 % and refuses writes past the limit. n8n 2.40.7 tells a workflow nothing
 * about that size: the Data table node gives rows and table names only, and the size n8n counts
 * (its own `sizeBytes`, SQLite dbstat pages or PostgreSQL's relation size) is answered only by the
 * public API (an API key) and the editor's REST API (a session). So the reconciliation ESTIMATES
 * it: the rows of the sync's growing tables, counted cheaply from their ids, times the bytes a
 * row of each table measured on a real n8n (bench/dataTableRowSize.ts).
 *
 * Counting without reading every row: rows created since the cut-off (now − keep days) are never
 * deleted before they are that old, so they are exactly the ids from the first of them to the
 * newest (`newestId − firstRecentId + 1`); older rows still present (kept because not final, or
 * not purged yet) are read and counted (`olderRows`, a lower bound when the read hit its cap).
 */

/** n8n's default N8N_DATA_TABLES_MAX_SIZE_BYTES (since 2.27): 200 MiB. */
export const DEFAULT_DATA_TABLES_MAX_BYTES = 200 * 1024 * 1024;
/** n8n warns at 80 % of the limit; so does the report. */
export const WARN_AT_PERCENT = 80;

/**
 * Bytes one row adds to the size n8n counts against the limit, measured on n8n 2.40.7 with SQLite
 * by bench/dataTableRowSize.ts (2,000 rows each): a 3-line return's `done` inbox row with its
 * payload, an exception row carrying the return as its payload, a decided credit review row
 * with the mapped return, the processor's recorded credit of a done row (164: about 25 to a
 * page) and the intake's record of a queued event (115). SQLite stores them in 4 KiB pages: rows of 2.0 and 2.3 kB of text fit two
 * to a page, a 3 kB review row takes a page of its own, so a return of many lines (a row past
 * about 2 kB) costs a whole page: the estimate is for typical returns, not a bound.
 */
export const DEFAULT_BYTES_PER_ROW: Readonly<Record<StorageTable, number>> = {
	inbox: 2_052,
	exceptions: 2_052,
	reviews: 4_106,
	credits: 164,
	events: 115,
};

export type StorageTable = 'inbox' | 'exceptions' | 'reviews' | 'credits' | 'events';
const TABLE_TITLES: Record<StorageTable, string> = {
	inbox: 'inbox',
	exceptions: 'exceptions',
	reviews: 'credit reviews',
	credits: 'recorded credits',
	events: 'return events',
};

/** What the workflow measures per table (all optional: an empty table has no ids). */
export interface StorageTableInput {
	table: StorageTable;
	/** Id of the newest row (none: the table is empty). */
	newestId?: number | null;
	/** Id of the oldest row created since the cut-off (none: no row that young). */
	firstRecentId?: number | null;
	/** Rows older than the cut-off still in the table (as read, oldest first). */
	olderRows?: number | null;
	/** Id of the oldest row older than the cut-off (the first of that read). */
	oldestId?: number | null;
	/** Id of the last row of that read (the read is oldest first). */
	lastOlderId?: number | null;
	/**
	 * The read of the older rows hit its cap: there may be more. Those beyond the read are then
	 * counted as every id after the last one read up to the first recent one (an upper bound: a
	 * warning too early, never too late); without lastOlderId, every id from the oldest.
	 */
	olderRowsCapped?: boolean;
}

export interface StorageInput {
	/** The instance's N8N_DATA_TABLES_MAX_SIZE_BYTES (the import value). */
	limitBytes: number;
	tables: StorageTableInput[];
	/** Bytes per row per table; defaults DEFAULT_BYTES_PER_ROW. */
	bytesPerRow?: Partial<Record<StorageTable, number>>;
}

export interface DataTableStorage {
	/** Always true: rows × measured bytes per row, not n8n's own figure. */
	estimated: true;
	usedBytes: number;
	limitBytes: number;
	/** usedBytes / limitBytes in percent, one decimal. */
	percent: number;
	warnAtPercent: number;
	/** ok below the warning; warn from 80 %; full at or past the limit (n8n refuses writes). */
	state: 'ok' | 'warn' | 'full';
	/** Some count is an upper bound (a capped read counted by its ids): the real use may be lower. */
	atMost: boolean;
	tables: Array<{ table: StorageTable; rows: number; bytesPerRow: number; bytes: number }>;
}

export type StorageResult =
	| { ok: true; storage: DataTableStorage }
	| { ok: false; problem: string };

const whole = (v: unknown): number | null => {
	if (v === null || v === undefined || v === '') return null;
	const n = Number(v);
	return Number.isFinite(n) && n >= 0 ? Math.floor(n) : NaN;
};

/** Rows of one table: the recent id span plus the older rows (read, or their id span when the read was capped). */
export function countRows(t: StorageTableInput): number {
	const newest = whole(t.newestId);
	const first = whole(t.firstRecentId);
	const recent = newest !== null && first !== null && newest >= first ? newest - first + 1 : 0;
	const read = whole(t.olderRows) ?? 0;
	const oldest = whole(t.oldestId);
	if (!t.olderRowsCapped || oldest === null) return recent + read;
	// the rows read, then every id after the last one read up to the first recent one (or past the
	// newest); without the last id read, every id from the oldest older row
	const last = whole(t.lastOlderId);
	const end = first !== null ? first : newest !== null ? newest + 1 : oldest + read;
	if (last !== null && !Number.isNaN(last) && last >= oldest)
		return recent + read + Math.max(0, end - last - 1);
	return recent + Math.max(read, end - oldest);
}

/** The estimate from the workflow's measures; a clear problem (naming the field) when they are unusable. */
export function estimateDataTableStorage(input: unknown): StorageResult {
	if (typeof input !== 'object' || input === null || Array.isArray(input))
		return { ok: false, problem: 'the storage measures are not an object' };
	const i = input as Partial<StorageInput>;
	const limit = Number(i.limitBytes);
	if (!Number.isFinite(limit) || limit <= 0)
		return {
			ok: false,
			problem: `limitBytes must be a positive number (got ${String(i.limitBytes)})`,
		};
	if (!Array.isArray(i.tables)) return { ok: false, problem: 'tables must be an array' };
	const tables: DataTableStorage['tables'] = [];
	let atMost = false;
	for (const [index, t] of i.tables.entries()) {
		if (!t || !(t.table in DEFAULT_BYTES_PER_ROW))
			return {
				ok: false,
				problem: `tables[${index}].table must be inbox, exceptions, reviews, credits or events`,
			};
		for (const field of [
			'newestId',
			'firstRecentId',
			'olderRows',
			'oldestId',
			'lastOlderId',
		] as const)
			if (Number.isNaN(whole(t[field])))
				return {
					ok: false,
					problem: `tables[${index}].${field} must be a whole number of 0 or more (got ${String(t[field])})`,
				};
		const rows = countRows(t);
		const bytesPerRow = Number(i.bytesPerRow?.[t.table] ?? DEFAULT_BYTES_PER_ROW[t.table]);
		if (t.olderRowsCapped) atMost = true;
		tables.push({ table: t.table, rows, bytesPerRow, bytes: rows * bytesPerRow });
	}
	const usedBytes = tables.reduce((s, t) => s + t.bytes, 0);
	const percent = Math.round((usedBytes / limit) * 1000) / 10;
	const state = usedBytes >= limit ? 'full' : percent >= WARN_AT_PERCENT ? 'warn' : 'ok';
	return {
		ok: true,
		storage: {
			estimated: true,
			usedBytes,
			limitBytes: limit,
			percent,
			warnAtPercent: WARN_AT_PERCENT,
			state,
			atMost,
			tables,
		},
	};
}

/** Bytes as MiB with one decimal ("61.2 MiB"). */
export function formatMiB(bytes: number): string {
	return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

const thousands = (n: number) => n.toLocaleString('en-GB');

/** The report's line: "Data Tables: about 61.2 MiB of 200.0 MiB (30.6 %), estimated from 41,200 rows (inbox …)." */
export function storageLine(s: DataTableStorage): string {
	const rows = s.tables.reduce((n, t) => n + t.rows, 0);
	const per = s.tables.map((t) => `${TABLE_TITLES[t.table]} ${thousands(t.rows)}`).join(', ');
	return (
		`Data Tables: ${s.atMost ? 'at most' : 'about'} ${formatMiB(s.usedBytes)} of ${formatMiB(s.limitBytes)} ` +
		`(${s.percent.toFixed(1)} %), estimated from ${thousands(rows)} rows (${per}).`
	);
}

/** The warning at 80 % and past the limit (null below): what it means and what to do. */
export function storageWarning(s: DataTableStorage): string | null {
	if (s.state === 'ok') return null;
	const what =
		s.state === 'full'
			? `Data Tables are at or past n8n's limit (${s.percent.toFixed(1)} % of ${formatMiB(s.limitBytes)}, estimated): n8n refuses new rows, so returns cannot be queued.`
			: `Data Tables are ${s.percent.toFixed(1)} % full (estimated, ${formatMiB(s.usedBytes)} of ${formatMiB(s.limitBytes)}); n8n refuses new rows at 100 %.`;
	return (
		`${what} Tech: check the housekeeping ran (old rows deleted each morning), lower reconciliation.keepDoneInboxHours or keepDoneDays, ` +
		'resolve or ignore old exceptions, or raise N8N_DATA_TABLES_MAX_SIZE_BYTES (and reconciliation.dataTablesMaxBytes to match).'
	);
}
