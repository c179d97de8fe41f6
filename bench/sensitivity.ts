/**
 * npm run bench -- --khaos-sensitivity [--returns 150] [--lines 3] [--warmup 20]
 *                 [--concurrencies 1,4,0] [--latencies 40,150] [--only package|baseline]
 *                 [--rebound-latency 20] [--max-minutes 25] [--build] [--json]
 *
 * A slow, serial Khaos (issue 15): Khaos web services run on a client's own server and may serve
 * one call at a time. The same burst (N returns × 3 lines by signed webhook, 16 concurrent
 * senders) for both variants in one n8n (one process, SQLite), against a Khaos sandbox that
 * serves at most 1, 4 or unlimited (0) calls at once (fault config `concurrency`,
 * sandbox/shared/faults.ts), at each Khaos latency per call. Cells run latency by latency,
 * concurrency by concurrency, the baseline then the package in each cell, so both meet the same
 * machine. Per cell: throughput of each, package/baseline, Khaos calls per return, how busy Khaos
 * was (served calls × latency / (concurrency × drain time)), calls abandoned by their client while
 * queued (a baseline HTTP Request times out after 30 s). Every cell is bounded in time (and ends
 * when no credit note appeared for 45 s); the whole run by --max-minutes (cells after it are
 * reported as not run) plus a hard exit 5 min later. Writes bench/results/<date>-khaos-sensitivity.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureRuntime } from '../scripts/n8n/runtime';
import { commonBenchFlag, eachFlag, type CommonBenchFlags } from '../scripts/cliFlags';
import { createApiKey, freePort, packageLoadErrors, setupOwner } from '../scripts/n8n/instance';
import { installPackage } from '../scripts/n8n/package';
import { startTopology, type Topology } from '../scripts/n8n/topology';
import {
	BURST_CONCURRENCY,
	harnessOptions,
	logErr,
	runPhase,
	setActive,
	setupVariant,
	sleep,
	waitIdle,
	warmUp,
	writeReport,
	type VariantEnv,
} from './harness';
import { runBounds } from './runBounds';
import { fmt, markdownTable, ratio, type PhaseResult, type Variant } from './stats';

/** With the flags every bench entry reads (--khaos-latency is refused here: --latencies instead). */
export interface SensitivityOptions extends CommonBenchFlags {
	returns: number;
	lines: number;
	warmup: number;
	/** Khaos calls served at once; 0 = unlimited */
	concurrencies: number[];
	/** Khaos latency per call, ms */
	latencies: number[];
	maxMinutes: number;
}

/** Whole numbers from a comma list, each within [min, max]. */
function numberList(flag: string, v: string | undefined, min: number, max: number): number[] {
	const parts = (v ?? '').split(',').filter((x) => x.trim() !== '');
	const nums = parts.map(Number);
	if (!parts.length || nums.some((n) => !Number.isInteger(n) || n < min || n > max))
		throw new Error(`${flag} needs a comma list of whole numbers from ${min} to ${max}`);
	return nums;
}

export function parseSensitivityArgs(argv: string[]): SensitivityOptions {
	const o: SensitivityOptions = {
		// 150: the whole default grid (2 latencies × 3 concurrencies × 2 variants) in ~15 min here;
		// the baseline's cell at concurrency 1 and 150 ms alone takes ~3.5 min (9 calls × 150 ms a return)
		returns: 150,
		lines: 3,
		warmup: 20,
		concurrencies: [1, 4, 0],
		latencies: [40, 150],
		only: null,
		khaosLatencyMs: 40,
		reboundLatencyMs: 20,
		maxMinutes: 25,
		build: false,
		json: false,
	};
	eachFlag(argv, (f) => {
		if (f.name === '--khaos-latency')
			throw new Error('--khaos-sensitivity takes --latencies (a comma list), not --khaos-latency');
		if (commonBenchFlag(f, o)) return;
		switch (f.name) {
			case '--returns':
				o.returns = f.num(1, 2000);
				break;
			case '--lines':
				o.lines = f.num(1, 20);
				break;
			case '--warmup':
				o.warmup = f.num(0, 200);
				break;
			case '--concurrencies':
				o.concurrencies = numberList(f.name, f.value(), 0, 64);
				break;
			case '--latencies':
				o.latencies = numberList(f.name, f.value(), 0, 5000);
				break;
			case '--max-minutes':
				o.maxMinutes = f.num(1, 180);
				break;
			default:
				throw new Error(
					`Unknown option ${f.raw}. Usage: npm run bench -- --khaos-sensitivity [--returns n] [--lines n] [--warmup n] [--concurrencies 1,4,0] [--latencies 40,150] [--only package|baseline] [--rebound-latency ms] [--max-minutes m] [--build] [--json]`,
				);
		}
	});
	return o;
}

