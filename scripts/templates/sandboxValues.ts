/**
 * Import values for a client whose Khaos Control and ReBound are the local
 * sandboxes: what the demo, the end-to-end tests, the soak and the benchmark
 * import. The sites and the standard demo mapping come from
 * values.example.json (the one place they are written down); this adds the
 * sandbox URLs, the sandbox's demo credentials and fast schedules.
 *
 * The ReBound API key and webhook secret are read by the import from the
 * environment variables named here ("env:NAME"), so they never sit in a
 * values file; `sandboxImportEnv()` gives those variables for the default
 * sandbox fixture.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The default ReBound sandbox fixture's demo credentials (sandbox/fixtures/rebound-default.json; not secrets). */
export const SANDBOX_REBOUND = {
	login: 'demo-retailer',
	apiKey: 'demo-api-key-0000',
	webhookSecret: 'demo-webhook-secret-0000',
} as const;

export const EXAMPLE_VALUES_FILE = path.join(__dirname, 'values.example.json');

export interface SandboxClientOptions {
	client: string;
	khaosUrl: string;
	reboundUrl: string;
	/** Webhook path id of the intake's ReBound Trigger (mode webhook). */
	webhookId: string;
	trigger?: 'webhook' | 'poll';
	pollEveryMinutes?: number;
	processEverySeconds?: number;
	batchSize?: number;
	staleAfterMinutes?: number;
	maxTransientAttempts?: number;
	reconciliationCron?: string;
	batchCreditNotes?: boolean;
	/** Extra Khaos credential fields (auth mode, user, password as "env:NAME", timeouts …). */
	khaos?: Record<string, unknown>;
	/** Environment variable names the import reads the ReBound API key and webhook secret from. */
	reboundApiKeyEnv?: string;
	reboundSecretEnv?: string;
}

type Json = Record<string, any>;

/** values.example.json, parsed: the one place the sites and the standard demo mapping are written down. */
export function exampleValues(): Json {
	return JSON.parse(fs.readFileSync(EXAMPLE_VALUES_FILE, 'utf8')) as Json;
}

/** The values file content (see values.ts ValuesSchema) for a sandbox-backed client. */
export function sandboxClientValues(o: SandboxClientOptions): Json {
	const example = exampleValues();
	const c = o.client;
	return {
		client: c,
		timezone: example.timezone,
		credentials: {
			khaos: {
				name: `Khaos sandbox (${c})`,
				data: {
					url: o.khaosUrl,
					authMode: 'none',
					soapVersion: '1.1',
					namespace: 'urn:KosWeb-IKosWeb',
					soapActionStyle: 'namespaceHash',
					defaultSiteId: '1',
					timeoutSeconds: 30,
					maxAttempts: 3,
					batchSize: 50,
					...(o.khaos ?? {}),
				},
			},
			rebound: {
				name: `ReBound sandbox (${c})`,
				data: {
					login: SANDBOX_REBOUND.login,
					apiKey: `env:${o.reboundApiKeyEnv ?? 'SANDBOX_REBOUND_API_KEY'}`,
					baseUrl: o.reboundUrl,
					webhookSecret: `env:${o.reboundSecretEnv ?? 'SANDBOX_REBOUND_WEBHOOK_SECRET'}`,
				},
			},
		},
		dataTables: {
			inbox: { name: `${c} inbox` },
			exceptions: { name: `${c} exceptions` },
			dispositions: { name: `${c} disposition map` },
			reasons: { name: `${c} reason map` },
			skuAliases: { name: `${c} sku aliases` },
			reviews: { name: `${c} credit reviews` },
			credits: { name: `${c} recorded credits` },
			events: { name: `${c} return events` },
		},
		sites: example.sites,
		mapping: example.mapping,
		trigger: {
			mode: o.trigger ?? 'webhook',
			webhookId: o.webhookId,
			pollEveryMinutes: o.pollEveryMinutes ?? 60,
		},
		schedules: {
			processEverySeconds: o.processEverySeconds ?? 5,
			reconciliationCron: o.reconciliationCron ?? example.schedules.reconciliationCron,
			replayEveryMinutes: null,
			...(o.batchCreditNotes ? { creditPostingCron: example.schedules.creditPostingCron } : {}),
		},
		processing: {
			...example.processing,
			batchSize: o.batchSize ?? 20,
			staleAfterMinutes: o.staleAfterMinutes ?? example.processing.staleAfterMinutes,
			maxTransientAttempts: o.maxTransientAttempts ?? 3,
			// the e2e tests and the demo read the runs' data (the product default is not to keep it)
			keepSuccessfulExecutions: true,
		},
		finance: { ...example.finance, batchCreditNotes: o.batchCreditNotes ?? false },
		reconciliation: example.reconciliation,
		alerts: {},
	};
}

/** The environment the import needs for sandboxClientValues() with the default variable names. */
export function sandboxImportEnv(
	n8nApiKey: string,
	n8nApiKeyEnv = 'SANDBOX_N8N_API_KEY',
): Record<string, string> {
	return {
		[n8nApiKeyEnv]: n8nApiKey,
		SANDBOX_REBOUND_API_KEY: SANDBOX_REBOUND.apiKey,
		SANDBOX_REBOUND_WEBHOOK_SECRET: SANDBOX_REBOUND.webhookSecret,
	};
}
