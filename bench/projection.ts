/**
 * The deployment comparison's arithmetic (pure, unit-tested in test/unit/bench/projection.test.ts):
 * CPU seconds per return by process kind from measured per-process CPU, and a PROJECTION of
 * what queue mode with N workers and M webhook processes would drain on a machine with cores to
 * spare, from those costs. Measured here on 2 cores shared by every process; see
 * docs/benchmark.md "Deployments" for the assumptions in words.
 */
import { fmt, markdownTable, ratio } from './stats';

export type ProcessKind =
	| 'main'
	| 'webhook'
	| 'worker'
	| 'postgres'
	| 'redis'
	| 'nginx'
	| 'harness';

export const N8N_KINDS: ProcessKind[] = ['main', 'webhook', 'worker'];
export const SERVICE_KINDS: ProcessKind[] = ['postgres', 'redis', 'nginx'];

/** The kind of a process label: `main` / `n8n`, `webhook 2`, `worker 1`, `postgres`, `redis`, `nginx`, `harness`. */
export function kindOf(label: string): ProcessKind | null {
	const l = label.toLowerCase();
	if (l === 'main' || l === 'n8n') return 'main';
	if (/^webhook\b/.test(l)) return 'webhook';
	if (/^worker\b/.test(l)) return 'worker';
	if (l === 'postgres' || l === 'redis' || l === 'nginx' || l === 'harness') return l;
	return null;
}

/** CPU seconds per return, summed by kind (every worker together, every webhook process together). */
export function costsPerReturn(
	cpuS: Record<string, number>,
	returns: number,
): Partial<Record<ProcessKind, number>> {
	const out: Partial<Record<ProcessKind, number>> = {};
	if (!(returns > 0)) return out;
	for (const [label, s] of Object.entries(cpuS)) {
		const k = kindOf(label);
		if (!k) continue;
		out[k] = (out[k] ?? 0) + s / returns;
	}
	return out;
}

/** Per kind, the median CPU per return over the runs that have that kind (nginx only where it ran). */
export function medianCosts(runs: TopologyRun[]): Partial<Record<ProcessKind, number>> {
	const values: Partial<Record<ProcessKind, number[]>> = {};
	for (const r of runs) {
		if (!(r.credited > 0)) continue;
		for (const [k, c] of Object.entries(costsPerReturn(r.cpuS, r.credited)))
			(values[k as ProcessKind] ??= []).push(c);
	}
	const out: Partial<Record<ProcessKind, number>> = {};
	for (const [k, vs] of Object.entries(values)) {
		const sorted = [...vs].sort((a, b) => a - b);
		const mid = Math.floor(sorted.length / 2);
		out[k as ProcessKind] = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
	}
	return out;
}

/** CPU used over wall time, as a share of the machine's cores (1 = every core busy the whole time). */
export function machineShare(cpuS: Record<string, number>, wallS: number, cores: number): number {
	const total = Object.values(cpuS).reduce((a, b) => a + b, 0);
	return wallS > 0 && cores > 0 ? total / (wallS * cores) : NaN;
}

/** The rate at which every CPU second used per return (the harness included: it shares the machine) would fill `cores` cores. */
export function cpuBoundRate(cpuS: Record<string, number>, returns: number, cores: number): number {
	const total = Object.values(cpuS).reduce((a, b) => a + b, 0);
	return total > 0 && returns > 0 ? cores / (total / returns) : NaN;
}

export interface ProjectionAssumptions {
	/** Cores one n8n process turns into work: its one JavaScript thread is the limit (default 1). */
	coresPerN8nProcess: number;
	/** Cores PostgreSQL may use (default 2). */
	postgresCores: number;
	/** Returns the processor can claim per second: batchSize per schedule tick (package only; null for the baseline). */
	claimCapPerS: number | null;
}

export const DEFAULT_ASSUMPTIONS: ProjectionAssumptions = {
	coresPerN8nProcess: 1,
	postgresCores: 2,
	claimCapPerS: 50,
};

