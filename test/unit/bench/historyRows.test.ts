import {
	benchHistoryCredit,
	benchHistoryRow,
	benchReturnId,
	HISTORY_BASE,
	historyInboxRows,
} from '../../../bench/fixture';
import { parseBenchArgs } from '../../../bench/run';
import { TABLES } from '../../../scripts/templates/tables';

// bench --inbox-history: the rows put in the package's inbox before the first phase must be rows the
// intake and the processor would have left (every field a column of the inbox, of its type; status
// done; a payload the processor and the reconciliation can read), and none may be a return the
// bench delivers later (its returns would be dropped as redeliveries or marked superseded).
describe('bench inbox history rows', () => {
	const columns = new Map(TABLES.inbox.columns.map((c) => [c.name, c.type]));

	it('are finished inbox rows, every field a column of the inbox table of its type', () => {
		const row = benchHistoryRow(7);
		expect(Object.keys(row).filter((k) => !columns.has(k))).toEqual([]);
		for (const [k, v] of Object.entries(row))
			expect({ k, type: typeof v }).toEqual({
				k,
				type: columns.get(k) === 'number' ? 'number' : 'string',
			});
		expect(row).toMatchObject({
			status: 'done',
			returnId: benchReturnId(HISTORY_BASE + 7),
			creditNoteRef: `RB-${benchReturnId(HISTORY_BASE + 7)}`,
			sequence: 1,
		});
		const payload = JSON.parse(String(row.payload));
		expect(payload.returnId).toBe(row.returnId);
		expect(payload.lines).toHaveLength(3);
		// about the size of a real 3-line row (docs/integrator-reference.md: ~2 kB), so scans cost what they would
		expect(JSON.stringify(row).length).toBeGreaterThan(1200);
	});

	it('never share a return or an event with the returns the bench delivers', () => {
		const a = benchHistoryRow(0);
		const b = benchHistoryRow(1);
		expect(a.returnId).not.toBe(b.returnId);
		expect(a.eventId).not.toBe(b.eventId);
		// the delivered returns are benchReturnId(1…n) with n at most the largest phase (10,000)
		expect(Number(a.returnId)).toBeGreaterThan(Number(benchReturnId(10_000)));
	});

	it('with each its recorded credit (the columns of the recorded credits table, of their types), and an inbox row for the last two days only', () => {
		const credits = new Map(TABLES.credits.columns.map((c) => [c.name, c.type]));
		const row = benchHistoryRow(7);
		const credit = benchHistoryCredit(row, 7);
		for (const [k, v] of Object.entries(credit))
			expect({ k, type: typeof v }).toEqual({
				k,
				type: credits.get(k) === 'number' ? 'number' : credits.has(k) ? 'string' : 'none',
			});
		expect(credit).toMatchObject({
			eventId: row.eventId,
			returnId: row.returnId,
			creditNoteRef: row.creditNoteRef,
		});
		// finished rows leave the inbox after keepDoneInboxHours (24) at the daily housekeeping: two days' at most
		expect([historyInboxRows(30_000), historyInboxRows(1), historyInboxRows(0)]).toEqual([
			2_000, 1, 0,
		]);
	});

	it('--inbox-history takes a count (0 by default, bounded)', () => {
		expect(parseBenchArgs([]).inboxHistory).toBe(0);
		expect(parseBenchArgs(['--inbox-history', '30000']).inboxHistory).toBe(30000);
		expect(() => parseBenchArgs(['--inbox-history', '-1'])).toThrow();
	});
});