/**
 * A cell's bound: the baseline's Khaos work if Khaos were its only limit (9 calls per 3-line
 * return, `latency` each, `concurrency` at once; unlimited counted as 16, the senders) × 1.5 plus
 * a minute, within 2–10 min.
 */
export function cellTimeoutMs(
	returns: number,
	lines: number,
	latencyMs: number,
	concurrency: number,
): number {
	const calls = returns * (2 * lines + 3);
	const khaosMs = (calls * latencyMs) / (concurrency > 0 ? concurrency : BURST_CONCURRENCY);
	return Math.min(600_000, Math.max(120_000, Math.round(khaosMs * 1.5 + 60_000)));
}

/** How busy Khaos was: served calls × latency over what `concurrency` slots could serve in the drain time (null when unlimited). */
export function khaosBusy(
	served: number,
	latencyMs: number,
	concurrency: number,
	drainMs: number,
): number | null {
	if (concurrency <= 0 || !(drainMs > 0)) return null;
	return (served * latencyMs) / (concurrency * drainMs);
}

export interface SensitivityCell {
	latencyMs: number;
	concurrency: number;
	variant: Variant;
	result: PhaseResult | null;
	/** Khaos calls served (answered or failed by a fault) and abandoned by their client while queued */
	served: number;
	abandoned: number;
	busy: number | null;
	note?: string;
}

const concLabel = (c: number) => (c > 0 ? String(c) : 'unlimited');

