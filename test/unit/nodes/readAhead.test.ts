/**
 * Read ahead (transports/khaos/readAhead.ts, issue 15): Validate SKUs asks Khaos, in its own
 * round trip, for what Apply Return Stock Moves and Create Credit Note of the same execution would
 * each ask first; they take it instead of waiting for their own look-ups. The stock moved and the
 * credit notes made are the same as without it; each answer is taken once, only by the execution
 * that read it, only while fresh; a failed read ahead is asked again by the step that needs it.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import * as readAheadModule from '../../../transports/khaos/readAhead';
import {
	MAX_AGE_MS,
	MAX_RUNS,
	ReadAheadMemo,
	readAhead,
	takingReadAhead,
} from '../../../transports/khaos/readAhead';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import { FakeKhaosApi, KHAOS_TEST_CREDENTIALS, mappedReturn } from '../../helpers/khaosFakes';
import { runKhaosNode, stockThenCredit } from '../../helpers/khaosNode';
import type { MockParam } from '../../helpers/mockExecuteContext';

afterEach(() => jest.restoreAllMocks());

let executions = 0;
const newExecution = () => `read-ahead-${++executions}-${Date.now()}`;

const node = (
	fake: FakeKhaosApi,
	executionId: string,
	params: Record<string, MockParam>,
	items: IDataObject[],
	batchSize = KHAOS_TEST_CREDENTIALS.batchSize,
): Promise<INodeExecutionData[][]> => runKhaosNode(fake, params, items, { executionId, batchSize });

const methods = (fake: FakeKhaosApi) => fake.log.map((l) => l.method);

/** The processor's three Khaos steps in one execution; the Khaos methods each step called. */
async function processorRun(fake: FakeKhaosApi, readAheadOn: boolean, items: IDataObject[]) {
	const executionId = newExecution();
	const called: Record<string, string[]> = {};
	fake.log.length = 0;
	const [valid] = await node(
		fake,
		executionId,
		{
			resource: 'product',
			operation: 'validateSkus',
			mappingType: 1,
			withProblems: 'passOn',
			readAhead: readAheadOn ? 'stockAndCredit' : 'none',
		},
		items,
	);
	called.validate = methods(fake);
	const after = await stockThenCredit(
		fake,
		executionId,
		valid.map((i) => i.json),
	);
	called.stock = after.stock;
	called.credit = after.credit;
	return {
		called,
		moved: after.moved,
		created: after.created,
		exceptions: after.exceptions,
	};
}

const r1 = mappedReturn('RA1', 'WEB-1001', [
	{ sku: 'TSHIRT-RED-M', action: 'restock' },
	{ sku: 'JEANS-BLU-32', action: 'quarantine' },
]);
const r2 = mappedReturn('RA2', 'WEB-1002', [{ sku: 'HOODIE-GRY-L', action: 'restock' }]);

/** What Khaos holds after a run: the state the read ahead must not change. */
const khaosState = (fake: FakeKhaosApi) => ({
	adjustments: fake.appliedAdjustments.map((a) => ({ ...a, id: null })),
	imports: fake.imports,
	processed: [...fake.processed].sort(),
	creditNotes: fake.creditNotes.map((c) => ({ ...c, orderCode: '', dateCreated: '' })),
});

test('the stock and credit steps ask Khaos for no look-up: Validate SKUs read them, in its own round trip', async () => {
	const fake = new FakeKhaosApi();
	const run = await processorRun(fake, true, [r1, r2]);
	expect(run.called.validate.sort()).toEqual([
		'getOrderStatuses',
		'getProducts',
		'getSalesOrders',
		'getStockAdjustments',
	]);
	expect(run.called.stock).toEqual(['adjustStock']);
	expect(run.called.credit).toEqual(['importReturns', 'processReturn', 'processReturn']);
	expect(run.exceptions).toEqual([]);

	// the same Khaos state, moves and credits as the same run without read ahead
	const plain = new FakeKhaosApi();
	const without = await processorRun(plain, false, [r1, r2]);
	expect(without.called.stock).toEqual(['getStockAdjustments', 'getSalesOrders', 'adjustStock']);
	expect(without.called.credit[0]).toBe('getOrderStatuses');
	expect(khaosState(fake)).toEqual(khaosState(plain));
	expect(run.created.map((c) => [c.returnId, c.creditNetPence, c.creditGrossPence])).toEqual(
		without.created.map((c) => [c.returnId, c.creditNetPence, c.creditGrossPence]),
	);
	expect(fake.appliedAdjustments.map((a) => [a.reference, a.quantity])).toEqual([
		['RB-RA1-RA1:1-move', 1],
		['RB-RA1-RA1:2-move', 1],
		['RB-RA2-RA2:1-move', 1],
	]);
});

