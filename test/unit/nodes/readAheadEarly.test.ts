/**
 * Return → Read Ahead (nodes/KhaosControl/operations/return.readAhead.ts, issue 15): the processor
 * asks Khaos, right after reading its queued rows and without waiting, for what Validate SKUs and
 * the stock and credit steps of the same execution will ask first. Those steps take the answers;
 * Khaos's state afterwards is the same as without any read ahead; a SKU the alias table changes, a
 * failed or unreadable read ahead, and another execution all make the step ask Khaos itself.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import * as readAheadModule from '../../../transports/khaos/readAhead';
import { ReadAheadMemo, productKey, readAheadMemo } from '../../../transports/khaos/readAhead';
import { TransportError } from '../../../transports/http';
import { FakeKhaosApi, mappedReturn } from '../../helpers/khaosFakes';
import { runKhaosNode, stockThenCredit } from '../../helpers/khaosNode';
import type { MockParam } from '../../helpers/mockExecuteContext';

afterEach(() => jest.restoreAllMocks());

let executions = 0;
const newExecution = () => `early-${++executions}-${Date.now()}`;

const node = (
	fake: FakeKhaosApi,
	executionId: string,
	params: Record<string, MockParam>,
	items: IDataObject[],
): Promise<INodeExecutionData[][]> => runKhaosNode(fake, params, items, { executionId });

const methods = (fake: FakeKhaosApi) => fake.log.map((l) => l.method);
const jsonOf = (items: INodeExecutionData[]) => items.map((i) => i.json);

const EARLY = { resource: 'return', operation: 'readAhead', mappingType: 1 };
const VALIDATE = {
	resource: 'product',
	operation: 'validateSkus',
	mappingType: 1,
	withProblems: 'passOn',
	readAhead: 'stockAndCredit',
};

type Mapped = ReturnType<typeof mappedReturn>;

/** The inbox row the processor reads for a return: the return as ReBound sent it, in `payload`. */
function inboxRow(ret: Mapped, rawSku: (sku: string) => string = (s) => s): IDataObject {
	const raw = {
		...ret,
		lines: ret.lines.map((l) => {
			const line: Record<string, unknown> = { ...l, sku: rawSku(l.sku) };
			delete line.mapping; // as ReBound sent it: not mapped yet
			return line;
		}),
	};
	return {
		id: 7,
		eventId: ret.event.id,
		returnId: ret.returnId,
		orderReference: ret.orderReference,
		status: 'queued',
		payload: JSON.stringify(raw),
	};
}

/** One processor run: [Read Ahead on the rows], Validate SKUs, stock, credit; the Khaos methods each step called. */
async function run(fake: FakeKhaosApi, rets: Mapped[], early: IDataObject[] | null) {
	const executionId = newExecution();
	const called: Record<string, string[]> = {};
	fake.log.length = 0;
	if (early) {
		const [passed] = await node(fake, executionId, EARLY, early);
		called.early = methods(fake);
		// the items go on unchanged, paired with their rows
		expect(passed.map((i) => [i.json, i.pairedItem])).toEqual(
			early.map((e, i) => [e, { item: i }]),
		);
		await readAheadMemo.pending(executionId);
		fake.log.length = 0;
	}
	const [valid] = await node(fake, executionId, VALIDATE, rets as unknown as IDataObject[]);
	called.validate = methods(fake);
	const productsAsked = fake.log.filter((l) => l.method === 'getProducts').map((l) => l.args[0]);
	const after = await stockThenCredit(fake, executionId, jsonOf(valid));
	called.stock = after.stock;
	called.credit = after.credit;
	return {
		called,
		productsAsked,
		valid: jsonOf(valid),
		created: after.created,
		exceptions: after.exceptions,
	};
}

const khaosState = (fake: FakeKhaosApi) => ({
	adjustments: fake.appliedAdjustments.map((a) => ({ ...a, id: null })),
	imports: fake.imports,
	processed: [...fake.processed].sort(),
	creditNotes: fake.creditNotes.map((c) => ({ ...c, orderCode: '', dateCreated: '' })),
});

const r1 = mappedReturn('EA1', 'WEB-1001', [
	{ sku: 'TSHIRT-RED-M', action: 'restock' },
	{ sku: 'JEANS-BLU-32', action: 'quarantine' },
]);
const r2 = mappedReturn('EA2', 'WEB-1002', [{ sku: 'HOODIE-GRY-L', action: 'restock' }]);

