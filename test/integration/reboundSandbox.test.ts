import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientExhaustedError } from '../../transports/http';
import type { ReboundConfig } from '../../transports/rebound/api';
import { ReboundApiError, ReboundClient } from '../../transports/rebound/client';
import { normaliseReboundReturn } from '../../transports/rebound/normalise';
import { RawReturnSchema, REBOUND_ERROR_CODES } from '../../transports/rebound/schemas';
import {
	DEFAULT_WEBHOOK_SETTINGS,
	parseWebhookEvent,
	verifyWebhookSignature,
} from '../../transports/rebound/webhook';
import { startReboundSandbox, type ReboundSandbox } from '../../sandbox/rebound/server';
import { makeNodeHttpSend, realRetryDeps } from '../helpers/nodeHttpSend';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const LOGIN = 'demo-retailer';
const API_KEY = 'demo-api-key-0000';
const SECRET = 'demo-webhook-secret-0000';

let sb: ReboundSandbox;
const send = makeNodeHttpSend();

beforeEach(async () => {
	sb = await startReboundSandbox({ port: 0, seed: 3, now: () => NOW });
});
afterEach(async () => {
	await sb.close();
});

function makeClient(over: Partial<ReboundConfig> = {}) {
	const retries: string[] = [];
	const client = new ReboundClient(
		{
			baseUrl: sb.url,
			login: LOGIN,
			apiKey: API_KEY,
			timeoutMs: 2000,
			retry: { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 200, maxTotalMs: 20_000 },
			...over,
		},
		{ send, retry: { ...realRetryDeps, onRetry: (i) => retries.push(i.error.message) } },
	);
	return { client, retries };
}

async function admin(
	path: string,
	body?: unknown,
	method = body === undefined ? 'GET' : 'POST',
): Promise<{ status: number; json: any }> {
	const res = await fetch(`${sb.adminUrl}${path}`, {
		method,
		body: body === undefined ? undefined : JSON.stringify(body),
		headers: { 'content-type': 'application/json' },
	});
	return { status: res.status, json: await res.json() };
}

/** A raw legacy call (form-encoded POST), for asserting the envelope itself. */
async function raw(
	call: string,
	fields: Record<string, string>,
): Promise<{ status: number; json: any; text: string }> {
	const res = await fetch(`${sb.url}/${call}`, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(fields).toString(),
	});
	const text = await res.text();
	return { status: res.status, json: JSON.parse(text), text };
}

interface Received {
	headers: http.IncomingHttpHeaders;
	body: Buffer;
}

/** A local webhook receiver: answers `statuses` in turn (then 200), records everything. */
async function startReceiver(statuses: number[] = []) {
	const received: Received[] = [];
	const queue = [...statuses];
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			received.push({ headers: req.headers, body: Buffer.concat(chunks) });
			res.writeHead(queue.shift() ?? 200, { 'content-type': 'text/plain' });
			res.end('ok');
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
	return {
		url,
		received,
		events: () => received.map((r) => JSON.parse(r.body.toString('utf8'))),
		close: () =>
			new Promise<void>((r) => {
				server.close(() => r());
				server.closeAllConnections();
			}),
	};
}

const newReturn = (over: Record<string, unknown> = {}) => ({
	order_reference: 'WEB-1002',
	date_added: '2026-11-20 09:00:00',
	item: [
		{
			sku_code: 'HOODIE-GRY-L',
			sku_desc: 'Hoodie grey, large',
			quantity: 1,
			price: '55.00',
			reason: 'Too big',
		},
		{
			sku_code: 'MUG-WHT',
			sku_desc: 'Mug white',
			quantity: 2,
			price: '8.00',
			reason: 'Changed my mind',
		},
	],
	...over,
});

