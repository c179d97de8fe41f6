/**
 * End-to-end: finance batched and the finance review, on a real n8n 2.40.7 (docs/credit-notes.md
 * "Credit policy", workflows/README.md).
 *
 * The templates are imported with finance batching on (credit posting every minute) and the
 * standard demo mapping, whose "Missing" grade holds the credit for finance. Signed ReBound events:
 *  - 6101 (WEB-1002): hoodie Grade A + one mug "Missing" → the hoodie restocks at once; the credit is
 *    held: a pending credit review (63.00 if released, 55.00 without the mug), a credit_held notice
 *    (and a discontinued_sku notice: the mug is discontinued in Khaos); delivered twice;
 *  - 6102 (WEB-1001): jeans Grade A (Refund) + T-shirt Grade A (Exchange) → both restock at once;
 *    the posting run credits the jeans only (24.13) and records the exchange as a notice;
 *  - 6103 (WEB-1005): jeans "Missing" → held (30.00), then rejected;
 *  - 6104 (WEB-1003): a deleted SKU and an unmapped grade → both exception rows at once (one pass),
 *    nothing moved;
 *  - 6105 (WEB-1001): the T-shirt 6102 exchanged comes back again → refused (WEB-1001 sold one, and
 *    the exchanged unit, moved but never credited, still counts against the order).
 * Stock moves in the processor runs, credit notes only in the posting and review runs (read from
 * the executions' data); finance decides by editing the review rows (the public API's row update,
 * as n8n's Data Table UI does); the finance review workflow raises RB-6101 with the mug (63.00) and
 * nothing for 6103. Nothing is credited twice; every notice is a notice, no open exception.
 *
 * Run: npx jest --selectProjects e2e --runInBand test/e2e/financeReview.test.ts
 */
import { randomBytes } from 'node:crypto';
import type { ApiClient, N8nInstance } from '../../scripts/n8n/instance';
import type { InstalledPackage } from '../../scripts/n8n/package';
import type { ImportReport } from '../../scripts/templates/import';
import { SANDBOX_REBOUND, sandboxClientValues } from '../../scripts/templates/sandboxValues';
import type { KhaosSandbox } from '../../sandbox/khaos/server';
import type { ReboundSandbox } from '../../sandbox/rebound/server';
import { flowLookups, startFlowStack, stopFlowStack, type Row } from './flowStack';

jest.setTimeout(300_000);

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REBOUND_SECRET = SANDBOX_REBOUND.webhookSecret;

let userFolder: string;
let n8n: N8nInstance | undefined;
let api: ApiClient;
let installed: InstalledPackage | undefined;
let khaos: KhaosSandbox | undefined;
let rebound: ReboundSandbox | undefined;
let report: ImportReport;
let webhookPath: string;
const timings: Record<string, number> = {};

const { tableId, workflowId, rows, deliver } = flowLookups(
	() => ({ report, api, n8n: n8n!, webhookPath }),
	REBOUND_SECRET,
);

const item = (sku: string, price: string, grade: string, action = 'Refund') => ({
	sku_code: sku,
	quantity: 1,
	price,
	final_disposition: grade,
	reason: [{ reason: 'Too small', action, wish: action }],
});

