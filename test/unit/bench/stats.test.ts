import {
	checkTargets,
	latencies,
	rssOverRun,
	markdownTable,
	percentile,
	phaseLabel,
	ratio,
	renderReport,
	summarize,
	throughput,
	type PhaseResult,
} from '../../../bench/stats';
import { parseBenchArgs, planPhases } from '../../../bench/run';
import { benchEvent, benchKhaosFixture } from '../../../bench/fixture';
import { loadBaselineWorkflow } from '../../../bench/baselineWorkflow';

function phase(over: Partial<PhaseResult>): PhaseResult {
	return {
		variant: 'package',
		phase: 'burst',
		returns: 1000,
		lines: 3,
		offeredRate: null,
		credited: 1000,
		drainMs: 50_000,
		throughput: 20,
		latency: summarize([1000, 2000]),
		khaosCallsPerReturn: 1.2,
		reboundCallsPerReturn: 0,
		khaosCallsByMethod: { ProcessReturn: 1000, ImportReturns: 200 },
		rssPeakMb: 900,
		rssStartMb: 700,
		rssEndMb: 750,
		timedOut: false,
		...over,
	};
}

describe('bench stats', () => {
	it('percentile is nearest-rank on unsorted input', () => {
		const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
		expect(percentile(v, 50)).toBe(5);
		expect(percentile(v, 95)).toBe(10);
		expect(percentile(v, 10)).toBe(1);
		expect(percentile(v, 0)).toBe(1);
		expect(percentile(v, 100)).toBe(10);
		expect(
			percentile(
				Array.from({ length: 100 }, (_, i) => i + 1),
				99,
			),
		).toBe(99);
		expect(percentile([], 50)).toBeNaN();
		expect(() => percentile(v, 101)).toThrow('percentile 101');
		expect(v).toEqual([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
	});

	it('summarize, ratio and throughput', () => {
		expect(summarize([300, 100, 200])).toEqual({
			count: 3,
			p50: 200,
			p95: 300,
			p99: 300,
			max: 300,
		});
		expect(ratio(10, 4)).toBe(2.5);
		expect(ratio(10, 0)).toBeNaN();
		expect(ratio(undefined, 4)).toBeNaN();
		expect(throughput(100, 1000, 11_000)).toBe(10);
		expect(throughput(100, 1000, 1000)).toBeNaN();
	});

	it('latencies pair delivery and credit-note times by reference and list the missing', () => {
		const delivered = new Map([
			['RB-1', 1000],
			['RB-2', 2000],
			['RB-3', 3000],
		]);
		const credited = new Map([
			['RB-1', 1500],
			['RB-3', 6000],
			['RB-9', 1],
		]);
		expect(latencies(delivered, credited)).toEqual({ values: [500, 3000], missing: ['RB-2'] });
	});

	it('markdownTable escapes pipes and right-aligns all but the first column', () => {
		expect(markdownTable(['a', 'b'], [['x|y', 1]])).toBe(
			'| a | b |\n| --- | ---: |\n| x\\|y | 1 |',
		);
	});

	it('checkTargets computes the burst speed-up, calls per return, p95 at 5/s and RSS growth', () => {
		const rs = [
			phase({}),
			phase({ variant: 'baseline', throughput: 2.5, khaosCallsPerReturn: 9 }),
			phase({
				phase: 'rate-5',
				offeredRate: 5,
				returns: 250,
				rssStartMb: 750,
				rssEndMb: 760,
				latency: summarize([1000, 6000]),
			}),
		];
		expect(checkTargets(rs)).toEqual([
			{ target: 'Khaos calls per return (3 lines) ≤ 2.5', value: '1.20', met: true },
			{ target: 'burst drain throughput ≥ 5× baseline', value: '8.00×', met: true },
			{ target: 'p95 delivery → credit note < 2 s at 5 returns/s', value: '6.00 s', met: false },
			// package phases in run order: burst (warm-up) ends at 750, rate-5 ends at 760: 10 MB over 250 returns → 200 MB per 5,000
			{
				target: 'RSS growth < 100 MB over 5,000 returns',
				value: '10 MB over 250 returns (≈ 200 MB per 5,000, linear)',
				met: false,
			},
		]);
		expect(
			checkTargets([phase({ phase: 'scale-3', returns: 100, rssEndMb: 701 })]).map((c) => c.met),
		).toEqual([true, null, null, true]);
		expect(checkTargets([]).map((c) => c.met)).toEqual([null, null, null, null]);
		// a burst that hit its time bound under-counts calls: the finished 100-return burst is used
		expect(
			checkTargets([
				phase({ timedOut: true, khaosCallsPerReturn: 1.33 }),
				phase({ phase: 'scale-3', returns: 100, khaosCallsPerReturn: 2.75 }),
			])[0],
		).toEqual({
			target: 'Khaos calls per return (3 lines) ≤ 2.5',
			value: '2.75',
			met: false,
		});
	});

	it('rssOverRun spans the end of the first (warm-up) phase to the end of the last phase of one variant', () => {
		const rs = [
			phase({ rssStartMb: 600, rssEndMb: 700, rssPeakMb: 900 }),
			phase({ variant: 'baseline', rssStartMb: 100, rssEndMb: 5000 }),
			phase({ phase: 'scale-1', returns: 250, rssStartMb: 700, rssEndMb: 760, rssPeakMb: 800 }),
		];
		expect(rssOverRun(rs, 'package')).toEqual({
			returns: 250,
			startMb: 700,
			endMb: 760,
			growthMb: 60,
			per5000Mb: 1200,
			peakMb: 900,
		});
		// one phase only: its own start → end
		expect(rssOverRun(rs, 'baseline')?.growthMb).toBe(4900);
		expect(rssOverRun([], 'package')).toBeNull();
	});

	it('renderReport has the ratio column, the scaling table and the targets', () => {
		const md = renderReport(
			[
				phase({}),
				phase({ variant: 'baseline', throughput: 4, khaosCallsPerReturn: 9 }),
				phase({ phase: 'scale-10', lines: 10, returns: 100, throughput: 8 }),
			],
			{
				date: '2026-11-28',
				machine: '2 cores',
				settings: 'x',
				durationS: 60,
			},
		);
		expect(md).toContain('| burst (3 lines): throughput, returns/s | 20.0 | 4.0 | 5.00× |');
		expect(md).toContain(
			'| Khaos calls per return (3 lines, burst) | 1.20 | 9.00 | 0.13× (lower is better) |',
		);
		expect(md).toContain('| 10 line(s) × 100 returns | 8.0 | not run | — |');
		expect(md).toContain('| burst drain throughput ≥ 5× baseline | 5.00× | yes |');
		expect(phaseLabel(phase({ phase: 'rate-20', offeredRate: 20, returns: 500 }))).toBe(
			'offered 20/s × 3 lines (500)',
		);
	});
});

describe('bench options, plan and data', () => {
	it('parses flags with bounds and refuses unknown ones', () => {
		expect(
			parseBenchArgs([
				'--quick',
				'--khaos-latency',
				'10',
				'--rebound-latency=0',
				'--only',
				'baseline',
				'--json',
			]),
		).toMatchObject({
			quick: true,
			khaosLatencyMs: 10,
			reboundLatencyMs: 0,
			only: 'baseline',
			json: true,
		});
		expect(parseBenchArgs([])).toMatchObject({
			quick: false,
			khaosLatencyMs: 40,
			reboundLatencyMs: 20,
			only: null,
			processEverySeconds: 1,
			keepExecutions: false,
			batchWindowMs: 50,
		});
		expect(
			parseBenchArgs(['--keep-executions', '--batch-window', '0', '--process-every', '2']),
		).toMatchObject({ keepExecutions: true, batchWindowMs: 0, processEverySeconds: 2 });
		expect(() => parseBenchArgs(['--only', 'both'])).toThrow('--only needs package or baseline');
		expect(() => parseBenchArgs(['--khaos-latency', '-1'])).toThrow(
			'--khaos-latency needs a whole number',
		);
		expect(() => parseBenchArgs(['--process-every', '0'])).toThrow('--process-every');
		expect(() => parseBenchArgs(['--fast'])).toThrow('Unknown option --fast');
	});

	it('every phase is bounded in count and time; the full plan has the 1,000 burst, both rates and 1/3/10-line bursts for both variants', () => {
		for (const quick of [true, false]) {
			for (const p of planPhases(quick)) {
				expect(p.returns).toBeGreaterThan(0);
				expect(p.returns).toBeLessThanOrEqual(5000);
				expect(p.timeoutMs).toBeLessThanOrEqual(480_000);
			}
		}
		const full = planPhases(false);
		expect(full.find((p) => p.phase === 'burst')).toMatchObject({
			returns: 1000,
			lines: 3,
			rate: null,
		});
		expect(full.filter((p) => p.rate !== null).map((p) => p.rate)).toEqual([5, 20]);
		expect(full.every((p) => p.variants.length === 2)).toBe(true);
		// bounded: the sum of the phase bounds stays within the run budget (both variants, ~25 min)
		expect(full.reduce((s, p) => s + p.timeoutMs, 0)).toBeLessThanOrEqual(20 * 60_000);
		expect(full.filter((p) => p.phase.startsWith('scale-')).map((p) => p.lines)).toEqual([
			1, 3, 10,
		]);
	});

	it('a bench event and its Khaos order agree on lines and products', () => {
		const f = benchKhaosFixture([{ n: 7, lines: 3 }], 40) as any;
		const order = f.orders.find((o: any) => o.associatedRef === 'BENCH-000007');
		const ev = benchEvent(7, 3) as any;
		expect(ev.data.order_reference).toBe('BENCH-000007');
		expect(ev.data.item.map((i: any) => i.sku_code)).toEqual(
			order.lines.map((l: any) => l.stockCode),
		);
		expect(ev.data.item.map((i: any) => i.final_disposition)).toEqual([
			'Grade B',
			'Damaged',
			'Grade A',
		]);
		expect(f.faults).toEqual({ seed: 42, rules: { '*': { latencyMs: 40 } } });
		expect(f.products.filter((p: any) => p.stockCode.startsWith('BENCH-P'))).toHaveLength(10);
	});

	it('the baseline workflow fills every placeholder and chains Webhook → Code/HTTP Request nodes', () => {
		const wf = loadBaselineWorkflow({
			khaosUrl: 'http://127.0.0.1:1/x',
			webhookPath: 'p/rebound',
			webhookId: 'p',
			webhookSecret: "s'3",
		});
		const text = JSON.stringify(wf);
		expect(text).not.toMatch(/\{\{[A-Z_]+\}\}/);
		expect(wf.nodes.map((n) => n.type)).toEqual([
			'n8n-nodes-base.webhook',
			...Array.from({ length: 5 }, () => [
				'n8n-nodes-base.code',
				'n8n-nodes-base.httpRequest',
			]).flat(),
		]);
		expect(Object.keys(wf.connections)).toHaveLength(wf.nodes.length - 1);
		expect((wf.nodes[2].parameters as any).url).toBe('http://127.0.0.1:1/x');
	});
});
