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
	/** how the returns arrived: signed webhook events (the default) or already in ReBound, taken by the variant's poll workflow */
	delivery?: 'webhook' | 'poll';
	/** the poll-fed phase: the ReBound polls its calls show (bench/stats.ts pollsFromCalls) */
	polls?: PollSummary;
	/** the memory phase: n8n after a forced garbage collection before and after it */
	gc?: { before: GcSnapshot; after: GcSnapshot };
}

/** n8n right after a forced garbage collection (bench/inspector.ts). */
export interface GcSnapshot {
	/** V8 heap used / total of n8n's main process, MB */
	heapUsedMb: number;
	heapTotalMb: number;
	/** RSS of the main process alone, and of its process group (the task runner included), MB */
	mainRssMb: number;
	groupRssMb: number;
}

/** One ReBound poll as its calls show it. */
export interface PollCalls {
	startMs: number;
	searches: number;
	gets: number;
	calls: number;
}

export interface PollSummary {
	polls: number;
	/** calls of the first poll (the one that found the returns) */
	firstPollCalls: number;
	firstPollSearches: number;
	/** mean calls of the later polls (NaN when there were none) */
	laterCallsPerPoll: number;
	callsPerPoll: number;
}

/**
 * Groups ReBound calls (in call order) into polls: a search call after `gapMs` without any call
 * starts a new poll; every other call belongs to the poll before it (a poll is its searches and the
 * gets of the ids they found). Calls before the first search form no poll.
 */
export function pollsFromCalls(
	calls: Array<{ at: string; method: string }>,
	gapMs = 10_000,
): PollCalls[] {
	const polls: PollCalls[] = [];
	let lastMs = -Infinity;
	for (const c of calls) {
		const t = Date.parse(c.at);
		const search = c.method === 'returns/search';
		if (search && (polls.length === 0 || t - lastMs > gapMs))
			polls.push({ startMs: t, searches: 0, gets: 0, calls: 0 });
		lastMs = Math.max(lastMs, t);
		const p = polls[polls.length - 1];
		if (!p) continue;
		p.calls++;
		if (search) p.searches++;
		else if (c.method === 'returns/get') p.gets++;
	}
	return polls;
}

export function summarizePolls(polls: PollCalls[]): PollSummary {
	const later = polls.slice(1);
	return {
		polls: polls.length,
		firstPollCalls: polls[0]?.calls ?? 0,
		firstPollSearches: polls[0]?.searches ?? 0,
		laterCallsPerPoll: later.length ? later.reduce((s, p) => s + p.calls, 0) / later.length : NaN,
		callsPerPoll: polls.length ? polls.reduce((s, p) => s + p.calls, 0) / polls.length : NaN,
	};
}

/** The calls of ReBound polls in steady state (bench/reboundPoll.ts measurePollEconomy), per scenario. */
export interface PollEconomy {
	/** the poll trigger's settings as the template sets them */
	settings: string;
	minutesApart: number;
	scenarios: Array<{
		label: string;
		/** graded returns in ReBound (all seen by the first poll) */
		returns: number;
		firstPollCalls: number;
		/** polls after the first, one every `minutesApart` minutes of simulated clock */
		laterPolls: number;
		laterCallsPerPoll: number;
		laterMin: number;
		laterMax: number;
		/** laterCallsPerPoll × polls per day */
		perDay: number;
	}>;
}

/** Growth over the memory phase (after − before, both after a forced GC), MB, and per 5,000 returns. */
export function gcGrowth(r: PhaseResult): {
	heapMb: number;
	mainRssMb: number;
	groupRssMb: number;
	per5000GroupRssMb: number;
	per5000HeapMb: number;
} | null {
	if (!r.gc) return null;
	const { before, after } = r.gc;
	const scale = r.returns > 0 ? 5000 / r.returns : NaN;
	return {
		heapMb: after.heapUsedMb - before.heapUsedMb,
		mainRssMb: after.mainRssMb - before.mainRssMb,
		groupRssMb: after.groupRssMb - before.groupRssMb,
		per5000GroupRssMb: (after.groupRssMb - before.groupRssMb) * scale,
		per5000HeapMb: (after.heapUsedMb - before.heapUsedMb) * scale,
	};
}

export interface Targets {
	khaosCallsPerReturn3Lines: number;
	burstSpeedup: number;
	p95At5PerSecondMs: number;
	rssGrowthMb: number;
	/** the poll-fed burst, package/baseline throughput (issue 15) */
	pollSpeedup: number;
}

