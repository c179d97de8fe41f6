/**
 * npm run bench [-- --quick] [--khaos-latency 40] [--rebound-latency 20] [--only package|baseline] [--json] [--build]
 *
 * The package (the imported returns-intake + returns-processor templates) and
 * the baseline (bench/baseline-workflow.json: Webhook, Code, HTTP Request) in
 * the same real n8n 2.40.7, each against its own Khaos and ReBound sandbox
 * (in this process, 127.0.0.1, a set latency per call). Signed ReBound
 * `return.processed` events are POSTed to each variant's webhook as a burst
 * or at an offered rate; a return is done when Khaos has its credit note
 * (the sandbox's return processedAt: ProcessReturn creates the credit note).
 * Every load loop is bounded in count and time. Results: Markdown to
 * bench/results/<date>.md (quick: <date>-quick.md) and stdout (--json: JSON).
 * Method and findings: docs/benchmark.md.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureRuntime } from '../scripts/n8n/runtime';
import {
	createApiKey,
	freePort,
	packageLoadErrors,
	setupOwner,
	startN8n,
	type ApiClient,
	type N8nInstance,
} from '../scripts/n8n/instance';
import { installPackage } from '../scripts/n8n/package';
import { runImport } from '../scripts/templates/import';
import { WORKFLOWS_DIR } from '../scripts/templates/build';
import { startKhaosSandbox, type KhaosSandbox } from '../sandbox/khaos/server';
import { startReboundSandbox, type ReboundSandbox } from '../sandbox/rebound/server';
import { DEFAULT_WEBHOOK_SETTINGS, signWebhookBody } from '../transports/rebound/webhook';
import { benchCreditRef, benchEvent, benchKhaosFixture } from './fixture';
import { loadBaselineWorkflow } from './baselineWorkflow';
import {
	latencies,
	renderReport,
	summarize,
	throughput,
	type PhaseResult,
	type Variant,
} from './stats';

// ------------------------------------------------------------------ options

export interface BenchOptions {
	quick: boolean;
	khaosLatencyMs: number;
	reboundLatencyMs: number;
	only: Variant | null;
	json: boolean;
	build: boolean;
	processEverySeconds: number;
	batchSize: number;
	/** Save successful runs of both variants (per-node timings, execution counts); default: neither saves them (the package's default). */
	keepExecutions: boolean;
	/** The package's ReBound Trigger batch window, ms (0: one execution per delivery). */
	batchWindowMs: number;
	/** Write n8n's V8 CPU profiles (.cpuprofile, written when n8n stops) into this folder. */
	cpuProfDir: string | null;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
	const o: BenchOptions = {
		quick: false,
		khaosLatencyMs: 40,
		reboundLatencyMs: 20,
		only: null,
		json: false,
		build: false,
		processEverySeconds: 1,
		batchSize: 50,
		keepExecutions: false,
		batchWindowMs: 50,
		cpuProfDir: null,
	};
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i].includes('=')
			? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
			: [argv[i], undefined];
		const num = (min: number, max: number) => {
			const v = Number(inline ?? argv[++i]);
			if (!Number.isInteger(v) || v < min || v > max)
				throw new Error(`${flag} needs a whole number from ${min} to ${max}`);
			return v;
		};
		switch (flag) {
			case '--quick':
				o.quick = true;
				break;
			case '--json':
				o.json = true;
				break;
			case '--build':
				o.build = true;
				break;
			case '--khaos-latency':
				o.khaosLatencyMs = num(0, 5000);
				break;
			case '--rebound-latency':
				o.reboundLatencyMs = num(0, 5000);
				break;
			case '--process-every':
				o.processEverySeconds = num(1, 3600);
				break;
			case '--keep-executions':
				o.keepExecutions = true;
				break;
			case '--batch-window':
				o.batchWindowMs = num(0, 5000);
				break;
			case '--cpu-prof': {
				const dir = inline ?? argv[++i];
				if (!dir || dir.startsWith('--')) throw new Error('--cpu-prof needs a folder');
				o.cpuProfDir = path.resolve(dir);
				break;
			}
			case '--batch-size':
				o.batchSize = num(1, 1000);
				break;
			case '--only': {
				const v = inline ?? argv[++i];
				if (v !== 'package' && v !== 'baseline')
					throw new Error('--only needs package or baseline');
				o.only = v;
				break;
			}
			default:
				throw new Error(
					`Unknown option ${argv[i]}. Usage: npm run bench -- [--quick] [--khaos-latency ms] [--rebound-latency ms] [--only package|baseline] [--json] [--build] [--process-every s] [--batch-size n] [--batch-window ms] [--keep-executions] [--cpu-prof dir]`,
				);
		}
	}
	return o;
}

