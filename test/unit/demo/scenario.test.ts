import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
	DEFAULT_FIXTURES,
	DEFAULT_SCENARIO,
	DEFAULT_SCENARIO_INPUT,
	checkScenarioAgainstFixture,
	fixtureKind,
	loadScenario,
	parseScenario,
	resolveFixtures,
} from '../../../scripts/demo/scenario';

const FIXTURES = path.resolve(__dirname, '../../../sandbox/fixtures');

/** A one-return scenario whose credit note (24.13 / 4.02 / 20.11) expects these lines. */
const creditWith = (lines: unknown[]) => ({
	returns: [
		{
			returnId: 1,
			label: 'x',
			expect: {
				status: 'done',
				creditNote: { gross: '24.13', vat: '4.02', net: '20.11', lines },
			},
		},
	],
});

describe('demo scenario', () => {
	it('the built-in default covers the asked cases with explicit outcomes, in pence', () => {
		const byId = Object.fromEntries(DEFAULT_SCENARIO.returns.map((r) => [r.returnId, r.expect]));
		expect(Object.keys(byId)).toEqual([
			'5001',
			'5002',
			'5003',
			'5004',
			'5005',
			'5006',
			'5007',
			'5010',
		]);
		expect(byId['5001']).toEqual({
			status: 'done',
			stock: [{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'A1', delta: 1 }],
			creditNote: {
				gross: 2413,
				vat: 402,
				net: 2011,
				lines: [{ sku: 'JEANS-BLU-32', quantity: 1, gross: 2413, vat: 402, net: 2011 }],
			},
			exceptions: [],
			notices: [],
		});
		expect(byId['5002'].stock).toEqual([
			{ sku: 'HOODIE-GRY-L', siteId: '1', locationId: 'QUAR', delta: 1 },
		]);
		expect(byId['5005'].creditNote).toEqual({
			gross: 3574,
			vat: 596,
			net: 2978,
			lines: [{ sku: 'TSHIRT-RED-M', quantity: 1, gross: 3574, vat: 596, net: 2978 }],
		});
		// the refund differs from the credit: the credit note is still raised (jeans + whole-order delivery)
		// and a credit_mismatch records refund 27.00 − credit 29.08
		expect(byId['5010']).toEqual({
			status: 'done',
			stock: [{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'RET', delta: 1 }],
			creditNote: {
				gross: 2908,
				vat: 485,
				net: 2423,
				lines: [
					{ sku: 'JEANS-BLU-32', quantity: 1, gross: 2413, vat: 402, net: 2011 },
					{ delivery: true, gross: 495, vat: 83, net: 412 },
				],
			},
			exceptions: [{ kind: 'credit_mismatch', differencePence: -208 }],
			notices: [],
		});
		expect(byId['5003']).toMatchObject({
			status: 'exception',
			stock: [],
			creditNote: null,
			exceptions: ['unmapped_disposition'],
		});
		expect(byId['5004'].exceptions).toEqual(['archived_sku']);
		expect(byId['5007']).toMatchObject({
			status: 'exception',
			creditNote: null,
			exceptions: ['order_not_found'],
		});
		expect(DEFAULT_SCENARIO.client).toBe('Demo');
	});

	it('sandbox/fixtures/demo-scenario.json is the default scenario, loadable with --scenario', () => {
		const file = path.join(FIXTURES, 'demo-scenario.json');
		expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(DEFAULT_SCENARIO_INPUT);
		expect(loadScenario(file)).toEqual(DEFAULT_SCENARIO);
	});

	it('every default return exists in the default ReBound fixture', () => {
		const ids = (
			JSON.parse(fs.readFileSync(DEFAULT_FIXTURES.rebound, 'utf8')).returns as Array<{ id: number }>
		).map((r) => String(r.id));
		expect(() => checkScenarioAgainstFixture(DEFAULT_SCENARIO, ids, 'default')).not.toThrow();
		expect(() =>
			checkScenarioAgainstFixture(
				DEFAULT_SCENARIO,
				ids.filter((i) => i !== '5004' && i !== '5006'),
				'mine.json',
			),
		).toThrow('scenario returns not in the ReBound fixture mine.json: 5004, 5006');
	});

	it.each([
		[{ returns: [] }, 'returns: Array must contain at least 1 element(s)'],
		[
			{ returns: [{ returnId: 'RB1', label: 'x', expect: { status: 'done' } }] },
			'returns.0.returnId: expected a numeric ReBound return id',
		],
		[
			{ returns: [{ returnId: 1, label: 'x', expect: { status: 'finished' } }] },
			'returns.0.expect.status',
		],
		[
			{
				returns: [
					{
						returnId: 1,
						label: 'x',
						expect: { status: 'done', creditNote: { gross: '24.13', vat: '4.02', net: '20.12' } },
					},
				],
			},
			'returns.0.expect.creditNote: gross must equal vat + net',
		],
		[
			{
				returns: [
					{
						returnId: 1,
						label: 'x',
						expect: { status: 'done', creditNote: { gross: '24.1', vat: '4.02', net: '20.08' } },
					},
				],
			},
			'returns.0.expect.creditNote.gross: expected pounds and pence like "24.13"',
		],
		[
			{
				returns: [
					{
						returnId: 1,
						label: 'x',
						expect: {
							status: 'done',
							stock: [{ sku: 'A', siteId: '1', locationId: 'A1', delta: 0 }],
						},
					},
				],
			},
			'returns.0.expect.stock.0.delta: delta 0 is not a move',
		],
		[
			{
				returns: [
					{ returnId: 1, label: 'x', expect: { status: 'exception', exceptions: ['weird'] } },
				],
			},
			'returns.0.expect.exceptions.0',
		],
		[
			{
				returns: [
					{ returnId: 1, label: 'a', expect: { status: 'done' } },
					{ returnId: '1', label: 'b', expect: { status: 'done' } },
				],
			},
			'returns.1.returnId: return 1 is listed twice',
		],
		[
			{ returns: [{ returnId: 1, label: 'x', expect: { status: 'done' }, extra: true }] },
			"returns.0: Unrecognized key(s) in object: 'extra'",
		],
		[
			creditWith([{ quantity: 1, gross: '24.13', vat: '4.02', net: '20.11' }]),
			'returns.0.expect.creditNote.lines.0.sku: a product line needs a sku (or "delivery": true)',
		],
		[
			creditWith([{ sku: 'JEANS-BLU-32', gross: '24.13', vat: '4.02', net: '20.11' }]),
			'returns.0.expect.creditNote.lines.0.quantity: a product line needs a quantity',
		],
		[
			creditWith([
				{ sku: 'JEANS-BLU-32', quantity: 1, gross: '24.13', vat: '4.02', net: '20.11' },
				{ delivery: true, sku: 'X', gross: '0.00', vat: '0.00', net: '0.00' },
			]),
			'returns.0.expect.creditNote.lines.1: the delivery line has no sku or quantity',
		],
		[
			creditWith([{ sku: 'JEANS-BLU-32', quantity: 1, gross: '24.13', vat: '4.03', net: '20.11' }]),
			'returns.0.expect.creditNote.lines.0: gross must equal vat + net',
		],
		[
			creditWith([{ sku: 'JEANS-BLU-32', quantity: 1, gross: '24.12', vat: '4.02', net: '20.10' }]),
			"returns.0.expect.creditNote.lines: the lines' gross add up to 24.12, the credit note's gross is 24.13",
		],
		[
			creditWith([
				{ sku: 'JEANS-BLU-32', quantity: 1, gross: '24.13', vat: '4.02', net: '20.11' },
				{ delivery: true, gross: '0.00', vat: '0.00', net: '0.00' },
				{ delivery: true, gross: '0.00', vat: '0.00', net: '0.00' },
			]),
			'returns.0.expect.creditNote.lines: one delivery line at most',
		],
		[
			{
				returns: [
					{
						returnId: 1,
						label: 'x',
						expect: { status: 'done', exceptions: [{ kind: 'credit_mismatch', difference: 5 }] },
					},
				],
			},
			'returns.0.expect.exceptions.0',
		],
		[
			{
				returns: [
					{
						returnId: 1,
						label: 'x',
						expect: {
							status: 'done',
							exceptions: [{ kind: 'credit_mismatch', differencePence: 2.5 }],
						},
					},
				],
			},
			'returns.0.expect.exceptions.0',
		],
		[
			{ returns: [{ returnId: 1, label: 'x', expect: { status: 'done', notices: ['weird'] } }] },
			'returns.0.expect.notices.0',
		],
	])('a bad scenario is refused naming the field: %j', (raw, message) => {
		expect(() => parseScenario(raw, 'my.json')).toThrow(`my.json is invalid: `);
		expect(() => parseScenario(raw, 'my.json')).toThrow(message);
	});

	it('defaults: stock [], no credit note, no exceptions, client Demo', () => {
		expect(
			parseScenario({ returns: [{ returnId: 42, label: 'x', expect: { status: 'done' } }] }),
		).toEqual({
			client: 'Demo',
			returns: [
				{
					returnId: '42',
					label: 'x',
					expect: { status: 'done', stock: [], creditNote: null, exceptions: [], notices: [] },
				},
			],
		});
	});
});

