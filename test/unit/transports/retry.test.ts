import {
	TransientExhaustedError,
	TransportError,
	httpStatusError,
	parseRetryAfter,
} from '../../../transports/http';
import { backoffDelay, withRetry, type RetryPolicy } from '../../../transports/retry';

function fakeClock() {
	let now = 1_000_000;
	const sleeps: number[] = [];
	return {
		sleeps,
		deps: {
			now: () => now,
			random: () => 0.5,
			sleep: async (ms: number) => {
				sleeps.push(ms);
				now += ms;
			},
		},
	};
}

const policy: RetryPolicy = {
	maxAttempts: 5,
	baseDelayMs: 100,
	maxDelayMs: 2_000,
	maxTotalMs: 60_000,
};
const transient = (retryAfterMs?: number) =>
	new TransportError('HTTP 503', { kind: 'http', retryable: true, status: 503, retryAfterMs });

describe('withRetry', () => {
	it('backs off exponentially with jitter and succeeds', async () => {
		const clock = fakeClock();
		let calls = 0;
		const result = await withRetry(
			'op',
			async () => {
				calls++;
				if (calls < 4) throw transient();
				return 'done';
			},
			policy,
			clock.deps,
		);
		expect(result).toBe('done');
		expect(calls).toBe(4);
		// random 0.5 → 75% of the exponential step: 75, 150, 300
		expect(clock.sleeps).toEqual([75, 150, 300]);
	});

	it('honours Retry-After (capped at maxDelayMs)', async () => {
		const clock = fakeClock();
		let calls = 0;
		await withRetry(
			'op',
			async () => {
				calls++;
				if (calls === 1) throw transient(1_500);
				if (calls === 2) throw transient(30_000);
				return 1;
			},
			policy,
			clock.deps,
		);
		expect(clock.sleeps).toEqual([1_500, 2_000]);
	});

	it('never retries a non-transient error', async () => {
		const clock = fakeClock();
		let calls = 0;
		const fatal = new TransportError('access_denied', {
			kind: 'remote',
			retryable: false,
			code: 'access_denied',
		});
		await expect(
			withRetry(
				'op',
				async () => {
					calls++;
					throw fatal;
				},
				policy,
				clock.deps,
			),
		).rejects.toBe(fatal);
		expect(calls).toBe(1);
		expect(clock.sleeps).toEqual([]);
	});

	it('ends in TransientExhaustedError after the last attempt', async () => {
		const clock = fakeClock();
		const retries: number[] = [];
		const error = await withRetry(
			'ExportStock',
			async () => {
				throw transient();
			},
			policy,
			{ ...clock.deps, onRetry: (i) => retries.push(i.attempt) },
		).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TransientExhaustedError);
		const exhausted = error as TransientExhaustedError;
		expect(exhausted.attempts).toBe(5);
		expect(exhausted.lastError.status).toBe(503);
		expect(exhausted.message).toMatch(/^ExportStock failed after 5 attempt\(s\)/);
		expect(retries).toEqual([1, 2, 3, 4]);
	});

	it('stops early when the total time budget would be exceeded', async () => {
		const clock = fakeClock();
		let calls = 0;
		const error = await withRetry(
			'op',
			async () => {
				calls++;
				throw transient(1_000);
			},
			{ ...policy, maxTotalMs: 2_500 },
			clock.deps,
		).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TransientExhaustedError);
		expect(calls).toBe(3);
		expect(clock.sleeps).toEqual([1_000, 1_000]);
	});

	it('passes other errors straight through', async () => {
		const clock = fakeClock();
		await expect(
			withRetry(
				'op',
				async () => {
					throw new Error('bug');
				},
				policy,
				clock.deps,
			),
		).rejects.toThrow('bug');
	});
});

describe('backoffDelay / Retry-After / status classification', () => {
	it('caps the exponential step', () => {
		expect(backoffDelay(policy, 10, () => 1)).toBe(2_000);
		expect(backoffDelay(policy, 1, () => 0)).toBe(50);
	});
	it('parses seconds and HTTP dates', () => {
		const now = Date.parse('2026-11-28T10:00:00Z');
		expect(parseRetryAfter('3', now)).toBe(3_000);
		expect(parseRetryAfter('0.5', now)).toBe(500);
		expect(parseRetryAfter('Sat, 28 Nov 2026 10:00:05 GMT', now)).toBe(5_000);
		expect(parseRetryAfter('Sat, 28 Nov 2026 09:00:00 GMT', now)).toBe(0);
		expect(parseRetryAfter('soon', now)).toBeUndefined();
		expect(parseRetryAfter(undefined, now)).toBeUndefined();
	});
	it('marks 429, 408 and 5xx transient, other 4xx not', () => {
		expect(httpStatusError(429, { 'retry-after': '2' }, 0, 'x')).toMatchObject({
			retryable: true,
			retryAfterMs: 2_000,
			status: 429,
		});
		expect(httpStatusError(503, {}, 0, 'x').retryable).toBe(true);
		expect(httpStatusError(408, {}, 0, 'x').retryable).toBe(true);
		expect(httpStatusError(400, {}, 0, 'x').retryable).toBe(false);
		expect(httpStatusError(401, {}, 0, 'x').retryable).toBe(false);
	});
});
