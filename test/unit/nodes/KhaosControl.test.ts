import {
	NodeApiError,
	NodeHelpers,
	NodeOperationError,
	Workflow,
	type IDataObject,
	type INode,
	type INodeExecutionData,
	type INodeTypes,
} from 'n8n-workflow';
import { KhaosControl } from '../../../nodes/KhaosControl/KhaosControl.node';
import * as transport from '../../../nodes/KhaosControl/transport';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import { KhaosFault } from '../../../transports/khaos/faults';
import { FakeKhaosApi, KHAOS_TEST_CREDENTIALS, mappedReturn } from '../../helpers/khaosFakes';
import { mockExecuteContext, type MockParam } from '../../helpers/mockExecuteContext';

const PASSWORD = KHAOS_TEST_CREDENTIALS.password;

interface RunOptions {
	fake?: FakeKhaosApi;
	continueOnFail?: boolean;
	paramsPerItem?: Array<Record<string, MockParam> | undefined>;
	credentials?: Partial<typeof KHAOS_TEST_CREDENTIALS>;
}

async function run(params: Record<string, MockParam>, items: IDataObject[], opts: RunOptions = {}) {
	const fake = opts.fake ?? new FakeKhaosApi();
	jest.spyOn(transport, 'createKhaosApi').mockReturnValue(fake);
	const ctx = mockExecuteContext({
		items,
		params,
		paramsPerItem: opts.paramsPerItem,
		continueOnFail: opts.continueOnFail,
		credentials: { khaosControlApi: { ...KHAOS_TEST_CREDENTIALS, ...opts.credentials } },
	});
	const out = await new KhaosControl().execute.call(ctx);
	return { out, fake };
}

async function runError(
	params: Record<string, MockParam>,
	items: IDataObject[],
	opts: RunOptions = {},
): Promise<Error> {
	try {
		await run(params, items, opts);
	} catch (error) {
		return error as Error;
	}
	throw new Error('expected the node to throw');
}

const jsons = (items: INodeExecutionData[]) => items.map((i) => i.json);
const pairs = (items: INodeExecutionData[]) =>
	items.map((i) => (i.pairedItem as { item: number }).item);

afterEach(() => jest.restoreAllMocks());

const transient = () =>
	new TransientExhaustedError(
		'Khaos ExportStock',
		3,
		900,
		new TransportError('Khaos ExportStock: HTTP 503', {
			kind: 'http',
			retryable: true,
			status: 503,
		}),
	);

describe('node description', () => {
	test('action node usable as a tool, credential, outputs by operation, subtitle', () => {
		const d = new KhaosControl().description;
		expect(d.usableAsTool).toBe(true);
		expect(d.credentials).toEqual([{ name: 'khaosControlApi', required: true }]);
		expect(String(d.outputs)).toContain('"Exceptions"');
		expect(d.subtitle).toContain('operation');
		const ops = d.properties
			.filter((p) => p.name === 'operation')
			.flatMap((p) => (p.options ?? []).map((o) => (o as { value: string }).value));
		expect(ops).toEqual(
			expect.arrayContaining([
				'get',
				'validateSkus',
				'getLevels',
				'adjust',
				'applyReturnMoves',
				'import',
				'process',
				'reconcile',
				'createFromReturn',
				'findByReference',
			]),
		);
	});

	test('outputs resolved by n8n: Valid/Moved/Created + Exceptions for the batch operations, one output otherwise', () => {
		const d = new KhaosControl().description;
		const nodeTypes = {
			getByName: () => ({ description: d }),
			getByNameAndVersion: () => ({ description: d }),
			getKnownTypes: () => ({}),
		} as unknown as INodeTypes;
		const outputsFor = (resource: string, operation: string) => {
			const node: INode = {
				id: '1',
				name: 'Khaos',
				type: 'khaosControl',
				typeVersion: 1,
				position: [0, 0],
				parameters: { resource, operation },
			};
			const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
			return NodeHelpers.getNodeOutputs(workflow, node, d).map((o) =>
				typeof o === 'string' ? o : `${o.type}:${o.displayName}`,
			);
		};
		expect(outputsFor('product', 'validateSkus')).toEqual(['main:Valid', 'main:Exceptions']);
		expect(outputsFor('stock', 'applyReturnMoves')).toEqual(['main:Moved', 'main:Exceptions']);
		expect(outputsFor('creditNote', 'createFromReturn')).toEqual([
			'main:Created',
			'main:Exceptions',
		]);
		expect(outputsFor('salesOrder', 'get')).toEqual(['main:']);
	});

	test('no input items: empty outputs and no Khaos call', async () => {
		const { out, fake } = await run({ resource: 'product', operation: 'validateSkus' }, []);
		expect(out).toEqual([[], []]);
		expect(Object.values(fake.calls).reduce((a, b) => a + b, 0)).toBe(0);
	});
});

