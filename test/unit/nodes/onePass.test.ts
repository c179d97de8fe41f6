/**
 * Every problem of a return in one pass (issue "money semantics"): Map Returns → Validate SKUs →
 * Apply Stock Moves with their pass-on options report a return's mapping, SKU and order problems
 * all at once, one exception item each, and move nothing; a replay after the fixes moves it once.
 * The default (route) mode stops a return at its first stage with a problem, as before.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { KhaosControl } from '../../../nodes/KhaosControl/KhaosControl.node';
import * as transport from '../../../nodes/KhaosControl/transport';
import { ReturnsMapping } from '../../../nodes/ReturnsMapping/ReturnsMapping.node';
import { DEMO_PRODUCTS, FakeKhaosApi, KHAOS_TEST_CREDENTIALS } from '../../helpers/khaosFakes';
import { mockExecuteContext, type MockParam } from '../../helpers/mockExecuteContext';
import { makeReturn } from '../core/mapping.fixtures';

afterEach(() => jest.restoreAllMocks());

const DISPOSITIONS = [
	{ disposition: 'Grade A', stockAction: 'restock', siteId: '1', locationId: 'A1', sellable: true },
	{
		disposition: 'Grade B',
		stockAction: 'restock',
		siteId: '1',
		locationId: 'RET',
		sellable: true,
	},
	{
		disposition: 'Missing',
		stockAction: 'no_movement',
		siteId: '',
		locationId: '',
		sellable: false,
	},
];
const GRADE_Z = {
	disposition: 'Grade Z',
	stockAction: 'quarantine',
	siteId: '1',
	locationId: 'QUAR',
	sellable: false,
};
const ALIAS = { from: 'JEANS-BLU-32-V1', to: 'JEANS-BLU-32' };

const tables = (fixed = false) => ({
	dispositionSource: 'define',
	dispositionRows: { rows: fixed ? [...DISPOSITIONS, GRADE_Z] : DISPOSITIONS },
	reasonSource: 'define',
	reasonRows: { rows: [{ reason: 'Too small', reasonId: '2', matchOn: 'reason' }] },
	skuAliasSource: 'define',
	skuAliasRows: { rows: fixed ? [ALIAS] : [] },
});

const PASS_ON = {
	map: { unmappedReturns: 'passOn' },
	validate: { withProblems: 'passOn' },
};

/** A Khaos with order WEB-2001 (one each of T-shirt, jeans, hoodie) and a deleted old jeans code. */
function khaos(): FakeKhaosApi {
	const fake = new FakeKhaosApi();
	const jeans = DEMO_PRODUCTS.find((p) => p.stockCode === 'JEANS-BLU-32')!;
	fake.products.set('JEANS-BLU-32-V1', {
		...jeans,
		stockId: '10099',
		stockCode: 'JEANS-BLU-32-V1',
		deleted: true,
	});
	const base = fake.orders[0];
	const line = base.lines[0];
	fake.orders.push({
		...base,
		orderCode: 'SO000201',
		associatedRef: 'WEB-2001',
		lines: [
			{ ...line, lineId: '9001', stockCode: 'TSHIRT-RED-M', description: 'TSHIRT-RED-M' },
			{ ...line, lineId: '9002', stockCode: 'JEANS-BLU-32', description: 'JEANS-BLU-32' },
			{ ...line, lineId: '9003', stockCode: 'HOODIE-GRY-L', description: 'HOODIE-GRY-L' },
		],
	});
	return fake;
}

/** Three problems: an unmapped disposition, a deleted SKU, and two hoodies where one was sold. */
const troubled = () =>
	makeReturn(
		'R100',
		[
			{ sku: 'TSHIRT-RED-M', disposition: 'Grade Z' },
			{ sku: 'JEANS-BLU-32-V1', disposition: 'Grade A' },
			{ sku: 'HOODIE-GRY-L', disposition: 'Grade B', quantity: 2 },
		],
		{ orderReference: 'WEB-2001' },
	);

async function mapReturns(items: IDataObject[], params: Record<string, MockParam>) {
	const ctx = mockExecuteContext({
		node: { name: 'Map Returns', type: 'n8n-nodes-rebound-khaos.returnsMapping' },
		items,
		params: { operation: 'map', ...params },
	});
	return new ReturnsMapping().execute.call(ctx);
}