export interface PhasePlan {
	phase: string;
	returns: number;
	lines: number;
	/** returns/s; null = burst */
	rate: number | null;
	/** bound for the whole phase (delivery + drain), ms */
	timeoutMs: number;
	variants: Variant[];
}

export function planPhases(quick: boolean): PhasePlan[] {
	const both: Variant[] = ['package', 'baseline'];
	if (quick) {
		return [
			{ phase: 'burst', returns: 100, lines: 3, rate: null, timeoutMs: 120_000, variants: both },
			{ phase: 'rate-5', returns: 40, lines: 3, rate: 5, timeoutMs: 60_000, variants: both },
			{ phase: 'rate-20', returns: 100, lines: 3, rate: 20, timeoutMs: 60_000, variants: both },
			{ phase: 'scale-1', returns: 20, lines: 1, rate: null, timeoutMs: 60_000, variants: both },
			{ phase: 'scale-10', returns: 20, lines: 10, rate: null, timeoutMs: 60_000, variants: both },
		];
	}
	// the 5,000-return point does not fit the ~25 min budget on this machine (the package drains ~3 returns/s):
	// RSS growth is measured over every phase of a variant (~2,000 returns) and reported per 5,000 returns
	// small phases first, the 1,000 burst last: a backlog it leaves cannot spoil the other measurements
	return [
		{ phase: 'scale-1', returns: 100, lines: 1, rate: null, timeoutMs: 90_000, variants: both },
		{ phase: 'scale-3', returns: 100, lines: 3, rate: null, timeoutMs: 90_000, variants: both },
		{ phase: 'scale-10', returns: 100, lines: 10, rate: null, timeoutMs: 120_000, variants: both },
		{ phase: 'rate-5', returns: 200, lines: 3, rate: 5, timeoutMs: 120_000, variants: both },
		{ phase: 'rate-20', returns: 300, lines: 3, rate: 20, timeoutMs: 150_000, variants: both },
		{ phase: 'burst', returns: 1000, lines: 3, rate: null, timeoutMs: 360_000, variants: both },
	];
}

// ------------------------------------------------------------------ harness

const REBOUND_LOGIN = 'demo-retailer';
const REBOUND_API_KEY = 'demo-api-key-0000';
/** The sandbox's demo secret (not a secret). */
const WEBHOOK_SECRET = 'demo-webhook-secret-0000';
const BURST_CONCURRENCY = 16;
const MAX_IN_FLIGHT = 200;
/** A phase stops waiting when no credit note appeared for this long. */
const STALL_MS = 45_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const logErr = (line: string) => process.stderr.write(`${line}\n`);

interface VariantEnv {
	variant: Variant;
	khaos: KhaosSandbox;
	rebound: ReboundSandbox;
	webhookPath: string;
	api: ApiClient;
	workflowIds: string[];
	/** the package's inbox Data Table (row counts by status after each phase) */
	inboxTableId?: string;
	/** ids of the workflows whose executions show where time goes */
	timingWorkflows: Array<{ label: string; id: string }>;
}

