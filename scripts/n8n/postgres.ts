/**
 * PostgreSQL for the harness (`--db postgres`): a private cluster from Debian's `postgresql`
 * server binaries (initdb into a temporary folder, the server on a free 127.0.0.1 port, no
 * systemd, no root needed; as root the cluster runs as the `postgres` system user, since the
 * server refuses root), or an existing server when PGHOST is set (PGPORT, PGUSER, PGPASSWORD;
 * a fresh database per run, dropped at the end).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './instance';
import type { Log } from './runtime';
import { findBinary, spawnServer, systemUser, type ServerProcess } from './server';

export interface Postgres {
	host: string;
	port: number;
	user: string;
	/** Empty for the private cluster (trust on loopback only). */
	password: string;
	database: string;
	/** The DB_* variables n8n needs. */
	env(): Record<string, string>;
	/** Runs one SQL statement in the database with psql; its output (unaligned, tuples only). For tests that must reach under n8n (e.g. to age a row). */
	sql(statement: string): string;
	/** Private cluster only: SIGKILL (or SIGTERM) the server, as a crash or a restart does; `start()` brings it back on the same port and data. */
	kill(signal?: NodeJS.Signals): Promise<void>;
	start(): Promise<void>;
	stop(): Promise<void>;
	describe(): string;
}

/** The newest `/usr/lib/postgresql/<v>/bin` holding initdb and postgres. */
export function postgresBinDir(): string {
	const root = '/usr/lib/postgresql';
	const versions = fs.existsSync(root)
		? fs
				.readdirSync(root)
				.filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	if (versions.length === 0)
		findBinary(['initdb'], 'postgresql', 'PostgreSQL server binaries (initdb, postgres)');
	return versions.length
		? path.join(root, versions[0], 'bin')
		: path.dirname(findBinary(['initdb'], 'postgresql', 'initdb'));
}

function runChecked(
	cmd: string,
	args: string[],
	opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; what: string },
): string {
	const r = spawnSync(cmd, args, {
		encoding: 'utf8',
		uid: opts.uid,
		gid: opts.gid,
		env: opts.env ?? process.env,
		timeout: 120_000,
	});
	if (r.status !== 0)
		throw new Error(
			`${opts.what} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').slice(-2000)}`,
		);
	return r.stdout;
}

export async function startPostgres(opts: { folder: string; log: Log }): Promise<Postgres> {
	if (process.env.PGHOST) return externalPostgres(opts.log);
	const bin = postgresBinDir();
	// its own temporary folder: as root the cluster belongs to `postgres`, who cannot enter a
	// root-only folder such as the n8n user folder
	const clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-pg-'));
	const dataDir = path.join(clusterDir, 'data');
	fs.mkdirSync(dataDir);
	const asUser = process.getuid?.() === 0 ? systemUser('postgres') : undefined;
	if (process.getuid?.() === 0 && !asUser)
		throw new Error(
			'running as root, and no `postgres` system user to run PostgreSQL as (apt-get install -y postgresql creates it)',
		);
	if (asUser) {
		fs.chownSync(clusterDir, asUser.uid, asUser.gid);
		fs.chownSync(dataDir, asUser.uid, asUser.gid);
	}
	const user = 'n8n';
	const t = Date.now();
	runChecked(
		path.join(bin, 'initdb'),
		['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-instructions'],
		{ ...asUser, what: 'initdb' },
	);
	const port = await freePort();
	const database = 'n8n';
	let server: ServerProcess | undefined;
	const start = async () => {
		server = await spawnServer({
			name: 'postgres',
			command: path.join(bin, 'postgres'),
			args: [
				'-D',
				dataDir,
				'-p',
				String(port),
				'-k',
				dataDir,
				'-c',
				'listen_addresses=127.0.0.1',
				'-c',
				'max_connections=200',
			],
			port,
			cwd: dataDir,
			logFile: path.join(opts.folder, 'postgres.log'),
			log: opts.log,
			readyTimeoutMs: 60_000,
			...asUser,
		});
		// the port opens before recovery ends: wait until it takes queries (bounded)
		const deadline = Date.now() + 60_000;
		for (;;) {
			const r = spawnSync(
				path.join(bin, 'pg_isready'),
				['-h', '127.0.0.1', '-p', String(port), '-U', user],
				{
					encoding: 'utf8',
				},
			);
			if (r.status === 0) break;
			if (Date.now() > deadline)
				throw new Error(`[postgres] not accepting connections: ${r.stdout}`);
			await new Promise((res) => setTimeout(res, 200));
		}
	};
	await start();
	runChecked(
		path.join(bin, 'createdb'),
		['-h', '127.0.0.1', '-p', String(port), '-U', user, database],
		{
			what: 'createdb',
		},
	);
	opts.log(
		`[postgres] private cluster ready in ${((Date.now() - t) / 1000).toFixed(1)} s (${bin})`,
	);
	return {
		host: '127.0.0.1',
		port,
		user,
		password: '',
		database,
		env: () => pgEnv('127.0.0.1', port, user, '', database),
		sql: (statement: string) =>
			psqlRun(
				path.join(bin, 'psql'),
				{ host: '127.0.0.1', port, user, password: '', database },
				statement,
			),
		kill: async (signal = 'SIGKILL') => {
			await server?.kill(signal);
		},
		start,
		stop: async () => {
			await server?.stop(20_000);
			fs.rmSync(clusterDir, { recursive: true, force: true });
		},
		describe: () => `PostgreSQL (private cluster, ${bin}) on 127.0.0.1:${port}`,
	};
}

