/**
 * npm run bench -- --topologies [--returns 300] [--lines 3] [--warmup 20] [--only package|baseline]
 *                 [--set sqlite,postgres,q1,q2,q2w2] [--khaos-latency 40] [--rebound-latency 20]
 *                 [--max-minutes 30] [--build] [--json]
 *
 * The same load on every n8n deployment the harness starts (scripts/n8n/topology.ts), one after
 * the other, each fresh: single process on SQLite, single process on PostgreSQL, queue mode with
 * 1 worker, with 2 workers (both with 1 webhook process), and with 2 workers and 2 webhook
 * processes behind nginx. Per deployment and variant (the baseline first, then the package, as
 * in bench/run.ts): a warm-up burst, then the measured burst of N returns of `lines` lines by
 * signed webhook to the deployment's webhook URL. Measured: throughput, p95 delivery → credit
 * note, Khaos calls per return, RSS of every process, CPU seconds of every process (/proc) →
 * CPU per return per process kind, and from those a PROJECTION for N workers and M webhook
 * processes on more cores (bench/projection.ts). Every loop is bounded in count and time.
 * Writes bench/results/<date>-topologies.md. Method and results: docs/benchmark.md "Deployments".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureRuntime } from '../scripts/n8n/runtime';
import { commonBenchFlag, eachFlag, type CommonBenchFlags } from '../scripts/cliFlags';
import { createApiKey, freePort, packageLoadErrors, setupOwner } from '../scripts/n8n/instance';
import { installPackage } from '../scripts/n8n/package';
import {
	describeTopology,
	resolveTopology,
	startTopology,
	type Topology,
	type TopologyOptions,
} from '../scripts/n8n/topology';
import {
	BURST_CONCURRENCY,
	harnessOptions,
	logErr,
	processSummary,
	runPhase,
	setActive,
	setupVariant,
	sleep,
	waitIdle,
	warmUp,
	writeReport,
	type VariantEnv,
} from './harness';
import { sampleProcesses } from './procstat';
import { runBounds } from './runBounds';
import {
	DEFAULT_ASSUMPTIONS,
	medianCosts,
	N8N_KINDS,
	SERVICE_KINDS,
	projectionGrid,
	renderCostTable,
	renderProjection,
	renderTopologyTable,
	type ProjectionAssumptions,
	type TopologyRun,
} from './projection';
import { fmt, markdownTable, type PhaseResult, type Variant } from './stats';

export const TOPOLOGY_SET: Record<string, { name: string; topology: TopologyOptions }> = {
	sqlite: { name: 'single process, SQLite', topology: {} },
	postgres: { name: 'single process, PostgreSQL', topology: { db: 'postgres' } },
	q1: {
		name: 'queue: 1 worker, 1 webhook process',
		topology: { mode: 'queue', workers: 1, webhookProcesses: 1 },
	},
	q2: {
		name: 'queue: 2 workers, 1 webhook process',
		topology: { mode: 'queue', workers: 2, webhookProcesses: 1 },
	},
	q2w2: {
		name: 'queue: 2 workers, 2 webhook processes + nginx',
		topology: { mode: 'queue', workers: 2, webhookProcesses: 2 },
	},
};

export interface TopologiesOptions extends CommonBenchFlags {
	returns: number;
	lines: number;
	warmup: number;
	set: string[];
	maxMinutes: number;
}

export function parseTopologiesArgs(argv: string[]): TopologiesOptions {
	const o: TopologiesOptions = {
		returns: 300,
		lines: 3,
		warmup: 20,
		only: null,
		set: Object.keys(TOPOLOGY_SET),
		khaosLatencyMs: 40,
		reboundLatencyMs: 20,
		maxMinutes: 30,
		build: false,
		json: false,
	};
	eachFlag(argv, (f) => {
		const flag = f.name;
		const num = f.num;
		if (commonBenchFlag(f, o)) return;
		switch (flag) {
			case '--returns':
				o.returns = num(1, 2000);
				break;
			case '--lines':
				o.lines = num(1, 20);
				break;
			case '--warmup':
				o.warmup = num(0, 200);
				break;
			case '--max-minutes':
				o.maxMinutes = num(1, 120);
				break;
			case '--set': {
				const v = (f.value() ?? '').split(',').filter(Boolean);
				const bad = v.filter((k) => !TOPOLOGY_SET[k]);
				if (!v.length || bad.length)
					throw new Error(
						`--set ${bad.join(',') || '(empty)'}: expected a comma list of ${Object.keys(TOPOLOGY_SET).join(', ')}`,
					);
				o.set = v;
				break;
			}
			default:
				throw new Error(
					`Unknown option ${f.raw}. Usage: npm run bench -- --topologies [--returns n] [--lines n] [--warmup n] [--only package|baseline] [--set ${Object.keys(TOPOLOGY_SET).join(',')}] [--khaos-latency ms] [--rebound-latency ms] [--max-minutes m] [--build] [--json]`,
				);
		}
	});
	return o;
}

/** A phase's bound: the package drains ~5 returns/s on one process here; 4× that time, at least 2 min, plus the 45 s stall rule inside. */
export function phaseTimeoutMs(returns: number): number {
	return Math.max(120_000, Math.ceil(returns / 5) * 4 * 1000);
}