function packageValues(
	client: string,
	webhookId: string,
	khaosUrl: string,
	reboundUrl: string,
	o: BenchOptions,
) {
	return {
		client,
		timezone: 'Europe/London',
		credentials: {
			khaos: {
				name: `Khaos sandbox (${client})`,
				data: {
					url: khaosUrl,
					authMode: 'none',
					soapVersion: '1.1',
					namespace: 'urn:KosWeb-IKosWeb',
					soapActionStyle: 'namespaceHash',
					defaultSiteId: '1',
					timeoutSeconds: 30,
					maxAttempts: 3,
					batchSize: 50,
				},
			},
			rebound: {
				name: `ReBound sandbox (${client})`,
				data: {
					login: REBOUND_LOGIN,
					apiKey: 'env:BENCH_REBOUND_API_KEY',
					baseUrl: reboundUrl,
					webhookSecret: 'env:BENCH_REBOUND_WEBHOOK_SECRET',
				},
			},
		},
		dataTables: {
			inbox: { name: `${client} inbox` },
			exceptions: { name: `${client} exceptions` },
			dispositions: { name: `${client} disposition map` },
			reasons: { name: `${client} reason map` },
			skuAliases: { name: `${client} sku aliases` },
			reviews: { name: `${client} credit reviews` },
		},
		sites: [
			{
				id: '1',
				name: 'Main Warehouse',
				locations: [
					{ id: 'A1', sellable: true },
					{ id: 'RET', sellable: true },
					{ id: 'QUAR', sellable: false },
					{ id: 'WOFF', sellable: false },
				],
			},
			{ id: '2', name: 'Outlet', locations: [{ id: 'OUT1', sellable: true }] },
		],
		mapping: {
			dispositions: [
				{
					disposition: 'Grade A',
					action: 'restock',
					siteId: '1',
					locationId: 'A1',
					sellable: true,
				},
				{
					disposition: 'Like New',
					action: 'restock',
					siteId: '1',
					locationId: 'A1',
					sellable: true,
				},
				{
					disposition: 'Grade B',
					action: 'restock',
					siteId: '1',
					locationId: 'RET',
					sellable: true,
				},
				{
					disposition: 'Damaged',
					action: 'quarantine',
					siteId: '1',
					locationId: 'QUAR',
					sellable: false,
				},
				{
					disposition: 'Dirty',
					action: 'quarantine',
					siteId: '1',
					locationId: 'QUAR',
					sellable: false,
				},
				{
					disposition: 'Quarantine',
					action: 'quarantine',
					siteId: '1',
					locationId: 'QUAR',
					sellable: false,
				},
				{
					disposition: 'Missing',
					action: 'no_movement',
					siteId: '',
					locationId: '',
					sellable: false,
				},
			],
			reasons: [
				{ reason: 'Too small', reasonId: '2', matchOn: 'reason' },
				{ reason: 'Too big', reasonId: '2', matchOn: 'reason' },
				{ reason: 'Faulty', reasonId: '1', matchOn: 'reason' },
				{ reason: 'Changed my mind', reasonId: '3', matchOn: 'reason' },
				{ reason: 'Arrived damaged', reasonId: '4', matchOn: 'reason' },
			],
			skuAliases: [],
		},
		trigger: {
			mode: 'webhook',
			webhookId,
			pollEveryMinutes: 60,
			batchWindowMs: o.batchWindowMs,
			batchMaxSize: 100,
		},
		schedules: {
			processEverySeconds: o.processEverySeconds,
			reconciliationCron: '0 7 * * *',
			replayEveryMinutes: null,
		},
		processing: {
			batchSize: o.batchSize,
			staleAfterMinutes: 15,
			maxTransientAttempts: 3,
			adjustmentReason: 'ReBound return',
			keepSuccessfulExecutions: o.keepExecutions,
		},
		finance: {
			batchCreditNotes: false,
			deliveryPolicy: 'whole_order',
			rounding: 'half_up',
			tolerancePencePerLine: 1,
			manualAuthCode: 'REBOUND',
		},
		reconciliation: { keepDoneDays: 30 },
		alerts: {},
	};
}

async function startSandboxes(orders: Array<{ n: number; lines: number }>, o: BenchOptions) {
	const khaos = await startKhaosSandbox({
		port: 0,
		fixture: benchKhaosFixture(orders, o.khaosLatencyMs),
	});
	const rebound = await startReboundSandbox({ port: 0 });
	rebound.faults.configure({
		seed: 42,
		rules: o.reboundLatencyMs > 0 ? { '*': { latencyMs: o.reboundLatencyMs } } : {},
	});
	return { khaos, rebound };
}

