/**
 * Thin CLI over the real-n8n harness (docs/e2e.md).
 *
 *   ts-node --transpile-only scripts/n8n/cli.ts ensure            install/check the cached runtime
 *   ts-node --transpile-only scripts/n8n/cli.ts where             print the runtime paths (no install)
 *   ts-node --transpile-only scripts/n8n/cli.ts start [--port N] [--no-build] [--keep]
 *        install the package into a fresh user folder, start n8n, create the owner
 *        and an API key, print the base URL; Ctrl-C stops n8n (and removes the
 *        folder unless --keep). The API key is written to <userFolder>/api-key
 *        (mode 0600), never printed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PINNED_N8N_VERSION, defaultCacheDir, ensureRuntime, runtimeRoot } from './runtime';
import { createApiKey, freePort, setupOwner, startN8n } from './instance';
import { installPackage } from './package';

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(name);
	return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
	const cmd = process.argv[2] ?? 'ensure';
	const log = (l: string) => console.log(l);
	if (cmd === 'ensure') {
		const t0 = Date.now();
		const rt = await ensureRuntime({ n8nVersion: arg('--version'), log });
		console.log(
			`[runtime] ok in ${((Date.now() - t0) / 1000).toFixed(1)} s: node ${rt.nodeBin}, n8n ${rt.n8nBin}`,
		);
		return;
	}
	if (cmd === 'where') {
		console.log(runtimeRoot(arg('--version') ?? PINNED_N8N_VERSION, defaultCacheDir()));
		return;
	}
	if (cmd === 'start') {
		const runtime = await ensureRuntime({ log });
		const keep = process.argv.includes('--keep');
		const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-n8n-'));
		const installed = await installPackage(userFolder, {
			skipBuild: process.argv.includes('--no-build'),
			log,
		});
		fs.rmSync(path.dirname(installed.tarball), { recursive: true, force: true });
		const port = arg('--port') ? Number(arg('--port')) : await freePort();
		const n8n = await startN8n({ runtime, userFolder, port, log });
		const owner = await setupOwner(n8n.baseUrl);
		const api = await createApiKey(n8n.baseUrl, owner);
		const keyFile = path.join(userFolder, 'api-key');
		fs.writeFileSync(keyFile, api.apiKey, { mode: 0o600 });
		fs.writeFileSync(
			path.join(userFolder, 'owner.json'),
			JSON.stringify({ email: owner.email, password: owner.password }),
			{ mode: 0o600 },
		);
		console.log(
			`n8n ready at ${n8n.baseUrl} (user folder ${userFolder}; API key in ${keyFile}, owner login in owner.json)`,
		);
		const shutdown = async () => {
			await n8n.stop();
			if (!keep) fs.rmSync(userFolder, { recursive: true, force: true });
			process.exit(0);
		};
		process.on('SIGINT', () => void shutdown());
		process.on('SIGTERM', () => void shutdown());
		return;
	}
	throw new Error(`unknown command ${cmd} (ensure | where | start)`);
}

main().catch((e: unknown) => {
	console.error(e instanceof Error ? e.message : e);
	process.exit(1);
});