export function renderSensitivityReport(
	cells: SensitivityCell[],
	meta: { date: string; machine: string; settings: string; durationS: number; command: string },
): string {
	const keys: Array<[number, number]> = [];
	for (const c of cells)
		if (!keys.some(([l, k]) => l === c.latencyMs && k === c.concurrency))
			keys.push([c.latencyMs, c.concurrency]);
	const cell = (l: number, k: number, v: Variant) =>
		cells.find((c) => c.latencyMs === l && c.concurrency === k && c.variant === v);
	const num = (c: SensitivityCell | undefined, get: (r: PhaseResult) => number, d: number) =>
		c?.result ? fmt(get(c.result), d) : 'not run';
	const pct = (x: number | null | undefined) =>
		x === null || x === undefined || !Number.isFinite(x) ? '—' : `${fmt(x * 100, 0)} %`;
	const rows = keys.map(([l, k]) => {
		const p = cell(l, k, 'package');
		const b = cell(l, k, 'baseline');
		const r = ratio(p?.result?.throughput, b?.result?.throughput);
		return [
			`${l} ms`,
			concLabel(k),
			num(p, (x) => x.throughput, 2),
			num(b, (x) => x.throughput, 2),
			Number.isFinite(r) ? `${fmt(r, 2)}×` : '—',
			p?.result ? `${p.result.credited}/${p.result.returns}` : '—',
			b?.result ? `${b.result.credited}/${b.result.returns}` : '—',
			num(p, (x) => x.khaosCallsPerReturn, 2),
			num(b, (x) => x.khaosCallsPerReturn, 2),
			Number.isFinite(ratio(b?.result?.khaosCallsPerReturn, p?.result?.khaosCallsPerReturn))
				? `${fmt(ratio(b?.result?.khaosCallsPerReturn, p?.result?.khaosCallsPerReturn), 1)}×`
				: '—',
			pct(p?.busy),
			pct(b?.busy),
			num(p, (x) => x.latency.p95 / 1000, 1),
			num(b, (x) => x.latency.p95 / 1000, 1),
			b ? String(b.abandoned) : '—',
		];
	});
	const bound = keys.filter(([l, k]) => (cell(l, k, 'baseline')?.busy ?? 0) >= 0.8);
	const boundRatios = bound.map(([l, k]) =>
		ratio(cell(l, k, 'package')?.result?.throughput, cell(l, k, 'baseline')?.result?.throughput),
	);
	const out = [
		`# Khaos sensitivity ${meta.date}`,
		'',
		`Command: \`${meta.command}\`. Machine: ${meta.machine}. ${meta.settings}. Run time ${fmt(meta.durationS, 0)} s.`,
		'',
		'## Throughput against a Khaos serving N calls at once',
		'',
		markdownTable(
			[
				'Khaos latency',
				'Khaos concurrency',
				'package returns/s',
				'baseline returns/s',
				'package/baseline',
				'package credited',
				'baseline credited',
				'package Khaos calls/return',
				'baseline Khaos calls/return',
				'call economy (baseline/package calls)',
				'package Khaos busy',
				'baseline Khaos busy',
				'package p95 s',
				'baseline p95 s',
				'baseline calls abandoned in the queue',
			],
			rows,
		),
		'',
		'Throughput = credited returns / (first delivery → last credit note). Khaos busy = served calls × latency / (concurrency × that time): near 100 % Khaos is the bottleneck. Where both variants keep Khaos busy, package/baseline tends to the call economy (baseline calls per return / package calls per return). A call abandoned in the queue is one whose client gave up (timed out) before Khaos served it; its return is not credited (the baseline has no retry; the package retries with back-off).',
		'',
		'## Where Khaos is the bottleneck (baseline Khaos busy ≥ 80 %)',
		'',
		bound.length
			? markdownTable(
					['Khaos latency', 'Khaos concurrency', 'package/baseline', 'target ≥ 5×'],
					bound.map(([l, k], i) => [
						`${l} ms`,
						concLabel(k),
						Number.isFinite(boundRatios[i]) ? `${fmt(boundRatios[i], 2)}×` : '—',
						Number.isFinite(boundRatios[i]) ? (boundRatios[i] >= 5 ? 'met' : 'not met') : '—',
					]),
				)
			: 'No cell had the baseline keep Khaos ≥ 80 % busy.',
		'',
	];
	const notes = cells.filter((c) => c.note || c.result?.note);
	if (notes.length)
		out.push(
			'## Cell notes',
			'',
			...notes.map(
				(c) =>
					`- ${c.variant}, ${c.latencyMs} ms, concurrency ${concLabel(c.concurrency)}: ${[c.note, c.result?.note].filter(Boolean).join('; ')}`,
			),
			'',
		);
	return out.join('\n');
}

