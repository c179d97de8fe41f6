/**
 * Concurrent deliveries of one return (docs/idempotency.md): two intake
 * executions can both pass the inbox's event checks, so the inbox may
 * hold two rows of the same return, and the processor may take both in the
 * SAME batch (one execution of Apply Stock Moves and Create Credit Note with
 * both items). Stock must move once, one credit note must be raised, and the
 * second row must end as a duplicate (not an exception), paired to its own
 * input item so the processor marks that inbox row done too.
 * Khaos sandbox in-process on 127.0.0.1; the sandbox's state is the judge.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { KhaosControl } from '../../nodes/KhaosControl/KhaosControl.node';
import { startKhaosSandbox, type KhaosSandbox } from '../../sandbox/khaos/server';
import { mappedReturn } from '../helpers/khaosFakes';
import { khaosExecuteContext } from '../helpers/khaosN8nHttp';
import type { MockParam } from '../helpers/mockExecuteContext';

let sandbox: KhaosSandbox;

const credentials = (): IDataObject => ({
	url: sandbox.url,
	authMode: 'none',
	username: '',
	password: '',
	soapVersion: '1.1',
	namespace: 'urn:KosWeb-IKosWeb',
	soapActionStyle: 'namespaceHash',
	defaultSiteId: '1',
	timeoutSeconds: 5,
	maxAttempts: 3,
	batchSize: 50,
});

async function execute(
	params: Record<string, MockParam>,
	items: IDataObject[],
): Promise<INodeExecutionData[][]> {
	const ctx = khaosExecuteContext({ items, params, credentials: credentials() as never });
	return new KhaosControl().execute.call(ctx);
}

const MOVES = { resource: 'stock', operation: 'applyReturnMoves' };
const CREDIT = {
	resource: 'creditNote',
	operation: 'createFromReturn',
	options: { deliveryPolicy: 'never' },
};
const level = (sku: string, loc: string) => sandbox.state.level(sku, '1', loc);
const pairs = (items: INodeExecutionData[]) =>
	items.map((i) => (i.pairedItem as { item: number }).item);

beforeEach(async () => {
	sandbox = await startKhaosSandbox({ port: 0 });
});
afterEach(async () => {
	await sandbox.close();
});

describe('two rows of the same return in one processor batch', () => {
	test('stock moves once; the second item is reported a duplicate, paired to itself', async () => {
		// both units of JEANS-BLU-32 on WEB-1001, twice (a concurrent redelivery), between two other returns
		const ret = mappedReturn('R900', 'WEB-1001', [
			{ sku: 'JEANS-BLU-32', action: 'restock', quantity: 2 },
		]);
		const other = mappedReturn('R901', 'WEB-1002', [{ sku: 'HOODIE-GRY-L', action: 'quarantine' }]);
		const a1 = level('JEANS-BLU-32', 'A1');
		const [moved, exceptions] = await execute(MOVES, [ret, other, ret]);
		expect(exceptions).toEqual([]);
		expect(level('JEANS-BLU-32', 'A1')).toBe(a1 + 2);
		expect(sandbox.state.snapshot().adjustments.map((a) => [a.reference, a.delta])).toEqual([
			['RB-R900-R900:1-move', 2],
			['RB-R901-R901:1-move', 1],
		]);
		expect(pairs(moved)).toEqual([0, 1, 2]);
		const result = (i: number) =>
			((moved[i].json.lines as IDataObject[])[0].stockMove as IDataObject).result;
		expect([result(0), result(1), result(2)]).toEqual(['applied', 'applied', 'duplicate']);
		expect(moved[2].json.stockMoves).toEqual({ applied: 0, duplicate: 1, noMovement: 0 });
	});

	test('one credit note for the return; the second item is a duplicate on Created, not an exception', async () => {
		const ret = mappedReturn('R902', 'WEB-1001', [
			{ sku: 'JEANS-BLU-32', action: 'restock', quantity: 2 },
		]);
		const [created, exceptions] = await execute(CREDIT, [ret, ret]);
		expect(exceptions.map((e) => [e.json.kind, e.json.message])).toEqual([]);
		const snap = sandbox.state.snapshot();
		expect(snap.creditNotes.map((c) => c.associatedRef)).toEqual(['RB-R902']);
		expect(snap.returns).toHaveLength(1);
		expect(
			snap.orders
				.find((o) => o.associatedRef === 'WEB-1001')
				?.lines.find((l) => l.stockCode === 'JEANS-BLU-32')?.qtyReturned,
		).toBe(2);
		expect(pairs(created)).toEqual([0, 1]);
		expect(created[0].json).toMatchObject({
			associatedRef: 'RB-R902',
			duplicate: false,
			processed: expect.anything(),
		});
		expect(created[1].json).toMatchObject({ associatedRef: 'RB-R902', duplicate: true });
		expect((created[1].json.totals as IDataObject).grossPence).toBe(
			(created[0].json.totals as IDataObject).grossPence,
		);
		expect((created[0].json.totals as IDataObject).grossPence).toBe(
			snap.creditNotes[0].totals.grossPence,
		);
	});

	test('a re-graded row of the same return in the batch moves nothing more and credits nothing more', async () => {
		const first = mappedReturn('R903', 'WEB-1002', [
			{ sku: 'MUG-WHT', action: 'restock', quantity: 2 },
		]);
		const regraded = mappedReturn('R903', 'WEB-1002', [
			{ sku: 'MUG-WHT', action: 'quarantine', disposition: 'Damaged', quantity: 2 },
		]);
		const a1 = level('MUG-WHT', 'A1');
		const quar = level('MUG-WHT', 'QUAR');
		const [moved, stockEx] = await execute(MOVES, [first, regraded]);
		const [created, creditEx] = await execute(CREDIT, [moved[0].json, moved[1].json]);
		expect([...stockEx, ...creditEx]).toEqual([]);
		expect([level('MUG-WHT', 'A1'), level('MUG-WHT', 'QUAR')]).toEqual([a1 + 2, quar]);
		expect(
			sandbox.state.snapshot().creditNotes.filter((c) => c.associatedRef === 'RB-R903'),
		).toHaveLength(1);
		expect(created.map((c) => c.json.duplicate)).toEqual([false, true]);
	});
});
