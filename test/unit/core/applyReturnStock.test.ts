/**
 * The stock use case against the fake Khaos: moves bounded by the original order, line identity
 * that survives reordering, re-grades, and poison isolation of the batched calls.
 */
import { validateMappedReturn, type MappedReturn } from '../../../core/mapping';
import type { DescribeFailure } from '../../../core/ports';
import {
	applyReturnStock,
	heldFromRecords,
	type StockInput,
} from '../../../core/usecases/applyReturnStock';
import { isolate } from '../../../core/usecases/isolate';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import { KhaosFault } from '../../../transports/khaos/faults';
import { normaliseReboundReturn } from '../../../transports/rebound/normalise';
import { FakeKhaosApi, demoOrders, mappedReturn } from '../../helpers/khaosFakes';

const describeFailure: DescribeFailure = (error) => {
	const message = error instanceof Error ? error.message : String(error);
	const base = { message, code: null, status: null, attempts: null };
	if (error instanceof TransientExhaustedError) return { category: 'transient', ...base };
	if (error instanceof KhaosFault || (error instanceof TransportError && error.kind === 'protocol'))
		return { category: 'refused', ...base };
	return { category: 'fatal', ...base };
};

const input = (ret: unknown): StockInput => {
	const v = validateMappedReturn(ret);
	if (!v.ok) throw new Error(v.message);
	return { ret: v.value, payload: ret };
};
const apply = (fake: FakeKhaosApi, rets: unknown[], held: unknown[] = []) =>
	applyReturnStock(
		fake,
		rets.map(input),
		{ reasonText: 'ReBound return', held: heldFromRecords(held) },
		describeFailure,
	);
const moved = (fake: FakeKhaosApi) =>
	fake.appliedAdjustments.map((a) => [a.reference, a.stockCode, a.locationId, a.quantity]);
const kinds = (outcome: Awaited<ReturnType<typeof apply>>[number]) =>
	outcome.ok ? [] : outcome.exceptions.map((e) => [e.kind, e.returnId, e.sku]);

