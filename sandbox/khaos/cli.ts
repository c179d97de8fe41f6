/**
 * npm run sandbox:khaos -- --port 8084 --fixture sandbox/fixtures/khaos-default.json [--seed 42]
 * Prints the KhaosKSD.exe URL and the admin URL; stops cleanly on SIGINT/SIGTERM.
 */
import { startKhaosSandbox } from './server';

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(`--${name}`);
	if (i >= 0) return process.argv[i + 1];
	const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
	return eq?.slice(name.length + 3);
}

async function main(): Promise<void> {
	const port = arg('port') !== undefined ? Number(arg('port')) : 8084;
	const seed = arg('seed') !== undefined ? Number(arg('seed')) : undefined;
	if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${arg('port')}`);
	const sandbox = await startKhaosSandbox({ port, fixture: arg('fixture'), seed });
	console.log(`Khaos Control sandbox listening`);
	console.log(`  SOAP (KhaosKSD.exe): ${sandbox.url}`);
	console.log(`  WSDL:                ${sandbox.url}/wsdl/IKosWeb`);
	console.log(`  admin:               ${sandbox.adminUrl}/state`);
	let stopping = false;
	const stop = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`${signal}: stopping Khaos sandbox`);
		void sandbox.close().then(() => process.exit(0));
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
	console.error(error instanceof Error ? error.message : String(error));
	process.exit(1);
});
