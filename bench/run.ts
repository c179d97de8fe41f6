/**
 * npm run bench [-- --quick] [--khaos-latency 40] [--rebound-latency 20] [--only package|baseline] [--json] [--build]
 *                  [--queue | --db postgres | --mode queue --workers N --webhook-processes M]
 * npm run bench -- --topologies [--returns 300] [--only package|baseline] [--set sqlite,postgres,q1,q2,q2w2]
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
 * <date>-quick.md) and stdout (--json: JSON). `--topologies` runs the
 * deployment comparison instead (bench/topologies.ts). Method and findings:
 * docs/benchmark.md.
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
	logErr,
	nodeTimings,
	runPhase,
	setActive,
	setupBaseline,
	setupPackage,
	sleep,
	startSandboxes,
	waitIdle,
	type BenchOptions,
	type PhasePlan,
	type VariantEnv,
} from './harness';
import { renderReport, type PhaseResult, type Variant } from './stats';

export type { BenchOptions, PhasePlan } from './harness';

// ------------------------------------------------------------------ options

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
		topology: {},
	};
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
				case '--batch-size':
					o.batchSize = num(1, 1000);
					break;
				default:
					throw new Error(
						`Unknown option ${f.raw}. Usage: npm run bench -- [--quick] [--khaos-latency ms] [--rebound-latency ms] [--only package|baseline] [--json] [--build] [--process-every s] [--batch-size n] [--batch-window ms] [--keep-executions] [--cpu-prof dir] [--queue | --db sqlite|postgres --mode regular|queue --workers n --webhook-processes m --concurrency c]; or npm run bench -- --topologies (see bench/topologies.ts)`,
					);
			}
		},
		'',
		o,
	);
	return o;
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
	const o = parseBenchArgs(argv);
	const n8nDescription = describeTopology(resolveTopology(o.topology));
	const topologyTag = topologyFileTag(o.topology);
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
	let n8n: Topology | undefined;
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
					NODE_FUNCTION_ALLOW_BUILTIN: 'crypto',
					...(o.cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${o.cpuProfDir}` } : {}),
				},
			});
		} finally {
			fs.rmSync(path.dirname(installed.tarball), { recursive: true, force: true });
		}
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
		machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GB, shared with other work, Node ${process.version} harness, n8n ${runtime.n8nVersion} on Node 24, ${n8nDescription}`,
		settings: `Khaos latency ${o.khaosLatencyMs} ms/call, ReBound latency ${o.reboundLatencyMs} ms/call, successful runs ${o.keepExecutions ? 'saved' : 'not saved'} in both variants (failed runs saved), ${resolveTopology(o.topology).mode === 'queue' ? `worker concurrency ${resolveTopology(o.topology).concurrency}` : 'production concurrency unlimited (n8n default)'}, package: processor every ${o.processEverySeconds} s, batch ${o.batchSize}, webhook batch window ${o.batchWindowMs} ms; burst delivered by ${BURST_CONCURRENCY} concurrent senders`,
		durationS: (Date.now() - t0) / 1000,
		notes,
	});
	fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
	const file = path.join(
		__dirname,
		'results',
		`${date}${o.quick ? '-quick' : ''}${o.only ? `-${o.only}` : ''}${topologyTag}.md`,
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
