/**
 * A child process in its own process group, as the harness runs n8n and its servers: output kept
 * (bounded) and appended to a log file, the whole group signalled (n8n's task runner, nginx's
 * workers go with it), a bounded wait for the exit, and a kill of the group if the harness process
 * itself ends first (an uncaught error, process.exit).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface ProcessGroup {
	pid: number;
	/** null while running; then `exit code N`, `signal S` or `spawn error …`. */
	exitInfo(): string | null;
	/** Its stdout and stderr so far (the last `maxBuffer` characters). */
	output(): string;
	/** True when it exited within ms (the timer is cleared, so nothing keeps the caller alive). */
	waitExit(ms: number): Promise<boolean>;
	/** Signals the whole group while the leader runs (no-op once it exited). */
	signal(sig: NodeJS.Signals): void;
	/** SIGTERM, then SIGKILL after the bound; then SIGKILL to whatever of the group is left. */
	terminate(timeoutMs: number, onForce?: () => void): Promise<void>;
}

export function spawnGroup(
	command: string,
	args: string[],
	o: {
		cwd: string;
		env: NodeJS.ProcessEnv;
		logFile: string;
		maxBuffer?: number;
		uid?: number;
		gid?: number;
	},
): ProcessGroup {
	const maxBuffer = o.maxBuffer ?? 2_000_000;
	let buffer = '';
	const append = (chunk: Buffer) => {
		const s = chunk.toString('utf8');
		buffer = (buffer + s).slice(-maxBuffer);
		try {
			fs.appendFileSync(o.logFile, s);
		} catch {
			/* folder removed */
		}
	};
	const child = spawn(command, args, {
		cwd: o.cwd,
		env: o.env,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
		uid: o.uid,
		gid: o.gid,
	});
	child.stdout!.on('data', append);
	child.stderr!.on('data', append);
	let exitInfo: string | null = null;
	const exitPromise = new Promise<void>((resolve) => {
		child.on('exit', (code, signal) => {
			exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
			resolve();
		});
		child.on('error', (e) => {
			exitInfo = `spawn error ${e.message}`;
			resolve();
		});
	});
	const pid = child.pid ?? -1;
	const killGroup = (sig: NodeJS.Signals | 0) => {
		if (pid <= 0) return false;
		try {
			process.kill(-pid, sig);
			return true;
		} catch {
			return false; // ESRCH: the group is empty
		}
	};
	const killOnExit = () => void killGroup('SIGKILL');
	// one listener per process started (a queue-mode deployment with restarts has a dozen)
	process.setMaxListeners(Math.max(process.getMaxListeners(), 64));
	process.once('exit', killOnExit);
	const waitExit = (ms: number) =>
		new Promise<boolean>((resolve) => {
			const timer = setTimeout(() => resolve(false), ms);
			void exitPromise.then(() => {
				clearTimeout(timer);
				resolve(true);
			});
		});
	const signal = (sig: NodeJS.Signals) => {
		if (exitInfo === null) killGroup(sig);
	};
	return {
		pid,
		exitInfo: () => exitInfo,
		output: () => buffer,
		waitExit,
		signal,
		terminate: async (timeoutMs, onForce) => {
			process.removeListener('exit', killOnExit);
			if (exitInfo === null) {
				signal('SIGTERM');
				if (!(await waitExit(timeoutMs))) {
					onForce?.();
					signal('SIGKILL');
					await waitExit(10_000);
				}
			}
			// children that outlive the leader (a task runner, nginx workers): bounded wait for the group to empty
			for (let i = 0; i < 40; i++) {
				if (!killGroup(i === 0 ? 'SIGKILL' : 0)) break;
				await new Promise((r) => setTimeout(r, 50));
			}
		},
	};
}
