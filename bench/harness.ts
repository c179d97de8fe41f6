/**
 * The bench's harness (bench/run.ts, bench/topologies.ts, bench/sensitivity.ts): sandboxes, the
 * two variants' setup in a running n8n deployment, signed deliveries to its production webhooks,
 * and one measured phase (credit notes, latency, Khaos calls, RSS and CPU of every process).
 * Method: docs/benchmark.md.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CommonBenchFlags } from '../scripts/cliFlags';
import type { ApiClient } from '../scripts/n8n/instance';
import type { TopologyOptions } from '../scripts/n8n/topology';
import { runImport } from '../scripts/templates/import';
import { WORKFLOWS_DIR } from '../scripts/templates/build';
import { startKhaosSandbox, type KhaosSandbox } from '../sandbox/khaos/server';
import { startReboundSandbox, type ReboundSandbox } from '../sandbox/rebound/server';
import { DEFAULT_WEBHOOK_SETTINGS, signWebhookBody } from '../transports/rebound/webhook';
import {
	benchCreditRef,
	phaseDeliveries,
	benchKhaosFixture,
	benchReboundFixture,
	benchReboundReturn,
	benchHistoryCredit,
	benchHistoryRow,
	historyInboxRows,
} from './fixture';
import {
	loadBaselinePollWorkflow,
	loadBaselineReturnWorkflow,
	loadBaselineWorkflow,
} from './baselineWorkflow';
import { busyShare, machineCpu, sampleProcesses, type ProcessSample } from './procstat';
import { describePaths, latencyPaths } from './latencyPath';
import {
	latencies,
	pollsFromCalls,
	summarize,
	summarizePolls,
	throughput,
	type PhaseResult,
	type Variant,
} from './stats';

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
	/** Extra environment for every n8n process of the run (`--n8n-env K=V`), over the harness's settings: both variants get it. */
	n8nEnv: Record<string, string>;
	/** The deployment (scripts/n8n/topology.ts): single process on SQLite unless told. */
	topology: TopologyOptions;
	/** Returns of the poll-fed phase (0: not run; undefined: the plan's default). */
	pollReturns?: number;
	/** Returns of the memory phase (0: not run; undefined: the plan's default). */
	memoryReturns?: number;
	/** Only these phases of the plan, in the plan's order (undefined: all). */
	phases?: string[];
	/** Finished rows put in the package's inbox before its first phase (a month of returns in production; 0: an empty inbox). */
	inboxHistory: number;
}

/**
 * bench/run.ts's defaults: the package imported with its template values (processor every 1 s,
 * batch 50, webhook batch window 50 ms), successful runs not saved, one process on SQLite.
 */
export function defaultBenchOptions(): BenchOptions {
	return {
		quick: false,
		khaosLatencyMs: 40,
		reboundLatencyMs: 20,
		only: null,
		json: false,
		build: false,
		processEverySeconds: 1,
		batchSize: 100,
		keepExecutions: false,
		inboxHistory: 0,
		batchWindowMs: 50,
		cpuProfDir: null,
		n8nEnv: {},
		topology: {},
	};
}

/** The options the harness's setup reads for a run of its own (bench/topologies.ts, bench/sensitivity.ts): bench/run.ts's defaults with the run's latencies, variants and flags. */
export function harnessOptions(o: CommonBenchFlags): BenchOptions {
	return {
		...defaultBenchOptions(),
		khaosLatencyMs: o.khaosLatencyMs,
		reboundLatencyMs: o.reboundLatencyMs,
		only: o.only,
		json: o.json,
		build: o.build,
	};
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
	/**
	 * How the returns arrive: `webhook` (default) signed events to the variant's production webhook;
	 * `poll` graded returns put into the variant's poll ReBound sandbox before its poll workflow is
	 * activated (as after an outage), taken by the poll.
	 */
	delivery?: 'webhook' | 'poll';
	/** Force a garbage collection in n8n before and after the phase (the memory phase; bench/run.ts). */
	forcedGc?: boolean;
	/** The phase stops waiting when no credit note appeared for this long (default STALL_MS). */
	stallMs?: number;
}

