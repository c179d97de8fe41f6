import {
	TOPOLOGY_SET,
	parseTopologiesArgs,
	phaseTimeoutMs,
	renderTopologiesReport,
	toRun,
} from '../../../bench/topologies';
import { parseBenchArgs, topologyFileTag } from '../../../bench/run';
import { DEFAULT_ASSUMPTIONS } from '../../../bench/projection';
import { summarize, type PhaseResult } from '../../../bench/stats';

const phase = (over: Partial<PhaseResult>): PhaseResult => ({
	variant: 'package',
	phase: 'burst',
	returns: 100,
	lines: 3,
	offeredRate: null,
	credited: 100,
	drainMs: 20_000,
	throughput: 5,
	latency: summarize([1000, 4000]),
	khaosCallsPerReturn: 1.4,
	reboundCallsPerReturn: 0,
	khaosCallsByMethod: {},
	rssPeakMb: 1000,
	rssStartMb: 800,
	rssEndMb: 900,
	timedOut: false,
	wallS: 25,
	processes: {
		main: { rssStartMb: 400, rssEndMb: 500, rssPeakMb: 600, cpuS: 5 },
		'worker 1': { rssStartMb: 300, rssEndMb: 350, rssPeakMb: 380, cpuS: 20 },
		'webhook 1': { rssStartMb: 300, rssEndMb: 350, rssPeakMb: 360, cpuS: 10 },
		postgres: { rssStartMb: 100, rssEndMb: 120, rssPeakMb: 130, cpuS: 4 },
		harness: { rssStartMb: NaN, rssEndMb: NaN, rssPeakMb: NaN, cpuS: 3 },
	},
	...over,
});

describe('bench deployments', () => {
	it('the five deployments of issue 14, in order', () => {
		expect(Object.keys(TOPOLOGY_SET)).toEqual(['sqlite', 'postgres', 'q1', 'q2', 'q2w2']);
		expect(TOPOLOGY_SET.q2w2.topology).toEqual({ mode: 'queue', workers: 2, webhookProcesses: 2 });
	});

	it('parses its options with bounds', () => {
		expect(parseTopologiesArgs([])).toMatchObject({
			returns: 300,
			lines: 3,
			warmup: 20,
			only: null,
			set: ['sqlite', 'postgres', 'q1', 'q2', 'q2w2'],
			maxMinutes: 30,
		});
		expect(
			parseTopologiesArgs([
				'--returns',
				'20',
				'--set=sqlite,q2',
				'--only',
				'package',
				'--warmup=0',
			]),
		).toMatchObject({ returns: 20, set: ['sqlite', 'q2'], only: 'package', warmup: 0 });
		expect(() => parseTopologiesArgs(['--set', 'sqlite,q9'])).toThrow('--set q9');
		expect(() => parseTopologiesArgs(['--returns', '0'])).toThrow('--returns needs');
		expect(() => parseTopologiesArgs(['--returns', '5000'])).toThrow('--returns needs');
		expect(() => parseTopologiesArgs(['--queue'])).toThrow('Unknown option --queue');
	});

	it('bounds every phase: at least 2 min, more for bigger bursts', () => {
		expect(phaseTimeoutMs(20)).toBe(120_000);
		expect(phaseTimeoutMs(300)).toBe(240_000);
	});

	it('bench/run.ts takes the topology flags and names its results file after them', () => {
		expect(parseBenchArgs(['--queue']).topology).toEqual({
			mode: 'queue',
			db: 'postgres',
			workers: 2,
			webhookProcesses: 1,
		});
		expect(
			parseBenchArgs(['--mode', 'queue', '--workers', '1', '--webhook-processes=2', '--quick'])
				.topology,
		).toEqual({ mode: 'queue', workers: 1, webhookProcesses: 2 });
		expect(parseBenchArgs(['--db', 'postgres']).topology).toEqual({ db: 'postgres' });
		expect(() => parseBenchArgs(['--db', 'mysql'])).toThrow('--db mysql');
		expect(topologyFileTag({})).toBe('');
		expect(topologyFileTag({ db: 'postgres' })).toBe('-postgres');
		expect(topologyFileTag({ mode: 'queue', workers: 2, webhookProcesses: 2 })).toBe(
			'-queue-2w-2wh',
		);
	});

	it('turns a phase into a deployment run and reports measured tables and a labelled PROJECTION', () => {
		const r = toRun('queue: 1 worker, 1 webhook process', phase({}));
		expect(r.rssPeakMb).toEqual({ main: 600, 'worker 1': 380, 'webhook 1': 360, postgres: 130 });
		expect(r.cpuS.harness).toBe(3);
		expect(r.p95Ms).toBe(4000);
		const single = toRun(
			'single process, SQLite',
			phase({
				throughput: 4,
				processes: { main: { rssStartMb: 1, rssEndMb: 1, rssPeakMb: 900, cpuS: 30 } },
			}),
		);
		const report = renderTopologiesReport(
			[
				{
					key: 'sqlite',
					name: 'single process, SQLite',
					describe: 'single',
					startS: 40,
					idleCpu: { main: 0.01 },
					load: 'load average 1.00 before the runs, 2.00 after',
					runs: [single],
				},
				{
					key: 'q1',
					name: 'queue: 1 worker, 1 webhook process',
					describe: 'queue',
					startS: 60,
					idleCpu: {},
					load: '',
					runs: [r],
				},
				{
					key: 'q2',
					name: 'queue: 2 workers, 1 webhook process',
					describe: '',
					startS: 0,
					idleCpu: {},
					load: '',
					runs: [],
					error: 'boom',
				},
			],
			{
				date: '2026-12-03',
				machine: '2 cores',
				settings: 'burst',
				durationS: 100,
				cores: 2,
				assumptions: DEFAULT_ASSUMPTIONS,
				command: 'npm run bench -- --topologies',
			},
		);
		expect(report).toContain(
			'| queue: 1 worker, 1 webhook process | package | 100/100 | 5.0 | 4.00 | 1.40 |',
		);
		expect(report).toContain('1.25×');
		expect(report).toContain('**failed: boom**');
		expect(report).toContain('## PROJECTION (package)');
		expect(report).not.toContain('## PROJECTION (baseline)');
		// costs from the queue run: main 50 ms, webhook 100 ms, worker 200 ms, postgres 40 ms
		expect(report).toContain('main 50 ms, webhook 100 ms, worker 200 ms, postgres 40 ms');
		expect(report).toContain('| 1 | 1 | 5.0 | 1 worker |');
		expect(report).toContain('| 8 | 4 | 20.0 | main |');
	});
});
