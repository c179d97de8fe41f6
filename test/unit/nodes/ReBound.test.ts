import type { IDataObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { ReBoundApi } from '../../../credentials/ReBoundApi.credentials';
import { ReBound } from '../../../nodes/ReBound/ReBound.node';
import * as glue from '../../../nodes/shared/reboundApi';
import { mockExecuteContext } from '../../helpers/mockExecuteContext';
import {
	FakeReboundApi,
	TEST_API_KEY,
	rawReturn,
	reboundCredentials,
} from '../../helpers/reboundFakes';

const node = new ReBound();
let api: FakeReboundApi;

beforeEach(() => {
	api = new FakeReboundApi();
	api.put(
		101,
		'2026-11-02',
		rawReturn(101, 'WEB-1001', [{ sku: 'TSHIRT-RED-M', disposition: 'Grade A', price: 40 }]),
	);
	api.put(
		102,
		'2026-11-09',
		rawReturn(102, 'WEB-1002', [{ sku: 'HOODIE-GRY-L', disposition: null }]),
	);
	api.put(
		103,
		'2026-11-20',
		rawReturn(103, 'WEB-1003', [{ sku: 'SCARF-OLD', disposition: 'Damaged' }]),
	);
	jest.spyOn(glue, 'createReboundApi').mockImplementation(() => api);
});
afterEach(() => jest.restoreAllMocks());

function ctx(
	params: Record<string, unknown>,
	items: IDataObject[] = [{}],
	continueOnFail = false,
	paramsPerItem?: Array<Record<string, unknown>>,
) {
	return mockExecuteContext({
		items,
		params: { resource: 'return', options: {}, ...params },
		paramsPerItem,
		continueOnFail,
		credentials: { reBoundApi: reboundCredentials() },
		node: { name: 'ReBound', type: 'n8n-nodes-rebound-khaos.reBound' },
	});
}

describe('ReBound: Return → Get', () => {
	it('outputs the normalised return, paired with its input item', async () => {
		const [out] = await node.execute.call(
			ctx({ operation: 'get' }, [{}, {}], false, [{ returnId: '101' }, { returnId: '103' }]),
		);
		expect(out.map((i) => [i.json.returnId, i.json.orderReference, i.pairedItem])).toEqual([
			['101', 'WEB-1001', { item: 0 }],
			['103', 'WEB-1003', { item: 1 }],
		]);
		const ret = out[0].json;
		expect(ret.source).toBe('rebound-api');
		expect(ret.event).toMatchObject({
			type: 'return.fetched',
			id: expect.stringMatching(/^api:101:/),
		});
		expect((ret.lines as IDataObject[])[0]).toMatchObject({
			sku: 'TSHIRT-RED-M',
			disposition: 'Grade A',
			unitPricePence: 4000,
		});
		expect(ret.raw).toBeUndefined();
	});

	it('adds the raw return without its label when asked', async () => {
		const [out] = await node.execute.call(
			ctx({ operation: 'get', returnId: '101', options: { includeRaw: true } }),
		);
		const raw = out[0].json.raw as IDataObject;
		expect(raw.order_reference).toBe('WEB-1001');
		expect(raw.label).toBeUndefined();
	});

	it('a fetch failure is a NodeApiError with the item index and no secret; with continueOnFail an exception item', async () => {
		api.failing.set('101', false);
		const error = await node.execute
			.call(ctx({ operation: 'get', returnId: '101' }))
			.catch((e) => e);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.context.itemIndex).toBe(0);
		expect(JSON.stringify({ m: error.message, d: error.description })).not.toContain(TEST_API_KEY);

		const [out] = await node.execute.call(ctx({ operation: 'get', returnId: '101' }, [{}], true));
		expect(out[0].json).toMatchObject({
			exception: true,
			kind: 'invalid_payload',
			returnId: '101',
			code: 'access_denied',
		});
		expect(out[0].pairedItem).toEqual({ item: 0 });
		expect(JSON.stringify(out)).not.toContain(TEST_API_KEY);
	});

	it('an invalid return fails naming the field, or becomes an invalid_payload exception with continueOnFail', async () => {
		api.put(
			104,
			'2026-11-20',
			rawReturn(104, 'WEB-1004', [{ sku: 'KIDS-TEE-5Y', qty: 0, disposition: 'Grade A' }]),
		);
		const error = await node.execute
			.call(ctx({ operation: 'get', returnId: '104' }))
			.catch((e) => e);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toMatch(/104/);
		expect(error.message).toMatch(/lines\[0\]\.quantity/);
		const [out] = await node.execute.call(ctx({ operation: 'get', returnId: '104' }, [{}], true));
		expect(out[0].json).toMatchObject({
			exception: true,
			kind: 'invalid_payload',
			returnId: '104',
			field: 'lines[0].quantity',
		});
	});

	it('an empty return id is refused before any call', async () => {
		await expect(node.execute.call(ctx({ operation: 'get', returnId: '  ' }))).rejects.toThrow(
			'Return ID is empty',
		);
		expect(api.gets).toEqual([]);
	});
});

