/**
 * Retries with exponential back-off and full jitter, honouring Retry-After,
 * bounded in attempts and in total time. Only errors marked retryable are
 * retried; after the last try the caller gets TransientExhaustedError.
 * No timers of its own: `sleep` is injected (n8n-workflow's sleep in nodes).
 */
import { TransientExhaustedError, TransportError } from './http';

export interface RetryPolicy {
	/** Total attempts including the first (>= 1). */
	maxAttempts: number;
	/** First back-off in ms; doubles each attempt. */
	baseDelayMs: number;
	/** Cap on one back-off (Retry-After above this is capped too). */
	maxDelayMs: number;
	/** Give up when the next wait would pass this much total elapsed time. */
	maxTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 5,
	baseDelayMs: 250,
	maxDelayMs: 10_000,
	maxTotalMs: 30_000,
};

export interface RetryDeps {
	sleep: (ms: number) => Promise<void>;
	now: () => number;
	random: () => number;
	/** Called before each wait; for counting retries in tests and benchmarks. */
	onRetry?: (info: {
		operation: string;
		attempt: number;
		delayMs: number;
		error: TransportError;
	}) => void;
}

export function backoffDelay(
	policy: RetryPolicy,
	attempt: number,
	random: () => number,
	retryAfterMs?: number,
): number {
	const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
	const jittered = Math.round(exp / 2 + random() * (exp / 2));
	if (retryAfterMs !== undefined)
		return Math.min(policy.maxDelayMs, Math.max(retryAfterMs, jittered));
	return jittered;
}

export async function withRetry<T>(
	operation: string,
	run: (attempt: number) => Promise<T>,
	policy: RetryPolicy,
	deps: RetryDeps,
): Promise<T> {
	const started = deps.now();
	for (let attempt = 1; ; attempt++) {
		try {
			return await run(attempt);
		} catch (error) {
			if (!(error instanceof TransportError) || !error.retryable) throw error;
			const elapsed = deps.now() - started;
			if (attempt >= policy.maxAttempts)
				throw new TransientExhaustedError(operation, attempt, elapsed, error);
			const delayMs = backoffDelay(policy, attempt, deps.random, error.retryAfterMs);
			if (elapsed + delayMs > policy.maxTotalMs)
				throw new TransientExhaustedError(operation, attempt, elapsed, error);
			deps.onRetry?.({ operation, attempt, delayMs, error });
			await deps.sleep(delayMs);
		}
	}
}