export async function sensitivityMain(argv: string[]): Promise<void> {
	const o = parseSensitivityArgs(argv);
	const { t0, deadline, hardStop } = runBounds(o.maxMinutes);
	const variants: Variant[] = o.only ? [o.only] : ['baseline', 'package'];
	const grid: Array<[number, number]> = o.latencies.flatMap((l) =>
		o.concurrencies.map((k) => [l, k] as [number, number]),
	);
	// return numbers: the warm-up 1..W, then one range per cell, each return with its own Khaos order
	const firstN = (cellIndex: number) => o.warmup + 1 + cellIndex * o.returns;
	const orders = Array.from({ length: o.warmup + grid.length * o.returns }, (_, i) => ({
		n: i + 1,
		lines: o.lines,
	}));
	const hopts = harnessOptions({ ...o, khaosLatencyMs: o.latencies[0] });
	const runtime = await ensureRuntime({ log: logErr });
	const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-bench-sens-'));
	let n8n: Topology | undefined;
	const envs = new Map<Variant, VariantEnv>();
	const cells: SensitivityCell[] = [];
	try {
		const installed = await installPackage(userFolder, { skipBuild: !o.build, log: logErr });
		try {
			n8n = await startTopology({
				topology: {},
				runtime,
				userFolder,
				tarball: installed.tarball,
				port: await freePort(),
				log: logErr,
				env: { NODE_FUNCTION_ALLOW_BUILTIN: 'crypto' },
			});
		} finally {
			fs.rmSync(path.dirname(installed.tarball), { recursive: true, force: true });
		}
		const loadErrors = packageLoadErrors(n8n.logs());
		if (loadErrors.length) throw new Error(`package did not load: ${loadErrors.join('; ')}`);
		const api = await createApiKey(n8n.baseUrl, await setupOwner(n8n.baseUrl));
		for (const v of variants) {
			const env = await setupVariant(v, api, n8n, orders, userFolder, hopts);
			envs.set(v, env);
			await setActive(api, env, false);
			if (o.warmup > 0) {
				// load the workflows and n8n's caches once, at the first latency, unlimited
				env.khaos.faults.configure({ seed: 42, rules: { '*': { latencyMs: o.latencies[0] } } });
				await setActive(api, env, true);
				await sleep(2_000);
				await warmUp(n8n, env, { returns: o.warmup, lines: o.lines, timeoutMs: 120_000 }, v);
				await setActive(api, env, false);
			}
		}
		for (const [i, [latencyMs, concurrency]] of grid.entries()) {
			for (const v of variants) {
				if (Date.now() > deadline) {
					cells.push({
						latencyMs,
						concurrency,
						variant: v,
						result: null,
						served: 0,
						abandoned: 0,
						busy: null,
						note: `not run: the ${o.maxMinutes} min bound was reached`,
					});
					continue;
				}
				const env = envs.get(v)!;
				const idle = await waitIdle(env, 90_000);
				env.khaos.faults.configure({
					seed: 42,
					rules: latencyMs > 0 ? { '*': { latencyMs } } : {},
					concurrency,
				});
				await setActive(api, env, true);
				await sleep(2_000);
				const seq = env.khaos.calls.lastSeq;
				const result = await runPhase(
					n8n,
					env,
					{
						phase: `khaos-${latencyMs}ms-c${concurrency}`,
						returns: o.returns,
						lines: o.lines,
						rate: null,
						timeoutMs: Math.min(
							cellTimeoutMs(o.returns, o.lines, latencyMs, concurrency),
							Math.max(60_000, deadline + 5 * 60_000 - Date.now()),
						),
						variants: [v],
					},
					firstN(i),
				);
				await setActive(api, env, false);
				const calls = env.khaos.calls.since(seq);
				const abandoned = calls.filter((c) => c.outcome === 'abandoned').length;
				const served = calls.length - abandoned;
				const busy = khaosBusy(served, latencyMs, concurrency, result.drainMs);
				cells.push({
					latencyMs,
					concurrency,
					variant: v,
					result,
					served,
					abandoned,
					busy,
					note: idle.ok ? undefined : `not idle before the cell: ${idle.detail}`,
				});
				logErr(
					`[bench] khaos ${latencyMs} ms, concurrency ${concLabel(concurrency)}, ${v}: ${result.credited}/${result.returns} at ${result.throughput.toFixed(2)}/s, Khaos ${result.khaosCallsPerReturn.toFixed(2)}/return, busy ${busy === null ? '—' : `${(busy * 100).toFixed(0)} %`}, ${abandoned} abandoned`,
				);
			}
		}
		// put Khaos back to unlimited so the package's processor can finish anything left
		for (const env of envs.values()) env.khaos.faults.configure({ seed: 42, rules: {} });
	} finally {
		clearTimeout(hardStop);
		if (n8n) await n8n.stop();
		for (const e of envs.values()) {
			await e.khaos.close();
			await e.rebound.close();
		}
		fs.rmSync(userFolder, { recursive: true, force: true });
	}
	const date = new Date().toISOString().slice(0, 10);
	const report = renderSensitivityReport(cells, {
		date,
		machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GB, shared with other work, Node ${process.version} harness, n8n ${runtime.n8nVersion} on Node 24, single process, SQLite`,
		settings: `Per cell and variant a burst of ${o.returns} returns × ${o.lines} lines by ${BURST_CONCURRENCY} concurrent senders (signed webhooks), after a warm-up of ${o.warmup} per variant; ReBound latency ${o.reboundLatencyMs} ms/call; successful runs not saved; package: the import values of bench/run.ts (processor every 1 s, batch 50, webhook batch window 50 ms; Khaos credential: 30 s timeout, 3 attempts); baseline: bench/baseline-workflow.json (HTTP Request timeout 30 s, no retry)`,
		durationS: (Date.now() - t0) / 1000,
		command: `npm run bench -- --khaos-sensitivity ${argv.join(' ')}`.trim(),
	});
	writeReport(
		`${date}-khaos-sensitivity${o.returns < 100 ? '-smoke' : ''}`,
		report,
		o.json ? { options: o, cells } : null,
	);
}
