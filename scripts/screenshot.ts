/**
 * `npm run screenshot`: a PNG of an imported returns workflow as it stands in
 * n8n's editor, taken with headless Chromium over the DevTools protocol
 * (docs/demo.md). Reuses a running `npm run demo` on --port (it leaves
 * demo-session.json in its user folder) or starts its own demo stack on free
 * ports (without driving returns) and stops it afterwards. Not part of CI.
 *
 *   npm run screenshot -- [--workflow processor|intake] [--out docs/images/returns-flow.png] [--port 5678] [--no-build]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchChromium } from './demo/cdp';
import { Cleanup, defaultUserFolder, startDemo } from './demo/run';
import { DEFAULT_FIXTURES, DEFAULT_SCENARIO } from './demo/scenario';
import { freePort } from './n8n/instance';
import { ensureRuntime } from './n8n/runtime';

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const REPO = path.resolve(__dirname, '..');

const WORKFLOW_FILES: Record<string, string> = {
	processor: 'returns-processor',
	intake: 'returns-intake',
};

interface Args {
	workflow: 'processor' | 'intake';
	out: string;
	port: number;
	skipBuild: boolean;
	width: number;
	height: number;
}

function parseArgs(argv: string[]): Args {
	const a: Args = {
		workflow: 'processor',
		out: '',
		port: 5678,
		skipBuild: false,
		width: 1600,
		height: 900,
	};
	for (let i = 0; i < argv.length; i++) {
		const v = () => {
			const x = argv[++i];
			if (x === undefined) throw new Error(`${argv[i - 1]} needs a value`);
			return x;
		};
		switch (argv[i]) {
			case '--workflow': {
				const w = v();
				if (w !== 'processor' && w !== 'intake')
					throw new Error('--workflow is processor or intake');
				a.workflow = w;
				break;
			}
			case '--out':
				a.out = path.resolve(v());
				break;
			case '--port':
				a.port = Number(v());
				if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535)
					throw new Error('--port needs a port number');
				break;
			case '--no-build':
				a.skipBuild = true;
				break;
			default:
				throw new Error(`unknown option ${argv[i]}`);
		}
	}
	if (!a.out)
		a.out = path.join(
			REPO,
			'docs',
			'images',
			a.workflow === 'processor' ? 'returns-flow.png' : 'returns-intake.png',
		);
	return a;
}

/** The session a running `npm run demo` left in its user folder, if n8n still answers there. */
async function runningDemo(port: number): Promise<{
	baseUrl: string;
	email: string;
	password: string;
	workflows: Array<{ file: string; id: string | null }>;
} | null> {
	const file = path.join(defaultUserFolder(port), 'demo-session.json');
	if (!fs.existsSync(file)) return null;
	const s = JSON.parse(fs.readFileSync(file, 'utf8'));
	try {
		const res = await fetch(`${s.baseUrl}/healthz/readiness`, {
			signal: AbortSignal.timeout(2_000),
		});
		return res.ok ? s : null;
	} catch {
		return null;
	}
}

