/**
 * npm run bench [-- --quick] [--khaos-latency 40] [--rebound-latency 20] [--only package|baseline] [--json] [--build]
 *                  [--poll-returns N] [--memory-returns N] [--phases burst,poll,memory]
 *                  [--inbox-history N]
 *                  [--queue | --db postgres | --mode queue --workers N --webhook-processes M]
 * npm run bench -- --topologies [--returns 300] [--only package|baseline] [--set sqlite,postgres,q1,q2,q2w2]
 * npm run bench -- --khaos-sensitivity [--returns 150] [--concurrencies 1,4,0] [--latencies 40,150]
 *
 * The package (the imported returns-intake + returns-processor templates) and
 * the baseline (bench/baseline-workflow.json: Webhook, Code, HTTP Request) in
 * the same real n8n 2.40.7 deployment (scripts/n8n/topology.ts: one process on
 * SQLite by default; PostgreSQL or queue mode by the topology flags), each
 * against its own Khaos and ReBound sandbox (in this process, 127.0.0.1, a set
 * latency per call). Signed ReBound `return.processed` events are POSTed to
 * each variant's production webhook (the deployment's webhook URL: main, the
 * webhook process or nginx) as a burst or at an offered rate; a return is done
 * when Khaos has its credit note (the sandbox's return processedAt:
 * ProcessReturn creates the credit note). Every load loop is bounded in count
 * and time. Results: Markdown to bench/results/<date>.md (quick:
 * <date>-quick.md) and stdout (--json: JSON). Besides the webhook phases, each
 * plan has a poll-fed burst (returns already in ReBound, taken by each
 * variant's poll workflow) and a memory phase (a burst with a forced garbage
 * collection in n8n before and after), sized by --poll-returns and
 * --memory-returns (0 leaves the phase out), and the ReBound calls of a
 * steady-state poll with the template's settings (bench/pollEconomy.ts,
 * outside n8n). `--inbox-history N` puts the record of N returns finished
 * within the retention in the package's tables before its first phase, as
 * production holds it at steady state: N return events and N recorded credits
 * (kept 30 days) and the last two days' inbox rows (finished rows leave the
 * inbox after keepDoneInboxHours; Data Tables have no index but the id, so
 * every read scans its table, and every write first measures them all).
 * `--topologies` runs the deployment comparison instead
 * (bench/topologies.ts), `--khaos-sensitivity` package vs baseline against a
 * Khaos serving 1, 4 or unlimited calls at once (bench/sensitivity.ts).
 * Method and findings: docs/benchmark.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureRuntime } from '../scripts/n8n/runtime';
import { commonBenchFlag, eachFlag } from '../scripts/cliFlags';
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
	defaultBenchOptions,
	logErr,
	nodeTimings,
	runPhase,
	setActive,
	setupBaselinePoll,
	setupPackage,
	setupVariant,
	sleep,
	startPollRebound,
	waitIdle,
	writeReport,
	type BenchOptions,
	type PhasePlan,
	type VariantEnv,
} from './harness';
import { forceGc, inspectFlag, processRssMb } from './inspector';
import { measurePollEconomy } from './pollEconomy';
import { historyInboxRows } from './fixture';
import { armHardStop } from './runBounds';
import {
	renderReport,
	type GcSnapshot,
	type PhaseResult,
	type PollEconomy,
	type Variant,
} from './stats';

export type { BenchOptions, PhasePlan } from './harness';

// ------------------------------------------------------------------ options

export function parseBenchArgs(argv: string[]): BenchOptions {
	const o = defaultBenchOptions();
	eachFlag(
		argv,
		(f) => {
			const flag = f.name;
			const num = f.num;
			if (commonBenchFlag(f, o)) return;
			switch (flag) {
				case '--quick':
					o.quick = true;
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
					const dir = f.value();
					if (!dir || dir.startsWith('--')) throw new Error('--cpu-prof needs a folder');
					o.cpuProfDir = path.resolve(dir);
					break;
				}
				case '--n8n-env': {
					const kv = f.value() ?? '';
					const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(kv);
					if (!m) throw new Error(`--n8n-env ${kv || '(empty)'}: expected NAME=value`);
					o.n8nEnv[m[1]] = m[2];
					break;
				}
				case '--batch-size':
					o.batchSize = num(1, 1000);
					break;
				case '--poll-returns':
					o.pollReturns = num(0, 5000);
					break;
				case '--inbox-history':
					o.inboxHistory = num(0, 200_000);
					break;
				case '--memory-returns':
					o.memoryReturns = num(0, 10_000);
					break;
				case '--phases': {
					const v = (f.value() ?? '').split(',').filter(Boolean);
					const bad = v.filter((k) => !PHASE_NAMES.includes(k));
					if (!v.length || bad.length)
						throw new Error(
							`--phases ${bad.join(',') || '(empty)'}: expected a comma list of ${PHASE_NAMES.join(', ')}`,
						);
					o.phases = v;
					break;
				}
				default:
					throw new Error(
						`Unknown option ${f.raw}. Usage: npm run bench -- [--quick] [--khaos-latency ms] [--rebound-latency ms] [--only package|baseline] [--json] [--build] [--process-every s] [--batch-size n] [--batch-window ms] [--keep-executions] [--cpu-prof dir] [--n8n-env NAME=value] [--poll-returns n] [--memory-returns n] [--inbox-history n] [--phases a,b] [--queue | --db sqlite|postgres --mode regular|queue --workers n --webhook-processes m --concurrency c]; or npm run bench -- --topologies (see bench/topologies.ts); or npm run bench -- --khaos-sensitivity (see bench/sensitivity.ts)`,
					);
			}
		},
		'',
		o,
	);
	return o;
}

/** The poll-fed and memory phases' default sizes: the issue's 1,000 and 5,000 for the full plan, small for --quick. */
export const DEFAULT_POLL_RETURNS = { quick: 40, full: 1000 };
export const DEFAULT_MEMORY_RETURNS = { quick: 100, full: 5000 };

