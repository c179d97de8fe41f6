import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadFixture } from '../../sandbox/rebound/state';
import { startReboundSandbox } from '../../sandbox/rebound/server';

const ROOT = path.join(__dirname, '..', '..');

describe('ReBound sandbox fixture and CLI', () => {
	it('rejects an invalid fixture naming the field', () => {
		const base = loadFixture();
		const bad = JSON.parse(JSON.stringify(base));
		bad.returns[2].item[0].price = 'eight pounds';
		expect(() => loadFixture(bad)).toThrow(/returns\.2\.item\.0\.price/);
		const ungraded = JSON.parse(JSON.stringify(base));
		ungraded.returns[0].item[0].final_disposition = null;
		expect(() => loadFixture(ungraded)).toThrow(
			/returns\.0\.item\.0\.final_disposition: status graded needs/,
		);
		expect(() => loadFixture({ returns: [] })).toThrow(/credentials/);
	});

	it('the default fixture holds no real-looking secrets and agrees with the demo data', () => {
		const f = loadFixture();
		expect(f.credentials.apiKey).toMatch(/^demo-/);
		expect(f.webhook.secret).toMatch(/^demo-/);
		expect(f.returns.map((r) => r.order_reference).sort()).toEqual([
			'WEB-1001',
			'WEB-1001',
			'WEB-1001',
			'WEB-1002',
			'WEB-1002',
			'WEB-1002',
			'WEB-1003',
			'WEB-1004',
			'WEB-1005',
			// the demo's credit-policy returns, on orders of their own: 5011 (a held Missing item), 5012 (an exchange)
			'WEB-1006',
			'WEB-1007',
			'WEB-9999',
		]);
		expect(f.returns.filter((r) => r.status === 'in_transit')).toHaveLength(2);
		expect(f.returns.map((r) => r.item[0].final_disposition)).toContain('Mystery Grade');
		// every return reports a refund (MODELED refund_total); only 5010's differs from the computed credit
		expect(f.returns.filter((r) => r.refund_total === null)).toEqual([]);
	});

	it('relative dates count whole UTC days back from now', async () => {
		const sb = await startReboundSandbox({
			port: 0,
			now: () => Date.parse('2026-03-01T01:00:00Z'),
		});
		try {
			expect(sb.state.get(5001).date_added).toBe('2026-02-26 09:15:00');
			expect(sb.state.get(5008).date_added).toBe('2026-03-01 00:30:00');
		} finally {
			await sb.close();
		}
	});

	it('npm run sandbox:rebound serves the API and stops cleanly on SIGTERM', async () => {
		const child = spawn(
			process.execPath,
			[
				require.resolve('ts-node/dist/bin.js'),
				'--transpile-only',
				'sandbox/rebound/cli.ts',
				'--port',
				'0',
				'--seed',
				'3',
			],
			{ cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
		);
		let out = '';
		child.stdout.on('data', (c: Buffer) => (out += c.toString()));
		child.stderr.on('data', (c: Buffer) => (out += c.toString()));
		const exited = new Promise<number | null>((resolve) =>
			child.on('exit', (code) => resolve(code)),
		);
		try {
			const deadline = Date.now() + 30_000;
			while (!/legacy API \(base URL\): (\S+)/.test(out) && Date.now() < deadline)
				await new Promise((r) => setTimeout(r, 100));
			const base = /legacy API \(base URL\): (\S+)/.exec(out)?.[1];
			expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
			const res = await fetch(`${base}/returns/search/json`, {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams({
					login: 'demo-retailer',
					api_key: 'demo-api-key-0000',
					request: JSON.stringify({ filter: { date_from: '2000/01/01', date_to: '2100/01/01' } }),
				}).toString(),
			});
			// every return of the default fixture: 5001–5012
			expect(((await res.json()) as any).success.id).toHaveLength(12);
			child.kill('SIGTERM');
			expect(await exited).toBe(0);
			expect(out).toContain('SIGTERM: stopping ReBound sandbox');
		} finally {
			if (child.exitCode === null) child.kill('SIGKILL');
		}
	}, 45_000);
});
