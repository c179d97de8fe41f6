/**
 * `npm run screenshot`: the editor pictures of the docs (docs/images/), taken
 * from the imported workflow templates as they stand in n8n's editor, with
 * headless Chromium over the DevTools protocol (docs/demo.md, "The editor
 * screenshot"). Without options it retakes every picture the docs use
 * (scripts/demo/pictures.ts DOC_PICTURES). Each PNG is stamped with the
 * template it shows and that template's digest, which
 * test/unit/screenshotFreshness.test.ts checks against what
 * scripts/templates/build.ts generates.
 *
 * Reuses a running `npm run demo` on --port (it leaves demo-session.json in
 * its user folder) when that demo imported the same templates, or starts its
 * own demo stack on free ports (without driving returns) and stops it
 * afterwards. Not part of CI.
 *
 *   npm run screenshot                                   # every docs picture
 *   npm run screenshot -- --workflow intake --out docs/images/returns-intake.png [--port 5678] [--no-build]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findChromium, launchChromium, type Browser } from './demo/cdp';
import {
	REPO_ROOT,
	canonical,
	committedTemplate,
	generatedTemplate,
	parseScreenshotArgs,
	readStamp,
	stampPicture,
	templateDigest,
} from './demo/pictures';
import { Cleanup, defaultUserFolder, startDemo } from './demo/run';
import { DEFAULT_FIXTURES, DEFAULT_SCENARIO } from './demo/scenario';
import { freePort } from './n8n/instance';
import { ensureRuntime } from './n8n/runtime';

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The page in CSS pixels and the device scale: a 4800 × 2700 PNG. The processor's canvas is
 * about 5900 × 3100 units, so the whole of it fits at about 0.39 and its sticky notes' text
 * comes out about 11 pixels high: readable at full size.
 */
const VIEW = { width: 2400, height: 1350, scale: 2 };

interface Target {
	template: string;
	/** Repository-relative (or absolute) path of the PNG. */
	picture: string;
	/** templateDigest of workflows/<template>.json, the file the demo imports. */
	digest: string;
	/** The template's parsed JSON, to check a running demo's copy against and count its nodes. */
	json: TemplateShape;
}

interface TemplateShape {
	nodes: Array<{
		name: string;
		type: string;
		position: [number, number];
		parameters: Record<string, unknown>;
	}>;
	connections: Record<string, unknown>;
}