describe('legacy API through ReboundClient', () => {
	it('searches date windows by date_added, both edges inclusive, UTC', async () => {
		const { client } = makeClient();
		// default fixture relative to NOW (2026-11-20): 5001/5002 -3 days, 5003/5004 -2, 5005-5007 -1, 5008-5012 today
		expect(await client.searchReturnIds('2026/11/17', '2026/11/17')).toEqual(['5001', '5002']);
		expect(await client.searchReturnIds('2026/11/18', '2026/11/19')).toEqual([
			'5003',
			'5004',
			'5005',
			'5006',
			'5007',
		]);
		expect(await client.searchReturnIds('2026/11/01', '2026/11/10')).toEqual([]);
		// edges to the second: 23:59:59 on date_to is in, 00:00:00 the day after is out
		await admin('/returns', newReturn({ id: 7001, date_added: '2026-11-21 23:59:59' }));
		await admin('/returns', newReturn({ id: 7002, date_added: '2026-11-22 00:00:00' }));
		await admin('/returns', newReturn({ id: 7003, date_added: '2026-11-21 00:00:00' }));
		expect(await client.searchReturnIds('2026/11/21', '2026/11/21')).toEqual(['7001', '7003']);
		expect(await client.searchReturnIds('2026/11/22', '2026/11/30')).toEqual(['7002']);
		const none = await raw('returns/search/json', {
			login: LOGIN,
			api_key: API_KEY,
			request: JSON.stringify({ filter: { date_from: '2020/01/01', date_to: '2020/01/02' } }),
		});
		expect(none.json).toEqual({ error: { code: 'empty', message: ['No results'] } });
	});

	it('returns/get gives the whole return with a large label; the client drops it', async () => {
		const r = await raw('returns/get/json', {
			login: LOGIN,
			api_key: API_KEY,
			request: JSON.stringify({ return: { id: 5001, type: 'id' } }),
		});
		expect(r.json.success.label).toHaveLength(60_000);
		expect(r.json.success.label).toMatch(/^[A-Za-z0-9+/=]+$/);
		const { client } = makeClient();
		const ret = await client.getReturn('5001');
		expect(ret.label).toBeUndefined();
		expect(ret).toMatchObject({
			id: '5001',
			display_id: 'RB5001',
			order_reference: 'WEB-1001',
			date_added: '2026-11-17 09:15:00',
			current_tracking_status: 'Processed at hub',
		});
		expect(ret).toMatchObject({
			name: 'Alex Archer',
			email: 'alex.archer@example.com',
			addr1: '12 Park Row',
			city: 'Leeds',
			zip: 'LS1 5HD',
			country: 'GB',
			carrier: 'Royal Mail',
			tracking: 'RM000005001GB',
		});
		expect(RawReturnSchema.safeParse(ret).success).toBe(true);
		expect((ret.item as any[])[0]).toEqual({
			sku_code: 'JEANS-BLU-32',
			sku_desc: 'Jeans blue, 32in',
			quantity: '1',
			price: '27.00',
			cost_price: '11.00',
			hs_code: '620342',
			non_returnable: '0',
			final_disposition: 'Grade A',
			reason: [
				{
					reason: 'Too small',
					action: 'Refund',
					wish: 'Refund',
					additional: { title: 'Comment', value: 'Tight on the waist' },
				},
			],
		});
		for (const key of ['status', 'sequence', 'history']) expect(ret).not.toHaveProperty(key);
		const byDisplay = await raw('returns/get/json', {
			login: LOGIN,
			api_key: API_KEY,
			request: JSON.stringify({ return: { id: 'RB5002', type: 'display_id' } }),
		});
		expect(byDisplay.json.success.id).toBe('5002');
		await expect(client.getReturn('999999')).rejects.toMatchObject({ code: 'empty' });
	});

	it('the default fixture covers the demo cases', async () => {
		const { client } = makeClient();
		const all = await client.getReturns(await client.searchReturnIds('2026/11/01', '2026/11/30'));
		const byId = Object.fromEntries(
			all.map((r) => [
				r.id,
				r.ok ? normaliseReboundReturn(r.value, { source: 'rebound-poll' }) : null,
			]),
		);
		const line = (id: string) => {
			const n = byId[id];
			if (!n || !n.ok) throw new Error(`return ${id} did not normalise`);
			return { order: n.value.orderReference, ...n.value.lines[0], count: n.value.lines.length };
		};
		expect(line('5001')).toMatchObject({
			order: 'WEB-1001',
			sku: 'JEANS-BLU-32',
			quantity: 1,
			disposition: 'Grade A',
			unitPricePence: 2700,
		});
		expect(line('5002')).toMatchObject({
			order: 'WEB-1002',
			sku: 'HOODIE-GRY-L',
			disposition: 'Damaged',
		});
		expect(line('5003')).toMatchObject({
			order: 'WEB-1002',
			sku: 'MUG-WHT',
			disposition: 'Mystery Grade',
		});
		expect(line('5004')).toMatchObject({ order: 'WEB-1003', sku: 'SCARF-OLD' });
		expect(line('5005')).toMatchObject({
			order: 'WEB-1001',
			sku: 'TSHIRT-RED-M',
			unitPricePence: 4000,
		});
		expect(line('5006')).toMatchObject({
			order: 'WEB-1004',
			sku: 'KIDS-TEE-5Y',
			quantity: 2,
			count: 2,
		});
		// mixed VAT rates in one return: the zero-rated tee and the standard-rated hoodie, with the deliberately unmapped reason
		const mixed = byId['5006'];
		expect(
			mixed?.ok && mixed.value.lines.map((l) => [l.sku, l.disposition, l.reasons[0]?.reason]),
		).toEqual([
			['KIDS-TEE-5Y', 'Like New', 'Too small'],
			['HOODIE-GRY-L', 'Grade A', 'Not as described'],
		]);
		expect(line('5007')).toMatchObject({ order: 'WEB-9999' });
		expect(line('5008')).toMatchObject({ disposition: null });
		expect(line('5009')).toMatchObject({ disposition: null });
		expect(line('5010')).toMatchObject({
			order: 'WEB-1001',
			sku: 'JEANS-BLU-32',
			disposition: 'Grade B',
			unitPricePence: 2700,
		});
		// the credit policy (docs/credit-notes.md): a good line beside a Missing one (the credit is held for
		// finance), and an Exchange line beside a Refund line, each on an order of its own
		const lines = (id: string) => {
			const n = byId[id];
			if (!n || !n.ok) throw new Error(`return ${id} did not normalise`);
			return [
				n.value.orderReference,
				n.value.lines.map((l) => [l.sku, l.quantity, l.disposition, l.reasons[0]?.action]),
			];
		};
		expect(lines('5011')).toEqual([
			'WEB-1006',
			[
				['MUG-WHT', 1, 'Grade A', 'Refund'],
				['HOODIE-GRY-L', 1, 'Missing', 'Refund'],
			],
		]);
		expect(lines('5012')).toEqual([
			'WEB-1007',
			[
				['JEANS-BLU-32', 1, 'Grade A', 'Refund'],
				['TSHIRT-RED-M', 1, 'Grade A', 'Exchange'],
			],
		]);
		expect(all).toHaveLength(12);
		// the refund ReBound reports (MODELED refund_total) reaches the normalised return: the credits the
		// Khaos default orders compute in the demo's order (docs/credit-notes.md), 5007 its own price, and
		// 5010's 27.00 against a computed 29.08 (the demo's credit_mismatch)
		expect(
			Object.fromEntries(
				Object.entries(byId).map(([id, n]) => [id, n && n.ok ? n.value.refundPence : 'invalid']),
			),
		).toEqual({
			'5001': 2413,
			'5002': 5500,
			'5003': 800,
			'5004': 1500,
			'5005': 3574,
			'5006': 6241,
			'5007': 4000,
			'5008': 3000,
			'5009': 800,
			'5010': 2700,
			// 5011: the credit if finance releases it as computed (hoodie 55.00 + mug 8.00); 5012: the jeans only
			'5011': 6300,
			'5012': 3000,
		});
	});

	it('the refund (MODELED refund_total) is on returns/get and in the webhook data alike; set, cleared, refused when bad', async () => {
		const receiver = await startReceiver();
		try {
			await admin('/webhooks', { url: receiver.url });
			const { client } = makeClient();
			expect((await client.getReturn('5010')).refund_total).toBe('27.00');
			// a re-grade fires return.processed: its data is the return as returns/get gives it
			await admin('/returns/5010/grade', { dispositions: { 'JEANS-BLU-32': 'Grade A' } });
			// a refund set later fires nothing; the next event and returns/get carry it
			const set = await admin('/returns/5001/refund', { refund_total: '24.14' });
			expect(set).toMatchObject({ status: 200, json: { return: { refund_total: '24.14' } } });
			await admin('/returns/5001/grade', { dispositions: { 1: 'Grade B' } });
			// no refund reported: no key at all, on both wires
			expect((await admin('/returns/5002/refund', { refund_total: null })).status).toBe(200);
			await admin('/returns/5002/grade', { dispositions: { 1: 'Damaged' } });
			await admin('/webhooks/flush', {});
			const data = Object.fromEntries(
				receiver.events().map((e) => [e.data.id, e.data as Record<string, unknown>]),
			);
			expect(Object.keys(data).sort()).toEqual(['5001', '5002', '5010']);
			expect([data['5010'].refund_total, data['5001'].refund_total]).toEqual(['27.00', '24.14']);
			expect(data['5002']).not.toHaveProperty('refund_total');
			for (const id of ['5001', '5002', '5010']) {
				const got = await client.getReturn(id); // the client drops the label
				expect({ id, got }).toEqual({ id, got: data[id] });
			}
			const event = receiver.received.find(
				(r) => JSON.parse(r.body.toString()).data.id === '5010',
			)!;
			const parsed = parseWebhookEvent(event.body);
			expect(parsed.ok && parsed.normalised.ok && parsed.normalised.value.refundPence).toBe(2700);
			for (const bad of ['-1.00', '12.345', 'ten', true])
				expect(await admin('/returns/5001/refund', { refund_total: bad })).toMatchObject({
					status: 400,
					json: { error: expect.stringContaining('refund_total') },
				});
			expect((await admin('/returns/5001/refund', {})).status).toBe(400);
			expect((await admin('/returns/424242/refund', { refund_total: '1.00' })).status).toBe(404);
			// a return created through the admin API may carry one from the start
			const made = await admin('/returns', newReturn({ id: 7100, refund_total: 63 }));
			expect(made.json.return.refund_total).toBe('63.00');
			expect((await admin('/returns', newReturn({ id: 7101, refund_total: '-5' }))).status).toBe(
				400,
			);
		} finally {
			await receiver.close();
		}
	});

	it('tracking/get answers by tracking code with the milestones so far', async () => {
		const r = await raw('tracking/get/json', {
			login: LOGIN,
			api_key: API_KEY,
			request: JSON.stringify({ tracking: { code: 'RM000005008GB' } }),
		});
		expect(r.json.success).toMatchObject({
			carrier_name: 'Royal Mail',
			order_reference: 'WEB-1005',
			external_id: 'EXT-5008',
		});
		expect(r.json.success.track.map((e: any) => e.status)).toEqual([
			'Return created',
			'In carrier network',
		]);
		expect(r.json.success.track[0]).toMatchObject({
			dt: '2026-11-20 00:30:00',
			location: { country: 'GB', city: 'Plymouth' },
		});
		const none = await raw('tracking/get/json', {
			login: LOGIN,
			api_key: API_KEY,
			request: JSON.stringify({ tracking: { code: 'NOPE' } }),
		});
		expect(none.json.error.code).toBe('empty');
	});

	it('answers each documented error code in the documented envelope', async () => {
		const ok = { login: LOGIN, api_key: API_KEY };
		const code = async (call: string, fields: Record<string, string>) => {
			const r = await raw(call, fields);
			expect(Object.keys(r.json)).toEqual(['error']);
			expect(Array.isArray(r.json.error.message)).toBe(true);
			expect(REBOUND_ERROR_CODES).toContain(r.json.error.code);
			return r.json.error.code;
		};
		expect(await code('returns/get/json', { ...ok })).toBe('request_empty');
		expect(await code('returns/get/json', { ...ok, request: '{"return":' })).toBe('json_invalid');
		expect(await code('returns/get/json', { api_key: API_KEY, request: '{}' })).toBe('login_empty');
		expect(await code('returns/get/json', { login: LOGIN, request: '{}' })).toBe('api_key_empty');
		expect(await code('returns/get/json', { login: LOGIN, api_key: 'wrong', request: '{}' })).toBe(
			'access_denied',
		);
		expect(await code('returns/delete/json', { ...ok, request: '{}' })).toBe('unknown_call');
		expect(await code('returns/get/json', { ...ok, request: '{"return":{"type":"id"}}' })).toBe(
			'request_wrong',
		);
		expect(
			await code('returns/search/json', {
				...ok,
				request: '{"filter":{"date_from":"2026-13-01","date_to":"2026/11/01"}}',
			}),
		).toBe('request_wrong');
		sb.faults.configure({
			rules: {
				'returns/get': { next: { count: 1, kind: 'fault', faultString: 'database unavailable' } },
			},
		});
		expect(await code('returns/get/json', { ...ok, request: '{"return":{"id":5001}}' })).toBe(
			'internal',
		);
		// the client does not retry unknown_call
		const { client } = makeClient({ baseUrl: `${sb.url}/v9` });
		await expect(client.getReturn('5001')).rejects.toMatchObject({ code: 'unknown_call' });
		expect(client.requestCount).toBe(1);
	});

	it('blocks the IP after 5 bad logins (also for good credentials) until reset; the client never retries either', async () => {
		const bad = makeClient({ apiKey: 'not-the-key' });
		for (let i = 0; i < 5; i++)
			await expect(bad.client.getReturn('5001')).rejects.toMatchObject({ code: 'access_denied' });
		expect(bad.client.requestCount).toBe(5);
		expect(bad.retries).toEqual([]);
		const good = makeClient();
		const blocked = await good.client.getReturn('5001').catch((e: unknown) => e);
		expect(blocked).toBeInstanceOf(ReboundApiError);
		expect((blocked as ReboundApiError).code).toBe('ip_blocked');
		expect((blocked as ReboundApiError).message).not.toContain(API_KEY);
		expect(good.client.requestCount).toBe(1);
		expect((await admin('/state')).json.blocked).toEqual(['127.0.0.1']);
		expect(
			sb.calls
				.all()
				.every(
					(c) => !JSON.stringify(c).includes('not-the-key') && !JSON.stringify(c).includes(API_KEY),
				),
		).toBe(true);
		await admin('/reset', {});
		expect((await good.client.getReturn('5001')).id).toBe('5001');
	});

	it('a good login clears the failed-login count before the limit', async () => {
		const bad = makeClient({ apiKey: 'nope' });
		const good = makeClient();
		for (let i = 0; i < 4; i++)
			await expect(bad.client.getReturn('5001')).rejects.toMatchObject({ code: 'access_denied' });
		await good.client.getReturn('5001');
		for (let i = 0; i < 4; i++)
			await expect(bad.client.getReturn('5001')).rejects.toMatchObject({ code: 'access_denied' });
		expect((await good.client.getReturn('5002')).id).toBe('5002');
	});

	it('a 429 storm with Retry-After recovers through the client', async () => {
		await admin('/faults', {
			rules: { 'returns/get': { next: { count: 3, kind: '429', retryAfterSeconds: 0 } } },
		});
		const { client, retries } = makeClient();
		const ret = await client.getReturn('5002');
		expect(ret.id).toBe('5002');
		expect(client.requestCount).toBe(4);
		expect(retries).toHaveLength(3);
		const outcomes = sb.calls.all().map((c) => `${c.method}:${c.outcome}`);
		expect(outcomes).toEqual([
			'returns/get:injected:429',
			'returns/get:injected:429',
			'returns/get:injected:429',
			'returns/get:ok',
		]);
		// a storm longer than the policy ends as TransientExhaustedError, with every attempt counted
		await admin('/faults', { rules: { '*': { rate429: 1, retryAfterSeconds: 0 } } });
		const short = makeClient({
			retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 5000 },
		});
		await expect(short.client.searchReturnIds('2026/11/17', '2026/11/17')).rejects.toBeInstanceOf(
			TransientExhaustedError,
		);
		expect(short.client.requestCount).toBe(3);
	});

	it('an internal error envelope is retried by the client; the call log names the outcome', async () => {
		await admin('/faults', {
			rules: {
				'returns/get': { next: { count: 2, kind: 'fault', faultString: 'hub database busy' } },
			},
		});
		const { client, retries } = makeClient();
		expect((await client.getReturn('5003')).id).toBe('5003');
		expect(client.requestCount).toBe(3);
		expect(retries).toEqual([
			'ReBound returns/get: internal: hub database busy',
			'ReBound returns/get: internal: hub database busy',
		]);
		expect(sb.calls.all().map((c) => c.outcome)).toEqual([
			'error:internal',
			'error:internal',
			'ok',
		]);
	});

	it('retries dropped connections, timeouts and 500s per call name', async () => {
		await admin('/faults', {
			holdMs: 5000,
			rules: {
				'returns/search': { next: { count: 1, kind: 'drop' } },
				'returns/get': { next: { count: 1, kind: 'timeout' } },
				'tracking/get': { next: { count: 2, kind: '500' } },
			},
		});
		const { client } = makeClient({ timeoutMs: 300 });
		expect(await client.searchReturnIds('2026/11/20', '2026/11/20')).toEqual([
			'5008',
			'5009',
			'5010',
			'5011',
			'5012',
		]);
		expect((await client.getReturn('5008')).id).toBe('5008');
		expect(
			await client.call('tracking/get', { tracking: { code: 'RM000005008GB' } }),
		).toMatchObject({ order_reference: 'WEB-1005' });
		expect(client.requestCount).toBe(3 + 1 + 1 + 2);
		expect(sb.calls.all().map((c) => c.outcome)).toEqual([
			'injected:drop',
			'ok',
			'injected:timeout',
			'ok',
			'injected:500',
			'injected:500',
			'ok',
		]);
	});
});