async function setupPackage(
	api: ApiClient,
	n8n: N8nInstance,
	khaos: KhaosSandbox,
	rebound: ReboundSandbox,
	userFolder: string,
	o: BenchOptions,
): Promise<VariantEnv> {
	const client = `Bench ${randomBytes(3).toString('hex')}`;
	const webhookId = `bench-pkg-${randomBytes(6).toString('hex')}`;
	const valuesFile = path.join(userFolder, 'bench-values.json');
	fs.writeFileSync(
		valuesFile,
		JSON.stringify(packageValues(client, webhookId, khaos.url, rebound.url, o)),
	);
	const importLog: string[] = [];
	const report = await runImport(
		{
			client,
			valuesFile,
			n8nUrl: n8n.baseUrl,
			apiKeyEnv: 'BENCH_N8N_API_KEY',
			dryRun: false,
			templatesDir: WORKFLOWS_DIR,
		},
		{
			env: {
				BENCH_N8N_API_KEY: api.apiKey,
				BENCH_REBOUND_API_KEY: REBOUND_API_KEY,
				BENCH_REBOUND_WEBHOOK_SECRET: WEBHOOK_SECRET,
			},
			log: (l) => importLog.push(l),
		},
	);
	if (report.exitCode !== 0)
		throw new Error(`template import failed (exit ${report.exitCode}):\n${importLog.join('\n')}`);
	const id = (file: string) => report.workflows.find((w) => w.file === file)?.id as string;
	return {
		variant: 'package',
		khaos,
		rebound,
		webhookPath: `${webhookId}/rebound`,
		api,
		inboxTableId: report.tables.find((t) => t.key === 'inbox')?.id ?? undefined,
		workflowIds: report.workflows.filter((w) => w.active && w.id).map((w) => w.id as string),
		timingWorkflows: [
			{ label: 'intake', id: id('returns-intake') },
			{ label: 'processor', id: id('returns-processor') },
		],
	};
}

async function setupBaseline(
	api: ApiClient,
	khaos: KhaosSandbox,
	rebound: ReboundSandbox,
	o: BenchOptions,
): Promise<VariantEnv> {
	const hex = randomBytes(6).toString('hex');
	const webhookPath = `bench-baseline-${hex}/rebound`;
	const wf = loadBaselineWorkflow({
		khaosUrl: khaos.url,
		webhookPath,
		webhookId: `bench-baseline-${hex}`,
		webhookSecret: WEBHOOK_SECRET,
	});
	// the same saving policy as the package's intake and processor (n8n's settings are per workflow)
	(wf as { settings?: Record<string, unknown> }).settings = {
		...((wf as { settings?: Record<string, unknown> }).settings ?? {}),
		saveDataSuccessExecution: o.keepExecutions ? 'all' : 'none',
	};
	const created = await api.createWorkflow(wf);
	return {
		variant: 'baseline',
		khaos,
		rebound,
		webhookPath,
		api,
		workflowIds: [created.id],
		timingWorkflows: [{ label: 'baseline', id: created.id }],
	};
}

async function setActive(api: ApiClient, env: VariantEnv, active: boolean): Promise<void> {
	for (const id of env.workflowIds) {
		if (active) await api.activateWorkflow(id);
		else await api.deactivateWorkflow(id);
	}
}

