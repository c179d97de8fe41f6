/**
 * npm run sandbox:rebound -- --port 8085 --fixture sandbox/fixtures/rebound-default.json [--seed 42] [--webhook http://127.0.0.1:5678/webhook/...]
 * Prints the API base URL and the admin URL; stops cleanly on SIGINT/SIGTERM.
 */
import { startReboundSandbox } from './server';

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(`--${name}`);
	if (i >= 0) return process.argv[i + 1];
	const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
	return eq?.slice(name.length + 3);
}

async function main(): Promise<void> {
	const port = arg('port') !== undefined ? Number(arg('port')) : 8085;
	const seed = arg('seed') !== undefined ? Number(arg('seed')) : undefined;
	if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${arg('port')}`);
	if (seed !== undefined && !Number.isFinite(seed)) throw new Error(`--seed must be a number, got ${arg('seed')}`);
	const sandbox = await startReboundSandbox({ port, fixture: arg('fixture'), seed });
	const webhook = arg('webhook');
	if (webhook) sandbox.webhooks.register(webhook);
	console.log(`ReBound sandbox listening`);
	console.log(`  legacy API (base URL): ${sandbox.url}`);
	console.log(`  admin:                 ${sandbox.adminUrl}/state`);
	if (webhook) console.log(`  webhook target:        ${webhook}`);
	let stopping = false;
	const stop = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`${signal}: stopping ReBound sandbox`);
		void sandbox.close().then(() => process.exit(0));
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
	console.error(error instanceof Error ? error.message : String(error));
	process.exit(1);
});
