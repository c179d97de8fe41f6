import * as fs from 'node:fs';
import {
	EXAMPLE_VALUES_FILE,
	SANDBOX_REBOUND,
	sandboxClientValues,
	sandboxImportEnv,
} from '../../scripts/templates/sandboxValues';
import { validateValues } from '../../scripts/templates/values';

describe('sandbox client values (demo, e2e, soak, bench)', () => {
	const base = {
		client: 'Sandbox Co',
		khaosUrl: 'http://127.0.0.1:1/soap',
		reboundUrl: 'http://127.0.0.1:2',
		webhookId: 'sandbox-hook-1',
	};

	it('validate as an import values file and take sites and mapping from values.example.json', () => {
		const v = sandboxClientValues(base);
		const res = validateValues(v);
		expect(res.ok ? [] : res.problems).toEqual([]);
		const example = JSON.parse(fs.readFileSync(EXAMPLE_VALUES_FILE, 'utf8'));
		expect(v.mapping).toEqual(example.mapping);
		expect(v.sites).toEqual(example.sites);
		expect(
			v.mapping.dispositions.find((d: { disposition: string }) => d.disposition === 'Grade B'),
		).toMatchObject({ action: 'restock', siteId: '1', locationId: 'RET' });
	});

	it('carry the options and never a secret in the file: the ReBound key and secret are env references', () => {
		const v = sandboxClientValues({
			...base,
			trigger: 'poll',
			pollEveryMinutes: 1,
			processEverySeconds: 6,
			batchSize: 7,
			staleAfterMinutes: 1,
			batchCreditNotes: true,
			reboundSecretEnv: 'MY_SECRET',
			khaos: { authMode: 'basic', user: 'u', password: 'env:KPW' },
		});
		expect(validateValues(v).ok).toBe(true);
		expect(v.trigger).toEqual({ mode: 'poll', webhookId: 'sandbox-hook-1', pollEveryMinutes: 1 });
		expect([
			v.schedules.processEverySeconds,
			v.processing.batchSize,
			v.processing.staleAfterMinutes,
			v.finance.batchCreditNotes,
		]).toEqual([6, 7, 1, true]);
		expect(v.schedules.creditPostingCron).toMatch(/\S+ \S+ \S+ \S+ \S+/);
		expect(v.credentials.rebound.data).toMatchObject({
			apiKey: 'env:SANDBOX_REBOUND_API_KEY',
			webhookSecret: 'env:MY_SECRET',
		});
		expect(v.credentials.khaos.data).toMatchObject({
			url: base.khaosUrl,
			authMode: 'basic',
			password: 'env:KPW',
		});
		const text = JSON.stringify(v);
		expect(text).not.toContain(SANDBOX_REBOUND.apiKey);
		expect(text).not.toContain(SANDBOX_REBOUND.webhookSecret);
		expect(sandboxImportEnv('k')).toEqual({
			SANDBOX_N8N_API_KEY: 'k',
			SANDBOX_REBOUND_API_KEY: SANDBOX_REBOUND.apiKey,
			SANDBOX_REBOUND_WEBHOOK_SECRET: SANDBOX_REBOUND.webhookSecret,
		});
	});
});