/**
 * The poll-fed burst: the baseline takes one return at a time (~2 returns/s here), the package's
 * intake takes the whole poll in one execution; bound = the first poll's wait (≤ 1 min, the
 * baseline's schedule) + 1.2 s per return, at least 3 min; no credit note for 3 min ends it.
 */
export function pollPhase(returns: number): PhasePlan {
	return {
		phase: 'poll',
		returns,
		lines: 3,
		rate: null,
		timeoutMs: Math.max(180_000, 90_000 + returns * 1200),
		variants: ['package', 'baseline'],
		delivery: 'poll',
		stallMs: 180_000,
	};
}

/** The memory phase: a burst with a forced GC before and after; bound 0.4 s per return (both drain 5–8/s here), at least 3 min. */
export function memoryPhase(returns: number): PhasePlan {
	return {
		phase: 'memory',
		returns,
		lines: 3,
		rate: null,
		timeoutMs: Math.max(180_000, returns * 400),
		variants: ['package', 'baseline'],
		forcedGc: true,
	};
}

/** Every phase name of either plan (--phases picks among them). */
export const PHASE_NAMES = [
	'scale-1',
	'scale-3',
	'scale-10',
	'rate-5',
	'rate-20',
	'burst',
	'poll',
	'memory',
];

export function planPhases(
	quick: boolean,
	sizes: { pollReturns?: number; memoryReturns?: number; phases?: string[] } = {},
): PhasePlan[] {
	const all = fullOrQuickPlan(quick, sizes);
	return sizes.phases ? all.filter((p) => sizes.phases!.includes(p.phase)) : all;
}

