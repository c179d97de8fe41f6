import {
	NodeApiError,
	NodeHelpers,
	NodeOperationError,
	Workflow,
	type IDataObject,
	type INode,
	type INodeTypes,
} from 'n8n-workflow';
import { KhaosControl } from '../../../nodes/KhaosControl/KhaosControl.node';
import * as transport from '../../../nodes/KhaosControl/transport';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import { FakeKhaosApi, KHAOS_TEST_CREDENTIALS } from '../../helpers/khaosFakes';
import { mockExecuteContext, type MockParam } from '../../helpers/mockExecuteContext';

afterEach(() => jest.restoreAllMocks());

const DISPOSITIONS = [
	{
		id: 1,
		disposition: 'Grade A',
		action: 'restock',
		siteId: '1',
		locationId: 'A1',
		sellable: true,
	},
	{
		id: 2,
		disposition: 'Damaged',
		action: 'quarantine',
		siteId: '1',
		locationId: 'A1',
		sellable: false,
	},
];
const REASONS = [{ id: 1, reason: 'Too small', reasonId: '2', matchOn: 'reason' }];

function returnItem(returnId: string, disposition: string, reason: string): IDataObject {
	return {
		schemaVersion: 1,
		source: 'rebound-api',
		returnId,
		orderReference: 'WEB-1001',
		event: {
			id: `api:${returnId}`,
			type: 'return.fetched',
			occurredAt: '2026-11-27T10:00:00Z',
			sequence: 1,
		},
		lines: [
			{
				sku: 'TSHIRT-RED-M',
				lineId: `${returnId}:1`,
				quantity: 1,
				disposition,
				reasons: [{ reason, action: 'Refund', wish: '' }],
			},
		],
	};
}

async function run(
	params: Record<string, MockParam>,
	items: IDataObject[],
	opts: { fake?: FakeKhaosApi; continueOnFail?: boolean } = {},
) {
	const fake = opts.fake ?? new FakeKhaosApi();
	jest.spyOn(transport, 'createKhaosApi').mockReturnValue(fake);
	const ctx = mockExecuteContext({
		items,
		params: { resource: 'mapping', operation: 'audit', options: {}, ...params },
		continueOnFail: opts.continueOnFail,
		credentials: { khaosControlApi: { ...KHAOS_TEST_CREDENTIALS } },
	});
	return { out: await new KhaosControl().execute.call(ctx), fake };
}

describe('Khaos Control › Mapping › Audit', () => {
	test('description: a Mapping resource with Audit, outputs Report and Exceptions', () => {
		const d = new KhaosControl().description;
		const resource = d.properties.find((p) => p.name === 'resource');
		expect(resource?.options).toEqual(
			expect.arrayContaining([{ name: 'Mapping', value: 'mapping' }]),
		);
		const nodeTypes = {
			getByName: () => ({ description: d }),
			getByNameAndVersion: () => ({ description: d }),
			getKnownTypes: () => ({}),
		} as unknown as INodeTypes;
		const node: INode = {
			id: '1',
			name: 'Audit',
			type: 'khaosControl',
			typeVersion: 1,
			position: [0, 0],
			parameters: { resource: 'mapping', operation: 'audit' },
		};
		const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
		expect(
			NodeHelpers.getNodeOutputs(workflow, node, d).map((o) =>
				typeof o === 'string' ? o : o.displayName,
			),
		).toEqual(['Report', 'Exceptions']);
	});

	test('rows (JSON text, as the template passes them) and the returns of the window → one report, one exception per finding', async () => {
		const { out, fake } = await run(
			{
				dispositionsJson: JSON.stringify(DISPOSITIONS),
				reasonsJson: JSON.stringify(REASONS),
				options: { days: 14, title: 'Mapping audit Demo' },
			},
			[
				returnItem('5001', 'Grade A', 'Too small'),
				returnItem('5003', 'Mystery Grade', 'Too small'),
				returnItem('5004', 'Mystery Grade', 'Not as described'),
			],
		);
		const [report, exceptions] = out;
		expect(report).toHaveLength(1);
		const r = report[0].json;
		expect(r).toMatchObject({ title: 'Mapping audit Demo', days: 14, ok: false });
		expect(r.subject).toBe('Mapping audit Demo: 3 to fix');
		expect(String(r.markdown)).toContain('| Disposition table row 2 | Damaged |');
		expect(String(r.html)).toContain('<table');
		expect(report[0].pairedItem).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(exceptions.map((e) => [e.json.kind, e.json.key])).toEqual([
			['mapping_row_wrong', 'mapping_row_wrong|-|dispositions:damaged|held_on_sellable'],
			['unmapped_code_seen', 'unmapped_code_seen|-|disposition|mystery grade'],
			['unmapped_code_seen', 'unmapped_code_seen|-|reason|not as described'],
		]);
		expect(exceptions.every((e) => e.json.owner === 'ops' && e.json.exception === true)).toBe(true);
		expect(fake.calls).toMatchObject({ getSites: 1, getLocations: 1, getReturnReasons: 1 });
	});

	test('runs on an empty input (a search that found nothing): the rows are still audited', async () => {
		const { out } = await run({ dispositionsJson: DISPOSITIONS, reasonsJson: REASONS }, []);
		expect(out[0]).toHaveLength(1);
		expect(out[0][0].json.counts).toMatchObject({ returns: 0, dispositionRows: 2, reasonRows: 1 });
		expect(out[1]).toHaveLength(1);
	});

	test('a table that is not JSON is a finding naming the table, never a node failure', async () => {
		const { out } = await run(
			{ dispositionsJson: '[{"disposition": "Grade A",', reasonsJson: '[]' },
			[],
		);
		expect(out[0][0].json.rows).toEqual([
			expect.objectContaining({
				table: 'dispositions',
				row: 0,
				problem: 'row_invalid',
				message: expect.stringContaining('Disposition table: is not valid JSON'),
			}),
		]);
	});

	test('Khaos not answering fails the node with a readable error (no stack), or one error item with Continue On Fail', async () => {
		const failure = () =>
			new TransientExhaustedError(
				'Khaos GetSiteList',
				3,
				900,
				new TransportError('Khaos GetSiteList: HTTP 503', {
					kind: 'http',
					retryable: true,
					status: 503,
				}),
			);
		let error: unknown;
		try {
			await run({ dispositionsJson: DISPOSITIONS, reasonsJson: REASONS }, [], {
				fake: new FakeKhaosApi().fail('getSites', failure()),
			});
		} catch (e) {
			error = e;
		}
		expect(error instanceof NodeApiError || error instanceof NodeOperationError).toBe(true);
		expect((error as Error).message).toContain('GetSiteList');
		const { out } = await run({ dispositionsJson: DISPOSITIONS, reasonsJson: REASONS }, [], {
			fake: new FakeKhaosApi().fail('getSites', failure()),
			continueOnFail: true,
		});
		expect(out[0]).toHaveLength(1);
		expect(String(out[0][0].json.error)).toContain('GetSiteList');
		expect(JSON.stringify(out[0][0].json)).not.toMatch(/\n\s+at /);
		expect(out[1]).toEqual([]);
	});
});
