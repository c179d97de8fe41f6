import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadFixture } from '../../../sandbox/khaos/fixture';
import { DEFAULT_WEBHOOK_SETTINGS } from '../../../transports/rebound/webhook';
import {
	Cleanup,
	FINANCE_REVIEW_WAIT_MS,
	STANDARD_DEMO_MAPPING,
	decideReview,
	demoValues,
	prepareUserFolder,
} from '../../../scripts/demo/run';
import { DEFAULT_FIXTURES, DEFAULT_SCENARIO, parseScenario } from '../../../scripts/demo/scenario';
import { validateValues } from '../../../scripts/templates/values';

describe('demo machinery (no n8n)', () => {
	let dir: string;
	beforeEach(() => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-demo-run-'));
	});
	afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

	it('the user folder is emptied except the installed package; a folder the demo did not make is refused', () => {
		const uf = path.join(dir, 'demo-5678');
		prepareUserFolder(uf);
		fs.mkdirSync(path.join(uf, '.n8n', 'nodes', 'node_modules'), { recursive: true });
		fs.writeFileSync(path.join(uf, '.n8n', 'database.sqlite'), 'db');
		fs.writeFileSync(path.join(uf, 'n8n.log'), 'log');
		fs.writeFileSync(path.join(uf, 'package.sha256'), 'abc\n');
		prepareUserFolder(uf);
		expect(fs.readdirSync(uf).sort()).toEqual(['.n8n', '.rk-demo', 'package.sha256']);
		expect(fs.readdirSync(path.join(uf, '.n8n'))).toEqual(['nodes']);

		const foreign = path.join(dir, 'mine');
		fs.mkdirSync(foreign);
		fs.writeFileSync(path.join(foreign, 'important.txt'), 'keep me');
		expect(() => prepareUserFolder(foreign)).toThrow(
			`--user-folder ${foreign} is not empty and was not made by the demo`,
		);
		expect(fs.readFileSync(path.join(foreign, 'important.txt'), 'utf8')).toBe('keep me');
	});

	it("the demo's import values pass the import's validation: sites from the Khaos fixture, standard mapping, scenario overrides", () => {
		const khaosFixture = loadFixture(DEFAULT_FIXTURES.khaos);
		const base = {
			client: 'Demo',
			khaosUrl: 'http://127.0.0.1:8084/K',
			khaosFixture,
			reboundUrl: 'http://127.0.0.1:8085/api',
			reboundLogin: 'demo-retailer',
			signing: DEFAULT_WEBHOOK_SETTINGS,
			webhookId: 'demo-0123456789ab',
			processEverySeconds: 2,
		};
		const v = demoValues({ ...base, scenario: DEFAULT_SCENARIO });
		const checked = validateValues(v);
		expect(checked.ok).toBe(true);
		expect(v.sites.map((s) => [s.id, s.locations.map((l) => `${l.id}:${l.sellable}`)])).toEqual([
			['1', ['A1:true', 'RET:true', 'QUAR:false', 'WOFF:false']],
			['2', ['OUT1:true']],
		]);
		expect(v.mapping).toBe(STANDARD_DEMO_MAPPING);
		expect(v.finance).toMatchObject({
			batchCreditNotes: false,
			deliveryPolicy: 'whole_order',
			rounding: 'half_up',
		});
		expect(v.credentials.rebound.data).toMatchObject({
			apiKey: 'env:DEMO_REBOUND_API_KEY',
			webhookSecret: 'env:DEMO_REBOUND_WEBHOOK_SECRET',
			signatureEncoding: 'hex',
		});
		expect(JSON.stringify(v)).not.toContain('demo-api-key-0000');
		// the held credits' table, which the demo's finance step edits
		expect(v.dataTables.reviews).toEqual({ name: 'Demo credit reviews' });

		const own = parseScenario({
			client: 'Acme',
			mapping: {
				dispositions: [
					{ disposition: 'A', action: 'restock', siteId: '2', locationId: 'OUT1', sellable: true },
				],
				reasons: [],
				skuAliases: [],
			},
			finance: { deliveryPolicy: 'never' },
			returns: [{ returnId: 1, label: 'x', expect: { status: 'done' } }],
		});
		const v2 = demoValues({ ...base, client: 'Acme', scenario: own });
		expect(validateValues(v2).ok).toBe(true);
		expect(v2.mapping.dispositions).toEqual([
			{ disposition: 'A', action: 'restock', siteId: '2', locationId: 'OUT1', sellable: true },
		]);
		expect(v2.finance.deliveryPolicy).toBe('never');
	});

	it("finance's decision is the public API's row update of the return's pending review row, as finance makes it", async () => {
		const calls: Array<[string, string, unknown]> = [];
		const h = {
			api: {
				request: async (method: string, url: string, body?: unknown) => {
					calls.push([method, url, body]);
					return {};
				},
			},
			tableId: (key: string) => (key === 'reviews' ? 'tbl/rev 1' : 'other'),
		} as unknown as Parameters<typeof decideReview>[0];
		await decideReview(h, '5011', { decision: 'release', decidedBy: 'Fran (finance)' });
		await decideReview(h, '6103', { decision: 'reject', decidedBy: 'Fran', note: 'empty parcel' });
		const filter = (returnId: string) => ({
			type: 'and',
			filters: [
				{ columnName: 'returnId', condition: 'eq', value: returnId },
				{ columnName: 'status', condition: 'eq', value: 'pending' },
			],
		});
		expect(calls).toEqual([
			[
				'PATCH',
				'/data-tables/tbl%2Frev%201/rows/update',
				{
					filter: filter('5011'),
					data: { decision: 'release', decidedBy: 'Fran (finance)', note: '' },
				},
			],
			[
				'PATCH',
				'/data-tables/tbl%2Frev%201/rows/update',
				{
					filter: filter('6103'),
					data: { decision: 'reject', decidedBy: 'Fran', note: 'empty parcel' },
				},
			],
		]);
		// the finance review workflow runs every minute: one tick and its run fit in the bound
		expect(FINANCE_REVIEW_WAIT_MS).toBeGreaterThan(60_000);
		expect(FINANCE_REVIEW_WAIT_MS).toBeLessThanOrEqual(90_000);
	});

	it('cleanup runs newest first, once, and a failing step does not stop the others', async () => {
		const lines: string[] = [];
		const order: string[] = [];
		const c = new Cleanup((l) => lines.push(l));
		c.add('sandbox', () => void order.push('sandbox'));
		c.add('broken', () => {
			throw new Error('boom');
		});
		c.add('n8n', async () => void order.push('n8n'));
		await Promise.all([c.run(), c.run()]);
		await c.run();
		expect(order).toEqual(['n8n', 'sandbox']);
		expect(lines).toEqual([
			'[demo] stopped n8n',
			'[demo] stopping broken failed: boom',
			'[demo] stopped sandbox',
		]);
	});
});