function fullOrQuickPlan(
	quick: boolean,
	sizes: { pollReturns?: number; memoryReturns?: number },
): PhasePlan[] {
	const both: Variant[] = ['package', 'baseline'];
	const key = quick ? 'quick' : 'full';
	const pollReturns = sizes.pollReturns ?? DEFAULT_POLL_RETURNS[key];
	const memoryReturns = sizes.memoryReturns ?? DEFAULT_MEMORY_RETURNS[key];
	// after the webhook phases: the poll-fed burst, then the memory phase (the largest) last
	const extra = [
		...(pollReturns > 0 ? [pollPhase(pollReturns)] : []),
		...(memoryReturns > 0 ? [memoryPhase(memoryReturns)] : []),
	];
	if (quick) {
		return [
			{ phase: 'burst', returns: 100, lines: 3, rate: null, timeoutMs: 120_000, variants: both },
			{ phase: 'rate-5', returns: 40, lines: 3, rate: 5, timeoutMs: 60_000, variants: both },
			{ phase: 'rate-20', returns: 100, lines: 3, rate: 20, timeoutMs: 60_000, variants: both },
			{ phase: 'scale-1', returns: 20, lines: 1, rate: null, timeoutMs: 60_000, variants: both },
			{ phase: 'scale-10', returns: 20, lines: 10, rate: null, timeoutMs: 60_000, variants: both },
			...extra,
		];
	}
	// small phases first, the 1,000 burst after them: a backlog it leaves cannot spoil the other measurements
	return [
		{ phase: 'scale-1', returns: 100, lines: 1, rate: null, timeoutMs: 90_000, variants: both },
		{ phase: 'scale-3', returns: 100, lines: 3, rate: null, timeoutMs: 90_000, variants: both },
		{ phase: 'scale-10', returns: 100, lines: 10, rate: null, timeoutMs: 120_000, variants: both },
		{ phase: 'rate-5', returns: 200, lines: 3, rate: 5, timeoutMs: 120_000, variants: both },
		{ phase: 'rate-20', returns: 300, lines: 3, rate: 20, timeoutMs: 150_000, variants: both },
		{ phase: 'burst', returns: 1000, lines: 3, rate: null, timeoutMs: 360_000, variants: both },
		...extra,
	];
}

/** The run's hard bound: every phase's bound and idle wait (90 s) per variant, plus 15 min for installing, starting and importing. */
export function hardBoundMs(plan: PhasePlan[], variants: number): number {
	return plan.reduce((t, p) => t + p.timeoutMs + 90_000, 0) * variants + 15 * 60_000;
}

/** "" for the default (single SQLite), else e.g. "-postgres", "-queue-2w-1wh": results of other deployments do not overwrite the default's. */
export function topologyFileTag(t: TopologyOptions): string {
	const r = resolveTopology(t);
	if (r.mode === 'regular') return r.db === 'sqlite' ? '' : '-postgres';
	return `-queue-${r.workers}w-${r.webhookProcesses}wh`;
}

