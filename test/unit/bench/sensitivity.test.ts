import {
	cellTimeoutMs,
	khaosBusy,
	parseSensitivityArgs,
	renderSensitivityReport,
	type SensitivityCell,
} from '../../../bench/sensitivity';
import { summarize, type PhaseResult } from '../../../bench/stats';

const result = (over: Partial<PhaseResult>): PhaseResult => ({
	variant: 'package',
	phase: 'khaos-40ms-c1',
	returns: 150,
	lines: 3,
	offeredRate: null,
	credited: 150,
	drainMs: 30_000,
	throughput: 5,
	latency: summarize([1000, 4000]),
	khaosCallsPerReturn: 1.5,
	reboundCallsPerReturn: 0,
	khaosCallsByMethod: {},
	rssPeakMb: 1000,
	rssStartMb: 800,
	rssEndMb: 900,
	timedOut: false,
	...over,
});

const cell = (over: Partial<SensitivityCell>): SensitivityCell => ({
	latencyMs: 40,
	concurrency: 1,
	variant: 'package',
	result: result({}),
	served: 225,
	abandoned: 0,
	busy: 0.3,
	...over,
});

describe('bench --khaos-sensitivity', () => {
	it('parses its options: defaults, lists, bounds', () => {
		expect(parseSensitivityArgs([])).toMatchObject({
			returns: 150,
			lines: 3,
			warmup: 20,
			concurrencies: [1, 4, 0],
			latencies: [40, 150],
			only: null,
			reboundLatencyMs: 20,
			maxMinutes: 25,
		});
		expect(
			parseSensitivityArgs([
				'--returns=30',
				'--concurrencies',
				'1,0',
				'--latencies=150',
				'--only',
				'baseline',
				'--max-minutes',
				'10',
			]),
		).toMatchObject({
			returns: 30,
			concurrencies: [1, 0],
			latencies: [150],
			only: 'baseline',
			maxMinutes: 10,
		});
		expect(() => parseSensitivityArgs(['--concurrencies', '1,-1'])).toThrow(
			'--concurrencies needs a comma list of whole numbers from 0 to 64',
		);
		expect(() => parseSensitivityArgs(['--latencies', ''])).toThrow('--latencies needs');
		expect(() => parseSensitivityArgs(['--returns', '0'])).toThrow('--returns');
		expect(() => parseSensitivityArgs(['--khaos-latency', '40'])).toThrow('--latencies');
		expect(() => parseSensitivityArgs(['--burst'])).toThrow('Unknown option --burst');
	});

	it('a cell is bounded by the baseline Khaos work at that concurrency, within 2–10 min', () => {
		// 150 returns × 9 calls × 150 ms, one at a time: 202.5 s × 1.5 + 60 s
		expect(cellTimeoutMs(150, 3, 150, 1)).toBe(363_750);
		expect(cellTimeoutMs(150, 3, 40, 0)).toBe(120_000);
		expect(cellTimeoutMs(2000, 3, 1000, 1)).toBe(600_000);
	});

	it('Khaos busy: served calls × latency over what the slots could serve; none when unlimited', () => {
		expect(khaosBusy(225, 40, 1, 10_000)).toBeCloseTo(0.9);
		expect(khaosBusy(225, 40, 4, 10_000)).toBeCloseTo(0.225);
		expect(khaosBusy(225, 40, 0, 10_000)).toBeNull();
		expect(khaosBusy(225, 40, 1, 0)).toBeNull();
	});

	it('the report: one row per latency × concurrency, the ratio, the call economy, the Khaos-bound cells against the 5× target, cells not run', () => {
		const cells: SensitivityCell[] = [
			cell({
				variant: 'baseline',
				result: result({
					variant: 'baseline',
					throughput: 0.7,
					khaosCallsPerReturn: 9,
					credited: 120,
				}),
				busy: 0.98,
				abandoned: 90,
			}),
			cell({ result: result({ throughput: 4.2 }), busy: 0.7 }),
			cell({
				concurrency: 0,
				variant: 'baseline',
				result: result({ variant: 'baseline', throughput: 9, khaosCallsPerReturn: 9 }),
				busy: null,
			}),
			cell({
				concurrency: 0,
				result: null,
				busy: null,
				note: 'not run: the 25 min bound was reached',
			}),
		];
		const md = renderSensitivityReport(cells, {
			date: '2026-12-03',
			machine: '2 cores',
			settings: 's',
			durationS: 900,
			command: 'npm run bench -- --khaos-sensitivity',
		});
		expect(md).toContain(
			'| 40 ms | 1 | 4.20 | 0.70 | 6.00× | 150/150 | 120/150 | 1.50 | 9.00 | 6.0× | 70 % | 98 % | 4.0 | 4.0 | 90 |',
		);
		expect(md).toContain('| 40 ms | unlimited | not run | 9.00 | — | — | 150/150 |');
		expect(md).toContain('| 40 ms | 1 | 6.00× | met |');
		expect(md).toContain(
			'- package, 40 ms, concurrency unlimited: not run: the 25 min bound was reached',
		);
		expect(
			renderSensitivityReport([cell({ variant: 'baseline', busy: 0.5 })], {
				date: 'd',
				machine: 'm',
				settings: 's',
				durationS: 1,
				command: 'c',
			}),
		).toContain('No cell had the baseline keep Khaos ≥ 80 % busy.');
	});
});
