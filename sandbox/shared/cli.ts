/** What both sandbox command lines share: flags, port/seed parsing, clean stop on signals. */

export function cliArg(name: string): string | undefined {
	const i = process.argv.indexOf(`--${name}`);
	if (i >= 0) return process.argv[i + 1];
	const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
	return eq?.slice(name.length + 3);
}

/** `--port` (default given), `--seed` and `--fixture`, validated. */
export function sandboxCliOptions(defaultPort: number): {
	port: number;
	seed: number | undefined;
	fixture: string | undefined;
} {
	const port = cliArg('port') !== undefined ? Number(cliArg('port')) : defaultPort;
	const seed = cliArg('seed') !== undefined ? Number(cliArg('seed')) : undefined;
	if (!Number.isInteger(port) || port < 0 || port > 65535)
		throw new Error(`--port must be a port number, got ${cliArg('port')}`);
	if (seed !== undefined && !Number.isFinite(seed))
		throw new Error(`--seed must be a number, got ${cliArg('seed')}`);
	return { port, seed, fixture: cliArg('fixture') };
}

/** Close the sandbox once on SIGINT/SIGTERM, then exit 0. */
export function stopOnSignals(label: string, close: () => Promise<void>): void {
	let stopping = false;
	const stop = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`${signal}: stopping ${label}`);
		void close().then(() => process.exit(0));
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

/** Run a CLI's main; a failure prints its message and exits 1. */
export function runCli(main: () => Promise<void>): void {
	main().catch((error: unknown) => {
		console.error(error instanceof Error ? error.message : String(error));
		process.exit(1);
	});
}
