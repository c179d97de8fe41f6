/**
 * The soak: exactly once under faults and a restart, on a real n8n 2.40.7.
 *
 *   npm run soak -- [--returns 2000] [--no-kill] [--seed 42] [--rate 4] [--json] [--build] [--no-faults] [--finance-batched]
 *
 * Both sandboxes in this process on 127.0.0.1, the package installed into a
 * fresh n8n user folder, the templates imported (processor every 2 s, rows
 * left `processing` requeued after 1 min). N seeded returns (scenario.ts) are
 * pushed as signed ReBound webhooks at a bounded rate, with 5% duplicate
 * deliveries (half at once, concurrently; half late, once the inbox holds the
 * first), 2% older events (lower sequence, other grades) after the newer one
 * is in the inbox, 1% bad-signature noise, while the Khaos sandbox fails ~10% of calls (HTTP
 * 500, 429 with Retry-After, timeouts, dropped connections) and, every 15 s,
 * does one stock import / return import / ProcessReturn and drops the answer.
 * The sender behaves like ReBound: anything but a 2xx is delivered again
 * (bounded). Half-way through, n8n is SIGKILLed and restarted on the same
 * user folder; the intake's crashed executions are retried (docs/idempotency.md).
 * Then the inbox drains (bounded) and the ledger (ledger.ts) is checked
 * against the oracle (scenario.ts), which follows finance's credit policy: a
 * return with a held line ("Missing" grade, a Store credit action) moves its
 * stock and waits for finance as a pending credit review (inbox
 * `credit_review`), no credit note; notices (status `notice`) are never
 * exceptions. Exit code 1 when a return is lost, doubled or wrong.
 *
 * `--finance-batched`: finance posts credit notes in batches (values
 * finance.batchCreditNotes, the credit posting workflow every minute). Stock
 * moves at once, credit notes only in posting runs: while the inbox drains,
 * samples taken while no posting run is in progress check that no return still
 * `credit_queued` has a credit note and that its stock has moved. After the
 * drain the driver decides the pending credit reviews as finance would, through
 * n8n's public API (PATCH /data-tables/<id>/rows/update, the reviews table's
 * `decision`): half `release`, the others `reject`; the finance review workflow
 * (every minute) acts on them within a bounded wait, under the same faults.
 * Released: exactly one credit note of the oracle's value (held lines
 * included), review `released` with its reference, inbox `done`; rejected: no
 * credit note, review `rejected`, inbox `credit_rejected`.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mulberry32 } from '../../sandbox/shared/prng';
import { startKhaosSandbox, type KhaosSandbox } from '../../sandbox/khaos/server';
import { startReboundSandbox, type ReboundSandbox } from '../../sandbox/rebound/server';
import { DEFAULT_WEBHOOK_SETTINGS, signWebhookBody } from '../../transports/rebound/webhook';
import {
	createApiKey,
	freePort,
	packageLoadErrors,
	setupOwner,
	type ApiClient,
	type N8nInstance,
} from '../n8n/instance';
import { eachFlag } from '../cliFlags';
import {
	resolveTopology,
	startTopology,
	type Topology,
	type TopologyOptions,
} from '../n8n/topology';
import { installPackage, type InstalledPackage } from '../n8n/package';
import { ensureRuntime, type Runtime } from '../n8n/runtime';
import { WORKFLOWS_DIR } from '../templates/build';
import { runImport, type ImportReport } from '../templates/import';
import { SANDBOX_REBOUND, sandboxClientValues } from '../templates/sandboxValues';
import {
	REJECTED_INBOX_STATUS,
	checkLedger,
	type FinanceDecision,
	type LedgerResult,
} from './ledger';
import {
	expectedOutcome,
	generateScenario,
	khaosFixture,
	normalised,
	reboundInput,
	type Expected,
	type Scenario,
	type SoakReturn,
} from './scenario';

export interface SoakOptions {
	returns: number;
	kill: boolean;
	seed: number;
	/** main deliveries per second */
	rate: number;
	json: boolean;
	/** build dist/ before packing (default: pack the current dist/) */
	build: boolean;
	faults: boolean;
	processEverySeconds: number;
	batchSize: number;
	/** finance posts credit notes in batches (credit posting every minute); the driver then decides the held credits */
	financeBatched: boolean;
	/** the deployment (scripts/n8n/topology.ts): `--queue`, `--db postgres`, `--workers N`, `--webhook-processes M` */
	topology: TopologyOptions;
	/**
	 * what the kills hit, one after the other at evenly spaced moments of the sending (one target:
	 * half-way): `n8n` (every n8n process, the single-process default), or in queue mode `worker`
	 * (the worker running a processor execution), `webhook` (webhook process 1, while deliveries are
	 * in flight), `main`, `redis` (its queued jobs are lost: no persistence), `postgres` (the
	 * database server); each SIGKILLed and started again
	 */
	killTargets: KillTarget[];
}

export const KILL_TARGETS = ['n8n', 'worker', 'webhook', 'main', 'redis', 'postgres'] as const;
export type KillTarget = (typeof KILL_TARGETS)[number];

export const DEFAULT_SOAK_OPTIONS: SoakOptions = {
	returns: 2000,
	kill: true,
	seed: 42,
	rate: 4,
	json: false,
	build: false,
	faults: true,
	processEverySeconds: 2,
	batchSize: 50,
	financeBatched: false,
	topology: {},
	killTargets: ['n8n'],
};

const USAGE =
	'Usage: npm run soak -- [--returns N (1–5000)] [--no-kill] [--seed N] [--rate per-second (1–50)] [--json] [--build] [--no-faults] [--finance-batched] [--queue | --db postgres | --mode queue --workers N --webhook-processes M] [--kill n8n|worker|webhook|main|redis|postgres[,…]]';

export function parseSoakArgs(argv: string[]): SoakOptions {
	const o: SoakOptions = { ...DEFAULT_SOAK_OPTIONS };
	eachFlag(
		argv,
		(f) => {
			const flag = f.name;
			const num = f.num;
			switch (flag) {
				case '--returns':
					o.returns = num(1, 5000);
					break;
				case '--seed':
					o.seed = num(0, 2 ** 31 - 1);
					break;
				case '--rate':
					o.rate = num(1, 50);
					break;
				case '--no-kill':
					o.kill = false;
					break;
				case '--no-faults':
					o.faults = false;
					break;
				case '--finance-batched':
					o.financeBatched = true;
					break;
				case '--kill': {
					const raw = f.value() ?? '';
					const targets = raw.split(',').map((t) => t.trim()) as KillTarget[];
					for (const target of targets)
						if (!KILL_TARGETS.includes(target))
							throw new Error(
								`--kill ${target}: expected one of ${KILL_TARGETS.join(', ')}. ${USAGE}`,
							);
					o.killTargets = targets;
					o.kill = true;
					break;
				}
				case '--json':
					o.json = true;
					break;
				case '--build':
					o.build = true;
					break;
				default:
					throw new Error(`Unknown option ${f.raw}. ${USAGE}`);
			}
		},
		`. ${USAGE}`,
		o,
	);
	const t = resolveTopology(o.topology);
	for (const target of o.killTargets) {
		if (['worker', 'webhook', 'redis'].includes(target) && t.mode !== 'queue')
			throw new Error(`--kill ${target} needs queue mode (--queue). ${USAGE}`);
		if (target === 'postgres' && t.db !== 'postgres')
			throw new Error(`--kill postgres needs PostgreSQL (--db postgres or --queue). ${USAGE}`);
	}
	return o;
}

