/**
 * The Khaos Control node run on a fake Khaos (test/helpers/khaosFakes.ts): its client is replaced
 * by `fake` for this call (jest.spyOn: restored by the caller's jest.restoreAllMocks), in an
 * execution context with these parameters and items and the test credential.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { KhaosControl } from '../../nodes/KhaosControl/KhaosControl.node';
import * as transport from '../../nodes/KhaosControl/transport';
import { KHAOS_TEST_CREDENTIALS, type FakeKhaosApi } from './khaosFakes';
import { mockExecuteContext, type MockParam } from './mockExecuteContext';

export async function runKhaosNode(
	fake: FakeKhaosApi,
	params: Record<string, MockParam>,
	items: IDataObject[],
	opts: { executionId?: string; batchSize?: number } = {},
): Promise<INodeExecutionData[][]> {
	jest.spyOn(transport, 'createKhaosApi').mockReturnValue(fake);
	const ctx = mockExecuteContext({
		items,
		params,
		...(opts.executionId !== undefined ? { executionId: opts.executionId } : {}),
		credentials: {
			khaosControlApi: {
				...KHAOS_TEST_CREDENTIALS,
				...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
			},
		},
	});
	return new KhaosControl().execute.call(ctx);
}

/**
 * The processor's stock and credit steps after Validate SKUs (its Valid items), in one execution:
 * what they output and the Khaos methods each step called.
 */
export async function stockThenCredit(
	fake: FakeKhaosApi,
	executionId: string,
	valid: IDataObject[],
) {
	fake.log.length = 0;
	const [moved, stockExceptions] = await runKhaosNode(
		fake,
		{ resource: 'stock', operation: 'applyReturnMoves' },
		valid,
		{ executionId },
	);
	const stock = fake.log.map((l) => l.method);
	fake.log.length = 0;
	const [created, creditExceptions] = await runKhaosNode(
		fake,
		{ resource: 'creditNote', operation: 'createFromReturn', options: {} },
		moved.map((i) => i.json),
		{ executionId },
	);
	const credit = fake.log.map((l) => l.method);
	return {
		stock,
		credit,
		moved: moved.map((i) => i.json),
		created: created.map((i) => i.json),
		exceptions: [...stockExceptions, ...creditExceptions].map((i) => i.json),
	};
}