export interface Projection {
	workers: number;
	webhookProcesses: number;
	/** returns/s each tier could drain alone */
	tiers: Array<{ tier: string; capacity: number }>;
	/** returns/s: the smallest tier */
	capacity: number;
	limitedBy: string;
	/** cores busy at that rate: every process kind's CPU per return × rate (the harness left out: Khaos and ReBound are remote in production) */
	coresBusy: number;
}

/**
 * What queue mode with `workers` workers and `webhookProcesses` webhook processes would drain if
 * every process had its cores (PROJECTION): each tier's capacity = cores it may use / CPU seconds
 * per return it spends; the smallest tier wins. With no webhook process, main takes the webhooks
 * (its cost and the webhook cost on one process).
 */
export function project(
	costs: Partial<Record<ProcessKind, number>>,
	workers: number,
	webhookProcesses: number,
	a: ProjectionAssumptions = DEFAULT_ASSUMPTIONS,
): Projection {
	const c = (k: ProcessKind) => costs[k] ?? 0;
	const cap = (cores: number, perReturn: number) => (perReturn > 0 ? cores / perReturn : Infinity);
	const u = a.coresPerN8nProcess;
	const tiers: Array<{ tier: string; capacity: number }> = [];
	if (webhookProcesses > 0) {
		tiers.push({ tier: 'main', capacity: cap(u, c('main')) });
		tiers.push({
			tier: `${webhookProcesses} webhook process${webhookProcesses === 1 ? '' : 'es'}`,
			capacity: cap(webhookProcesses * u, c('webhook')),
		});
	} else {
		tiers.push({ tier: 'main (with webhooks)', capacity: cap(u, c('main') + c('webhook')) });
	}
	tiers.push({
		tier: `${workers} worker${workers === 1 ? '' : 's'}`,
		capacity: cap(workers * u, c('worker')),
	});
	tiers.push({ tier: 'PostgreSQL', capacity: cap(a.postgresCores, c('postgres')) });
	tiers.push({ tier: 'Redis', capacity: cap(1, c('redis')) });
	if (webhookProcesses > 1) tiers.push({ tier: 'nginx', capacity: cap(1, c('nginx')) });
	if (a.claimCapPerS !== null)
		tiers.push({ tier: 'processor claims (batch per tick)', capacity: a.claimCapPerS });
	let best = tiers[0];
	for (const t of tiers) if (t.capacity < best.capacity) best = t;
	// nginx runs only in front of more than one webhook process
	const perReturn = [...N8N_KINDS, ...SERVICE_KINDS]
		.filter((k) => k !== 'nginx' || webhookProcesses > 1)
		.reduce((s, k) => s + c(k), 0);
	return {
		workers,
		webhookProcesses,
		tiers,
		capacity: best.capacity,
		limitedBy: best.tier,
		coresBusy: Number.isFinite(best.capacity) ? best.capacity * perReturn : NaN,
	};
}

/** The projection for every (workers, webhook processes) pair. */
export function projectionGrid(
	costs: Partial<Record<ProcessKind, number>>,
	workers: number[],
	webhookProcesses: number[],
	a: ProjectionAssumptions = DEFAULT_ASSUMPTIONS,
): Projection[] {
	const out: Projection[] = [];
	for (const m of webhookProcesses) for (const n of workers) out.push(project(costs, n, m, a));
	return out;
}

// ------------------------------------------------------------------ the comparison table

/** One deployment's measured run of one variant. */
export interface TopologyRun {
	topology: string;
	variant: 'package' | 'baseline';
	returns: number;
	credited: number;
	throughput: number;
	p95Ms: number;
	khaosCallsPerReturn: number;
	/** per process label: peak RSS during the phase, MB */
	rssPeakMb: Record<string, number>;
	/** per process label: CPU seconds over the phase (first delivery → last credit note, plus the waits around it) */
	cpuS: Record<string, number>;
	wallS: number;
	/** share of the whole machine's CPU busy during the phase (every process, others' too), 0..1 */
	machineBusy?: number;
	timedOut: boolean;
	note?: string;
}