describe('stock only for units the original order sold and no other return holds', () => {
	test('sold 1: returns of 50, 1 and 1 under three ids and a SKU not on the order → exactly 1 unit moves', async () => {
		const fake = new FakeKhaosApi();
		// WEB-1003 sold 1 TSHIRT-RED-M and 1 SCARF-OLD; HOODIE-GRY-L is not on it
		const fifty = mappedReturn('Q1', 'WEB-1003', [{ sku: 'TSHIRT-RED-M', quantity: 50 }]);
		const one = mappedReturn('Q2', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]);
		const another = mappedReturn('Q3', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]);
		const notOnOrder = mappedReturn('Q4', 'WEB-1003', [{ sku: 'HOODIE-GRY-L', quantity: 3 }]);
		const out = await apply(fake, [fifty, one, another, notOnOrder]);
		expect(moved(fake)).toEqual([['RB-Q2-Q2:1-move', 'TSHIRT-RED-M', 'A1', 1]]);
		expect(out.map((o) => o.ok)).toEqual([false, true, false, false]);
		expect(kinds(out[0])).toEqual([['quantity_exceeds_sold', 'Q1', 'TSHIRT-RED-M']]);
		expect(kinds(out[2])).toEqual([['quantity_exceeds_sold', 'Q3', 'TSHIRT-RED-M']]);
		expect(kinds(out[3])).toEqual([['line_not_on_order', 'Q4', 'HOODIE-GRY-L']]);
		const ex = out[2].ok ? null : out[2].exceptions[0];
		expect(ex).toMatchObject({
			owner: 'finance',
			stage: 'stock',
			field: 'lines[0].quantity',
			details: { requested: 1, sold: 1, returnedInKhaos: 0, heldByOtherReturns: 1, available: 0 },
		});
		expect(ex?.message).toContain('Return Q3');
		expect(JSON.parse(ex?.payload ?? 'null')).toEqual(another);
	});

	test('units already returned in Khaos and units held by returns outside the batch count; a return with any problem moves nothing at all', async () => {
		const fake = new FakeKhaosApi();
		const order = fake.orders.find((o) => o.associatedRef === 'WEB-1001')!;
		order.lines[1].qtyReturned = 1; // of 2 JEANS-BLU-32, one already returned
		const held = {
			...mappedReturn('H1', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }]),
			lines: [
				{
					...mappedReturn('H1', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }]).lines[0],
					stockMove: { result: 'applied' },
				},
			],
		};
		// T-shirt held by H1; jeans: 1 left, 2 asked → the whole return moves nothing, both problems reported
		const both = mappedReturn('R1', 'WEB-1001', [
			{ sku: 'JEANS-BLU-32', quantity: 2 },
			{ sku: 'TSHIRT-RED-M' },
		]);
		const out = await apply(fake, [both], [JSON.stringify(held)]);
		expect(kinds(out[0])).toEqual([
			['quantity_exceeds_sold', 'R1', 'JEANS-BLU-32'],
			['quantity_exceeds_sold', 'R1', 'TSHIRT-RED-M'],
		]);
		expect(moved(fake)).toEqual([]);
		// within the bound it moves
		const ok = await apply(fake, [mappedReturn('R2', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }])]);
		expect(ok[0].ok).toBe(true);
		expect(moved(fake)).toEqual([['RB-R2-R2:1-move', 'JEANS-BLU-32', 'A1', 1]]);
	});

	test('a replay of a return whose stock moved and whose credit is in Khaos is a duplicate, not an excess', async () => {
		const fake = new FakeKhaosApi();
		const ret = mappedReturn('R1', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]);
		expect((await apply(fake, [ret]))[0].ok).toBe(true);
		fake.orders.find((o) => o.associatedRef === 'WEB-1003')!.lines[1].qtyReturned = 1; // its credit was imported
		const again = await apply(fake, [ret]);
		expect(again[0]).toMatchObject({
			ok: true,
			lines: [{ result: 'duplicate', reference: 'RB-R1-R1:1-move' }],
		});
		expect(fake.calls.adjustStock).toBe(1);
	});

	test('two rows of one return in a batch: the units count once, the second is a duplicate', async () => {
		const fake = new FakeKhaosApi();
		const ret = mappedReturn('R1', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]);
		const out = await apply(fake, [ret, ret]);
		expect(out.map((o) => o.ok)).toEqual([true, true]);
		expect(moved(fake)).toEqual([['RB-R1-R1:1-move', 'TSHIRT-RED-M', 'A1', 1]]);
	});
});

describe('units already moved count against the order (review findings)', () => {
	test('a later event adding a second line of the same SKU to a return that already moved one: sold 1 → nothing more moves', async () => {
		const fake = new FakeKhaosApi();
		expect(
			(await apply(fake, [mappedReturn('R1', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }])]))[0].ok,
		).toBe(true);
		const more = mappedReturn('R1', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }, { sku: 'TSHIRT-RED-M' }]);
		const out = await apply(fake, [more]);
		expect(kinds(out[0])).toEqual([['quantity_exceeds_sold', 'R1', 'TSHIRT-RED-M']]);
		expect(moved(fake)).toEqual([['RB-R1-R1:1-move', 'TSHIRT-RED-M', 'A1', 1]]);
	});

	test('a return redelivered (its stock moved, its credit not yet in Khaos) in the same batch as another return of the order: the other does not move the same unit', async () => {
		const fake = new FakeKhaosApi();
		const r1 = mappedReturn('R1', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]);
		await apply(fake, [r1]);
		const out = await apply(fake, [r1, mappedReturn('R2', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }])]);
		expect(out[0].ok).toBe(true);
		expect(kinds(out[1])).toEqual([['quantity_exceeds_sold', 'R2', 'TSHIRT-RED-M']]);
		expect(fake.appliedAdjustments).toHaveLength(1);
	});

	test('held records of one return count once (a row waiting for posting and its open credit exception)', async () => {
		const fake = new FakeKhaosApi();
		const base = mappedReturn('H1', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]);
		const held = { ...base, lines: [{ ...base.lines[0], stockMove: { result: 'applied' } }] };
		// WEB-1001 sold 2 jeans: H1 holds 1 (counted once, not twice), so R1's 1 fits
		const out = await apply(
			fake,
			[mappedReturn('R1', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }])],
			[held, JSON.stringify(held)],
		);
		expect(out[0].ok).toBe(true);
		expect(heldFromRecords([held, JSON.stringify(held)])).toEqual([
			{
				returnId: 'H1',
				orderReference: 'WEB-1001',
				lines: [{ stockCode: 'JEANS-BLU-32', quantity: 1 }],
			},
		]);
	});
});

