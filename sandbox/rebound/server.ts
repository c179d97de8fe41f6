/**
 * The ReBound sandbox: the documented legacy API (form-encoded POSTs to
 * `/api/<call>/json`, `{"success": …}` / `{"error": {code, message[]}}`) on
 * 127.0.0.1, state from a fixture, a lifecycle driven through the admin API
 * that fires signed webhooks (the MODELED push format), fault injection per
 * call name. See README.md.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type FaultConfig } from '../shared/faults';
import {
	CallLog,
	HeldSockets,
	parseJsonBody,
	readBody,
	routeAdmin,
	sendJson,
	sendText,
	serveGatedCall,
	type AdminHandler,
} from '../shared/http';
import {
	ReboundState,
	SandboxError,
	loadFixture,
	type Fixture,
	type ReboundReturn,
	type ReturnStatus,
} from './state';
import {
	WebhookDispatcher,
	validateWebhookOptions,
	type WebhookEventBody,
	type WebhookOptions,
	type WebhookSigning,
} from './webhooks';

export interface ReboundSandboxOptions {
	port?: number;
	host?: '127.0.0.1';
	fixture?: string | object;
	seed?: number;
	/** Most calls the call log keeps (default 10,000; the bench's long phases need more). */
	callLogMax?: number;
	/** Clock for date_added / tracking times (tests); default Date.now. */
	now?: () => number;
}

export interface ReboundSandbox {
	/** Base URL of the legacy API, what ReboundConfig.baseUrl takes: http://127.0.0.1:<port>/api */
	url: string;
	adminUrl: string;
	port: number;
	state: ReboundState;
	faults: FaultInjector;
	calls: CallLog;
	webhooks: WebhookDispatcher;
	close(): Promise<void>;
}

/** The calls the legacy API answers (fault rules use these names, or '*'). */
export const CALLS = ['returns/search', 'returns/get', 'tracking/get'] as const;

export const ERROR_MESSAGES: Record<string, string> = {
	request_empty: 'Request is empty',
	json_invalid: 'Request is not valid JSON',
	login_empty: 'Login is empty',
	api_key_empty: 'API key is empty',
	access_denied: 'Access denied: login or API key is wrong',
	ip_blocked: 'Your IP address is blocked after repeated failed logins',
	unknown_call: 'Unknown API call',
	request_wrong: 'Request is wrong',
	internal: 'Internal error, please try again later',
	empty: 'No results',
};

class ApiError extends Error {
	constructor(
		readonly code: string,
		readonly messages: string[] = [ERROR_MESSAGES[code] ?? code],
	) {
		super(`${code}: ${messages.join('; ')}`);
	}
}

function signingOf(fixture: Fixture): WebhookSigning {
	const w = fixture.webhook;
	return {
		secret: w.secret,
		signatureHeader: w.signatureHeader,
		timestampHeader: w.timestampHeader,
		encoding: w.encoding,
		signTimestamp: w.signTimestamp,
		toleranceSeconds: w.toleranceSeconds,
		prefix: w.prefix || undefined,
	};
}

function optionsOf(fixture: Fixture, seed: number | undefined): Partial<WebhookOptions> {
	const w = fixture.webhook;
	return {
		maxAttempts: w.maxAttempts,
		baseDelayMs: w.baseDelayMs,
		maxDelayMs: w.maxDelayMs,
		timeoutMs: w.timeoutMs,
		seed: seed ?? 1,
	};
}

const ymd = (v: unknown, field: string): string => {
	if (typeof v !== 'string' || !/^\d{4}[/-]\d{2}[/-]\d{2}$/.test(v))
		throw new ApiError('request_wrong', [`filter.${field} must be a date YYYY/MM/DD`]);
	const s = v.replace(/\//g, '-');
	if (
		Number.isNaN(Date.parse(`${s}T00:00:00Z`)) ||
		new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) !== s
	)
		throw new ApiError('request_wrong', [`filter.${field} "${v}" is not a calendar date`]);
	return s;
};
const isObj = (v: unknown): v is Record<string, unknown> =>
	typeof v === 'object' && v !== null && !Array.isArray(v);

