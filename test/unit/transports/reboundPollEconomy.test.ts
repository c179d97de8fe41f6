/**
 * transports/rebound/poll.ts: the ReBound calls a poll makes (issue 15, "ReBound API economy").
 * ReBound's search gives ids only, so a change is seen only by fetching the return. A known return
 * is re-checked by id on a schedule (every poll just after it changed, then less often, never less
 * often than its re-check interval) instead of on every poll, and a graded one is re-checked even
 * after its date has left the overlap. Counted on the in-memory API with a fixed clock.
 */
import {
	DEFAULT_POLL_OPTIONS,
	readPollState,
	runReboundPoll,
	type PollOptions,
	type PollState,
} from '../../../transports/rebound/poll';
import { FakeReboundApi, rawReturn } from '../../helpers/reboundFakes';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-28T12:00:00Z');

/** A raw return with two lines; `updated` is its tracking_last_update (ReBound time, UTC). */
function ret(id: number, dispositions: Array<string | null>, updated = '2026-11-01 09:00:00') {
	return rawReturn(
		id,
		'WEB-1001',
		dispositions.map((d, i) => ({
			sku: i === 0 ? 'TSHIRT-RED-M' : 'JEANS-BLU-32',
			disposition: d,
		})),
		{ tracking_last_update: updated },
	);
}

/** ReBound's time format for an epoch ms. */
const rbTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

class Poller {
	state: PollState = readPollState({});
	emitted: Array<{ at: number; id: string; eventId: string }> = [];
	constructor(
		readonly api: FakeReboundApi,
		readonly opts: PollOptions = DEFAULT_POLL_OPTIONS,
	) {}

	/** One poll at `at`; the calls it made. */
	async at(at: number) {
		const searches = this.api.searches.length;
		const gets = this.api.gets.length;
		const result = await runReboundPoll(this.api, this.state, this.opts, { now: () => at });
		this.state = result.state;
		for (const r of result.returns) this.emitted.push({ at, id: r.returnId, eventId: r.event.id });
		return {
			searches: this.api.searches.length - searches,
			gets: this.api.gets.slice(gets),
			result,
		};
	}
}

/** 40 graded returns, one every 18 hours back from today: 4 of them in the default overlap. */
function seedGraded(api: FakeReboundApi, count = 40) {
	for (let n = 0; n < count; n++) {
		const date = new Date(NOW - n * 18 * 3_600_000).toISOString().slice(0, 10);
		api.put(1000 + n, date, ret(1000 + n, ['Grade A', 'Damaged']));
	}
}

const inOverlap = (api: FakeReboundApi) =>
	[...api.returns.values()].filter((r) => r.date >= '2026-11-26').length;

describe('an empty poll', () => {
	it('a poll with nothing new makes one search and fetches only the few returns due a re-check, not every return in the overlap', async () => {
		const api = new FakeReboundApi();
		// 60 graded returns, one an hour back from now: all in the overlap (today's poll fetches all 60 every time).
		for (let n = 0; n < 60; n++) {
			const date = new Date(NOW - n * 3_600_000).toISOString().slice(0, 10);
			api.put(1000 + n, date, ret(1000 + n, ['Grade A', 'Damaged']));
		}
		expect(inOverlap(api)).toBe(60);
		const poller = new Poller(api);
		const first = await poller.at(NOW);
		expect(first.gets).toHaveLength(60);
		expect(first.result.returns).toHaveLength(60);

		const second = await poller.at(NOW + MIN);
		expect(second.searches).toBe(1);
		expect(second.gets.length).toBeLessThanOrEqual(3);
		expect(second.result.returns).toEqual([]);
		expect(second.result.stats.skipped + second.gets.length).toBe(60);
	});

	it('an hour of empty polls re-checks each known graded return once, spread over the polls', async () => {
		const api = new FakeReboundApi();
		seedGraded(api);
		const poller = new Poller(api);
		await poller.at(NOW);
		const perPoll: number[] = [];
		const perReturn = new Map<string, number>();
		for (let m = 1; m <= 60; m++) {
			const { searches, gets } = await poller.at(NOW + m * MIN);
			expect(searches).toBe(1);
			perPoll.push(gets.length);
			for (const id of gets) perReturn.set(id, (perReturn.get(id) ?? 0) + 1);
		}
		// Every return, in the overlap or not, once in the hour (the default interval: 60 minutes) ...
		expect(perReturn.size).toBe(40);
		expect([...perReturn.values()].every((n) => n === 1)).toBe(true);
		// ... and not all on one poll.
		expect(Math.max(...perPoll)).toBeLessThanOrEqual(6);
		expect(poller.emitted).toHaveLength(40); // nothing changed: nothing emitted again
	});
});

