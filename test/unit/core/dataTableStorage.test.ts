import {
	DEFAULT_BYTES_PER_ROW,
	DEFAULT_DATA_TABLES_MAX_BYTES,
	countRows,
	estimateDataTableStorage,
	storageLine,
	storageWarning,
} from '../../../core/dataTableStorage';
import { reconcile } from '../../../core/reconcile';
import {
	renderReconciliationHtml,
	renderReconciliationMarkdown,
	renderReconciliationSummaryLine,
} from '../../../core/reconcileReport';
import { withStorage } from '../../../core/usecases/reconcileReturns';
import { NOW, adj, holding, note, ret } from './reconcile.fixtures';

const MiB = 1024 * 1024;

describe('countRows: rows of a table from its ids', () => {
	it('the recent id span plus the older rows read', () => {
		expect(countRows({ table: 'inbox', newestId: 30_500, firstRecentId: 501, olderRows: 40 })).toBe(
			30_040,
		);
	});
	it('an empty table, and a table with only old rows', () => {
		expect(countRows({ table: 'inbox' })).toBe(0);
		expect(countRows({ table: 'reviews', newestId: 90, firstRecentId: null, olderRows: 12 })).toBe(
			12,
		);
	});
	it('a capped read of the older rows counts every id from the oldest to the first recent one (upper bound)', () => {
		expect(
			countRows({
				table: 'inbox',
				newestId: 10_000,
				firstRecentId: 9_001,
				olderRows: 1_000,
				oldestId: 1,
				olderRowsCapped: true,
			}),
		).toBe(1_000 + 9_000);
		// with the last id read: the rows read, then every id after it (a tighter bound). Rows kept for
		// good (3 % of ids: every 33rd) and a cap of 1,000 reached at id 33,000 of 100,000
		expect(
			countRows({
				table: 'inbox',
				newestId: 100_000,
				firstRecentId: 99_001,
				olderRows: 1_000,
				oldestId: 33,
				lastOlderId: 33_000,
				olderRowsCapped: true,
			}),
		).toBe(1_000 + 1_000 + (99_001 - 33_000 - 1));
		// an uncapped read ignores it
		expect(
			countRows({
				table: 'inbox',
				newestId: 100,
				firstRecentId: 91,
				olderRows: 3,
				oldestId: 5,
				lastOlderId: 80,
			}),
		).toBe(13);
	});
	it('counted from real ids with gaps: never below the rows there, exact without a gap after the read', () => {
		// ids 1..20,000; older than the cut-off (ids below 15,001) only every 7th is still there
		const present = Array.from({ length: 20_000 }, (_, i) => i + 1).filter(
			(id) => id > 15_000 || id % 7 === 0,
		);
		const older = present.filter((id) => id <= 15_000);
		for (const cap of [100, 1_000, 5_000]) {
			const read = older.slice(0, cap);
			const n = countRows({
				table: 'inbox',
				newestId: 20_000,
				firstRecentId: 15_001,
				olderRows: read.length,
				oldestId: read[0],
				lastOlderId: read[read.length - 1],
				olderRowsCapped: read.length >= cap,
			});
			expect(n).toBeGreaterThanOrEqual(present.length);
			if (read.length < cap) expect(n).toBe(present.length);
		}
	});
	it('a last id read that is not a whole number is named', () => {
		const r = estimateDataTableStorage({
			limitBytes: 1_000_000,
			tables: [{ table: 'inbox', newestId: 10, lastOlderId: 'x' }],
		});
		expect(r).toEqual({
			ok: false,
			problem: 'tables[0].lastOlderId must be a whole number of 0 or more (got x)',
		});
	});
});