export function toRun(topology: string, r: PhaseResult): TopologyRun {
	const ps = r.processes ?? {};
	const rssPeakMb: Record<string, number> = {};
	const cpuS: Record<string, number> = {};
	for (const [label, p] of Object.entries(ps)) {
		if (Number.isFinite(p.rssPeakMb)) rssPeakMb[label] = p.rssPeakMb;
		cpuS[label] = p.cpuS;
	}
	return {
		topology,
		variant: r.variant,
		returns: r.returns,
		credited: r.credited,
		throughput: r.throughput,
		p95Ms: r.latency.p95,
		khaosCallsPerReturn: r.khaosCallsPerReturn,
		rssPeakMb,
		cpuS,
		wallS: r.wallS ?? r.drainMs / 1000,
		machineBusy: r.machineBusy,
		timedOut: r.timedOut,
		note: r.note,
	};
}

interface DeploymentRecord {
	key: string;
	name: string;
	describe: string;
	startS: number;
	/** CPU seconds per second per process while idle (before any load), and the load average around the runs */
	idleCpu: Record<string, number>;
	load: string;
	runs: PhaseResult[];
	error?: string;
}

async function runDeployment(
	key: string,
	o: TopologiesOptions,
	ctx: { runtime: Awaited<ReturnType<typeof ensureRuntime>>; tarball: string | null },
	deadline: number,
): Promise<DeploymentRecord & { tarball: string }> {
	const spec = TOPOLOGY_SET[key];
	const hopts = harnessOptions(o);
	const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), `rk-bench-topo-${key}-`));
	const rec: DeploymentRecord = {
		key,
		name: spec.name,
		describe: describeTopology(resolveTopology(spec.topology)),
		startS: 0,
		idleCpu: {},
		load: '',
		runs: [],
	};
	let n8n: Topology | undefined;
	const envs: VariantEnv[] = [];
	let tarball = ctx.tarball ?? '';
	const variants: Variant[] = o.only ? [o.only] : ['baseline', 'package'];
	try {
		const installed = await installPackage(userFolder, {
			skipBuild: !o.build,
			tarball: ctx.tarball ?? undefined,
			log: logErr,
		});
		tarball = installed.tarball;
		const t = Date.now();
		n8n = await startTopology({
			topology: spec.topology,
			runtime: ctx.runtime,
			userFolder,
			tarball,
			port: await freePort(),
			log: logErr,
			env: { NODE_FUNCTION_ALLOW_BUILTIN: 'crypto' },
		});
		rec.startS = (Date.now() - t) / 1000;
		rec.describe = n8n.describe();
		const loadErrors = packageLoadErrors(n8n.logs());
		if (loadErrors.length) throw new Error(`package did not load: ${loadErrors.join('; ')}`);
		const owner = await setupOwner(n8n.baseUrl);
		const api = await createApiKey(n8n.baseUrl, owner);

		// idle cost of every process (timers, queue polling), 10 s before any workflow exists
		const idle0 = sampleProcesses(n8n.processes(), userFolder, n8n.postgres?.port);
		await sleep(10_000);
		const idle1 = sampleProcesses(n8n.processes(), userFolder, n8n.postgres?.port);
		for (const [label, s] of Object.entries(idle1.cpuS))
			if (label !== 'harness' && idle0.cpuS[label] !== undefined)
				rec.idleCpu[label] = (s - idle0.cpuS[label]) / 10;
		const loadBefore = os.loadavg()[0];

		for (const v of variants) {
			if (Date.now() > deadline) throw new Error('run time bound reached');
			// warm-up returns 1..W, measured W+1..W+N, each with its own Khaos order
			const orders = Array.from({ length: o.warmup + o.returns }, (_, i) => ({
				n: i + 1,
				lines: o.lines,
			}));
			const env = await setupVariant(v, api, n8n, orders, userFolder, hopts);
			envs.push(env);
			await setActive(api, env, true);
			await sleep(2_000);
			if (o.warmup > 0)
				await warmUp(
					n8n,
					env,
					{ returns: o.warmup, lines: o.lines, timeoutMs: 90_000 },
					`${key} ${v}`,
				);
			const idle = await waitIdle(env, 90_000);
			if (!idle.ok) throw new Error(`${v}: still busy 90 s after the warm-up (${idle.detail})`);
			const r = await runPhase(
				n8n,
				env,
				{
					phase: 'burst',
					returns: o.returns,
					lines: o.lines,
					rate: null,
					timeoutMs: Math.min(phaseTimeoutMs(o.returns), Math.max(60_000, deadline - Date.now())),
					variants: [v],
				},
				o.warmup + 1,
			);
			rec.runs.push(r);
			logErr(
				`[bench] ${key} ${v}: ${r.credited}/${r.returns} at ${r.throughput.toFixed(2)}/s, p95 ${(r.latency.p95 / 1000).toFixed(2)} s; ${processSummary(r.processes ?? {})}`,
			);
			await setActive(api, env, false);
			// let the package's processor finish what the phase left before the next variant measures
			await waitIdle(env, 60_000);
		}
		rec.load = `load average ${loadBefore.toFixed(2)} before the runs, ${os.loadavg()[0].toFixed(2)} after`;
	} catch (error) {
		rec.error = error instanceof Error ? error.message : String(error);
		logErr(`[bench] ${key} failed: ${rec.error}`);
	} finally {
		if (n8n) await n8n.stop().catch(() => undefined);
		for (const e of envs) {
			await e.khaos.close().catch(() => undefined);
			await e.rebound.close().catch(() => undefined);
		}
		fs.rmSync(userFolder, { recursive: true, force: true });
	}
	return { ...rec, tarball };
}