beforeAll(async () => {
	const client = `E2E Finance ${randomBytes(3).toString('hex')}`;
	const webhookId = `e2e-${randomBytes(8).toString('hex')}`;
	({ userFolder, installed, n8n, api, khaos, rebound, report, webhookPath } = await startFlowStack({
		folderPrefix: 'rk-e2e-finance-',
		client,
		webhookId,
		reboundApiKey: SANDBOX_REBOUND.apiKey,
		reboundWebhookSecret: REBOUND_SECRET,
		values: (base) => {
			const v = sandboxClientValues({ ...base, processEverySeconds: 3, batchCreditNotes: true });
			v.schedules.creditPostingCron = '* * * * *';
			return v;
		},
		log,
		timings,
	}));
	for (const [id, order, items] of [
		[
			6101,
			'WEB-1002',
			[item('HOODIE-GRY-L', '55.00', 'Grade A'), item('MUG-WHT', '8.00', 'Missing')],
		],
		[
			6102,
			'WEB-1001',
			[
				item('JEANS-BLU-32', '27.00', 'Grade A'),
				item('TSHIRT-RED-M', '40.00', 'Grade A', 'Exchange'),
			],
		],
		[6103, 'WEB-1005', [item('JEANS-BLU-32', '30.00', 'Missing')]],
		[
			6104,
			'WEB-1003',
			[item('SCARF-OLD', '15.00', 'Grade A'), item('TSHIRT-RED-M', '40.00', 'Mystery Grade')],
		],
		[6105, 'WEB-1001', [item('TSHIRT-RED-M', '40.00', 'Grade A')]],
	] as const)
		rebound!.state.add({ id, order_reference: order, status: 'graded', item: items });
}, 25 * 60_000);

afterAll(async () => {
	await stopFlowStack(
		{ n8n, khaos, rebound, userFolder, installed },
		[],
		'financeReview',
		log,
		timings,
	);
});

function eventFor(id: number, eventId = `evt_${randomBytes(8).toString('hex')}`) {
	return {
		id: eventId,
		event: 'return.processed',
		occurred_at: new Date().toISOString(),
		sequence: 10,
		data: rebound!.state.wire(rebound!.state.get(id), false),
	};
}

type AdminState = {
	creditNotes: Array<{
		associatedRef: string;
		lines: Array<Record<string, any>>;
		totals: { netPence: number; taxPence: number; grossPence: number };
	}>;
	adjustments: Array<{ reference: string; stockCode: string; locationId: string; delta: number }>;
};
async function khaosState(): Promise<AdminState> {
	return (await (await fetch(`${khaos!.adminUrl}/state`)).json()) as AdminState;
}
const notesOf = (s: AdminState, ref: string) =>
	s.creditNotes.filter((c) => c.associatedRef === ref);
const inboxOf = async (returnId: string) =>
	(await rows('inbox')).filter((r) => r.returnId === returnId);

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 150_000) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const v = await check();
		if (v !== undefined) return v;
		await sleep(1000);
	}
	const inbox = await rows('inbox').catch(() => [] as Row[]);
	const reviews = await rows('reviews').catch(() => [] as Row[]);
	const exceptions = await rows('exceptions').catch(() => [] as Row[]);
	throw new Error(
		`${what}: not reached in ${timeoutMs / 1000} s. inbox ${JSON.stringify(inbox.map((r) => [r.returnId, r.status, r.lastError]))}; ` +
			`reviews ${JSON.stringify(reviews.map((r) => [r.returnId, r.status, r.decision, r.lastError]))}; ` +
			`exceptions ${JSON.stringify(exceptions.map((r) => [r.kind, r.returnId, r.status, r.message]))}`,
	);
}

/** The nodes that ran in a workflow's finished executions (their saved data). */
async function nodesRun(file: string): Promise<Set<string>> {
	const out = new Set<string>();
	for (const e of await api.listExecutions(workflowId(file), { limit: 100 })) {
		const full = await api.getExecution(e.id, true);
		for (const name of Object.keys(full?.data?.resultData?.runData ?? {})) out.add(name);
	}
	return out;
}

