/**
 * A very small Chrome DevTools Protocol client for the editor screenshot
 * (scripts/screenshot.ts): launches headless Chromium on 127.0.0.1 in its own
 * process group with a throw-away profile, talks to the page over the global
 * WebSocket (Node 22+; the demo runtime's Node 24 has it), and always cleans
 * up (process group killed, profile removed). No npm dependency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../n8n/instance';
import type { Log } from '../n8n/runtime';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function findChromium(): string {
	const candidates = [
		process.env.CHROMIUM_BIN,
		'/usr/bin/chromium',
		'/usr/bin/chromium-browser',
		'/usr/bin/google-chrome',
	].filter((x): x is string => !!x);
	const found = candidates.find((c) => fs.existsSync(c));
	if (!found)
		throw new Error(
			`no Chromium found (tried ${candidates.join(', ')}); install it (Debian: apt-get install -y chromium) or set CHROMIUM_BIN`,
		);
	return found;
}

export interface Browser {
	/** Sends one CDP command to the page and resolves with its result (bounded). */
	send(method: string, params?: Record<string, unknown>, timeoutMs?: number): Promise<any>;
	/** Evaluates an expression in the page; returns its value. */
	evaluate<T = unknown>(expression: string): Promise<T>;
	close(): Promise<void>;
}

export async function launchChromium(opts: {
	width: number;
	height: number;
	log: Log;
	startTimeoutMs?: number;
}): Promise<Browser> {
	const WS = (globalThis as unknown as { WebSocket?: new (url: string) => any }).WebSocket;
	if (!WS)
		throw new Error(
			'this Node has no global WebSocket (Node 22+ needed; run under the demo runtime Node 24)',
		);
	const bin = findChromium();
	const port = await freePort();
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-chromium-'));
	const args = [
		'--headless',
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		'--disable-dev-shm-usage',
		'--hide-scrollbars',
		`--user-data-dir=${profile}`,
		'--remote-debugging-address=127.0.0.1',
		`--remote-debugging-port=${port}`,
		`--window-size=${opts.width},${opts.height}`,
		'about:blank',
	];
	const child: ChildProcess = spawn(bin, args, {
		stdio: ['ignore', 'ignore', 'pipe'],
		detached: true,
	});
	let stderr = '';
	child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
	let exited = false;
	const exitPromise = new Promise<void>((r) => child.on('exit', () => ((exited = true), r())));
	const killGroup = () => {
		try {
			if (child.pid) process.kill(-child.pid, 'SIGKILL');
		} catch {
			/* gone */
		}
	};
	process.once('exit', killGroup);
	let ws: any;
	const close = async () => {
		try {
			ws?.close();
		} catch {
			/* closed */
		}
		killGroup();
		await Promise.race([exitPromise, sleep(5_000)]);
		process.removeListener('exit', killGroup);
		fs.rmSync(profile, { recursive: true, force: true });
	};

	try {
		const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
		let target: { webSocketDebuggerUrl: string } | undefined;
		while (!target) {
			if (exited) throw new Error(`Chromium exited at start: ${stderr.slice(-800)}`);
			if (Date.now() > deadline)
				throw new Error(
					`Chromium's DevTools port ${port} did not answer in time: ${stderr.slice(-800)}`,
				);
			try {
				const res = await fetch(`http://127.0.0.1:${port}/json/list`, {
					signal: AbortSignal.timeout(1_000),
				});
				const list = (await res.json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
				target = list.find((t) => t.type === 'page');
			} catch {
				/* not up yet */
			}
			if (!target) await sleep(250);
		}
		ws = new WS(target.webSocketDebuggerUrl);
		await new Promise<void>((resolve, reject) => {
			ws.onopen = () => resolve();
			ws.onerror = () => reject(new Error('cannot open the DevTools WebSocket'));
		});
		opts.log(`[screenshot] Chromium ${bin} (pid ${child.pid}) on DevTools port ${port}`);
	} catch (e) {
		await close();
		throw e;
	}

	let nextId = 1;
	const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
	ws.onmessage = (ev: { data: string }) => {
		const msg = JSON.parse(String(ev.data)) as {
			id?: number;
			result?: unknown;
			error?: { message: string };
		};
		if (msg.id === undefined) return;
		const w = waiting.get(msg.id);
		if (!w) return;
		waiting.delete(msg.id);
		if (msg.error) w.reject(new Error(msg.error.message));
		else w.resolve(msg.result);
	};
	const send = (method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000) =>
		new Promise<any>((resolve, reject) => {
			const id = nextId++;
			const timer = setTimeout(() => {
				waiting.delete(id);
				reject(new Error(`CDP ${method}: no answer in ${timeoutMs / 1000} s`));
			}, timeoutMs);
			waiting.set(id, {
				resolve: (v) => (clearTimeout(timer), resolve(v)),
				reject: (e) => (clearTimeout(timer), reject(new Error(`CDP ${method}: ${e.message}`))),
			});
			ws.send(JSON.stringify({ id, method, params }));
		});
	const evaluate = async <T>(expression: string): Promise<T> => {
		const r = await send('Runtime.evaluate', {
			expression,
			returnByValue: true,
			awaitPromise: true,
		});
		if (r.exceptionDetails)
			throw new Error(
				`evaluate ${expression.slice(0, 80)}: ${JSON.stringify(r.exceptionDetails).slice(0, 300)}`,
			);
		return r.result?.value as T;
	};
	return { send, evaluate, close };
}