describe('estimateDataTableStorage', () => {
	const tables = [
		{ table: 'inbox', newestId: 30_000, firstRecentId: 1, olderRows: 0 },
		{ table: 'exceptions', newestId: 15_400, firstRecentId: 1 },
		{ table: 'reviews', newestId: 1_240, firstRecentId: 1 },
		{ table: 'credits', newestId: 29_000, firstRecentId: 1 },
		{ table: 'events', newestId: 30_000, firstRecentId: 1 },
	];

	it('rows × measured bytes per row against the limit: 1,000 returns a day at the default retention is 51 %', () => {
		const r = estimateDataTableStorage({ limitBytes: DEFAULT_DATA_TABLES_MAX_BYTES, tables });
		expect(r.ok).toBe(true);
		if (!r.ok) return;
		const used = 30_000 * 2_052 + 15_400 * 2_052 + 1_240 * 4_106 + 29_000 * 164 + 30_000 * 115;
		expect(r.storage).toEqual({
			estimated: true,
			usedBytes: used,
			limitBytes: 200 * MiB,
			percent: Math.round((used / (200 * MiB)) * 1000) / 10,
			warnAtPercent: 80,
			state: 'ok',
			atMost: false,
			tables: [
				{ table: 'inbox', rows: 30_000, bytesPerRow: 2_052, bytes: 30_000 * 2_052 },
				{ table: 'exceptions', rows: 15_400, bytesPerRow: 2_052, bytes: 15_400 * 2_052 },
				{ table: 'reviews', rows: 1_240, bytesPerRow: 4_106, bytes: 1_240 * 4_106 },
				{ table: 'credits', rows: 29_000, bytesPerRow: 164, bytes: 29_000 * 164 },
				{ table: 'events', rows: 30_000, bytesPerRow: 115, bytes: 30_000 * 115 },
			],
		});
		expect(r.storage.percent).toBe(50.8);
		expect(storageWarning(r.storage)).toBeNull();
		expect(storageLine(r.storage)).toBe(
			'Data Tables: about 101.5 MiB of 200.0 MiB (50.8 %), estimated from 105,640 rows (inbox 30,000, exceptions 15,400, credit reviews 1,240, recorded credits 29,000, return events 30,000).',
		);
		expect(DEFAULT_BYTES_PER_ROW).toEqual({
			inbox: 2_052,
			exceptions: 2_052,
			reviews: 4_106,
			credits: 164,
			events: 115,
		});
	});

	it('warns from 80 % and says the tables are full at the limit', () => {
		const at = (limitBytes: number) => {
			const r = estimateDataTableStorage({ limitBytes, tables });
			if (!r.ok) throw new Error(r.problem);
			return r.storage;
		};
		const used = at(200 * MiB).usedBytes;
		const warn = at(Math.ceil(used / 0.85));
		expect([warn.state, warn.percent]).toEqual(['warn', 85]);
		expect(storageWarning(warn)).toMatch(/^Data Tables are 85\.0 % full \(estimated/);
		expect(storageWarning(warn)).toContain('N8N_DATA_TABLES_MAX_SIZE_BYTES');
		expect(at(Math.ceil(used / 0.799)).state).toBe('ok');
		const full = at(used);
		expect(full.state).toBe('full');
		expect(storageWarning(full)).toContain('n8n refuses new rows');
	});

	it('names the field of unusable measures', () => {
		expect(estimateDataTableStorage({ limitBytes: 0, tables })).toEqual({
			ok: false,
			problem: 'limitBytes must be a positive number (got 0)',
		});
		expect(
			estimateDataTableStorage({ limitBytes: MiB, tables: [{ table: 'inbox', newestId: -3 }] }),
		).toEqual({
			ok: false,
			problem: 'tables[0].newestId must be a whole number of 0 or more (got -3)',
		});
		expect(estimateDataTableStorage({ limitBytes: MiB, tables: [{ table: 'mapping' }] })).toEqual({
			ok: false,
			problem: 'tables[0].table must be inbox, exceptions, reviews, credits or events',
		});
		expect(estimateDataTableStorage('x')).toEqual({
			ok: false,
			problem: 'the storage measures are not an object',
		});
	});
});

describe('the report: a Data Table storage section, and the warning among what needs attention', () => {
	const base = () =>
		reconcile({
			window: { from: '2026-11-20T00:00:00Z', to: '2026-11-20T23:59:59Z' },
			returns: [ret('R1', [{ sku: 'TSHIRT-RED-M' }], { refundPence: 4000 })],
			khaos: [holding('R1', [note('CN1', 4000)], [adj('R1', 1)])],
			exceptions: [],
			options: { now: NOW, title: 'Returns reconciliation Acme – 2026-11-20' },
		}).report;
	const measures = (newestId: number) => ({
		limitBytes: 200 * MiB,
		tables: [{ table: 'inbox', newestId, firstRecentId: 1, olderRows: 0 }],
	});

	it('below 80 %: the line only; the report stays OK', () => {
		const report = withStorage(base(), measures(30_000));
		expect(report.storage).toEqual({
			usage: expect.objectContaining({ usedBytes: 30_000 * 2_052, state: 'ok' }),
			problem: null,
			line: 'Data Tables: about 58.7 MiB of 200.0 MiB (29.4 %), estimated from 30,000 rows (inbox 30,000).',
			warning: null,
		});
		expect(report.attention).toEqual(base().attention);
		const md = renderReconciliationMarkdown(report);
		expect(md).toContain(
			'## Data Table storage\n\nData Tables: about 58.7 MiB of 200.0 MiB (29.4 %), estimated from 30,000 rows (inbox 30,000).\n',
		);
		const html = renderReconciliationHtml(report);
		expect(html).toContain('>Data Table storage</h2>');
		expect(html).toContain('>Data Tables: about 58.7 MiB of 200.0 MiB (29.4 %)');
		expect(renderReconciliationSummaryLine(report)).toMatch(/^OK: /);
	});

	it('from 80 %: the warning is in Needs attention, the section and the summary line', () => {
		const report = withStorage(base(), measures(85_000)); // 85,000 × 2,052 B = 166.3 MiB, 83.2 %
		expect(report.storage?.usage?.state).toBe('warn');
		expect(report.storage?.warning).toMatch(
			/^Data Tables are 83\.2 % full \(estimated, 166\.3 MiB of 200\.0 MiB\)/,
		);
		expect(report.attention).toEqual([...base().attention, report.storage?.warning]);
		const md = renderReconciliationMarkdown(report);
		expect(md.split('## Data Table storage')[1]).toContain('\n\nData Tables are 83.2 % full');
		const line = renderReconciliationSummaryLine(report);
		expect(line).toMatch(/^Check: /);
		expect(line).toContain('Data Tables 83.2 % full (estimated)');
		expect(renderReconciliationSummaryLine(withStorage(base(), measures(110_000)))).toMatch(
			/^ACTION NEEDED: /,
		);
	});

	it('without measures there is no section; unusable measures say why', () => {
		expect(withStorage(base(), undefined).storage).toBeUndefined();
		expect(renderReconciliationMarkdown(base())).not.toContain('Data Table storage');
		const bad = withStorage(base(), { limitBytes: 'lots', tables: [] });
		expect(bad.storage?.line).toBe(
			'Data Tables: not estimated (limitBytes must be a positive number (got lots)).',
		);
		expect(renderReconciliationMarkdown(bad)).toContain('not estimated');
	});
});
