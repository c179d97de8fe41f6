/**
 * One real n8n process on 127.0.0.1 with fixed settings (docs/e2e.md), plus the
 * owner setup, API key creation and a small public-API client. Secrets (owner
 * password, API key) are generated per run and never logged; error messages
 * built from responses are passed through redactSecrets.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { redactSecrets } from '../../core/exceptions';
import { spawnGroup } from './processGroup';
import { ensureRuntime, type Log, type Runtime } from './runtime';

/** Fixed so credentials imported into one user folder stay readable across restarts. Test-only value. */
export const E2E_ENCRYPTION_KEY = 'rebound-khaos-e2e-fixed-encryption-key-not-a-secret';

export interface StartN8nOptions {
	userFolder: string;
	port: number;
	/** Task-runner broker port; a free one is picked when absent. */
	brokerPort?: number;
	/** Extra environment for n8n (wins over the fixed settings). */
	env?: Record<string, string>;
	log?: Log;
	/** Runtime from ensureRuntime(); ensured (default version) when absent. */
	runtime?: Runtime;
	/** Bound for /healthz/readiness (ms), default 150 s. */
	readyTimeoutMs?: number;
	/** n8n's command: `start` (default: editor, schedules, webhooks), `webhook` or `worker` (queue mode). */
	command?: 'start' | 'webhook' | 'worker';
	/** Extra command-line arguments (e.g. `--concurrency=10` for a worker). */
	args?: string[];
	/** A label for the log lines, e.g. `worker 1`; default `n8n`. */
	label?: string;
}

export interface N8nInstance {
	baseUrl: string;
	port: number;
	brokerPort: number;
	pid: number;
	userFolder: string;
	/** Milliseconds from spawn to /healthz/readiness answering 200. */
	startupMs: number;
	/** SIGTERM to the process group, then SIGKILL after a bound; resolves when it has exited. */
	stop(timeoutMs?: number): Promise<void>;
	/** Signal the whole process group (e.g. SIGKILL to simulate a crash); resolves when it has exited. */
	kill(signal?: NodeJS.Signals): Promise<void>;
	/** n8n's stdout+stderr so far. */
	logs(): string;
	/** Resident memory in kB: n8n's main process and the whole group (task runner included). */
	rssKb(): { main: number; group: number };
	exited(): boolean;
	/** `start`, `webhook` or `worker`. */
	command: 'start' | 'webhook' | 'worker';
	label: string;
	/** The URL its production webhooks are reached at (the process itself; a topology may put nginx in front). */
	webhookBaseUrl: string;
	/** Stops it (if still running) and starts it again with the same options; resolves with the new instance. */
	restart(): Promise<N8nInstance>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (bind 0, read, close). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
	});
}

/** Rejects with a clear message when something already listens on 127.0.0.1:port. */
export function assertPortFree(port: number, what = 'n8n'): Promise<void> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once('error', (e: NodeJS.ErrnoException) =>
			reject(
				new Error(
					e.code === 'EADDRINUSE'
						? `port ${port} on 127.0.0.1 is already in use; cannot start ${what} there`
						: `cannot bind 127.0.0.1:${port} for ${what}: ${e.message}`,
				),
			),
		);
		srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
	});
}