interface Session {
	baseUrl: string;
	email: string;
	password: string;
	cookie: string;
	browserId: string;
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

/** A template string with `{{PLACEHOLDER}}`s as a pattern the filled-in value must match. */
function filledPattern(template: string): RegExp {
	const parts = template.split(/\{\{[A-Z0-9_]+\}\}/);
	return new RegExp(
		`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?')}$`,
	);
}

/**
 * Why a running demo's copy of a workflow differs from the template (a demo started before
 * the template changed), or null: node names, types and positions, connections, and the
 * sticky notes' text and size, with placeholders matching whatever the import filled in.
 */
async function staleImport(session: Session, id: string, target: Target): Promise<string | null> {
	const res = await fetch(`${session.baseUrl}/rest/workflows/${encodeURIComponent(id)}`, {
		headers: { cookie: session.cookie, 'browser-id': session.browserId },
		signal: AbortSignal.timeout(15_000),
	});
	if (!res.ok) return `GET /rest/workflows/${id} → HTTP ${res.status}`;
	const live = ((await res.json()) as { data: TemplateShape }).data;
	if (live.nodes.length !== target.json.nodes.length)
		return `${live.nodes.length} nodes, the template has ${target.json.nodes.length}`;
	for (const node of target.json.nodes) {
		const other = live.nodes.find((n) => n.name === node.name);
		if (!other) return `no node ${node.name}`;
		if (other.type !== node.type || other.position.join() !== node.position.join())
			return `node ${node.name} differs (type or position)`;
		if (node.type === 'n8n-nodes-base.stickyNote') {
			const p = node.parameters;
			const q = other.parameters;
			if (p.width !== q.width || p.height !== q.height || p.color !== q.color)
				return `sticky ${node.name} differs in size or colour`;
			if (!filledPattern(String(p.content)).test(String(q.content)))
				return `sticky ${node.name} has other text`;
		}
	}
	if (canonical(live.connections) !== canonical(target.json.connections))
		return 'the connections differ';
	return null;
}

// ------------------------------------------------------------------ in the page

/** Wait for the canvas: the template's node count reached and steady, fonts and icons loaded. */
async function waitForCanvas(
	browser: Browser,
	expectedNodes: number,
	session: Session,
	url: string,
): Promise<void> {
	const deadline = Date.now() + 90_000;
	let last = -1;
	let stable = 0;
	let signedIn = false;
	for (;;) {
		const state = await browser
			.evaluate<{ nodes: number; path: string; ready: boolean }>(
				`({ nodes: document.querySelectorAll('.vue-flow__node').length, path: location.pathname,
				   ready: document.readyState === 'complete' && document.fonts.status === 'loaded' && [...document.images].every((i) => i.complete) })`,
			)
			.catch(() => ({ nodes: 0, path: '', ready: false }));
		if (state.path.startsWith('/signin')) {
			// the session cookie was not taken: sign in through the form once, then open the workflow again
			if (signedIn) throw new Error('the editor asked for a sign-in again after signing in');
			log('[screenshot] the editor shows its sign-in page; signing in with the demo owner');
			await signInThroughForm(browser, session);
			signedIn = true;
			await browser.send('Page.navigate', { url });
			last = -1;
			stable = 0;
			continue;
		}
		if (state.nodes > 0 && state.nodes === last && state.ready) stable++;
		else stable = 0;
		last = state.nodes;
		if (stable >= 3 && state.nodes === expectedNodes) break;
		if (Date.now() > deadline)
			throw new Error(
				`the canvas did not render in time (nodes seen: ${state.nodes} of ${expectedNodes}, page ${state.path})`,
			);
		await sleep(500);
	}
	log(`[screenshot] canvas shows ${last} node(s)`);
}

async function signInThroughForm(browser: Browser, session: Session): Promise<void> {
	const deadline = Date.now() + 20_000;
	while (
		!(await browser
			.evaluate<boolean>(`!!document.querySelector('input[name="emailOrLdapLoginId"]')`)
			.catch(() => false))
	) {
		if (Date.now() > deadline) throw new Error('the sign-in page shows no e-mail field');
		await sleep(250);
	}
	for (const [name, value] of [
		['emailOrLdapLoginId', session.email],
		['password', session.password],
	]) {
		await browser.evaluate(
			`(() => { const i = document.querySelector('input[name="${name}"]'); i.focus(); i.select(); })()`,
		);
		await browser.send('Input.insertText', { text: value });
	}
	await browser.evaluate(
		`document.querySelector('[data-test-id="form-submit-button"], button[type="submit"]').click()`,
	);
	while (
		(await browser.evaluate<string>('location.pathname').catch(() => '/signin')).startsWith(
			'/signin',
		)
	) {
		if (Date.now() > deadline) throw new Error('signing in through the editor form did not work');
		await sleep(250);
	}
}

/**
 * Closes what may cover the canvas and fits the whole workflow into it. Modals, drawers
 * (what's new, the NPS survey), toasts and popovers: Escape first, then hidden. The canvas
 * overlays (zoom buttons, minimap, execute button, the node-adding buttons) and the logs
 * panel are hidden too. n8n's zoom-to-fit leaves wide margins, so the canvas transform is
 * then set to fit the nodes' bounding box into the free canvas area (below the
 * Editor / Executions tabs) with a small margin.
 */
const FIT_CANVAS = `(async () => {
	const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
	const style = document.createElement('style');
	style.textContent = [
		'.el-overlay, .el-overlay-dialog, .el-notification, .el-message, .el-popper, .el-drawer',
		'[data-test-id="logs-panel"], [data-test-id="canvas-controls"], [data-test-id="canvas-minimap"]',
		'[data-test-id="ask-assistant-floating-button"], .vue-flow__panel',
	].join(', ') + ' { display: none !important; }';
	document.head.appendChild(style);
	const wrapper = document.querySelector('[data-test-id="canvas-wrapper"]');
	if (wrapper)
		for (const child of wrapper.children)
			if (!child.matches('.vue-flow') && !child.querySelector('.vue-flow')) child.style.visibility = 'hidden';
	document.querySelector('[data-test-id="zoom-to-fit"]')?.click();
	await sleep(1000);
	const pane = document.querySelector('.vue-flow__transformationpane');
	const flow = document.querySelector('.vue-flow');
	const m = pane && /translate\\(([-\\d.e]+)px, ([-\\d.e]+)px\\) scale\\(([-\\d.e]+)\\)/.exec(pane.style.transform);
	if (!m || !flow) return { fitted: false, transform: pane ? pane.style.transform : null };
	const [tx, ty, k] = [Number(m[1]), Number(m[2]), Number(m[3])];
	const box = flow.getBoundingClientRect();
	let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
	for (const n of document.querySelectorAll('.vue-flow__node')) {
		const r = n.getBoundingClientRect();
		x0 = Math.min(x0, r.left); y0 = Math.min(y0, r.top); x1 = Math.max(x1, r.right); y1 = Math.max(y1, r.bottom);
	}
	const margin = 24;
	let top = box.top + margin;
	const tabs = document.querySelector('[data-test-id="radio-button-workflow"]')?.parentElement?.getBoundingClientRect();
	if (tabs && tabs.bottom > box.top && tabs.top < box.top + 200) top = Math.max(top, tabs.bottom + 12);
	const area = { left: box.left + margin, top, width: box.width - 2 * margin, height: box.bottom - margin - top };
	// the bounds in flow units
	const fx0 = (x0 - box.left - tx) / k, fy0 = (y0 - box.top - ty) / k;
	const fw = (x1 - x0) / k, fh = (y1 - y0) / k;
	const z = Math.min(area.width / fw, area.height / fh);
	const ntx = area.left - box.left + (area.width - fw * z) / 2 - fx0 * z;
	const nty = area.top - box.top + (area.height - fh * z) / 2 - fy0 * z;
	pane.style.transform = 'translate(' + ntx + 'px, ' + nty + 'px) scale(' + z + ')';
	await sleep(500);
	return { fitted: true, zoom: z, transform: pane.style.transform };
})()`;

async function capture(session: Session, targets: Array<Target & { workflowId: string }>) {
	const browser = await launchChromium({ width: VIEW.width, height: VIEW.height, log });
	try {
		const { send, evaluate } = browser;
		await send('Page.enable');
		await send('Network.enable');
		await send('Emulation.setDeviceMetricsOverride', {
			width: VIEW.width,
			height: VIEW.height,
			deviceScaleFactor: VIEW.scale,
			mobile: false,
		});
		await send('Network.setCookie', {
			name: 'n8n-auth',
			value: session.cookie.replace(/^n8n-auth=/, ''),
			domain: new URL(session.baseUrl).hostname,
			path: '/',
			httpOnly: true,
			secure: false,
		});
		// n8n binds the session to the browser id the login sent; the editor reads it from localStorage
		await send('Page.addScriptToEvaluateOnNewDocument', {
			source: `try { localStorage.setItem('n8n-browserId', ${JSON.stringify(session.browserId)}); } catch (e) {}`,
		});
		for (const target of targets) {
			const url = `${session.baseUrl}/workflow/${encodeURIComponent(target.workflowId)}`;
			log(`[screenshot] opening ${url} (${target.template})`);
			await send('Page.navigate', { url });
			await waitForCanvas(browser, target.json.nodes.length, session, url);
			await send('Input.dispatchKeyEvent', { type: 'keyDown', key: 'Escape', code: 'Escape' });
			await send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Escape', code: 'Escape' });
			const fit = await evaluate<{ fitted: boolean; zoom?: number; transform: string | null }>(
				FIT_CANVAS,
			);
			log(
				fit.fitted
					? `[screenshot] fitted the canvas at zoom ${fit.zoom?.toFixed(3)}`
					: `[screenshot] kept n8n's zoom-to-fit (canvas transform not understood: ${fit.transform})`,
			);
			const shot = await send('Page.captureScreenshot', {
				format: 'png',
				captureBeyondViewport: false,
			});
			const png = stampPicture(Buffer.from(shot.data as string, 'base64'), {
				template: target.template,
				sha256: target.digest,
			});
			const file = path.resolve(REPO_ROOT, target.picture);
			fs.mkdirSync(path.dirname(file), { recursive: true });
			fs.writeFileSync(file, png);
			const back = readStamp(fs.readFileSync(file));
			if (back?.sha256 !== target.digest)
				throw new Error(`${target.picture}: the stamp did not stick`);
			log(
				`[screenshot] wrote ${path.relative(process.cwd(), file)} (${png.length} bytes, ${target.template} ${target.digest.slice(0, 12)}…)`,
			);
		}
	} finally {
		await browser.close();
	}
}

/** The targets with the digest of the committed template, refused when it is not what the generator writes. */
function prepareTargets(args: ReturnType<typeof parseScreenshotArgs>): Target[] {
	return args.targets.map(({ template, picture }) => {
		const committed = committedTemplate(template);
		if (committed !== generatedTemplate(template))
			throw new Error(
				`workflows/${template}.json is not what scripts/templates/build.ts generates now: run \`npm run templates:build\` first (the demo imports workflows/), then \`npm run screenshot\` again`,
			);
		return {
			template,
			picture,
			digest: templateDigest(committed),
			json: JSON.parse(committed) as TemplateShape,
		};
	});
}

async function main(): Promise<number> {
	const args = parseScreenshotArgs(process.argv.slice(2));
	const targets = prepareTargets(args);
	findChromium(); // before anything slow
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
		const session: Session = {
			baseUrl: reuse.baseUrl,
			email: reuse.email,
			password: reuse.password,
			...(await login(reuse.baseUrl, reuse.email, reuse.password)),
		};
		const withIds: Array<Target & { workflowId: string }> = [];
		let stale: string | null = null;
		for (const t of targets) {
			const id = reuse.workflows.find((w) => w.file === t.template)?.id;
			stale = id ? await staleImport(session, id, t) : `no ${t.template} workflow`;
			if (stale) break;
			withIds.push({ ...t, workflowId: id! });
		}
		if (!stale) {
			log(`[screenshot] using the running demo at ${reuse.baseUrl}`);
			await capture(session, withIds);
			return 0;
		}
		log(
			`[screenshot] not using the demo running at ${reuse.baseUrl}: it imported other templates than workflows/ holds now (${stale})`,
		);
	}

	const cleanup = new Cleanup(log);
	const stop = () => void cleanup.run().then(() => process.exit(130));
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	try {
		const port = await freePort();
		log(
			`[screenshot] starting a demo stack on port ${port} (user folder ${defaultUserFolder(port)})`,
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
		await capture(
			{
				baseUrl: handle.n8n.baseUrl,
				email: handle.owner.email,
				password: handle.owner.password,
				cookie: handle.owner.cookie,
				browserId: handle.owner.browserId,
			},
			targets.map((t) => ({ ...t, workflowId: handle.workflowId(t.template) })),
		);
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
