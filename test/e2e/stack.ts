/**
 * What every flow e2e file sets up and tears down: the n8n runtime, the packed
 * package installed into a fresh user folder, n8n started with an owner and an
 * API key; the template import for one client; and the teardown of n8n, the
 * sandboxes and the temporary folders.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
	createApiKey,
	freePort,
	setupOwner,
	type ApiClient,
	type N8nInstance,
	type Owner,
} from '../../scripts/n8n/instance';
import { startTopology, topologyFromEnv, type TopologyOptions } from '../../scripts/n8n/topology';
import { installPackage, type InstalledPackage } from '../../scripts/n8n/package';
import { ensureRuntime, type Runtime } from '../../scripts/n8n/runtime';
import { WORKFLOWS_DIR } from '../../scripts/templates/build';
import { runImport, type ImportReport } from '../../scripts/templates/import';

export interface Stack {
	runtime: Runtime;
	userFolder: string;
	installed: InstalledPackage;
	/** The deployment (one process unless asked; a Topology): its main process's API, webhook URL, stop and restart. */
	n8n: N8nInstance;
	api: ApiClient;
	/** The owner's session (REST calls the public API lacks, e.g. running a workflow by hand). */
	owner: Owner;
}

/**
 * Runtime, package (E2E_SKIP_BUILD=1 packs the current dist/), n8n, owner and API key; timings
 * recorded into `timings`. `topology` (default: E2E_TOPOLOGY, else one process on SQLite) chooses
 * the deployment (scripts/n8n/topology.ts); `n8n` is then the whole topology (its main process's
 * API, its webhook base URL, stop and restart of every process).
 */
export async function startStack(
	folderPrefix: string,
	log: (line: string) => void,
	timings: Record<string, number>,
	topology: TopologyOptions = topologyFromEnv(),
): Promise<Stack> {
	let t = Date.now();
	const runtime = await ensureRuntime({ log });
	timings.ensureRuntimeMs = Date.now() - t;
	const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), folderPrefix));
	t = Date.now();
	const installed = await installPackage(userFolder, {
		skipBuild: process.env.E2E_SKIP_BUILD === '1',
		log,
	});
	timings.installPackageMs = Date.now() - t;
	t = Date.now();
	const n8n = await startTopology({
		topology,
		runtime,
		userFolder,
		tarball: installed.tarball,
		port: await freePort(),
		log,
	});
	timings.startToReadyMs = Date.now() - t;
	const owner = await setupOwner(n8n.baseUrl);
	const api = await createApiKey(n8n.baseUrl, owner);
	return { runtime, userFolder, installed, n8n, api, owner };
}

/** Writes the client's values file into the user folder and imports the templates; `env` holds the variables its "env:NAME" values name. */
export async function importClient(
	stack: { n8n: N8nInstance; api: ApiClient; userFolder: string },
	client: string,
	values: unknown,
	env: Record<string, string>,
): Promise<{ report: ImportReport; importLog: string[] }> {
	const valuesFile = path.join(stack.userFolder, 'values.json');
	fs.writeFileSync(valuesFile, JSON.stringify(values));
	const importLog: string[] = [];
	const report = await runImport(
		{
			client,
			valuesFile,
			n8nUrl: stack.n8n.baseUrl,
			apiKeyEnv: 'E2E_N8N_API_KEY',
			dryRun: false,
			templatesDir: WORKFLOWS_DIR,
		},
		{ env: { E2E_N8N_API_KEY: stack.api.apiKey, ...env }, log: (line) => importLog.push(line) },
	);
	return { report, importLog };
}

/** Stops n8n (after `beforeStop`, e.g. a timings line), closes the sandboxes and removes the temporary folders; each part only if it was started. */
export async function stopStack(
	parts: {
		n8n?: N8nInstance;
		sandboxes?: Array<{ close(): Promise<void> } | undefined>;
		userFolder?: string;
		installed?: InstalledPackage;
	},
	beforeStop?: (n8n: N8nInstance) => void,
): Promise<void> {
	try {
		if (parts.n8n) {
			beforeStop?.(parts.n8n);
			await parts.n8n.stop();
		}
	} finally {
		for (const s of parts.sandboxes ?? []) if (s) await s.close();
		if (parts.userFolder) fs.rmSync(parts.userFolder, { recursive: true, force: true });
		if (parts.installed)
			fs.rmSync(path.dirname(parts.installed.tarball), { recursive: true, force: true });
	}
}
