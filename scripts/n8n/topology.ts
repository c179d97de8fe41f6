/**
 * The n8n deployments the harness can start (docs/deployment.md), chosen by options and shared by
 * the demo, the e2e files, the soak and the bench:
 *
 * - `sqlite` (default): one n8n process, its SQLite database in the user folder;
 * - `--db postgres`: one n8n process on PostgreSQL (./postgres.ts);
 * - `--mode queue --workers N --webhook-processes M`: PostgreSQL, Redis (./redis.ts), the main
 *   process (editor, API, schedules, polls; production webhooks off when M > 0), M `n8n webhook`
 *   processes (nginx in front when M > 1, ./nginx.ts) and N `n8n worker` processes, all with the
 *   same encryption key and each with the package installed in its own user folder, as production
 *   must (a process without it answers "Unrecognized node type").
 *
 * The result looks like one N8nInstance (the main process's API, stop, kill, restart for the
 * whole group), with the webhook base URL and every process for the tests that kill one of them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, startN8n, type N8nInstance } from './instance';
import { startNginx, type Nginx } from './nginx';
import { installPackage } from './package';
import { startPostgres, type Postgres } from './postgres';
import { startRedis, type Redis } from './redis';
import type { Log, Runtime } from './runtime';

export interface TopologyOptions {
	db?: 'sqlite' | 'postgres';
	mode?: 'regular' | 'queue';
	workers?: number;
	webhookProcesses?: number;
	/** Executions one worker runs at once (`--concurrency`), default 10 (n8n's default; n8n warns below 5). */
	concurrency?: number;
}

export interface Topology extends N8nInstance {
	options: Required<TopologyOptions>;
	main: N8nInstance;
	workers: N8nInstance[];
	webhooks: N8nInstance[];
	postgres?: Postgres;
	redis?: Redis;
	nginx?: Nginx;
	/** Every n8n process with its role and resident memory (kB, the process group: task runner included). */
	processes(): Array<{ label: string; pid: number; rssKb: number }>;
	/** One line: what runs where. */
	describe(): string;
	/** Replaces one process (after a kill) by a fresh start with the same options. */
	restartProcess(p: N8nInstance): Promise<N8nInstance>;
	/** The worker whose log says it started this execution (queue mode), if any. */
	workerRunning(executionId: string): N8nInstance | undefined;
}

/** `--db postgres`, `--mode queue`, `--queue` (= queue mode, Postgres, 2 workers, 1 webhook process), `--workers N`, `--webhook-processes M`. */
export function topologyFromArgs(argv: string[]): TopologyOptions {
	const value = (name: string) => {
		const i = argv.indexOf(name);
		return i >= 0 ? argv[i + 1] : undefined;
	};
	const out: TopologyOptions = {};
	if (argv.includes('--queue'))
		Object.assign(out, { mode: 'queue', db: 'postgres', workers: 2, webhookProcesses: 1 });
	const db = value('--db');
	if (db !== undefined) {
		if (db !== 'sqlite' && db !== 'postgres')
			throw new Error(`--db ${db}: expected sqlite or postgres`);
		out.db = db;
	}
	const mode = value('--mode');
	if (mode !== undefined) {
		if (mode !== 'regular' && mode !== 'queue')
			throw new Error(`--mode ${mode}: expected regular or queue`);
		out.mode = mode;
	}
	for (const [flag, key] of [
		['--workers', 'workers'],
		['--webhook-processes', 'webhookProcesses'],
		['--concurrency', 'concurrency'],
	] as const) {
		const v = value(flag);
		if (v === undefined) continue;
		const n = Number(v);
		if (!Number.isInteger(n) || n < 0 || n > 16)
			throw new Error(`${flag} ${v}: expected a whole number 0–16`);
		out[key] = n;
	}
	return out;
}

/** The options from the environment (`E2E_TOPOLOGY=queue` | `postgres` | `sqlite`), for the e2e files and CI. */
export function topologyFromEnv(value = process.env.E2E_TOPOLOGY): TopologyOptions {
	if (!value || value === 'sqlite') return {};
	if (value === 'postgres') return { db: 'postgres' };
	if (value === 'queue') return { mode: 'queue', db: 'postgres', workers: 2, webhookProcesses: 1 };
	throw new Error(`E2E_TOPOLOGY=${value}: expected sqlite, postgres or queue`);
}