export async function startReboundSandbox(
	opts: ReboundSandboxOptions = {},
): Promise<ReboundSandbox> {
	let fixture = loadFixture(opts.fixture);
	const state = new ReboundState(fixture, opts.now);
	const faults = new FaultInjector(fixture.faults ?? {}, opts.seed);
	const calls = new CallLog(opts.callLogMax);
	const held = new HeldSockets();
	const webhooks = new WebhookDispatcher(signingOf(fixture), optionsOf(fixture, opts.seed));
	for (const t of fixture.webhook.targets) webhooks.register(t);
	const events: WebhookEventBody[] = [];

	const fire = (r: ReboundReturn, status: ReturnStatus): string | null => {
		const type = fixture.webhook.eventNames[status];
		if (!type) return null;
		const event: WebhookEventBody = {
			id: `evt_${randomUUID()}`,
			event: type,
			occurred_at: new Date(opts.now?.() ?? Date.now()).toISOString(),
			sequence: r.sequence,
			data: state.wire(r, false),
		};
		events.push(event);
		if (events.length > 5000) events.splice(0, events.length - 5000);
		webhooks.emit(event);
		return event.id;
	};
	const move = (r: ReboundReturn, to: ReturnStatus): string | null => {
		state.transition(r, to);
		return fire(r, to);
	};
	const returnOf = (params: Record<string, string>): ReboundReturn => {
		if (!/^\d+$/.test(params.id ?? '')) throw new SandboxError(`"${params.id}" is not a return id`);
		return state.get(Number(params.id));
	};
	const view = (r: ReboundReturn) => ({
		...state.wire(r, false),
		status: r.status,
		sequence: r.sequence,
		history: r.history,
	});

	// ---- the legacy API ----
	const handleCall = (call: string, request: Record<string, unknown>): unknown => {
		switch (call) {
			case 'returns/search': {
				if (!isObj(request.filter))
					throw new ApiError('request_wrong', [
						'filter is required: {"filter": {"date_from": "YYYY/MM/DD", "date_to": "YYYY/MM/DD"}}',
					]);
				const from = ymd(request.filter.date_from, 'date_from');
				const to = ymd(request.filter.date_to, 'date_to');
				if (from > to)
					throw new ApiError('request_wrong', ['filter.date_from is after filter.date_to']);
				const ids = state.search(from, to);
				if (!ids.length) throw new ApiError('empty');
				return { id: ids.map(String) };
			}
			case 'returns/get': {
				const q = request.return;
				if (!isObj(q))
					throw new ApiError('request_wrong', [
						'return is required: {"return": {"id": 123, "type": "id"}}',
					]);
				const type = q.type === undefined ? 'id' : q.type;
				if (typeof type !== 'string' || !['id', 'display_id', 'external_id'].includes(type))
					throw new ApiError('request_wrong', [
						'return.type must be id, display_id or external_id',
					]);
				if (typeof q.id !== 'number' && typeof q.id !== 'string')
					throw new ApiError('request_wrong', ['return.id is required']);
				const r = state.find(String(q.id).trim(), type);
				if (!r) throw new ApiError('empty');
				return state.wire(r, true);
			}
			case 'tracking/get': {
				const q = request.tracking;
				if (!isObj(q) || typeof q.code !== 'string' || q.code.trim() === '')
					throw new ApiError('request_wrong', [
						'tracking.code is required: {"tracking": {"code": "..."}}',
					]);
				const r = state.findByTracking(q.code.trim());
				if (!r) throw new ApiError('empty');
				// the public tap's tracking schema (it adds tracking_code itself)
				return {
					tracking_code: r.tracking,
					pallet_number: null,
					source_country: r.country,
					carrier_name: r.carrier,
					service_id: null,
					external_id: r.external_id,
					order_reference: r.order_reference,
					track: r.history.map((h, i) => ({
						dt: h.date,
						status: h.status,
						location:
							i < 2
								? { country: r.country, state: r.state, city: r.city }
								: { country: 'GB', state: '', city: 'Hub' },
					})),
				};
			}
			default:
				throw new ApiError('unknown_call', [`Unknown API call ${call}`]);
		}
	};

	const apiRequest = async (
		req: http.IncomingMessage,
		res: http.ServerResponse,
		path: string,
	): Promise<void> => {
		const started = Date.now();
		const m = /^\/api\/(.+?)\/(json|xml)$/.exec(path);
		const call = m ? m[1] : path.replace(/^\/api\/?/, '') || '(none)';
		const body = await readBody(req);
		const log = (outcome: string, status: number | null, detail: string | null) =>
			calls.add({
				at: new Date(started).toISOString(),
				method: call,
				durationMs: Date.now() - started,
				outcome,
				status,
				detail,
			});
		// the concurrency limit and injected HTTP faults (shared with the other sandbox)
		await serveGatedCall(call, req, res, faults, held, log, (decision) => {
			const reply = (payload: unknown, outcome: string, detail: string | null) => {
				const text = JSON.stringify(payload);
				if (decision.fault?.kind === 'dropAfter') {
					req.socket.destroy();
					log('injected:dropAfter', null, detail);
					return;
				}
				sendText(res, 200, 'application/json; charset=utf-8', text);
				log(outcome, 200, detail);
			};
			const fail = (e: ApiError, detail: string | null) =>
				reply(
					{ error: { code: e.code, message: e.messages } },
					e.code === 'empty' ? 'empty' : `error:${e.code}`,
					detail,
				);
			if (decision.fault?.kind === 'fault') {
				fail(
					new ApiError('internal', [decision.fault.faultString ?? ERROR_MESSAGES.internal]),
					decision.fault.rule,
				);
				return;
			}
			const address = req.socket.remoteAddress ?? 'unknown';
			const form = new URLSearchParams(body);
			const requestText = form.get('request') ?? '';
			const detail = requestText ? requestText.slice(0, 200) : null;
			try {
				if (state.isBlocked(address)) throw new ApiError('ip_blocked');
				const login = (form.get('login') ?? '').trim();
				const apiKey = (form.get('api_key') ?? '').trim();
				if (!login) throw new ApiError('login_empty');
				if (!apiKey) throw new ApiError('api_key_empty');
				if (login !== state.credentials.login || apiKey !== state.credentials.apiKey) {
					state.failLogin(address);
					throw new ApiError('access_denied');
				}
				state.loginOk(address);
				if (!m || m[2] !== 'json' || !(CALLS as readonly string[]).includes(call)) {
					throw new ApiError('unknown_call', [
						m && m[2] === 'xml'
							? 'The sandbox answers /json calls only'
							: `Unknown API call ${call}`,
					]);
				}
				if (requestText.trim() === '') throw new ApiError('request_empty');
				let request: unknown;
				try {
					request = JSON.parse(requestText);
				} catch {
					throw new ApiError('json_invalid');
				}
				if (!isObj(request)) throw new ApiError('request_wrong', ['request must be a JSON object']);
				reply({ success: handleCall(call, request) }, 'ok', detail);
			} catch (error) {
				if (error instanceof ApiError) fail(error, detail);
				else
					fail(
						new ApiError('internal', [ERROR_MESSAGES.internal]),
						error instanceof Error ? error.message : String(error),
					);
			}
		});
	};

	// ---- the admin API ----
	const json = (body: string) => parseJsonBody(body) as Record<string, unknown>;
	const adminRoutes: Record<string, AdminHandler> = {
		'GET /__admin/state': ({ res }) =>
			sendJson(res, 200, {
				...state.snapshot(),
				webhooks: {
					targets: webhooks.listTargets(),
					options: webhooks.current,
					pending: webhooks.pendingCount,
				},
				faults: faults.current,
				lastCallSeq: calls.lastSeq,
			}),
		'GET /__admin/calls': ({ res, url }) => {
			const since = Number(url.searchParams.get('since') ?? '0');
			sendJson(res, 200, {
				calls: calls.since(Number.isFinite(since) ? since : 0),
				lastSeq: calls.lastSeq,
			});
		},
		'POST /__admin/reset': ({ res, body }) => {
			const b = json(body) as { fixture?: object; clearCalls?: boolean };
			if (b.fixture) fixture = loadFixture(b.fixture);
			state.reset(fixture);
			faults.configure(fixture.faults ?? {}, opts.seed);
			webhooks.reset(signingOf(fixture), optionsOf(fixture, opts.seed), fixture.webhook.targets);
			events.length = 0;
			held.releaseAll();
			if (b.clearCalls !== false) calls.clear();
			sendJson(res, 200, { ok: true, returns: state.returns.size });
		},
		'GET /__admin/faults': ({ res }) =>
			sendJson(res, 200, { ...faults.current, webhooks: webhooks.current }),
		'POST /__admin/faults': ({ res, body }) => {
			const {
				merge,
				webhooks: wh,
				...config
			} = json(body) as FaultConfig & { merge?: boolean; webhooks?: unknown };
			const whOptions = wh === undefined ? null : validateWebhookOptions(wh);
			if (merge) faults.merge(config);
			else faults.configure(config, config.seed ?? opts.seed);
			if (whOptions) webhooks.configure(whOptions);
			sendJson(res, 200, { ...faults.current, webhooks: webhooks.current });
		},
		'POST /__admin/unblock': ({ res, body }) => {
			const b = json(body) as { address?: string };
			state.unblock(b.address);
			sendJson(res, 200, { ok: true });
		},
		'GET /__admin/returns/:id': ({ res, params }) => sendJson(res, 200, view(returnOf(params))),
		'POST /__admin/returns': ({ res, body }) => {
			const b = json(body);
			const r = state.add({
				...b,
				status: 'created',
				item: (Array.isArray(b.item) ? b.item : []).map((it: unknown) =>
					isObj(it) ? { ...it, final_disposition: null } : it,
				),
			});
			const eventId = fire(r, 'created');
			sendJson(res, 201, { return: view(r), events: eventId ? [eventId] : [] });
		},
		'POST /__admin/returns/bulk': ({ res, body }) => {
			const b = json(body) as {
				count?: number;
				seed?: number;
				graded?: boolean;
				linesPerReturn?: number;
				endDate?: string;
				days?: number;
				events?: boolean;
			};
			const made = state.bulk({
				count: Number(b.count),
				seed: b.seed,
				graded: b.graded !== false,
				linesPerReturn: b.linesPerReturn,
				endDate: b.endDate,
				days: b.days,
			});
			if (b.events) for (const r of made) fire(r, r.status);
			sendJson(res, 201, {
				count: made.length,
				firstId: made[0]?.id ?? null,
				lastId: made[made.length - 1]?.id ?? null,
				dateFrom: made
					.reduce((a, r) => (r.date_added < a ? r.date_added : a), made[0].date_added)
					.slice(0, 10),
				dateTo: made
					.reduce((a, r) => (r.date_added > a ? r.date_added : a), made[0].date_added)
					.slice(0, 10),
			});
		},
		'POST /__admin/returns/:id/advance': ({ res, params, body }) => {
			const r = returnOf(params);
			const b = json(body) as { to?: string; dispositions?: unknown };
			const steps = state.path(r, b.to);
			if (steps.includes('graded')) {
				const before = r.item.map((i) => i.final_disposition);
				if (b.dispositions !== undefined) state.grade(r, b.dispositions);
				const missing = r.item
					.map((it, i) => (it.final_disposition ? 0 : i + 1))
					.filter((i) => i > 0);
				if (missing.length) {
					r.item.forEach((it, i) => (it.final_disposition = before[i]));
					throw new SandboxError(
						`return ${r.id} cannot be graded: line(s) ${missing.join(', ')} have no final_disposition (pass "dispositions" or POST /__admin/returns/${r.id}/grade first)`,
						409,
					);
				}
			} else if (b.dispositions !== undefined) {
				throw new SandboxError(
					`dispositions are only taken when the return reaches graded (it goes to ${steps[steps.length - 1]})`,
				);
			}
			const ids = steps.map((s) => move(r, s)).filter((x): x is string => x !== null);
			sendJson(res, 200, { return: view(r), events: ids });
		},
		'POST /__admin/returns/:id/grade': ({ res, params, body }) => {
			const r = returnOf(params);
			if (r.status !== 'at_hub' && r.status !== 'graded')
				throw new SandboxError(
					`return ${r.id} is ${r.status}: only a return at the hub (or already graded) can be graded`,
					409,
				);
			const b = json(body);
			if (b.dispositions === undefined)
				throw new SandboxError(
					'body must be {"dispositions": {"<sku or 1-based line>": "<disposition>"}}',
				);
			const changed = state.grade(r, b.dispositions);
			const complete = r.item.every((it) => it.final_disposition);
			let eventId: string | null = null;
			if (complete) eventId = move(r, 'graded');
			else if (r.status === 'graded')
				throw new SandboxError(`return ${r.id} is graded: a disposition cannot be removed`, 409);
			sendJson(res, 200, {
				return: view(r),
				changedLines: changed,
				complete,
				events: eventId ? [eventId] : [],
			});
		},
		// MODELED: the refund ReBound reports (refund_total). Setting it fires no event: the return's next
		// event, and returns/get from now on, carry it.
		'POST /__admin/returns/:id/refund': ({ res, params, body }) => {
			const r = returnOf(params);
			const b = json(body);
			if (!('refund_total' in b))
				throw new SandboxError('body must be {"refund_total": "24.13"} (or null: no refund)');
			state.setRefund(r, b.refund_total);
			sendJson(res, 200, { return: view(r) });
		},
		'POST /__admin/returns/:id/cancel': ({ res, params }) => {
			const r = returnOf(params);
			state.path(r, 'cancelled');
			const eventId = move(r, 'cancelled');
			sendJson(res, 200, { return: view(r), events: eventId ? [eventId] : [] });
		},
		'GET /__admin/webhooks': ({ res }) =>
			sendJson(res, 200, {
				targets: webhooks.listTargets(),
				options: webhooks.current,
				pending: webhooks.pendingCount,
			}),
		'POST /__admin/webhooks': ({ res, body }) => {
			const b = json(body);
			if (typeof b.url !== 'string')
				throw new SandboxError('body must be {"url": "http://127.0.0.1:<port>/path"}');
			sendJson(res, 201, webhooks.register(b.url));
		},
		'DELETE /__admin/webhooks': ({ res, body, url }) => {
			const b = json(body);
			const key =
				typeof b.url === 'string'
					? b.url
					: typeof b.id === 'string'
						? b.id
						: (url.searchParams.get('url') ?? url.searchParams.get('id'));
			if (!key)
				throw new SandboxError('give the target as {"url": …} or {"id": …} (or ?url= / ?id=)');
			if (!webhooks.unregister(key)) throw new SandboxError(`no webhook target ${key}`, 404);
			sendJson(res, 200, { ok: true, targets: webhooks.listTargets() });
		},
		'DELETE /__admin/webhooks/:id': ({ res, params }) => {
			if (!webhooks.unregister(params.id))
				throw new SandboxError(`no webhook target ${params.id}`, 404);
			sendJson(res, 200, { ok: true, targets: webhooks.listTargets() });
		},
		'POST /__admin/webhooks/options': ({ res, body }) =>
			sendJson(res, 200, webhooks.configure(validateWebhookOptions(json(body)))),
		'POST /__admin/webhooks/flush': async ({ res, body }) => {
			const b = json(body) as { timeoutMs?: number };
			const timeoutMs = Math.min(Math.max(Number(b.timeoutMs ?? 10_000) || 0, 0), 120_000);
			sendJson(res, 200, await webhooks.flush(timeoutMs));
		},
		'GET /__admin/deliveries': ({ res, url }) => {
			const since = Number(url.searchParams.get('since') ?? '0');
			sendJson(res, 200, {
				deliveries: webhooks.deliveries(Number.isFinite(since) ? since : 0),
				pending: webhooks.pendingCount,
			});
		},
		'GET /__admin/events': ({ res }) => sendJson(res, 200, { events }),
	};

	const server = http.createServer((req, res) => {
		void (async () => {
			if (await routeAdmin(req, res, adminRoutes)) return;
			const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
			if (path === '/api' || path.startsWith('/api/')) {
				if (req.method !== 'POST') {
					sendText(
						res,
						405,
						'text/plain; charset=utf-8',
						'Every ReBound API call is an HTTP POST',
						{ allow: 'POST' },
					);
					return;
				}
				await apiRequest(req, res, path);
				return;
			}
			sendText(
				res,
				404,
				'text/plain; charset=utf-8',
				'Not found (the API is under /api, the admin API under /__admin)',
			);
		})().catch((error: unknown) => {
			if (!res.headersSent)
				sendText(
					res,
					500,
					'text/plain; charset=utf-8',
					`sandbox error: ${error instanceof Error ? error.message : String(error)}`,
				);
		});
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
	});
	const port = (server.address() as AddressInfo).port;
	return {
		url: `http://127.0.0.1:${port}/api`,
		adminUrl: `http://127.0.0.1:${port}/__admin`,
		port,
		state,
		faults,
		calls,
		webhooks,
		close: () =>
			new Promise<void>((resolve) => {
				webhooks.close();
				held.releaseAll();
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}
