/**
 * nodes/KhaosControl/onePerReturn.ts: one item per return within an
 * execution (later items of the same return mirror the first as duplicates,
 * paired to themselves) and the "credited meanwhile" re-check that turns a
 * quantity_exceeds_sold of a return whose credit note exists into a duplicate.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { KhaosRun, OperationResult } from '../../../nodes/KhaosControl/common';
import {
	creditedMeanwhile,
	onePerReturn,
	returnKey,
} from '../../../nodes/KhaosControl/onePerReturn';

const item = (json: IDataObject): INodeExecutionData => ({ json });
const run = (
	items: IDataObject[],
	getOrderStatuses: (refs: string[]) => Promise<unknown[]> = async () => [],
) => ({ items: items.map(item), api: { getOrderStatuses } }) as unknown as KhaosRun;
const at = (i: INodeExecutionData) => (i.pairedItem as { item: number }).item;
const ref = (id: string) => `RB-${id}`;

describe('returnKey', () => {
	test('trimmed, lower-cased ids; numbers; null for missing or empty', () => {
		expect([
			returnKey({ returnId: ' Ab1 ' }),
			returnKey({ returnId: 42 }),
			returnKey({ returnId: '' }),
			returnKey({}),
			returnKey({ returnId: {} as never }),
		]).toEqual(['ab1', '42', null, null, null]);
	});
});

describe('onePerReturn', () => {
	test('the operation sees the first item of each return only; later items get duplicate copies paired to themselves', async () => {
		const seen: string[][] = [];
		const op = async (r: KhaosRun): Promise<OperationResult> => {
			seen.push(r.items.map((i) => String(i.json.returnId)));
			return [
				r.items.map((i, n) => ({
					json: {
						returnId: i.json.returnId,
						associatedRef: `RB-${i.json.returnId}`,
						duplicate: false,
						imported: true,
						processed: 'processed',
					},
					pairedItem: { item: n },
				})),
				[],
			];
		};
		const out = await onePerReturn(
			run([
				{ returnId: '1' },
				{ returnId: '2' },
				{ returnId: '1' },
				{ returnId: 'X' },
				{ returnId: 'x' },
			]),
			op,
		);
		expect(seen).toEqual([['1', '2', 'X']]);
		expect(out[0].map((i) => [at(i), i.json.returnId, i.json.duplicate, i.json.processed])).toEqual(
			[
				[0, '1', false, 'processed'],
				[1, '2', false, 'processed'],
				[2, '1', true, 'already_processed'],
				[3, 'X', false, 'processed'],
				[4, 'X', true, 'already_processed'],
			],
		);
		expect(out[1]).toEqual([]);
	});

	test('stock lines of a copy are duplicates; exceptions are copied as they are; items without a return id run as they are', async () => {
		const moved = {
			returnId: 'R',
			lines: [
				{ stockMove: { result: 'applied', applied: true, duplicate: false } },
				{ stockMove: { result: 'no_movement', applied: false, duplicate: false } },
			],
			stockMoves: { applied: 1, duplicate: 0, noMovement: 1 },
		};
		const op = async (r: KhaosRun): Promise<OperationResult> => {
			expect(r.items.map((i) => i.json.returnId ?? null)).toEqual(['R', null, 'E', null]);
			return [
				[{ json: moved, pairedItem: { item: 0 } }],
				[
					{
						json: { exception: true, kind: 'invalid_payload', key: 'k0' },
						pairedItem: { item: 1 },
					},
					{
						json: { exception: true, kind: 'khaos_rejected', key: 'k1', returnId: 'E' },
						pairedItem: { item: 2 },
					},
					{
						json: { exception: true, kind: 'invalid_payload', key: 'k3' },
						pairedItem: { item: 3 },
					},
				],
			];
		};
		const out = await onePerReturn(
			run([{ returnId: 'R' }, {}, { returnId: 'E' }, { returnId: 'R' }, { returnId: 'E' }, {}]),
			op,
		);
		// the second item without a return id (input 5) is not a copy of the first: the operation saw it
		expect(out[0].map(at)).toEqual([0, 3]);
		expect(out[0][0].json).toBe(moved);
		expect(out[0][1].json).toEqual({
			returnId: 'R',
			lines: [
				{ stockMove: { result: 'duplicate', applied: false, duplicate: true } },
				{ stockMove: { result: 'no_movement', applied: false, duplicate: false } },
			],
			stockMoves: { applied: 0, duplicate: 1, noMovement: 1 },
		});
		expect(moved.stockMoves.applied).toBe(1);
		expect(out[1].map((i) => [at(i), i.json.key])).toEqual([
			[1, 'k0'],
			[2, 'k1'],
			[4, 'k1'],
			[5, 'k3'],
		]);
	});

	test('no repeated return: the operation gets the run unchanged', async () => {
		const r = run([{ returnId: '1' }, { returnId: '2' }]);
		const op = jest.fn(async (x: KhaosRun) => {
			expect(x).toBe(r);
			return [[], []] as OperationResult;
		});
		await onePerReturn(r, op);
		expect(op).toHaveBeenCalledTimes(1);
	});
});

describe('creditedMeanwhile', () => {
	const qtyEx = (returnId: string, itemIndex: number, lineId = 'L1') => ({
		json: {
			exception: true,
			kind: 'quantity_exceeds_sold',
			returnId,
			lineId,
			key: `q|${returnId}|${lineId}`,
		},
		pairedItem: { item: itemIndex },
	});
	const note = (associatedRef: string) => ({
		orderCode: 'SO000201',
		associatedRef,
		orderType: 2,
		currency: 'GBP',
		dateCreated: '28/11/2026',
		itemsNetPence: 4000,
		deliveryNetPence: 0,
		complete: true,
		cancelled: false,
	});

	test('a quantity_exceeds_sold of a return whose credit note exists becomes a duplicate on Created (one per item, in item order)', async () => {
		const asked: string[][] = [];
		const r = run(
			[
				{ returnId: '7', orderReference: 'WEB-7', displayId: 'RB7' },
				{ returnId: '8' },
				{ returnId: '9' },
			],
			async (refs) => {
				asked.push(refs);
				return [note('rb-7'), { ...note('RB-9'), orderType: 1 }];
			},
		);
		const created = {
			json: { returnId: '8', associatedRef: 'RB-8', duplicate: false },
			pairedItem: { item: 1 },
		};
		const other = {
			json: { exception: true, kind: 'credit_mismatch', returnId: '8', key: 'm' },
			pairedItem: { item: 1 },
		};
		const out = await creditedMeanwhile(
			r,
			[[created], [qtyEx('7', 0), qtyEx('7', 0, 'L2'), other, qtyEx('9', 2)]],
			ref,
		);
		expect(asked).toEqual([['RB-7', 'RB-9']]);
		expect(
			out[0].map((i) => [at(i), i.json.returnId, i.json.duplicate, i.json.creditNoteCode ?? null]),
		).toEqual([
			[0, '7', true, 'SO000201'],
			[1, '8', false, null],
		]);
		expect(out[0][0].json).toMatchObject({
			associatedRef: 'RB-7',
			orderReference: 'WEB-7',
			displayId: 'RB7',
			totals: { netPence: 4000, net: '40.00' },
		});
		// a sales order with that ref is not a credit note: the exception stays
		expect(out[1].map((i) => [at(i), i.json.kind])).toEqual([
			[1, 'credit_mismatch'],
			[2, 'quantity_exceeds_sold'],
		]);
	});

	test('a failed look-up or no credit note leaves the result as it was; no suspects → no call', async () => {
		const result: OperationResult = [[], [qtyEx('7', 0)]];
		expect(
			await creditedMeanwhile(
				run([{ returnId: '7' }], async () => Promise.reject(new Error('down'))),
				result,
				ref,
			),
		).toBe(result);
		expect(
			await creditedMeanwhile(
				run([{ returnId: '7' }], async () => []),
				result,
				ref,
			),
		).toBe(result);
		const call = jest.fn(async () => []);
		const plain: OperationResult = [
			[],
			[{ json: { kind: 'order_not_found', returnId: '7' }, pairedItem: { item: 0 } }],
		];
		expect(await creditedMeanwhile(run([{ returnId: '7' }], call), plain, ref)).toBe(plain);
		expect(call).not.toHaveBeenCalled();
	});
});