/** One statement through psql (tuples only, unaligned), stopping on the first error. */
function psqlRun(
	psql: string,
	c: { host: string; port: number; user: string; password: string; database: string },
	statement: string,
): string {
	return runChecked(
		psql,
		[
			'-h',
			c.host,
			'-p',
			String(c.port),
			'-U',
			c.user,
			'-d',
			c.database,
			'-v',
			'ON_ERROR_STOP=1',
			'-At',
			'-c',
			statement,
		],
		{ env: { ...process.env, PGPASSWORD: c.password }, what: 'psql' },
	);
}

function pgEnv(
	host: string,
	port: number,
	user: string,
	password: string,
	database: string,
): Record<string, string> {
	return {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: host,
		DB_POSTGRESDB_PORT: String(port),
		DB_POSTGRESDB_USER: user,
		DB_POSTGRESDB_PASSWORD: password,
		DB_POSTGRESDB_DATABASE: database,
		DB_POSTGRESDB_POOL_SIZE: '4',
	};
}

/** An existing server named by PG* variables: a fresh database for this run, dropped at stop(). */
function externalPostgres(log: Log): Postgres {
	const host = process.env.PGHOST!;
	const port = Number(process.env.PGPORT ?? 5432);
	const user = process.env.PGUSER ?? 'postgres';
	const password = process.env.PGPASSWORD ?? '';
	const database = `rk_${randomBytes(6).toString('hex')}`;
	const psql = findBinary(['psql'], 'postgresql-client', 'psql');
	const sql = (statement: string, db = 'postgres') =>
		psqlRun(psql, { host, port, user, password, database: db }, statement);
	sql(`CREATE DATABASE ${database}`);
	log(`[postgres] using the server at ${host}:${port} (PGHOST), database ${database}`);
	return {
		host,
		port,
		user,
		password,
		database,
		env: () => pgEnv(host, port, user, password, database),
		sql: (statement: string) => sql(statement, database),
		kill: () =>
			Promise.reject(new Error('an external PostgreSQL (PGHOST) is not killed by the harness')),
		start: () => Promise.resolve(),
		stop: async () => {
			try {
				sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
			} catch (e) {
				log(`[postgres] could not drop ${database}: ${e instanceof Error ? e.message : String(e)}`);
			}
		},
		describe: () => `PostgreSQL at ${host}:${port} (PGHOST), database ${database}`,
	};
}