async function khaosNode(
	fake: FakeKhaosApi,
	items: INodeExecutionData[],
	params: Record<string, MockParam>,
) {
	jest.spyOn(transport, 'createKhaosApi').mockReturnValue(fake);
	const ctx = mockExecuteContext({
		node: { name: 'Khaos', type: 'n8n-nodes-rebound-khaos.khaosControl' },
		items: items.map((i) => ({ json: i.json })),
		params,
		credentials: { khaosControlApi: KHAOS_TEST_CREDENTIALS },
	});
	return new KhaosControl().execute.call(ctx);
}

interface Flow {
	moved: IDataObject[];
	/** Exception items of every stage, in stage order. */
	exceptions: IDataObject[];
	stages: { map: number; validate: number; stock: number };
}

/** The processor's three nodes in a row, each stage's exceptions collected. */
async function flow(
	fake: FakeKhaosApi,
	items: IDataObject[],
	opts: { passOn: boolean; fixed?: boolean },
): Promise<Flow> {
	const [mapped, unmapped] = await mapReturns(items, {
		...tables(opts.fixed),
		...(opts.passOn ? PASS_ON.map : {}),
	});
	const [valid, invalid] = await khaosNode(fake, mapped, {
		resource: 'product',
		operation: 'validateSkus',
		mappingType: 1,
		discontinued: 'notice',
		...(opts.passOn ? PASS_ON.validate : {}),
	});
	const [moved, stockExceptions] = await khaosNode(fake, valid, {
		resource: 'stock',
		operation: 'applyReturnMoves',
	});
	return {
		moved: moved.map((i) => i.json),
		exceptions: [...unmapped, ...invalid, ...stockExceptions].map((i) => i.json),
		stages: { map: unmapped.length, validate: invalid.length, stock: stockExceptions.length },
	};
}

const summary = (exceptions: IDataObject[]) =>
	exceptions.map((e) => [e.kind, e.returnId, e.lineId, e.sku]);
const LEVELS = ['TSHIRT-RED-M|1|QUAR', 'JEANS-BLU-32|1|A1', 'HOODIE-GRY-L|1|RET'];
const levels = (fake: FakeKhaosApi) => LEVELS.map((k) => fake.levels.get(k) ?? 0);