describe('Product', () => {
	test('Get: one batched look-up for all items, one output item per code, pairedItem', async () => {
		const { out, fake } = await run(
			{ resource: 'product', operation: 'get', mappingType: 1 },
			[{}, {}],
			{
				paramsPerItem: [{ stockCodes: 'TSHIRT-RED-M, MUG-WHT' }, { stockCodes: 'JEANS-BLU-32' }],
			},
		);
		expect(fake.calls.getProducts).toBe(1);
		expect(fake.log[0].args[0]).toEqual(['TSHIRT-RED-M', 'MUG-WHT', 'JEANS-BLU-32']);
		expect(out).toHaveLength(1);
		expect(
			jsons(out[0]).map((j) => [j.code, j.stockId, j.discontinued, j.usableForReturns]),
		).toEqual([
			['TSHIRT-RED-M', '10001', false, true],
			['MUG-WHT', '10004', true, true],
			['JEANS-BLU-32', '10002', false, true],
		]);
		expect(pairs(out[0])).toEqual([0, 0, 1]);
		expect(out[0][0].json.sellPrice).toBe('10.00');
	});

	test('Get: an unknown code fails the item with NodeOperationError and its index, or an error item with continueOnFail', async () => {
		const err = await runError(
			{ resource: 'product', operation: 'get', mappingType: 1 },
			[{}, {}],
			{
				paramsPerItem: [{ stockCodes: 'TSHIRT-RED-M' }, { stockCodes: 'NOPE-1' }],
			},
		);
		expect(err).toBeInstanceOf(NodeOperationError);
		expect(err.message).toContain('NOPE-1');
		expect((err as NodeOperationError).context.itemIndex).toBe(1);

		const { out } = await run({ resource: 'product', operation: 'get', mappingType: 1 }, [{}, {}], {
			continueOnFail: true,
			paramsPerItem: [{ stockCodes: 'TSHIRT-RED-M' }, { stockCodes: 'NOPE-1' }],
		});
		expect(jsons(out[0])).toEqual([
			expect.objectContaining({ code: 'TSHIRT-RED-M' }),
			{ error: expect.stringContaining('NOPE-1') },
		]);
		expect(pairs(out[0])).toEqual([0, 1]);
	});

	describe('Validate SKUs', () => {
		const good = mappedReturn('R1', 'WEB-1002', [
			{ sku: 'HOODIE-GRY-L' },
			{ sku: 'MUG-WHT', quantity: 2 },
		]);
		const archived = mappedReturn('R2', 'WEB-1003', [
			{ sku: 'TSHIRT-RED-M' },
			{ sku: 'SCARF-OLD' },
		]);
		const unknownAndGift = mappedReturn('R3', 'WEB-1001', [
			{ sku: 'NO-SUCH-SKU' },
			{ sku: 'GIFTCARD-25' },
			{ sku: 'JEANS-BLU-32' },
		]);

		test('one look-up of the distinct codes; whole returns pass or fail; exceptions per bad line with payload', async () => {
			const { out, fake } = await run(
				{ resource: 'product', operation: 'validateSkus', mappingType: 1, discontinued: 'notice' },
				[good, archived, unknownAndGift, { sku: 'TSHIRT-RED-M' }, { foo: 1 }],
			);
			expect(fake.calls.getProducts).toBe(1);
			expect(new Set(fake.log[0].args[0] as string[])).toEqual(
				new Set([
					'HOODIE-GRY-L',
					'MUG-WHT',
					'TSHIRT-RED-M',
					'SCARF-OLD',
					'NO-SUCH-SKU',
					'GIFTCARD-25',
					'JEANS-BLU-32',
				]),
			);
			expect((fake.log[0].args[0] as string[]).length).toBe(7);

			const [valid, exceptions] = out;
			expect(jsons(valid).map((j) => j.returnId ?? j.sku)).toEqual(['R1', 'TSHIRT-RED-M']);
			expect(pairs(valid)).toEqual([0, 3]);
			const r1 = valid[0].json as {
				lines: Array<{ product: { stockId: string }; discontinued: boolean }>;
				skuValidation: { discontinued: string[] };
			};
			expect(r1.lines.map((l) => [l.product.stockId, l.discontinued])).toEqual([
				['10003', false],
				['10004', true],
			]);
			expect(r1.skuValidation.discontinued).toEqual(['MUG-WHT']);
			expect((valid[1].json.product as IDataObject).stockCode).toBe('TSHIRT-RED-M');

			expect(jsons(exceptions).map((e) => [e.kind, e.returnId, e.sku, e.lineId])).toEqual([
				['invalid_payload', null, null, null],
				// R1 passes, and its discontinued MUG-WHT is a notice beside it (never blocking)
				['discontinued_sku', 'R1', 'MUG-WHT', 'R1:2'],
				['archived_sku', 'R2', 'SCARF-OLD', 'R2:2'],
				['unknown_sku', 'R3', 'NO-SUCH-SKU', 'R3:1'],
				['archived_sku', 'R3', 'GIFTCARD-25', 'R3:2'],
			]);
			expect(pairs(exceptions)).toEqual([4, 0, 1, 2, 2]);
			expect(jsons(exceptions).map((e) => e.notice === true)).toEqual([
				false,
				true,
				false,
				false,
				false,
			]);
			expect(JSON.parse(exceptions[2].json.payload as string)).toEqual(archived);
			expect(exceptions[4].json.message).toContain('not stock controlled');
			expect(exceptions[2].json).toMatchObject({
				exception: true,
				stage: 'validate',
				owner: 'ops',
				orderReference: 'WEB-1003',
			});
		});

		test('Discontinued SKUs: block stops the return with a discontinued_sku exception (not a notice)', async () => {
			const { out } = await run(
				{ resource: 'product', operation: 'validateSkus', mappingType: 1, discontinued: 'block' },
				[good],
			);
			expect(out[0]).toHaveLength(0);
			expect(jsons(out[1]).map((e) => [e.kind, e.sku, e.notice ?? false, e.owner])).toEqual([
				['discontinued_sku', 'MUG-WHT', false, 'ops'],
			]);
		});

		test("the mapping's khaosSku is what is checked", async () => {
			const aliased = mappedReturn('R9', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }]);
			(aliased.lines[0] as { sku: string }).sku = 'OLD-TSHIRT-CODE';
			const { out, fake } = await run(
				{ resource: 'product', operation: 'validateSkus', mappingType: 1 },
				[aliased],
			);
			expect(fake.log[0].args[0]).toEqual(['TSHIRT-RED-M']);
			expect(out[0]).toHaveLength(1);
		});

		test('retries exhausted → transient_exhausted for every item, no secret in the message', async () => {
			const fake = new FakeKhaosApi().fail('getProducts', transient());
			const { out } = await run(
				{ resource: 'product', operation: 'validateSkus', mappingType: 1 },
				[good, archived],
				{ fake },
			);
			expect(out[0]).toEqual([]);
			expect(jsons(out[1]).map((e) => [e.kind, e.returnId, e.owner])).toEqual([
				['transient_exhausted', 'R1', 'tech'],
				['transient_exhausted', 'R2', 'tech'],
			]);
			expect(pairs(out[1])).toEqual([0, 1]);
		});

		test('an auth failure fails the node with NodeApiError (continueOnFail: khaos_rejected exception items)', async () => {
			const authError = new TransportError(
				`Khaos ExportStock: HTTP 401, credentials refused for ${PASSWORD}`,
				{ kind: 'auth', retryable: false, status: 401 },
			);
			const err = await runError(
				{ resource: 'product', operation: 'validateSkus', mappingType: 1 },
				[good],
				{ fake: new FakeKhaosApi().fail('getProducts', authError) },
			);
			expect(err).toBeInstanceOf(NodeApiError);
			expect(err.message).not.toContain(PASSWORD);
			expect(err.message).toContain('***');

			const { out } = await run(
				{ resource: 'product', operation: 'validateSkus', mappingType: 1 },
				[good],
				{
					fake: new FakeKhaosApi().fail('getProducts', authError),
					continueOnFail: true,
				},
			);
			expect(out[1].map((i) => i.json.kind)).toEqual(['khaos_rejected']);
			expect(JSON.stringify(out)).not.toContain(PASSWORD);
		});
	});
});