export function resolveTopology(o: TopologyOptions = {}): Required<TopologyOptions> {
	const mode = o.mode ?? 'regular';
	if (mode === 'queue' && o.db === 'sqlite')
		throw new Error(
			'queue mode needs PostgreSQL (n8n does not support SQLite in queue mode): use --db postgres',
		);
	return {
		mode,
		db: mode === 'queue' ? 'postgres' : (o.db ?? 'sqlite'),
		workers: mode === 'queue' ? (o.workers ?? 2) : 0,
		webhookProcesses: mode === 'queue' ? (o.webhookProcesses ?? 1) : 0,
		concurrency: o.concurrency ?? 10,
	};
}

export function describeTopology(o: Required<TopologyOptions>): string {
	if (o.mode === 'regular')
		return o.db === 'sqlite' ? 'single process, SQLite' : 'single process, PostgreSQL';
	return `queue mode: main + ${o.webhookProcesses} webhook process${o.webhookProcesses === 1 ? '' : 'es'}${o.webhookProcesses > 1 ? ' behind nginx' : ''} + ${o.workers} worker${o.workers === 1 ? '' : 's'} (concurrency ${o.concurrency}), PostgreSQL, Redis`;
}

export interface StartTopologyOptions {
	topology?: TopologyOptions;
	/** The main process's user folder, the package already installed there. */
	userFolder: string;
	/** The tarball installed there: installed the same way into every other process's folder. */
	tarball: string;
	port: number;
	runtime: Runtime;
	log: Log;
	env?: Record<string, string>;
}

/** The folder the services and the other processes' user folders live in: beside the main user folder's contents. */
function servicesFolder(userFolder: string, name: string): string {
	const dir = path.join(userFolder, 'topology', name);
	fs.mkdirSync(dir, { recursive: true });
	return dir;
}