describe('every problem of a return in one pass (pass-on mode)', () => {
	test('unmapped disposition + deleted SKU + quantity over sold: three exception items, nothing moved', async () => {
		const fake = khaos();
		const before = levels(fake);
		const out = await flow(fake, [troubled()], { passOn: true });

		expect(out.moved).toEqual([]);
		expect(summary(out.exceptions)).toEqual([
			['unmapped_disposition', 'R100', 'R100:1', 'TSHIRT-RED-M'],
			['archived_sku', 'R100', 'R100:2', 'JEANS-BLU-32-V1'],
			['quantity_exceeds_sold', 'R100', 'R100:3', 'HOODIE-GRY-L'],
		]);
		// all reported at the end of the flow, by the stock step, at once
		expect(out.stages).toEqual({ map: 0, validate: 0, stock: 3 });
		expect(out.exceptions.map((e) => e.stage)).toEqual(['mapping', 'validate', 'stock']);
		// one row each in the exceptions table: distinct keys, none a notice
		expect(new Set(out.exceptions.map((e) => e.key)).size).toBe(3);
		expect(out.exceptions.every((e) => e.exception === true && e.notice === undefined)).toBe(true);
		expect(fake.calls.adjustStock).toBe(0);
		expect(levels(fake)).toEqual(before);

		// every payload is the return, replayable through Map Returns (no problems riding along)
		for (const e of out.exceptions) {
			const payload = JSON.parse(e.payload as string) as IDataObject;
			expect(payload.problems).toBeUndefined();
			expect(payload.returnId).toBe('R100');
			expect((payload.lines as IDataObject[]).map((l) => [l.sku, l.quantity])).toEqual([
				['TSHIRT-RED-M', 1],
				['JEANS-BLU-32-V1', 1],
				['HOODIE-GRY-L', 2],
			]);
		}
		const quantity = out.exceptions[2];
		expect(quantity.details).toMatchObject({ requested: 2, sold: 1, available: 1 });
	});

	test('a replay after the fixes applies the return once; a second replay moves nothing more', async () => {
		const fake = khaos();
		const first = await flow(fake, [troubled()], { passOn: true });
		const payload = JSON.parse(first.exceptions[0].payload as string) as IDataObject;
		const before = levels(fake);

		// ops add the mapping row and the alias; finance has the order corrected in Khaos (two hoodies sold)
		fake.orders.find((o) => o.associatedRef === 'WEB-2001')!.lines[2].qtyOrdered = 2;
		const replay = await flow(fake, [payload], { passOn: true, fixed: true });
		expect(replay.exceptions).toEqual([]);
		expect(replay.moved.map((j) => j.stockMoves)).toEqual([
			{ applied: 3, duplicate: 0, noMovement: 0 },
		]);
		expect(fake.calls.adjustStock).toBe(1);
		expect(levels(fake)).toEqual([before[0] + 1, before[1] + 1, before[2] + 2]);

		// the replay scheduler picks another exception of the same return: nothing moves twice
		const again = JSON.parse(first.exceptions[2].payload as string) as IDataObject;
		const second = await flow(fake, [again], { passOn: true, fixed: true });
		expect(second.exceptions).toEqual([]);
		expect(second.moved.map((j) => j.stockMoves)).toEqual([
			{ applied: 0, duplicate: 3, noMovement: 0 },
		]);
		expect(levels(fake)).toEqual([before[0] + 1, before[1] + 1, before[2] + 2]);
	});

	test('the problems still open after a partial fix are reported again, all of them, and nothing moves', async () => {
		const fake = khaos();
		const first = await flow(fake, [troubled()], { passOn: true });
		const payload = JSON.parse(first.exceptions[0].payload as string) as IDataObject;
		const replay = await flow(fake, [payload], { passOn: true, fixed: true });
		expect(summary(replay.exceptions)).toEqual([
			['quantity_exceeds_sold', 'R100', 'R100:3', 'HOODIE-GRY-L'],
		]);
		// the same exception row as the first pass (same key: the table upserts it)
		expect(replay.exceptions[0].key).toBe(first.exceptions[2].key);
		expect(fake.calls.adjustStock).toBe(0);
	});

	test('a return with no problems is unchanged by pass-on mode', async () => {
		const clean = makeReturn(
			'R101',
			[
				{ sku: 'TSHIRT-RED-M', disposition: 'Grade A' },
				{ sku: 'JEANS-BLU-32', disposition: 'Missing' },
			],
			{ orderReference: 'WEB-2001' },
		);
		const routed = khaos();
		const passed = khaos();
		const a = await flow(routed, [clean], { passOn: false });
		const b = await flow(passed, [clean], { passOn: true });
		expect(b).toEqual(a);
		expect(a.exceptions).toEqual([]);
		expect(a.moved.map((j) => j.stockMoves)).toEqual([{ applied: 1, duplicate: 0, noMovement: 1 }]);
		expect(passed.log.map((l) => l.method)).toEqual(routed.log.map((l) => l.method));
		expect(levels(passed)).toEqual(levels(routed));
	});

	test('notices stay notices: a discontinued SKU beside a clean return, nothing beside a blocked one', async () => {
		const fake = khaos();
		fake.orders
			.find((o) => o.associatedRef === 'WEB-2001')!
			.lines.push({
				...fake.orders[0].lines[0],
				lineId: '9004',
				stockCode: 'MUG-WHT',
				qtyOrdered: 2,
			});
		const clean = makeReturn('R102', [{ sku: 'MUG-WHT' }], { orderReference: 'WEB-2001' });
		const blocked = makeReturn(
			'R103',
			[{ sku: 'MUG-WHT' }, { sku: 'TSHIRT-RED-M', disposition: 'Grade Z' }],
			{ orderReference: 'WEB-2001' },
		);
		const out = await flow(fake, [clean, blocked], { passOn: true });
		expect(out.moved.map((j) => j.returnId)).toEqual(['R102']);
		expect(out.exceptions.map((e) => [e.kind, e.returnId, e.notice ?? false])).toEqual([
			['discontinued_sku', 'R102', true],
			['unmapped_disposition', 'R103', false],
		]);
	});
});