/** The fixed settings every harness-started n8n gets (see docs/e2e.md). */
export function n8nEnv(opts: {
	userFolder: string;
	port: number;
	brokerPort: number;
	runtime: Runtime;
}): Record<string, string> {
	const baseUrl = `http://127.0.0.1:${opts.port}`;
	return {
		N8N_USER_FOLDER: opts.userFolder,
		N8N_PORT: String(opts.port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		N8N_EDITOR_BASE_URL: `${baseUrl}/`,
		N8N_WEBHOOK_URL: `${baseUrl}/`,
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		N8N_ENCRYPTION_KEY: E2E_ENCRYPTION_KEY,
		N8N_SECURE_COOKIE: 'false',
		DB_TYPE: 'sqlite',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_PUBLIC_API_DISABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_LOG_LEVEL: 'warn',
		N8N_LOG_OUTPUT: 'console',
		N8N_RUNNERS_BROKER_PORT: String(opts.brokerPort),
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
		EXECUTIONS_DATA_SAVE_ON_ERROR: 'all',
		EXECUTIONS_DATA_SAVE_ON_PROGRESS: 'false',
		EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS: 'true',
		EXECUTIONS_DATA_PRUNE: 'false',
		// n8n's vm expression engine builds an isolate (~50 ms of CPU on this machine) for every
		// execution, and for every webhook request to a node other than its own Webhook node, whether
		// or not an expression is evaluated. Lazy: only when one is. The recommended setting for the
		// package (docs/deployment.md): with it a burst of deliveries pays isolates per intake run,
		// not per delivery, and an idle processor tick (a static read) none. Both bench variants get it.
		N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true',
		// n8n (and its task runner) must run on Node 24: its bin folder first on PATH, for this process only
		PATH: `${opts.runtime.nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`,
		HOME: opts.userFolder,
	};
}

/**
 * The inherited environment without anything that would change n8n's behaviour.
 * NODE_ENV=test (set by jest) makes n8n's bin exit 0 at once, silently.
 */
function cleanParentEnv(): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (v === undefined) continue;
		if (
			/^(N8N_|DB_|EXECUTIONS_|QUEUE_|WEBHOOK_|GENERIC_|NODE_OPTIONS$|NODE_PATH$|NODE_ENV$|JEST_|npm_)/.test(
				k,
			)
		)
			continue;
		out[k] = v;
	}
	return out;
}

function procGroupRssKb(pgid: number): { main: number; group: number } {
	let main = 0;
	let group = 0;
	let entries: string[] = [];
	try {
		entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
	} catch {
		return { main, group };
	}
	for (const pid of entries) {
		try {
			const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
			// fields after the ")" of the comm: state ppid pgrp ...
			const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (Number(rest[2]) !== pgid) continue;
			const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
			const kb = m ? Number(m[1]) : 0;
			group += kb;
			if (Number(pid) === pgid) main = kb;
		} catch {
			/* process went away */
		}
	}
	return { main, group };
}

/**
 * Spawns n8n (Node 24) in its own process group and waits, bounded, for
 * /healthz/readiness. Fails loudly (with the tail of n8n's log) when the port
 * is taken, n8n exits early or is not ready in time.
 */