export function renderTopologiesReport(
	records: Array<Omit<DeploymentRecord, 'runs'> & { runs: TopologyRun[] }>,
	meta: {
		date: string;
		machine: string;
		settings: string;
		durationS: number;
		cores: number;
		assumptions: ProjectionAssumptions;
		command: string;
	},
): string {
	const runs = records.flatMap((r) => r.runs);
	const out: string[] = [
		`# Deployment comparison ${meta.date}`,
		'',
		`Command: \`${meta.command}\`. Machine: ${meta.machine}. ${meta.settings}. Run time ${fmt(meta.durationS, 0)} s.`,
		'',
		'## Measured',
		'',
		renderTopologyTable(runs, TOPOLOGY_SET.sqlite.name),
		'',
		`Ratios are against single-process SQLite in this run (same variant). Every process shares the machine's ${meta.cores} cores: see the CPU table.`,
		'',
		'## CPU per return by process kind (measured, /proc utime+stime of each process group)',
		'',
		renderCostTable(runs, meta.cores),
		'',
		'## Every process',
		'',
		markdownTable(
			[
				'deployment',
				'variant',
				'process',
				'RSS peak MB',
				'CPU s',
				'idle CPU (before load), % of a core',
			],
			records.flatMap((rec) =>
				rec.runs.flatMap((r) =>
					Object.keys(r.cpuS).map((label) => [
						rec.name,
						r.variant,
						label,
						r.rssPeakMb[label] === undefined ? '—' : fmt(r.rssPeakMb[label], 0),
						fmt(r.cpuS[label], 1),
						rec.idleCpu[label] === undefined ? '—' : fmt(rec.idleCpu[label] * 100, 1),
					]),
				),
			),
		),
		'',
		'## Deployments',
		'',
		...records.map(
			(r) =>
				`- ${r.name}: ${r.describe}; started in ${fmt(r.startS, 0)} s${r.load ? `; ${r.load}` : ''}${r.error ? `; **failed: ${r.error}**` : ''}`,
		),
		'',
	];
	for (const v of ['package', 'baseline'] as const) {
		const queueRuns = runs.filter(
			(r) => r.variant === v && records.find((rec) => rec.name === r.topology)?.key.startsWith('q'),
		);
		if (!queueRuns.length) continue;
		const costs = medianCosts(queueRuns);
		const a = {
			...meta.assumptions,
			claimCapPerS: v === 'package' ? meta.assumptions.claimCapPerS : null,
		};
		out.push(
			`## PROJECTION (${v}): N workers, M webhook processes, with the cores they need`,
			'',
			`Not measured: computed from the median CPU per return of each process kind over the queue-mode runs above (${[
				...N8N_KINDS,
				...SERVICE_KINDS,
			]
				.filter((k) => costs[k] !== undefined)
				.map((k) => `${k} ${fmt(costs[k]! * 1000, 0)} ms`)
				.join(
					', ',
				)}). Assumptions: each n8n process turns ${a.coresPerN8nProcess} core into work (its JavaScript thread is the limit); PostgreSQL has ${a.postgresCores} cores; Redis and nginx 1 core each; CPU per return stays what it was here (no lock or connection contention in PostgreSQL, load spread evenly); Khaos and ReBound answer at the same latency at any rate${a.claimCapPerS !== null ? `; the processor claims at most batchSize per schedule tick (${a.claimCapPerS} returns/s)` : ''}.`,
			'',
			renderProjection(projectionGrid(costs, [1, 2, 4, 8], [1, 2, 4], a)),
			'',
		);
	}
	return out.join('\n');
}

