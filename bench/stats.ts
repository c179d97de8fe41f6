/**
 * Bench statistics and the Markdown report (pure functions, unit-tested in
 * test/unit/bench/stats.test.ts).
 */

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: number[], p: number): number {
	if (values.length === 0) return NaN;
	if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is not between 0 and 100`);
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
	return sorted[rank - 1];
}

export interface LatencySummary {
	count: number;
	p50: number;
	p95: number;
	p99: number;
	max: number;
}

export function summarize(values: number[]): LatencySummary {
	return {
		count: values.length,
		p50: percentile(values, 50),
		p95: percentile(values, 95),
		p99: percentile(values, 99),
		max: values.length ? Math.max(...values) : NaN,
	};
}

/** a / b, NaN when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
	if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
		return NaN;
	return a / b;
}

/** Returns per second over [startMs, endMs]; NaN when the window is empty. */
export function throughput(count: number, startMs: number, endMs: number): number {
	const s = (endMs - startMs) / 1000;
	return s > 0 ? count / s : NaN;
}

/** Per-return latencies (ms) from delivery times and credit-note times keyed by the same id; ids without a credit note are counted as missing. */
export function latencies(
	deliveredAt: Map<string, number>,
	creditedAt: Map<string, number>,
): { values: number[]; missing: string[] } {
	const values: number[] = [];
	const missing: string[] = [];
	for (const [id, t] of deliveredAt) {
		const c = creditedAt.get(id);
		if (c === undefined) missing.push(id);
		else values.push(c - t);
	}
	return { values, missing };
}

export function fmt(n: number | undefined, digits = 1): string {
	if (n === undefined || !Number.isFinite(n)) return '—';
	return n.toLocaleString('en-GB', {
		minimumFractionDigits: digits,
		maximumFractionDigits: digits,
	});
}

/** A Markdown table; cells are escaped for `|`. */
export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
	const esc = (c: string | number) => String(c).replace(/\|/g, '\\|');
	const lines = [
		`| ${header.map(esc).join(' | ')} |`,
		`| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
	];
	for (const r of rows) lines.push(`| ${r.map(esc).join(' | ')} |`);
	return lines.join('\n');
}

// ------------------------------------------------------------------ results

export type Variant = 'package' | 'baseline';

/** One measured phase of one variant. */
export interface PhaseResult {
	variant: Variant;
	phase: string;
	/** returns delivered */
	returns: number;
	lines: number;
	/** offered rate (returns/s), null for a burst */
	offeredRate: number | null;
	/** returns with a credit note recorded in Khaos */
	credited: number;
	/** first delivery → last credit note (ms) */
	drainMs: number;
	throughput: number;
	latency: LatencySummary;
	khaosCallsPerReturn: number;
	reboundCallsPerReturn: number;
	khaosCallsByMethod: Record<string, number>;
	rssPeakMb: number;
	rssStartMb: number;
	rssEndMb: number;
	/** per process (`main`, `webhook 1`, `worker 2`, `postgres`, `redis`, `nginx`, `harness`): RSS over the phase, MB, and CPU seconds used in it */
	processes?: Record<
		string,
		{ rssStartMb: number; rssEndMb: number; rssPeakMb: number; cpuS: number }
	>;
	/** wall time of the phase (start of delivery → last credit note or the bound), s */
	wallS?: number;
	/** share of the whole machine's CPU busy during the phase (every process on it, ours and others'), 0..1 */
	machineBusy?: number;
	timedOut: boolean;
	note?: string;
}

export interface Targets {
	khaosCallsPerReturn3Lines: number;
	burstSpeedup: number;
	p95At5PerSecondMs: number;
	rssGrowthMb: number;
}

export const TARGETS: Targets = {
	khaosCallsPerReturn3Lines: 2.5,
	burstSpeedup: 5,
	p95At5PerSecondMs: 2000,
	rssGrowthMb: 100,
};

const find = (rs: PhaseResult[], v: Variant, phase: string) =>
	rs.find((r) => r.variant === v && r.phase === phase);

