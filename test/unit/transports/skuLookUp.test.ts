/**
 * skuLookUp (transports/khaos/readAhead.ts): how Validate SKUs' product look-up reads ahead. An early
 * read ahead of the execution (Return → Read Ahead) is waited for, at most WAIT_AFTER_OWN_MS, and its
 * products are taken; otherwise the look-up reads ahead itself when asked, in the same round trip.
 */
import {
	ReadAheadMemo,
	WAIT_AFTER_OWN_MS,
	productKey,
	skuLookUp,
	startReadAhead,
	type AbortableSleep,
} from '../../../transports/khaos/readAhead';
import { FakeKhaosApi } from '../../helpers/khaosFakes';

/** A sleep that records what it was asked and ends at once (or never, until aborted). */
function sleeper(endAtOnce: boolean) {
	const asked: number[] = [];
	let aborted = 0;
	const sleep: AbortableSleep = (ms, signal) =>
		new Promise((resolve) => {
			asked.push(ms);
			signal.addEventListener('abort', () => {
				aborted++;
				resolve();
			});
			if (endAtOnce) resolve();
		});
	return { sleep, asked, aborted: () => aborted };
}

const RET = { returnId: '7001', orderReference: 'WEB-1001' };

test('no early read ahead and none asked: the look-up is Khaos itself and reads nothing ahead', async () => {
	const fake = new FakeKhaosApi();
	const memo = new ReadAheadMemo();
	const { sleep, asked } = sleeper(true);
	const lookUp = await skuLookUp(fake, 'x1', null, sleep, memo);
	expect(lookUp.api).toBe(fake);
	await lookUp.settle();
	expect(fake.log).toEqual([]);
	expect(asked).toEqual([]);
});

test('own read ahead: its calls are in flight before the product look-up, and settle waits for them, capped', async () => {
	const fake = new FakeKhaosApi();
	const memo = new ReadAheadMemo();
	const { sleep, asked, aborted } = sleeper(false);
	const lookUp = await skuLookUp(fake, 'x2', { returns: [RET], credit: true }, sleep, memo);
	expect(lookUp.api).toBe(fake);
	// asked before the look-up, in the same round trip
	expect(fake.log.map((l) => l.method).sort()).toEqual([
		'getOrderStatuses',
		'getSalesOrders',
		'getStockAdjustments',
	]);
	await lookUp.api.getProducts(['TSHIRT-RED-M'], 1);
	await lookUp.settle();
	// the cap was set, and released once the read ahead came back (the sleep never ends by itself)
	expect(asked).toEqual([WAIT_AFTER_OWN_MS]);
	expect(aborted()).toBe(1);
});

test('an early read ahead: waited for, its products taken, only the other codes asked, and no read ahead of its own', async () => {
	const fake = new FakeKhaosApi();
	const memo = new ReadAheadMemo();
	startReadAhead(
		fake,
		'x3',
		[RET],
		{ credit: false, products: { codes: ['TSHIRT-RED-M'], mappingType: 1 } },
		memo,
	);
	const before = fake.log.length;
	const { sleep } = sleeper(false);
	const lookUp = await skuLookUp(fake, 'x3', { returns: [RET], credit: true }, sleep, memo);
	expect(lookUp.api).not.toBe(fake);
	// nothing more asked ahead (the early one asked for orders and moves already)
	expect(fake.log.length).toBe(before);
	const found = await lookUp.api.getProducts(['TSHIRT-RED-M', 'JEANS-BLU-32'], 1);
	expect([...found.keys()].sort()).toEqual(['JEANS-BLU-32', 'TSHIRT-RED-M']);
	// only the code the early read ahead did not have went to Khaos
	const asked = fake.log.slice(before).filter((l) => l.method === 'getProducts');
	expect(asked.map((l) => l.args[0])).toEqual([['JEANS-BLU-32']]);
	expect(memo.takeEach('x3', 'products', [productKey(1, 'TSHIRT-RED-M')]).size).toBe(0);
});

test('an early read ahead that does not come back holds the look-up up only WAIT_AFTER_OWN_MS, then Khaos answers', async () => {
	const fake = new FakeKhaosApi();
	const memo = new ReadAheadMemo();
	memo.open('x4');
	memo.track('x4', new Promise<void>(() => undefined));
	const { sleep, asked } = sleeper(true);
	const lookUp = await skuLookUp(fake, 'x4', null, sleep, memo);
	expect(asked).toEqual([WAIT_AFTER_OWN_MS]);
	const found = await lookUp.api.getProducts(['TSHIRT-RED-M'], 1);
	expect([...found.keys()]).toEqual(['TSHIRT-RED-M']);
	expect(fake.log.map((l) => l.method)).toEqual(['getProducts']);
});
