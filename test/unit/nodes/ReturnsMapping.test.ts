import { NodeOperationError, type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import * as mapping from '../../../core/mapping';
import { CarriedReturnSchema } from '../../../core/carriedReturn';
import { MappedReturnSchema } from '../../../core/mapping';
import { ReturnsMapping } from '../../../nodes/ReturnsMapping/ReturnsMapping.node';
import { mockExecuteContext, type MockExecuteOptions } from '../../helpers/mockExecuteContext';
import {
	DEMO_ALIASES,
	DEMO_DISPOSITIONS,
	DEMO_REASONS,
	makeReturn,
} from '../core/mapping.fixtures';

/** The demo tables as the node's row editor stores them (the action column is `stockAction` there). */
const defineParams = {
	dispositionSource: 'define',
	dispositionRows: {
		rows: [
			{
				disposition: 'Grade A',
				stockAction: 'restock',
				siteId: '1',
				locationId: 'A1',
				sellable: true,
			},
			{
				disposition: 'Like New',
				stockAction: 'restock',
				siteId: '1',
				locationId: 'A1',
				sellable: true,
			},
			{
				disposition: 'Grade B',
				stockAction: 'restock',
				siteId: '1',
				locationId: 'RET',
				sellable: true,
			},
			{
				disposition: 'Damaged',
				stockAction: 'quarantine',
				siteId: '1',
				locationId: 'QUAR',
				sellable: false,
			},
			{
				disposition: 'Missing',
				stockAction: 'no_movement',
				siteId: '',
				locationId: '',
				sellable: false,
			},
		],
	},
	reasonSource: 'define',
	reasonRows: {
		rows: [
			{ reason: 'Too small', reasonId: '2', matchOn: 'reason' },
			{ reason: 'Faulty', reasonId: '1', matchOn: 'reason' },
			{ reason: 'Arrived damaged', reasonId: '4', matchOn: 'reason' },
		],
	},
	skuAliasSource: 'define',
	skuAliasRows: { rows: [{ from: 'TSHIRT-RED-MED', to: 'TSHIRT-RED-M' }] },
};

/** The demo tables as a Data table node would feed them through an expression. */
const jsonParams = {
	dispositionSource: 'json',
	dispositionJson: DEMO_DISPOSITIONS.map((row, i) => ({
		id: i + 1,
		createdAt: '2026-11-01T00:00:00Z',
		...row,
	})),
	reasonSource: 'json',
	reasonJson: JSON.stringify(DEMO_REASONS),
	skuAliasSource: 'json',
	skuAliasJson: DEMO_ALIASES.map((json) => ({ json })),
};

async function run(options: MockExecuteOptions): Promise<INodeExecutionData[][]> {
	const ctx = mockExecuteContext({
		node: { name: 'Returns Mapping', type: 'n8n-nodes-rebound-khaos.returnsMapping' },
		...options,
	});
	return new ReturnsMapping().execute.call(ctx);
}

const good = () =>
	makeReturn('R1', [
		{ sku: 'TSHIRT-RED-MED', disposition: 'grade a', reasons: ['Too small'] },
		{ sku: 'MUG-WHT', disposition: 'Damaged', reasons: ['Faulty'] },
	]);
const bad = () =>
	makeReturn('R2', [
		{ sku: 'HOODIE-GRY-L', disposition: 'Grade A', reasons: ['Too small'] },
		{ sku: 'JEANS-BLU-32', disposition: 'Mystery Grade', reasons: ['Not as described'] },
	]);

describe('ReturnsMapping node: description', () => {
	it('is an action node with two named outputs usable as a tool', () => {
		const d = new ReturnsMapping().description;
		expect(d.name).toBe('returnsMapping');
		expect(d.outputs).toEqual(['main', 'main']);
		expect(d.outputNames).toEqual(['Mapped', 'Unmapped']);
		expect(d.usableAsTool).toBe(true);
		expect(d.icon).toEqual({
			light: 'file:returnsMapping.svg',
			dark: 'file:returnsMapping.dark.svg',
		});
	});
});

describe('ReturnsMapping node: Map Returns', () => {
	it.each([
		['rows defined in the node', defineParams],
		['rows from an expression (Data table)', jsonParams],
	])(
		'maps with %s and routes whole returns to the right output with pairedItem',
		async (_label, tables) => {
			const [mapped, unmapped] = await run({
				items: [good(), bad()],
				params: { operation: 'map', ...tables },
			});

			expect(mapped).toHaveLength(1);
			expect(mapped[0].pairedItem).toEqual({ item: 0 });
			const out = MappedReturnSchema.parse(mapped[0].json);
			expect(out.returnId).toBe('R1');
			expect(
				out.lines.map((l) => [
					l.mapping.action,
					l.mapping.siteId,
					l.mapping.locationId,
					l.mapping.sellable,
					l.mapping.reasonId,
					l.mapping.khaosSku,
				]),
			).toEqual([
				['restock', '1', 'A1', true, '2', 'TSHIRT-RED-M'],
				['quarantine', '1', 'QUAR', false, '1', 'MUG-WHT'],
			]);

			// R2 has one good line and one bad: the whole return goes to Unmapped, one exception per code, nothing on Mapped
			expect(
				unmapped.map((i) => [
					i.json.kind,
					i.json.returnId,
					i.json.lineId,
					i.json.code,
					i.pairedItem,
				]),
			).toEqual([
				['unmapped_disposition', 'R2', 'R2:2', 'Mystery Grade', { item: 1 }],
				['unmapped_reason', 'R2', 'R2:2', 'Not as described', { item: 1 }],
			]);
			for (const item of unmapped) {
				expect(item.json.stage).toBe('mapping');
				expect(JSON.parse(item.json.payload as string)).toEqual(bad());
			}
		},
	);

	it('Unmapped Returns: Pass On sends a return that did not map out on Mapped carrying its problems (route is the default)', async () => {
		const d = new ReturnsMapping().description.properties.find((p) => p.name === 'unmappedReturns');
		expect(d).toMatchObject({ default: 'route', displayOptions: { show: { operation: ['map'] } } });
		expect(d?.options?.map((o) => (o as { value: string }).value)).toEqual(['route', 'passOn']);

		const [mapped, unmapped] = await run({
			items: [good(), bad()],
			params: { operation: 'map', ...defineParams, unmappedReturns: 'passOn' },
		});
		expect(unmapped).toEqual([]);
		expect(mapped.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		const [routed] = await run({ items: [good()], params: { operation: 'map', ...defineParams } });
		expect(mapped[0].json).toEqual(routed[0].json);
		const carried = CarriedReturnSchema.parse(mapped[1].json);
		expect(MappedReturnSchema.safeParse(mapped[1].json).success).toBe(false);
		expect(carried.problems.map((p) => [p.kind, p.lineId, p.code, p.payload])).toEqual([
			['unmapped_disposition', 'R2:2', 'Mystery Grade', null],
			['unmapped_reason', 'R2:2', 'Not as described', null],
		]);
		expect(carried.lines.map((l) => l.mapping.khaosSku)).toEqual(['HOODIE-GRY-L', 'JEANS-BLU-32']);
	});

	it('takes an inbox row (the normalised return as JSON in payload) like the return itself; a broken payload names the field', async () => {
		const row = (ret: unknown, id: number) => ({
			id,
			eventId: `evt-${id}`,
			returnId: 'R1',
			status: 'processing',
			payload: typeof ret === 'string' ? ret : JSON.stringify(ret),
		});
		const [mapped, unmapped] = await run({
			items: [row(good(), 7), row(bad(), 8), row('{"returnId":', 9), row('[1,2]', 10)],
			params: { operation: 'map', ...defineParams },
		});
		const [fromReturn] = await run({
			items: [good()],
			params: { operation: 'map', ...defineParams },
		});
		expect(mapped.map((i) => [i.json, i.pairedItem])).toEqual([[fromReturn[0].json, { item: 0 }]]);
		expect(unmapped.map((i) => [i.json.kind, i.json.field, i.pairedItem])).toEqual([
			['unmapped_disposition', 'disposition', { item: 1 }],
			['unmapped_reason', 'reasons', { item: 1 }],
			['invalid_payload', 'payload', { item: 2 }],
			['invalid_payload', 'payload', { item: 3 }],
		]);
		expect(String(unmapped[2].json.message)).toContain('Return R1: payload is not valid JSON');
		expect(String(unmapped[3].json.message)).toContain('payload is not a JSON object');
	});

	it('sends an invalid item to Unmapped as an invalid_payload exception naming the field', async () => {
		const broken = {
			...good(),
			lines: [{ ...good().lines[0], quantity: 0 }],
		} as unknown as IDataObject;
		const [mapped, unmapped] = await run({
			items: [broken, { hello: 'world' }],
			params: { operation: 'map', ...defineParams },
		});
		expect(mapped).toEqual([]);
		expect(unmapped).toHaveLength(2);
		expect(unmapped[0].json).toMatchObject({
			kind: 'invalid_payload',
			returnId: 'R1',
			field: 'lines[0].quantity',
			stage: 'mapping',
		});
		expect(unmapped[0].json.message).toContain('lines[0].quantity: quantity must be at least 1');
		expect(JSON.parse(unmapped[0].json.payload as string)).toEqual(broken);
		expect(unmapped[0].pairedItem).toEqual({ item: 0 });
		expect(unmapped[1].json).toMatchObject({ kind: 'invalid_payload', returnId: null });
		expect(unmapped[1].pairedItem).toEqual({ item: 1 });
	});

	it('routes an ungraded return to Unmapped, never to Mapped, even with a default row', async () => {
		const params = {
			operation: 'map',
			...jsonParams,
			dispositionJson: [
				...DEMO_DISPOSITIONS,
				{
					disposition: '*',
					action: 'quarantine',
					siteId: '1',
					locationId: 'QUAR',
					sellable: false,
				},
			],
		};
		const ret = makeReturn('R3', [{ sku: 'MUG-WHT', disposition: null }]);
		const [mapped, unmapped] = await run({
			items: [ret, makeReturn('R4', [{ sku: 'A', disposition: 'Mystery Grade' }])],
			params,
		});
		expect(
			unmapped.map((i) => [i.json.kind, i.json.returnId, (i.json.details as IDataObject).problem]),
		).toEqual([['unmapped_disposition', 'R3', 'not_graded']]);
		expect(mapped).toHaveLength(1);
		expect(mapped[0].pairedItem).toEqual({ item: 1 });
		expect((mapped[0].json.lines as IDataObject[])[0].mapping).toMatchObject({
			action: 'quarantine',
			sellable: false,
			matchedBy: 'default',
		});
	});

	it('fails loudly with a NodeOperationError naming table, row and field when a table is invalid', async () => {
		const params = {
			operation: 'map',
			...defineParams,
			dispositionRows: {
				rows: [
					...defineParams.dispositionRows.rows,
					{
						disposition: 'Dirty',
						stockAction: 'quarantine',
						siteId: '1',
						locationId: '',
						sellable: false,
					},
				],
			},
		};
		const promise = run({ items: [good()], params, continueOnFail: true });
		await expect(promise).rejects.toBeInstanceOf(NodeOperationError);
		await expect(promise).rejects.toThrow(
			'Disposition table row 6, field "locationId": quarantine needs a location (locationId)',
		);
	});

	it('rejects an empty disposition table and a JSON table that is not an array', async () => {
		await expect(
			run({ items: [good()], params: { operation: 'map', ...defineParams, dispositionRows: {} } }),
		).rejects.toThrow(/Disposition table: has no rows/);
		await expect(
			run({
				items: [good()],
				params: { operation: 'map', ...jsonParams, reasonJson: '{"reason":"x"' },
			}),
		).rejects.toThrow(/Reason table: is not valid JSON/);
	});

	it('honours continueOnFail for unexpected errors, and throws with the item index otherwise', async () => {
		const spy = jest.spyOn(mapping, 'mapReturn').mockImplementationOnce(() => {
			throw new Error('boom');
		});
		try {
			const [mapped, unmapped] = await run({
				items: [bad(), good()],
				params: { operation: 'map', ...defineParams },
				continueOnFail: true,
			});
			expect(unmapped[0].json).toMatchObject({
				error: 'boom',
				returnId: 'R2',
				owner: 'tech',
				exception: true,
			});
			expect(unmapped[0].pairedItem).toEqual({ item: 0 });
			expect(mapped.map((i) => i.json.returnId)).toEqual(['R1']);

			spy.mockImplementationOnce(() => {
				throw new Error('boom again');
			});
			const failing = run({ items: [good()], params: { operation: 'map', ...defineParams } });
			await expect(failing).rejects.toBeInstanceOf(NodeOperationError);
			await expect(failing).rejects.toMatchObject({ context: { itemIndex: 0 } });
		} finally {
			spy.mockRestore();
		}
	});

	it('returns two empty outputs for no input without reading tables', async () => {
		const ctx = mockExecuteContext({ items: [], params: {} });
		expect(await new ReturnsMapping().execute.call(ctx)).toEqual([[], []]);
		expect(ctx.parameterCalls).toEqual([]);
	});

	it('reads the tables once per run, from the first item', async () => {
		const ctx = mockExecuteContext({
			items: [good(), good(), good()],
			params: { operation: 'map', ...defineParams },
		});
		const [mapped] = await new ReturnsMapping().execute.call(ctx);
		expect(mapped.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(
			ctx.parameterCalls.filter((c) => c.name === 'dispositionRows').map((c) => c.itemIndex),
		).toEqual([0]);
	});

	it('ignores per-item table values after the first item (a table is configuration, not data)', async () => {
		const ctx = mockExecuteContext({
			items: [good(), good()],
			params: { operation: 'map', ...defineParams },
			paramsPerItem: [
				undefined,
				{ dispositionRows: { rows: [{ disposition: 'Grade A', stockAction: 'quarantine' }] } },
			],
		});
		const [mapped, unmapped] = await new ReturnsMapping().execute.call(ctx);
		expect(unmapped).toEqual([]);
		expect(
			mapped.map((i) =>
				(i.json.lines as IDataObject[]).map((l) => (l.mapping as IDataObject).locationId),
			),
		).toEqual([
			['A1', 'QUAR'],
			['A1', 'QUAR'],
		]);
		// the mock itself does serve per-item values
		expect(ctx.getNodeParameter('dispositionRows', 1)).toEqual({
			rows: [{ disposition: 'Grade A', stockAction: 'quarantine' }],
		});
	});
});

describe('ReturnsMapping node: Check Mappings', () => {
	it('lists unmapped codes with counts and example return ids, pairing each with the items it came from', async () => {
		const items = [
			bad(),
			good(),
			makeReturn('R5', [{ sku: 'A', disposition: 'mystery  grade', reasons: ['Faulty'] }]),
			{ codes: ['Grade Z', 'Grade A'] },
			{ kind: 'reason', code: 'Wrong colour', returnId: 'R9' },
			{ nothing: true },
		];
		const [first, out] = await run({
			items,
			params: { operation: 'check', ...defineParams, reasonRows: {} },
		});
		expect(first).toEqual([]);
		const codes = out.filter((i) => !i.json.exception);
		expect(
			codes.map((i) => [
				i.json.kind,
				i.json.code,
				i.json.count,
				i.json.firstReturnId,
				i.pairedItem,
			]),
		).toEqual([
			// ties: dispositions first, then by code
			['disposition', 'Mystery Grade', 2, 'R2', [{ item: 0 }, { item: 2 }]],
			['reason', 'Faulty', 2, 'R1', [{ item: 1 }, { item: 2 }]],
			['reason', 'Too small', 2, 'R2', [{ item: 0 }, { item: 1 }]],
			['disposition', 'Grade Z', 1, null, [{ item: 3 }]],
			['reason', 'Not as described', 1, 'R2', [{ item: 0 }]],
			['reason', 'Wrong colour', 1, 'R9', [{ item: 4 }]],
		]);
		expect(codes[0].json).toMatchObject({
			fallsToDefault: false,
			defaultMapping: null,
			returnCount: 2,
		});
		expect(codes[0].json.inputIndexes).toBeUndefined();
		const invalid = out.filter((i) => i.json.exception);
		expect(invalid.map((i) => [i.json.kind, i.json.field, i.pairedItem])).toEqual([
			['invalid_payload', 'lines', { item: 5 }],
		]);
	});

	it('still lists a code the default row would take, saying so', async () => {
		const params = {
			operation: 'check',
			...jsonParams,
			dispositionJson: [
				...DEMO_DISPOSITIONS,
				{
					disposition: '*',
					action: 'quarantine',
					siteId: '1',
					locationId: 'QUAR',
					sellable: 'false',
				},
			],
		};
		const [, out] = await run({
			items: [makeReturn('R6', [{ sku: 'A', disposition: 'Mystery Grade', reasons: ['Faulty'] }])],
			params,
		});
		expect(out.map((i) => i.json)).toEqual([
			expect.objectContaining({
				kind: 'disposition',
				code: 'Mystery Grade',
				count: 1,
				fallsToDefault: true,
				defaultMapping: 'quarantine into site 1, location QUAR (not sellable)',
			}),
		]);
	});
});

describe('ReturnsMapping node: credit policy', () => {
	const withActions = (actions: Array<[string]>) => {
		const ret = makeReturn('R7', [
			{ sku: 'HOODIE-GRY-L', disposition: 'Grade A', reasons: ['Too small'] },
			{ sku: 'MUG-WHT', disposition: 'Grade A', reasons: ['Too small'] },
			{ sku: 'JEANS-BLU-32', disposition: 'Missing', reasons: ['Too small'] },
		]);
		actions.forEach(([action], i) => {
			ret.lines[i].reasons = [{ reason: 'Too small', action, wish: '', additional: [] }];
		});
		return ret;
	};
	const creditsOf = (mapped: INodeExecutionData[]) =>
		MappedReturnSchema.parse(mapped[0].json).lines.map((l) => [
			l.mapping.credit,
			l.mapping.creditBy,
		]);

	it('a Credit cell left empty in the row editor holds a no-movement grade; Exchange and other actions by the built-in rules', async () => {
		const [mapped] = await run({
			items: [withActions([['Exchange'], ['Store credit'], ['Refund']])],
			params: { operation: 'map', ...defineParams },
		});
		expect(creditsOf(mapped)).toEqual([
			['exchange', 'action'],
			['hold', 'action'],
			['hold', 'disposition'],
		]);
	});

	it('takes rules from the rows and from the JSON list (after the rows), other actions and lines without one', async () => {
		const [mapped] = await run({
			items: [withActions([['Store credit'], ['Repair'], ['']])],
			params: {
				operation: 'map',
				...defineParams,
				dispositionRows: {
					rows: defineParams.dispositionRows.rows.map((r) =>
						r.disposition === 'Missing' ? { ...r, credit: 'credit' } : r,
					),
				},
				lineActions: {
					rules: { rule: [{ action: 'Store Credit', rule: 'hold' }] },
					rulesJson: '[{"action":"store credit","rule":"follow"}]',
					other: 'no_credit',
					none: 'hold',
				},
			},
		});
		expect(creditsOf(mapped)).toEqual([
			['credit', 'disposition'],
			['no_credit', 'action'],
			['hold', 'action'],
		]);
	});

	it('a bad rule fails the node naming it', async () => {
		await expect(
			run({
				items: [withActions([['Refund'], ['Refund'], ['Refund']])],
				params: { operation: 'map', ...defineParams, lineActions: { rulesJson: '{"action":1}' } },
			}),
		).rejects.toThrow('Action Rules (JSON) must be a JSON list of { action, rule }');
		await expect(
			run({
				items: [withActions([['Refund'], ['Refund'], ['Refund']])],
				params: {
					operation: 'map',
					...defineParams,
					lineActions: { rulesJson: '[{"action":"Repair","rule":"sometimes"}]' },
				},
			}),
		).rejects.toThrow(
			'Line action rule 1 ("Repair"): the rule must be one of follow, no_credit, hold, exchange',
		);
	});
});