/**
 * RSS growth of a variant, in run order: from the END of its first phase (the warm-up: n8n loads the
 * workflows and its caches, and whatever the other variant left in the same process is collected)
 * to the end of its last phase, over the returns of the phases in between; with one phase only, that
 * phase's start → end. Null when none ran.
 */
export function rssOverRun(
	rs: PhaseResult[],
	v: Variant,
): {
	returns: number;
	startMb: number;
	endMb: number;
	growthMb: number;
	per5000Mb: number;
	peakMb: number;
} | null {
	const mine = rs.filter((r) => r.variant === v);
	if (!mine.length) return null;
	const measured = mine.length > 1 ? mine.slice(1) : mine;
	const returns = measured.reduce((s, r) => s + r.returns, 0);
	const startMb = mine.length > 1 ? mine[0].rssEndMb : mine[0].rssStartMb;
	const endMb = mine[mine.length - 1].rssEndMb;
	const growthMb = endMb - startMb;
	return {
		returns,
		startMb,
		endMb,
		growthMb,
		per5000Mb: returns > 0 ? (growthMb * 5000) / returns : NaN,
		peakMb: Math.max(...mine.map((r) => r.rssPeakMb)),
	};
}

export interface TargetCheck {
	target: string;
	value: string;
	met: boolean | null;
}

export function checkTargets(rs: PhaseResult[], t: Targets = TARGETS): TargetCheck[] {
	const out: TargetCheck[] = [];
	// a phase that hit its time bound under-counts (calls per delivered return): prefer a finished one
	const p3 =
		[find(rs, 'package', 'burst'), find(rs, 'package', 'scale-3')].find((r) => r && !r.timedOut) ??
		find(rs, 'package', 'burst');
	out.push({
		target: `Khaos calls per return (3 lines) ≤ ${t.khaosCallsPerReturn3Lines}`,
		value: p3 ? fmt(p3.khaosCallsPerReturn, 2) : '—',
		met: p3 ? p3.khaosCallsPerReturn <= t.khaosCallsPerReturn3Lines : null,
	});
	const pb = find(rs, 'package', 'burst');
	const bb = find(rs, 'baseline', 'burst');
	const speed = ratio(pb?.throughput, bb?.throughput);
	out.push({
		target: `burst drain throughput ≥ ${t.burstSpeedup}× baseline`,
		value: Number.isFinite(speed) ? `${fmt(speed, 2)}×` : '—',
		met: Number.isFinite(speed) ? speed >= t.burstSpeedup : null,
	});
	const p5 = find(rs, 'package', 'rate-5');
	out.push({
		target: `p95 delivery → credit note < ${t.p95At5PerSecondMs / 1000} s at 5 returns/s`,
		value: p5 ? `${fmt(p5.latency.p95 / 1000, 2)} s` : '—',
		met: p5 && Number.isFinite(p5.latency.p95) ? p5.latency.p95 < t.p95At5PerSecondMs : null,
	});
	const run = rssOverRun(rs, 'package');
	out.push({
		target: `RSS growth < ${t.rssGrowthMb} MB over 5,000 returns`,
		value: run
			? `${fmt(run.growthMb, 0)} MB over ${run.returns.toLocaleString('en-GB')} returns${run.returns < 5000 ? ` (≈ ${fmt(run.per5000Mb, 0)} MB per 5,000, linear)` : ''}`
			: '—',
		met: run && Number.isFinite(run.per5000Mb) ? run.per5000Mb < t.rssGrowthMb : null,
	});
	return out;
}

/** A row label: "burst 1,000 × 3 lines", "offered 5/s × 3 lines (250)". */
export function phaseLabel(
	r: Pick<PhaseResult, 'phase' | 'returns' | 'lines' | 'offeredRate'>,
): string {
	const lines = `${r.lines} line${r.lines === 1 ? '' : 's'}`;
	const count = r.returns.toLocaleString('en-GB');
	if (r.offeredRate !== null) return `offered ${r.offeredRate}/s × ${lines} (${count})`;
	return `burst ${count} × ${lines}${r.phase === 'rss' ? ' (RSS run)' : ''}`;
}

