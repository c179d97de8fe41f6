/**
 * Poison isolation for batched calls. A batched call that the service refuses permanently may be
 * refused for one record's sake; the batch is split in halves and each half tried again, down to
 * single records, so only the culprit fails and every other record of the batch is applied in the
 * same run. A transient failure is not split (the service is down, not the data) and a fatal one
 * (credentials, configuration) is thrown: no record could succeed.
 *
 * Cost: one call when nothing fails; about 2·log2(n) more per culprit.
 */
import type { DescribeFailure, FailureInfo } from '../ports';

export type Isolated<T, R> =
	| { items: T[]; result: R }
	| { items: T[]; failure: FailureInfo; error: unknown };

export async function isolate<T, R>(
	items: T[],
	call: (batch: T[]) => Promise<R>,
	describe: DescribeFailure,
): Promise<Array<Isolated<T, R>>> {
	if (items.length === 0) return [];
	try {
		return [{ items, result: await call(items) }];
	} catch (error) {
		const failure = describe(error);
		if (failure.category === 'fatal') throw error;
		if (failure.category === 'transient' || items.length === 1) return [{ items, failure, error }];
		const half = Math.ceil(items.length / 2);
		return [
			...(await isolate(items.slice(0, half), call, describe)),
			...(await isolate(items.slice(half), call, describe)),
		];
	}
}

/** Run a batched call over `items` in chunks of `size`, each chunk isolated. */
export async function isolateInChunks<T, R>(
	items: T[],
	size: number,
	call: (batch: T[]) => Promise<R>,
	describe: DescribeFailure,
): Promise<Array<Isolated<T, R>>> {
	const n = Math.max(1, Math.floor(size) || 1);
	const out: Array<Isolated<T, R>> = [];
	for (let i = 0; i < items.length; i += n)
		out.push(...(await isolate(items.slice(i, i + n), call, describe)));
	return out;
}
