import http from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { TransientExhaustedError } from '../../../transports/http';
import type { RetryPolicy } from '../../../transports/retry';
import { ReboundApiError, ReboundClient } from '../../../transports/rebound/client';
import {
	dispositionFingerprint,
	normaliseReboundReturn,
	reboundTimeToIso,
} from '../../../transports/rebound/normalise';
import { makeNodeHttpSend } from '../../helpers/nodeHttpSend';

const BASE = 'http://rebound.test/api';
const LOGIN = 'shop-login-7731';
const KEY = 'sEcReT-api-key-99xZ';
const policy: RetryPolicy = {
	maxAttempts: 3,
	baseDelayMs: 10,
	maxDelayMs: 2_000,
	maxTotalMs: 10_000,
};

function client(overrides: Partial<RetryPolicy> = {}) {
	const sleeps: number[] = [];
	const c = new ReboundClient(
		{
			baseUrl: BASE,
			login: LOGIN,
			apiKey: KEY,
			timeoutMs: 2_000,
			retry: { ...policy, ...overrides },
		},
		{
			send: makeNodeHttpSend(),
			retry: {
				now: () => Date.now(),
				random: () => 0.5,
				sleep: async (ms) => void sleeps.push(ms),
			},
		},
	);
	return { c, sleeps };
}

function raw(overrides: Record<string, unknown> = {}) {
	return {
		id: 5001,
		display_id: 'RB5001',
		external_id: null,
		order_reference: 'WEB-1001',
		date_added: '2026-11-20 10:15:00',
		customer_name: 'Jo Bloggs',
		customer_email: 'jo@example.com',
		label: 'QUJD'.repeat(10_000),
		items: [
			{
				sku_code: 'JEANS-BLU-32',
				sku_desc: 'Jeans',
				quantity: '1',
				price: '27.00',
				final_disposition: 'Grade A',
				reason: [{ reason: 'Too small', action: 'Refund', wish: '' }],
			},
			{
				sku_code: 'TSHIRT-RED-M',
				sku_desc: 'T-shirt',
				quantity: 1,
				price: 40,
				final_disposition: '',
				reason: [],
			},
		],
		...overrides,
	};
}

afterEach(() => nock.cleanAll());
beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());