describe('a busy poll', () => {
	it('fetches each new return once and the known ones only when due', async () => {
		const api = new FakeReboundApi();
		seedGraded(api);
		const poller = new Poller(api);
		await poller.at(NOW);
		for (let n = 0; n < 5; n++)
			api.put(2000 + n, '2026-11-28', ret(2000 + n, ['Grade A', 'Dirty']));
		api.put(2005, '2026-11-28', ret(2005, ['Grade A', null]));
		const busy = await poller.at(NOW + MIN);
		expect(busy.searches).toBe(1);
		const fresh = busy.gets.filter((id) => Number(id) >= 2000).sort();
		expect(fresh).toEqual(['2000', '2001', '2002', '2003', '2004', '2005']);
		// Of the 40 known returns (4 of them in the overlap) only those due a re-check.
		expect(busy.gets.length - fresh.length).toBeLessThanOrEqual(3);
		expect(busy.result.returns.map((r) => r.returnId).sort()).toEqual([
			'2000',
			'2001',
			'2002',
			'2003',
			'2004',
		]);
	});

	it('an ungraded return that has waited is re-checked every 5 minutes, not every poll; its grade is emitted within 5 minutes and one poll', async () => {
		const api = new FakeReboundApi();
		api.put(301, '2026-11-20', ret(301, ['Grade A', null]));
		const poller = new Poller(api);
		await poller.at(NOW);
		let gets = 0;
		for (let m = 1; m <= 30; m++) gets += (await poller.at(NOW + m * MIN)).gets.length;
		expect(gets).toBeGreaterThanOrEqual(6);
		expect(gets).toBeLessThanOrEqual(7);

		const gradedAt = NOW + 30 * MIN + 20_000;
		api.put(301, '2026-11-20', ret(301, ['Grade A', 'Grade B']));
		let m = 31;
		while (poller.emitted.length === 0 && m < 60) await poller.at(NOW + m++ * MIN);
		expect(poller.emitted.map((e) => e.id)).toEqual(['301']);
		expect(poller.emitted[0].at - gradedAt).toBeLessThanOrEqual(
			DEFAULT_POLL_OPTIONS.recheckUngradedMinutes * MIN + MIN,
		);
	});
});