async function post(
	baseUrl: string,
	webhookPath: string,
	event: Record<string, unknown>,
): Promise<number> {
	const body = JSON.stringify(event);
	const headers = signWebhookBody(
		body,
		WEBHOOK_SECRET,
		Date.now() / 1000,
		DEFAULT_WEBHOOK_SETTINGS,
	);
	const deadline = Date.now() + 15_000;
	for (;;) {
		try {
			const res = await fetch(`${baseUrl}/webhook/${webhookPath}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...headers },
				body,
				signal: AbortSignal.timeout(60_000),
			});
			const text = await res.text();
			// activation registers the webhook a moment later (docs/e2e.md): retry only that, bounded
			if (res.status === 404 && text.includes('is not registered') && Date.now() < deadline) {
				await sleep(250);
				continue;
			}
			return res.status;
		} catch {
			return 0;
		}
	}
}

/** Credit-note time per bench return of this phase (the Khaos return's processedAt, set when ProcessReturn creates the credit note). */
function creditTimes(khaos: KhaosSandbox, refs: Set<string>): Map<string, number> {
	const out = new Map<string, number>();
	for (const r of khaos.state.returns) {
		if (r.creditNoteCode && r.processedAt && refs.has(r.associatedRef))
			out.set(r.associatedRef, Date.parse(r.processedAt));
	}
	return out;
}

/** Inbox rows by status (bounded paging), e.g. { done: 98, exception: 2 }, and rows per distinct return. */
async function inboxSummary(env: VariantEnv): Promise<string> {
	if (!env.inboxTableId) return '';
	const byStatus: Record<string, number> = {};
	const returns = new Set<string>();
	let rows = 0;
	let cursor: string | null = null;
	for (let page = 0; page < 60; page++) {
		const res: { data?: Array<Record<string, unknown>>; nextCursor?: string | null } | null =
			await env.api
				.request(
					'GET',
					`/data-tables/${encodeURIComponent(env.inboxTableId)}/rows?limit=250${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
				)
				.catch(() => null);
		for (const r of res?.data ?? []) {
			rows++;
			byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
			returns.add(String(r.returnId));
		}
		cursor = res?.nextCursor ?? null;
		if (!cursor) break;
	}
	return `inbox ${rows} rows for ${returns.size} returns (${Object.entries(byStatus)
		.map(([k, v]) => `${k} ${v}`)
		.join(', ')})`;
}

/** Executions of a workflow that started in [fromMs, toMs]: count, mean/max wall time and the most running at once. */
async function executionStats(
	api: ApiClient,
	workflowId: string,
	fromMs: number,
	toMs: number,
): Promise<string> {
	const list = (await api.listExecutions(workflowId, { limit: 250 }).catch(() => [])) as Array<{
		startedAt?: string;
		stoppedAt?: string;
		status: string;
	}>;
	const spans = list
		.map((e) => ({ start: Date.parse(e.startedAt ?? ''), stop: Date.parse(e.stoppedAt ?? '') }))
		.filter(
			(e) =>
				Number.isFinite(e.start) && Number.isFinite(e.stop) && e.start >= fromMs && e.start <= toMs,
		);
	if (!spans.length) return 'no executions';
	const walls = spans.map((e) => e.stop - e.start);
	const edges = spans.flatMap((e) => [
		{ t: e.start, d: 1 },
		{ t: e.stop, d: -1 },
	]);
	edges.sort((a, b) => a.t - b.t || a.d - b.d);
	let running = 0;
	let most = 0;
	for (const e of edges) {
		running += e.d;
		most = Math.max(most, running);
	}
	return `${spans.length}${spans.length === 250 ? '+' : ''} executions, wall mean ${(walls.reduce((a, b) => a + b, 0) / walls.length / 1000).toFixed(2)} s, max ${(Math.max(...walls) / 1000).toFixed(2)} s, up to ${most} at once`;
}

/** Waits (bounded) until the variant has no running execution and, for the package, no queued or processing inbox row. */
async function waitIdle(
	env: VariantEnv,
	boundMs: number,
): Promise<{ ok: boolean; detail: string }> {
	const deadline = Date.now() + boundMs;
	let detail = '';
	for (;;) {
		let running = 0;
		for (const w of env.timingWorkflows)
			running += (
				await env.api.listExecutions(w.id, { status: 'running', limit: 250 }).catch(() => [])
			).length;
		const inbox = await inboxSummary(env);
		const busy = /\b(queued|processing) [1-9]/.test(inbox);
		detail = `${running} running execution(s)${inbox ? `; ${inbox}` : ''}`;
		if (running === 0 && !busy) return { ok: true, detail };
		if (Date.now() > deadline) return { ok: false, detail };
		await sleep(2_000);
	}
}

/** The newest failed execution's error (node and message) of the variant's workflows, for a phase that did not finish. */
async function lastFailure(env: VariantEnv): Promise<string> {
	for (const w of env.timingWorkflows) {
		const failed = await env.api
			.listExecutions(w.id, { status: 'error', limit: 1 })
			.catch(() => []);
		if (!failed.length) continue;
		const full = await env.api.getExecution(failed[0].id, true).catch(() => null);
		const err = full?.data?.resultData?.error;
		return `last failed ${w.label} execution: ${String(err?.node?.name ?? full?.data?.resultData?.lastNodeExecuted ?? '')}: ${String(err?.message ?? 'no message').slice(0, 300)}${err?.description ? ` (${String(err.description).slice(0, 200)})` : ''}`;
	}
	return 'no failed executions';
}

async function runPhase(
	n8n: N8nInstance,
	env: VariantEnv,
	plan: PhasePlan,
	firstN: number,
): Promise<PhaseResult> {
	const { khaos, rebound } = env;
	const khaosSeq = khaos.calls.lastSeq;
	const reboundSeq = rebound.calls.lastSeq;
	const rssMb = () => n8n.rssKb().group / 1024;
	const rssStartMb = rssMb();
	let rssPeakMb = rssStartMb;
	const sampler = setInterval(() => {
		rssPeakMb = Math.max(rssPeakMb, rssMb());
	}, 1000);
	const started = Date.now();
	const deadline = started + plan.timeoutMs;
	const delivered = new Map<string, number>();
	const refs = new Set<string>();
	const statuses: Record<string, number> = {};
	const events = Array.from({ length: plan.returns }, (_, i) => ({
		n: firstN + i,
		event: benchEvent(firstN + i, plan.lines),
	}));
	events.forEach((e) => refs.add(benchCreditRef(e.n)));
	const send = async (e: (typeof events)[number]) => {
		delivered.set(benchCreditRef(e.n), Date.now());
		const status = await post(n8n.baseUrl, env.webhookPath, e.event);
		statuses[status] = (statuses[status] ?? 0) + 1;
	};

	let inFlight = 0;
	const sending: Array<Promise<void>> = [];
	if (plan.rate === null) {
		let next = 0;
		const worker = async () => {
			while (next < events.length && Date.now() < deadline) await send(events[next++]);
		};
		sending.push(...Array.from({ length: BURST_CONCURRENCY }, worker));
	} else {
		const gap = 1000 / plan.rate;
		for (let i = 0; i < events.length && Date.now() < deadline; i++) {
			const due = started + i * gap;
			if (due > Date.now()) await sleep(due - Date.now());
			while (inFlight >= MAX_IN_FLIGHT && Date.now() < deadline) await sleep(10);
			inFlight++;
			sending.push(send(events[i]).finally(() => inFlight--));
		}
	}
	await Promise.all(sending);
	const sentMs = Date.now() - started;

	// wait (bounded) until every delivered return has its credit note
	let credited = creditTimes(khaos, refs);
	let lastProgress = Date.now();
	let lastCount = credited.size;
	while (
		credited.size < delivered.size &&
		Date.now() < deadline &&
		Date.now() - lastProgress < STALL_MS
	) {
		await sleep(500);
		credited = creditTimes(khaos, refs);
		if (credited.size > lastCount) {
			lastCount = credited.size;
			lastProgress = Date.now();
		}
	}
	clearInterval(sampler);
	const timedOut = credited.size < delivered.size;
	const rssEndMb = rssMb();
	rssPeakMb = Math.max(rssPeakMb, rssEndMb);

	const firstDelivery = Math.min(...delivered.values());
	const lastCredit = credited.size ? Math.max(...credited.values()) : Date.now();
	const lat = latencies(delivered, credited);
	const khaosCalls = khaos.calls.since(khaosSeq);
	const byMethod: Record<string, number> = {};
	const failures: Record<string, number> = {};
	for (const c of khaosCalls) {
		byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
		if (c.outcome !== 'ok') {
			const k = `${c.method} ${c.outcome}${c.outcome === 'fault' ? `: ${String(c.detail ?? '').slice(0, 60)}` : ''}`;
			failures[k] = (failures[k] ?? 0) + 1;
		}
	}
	const reboundCalls = rebound.calls.since(reboundSeq).length;
	const bad = Object.entries(statuses).filter(([s]) => s !== '200');
	const result: PhaseResult = {
		variant: env.variant,
		phase: plan.phase,
		returns: delivered.size,
		lines: plan.lines,
		offeredRate: plan.rate,
		credited: credited.size,
		drainMs: lastCredit - firstDelivery,
		throughput: throughput(credited.size, firstDelivery, lastCredit),
		latency: summarize(lat.values),
		khaosCallsPerReturn: khaosCalls.length / Math.max(1, delivered.size),
		reboundCallsPerReturn: reboundCalls / Math.max(1, delivered.size),
		khaosCallsByMethod: byMethod,
		rssPeakMb,
		rssStartMb,
		rssEndMb,
		timedOut,
		note: [
			bad.length ? `webhook answers ${bad.map(([s, c]) => `${s}×${c}`).join(', ')}` : '',
			`delivered in ${(sentMs / 1000).toFixed(1)} s`,
			Object.keys(failures).length
				? `Khaos failed calls: ${Object.entries(failures)
						.map(([k, c]) => `${k} ×${c}`)
						.join('; ')}`
				: '',
		]
			.filter(Boolean)
			.join('; '),
	};
	if (timedOut) result.note = `${result.note}; ${await lastFailure(env)}`;
	const execs: string[] = [];
	for (const w of env.timingWorkflows)
		execs.push(`${w.label}: ${await executionStats(env.api, w.id, started - 1000, Date.now())}`);
	const inbox = await inboxSummary(env);
	result.note = [result.note, `executions (${execs.join('; ')})`, inbox].filter(Boolean).join('; ');
	logErr(
		`[bench] ${env.variant} ${plan.phase}: ${result.credited}/${result.returns} credited in ${(result.drainMs / 1000).toFixed(1)} s (${result.throughput.toFixed(1)}/s), p50 ${(result.latency.p50 / 1000).toFixed(2)} s p95 ${(result.latency.p95 / 1000).toFixed(2)} s, Khaos ${result.khaosCallsPerReturn.toFixed(2)}/return ${JSON.stringify(byMethod)}, RSS ${rssStartMb.toFixed(0)}→${rssEndMb.toFixed(0)} MB (peak ${rssPeakMb.toFixed(0)})${timedOut ? ' TIME BOUND HIT' : ''}; ${result.note}`,
	);
	return result;
}

/** Mean executionTime per node over the newest executions of a workflow that ran `mustHave` (where time goes). */
async function nodeTimings(
	api: ApiClient,
	workflowId: string,
	mustHave: string | null,
	sample = 5,
): Promise<string> {
	const list = await api.listExecutions(workflowId, { limit: 50 }).catch(() => []);
	const totals: Record<string, { ms: number; runs: number; items: number }> = {};
	let used = 0;
	let wallMs = 0;
	for (const e of list) {
		if (used >= sample) break;
		const full = await api.getExecution(e.id, true).catch(() => null);
		const runData = full?.data?.resultData?.runData as
			| Record<
					string,
					Array<{ executionTime?: number; data?: { main?: Array<Array<unknown> | null> } }>
			  >
			| undefined;
		if (!runData || (mustHave && !runData[mustHave])) continue;
		used++;
		if (full.startedAt && full.stoppedAt)
			wallMs += Date.parse(full.stoppedAt) - Date.parse(full.startedAt);
		for (const [node, runs] of Object.entries(runData)) {
			const t = (totals[node] ??= { ms: 0, runs: 0, items: 0 });
			for (const r of runs) {
				t.ms += r.executionTime ?? 0;
				t.items += (r.data?.main ?? []).reduce((s, out) => s + (out?.length ?? 0), 0);
			}
			t.runs++;
		}
	}
	if (!used) return 'no execution data';
	const parts = Object.entries(totals)
		.sort((a, b) => b[1].ms - a[1].ms)
		.filter(([, t]) => t.ms / used >= 1)
		.map(
			([node, t]) =>
				`${node} ${(t.ms / used).toFixed(0)} ms (${Math.round(t.items / used)} items out)`,
		);
	return `mean of ${used} executions, wall ${(wallMs / used).toFixed(0)} ms: ${parts.join('; ')}`;
}

export async function main(argv: string[]): Promise<void> {
	const o = parseBenchArgs(argv);
	const t0 = Date.now();
	const plan = planPhases(o.quick);
	// the baseline first: it leaves no queue behind, so the package starts on an n8n as fresh as the baseline's
	const variants: Variant[] = o.only ? [o.only] : ['baseline', 'package'];

	// return numbers: one range per (variant, phase), each with its own Khaos order
	let n = 1;
	const ranges = new Map<string, number>();
	const orders = new Map<Variant, Array<{ n: number; lines: number }>>(
		variants.map((v) => [v, []]),
	);
	for (const p of plan) {
		for (const v of variants) {
			if (!p.variants.includes(v)) continue;
			ranges.set(`${v}/${p.phase}`, n);
			for (let i = 0; i < p.returns; i++) orders.get(v)!.push({ n: n + i, lines: p.lines });
			n += p.returns;
		}
	}

	const runtime = await ensureRuntime({ log: logErr });
	const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-bench-'));
	let n8n: N8nInstance | undefined;
	const envs: VariantEnv[] = [];
	const results: PhaseResult[] = [];
	const notes: string[] = [];
	const hardStop = setTimeout(() => {
		logErr('[bench] hard time bound (40 min) reached, stopping');
		process.exit(3);
	}, 40 * 60_000);
	hardStop.unref();
	try {
		const installed = await installPackage(userFolder, { skipBuild: !o.build, log: logErr });
		fs.rmSync(path.dirname(installed.tarball), { recursive: true, force: true });
		// NODE_FUNCTION_ALLOW_BUILTIN: the baseline's Code node verifies the HMAC with require('crypto'); same settings for both variants
		n8n = await startN8n({
			runtime,
			userFolder,
			port: await freePort(),
			log: logErr,
			env: {
				NODE_FUNCTION_ALLOW_BUILTIN: 'crypto',
				...(o.cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${o.cpuProfDir}` } : {}),
			},
		});
		const loadErrors = packageLoadErrors(n8n.logs());
		if (loadErrors.length) throw new Error(`package did not load: ${loadErrors.join('; ')}`);
		const owner = await setupOwner(n8n.baseUrl);
		const api = await createApiKey(n8n.baseUrl, owner);

		for (const v of variants) {
			const { khaos, rebound } = await startSandboxes(orders.get(v)!, o);
			const env =
				v === 'package'
					? await setupPackage(api, n8n, khaos, rebound, userFolder, o)
					: await setupBaseline(api, khaos, rebound, o);
			envs.push(env);
			await setActive(api, env, false);
		}
		for (const env of envs) {
			logErr(`[bench] ${env.variant}: activating`);
			await setActive(api, env, true);
			await sleep(2_000);
			for (const p of plan) {
				if (!p.variants.includes(env.variant)) continue;
				const idle = await waitIdle(env, 90_000);
				if (!idle.ok) {
					notes.push(
						`${env.variant}: ${p.phase} and later phases not run: still busy 90 s after the previous phase (${idle.detail})`,
					);
					break;
				}
				results.push(await runPhase(n8n, env, p, ranges.get(`${env.variant}/${p.phase}`)!));
				if (p.phase === 'burst') {
					for (const w of env.timingWorkflows) {
						notes.push(
							`${env.variant} ${w.label} per-node time (burst): ${await nodeTimings(api, w.id, w.label === 'processor' ? 'Create Credit Note' : null)}`,
						);
					}
				}
			}
			await setActive(api, env, false);
		}
	} finally {
		clearTimeout(hardStop);
		if (n8n) await n8n.stop();
		for (const e of envs) {
			await e.khaos.close();
			await e.rebound.close();
		}
		fs.rmSync(userFolder, { recursive: true, force: true });
	}

	const date = new Date().toISOString().slice(0, 10);
	notes.unshift(
		`Package: the imported returns-intake and returns-processor templates as they are (processEverySeconds ${o.processEverySeconds}, batchSize ${o.batchSize}, Khaos credential batchSize 50, finance not batched). Baseline: bench/baseline-workflow.json.`,
		'ReBound calls are 0 for both: the pushed event carries the whole return, neither variant needs to call ReBound back.',
	);
	notes.push(
		"No 5,000-return point: at the ~6–8 returns/s both variants drain here it would take ~11–14 min per variant, more than the run budget. RSS growth is measured from the end of a variant's first (warm-up) phase to the end of its last, over the returns in between, and scaled linearly to 5,000 returns.",
	);
	notes.push(
		'Order: baseline first, then the package, each variant on its own sandboxes; phases smallest first, the 1,000 burst last; before each phase the harness waits (≤ 90 s) until the variant is idle (no running execution, no queued/processing inbox row) and skips the rest when it is not.',
	);
	const report = renderReport(results, {
		date: `${date}${o.quick ? ' (quick)' : ''}`,
		machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GB, shared with other work, Node ${process.version} harness, n8n ${runtime.n8nVersion} on Node 24, SQLite`,
		settings: `Khaos latency ${o.khaosLatencyMs} ms/call, ReBound latency ${o.reboundLatencyMs} ms/call, successful runs ${o.keepExecutions ? 'saved' : 'not saved'} in both variants (failed runs saved), production concurrency unlimited (n8n default), package: processor every ${o.processEverySeconds} s, batch ${o.batchSize}, webhook batch window ${o.batchWindowMs} ms; burst delivered by ${BURST_CONCURRENCY} concurrent senders`,
		durationS: (Date.now() - t0) / 1000,
		notes,
	});
	fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
	const file = path.join(
		__dirname,
		'results',
		`${date}${o.quick ? '-quick' : ''}${o.only ? `-${o.only}` : ''}.md`,
	);
	fs.writeFileSync(file, `${report}\n`);
	logErr(`[bench] wrote ${path.relative(process.cwd(), file)}`);
	process.stdout.write(
		o.json ? `${JSON.stringify({ options: o, results, notes }, null, 2)}\n` : `${report}\n`,
	);
}

if (require.main === module) {
	// a signal ends the process through exit(), whose hook (scripts/n8n/instance.ts) takes n8n's process group with it
	for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
	main(process.argv.slice(2)).then(
		() => process.exit(0),
		(error) => {
			logErr(
				`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
			);
			process.exit(1);
		},
	);
}