describe('the options one at a time', () => {
	test('Validate SKUs passing on a return whose only problems are its own: the stock step adds the order problems', async () => {
		const fake = khaos();
		const ret = makeReturn(
			'R104',
			[
				{ sku: 'JEANS-BLU-32-V1', disposition: 'Grade A' },
				{ sku: 'HOODIE-GRY-L', disposition: 'Grade B', quantity: 3 },
			],
			{ orderReference: 'WEB-2001' },
		);
		const [mapped] = await mapReturns([ret], tables());
		const [valid, invalid] = await khaosNode(fake, mapped, {
			resource: 'product',
			operation: 'validateSkus',
			...PASS_ON.validate,
		});
		expect(invalid).toEqual([]);
		expect(valid[0].json).toMatchObject({ skuValidation: { valid: false, checked: 2 } });
		const [moved, exceptions] = await khaosNode(fake, valid, {
			resource: 'stock',
			operation: 'applyReturnMoves',
		});
		expect(moved).toEqual([]);
		expect(summary(exceptions.map((i) => i.json))).toEqual([
			['archived_sku', 'R104', 'R104:1', 'JEANS-BLU-32-V1'],
			['quantity_exceeds_sold', 'R104', 'R104:2', 'HOODIE-GRY-L'],
		]);
		expect(exceptions.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);
		expect(fake.calls.adjustStock).toBe(0);
	});

	test('Map Returns passing on, Validate SKUs routing: mapping and SKU problems leave together at Validate SKUs', async () => {
		const fake = khaos();
		const [mapped, unmapped] = await mapReturns([troubled()], { ...tables(), ...PASS_ON.map });
		expect(unmapped).toEqual([]);
		expect((mapped[0].json.problems as IDataObject[]).map((p) => p.kind)).toEqual([
			'unmapped_disposition',
		]);
		const [valid, invalid] = await khaosNode(fake, mapped, {
			resource: 'product',
			operation: 'validateSkus',
		});
		expect(valid).toEqual([]);
		expect(summary(invalid.map((i) => i.json))).toEqual([
			['unmapped_disposition', 'R100', 'R100:1', 'TSHIRT-RED-M'],
			['archived_sku', 'R100', 'R100:2', 'JEANS-BLU-32-V1'],
		]);
		for (const i of invalid) expect(JSON.parse(i.json.payload as string).problems).toBeUndefined();
	});

	test('a carried return reaching Create Credit Note leaves as its problems, never credited', async () => {
		const fake = khaos();
		const [mapped] = await mapReturns([troubled()], { ...tables(), ...PASS_ON.map });
		const [created, exceptions] = await khaosNode(fake, mapped, {
			resource: 'creditNote',
			operation: 'createFromReturn',
		});
		expect(created).toEqual([]);
		expect(exceptions.map((i) => i.json.kind)).toEqual(['unmapped_disposition']);
		expect(fake.calls.importReturns + fake.calls.importReturn + fake.calls.adjustStock).toBe(0);
	});

	test('pass-on mode still sends what it cannot read to Unmapped / Exceptions', async () => {
		const fake = khaos();
		const [mapped, unmapped] = await mapReturns([{ returnId: 'X1', lines: [] }], {
			...tables(),
			...PASS_ON.map,
		});
		expect(mapped).toEqual([]);
		expect(unmapped.map((i) => i.json.kind)).toEqual(['invalid_payload']);
		const broken = { ...troubled(), problems: [{ kind: 'unmapped_disposition' }] };
		const [valid, invalid] = await khaosNode(fake, [{ json: broken }, { json: { sku: 'NOPE' } }], {
			resource: 'product',
			operation: 'validateSkus',
			...PASS_ON.validate,
		});
		expect(valid).toEqual([]);
		// a plain SKU item is not a return: its problem is routed as before
		expect(invalid.map((i) => [i.json.kind, i.json.field ?? null])).toEqual([
			['invalid_payload', 'lines[0].mapping'],
			['unknown_sku', null],
		]);
	});
});

describe('route mode (the default) is unchanged', () => {
	test('the first stage with a problem stops the return and reports only its own problems', async () => {
		const fake = khaos();
		const out = await flow(fake, [troubled()], { passOn: false });
		expect(summary(out.exceptions)).toEqual([
			['unmapped_disposition', 'R100', 'R100:1', 'TSHIRT-RED-M'],
		]);
		expect(out.stages).toEqual({ map: 1, validate: 0, stock: 0 });
		expect(fake.calls.getProducts + fake.calls.adjustStock).toBe(0);
	});
});
