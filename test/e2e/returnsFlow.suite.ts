/**
 * End-to-end: the returns flow templates on a real n8n 2.40.7 (docs/e2e.md,
 * workflows/README.md).
 *
 * The package is installed as a community package; the Khaos and ReBound
 * sandboxes run in this process on 127.0.0.1; the template import
 * (scripts/templates/import.ts runImport) creates the credentials, the five
 * Data Tables (mapping tables seeded with the standard demo mapping) and the
 * workflows through n8n's public API and activates them (processor every 5 s,
 * finance not batched). Then ReBound events are POSTed, signed with the
 * credential's secret, to the intake webhook:
 *  - RB 5001 (fixture: WEB-1001, JEANS-BLU-32 ×1, Grade A, Too small) →
 *    site 1 / A1 +1 and a credit note RB-5001 of 24.13 gross, 4.02 VAT, 20.11 net;
 *  - RB 5003 (WEB-1002, MUG-WHT, "Mystery Grade") → an unmapped_disposition row
 *    in the exceptions Data Table, nothing moved in Khaos;
 *  - the 5001 delivery again (same event), and a later event for the same
 *    return (new event id, re-graded to the same grade) → nothing moves twice.
 *    (n8n 2.40.7 does not keep the ReBound Trigger's duplicate memory: static
 *    data changed in webhook() is lost when the delivery starts an execution.
 *    The intake's inbox check (its event id is already there) drops the redelivery; the
 *    later event is processed and the Khaos references hold.)
 *  - n8n restarted: the same delivery again and an older, out-of-order event
 *    for 5001 are both dropped by the intake's inbox checks (n8n's database).
 *  - two later events of 5001 queued back to back: the older row is
 *    `superseded` (moves nothing), the newer one decides;
 *  - rows left `processing` (as a stopped run leaves them; stale after 1 min
 *    here): one is requeued (counted) and then processed alone; one already
 *    requeued `maxRequeues` times becomes a `stuck` exception row, then its
 *    inbox row `exception`.
 * State is read from the Khaos sandbox and the Data Tables (public API).
 *
 * The suite runs once per deployment: returnsFlow.test.ts (one process, SQLite) and
 * returnsFlow.queue.test.ts (queue mode: PostgreSQL, Redis, a webhook process, two workers).
 *
 * Run: npx jest --selectProjects e2e --runInBand test/e2e/returnsFlow   (E2E_SKIP_BUILD=1 packs the current dist/)
 */
import { randomBytes } from 'node:crypto';
import {
	packageLoadErrors,
	waitForExecutions,
	type ApiClient,
	type N8nInstance,
} from '../../scripts/n8n/instance';
import type { InstalledPackage } from '../../scripts/n8n/package';
import {
	describeTopology,
	resolveTopology,
	type Topology,
	type TopologyOptions,
} from '../../scripts/n8n/topology';
import type { ImportReport } from '../../scripts/templates/import';
import { SANDBOX_REBOUND, sandboxClientValues } from '../../scripts/templates/sandboxValues';
import type { KhaosSandbox } from '../../sandbox/khaos/server';
import type { ReboundSandbox } from '../../sandbox/rebound/server';
import {
	flowLookups,
	startFlowStack,
	stopFlowStack,
	type FlowClientBase,
	type Row,
} from './flowStack';