describe('Stock', () => {
	test('Get Levels: one call per site for all items', async () => {
		const { out, fake } = await run(
			{ resource: 'stock', operation: 'getLevels', site: { __rl: true, mode: 'list', value: '1' } },
			[{}, {}],
			{
				paramsPerItem: [{ stockCodes: 'TSHIRT-RED-M' }, { stockCodes: 'JEANS-BLU-32' }],
			},
		);
		expect(fake.calls.getStockLevels).toBe(1);
		expect(fake.log[0].args).toEqual([['TSHIRT-RED-M', 'JEANS-BLU-32'], '1']);
		expect(jsons(out[0]).map((j) => [j.stockCode, j.level, j.statusText])).toEqual([
			['TSHIRT-RED-M', 11, 'in stock'],
			['JEANS-BLU-32', 6, 'in stock'],
		]);
		expect(pairs(out[0])).toEqual([0, 1]);
	});

	test("Get Levels: an empty site uses the credential's default site", async () => {
		const { fake } = await run(
			{
				resource: 'stock',
				operation: 'getLevels',
				stockCodes: 'TSHIRT-RED-M',
				site: { __rl: true, mode: 'list', value: '' },
			},
			[{}],
		);
		expect(fake.log[0].args[1]).toBe('1');
	});

	test('Adjust: all items in one call; adjust-by / adjust-to; a rejected line fails only its item (continueOnFail)', async () => {
		const base = {
			resource: 'stock',
			operation: 'adjust',
			site: { __rl: true, mode: 'id', value: '1' },
			location: { __rl: true, mode: 'list', value: 'A1' },
			reason: 'count',
		};
		const { out, fake } = await run(base, [{}, {}, {}], {
			continueOnFail: true,
			paramsPerItem: [
				{ stockCode: 'TSHIRT-RED-M', adjustMode: 'by', quantity: 2, reference: 'ADJ-1' },
				{ stockCode: 'JEANS-BLU-32', adjustMode: 'to', quantity: 9, reference: 'ADJ-2' },
				{ stockCode: 'SCARF-OLD', adjustMode: 'by', quantity: 1, reference: 'ADJ-3' },
			],
		});
		expect(fake.calls.adjustStock).toBe(1);
		expect(
			(fake.log[0].args[0] as IDataObject[]).map((a) => [a.reference, a.adjustBy, a.adjustTo]),
		).toEqual([
			['ADJ-1', 2, undefined],
			['ADJ-2', undefined, 9],
			['ADJ-3', 1, undefined],
		]);
		expect(jsons(out[0])).toEqual([
			expect.objectContaining({ reference: 'ADJ-1', applied: true, newLevel: 12 }),
			expect.objectContaining({ reference: 'ADJ-2', applied: true, newLevel: 9 }),
			{ error: expect.stringContaining('SCARF-OLD is deleted') },
		]);
		expect(pairs(out[0])).toEqual([0, 1, 2]);
	});

	test('Adjust: a missing reference is an item error before any call', async () => {
		const err = await runError(
			{
				resource: 'stock',
				operation: 'adjust',
				site: '1',
				location: 'A1',
				stockCode: 'TSHIRT-RED-M',
				adjustMode: 'by',
				quantity: 1,
				reason: 'x',
				reference: '',
			},
			[{}],
		);
		expect(err).toBeInstanceOf(NodeOperationError);
		expect(err.message).toContain('Reference is empty');
	});

	describe('Apply Return Stock Moves', () => {
		const params = { resource: 'stock', operation: 'applyReturnMoves' };
		const r1 = mappedReturn('R1', 'WEB-1001', [
			{ sku: 'TSHIRT-RED-M', action: 'restock' },
			{ sku: 'JEANS-BLU-32', action: 'quarantine', quantity: 2 },
			// the two lines that move nothing are never credited, so they are not bounded by the order
			// (a credited one is: see 'a line that moves nothing but is credited …')
			{ sku: 'JEANS-BLU-32', action: 'no_movement', credit: 'no_credit' },
			{ sku: 'TSHIRT-RED-M', action: 'write_off', credit: 'no_credit' },
		]);
		// WEB-1003 sold one TSHIRT-RED-M (WEB-1001's is taken by r1 when both run together)
		const r2 = mappedReturn('R2', 'WEB-1003', [
			{ sku: 'TSHIRT-RED-M', action: 'write_off', siteId: '1', locationId: 'WOFF' },
		]);

		test('one batched call for every moving line; references; per-line results', async () => {
			const { out, fake } = await run(params, [r1, r2]);
			expect(fake.calls.adjustStock).toBe(1);
			// the original orders are looked up first, in one batch
			expect(fake.log.filter((l) => l.method === 'getSalesOrders').map((l) => l.args[0])).toEqual([
				['WEB-1001', 'WEB-1003'],
			]);
			const batch = fake.log.find((l) => l.method === 'adjustStock')!.args[0] as IDataObject[];
			expect(
				batch.map((a) => [a.reference, a.stockCode, a.siteId, a.locationId, a.adjustBy]),
			).toEqual([
				['RB-R1-R1:1-move', 'TSHIRT-RED-M', '1', 'A1', 1],
				['RB-R1-R1:2-move', 'JEANS-BLU-32', '1', 'QUAR', 2],
				['RB-R2-R2:1-move', 'TSHIRT-RED-M', '1', 'WOFF', 1],
			]);
			expect(out[1]).toEqual([]);
			const moved = out[0][0].json as {
				lines: Array<{ stockMove: IDataObject }>;
				stockMoves: IDataObject;
			};
			expect(moved.lines.map((l) => [l.stockMove.result, l.stockMove.newLevel])).toEqual([
				['applied', 11],
				['applied', 2],
				['no_movement', null],
				['no_movement', null],
			]);
			expect(moved.stockMoves).toEqual({ applied: 2, duplicate: 0, noMovement: 2 });
			expect(pairs(out[0])).toEqual([0, 1]);
			expect(fake.levels.get('TSHIRT-RED-M|1|A1')).toBe(11);
		});

		test('a line that moves nothing but is credited or held is bounded by the order too: all problems before anything moves', async () => {
			// WEB-1001 sold 2 jeans: 2 quarantined + 1 missing (credited) is one too many, so nothing moves
			const over = mappedReturn('R5', 'WEB-1001', [
				{ sku: 'JEANS-BLU-32', action: 'quarantine', quantity: 2 },
				{ sku: 'JEANS-BLU-32', action: 'no_movement', credit: 'hold' },
			]);
			const { out, fake } = await run(params, [over]);
			expect(fake.calls.adjustStock).toBe(0);
			expect(jsons(out[1]).map((e) => [e.kind, (e.details as IDataObject).requested])).toEqual([
				['quantity_exceeds_sold', 3],
			]);
			expect(String(jsons(out[1])[0].message)).toContain('3 unit(s) of SKU JEANS-BLU-32');
		});

		test('a duplicate delivery moves nothing twice', async () => {
			const fake = new FakeKhaosApi();
			await run(params, [r1], { fake });
			const { out } = await run(params, [r1], { fake });
			expect(fake.levels.get('TSHIRT-RED-M|1|A1')).toBe(11);
			expect(fake.levels.get('JEANS-BLU-32|1|QUAR')).toBe(2);
			const lines = (out[0][0].json as { lines: Array<{ stockMove: IDataObject }> }).lines;
			expect(lines.slice(0, 2).map((l) => l.stockMove.result)).toEqual(['duplicate', 'duplicate']);
			expect((out[0][0].json.stockMoves as IDataObject).duplicate).toBe(2);
		});

		test('a rejected line sends the return to exceptions (khaos_rejected) with the return as payload', async () => {
			const bad = mappedReturn('R3', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }, { sku: 'SCARF-OLD' }]);
			const { out } = await run(params, [{ ...r2, orderReference: 'WEB-1001' }, bad]);
			expect(jsons(out[0]).map((j) => j.returnId)).toEqual(['R2']);
			expect(jsons(out[1]).map((e) => [e.kind, e.returnId, e.sku, e.lineId, e.code])).toEqual([
				['khaos_rejected', 'R3', 'SCARF-OLD', 'R3:2', 'RB-R3-R3:2-move'],
			]);
			expect(JSON.parse(out[1][0].json.payload as string)).toEqual(bad);
			expect(pairs(out[1])).toEqual([1]);
		});

		test('invalid items → invalid_payload; retries exhausted → transient_exhausted; a SOAP fault → khaos_rejected', async () => {
			const { out } = await run(params, [{ returnId: 'X1', lines: [] }, r1], {
				fake: new FakeKhaosApi().fail('adjustStock', transient()),
			});
			expect(jsons(out[1]).map((e) => [e.kind, e.returnId])).toEqual([
				['invalid_payload', 'X1'],
				['transient_exhausted', 'R1'],
			]);
			expect(pairs(out[1])).toEqual([0, 1]);

			const fault = new KhaosFault('ImportStockAdjustments', 'Adjustments XML is invalid', {
				code: 'invalid_request',
			});
			const res = await run(params, [r1], { fake: new FakeKhaosApi().fail('adjustStock', fault) });
			expect(jsons(res.out[1]).map((e) => [e.kind, e.code])).toEqual([
				['khaos_rejected', 'invalid_request'],
			]);
		});

		test('a return whose original order is not in Khaos moves nothing: order_not_found naming the order, the others move', async () => {
			const unknown = mappedReturn('R7', 'WEB-9999', [{ sku: 'TSHIRT-RED-M', action: 'restock' }]);
			const { out, fake } = await run(params, [unknown, r2]);
			expect(jsons(out[0]).map((j) => j.returnId)).toEqual(['R2']);
			expect(
				jsons(out[1]).map((e) => [e.kind, e.returnId, e.stage, e.code, e.field, e.owner]),
			).toEqual([['order_not_found', 'R7', 'stock', 'WEB-9999', 'orderReference', 'finance']]);
			expect(String(out[1][0].json.message)).toContain('"WEB-9999" is not in Khaos');
			expect(JSON.parse(out[1][0].json.payload as string)).toEqual(unknown);
			expect(pairs(out[1])).toEqual([0]);
			const batch = fake.log.find((l) => l.method === 'adjustStock')!.args[0] as IDataObject[];
			expect(batch.map((a) => a.reference)).toEqual(['RB-R2-R2:1-move']);
			expect(fake.levels.get('TSHIRT-RED-M|1|A1')).toBe(10);
		});

		test('a failed order look-up moves nothing for its returns (transient_exhausted, retried later); Check Original Order off skips the look-up', async () => {
			const failing = await run(params, [r1], {
				fake: new FakeKhaosApi().fail('getSalesOrders', transient()),
			});
			expect(jsons(failing.out[1]).map((e) => [e.kind, e.returnId])).toEqual([
				['transient_exhausted', 'R1'],
			]);
			expect(failing.fake.calls.adjustStock).toBe(0);
			const unknown = mappedReturn('R8', 'WEB-9999', [{ sku: 'TSHIRT-RED-M', action: 'restock' }]);
			const off = await run({ ...params, options: { checkOrder: false } }, [unknown]);
			expect(off.fake.calls.getSalesOrders).toBe(0);
			expect(jsons(off.out[0]).map((j) => j.returnId)).toEqual(['R8']);
			expect(off.fake.levels.get('TSHIRT-RED-M|1|A1')).toBe(11);
		});

		test('a return with no moving line: no stock call; its order is read only when a line is credited', async () => {
			const none = mappedReturn('R5', 'WEB-1001', [
				{ sku: 'TSHIRT-RED-M', action: 'no_movement', credit: 'exchange' },
			]);
			const { out, fake } = await run(params, [none]);
			expect(fake.calls.adjustStock).toBe(0);
			expect(fake.calls.getSalesOrders).toBe(0);
			expect(out[0]).toHaveLength(1);
			const credited = mappedReturn('R6', 'WEB-1001', [
				{ sku: 'TSHIRT-RED-M', action: 'no_movement' },
			]);
			const again = await run(params, [credited]);
			expect(again.fake.calls.adjustStock).toBe(0);
			expect(again.fake.calls.getSalesOrders).toBe(1);
			expect(again.out[0]).toHaveLength(1);
		});
	});
});

