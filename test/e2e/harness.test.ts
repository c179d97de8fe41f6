/**
 * The harness's own failure paths, against a fake "n8n" (a small Node script
 * started exactly as n8n would be): no real n8n, a few seconds in all.
 * Port taken, early exit with the log tail, readiness timeout, stop() killing
 * the whole process group, the runtime cache marker and the install lock.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import {
	ensureRuntime,
	foreignNpmPids,
	runtimeRoot,
	type Runtime,
} from '../../scripts/n8n/runtime';
import { assertPortFree, freePort, postWebhook, startN8n } from '../../scripts/n8n/instance';

jest.setTimeout(30_000);

const FAKE_N8N = `
const http = require('node:http');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const mode = process.env.FAKE_MODE;
console.log('fake n8n starting in ' + mode + ' mode');
if (mode === 'crash') { console.error('boom: database is locked'); process.exit(3); }
let hits = 0;
http.createServer((req, res) => {
	if (req.url === '/healthz/readiness') { res.statusCode = mode === 'never-ready' ? 503 : 200; return res.end('{}'); }
	if (req.url.startsWith('/webhook/')) {
		hits++;
		if (hits < 3) { res.statusCode = 404; return res.end('{"message":"The requested webhook is not registered."}'); }
		res.setHeader('content-type', 'application/json');
		return res.end(JSON.stringify({ hits }));
	}
	res.statusCode = 404; res.end();
}).listen(Number(process.env.N8N_PORT), process.env.N8N_LISTEN_ADDRESS);
// a "task runner" child in the same process group
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
fs.writeFileSync(process.env.FAKE_PIDS, JSON.stringify({ main: process.pid, child: child.pid }));
`;

let dir: string;
let fakeRuntime: Runtime;

beforeAll(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-harness-'));
	const script = path.join(dir, 'fake-n8n.js');
	fs.writeFileSync(script, FAKE_N8N);
	fakeRuntime = {
		root: dir,
		nodeBin: process.execPath,
		nodeBinDir: path.dirname(process.execPath),
		n8nBin: script,
		n8nVersion: 'fake',
	};
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};
const quiet = () => undefined;

describe('startN8n', () => {
	it('refuses a port that is already taken, before spawning anything', async () => {
		const srv = net.createServer().listen(0, '127.0.0.1');
		await new Promise((r) => srv.once('listening', r));
		const port = (srv.address() as net.AddressInfo).port;
		try {
			await expect(assertPortFree(port)).rejects.toThrow(
				`port ${port} on 127.0.0.1 is already in use`,
			);
			const userFolder = path.join(dir, 'taken');
			await expect(
				startN8n({ runtime: fakeRuntime, userFolder, port, log: quiet }),
			).rejects.toThrow('already in use');
			expect(fs.existsSync(path.join(userFolder, 'n8n.log'))).toBe(false);
		} finally {
			srv.close();
		}
	});

	it('fails loudly with the tail of the log when n8n exits before it is ready', async () => {
		const userFolder = path.join(dir, 'crash');
		const err = await startN8n({
			runtime: fakeRuntime,
			userFolder,
			port: await freePort(),
			env: { FAKE_MODE: 'crash', FAKE_PIDS: path.join(dir, 'crash.json') },
			log: quiet,
		}).catch((e: Error) => e);
		expect(err).toBeInstanceOf(Error);
		expect((err as Error).message).toContain('exited before it was ready (exit code 3)');
		expect((err as Error).message).toContain('boom: database is locked');
		expect(fs.readFileSync(path.join(userFolder, 'n8n.log'), 'utf8')).toContain(
			'fake n8n starting in crash mode',
		);
	});

	it('gives up after the readiness bound and leaves no process behind', async () => {
		const pids = path.join(dir, 'never.json');
		const err = await startN8n({
			runtime: fakeRuntime,
			userFolder: path.join(dir, 'never'),
			port: await freePort(),
			env: { FAKE_MODE: 'never-ready', FAKE_PIDS: pids },
			readyTimeoutMs: 2_000,
			log: quiet,
		}).catch((e: Error) => e);
		expect((err as Error).message).toMatch(/not ready after 2 s \(readiness HTTP 503\)/);
		const { main, child } = JSON.parse(fs.readFileSync(pids, 'utf8'));
		for (let i = 0; i < 40 && alive(child); i++) await new Promise((r) => setTimeout(r, 50));
		expect([alive(main), alive(child)]).toEqual([false, false]);
	});

	it('stop() ends n8n and every process of its group; postWebhook retries only "not registered"', async () => {
		const pids = path.join(dir, 'ok.json');
		const n8n = await startN8n({
			runtime: fakeRuntime,
			userFolder: path.join(dir, 'ok'),
			port: await freePort(),
			env: { FAKE_MODE: 'ok', FAKE_PIDS: pids },
			log: quiet,
		});
		try {
			expect(n8n.startupMs).toBeLessThan(10_000);
			const res = await postWebhook(n8n.baseUrl, 'x', { a: 1 });
			expect({ status: res.status, json: res.json, attempts: res.attempts }).toEqual({
				status: 200,
				json: { hits: 3 },
				attempts: 3,
			});
			// wait (bounded) for the fake to have written its pids
			for (let i = 0; i < 40 && !fs.existsSync(pids); i++)
				await new Promise((r) => setTimeout(r, 50));
			const { main, child } = JSON.parse(fs.readFileSync(pids, 'utf8'));
			expect(n8n.rssKb().group).toBeGreaterThan(n8n.rssKb().main);
			expect([alive(main), alive(child)]).toEqual([true, true]);
			await n8n.stop();
			expect(n8n.exited()).toBe(true);
			for (let i = 0; i < 40 && alive(child); i++) await new Promise((r) => setTimeout(r, 50));
			expect([alive(main), alive(child)]).toEqual([false, false]);
		} finally {
			await n8n.stop();
		}
	});
});

describe('ensureRuntime', () => {
	it('is a cheap check when the marker and binaries are there (no install)', async () => {
		const cacheDir = path.join(dir, 'cache-warm');
		const root = runtimeRoot('9.9.9', cacheDir);
		const nodeBin = path.join(root, 'node24', 'node_modules', '.bin', 'node');
		const n8nBin = path.join(root, 'n8n', 'node_modules', 'n8n', 'bin', 'n8n');
		for (const f of [nodeBin, n8nBin]) {
			fs.mkdirSync(path.dirname(f), { recursive: true });
			fs.writeFileSync(f, '');
		}
		fs.writeFileSync(path.join(root, '.ready'), JSON.stringify({ n8nVersion: '9.9.9' }));
		const lines: string[] = [];
		const t = Date.now();
		const rt = await ensureRuntime({ n8nVersion: '9.9.9', cacheDir, log: (l) => lines.push(l) });
		expect(Date.now() - t).toBeLessThan(1_000);
		expect(rt).toMatchObject({ root, nodeBin, n8nBin, n8nVersion: '9.9.9' });
		expect(lines).toEqual([]);
	});

	it('without the marker waits for the install lock of a live process, bounded, and never installs beside it', async () => {
		const cacheDir = path.join(dir, 'cache-locked');
		const root = runtimeRoot('9.9.8', cacheDir);
		fs.mkdirSync(root, { recursive: true });
		fs.writeFileSync(path.join(root, '.lock'), String(process.pid)); // a live holder
		const lines: string[] = [];
		await expect(
			ensureRuntime({
				n8nVersion: '9.9.8',
				cacheDir,
				lockWaitMs: 1_000,
				log: (l) => lines.push(l),
			}),
		).rejects.toThrow(`another process (pid ${process.pid}) still holds`);
		expect(lines.join('\n')).toContain(`waiting for pid ${process.pid}`);
		expect(fs.readdirSync(root).sort()).toEqual(['.lock']);
	});

	it('waits for an npm already installing in the folder without the lock, then uses what it finished', async () => {
		const cacheDir = path.join(dir, 'cache-foreign');
		const root = runtimeRoot('9.9.7', cacheDir);
		const nodeBin = path.join(root, 'node24', 'node_modules', '.bin', 'node');
		const n8nBin = path.join(root, 'n8n', 'node_modules', 'n8n', 'bin', 'n8n');
		for (const f of [nodeBin, n8nBin]) {
			fs.mkdirSync(path.dirname(f), { recursive: true });
			fs.writeFileSync(f, '');
		}
		// a stand-in "npm" (argv ends in npm, cwd in the folder) that writes the marker as it finishes
		const script = `setTimeout(() => { require('fs').writeFileSync(${JSON.stringify(path.join(root, '.ready'))}, '{}'); }, 1500)`;
		const fake = spawn(process.execPath, ['-e', script, 'npm'], { cwd: root, stdio: 'ignore' });
		try {
			for (let i = 0; i < 40 && !foreignNpmPids(root).includes(fake.pid!); i++)
				await new Promise((r) => setTimeout(r, 50));
			expect(foreignNpmPids(root)).toEqual([fake.pid]);
			// bounded: a short wait gives up with the pid, installs nothing
			await expect(
				ensureRuntime({ n8nVersion: '9.9.7', cacheDir, lockWaitMs: 200, log: quiet }),
			).rejects.toThrow(`npm (pid ${fake.pid}) is still working in ${root}`);
			const lines: string[] = [];
			const rt = await ensureRuntime({
				n8nVersion: '9.9.7',
				cacheDir,
				lockWaitMs: 10_000,
				log: (l) => lines.push(l),
			});
			expect(rt).toMatchObject({ nodeBin, n8nBin });
			expect(lines.join('\n')).toContain(`npm (pid ${fake.pid}) is already installing`);
			expect(lines.join('\n')).not.toContain('installing n8n');
			expect(fs.existsSync(path.join(root, '.lock'))).toBe(false);
		} finally {
			fake.kill('SIGKILL');
		}
	});
});