export const TARGETS: Targets = {
	khaosCallsPerReturn3Lines: 2.5,
	burstSpeedup: 5,
	p95At5PerSecondMs: 2000,
	rssGrowthMb: 100,
	pollSpeedup: 5,
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
	const pp = find(rs, 'package', 'poll');
	const bp = find(rs, 'baseline', 'poll');
	const pollSpeed = ratio(pp?.throughput, bp?.throughput);
	if (pp || bp)
		out.push({
			target: `poll-fed burst throughput ≥ ${t.pollSpeedup}× baseline`,
			value: Number.isFinite(pollSpeed) ? `${fmt(pollSpeed, 2)}×` : '—',
			met: Number.isFinite(pollSpeed) ? pollSpeed >= t.pollSpeedup : null,
		});
	const mem = find(rs, 'package', 'memory');
	const memGrowth = mem ? gcGrowth(mem) : null;
	if (mem && memGrowth) {
		const base = find(rs, 'baseline', 'memory');
		const baseGrowth = base ? gcGrowth(base) : null;
		out.push({
			target: `RSS growth < ${t.rssGrowthMb} MB over 5,000 returns (forced GC before and after)`,
			value: `${fmt(memGrowth.groupRssMb, 0)} MB over ${mem.returns.toLocaleString('en-GB')} returns${mem.returns < 5000 ? ' (fewer than 5,000: not judged)' : ''}; heap ${fmt(memGrowth.heapMb, 0)} MB${baseGrowth ? `; the baseline: ${fmt(baseGrowth.groupRssMb, 0)} MB, heap ${fmt(baseGrowth.heapMb, 0)} MB` : ''}`,
			// a shorter run's growth is shown, not judged: n8n's caches fill in the first returns
			met: mem.returns >= 5000 ? memGrowth.groupRssMb < t.rssGrowthMb : null,
		});
		return out;
	}
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
	if (r.phase === 'poll') return `poll-fed ${count} × ${lines}`;
	return `burst ${count} × ${lines}${r.phase === 'memory' ? ' (memory, forced GC)' : ''}`;
}