test('the four look-ups are in flight at once', async () => {
	class Slow extends FakeKhaosApi {
		inFlight = 0;
		most = 0;
		async slow<T>(f: () => Promise<T>): Promise<T> {
			this.inFlight++;
			this.most = Math.max(this.most, this.inFlight);
			await new Promise((r) => setTimeout(r, 5));
			try {
				return await f();
			} finally {
				this.inFlight--;
			}
		}
		getProducts = (c: string[], m?: number) => this.slow(() => super.getProducts(c, m));
		getSalesOrders = (r: string[]) => this.slow(() => super.getSalesOrders(r));
		getOrderStatuses = (r: string[]) => this.slow(() => super.getOrderStatuses(r));
		getStockAdjustments = (q: Parameters<FakeKhaosApi['getStockAdjustments']>[0]) =>
			this.slow(() => super.getStockAdjustments(q));
	}
	const fake = new Slow();
	await node(
		fake,
		newExecution(),
		{ resource: 'product', operation: 'validateSkus', mappingType: 1, readAhead: 'stockAndCredit' },
		[r1, r2],
	);
	expect(fake.most).toBe(4);
});

test('for the stock step only (a finance-batched run, no credit step after it): no credit-note look-up', async () => {
	const fake = new FakeKhaosApi();
	const executionId = newExecution();
	const [valid] = await node(
		fake,
		executionId,
		{ resource: 'product', operation: 'validateSkus', mappingType: 1, readAhead: 'stock' },
		[r1],
	);
	expect(methods(fake).sort()).toEqual(['getProducts', 'getSalesOrders', 'getStockAdjustments']);
	fake.log.length = 0;
	await node(
		fake,
		executionId,
		{ resource: 'stock', operation: 'applyReturnMoves' },
		valid.map((i) => i.json),
	);
	expect(methods(fake)).toEqual(['adjustStock']);
	expect(fake.appliedAdjustments).toHaveLength(2);
});

test('a return delivered again: read ahead finds its moves and its credit note; nothing moves or is credited twice', async () => {
	const fake = new FakeKhaosApi();
	await processorRun(fake, true, [r1]);
	const before = khaosState(fake);
	const again = await processorRun(fake, true, [r1]);
	expect(again.called.stock).toEqual([]);
	expect(again.called.credit).toEqual([]);
	expect(khaosState(fake)).toEqual(before);
	expect(again.moved[0].stockMoves).toEqual({ applied: 0, duplicate: 2, noMovement: 0 });
	expect(
		(again.moved[0].lines as IDataObject[]).map((l) => (l.stockMove as IDataObject).reference),
	).toEqual(['RB-RA1-RA1:1-move', 'RB-RA1-RA1:2-move']);
	expect(again.created.map((c) => [c.returnId, c.creditStatus, c.creditNoteCode])).toEqual([
		['RA1', 'duplicate', fake.creditNotes[0].orderCode],
	]);
	expect(again.exceptions).toEqual([]);
});

test('a read ahead that fails is asked again by the step that needs it, which moves as usual', async () => {
	const fake = new FakeKhaosApi();
	const busy = (call: string) =>
		new TransientExhaustedError(
			`Khaos ${call}`,
			3,
			900,
			new TransportError(`Khaos ${call}: HTTP 503`, { kind: 'http', retryable: true, status: 503 }),
		);
	fake.fail('getStockAdjustments', busy('ExportStockAdjustments'), 1);
	fake.fail('getOrderStatuses', busy('ExportOrderStatusEx'), 1);
	const run = await processorRun(fake, true, [r1]);
	expect(run.called.stock).toEqual(['getStockAdjustments', 'adjustStock']);
	expect(run.called.credit).toEqual(['getOrderStatuses', 'importReturns', 'processReturn']);
	expect(run.exceptions).toEqual([]);
	expect(fake.appliedAdjustments).toHaveLength(2);
	expect(fake.processed.size).toBe(1);
});

const VALIDATE = {
	resource: 'product',
	operation: 'validateSkus',
	mappingType: 1,
	readAhead: 'stockAndCredit',
};
const STOCK = { resource: 'stock', operation: 'applyReturnMoves' };
const CREDIT = { resource: 'creditNote', operation: 'createFromReturn', options: {} };
const jsonOf = (items: INodeExecutionData[]) => items.map((i) => i.json);

