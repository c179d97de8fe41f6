/**
 * The batched Khaos calls (importReturns, getSalesOrders, getStockAdjustments)
 * through the real client against the sandbox on 127.0.0.1: per-return results
 * in input order within one ImportReturns call (duplicates and rejections
 * included), batching by batchSize, the state as the judge.
 */
import { KhaosClient } from '../../transports/khaos/client';
import type { ImportReturnInput, KhaosConfig } from '../../transports/khaos/api';
import type { HttpSend } from '../../transports/http';
import { buildSoapRequest, buildSoapResponse, escapeXml } from '../../transports/khaos/soap';
import { startKhaosSandbox, type KhaosSandbox } from '../../sandbox/khaos/server';
import { makeNodeHttpSend } from '../helpers/nodeHttpSend';

let sb: KhaosSandbox;

function makeClient(
	over: Partial<KhaosConfig> = {},
	send: HttpSend = makeNodeHttpSend(),
): KhaosClient {
	return new KhaosClient(
		{
			url: sb.url,
			authMode: 'none',
			soapVersion: '1.1',
			namespace: 'urn:KosWeb-IKosWeb',
			soapActionStyle: 'namespaceHash',
			timeoutMs: 2000,
			batchSize: 50,
			retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10, maxTotalMs: 5000 },
			...over,
		},
		{ send, retry: { sleep: async () => undefined, now: () => Date.now(), random: () => 0.5 } },
	);
}

/** One JEANS-BLU-32 of WEB-1001 (2 sold). */
function jeans(ref: string, qty = 1, over: Partial<ImportReturnInput> = {}): ImportReturnInput {
	return {
		associatedRef: ref,
		customerUrn: 'C1001',
		orderAssociatedRef: 'WEB-1001',
		currency: 'GBP',
		exchangeRate: 1,
		lines: [
			{
				stockCode: 'JEANS-BLU-32',
				quantity: qty,
				reasonId: '2',
				orderLineId: '1002',
				siteId: '1',
				locationId: 'RET',
				restock: false,
				creditNetPence: 2011 * qty,
				creditTaxPence: 402 * qty,
				creditGrossPence: 2413 * qty,
			},
		],
		delivery: null,
		...over,
	};
}

function hoodie(ref: string): ImportReturnInput {
	return {
		associatedRef: ref,
		customerUrn: 'C1002',
		orderAssociatedRef: 'WEB-1002',
		currency: 'GBP',
		exchangeRate: 1,
		lines: [
			{
				stockCode: 'HOODIE-GRY-L',
				quantity: 1,
				reasonId: '2',
				orderLineId: '2001',
				siteId: '1',
				locationId: 'A1',
				restock: false,
				creditNetPence: 4583,
				creditTaxPence: 917,
				creditGrossPence: 5500,
			},
		],
		delivery: null,
	};
}

const methods = () => sb.calls.all().map((c) => c.method);

beforeEach(async () => {
	sb = await startKhaosSandbox({ port: 0 });
});
afterEach(async () => {
	await sb.close();
});

