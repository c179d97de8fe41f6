/**
 * npm run sandbox:khaos -- --port 8084 --fixture sandbox/fixtures/khaos-default.json [--seed 42]
 * Prints the KhaosKSD.exe URL and the admin URL; stops cleanly on SIGINT/SIGTERM.
 */
import { runCli, sandboxCliOptions, stopOnSignals } from '../shared/cli';
import { startKhaosSandbox } from './server';

runCli(async () => {
	const sandbox = await startKhaosSandbox(sandboxCliOptions(8084));
	console.log(`Khaos Control sandbox listening`);
	console.log(`  SOAP (KhaosKSD.exe): ${sandbox.url}`);
	console.log(`  WSDL:                ${sandbox.url}/wsdl/IKosWeb`);
	console.log(`  admin:               ${sandbox.adminUrl}/state`);
	stopOnSignals('Khaos sandbox', () => sandbox.close());
});