export async function main(argv: string[]): Promise<void> {
	if (argv.includes('--topologies')) {
		// the deployment comparison: its own options and report (bench/topologies.ts)
		const { topologiesMain } = await import('./topologies');
		return topologiesMain(argv.filter((a) => a !== '--topologies'));
	}
	if (argv.includes('--khaos-sensitivity')) {
		// package vs baseline against a Khaos serving 1, 4 or unlimited calls at once (bench/sensitivity.ts)
		const { sensitivityMain } = await import('./sensitivity');
		return sensitivityMain(argv.filter((a) => a !== '--khaos-sensitivity'));
	}
	const o = parseBenchArgs(argv);
	const n8nDescription = describeTopology(resolveTopology(o.topology));
	const topologyTag = topologyFileTag(o.topology);
	const t0 = Date.now();
	const plan = planPhases(o.quick, o);
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
	let n8n: Topology | undefined;
	const envs: VariantEnv[] = [];
	const results: PhaseResult[] = [];
	const notes: string[] = [];
	const boundMs = hardBoundMs(plan, variants.length);
	const hardStop = armHardStop(boundMs);
	// the memory phase's forced GC: n8n's inspector on loopback (one process only: queue mode's processes would share the port)
	const wantsGc = plan.some((p) => p.forcedGc);
	const inspectPort =
		wantsGc && resolveTopology(o.topology).mode === 'regular' ? await freePort() : null;
	if (wantsGc && inspectPort === null)
		notes.push(
			'Memory phase: no forced garbage collection on this deployment (queue mode: several n8n processes); RSS only.',
		);
	// the ReBound calls of a steady-state poll with the template's settings (outside n8n, seconds)
	let pollEconomy: PollEconomy | undefined;
	if (plan.some((p) => p.delivery === 'poll')) {
		pollEconomy = await measurePollEconomy({ returns: [0, 100], laterPolls: 60, minutesApart: 1 });
		for (const sc of pollEconomy.scenarios)
			logErr(
				`[bench] poll economy: ${sc.label}: first poll ${sc.firstPollCalls} calls, later polls ${sc.laterCallsPerPoll.toFixed(1)} calls each (${sc.laterMin}–${sc.laterMax}), ${sc.perDay.toFixed(0)} a day`,
			);
	}
	try {
		const installed = await installPackage(userFolder, { skipBuild: !o.build, log: logErr });
		// NODE_FUNCTION_ALLOW_BUILTIN: the baseline's Code node verifies the HMAC with require('crypto'); same settings for both variants
		try {
			n8n = await startTopology({
				topology: o.topology,
				runtime,
				userFolder,
				tarball: installed.tarball,
				port: await freePort(),
				log: logErr,
				env: {
					...o.n8nEnv,
					NODE_FUNCTION_ALLOW_BUILTIN: 'crypto',
					...(o.cpuProfDir || inspectPort !== null
						? {
								NODE_OPTIONS: [
									o.cpuProfDir ? `--cpu-prof --cpu-prof-dir=${o.cpuProfDir}` : '',
									inspectPort !== null ? inspectFlag(inspectPort) : '',
								]
									.filter(Boolean)
									.join(' '),
							}
						: {}),
				},
			});
		} finally {
			fs.rmSync(path.dirname(installed.tarball), { recursive: true, force: true });
		}
		const loadErrors = packageLoadErrors(n8n.logs());
		if (loadErrors.length) throw new Error(`package did not load: ${loadErrors.join('; ')}`);
		const owner = await setupOwner(n8n.baseUrl);
		const api = await createApiKey(n8n.baseUrl, owner);

		const wantsPoll = plan.some((p) => p.delivery === 'poll');
		const webhookEnvs = new Map<Variant, VariantEnv>();
		const pollEnvs = new Map<Variant, VariantEnv>();
		for (const v of variants) {
			const env = await setupVariant(v, api, n8n, orders.get(v)!, userFolder, o);
			envs.push(env);
			webhookEnvs.set(v, env);
			await setActive(api, env, false);
			if (wantsPoll) {
				// the poll-fed phase: the variant's poll workflow(s) on a ReBound of their own, the same Khaos
				const pollRebound = await startPollRebound(o);
				const pollEnv =
					v === 'package'
						? await setupPackage(api, n8n, env.khaos, pollRebound, userFolder, o, 'poll')
						: await setupBaselinePoll(api, env.khaos, pollRebound, o);
				envs.push(pollEnv);
				pollEnvs.set(v, pollEnv);
				await setActive(api, pollEnv, false);
			}
		}
		for (const v of variants) {
			let active: VariantEnv | null = null;
			for (const p of plan) {
				if (!p.variants.includes(v)) continue;
				const env = (p.delivery === 'poll' ? pollEnvs : webhookEnvs).get(v)!;
				if (active && active !== env) {
					await setActive(api, active, false);
					active = null;
				}
				// a poll phase switches its workflow on itself (activation is when the poll starts)
				if (!active && p.delivery !== 'poll') {
					logErr(`[bench] ${v}: activating`);
					await setActive(api, env, true);
					await sleep(2_000);
					active = env;
				}
				const idle = await waitIdle(env, 90_000);
				if (!idle.ok) {
					notes.push(
						`${v}: ${p.phase} and later phases not run: still busy 90 s after the previous phase (${idle.detail})`,
					);
					break;
				}
				const before =
					p.forcedGc && inspectPort !== null
						? await gcSnapshot(runtime.nodeBin, inspectPort, n8n).catch((e: unknown) => {
								notes.push(`${v} ${p.phase}: forced GC before failed: ${String(e)}`);
								return null;
							})
						: null;
				const result = await runPhase(n8n, env, p, ranges.get(`${v}/${p.phase}`)!);
				if (p.delivery === 'poll') active = env;
				if (before) {
					const settled = await waitIdle(env, 90_000);
					const after = await gcSnapshot(runtime.nodeBin, inspectPort!, n8n).catch((e: unknown) => {
						notes.push(`${v} ${p.phase}: forced GC after failed: ${String(e)}`);
						return null;
					});
					if (after) result.gc = { before, after };
					if (!settled.ok)
						result.note = `${result.note}; not idle before the GC after: ${settled.detail}`;
					logErr(
						`[bench] ${v} ${p.phase}: after forced GC: heap ${before.heapUsedMb.toFixed(0)}→${after?.heapUsedMb.toFixed(0)} MB, main RSS ${before.mainRssMb.toFixed(0)}→${after?.mainRssMb.toFixed(0)} MB, group RSS ${before.groupRssMb.toFixed(0)}→${after?.groupRssMb.toFixed(0)} MB`,
					);
				}
				results.push(result);
				if (p.phase === 'burst' || p.phase === 'rate-5') {
					for (const w of env.timingWorkflows) {
						notes.push(
							`${v} ${w.label} per-node time (${p.phase}): ${await nodeTimings(api, w.id, w.label === 'processor' ? 'Create Credit Note' : null)}`,
						);
					}
				}
			}
			if (active) await setActive(api, active, false);
		}
	} finally {
		clearTimeout(hardStop);
		if (n8n) await n8n.stop();
		for (const sb of new Set(envs.flatMap((e) => [e.khaos, e.rebound]))) await sb.close();
		fs.rmSync(userFolder, { recursive: true, force: true });
	}

	const date = new Date().toISOString().slice(0, 10);
	notes.unshift(
		`Package: the imported returns-intake and returns-processor templates as they are (processEverySeconds ${o.processEverySeconds}, batchSize ${o.batchSize}, Khaos credential batchSize 50, finance not batched; the poll-fed phase: the same templates imported for a second client with the poll trigger, every minute). Baseline: bench/baseline-workflow.json; poll-fed: bench/baseline-poll-workflow.json with bench/baseline-return-workflow.json as its sub-workflow.`,
		'ReBound calls are 0 for both in the webhook phases: the pushed event carries the whole return, neither variant needs to call ReBound back.',
	);
	notes.push(
		"RSS growth over the whole run is measured from the end of a variant's first (warm-up) phase to the end of its last, over the returns in between, and scaled linearly to 5,000 returns; the memory phase (when run) measures it after a forced garbage collection before and after instead.",
	);
	notes.push(
		"Order: baseline first, then the package, each variant on its own sandboxes; webhook phases smallest first, then the 1,000 burst, the poll-fed burst (the variant's poll workflow on a ReBound sandbox of its own, the same Khaos) and the memory phase; before each phase the harness waits (≤ 90 s) until the variant is idle (no running execution, no queued/processing inbox row) and skips the rest when it is not.",
	);
	const report = renderReport(results, {
		date: `${date}${o.quick ? ' (quick)' : ''}`,
		machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GB, shared with other work, Node ${process.version} harness, n8n ${runtime.n8nVersion} on Node 24, ${n8nDescription}`,
		settings: `Khaos latency ${o.khaosLatencyMs} ms/call, ReBound latency ${o.reboundLatencyMs} ms/call, successful runs ${o.keepExecutions ? 'saved' : 'not saved'} in both variants (failed runs saved), ${resolveTopology(o.topology).mode === 'queue' ? `worker concurrency ${resolveTopology(o.topology).concurrency}` : 'production concurrency unlimited (n8n default)'}, package: processor every ${o.processEverySeconds} s, batch ${o.batchSize}, webhook batch window ${o.batchWindowMs} ms${o.inboxHistory > 0 ? `, the record of ${o.inboxHistory} finished returns (--inbox-history: their events and recorded credits, ${historyInboxRows(o.inboxHistory)} inbox rows) before the first phase` : ''}; burst delivered by ${BURST_CONCURRENCY} concurrent senders`,
		durationS: (Date.now() - t0) / 1000,
		notes,
		pollEconomy,
	});
	writeReport(
		`${date}${o.quick ? '-quick' : ''}${o.only ? `-${o.only}` : ''}${o.phases ? `-${o.phases.join('-')}` : ''}${o.inboxHistory > 0 ? `-history${o.inboxHistory}` : ''}${topologyTag}`,
		report,
		o.json ? { options: o, results, notes, pollEconomy } : null,
	);
}

/** n8n after a forced garbage collection: V8 heap of main, RSS of main and of its process group. */
async function gcSnapshot(nodeBin: string, port: number, n8n: Topology): Promise<GcSnapshot> {
	const heap = await forceGc(nodeBin, port);
	// RSS settles a moment after the collection
	await sleep(2_000);
	const main = n8n.processes().find((p) => p.label === 'main') ?? n8n.processes()[0];
	return {
		...heap,
		mainRssMb: processRssMb(main.pid),
		groupRssMb: main.rssKb / 1024,
	};
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