describe('Sales Order', () => {
	test('Get: lines and prices; one fetch per reference per execution', async () => {
		const { out, fake } = await run(
			{
				resource: 'salesOrder',
				operation: 'get',
				lookupBy: 'associatedRef',
				orderReference: 'WEB-1001',
			},
			[{}, {}],
		);
		expect(fake.calls.getSalesOrder).toBe(1);
		expect(out[0]).toHaveLength(2);
		const o = out[0][0].json as { orderCode: string; lines: IDataObject[]; orderDiscount: string };
		expect(o.orderCode).toBe('SO000101');
		expect(o.orderDiscount).toBe('10.00');
		expect(o.lines.map((l) => [l.stockCode, l.unitPrice, l.discountPercent, l.qtyOrdered])).toEqual(
			[
				['TSHIRT-RED-M', '40.00', 0, 1],
				['JEANS-BLU-32', '30.00', 10, 2],
			],
		);
		expect(pairs(out[0])).toEqual([0, 1]);
	});

	test('Get: not found is a NodeOperationError naming the reference', async () => {
		const err = await runError(
			{ resource: 'salesOrder', operation: 'get', lookupBy: 'orderCode', orderReference: 'SO999' },
			[{}],
		);
		expect(err).toBeInstanceOf(NodeOperationError);
		expect(err.message).toContain('SO999');
	});
});

describe('Return', () => {
	const importJson = {
		associatedRef: 'RB-R7',
		customerUrn: 'C1001',
		orderAssociatedRef: 'WEB-1001',
		lines: [
			{
				stockCode: 'JEANS-BLU-32',
				quantity: 1,
				orderLineId: '1002',
				creditNetPence: 2011,
				creditTaxPence: 402,
				creditGrossPence: 2413,
			},
		],
	};

	test('Import: defaults for reason and site; a second import is a duplicate success with the existing code', async () => {
		const fake = new FakeKhaosApi();
		const params = {
			resource: 'return',
			operation: 'import',
			returnJson: JSON.stringify(importJson),
			defaultReasonId: '2',
			defaultSite: { __rl: true, mode: 'id', value: '' },
		};
		const first = await run(params, [{}], { fake });
		expect(first.out[0][0].json).toMatchObject({
			imported: true,
			duplicate: false,
			returnCode: 'RTN000001',
		});
		expect(fake.imports[0].lines[0]).toMatchObject({
			reasonId: '2',
			siteId: '1',
			locationId: null,
			restock: false,
			creditGrossPence: 2413,
		});
		const second = await run(params, [{}], { fake });
		expect(second.out[0][0].json).toMatchObject({
			imported: false,
			duplicate: true,
			returnCode: 'RTN000001',
		});
		expect(fake.imports).toHaveLength(1);
	});

	test('Import: a bad return names the field', async () => {
		const err = await runError(
			{
				resource: 'return',
				operation: 'import',
				returnJson: { ...importJson, lines: [{ ...importJson.lines[0], quantity: 0 }] },
			},
			[{}],
		);
		expect(err).toBeInstanceOf(NodeOperationError);
		expect(err.message).toContain('lines[0].quantity');
	});

	test('Process: already processed is a success', async () => {
		const fake = new FakeKhaosApi();
		fake.processed.add('RTN000042');
		const { out } = await run(
			{
				resource: 'return',
				operation: 'process',
				returnCode: 'RTN000042',
				manualAuthCode: 'REBOUND',
			},
			[{}],
			{ fake },
		);
		expect(out[0][0].json).toEqual({
			returnCode: 'RTN000042',
			outcome: 'already_processed',
			processed: true,
			alreadyProcessed: true,
		});
	});

	test('Process: a fault is a NodeApiError with the item index', async () => {
		const fake = new FakeKhaosApi().fail(
			'processReturn',
			new KhaosFault('ProcessReturn', 'Return does not exist or has been deleted.', {
				code: 'return_not_found',
			}),
		);
		const err = await runError(
			{ resource: 'return', operation: 'process', returnCode: 'RTN9', manualAuthCode: 'REBOUND' },
			[{}],
			{ fake },
		);
		expect(err).toBeInstanceOf(NodeApiError);
		expect(err.message).toContain('Return does not exist or has been deleted.');
		expect((err as NodeApiError).context.itemIndex).toBe(0);
	});
});