export function renderReport(
	rs: PhaseResult[],
	meta: {
		date: string;
		machine: string;
		settings: string;
		durationS: number;
		notes?: string[];
		/** ReBound calls of steady-state polls, measured outside n8n (bench/reboundPoll.ts) */
		pollEconomy?: PollEconomy;
	},
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
		['memory', 'returns'],
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

	out.push(...renderPollSection(rs, meta.pollEconomy), ...renderMemorySection(rs));

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

/** "## Poll-fed burst": both variants and the ratio (empty when the phase did not run). */
export function renderPollSection(rs: PhaseResult[], economy?: PollEconomy): string[] {
	const p = find(rs, 'package', 'poll');
	const b = find(rs, 'baseline', 'poll');
	const out: string[] = [];
	if (p || b) {
		const row = (
			label: string,
			get: (r: PhaseResult) => number,
			digits: number,
			lowerIsBetter = false,
		) => {
			const pv = p ? get(p) : undefined;
			const bv = b ? get(b) : undefined;
			const r = ratio(pv, bv);
			return [
				label,
				p ? fmt(pv, digits) : 'not run',
				b ? fmt(bv, digits) : 'not run',
				Number.isFinite(r) ? `${fmt(r, 2)}×${lowerIsBetter ? ' (lower is better)' : ''}` : '—',
			];
		};
		const any = (p ?? b)!;
		out.push(
			'## Poll-fed burst',
			'',
			`${any.returns.toLocaleString('en-GB')} graded returns × ${any.lines} lines already in ReBound (as after an outage), taken by each variant's poll workflow (package: the intake template's ReBound Poll Trigger, every minute; baseline: Schedule Trigger every minute → search → get per id → Loop Over Items → the per-return chain as a sub-workflow). Throughput = returns credited / (first poll → last credit note); latency = first poll → the return's credit note.`,
			'',
			markdownTable(
				['metric', 'package', 'baseline', 'package/baseline'],
				[
					row('returns credited', (r) => r.credited, 0),
					row('throughput, returns/s', (r) => r.throughput, 2),
					row('first poll → last credit note, s', (r) => r.drainMs / 1000, 1, true),
					row('p50 first poll → credit note, s', (r) => r.latency.p50 / 1000, 2, true),
					row('p95 first poll → credit note, s', (r) => r.latency.p95 / 1000, 2, true),
					row('Khaos calls per return', (r) => r.khaosCallsPerReturn, 2, true),
					row('ReBound calls per return', (r) => r.reboundCallsPerReturn, 2, true),
					row('polls seen in the phase', (r) => r.polls?.polls ?? NaN, 0),
					row('ReBound calls, first poll', (r) => r.polls?.firstPollCalls ?? NaN, 0, true),
					row('ReBound searches, first poll', (r) => r.polls?.firstPollSearches ?? NaN, 0, true),
					row(
						'ReBound calls per later poll (nothing new)',
						(r) => r.polls?.laterCallsPerPoll ?? NaN,
						1,
						true,
					),
				],
			),
			'',
		);
	}
	if (economy?.scenarios.length) {
		out.push(
			'## ReBound calls per poll (steady state)',
			'',
			`The package's ReBound Poll Trigger with the intake template's settings (${economy.settings}), run outside n8n against a ReBound sandbox (no latency) on a simulated clock: a first poll, then one every ${economy.minutesApart} minute(s); "per day" = the mean of the later polls × ${Math.round(1440 / economy.minutesApart).toLocaleString('en-GB')} polls.`,
			'',
			markdownTable(
				[
					'ReBound holds',
					'first poll, calls',
					'later polls',
					'calls per later poll (mean)',
					'min–max',
					'calls per day',
				],
				economy.scenarios.map((sc) => [
					sc.label,
					sc.firstPollCalls,
					sc.laterPolls,
					fmt(sc.laterCallsPerPoll, 1),
					`${sc.laterMin}–${sc.laterMax}`,
					fmt(sc.perDay, 0),
				]),
			),
			'',
		);
	}
	return out;
}

/** "## Memory": each variant's memory phase after a forced GC before and after (empty when it did not run). */
export function renderMemorySection(rs: PhaseResult[]): string[] {
	const mem = (['package', 'baseline'] as Variant[])
		.map((v) => find(rs, v, 'memory'))
		.filter((r): r is PhaseResult => !!r);
	if (!mem.length) return [];
	const arrow = (a: number, b: number) =>
		`${fmt(a, 0)} → ${fmt(b, 0)} (${b >= a ? '+' : ''}${fmt(b - a, 0)})`;
	const rows = mem.map((r) => {
		const g = r.gc;
		const growth = gcGrowth(r);
		return [
			r.variant,
			`${r.credited.toLocaleString('en-GB')} / ${r.returns.toLocaleString('en-GB')}`,
			fmt(r.throughput, 1),
			g ? arrow(g.before.heapUsedMb, g.after.heapUsedMb) : 'no forced GC',
			g ? arrow(g.before.mainRssMb, g.after.mainRssMb) : '—',
			g ? arrow(g.before.groupRssMb, g.after.groupRssMb) : '—',
			growth
				? `${fmt(growth.groupRssMb, 0)}${r.returns >= 1000 && r.returns !== 5000 ? ` (≈ ${fmt(growth.per5000GroupRssMb, 0)} per 5,000, linear)` : ''}`
				: '—',
			fmt(r.rssPeakMb, 0),
		];
	});
	const [p, b] = [find(rs, 'package', 'memory'), find(rs, 'baseline', 'memory')];
	const gp = p ? gcGrowth(p) : null;
	const gb = b ? gcGrowth(b) : null;
	return [
		'## Memory: a burst with a forced garbage collection before and after',
		'',
		"Before the phase (the variant idle) and after it (every return credited or the bound hit, then idle again), n8n's main process collects its garbage twice (the inspector's HeapProfiler.collectGarbage); then the V8 heap used, the main process's RSS and its process group's RSS (the task runner included) are read. Growth = after − before.",
		'',
		markdownTable(
			[
				'variant',
				'credited / returns',
				'returns/s',
				'heap used after GC, MB',
				'main RSS after GC, MB',
				'group RSS after GC, MB',
				'group RSS growth, MB',
				'peak RSS during the phase, MB',
			],
			rows,
		),
		'',
		...(gp && gb
			? [
					`Growth package − baseline (what n8n itself does not explain): heap ${fmt(gp.heapMb - gb.heapMb, 0)} MB, group RSS ${fmt(gp.groupRssMb - gb.groupRssMb, 0)} MB.`,
					'',
				]
			: []),
	];
}
