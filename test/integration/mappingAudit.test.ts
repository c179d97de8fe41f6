/**
 * The mapping audit over real SOAP and the ReBound legacy API: the sandboxes on their default
 * fixtures (the demo client), the use case the Khaos Control › Mapping › Audit operation runs
 * (scripts/demo/mappingAudit.ts wires it to the transports as the node does).
 */
import { runDemoAudit } from '../../scripts/demo/mappingAudit';
import { exampleValues, SANDBOX_REBOUND } from '../../scripts/templates/sandboxValues';
import { startKhaosSandbox, type KhaosSandbox } from '../../sandbox/khaos/server';
import { startReboundSandbox, type ReboundSandbox } from '../../sandbox/rebound/server';

let khaos: KhaosSandbox;
let rebound: ReboundSandbox;

beforeAll(async () => {
	khaos = await startKhaosSandbox({ port: 0 });
	rebound = await startReboundSandbox({ port: 0 });
});
afterAll(async () => {
	await khaos.close();
	await rebound.close();
});

const run = (mapping: { dispositions: unknown[]; reasons: unknown[] }) =>
	runDemoAudit({
		khaosUrl: khaos.url,
		reboundUrl: rebound.url,
		reboundLogin: SANDBOX_REBOUND.login,
		reboundApiKey: SANDBOX_REBOUND.apiKey,
		...mapping,
		days: 30,
		title: 'Mapping audit Demo Retail',
	});

describe('mapping audit against the sandboxes (SOAP GetSiteList, GetLocationList, GetReturnReasonList; ReBound search/get)', () => {
	it('the demo client: every row right in Khaos; Mystery Grade and Not as described seen without a row, with counts', async () => {
		const a = await run(exampleValues().mapping);
		expect(a.rows).toEqual([]);
		expect(a.khaos).toEqual({ sites: 2, locations: 4, reasons: 4 });
		expect(
			a.unmapped.map((u) => [u.kind, u.code, u.count, u.returnCount, u.firstReturnId]),
		).toEqual([
			['disposition', 'Mystery Grade', 1, 1, '5003'],
			['reason', 'Not as described', 1, 1, '5006'],
		]);
		expect(a.counts.returns).toBe(12);
		expect(a.seen.find((s) => s.code === 'Grade A')).toMatchObject({
			kind: 'disposition',
			count: 7,
			row: 1,
		});
		expect(a.markdown).toContain('| disposition | Mystery Grade | 1 | 1 | 5003 |');
	});

	it('wrong rows against the real Khaos answers: each with the row and the fix', async () => {
		const a = await run({
			dispositions: [
				{
					disposition: 'Grade A',
					action: 'restock',
					siteId: '1',
					locationId: 'QUAR',
					sellable: false,
				},
				{ disposition: 'Damaged', action: 'quarantine', siteId: '1', locationId: 'RET' },
				{
					disposition: 'Grade B',
					action: 'restock',
					siteId: '3',
					locationId: 'A1',
					sellable: true,
				},
				{
					disposition: 'Like New',
					action: 'restock',
					siteId: '2',
					locationId: 'SHELF',
					sellable: true,
				},
			],
			reasons: [{ reason: '*', reasonId: 'SIZE' }],
		});
		expect(a.rows.map((r) => [r.row, r.problem, r.fix])).toEqual([
			[1, 'restock_not_sellable', expect.stringContaining('A1 (Pick face A1), RET (Returns bay)')],
			[2, 'held_on_sellable', expect.stringContaining('QUAR (Quarantine), WOFF (Write-off)')],
			[
				3,
				'site_missing',
				'Set siteId to the Khaos site this grade goes to: 1 (Main Warehouse), 2 (Outlet).',
			],
			[
				4,
				'location_missing',
				'Set locationId to a sellable location of site 2: OUT1 (Outlet floor).',
			],
			[1, 'reason_missing', 'Set reasonId to "2" (the ID of Khaos\' reason SIZE).'],
		]);
		expect(a.ok).toBe(false);
	});
});