describe('Return → Reconcile', () => {
	const RECONCILE = {
		resource: 'return',
		operation: 'reconcile',
		exceptionsJson: '[]',
		options: { title: 'Daily check', tolerancePencePerLine: 1 },
	};
	const r1 = mappedReturn('R1', 'WEB-1001', [{ sku: 'JEANS-BLU-32', action: 'restock' }]);
	const r2 = mappedReturn('R2', 'WEB-1002', [{ sku: 'HOODIE-GRY-L', action: 'quarantine' }]);

	/** R1 fully applied (stock moved, credit note), R2 with stock moved and no credit note. */
	async function applied(): Promise<FakeKhaosApi> {
		const fake = new FakeKhaosApi();
		await run({ resource: 'stock', operation: 'applyReturnMoves' }, [r1, r2], { fake });
		await run({ resource: 'creditNote', operation: 'createFromReturn', options: {} }, [r1], {
			fake,
		});
		fake.log.length = 0;
		for (const k of Object.keys(fake.calls) as Array<keyof typeof fake.calls>) fake.calls[k] = 0;
		return fake;
	}

	test('one report item: complete and credit pending, from one credit-note and one adjustment look-up', async () => {
		const fake = await applied();
		const { out } = await run(RECONCILE, [r1, r2], { fake });
		expect(out).toHaveLength(1);
		expect(out[0]).toHaveLength(1);
		const item = out[0][0];
		expect(item.pairedItem).toEqual([{ item: 0 }, { item: 1 }]);
		expect(fake.calls.getOrderStatuses).toBe(1);
		expect(fake.calls.getStockAdjustments).toBe(1);
		expect(fake.log.find((l) => l.method === 'getOrderStatuses')?.args[0]).toEqual([
			'RB-R1',
			'RB-R2',
		]);
		expect(fake.log.find((l) => l.method === 'getStockAdjustments')?.args[0]).toEqual({
			prefixes: ['RB-R1-', 'RB-R2-'],
		});
		const report = item.json as IDataObject & {
			summary: { countsByStatus: Record<string, number>; totals: IDataObject };
			perReturn: IDataObject[];
		};
		expect(report.summary.countsByStatus).toMatchObject({
			complete: 1,
			credit_pending: 1,
			stock_pending: 0,
			duplicate_credit: 0,
		});
		expect(report.perReturn.map((p) => [p.returnId, p.status])).toEqual([
			['R1', 'complete'],
			['R2', 'credit_pending'],
		]);
		const k1 = report.perReturn[0].khaos as IDataObject;
		expect(k1).toMatchObject({ imported: true, processed: true, adjustments: 1 });
		expect((k1.creditNotes as IDataObject[]).map((n) => [n.orderCode, n.netPence])).toEqual([
			['CNRTN000001', 2011],
		]);
		expect(report.summary.totals).toMatchObject({
			returns: 2,
			complete: 1,
			needsAttention: 1,
			creditNotes: 1,
			adjustments: 2,
		});
		expect(report.title).toBe('Daily check');
		expect(item.json.subject).toBe('Daily check: 1 of 2 complete, 1 needs attention');
		expect(item.json.markdown).toEqual(expect.stringContaining('Daily check'));
		expect(item.json.markdown).toEqual(expect.stringContaining('R2'));
		expect(item.json.html).toEqual(expect.stringMatching(/^<!DOCTYPE html>|<html|<div|<table/i));
		expect(item.json.html).toEqual(expect.stringContaining('R2'));
		expect(typeof item.json.summaryLine).toBe('string');
		expect(item.json.summaryLine).toEqual(expect.stringContaining('2 returns, 1 complete'));
		expect(item.json.issues).toEqual([]);
	});

	test('open exception rows come from the JSON parameter and hold the return in "exception"', async () => {
		const fake = await applied();
		const rows = [
			{
				key: 'R2|credit|khaos_rejected|',
				kind: 'khaos_rejected',
				owner: 'tech',
				status: 'open',
				returnId: 'R2',
				sku: null,
				message: 'Khaos refused',
				firstSeen: '2026-11-27T08:00:00Z',
				lastSeen: '2026-11-27T08:00:00Z',
				attempts: 1,
			},
			{
				key: 'R9|validate|unknown_sku|X',
				kind: 'unknown_sku',
				owner: 'ops',
				status: 'resolved',
				returnId: 'R9',
				message: 'old',
				attempts: 0,
			},
		];
		const { out } = await run({ ...RECONCILE, exceptionsJson: JSON.stringify(rows) }, [r1, r2], {
			fake,
		});
		const report = out[0][0].json as IDataObject & {
			summary: { countsByStatus: Record<string, number> };
			openExceptions: IDataObject;
		};
		expect(report.summary.countsByStatus).toMatchObject({
			complete: 1,
			exception: 1,
			credit_pending: 0,
		});
		expect(report.openExceptions).toMatchObject({ total: 1, byOwner: { tech: 1 } });
	});

	test('an empty window (the one empty item a search that found nothing passes on, or no item at all) still reports, without a Khaos call', async () => {
		for (const items of [[{}], []] as IDataObject[][]) {
			const { out, fake } = await run(RECONCILE, items);
			expect(out).toHaveLength(1);
			expect(out[0]).toHaveLength(1);
			const report = out[0][0].json as IDataObject & { summary: { totals: IDataObject } };
			expect(report.summary.totals).toMatchObject({ returns: 0, complete: 0 });
			expect(report.subject).toBe('Daily check: no returns in the window');
			expect(report.markdown).toEqual(expect.stringContaining('Daily check'));
			expect(fake.log).toEqual([]);
		}
	});

	test('adjustments go to the return with the longest matching id; an unreadable input row is an issue, not a failure', async () => {
		const fake = new FakeKhaosApi();
		const a = mappedReturn('R1', 'WEB-1001', [{ sku: 'JEANS-BLU-32', action: 'restock' }]);
		const b = mappedReturn('R1-2', 'WEB-1001', [{ sku: 'TSHIRT-RED-M', action: 'restock' }]);
		await run({ resource: 'stock', operation: 'applyReturnMoves' }, [b], { fake });
		const { out } = await run(RECONCILE, [a, b, { returnId: 'BAD', lines: 'x' }], { fake });
		const report = out[0][0].json as IDataObject & {
			perReturn: IDataObject[];
			issues: IDataObject[];
		};
		expect(
			report.perReturn.map((p) => [p.returnId, p.status, (p.khaos as IDataObject).adjustments]),
		).toEqual([
			['R1', 'pending', 0],
			['R1-2', 'credit_pending', 1],
		]);
		expect(report.issues.length).toBeGreaterThan(0);
		expect(report.issues[0]).toMatchObject({ input: 'returns', index: 2, recordId: 'BAD' });
	});

	test('bad Exception Rows (JSON) names the parameter; a Khaos failure fails the node (continueOnFail: one error item)', async () => {
		const err = await runError({ ...RECONCILE, exceptionsJson: '{not json' }, [r1]);
		expect(err).toBeInstanceOf(NodeOperationError);
		expect(err.message).toContain('Exception Rows (JSON)');

		const fake = new FakeKhaosApi().fail('getStockAdjustments', transient());
		const failed = await runError(RECONCILE, [r1], { fake });
		expect(failed).toBeInstanceOf(NodeApiError);

		const { out } = await run(RECONCILE, [r1, r2], {
			fake: new FakeKhaosApi().fail('getOrderStatuses', transient()),
			continueOnFail: true,
		});
		expect(out[0]).toHaveLength(1);
		expect(out[0][0].json).toEqual({
			error: expect.stringContaining('503'),
			errorDescription: expect.any(String),
		});
	});

	test('notices and held credits: notice rows from Exception Rows, review rows from Credit Review Rows, in their own sections', async () => {
		const fake = await applied();
		const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
		const exceptions = [
			{
				key: 'R2|credit|credit_held|',
				kind: 'credit_held',
				owner: 'finance',
				status: 'notice',
				returnId: 'R2',
				message: 'Credit held for finance review',
				firstSeen: hoursAgo(3),
				lastSeen: hoursAgo(3),
				attempts: 1,
			},
		];
		const reviews = [
			{
				id: 7,
				returnId: 'R2',
				orderReference: 'WEB-1002',
				currency: 'GBP',
				heldWhy: 'store credit asked for',
				heldLines: '1 × HOODIE-GRY-L (Grade B, store_credit)',
				gross: '30.00',
				grossPence: '3000',
				withoutHeldGross: '',
				withoutHeldGrossPence: '',
				decision: '',
				status: 'pending',
				heldAt: hoursAgo(24 * 5),
			},
			{
				id: 8,
				returnId: 'R7',
				grossPence: 1200,
				status: 'failed',
				decision: 'release',
				heldAt: hoursAgo(30),
				lastError: 'Khaos refused: customer <on stop>',
			},
			{
				id: 9,
				returnId: 'R8',
				grossPence: 2413,
				status: 'released',
				decision: 'release',
				decidedBy: 'Jo',
				heldAt: hoursAgo(48),
				resolvedAt: hoursAgo(2),
				creditNoteRef: 'RB-R8',
				creditGross: '24.13',
			},
			{ id: 10, returnId: 'R9', status: 'pending', heldAt: 'the other day' },
		];
		const params = {
			...RECONCILE,
			exceptionsJson: JSON.stringify(exceptions),
			reviewsJson: JSON.stringify(reviews),
		};
		const { out } = await run(params, [r1, r2], { fake });
		const report = out[0][0].json as IDataObject & {
			summary: { countsByStatus: Record<string, number>; totals: IDataObject };
			perReturn: Array<IDataObject & { findings: string[] }>;
			notices: IDataObject & { groups: IDataObject[] };
			heldCredits: IDataObject & { waiting: IDataObject[]; decided: IDataObject[] };
			issues: IDataObject[];
		};
		// a notice is not an open exception: R2 waits for its credit, not on an exception
		expect(report.summary.countsByStatus).toMatchObject({ complete: 1, credit_pending: 1 });
		expect(report.summary.totals.openExceptions).toBe(0);
		expect(report.notices).toMatchObject({ total: 1, byOwner: { finance: 1 } });
		expect(report.notices.groups[0]).toMatchObject({ kind: 'credit_held', returnId: 'R2' });
		expect(
			report.heldCredits.waiting.map((w) => [w.returnId, w.status, w.ageDays, w.overdue]),
		).toEqual([
			['R2', 'pending', 5, true],
			['R7', 'failed', 1, false],
		]);
		expect(report.heldCredits.decided).toEqual([
			expect.objectContaining({
				returnId: 'R8',
				status: 'released',
				creditNoteRef: 'RB-R8',
				creditGrossPence: 2413,
			}),
		]);
		expect(report.perReturn[1].findings).toContain(
			'Credit held for finance review for 5 days (store credit asked for): finance decides it in credit reviews.',
		);
		// the bad row is named, the others are reported
		expect(report.issues).toEqual([
			{
				input: 'reviews',
				index: 3,
				field: 'heldAt',
				message: 'is not a valid date-time',
				recordId: 'R9',
			},
		]);
		const md = String(report.markdown);
		expect(md).toContain('## Held for finance review');
		expect(md).toContain('| R2 | WEB-1002 | Pending, over 3 days | 5 d | £30.00 | - |');
		expect(md).toContain('Khaos refused: customer &lt;on stop&gt;');
		expect(md).toContain('## Notices');
		expect(String(report.html)).toContain('Khaos refused: customer &lt;on stop&gt;');
		expect(String(report.summaryLine)).toContain(
			'2 held for finance review (1 over 3 days, 1 failed); 1 notice',
		);

		// Options › Review Overdue After (Days)
		const { out: week } = await run(
			{ ...params, options: { ...RECONCILE.options, reviewOverdueDays: 7 } },
			[r1, r2],
			{ fake },
		);
		const held = (week[0][0].json as IDataObject).heldCredits as IDataObject;
		expect(held.overdueAfterDays).toBe(7);
		expect((held.waiting as IDataObject[]).map((w) => w.overdue)).toEqual([false, false]);
	});

	test('Inbox Rows (JSON): an unfinished inbox row brings its return (looked up in Khaos too) whatever its age; final rows do not; bad JSON names the parameter', async () => {
		const fake = await applied();
		const r3 = mappedReturn('R3', 'WEB-1003', [{ sku: 'JEANS-BLU-32', action: 'restock' }]);
		const inbox = [
			{
				id: 1,
				returnId: 'R3',
				status: 'queued',
				receivedAt: '2026-11-01T10:00:00Z',
				payload: JSON.stringify(r3),
			},
			{ id: 2, returnId: 'R1', status: 'done', payload: JSON.stringify(r1) },
		];
		const { out } = await run({ ...RECONCILE, inboxJson: JSON.stringify(inbox) }, [r1, r2], {
			fake,
		});
		expect(fake.log.find((l) => l.method === 'getOrderStatuses')?.args[0]).toEqual([
			'RB-R1',
			'RB-R2',
			'RB-R3',
		]);
		const report = out[0][0].json as IDataObject & {
			perReturn: IDataObject[];
			summary: { notCompleteByOwner: IDataObject };
		};
		expect(report.perReturn.map((p) => [p.returnId, p.status, p.source])).toEqual(
			expect.arrayContaining([
				['R1', 'complete', 'rebound'],
				['R2', 'credit_pending', 'rebound'],
				['R3', 'pending', 'inbox'],
			]),
		);
		expect(report.perReturn).toHaveLength(3);
		// R2 (credit pending, no batching or review known) and R3 (nothing in Khaos): tech
		expect(report.summary.notCompleteByOwner).toEqual({
			tech: { count: 2, returnIds: expect.arrayContaining(['R2', 'R3']) },
		});
		const err = await runError({ ...RECONCILE, inboxJson: '[{oops' }, [r1]);
		expect(err.message).toContain('Inbox Rows (JSON)');
	});

	test('Credit Review Rows (JSON): left empty the section says not checked; bad JSON names the parameter', async () => {
		const { out } = await run(RECONCILE, [{}]);
		const report = out[0][0].json as IDataObject & { heldCredits: IDataObject };
		expect(report.heldCredits.checked).toBe(false);
		expect(String(report.markdown)).toContain(
			'Not checked: the credit reviews rows were not passed to the report.',
		);
		const err = await runError({ ...RECONCILE, reviewsJson: '[{oops' }, [r1]);
		expect(err).toBeInstanceOf(NodeOperationError);
		expect(err.message).toContain('Credit Review Rows (JSON)');
		const notList = await runError({ ...RECONCILE, reviewsJson: '{"returnId":"R1"}' }, [r1]);
		expect(notList.message).toContain(
			'Credit Review Rows (JSON) must be a JSON array of credit review rows',
		);
	});
});

