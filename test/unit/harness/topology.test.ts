/**
 * The harness's deployment options (scripts/n8n/topology.ts) and the files it writes for the
 * services: what each flag means, what is refused, nginx's config, and the message a missing
 * Debian binary gives. The services themselves run in the e2e files (returnsFlow.queue, soak).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDemoArgs } from '../../../scripts/demo/args';
import { nginxConfig } from '../../../scripts/n8n/nginx';
import { findBinary } from '../../../scripts/n8n/server';
import {
	describeTopology,
	resolveTopology,
	topologyFromArgs,
	topologyFromEnv,
} from '../../../scripts/n8n/topology';
import { parseSoakArgs } from '../../../scripts/soak/run';

describe('topology options', () => {
	it('defaults to one process on SQLite, n8n’s embedded default', () => {
		expect(resolveTopology({})).toEqual({
			mode: 'regular',
			db: 'sqlite',
			workers: 0,
			webhookProcesses: 0,
			concurrency: 10,
		});
		expect(describeTopology(resolveTopology({}))).toBe('single process, SQLite');
	});

	it('--queue is queue mode on PostgreSQL with 2 workers and 1 webhook process', () => {
		const t = resolveTopology(topologyFromArgs(['--queue']));
		expect(t).toEqual({
			mode: 'queue',
			db: 'postgres',
			workers: 2,
			webhookProcesses: 1,
			concurrency: 10,
		});
		expect(describeTopology(t)).toBe(
			'queue mode: main + 1 webhook process + 2 workers (concurrency 10), PostgreSQL, Redis',
		);
	});

	it('queue mode always runs on PostgreSQL, and refuses SQLite with the reason', () => {
		expect(resolveTopology({ mode: 'queue' }).db).toBe('postgres');
		expect(() => resolveTopology({ mode: 'queue', db: 'sqlite' })).toThrow(/SQLite in queue mode/);
	});

	it('counts and names are checked', () => {
		expect(
			topologyFromArgs(['--mode', 'queue', '--workers', '3', '--webhook-processes', '2']),
		).toEqual({
			mode: 'queue',
			workers: 3,
			webhookProcesses: 2,
		});
		expect(
			describeTopology(resolveTopology({ mode: 'queue', workers: 1, webhookProcesses: 2 })),
		).toMatch(/2 webhook processes behind nginx \+ 1 worker /);
		expect(() => topologyFromArgs(['--db', 'mysql'])).toThrow(/--db mysql/);
		expect(() => topologyFromArgs(['--workers', '-1'])).toThrow(/--workers -1/);
		expect(() => topologyFromArgs(['--workers', '99'])).toThrow(/0–16/);
		expect(() => topologyFromArgs(['--mode', 'cluster'])).toThrow(/--mode cluster/);
	});

	it('E2E_TOPOLOGY picks the deployment for the e2e files', () => {
		expect(topologyFromEnv(undefined)).toEqual({});
		expect(topologyFromEnv('postgres')).toEqual({ db: 'postgres' });
		expect(resolveTopology(topologyFromEnv('queue')).mode).toBe('queue');
		expect(() => topologyFromEnv('kubernetes')).toThrow(/E2E_TOPOLOGY=kubernetes/);
	});

	it('the demo and the soak take the same flags', () => {
		expect(parseDemoArgs(['--queue']).topology).toEqual(topologyFromArgs(['--queue']));
		expect(parseDemoArgs(['--db', 'postgres']).topology).toEqual({ db: 'postgres' });
		expect(parseDemoArgs([]).topology).toEqual({});
		const soak = parseSoakArgs(['--queue', '--kill', 'worker', '--workers', '3']);
		expect(soak.topology).toMatchObject({ mode: 'queue', db: 'postgres', workers: 3 });
		expect(soak.killTargets).toEqual(['worker']);
		expect(() => parseSoakArgs(['--kill', 'worker'])).toThrow(/needs queue mode/);
		expect(() => parseSoakArgs(['--kill', 'postgres'])).toThrow(/needs PostgreSQL/);
		expect(() => parseSoakArgs(['--kill', 'the-cat'])).toThrow(/expected one of/);
		expect(parseSoakArgs(['--db', 'postgres', '--kill', 'postgres']).killTargets).toEqual([
			'postgres',
		]);
		expect(
			parseSoakArgs(['--queue', '--kill', 'worker,webhook,main,redis,postgres']).killTargets,
		).toEqual(['worker', 'webhook', 'main', 'redis', 'postgres']);
		expect(() => parseSoakArgs(['--queue', '--kill', 'worker,cat'])).toThrow(/--kill cat/);
	});
});

describe('nginx in front of the webhook processes', () => {
	const conf = nginxConfig('/tmp/x', 8080, [5001, 5002], false);

	it('listens on loopback only and spreads /webhook/ over every webhook process', () => {
		expect(conf).toContain('listen 127.0.0.1:8080;');
		expect(conf).toContain('server 127.0.0.1:5001 max_fails=0;');
		expect(conf).toContain('server 127.0.0.1:5002 max_fails=0;');
		expect(conf).toMatch(/location \/webhook\/ \{[^}]*proxy_pass http:\/\/n8n_webhooks;/);
	});

	it('never sends a delivery to a second process, and waits for the batch window’s answer', () => {
		// a POST half-handled by one process must not be replayed on another: ReBound redelivers instead
		expect(conf).toContain('proxy_next_upstream off;');
		expect(conf).toContain('proxy_read_timeout 180s;');
		expect(conf).toContain('daemon off;');
		expect(conf).not.toContain('user root;');
		expect(nginxConfig('/tmp/x', 8080, [5001], true)).toMatch(/^user root;/);
	});
});

describe('a missing server binary', () => {
	it('names the Debian package that brings it', () => {
		expect(() =>
			findBinary(['rk-no-such-server', '/nonexistent/rk-server'], 'redis-server', 'redis-server'),
		).toThrow('apt-get update && apt-get install -y redis-server');
	});

	it('finds a binary on PATH or by absolute path', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-bin-'));
		const bin = path.join(dir, 'rk-fake');
		fs.writeFileSync(bin, '', { mode: 0o755 });
		try {
			expect(findBinary([bin], 'x', 'x')).toBe(bin);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
});