describe('importReturns', () => {
	test('one call; results in input order: imported, duplicate of the same call, quantity over sold, unknown order, imported', async () => {
		const c = makeClient();
		const results = await c.importReturns([
			jeans('RB-1'),
			jeans('rb-1'),
			jeans('RB-2', 2),
			jeans('RB-3', 1, { orderAssociatedRef: 'WEB-9999' }),
			hoodie('RB-4'),
		]);
		expect(methods()).toEqual(['ImportReturns']);
		expect(results.map((r) => [r.imported, r.duplicate, r.returnCode, r.skipCode])).toEqual([
			[true, false, 'RTN000001', null],
			[false, true, 'RTN000001', 'duplicate'],
			[false, false, '', 'quantity_exceeds_sold'],
			[false, false, '', 'order_not_found'],
			[true, false, 'RTN000002', null],
		]);
		// one sold JEANS unit left after RB-1 is pending: RB-2 asked for 2
		expect(results[2].skipReason).toBe(
			'Quantity returned 2 exceeds quantity sold less returned 1 for SORDER_ITEM_ID 1002 (JEANS-BLU-32) (item 1).',
		);
		const returns = sb.state.snapshot().returns;
		expect(returns.map((r) => [r.returnCode, r.associatedRef, r.sourceOrderCode])).toEqual([
			['RTN000001', 'RB-1', 'SO000101'],
			['RTN000002', 'RB-4', 'SO000102'],
		]);
	});

	test('batched by batchSize: 5 returns, batch 2 → 3 calls, results still in order', async () => {
		const c = makeClient({ batchSize: 2 });
		const inputs = [
			jeans('RB-10'),
			hoodie('RB-11'),
			jeans('RB-12'),
			jeans('RB-13'),
			hoodie('RB-14'),
		];
		const results = await c.importReturns(inputs);
		expect(methods()).toEqual(['ImportReturns', 'ImportReturns', 'ImportReturns']);
		// WEB-1001 sold 2 jeans (RB-10, RB-12), so RB-13 is over; WEB-1002 sold 1 hoodie, so RB-14 is over
		expect(results.map((r) => (r.imported ? r.returnCode : r.skipCode))).toEqual([
			'RTN000001',
			'RTN000002',
			'RTN000003',
			'quantity_exceeds_sold',
			'quantity_exceeds_sold',
		]);
		expect(sb.state.snapshot().returns).toHaveLength(3);
	});

	test('importReturn is the one-element call', async () => {
		const c = makeClient();
		expect(await c.importReturn(jeans('RB-20'))).toEqual({
			imported: true,
			returnCode: 'RTN000001',
			duplicate: false,
			skipReason: null,
			skipCode: null,
		});
		expect(methods()).toEqual(['ImportReturns']);
	});

	test('an answer without the per-return Results list is matched by OrderRef, each entry once, in order', async () => {
		const body =
			'<return><ImportedCount>1</ImportedCount><ReturnImport><item><OrderRef>RB-1</OrderRef><ReturnCode>RTN000009</ReturnCode></item></ReturnImport>' +
			`<ReturnSkipped><item><OrderRef>RB-2</OrderRef><SkipReason>${escapeXml('Source order WEB-9 not found.')}</SkipReason></item>` +
			`<item><OrderRef>RB-1</OrderRef><SkipReason>${escapeXml('Duplicate ASSOCIATED_REF RB-1: already imported as return RTN000009')}</SkipReason></item></ReturnSkipped></return>`;
		const send: HttpSend = async () => ({
			status: 200,
			headers: {},
			body: buildSoapResponse('1.1', 'urn:KosWeb-IKosWeb', 'ImportReturns', body),
		});
		const results = await makeClient({}, send).importReturns([
			jeans('RB-1'),
			jeans('RB-2'),
			jeans('RB-1'),
		]);
		expect(results.map((r) => [r.imported, r.returnCode, r.skipCode])).toEqual([
			[true, 'RTN000009', null],
			[false, '', 'order_not_found'],
			[false, 'RTN000009', 'duplicate'],
		]);
	});

	test('an empty associated ref is refused before any call', async () => {
		await expect(makeClient().importReturns([jeans('RB-1'), jeans(' ')])).rejects.toThrow(
			'importReturns[1]: associatedRef is empty',
		);
		expect(methods()).toEqual([]);
	});
});

describe('getSalesOrders', () => {
	test('several orders in one ExportOrders (IDs CSV, MappingType 4); keys as asked; unknown refs and credit notes absent', async () => {
		const c = makeClient();
		// a credit note whose associated ref is asked for too must not come back as a sales order
		const [imp] = await c.importReturns([jeans('RB-30')]);
		await c.processReturn(imp.returnCode, 'REBOUND');
		const orders = await c.getSalesOrders([
			'WEB-1001',
			'web-1002',
			'WEB-9999',
			'RB-30',
			'WEB-1001',
		]);
		const calls = sb.calls.all().filter((x) => x.method === 'ExportOrders');
		expect(calls).toHaveLength(1);
		expect(calls[0].detail).toContain('IDs=WEB-1001,web-1002,WEB-9999,RB-30');
		expect([...orders.keys()]).toEqual(['WEB-1001', 'web-1002']);
		expect(orders.get('web-1002')).toMatchObject({
			orderCode: 'SO000102',
			associatedRef: 'WEB-1002',
			customerUrn: 'C1002',
		});
		const o1 = orders.get('WEB-1001');
		expect(o1?.lines.find((l) => l.lineId === '1002')).toMatchObject({
			qtyReturned: 1,
			unitPricePence: 3000,
			discountPercent: 10,
		});
		expect(o1?.orderDiscountPence).toBe(1000);
	});

	test('batched by batchSize', async () => {
		const orders = await makeClient({ batchSize: 2 }).getSalesOrders([
			'WEB-1001',
			'WEB-1002',
			'WEB-1003',
			'WEB-1004',
			'WEB-1005',
		]);
		expect(methods()).toEqual(['ExportOrders', 'ExportOrders', 'ExportOrders']);
		expect(orders.size).toBe(5);
	});
});