describe('Credit Note', () => {
	const params = {
		resource: 'creditNote',
		operation: 'createFromReturn',
		options: { deliveryPolicy: 'never' },
	};

	test('the worked example: one JEANS-BLU-32 from WEB-1001 credits 24.13 gross, 4.02 VAT, 20.11 net', async () => {
		const ret = mappedReturn(
			'R1',
			'WEB-1001',
			[{ sku: 'JEANS-BLU-32', action: 'quarantine', reasonId: '4' }],
			{ refundPence: 2413 },
		);
		const { out, fake } = await run(params, [ret]);
		expect(out[1]).toEqual([]);
		const cn = out[0][0].json as IDataObject & { totals: IDataObject; lines: IDataObject[] };
		expect(cn.totals).toEqual({
			netPence: 2011,
			vatPence: 402,
			grossPence: 2413,
			net: '20.11',
			vat: '4.02',
			gross: '24.13',
		});
		expect(cn).toMatchObject({
			returnId: 'R1',
			associatedRef: 'RB-R1',
			returnCode: 'RTN000001',
			processed: 'processed',
			duplicate: false,
			currency: 'GBP',
			orderCode: 'SO000101',
		});
		expect(cn.lines).toEqual([
			expect.objectContaining({
				orderLineId: '1002',
				sku: 'JEANS-BLU-32',
				returnLineIds: ['R1:1'],
				reasonId: '4',
				siteId: '1',
				locationId: 'QUAR',
			}),
		]);
		expect((cn.mismatch as IDataObject).overTolerance).toBe(false);
		expect(fake.imports[0]).toMatchObject({
			associatedRef: 'RB-R1',
			customerUrn: 'C1001',
			orderAssociatedRef: 'WEB-1001',
			delivery: null,
			lines: [
				{
					stockCode: 'JEANS-BLU-32',
					quantity: 1,
					orderLineId: '1002',
					reasonId: '4',
					siteId: '1',
					locationId: 'QUAR',
					restock: false,
					creditNetPence: 2011,
					creditTaxPence: 402,
					creditGrossPence: 2413,
				},
			],
		});
		expect(fake.log.filter((l) => l.method === 'processReturn').map((l) => l.args)).toEqual([
			['RTN000001', 'REBOUND'],
		]);
	});

	test('ProcessReturn calls run at most Process Concurrency at once, and every return is still processed once, in input order', async () => {
		class SlowFake extends FakeKhaosApi {
			inFlight = 0;
			most = 0;
			async processReturn(returnCode: string, manualAuthCode: string) {
				this.inFlight++;
				this.most = Math.max(this.most, this.inFlight);
				await new Promise((r) => setImmediate(r));
				await new Promise((r) => setImmediate(r));
				try {
					return await super.processReturn(returnCode, manualAuthCode);
				} finally {
					this.inFlight--;
				}
			}
		}
		// three orders: one wave of three returns (a wave holds one return per order)
		const rets = ['WEB-1001', 'WEB-1002', 'WEB-1003'].map((o, i) =>
			mappedReturn(`P${i}`, o, [
				{
					sku:
						o === 'WEB-1002' ? 'HOODIE-GRY-L' : o === 'WEB-1003' ? 'TSHIRT-RED-M' : 'JEANS-BLU-32',
				},
			]),
		);
		for (const [limit, expected] of [
			[2, 2],
			[1, 1],
			[undefined, 3],
		] as const) {
			const fake = new SlowFake();
			const { out } = await run(
				{
					...params,
					options: { ...params.options, ...(limit ? { processConcurrency: limit } : {}) },
				},
				rets,
				{ fake },
			);
			expect({
				limit,
				exceptions: jsons(out[1]).map((e) => [e.returnId, e.kind, e.message]),
			}).toEqual({ limit, exceptions: [] });
			expect({ limit, most: fake.most }).toEqual({ limit, most: expected });
			expect(jsons(out[0]).map((j) => [j.returnId, j.processed])).toEqual(
				rets.map((r) => [r.returnId, 'processed']),
			);
			expect(fake.log.filter((l) => l.method === 'processReturn')).toHaveLength(3);
		}
	});

	test('one order fetch per order per execution; two returns of one order never credit the same unit twice', async () => {
		const a = mappedReturn('A', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]);
		const b = mappedReturn('B', 'WEB-1002', [{ sku: 'MUG-WHT', quantity: 2 }]);
		const c = mappedReturn('C', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }, { sku: 'TSHIRT-RED-M' }]);
		const d = mappedReturn('D', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]);
		const { out, fake } = await run(params, [a, b, c, d]);
		// one batched ExportOrders for both orders (was one getSalesOrder per order: 2)
		expect(fake.calls.getSalesOrders).toBe(1);
		expect(fake.calls.getSalesOrder).toBe(0);
		expect(fake.log.find((l) => l.method === 'getSalesOrders')?.args[0]).toEqual([
			'WEB-1001',
			'WEB-1002',
		]);
		// the batched look-up, then the re-check of D's quantity exception (credited meanwhile by an overlapping run? no: it stays)
		expect(fake.log.filter((l) => l.method === 'getOrderStatuses').map((l) => l.args[0])).toEqual([
			['RB-A', 'RB-B', 'RB-C', 'RB-D'],
			['RB-D'],
		]);
		expect(jsons(out[0]).map((j) => [j.returnId, (j.totals as IDataObject).grossPence])).toEqual([
			['A', 2413],
			['B', 1600],
			['C', 2413 + 3574],
		]);
		// 2413 + 2413 + 3574 = 8400 = 94.00 − 10.00: the whole order, to the penny
		expect(jsons(out[1]).map((e) => [e.kind, e.returnId, e.sku])).toEqual([
			['quantity_exceeds_sold', 'D', 'JEANS-BLU-32'],
		]);
		expect(pairs(out[0])).toEqual([0, 1, 2]);
		expect(pairs(out[1])).toEqual([3]);
		expect(JSON.parse(out[1][0].json.payload as string)).toEqual(d);
	});

	describe('batching', () => {
		/** Five orders of one TSHIRT-RED-M each (WEB-3000..3004) and one return of each. */
		function fiveOrders(fake: FakeKhaosApi) {
			const base = fake.orders[0];
			for (let i = 0; i < 5; i++) {
				fake.orders.push({
					...base,
					orderCode: `SO00300${i}`,
					associatedRef: `WEB-300${i}`,
					orderDiscountPence: 0,
					lines: [{ ...base.lines[0], lineId: `300${i}1` }],
				});
			}
			return Array.from({ length: 5 }, (_, i) =>
				mappedReturn(`T${i}`, `WEB-300${i}`, [{ sku: 'TSHIRT-RED-M' }]),
			);
		}

		test('batch size 2: orders and imports in batches of 2, results in input order, ProcessReturn one a call', async () => {
			const fake = new FakeKhaosApi();
			const returns = fiveOrders(fake);
			const { out } = await run(params, returns, { fake, credentials: { batchSize: 2 } });
			expect(out[1]).toEqual([]);
			expect(fake.calls.getSalesOrders).toBe(3);
			expect(fake.log.filter((l) => l.method === 'getSalesOrders').map((l) => l.args[0])).toEqual([
				['WEB-3000', 'WEB-3001'],
				['WEB-3002', 'WEB-3003'],
				['WEB-3004'],
			]);
			expect(
				fake.log
					.filter((l) => l.method === 'importReturns')
					.map((l) => (l.args[0] as Array<{ associatedRef: string }>).map((i) => i.associatedRef)),
			).toEqual([['RB-T0', 'RB-T1'], ['RB-T2', 'RB-T3'], ['RB-T4']]);
			expect(fake.calls.processReturn).toBe(5);
			expect(fake.calls.importReturn).toBe(0);
			expect(
				jsons(out[0]).map((j) => [j.returnId, j.returnCode, (j.totals as IDataObject).grossPence]),
			).toEqual([
				['T0', 'RTN000001', 4000],
				['T1', 'RTN000002', 4000],
				['T2', 'RTN000003', 4000],
				['T3', 'RTN000004', 4000],
				['T4', 'RTN000005', 4000],
			]);
			expect(pairs(out[0])).toEqual([0, 1, 2, 3, 4]);
		});

		test('a failed ImportReturns call: its returns become transient_exhausted exceptions, the other batches go on', async () => {
			const fake = new FakeKhaosApi();
			const returns = fiveOrders(fake);
			fake.fail('importReturns', transient(), 1);
			const { out } = await run(params, returns, { fake, credentials: { batchSize: 2 } });
			expect(jsons(out[1]).map((e) => [e.kind, e.returnId, e.stage])).toEqual([
				['transient_exhausted', 'T0', 'return'],
				['transient_exhausted', 'T1', 'return'],
			]);
			expect(pairs(out[1])).toEqual([0, 1]);
			expect(JSON.parse(out[1][0].json.payload as string)).toEqual(returns[0]);
			expect(jsons(out[0]).map((j) => j.returnId)).toEqual(['T2', 'T3', 'T4']);
			expect(fake.imports.map((i) => i.associatedRef)).toEqual(['RB-T2', 'RB-T3', 'RB-T4']);
			expect(fake.calls.processReturn).toBe(3);
		});

		test('a SOAP fault on a whole ImportReturns call → khaos_rejected for each of its returns', async () => {
			const fake = new FakeKhaosApi();
			const returns = fiveOrders(fake).slice(0, 2);
			fake.fail(
				'importReturns',
				new KhaosFault('ImportReturns', 'Returns XML is not well formed', {
					code: 'invalid_request',
				}),
			);
			const { out } = await run(params, returns, { fake });
			expect(jsons(out[1]).map((e) => [e.kind, e.returnId, e.code])).toEqual([
				['khaos_rejected', 'T0', 'invalid_request'],
				['khaos_rejected', 'T1', 'invalid_request'],
			]);
			expect(out[0]).toEqual([]);
			expect(fake.calls.processReturn).toBe(0);
		});

		test('one return skipped within a batch: only it becomes an exception', async () => {
			const fake = new FakeKhaosApi();
			const returns = fiveOrders(fake).slice(0, 3);
			const real = fake.importReturns.bind(fake);
			jest.spyOn(fake, 'importReturns').mockImplementation(async (inputs) => {
				const results = await real(inputs.filter((i) => i.associatedRef !== 'RB-T1'));
				results.splice(1, 0, {
					imported: false,
					duplicate: false,
					returnCode: '',
					skipReason: 'Stock code TSHIRT-RED-M is deleted (item 1).',
					skipCode: 'unknown_stock',
				});
				return results;
			});
			const { out } = await run(params, returns, { fake });
			expect(jsons(out[0]).map((j) => [j.returnId, j.returnCode])).toEqual([
				['T0', 'RTN000001'],
				['T2', 'RTN000002'],
			]);
			expect(jsons(out[1]).map((e) => [e.kind, e.returnId, e.code])).toEqual([
				['archived_sku', 'T1', 'unknown_stock'],
			]);
			expect(fake.log.filter((l) => l.method === 'processReturn').map((l) => l.args[0])).toEqual([
				'RTN000001',
				'RTN000002',
			]);
		});

		test('a failed order batch fails only the returns of its orders', async () => {
			const fake = new FakeKhaosApi();
			const returns = fiveOrders(fake);
			fake.fail('getSalesOrders', transient(), 1);
			const { out } = await run(params, returns, { fake, credentials: { batchSize: 2 } });
			expect(jsons(out[1]).map((e) => [e.kind, e.returnId])).toEqual([
				['transient_exhausted', 'T0'],
				['transient_exhausted', 'T1'],
			]);
			expect(jsons(out[0]).map((j) => j.returnId)).toEqual(['T2', 'T3', 'T4']);
		});

		test('an order reference with a comma is invalid_payload (a CSV look-up cannot carry it), the rest go on', async () => {
			const bad = mappedReturn('X', 'WEB-1001,WEB-1002', [{ sku: 'JEANS-BLU-32' }]);
			const good = mappedReturn('G', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]);
			const { out, fake } = await run(params, [bad, good]);
			expect(jsons(out[1]).map((e) => [e.kind, e.returnId, e.field])).toEqual([
				['invalid_payload', 'X', 'orderReference'],
			]);
			expect(jsons(out[0]).map((j) => j.returnId)).toEqual(['G']);
			expect(fake.log.find((l) => l.method === 'getSalesOrders')?.args[0]).toEqual(['WEB-1001']);
		});
	});

	test('delivery by policy, once per order', async () => {
		const whole = mappedReturn('W', 'WEB-1002', [
			{ sku: 'HOODIE-GRY-L' },
			{ sku: 'MUG-WHT', quantity: 2 },
		]);
		const { out, fake } = await run({ ...params, options: { deliveryPolicy: 'whole_order' } }, [
			whole,
		]);
		const cn = out[0][0].json as { totals: IDataObject; deliveryRefunded: boolean };
		expect(cn.deliveryRefunded).toBe(true);
		expect(cn.totals.grossPence).toBe(5500 + 1600 + 395);
		expect(fake.imports[0].delivery).toEqual({ netPence: 329, taxPence: 66, grossPence: 395 });
	});

	test('order not found, a credit mismatch (created and reported), and an unknown order line', async () => {
		const lost = mappedReturn('L', 'WEB-9999', [{ sku: 'JEANS-BLU-32' }]);
		const over = mappedReturn('M', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }], { refundPence: 4000 });
		const wrong = mappedReturn('N', 'WEB-1002', [{ sku: 'JEANS-BLU-32' }]);
		const { out } = await run(params, [lost, over, wrong]);
		expect(jsons(out[0]).map((j) => j.returnId)).toEqual(['M']);
		expect(jsons(out[1]).map((e) => [e.kind, e.returnId, e.owner])).toEqual([
			['order_not_found', 'L', 'finance'],
			['credit_mismatch', 'M', 'finance'],
			['unknown_sku', 'N', 'ops'],
		]);
		expect(out[1][1].json.details).toMatchObject({
			refundPence: 4000,
			creditPence: 3574,
			differencePence: 426,
		});
		expect(pairs(out[1])).toEqual([0, 1, 2]);
	});

	test('a duplicate delivery: no second import, process or credit', async () => {
		const fake = new FakeKhaosApi();
		const ret = mappedReturn('R1', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]);
		await run(params, [ret], { fake });
		const { out } = await run(params, [ret], { fake });
		expect(fake.calls.importReturns).toBe(1);
		expect(fake.calls.processReturn).toBe(1);
		expect(fake.calls.getSalesOrders).toBe(1);
		expect(out[0][0].json).toMatchObject({
			returnId: 'R1',
			duplicate: true,
			creditNoteCode: 'CNRTN000001',
		});
		expect(out[1]).toEqual([]);
	});

	test('imported earlier but never processed: the import is a duplicate and the return is processed now', async () => {
		const fake = new FakeKhaosApi();
		const ret = mappedReturn('R1', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]);
		fake.fail('processReturn', transient(), 1);
		const first = await run(params, [ret], { fake });
		expect(jsons(first.out[1]).map((e) => e.kind)).toEqual(['transient_exhausted']);
		const second = await run(params, [ret], { fake });
		expect(second.out[0][0].json).toMatchObject({
			duplicate: true,
			returnCode: 'RTN000001',
			processed: 'processed',
		});
		expect(fake.imports).toHaveLength(1);
		expect(fake.creditNotes).toHaveLength(1);
	});

	test('a skipped import becomes the matching exception', async () => {
		const fake = new FakeKhaosApi();
		jest.spyOn(fake, 'importReturns').mockResolvedValue([
			{
				imported: false,
				duplicate: false,
				returnCode: '',
				skipReason:
					'Quantity returned 1 exceeds quantity sold less returned 0 for SORDER_ITEM_ID 1002',
				skipCode: 'quantity_exceeds_sold',
			},
		]);
		const { out } = await run(params, [mappedReturn('Q', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }])], {
			fake,
		});
		expect(jsons(out[1]).map((e) => [e.kind, e.stage, e.code])).toEqual([
			['quantity_exceeds_sold', 'return', 'quantity_exceeds_sold'],
		]);
		expect(fake.calls.processReturn).toBe(0);
	});

	test('Find By Reference: one batched look-up; credit notes only; not found is reported', async () => {
		const fake = new FakeKhaosApi();
		fake.creditNotes.push({
			orderCode: 'SO000200',
			associatedRef: 'RB-R1',
			orderType: 2,
			currency: 'GBP',
			dateCreated: '2026-11-28',
			itemsNetPence: 2011,
			deliveryNetPence: 0,
			complete: true,
			cancelled: false,
		});
		const { out } = await run({ resource: 'creditNote', operation: 'findByReference' }, [{}, {}], {
			fake,
			paramsPerItem: [{ references: 'RB-R1' }, { references: 'RB-R2, RB-R1' }],
		});
		expect(fake.calls.getOrderStatuses).toBe(1);
		expect(fake.log[0].args[0]).toEqual(['RB-R1', 'RB-R2']);
		expect(
			jsons(out[0]).map((j) => [j.associatedRef, j.found, j.creditNoteCode ?? null, j.net ?? null]),
		).toEqual([
			['RB-R1', true, 'SO000200', '20.11'],
			['RB-R2', false, null, null],
			['RB-R1', true, 'SO000200', '20.11'],
		]);
		expect(pairs(out[0])).toEqual([0, 1, 1]);
	});
});