async function login(
	baseUrl: string,
	email: string,
	password: string,
): Promise<{ cookie: string; browserId: string }> {
	const browserId = `rk-shot-${randomBytes(8).toString('hex')}`;
	const res = await fetch(`${baseUrl}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'browser-id': browserId },
		body: JSON.stringify({ emailOrLdapLoginId: email, password }),
		signal: AbortSignal.timeout(15_000),
	});
	if (!res.ok) throw new Error(`POST /rest/login → HTTP ${res.status}`);
	const cookie = res.headers
		.getSetCookie()
		.map((c) => c.split(';')[0])
		.find((c) => c.startsWith('n8n-auth='));
	if (!cookie) throw new Error('POST /rest/login returned no n8n-auth cookie');
	return { cookie, browserId };
}

async function capture(opts: {
	baseUrl: string;
	workflowId: string;
	cookie: string;
	browserId: string;
	out: string;
	width: number;
	height: number;
}): Promise<void> {
	const browser = await launchChromium({ width: opts.width, height: opts.height, log });
	try {
		const { send, evaluate } = browser;
		await send('Page.enable');
		await send('Network.enable');
		await send('Emulation.setDeviceMetricsOverride', {
			width: opts.width,
			height: opts.height,
			deviceScaleFactor: 1,
			mobile: false,
		});
		const host = new URL(opts.baseUrl);
		await send('Network.setCookie', {
			name: 'n8n-auth',
			value: opts.cookie.replace(/^n8n-auth=/, ''),
			domain: host.hostname,
			path: '/',
			httpOnly: true,
			secure: false,
		});
		// n8n binds the session to the browser id the login sent; the editor reads it from localStorage
		await send('Page.addScriptToEvaluateOnNewDocument', {
			source: `try { localStorage.setItem('n8n-browserId', ${JSON.stringify(opts.browserId)}); } catch (e) {}`,
		});
		const url = `${opts.baseUrl}/workflow/${encodeURIComponent(opts.workflowId)}`;
		log(`[screenshot] opening ${url}`);
		await send('Page.navigate', { url });

		// bounded wait: the canvas shows the workflow's nodes and stops changing
		const deadline = Date.now() + 90_000;
		let last = -1;
		let stable = 0;
		for (;;) {
			const state = await evaluate<{ nodes: number; path: string }>(
				`({ nodes: document.querySelectorAll('[data-test-id="canvas-node"], .vue-flow__node').length, path: location.pathname })`,
			).catch(() => ({ nodes: 0, path: '' }));
			if (state.path.startsWith('/signin'))
				throw new Error('the editor asked for a sign-in: the session cookie was not accepted');
			if (state.nodes > 0 && state.nodes === last) stable++;
			else stable = 0;
			last = state.nodes;
			if (stable >= 4) break;
			if (Date.now() > deadline)
				throw new Error(
					`the canvas did not render in time (nodes seen: ${state.nodes}, page ${state.path})`,
				);
			await sleep(500);
		}
		log(`[screenshot] canvas shows ${last} node(s)`);
		// close toasts / popovers that may cover the canvas, let the fit-view animation finish
		await evaluate(
			`document.querySelectorAll('.el-notification__closeBtn, [data-test-id="toast-close-button"]').forEach((b) => b.click())`,
		).catch(() => undefined);
		await sleep(1_500);
		const shot = await send('Page.captureScreenshot', {
			format: 'png',
			captureBeyondViewport: false,
		});
		fs.mkdirSync(path.dirname(opts.out), { recursive: true });
		fs.writeFileSync(opts.out, Buffer.from(shot.data as string, 'base64'));
		log(
			`[screenshot] wrote ${path.relative(process.cwd(), opts.out)} (${fs.statSync(opts.out).size} bytes)`,
		);
	} finally {
		await browser.close();
	}
}

async function main(): Promise<number> {
	const args = parseArgs(process.argv.slice(2));
	// Chromium is driven over the global WebSocket: Node 22+. Re-run under the demo runtime's Node 24 if needed.
	if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function') {
		const runtime = await ensureRuntime({ log });
		log(`[screenshot] re-running under Node 24 (${runtime.nodeBin}) for its WebSocket`);
		const child = spawn(
			runtime.nodeBin,
			[
				'-r',
				require.resolve('ts-node/register/transpile-only'),
				__filename,
				...process.argv.slice(2),
			],
			{ stdio: 'inherit' },
		);
		const forward = (sig: NodeJS.Signals) => child.kill(sig);
		process.on('SIGINT', forward);
		process.on('SIGTERM', forward);
		return new Promise((resolve) =>
			child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
		);
	}

	const reuse = await runningDemo(args.port);
	if (reuse) {
		log(`[screenshot] using the running demo at ${reuse.baseUrl}`);
		const id = reuse.workflows.find((w) => w.file === WORKFLOW_FILES[args.workflow])?.id;
		if (!id) throw new Error(`the running demo has no ${WORKFLOW_FILES[args.workflow]} workflow`);
		const session = await login(reuse.baseUrl, reuse.email, reuse.password);
		await capture({
			baseUrl: reuse.baseUrl,
			workflowId: id,
			...session,
			out: args.out,
			width: args.width,
			height: args.height,
		});
		return 0;
	}

	const cleanup = new Cleanup(log);
	const stop = () => void cleanup.run().then(() => process.exit(130));
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	try {
		const port = await freePort();
		log(
			`[screenshot] no demo running on ${args.port}; starting one on port ${port} (user folder ${defaultUserFolder(port)})`,
		);
		// registered first, so it runs last: after n8n has stopped
		cleanup.add('the screenshot user folder', () =>
			fs.rmSync(defaultUserFolder(port), { recursive: true, force: true }),
		);
		const handle = await startDemo({
			port,
			khaosPort: await freePort(),
			reboundPort: await freePort(),
			fixtures: DEFAULT_FIXTURES,
			scenario: DEFAULT_SCENARIO,
			skipBuild: args.skipBuild,
			processEverySeconds: 60,
			log,
			cleanup,
		});
		await capture({
			baseUrl: handle.n8n.baseUrl,
			workflowId: handle.workflowId(WORKFLOW_FILES[args.workflow]),
			cookie: handle.owner.cookie,
			browserId: handle.owner.browserId,
			out: args.out,
			width: args.width,
			height: args.height,
		});
		return 0;
	} finally {
		await cleanup.run();
	}
}

main().then(
	(code) => process.exit(code),
	(e: unknown) => {
		log(`screenshot FAILED: ${e instanceof Error ? e.message : String(e)}`);
		process.exit(1);
	},
);