export async function topologiesMain(argv: string[]): Promise<void> {
	const o = parseTopologiesArgs(argv);
	const { t0, deadline, hardStop } = runBounds(o.maxMinutes);
	const runtime = await ensureRuntime({ log: logErr });
	const records: DeploymentRecord[] = [];
	let tarball: string | null = null;
	try {
		for (const key of o.set) {
			if (Date.now() > deadline) {
				records.push({
					key,
					name: TOPOLOGY_SET[key].name,
					describe: '',
					startS: 0,
					idleCpu: {},
					load: '',
					runs: [],
					error: `not run: the ${o.maxMinutes} min bound was reached`,
				});
				continue;
			}
			logErr(`[bench] deployment ${key}: ${TOPOLOGY_SET[key].name}`);
			const rec = await runDeployment(key, o, { runtime, tarball }, deadline);
			tarball = rec.tarball || tarball;
			records.push(rec);
		}
	} finally {
		clearTimeout(hardStop);
		if (tarball) fs.rmSync(path.dirname(tarball), { recursive: true, force: true });
	}
	const cores = os.cpus().length;
	const date = new Date().toISOString().slice(0, 10);
	const asRuns = records.map((r) => ({
		...r,
		runs: r.runs.map((p) => toRun(r.name, p)),
	}));
	const report = renderTopologiesReport(asRuns, {
		date,
		machine: `${cores} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GB, Node ${process.version} harness, n8n ${runtime.n8nVersion} on Node 24`,
		settings: `Burst of ${o.returns} returns × ${o.lines} lines per deployment and variant after a warm-up of ${o.warmup}, by ${BURST_CONCURRENCY} concurrent senders to the deployment's webhook URL; Khaos latency ${o.khaosLatencyMs} ms/call, ReBound ${o.reboundLatencyMs} ms/call; successful runs not saved; worker concurrency 10; package: processor every 1 s, batch 50, webhook batch window 50 ms`,
		durationS: (Date.now() - t0) / 1000,
		cores,
		assumptions: DEFAULT_ASSUMPTIONS,
		command: `npm run bench -- --topologies ${argv.join(' ')}`.trim(),
	});
	writeReport(
		`${date}-topologies${o.returns < 100 ? '-smoke' : ''}`,
		report,
		o.json ? { options: o, deployments: asRuns } : null,
	);
}
