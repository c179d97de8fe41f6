/**
 * One poison record in a batch of 50, through the processor's three Khaos steps (Validate SKUs →
 * Apply Stock Moves → Create Credit Note) as the template chains them: 49 returns are moved and
 * credited in the same run, the culprit is one exception naming its field (or quoting Khaos), and
 * no step throws (a thrown step would leave the whole claimed batch `processing`).
 */
import type { IDataObject } from 'n8n-workflow';
import { TransportError } from '../../../transports/http';
import { KhaosFault } from '../../../transports/khaos/faults';
import { XML_ILLEGAL } from '../badInput/corpus';
import { FakeKhaosApi, demoOrders, mappedReturn } from '../../helpers/khaosFakes';
import { runKhaosNode } from '../../helpers/khaosNode';
import type { MockParam } from '../../helpers/mockExecuteContext';

afterEach(() => jest.restoreAllMocks());

const step = (fake: FakeKhaosApi, params: Record<string, MockParam>, items: IDataObject[]) =>
	runKhaosNode(fake, params, items);

type Ret = ReturnType<typeof mappedReturn> & Record<string, unknown>;

async function runBatch(poison: (r: Ret) => void, fake = new FakeKhaosApi()) {
	fake.orders = Array.from({ length: 50 }, (_, i) => ({
		...demoOrders()[0],
		associatedRef: `WEB-P${i}`,
		orderCode: `SO9${i}`,
	}));
	const batch = Array.from(
		{ length: 50 },
		(_, i) =>
			mappedReturn(`P${i}`, `WEB-P${i}`, [
				{ sku: 'TSHIRT-RED-M' },
				{ sku: 'JEANS-BLU-32', action: 'quarantine' },
			]) as Ret,
	);
	poison(batch[17]);
	const [valid, ex1] = await step(
		fake,
		{ resource: 'product', operation: 'validateSkus', mappingType: 1 },
		batch as unknown as IDataObject[],
	);
	const [moved, ex2] = await step(
		fake,
		{ resource: 'stock', operation: 'applyReturnMoves' },
		valid.map((v) => v.json),
	);
	const [created, ex3] = await step(
		fake,
		{ resource: 'creditNote', operation: 'createFromReturn' },
		moved.map((v) => v.json),
	);
	const exceptions = [...ex1, ...ex2, ...ex3].map((e) => e.json);
	return { fake, created, exceptions };
}

function expect49(
	result: Awaited<ReturnType<typeof runBatch>>,
	kind: string,
	field: string | null,
) {
	expect(result.created.map((c) => c.json.returnId)).toEqual(
		Array.from({ length: 50 }, (_, i) => `P${i}`).filter((id) => id !== 'P17'),
	);
	expect(result.fake.appliedAdjustments).toHaveLength(98);
	expect(result.exceptions).toHaveLength(1);
	expect(result.exceptions[0]).toMatchObject({ kind, ...(field === null ? {} : { field }) });
}

const set = (path: string, value: string) => (r: Ret) => {
	const parts = path.split('.');
	let o: Record<string, unknown> = r;
	for (const p of parts.slice(0, -1))
		o = (/^\d+$/.test(p) ? (o as unknown as unknown[])[Number(p)] : o[p]) as Record<
			string,
			unknown
		>;
	o[parts[parts.length - 1]] = value;
};

describe('one poison record in a batch of 50: 49 applied, 1 exception, nothing thrown', () => {
	test.each([
		['a comma in the SKU', 'lines.0.sku', 'TSHIRT,RED', 'lines[0].sku'],
		[
			'a comma in the Khaos stock code (SKU alias)',
			'lines.0.mapping.khaosSku',
			'TSHIRT-RED-M,JEANS-BLU-32',
			'lines[0].mapping.khaosSku',
		],
		['a comma in the order reference', 'orderReference', 'WEB-P17,WEB-P18', 'orderReference'],
		[
			'an over-long return id (RB-<id> exceeds Khaos 50 characters)',
			'returnId',
			'P'.repeat(48),
			'returnId',
		],
		['an over-long order reference', 'orderReference', 'W'.repeat(51), 'orderReference'],
		['an over-long display id', 'displayId', 'D'.repeat(256), 'displayId'],
	])('%s', async (_label, path, value, field) => {
		expect49(await runBatch(set(path, value)), 'invalid_payload', field);
	});

	const fields: Array<[string, string]> = [
		['returnId', 'returnId'],
		['displayId', 'displayId'],
		['orderReference', 'orderReference'],
		['customer.name', 'customer.name'],
		['lines.0.sku', 'lines[0].sku'],
		['lines.0.description', 'lines[0].description'],
		['lines.0.disposition', 'lines[0].disposition'],
		['lines.0.reasons.0.reason', 'lines[0].reasons[0].reason'],
		['lines.0.mapping.khaosSku', 'lines[0].mapping.khaosSku'],
		['lines.0.mapping.locationId', 'lines[0].mapping.locationId'],
		['lines.0.mapping.reasonId', 'lines[0].mapping.reasonId'],
	];
	const cases = fields.flatMap(([path, field]) =>
		XML_ILLEGAL.map((bad) => [`${bad.why} in ${field}`, path, `X${bad.ch}Y`, field] as const),
	);
	test.each(cases)('%s', async (_label, path, value, field) => {
		expect49(await runBatch(set(path, value)), 'invalid_payload', field);
	});

	test.each([
		[
			'a login refused (SOAP fault)',
			() => new KhaosFault('ExportStock', 'Login failed for user', { code: 'auth_failed' }),
		],
		[
			'an unknown method',
			() =>
				new KhaosFault('ExportStock', 'Method ExportStock not implemented', {
					code: 'unknown_method',
				}),
		],
		[
			'an answer that is not SOAP (a wrong URL)',
			() =>
				new TransportError('Khaos ExportStock: unexpected HTTP 200 without a SOAP response', {
					kind: 'protocol',
					retryable: false,
					status: 200,
				}),
		],
		[
			'credentials refused (HTTP 401)',
			() =>
				new TransportError('Khaos ExportStock: HTTP 401, credentials refused', {
					kind: 'auth',
					retryable: false,
					status: 401,
				}),
		],
	])(
		"%s is nobody's record: one call, not split, the node fails (the processor retries the rows later)",
		async (_label, error) => {
			const fake = new FakeKhaosApi().fail('getProducts', error());
			await expect(runBatch(() => undefined, fake)).rejects.toThrow();
			expect(fake.calls.getProducts).toBe(1);
		},
	);

	test('Khaos refuses every call that carries one return (a strict Khaos): only that return fails, quoting Khaos', async () => {
		const fake = new FakeKhaosApi();
		fake.refuseMentioning.add('RB-P17-');
		const result = await runBatch(() => undefined, fake);
		expect49(result, 'khaos_rejected', null);
		expect(result.exceptions[0]).toMatchObject({
			returnId: 'P17',
			owner: 'tech',
			code: 'invalid_request',
		});
		expect(String(result.exceptions[0].message)).toContain('Request refused');
	});
});