describe('lifecycle and grading', () => {
	it('grading sets final_disposition and normaliseReboundReturn sees it', async () => {
		const { client } = makeClient();
		const before = normaliseReboundReturn(await client.getReturn('5008'), {
			source: 'rebound-poll',
		});
		expect(before.ok && before.value.lines.map((l) => l.disposition)).toEqual([null]);
		expect(
			(await admin('/returns/5008/grade', { dispositions: { 'JEANS-BLU-32': 'Grade B' } })).status,
		).toBe(409); // still in transit
		expect((await admin('/returns/5008/advance', {})).json.return.status).toBe('at_hub');
		expect((await client.getReturn('5008')).current_tracking_status).toBe('Arrived at hub');
		const bad = await admin('/returns/5008/grade', { dispositions: { 'NOT-A-SKU': 'Grade A' } });
		expect(bad.status).toBe(400);
		expect(bad.json.error).toContain('NOT-A-SKU');
		const graded = await admin('/returns/5008/grade', {
			dispositions: { 'JEANS-BLU-32': 'Grade B' },
		});
		expect(graded.json).toMatchObject({
			complete: true,
			changedLines: [1],
			return: { status: 'graded' },
		});
		const after = normaliseReboundReturn(await client.getReturn('5008'), {
			source: 'rebound-poll',
		});
		expect(after.ok && after.value.lines.map((l) => l.disposition)).toEqual(['Grade B']);
		expect(after.ok && after.value.event.sequence).toBe(1);
		// re-grade by 1-based line index changes the poll event id (the disposition fingerprint)
		await admin('/returns/5008/grade', { dispositions: { 1: 'Damaged' } });
		const regraded = normaliseReboundReturn(await client.getReturn('5008'), {
			source: 'rebound-poll',
		});
		expect(regraded.ok && regraded.value.lines[0].disposition).toBe('Damaged');
		expect(regraded.ok && after.ok && regraded.value.event.id).not.toBe(
			after.ok && after.value.event.id,
		);
	});

	it('partial grading stays at the hub; advancing to graded needs every line graded', async () => {
		const created = await admin('/returns', newReturn());
		const id = created.json.return.id as string;
		expect(id).toBe('10000');
		await admin(`/returns/${id}/advance`, { to: 'at_hub' });
		const part = await admin(`/returns/${id}/grade`, { dispositions: { 2: 'Grade A' } });
		expect(part.json).toMatchObject({ complete: false, return: { status: 'at_hub' } });
		const refused = await admin(`/returns/${id}/advance`, {});
		expect(refused.status).toBe(409);
		expect(refused.json.error).toContain('line(s) 1');
		const done = await admin(`/returns/${id}/advance`, {
			dispositions: { 'HOODIE-GRY-L': 'Quarantine' },
		});
		expect(done.json.return.status).toBe('graded');
		expect(done.json.return.item.map((i: any) => i.final_disposition)).toEqual([
			'Quarantine',
			'Grade A',
		]);
		expect((await admin(`/returns/${id}/advance`, {})).json.return.status).toBe('delivered');
		expect((await admin(`/returns/${id}/advance`, {})).status).toBe(409);
		expect((await admin(`/returns/${id}/cancel`, {})).status).toBe(409);
		expect((await admin('/returns/424242/advance', {})).status).toBe(404);
	});

	it('rejects a bad created return naming the field', async () => {
		const r = await admin(
			'/returns',
			newReturn({ item: [{ sku_code: 'MUG-WHT', quantity: 0, price: '8.00' }] }),
		);
		expect(r.status).toBe(400);
		expect(r.json.error).toContain('item.0.quantity');
	});
});

