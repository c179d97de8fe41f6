import * as fs from 'node:fs';
import {
	checkTargets,
	gcGrowth,
	latencies,
	rssOverRun,
	markdownTable,
	percentile,
	phaseLabel,
	pollsFromCalls,
	ratio,
	renderReport,
	summarize,
	summarizePolls,
	throughput,
	type PhaseResult,
} from '../../../bench/stats';
import {
	hardBoundMs,
	memoryPhase,
	parseBenchArgs,
	planPhases,
	pollPhase,
} from '../../../bench/run';
import {
	benchEvent,
	benchKhaosFixture,
	benchReboundFixture,
	benchReboundReturn,
} from '../../../bench/fixture';
import {
	baselineFiles,
	buildBaselinePollWorkflows,
	loadBaselinePollWorkflow,
	loadBaselineReturnWorkflow,
	loadBaselineWorkflow,
} from '../../../bench/baselineWorkflow';
import { parseHeapUsage } from '../../../bench/inspector';
import { loadFixture as loadReboundFixture } from '../../../sandbox/rebound/state';

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
		expect(
			parseBenchArgs(['--poll-returns', '50', '--memory-returns=0', '--phases', 'poll,memory']),
		).toMatchObject({ pollReturns: 50, memoryReturns: 0, phases: ['poll', 'memory'] });
		expect(parseBenchArgs([]).pollReturns).toBeUndefined();
		expect(() => parseBenchArgs(['--poll-returns', '5001'])).toThrow('--poll-returns');
		expect(() => parseBenchArgs(['--memory-returns', '-1'])).toThrow('--memory-returns');
		expect(() => parseBenchArgs(['--phases', 'burst,nap'])).toThrow(
			'--phases nap: expected a comma list of',
		);
	});

	it('every phase is bounded in count and time; the full plan has the 1,000 burst, both rates and 1/3/10-line bursts for both variants', () => {
		for (const quick of [true, false]) {
			for (const p of planPhases(quick, { pollReturns: 0, memoryReturns: 0 })) {
				expect(p.returns).toBeGreaterThan(0);
				expect(p.returns).toBeLessThanOrEqual(5000);
				expect(p.timeoutMs).toBeLessThanOrEqual(480_000);
			}
		}
		const webhookOnly = planPhases(false, { pollReturns: 0, memoryReturns: 0 });
		expect(webhookOnly.find((p) => p.phase === 'burst')).toMatchObject({
			returns: 1000,
			lines: 3,
			rate: null,
		});
		expect(webhookOnly.filter((p) => p.rate !== null).map((p) => p.rate)).toEqual([5, 20]);
		expect(webhookOnly.every((p) => p.variants.length === 2)).toBe(true);
		// bounded: the webhook phases' bounds stay within ~20 min (both variants, ~25 min)
		expect(webhookOnly.reduce((s, p) => s + p.timeoutMs, 0)).toBeLessThanOrEqual(20 * 60_000);
		expect(webhookOnly.filter((p) => p.phase.startsWith('scale-')).map((p) => p.lines)).toEqual([
			1, 3, 10,
		]);
	});

	it('the poll-fed and memory phases: 1,000 and 5,000 in the full plan, small in the quick one, last, sized by flags, bounded', () => {
		const full = planPhases(false);
		expect(full.slice(-2).map((p) => [p.phase, p.returns, p.delivery ?? 'webhook'])).toEqual([
			['poll', 1000, 'poll'],
			['memory', 5000, 'webhook'],
		]);
		expect(full[full.length - 1].forcedGc).toBe(true);
		const quick = planPhases(true);
		expect(quick.slice(-2).map((p) => [p.phase, p.returns])).toEqual([
			['poll', 40],
			['memory', 100],
		]);
		expect(planPhases(true, { pollReturns: 0 }).map((p) => p.phase)).not.toContain('poll');
		expect(
			planPhases(true, { memoryReturns: 10, phases: ['memory', 'burst'] }).map((p) => [
				p.phase,
				p.returns,
			]),
		).toEqual([
			['burst', 100],
			['memory', 10],
		]);
		// bounds: 3 min at least; the poll phase waits up to a minute for the baseline's schedule
		expect(pollPhase(20).timeoutMs).toBe(180_000);
		expect(pollPhase(1000).timeoutMs).toBe(90_000 + 1_200_000);
		expect(pollPhase(1000).stallMs).toBe(180_000);
		expect(memoryPhase(5000).timeoutMs).toBe(2_000_000);
		expect(memoryPhase(10).timeoutMs).toBe(180_000);
		// the hard bound covers every phase bound and idle wait of both variants, plus setup
		const bound = hardBoundMs(full, 2);
		expect(bound).toBe(full.reduce((t, p) => t + p.timeoutMs + 90_000, 0) * 2 + 15 * 60_000);
		expect(bound).toBeLessThanOrEqual(3 * 60 * 60_000);
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

	it('the poll-fed baseline: Schedule → search → ids → get → graded → dedupe → loop → sub-workflow; the chain is the webhook chain after its first node', () => {
		const { poller, chain } = buildBaselinePollWorkflows();
		expect(poller.nodes.map((n) => n.type)).toEqual([
			'n8n-nodes-base.scheduleTrigger',
			'n8n-nodes-base.httpRequest',
			'n8n-nodes-base.code',
			'n8n-nodes-base.httpRequest',
			'n8n-nodes-base.code',
			'n8n-nodes-base.removeDuplicates',
			'n8n-nodes-base.splitInBatches',
			'n8n-nodes-base.executeWorkflow',
		]);
		// Loop Over Items: output 1 runs the sub-workflow, which loops back
		expect(poller.connections['One Return at a Time']).toEqual({
			main: [[], [{ node: 'Process Return (Sub-workflow)', type: 'main', index: 0 }]],
		});
		expect(poller.connections['Process Return (Sub-workflow)']).toEqual({
			main: [[{ node: 'One Return at a Time', type: 'main', index: 0 }]],
		});
		const webhook = loadBaselineWorkflow({
			khaosUrl: 'http://k',
			webhookPath: 'p',
			webhookId: 'p',
			webhookSecret: 's',
		});
		const sub = loadBaselineReturnWorkflow({ khaosUrl: 'http://k' });
		expect(sub.nodes[0].type).toBe('n8n-nodes-base.executeWorkflowTrigger');
		// the same nodes after the first two, the first-node references renamed
		const rest = (wf: typeof sub, first: string) =>
			JSON.stringify(wf.nodes.slice(2).map((n) => ({ ...n, position: null })))
				.split(first)
				.join('FIRST');
		expect(rest(sub, 'Split Lines')).toBe(rest(webhook, 'Verify Signature and Split Lines'));
		expect(Object.keys(chain.connections)).toHaveLength(chain.nodes.length - 1);
		const filled = loadBaselinePollWorkflow({
			reboundUrl: 'http://127.0.0.1:9/api',
			login: 'l',
			apiKey: 'k"1',
			chainWorkflowId: 'wf1',
		});
		const text = JSON.stringify(filled);
		expect(text).not.toMatch(/\{\{[A-Z_]+\}\}/);
		expect((filled.nodes[1].parameters as any).url).toBe(
			'http://127.0.0.1:9/api/returns/search/json',
		);
		expect((filled.nodes[7].parameters as any).workflowId.value).toBe('wf1');
		expect(
			(filled.nodes[3].parameters as any).bodyParameters.parameters.find(
				(p: any) => p.name === 'api_key',
			).value,
		).toBe('k"1');
	});

	it('the committed baseline files are what the generator writes', () => {
		for (const { file, json } of baselineFiles())
			expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify(json, null, '\t')}\n`);
	});

	it("a bench return in ReBound is the pushed event's return, graded, dated days back; the bench ReBound fixture has no returns", () => {
		const r = benchReboundReturn(8, 3) as any;
		const ev = benchEvent(8, 3) as any;
		expect(r.id).toBe(ev.data.id);
		expect(r.item).toEqual(ev.data.item);
		expect(r).toMatchObject({
			status: 'graded',
			date_added_days_ago: 2,
			order_reference: 'BENCH-000008',
		});
		expect(r.date_added).toBeUndefined();
		const f = loadReboundFixture(benchReboundFixture(100));
		expect(f.returns).toEqual([]);
		expect(f.labelBytes).toBe(100);
		expect(f.credentials.login).toBe('demo-retailer');
	});
});

describe('bench poll and memory measures', () => {
	it('pollsFromCalls: a search after a quiet gap starts a poll; its gets belong to it', () => {
		const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, s)).toISOString();
		const calls = [
			{ at: at(0), method: 'returns/get' }, // before any search: no poll
			{ at: at(1), method: 'returns/search' },
			{ at: at(1), method: 'returns/search' },
			{ at: at(2), method: 'returns/get' },
			{ at: at(3), method: 'returns/get' },
			{ at: at(50), method: 'returns/search' },
			{ at: at(51), method: 'returns/get' },
			{ at: at(58), method: 'returns/search' }, // within the gap: the same poll
		];
		const polls = pollsFromCalls(calls);
		expect(polls.map((p) => [p.searches, p.gets, p.calls])).toEqual([
			[2, 2, 4],
			[2, 1, 3],
		]);
		expect(summarizePolls(polls)).toEqual({
			polls: 2,
			firstPollCalls: 4,
			firstPollSearches: 2,
			laterCallsPerPoll: 3,
			callsPerPoll: 3.5,
		});
		expect(summarizePolls([]).laterCallsPerPoll).toBeNaN();
	});

	it('gcGrowth and the memory target: growth after forced GC, judged only over 5,000 returns', () => {
		const gc = (heap: number, main: number, group: number) => ({
			heapUsedMb: heap,
			heapTotalMb: heap * 2,
			mainRssMb: main,
			groupRssMb: group,
		});
		const mem = phase({
			phase: 'memory',
			returns: 5000,
			gc: { before: gc(200, 500, 700), after: gc(230, 540, 760) },
		});
		expect(gcGrowth(mem)).toEqual({
			heapMb: 30,
			mainRssMb: 40,
			groupRssMb: 60,
			per5000GroupRssMb: 60,
			per5000HeapMb: 30,
		});
		expect(gcGrowth(phase({}))).toBeNull();
		const base = phase({
			variant: 'baseline',
			phase: 'memory',
			returns: 5000,
			gc: { before: gc(200, 500, 700), after: gc(210, 600, 900) },
		});
		const t = checkTargets([mem, base]).find((c) => c.target.startsWith('RSS growth'))!;
		expect(t).toEqual({
			target: 'RSS growth < 100 MB over 5,000 returns (forced GC before and after)',
			value: '60 MB over 5,000 returns; heap 30 MB; the baseline: 200 MB, heap 10 MB',
			met: true,
		});
		const small = checkTargets([{ ...mem, returns: 40 }]).find((c) =>
			c.target.startsWith('RSS growth'),
		)!;
		expect(small.met).toBeNull();
		expect(small.value).toContain('fewer than 5,000: not judged');
		expect(parseHeapUsage('noise\n{"usedSize":209715200,"totalSize":419430400}\n')).toEqual({
			heapUsedMb: 200,
			heapTotalMb: 400,
		});
		expect(() => parseHeapUsage('{"usedSize":"x"}')).toThrow('Runtime.getHeapUsage');
	});

	it('renderReport: the poll-fed burst, the steady-state poll calls, the memory table and the poll target', () => {
		const poll = (v: 'package' | 'baseline', thr: number) =>
			phase({
				variant: v,
				phase: 'poll',
				delivery: 'poll',
				returns: 40,
				credited: 40,
				throughput: thr,
				reboundCallsPerReturn: 1.1,
				polls: {
					polls: 2,
					firstPollCalls: 45,
					firstPollSearches: 5,
					laterCallsPerPoll: 41,
					callsPerPoll: 43,
				},
			});
		const gc = { heapUsedMb: 200, heapTotalMb: 400, mainRssMb: 500, groupRssMb: 700 };
		const md = renderReport(
			[
				poll('package', 10),
				poll('baseline', 2),
				phase({
					phase: 'memory',
					returns: 100,
					credited: 98,
					gc: { before: gc, after: { ...gc, groupRssMb: 712 } },
				}),
			],
			{
				date: '2026-12-03',
				machine: '2 cores',
				settings: 'x',
				durationS: 60,
				pollEconomy: {
					settings: 'lookbackDays 30',
					minutesApart: 1,
					scenarios: [
						{
							label: 'no returns',
							returns: 0,
							firstPollCalls: 5,
							laterPolls: 60,
							laterCallsPerPoll: 1,
							laterMin: 1,
							laterMax: 1,
							perDay: 1440,
						},
					],
				},
			},
		);
		expect(md).toContain('## Poll-fed burst');
		expect(md).toContain('| throughput, returns/s | 10.00 | 2.00 | 5.00× |');
		expect(md).toContain(
			'| ReBound calls per later poll (nothing new) | 41.0 | 41.0 | 1.00× (lower is better) |',
		);
		expect(md).toContain('| no returns | 5 | 60 | 1.0 | 1–1 | 1,440 |');
		expect(md).toContain('## Memory: a burst with a forced garbage collection before and after');
		expect(md).toContain('| package | 98 / 100 |');
		expect(md).toContain('700 → 712 (+12)');
		expect(md).toContain('| poll-fed burst throughput ≥ 5× baseline | 5.00× | yes |');
		expect(phaseLabel(poll('package', 1))).toBe('poll-fed 40 × 3 lines');
		expect(phaseLabel(phase({ phase: 'memory', returns: 5000 }))).toBe(
			'burst 5,000 × 3 lines (memory, forced GC)',
		);
	});
});