export interface SoakResult {
	options: SoakOptions;
	sent: number;
	applied: number;
	/** held for finance as the oracle says (stock moved, no credit note until released, one review row) */
	held: number;
	/** of the held: released by the driver and raised exactly once at the oracle's value, rejected with none */
	released: number;
	rejected: number;
	excepted: number;
	exceptedByKind: Record<string, number>;
	/** returns with a notice of each kind (status notice: never an exception) */
	noticesByKind: Record<string, number>;
	expectedApplied: number;
	expectedHeld: number;
	expectedExcepted: number;
	/** finance batched: the driver's decisions on the pending reviews and the finance review's bounded wait */
	finance: {
		decided: number;
		release: number;
		reject: number;
		/** every decided review left `pending` and its inbox rows `credit_review` before the wait ended */
		settled: boolean;
		settleMs: number;
	} | null;
	/**
	 * finance batched: samples of the inbox taken while no credit posting run was in progress; in each,
	 * the returns still `credit_queued` (no row done, in review or excepted) must have no credit note
	 * and all their stock moves
	 */
	creditQueued: {
		samples: number;
		/** samples that saw at least one return still credit_queued, and the (return, sample) pairs seen */
		samplesWithQueued: number;
		returnsSeen: number;
		creditNoteEarly: number;
		/**
		 * of the notes seen while credit_queued: those of a row a posting run kept queued after its
		 * ProcessReturn failed for good (lastError "processing return …") and the look-up for its
		 * credit note failed too: the next posting run finds the note and marks the row done (the
		 * ledger checks that); logged like the others
		 */
		creditNoteAfterFailure: number;
		movesMissing: number;
		examples: string[];
	} | null;
	duplicatesSent: number;
	duplicatesSuppressed: number;
	/** of those: sent late (the first copy already in the inbox), and how many of these were suppressed */
	lateDuplicatesSent: number;
	lateDuplicatesSuppressed: number;
	/** duplicate deliveries that got their own inbox row (two intake executions both passed the check); applied once downstream */
	duplicateRows: number;
	outOfOrderSent: number;
	outOfOrderDropped: number;
	badSignatureSent: number;
	badSignatureRejected: number;
	/** webhook deliveries repeated by the sender (no 2xx: n8n down, not registered yet, …) */
	redeliveries: number;
	khaosCalls: number;
	faultsInjected: Record<string, number>;
	/** Khaos calls that failed transiently and were retried by the transport (= injected faults) */
	retries: number;
	/** extra processor runs of inbox rows (attempts − 1), from requeues and stalled rows */
	rowReruns: number;
	/** inbox rows' stall requeues (a run that stopped with them claimed: a killed worker, a crash) */
	requeues: number;
	/** the kills, in order (empty with --no-kill) */
	kills: Array<{
		target: KillTarget;
		/** the process hit, e.g. `worker 2 (running processor execution 41)` */
		victim: string;
		atSent: number;
		at: number;
		downMs: number;
		crashedIntakeRetried: number;
	}>;
	/** the deployment the soak ran on */
	topology: string;
	drained: boolean;
	lost: number;
	doubled: number;
	/** not finished when the bounded drain ended (not lost: the row is still queued or processing) */
	pending: number;
	wrong: number;
	stockDrift: LedgerResult['stockDrift'];
	/** inbox rows done without their effects, or exception without an exception row (ledger.ts) */
	silentEnds: LedgerResult['silentEnds'];
	problems: LedgerResult['problems'];
	wallMs: number;
	machine: string;
	date: string;
}

type Row = Record<string, any>;
type Log = (line: string) => void;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Delivery {
	kind: 'main' | 'duplicate' | 'stale' | 'badsig';
	returnId: number;
	eventId: string;
	body: string;
	status: number | null;
	attempts: number;
	/** sent in the late phase (after the first copy was in the inbox) */
	late?: boolean;
}

function eventBody(
	rebound: ReboundSandbox,
	r: SoakReturn,
	eventId: string,
	sequence: number,
): string {
	const wire = rebound.state.wire(rebound.state.get(r.returnId), false);
	return JSON.stringify({
		id: eventId,
		event: 'return.processed',
		occurred_at: new Date().toISOString(),
		sequence,
		data: wire,
	});
}

/** The older event of a return: same return, lower sequence, every line graded "Damaged". */
function staleBody(rebound: ReboundSandbox, r: SoakReturn, eventId: string): string {
	const wire = rebound.state.wire(rebound.state.get(r.returnId), false) as Record<string, any>;
	const data = {
		...wire,
		item: (wire.item as Array<Record<string, unknown>>).map((it) => ({
			...it,
			final_disposition: 'Damaged',
		})),
	};
	return JSON.stringify({
		id: eventId,
		event: 'return.processed',
		occurred_at: new Date(Date.now() - 60_000).toISOString(),
		sequence: 9,
		data,
	});
}

async function tableRows(api: ApiClient, tableId: string): Promise<Row[]> {
	const out: Row[] = [];
	let cursor: string | undefined;
	for (let page = 0; page < 200; page++) {
		const q = new URLSearchParams({ limit: '250' });
		if (cursor) q.set('cursor', cursor);
		const res = await api.request(
			'GET',
			`/data-tables/${encodeURIComponent(tableId)}/rows?${q.toString()}`,
		);
		out.push(...((res?.data ?? []) as Row[]));
		cursor = res?.nextCursor ?? undefined;
		if (!cursor) break;
	}
	return out;
}

function stockMap(khaos: KhaosSandbox): Map<string, number> {
	return new Map(
		khaos.state
			.snapshot()
			.stock.map((s) => [
				`${s.stockCode.toUpperCase()}|${s.siteId}|${s.locationId.toUpperCase()}`,
				s.level,
			]),
	);
}