describe('pickers', () => {
	function loadCtx(fake: FakeKhaosApi, site: unknown) {
		jest.spyOn(transport, 'createKhaosApi').mockReturnValue(fake);
		return {
			getCredentials: async () => ({ ...KHAOS_TEST_CREDENTIALS }),
			getNode: () => ({
				id: '1',
				name: 'Khaos Control',
				type: 'khaosControl',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			}),
			getCurrentNodeParameter: () => site,
			helpers: {},
		} as never;
	}

	test('sites, locations of the chosen site (filtered), return reasons', async () => {
		const node = new KhaosControl();
		const fake = new FakeKhaosApi();
		const sites = await node.methods.listSearch.searchSites.call(loadCtx(fake, ''), 'out');
		expect(sites.results).toEqual([{ name: 'Outlet (2)', value: '2' }]);
		const locs = await node.methods.listSearch.searchLocations.call(loadCtx(fake, ''), undefined);
		expect(fake.log.find((l) => l.method === 'getLocations')?.args).toEqual(['1']);
		expect(locs.results.map((r) => r.value)).toEqual(['A1', 'RET', 'QUAR', 'WOFF']);
		expect(locs.results[2].name).toContain('not sellable');
		const out1 = await node.methods.listSearch.searchLocations.call(loadCtx(fake, '2'), undefined);
		expect(out1.results).toEqual([{ name: 'Outlet floor (OUT1)', value: 'OUT1' }]);
		const reasons = await node.methods.loadOptions.getReturnReasons.call(loadCtx(fake, ''));
		expect(reasons.map((r) => r.value)).toEqual(['1', '2']);
	});
});
