/**
 * A helper server process (Redis, nginx) for the harness: spawned in its own process group on
 * 127.0.0.1, its output kept (bounded) and written to a log file, readiness polled with a bound,
 * stopped by SIGTERM then SIGKILL. Also: find a Debian binary or say which package brings it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawnGroup } from './processGroup';
import type { Log } from './runtime';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The first of `candidates` that exists (absolute paths, or names looked up on PATH); otherwise an error naming the Debian package. */
export function findBinary(candidates: string[], debianPackage: string, what: string): string {
	for (const c of candidates) {
		if (path.isAbsolute(c)) {
			if (fs.existsSync(c)) return c;
			continue;
		}
		for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
			const p = path.join(dir, c);
			if (dir && fs.existsSync(p)) return p;
		}
	}
	throw new Error(
		`${what} not found (looked for ${candidates.join(', ')}). Install Debian's package: apt-get update && apt-get install -y ${debianPackage}`,
	);
}

/** True when a TCP connection to 127.0.0.1:port opens within the bound. */
export function portOpen(port: number, timeoutMs = 1_000): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect({ host: '127.0.0.1', port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(timeoutMs, () => done(false));
		socket.once('connect', () => done(true));
		socket.once('error', () => done(false));
	});
}

export interface ServerProcess {
	name: string;
	pid: number;
	port: number;
	logs(): string;
	exited(): boolean;
	/** Resolves when the whole group has exited (SIGTERM, SIGKILL after the bound). */
	stop(timeoutMs?: number): Promise<void>;
	kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnServerOptions {
	name: string;
	command: string;
	args: string[];
	port: number;
	cwd: string;
	logFile: string;
	env?: NodeJS.ProcessEnv;
	log: Log;
	/** Bound for the port to accept connections (ms), default 20 s. */
	readyTimeoutMs?: number;
	uid?: number;
	gid?: number;
}

/** Spawns the server and waits (bounded) until its port accepts connections. */
export async function spawnServer(o: SpawnServerOptions): Promise<ServerProcess> {
	const group = spawnGroup(o.command, o.args, {
		cwd: o.cwd,
		env: o.env ?? process.env,
		logFile: o.logFile,
		maxBuffer: 500_000,
		uid: o.uid,
		gid: o.gid,
	});
	const stop = (timeoutMs = 10_000) => group.terminate(timeoutMs);
	const deadline = Date.now() + (o.readyTimeoutMs ?? 20_000);
	for (;;) {
		if (group.exitInfo() !== null)
			throw new Error(
				`[${o.name}] exited before it was ready (${group.exitInfo()}):\n${group.output().slice(-3000)}`,
			);
		if (await portOpen(o.port, 500)) break;
		if (Date.now() > deadline) {
			await stop(2_000);
			throw new Error(
				`[${o.name}] not listening on 127.0.0.1:${o.port} in time:\n${group.output().slice(-3000)}`,
			);
		}
		await sleep(100);
	}
	o.log(`[${o.name}] listening on 127.0.0.1:${o.port} (pid ${group.pid})`);
	return {
		name: o.name,
		pid: group.pid,
		port: o.port,
		logs: () => group.output(),
		exited: () => group.exitInfo() !== null,
		stop,
		kill: async (sig: NodeJS.Signals = 'SIGKILL') => {
			group.signal(sig);
			await group.waitExit(10_000);
		},
	};
}

/** uid/gid of a system user (for servers that refuse to run as root), or undefined. */
export function systemUser(name: string): { uid: number; gid: number } | undefined {
	const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
	const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
	if (r.status !== 0 || g.status !== 0) return undefined;
	return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}