export async function startN8n(options: StartN8nOptions): Promise<N8nInstance> {
	const log: Log = options.log ?? ((l) => console.log(l));
	const runtime = options.runtime ?? (await ensureRuntime({ log }));
	const { userFolder, port } = options;
	const command = options.command ?? 'start';
	const label = options.label ?? 'n8n';
	await assertPortFree(port);
	const brokerPort = options.brokerPort ?? (await freePort());
	await assertPortFree(brokerPort, "n8n's task broker");
	fs.mkdirSync(userFolder, { recursive: true });
	const baseUrl = `http://127.0.0.1:${port}`;
	const env = {
		...cleanParentEnv(),
		...n8nEnv({ userFolder, port, brokerPort, runtime }),
		// a worker answers /healthz/readiness on its health-check port only when asked to
		...(command === 'worker'
			? {
					QUEUE_HEALTH_CHECK_ACTIVE: 'true',
					QUEUE_HEALTH_CHECK_PORT: String(port),
					N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
				}
			: {}),
		...(options.env ?? {}),
	};

	const t0 = Date.now();
	log(
		`[${label}] starting n8n ${runtime.n8nVersion} ${command} on ${baseUrl} (broker ${brokerPort}, user folder ${userFolder})`,
	);
	const group = spawnGroup(runtime.nodeBin, [runtime.n8nBin, command, ...(options.args ?? [])], {
		cwd: userFolder,
		env,
		logFile: path.join(userFolder, 'n8n.log'),
	});
	const pid = group.pid;
	const tailOfLog = (n = 40) => group.output().split('\n').slice(-n).join('\n');
	const stop = (timeoutMs = 15_000) =>
		group.terminate(timeoutMs, () =>
			log(`[${label}] did not stop within ${timeoutMs / 1000} s, SIGKILL`),
		);
	const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
		group.signal(signal);
		await group.waitExit(15_000);
	};

	const readyTimeoutMs = options.readyTimeoutMs ?? 150_000;
	const deadline = t0 + readyTimeoutMs;
	let lastError = '';
	for (;;) {
		if (group.exitInfo() !== null) {
			throw new Error(
				`[${label}] exited before it was ready (${group.exitInfo()}). Last lines of its log:\n${tailOfLog()}`,
			);
		}
		if (Date.now() > deadline) {
			await stop(5_000);
			throw new Error(
				`[${label}] not ready after ${readyTimeoutMs / 1000} s (${lastError}). Last lines of its log:\n${tailOfLog()}`,
			);
		}
		try {
			const res = await fetch(`${baseUrl}/healthz/readiness`, {
				signal: AbortSignal.timeout(2_000),
			});
			if (res.status === 200) break;
			lastError = `readiness HTTP ${res.status}`;
		} catch (e) {
			lastError = e instanceof Error ? e.message : String(e);
		}
		await sleep(500);
	}
	const startupMs = Date.now() - t0;
	log(`[${label}] ready in ${(startupMs / 1000).toFixed(1)} s (pid ${pid})`);

	return {
		command,
		label,
		webhookBaseUrl: baseUrl,
		restart: async () => {
			if (group.exitInfo() === null) await stop();
			return startN8n({ ...options, runtime, brokerPort });
		},
		baseUrl,
		port,
		brokerPort,
		pid,
		userFolder,
		startupMs,
		stop,
		kill,
		logs: () => group.output(),
		rssKb: () => procGroupRssKb(pid),
		exited: () => group.exitInfo() !== null,
	};
}

/**
 * n8n's complaints about community packages in its log: "Failed to load
 * package …" and the line after it (the require/load error). n8n refuses the
 * whole package when one node fails, so this explains "unknown node type".
 */
export function packageLoadErrors(logs: string): string[] {
	const lines = logs.split('\n');
	const out: string[] = [];
	lines.forEach((l, i) => {
		if (/Failed to load (package|node|credential)/i.test(l))
			out.push(`${l.trim()} — ${(lines[i + 1] ?? '').trim()}`);
	});
	return out;
}

// ---------------------------------------------------------------------------
// Owner, API key, public API client

export interface Owner {
	email: string;
	password: string;
	/** `n8n-auth=<jwt>` for the REST (editor) API. */
	cookie: string;
	/** Sent as the browser-id header with every cookie request (n8n binds sessions to it). */
	browserId: string;
}

export class N8nHttpError extends Error {
	constructor(
		message: string,
		readonly status: number,
		readonly body: string,
	) {
		super(message);
		this.name = 'N8nHttpError';
	}
}

async function call(
	baseUrl: string,
	method: string,
	urlPath: string,
	opts: {
		body?: unknown;
		headers?: Record<string, string>;
		secrets?: string[];
		timeoutMs?: number;
	} = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
	const res = await fetch(`${baseUrl}${urlPath}`, {
		method,
		headers: {
			accept: 'application/json',
			...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
			...(opts.headers ?? {}),
		},
		body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
		signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
	});
	const text = await res.text();
	let json: any;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = undefined;
	}
	if (res.status >= 400) {
		const safe = redactSecrets(text.slice(0, 2000), opts.secrets ?? []);
		throw new N8nHttpError(`${method} ${urlPath} → HTTP ${res.status}: ${safe}`, res.status, safe);
	}
	return { status: res.status, headers: res.headers, text, json };
}