describe('stable line identity', () => {
	const raw = (items: Array<{ sku: string; grade: string }>) => ({
		id: 7001,
		order_reference: 'WEB-1001',
		item: items.map((i) => ({
			sku_code: i.sku,
			quantity: 1,
			final_disposition: i.grade,
			reason: [{ reason: 'Too small', action: 'Refund' }],
		})),
	});
	const mapped = (items: Array<{ sku: string; grade: string }>, sequence: number): MappedReturn => {
		const n = normaliseReboundReturn(raw(items), {
			source: 'rebound-webhook',
			event: {
				id: `e${sequence}`,
				type: 'return.processed',
				occurredAt: '2026-11-28T10:00:00Z',
				sequence,
			},
		});
		if (!n.ok) throw new Error(n.message);
		const lines = n.value.lines.map((l) => ({
			...l,
			mapping: { ...mappedReturn('x', 'x', [{ sku: l.sku }]).lines[0].mapping },
		}));
		return { ...n.value, lines } as MappedReturn;
	};

	test('event 1 lists [A, B], event 2 lists [C, A, B]: A, B and C each move once', async () => {
		const fake = new FakeKhaosApi();
		fake.orders = demoOrders().map((o) =>
			o.associatedRef === 'WEB-1001'
				? {
						...o,
						lines: [...o.lines, { ...o.lines[0], lineId: '1003', stockCode: 'HOODIE-GRY-L' }],
					}
				: o,
		);
		const first = await apply(fake, [
			mapped(
				[
					{ sku: 'TSHIRT-RED-M', grade: 'A' },
					{ sku: 'JEANS-BLU-32', grade: 'A' },
				],
				1,
			),
		]);
		expect(first[0].ok).toBe(true);
		const second = await apply(fake, [
			mapped(
				[
					{ sku: 'HOODIE-GRY-L', grade: 'A' },
					{ sku: 'TSHIRT-RED-M', grade: 'A' },
					{ sku: 'JEANS-BLU-32', grade: 'A' },
				],
				2,
			),
		]);
		expect(second[0].ok).toBe(true);
		expect(moved(fake)).toEqual([
			['RB-7001-7001:TSHIRT-RED-M#1-move', 'TSHIRT-RED-M', 'A1', 1],
			['RB-7001-7001:JEANS-BLU-32#1-move', 'JEANS-BLU-32', 'A1', 1],
			['RB-7001-7001:HOODIE-GRY-L#1-move', 'HOODIE-GRY-L', 'A1', 1],
		]);
		expect(second[0].ok && second[0].lines.map((l) => l.result)).toEqual([
			'applied',
			'duplicate',
			'duplicate',
		]);
	});

	test('a move made under the older positional reference is recognised by its SKU and not made again', async () => {
		const fake = new FakeKhaosApi();
		await fake.adjustStock([
			{
				stockCode: 'TSHIRT-RED-M',
				siteId: '1',
				locationId: 'A1',
				adjustBy: 1,
				reason: 'old',
				reference: 'RB-7001-7001:1-move',
			},
		]);
		const out = await apply(fake, [mapped([{ sku: 'TSHIRT-RED-M', grade: 'A' }], 1)]);
		expect(out[0]).toMatchObject({
			ok: true,
			lines: [{ result: 'duplicate', reference: 'RB-7001-7001:1-move' }],
		});
		expect(fake.appliedAdjustments).toHaveLength(1);
	});
});