describe('ReBound: Return → Search', () => {
	it('walks the window in 7-day searches and outputs normalised returns', async () => {
		const [out] = await node.execute.call(
			ctx({
				operation: 'search',
				dateFrom: '2026-11-01T00:00:00',
				dateTo: '2026-11-20T00:00:00',
				output: 'returns',
			}),
		);
		expect(api.searches).toEqual([
			{ from: '2026/11/01', to: '2026/11/07' },
			{ from: '2026/11/08', to: '2026/11/14' },
			{ from: '2026/11/15', to: '2026/11/20' },
		]);
		expect(out.map((i) => i.json.returnId)).toEqual(['101', '102', '103']);
		expect(out.every((i) => (i.pairedItem as { item: number }).item === 0)).toBe(true);
		expect((out[1].json.lines as IDataObject[])[0].disposition).toBeNull();
	});

	it('outputs ids only without fetching the returns', async () => {
		const [out] = await node.execute.call(
			ctx({ operation: 'search', dateFrom: '2026-11-05', dateTo: '2026-11-20', output: 'ids' }),
		);
		expect(out.map((i) => i.json)).toEqual([
			{ returnId: '102', dateFrom: '2026-11-05', dateTo: '2026-11-20' },
			{ returnId: '103', dateFrom: '2026-11-05', dateTo: '2026-11-20' },
		]);
		expect(api.gets).toEqual([]);
	});

	it('invalid returns become exception items with continueOnFail, the rest still comes through', async () => {
		api.put(105, '2026-11-10', rawReturn(105, 'WEB-1005', []));
		const [out] = await node.execute.call(
			ctx(
				{ operation: 'search', dateFrom: '2026-11-08', dateTo: '2026-11-14', output: 'returns' },
				[{}],
				true,
			),
		);
		const byId = Object.fromEntries(out.map((i) => [i.json.returnId, i.json]));
		expect(byId['102']).toMatchObject({ orderReference: 'WEB-1002' });
		expect(byId['105']).toMatchObject({ exception: true, kind: 'invalid_payload', field: 'lines' });
		await expect(
			node.execute.call(
				ctx({
					operation: 'search',
					dateFrom: '2026-11-08',
					dateTo: '2026-11-14',
					output: 'returns',
				}),
			),
		).rejects.toBeInstanceOf(NodeOperationError);
	});

	it('refuses a reversed or missing window naming the field', async () => {
		await expect(
			node.execute.call(ctx({ operation: 'search', dateFrom: '2026-11-20', dateTo: '2026-11-01' })),
		).rejects.toThrow(/From Date \(2026-11-20\) is after To Date/);
		await expect(
			node.execute.call(ctx({ operation: 'search', dateFrom: '', dateTo: '2026-11-01' })),
		).rejects.toThrow(/From Date is empty/);
		const [out] = await node.execute.call(
			ctx({ operation: 'search', dateFrom: 'soon', dateTo: '2026-11-01' }, [{}], true),
		);
		expect(out[0].json.error).toMatch(/From Date/);
		expect(out[0].pairedItem).toEqual({ item: 0 });
	});

	it('a failing search is a NodeApiError naming the window', async () => {
		api.failingSearchFrom.add('2026/11/08');
		const error = await node.execute
			.call(
				ctx({ operation: 'search', dateFrom: '2026-11-01', dateTo: '2026-11-20', output: 'ids' }),
			)
			.catch((e) => e);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toMatch(/2026-11-08 to 2026-11-14/);
	});

	it('is usable as a tool; its credential is tested by the credential itself', () => {
		expect(node.description.usableAsTool).toBe(true);
		expect(node.description.credentials).toEqual([{ name: 'reBoundApi', required: true }]);
		expect(new ReBoundApi().test.request.url).toBe('/returns/search/json');
	});
});
