/**
 * npm run sandbox:rebound -- --port 8085 --fixture sandbox/fixtures/rebound-default.json [--seed 42] [--webhook http://127.0.0.1:5678/webhook/...]
 * Prints the API base URL and the admin URL; stops cleanly on SIGINT/SIGTERM.
 */
import { cliArg, runCli, sandboxCliOptions, stopOnSignals } from '../shared/cli';
import { startReboundSandbox } from './server';

runCli(async () => {
	const sandbox = await startReboundSandbox(sandboxCliOptions(8085));
	const webhook = cliArg('webhook');
	if (webhook) sandbox.webhooks.register(webhook);
	console.log(`ReBound sandbox listening`);
	console.log(`  legacy API (base URL): ${sandbox.url}`);
	console.log(`  admin:                 ${sandbox.adminUrl}/state`);
	if (webhook) console.log(`  webhook target:        ${webhook}`);
	stopOnSignals('ReBound sandbox', () => sandbox.close());
});