// ------------------------------------------------------------------ harness

const REBOUND_LOGIN = 'demo-retailer';
export const REBOUND_API_KEY = 'demo-api-key-0000';
/** The sandbox's demo secret (not a secret). */
export const WEBHOOK_SECRET = 'demo-webhook-secret-0000';
export const BURST_CONCURRENCY = 16;
export const MAX_IN_FLIGHT = 200;
/** A phase stops waiting when no credit note appeared for this long. */
export const STALL_MS = 45_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const logErr = (line: string) => process.stderr.write(`${line}\n`);

/** What a phase needs of the n8n it runs against (a Topology from scripts/n8n/topology.ts). */
export interface Deployment {
	/** main: the REST and public API */
	baseUrl: string;
	/** where production webhooks go: main, the webhook process or nginx */
	webhookBaseUrl: string;
	/** every n8n process: label, group leader pid, RSS kB */
	processes(): Array<{ label: string; pid: number; rssKb: number }>;
	/** main's user folder (Redis and nginx live under <userFolder>/topology) */
	userFolder: string;
	/** the PostgreSQL server, when there is one (its processes are found by its port) */
	postgres?: { port: number };
}

export interface VariantEnv {
	variant: Variant;
	khaos: KhaosSandbox;
	rebound: ReboundSandbox;
	webhookPath: string;
	api: ApiClient;
	workflowIds: string[];
	/** the package's inbox Data Table (row counts by status after each phase) */
	inboxTableId?: string;
	/** --inbox-history: the last id of the history rows, which the inbox summary leaves out */
	historyThroughId?: number;
	/** ids of the workflows whose executions show where time goes */
	timingWorkflows: Array<{ label: string; id: string }>;
}

/** The sandboxes' call logs keep this many calls (a 5,000-return baseline phase makes 45,000 Khaos calls). */
export const CALL_LOG_MAX = 250_000;