describe('re-grades after the stock moved', () => {
	test('moves nothing and raises regraded_after_move for ops with the from and to locations', async () => {
		const fake = new FakeKhaosApi();
		await apply(fake, [
			mappedReturn('R1', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }, { sku: 'JEANS-BLU-32' }]),
		]);
		const regraded = mappedReturn('R1', 'WEB-1001', [
			{ sku: 'TSHIRT-RED-M', action: 'quarantine', disposition: 'Damaged' },
			{ sku: 'JEANS-BLU-32', action: 'no_movement' },
		]);
		const out = await apply(fake, [regraded]);
		expect(out[0].ok).toBe(false);
		const ex = out[0].ok ? [] : out[0].exceptions;
		expect(
			ex.map((e) => [e.kind, e.owner, e.sku, e.details.fromLocationId, e.details.toLocationId]),
		).toEqual([
			['regraded_after_move', 'ops', 'TSHIRT-RED-M', 'A1', 'QUAR'],
			['regraded_after_move', 'ops', 'JEANS-BLU-32', 'A1', null],
		]);
		expect(fake.appliedAdjustments).toHaveLength(2);
	});

	test('a quantity changed after the move is not a silent duplicate; "continue" (a replay after ops dealt with it) lets the return go on, moving nothing', async () => {
		const fake = new FakeKhaosApi();
		await apply(fake, [mappedReturn('R1', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }])]);
		const two = mappedReturn('R1', 'WEB-1001', [{ sku: 'JEANS-BLU-32', quantity: 2 }]);
		const out = await apply(fake, [two]);
		const ex = out[0].ok ? [] : out[0].exceptions;
		expect(ex.map((e) => [e.kind, e.details.quantity, e.details.newQuantity])).toEqual([
			['regraded_after_move', 1, 2],
		]);
		const replayed = await applyReturnStock(
			fake,
			[input(two)],
			{ reasonText: 'ReBound return', changedAfterMove: 'continue' },
			describeFailure,
		);
		expect(replayed[0]).toMatchObject({ ok: true, lines: [{ result: 'duplicate', quantity: 1 }] });
		expect(fake.appliedAdjustments).toHaveLength(1);
	});
});

describe('poison isolation', () => {
	test('isolate: one refused record in 50 → 49 in results, 1 failure; transient is not split; fatal throws', async () => {
		const items = Array.from({ length: 50 }, (_, i) => i);
		let calls = 0;
		const call = async (batch: number[]) => {
			calls++;
			if (batch.includes(37)) throw new KhaosFault('X', 'bad record', { code: 'invalid_request' });
			return batch.length;
		};
		const parts = await isolate(items, call, describeFailure);
		expect(parts.filter((p) => 'result' in p).flatMap((p) => p.items)).toHaveLength(49);
		expect(parts.filter((p) => 'failure' in p).map((p) => p.items)).toEqual([[37]]);
		expect(calls).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(50)));
		const transient = new TransientExhaustedError(
			'X',
			3,
			10,
			new TransportError('503', { kind: 'http', retryable: true, status: 503 }),
		);
		const t = await isolate(items, async () => Promise.reject(transient), describeFailure);
		expect(t).toHaveLength(1);
		await expect(
			isolate(
				items,
				async () => Promise.reject(new TransportError('auth', { kind: 'auth', retryable: false })),
				describeFailure,
			),
		).rejects.toThrow('auth');
	});

	test('a Khaos refusal of one return in a batch of 50: 49 move in the same run, the culprit is khaos_rejected', async () => {
		const fake = new FakeKhaosApi();
		fake.orders = Array.from({ length: 50 }, (_, i) => ({
			...demoOrders()[0],
			associatedRef: `WEB-P${i}`,
		}));
		fake.refuseMentioning.add('RB-P17-');
		const rets = Array.from({ length: 50 }, (_, i) =>
			mappedReturn(`P${i}`, `WEB-P${i}`, [{ sku: 'TSHIRT-RED-M' }]),
		);
		const out = await apply(fake, rets);
		expect(out.filter((o) => o.ok)).toHaveLength(49);
		expect(kinds(out[17])).toEqual([['khaos_rejected', 'P17', null]]);
		expect(fake.appliedAdjustments).toHaveLength(49);
	});
});