describe('finance batched and the finance review on a real n8n 2.40.7', () => {
	it('imports the finance review workflow and the credit reviews table, and activates the posting', () => {
		expect(report.exitCode).toBe(0);
		expect(Object.fromEntries(report.workflows.map((w) => [w.file, w.active]))).toMatchObject({
			'credit-posting': true,
			'finance-review': true,
		});
		expect(report.tables.find((t) => t.key === 'reviews')?.action).toBe('created');
		expect(tableId('reviews')).toBeTruthy();
	});

	it('moves stock at once; credit notes only in posting runs; held credits wait as pending reviews', async () => {
		const started = Date.now();
		for (const ev of [
			eventFor(6101, 'evt_f_6101'),
			eventFor(6102, 'evt_f_6102'),
			eventFor(6103, 'evt_f_6103'),
			eventFor(6101, 'evt_f_6101'),
		])
			expect((await deliver(ev)).status).toBe(200);

		// stock first: the processor moves it and queues the credit (or, later, holds it)
		await waitFor('all three returns past the processor', async () => {
			const inbox = await rows('inbox');
			const past = ['6101', '6102', '6103'].every((id) =>
				inbox.some(
					(r) => r.returnId === id && ['credit_queued', 'credit_review', 'done'].includes(r.status),
				),
			);
			return past ? true : undefined;
		});
		timings.toStockMs = Date.now() - started;
		const moved = (await khaosState()).adjustments.map((a) => [a.stockCode, a.locationId, a.delta]);
		expect(moved.sort()).toEqual(
			[
				['HOODIE-GRY-L', 'A1', 1],
				['JEANS-BLU-32', 'A1', 1],
				['TSHIRT-RED-M', 'A1', 1],
			].sort(),
		);

		// the posting run credits 6102 (jeans only) and holds 6101 and 6103 for finance
		const reviews = await waitFor('two pending credit reviews', async () => {
			const r = (await rows('reviews')).filter((x) => x.status === 'pending');
			return r.length === 2 ? r : undefined;
		});
		await waitFor('6102 done', async () =>
			(await inboxOf('6102')).some((r) => r.status === 'done') ? true : undefined,
		);
		timings.toPostedMs = Date.now() - started;
		const byId = Object.fromEntries(reviews.map((r) => [r.returnId, r]));
		expect(byId['6101']).toMatchObject({
			orderReference: 'WEB-1002',
			gross: '63.00',
			grossPence: 6300,
			withoutHeldGross: '55.00',
			withoutHeldGrossPence: 5500,
			decision: '',
			currency: 'GBP',
		});
		expect(byId['6101'].heldLines).toContain('MUG-WHT');
		expect(byId['6103']).toMatchObject({ orderReference: 'WEB-1005', grossPence: 3000 });
		expect(byId['6103'].withoutHeldGross).toBe('');

		const state = await khaosState();
		expect(notesOf(state, 'RB-6101')).toEqual([]);
		expect(notesOf(state, 'RB-6103')).toEqual([]);
		const jeansNote = notesOf(state, 'RB-6102');
		expect(jeansNote).toHaveLength(1);
		expect(jeansNote[0].totals).toEqual({ grossPence: 2413, taxPence: 402, netPence: 2011 });
		expect(jeansNote[0].lines.map((l) => l.stockCode)).toEqual(['JEANS-BLU-32']);
		// the posting run records the credit it computed and sent (the reconciliation's expected values)
		// in the recorded credits, as the processor does; the done row carries none, so it may leave the
		// inbox after keepDoneInboxHours
		const posted = (await rows('credits')).filter((r) => r.returnId === '6102');
		expect(posted).toEqual([
			expect.objectContaining({
				creditNoteRef: 'RB-6102',
				creditGross: '24.13',
				creditNet: '20.11',
			}),
		]);
		const done6102 = (await inboxOf('6102')).find((r) => r.status === 'done');
		expect(posted[0].inboxId).toBe(done6102?.id);
		expect(done6102?.creditNet ?? '').toBe('');

		expect((await inboxOf('6101')).map((r) => r.status)).toEqual(['credit_review']);
		expect((await inboxOf('6103')).map((r) => r.status)).toEqual(['credit_review']);
		// the processor never creates a credit note when finance batches: only the posting runs do
		expect((await nodesRun('returns-processor')).has('Create Credit Note')).toBe(false);
		expect((await nodesRun('credit-posting')).has('Create Credit Note')).toBe(true);
	});

	it('records notices, never open exceptions: the held credits, the exchange, the discontinued mug', async () => {
		const exceptions = await waitFor('four notices', async () => {
			const all = await rows('exceptions');
			return all.filter((r) => r.status === 'notice').length >= 4 ? all : undefined;
		});
		expect(exceptions.filter((r) => r.status !== 'notice')).toEqual([]);
		expect(exceptions.map((r) => [r.kind, r.returnId, r.owner, r.sku || null]).sort()).toEqual(
			[
				['credit_held', '6101', 'finance', null],
				['credit_held', '6103', 'finance', null],
				['discontinued_sku', '6101', 'ops', 'MUG-WHT'],
				['exchange_recorded', '6102', 'finance', 'TSHIRT-RED-M'],
			].sort(),
		);
	});

	it('a return with two problems gets both exception rows at once and moves nothing (one pass)', async () => {
		expect((await deliver(eventFor(6104, 'evt_f_6104'))).status).toBe(200);
		const rowsOf6104 = await waitFor('both problems of 6104', async () => {
			const r = (await rows('exceptions')).filter((x) => x.returnId === '6104');
			return r.length >= 2 ? r : undefined;
		});
		expect(rowsOf6104.map((r) => [r.kind, r.status, r.sku]).sort()).toEqual([
			['archived_sku', 'open', 'SCARF-OLD'],
			['unmapped_disposition', 'open', 'TSHIRT-RED-M'],
		]);
		// every row carries the whole return for the replay, without the problems
		for (const r of rowsOf6104) expect(JSON.parse(r.payload).returnId).toBe('6104');
		await waitFor('6104 inbox row exception', async () =>
			(await inboxOf('6104')).every((r) => r.status === 'exception') ? true : undefined,
		);
		const state = await khaosState();
		expect(state.adjustments.filter((a) => a.reference.startsWith('RB-6104-'))).toEqual([]);
		expect(notesOf(state, 'RB-6104')).toEqual([]);
	});

	it('a unit moved but never credited (6102’s exchanged T-shirt) still counts against its order: a second return of it moves nothing', async () => {
		const row6102 = (await inboxOf('6102')).find((r) => r.status === 'done');
		expect(JSON.parse(row6102?.uncredited || 'null')).toMatchObject({
			returnId: '6102',
			orderReference: 'WEB-1001',
			lines: [expect.objectContaining({ sku: 'TSHIRT-RED-M' })],
		});
		expect((await deliver(eventFor(6105, 'evt_f_6105'))).status).toBe(200);
		const refused = await waitFor('6105 refused', async () =>
			(await rows('exceptions')).find((r) => r.returnId === '6105'),
		);
		expect(refused).toMatchObject({
			kind: 'quantity_exceeds_sold',
			status: 'open',
			owner: 'finance',
		});
		expect(JSON.parse(refused.details)).toMatchObject({
			sold: 1,
			returnedInKhaos: 0,
			heldByOtherReturns: 1,
			available: 0,
		});
		const state = await khaosState();
		expect(state.adjustments.filter((a) => a.reference.startsWith('RB-6105-'))).toEqual([]);
	});

	it('finance releases 6101 and rejects 6103 by editing their rows; the review workflow acts on them once', async () => {
		const started = Date.now();
		const decide = (returnId: string, decision: string, note: string) =>
			api.request('PATCH', `/data-tables/${encodeURIComponent(tableId('reviews'))}/rows/update`, {
				filter: {
					type: 'and',
					filters: [
						{ columnName: 'returnId', condition: 'eq', value: returnId },
						{ columnName: 'status', condition: 'eq', value: 'pending' },
					],
				},
				data: { decision, decidedBy: 'Fran (finance)', note },
			});
		await decide('6101', ' Release ', 'customer proved the mug was in the parcel');
		await decide('6103', 'reject', 'courier confirmed nothing was in the parcel');

		const settled = await waitFor('both reviews settled', async () => {
			const r = await rows('reviews');
			const done = r.filter((x) => ['released', 'rejected'].includes(x.status));
			return done.length === 2 ? r : undefined;
		});
		timings.toReleasedMs = Date.now() - started;
		const byId = Object.fromEntries(settled.map((r) => [r.returnId, r]));
		expect(byId['6101']).toMatchObject({
			status: 'released',
			creditNoteRef: 'RB-6101',
			creditGross: '63.00',
			decidedBy: 'Fran (finance)',
			lastError: '',
		});
		expect(byId['6103']).toMatchObject({ status: 'rejected', creditNoteRef: '' });

		await waitFor('both inbox rows settled', async () => {
			const a = await inboxOf('6101');
			const b = await inboxOf('6103');
			return a.every((r) => r.status === 'done') && b.every((r) => r.status === 'credit_rejected')
				? true
				: undefined;
		});
		const state = await khaosState();
		const released = notesOf(state, 'RB-6101');
		expect(released).toHaveLength(1);
		expect(released[0].totals.grossPence).toBe(6300);
		expect(released[0].lines.map((l) => [l.stockCode, l.quantity, l.grossPence]).sort()).toEqual(
			[
				['HOODIE-GRY-L', 1, 5500],
				['MUG-WHT', 1, 800],
			].sort(),
		);
		expect(notesOf(state, 'RB-6103')).toEqual([]);
		expect((await inboxOf('6103'))[0].lastError).toContain('rejected by finance (Fran (finance))');

		// a later minute acts on nothing again: still one credit note each, no stock moved twice
		await sleep(65_000);
		const after = await khaosState();
		expect(['RB-6101', 'RB-6102', 'RB-6103'].map((ref) => notesOf(after, ref).length)).toEqual([
			1, 1, 0,
		]);
		expect(after.adjustments).toHaveLength(3);
		expect(
			(await rows('exceptions')).filter(
				(r) => r.status !== 'notice' && !['6104', '6105'].includes(r.returnId),
			),
		).toEqual([]);
	});

	it('a notice finance resolved stays resolved, with who and why, when the same return is delivered again', async () => {
		const exchange = async () =>
			(await rows('exceptions')).find(
				(r) => r.kind === 'exchange_recorded' && r.returnId === '6102',
			) as Row;
		const before = await exchange();
		expect(before).toMatchObject({ status: 'notice' });
		await api.request(
			'PATCH',
			`/data-tables/${encodeURIComponent(tableId('exceptions'))}/rows/update`,
			{
				filter: {
					type: 'and',
					filters: [{ columnName: 'key', condition: 'eq', value: before.key }],
				},
				// as docs/exceptions.md tells a person to: status and who (and why), no date
				data: {
					status: 'resolved',
					resolvedBy: 'Sam (finance)',
					resolutionNote: 'replacement T-shirt sent from the outlet',
				},
			},
		);
		// ReBound delivers 6102 again as a later event (the same items): its credit note exists, the
		// posting run finds it and tells the exchange again
		await sleep(1_500);
		const redeliveredAt = Date.now();
		const again = { ...eventFor(6102, 'evt_f_6102_again'), sequence: 11 };
		expect((await deliver(again)).status).toBe(200);
		const told = await waitFor('the exchange notice told again', async () => {
			const r = await exchange();
			return Number(r.attempts) > Number(before.attempts) ? r : undefined;
		});
		// the closure keeps the date of Sam's edit, not of the notice told again: the daily report lists
		// it as closed once, that day
		expect(Date.parse(String(told.resolvedAt))).toBeLessThan(redeliveredAt);
		expect(told).toMatchObject({
			status: 'resolved',
			resolvedBy: 'Sam (finance)',
			resolutionNote: 'replacement T-shirt sent from the outlet',
			message: before.message,
		});
		const state = await khaosState();
		expect(notesOf(state, 'RB-6102')).toHaveLength(1);
		expect(state.adjustments).toHaveLength(3);
	});
});