/** Meets n8n's password rules (8-64 chars, a digit, an upper-case letter). */
function generatePassword(): string {
	return `Rk9-${randomBytes(18).toString('base64url')}`;
}

/** POST /rest/owner/setup on a fresh instance → the owner and a session cookie. */
export async function setupOwner(baseUrl: string, opts: { email?: string } = {}): Promise<Owner> {
	const email = opts.email ?? 'owner@e2e.rebound-khaos.invalid';
	const password = generatePassword();
	const browserId = `rk-e2e-${randomBytes(8).toString('hex')}`;
	const res = await call(baseUrl, 'POST', '/rest/owner/setup', {
		body: { email, firstName: 'E2E', lastName: 'Owner', password },
		headers: { 'browser-id': browserId },
		secrets: [password],
	});
	const setCookies = res.headers.getSetCookie();
	const auth = setCookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('n8n-auth='));
	if (!auth) throw new Error('POST /rest/owner/setup returned no n8n-auth cookie');
	return { email, password, cookie: auth, browserId };
}

/** A REST (editor API) call with the owner's session cookie. */
export async function restCall(
	baseUrl: string,
	owner: Pick<Owner, 'cookie' | 'browserId'>,
	method: string,
	urlPath: string,
	body?: unknown,
): Promise<any> {
	const res = await call(baseUrl, method, urlPath, {
		body,
		headers: { cookie: owner.cookie, 'browser-id': owner.browserId },
		secrets: [owner.cookie.replace(/^n8n-auth=/, '')],
	});
	return res.json;
}

export interface ApiClient {
	baseUrl: string;
	/** The raw key (keep it out of logs). */
	apiKey: string;
	scopes: string[];
	request(method: string, urlPath: string, body?: unknown): Promise<any>;
	createDataTable(table: {
		name: string;
		columns: Array<{ name: string; type: 'string' | 'number' | 'boolean' | 'date' }>;
	}): Promise<{ id: string; projectId?: string; [k: string]: unknown }>;
	createWorkflow(workflow: {
		name: string;
		nodes: unknown[];
		connections: Record<string, unknown>;
		settings?: Record<string, unknown>;
	}): Promise<{ id: string; [k: string]: unknown }>;
	activateWorkflow(id: string): Promise<{ id: string; active: boolean; [k: string]: unknown }>;
	deactivateWorkflow(id: string): Promise<unknown>;
	listExecutions(
		workflowId: string,
		opts?: { includeData?: boolean; status?: string; limit?: number },
	): Promise<Array<{ id: string; status: string; finished: boolean; [k: string]: unknown }>>;
	getExecution(id: string, includeData?: boolean): Promise<any>;
	createCredential(cred: {
		name: string;
		type: string;
		data: Record<string, unknown>;
	}): Promise<{ id: string; name: string; type: string; [k: string]: unknown }>;
}

/** GET /rest/api-keys/scopes, then POST /rest/api-keys with all of them → a public-API client. */
export async function createApiKey(
	baseUrl: string,
	owner: Pick<Owner, 'cookie' | 'browserId'>,
	label = `e2e-${Date.now()}`,
): Promise<ApiClient> {
	const scopesRes = await restCall(baseUrl, owner, 'GET', '/rest/api-keys/scopes');
	const scopes: string[] = scopesRes?.data ?? scopesRes;
	if (!Array.isArray(scopes) || scopes.length === 0)
		throw new Error('GET /rest/api-keys/scopes returned no scopes');
	const created = await restCall(baseUrl, owner, 'POST', '/rest/api-keys', {
		label,
		expiresAt: null,
		scopes,
	});
	const apiKey: string | undefined = created?.data?.rawApiKey;
	if (!apiKey) throw new Error('POST /rest/api-keys returned no rawApiKey');
	return apiClient(baseUrl, apiKey, scopes);
}