test('read ahead from the inbox rows: Validate SKUs and the stock and credit steps ask Khaos for no look-up; the same Khaos state as without', async () => {
	const fake = new FakeKhaosApi();
	const withEarly = await run(fake, [r1, r2], [inboxRow(r1), inboxRow(r2)]);
	// four look-ups at once, before the claim
	expect(withEarly.called.early.sort()).toEqual([
		'getOrderStatuses',
		'getProducts',
		'getSalesOrders',
		'getStockAdjustments',
	]);
	expect(fake.calls.getProducts).toBe(1);
	expect(withEarly.called.validate).toEqual([]);
	expect(withEarly.called.stock).toEqual(['adjustStock']);
	expect(withEarly.called.credit).toEqual(['importReturns', 'processReturn', 'processReturn']);
	expect(withEarly.exceptions).toEqual([]);

	const plain = new FakeKhaosApi();
	const without = await run(plain, [r1, r2], null);
	expect(without.called.validate.sort()).toEqual([
		'getOrderStatuses',
		'getProducts',
		'getSalesOrders',
		'getStockAdjustments',
	]);
	expect(khaosState(fake)).toEqual(khaosState(plain));
	expect(withEarly.valid).toEqual(without.valid);
	expect(withEarly.created.map((c) => [c.returnId, c.creditStatus, c.creditGross])).toEqual(
		without.created.map((c) => [c.returnId, c.creditStatus, c.creditGross]),
	);
	expect(fake.appliedAdjustments).toHaveLength(3);
	expect(fake.processed.size).toBe(2);
});

test('a SKU the alias table changes is looked up by Validate SKUs itself (only that code), with the right product', async () => {
	const fake = new FakeKhaosApi();
	// ReBound sent "red-tee" for TSHIRT-RED-M: the read ahead asked Khaos for the code as sent
	const res = await run(fake, [r1], [inboxRow(r1, (s) => (s === 'TSHIRT-RED-M' ? 'red-tee' : s))]);
	expect(res.called.validate).toEqual(['getProducts']);
	// only the aliased code is asked again: JEANS-BLU-32 comes from the read ahead
	expect(res.productsAsked).toEqual([['TSHIRT-RED-M']]);
	expect(res.valid.map((v) => (v.skuValidation as IDataObject).valid)).toEqual([true]);
	expect(res.called.stock).toEqual(['adjustStock']);
	expect(fake.appliedAdjustments.map((a) => a.stockCode).sort()).toEqual([
		'JEANS-BLU-32',
		'TSHIRT-RED-M',
	]);
});

test('a failed read ahead is asked again by each step; an unknown SKU is still found unknown', async () => {
	const fake = new FakeKhaosApi();
	fake.fail(
		'getProducts',
		new TransportError('Khaos refused', { kind: 'http', retryable: false }),
		1,
	);
	fake.fail(
		'getSalesOrders',
		new TransportError('Khaos refused', { kind: 'http', retryable: false }),
		1,
	);
	const bad = mappedReturn('EA3', 'WEB-1001', [{ sku: 'NO-SUCH-SKU', action: 'restock' }]);
	const res = await run(fake, [r1, bad], [inboxRow(r1), inboxRow(bad)]);
	expect(res.called.validate).toEqual(['getProducts']);
	expect(res.called.stock).toEqual(['getSalesOrders', 'adjustStock']);
	expect(res.valid.map((v) => [v.returnId, (v.skuValidation as IDataObject).valid])).toEqual([
		['EA1', true],
		['EA3', false],
	]);
	expect(fake.appliedAdjustments.map((a) => a.reference.split('-').slice(0, 2).join('-'))).toEqual([
		'RB-EA1',
		'RB-EA1',
	]);
});

test('an unreadable payload or a row without a return id stops nothing: the items pass on and the steps ask Khaos', async () => {
	const fake = new FakeKhaosApi();
	const rows = [
		{ id: 1, returnId: 'EA1', payload: '{not json' },
		{ id: 2, payload: 'x' },
	];
	const id = newExecution();
	const [passed] = await node(fake, id, EARLY, rows);
	expect(jsonOf(passed)).toEqual(rows);
	await readAheadMemo.pending(id);
	// no SKU could be read: Validate SKUs asks for its products
	fake.log.length = 0;
	await node(fake, id, VALIDATE, [r1] as unknown as IDataObject[]);
	expect(methods(fake)).toEqual(['getProducts']);
});

