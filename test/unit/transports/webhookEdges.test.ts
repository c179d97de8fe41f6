/**
 * Edges of webhook verification beyond the happy paths: header shapes Node
 * gives (arrays, lower case), hex case, one-byte changes, timestamps that are
 * milliseconds, and parsing the documented `item[]` payload the sandbox sends.
 */
import {
	DEFAULT_WEBHOOK_SETTINGS,
	parseWebhookEvent,
	signWebhookBody,
	verifyWebhookSignature,
	type WebhookSignatureSettings,
} from '../../../transports/rebound/webhook';

const SECRET = 'edge-secret-Vx93-unique';
const NOW = Date.parse('2026-11-28T09:30:00Z');
const TS = Math.floor(NOW / 1000);
const body = Buffer.from(
	'{"id":"evt_9","event":"return.processed","occurred_at":"2026-11-28T09:29:00Z","sequence":5,"data":{"id":"5006","order_reference":"WEB-1004","date_added":"2026-11-27 15:20:00","item":[{"sku_code":"KIDS-TEE-5Y","quantity":"2","price":"6.00","final_disposition":"Like New","reason":[]},{"sku_code":"HOODIE-GRY-L","quantity":"1","price":"55.00","final_disposition":"","reason":[]}]}}',
	'utf8',
);

const verify = (
	headers: Record<string, string | string[] | undefined>,
	settings: WebhookSignatureSettings = DEFAULT_WEBHOOK_SETTINGS,
	raw = body,
) => verifyWebhookSignature({ rawBody: raw, headers, secret: SECRET, settings, nowMs: NOW });

describe('webhook verification edges', () => {
	const signed = signWebhookBody(body, SECRET, TS, DEFAULT_WEBHOOK_SETTINGS);

	it('takes the first value of a repeated header, as Node may hand it over', () => {
		const headers = {
			'x-rebound-signature': [signed['X-Rebound-Signature'], 'garbage'],
			'x-rebound-timestamp': [String(TS)],
		};
		expect(verify(headers)).toEqual({ ok: true, timestamp: TS });
	});

	it('accepts upper-case hex but not a changed digit', () => {
		const upper = signed['X-Rebound-Signature'].toUpperCase();
		expect(verify({ ...signed, 'X-Rebound-Signature': upper }).ok).toBe(true);
		const sig = signed['X-Rebound-Signature'];
		const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
		expect(verify({ ...signed, 'X-Rebound-Signature': flipped })).toMatchObject({
			ok: false,
			reason: 'bad_signature',
		});
	});

	it('refuses base64 in another case (base64 is case-sensitive)', () => {
		const settings: WebhookSignatureSettings = { ...DEFAULT_WEBHOOK_SETTINGS, encoding: 'base64' };
		const b64 = signWebhookBody(body, SECRET, TS, settings);
		expect(verify(b64, settings).ok).toBe(true);
		const swapped = b64['X-Rebound-Signature'].replace(/[a-z]/, (c) => c.toUpperCase());
		expect(swapped).not.toBe(b64['X-Rebound-Signature']);
		expect(verify({ ...b64, 'X-Rebound-Signature': swapped }, settings)).toMatchObject({
			ok: false,
			reason: 'bad_signature',
		});
	});

	it('fails on one changed byte of the body, and on a trailing newline', () => {
		const changed = Buffer.from(body);
		changed[changed.indexOf('6.00')] = '7'.charCodeAt(0);
		expect(verify(signed, DEFAULT_WEBHOOK_SETTINGS, changed)).toMatchObject({
			ok: false,
			reason: 'bad_signature',
		});
		expect(
			verify(signed, DEFAULT_WEBHOOK_SETTINGS, Buffer.concat([body, Buffer.from('\n')])),
		).toMatchObject({ ok: false, reason: 'bad_signature' });
	});

	it('refuses a millisecond timestamp as not unix seconds, and a negative one', () => {
		expect(verify({ ...signed, 'X-Rebound-Timestamp': String(NOW) })).toMatchObject({
			ok: false,
			reason: 'bad_timestamp',
		});
		expect(verify({ ...signed, 'X-Rebound-Timestamp': '-5' })).toMatchObject({
			ok: false,
			reason: 'bad_timestamp',
		});
	});

	it('a signature with the wrong prefix is not stripped and fails', () => {
		const settings: WebhookSignatureSettings = { ...DEFAULT_WEBHOOK_SETTINGS, prefix: 'sha256=' };
		const headers = signWebhookBody(body, SECRET, TS, settings);
		expect(verify(headers, settings).ok).toBe(true);
		const other = {
			...headers,
			'X-Rebound-Signature': headers['X-Rebound-Signature'].replace('sha256=', 'sha1='),
		};
		expect(verify(other, settings)).toMatchObject({ ok: false, reason: 'bad_signature' });
	});

	it('signs a string and the same bytes as a Buffer identically', () => {
		expect(signWebhookBody(body.toString('utf8'), SECRET, TS, DEFAULT_WEBHOOK_SETTINGS)).toEqual(
			signed,
		);
	});
});

describe('parsing what the sandbox sends', () => {
	it('normalises the documented item[] with string quantities; "" stays ungraded', () => {
		const parsed = parseWebhookEvent(body);
		if (!parsed.ok) throw new Error(parsed.message);
		expect(parsed.known).toBe(true);
		if (!parsed.normalised.ok) throw new Error(parsed.normalised.message);
		const r = parsed.normalised.value;
		expect(r.event).toEqual({
			id: 'evt_9',
			type: 'return.processed',
			occurredAt: '2026-11-28T09:29:00Z',
			sequence: 5,
		});
		expect(
			r.lines.map((l) => [l.lineId, l.sku, l.quantity, l.unitPricePence, l.disposition]),
		).toEqual([
			['5006:KIDS-TEE-5Y#1', 'KIDS-TEE-5Y', 2, 600, 'Like New'],
			['5006:HOODIE-GRY-L#1', 'HOODIE-GRY-L', 1, 5500, null],
		]);
	});

	it('flags a tracking-milestone event as unknown but still parses it', () => {
		const parsed = parseWebhookEvent(
			Buffer.from(body.toString('utf8').replace('return.processed', 'return.in_transit')),
		);
		expect(parsed.ok && [parsed.known, parsed.event.event]).toEqual([false, 'return.in_transit']);
	});
});
