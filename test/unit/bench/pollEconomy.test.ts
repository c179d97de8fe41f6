/**
 * The ReBound calls of steady-state polls with the intake template's settings (bench/pollEconomy.ts):
 * the template's parameters are read, and the node runs against a ReBound sandbox on 127.0.0.1 on a
 * simulated clock. Only what any poll engine must do is asserted (transports/rebound/poll.ts changes).
 */
import { measurePollEconomy, templatePollSettings } from '../../../bench/pollEconomy';

describe('bench poll economy', () => {
	it('reads the ReBound Poll Trigger parameters of the intake template', () => {
		const s = templatePollSettings();
		expect(s.params).toMatchObject({ lookbackDays: 30, overlapDays: 2, windowDays: 7 });
		expect(s.params.pollTimes).toBeUndefined();
		expect(s.describe).toContain('lookbackDays 30');
		expect(s.everyMinutes).toBe('{{POLL_EVERY_MINUTES}}');
	});

	it('counts the calls of a first poll and of later polls, per day at the interval; the clock is put back', async () => {
		const before = Date.now();
		const e = await measurePollEconomy({ returns: [0, 3], laterPolls: 3, minutesApart: 1 });
		expect(Math.abs(Date.now() - before)).toBeLessThan(60_000);
		expect(e.scenarios.map((s) => [s.returns, s.laterPolls])).toEqual([
			[0, 3],
			[3, 3],
		]);
		const [empty, three] = e.scenarios;
		// at least one search; three returns are fetched by id at least once
		expect(empty.firstPollCalls).toBeGreaterThanOrEqual(1);
		expect(three.firstPollCalls).toBeGreaterThanOrEqual(empty.firstPollCalls + 3);
		for (const s of e.scenarios) {
			expect(s.perDay).toBeCloseTo(s.laterCallsPerPoll * 1440);
			expect(s.laterMin).toBeLessThanOrEqual(s.laterCallsPerPoll);
			expect(s.laterMax).toBeGreaterThanOrEqual(s.laterCallsPerPoll);
		}
		expect(e.settings).toContain('overlapDays 2');
	});
});