describe('ReboundClient', () => {
	it('posts form-encoded login, api_key and a JSON request; reads success.id', async () => {
		let body = '';
		nock('http://rebound.test')
			.post('/api/returns/search/json', (b) => {
				body = typeof b === 'string' ? b : new URLSearchParams(b).toString();
				return true;
			})
			.matchHeader('content-type', 'application/x-www-form-urlencoded')
			.reply(200, { success: { id: [5001, '5002', 5001] } });
		const { c } = client();
		await expect(c.searchReturnIds('2026/11/01', '2026/11/07')).resolves.toEqual(['5001', '5002']);
		const form = new URLSearchParams(body);
		expect(form.get('login')).toBe(LOGIN);
		expect(form.get('api_key')).toBe(KEY);
		expect(JSON.parse(form.get('request')!)).toEqual({
			filter: { date_from: '2026/11/01', date_to: '2026/11/07' },
		});
	});

	it('treats the empty error as no results', async () => {
		nock('http://rebound.test')
			.post('/api/returns/search/json')
			.reply(200, { error: { code: 'empty', message: ['No results'] } });
		await expect(client().c.searchReturnIds('2026/11/01', '2026/11/07')).resolves.toEqual([]);
	});

	it('rejects a badly formatted window before calling', async () => {
		await expect(client().c.searchReturnIds('2026-11-01', '2026/11/07')).rejects.toThrow(
			/date_from must be YYYY\/MM\/DD/,
		);
	});

	it('gets a return by numeric id and drops the base64 label', async () => {
		let request: unknown;
		nock('http://rebound.test')
			.post('/api/returns/get/json', (b) => {
				request = JSON.parse(new URLSearchParams(b).get('request')!);
				return true;
			})
			.reply(200, { success: raw() });
		const value = await client().c.getReturn('5001');
		expect(request).toEqual({ return: { id: 5001, type: 'id' } });
		expect(value.label).toBeUndefined();
		expect(value.order_reference).toBe('WEB-1001');
	});

	it.each([
		'ip_blocked',
		'access_denied',
		'login_empty',
		'api_key_empty',
		'request_wrong',
		'json_invalid',
		'unknown_call',
	])('never retries %s', async (code) => {
		const scope = nock('http://rebound.test')
			.post('/api/returns/get/json')
			.reply(200, { error: { code, message: [`${code} for ${LOGIN}`] } });
		const { c, sleeps } = client();
		const error = await c.getReturn('1').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ReboundApiError);
		expect((error as ReboundApiError).code).toBe(code);
		expect(sleeps).toEqual([]);
		expect(c.requestCount).toBe(1);
		expect((error as Error).message).not.toContain(LOGIN);
		scope.done();
	});

	it('retries internal errors, 5xx and 429 honouring Retry-After, then succeeds', async () => {
		nock('http://rebound.test')
			.post('/api/returns/get/json')
			.reply(200, { error: { code: 'internal', message: ['try later'] } })
			.post('/api/returns/get/json')
			.reply(429, 'slow down', { 'Retry-After': '1' })
			.post('/api/returns/get/json')
			.reply(200, { success: raw() });
		const { c, sleeps } = client({ maxAttempts: 4 });
		const value = await c.getReturn('5001');
		expect(value.id).toBe(5001);
		expect(c.requestCount).toBe(3);
		expect(sleeps[1]).toBe(1_000);
	});

	it('ends in TransientExhaustedError on a permanent 503, with no secret in the message', async () => {
		nock('http://rebound.test')
			.post('/api/returns/search/json')
			.times(3)
			.reply(503, `upstream saw api_key=${KEY}`);
		const error = await client()
			.c.searchReturnIds('2026/11/01', '2026/11/07')
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TransientExhaustedError);
		expect((error as TransientExhaustedError).attempts).toBe(3);
		expect((error as Error).message).not.toContain(KEY);
	});

	it('retries a dropped connection (a real loopback server that cuts the first socket)', async () => {
		nock.enableNetConnect('127.0.0.1');
		let hits = 0;
		const server = http.createServer((req, res) => {
			hits++;
			if (hits === 1) {
				req.socket.destroy();
				return;
			}
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify({ success: raw() }));
		});
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
		try {
			const port = (server.address() as AddressInfo).port;
			const c = new ReboundClient(
				{
					baseUrl: `http://127.0.0.1:${port}/api`,
					login: LOGIN,
					apiKey: KEY,
					timeoutMs: 2_000,
					retry: policy,
				},
				{
					send: makeNodeHttpSend(),
					retry: { now: () => Date.now(), random: () => 0.5, sleep: async () => undefined },
				},
			);
			await expect(c.getReturn('5001')).resolves.toMatchObject({ id: 5001 });
			expect(c.requestCount).toBe(2);
			expect(hits).toBe(2);
		} finally {
			await new Promise((r) => server.close(r));
			nock.disableNetConnect();
		}
	});

	it('reports a body that is not the documented envelope as a protocol error', async () => {
		nock('http://rebound.test')
			.post('/api/returns/get/json')
			.reply(200, '<html>maintenance</html>');
		await expect(client().c.getReturn('5001')).rejects.toMatchObject({
			kind: 'protocol',
			retryable: false,
		});
	});

	it('fetches several returns with bounded concurrency, in input order, failures reported', async () => {
		nock('http://rebound.test')
			.post('/api/returns/get/json')
			.times(5)
			.reply((_uri, body) => {
				const id = JSON.parse(new URLSearchParams(body as string).get('request')!).return.id;
				return id === 3
					? [200, { error: { code: 'empty', message: ['No results'] } }]
					: [200, { success: raw({ id }) }];
			});
		const results = await client().c.getReturns(['1', '2', '3', '4', '5'], 2);
		expect(results.map((r) => [r.id, r.ok])).toEqual([
			['1', true],
			['2', true],
			['3', false],
			['4', true],
			['5', true],
		]);
		const failed = results[2];
		expect(!failed.ok && (failed.error as ReboundApiError).code).toBe('empty');
	});
});