test('a read ahead that does not answer holds Validate SKUs up only WAIT_AFTER_OWN_MS; its late answer is dropped', async () => {
	jest.replaceProperty(readAheadModule, 'WAIT_AFTER_OWN_MS', 20);
	const fake = new FakeKhaosApi();
	let answer!: (m: Map<string, unknown>) => void;
	jest
		.spyOn(fake, 'getProducts')
		.mockReturnValueOnce(new Promise((resolve) => (answer = resolve as typeof answer)));
	const id = newExecution();
	await node(fake, id, EARLY, [inboxRow(r1)]);
	const started = Date.now();
	const [valid] = await node(fake, id, VALIDATE, [r1] as unknown as IDataObject[]);
	expect(Date.now() - started).toBeLessThan(1_000);
	expect(valid.map((v) => (v.json.skuValidation as IDataObject).valid)).toEqual([true]);
	answer(new Map()); // "not found", too late: never taken
	await new Promise((r) => setImmediate(r));
	expect(readAheadMemo.take(id, 'products', [productKey(1, 'TSHIRT-RED-M')])).toBeNull();
});

test('a read ahead still in flight when Validate SKUs starts is waited for, then taken: no look-up of its own', async () => {
	const fake = new FakeKhaosApi();
	const real = fake.getProducts.bind(fake);
	jest
		.spyOn(fake, 'getProducts')
		.mockImplementationOnce(
			(codes, mt) => new Promise((r) => setTimeout(() => r(real(codes, mt)), 30)),
		);
	const id = newExecution();
	await node(fake, id, EARLY, [inboxRow(r1)]);
	expect(fake.calls.getProducts).toBe(0); // still in flight
	const [valid] = await node(fake, id, VALIDATE, [r1] as unknown as IDataObject[]);
	// the one look-up is the read ahead's, answered during Validate SKUs' wait
	expect(fake.getProducts).toHaveBeenCalledTimes(1);
	expect(fake.calls.getProducts).toBe(1);
	expect(valid.map((v) => (v.json.skuValidation as IDataObject).valid)).toEqual([true]);
});

test('a SKU Khaos does not know, as read ahead, is reported unknown without asking again', async () => {
	const fake = new FakeKhaosApi();
	const bad = mappedReturn('EA4', 'WEB-1001', [{ sku: 'NO-SUCH-SKU', action: 'restock' }]);
	const id = newExecution();
	await node(fake, id, EARLY, [inboxRow(bad)]);
	await readAheadMemo.pending(id);
	fake.log.length = 0;
	const [valid] = await node(fake, id, VALIDATE, [bad] as unknown as IDataObject[]);
	expect(methods(fake)).toEqual([]);
	const carried = (valid[0].json as IDataObject).problems as IDataObject[];
	expect(carried.map((p) => [p.kind, p.sku])).toEqual([['unknown_sku', 'NO-SUCH-SKU']]);
});

test('products are kept by mapping type and exact code, for the execution that read them, once', async () => {
	const memo = new ReadAheadMemo();
	const fake = new FakeKhaosApi();
	await readAheadModule.readAhead(
		fake,
		'p1',
		[{ returnId: 'EA1', orderReference: 'WEB-1001' }],
		{ credit: false, products: { codes: ['TSHIRT-RED-M', ' JEANS-BLU-32 '], mappingType: 1 } },
		memo,
	);
	const asked = fake.calls.getProducts;
	// another execution, another mapping type, another case: Khaos is asked
	await readAheadModule.takingProducts(fake, 'p2', memo).getProducts(['TSHIRT-RED-M'], 1);
	await readAheadModule.takingProducts(fake, 'p1', memo).getProducts(['TSHIRT-RED-M'], 5);
	await readAheadModule.takingProducts(fake, 'p1', memo).getProducts(['tshirt-red-m'], 1);
	expect(fake.calls.getProducts).toBe(asked + 3);
	// the codes as read, once
	const taken = await readAheadModule
		.takingProducts(fake, 'p1', memo)
		.getProducts(['JEANS-BLU-32', 'JEANS-BLU-32'], 1);
	expect([...taken.keys()]).toEqual(['JEANS-BLU-32']);
	expect(fake.calls.getProducts).toBe(asked + 3);
	await readAheadModule.takingProducts(fake, 'p1', memo).getProducts(['JEANS-BLU-32'], 1);
	expect(fake.calls.getProducts).toBe(asked + 4);
});
