/**
 * The orders a stock step read serve the credit step of the same execution, and only that
 * (nodes/KhaosControl/runOrders.ts, issue 15: one ExportOrders round trip fewer per processor run).
 */
import type { KhaosApi, KhaosSalesOrder } from '../../../transports/khaos/api';
import {
	MAX_AGE_MS,
	MAX_RUNS,
	RunOrderMemo,
	recordingOrders,
	reusingOrders,
} from '../../../nodes/KhaosControl/runOrders';

const order = (ref: string, qty = 1) =>
	({ orderCode: `SO-${ref}`, associatedRef: ref, lines: [{ qty }] }) as unknown as KhaosSalesOrder;

function fakeApi(known: Record<string, KhaosSalesOrder>) {
	const asked: string[][] = [];
	const api = {
		config: { batchSize: 50 },
		async getSalesOrders(refs: string[]) {
			asked.push([...refs]);
			return new Map(refs.filter((r) => known[r]).map((r) => [r, known[r]]));
		},
		async getProducts(this: { config: { batchSize: number } }) {
			return this.config.batchSize;
		},
	} as unknown as KhaosApi;
	return { api, asked };
}

describe('run orders: the stock step reads, the credit step of the same execution reuses', () => {
	it('same execution: the credit step asks Khaos only for the orders the stock step did not read', async () => {
		const memo = new RunOrderMemo();
		const { api, asked } = fakeApi({ 'WEB-1': order('WEB-1'), 'WEB-2': order('WEB-2') });
		await recordingOrders(api, 'exec-1', memo).getSalesOrders(['WEB-1']);
		const got = await reusingOrders(api, 'exec-1', memo).getSalesOrders(['web-1', 'WEB-2']);
		expect(asked).toEqual([['WEB-1'], ['WEB-2']]);
		expect([...got.keys()].sort()).toEqual(['WEB-2', 'web-1']);
		expect(got.get('web-1')).toEqual(order('WEB-1'));
		// all known now: no call at all
		await reusingOrders(api, 'exec-1', memo).getSalesOrders(['WEB-1', 'WEB-2']);
		expect(asked).toHaveLength(2);
	});

	it('another execution (the posting run, a release) always asks Khaos', async () => {
		const memo = new RunOrderMemo();
		const { api, asked } = fakeApi({ 'WEB-1': order('WEB-1') });
		await recordingOrders(api, 'exec-1', memo).getSalesOrders(['WEB-1']);
		await reusingOrders(api, 'exec-2', memo).getSalesOrders(['WEB-1']);
		expect(asked).toEqual([['WEB-1'], ['WEB-1']]);
	});

	it('an order older than MAX_AGE_MS is read again; a not-found order is never remembered', async () => {
		let now = 1_000_000;
		const memo = new RunOrderMemo(() => now);
		const { api, asked } = fakeApi({ 'WEB-1': order('WEB-1') });
		await recordingOrders(api, 'exec-1', memo).getSalesOrders(['WEB-1', 'WEB-404']);
		now += MAX_AGE_MS + 1;
		await reusingOrders(api, 'exec-1', memo).getSalesOrders(['WEB-1', 'WEB-404']);
		expect(asked).toEqual([
			['WEB-1', 'WEB-404'],
			['WEB-1', 'WEB-404'],
		]);
	});

	it('a reader changing its orders does not change what the next reader gets', async () => {
		const memo = new RunOrderMemo();
		const { api } = fakeApi({ 'WEB-1': order('WEB-1', 2) });
		const read = await recordingOrders(api, 'exec-1', memo).getSalesOrders(['WEB-1']);
		(read.get('WEB-1') as unknown as { lines: Array<{ qty: number }> }).lines[0].qty = 0;
		const again = await reusingOrders(api, 'exec-1', memo).getSalesOrders(['WEB-1']);
		expect(again.get('WEB-1')).toEqual(order('WEB-1', 2));
	});

	it('bounded: at most MAX_RUNS executions are remembered, the least recent dropped', async () => {
		const memo = new RunOrderMemo();
		const { api, asked } = fakeApi({ 'WEB-1': order('WEB-1') });
		for (let i = 0; i < MAX_RUNS + 5; i++)
			await recordingOrders(api, `exec-${i}`, memo).getSalesOrders(['WEB-1']);
		expect(memo.size).toBe(MAX_RUNS);
		const before = asked.length;
		await reusingOrders(api, 'exec-0', memo).getSalesOrders(['WEB-1']);
		await reusingOrders(api, `exec-${MAX_RUNS + 4}`, memo).getSalesOrders(['WEB-1']);
		expect(asked.length - before).toBe(1);
	});

	it('every other call goes to the API as it is (its own this)', async () => {
		const { api } = fakeApi({});
		const wrapped = reusingOrders(api, 'exec-1', new RunOrderMemo());
		await expect(
			(wrapped as unknown as { getProducts: () => Promise<number> }).getProducts(),
		).resolves.toBe(50);
	});
});