describe('normaliseReboundReturn', () => {
	it('maps the real field names into the normalised return', () => {
		const result = normaliseReboundReturn(raw(), { source: 'rebound-api' });
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		const r = result.value;
		expect(r).toMatchObject({
			returnId: '5001',
			displayId: 'RB5001',
			orderReference: 'WEB-1001',
			currency: 'GBP',
			createdAt: '2026-11-20T10:15:00.000Z',
		});
		expect(r.customer).toEqual({ name: 'Jo Bloggs', email: 'jo@example.com' });
		expect(r.lines).toEqual([
			expect.objectContaining({
				lineId: '5001:JEANS-BLU-32#1',
				sku: 'JEANS-BLU-32',
				quantity: 1,
				unitPricePence: 2700,
				disposition: 'Grade A',
			}),
			expect.objectContaining({
				lineId: '5001:TSHIRT-RED-M#1',
				sku: 'TSHIRT-RED-M',
				quantity: 1,
				unitPricePence: 4000,
				disposition: null,
			}),
		]);
		expect(r.lines[0].reasons[0]).toEqual({
			reason: 'Too small',
			action: 'Refund',
			wish: '',
			additional: [],
		});
		expect(r.event.type).toBe('return.polled');
		expect(r.event.sequence).toBe(1);
		expect(r.event.id).toMatch(/^poll:5001:[0-9a-f]{32}$/);
	});

	it('uses the webhook event when given', () => {
		const result = normaliseReboundReturn(raw(), {
			source: 'rebound-webhook',
			event: {
				id: 'evt_1',
				type: 'return.processed',
				occurredAt: '2026-11-21T08:00:00Z',
				sequence: 7,
			},
		});
		expect(result.ok && result.value.event).toEqual({
			id: 'evt_1',
			type: 'return.processed',
			occurredAt: '2026-11-21T08:00:00Z',
			sequence: 7,
		});
	});

	it.each([
		[{ items: 'nope' }, 'items'],
		[{ items: [{ sku_code: 'A', quantity: 'two', price: 1 }] }, 'lines[0].quantity'],
		[{ items: [{ sku_code: 'A', quantity: 1, price: 'ten pounds' }] }, 'items[0].price'],
		[{ items: [{ sku_code: 'A', quantity: 1, price: '-3.00' }] }, 'items[0].price'],
		[{ items: [{ sku_code: '', quantity: 1 }] }, 'lines[0].sku'],
		[{ items: [{ sku_code: 'A', quantity: 10_000_000 }] }, 'lines[0].quantity'],
		[{ order_reference: '' }, 'orderReference'],
		[{ currency: 'sterling' }, 'currency'],
	])('names the field of a bad record (%#)', (overrides, field) => {
		const result = normaliseReboundReturn(raw(overrides), { source: 'rebound-poll' });
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.issues.map((i) => i.field)).toContain(field);
		expect(result.message).toMatch(/^Return 5001 is invalid: /);
	});

	it('keeps unicode SKUs and refuses a non-object', () => {
		const ok = normaliseReboundReturn(raw({ items: [{ sku_code: 'ÉCHARPE-ß-雪', quantity: 1 }] }), {
			source: 'rebound-poll',
		});
		expect(ok.ok && ok.value.lines[0].sku).toBe('ÉCHARPE-ß-雪');
		const bad = normaliseReboundReturn('[]', { source: 'rebound-poll' });
		expect(bad.ok).toBe(false);
	});

	it('fingerprints dispositions: stable, and changes when a grade changes', () => {
		const a = normaliseReboundReturn(raw(), { source: 'rebound-poll' });
		const b = normaliseReboundReturn(raw(), { source: 'rebound-poll' });
		const items = raw().items;
		items[1].final_disposition = 'Damaged';
		const c = normaliseReboundReturn(raw({ items }), { source: 'rebound-poll' });
		if (!a.ok || !b.ok || !c.ok) throw new Error('expected valid');
		expect(dispositionFingerprint(a.value)).toBe(dispositionFingerprint(b.value));
		expect(dispositionFingerprint(c.value)).not.toBe(dispositionFingerprint(a.value));
		expect(c.value.event.sequence).toBeGreaterThan(a.value.event.sequence);
	});

	it('reads ReBound times as UTC', () => {
		expect(reboundTimeToIso('2026-11-20 10:15:00')).toBe('2026-11-20T10:15:00.000Z');
		expect(reboundTimeToIso('2026/11/20')).toBe('2026-11-20T00:00:00.000Z');
		expect(reboundTimeToIso('2026-11-20T10:15:00+01:00')).toBe('2026-11-20T09:15:00.000Z');
		expect(reboundTimeToIso('soon')).toBeNull();
	});
});