export function renderReport(
	rs: PhaseResult[],
	meta: { date: string; machine: string; settings: string; durationS: number; notes?: string[] },
): string {
	const out: string[] = [];
	out.push(
		`# Bench results ${meta.date}`,
		'',
		`Machine: ${meta.machine}. ${meta.settings}. Run time ${fmt(meta.durationS, 0)} s.`,
		'',
	);

	out.push('## Per variant', '');
	const variants: Variant[] = ['package', 'baseline'];
	const metric = (
		label: string,
		get: (v: Variant) => number | undefined,
		digits: number,
		lowerIsBetter = false,
	) => {
		const [p, b] = variants.map(get);
		const r = ratio(p, b);
		return [
			label,
			fmt(p, digits),
			fmt(b, digits),
			Number.isFinite(r) ? `${fmt(r, 2)}×${lowerIsBetter ? ' (lower is better)' : ''}` : '—',
		];
	};
	const ph = (v: Variant, phase: string) => find(rs, v, phase);
	out.push(
		markdownTable(
			['metric', 'package', 'baseline', 'package/baseline'],
			[
				metric('burst (3 lines): throughput, returns/s', (v) => ph(v, 'burst')?.throughput, 1),
				metric(
					'burst: first delivery → last credit note, s',
					(v) => (ph(v, 'burst')?.drainMs ?? NaN) / 1000,
					1,
					true,
				),
				metric(
					'offered 5/s: p50 latency, s',
					(v) => (ph(v, 'rate-5')?.latency.p50 ?? NaN) / 1000,
					2,
					true,
				),
				metric(
					'offered 5/s: p95 latency, s',
					(v) => (ph(v, 'rate-5')?.latency.p95 ?? NaN) / 1000,
					2,
					true,
				),
				metric(
					'offered 5/s: p99 latency, s',
					(v) => (ph(v, 'rate-5')?.latency.p99 ?? NaN) / 1000,
					2,
					true,
				),
				metric(
					'offered 20/s: p50 latency, s',
					(v) => (ph(v, 'rate-20')?.latency.p50 ?? NaN) / 1000,
					2,
					true,
				),
				metric(
					'offered 20/s: p95 latency, s',
					(v) => (ph(v, 'rate-20')?.latency.p95 ?? NaN) / 1000,
					2,
					true,
				),
				metric(
					'offered 20/s: p99 latency, s',
					(v) => (ph(v, 'rate-20')?.latency.p99 ?? NaN) / 1000,
					2,
					true,
				),
				metric(
					'Khaos calls per return (3 lines, burst)',
					(v) => ph(v, 'burst')?.khaosCallsPerReturn,
					2,
					true,
				),
				metric(
					'ReBound calls per return (3 lines, burst)',
					(v) => ph(v, 'burst')?.reboundCallsPerReturn,
					2,
					true,
				),
				metric(
					'n8n peak RSS (every n8n process with its task runner, summed), MB',
					(v) => rssOverRun(rs, v)?.peakMb,
					0,
					true,
				),
				metric('RSS growth over the whole run, MB', (v) => rssOverRun(rs, v)?.growthMb, 0, true),
				metric(
					'RSS growth per 5,000 returns (linear), MB',
					(v) => rssOverRun(rs, v)?.per5000Mb,
					0,
					true,
				),
				[
					'returns in the whole run',
					String(rssOverRun(rs, 'package')?.returns ?? '—'),
					String(rssOverRun(rs, 'baseline')?.returns ?? '—'),
					'',
				],
			],
		),
		'',
	);

	out.push('## Scaling (bursts)', '');
	const scaleRows: Array<Array<string | number>> = [];
	const axis: Array<[string, string]> = [
		['scale-1', 'lines'],
		['scale-3', 'lines'],
		['scale-10', 'lines'],
		['scale-3', 'returns'],
		['burst', 'returns'],
		['rss', 'returns'],
	];
	for (const [phase, by] of axis) {
		const p = ph('package', phase);
		const b = ph('baseline', phase);
		const any = p ?? b;
		if (!any) continue;
		const cell = (r: PhaseResult | undefined, get: (r: PhaseResult) => number, d: number) =>
			r ? fmt(get(r), d) : 'not run';
		scaleRows.push([
			by === 'lines'
				? `${any.lines} line(s) × ${any.returns} returns`
				: `${any.returns.toLocaleString('en-GB')} returns × ${any.lines} lines`,
			cell(p, (r) => r.throughput, 1),
			cell(b, (r) => r.throughput, 1),
			Number.isFinite(ratio(p?.throughput, b?.throughput))
				? `${fmt(ratio(p?.throughput, b?.throughput), 2)}×`
				: '—',
			cell(p, (r) => r.khaosCallsPerReturn, 2),
			cell(b, (r) => r.khaosCallsPerReturn, 2),
			cell(p, (r) => r.latency.p95 / 1000, 1),
			cell(b, (r) => r.latency.p95 / 1000, 1),
		]);
	}
	out.push(
		markdownTable(
			[
				'burst',
				'package returns/s',
				'baseline returns/s',
				'package/baseline',
				'package Khaos calls/return',
				'baseline Khaos calls/return',
				'package p95 s',
				'baseline p95 s',
			],
			scaleRows,
		),
		'',
	);

	out.push('## Every phase', '');
	out.push(
		markdownTable(
			[
				'variant',
				'phase',
				'returns',
				'credited',
				'drain s',
				'returns/s',
				'p50 s',
				'p95 s',
				'p99 s',
				'Khaos calls/return',
				'ReBound calls/return',
				'RSS start→end (peak) MB',
			],
			rs.map((r) => [
				r.variant,
				phaseLabel(r) + (r.timedOut ? ' (time bound hit)' : ''),
				r.returns,
				r.credited,
				fmt(r.drainMs / 1000, 1),
				fmt(r.throughput, 1),
				fmt(r.latency.p50 / 1000, 2),
				fmt(r.latency.p95 / 1000, 2),
				fmt(r.latency.p99 / 1000, 2),
				fmt(r.khaosCallsPerReturn, 2),
				fmt(r.reboundCallsPerReturn, 2),
				`${fmt(r.rssStartMb, 0)}→${fmt(r.rssEndMb, 0)} (${fmt(r.rssPeakMb, 0)})`,
			]),
		),
		'',
	);

	const withProcesses = rs.filter((r) => r.processes && Object.keys(r.processes).length);
	if (withProcesses.length) {
		out.push('## Every process (RSS and CPU per phase)', '');
		out.push(
			markdownTable(
				['variant', 'phase', 'process', 'RSS start→end (peak) MB', 'CPU s', 'CPU ms/return'],
				withProcesses.flatMap((r) =>
					Object.entries(r.processes!).map(([label, p]) => [
						r.variant,
						phaseLabel(r),
						label,
						Number.isFinite(p.rssPeakMb)
							? `${fmt(p.rssStartMb, 0)}→${fmt(p.rssEndMb, 0)} (${fmt(p.rssPeakMb, 0)})`
							: '—',
						fmt(p.cpuS, 1),
						fmt((p.cpuS * 1000) / Math.max(1, r.credited), 0),
					]),
				),
			),
			'',
		);
	}

	out.push('## Khaos calls by method (per return)', '');
	out.push(
		markdownTable(
			['variant', 'phase', 'calls by method'],
			rs.map((r) => [
				r.variant,
				phaseLabel(r),
				Object.entries(r.khaosCallsByMethod)
					.map(([m, c]) => `${m} ${fmt(c / Math.max(1, r.returns), 2)}`)
					.join(', '),
			]),
		),
		'',
	);

	const phaseNotes = rs.filter((r) => r.note);
	if (phaseNotes.length)
		out.push(
			'## Phase notes',
			'',
			...phaseNotes.map((r) => `- ${r.variant}, ${phaseLabel(r)}: ${r.note}`),
			'',
		);

	out.push('## Targets (default latencies)', '');
	out.push(
		markdownTable(
			['target', 'measured', 'met'],
			checkTargets(rs).map((c) => [
				c.target,
				c.value,
				c.met === null ? 'not measured' : c.met ? 'yes' : 'no',
			]),
		),
		'',
	);
	if (meta.notes?.length) out.push('## Notes', '', ...meta.notes.map((n) => `- ${n}`), '');
	return out.join('\n');
}