export function packageValues(
	client: string,
	webhookId: string,
	khaosUrl: string,
	reboundUrl: string,
	o: BenchOptions,
	/** `poll`: the intake's ReBound Poll Trigger (every minute) instead of the webhook trigger */
	trigger: 'webhook' | 'poll' = 'webhook',
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
			credits: { name: `${client} recorded credits` },
			events: { name: `${client} return events` },
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
			mode: trigger,
			webhookId,
			pollEveryMinutes: trigger === 'poll' ? 1 : 60,
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

export async function startSandboxes(orders: Array<{ n: number; lines: number }>, o: BenchOptions) {
	const khaos = await startKhaosSandbox({
		port: 0,
		fixture: benchKhaosFixture(orders, o.khaosLatencyMs),
		callLogMax: CALL_LOG_MAX,
	});
	const rebound = await startReboundSandbox({ port: 0, callLogMax: CALL_LOG_MAX });
	rebound.faults.configure({
		seed: 42,
		rules: o.reboundLatencyMs > 0 ? { '*': { latencyMs: o.reboundLatencyMs } } : {},
	});
	return { khaos, rebound };
}

/** A ReBound sandbox for a variant's poll workflow: the default credentials, none of the demo returns (a poll finds the bench's only). */
export async function startPollRebound(o: BenchOptions): Promise<ReboundSandbox> {
	const rebound = await startReboundSandbox({
		port: 0,
		fixture: benchReboundFixture(),
		callLogMax: CALL_LOG_MAX,
	});
	rebound.faults.configure({
		seed: 42,
		rules: o.reboundLatencyMs > 0 ? { '*': { latencyMs: o.reboundLatencyMs } } : {},
	});
	return rebound;
}

export async function setupPackage(
	api: ApiClient,
	n8n: { baseUrl: string },
	khaos: KhaosSandbox,
	rebound: ReboundSandbox,
	userFolder: string,
	o: BenchOptions,
	trigger: 'webhook' | 'poll' = 'webhook',
): Promise<VariantEnv> {
	const client = `Bench ${trigger === 'poll' ? 'poll ' : ''}${randomBytes(3).toString('hex')}`;
	const webhookId = `bench-pkg-${randomBytes(6).toString('hex')}`;
	const valuesFile = path.join(userFolder, 'bench-values.json');
	fs.writeFileSync(
		valuesFile,
		JSON.stringify(packageValues(client, webhookId, khaos.url, rebound.url, o, trigger)),
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
	const tableId = (key: string) => report.tables.find((t) => t.key === key)?.id ?? undefined;
	const inboxTableId = tableId('inbox');
	const historyThroughId =
		inboxTableId && o.inboxHistory > 0
			? await fillInboxHistory(
					api,
					{
						inbox: inboxTableId,
						events: tableId('events'),
						credits: tableId('credits'),
					},
					o.inboxHistory,
				)
			: undefined;
	return {
		variant: 'package',
		khaos,
		rebound,
		webhookPath: `${webhookId}/rebound`,
		api,
		inboxTableId,
		historyThroughId,
		workflowIds: report.workflows.filter((w) => w.active && w.id).map((w) => w.id as string),
		timingWorkflows: [
			{ label: 'intake', id: id('returns-intake') },
			{ label: 'processor', id: id('returns-processor') },
		],
	};
}

export async function setupBaseline(
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

/**
 * The poll-fed baseline (bench/baselineWorkflow.ts buildBaselinePollWorkflows): the per-return
 * chain as a sub-workflow, activated once here (n8n 2.x runs only the published version of a
 * sub-workflow from a production execution; it has no trigger of its own), and the poller, whose
 * activation is the variant's (`workflowIds`).
 */
export async function setupBaselinePoll(
	api: ApiClient,
	khaos: KhaosSandbox,
	rebound: ReboundSandbox,
	o: BenchOptions,
): Promise<VariantEnv> {
	const saving = <T extends { settings?: Record<string, unknown> }>(wf: T): T => ({
		...wf,
		settings: {
			...(wf.settings ?? {}),
			saveDataSuccessExecution: o.keepExecutions ? 'all' : 'none',
		},
	});
	const chain = await api.createWorkflow(
		saving(loadBaselineReturnWorkflow({ khaosUrl: khaos.url })),
	);
	await api.activateWorkflow(chain.id);
	const poller = await api.createWorkflow(
		saving(
			loadBaselinePollWorkflow({
				reboundUrl: rebound.url,
				login: REBOUND_LOGIN,
				apiKey: REBOUND_API_KEY,
				chainWorkflowId: chain.id,
			}),
		),
	);
	return {
		variant: 'baseline',
		khaos,
		rebound,
		webhookPath: '',
		api,
		workflowIds: [poller.id],
		timingWorkflows: [
			{ label: 'poller', id: poller.id },
			{ label: 'chain', id: chain.id },
		],
	};
}

/** A variant on sandboxes of its own (its Khaos holding `orders`), set up in n8n. */
export async function setupVariant(
	variant: Variant,
	api: ApiClient,
	n8n: { baseUrl: string },
	orders: Array<{ n: number; lines: number }>,
	userFolder: string,
	o: BenchOptions,
): Promise<VariantEnv> {
	const { khaos, rebound } = await startSandboxes(orders, o);
	return variant === 'package'
		? setupPackage(api, n8n, khaos, rebound, userFolder, o)
		: setupBaseline(api, khaos, rebound, o);
}

export async function setActive(api: ApiClient, env: VariantEnv, active: boolean): Promise<void> {
	for (const id of env.workflowIds) {
		if (active) await api.activateWorkflow(id);
		else await api.deactivateWorkflow(id);
	}
}

export async function post(
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
/** "main 1,012 MB peak 9.1 CPU s, worker 1 …" for the log. */
export function processSummary(ps: NonNullable<PhaseResult['processes']>): string {
	return Object.entries(ps)
		.map(
			([label, p]) =>
				`${label}${Number.isFinite(p.rssPeakMb) ? ` ${p.rssPeakMb.toFixed(0)} MB peak` : ''} ${p.cpuS.toFixed(1)} CPU s`,
		)
		.join(', ');
}

export function creditTimes(khaos: KhaosSandbox, refs: Set<string>): Map<string, number> {
	const out = new Map<string, number>();
	for (const r of khaos.state.returns) {
		if (r.creditNoteCode && r.processedAt && refs.has(r.associatedRef))
			out.set(r.associatedRef, Date.parse(r.processedAt));
	}
	return out;
}

/**
 * Puts the record of `count` returns finished within the retention in the package's tables, as the
 * product leaves them at steady state: every return's event (return events) and credit (recorded
 * credits), and the inbox rows of the last two days (historyInboxRows: finished rows leave the inbox
 * after keepDoneInboxHours), 500 a request, bounded by the count. Returns the id of the last inbox
 * row put (0 when none; the summary leaves the history out by id).
 */
export async function fillInboxHistory(
	api: ApiClient,
	tableIds: { inbox: string; events?: string; credits?: string },
	count: number,
): Promise<number> {
	const started = Date.now();
	const inboxFrom = count - historyInboxRows(count);
	const post = (tableId: string, data: Array<Record<string, unknown>>) =>
		data.length
			? api.request('POST', `/data-tables/${encodeURIComponent(tableId)}/rows`, {
					data,
					returnType: 'count',
				})
			: Promise.resolve();
	for (let done = 0; done < count; ) {
		const n = Math.min(500, count - done);
		const rows = Array.from({ length: n }, (_, k) => benchHistoryRow(done + k));
		await post(
			tableIds.inbox,
			rows.filter((_, k) => done + k >= inboxFrom),
		);
		// each row's event, as the intake records it (the intake reads that table, not the inbox)
		if (tableIds.events)
			await post(
				tableIds.events,
				rows.map((r) => ({
					eventId: r.eventId,
					returnId: r.returnId,
					sequence: r.sequence,
					receivedAt: r.receivedAt,
				})),
			);
		// and its credit, as the processor records it
		if (tableIds.credits)
			await post(
				tableIds.credits,
				rows.map((r, k) => benchHistoryCredit(r, done + k)),
			);
		done += n;
	}
	const last = (await api.request(
		'GET',
		`/data-tables/${encodeURIComponent(tableIds.inbox)}/rows?limit=1&sortBy=${encodeURIComponent('id:desc')}`,
	)) as { data?: Array<{ id?: number }> };
	const lastId = Number(last?.data?.[0]?.id ?? 0);
	if (!Number.isFinite(lastId)) throw new Error('inbox history: no row read back');
	console.log(
		`[bench] history: ${count} finished returns (their events and recorded credits; ${count - inboxFrom} inbox rows, ids through ${lastId}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
	);
	return lastId;
}

/** Inbox rows by status (bounded paging), e.g. { done: 98, exception: 2 }, and rows per distinct return (the --inbox-history rows left out). */
export async function inboxSummary(env: VariantEnv): Promise<string> {
	if (!env.inboxTableId) return '';
	const byStatus: Record<string, number> = {};
	const returns = new Set<string>();
	let rows = 0;
	let cursor: string | null = null;
	const historyFilter = env.historyThroughId
		? `&filter=${encodeURIComponent(JSON.stringify({ type: 'and', filters: [{ columnName: 'id', condition: 'gt', value: env.historyThroughId }] }))}`
		: '';
	for (let page = 0; page < 60; page++) {
		const res: { data?: Array<Record<string, unknown>>; nextCursor?: string | null } | null =
			await env.api
				.request(
					'GET',
					`/data-tables/${encodeURIComponent(env.inboxTableId)}/rows?limit=250${historyFilter}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
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
export async function executionStats(
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
export async function waitIdle(
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
export async function lastFailure(env: VariantEnv): Promise<string> {
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

export async function runPhase(
	n8n: Deployment,
	env: VariantEnv,
	plan: PhasePlan,
	firstN: number,
): Promise<PhaseResult> {
	const { khaos, rebound } = env;
	const khaosSeq = khaos.calls.lastSeq;
	const reboundSeq = rebound.calls.lastSeq;
	// RSS of every n8n process (and the services), sampled every second; CPU of every process from /proc before and after
	const sample = () => sampleProcesses(n8n.processes(), n8n.userFolder, n8n.postgres?.port);
	const first: ProcessSample = sample();
	const machineAt = machineCpu();
	const peaks: Record<string, number> = { ...first.rssMb };
	const n8nTotal = (rss: Record<string, number>) =>
		n8n.processes().reduce((t, p) => t + (rss[p.label] ?? 0), 0);
	const rssStartMb = n8nTotal(first.rssMb);
	let rssPeakMb = rssStartMb;
	const sampler = setInterval(() => {
		const now = sample().rssMb;
		for (const [k, v] of Object.entries(now)) peaks[k] = Math.max(peaks[k] ?? 0, v);
		rssPeakMb = Math.max(rssPeakMb, n8nTotal(now));
	}, 1000);
	const started = Date.now();
	const deadline = started + plan.timeoutMs;
	const delivered = new Map<string, number>();
	const refs = new Set<string>();
	const statuses: Record<string, number> = {};
	const poll = plan.delivery === 'poll';
	// (each webhook body is built when it is sent: dated then, as a pushed event is)
	const events = phaseDeliveries(firstN, plan.returns, plan.lines);
	events.forEach((e) => refs.add(benchCreditRef(e.n)));
	const send = async (e: (typeof events)[number]) => {
		const body = e.body();
		delivered.set(benchCreditRef(e.n), Date.now());
		const status = await post(n8n.webhookBaseUrl, env.webhookPath, body);
		statuses[status] = (statuses[status] ?? 0) + 1;
	};

	let inFlight = 0;
	const sending: Array<Promise<void>> = [];
	let pollNote = '';
	if (poll) {
		// graded returns already in ReBound (as after an outage), then the variant's poll workflow is
		// switched on: the package's poll trigger polls at activation, the baseline's schedule within
		// a minute. Every return counts as delivered at the first poll (its first search call).
		for (const e of events) rebound.state.add(benchReboundReturn(e.n, plan.lines));
		const activatedAt = Date.now();
		await setActive(env.api, env, true);
		let firstPoll: number | null = null;
		while (firstPoll === null && Date.now() < deadline) {
			const search = rebound.calls.since(reboundSeq).find((c) => c.method === 'returns/search');
			if (search) firstPoll = Date.parse(search.at);
			else await sleep(250);
		}
		for (const e of events) delivered.set(benchCreditRef(e.n), firstPoll ?? Date.now());
		pollNote =
			firstPoll === null
				? 'no poll within the bound'
				: `first poll ${((firstPoll - activatedAt) / 1000).toFixed(1)} s after the activation request`;
	} else if (plan.rate === null) {
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
	const stallMs = plan.stallMs ?? STALL_MS;
	while (
		credited.size < delivered.size &&
		Date.now() < deadline &&
		Date.now() - lastProgress < stallMs
	) {
		await sleep(500);
		credited = creditTimes(khaos, refs);
		if (credited.size > lastCount) {
			lastCount = credited.size;
			lastProgress = Date.now();
		}
	}
	clearInterval(sampler);
	const last = sample();
	const machineBusy = busyShare(machineAt, machineCpu());
	const wallS = (Date.now() - started) / 1000;
	const timedOut = credited.size < delivered.size;
	const rssEndMb = n8nTotal(last.rssMb);
	rssPeakMb = Math.max(rssPeakMb, rssEndMb);
	const processes: NonNullable<PhaseResult['processes']> = {};
	for (const label of Object.keys(last.cpuS)) {
		processes[label] = {
			rssStartMb: first.rssMb[label] ?? NaN,
			rssEndMb: last.rssMb[label] ?? NaN,
			rssPeakMb: Math.max(peaks[label] ?? NaN, last.rssMb[label] ?? NaN),
			cpuS: Math.max(0, last.cpuS[label] - (first.cpuS[label] ?? last.cpuS[label])),
		};
	}

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
		processes,
		wallS,
		machineBusy,
		timedOut,
		...(poll
			? {
					delivery: 'poll' as const,
					polls: summarizePolls(pollsFromCalls(rebound.calls.since(reboundSeq))),
				}
			: {}),
		note: [
			bad.length ? `webhook answers ${bad.map(([s, c]) => `${s}×${c}`).join(', ')}` : '',
			poll ? pollNote : `delivered in ${(sentMs / 1000).toFixed(1)} s`,
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
	// where the latency goes (package, offered rate, only when successful runs are saved: --keep-executions)
	const processor = env.timingWorkflows.find((w) => w.label === 'processor');
	const paths =
		processor && plan.rate !== null
			? await latencyPaths(env.api, processor.id, delivered, credited, started - 1000)
			: [];
	result.note = [
		result.note,
		`executions (${execs.join('; ')})`,
		inbox,
		paths.length ? `latency path: ${describePaths(paths)}` : '',
	]
		.filter(Boolean)
		.join('; ');
	logErr(
		`[bench] ${env.variant} ${plan.phase}: ${result.credited}/${result.returns} credited in ${(result.drainMs / 1000).toFixed(1)} s (${result.throughput.toFixed(1)}/s), p50 ${(result.latency.p50 / 1000).toFixed(2)} s p95 ${(result.latency.p95 / 1000).toFixed(2)} s, Khaos ${result.khaosCallsPerReturn.toFixed(2)}/return ${JSON.stringify(byMethod)}, RSS ${rssStartMb.toFixed(0)}→${rssEndMb.toFixed(0)} MB (peak ${rssPeakMb.toFixed(0)}; ${processSummary(processes)})${timedOut ? ' TIME BOUND HIT' : ''}; ${result.note}`,
	);
	return result;
}

/** Writes `report` to bench/results/<name>.md, then prints it on stdout, or `json` instead when given (--json). */
export function writeReport(name: string, report: string, json: object | null): void {
	fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
	const file = path.join(__dirname, 'results', `${name}.md`);
	fs.writeFileSync(file, `${report}\n`);
	logErr(`[bench] wrote ${path.relative(process.cwd(), file)}`);
	process.stdout.write(json ? `${JSON.stringify(json, null, 2)}\n` : `${report}\n`);
}

/** A variant's warm-up burst (returns 1..`returns`), logged as `[bench] <label> warm-up: credited/returns`. */
export async function warmUp(
	n8n: Deployment,
	env: VariantEnv,
	p: { returns: number; lines: number; timeoutMs: number },
	label: string,
): Promise<PhaseResult> {
	const w = await runPhase(
		n8n,
		env,
		{
			phase: 'warm-up',
			returns: p.returns,
			lines: p.lines,
			rate: null,
			timeoutMs: p.timeoutMs,
			variants: [env.variant],
		},
		1,
	);
	logErr(`[bench] ${label} warm-up: ${w.credited}/${w.returns}`);
	return w;
}

/** Mean executionTime per node over the newest executions of a workflow that ran `mustHave` (where time goes). */
export async function nodeTimings(
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