describe('getStockAdjustments (ExportStockAdjustments)', () => {
	test('by reference prefix and by exact reference; each adjustment once; signed quantity', async () => {
		const c = makeClient();
		await c.adjustStock([
			{
				stockCode: 'TSHIRT-RED-M',
				siteId: '1',
				locationId: 'A1',
				adjustBy: 1,
				reason: 'Return RB-R1',
				reference: 'RB-R1-R1:1-Grade A',
			},
			{
				stockCode: 'JEANS-BLU-32',
				siteId: '1',
				locationId: 'QUAR',
				adjustBy: 2,
				reason: 'Return RB-R1',
				reference: 'RB-R1-R1:2-Damaged',
			},
			{
				stockCode: 'TSHIRT-RED-M',
				siteId: '1',
				locationId: 'A1',
				adjustBy: -3,
				reason: 'count',
				reference: 'RB-R10-R10:1-Grade A',
			},
			{
				stockCode: 'TSHIRT-RED-M',
				siteId: '1',
				locationId: 'A1',
				adjustBy: 1,
				reason: 'other',
				reference: 'COUNT-1',
			},
		]);
		const found = await c.getStockAdjustments({
			prefixes: ['RB-R1-'],
			references: ['RB-R1-R1:1-Grade A', 'COUNT-1'],
		});
		expect(sb.calls.all().filter((x) => x.method === 'ExportStockAdjustments')).toHaveLength(1);
		expect(
			found.map((a) => [
				a.id,
				a.reference,
				a.stockCode,
				a.siteId,
				a.locationId,
				a.quantity,
				a.newLevel,
			]),
		).toEqual([
			['1', 'RB-R1-R1:1-Grade A', 'TSHIRT-RED-M', '1', 'A1', 1, 11],
			['2', 'RB-R1-R1:2-Damaged', 'JEANS-BLU-32', '1', 'QUAR', 2, 2],
			['4', 'COUNT-1', 'TSHIRT-RED-M', '1', 'A1', 1, 9],
		]);
		expect(found[0].appliedDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
		const neg = await c.getStockAdjustments({ prefixes: ['RB-R10-'] });
		expect(neg.map((a) => [a.reference, a.quantity, a.newLevel])).toEqual([
			['RB-R10-R10:1-Grade A', -3, 8],
		]);
		expect(await c.getStockAdjustments({ prefixes: ['RB-NONE-'] })).toEqual([]);
	});

	test('batched by batchSize over references and prefixes', async () => {
		await makeClient({ batchSize: 2 }).getStockAdjustments({
			references: ['A', 'B', 'C'],
			prefixes: ['RB-1-', 'RB-2-'],
		});
		expect(methods()).toEqual([
			'ExportStockAdjustments',
			'ExportStockAdjustments',
			'ExportStockAdjustments',
		]);
		expect(sb.calls.all()[1].detail).toBe('References=C ReferencePrefixes=RB-1-');
	});

	test('the sandbox refuses a call that asks for nothing', async () => {
		const { body, headers } = buildSoapRequest(
			{ version: '1.1', namespace: 'urn:KosWeb-IKosWeb', actionStyle: 'namespaceHash' },
			'ExportStockAdjustments',
			[
				['References', ''],
				['ReferencePrefixes', ''],
			],
		);
		const res = await makeNodeHttpSend()({
			method: 'POST',
			url: sb.url,
			headers,
			body,
			timeoutMs: 2000,
		});
		expect(res.status).toBe(500);
		expect(res.body).toContain('References or ReferencePrefixes must be set.');
	});

	test('nothing asked: no call', async () => {
		expect(await makeClient().getStockAdjustments({})).toEqual([]);
		expect(methods()).toEqual([]);
	});
});
