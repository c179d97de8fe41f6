/**
 * transports/rebound/pollSettings.ts: the Poll Trigger's parameters read leniently within their
 * fields' ranges, the share of n8n's poll budget, and the memory written back to static data.
 */
import { DEFAULT_POLL_OPTIONS } from '../../../transports/rebound/poll';
import {
	pollDeadline,
	pollSampleSize,
	readPollOptions,
	storePollState,
} from '../../../transports/rebound/pollSettings';

test('parameters: whole numbers within each range, the default when not a number', () => {
	expect(readPollOptions({})).toEqual(DEFAULT_POLL_OPTIONS);
	expect(
		readPollOptions({
			emitMode: 'line',
			lookbackDays: 400,
			overlapDays: -1,
			windowDays: 0,
			concurrency: '3.9',
			watchDays: 'soon',
			recheckGradedMinutes: 2000,
			recheckUngradedMinutes: 0,
			recheckGradedDays: -5,
		}),
	).toEqual({
		emitMode: 'line',
		lookbackDays: 365,
		overlapDays: 0,
		windowDays: 1,
		concurrency: 3,
		watchDays: 30,
		recheckGradedMinutes: 1440,
		recheckUngradedMinutes: 0,
		recheckGradedDays: 0,
	});
	expect(readPollOptions({ emitMode: 'other' }).emitMode).toBe('return');
	expect([pollSampleSize(undefined), pollSampleSize(0), pollSampleSize(99)]).toEqual([5, 1, 50]);
});

test('a poll spends 60% of the budget n8n gives it, without limit when there is none', () => {
	expect(pollDeadline(1000, 10_000)).toBe(7000);
	expect(pollDeadline(1000, Number.POSITIVE_INFINITY)).toBeUndefined();
	expect(pollDeadline(1000, 0)).toBeUndefined();
});

test('the memory is written to static data; a cursor only when there is one', () => {
	const store: Record<string, unknown> = { cursor: '2026-11-01' };
	const returns = { '5001': { f: '2026-11-02', s: '2026-11-03' } };
	storePollState(store, { version: 1, returns });
	expect(store).toEqual({ version: 1, cursor: '2026-11-01', returns });
	storePollState(store, { version: 1, cursor: '2026-11-05', returns: {} });
	expect(store).toEqual({ version: 1, cursor: '2026-11-05', returns: {} });
});