describe('a late change is still seen, within the bound, once', () => {
	it('a graded return regraded days later, its date long out of the overlap: emitted within the interval and one poll, and only once', async () => {
		const api = new FakeReboundApi();
		api.put(101, '2026-11-10', ret(101, ['Grade A', 'Damaged']));
		const poller = new Poller(api, { ...DEFAULT_POLL_OPTIONS });
		await poller.at(NOW);
		// Three days of polls every 10 minutes, nothing changes.
		let t = NOW;
		while (t < NOW + 3 * DAY) {
			t += 10 * MIN;
			await poller.at(t);
		}
		expect(poller.emitted).toHaveLength(1);
		const changedAt = t + 30_000;
		api.put(101, '2026-11-10', ret(101, ['Grade A', 'Grade B'], rbTime(changedAt)));
		const until = changedAt + 3 * 60 * MIN;
		while (t < until) {
			t += MIN;
			await poller.at(t);
		}
		const late = poller.emitted.slice(1);
		expect(late.map((e) => e.id)).toEqual(['101']);
		expect(late[0].eventId).not.toBe(poller.emitted[0].eventId);
		expect(late[0].at - changedAt).toBeLessThanOrEqual(
			DEFAULT_POLL_OPTIONS.recheckGradedMinutes * MIN + MIN,
		);
	});

	it('just after a change a return is re-checked on every poll, so a quick correction is seen on the next poll', async () => {
		const api = new FakeReboundApi();
		api.put(102, '2026-11-20', ret(102, ['Grade A', 'Damaged'], rbTime(NOW - MIN)));
		const poller = new Poller(api);
		await poller.at(NOW);
		expect((await poller.at(NOW + MIN)).gets).toEqual(['102']);
		api.put(102, '2026-11-20', ret(102, ['Grade A', 'Grade B'], rbTime(NOW + MIN + 1000)));
		await poller.at(NOW + 2 * MIN);
		expect(poller.emitted.map((e) => [e.id, e.at])).toEqual([
			['102', NOW],
			['102', NOW + 2 * MIN],
		]);
	});

	it('a graded return stops being re-checked once Re-Check Graded Returns For has passed since its last change', async () => {
		const api = new FakeReboundApi();
		api.put(103, '2026-11-10', ret(103, ['Grade A', 'Damaged']));
		const poller = new Poller(api, { ...DEFAULT_POLL_OPTIONS, recheckGradedDays: 2 });
		await poller.at(NOW);
		const day = async (from: number) => {
			let gets = 0;
			for (let h = 1; h <= 24; h++) gets += (await poller.at(from + h * 60 * MIN)).gets.length;
			return gets;
		};
		expect(await day(NOW)).toBeGreaterThanOrEqual(23);
		// Its last change (tracking_last_update 2026-11-01) is long past: watched from first sight for 2 days.
		await day(NOW + DAY);
		expect(await day(NOW + 2 * DAY)).toBe(0);
	});
});

describe('settings and memory', () => {
	it('intervals 0 and Re-Check Graded Returns For 0 days: every poll fetches the returns in the overlap, as before this change', async () => {
		const api = new FakeReboundApi();
		seedGraded(api);
		const poller = new Poller(api, {
			...DEFAULT_POLL_OPTIONS,
			recheckGradedMinutes: 0,
			recheckUngradedMinutes: 0,
			recheckGradedDays: 0,
		});
		await poller.at(NOW);
		const second = await poller.at(NOW + MIN);
		expect(second.gets).toHaveLength(inOverlap(api));
	});

	it('a memory written before check times were kept is read without a burst of fetches; its ungraded returns are fetched at once', async () => {
		const api = new FakeReboundApi();
		seedGraded(api, 10);
		api.put(401, '2026-11-27', ret(401, ['Grade A', null]));
		const returns: PollState['returns'] = {};
		for (const id of api.returns.keys())
			returns[id] =
				id === '401'
					? { f: '2026-11-27', s: '2026-11-28', p: 1 }
					: { f: '2026-11-21', s: '2026-11-28', fp: 'x' };
		const poller = new Poller(api);
		poller.state = readPollState({ version: 1, cursor: '2026-11-28', returns });
		const first = await poller.at(NOW);
		expect(first.gets).toEqual(['401']);
		// ... and each graded one re-checked within the interval.
		const seen = new Set<string>();
		for (let m = 1; m <= 60; m++)
			for (const id of (await poller.at(NOW + m * MIN)).gets) seen.add(id);
		expect(seen.size).toBe(11);
	});

	it('a clock moved back re-checks rather than waiting for it to catch up', async () => {
		const api = new FakeReboundApi();
		api.put(501, '2026-11-27', ret(501, ['Grade A', 'Damaged']));
		const poller = new Poller(api);
		await poller.at(NOW);
		expect((await poller.at(NOW - DAY)).gets).toEqual(['501']);
	});
});