export function apiClient(baseUrl: string, apiKey: string, scopes: string[] = []): ApiClient {
	const request = async (method: string, urlPath: string, body?: unknown) =>
		(
			await call(baseUrl, method, `/api/v1${urlPath}`, {
				body,
				headers: { 'X-N8N-API-KEY': apiKey },
				secrets: [apiKey],
			})
		).json;
	return {
		baseUrl,
		apiKey,
		scopes,
		request,
		createDataTable: (table) => request('POST', '/data-tables', table),
		createWorkflow: (wf) =>
			request('POST', '/workflows', {
				settings: {
					saveDataSuccessExecution: 'all',
					saveDataErrorExecution: 'all',
					saveManualExecutions: true,
				},
				...wf,
			}),
		activateWorkflow: (id) => request('POST', `/workflows/${encodeURIComponent(id)}/activate`),
		deactivateWorkflow: (id) => request('POST', `/workflows/${encodeURIComponent(id)}/deactivate`),
		listExecutions: async (workflowId, opts = {}) => {
			const q = new URLSearchParams({ workflowId, limit: String(opts.limit ?? 100) });
			if (opts.includeData) q.set('includeData', 'true');
			if (opts.status) q.set('status', opts.status);
			const res = await request('GET', `/executions?${q.toString()}`);
			return res?.data ?? [];
		},
		getExecution: (id, includeData = true) =>
			request(
				'GET',
				`/executions/${encodeURIComponent(id)}?includeData=${includeData ? 'true' : 'false'}`,
			),
		createCredential: (cred) => request('POST', '/credentials', cred),
	};
}

/**
 * POSTs JSON to a production webhook (`<base>/webhook/<path>`). Activation
 * registers webhooks a moment after POST /workflows/{id}/activate answers
 * (measured: up to ~1 s), so a 404 "is not registered" is retried (bounded);
 * any other answer is returned as it is (the request was handled, never resent).
 */
export async function postWebhook(
	baseUrl: string,
	webhookPath: string,
	body: unknown,
	opts: {
		registerTimeoutMs?: number;
		requestTimeoutMs?: number;
		headers?: Record<string, string>;
	} = {},
): Promise<{ status: number; text: string; json: any; attempts: number }> {
	const deadline = Date.now() + (opts.registerTimeoutMs ?? 15_000);
	for (let attempts = 1; ; attempts++) {
		const res = await fetch(`${baseUrl}/webhook/${webhookPath}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
			body: JSON.stringify(body),
			signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 60_000),
		});
		const text = await res.text();
		if (res.status === 404 && text.includes('is not registered') && Date.now() < deadline) {
			await sleep(250);
			continue;
		}
		let json: any;
		try {
			json = text ? JSON.parse(text) : undefined;
		} catch {
			json = undefined;
		}
		return { status: res.status, text, json, attempts };
	}
}

/**
 * Polls listExecutions until `count` executions of the workflow have finished
 * (bounded). Returns them newest first.
 */
export async function waitForExecutions(
	api: ApiClient,
	workflowId: string,
	count: number,
	timeoutMs = 30_000,
): Promise<Array<{ id: string; status: string; finished: boolean }>> {
	const deadline = Date.now() + timeoutMs;
	let last: Array<{ id: string; status: string; finished: boolean }> = [];
	while (Date.now() < deadline) {
		last = await api.listExecutions(workflowId);
		const done = last.filter(
			(e) => e.status !== 'running' && e.status !== 'new' && e.status !== 'waiting',
		);
		if (done.length >= count) return done;
		await sleep(250);
	}
	throw new Error(
		`workflow ${workflowId}: ${last.length} execution(s) after ${timeoutMs / 1000} s, expected ${count} finished (statuses: ${last.map((e) => e.status).join(', ') || 'none'})`,
	);
}