test('a move made in Khaos after the read ahead (an overlapping run): Khaos refuses the reference again, stock moves once', async () => {
	const fake = new FakeKhaosApi();
	const mine = newExecution();
	const [valid] = await node(fake, mine, VALIDATE, [r1]);
	// another run holding the same return moves its stock now
	const [otherValid] = await node(fake, newExecution(), { ...VALIDATE, readAhead: 'none' }, [r1]);
	await node(fake, newExecution(), STOCK, jsonOf(otherValid));
	expect(fake.appliedAdjustments).toHaveLength(2);
	const levels = new Map(fake.levels);
	fake.log.length = 0;
	const [moved, exceptions] = await node(fake, mine, STOCK, jsonOf(valid));
	expect(methods(fake)).toEqual(['adjustStock']); // the stale read ahead was taken
	expect(fake.appliedAdjustments).toHaveLength(2);
	expect(fake.levels).toEqual(levels);
	expect(moved[0].json.stockMoves).toEqual({ applied: 0, duplicate: 2, noMovement: 0 });
	expect(exceptions).toEqual([]);
});

test('a credit note made after the read ahead: the duplicate import is checked with Khaos again, nothing processed twice', async () => {
	const fake = new FakeKhaosApi();
	const mine = newExecution();
	const [valid] = await node(fake, mine, VALIDATE, [r1]);
	const [moved] = await node(fake, mine, STOCK, jsonOf(valid));
	// another run credits the same return now
	await node(fake, newExecution(), CREDIT, jsonOf(moved));
	expect(fake.creditNotes).toHaveLength(1);
	fake.log.length = 0;
	const [created, exceptions] = await node(fake, mine, CREDIT, jsonOf(moved));
	// the read ahead said "no credit note"; the import answers duplicate and the re-check asks Khaos
	expect(methods(fake)).toEqual(['importReturns', 'getOrderStatuses']);
	expect(fake.creditNotes).toHaveLength(1);
	expect(fake.processed.size).toBe(1);
	expect(created.map((c) => [c.json.returnId, c.json.creditStatus, c.json.processed])).toEqual([
		['RA1', 'posted', 'already_processed'],
	]);
	expect(exceptions).toEqual([]);
});

test('batches smaller than the run: each batch takes its own references', async () => {
	const fake = new FakeKhaosApi();
	const run = await (async () => {
		const id = newExecution();
		const [valid] = await node(fake, id, VALIDATE, [r1, r2], 1);
		fake.log.length = 0;
		await node(fake, id, STOCK, jsonOf(valid), 1);
		return methods(fake);
	})();
	expect(run).toEqual(['adjustStock', 'adjustStock']);
	expect(fake.appliedAdjustments).toHaveLength(3);
});

test('return ids where one is the start of another (12 and 12-5): each finds its own moves', async () => {
	const fake = new FakeKhaosApi();
	const a = mappedReturn('12', 'WEB-1001', [{ sku: 'TSHIRT-RED-M', action: 'restock' }]);
	const b = mappedReturn('12-5', 'WEB-1002', [{ sku: 'HOODIE-GRY-L', action: 'restock' }]);
	await processorRun(fake, false, [b]);
	const again = await processorRun(fake, true, [a, b]);
	expect(again.called.stock).toEqual(['adjustStock']);
	expect(again.moved.map((m) => [m.returnId, m.stockMoves])).toEqual([
		['12', { applied: 1, duplicate: 0, noMovement: 0 }],
		['12-5', { applied: 0, duplicate: 1, noMovement: 0 }],
	]);
	expect(fake.appliedAdjustments.map((m) => m.reference)).toEqual([
		'RB-12-5-12-5:1-move',
		'RB-12-12:1-move',
	]);
});

test('a read ahead that does not answer holds Validate SKUs up only WAIT_AFTER_OWN_MS; the stock step asks itself', async () => {
	jest.replaceProperty(readAheadModule, 'WAIT_AFTER_OWN_MS', 20);
	const fake = new FakeKhaosApi();
	const hang = new Promise<never>(() => undefined);
	jest.spyOn(fake, 'getStockAdjustments').mockReturnValueOnce(hang);
	const id = newExecution();
	const started = Date.now();
	const [valid] = await node(fake, id, VALIDATE, [r1]);
	expect(Date.now() - started).toBeLessThan(1_000);
	expect(valid).toHaveLength(1);
	fake.log.length = 0;
	await node(fake, id, STOCK, jsonOf(valid));
	expect(methods(fake)).toEqual(['getStockAdjustments', 'adjustStock']);
	expect(fake.appliedAdjustments).toHaveLength(2);
});

/** A live credit note of return X1 in Khaos. */
const creditNoteOfX1 = (orderCode: string) => ({
	orderCode,
	associatedRef: 'RB-X1',
	orderType: 2,
	currency: 'GBP',
	dateCreated: '2026-12-05',
	itemsNetPence: 100,
	deliveryNetPence: 0,
	complete: true,
	cancelled: false,
});