/** A credit posting run in progress, or the newest one started (for the credit_queued samples). */
async function postingRuns(
	api: ApiClient,
	workflowId: string,
): Promise<{ running: boolean; latest: string | null }> {
	const q = (extra: string) =>
		`/executions?workflowId=${encodeURIComponent(workflowId)}&limit=1${extra}`;
	// the plain list leaves out executions running in this n8n (2.40.7 excludeRunning), so ask for those too
	const running = await api.request('GET', q('&status=running'));
	const latest = await api.request('GET', q(''));
	return {
		running: ((running?.data ?? []) as unknown[]).length > 0,
		latest: latest?.data?.[0]?.id !== undefined ? String(latest.data[0].id) : null,
	};
}

/** Sets a pending review row's decision as a finance person would in the Data Table UI (public API). */
async function decideReview(
	api: ApiClient,
	tableId: string,
	rowId: number | string,
	decision: 'release' | 'reject',
): Promise<boolean> {
	const res = await api.request(
		'PATCH',
		`/data-tables/${encodeURIComponent(tableId)}/rows/update`,
		{
			filter: {
				type: 'and',
				filters: [
					{ columnName: 'id', condition: 'eq', value: Number(rowId) },
					{ columnName: 'status', condition: 'eq', value: 'pending' },
				],
			},
			data: { decision, decidedBy: 'soak driver', note: `soak: ${decision}` },
			returnData: true,
		},
	);
	return Array.isArray(res) ? res.length === 1 : res === true;
}

/** Retries the intake's executions that n8n marked crashed or that failed (the answer was sent, the insert may never have run). Safe: the inbox checks drop what was queued. */
async function retryCrashedIntake(
	api: ApiClient,
	workflowId: string,
	since: number,
	done: Set<string>,
	log: Log,
): Promise<number> {
	let retried = 0;
	let cursor: string | undefined;
	for (let page = 0; page < 100; page++) {
		const q = new URLSearchParams({ workflowId, limit: '250' });
		if (cursor) q.set('cursor', cursor);
		const res = await api.request('GET', `/executions?${q.toString()}`);
		const runs = (res?.data ?? []) as Array<{
			id: string;
			status: string;
			startedAt?: string;
			retryOf?: string | null;
		}>;
		let older = false;
		for (const run of runs) {
			if (run.startedAt && Date.parse(run.startedAt) < since) older = true;
			if ((run.status !== 'crashed' && run.status !== 'error') || done.has(String(run.id)))
				continue;
			done.add(String(run.id));
			try {
				await api.request('POST', `/executions/${encodeURIComponent(run.id)}/retry`, {
					loadWorkflow: false,
				});
				retried++;
			} catch (error) {
				log(
					`[soak] retry of crashed intake execution ${run.id} failed: ${error instanceof Error ? error.message : String(error)}`,
				);
			}
		}
		cursor = res?.nextCursor ?? undefined;
		if (!cursor || older) break;
	}
	return retried;
}

/**
 * One credit_queued sample (finance batched), taken while no posting run was in progress: a return
 * still waiting for its posting run (a row credit_queued, none done, in review or excepted) has no
 * credit note yet, and its stock has moved (the processor moves stock at once). Returns the returns
 * seen with a credit note, so the caller logs what the posting run did with them.
 */
function sampleCreditQueued(
	c: NonNullable<SoakResult['creditQueued']>,
	inbox: Row[],
	snapshot: ReturnType<KhaosSandbox['state']['snapshot']>,
	expected: Map<string, Expected>,
): string[] {
	const early: string[] = [];
	c.samples++;
	const statuses = new Map<string, string[]>();
	for (const row of inbox)
		statuses.set(String(row.returnId), [
			...(statuses.get(String(row.returnId)) ?? []),
			String(row.status),
		]);
	const queued = [...statuses]
		.filter(
			([, st]) =>
				st.includes('credit_queued') &&
				!st.some((x) => ['done', 'credit_review', REJECTED_INBOX_STATUS, 'exception'].includes(x)),
		)
		.map(([id]) => id);
	if (queued.length === 0) return early;
	c.samplesWithQueued++;
	c.returnsSeen += queued.length;
	const notes = new Set(snapshot.creditNotes.map((n) => n.associatedRef.toUpperCase()));
	const moved = new Set(snapshot.adjustments.map((a) => a.reference));
	for (const id of queued) {
		if (notes.has(`RB-${id}`.toUpperCase())) {
			const rows = inbox.filter((r) => String(r.returnId) === id);
			// a ProcessReturn that failed for good and whose credit note the look-up could not find
			const failedAttempt = rows.some(
				(r) => r.status === 'credit_queued' && /processing return /.test(String(r.lastError ?? '')),
			);
			early.push(id);
			if (failedAttempt) c.creditNoteAfterFailure++;
			else {
				c.creditNoteEarly++;
				if (c.examples.length < 10)
					c.examples.push(
						`${id}: credit note RB-${id} exists while the return is credit_queued (rows [id, status, attempts, lastError]: ${JSON.stringify(
							rows.map((r) => [r.id, r.status, r.attempts, r.lastError]),
						)})`,
					);
			}
		}
		const exp = expected.get(id);
		const missing =
			exp && exp.outcome !== 'exception' ? exp.moves.filter((m) => !moved.has(m.reference)) : [];
		if (missing.length) {
			c.movesMissing++;
			if (c.examples.length < 10)
				c.examples.push(
					`${id}: credit_queued, stock not moved: ${missing.map((m) => m.reference).join(', ')}`,
				);
		}
	}
	return early;
}

/**
 * What the last posting run did with a return whose credit note exists while its row is still
 * credit_queued (logged once a return, so a failing CI run says why): each node's items that name
 * the return (the inbox rows carry it too), and the Khaos calls naming it.
 */
async function logPostingRun(
	api: ApiClient,
	executionId: string | null,
	id: string,
	khaos: KhaosSandbox,
	snapshot: ReturnType<KhaosSandbox['state']['snapshot']>,
	log: Log,
): Promise<void> {
	// the Khaos calls that name the return (its import by associated ref, its processing by return code)
	const codes = snapshot.returns
		.filter((r) => r.associatedRef.toUpperCase() === `RB-${id}`.toUpperCase())
		.map((r) => r.returnCode);
	const calls = khaos.calls
		.since(0)
		.filter((c) => [`RB-${id}`, ...codes].some((k) => (c.detail ?? '').includes(k)))
		.map((c) => `${c.at} ${c.method} ${c.outcome} ${c.status ?? ''} ${c.durationMs} ms`);
	log(`[soak] Khaos calls naming return ${id} (${codes.join(', ')}):\n  ${calls.join('\n  ')}`);
	if (!executionId) return;
	try {
		const full = await api.getExecution(executionId, true);
		const runData = (full?.data?.resultData?.runData ?? {}) as Record<string, any[]>;
		const out: string[] = [];
		for (const [node, runs] of Object.entries(runData))
			for (const run of runs ?? [])
				((run?.data?.main ?? []) as any[][]).forEach((items, k) => {
					for (const item of items ?? []) {
						const j = item?.json ?? {};
						if (String(j.returnId ?? '') === id)
							out.push(
								`${node}[${k}] ${JSON.stringify({ status: j.status, kind: j.kind, creditStatus: j.creditStatus, message: j.message, id: j.id, paired: item.pairedItem })}`.slice(
									0,
									400,
								),
							);
					}
				});
		log(
			`[soak] posting run ${executionId} (status ${full?.status}, ${full?.startedAt} – ${full?.stoppedAt}) and return ${id}:\n  ${out.join('\n  ') || '(no item names it)'}`,
		);
	} catch (error) {
		log(
			`[soak] posting run ${executionId}: ${error instanceof Error ? error.message : String(error)}`,
		);
	}
}

