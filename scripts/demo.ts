/**
 * `npm run demo`: the whole returns sync on this machine, on 127.0.0.1 only
 * (docs/demo.md). Node 24 + n8n 2.40.7 from the cache outside the clone, this
 * package packed and installed into n8n's nodes folder, both sandboxes, the
 * templates imported for client "Demo" and active, a handful of signed ReBound
 * events through the intake webhook, then a summary (stock moved, credit notes,
 * exceptions, the editor URL and login). Stays up until Ctrl+C; `--once`
 * prints the summary and exits 0 only when every return ended as expected.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEMO_USAGE, parseDemoArgs, type DemoOptions } from './demo/args';
import { Cleanup, driveScenario, startDemo } from './demo/run';
import { DEFAULT_SCENARIO, loadScenario, resolveFixtures } from './demo/scenario';
import { renderSummary } from './demo/summary';

async function main(): Promise<number> {
	let options: DemoOptions;
	try {
		options = parseDemoArgs(process.argv.slice(2));
	} catch (e) {
		process.stderr.write(`demo: ${(e as Error).message}\n\n${DEMO_USAGE}`);
		return 2;
	}
	if (options.help) {
		process.stdout.write(DEMO_USAGE);
		return 0;
	}
	// with --json, stdout carries only the summary document
	const log = (line: string) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
	const cleanup = new Cleanup(log);
	let signalled = false;
	const onSignal = (signal: NodeJS.Signals) => {
		if (signalled) return;
		signalled = true;
		log(`\n[demo] ${signal}: stopping everything the demo started …`);
		void cleanup.run().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);

	const t0 = Date.now();
	try {
		const scenario = options.scenario ? loadScenario(options.scenario) : DEFAULT_SCENARIO;
		const fixtures = resolveFixtures(options.fixtures);
		log(
			`[demo] fixtures: Khaos ${fixtures.khaos}, ReBound ${fixtures.rebound}; scenario: ${options.scenario ?? 'built-in default'} (${scenario.returns.length} returns)`,
		);
		const handle = await startDemo({
			port: options.port,
			khaosPort: options.khaosPort,
			reboundPort: options.reboundPort,
			fixtures,
			scenario,
			skipBuild: options.skipBuild,
			processEverySeconds: options.processEverySeconds,
			userFolder: options.userFolder,
			topology: options.topology,
			log,
			cleanup,
		});
		handle.timings.readyMs = Date.now() - t0;
		// for `npm run screenshot` (reuses a running demo); removed when the demo stops
		const sessionFile = path.join(handle.userFolder, 'demo-session.json');
		fs.writeFileSync(
			sessionFile,
			JSON.stringify({
				baseUrl: handle.n8n.baseUrl,
				email: handle.owner.email,
				password: handle.owner.password,
				workflows: handle.report.workflows.map((w) => ({ file: w.file, id: w.id })),
			}),
			{ mode: 0o600 },
		);
		cleanup.add('the demo session file', () => fs.rmSync(sessionFile, { force: true }));
		const summary = await driveScenario(handle, scenario, {
			waitSeconds: options.waitSeconds,
			log,
		});
		handle.timings.totalMs = Date.now() - t0;
		summary.editor = {
			url: `${handle.n8n.baseUrl}/`,
			email: handle.owner.email,
			password: handle.owner.password,
			workflows: handle.workflowLinks(),
		};
		summary.userFolder = handle.userFolder;
		summary.timings = handle.timings;

		if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
		else process.stdout.write(`\n${renderSummary(summary)}\n\n`);
		log(
			`[demo] ready in ${(handle.timings.readyMs / 1000).toFixed(0)} s, returns processed in ${((handle.timings.processMs ?? 0) / 1000).toFixed(1)} s`,
		);

		if (options.once || options.exitAfterSummary) {
			await cleanup.run();
			return summary.ok ? 0 : 1;
		}
		log(
			`[demo] running; open ${handle.n8n.baseUrl}/ and log in as above. Ctrl+C stops n8n and both sandboxes.`,
		);
		// stay up until a signal; notice n8n dying under us
		for (;;) {
			await new Promise((r) => setTimeout(r, 2_000));
			if (signalled) return 0;
			if (handle.n8n.exited()) {
				log(
					'[demo] n8n exited on its own; stopping the sandboxes. Its log is in the user folder (n8n.log).',
				);
				await cleanup.run();
				return 1;
			}
		}
	} catch (e) {
		log(`[demo] FAILED: ${(e as Error).message}`);
		await cleanup.run();
		return 1;
	}
}

main().then(
	(code) => process.exit(code),
	(e: unknown) => {
		process.stderr.write(`demo: ${e instanceof Error ? e.stack : String(e)}\n`);
		process.exit(1);
	},
);