export async function startTopology(o: StartTopologyOptions): Promise<Topology> {
	const options = resolveTopology(o.topology);
	const { log, runtime } = o;
	let postgres: Postgres | undefined;
	let redis: Redis | undefined;
	let nginx: Nginx | undefined;
	const started: N8nInstance[] = [];
	const stopServices = async () => {
		await nginx?.stop().catch(() => undefined);
		await redis?.stop().catch(() => undefined);
		await postgres?.stop().catch(() => undefined);
	};
	try {
		if (options.db === 'postgres')
			postgres = await startPostgres({ folder: servicesFolder(o.userFolder, 'pg'), log });
		if (options.mode === 'queue')
			redis = await startRedis({ folder: servicesFolder(o.userFolder, 'redis'), log });
		const webhookPorts: number[] = [];
		for (let i = 0; i < options.webhookProcesses; i++) webhookPorts.push(await freePort());
		if (options.webhookProcesses > 1)
			nginx = await startNginx({
				folder: servicesFolder(o.userFolder, 'nginx'),
				upstreamPorts: webhookPorts,
				log,
			});
		const mainUrl = `http://127.0.0.1:${o.port}`;
		const webhookBaseUrl =
			nginx?.url ??
			(webhookPorts[0] !== undefined ? `http://127.0.0.1:${webhookPorts[0]}` : mainUrl);
		const shared: Record<string, string> = {
			...(postgres?.env() ?? {}),
			...(redis ? { EXECUTIONS_MODE: 'queue', ...redis.env() } : {}),
			...(options.webhookProcesses > 0 ? { N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' } : {}),
			// what production watches (docs/deployment.md): /metrics, with the queue's jobs in queue mode
			N8N_METRICS: 'true',
			...(redis ? { N8N_METRICS_INCLUDE_QUEUE_METRICS: 'true' } : {}),
			N8N_WEBHOOK_URL: `${webhookBaseUrl}/`,
			...(o.env ?? {}),
		};
		// main first: it runs the database migrations the others wait for
		const main = await startN8n({
			runtime,
			userFolder: o.userFolder,
			port: o.port,
			log,
			env: shared,
			label: 'main',
		});
		started.push(main);
		const extraFolder = async (name: string) => {
			const folder = servicesFolder(o.userFolder, name);
			await installPackage(folder, { tarball: o.tarball, skipBuild: true, log });
			return folder;
		};
		const webhooks: N8nInstance[] = [];
		for (let i = 0; i < options.webhookProcesses; i++) {
			const w = await startN8n({
				runtime,
				userFolder: await extraFolder(`webhook-${i + 1}`),
				port: webhookPorts[i],
				log,
				env: shared,
				command: 'webhook',
				label: `webhook ${i + 1}`,
			});
			webhooks.push(w);
			started.push(w);
		}
		const workers: N8nInstance[] = [];
		for (let i = 0; i < options.workers; i++) {
			const w = await startN8n({
				runtime,
				userFolder: await extraFolder(`worker-${i + 1}`),
				port: await freePort(),
				log,
				command: 'worker',
				args: [`--concurrency=${options.concurrency}`],
				// info: the worker logs "Worker started execution <id>", which names the worker running a run
				env: { ...shared, N8N_LOG_LEVEL: 'info' },
				label: `worker ${i + 1}`,
			});
			workers.push(w);
			started.push(w);
		}
		log(`[topology] ${describeTopology(options)}; webhooks at ${webhookBaseUrl}`);
		return assemble({
			options,
			main,
			webhooks,
			workers,
			postgres,
			redis,
			nginx,
			webhookBaseUrl,
			log,
		});
	} catch (error) {
		for (const p of started.reverse()) await p.stop().catch(() => undefined);
		await stopServices();
		throw error;
	}
}

function assemble(parts: {
	options: Required<TopologyOptions>;
	main: N8nInstance;
	webhooks: N8nInstance[];
	workers: N8nInstance[];
	postgres?: Postgres;
	redis?: Redis;
	nginx?: Nginx;
	webhookBaseUrl: string;
	log: Log;
}): Topology {
	const { options, postgres, redis, nginx, webhookBaseUrl } = parts;
	let main = parts.main;
	const webhooks = [...parts.webhooks];
	const workers = [...parts.workers];
	const all = () => [main, ...webhooks, ...workers];
	const stopN8n = async (timeoutMs?: number) => {
		// workers and webhook processes first (they finish or hand back their jobs), main last
		for (const p of [...workers, ...webhooks]) await p.stop(timeoutMs);
		await main.stop(timeoutMs);
	};
	const topology: Topology = {
		options,
		get main() {
			return main;
		},
		workers,
		webhooks,
		postgres,
		redis,
		nginx,
		command: 'start',
		label: 'topology',
		get baseUrl() {
			return main.baseUrl;
		},
		get port() {
			return main.port;
		},
		get brokerPort() {
			return main.brokerPort;
		},
		get pid() {
			return main.pid;
		},
		get userFolder() {
			return main.userFolder;
		},
		get startupMs() {
			return main.startupMs;
		},
		webhookBaseUrl,
		stop: async (timeoutMs?: number) => {
			try {
				await stopN8n(timeoutMs);
			} finally {
				await nginx?.stop().catch(() => undefined);
				await redis?.stop().catch(() => undefined);
				await postgres?.stop().catch(() => undefined);
			}
		},
		kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
			for (const p of all()) await p.kill(signal);
		},
		restart: async () => {
			await stopN8n();
			main = await main.restart();
			for (let i = 0; i < webhooks.length; i++) webhooks[i] = await webhooks[i].restart();
			for (let i = 0; i < workers.length; i++) workers[i] = await workers[i].restart();
			return topology;
		},
		restartProcess: async (p: N8nInstance) => {
			const fresh = await p.restart();
			if (p === main) main = fresh;
			const wi = webhooks.indexOf(p);
			if (wi >= 0) webhooks[wi] = fresh;
			const ki = workers.indexOf(p);
			if (ki >= 0) workers[ki] = fresh;
			return fresh;
		},
		workerRunning: (executionId: string) =>
			workers.find((w) => w.logs().includes(`Worker started execution ${executionId} `)),
		logs: () =>
			all()
				.map((p) => `===== ${p.label} =====\n${p.logs()}`)
				.join('\n'),
		rssKb: () => {
			const each = all().map((p) => p.rssKb());
			return { main: each[0].main, group: each.reduce((s, r) => s + r.group, 0) };
		},
		exited: () => main.exited(),
		processes: () => all().map((p) => ({ label: p.label, pid: p.pid, rssKb: p.rssKb().group })),
		describe: () =>
			[describeTopology(options), postgres?.describe(), redis?.describe(), nginx?.describe()]
				.filter(Boolean)
				.join('; '),
	};
	return topology;
}