describe('demo --fixture', () => {
	let dir: string;
	beforeEach(() => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-demo-fixtures-'));
	});
	afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
	const write = (name: string, body: unknown) => {
		const f = path.join(dir, name);
		fs.mkdirSync(path.dirname(f), { recursive: true });
		fs.writeFileSync(f, JSON.stringify(body));
		return f;
	};

	it('tells fixtures apart by content', () => {
		expect(fixtureKind({ sites: [], products: [] })).toBe('khaos');
		expect(fixtureKind({ credentials: {}, returns: [] })).toBe('rebound');
		expect(fixtureKind({ foo: 1 })).toBeNull();
		expect(fixtureKind([])).toBeNull();
	});

	it('none given: both defaults; one file given: the other stays default', () => {
		expect(resolveFixtures([])).toEqual(DEFAULT_FIXTURES);
		const rb = write('client-returns.json', { returns: [] });
		expect(resolveFixtures([rb])).toEqual({ khaos: DEFAULT_FIXTURES.khaos, rebound: rb });
	});

	it('a folder gives its khaos*.json and rebound*.json; comma lists work', () => {
		const k = write('set/khaos-acme.json', { sites: [], products: [] });
		const r = write('set/rebound-acme.json', { returns: [] });
		write('set/notes.json', { x: 1 });
		expect(resolveFixtures([path.join(dir, 'set')])).toEqual({ khaos: k, rebound: r });
		expect(resolveFixtures([`${k},${r}`])).toEqual({ khaos: k, rebound: r });
	});

	it('refuses what it cannot use, naming the path', () => {
		const k1 = write('a.json', { sites: [], products: [] });
		const k2 = write('b.json', { sites: [], products: [] });
		const odd = write('c.json', { hello: 'world' });
		fs.writeFileSync(path.join(dir, 'broken.json'), '{nope');
		fs.mkdirSync(path.join(dir, 'empty'));
		expect(() => resolveFixtures([k1, k2])).toThrow(
			`--fixture: two khaos fixtures given (${k1} and ${k2})`,
		);
		expect(() => resolveFixtures([odd])).toThrow(
			`--fixture ${odd}: neither a Khaos fixture (sites, products) nor a ReBound fixture (returns)`,
		);
		expect(() => resolveFixtures([path.join(dir, 'broken.json')])).toThrow('not readable JSON');
		expect(() => resolveFixtures([path.join(dir, 'missing.json')])).toThrow(
			'no such file or folder',
		);
		expect(() => resolveFixtures([path.join(dir, 'empty')])).toThrow(
			'the folder has no khaos*.json or rebound*.json',
		);
	});
});

describe('docs/demo.md', () => {
	it('its scenario file example is a valid scenario', () => {
		const md = fs.readFileSync(path.resolve(__dirname, '../../../docs/demo.md'), 'utf8');
		const block = /```json\n([\s\S]*?)```/.exec(md);
		expect(block).not.toBeNull();
		const s = parseScenario(JSON.parse(block![1]), 'docs/demo.md example');
		expect(s.returns.map((r) => [r.returnId, r.grade ?? null, r.expect.creditNote])).toEqual([
			[
				'5001',
				null,
				{
					gross: 2413,
					vat: 402,
					net: 2011,
					lines: [{ sku: 'JEANS-BLU-32', quantity: 1, gross: 2413, vat: 402, net: 2011 }],
				},
			],
			['5009', { 'MUG-WHT': 'Dirty' }, { gross: 800, vat: 133, net: 667 }],
		]);
	});
});