/** Registers the suite's hooks and tests for one deployment. */
export function returnsFlowSuite(topology: TopologyOptions): void {
	jest.setTimeout(180_000);
	const deployment = describeTopology(resolveTopology(topology));

	const log = (line: string) => process.stdout.write(`${line}\n`);
	const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

	/** Demo values of the ReBound sandbox's default fixture (not secrets). */
	const REBOUND_API_KEY = SANDBOX_REBOUND.apiKey;
	const REBOUND_SECRET = SANDBOX_REBOUND.webhookSecret;
	const PROCESS_EVERY_SECONDS = 5;

	let userFolder: string;
	let n8n: N8nInstance | undefined;
	let api: ApiClient;
	let installed: InstalledPackage | undefined;
	let khaos: KhaosSandbox | undefined;
	let rebound: ReboundSandbox | undefined;
	let report: ImportReport;
	let importLog: string[] = [];
	let webhookPath: string;
	const timings: Record<string, number> = {};

	const { tableId, workflowId, rows, deliver } = flowLookups(
		() => ({ report, api, n8n: n8n!, webhookPath }),
		REBOUND_SECRET,
	);

	function clientValues(base: FlowClientBase) {
		return sandboxClientValues({
			...base,
			processEverySeconds: PROCESS_EVERY_SECONDS,
			// rows left processing are requeued after 1 min (the stall test below)
			staleAfterMinutes: 1,
			// the daily reconciliation (housekeeping included) every 20 s, for the retention test
			reconciliationCron: '*/20 * * * * *',
		});
	}

	beforeAll(async () => {
		({ userFolder, installed, n8n, api, khaos, rebound, report, importLog, webhookPath } =
			await startFlowStack({
				folderPrefix: 'rk-e2e-flow-',
				client: `E2E Flow ${randomBytes(3).toString('hex')}`,
				webhookId: `e2e-${randomBytes(8).toString('hex')}`,
				reboundApiKey: REBOUND_API_KEY,
				reboundWebhookSecret: REBOUND_SECRET,
				values: clientValues,
				topology,
				log,
				timings,
			}));
	}, 25 * 60_000);

	afterAll(async () => {
		await stopFlowStack(
			{ n8n, khaos, rebound, userFolder, installed },
			[],
			'returnsFlow',
			log,
			timings,
		);
	}, 60_000);

	// ------------------------------------------------------------------ helpers

	/** Polls `check` until it returns a value (bounded); throws with the last state described. */
	async function waitFor<T>(
		what: string,
		check: () => Promise<T | undefined>,
		describe: () => Promise<string>,
		timeoutMs = 60_000,
	): Promise<T> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			const v = await check();
			if (v !== undefined) return v;
			await sleep(500);
		}
		throw new Error(`${what}: not reached in ${timeoutMs / 1000} s. ${await describe()}`);
	}

	/** Rows put in a Data Table by the test itself, in one insert (n8n's public API). */
	function insertRows(key: string, data: Row[]) {
		return api.request('POST', `/data-tables/${encodeURIComponent(tableId(key))}/rows`, {
			returnType: 'count',
			data,
		});
	}

	/** An inbox row carrying a model row's order, event type and payload (5001's), as the intake writes one. */
	function inboxRowFrom(model: Row, fields: Row): Row {
		return {
			sequence: 1,
			displayId: model.displayId,
			orderReference: model.orderReference,
			eventType: model.eventType,
			receivedAt: new Date().toISOString(),
			attempts: 0,
			status: 'queued',
			claim: '',
			lastError: '',
			payload: model.payload,
			requeues: 0,
			...fields,
		};
	}

	/**
	 * `count` older rows (sequence 1) of returns `<prefix>-1…`, each with a later event (sequence 2)
	 * of its return already in the return events (as the intake records it), all ready at the same
	 * moment 2 s on: every one ends superseded and Khaos is not called. Returns the ids and the
	 * rows once all have settled.
	 */
	async function queueSupersededRows(prefix: string, count: number) {
		const model = (await rows('inbox')).find((r) => r.eventId === 'evt_e2e_5001') as Row;
		const ids = Array.from({ length: count }, (_, k) => `${prefix}-${k + 1}`);
		await insertRows(
			'events',
			ids.map((returnId) => ({
				eventId: `evt_${returnId}_s2`,
				returnId,
				sequence: 2,
				receivedAt: new Date().toISOString(),
			})),
		);
		const readyAtMs = Date.now() + 2_000;
		await insertRows(
			'inbox',
			ids.map((returnId) =>
				inboxRowFrom(model, { eventId: `evt_${returnId}_s1`, returnId, readyAtMs }),
			),
		);
		const settled = await waitFor(
			`the ${count} ${prefix} rows settled`,
			async () => {
				const inbox = (await rows('inbox')).filter((r) => ids.includes(String(r.returnId)));
				return inbox.length === count &&
					inbox.every((r) => !['queued', 'processing'].includes(r.status))
					? inbox
					: undefined;
			},
			describeState,
		);
		return { ids, settled };
	}

	/** A processor or intake execution once it has ended (n8n saves its data at the end), with its data. */
	function runEnded(id: string) {
		return waitFor(
			`execution ${id} ended`,
			async () => {
				const r = await api.getExecution(id, true);
				return r && !['running', 'new', 'waiting'].includes(String(r.status)) ? r : undefined;
			},
			describeState,
			60_000,
		);
	}

	async function describeState(): Promise<string> {
		const inbox = await rows('inbox').catch(() => []);
		const exceptions = await rows('exceptions').catch(() => []);
		const runs = await api
			.listExecutions(workflowId('returns-processor'), { limit: 5 })
			.catch(() => []);
		let lastError = '';
		const failed = runs.find((r) => r.status === 'error');
		if (failed) {
			const full = await api.getExecution(failed.id, true).catch(() => null);
			lastError = JSON.stringify(full?.data?.resultData?.error ?? null).slice(0, 600);
		}
		return (
			`inbox: ${JSON.stringify(inbox.map((r) => ({ returnId: r.returnId, status: r.status, attempts: r.attempts, lastError: r.lastError })))}; ` +
			`exceptions: ${JSON.stringify(exceptions.map((r) => ({ kind: r.kind, returnId: r.returnId, code: r.code, message: r.message })))}; ` +
			`processor runs: ${runs.map((r) => r.status).join(', ')}${lastError ? `; last error ${lastError}` : ''}`
		);
	}

	/** A ReBound push event for a sandbox return, as the sandbox sends it. */
	function eventFor(
		id: number,
		sequence: number,
		eventId = `evt_${randomBytes(8).toString('hex')}`,
	) {
		const r = rebound!.state.get(id);
		return {
			id: eventId,
			event: 'return.processed',
			occurred_at: new Date().toISOString(),
			sequence,
			data: rebound!.state.wire(r, false),
		};
	}

	const jeans = (loc: string) => khaos!.state.level('JEANS-BLU-32', '1', loc);
	const mugLevels = () =>
		['A1', 'RET', 'QUAR', 'WOFF'].map((loc) => khaos!.state.level('MUG-WHT', '1', loc));
	type AdminState = {
		creditNotes: Array<{
			associatedRef: string;
			lines: Array<Record<string, unknown>>;
			totals: { netPence: number; taxPence: number; grossPence: number };
		}>;
		adjustments: Array<{ reference: string; stockCode: string; delta: number }>;
		returns: Array<{ associatedRef: string; sourceOrderRef: string }>;
	};
	async function khaosState(): Promise<AdminState> {
		const res = await fetch(`${khaos!.adminUrl}/state`);
		return (await res.json()) as AdminState;
	}

	// ------------------------------------------------------------------ tests

	describe(`returns flow templates on a real n8n 2.40.7, ${deployment} (import → intake webhook → processor → Khaos)`, () => {
		it('imports credentials, Data Tables (mapping seeded) and workflows through the public API, and activates them', async () => {
			expect(packageLoadErrors(n8n!.logs())).toEqual([]);
			expect({
				exitCode: report.exitCode,
				log: report.exitCode === 0 ? '' : importLog.join('\n'),
			}).toEqual({ exitCode: 0, log: '' });
			expect(report.credentials.map((c) => [c.key, c.action])).toEqual([
				['khaos', 'created'],
				['rebound', 'created'],
			]);
			expect(Object.fromEntries(report.tables.map((t) => [t.key, [t.action, t.seeded]]))).toEqual({
				inbox: ['created', 0],
				exceptions: ['created', 0],
				dispositions: ['created', 7],
				reasons: ['created', 5],
				skuAliases: ['created', 0],
				reviews: ['created', 0],
				credits: ['created', 0],
				events: ['created', 0],
			});
			expect(Object.fromEntries(report.workflows.map((w) => [w.file, w.active]))).toEqual({
				errors: true,
				'returns-intake': true,
				'returns-processor': true,
				'credit-posting': false,
				'finance-review': true,
				reconciliation: true,
				'mapping-audit': true,
				'exception-replay': false,
			});
			const dispositions = await rows('dispositions');
			expect(dispositions.find((r) => r.disposition === 'Grade A')).toMatchObject({
				action: 'restock',
				siteId: '1',
				locationId: 'A1',
				sellable: true,
			});
			for (const w of report.workflows) {
				const wf = await api.request('GET', `/workflows/${encodeURIComponent(w.id as string)}`);
				expect({ file: w.file, active: wf.active }).toEqual({ file: w.file, active: w.active });
			}
		});

		it('a Grade A return restocks site 1 / A1 by exactly 1 and raises the credit note from the Khaos order (24.13 gross)', async () => {
			const started = Date.now();
			expect(report.exitCode).toBe(0);
			const before = { A1: jeans('A1'), RET: jeans('RET'), QUAR: jeans('QUAR') };
			const res = await deliver(eventFor(5001, 10, 'evt_e2e_5001'));
			expect({ status: res.status, text: res.status === 200 ? '' : res.text }).toEqual({
				status: 200,
				text: '',
			});
			// the trigger batches deliveries (50 ms window): a lone delivery leads a batch of one
			expect(res.json).toEqual({
				status: 'accepted',
				eventId: 'evt_e2e_5001',
				batch: { size: 1, leader: 'evt_e2e_5001' },
			});
			// answered only once queued: the inbox row exists the moment the 200 arrives
			expect((await rows('inbox')).filter((r) => r.eventId === 'evt_e2e_5001').length).toBe(1);

			const done = await waitFor(
				'inbox row of return 5001 done',
				async () => (await rows('inbox')).find((r) => r.returnId === '5001' && r.status === 'done'),
				describeState,
			);
			timings.gradeAToDoneMs = Date.now() - started;
			expect(done).toMatchObject({
				eventId: 'evt_e2e_5001',
				orderReference: 'WEB-1001',
				eventType: 'return.processed',
				lastError: '',
				processedAt: expect.stringMatching(/^20\d\d-/),
			});

			expect({ A1: jeans('A1'), RET: jeans('RET'), QUAR: jeans('QUAR') }).toEqual({
				A1: before.A1 + 1,
				RET: before.RET,
				QUAR: before.QUAR,
			});
			const state = await khaosState();
			const notes = state.creditNotes.filter((c) => c.associatedRef === 'RB-5001');
			expect(notes).toHaveLength(1);
			expect(notes[0].totals).toEqual({ grossPence: 2413, taxPence: 402, netPence: 2011 });
			expect(notes[0].lines).toEqual([
				expect.objectContaining({
					stockCode: 'JEANS-BLU-32',
					quantity: 1,
					grossPence: 2413,
					taxPence: 402,
					netPence: 2011,
				}),
			]);
			expect(
				state.adjustments.filter((a) => a.stockCode === 'JEANS-BLU-32').map((a) => a.delta),
			).toEqual([1]);
			expect((await rows('exceptions')).filter((r) => r.returnId === '5001')).toEqual([]);
		});

		it('a "Mystery Grade" return is an unmapped_disposition row in the exceptions table and moves nothing', async () => {
			const started = Date.now();
			const mugBefore = mugLevels();
			const khaosBefore = await khaosState();
			const res = await deliver(eventFor(5003, 10, 'evt_e2e_5003'));
			expect(res.status).toBe(200);

			const exception = await waitFor(
				'exception row of return 5003',
				async () => (await rows('exceptions')).find((r) => r.returnId === '5003'),
				describeState,
			);
			timings.mysteryToExceptionMs = Date.now() - started;
			expect(exception).toMatchObject({
				kind: 'unmapped_disposition',
				status: 'open',
				orderReference: 'WEB-1002',
				sku: 'MUG-WHT',
				code: 'Mystery Grade',
				stage: 'mapping',
				attempts: 1,
			});
			expect(JSON.parse(exception.payload).returnId).toBe('5003');
			const inboxRow = await waitFor(
				'inbox row of 5003 marked exception',
				async () =>
					(await rows('inbox')).find((r) => r.returnId === '5003' && r.status === 'exception'),
				describeState,
			);
			expect(inboxRow.lastError).toContain('Mystery Grade');

			expect(mugLevels()).toEqual(mugBefore);
			const after = await khaosState();
			expect(after.adjustments).toHaveLength(khaosBefore.adjustments.length);
			expect(after.creditNotes).toHaveLength(khaosBefore.creditNotes.length);
			expect(after.returns.filter((r) => r.sourceOrderRef === 'WEB-1002')).toHaveLength(
				khaosBefore.returns.filter((r) => r.sourceOrderRef === 'WEB-1002').length,
			);
		});

		it('the same webhook event again, and a later event for the same return, move nothing twice', async () => {
			const started = Date.now();
			const before = { A1: jeans('A1'), RET: jeans('RET'), QUAR: jeans('QUAR') };
			const stateBefore = await khaosState();

			// ReBound retrying the same delivery (same event id and body, fresh signature)
			const intakeRunsBefore = (await api.listExecutions(workflowId('returns-intake'))).length;
			const again = await deliver(eventFor(5001, 10, 'evt_e2e_5001'));
			expect(again.status).toBe(200);
			// a later event for the same return (re-graded to the same grade): queued and processed, Khaos guards hold
			const later = await deliver(eventFor(5001, 11, 'evt_e2e_5001_regrade'));
			expect(later.status).toBe(200);

			await waitFor(
				'the later 5001 event processed',
				async () => {
					const inbox = (await rows('inbox')).filter((r) => r.returnId === '5001');
					const pending = inbox.filter((r) => r.status === 'queued' || r.status === 'processing');
					return inbox.some((r) => r.eventId === 'evt_e2e_5001_regrade') && pending.length === 0
						? inbox
						: undefined;
				},
				describeState,
			);
			const inbox = (await rows('inbox')).filter((r) => r.returnId === '5001');
			// the repeated delivery was dropped by the intake: one row per event id
			expect(
				(await api.listExecutions(workflowId('returns-intake'))).length,
			).toBeGreaterThanOrEqual(intakeRunsBefore + 1);
			expect(inbox.map((r) => r.eventId).sort()).toEqual(['evt_e2e_5001', 'evt_e2e_5001_regrade']);
			// one more processor run, so a wrongly queued row would have been taken too
			await sleep(PROCESS_EVERY_SECONDS * 1000 + 1000);
			timings.duplicatesMs = Date.now() - started;

			expect({ A1: jeans('A1'), RET: jeans('RET'), QUAR: jeans('QUAR') }).toEqual(before);
			const after = await khaosState();
			expect(after.creditNotes.filter((c) => c.associatedRef === 'RB-5001')).toHaveLength(1);
			expect(after.creditNotes).toHaveLength(stateBefore.creditNotes.length);
			expect(after.adjustments).toHaveLength(stateBefore.adjustments.length);
			expect(after.returns.filter((r) => r.associatedRef === 'RB-5001')).toHaveLength(1);
			const regrade = inbox.find((r) => r.eventId === 'evt_e2e_5001_regrade')!;
			log(
				`[e2e returnsFlow] re-graded 5001 event ended ${JSON.stringify({ status: regrade.status, lastError: regrade.lastError })}; exceptions ${JSON.stringify((await rows('exceptions')).map((r) => [r.kind, r.returnId]))}`,
			);
		});

		it("after n8n restarts, a redelivered event and an older (out-of-order) event for the same return are still dropped: the memory is in n8n's database", async () => {
			const started = Date.now();
			const before = { A1: jeans('A1'), RET: jeans('RET'), QUAR: jeans('QUAR') };
			const stateBefore = await khaosState();
			const inboxBefore = (await rows('inbox'))
				.filter((r) => r.returnId === '5001')
				.map((r) => r.eventId)
				.sort();
			expect(inboxBefore).toEqual(['evt_e2e_5001', 'evt_e2e_5001_regrade']);

			const restartStarted = Date.now();
			n8n = await n8n!.restart();
			timings.restartToReadyMs = Date.now() - restartStarted;
			const intakeRunsBefore = (await api.listExecutions(workflowId('returns-intake'))).length;

			// the webhook is registered again once the active workflows are loaded: retry a 404 for a while (bounded)
			let again = await deliver(eventFor(5001, 10, 'evt_e2e_5001'));
			for (let i = 0; i < 60 && again.status === 404; i++) {
				await sleep(500);
				again = await deliver(eventFor(5001, 10, 'evt_e2e_5001'));
			}
			expect(again.status).toBe(200);
			// an event older than the re-grade (sequence 9 < 11), with an event id never seen: stale
			const stale = await deliver(eventFor(5001, 9, 'evt_e2e_5001_late'));
			expect(stale.status).toBe(200);
			const runs = await waitForExecutions(
				api,
				workflowId('returns-intake'),
				intakeRunsBefore + 2,
				60_000,
			);
			expect(runs.slice(0, 2).map((r) => r.status)).toEqual(['success', 'success']);
			// the stale event went through the intake's checks and was dropped there, not by the trigger
			const lateRun = await api.getExecution(runs[0].id, true);
			const ran = lateRun?.data?.resultData?.runData ?? {};
			// (the queued events of 5001 it read, in the run's read of its first return: one of them has
			// sequence 9 or later; a run of one event reads neither its events 2 to 8 nor one by one)
			const found = (ran['Events of the First Return']?.[0]?.data?.main?.[0] ?? []).map(
				(i: { json: Row }) => i.json,
			);
			expect(ran['Events of the Return']).toBeUndefined();
			expect(ran['Events of Returns 2 to 8']).toBeUndefined();
			expect(found.length).toBeGreaterThan(0);
			expect(found.every((r: Row) => String(r.returnId) === '5001')).toBe(true);
			const blockers = found.filter((r: Row) => Number(r.sequence) >= 9);
			expect(blockers.length).toBeGreaterThan(0);
			expect(blockers[0]).toMatchObject({
				eventId: expect.stringMatching(/^evt_e2e_5001(_regrade)?$/),
			});
			expect(ran['Drop Known and Stale Events']?.[0]?.data?.main?.[0] ?? []).toEqual([]);
			expect(ran['Queue Return']).toBeUndefined();
			await sleep(PROCESS_EVERY_SECONDS * 1000 + 1000);
			timings.restartRedeliveryMs = Date.now() - started;

			expect(
				(await rows('inbox'))
					.filter((r) => r.returnId === '5001')
					.map((r) => r.eventId)
					.sort(),
			).toEqual(inboxBefore);
			// the return events table holds exactly the inbox rows' events (what the intake reads)
			const eventsOf = (list: Row[]) =>
				list
					.map((r) => [String(r.returnId), String(r.eventId), Number(r.sequence)].join(' '))
					.sort();
			expect(eventsOf(await rows('events'))).toEqual(eventsOf(await rows('inbox')));
			expect({ A1: jeans('A1'), RET: jeans('RET'), QUAR: jeans('QUAR') }).toEqual(before);
			const after = await khaosState();
			expect(after.adjustments).toHaveLength(stateBefore.adjustments.length);
			expect(after.creditNotes).toHaveLength(stateBefore.creditNotes.length);
		});

		it('two events of one return queued back to back: the older row is superseded and moves nothing, the newer one decides', async () => {
			const started = Date.now();
			const stateBefore = await khaosState();
			// Both queued before any run can claim the older: prompt deliveries are ready at once, so a
			// processor tick between the two would take the older alone (correctly: its later event is not
			// there yet). A row left `processing` holds every run (No Run In Progress?) while they arrive.
			const model = (await rows('inbox')).find((r) => r.eventId === 'evt_e2e_5001') as Row;
			await insertRows('inbox', [
				inboxRowFrom(model, {
					eventId: 'evt_e2e_hold',
					returnId: 'E2E-HOLD',
					status: 'processing',
					claim: 'e2e-hold',
				}),
			]);
			// a run that had passed its check before the hold ends first
			await waitFor(
				'no processor run in progress',
				async () =>
					(await api.listExecutions(workflowId('returns-processor'), { limit: 5 })).some(
						(e) => e.status === 'running' || e.status === 'new',
					)
						? undefined
						: true,
				describeState,
			);
			expect((await deliver(eventFor(5001, 20, 'evt_e2e_5001_s20'))).status).toBe(200);
			expect((await deliver(eventFor(5001, 21, 'evt_e2e_5001_s21'))).status).toBe(200);
			// release the hold: the next run claims both, and finds the newer for the older
			await api.request(
				'PATCH',
				`/data-tables/${encodeURIComponent(tableId('inbox'))}/rows/update`,
				{
					filter: {
						type: 'and',
						filters: [{ columnName: 'eventId', condition: 'eq', value: 'evt_e2e_hold' }],
					},
					data: { status: 'superseded', lastError: 'e2e: a hold on the processor, released' },
				},
			);
			const rowsOf = await waitFor(
				'both 5001 events settled',
				async () => {
					const inbox = (await rows('inbox')).filter((r) =>
						['evt_e2e_5001_s20', 'evt_e2e_5001_s21'].includes(r.eventId),
					);
					return inbox.length === 2 &&
						inbox.every((r) => !['queued', 'processing'].includes(r.status))
						? inbox
						: undefined;
				},
				describeState,
			);
			timings.supersededMs = Date.now() - started;
			const by = Object.fromEntries(rowsOf.map((r) => [r.eventId, r]));
			expect([by.evt_e2e_5001_s20.status, by.evt_e2e_5001_s21.status]).toEqual([
				'superseded',
				'done',
			]);
			expect(by.evt_e2e_5001_s20.lastError).toBe(
				'superseded by a later event of the return (sequence 21): nothing moved',
			);
			const after = await khaosState();
			expect(after.adjustments).toHaveLength(stateBefore.adjustments.length);
			expect(after.creditNotes).toHaveLength(stateBefore.creditNotes.length);
		});

		it('a batch of 12 claimed rows, each with a later event of its return: the batch reads find every one (the third read the returns of rows 11 and 12), all are superseded and nothing moves', async () => {
			const stateBefore = await khaosState();
			// the older rows all ready at the same moment (batch size 20): one run claims the 12
			const { ids, settled } = await queueSupersededRows('E2E-BATCH', 12);
			expect(
				settled
					.map((r) => [r.returnId, r.status, r.lastError])
					.sort((a, b) => ids.indexOf(a[0]) - ids.indexOf(b[0])),
			).toEqual(
				ids.map((id) => [
					id,
					'superseded',
					'superseded by a later event of the return (sequence 2): nothing moved',
				]),
			);
			expect(new Set(settled.map((r) => r.claim)).size).toBe(1);
			const after = await khaosState();
			expect(after.adjustments).toHaveLength(stateBefore.adjustments.length);
			expect(after.creditNotes).toHaveLength(stateBefore.creditNotes.length);
			// the run that claimed them, once it has ended (its data is saved at the end): the first read
			// found the events of the returns of its first 3 rows, the second of rows 4 to 10, the third
			// those of rows 11 and 12, in
			// the order the claim gave the rows (PostgreSQL's UPDATE … RETURNING need not keep id order)
			const run = await runEnded(String(settled[0].claim));
			expect(run.status).toBe('success');
			const ran = run?.data?.resultData?.runData ?? {};
			const found = (name: string) =>
				(ran[name]?.[0]?.data?.main?.[0] ?? [])
					.map((i: { json: Row }) => `${i.json.returnId}@${i.json.sequence}`)
					.filter((k: string) => k.startsWith('E2E-BATCH-'))
					.sort();
			const claimed: string[] =
				ran['Returns of the Batch']?.[0]?.data?.main?.[0]?.[0]?.json?.returnId ?? [];
			expect([...claimed].sort()).toEqual([...ids].sort());
			// (only the later events are in the events table: the older rows were put in the inbox here)
			const later = (list: string[]) => list.map((id) => `${id}@2`).sort();
			expect(found('Events of the First 3')).toEqual(later(claimed.slice(0, 3)));
			expect(found('Events of Rows 4 to 10')).toEqual(later(claimed.slice(3, 10)));
			expect(found('Events of Rows 11 to 100')).toEqual(later(claimed.slice(10)));
			expect(ran['Later Event of the Return']).toBeUndefined();
		});

		it('a backlog larger than a batch: the run that claims the first batch starts the next run itself when it ends (not the next tick), which claims the rest', async () => {
			const stateBefore = await khaosState();
			// 25 rows, batch size 20
			const { settled } = await queueSupersededRows('E2E-DRAIN', 25);
			expect(new Set(settled.map((r) => r.status))).toEqual(new Set(['superseded']));
			// two runs took them (another ready row may have joined the first batch)
			const claims = [...new Set(settled.map((r) => String(r.claim)))].sort(
				(a, b) => Number(a) - Number(b),
			);
			expect(claims).toHaveLength(2);
			const count = (claim: string) => settled.filter((r) => String(r.claim) === claim).length;
			expect(count(claims[0])).toBeGreaterThanOrEqual(19);
			expect(count(claims[0]) + count(claims[1])).toBe(25);
			const after = await khaosState();
			expect(after.adjustments).toHaveLength(stateBefore.adjustments.length);
			expect(after.creditNotes).toHaveLength(stateBefore.creditNotes.length);
			const [firstRun, secondRun] = [await runEnded(claims[0]), await runEnded(claims[1])];
			expect([firstRun.status, secondRun.status]).toEqual(['success', 'success']);
			const firstMarked = Math.max(
				...settled
					.filter((r) => String(r.claim) === claims[0])
					.map((r) => Date.parse(String(r.updatedAt))),
			);
			const ranIn = (run: any) => run.data?.resultData?.runData ?? {};
			const outOf = (run: any, name: string): unknown[] =>
				ranIn(run)[name]?.[0]?.data?.main?.[0] ?? [];
			log(
				`[e2e returnsFlow] backlog: run ${claims[0]} took ${count(claims[0])}; run ${claims[1]} (${secondRun.mode}) took ${count(claims[1])}`,
			);
			// Every row here is superseded early in its run, so between the first run's last row
			// settled and its Ready Rows Left? read (tens of ms) nothing is processing: a tick landing
			// there may claim the rest itself. Then the first run found no row left and started nothing,
			// and that tick began before the read.
			const left = ranIn(firstRun)['Ready Rows Left?']?.[0];
			if (secondRun.mode === 'trigger' && outOf(firstRun, 'Ready Rows Left?').length === 0) {
				expect(Date.parse(secondRun.startedAt)).toBeLessThanOrEqual(
					Number(left.startTime) + Number(left.executionTime ?? 0),
				);
				expect(ranIn(firstRun)['Start the Next Run']).toBeUndefined();
				return;
			}
			// Otherwise the first run started the next one at its end (n8n records the started
			// execution on the node, and the calling run on the started one), after its last row was
			// marked; the started run claimed the rest, or, when a tick got them in between, nothing
			const started = ranIn(firstRun)['Start the Next Run']?.[0];
			expect(started?.executionStatus).toBe('success');
			const next = String(started?.metadata?.subExecution?.executionId ?? '');
			const nextRun = next === String(claims[1]) ? secondRun : await runEnded(next);
			expect(nextRun.data?.parentExecution).toMatchObject({
				executionId: String(claims[0]),
				workflowId: workflowId('returns-processor'),
			});
			expect(Date.parse(nextRun.startedAt)).toBeGreaterThanOrEqual(firstMarked);
			if (next === String(claims[1])) expect(nextRun.mode).toBe('integrated');
			else expect(outOf(nextRun, 'Mark Processing')).toEqual([]);
		});

		it('rows left processing: one is requeued (counted) and processed alone, one requeued maxRequeues times already becomes a stuck exception (row first), and the queue moves on', async () => {
			const started = Date.now();
			const stateBefore = await khaosState();
			const model = (await rows('inbox')).find((r) => r.eventId === 'evt_e2e_5001') as Row;
			const stopped = { status: 'processing', claim: 'e2e-stopped-run' };
			await insertRows('inbox', [
				inboxRowFrom(model, {
					...stopped,
					eventId: 'evt_e2e_5001_stalled',
					returnId: '5001',
					sequence: 30,
				}),
				inboxRowFrom(model, {
					...stopped,
					eventId: 'evt_e2e_stuck',
					returnId: 'E2E-STUCK',
					lastError: 'e2e: Khaos timed out',
					requeues: 3,
				}),
			]);
			const settled = await waitFor(
				'the stalled rows requeued or stuck',
				async () => {
					const inbox = (await rows('inbox')).filter((r) =>
						['evt_e2e_5001_stalled', 'evt_e2e_stuck'].includes(r.eventId),
					);
					return inbox.length === 2 && inbox.every((r) => ['done', 'exception'].includes(r.status))
						? inbox
						: undefined;
				},
				describeState,
				200_000,
			);
			timings.stallToSettledMs = Date.now() - started;
			const by = Object.fromEntries(settled.map((r) => [r.eventId, r]));
			// requeued once, then processed (alone) like any row: its moves and credit note were there already
			expect(by.evt_e2e_5001_stalled).toMatchObject({ status: 'done', requeues: 1, lastError: '' });
			// requeued 3 times already: a stuck exception row (with the last error and the run that stopped), then the row exception
			expect(by.evt_e2e_stuck).toMatchObject({ status: 'exception', requeues: 3 });
			const stuck = (await rows('exceptions')).find((r) => r.returnId === 'E2E-STUCK');
			expect(stuck).toMatchObject({
				kind: 'stuck',
				owner: 'tech',
				status: 'open',
				stage: 'processor',
				key: 'stuck|E2E-STUCK|-|-',
				attempts: 1,
			});
			expect(stuck?.message).toContain(
				'the last time by execution e2e-stopped-run. Last error: e2e: Khaos timed out',
			);
			expect(by.evt_e2e_stuck.lastError).toBe(stuck?.message);
			expect(JSON.parse(stuck?.details)).toMatchObject({
				eventId: 'evt_e2e_stuck',
				requeues: 3,
				lastExecution: 'e2e-stopped-run',
			});
			const after = await khaosState();
			expect(after.adjustments).toHaveLength(stateBefore.adjustments.length);
			expect(after.creditNotes).toHaveLength(stateBefore.creditNotes.length);
		}, 300_000);

		// n8n builds an expression isolate (~50 ms of CPU) for any expression it evaluates outside an
		// execution. A burst of deliveries must not pay one each in n8n's webhook phase: the ReBound
		// Trigger 1.1 evaluates none there (n8n evaluates a binary-data expression for every version-1
		// webhook node), and with the harness's N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE the phase takes no
		// isolate at all. Only the intake runs the burst makes may, and processor runs: a tick every
		// PROCESS_EVERY_SECONDS (5 s here) evaluates one expression ("Queued Returns" compares readyAtMs
		// with now), as does its minute schedule, so at most two fall within the burst's second.
		// One process only: with webhook processes the phase runs where this /metrics does not look.
		const singleProcess = resolveTopology(topology).mode !== 'queue';
		(singleProcess ? it : it.skip)(
			"a burst of deliveries costs n8n's webhook phase no expression isolate: isolates follow intake runs, not deliveries",
			async () => {
				const acquired = async () => {
					const text = await (await fetch(`${n8n!.baseUrl}/metrics`)).text();
					const line = text
						.split('\n')
						.find((l) => /^n8n_expression_pool_acquired(_total)?(\{.*\})? /.test(l));
					if (!line) throw new Error('n8n /metrics has no expression_pool_acquired counter');
					return Number(line.split(' ').pop());
				};
				const intakeRuns = async () =>
					(await api.listExecutions(workflowId('returns-intake'), { limit: 250 })).length;
				const runsBefore = await intakeRuns();
				const before = await acquired();
				// 12 redeliveries of a known event at once: each answered, each dropped by the intake
				const deliveries = 12;
				const answers = await Promise.all(
					Array.from({ length: deliveries }, () => deliver(eventFor(5001, 10, 'evt_e2e_5001'))),
				);
				expect(answers.map((a) => a.status)).toEqual(Array(deliveries).fill(200));
				const delta = (await acquired()) - before;
				const runs = (await intakeRuns()) - runsBefore;
				log(
					`[e2e returnsFlow] ${deliveries} deliveries: ${runs} intake runs, ${delta} expression isolates`,
				);
				expect(runs).toBeGreaterThanOrEqual(1);
				// the intake runs, plus at most two processor runs that evaluated an expression
				expect(delta).toBeLessThanOrEqual(runs + 2);
				expect(delta).toBeLessThan(deliveries);
				const inbox = (await rows('inbox')).filter((r) => r.eventId === 'evt_e2e_5001');
				expect(inbox).toHaveLength(1);
			},
		);

		/**
		 * Delivers two events so that they share one intake run: an intake run is started first (5001's
		 * first event again: dropped as known), since the template starts a delivery that finds no
		 * intake run going at once (Start at Once When Idle), and the two arrive while it runs, so
		 * they gather in the next batch, as deliveries arriving together under load do. Which batch a
		 * delivery joins depends on timing (in queue mode on when the webhook process hears that a run
		 * ended): when the two did not share one, it tries again with the next pair (at most 3 tries).
		 * Returns the pair that shared a run.
		 */
		async function deliverInOneRun(
			pairFor: (attempt: number) => [ReturnType<typeof eventFor>, ReturnType<typeof eventFor>],
		) {
			for (let attempt = 0; ; attempt++) {
				const pair = pairFor(attempt);
				const opener = deliver(eventFor(5001, 10, 'evt_e2e_5001'));
				await sleep(15);
				const answers = await Promise.all(pair.map((e) => deliver(e)));
				expect((await opener).status).toBe(200);
				expect(answers.map((a) => a.status)).toEqual([200, 200]);
				const batches = answers.map((a) => a.json?.batch);
				const shared =
					batches[0]?.size === 2 &&
					batches[1]?.size === 2 &&
					batches[0]?.leader === batches[1]?.leader;
				if (shared || attempt === 2) {
					// one intake run took both (the batch the trigger answered with)
					expect(batches).toEqual([
						{ size: 2, leader: expect.any(String) },
						{ size: 2, leader: batches[0]?.leader },
					]);
					return pair.map((e) => String(e.id));
				}
				log(
					`[e2e returnsFlow] the pair did not share an intake run (${JSON.stringify(batches)}): again`,
				);
			}
		}

		it('a stale event and a new event of one return delivered at once: the stale one is dropped, the new one queued', async () => {
			// the inbox has 5001 up to sequence 21 (above); a late copy of sequence 9 under a new event id
			// and a new sequence 40 (41, 42 on a retry) in one intake run: the case a Merge on returnId
			// used to lose (it dropped every event of the return when one was stale)
			const [stale, fresh] = await deliverInOneRun((k) => [
				eventFor(5001, 9, `evt_e2e_5001_stale_batch${k ? `_${k}` : ''}`),
				eventFor(5001, 40 + k, `evt_e2e_5001_s${40 + k}`),
			]);
			const inbox = await waitFor(
				`the ${fresh} event of 5001 processed`,
				async () => {
					const r = (await rows('inbox')).filter((x) => x.returnId === '5001');
					const row = r.find((x) => x.eventId === fresh);
					return row && !['queued', 'processing'].includes(row.status) ? r : undefined;
				},
				describeState,
			);
			expect(
				inbox.map((r) => String(r.eventId)).filter((id) => id.includes('_stale_batch')),
			).toEqual([]);
			expect(inbox.map((r) => r.eventId)).not.toContain(stale);
			expect(inbox.find((r) => r.eventId === fresh)!.status).toBe('done');
		});

		it('two stale events of two returns in one intake run: each is dropped, the second found by the read of events 2 to 8', async () => {
			// 5001 (up to sequence 40 or more) and 5003 (sequence 10) are queued above; a late sequence 9
			// of each, under new event ids, in one intake run. Whichever comes second is looked up only by
			// Events of Returns 2 to 8 (Events of the First Return reads the first event's return alone):
			// without that read it would be queued
			const ids = await deliverInOneRun((k) => [
				eventFor(5001, 9, `evt_e2e_5001_stale_pair${k ? `_${k}` : ''}`),
				eventFor(5003, 9, `evt_e2e_5003_stale_pair${k ? `_${k}` : ''}`),
			]);
			expect(ids).toHaveLength(2);
			// answered once the run has inserted what it keeps: no try's events were kept
			const kept = (await rows('inbox')).filter((r) => String(r.eventId).includes('_stale_pair'));
			expect(kept).toEqual([]);
			const events = (await rows('events')).filter((r) =>
				String(r.eventId).includes('_stale_pair'),
			);
			expect(events).toEqual([]);
		});

		// Rows can be aged only under n8n (createdAt/updatedAt are n8n's own columns): with PostgreSQL the
		// test sets updatedAt back with psql. On SQLite the same template runs in pollFlow without ageing.
		const onPostgres = resolveTopology(topology).db === 'postgres';
		(onPostgres ? it : it.skip)(
			'retention: the daily housekeeping deletes final rows past their age, in bounded batches, and keeps every row that still counts',
			async () => {
				const pg = (n8n as Topology).postgres!;
				// n8n names the table data_table_user_<id>; the id is mixed case, so the name is quoted
				const table = (key: string) => `"data_table_user_${tableId(key)}"`;
				const age = (key: string, days: number, where: string) =>
					pg.sql(
						`UPDATE ${table(key)} SET "updatedAt" = now() - interval '${days} days' WHERE ${where} RETURNING id`,
					);
				const model = (await rows('inbox')).find((r) => r.eventId === 'evt_e2e_5001') as Row;
				const inboxRow = (eventId: string, status: string, uncredited: string, extra: Row = {}) =>
					inboxRowFrom(model, {
						eventId,
						returnId: `RET-${eventId}`,
						attempts: 1,
						status,
						uncredited,
						...extra,
					});
				await insertRows('inbox', [
					inboxRow('evt_ret_rejected', 'credit_rejected', ''),
					inboxRow('evt_ret_uncredited', 'done', '[{"sku":"JEANS-BLU-32","quantity":1}]'),
					// done two days ago: its credit recorded elsewhere (creditNet blank) or carried on the row
					inboxRow('evt_ret_finished', 'done', ''),
					inboxRow('evt_ret_valued', 'done', '', { creditGross: '2399', creditNet: '1999' }),
					inboxRow('evt_ret_superseded', 'superseded', ''),
					inboxRow('evt_ret_replayed', 'replayed', ''),
					// a superseded row that holds units (credited by a run that stopped): kept whatever its age
					inboxRow(
						'evt_ret_superseded_units',
						'superseded',
						'[{"sku":"JEANS-BLU-32","quantity":1}]',
					),
					// finished 12 hours ago: within keepDoneInboxHours
					inboxRow('evt_ret_half_day', 'done', ''),
				]);
				const exceptionRow = (key: string, status: string) => ({
					key,
					kind: status === 'notice' ? 'exchange_recorded' : 'unknown_sku',
					owner: 'ops',
					status,
					stage: 'validate',
					returnId: 'RET-X',
					message: 'e2e retention',
					attempts: 1,
				});
				await insertRows('exceptions', [
					exceptionRow('ret|resolved-old', 'resolved'),
					exceptionRow('ret|resolved-young', 'resolved'),
					exceptionRow('ret|notice-40', 'notice'),
					exceptionRow('ret|notice-70', 'notice'),
				]);
				// 40 days: past keepDoneDays (30), within keepReportedDays (62); 70 / 400 days: past both
				age('inbox', 40, `"eventId" IN ('evt_e2e_5001', 'evt_e2e_5001_s20', 'evt_e2e_stuck')`);
				age('inbox', 400, `"eventId" IN ('evt_ret_rejected', 'evt_ret_uncredited')`);
				// 2 days: past keepDoneInboxHours (24), within keepDoneDays
				age(
					'inbox',
					2,
					`"eventId" IN ('evt_ret_finished', 'evt_ret_valued', 'evt_ret_superseded', 'evt_ret_replayed', 'evt_ret_superseded_units')`,
				);
				pg.sql(
					`UPDATE ${table('inbox')} SET "updatedAt" = now() - interval '12 hours' WHERE "eventId" = 'evt_ret_half_day' RETURNING id`,
				);
				// their events too (queued 40 days ago): past keepDoneDays, purged with them
				age('events', 40, `"eventId" IN ('evt_e2e_5001', 'evt_e2e_5001_s20')`);
				age('exceptions', 40, `key IN ('ret|resolved-old', 'ret|notice-40')`);
				age('exceptions', 70, `key = 'ret|notice-70'`);
				age('exceptions', 400, `kind IN ('unmapped_disposition', 'stuck')`);
				const agedAt = Date.now();
				// the next reconciliation run (every 20 s) that started after the ageing deletes them
				const recon = workflowId('reconciliation');
				await waitFor(
					'a reconciliation run that started after the rows were aged',
					async () => {
						const runs = await api.listExecutions(recon, { limit: 5 });
						return runs.find(
							(r) =>
								r.finished &&
								r.status === 'success' &&
								Date.parse(String((r as Row).startedAt)) > agedAt,
						);
					},
					describeState,
					90_000,
				);
				const inbox = Object.fromEntries((await rows('inbox')).map((r) => [r.eventId, r.status]));
				const exceptionRows = await rows('exceptions');
				const exceptions = Object.fromEntries(exceptionRows.map((r) => [r.key, r.status]));
				// deleted: done (no units held) and superseded rows past 30 days, resolved past 30, notices past 62
				expect(inbox.evt_e2e_5001).toBeUndefined();
				expect(inbox.evt_e2e_5001_s20).toBeUndefined();
				// finished rows whose record lives on elsewhere leave the inbox after a day
				expect(inbox.evt_ret_finished).toBeUndefined();
				expect(inbox.evt_ret_superseded).toBeUndefined();
				expect(inbox.evt_ret_replayed).toBeUndefined();
				expect(exceptions['ret|resolved-old']).toBeUndefined();
				expect(exceptions['ret|notice-70']).toBeUndefined();
				// kept: young final rows; rows that still hold units of their order; unfinished and open
				// ones whatever their age; a notice within its 62 days
				expect(inbox).toMatchObject({
					evt_e2e_5001_s21: 'done',
					evt_ret_rejected: 'credit_rejected',
					evt_ret_uncredited: 'done',
					evt_ret_valued: 'done',
					evt_ret_superseded_units: 'superseded',
					evt_ret_half_day: 'done',
					evt_e2e_stuck: 'exception',
				});
				expect(exceptions).toMatchObject({
					'ret|resolved-young': 'resolved',
					'ret|notice-40': 'notice',
					'stuck|E2E-STUCK|-|-': 'open',
				});
				expect(
					exceptionRows.filter((r) => r.kind === 'unmapped_disposition').map((r) => r.status),
				).toEqual(['open']);
				// the return events past keepDoneDays are purged, the young ones kept
				const eventIds = (await rows('events')).map((r) => String(r.eventId));
				expect(eventIds).not.toContain('evt_e2e_5001');
				expect(eventIds).not.toContain('evt_e2e_5001_s20');
				expect(eventIds).toContain('evt_e2e_5001_s21');
			},
			150_000,
		);
	});
}