describe('webhooks', () => {
	let receiver: Awaited<ReturnType<typeof startReceiver>>;
	afterEach(async () => {
		await receiver?.close();
	});

	const verify = (r: Received) =>
		verifyWebhookSignature({
			rawBody: r.body,
			headers: r.headers as Record<string, string>,
			secret: SECRET,
			settings: DEFAULT_WEBHOOK_SETTINGS,
			nowMs: Date.now(),
		});

	it('delivers each transition signed, in the modeled format, verifiable over the raw bytes', async () => {
		receiver = await startReceiver();
		expect((await admin('/webhooks', { url: receiver.url })).status).toBe(201);
		const id = (await admin('/returns', newReturn())).json.return.id as string;
		await admin(`/returns/${id}/advance`, {
			to: 'graded',
			dispositions: { 'HOODIE-GRY-L': 'Grade A', 'MUG-WHT': 'Dirty' },
		});
		await admin(`/returns/${id}/advance`, {});
		expect((await admin('/webhooks/flush', { timeoutMs: 5000 })).json).toEqual({
			done: true,
			pending: 0,
		});
		const events = receiver.events();
		expect(events.map((e) => e.event)).toEqual([
			'return.created',
			'return.in_transit',
			'return.received',
			'return.processed',
			'return.delivered',
		]);
		expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
		expect(new Set(events.map((e) => e.id)).size).toBe(5);
		for (const r of receiver.received) {
			expect(verify(r)).toMatchObject({ ok: true });
			expect(r.headers['x-rebound-signature']).toMatch(/^[0-9a-f]{64}$/);
			// re-serialised JSON is not the signed bytes
			const reserialised = Buffer.from(
				JSON.stringify(JSON.parse(r.body.toString('utf8')), null, 1),
			);
			expect(
				verifyWebhookSignature({
					rawBody: reserialised,
					headers: r.headers as Record<string, string>,
					secret: SECRET,
					settings: DEFAULT_WEBHOOK_SETTINGS,
					nowMs: Date.now(),
				}),
			).toMatchObject({ ok: false, reason: 'bad_signature' });
			expect(
				verifyWebhookSignature({
					rawBody: r.body,
					headers: r.headers as Record<string, string>,
					secret: 'wrong',
					settings: DEFAULT_WEBHOOK_SETTINGS,
					nowMs: Date.now(),
				}).ok,
			).toBe(false);
		}
		const processed = parseWebhookEvent(receiver.received[3].body);
		expect(processed.ok).toBe(true);
		if (!processed.ok) return;
		expect(processed.known).toBe(true);
		expect(processed.event.data.label).toBeUndefined();
		expect(
			processed.normalised.ok && processed.normalised.value.lines.map((l) => l.disposition),
		).toEqual(['Grade A', 'Dirty']);
		expect(processed.normalised.ok && processed.normalised.value.event).toMatchObject({
			type: 'return.processed',
			sequence: 4,
		});
		const log = (await admin('/deliveries')).json.deliveries;
		expect(log).toHaveLength(5);
		expect(
			log.every(
				(d: any) =>
					d.status === 200 &&
					d.outcome === 'delivered' &&
					d.attempt === 1 &&
					d.target === receiver.url &&
					typeof d.ms === 'number',
			),
		).toBe(true);
	});

	it('signs with the fixture settings (base64, prefix, body only)', async () => {
		await sb.close();
		const { loadFixture, DEFAULT_FIXTURE_PATH } = await import('../../sandbox/rebound/state');
		const base = JSON.parse(JSON.stringify(loadFixture(DEFAULT_FIXTURE_PATH)));
		const settings = {
			signatureHeader: 'X-Sig',
			timestampHeader: 'X-Ts',
			encoding: 'base64' as const,
			signTimestamp: false,
			acceptUnsignedTimestamp: true,
			toleranceSeconds: 300,
			prefix: 'sha256=',
		};
		sb = await startReboundSandbox({
			port: 0,
			now: () => NOW,
			fixture: { ...base, webhook: { ...base.webhook, ...settings, secret: 'other-secret' } },
		});
		receiver = await startReceiver();
		await admin('/webhooks', { url: receiver.url });
		await admin('/returns/5009/advance', {});
		await admin('/webhooks/flush', {});
		expect(receiver.received).toHaveLength(1);
		const r = receiver.received[0];
		expect(r.headers['x-sig']).toMatch(/^sha256=[A-Za-z0-9+/]+=*$/);
		expect(
			verifyWebhookSignature({
				rawBody: r.body,
				headers: r.headers as Record<string, string>,
				secret: 'other-secret',
				settings,
				nowMs: Date.now(),
			}),
		).toMatchObject({ ok: true });
		expect(JSON.parse(r.body.toString()).sequence).toBe(3);
	});

	it('duplicates on demand: same event id, same bytes, logged as duplicate', async () => {
		receiver = await startReceiver();
		await admin('/webhooks', { url: receiver.url });
		await admin('/webhooks/options', { duplicateNext: 1 });
		await admin('/returns/5008/advance', {});
		await admin('/returns/5009/advance', {});
		await admin('/webhooks/flush', {});
		const ids = receiver.events().map((e) => e.id);
		expect(ids).toHaveLength(3);
		expect(new Set(ids).size).toBe(2);
		const dupId = ids.find((x, i) => ids.indexOf(x) !== i);
		const copies = receiver.received.filter((r) => JSON.parse(r.body.toString()).id === dupId);
		expect(copies[0].body.equals(copies[1].body)).toBe(true);
		expect(copies.every((c) => verify(c).ok)).toBe(true);
		const log = (await admin('/deliveries')).json.deliveries;
		expect(log.filter((d: any) => d.duplicate).map((d: any) => d.eventId)).toEqual([dupId]);
	});

	it('reorders on demand: a window of events arrives newest first', async () => {
		receiver = await startReceiver();
		await admin('/webhooks', { url: receiver.url });
		const id = (await admin('/returns', newReturn())).json.return.id;
		await admin('/webhooks/flush', {});
		await admin('/webhooks/options', { reorderWindow: 3, reorderHoldMs: 10_000 });
		await admin(`/returns/${id}/advance`, {
			to: 'graded',
			dispositions: { 1: 'Grade A', 2: 'Grade B' },
		});
		await admin('/webhooks/flush', {});
		expect(receiver.events().map((e) => e.sequence)).toEqual([1, 4, 3, 2]);
		expect(receiver.events().map((e) => e.event)).toEqual([
			'return.created',
			'return.processed',
			'return.received',
			'return.in_transit',
		]);
	});

	it('a delay holds deliveries; flush waits for them', async () => {
		receiver = await startReceiver();
		await admin('/webhooks', { url: receiver.url });
		await admin('/webhooks/options', { delayMs: 150 });
		const started = Date.now();
		await admin('/returns/5008/advance', {});
		expect(receiver.received).toHaveLength(0);
		expect((await admin('/webhooks/flush', {})).json.done).toBe(true);
		expect(receiver.received).toHaveLength(1);
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);
	});

	it('retries a receiver 500 with back-off until it accepts; gives up after maxAttempts', async () => {
		receiver = await startReceiver([500, 503]);
		await admin('/webhooks', { url: receiver.url });
		await admin('/webhooks/options', { baseDelayMs: 30, maxAttempts: 4 });
		await admin('/returns/5008/advance', {});
		await admin('/webhooks/flush', {});
		expect(receiver.received.map((r) => r.headers['x-rebound-attempt'])).toEqual(['1', '2', '3']);
		expect(new Set(receiver.events().map((e) => e.id)).size).toBe(1);
		expect(receiver.received.every((r) => verify(r).ok)).toBe(true);
		const log = (await admin('/deliveries')).json.deliveries;
		expect(log.map((d: any) => [d.attempt, d.status, d.outcome])).toEqual([
			[1, 500, 'retrying'],
			[2, 503, 'retrying'],
			[3, 200, 'delivered'],
		]);
		const at = log.map((d: any) => Date.parse(d.at));
		expect(at[2] - at[1]).toBeGreaterThanOrEqual(at[1] - at[0]); // back-off doubles

		await receiver.close();
		receiver = await startReceiver([500, 500, 500, 500, 500, 500]);
		await admin('/reset', {});
		await admin('/webhooks', { url: receiver.url });
		await admin('/webhooks/options', { baseDelayMs: 5, maxAttempts: 3 });
		await admin('/returns/5009/advance', {});
		expect((await admin('/webhooks/flush', {})).json).toEqual({ done: true, pending: 0 });
		expect(receiver.received).toHaveLength(3);
		expect((await admin('/deliveries')).json.deliveries.map((d: any) => d.outcome)).toEqual([
			'retrying',
			'retrying',
			'failed',
		]);
	});

	it('an unreachable target is retried and logged without a status; close() stops all timers', async () => {
		receiver = await startReceiver();
		const deadUrl = receiver.url;
		await receiver.close();
		await admin('/webhooks', { url: deadUrl });
		await admin('/webhooks/options', { baseDelayMs: 60_000, maxAttempts: 5 });
		await admin('/returns/5008/advance', {});
		const flushed = (await admin('/webhooks/flush', { timeoutMs: 300 })).json;
		expect(flushed).toEqual({ done: false, pending: 1 });
		const log = (await admin('/deliveries')).json.deliveries;
		expect(log).toHaveLength(1);
		expect(log[0]).toMatchObject({ status: null, outcome: 'retrying', attempt: 1 });
		expect(log[0].error).toMatch(/ECONNREFUSED|closed/);
		const t = Date.now();
		await sb.close();
		expect(Date.now() - t).toBeLessThan(1000);
		expect(sb.webhooks.pendingCount).toBe(0);
		sb = await startReboundSandbox({ port: 0 }); // for afterEach
	});

	it('registers and removes targets; a removed target gets nothing', async () => {
		receiver = await startReceiver();
		const reg = (await admin('/webhooks', { url: receiver.url })).json;
		expect((await admin('/webhooks')).json.targets).toEqual([reg]);
		expect((await admin('/webhooks', { url: 'ftp://x' })).status).toBe(400);
		expect((await admin('/webhooks', { url: receiver.url }, 'DELETE')).json.targets).toEqual([]);
		await admin('/returns/5008/advance', {});
		await admin('/webhooks/flush', {});
		expect(receiver.received).toHaveLength(0);
		const again = (await admin('/webhooks', { url: receiver.url })).json;
		expect((await admin(`/webhooks/${again.id}`, undefined, 'DELETE')).status).toBe(200);
		expect((await admin('/webhooks/nope', undefined, 'DELETE')).status).toBe(404);
	});
});

