/**
 * What the template flow e2e files (returnsFlow, poison, badInput) share on top of ./stack.ts:
 * n8n with the package, the Khaos and ReBound sandboxes in this process on 127.0.0.1 and one
 * client's templates imported; then the look-ups into the import report, a Data Table's rows, a
 * signed delivery to the intake webhook, and the teardown with the timings line.
 */
import { postWebhook, type ApiClient, type N8nInstance } from '../../scripts/n8n/instance';
import type { InstalledPackage } from '../../scripts/n8n/package';
import type { Runtime } from '../../scripts/n8n/runtime';
import type { TopologyOptions } from '../../scripts/n8n/topology';
import type { ImportReport } from '../../scripts/templates/import';
import {
	startKhaosSandbox,
	type KhaosSandbox,
	type KhaosSandboxOptions,
} from '../../sandbox/khaos/server';
import {
	startReboundSandbox,
	type ReboundSandbox,
	type ReboundSandboxOptions,
} from '../../sandbox/rebound/server';
import { DEFAULT_WEBHOOK_SETTINGS, signWebhookBody } from '../../transports/rebound/webhook';
import { importClient, startStack, stopStack } from './stack';

/** A Data Table row as n8n's public API returns it. */
export type Row = Record<string, any>;

export interface FlowStack {
	runtime: Runtime;
	userFolder: string;
	installed: InstalledPackage;
	n8n: N8nInstance;
	api: ApiClient;
	khaos: KhaosSandbox;
	rebound: ReboundSandbox;
	report: ImportReport;
	importLog: string[];
	/** The intake webhook's path: `<webhookId>/rebound`. */
	webhookPath: string;
}

/** What every flow file's client values share (scripts/templates/sandboxValues.ts options). */
export interface FlowClientBase {
	client: string;
	webhookId: string;
	khaosUrl: string;
	reboundUrl: string;
	/** The environment variables the ReBound credential's API key and webhook secret are read from. */
	reboundApiKeyEnv: string;
	reboundSecretEnv: string;
}

export interface FlowStackOptions {
	/** Prefix of the temporary user folder, e.g. `rk-e2e-flow-`. */
	folderPrefix: string;
	/** Khaos sandbox options (port 0 unless given). */
	khaos?: KhaosSandboxOptions;
	/** ReBound sandbox options (port 0 unless given). */
	rebound?: ReboundSandboxOptions;
	client: string;
	webhookId: string;
	/** The ReBound credential's API key and webhook secret (given to the import as environment variables). */
	reboundApiKey: string;
	reboundWebhookSecret: string;
	/** The client's values, made from the shared part once the sandboxes' URLs are known. */
	values: (base: FlowClientBase) => unknown;
	/** The deployment (default: E2E_TOPOLOGY, else one process on SQLite). */
	topology?: TopologyOptions;
	/** Further environment variables that the values' "env:NAME" entries name. */
	env?: Record<string, string>;
	log: (line: string) => void;
	/** Filled with the stack's timings (stack.ts's and `importMs`). */
	timings: Record<string, number>;
}

/** Starts n8n, the sandboxes and the import; when a step fails, stops what was started and throws. */
export async function startFlowStack(options: FlowStackOptions): Promise<FlowStack> {
	const stack = await startStack(
		options.folderPrefix,
		options.log,
		options.timings,
		options.topology,
	);
	let khaos: KhaosSandbox | undefined;
	let rebound: ReboundSandbox | undefined;
	try {
		khaos = await startKhaosSandbox({ port: 0, ...options.khaos });
		rebound = await startReboundSandbox({ port: 0, ...options.rebound });
		const t = Date.now();
		const { client, webhookId } = options;
		const values = options.values({
			client,
			webhookId,
			khaosUrl: khaos.url,
			reboundUrl: rebound.url,
			reboundApiKeyEnv: 'E2E_REBOUND_API_KEY',
			reboundSecretEnv: 'E2E_REBOUND_WEBHOOK_SECRET',
		});
		const { report, importLog } = await importClient(stack, client, values, {
			E2E_REBOUND_API_KEY: options.reboundApiKey,
			E2E_REBOUND_WEBHOOK_SECRET: options.reboundWebhookSecret,
			...options.env,
		});
		options.timings.importMs = Date.now() - t;
		const webhookPath = `${options.webhookId}/rebound`;
		return { ...stack, khaos, rebound, report, importLog, webhookPath };
	} catch (error) {
		await stopStack({ ...stack, sandboxes: [khaos, rebound] });
		throw error;
	}
}

/** Stops n8n (after the timings and memory line), the sandboxes and `others`, and removes the folders. */
export async function stopFlowStack(
	parts: Partial<Pick<FlowStack, 'n8n' | 'khaos' | 'rebound' | 'userFolder' | 'installed'>>,
	others: Array<{ close(): Promise<void> } | undefined>,
	label: string,
	log: (line: string) => void,
	timings: Record<string, number>,
): Promise<void> {
	const { n8n, khaos, rebound, userFolder, installed } = parts;
	await stopStack({ n8n, sandboxes: [khaos, rebound, ...others], userFolder, installed }, (n) => {
		const rss = n.rssKb();
		log(
			`[e2e ${label}] timings ${JSON.stringify(timings)}; n8n RSS main ${(rss.main / 1024).toFixed(0)} MB, group ${(rss.group / 1024).toFixed(0)} MB`,
		);
	});
}

/**
 * Look-ups on the live stack (`current` is read at each call, so an n8n restarted by the test is
 * the one used): Data Table and workflow ids from the import report, a table's first 250 rows,
 * and a ReBound event POSTed to the intake webhook signed with `secret`, as ReBound signs it.
 */
export function flowLookups(
	current: () => Pick<FlowStack, 'report' | 'api' | 'n8n' | 'webhookPath'>,
	secret: string,
) {
	const tableId = (key: string) => current().report.tables.find((t) => t.key === key)?.id as string;
	const workflowId = (file: string) =>
		current().report.workflows.find((w) => w.file === file)?.id as string;
	const rows = async (key: string): Promise<Row[]> => {
		const res = await current().api.request(
			'GET',
			`/data-tables/${encodeURIComponent(tableId(key))}/rows?limit=250`,
		);
		return (res?.data ?? []) as Row[];
	};
	const deliver = (event: unknown) => {
		const { n8n, webhookPath } = current();
		const body = JSON.stringify(event);
		const headers = signWebhookBody(body, secret, Date.now() / 1000, DEFAULT_WEBHOOK_SETTINGS);
		return postWebhook(n8n.webhookBaseUrl, webhookPath, event, { headers });
	};
	return { tableId, workflowId, rows, deliver };
}