const rssCell = (rss: Record<string, number>) =>
	Object.entries(rss)
		.filter(([label]) => kindOf(label) !== 'harness')
		.map(([label, mb]) => `${label} ${fmt(mb, 0)}`)
		.join(', ');

/** The comparison: one row per deployment and variant, ratios against the reference deployment's run of the same variant (single SQLite; the first run when it is missing). */
export function renderTopologyTable(runs: TopologyRun[], referenceTopology?: string): string {
	const reference = (v: TopologyRun['variant']) =>
		runs.find((r) => r.variant === v && r.topology === referenceTopology) ??
		runs.find((r) => r.variant === v);
	const x = (n: number) => (Number.isFinite(n) ? `${fmt(n, 2)}×` : '—');
	return markdownTable(
		[
			'deployment',
			'variant',
			'credited',
			'returns/s',
			'p95 s',
			'Khaos calls/return',
			'n8n RSS peak, MB (every process)',
			'returns/s vs single SQLite',
			'p95 vs single SQLite',
		],
		runs.map((r) => {
			const ref = reference(r.variant);
			return [
				r.topology,
				r.variant,
				`${r.credited}/${r.returns}${r.timedOut ? ' (time bound hit)' : ''}`,
				fmt(r.throughput, 1),
				fmt(r.p95Ms / 1000, 2),
				fmt(r.khaosCallsPerReturn, 2),
				rssCell(r.rssPeakMb),
				x(ratio(r.throughput, ref?.throughput)),
				x(ratio(r.p95Ms, ref?.p95Ms)),
			];
		}),
	);
}

/** CPU seconds per return by process kind, and how busy the 2 cores were. */
export function renderCostTable(runs: TopologyRun[], cores: number): string {
	const kinds: ProcessKind[] = [...N8N_KINDS, ...SERVICE_KINDS, 'harness'];
	return markdownTable(
		[
			'deployment',
			'variant',
			...kinds.map((k) => `${k} CPU ms/return`),
			'n8n + services ms/return',
			`this run's processes, share of ${cores} cores`,
			'whole machine busy (others too)',
			`CPU-bound rate on ${cores} cores, returns/s`,
			'measured returns/s',
		],
		runs.map((r) => {
			const c = costsPerReturn(r.cpuS, r.credited);
			const total = [...N8N_KINDS, ...SERVICE_KINDS].reduce((s, k) => s + (c[k] ?? 0), 0);
			return [
				r.topology,
				r.variant,
				...kinds.map((k) => (c[k] === undefined ? '—' : fmt(c[k]! * 1000, 0))),
				fmt(total * 1000, 0),
				`${fmt(machineShare(r.cpuS, r.wallS, cores) * 100, 0)} %`,
				r.machineBusy === undefined ? '—' : `${fmt(r.machineBusy * 100, 0)} %`,
				fmt(cpuBoundRate(r.cpuS, r.credited, cores), 1),
				fmt(r.throughput, 1),
			];
		}),
	);
}

/** The PROJECTION table for a grid of workers × webhook processes. */
export function renderProjection(ps: Projection[]): string {
	return markdownTable(
		[
			'workers',
			'webhook processes',
			'projected returns/s',
			'limited by',
			'cores busy at that rate',
			'next tier, returns/s',
		],
		ps.map((p) => {
			const sorted = [...p.tiers].sort((a, b) => a.capacity - b.capacity);
			const next = sorted[1];
			return [
				p.workers,
				p.webhookProcesses,
				fmt(p.capacity, 1),
				p.limitedBy,
				fmt(p.coresBusy, 1),
				next ? `${next.tier} ${fmt(next.capacity, 1)}` : '—',
			];
		}),
	);
}