describe('the memo', () => {
	const moves = (fake: FakeKhaosApi) => fake.calls.getStockAdjustments;

	test('taken once, by the execution that read it, case-insensitively; all references or none', async () => {
		const memo = new ReadAheadMemo();
		const fake = new FakeKhaosApi();
		const rets = [
			{ returnId: 'X1', orderReference: 'WEB-1001' },
			{ returnId: 'X2', orderReference: 'WEB-1002' },
		];
		await readAhead(fake, 'e1', rets, { credit: true }, memo);
		expect(moves(fake)).toBe(1);
		// another execution asks Khaos
		await takingReadAhead(fake, 'e2', memo).getStockAdjustments({ prefixes: ['RB-X1-'] });
		expect(moves(fake)).toBe(2);
		// this one takes, whatever the case of the reference
		await takingReadAhead(fake, 'e1', memo).getStockAdjustments({ prefixes: ['rb-x1-'] });
		expect(moves(fake)).toBe(2);
		// a second look-up of the same reference asks Khaos
		await takingReadAhead(fake, 'e1', memo).getStockAdjustments({ prefixes: ['RB-X1-'] });
		expect(moves(fake)).toBe(3);
		// one reference not read ahead: Khaos answers for all of them
		await takingReadAhead(fake, 'e1', memo).getStockAdjustments({
			prefixes: ['RB-X2-', 'RB-X3-'],
		});
		expect(moves(fake)).toBe(4);
		// orders: asked and not found is an answer too (the order is not in Khaos)
		const orders = await takingReadAhead(fake, 'e1', memo).getSalesOrders(['web-1001']);
		expect(fake.calls.getSalesOrders).toBe(1);
		expect([...orders.keys()]).toEqual(['web-1001']);
		expect(orders.get('web-1001')?.orderCode).toBe('SO000101');
	});

	test('older than MAX_AGE_MS is asked again; at most MAX_RUNS executions are kept', async () => {
		let now = 1_000_000;
		const memo = new ReadAheadMemo(() => now);
		const fake = new FakeKhaosApi();
		await readAhead(
			fake,
			'e1',
			[{ returnId: 'X1', orderReference: 'WEB-1001' }],
			{ credit: true },
			memo,
		);
		now += MAX_AGE_MS + 1;
		await takingReadAhead(fake, 'e1', memo).getOrderStatuses(['RB-X1']);
		expect(fake.calls.getOrderStatuses).toBe(2);
		for (let i = 0; i < MAX_RUNS + 5; i++)
			await readAhead(
				fake,
				`run-${i}`,
				[{ returnId: 'X1', orderReference: 'WEB-1001' }],
				{ credit: true },
				memo,
			);
		expect(memo.size).toBe(MAX_RUNS);
	});

	test('a read ahead that comes back after the step asked without it is never used by a later look-up', async () => {
		const memo = new ReadAheadMemo();
		const fake = new FakeKhaosApi();
		let answer: (v: unknown[]) => void = () => undefined;
		jest
			.spyOn(fake, 'getOrderStatuses')
			.mockReturnValueOnce(new Promise((resolve) => (answer = resolve as typeof answer)));
		const late = readAhead(
			fake,
			'e1',
			[{ returnId: 'X1', orderReference: 'WEB-1001' }],
			{ credit: true },
			memo,
		);
		const api = takingReadAhead(fake, 'e1', memo);
		// the credit step's first look-up: the read ahead is not back, Khaos answers
		await api.getOrderStatuses(['RB-X1']);
		// now the read ahead comes back, saying "no credit note"
		answer([]);
		await late;
		// the re-check after a duplicate import must ask Khaos again, not take that older answer
		fake.creditNotes.push(creditNoteOfX1('CN9'));
		expect((await api.getOrderStatuses(['RB-X1'])).map((st) => st.orderCode)).toEqual(['CN9']);
		// a step of an execution that read nothing ahead keeps nothing in the memo
		await takingReadAhead(fake, 'other', memo).getOrderStatuses(['RB-X1']);
		expect(memo.size).toBe(1);
	});

	test('statuses: each credit note under the reference it answers; none found is an answer', async () => {
		const memo = new ReadAheadMemo();
		const fake = new FakeKhaosApi();
		fake.creditNotes.push(creditNoteOfX1('CN1'));
		const rets = ['X1', 'X2'].map((returnId) => ({ returnId, orderReference: 'WEB-1001' }));
		await readAhead(fake, 'e1', rets, { credit: true }, memo);
		const api = takingReadAhead(fake, 'e1', memo);
		expect((await api.getOrderStatuses(['RB-X2'])).length).toBe(0);
		expect((await api.getOrderStatuses(['RB-X1'])).map((s) => s.orderCode)).toEqual(['CN1']);
		expect(fake.calls.getOrderStatuses).toBe(1);
	});
});
