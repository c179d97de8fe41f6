/**
 * The legacy wire as the public tap's schema spells it (`item[]`, `name`,
 * `email`, every value a string), the retry decisions that do not follow the
 * HTTP status, and blob dropping at any depth.
 */
import nock from 'nock';
import { TransientExhaustedError } from '../../../transports/http';
import type { RetryPolicy } from '../../../transports/retry';
import { ReboundApiError, ReboundClient, dropBlobs } from '../../../transports/rebound/client';
import { normaliseReboundReturn } from '../../../transports/rebound/normalise';
import {
	GetRequestSchema,
	PERMANENT_ERROR_CODES,
	REBOUND_ERROR_CODES,
	RawReturnSchema,
	SearchRequestSchema,
	TRANSIENT_ERROR_CODES,
} from '../../../transports/rebound/schemas';
import { makeNodeHttpSend } from '../../helpers/nodeHttpSend';

const LOGIN = 'wire-login-4410';
const KEY = 'wire-Key-Zq81-secret';
const policy: RetryPolicy = {
	maxAttempts: 3,
	baseDelayMs: 10,
	maxDelayMs: 5_000,
	maxTotalMs: 20_000,
};

function client() {
	const sleeps: number[] = [];
	const c = new ReboundClient(
		{
			baseUrl: 'http://rebound.wire/api/',
			login: LOGIN,
			apiKey: KEY,
			timeoutMs: 1_000,
			retry: policy,
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

/** A return exactly as the tap's schema types it: all strings, `item` not `items`. */
const tapReturn = {
	id: '7001',
	order_reference: 'WEB-1004',
	date_added: '2026-11-20 09:00:00',
	tracking_last_update: '2026-11-23 14:05:00',
	name: 'Dee Dawson',
	company_name: '',
	email: 'dee@example.com',
	addr1: '77 Queen Street',
	zip: 'CF10 2BH',
	display_id: 'RB7001',
	external_id: '',
	label: 'JVBERi0xLjQK'.repeat(6_000),
	item: [
		{
			sku_code: 'KIDS-TEE-5Y',
			sku_desc: 'Kids tee',
			quantity: '2',
			price: '6.00',
			non_returnable: '0',
			final_disposition: 'Like New',
			reason: [
				{
					reason: 'Too small',
					action: 'Refund',
					wish: '',
					additional: { title: 'Comment', value: 'snug' },
				},
			],
		},
		{
			sku_code: 'HOODIE-GRY-L',
			sku_desc: 'Hoodie',
			quantity: '1',
			price: '55',
			non_returnable: '1',
			final_disposition: '',
			reason: [],
			img_path: 'iVBORw0KGgo'.repeat(200),
		},
	],
};

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
afterEach(() => nock.cleanAll());

describe('wire schemas', () => {
	it('lists every documented code once, with internal the only transient one', () => {
		expect(new Set(REBOUND_ERROR_CODES).size).toBe(REBOUND_ERROR_CODES.length);
		expect([...TRANSIENT_ERROR_CODES]).toEqual(['internal']);
		for (const code of REBOUND_ERROR_CODES)
			expect(TRANSIENT_ERROR_CODES.has(code) !== PERMANENT_ERROR_CODES.has(code)).toBe(true);
	});

	it('validates request bodies and the raw return as the tap types it', () => {
		expect(
			SearchRequestSchema.safeParse({ filter: { date_from: '2026/11/01', date_to: '2026/11/07' } })
				.success,
		).toBe(true);
		expect(
			SearchRequestSchema.safeParse({ filter: { date_from: '2026-11-01', date_to: '2026/11/07' } })
				.success,
		).toBe(false);
		expect(GetRequestSchema.parse({ return: { id: 5 } })).toEqual({
			return: { id: 5, type: 'id' },
		});
		expect(RawReturnSchema.safeParse(tapReturn).success).toBe(true);
		expect(RawReturnSchema.safeParse({ ...tapReturn, item: 'x' }).success).toBe(false);
	});
});

describe('normalising the documented field names', () => {
	it('reads item[], string quantities and prices, name/email, and "" as ungraded', () => {
		const result = normaliseReboundReturn(dropBlobs(tapReturn), { source: 'rebound-poll' });
		if (!result.ok) throw new Error(result.message);
		const r = result.value;
		expect(r.customer).toEqual({ name: 'Dee Dawson', email: 'dee@example.com' });
		expect(
			r.lines.map((l) => [
				l.lineId,
				l.sku,
				l.quantity,
				l.unitPricePence,
				l.disposition,
				l.nonReturnable,
			]),
		).toEqual([
			['7001:KIDS-TEE-5Y#1', 'KIDS-TEE-5Y', 2, 600, 'Like New', false],
			['7001:HOODIE-GRY-L#1', 'HOODIE-GRY-L', 1, 5500, null, true],
		]);
		expect(r.lines[0].reasons[0].additional).toEqual([{ title: 'Comment', value: 'snug' }]);
		// the synthesised event time is the latest known time, not date_added
		expect(r.event.occurredAt).toBe('2026-11-23T14:05:00.000Z');
		expect(r.event.sequence).toBe(1);
	});

	it('names the documented key in field errors', () => {
		const bad = normaliseReboundReturn(
			{ ...tapReturn, item: [{ ...tapReturn.item[0], price: '6,00' }] },
			{ source: 'rebound-poll' },
		);
		expect(bad.ok).toBe(false);
		if (bad.ok) return;
		expect(bad.message).toBe('Return 7001 is invalid: item[0].price: "6,00" is not an amount');
		const missing = normaliseReboundReturn(
			{ id: '7002', order_reference: 'WEB-1' },
			{ source: 'rebound-poll' },
		);
		expect(!missing.ok && missing.issues[0]).toEqual({
			field: 'item',
			message: 'Expected a list of items',
		});
	});

	it('reports a fractional quantity string as a field issue, not a crash', () => {
		const r = normaliseReboundReturn(
			{ ...tapReturn, item: [{ ...tapReturn.item[0], quantity: '1.5' }] },
			{ source: 'rebound-poll' },
		);
		expect(!r.ok && r.issues.map((i) => i.field)).toEqual(['lines[0].quantity']);
	});
});

describe('dropBlobs', () => {
	it('drops the label and base64 blobs at any depth, keeps ordinary text', () => {
		const slim = dropBlobs(tapReturn) as typeof tapReturn;
		expect('label' in slim).toBe(false);
		expect('img_path' in slim.item[1]).toBe(false);
		expect(slim.item[0].reason[0].additional.value).toBe('snug');
		expect(slim.addr1).toBe('77 Queen Street');
		expect(JSON.stringify(slim).length).toBeLessThan(2_000);
		// a short field that merely mentions label survives
		expect(dropBlobs({ label_printed: 'yes' })).toEqual({ label_printed: 'yes' });
	});
});

describe('retry decisions that do not follow the HTTP status', () => {
	it.each(['ip_blocked', 'access_denied', 'request_wrong'])(
		'never retries %s even when it comes with HTTP 503',
		async (code) => {
			nock('http://rebound.wire')
				.post('/api/returns/get/json')
				.reply(503, { error: { code, message: ['no'] } });
			const { c, sleeps } = client();
			await expect(c.getReturn('1')).rejects.toMatchObject({
				name: 'ReboundApiError',
				code,
				retryable: false,
			});
			expect(sleeps).toEqual([]);
			expect(c.requestCount).toBe(1);
		},
	);

	it('honours Retry-After on a 429 that carries an error envelope', async () => {
		nock('http://rebound.wire')
			.post('/api/returns/get/json')
			.reply(
				429,
				{ error: { code: 'internal', message: ['rate limited'] } },
				{ 'Retry-After': '3' },
			)
			.post('/api/returns/get/json')
			.reply(200, { success: tapReturn });
		const { c, sleeps } = client();
		const value = await c.getReturn('7001');
		expect(value.order_reference).toBe('WEB-1004');
		expect(sleeps).toEqual([3_000]);
	});

	it('an empty success is not_found, not a crash', async () => {
		nock('http://rebound.wire').post('/api/returns/get/json').reply(200, { success: [] });
		const error = await client()
			.c.getReturn('404')
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ReboundApiError);
		expect(error).toMatchObject({ code: 'not_found', retryable: false });
	});

	it('redacts login and key from the exhausted error and from its last error', async () => {
		nock('http://rebound.wire')
			.post('/api/returns/search/json')
			.times(3)
			.reply(200, { error: { code: 'internal', message: [`db down for ${LOGIN} / ${KEY}`] } });
		const error = await client()
			.c.searchReturnIds('2026/11/01', '2026/11/07')
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TransientExhaustedError);
		const exhausted = error as TransientExhaustedError;
		expect(exhausted.attempts).toBe(3);
		for (const text of [exhausted.message, exhausted.lastError.message]) {
			expect(text).toContain('db down for ***');
			expect(text).not.toContain(LOGIN);
			expect(text).not.toContain(KEY);
		}
	});

	it('accepts a single id in success.id and a base URL with a trailing slash', async () => {
		nock('http://rebound.wire')
			.post('/api/returns/search/json')
			.reply(200, { success: { id: 42 } });
		await expect(client().c.searchReturnIds('2026/11/01', '2026/11/01')).resolves.toEqual(['42']);
	});
});