describe('bulk generation', () => {
	it('500 graded returns, deterministic by seed, searchable over a window and normalisable', async () => {
		const made = (
			await admin('/returns/bulk', {
				count: 500,
				seed: 7,
				graded: true,
				linesPerReturn: 2,
				endDate: '2026-10-10',
				days: 7,
			})
		).json;
		expect(made).toMatchObject({ count: 500, firstId: 10_000, lastId: 10_499 });
		expect(made.dateFrom >= '2026-10-04' && made.dateTo <= '2026-10-10').toBe(true);
		const { client } = makeClient();
		const ids = await client.searchReturnIds('2026/10/04', '2026/10/10');
		expect(ids).toHaveLength(500);
		expect(await client.searchReturnIds('2026/10/01', '2026/10/03')).toEqual([]);
		// seven one-day windows partition the same 500
		let total = 0;
		for (let d = 4; d <= 10; d++)
			total += (
				await client.searchReturnIds(
					`2026/10/${String(d).padStart(2, '0')}`,
					`2026/10/${String(d).padStart(2, '0')}`,
				)
			).length;
		expect(total).toBe(500);
		const sample = await client.getReturns(ids.slice(0, 25), 4);
		for (const r of sample) {
			expect(r.ok).toBe(true);
			if (!r.ok) continue;
			const n = normaliseReboundReturn(r.value, { source: 'rebound-poll' });
			expect(n.ok).toBe(true);
			expect(n.ok && n.value.lines).toHaveLength(2);
			expect(
				n.ok &&
					n.value.lines.every((l) => typeof l.disposition === 'string' && l.disposition.length > 0),
			).toBe(true);
			expect(['WEB-1001', 'WEB-1002', 'WEB-1003', 'WEB-1004', 'WEB-1005']).toContain(
				r.value.order_reference,
			);
		}
		// the same seed gives the same returns
		const first = await client.getReturn(ids[0]);
		await admin('/reset', {});
		await admin('/returns/bulk', {
			count: 500,
			seed: 7,
			graded: true,
			linesPerReturn: 2,
			endDate: '2026-10-10',
			days: 7,
		});
		expect(await client.getReturn(ids[0])).toEqual(first);
		await admin('/reset', {});
		await admin('/returns/bulk', {
			count: 500,
			seed: 8,
			graded: true,
			linesPerReturn: 2,
			endDate: '2026-10-10',
			days: 7,
		});
		expect(await client.getReturn(ids[0])).not.toEqual(first);
		expect((await admin('/returns/bulk', { count: 0 })).status).toBe(400);
	});
});
