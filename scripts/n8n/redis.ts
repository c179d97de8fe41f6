/**
 * Redis for queue mode: Debian's `redis-server` on its own free 127.0.0.1 port, without
 * persistence unless asked (a restart then loses the queued jobs, as the queue-mode soak's
 * Redis restart means to show).
 */
import * as path from 'node:path';
import { freePort } from './instance';
import type { Log } from './runtime';
import { findBinary, spawnServer, type ServerProcess } from './server';

export interface Redis {
	port: number;
	env(): Record<string, string>;
	kill(signal?: NodeJS.Signals): Promise<void>;
	/** Starts it again on the same port (after kill). */
	start(): Promise<void>;
	stop(): Promise<void>;
	describe(): string;
}

export async function startRedis(opts: {
	folder: string;
	log: Log;
	persist?: boolean;
}): Promise<Redis> {
	const bin = findBinary(['redis-server', '/usr/bin/redis-server'], 'redis-server', 'redis-server');
	const port = await freePort();
	let server: ServerProcess | undefined;
	const args = [
		'--port',
		String(port),
		'--bind',
		'127.0.0.1',
		'--dir',
		opts.folder,
		'--daemonize',
		'no',
		'--protected-mode',
		'yes',
		...(opts.persist ? ['--appendonly', 'yes'] : ['--save', '', '--appendonly', 'no']),
	];
	const start = async () => {
		server = await spawnServer({
			name: 'redis',
			command: bin,
			args,
			port,
			cwd: opts.folder,
			logFile: path.join(opts.folder, 'redis.log'),
			log: opts.log,
		});
	};
	await start();
	return {
		port,
		env: () => ({ QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(port) }),
		kill: async (signal = 'SIGKILL') => {
			await server?.kill(signal);
		},
		start,
		stop: async () => {
			await server?.stop();
		},
		describe: () =>
			`Redis (${bin}${opts.persist ? ', append-only file' : ', no persistence'}) on 127.0.0.1:${port}`,
	};
}