export async function runSoak(
	o: SoakOptions,
	log: Log = (l) => process.stderr.write(`${l}\n`),
): Promise<SoakResult> {
	const started = Date.now();
	const scenario: Scenario = generateScenario(o.returns, o.seed);
	let runtime: Runtime;
	let userFolder = '';
	let installed: InstalledPackage | undefined;
	let n8n: Topology | undefined;
	let khaos: KhaosSandbox | undefined;
	let rebound: ReboundSandbox | undefined;
	let stopFaultTimer = false;
	try {
		runtime = await ensureRuntime({ log });
		userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-soak-'));
		installed = await installPackage(userFolder, { skipBuild: !o.build, log });
		n8n = await startTopology({
			topology: o.topology,
			runtime,
			userFolder,
			tarball: installed.tarball,
			port: await freePort(),
			log,
		});
		const owner = await setupOwner(n8n.baseUrl);
		const api = await createApiKey(n8n.baseUrl, owner, `soak-${Date.now()}`);
		const loadErrors = packageLoadErrors(n8n.logs());
		if (loadErrors.length)
			throw new Error(`the package did not load in n8n: ${loadErrors.join('; ')}`);

		khaos = await startKhaosSandbox({ port: 0, fixture: khaosFixture(scenario), seed: o.seed });
		rebound = await startReboundSandbox({ port: 0 });
		for (const r of scenario.returns) rebound.state.add(reboundInput(r));
		const expected = new Map<string, Expected>();
		for (const r of scenario.returns)
			expected.set(
				String(r.returnId),
				expectedOutcome(r, normalised(rebound.state.wire(rebound.state.get(r.returnId), false))),
			);

		const client = `Soak ${randomBytes(3).toString('hex')}`;
		const webhookId = `soak-${randomBytes(8).toString('hex')}`;
		const valuesFile = path.join(userFolder, 'values.json');
		const values = sandboxClientValues({
			client,
			khaosUrl: khaos.url,
			reboundUrl: rebound.url,
			webhookId,
			processEverySeconds: o.processEverySeconds,
			batchSize: o.batchSize,
			staleAfterMinutes: 1,
			maxTransientAttempts: 10,
			khaos: { timeoutSeconds: 2, maxAttempts: 5 },
			reboundApiKeyEnv: 'SOAK_REBOUND_API_KEY',
			reboundSecretEnv: 'SOAK_REBOUND_WEBHOOK_SECRET',
			batchCreditNotes: o.financeBatched,
		});
		// finance batched: a posting run every minute (the example posts once a working day)
		if (o.financeBatched) values.schedules.creditPostingCron = '* * * * *';
		fs.writeFileSync(valuesFile, JSON.stringify(values));
		const importLog: string[] = [];
		const report: ImportReport = await runImport(
			{
				client,
				valuesFile,
				n8nUrl: n8n.baseUrl,
				apiKeyEnv: 'SOAK_N8N_API_KEY',
				dryRun: false,
				templatesDir: WORKFLOWS_DIR,
			},
			{
				env: {
					SOAK_N8N_API_KEY: api.apiKey,
					SOAK_REBOUND_API_KEY: SANDBOX_REBOUND.apiKey,
					SOAK_REBOUND_WEBHOOK_SECRET: SANDBOX_REBOUND.webhookSecret,
				},
				log: (l) => importLog.push(l),
			},
		);
		if (report.exitCode !== 0)
			throw new Error(`template import failed (${report.exitCode}): ${importLog.join('\n')}`);
		const tableId = (key: string) => report.tables.find((t) => t.key === key)?.id as string;
		const intakeId = report.workflows.find((w) => w.file === 'returns-intake')?.id as string;
		const postingId = report.workflows.find((w) => w.file === 'credit-posting')?.id as string;
		if (o.financeBatched && (!postingId || !tableId('reviews')))
			throw new Error('the import made no credit posting workflow or credit reviews table');
		const webhookUrl = () => `${n8n!.webhookBaseUrl}/webhook/${webhookId}/rebound`;
		const stockBefore = stockMap(khaos);

		// ---------------------------------------------------------------- Khaos faults and the call log
		const faultsInjected: Record<string, number> = {};
		let khaosCalls = 0;
		let callSeq = 0;
		const readCalls = () => {
			for (const c of khaos!.calls.since(callSeq)) {
				callSeq = Math.max(callSeq, c.seq);
				khaosCalls++;
				if (c.outcome.startsWith('injected:'))
					faultsInjected[c.outcome.slice(9)] = (faultsInjected[c.outcome.slice(9)] ?? 0) + 1;
			}
		};
		callSeq = khaos.calls.lastSeq;
		if (o.faults) {
			khaos.faults.configure({
				seed: o.seed,
				holdMs: 3000,
				rules: {
					'*': {
						rate500: 0.03,
						rate429: 0.03,
						retryAfterSeconds: 1,
						rateTimeout: 0.02,
						rateDrop: 0.02,
					},
				},
			});
		}
		const rnd = mulberry32(o.seed ^ 0x5eed);
		const background = (async () => {
			// every second: read the call log (it keeps the last 10,000 calls); every 15 s: one answer lost after the work
			for (let tick = 0; !stopFaultTimer && tick < 24 * 3600; tick++) {
				readCalls();
				if (o.faults && tick % 15 === 14) {
					const method = ['ImportStockAdjustments', 'ImportReturns', 'ProcessReturn'][
						Math.floor(rnd() * 3)
					];
					khaos!.faults.merge({ rules: { [method]: { next: { count: 1, kind: 'dropAfter' } } } });
				}
				await sleep(1000);
			}
		})();

		// ---------------------------------------------------------------- deliveries
		const deliveries: Delivery[] = [];
		let redeliveries = 0;
		let down = false;
		const secret = SANDBOX_REBOUND.webhookSecret;
		const post = async (d: Delivery): Promise<void> => {
			const deadline = Date.now() + 8 * 60_000;
			for (let attempt = 1; attempt <= 80; attempt++) {
				d.attempts = attempt;
				if (attempt > 1) redeliveries++;
				const headers = signWebhookBody(
					d.body,
					d.kind === 'badsig' ? `${secret}-wrong` : secret,
					Date.now() / 1000,
					DEFAULT_WEBHOOK_SETTINGS,
				);
				try {
					const res = await fetch(webhookUrl(), {
						method: 'POST',
						headers: { 'content-type': 'application/json', ...headers },
						body: d.body,
						signal: AbortSignal.timeout(30_000),
					});
					await res.text();
					d.status = res.status;
					if (res.status >= 200 && res.status < 300) return;
					if (d.kind === 'badsig' && res.status === 401) return;
				} catch {
					d.status = null;
				}
				if (Date.now() > deadline) return;
				await sleep(down ? 1000 : Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
			}
		};
		const inflight = new Set<Promise<void>>();
		const launch = (d: Delivery, delayMs = 0) => {
			deliveries.push(d);
			const p = (async () => {
				if (delayMs) await sleep(delayMs);
				await post(d);
			})();
			inflight.add(p);
			void p.finally(() => inflight.delete(p));
			return p;
		};
		const kills: SoakResult['kills'] = [];
		/** the latest kill: crashed intake executions retried after it are counted there */
		let kill: SoakResult['kills'][number] | undefined;
		const killAt = o.killTargets.map((_, k) =>
			Math.ceil((scenario.returns.length * (k + 1)) / (o.killTargets.length + 1)),
		);
		const crashedDone = new Set<string>();
		/** redeliveries of an event already queued, and older events of a return already queued: sent in the late phase */
		const later: Delivery[] = [];
		const t0 = Date.now();
		for (let i = 0; i < scenario.returns.length; i++) {
			const r = scenario.returns[i];
			const due = t0 + (i * 1000) / o.rate;
			if (due > Date.now()) await sleep(due - Date.now());
			for (let guard = 0; inflight.size >= 64 && guard < 600; guard++) await sleep(100);
			const eventId = `evt_soak_${r.returnId}`;
			const body = eventBody(rebound, r, eventId, 10);
			launch({ kind: 'main', returnId: r.returnId, eventId, body, status: null, attempts: 0 });
			if (r.duplicate === 'concurrent')
				launch({
					kind: 'duplicate',
					returnId: r.returnId,
					eventId,
					body,
					status: null,
					attempts: 0,
				});
			if (r.duplicate === 'later')
				later.push({
					kind: 'duplicate',
					returnId: r.returnId,
					eventId,
					body,
					status: null,
					attempts: 0,
					late: true,
				});
			// the older event arrives after the newer one is in the inbox (see the late phase below)
			if (r.outOfOrder)
				later.push({
					kind: 'stale',
					returnId: r.returnId,
					eventId: `evt_soak_${r.returnId}_older`,
					body: staleBody(rebound, r, `evt_soak_${r.returnId}_older`),
					status: null,
					attempts: 0,
				});
			if (r.badSignature)
				launch({
					kind: 'badsig',
					returnId: r.returnId,
					eventId: `evt_soak_${r.returnId}_forged`,
					body: eventBody(rebound, r, `evt_soak_${r.returnId}_forged`, 11),
					status: null,
					attempts: 0,
				});

			const killIndex = o.kill ? killAt.indexOf(i + 1) : -1;
			if (killIndex >= 0 && kills.length === killIndex) {
				const target = o.killTargets[killIndex];
				const processorRun =
					target === 'worker' ? await waitForProcessorRun(api, tableId('inbox'), log) : '';
				// the run and the runs that started it (read once), then the worker whose log started one
				const chain = processorRun ? await chainOfRun(api, processorRun) : [];
				const running = n8n;
				const workerOfRun = () =>
					chain.map((id) => running.workerRunning(id)).find((w) => w !== undefined);
				let victim = workerOfRun();
				// the execution reads running a moment before its worker's log line arrives (bounded)
				for (let w = 0; processorRun && !victim && w < 100; w++) {
					await sleep(100);
					victim = workerOfRun();
				}
				if (processorRun && !victim)
					log(
						`[soak] processor execution ${processorRun} reads running, but no worker's log says it started it (${n8n.workers
							.map(
								(w) =>
									`${w.label}: ${w
										.logs()
										.split('\n')
										.filter((l) => l.includes('started execution'))
										.slice(-2)
										.join(' | ')}`,
							)
							.join('; ')})`,
					);
				log(
					`[soak] SIGKILL ${victim?.label ?? target} after ${i + 1} returns sent (${inflight.size} deliveries in flight)`,
				);
				const killedAt = Date.now();
				down = target === 'n8n' || target === 'webhook';
				await killAndRestart(n8n, target, victim);
				down = false;
				kill = {
					target,
					victim: victim
						? `${victim.label} (running processor execution ${processorRun}, rows claimed)`
						: target === 'worker'
							? 'worker 1 (no processor run found on a worker)'
							: target,
					atSent: i + 1,
					at: killedAt,
					downMs: Date.now() - killedAt,
					crashedIntakeRetried: 0,
				};
				kills.push(kill);
				await sleep(5000);
				kill.crashedIntakeRetried += await retryCrashedIntake(
					api,
					intakeId,
					killedAt - 10 * 60_000,
					crashedDone,
					log,
				);
				log(
					`[soak] ${target} back after ${kill.downMs} ms; crashed intake executions retried: ${kill.crashedIntakeRetried}`,
				);
			}
			if ((i + 1) % 250 === 0)
				log(
					`[soak] ${i + 1}/${scenario.returns.length} returns sent, ${inflight.size} in flight, ${khaosCalls} Khaos calls`,
				);
		}
		for (let guard = 0; inflight.size > 0 && guard < 12 * 60; guard++) await sleep(1000);
		// late phase: once the intake's durable record (the return events, written after each inbox
		// insert) holds an event of every return sent (bounded wait), ReBound's late redeliveries of the
		// same events and older events of the same returns (out of order)
		const sentIds = new Set(scenario.returns.map((r) => String(r.returnId)));
		const queuedDeadline = Date.now() + 5 * 60_000;
		while (Date.now() < queuedDeadline) {
			const seen = new Set(
				(await tableRows(api, tableId('events'))).map((row) => String(row.returnId)),
			);
			const missing = [...sentIds].filter((id) => !seen.has(id)).length;
			if (missing === 0) break;
			if (kill)
				kill.crashedIntakeRetried += await retryCrashedIntake(
					api,
					intakeId,
					kills[0].at - 2 * 60_000,
					crashedDone,
					log,
				);
			await sleep(10_000);
		}
		// each event's inbox rows before the late phase: an intake run that crashed between its inbox
		// insert and its events insert, retried, queued its events twice (applied once downstream); a
		// late redelivery is judged by the rows it added
		const rowsBeforeLate = new Map<string, number>();
		for (const row of await tableRows(api, tableId('inbox')))
			rowsBeforeLate.set(String(row.eventId), (rowsBeforeLate.get(String(row.eventId)) ?? 0) + 1);
		log(
			`[soak] main deliveries done in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${later.length} late redeliveries and older events`,
		);
		for (const d of later.sort(() => rnd() - 0.5)) {
			for (let guard = 0; inflight.size >= 16 && guard < 600; guard++) await sleep(100);
			launch(d);
			await sleep(1000 / o.rate);
		}
		for (let guard = 0; inflight.size > 0 && guard < 12 * 60; guard++) await sleep(1000);
		log(
			`[soak] all deliveries done in ${((Date.now() - t0) / 1000).toFixed(0)} s; draining the inbox`,
		);

		// ---------------------------------------------------------------- drain (bounded)
		const drainDeadline = Date.now() + Math.max(5 * 60_000, o.returns * 500);
		let drained = false;
		let lastKey = '';
		let lastChange = Date.now();
		let inbox: Row[] = [];
		const creditQueued: NonNullable<SoakResult['creditQueued']> | null = o.financeBatched
			? {
					samples: 0,
					samplesWithQueued: 0,
					returnsSeen: 0,
					creditNoteEarly: 0,
					creditNoteAfterFailure: 0,
					movesMissing: 0,
					examples: [],
				}
			: null;
		const postingLogged = new Set<string>();
		while (Date.now() < drainDeadline) {
			// finance batched: the Khaos state and the inbox, both read while no posting run is in progress
			const before = creditQueued ? await postingRuns(api, postingId) : null;
			const snapshot = creditQueued ? khaos.state.snapshot() : null;
			inbox = await tableRows(api, tableId('inbox'));
			if (creditQueued && before && snapshot) {
				const after = await postingRuns(api, postingId);
				if (!before.running && !after.running && before.latest === after.latest)
					for (const id of sampleCreditQueued(creditQueued, inbox, snapshot, expected)) {
						if (postingLogged.has(id)) continue;
						postingLogged.add(id);
						await logPostingRun(api, after.latest, id, khaos, snapshot, log);
					}
			}
			const by: Record<string, number> = {};
			for (const row of inbox) by[row.status] = (by[row.status] ?? 0) + 1;
			const pending = (by.queued ?? 0) + (by.processing ?? 0) + (by.credit_queued ?? 0);
			const seen = new Set(inbox.map((row) => String(row.returnId)));
			const missing = [...sentIds].filter((id) => !seen.has(id)).length;
			if (pending === 0 && missing === 0) {
				drained = true;
				break;
			}
			const key = JSON.stringify(by) + missing;
			if (key !== lastKey) {
				lastKey = key;
				lastChange = Date.now();
				log(`[soak] inbox ${JSON.stringify(by)}; returns without a row: ${missing}`);
			}
			if (kill && missing > 0 && pending === 0 && Date.now() - lastChange > 20_000)
				kill.crashedIntakeRetried += await retryCrashedIntake(
					api,
					intakeId,
					kills[0].at - 2 * 60_000,
					crashedDone,
					log,
				);
			// stalled rows are requeued after 1 min; 4 min without any change is a stall
			if (Date.now() - lastChange > 4 * 60_000) break;
			await sleep(3000);
		}
		// ---------------------------------------------------------------- finance decisions (finance batched, bounded)
		const decisions = new Map<string, FinanceDecision>();
		let finance: SoakResult['finance'] = null;
		if (o.financeBatched && drained) {
			const pendingReviews = (await tableRows(api, tableId('reviews')))
				.filter((row) => row.status === 'pending')
				.sort((a, b) => Number(a.returnId) - Number(b.returnId));
			const decidedAt = Date.now();
			for (const [i, row] of pendingReviews.entries()) {
				// half released (held lines included), the others rejected
				const decision: FinanceDecision = i % 2 === 0 ? 'release' : 'reject';
				if (await decideReview(api, tableId('reviews'), row.id, decision))
					decisions.set(String(row.returnId), decision);
				else log(`[soak] review row ${row.id} (return ${row.returnId}) was no longer pending`);
			}
			log(
				`[soak] finance: ${decisions.size} pending review(s) decided (${[...decisions.values()].filter((d) => d === 'release').length} release, the others reject); waiting for the finance review workflow`,
			);
			// the finance review runs every minute: bounded wait until no decided review is pending and
			// none of their inbox rows is still credit_review
			const settleDeadline = Date.now() + Math.max(5 * 60_000, decisions.size * 2000);
			let settled = decisions.size === 0;
			let lastSeen = '';
			while (!settled && Date.now() < settleDeadline) {
				await sleep(5000);
				const reviews = await tableRows(api, tableId('reviews'));
				inbox = await tableRows(api, tableId('inbox'));
				const open = reviews.filter(
					(row) => decisions.has(String(row.returnId)) && row.status === 'pending',
				).length;
				const waiting = inbox.filter(
					(row) => decisions.has(String(row.returnId)) && row.status === 'credit_review',
				).length;
				settled = open === 0 && waiting === 0;
				const seen = `${open}/${waiting}`;
				if (seen !== lastSeen) {
					lastSeen = seen;
					log(
						`[soak] finance review: ${open} decided review(s) still pending, ${waiting} inbox row(s) credit_review`,
					);
				}
			}
			finance = {
				decided: decisions.size,
				release: [...decisions.values()].filter((d) => d === 'release').length,
				reject: [...decisions.values()].filter((d) => d === 'reject').length,
				settled,
				settleMs: Date.now() - decidedAt,
			};
			log(
				`[soak] finance review ${settled ? 'settled' : 'NOT settled (bounded wait ended)'} after ${(finance.settleMs / 1000).toFixed(0)} s`,
			);
		}
		stopFaultTimer = true;
		await background;
		readCalls();

		// ---------------------------------------------------------------- ledger
		inbox = await tableRows(api, tableId('inbox'));
		const exceptions = await tableRows(api, tableId('exceptions'));
		const reviews = await tableRows(api, tableId('reviews'));
		const snap = khaos.state.snapshot();
		const ledger = checkLedger({
			expected,
			adjustments: snap.adjustments,
			creditNotes: snap.creditNotes,
			stockBefore,
			stockAfter: stockMap(khaos),
			exceptions: exceptions.map((e) => ({
				returnId: String(e.returnId),
				kind: String(e.kind),
				status: String(e.status),
			})),
			pending: new Set(
				inbox
					.filter((row) => ['queued', 'processing', 'credit_queued'].includes(String(row.status)))
					.map((row) => String(row.returnId)),
			),
			inbox: inbox.map((row) => ({
				returnId: String(row.returnId),
				status: String(row.status),
				eventId: String(row.eventId),
			})),
			reviews: reviews.map((row) => ({
				returnId: String(row.returnId),
				status: String(row.status),
				decision: String(row.decision ?? ''),
				grossPence: row.grossPence ?? null,
				withoutHeldGrossPence: row.withoutHeldGrossPence ?? null,
				creditNoteRef: String(row.creditNoteRef ?? ''),
			})),
			decisions,
		});
		const rowsByEvent = new Map<string, number>();
		for (const row of inbox)
			rowsByEvent.set(String(row.eventId), (rowsByEvent.get(String(row.eventId)) ?? 0) + 1);
		const dups = deliveries.filter((d) => d.kind === 'duplicate');
		const stale = deliveries.filter((d) => d.kind === 'stale');
		const forged = deliveries.filter((d) => d.kind === 'badsig');
		const expectedApplied = [...expected.values()].filter((e) => e.outcome === 'applied').length;
		const expectedHeld = [...expected.values()].filter((e) => e.outcome === 'held').length;
		return {
			options: o,
			sent: scenario.returns.length,
			applied: ledger.applied,
			held: ledger.held,
			released: ledger.released,
			rejected: ledger.rejected,
			excepted: ledger.excepted,
			exceptedByKind: ledger.exceptedByKind,
			noticesByKind: ledger.noticesByKind,
			expectedApplied,
			expectedHeld,
			expectedExcepted: expected.size - expectedApplied - expectedHeld,
			finance,
			creditQueued,
			duplicatesSent: dups.length,
			duplicatesSuppressed: dups.filter((d) => (rowsByEvent.get(d.eventId) ?? 0) <= 1).length,
			duplicateRows: dups.filter((d) => (rowsByEvent.get(d.eventId) ?? 0) > 1).length,
			lateDuplicatesSent: dups.filter((d) => d.late).length,
			lateDuplicatesSuppressed: dups.filter(
				(d) =>
					d.late &&
					(rowsByEvent.get(d.eventId) ?? 0) <= Math.max(1, rowsBeforeLate.get(d.eventId) ?? 0),
			).length,
			outOfOrderSent: stale.length,
			outOfOrderDropped: stale.filter((d) => !rowsByEvent.has(d.eventId)).length,
			badSignatureSent: forged.length,
			badSignatureRejected: forged.filter((d) => d.status === 401 && !rowsByEvent.has(d.eventId))
				.length,
			redeliveries,
			khaosCalls,
			faultsInjected,
			retries: Object.values(faultsInjected).reduce((a, b) => a + b, 0),
			rowReruns: inbox.reduce((s, row) => s + Math.max(0, Number(row.attempts || 0) - 1), 0),
			requeues: inbox.reduce((s, row) => s + Number(row.requeues || 0), 0),
			kills,
			topology: n8n.describe(),
			drained,
			lost: ledger.lost,
			doubled: ledger.doubled,
			pending: ledger.pending,
			wrong: ledger.wrong,
			stockDrift: ledger.stockDrift,
			silentEnds: ledger.silentEnds.slice(0, 50),
			// the rarest verdicts first (wrong, doubled), so the 50 kept are the telling ones
			problems: [...ledger.problems]
				.sort(
					(a, b) =>
						['wrong', 'doubled', 'lost', 'pending'].indexOf(a.verdict) -
						['wrong', 'doubled', 'lost', 'pending'].indexOf(b.verdict),
				)
				.slice(0, 50)
				.map((p) => ({
					...p,
					detail: `${p.detail}; inbox ${JSON.stringify(inbox.filter((row) => String(row.returnId) === p.returnId).map((row) => [row.id, row.eventId, row.sequence, row.status, row.attempts, String(row.lastError ?? '').slice(0, 120)]))}; reviews ${JSON.stringify(reviews.filter((row) => String(row.returnId) === p.returnId).map((row) => [row.id, row.status, row.decision, row.grossPence, row.withoutHeldGrossPence, String(row.lastError ?? '').slice(0, 120)]))}`,
				})),
			wallMs: Date.now() - started,
			machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, soak on Node ${process.version}, n8n ${runtime.n8nVersion} on Node 24`,
			date: new Date().toISOString(),
		};
	} finally {
		stopFaultTimer = true;
		if (n8n) await n8n.stop().catch(() => undefined);
		if (khaos) await khaos.close().catch(() => undefined);
		if (rebound) await rebound.close().catch(() => undefined);
		if (userFolder) fs.rmSync(userFolder, { recursive: true, force: true });
		if (installed) fs.rmSync(path.dirname(installed.tarball), { recursive: true, force: true });
	}
}

/** SIGKILL the target and start it again (the same ports, folders and data). */
async function killAndRestart(
	t: Topology,
	target: KillTarget,
	worker?: N8nInstance,
): Promise<void> {
	switch (target) {
		case 'n8n':
			await t.kill('SIGKILL');
			await t.restart();
			return;
		case 'main':
			await t.main.kill('SIGKILL');
			await t.restartProcess(t.main);
			return;
		case 'worker': {
			const w = worker ?? t.workers[0];
			await w.kill('SIGKILL');
			await t.restartProcess(w);
			return;
		}
		case 'webhook':
			await t.webhooks[0].kill('SIGKILL');
			await t.restartProcess(t.webhooks[0]);
			return;
		case 'redis':
			await t.redis!.kill('SIGKILL');
			await sleep(2_000);
			await t.redis!.start();
			return;
		case 'postgres':
			await t.postgres!.kill('SIGKILL');
			await sleep(2_000);
			await t.postgres!.start();
			return;
	}
}

/**
 * A processor execution and the runs that started it, newest first: a run started by the run before
 * it (Start the Next Run) runs inline in its caller's process, and no worker logs it as a job, so
 * the worker running it is the one that started the first run of its chain. Found through each
 * run's parentExecution (successful runs are saved here); bounded at 200 links, more than a soak's
 * chains.
 */
async function chainOfRun(api: ApiClient, executionId: string): Promise<string[]> {
	const chain = [executionId];
	while (chain.length < 200) {
		const run = await api.getExecution(chain[chain.length - 1], true).catch(() => null);
		const parent = run?.data?.parentExecution?.executionId;
		if (!parent) break;
		chain.push(String(parent));
	}
	return chain;
}

/**
 * Waits (bounded, 60 s) until a processor run holds claimed inbox rows (`processing`, claimed by its
 * execution id), so a worker's death lands inside a run that has work in hand; that execution's id.
 */
async function waitForProcessorRun(
	api: ApiClient,
	inboxTableId: string,
	log: Log,
): Promise<string> {
	const deadline = Date.now() + 60_000;
	const filter = JSON.stringify({
		type: 'and',
		filters: [{ columnName: 'status', condition: 'eq', value: 'processing' }],
	});
	while (Date.now() < deadline) {
		const res = await api
			.request(
				'GET',
				`/data-tables/${encodeURIComponent(inboxTableId)}/rows?limit=1&filter=${encodeURIComponent(filter)}`,
			)
			.catch(() => undefined);
		const claim = (res?.data?.[0] as Row | undefined)?.claim;
		if (claim) return String(claim);
		await sleep(100);
	}
	log('[soak] no processor run seen holding rows within 60 s; killing worker 1 anyway');
	return '';
}

export function soakFailed(r: SoakResult): boolean {
	return (
		r.lost > 0 ||
		r.doubled > 0 ||
		r.wrong > 0 ||
		(r.pending ?? 0) > 0 ||
		r.stockDrift.length > 0 ||
		(r.silentEnds?.length ?? 0) > 0 ||
		!r.drained ||
		(r.finance ? !r.finance.settled : false) ||
		(r.creditQueued ? r.creditQueued.creditNoteEarly > 0 || r.creditQueued.movesMissing > 0 : false)
	);
}

export function renderTable(r: SoakResult): string {
	const kinds = Object.entries(r.exceptedByKind)
		.sort()
		.map(([k, n]) => `${k} ${n}`)
		.join(', ');
	const notices = Object.entries(r.noticesByKind ?? {})
		.sort()
		.map(([k, n]) => `${k} ${n}`)
		.join(', ');
	const faults = Object.entries(r.faultsInjected)
		.sort()
		.map(([k, n]) => `${k} ${n}`)
		.join(', ');
	const rows: Array<[string, string]> = [
		[
			'returns sent',
			`${r.sent} (seed ${r.options.seed}, ${r.options.rate}/s${r.options.financeBatched ? ', finance batched: credit posting every minute' : ''})`,
		],
		['applied exactly once', `${r.applied} (oracle: ${r.expectedApplied})`],
		[
			'held for finance review',
			`${r.held} (oracle: ${r.expectedHeld}): ${r.finance ? `released ${r.released} (one credit note each, held lines included, inbox done), rejected ${r.rejected} (none, inbox ${REJECTED_INBOX_STATUS})` : 'stock moved, no credit note, review pending, inbox credit_review'}`,
		],
		['excepted, by type', `${r.excepted} (oracle: ${r.expectedExcepted}): ${kinds || 'none'}`],
		['returns with notices (not exceptions)', notices || 'none'],
		[
			'duplicate deliveries suppressed',
			`${r.duplicatesSuppressed} of ${r.duplicatesSent} at the intake (late: ${r.lateDuplicatesSuppressed} of ${r.lateDuplicatesSent}); ${r.duplicateRows} concurrent copies got a second inbox row and were applied once downstream`,
		],
		['out-of-order deliveries dropped', `${r.outOfOrderDropped} of ${r.outOfOrderSent}`],
		['bad signatures rejected (401)', `${r.badSignatureRejected} of ${r.badSignatureSent}`],
		['webhook redeliveries (no 2xx)', String(r.redeliveries)],
		['Khaos calls / retries made', `${r.khaosCalls} / ${r.retries} (${faults || 'no faults'})`],
		['inbox row re-runs / stall requeues', `${r.rowReruns} / ${r.requeues}`],
		[
			'SIGKILL',
			r.kills.length
				? r.kills
						.map(
							(k) =>
								`${k.victim} after ${k.atSent} returns, down ${(k.downMs / 1000).toFixed(1)} s, ${k.crashedIntakeRetried} crashed or failed intake execution(s) retried`,
						)
						.join('; ')
				: 'no',
		],
		['inbox drained', r.drained ? 'yes' : 'NO (bounded wait ended)'],
		...(r.creditQueued
			? ([
					[
						'credit notes of returns still credit_queued',
						`${r.creditQueued.creditNoteEarly} (${r.creditQueued.samples} samples between posting runs, ${r.creditQueued.samplesWithQueued} with returns queued, ${r.creditQueued.returnsSeen} return sightings); after a failed posting attempt: ${r.creditQueued.creditNoteAfterFailure}; stock not moved: ${r.creditQueued.movesMissing}`,
					],
				] as Array<[string, string]>)
			: []),
		...(r.finance
			? ([
					[
						'finance decisions (public API)',
						`${r.finance.decided} (release ${r.finance.release}, reject ${r.finance.reject}); finance review ${r.finance.settled ? 'settled' : 'NOT settled'} in ${(r.finance.settleMs / 1000).toFixed(0)} s`,
					],
				] as Array<[string, string]>)
			: []),
		['lost', String(r.lost)],
		['doubled', String(r.doubled)],
		['unfinished when the wait ended', String(r.pending ?? 0)],
		['wrong (values, half-applied, false alarm)', String(r.wrong)],
		['stock drift (moves outside references)', String(r.stockDrift.length)],
		[
			'inbox rows done / exception without effects / exception row',
			String(r.silentEnds?.length ?? 0),
		],
		['wall time', `${(r.wallMs / 1000).toFixed(0)} s`],
	];
	const w = Math.max(...rows.map(([k]) => k.length));
	return [
		'| measure | result |',
		'|---|---|',
		...rows.map(([k, v]) => `| ${k.padEnd(w)} | ${v} |`),
	].join('\n');
}

async function main(argv: string[]): Promise<number> {
	let o: SoakOptions;
	try {
		o = parseSoakArgs(argv);
	} catch (error) {
		process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
		return 2;
	}
	const stop = () => process.exit(130);
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	const r = await runSoak(o);
	if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
	else {
		process.stdout.write(`\n${renderTable(r)}\n\n${r.date} · ${r.machine}\n`);
		for (const p of r.problems.slice(0, 20))
			process.stdout.write(`  ${p.verdict} ${p.returnId}: ${p.detail}\n`);
		for (const d of r.stockDrift.slice(0, 10))
			process.stdout.write(`  stock drift ${d.key}: expected ${d.expected}, actual ${d.actual}\n`);
		for (const e of (r.silentEnds ?? []).slice(0, 10))
			process.stdout.write(`  silent end ${e.returnId} (${e.eventId}): ${e.detail}\n`);
		for (const e of r.creditQueued?.examples ?? []) process.stdout.write(`  credit_queued ${e}\n`);
	}
	return soakFailed(r) ? 1 : 0;
}

if (require.main === module) {
	main(process.argv.slice(2)).then(
		(code) => process.exit(code),
		(error) => {
			process.stderr.write(
				`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`,
			);
			process.exit(1);
		},
	);
}
