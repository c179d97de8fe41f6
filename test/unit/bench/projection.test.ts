import {
	costsPerReturn,
	cpuBoundRate,
	kindOf,
	machineShare,
	medianCosts,
	project,
	projectionGrid,
	renderCostTable,
	renderProjection,
	renderTopologyTable,
	type TopologyRun,
} from '../../../bench/projection';

const run = (over: Partial<TopologyRun>): TopologyRun => ({
	topology: 'single process, SQLite',
	variant: 'package',
	returns: 100,
	credited: 100,
	throughput: 5,
	p95Ms: 4000,
	khaosCallsPerReturn: 1.5,
	rssPeakMb: { main: 1200 },
	cpuS: { main: 30, harness: 5 },
	wallS: 20,
	timedOut: false,
	...over,
});

describe('bench projection', () => {
	it('kinds of process labels', () => {
		expect(
			['main', 'n8n', 'webhook 2', 'worker 1', 'postgres', 'redis', 'nginx', 'harness', 'x'].map(
				kindOf,
			),
		).toEqual(['main', 'main', 'webhook', 'worker', 'postgres', 'redis', 'nginx', 'harness', null]);
	});

	it('CPU per return sums every process of a kind', () => {
		expect(
			costsPerReturn(
				{ main: 10, 'worker 1': 30, 'worker 2': 50, 'webhook 1': 20, postgres: 5, odd: 99 },
				100,
			),
		).toEqual({ main: 0.1, worker: 0.8, webhook: 0.2, postgres: 0.05 });
		expect(costsPerReturn({ main: 10 }, 0)).toEqual({});
		expect(machineShare({ a: 10, b: 10 }, 10, 2)).toBe(1);
		expect(machineShare({ a: 10 }, 0, 2)).toBeNaN();
		expect(cpuBoundRate({ main: 30, harness: 10 }, 100, 2)).toBe(5);
		expect(cpuBoundRate({}, 100, 2)).toBeNaN();
	});

	it('the median cost per kind over runs, each kind over the runs that have it', () => {
		const m = medianCosts([
			run({ cpuS: { main: 10, 'worker 1': 40 }, credited: 100 }),
			run({ cpuS: { main: 20, 'worker 1': 20, 'worker 2': 40 }, credited: 100 }),
			run({ cpuS: { main: 30, 'worker 1': 50, nginx: 2 }, credited: 100 }),
			run({ cpuS: { main: 1000 }, credited: 0 }),
		]);
		expect(m.main).toBeCloseTo(0.2);
		expect(m.worker).toBeCloseTo(0.5);
		expect(m.nginx).toBeCloseTo(0.02);
	});

	it('projects the smallest tier: workers, webhook processes, main, PostgreSQL, the claim cap', () => {
		const costs = {
			main: 0.02,
			webhook: 0.1,
			worker: 0.4,
			postgres: 0.05,
			redis: 0.005,
			nginx: 0.002,
		};
		const a = { coresPerN8nProcess: 1, postgresCores: 2, claimCapPerS: 50 };
		const p1 = project(costs, 1, 1, a);
		expect(p1.capacity).toBeCloseTo(2.5);
		expect(p1.limitedBy).toBe('1 worker');
		expect(p1.coresBusy).toBeCloseTo(2.5 * 0.575);
		// 8 workers: 20/s; 1 webhook process still 10/s → the webhook tier limits
		const p8 = project(costs, 8, 1, a);
		expect(p8.capacity).toBeCloseTo(10);
		expect(p8.limitedBy).toBe('1 webhook process');
		// more of both: PostgreSQL (40/s) vs workers 16 → workers; with 32 workers, PostgreSQL
		expect(project(costs, 32, 8, a).limitedBy).toBe('PostgreSQL');
		// the processor's claims cap the package whatever else there is
		expect(project({ worker: 0.001 }, 8, 2, a)).toMatchObject({
			capacity: 50,
			limitedBy: 'processor claims (batch per tick)',
		});
		expect(project({ worker: 0.001 }, 8, 2, { ...a, claimCapPerS: null }).limitedBy).toBe(
			'8 workers',
		);
		// no webhook process: main takes the webhooks too
		const p0 = project({ main: 0.05, webhook: 0.15, worker: 0.01 }, 4, 0, a);
		expect(p0.limitedBy).toBe('main (with webhooks)');
		expect(p0.capacity).toBeCloseTo(5);
		// nginx is a tier only with more than one webhook process
		expect(project(costs, 1, 1, a).tiers.some((t) => t.tier === 'nginx')).toBe(false);
		expect(project(costs, 1, 2, a).tiers.some((t) => t.tier === 'nginx')).toBe(true);
	});

	it('renders the grid, the comparison with ratios against single SQLite, and the cost table', () => {
		const grid = projectionGrid({ main: 0.02, webhook: 0.1, worker: 0.4 }, [1, 2], [1, 2]);
		expect(grid.map((p) => [p.workers, p.webhookProcesses])).toEqual([
			[1, 1],
			[2, 1],
			[1, 2],
			[2, 2],
		]);
		const g = renderProjection(grid);
		expect(g).toContain('| 2 | 1 | 5.0 | 2 workers |');
		const runs = [
			run({}),
			run({
				topology: 'queue',
				throughput: 10,
				p95Ms: 2000,
				rssPeakMb: { main: 500, 'worker 1': 400 },
				cpuS: { main: 5, 'worker 1': 30, postgres: 5, harness: 5 },
			}),
			run({ variant: 'baseline', throughput: 8 }),
		];
		const t = renderTopologyTable(runs);
		expect(t).toContain(
			'| queue | package | 100/100 | 10.0 | 2.00 | 1.50 | main 500, worker 1 400 | 2.00× | 0.50× |',
		);
		expect(t).toContain(
			'| single process, SQLite | baseline | 100/100 | 8.0 | 4.00 | 1.50 | main 1,200 | 1.00× | 1.00× |',
		);
		// the reference is single SQLite wherever it stands in the list
		expect(renderTopologyTable([runs[1], runs[0]], 'single process, SQLite')).toContain(
			'| 2.00× | 0.50× |',
		);
		expect(renderTopologyTable([runs[1], runs[0]])).toContain('| 0.50× | 2.00× |');
		const c = renderCostTable(runs, 2);
		// main 50, worker 300, postgres 50 ms; n8n+services 400; 45 CPU s over 20 s on 2 cores = 113 %; 2/(0.45) = 4.4/s
		expect(c).toContain(
			'| queue | package | 50 | — | 300 | 50 | — | — | 50 | 400 | 113 % | — | 4.4 | 10.0 |',
		);
	});
});
