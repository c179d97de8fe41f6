import {
	DEFAULT_WEBHOOK_SETTINGS,
	parseWebhookEvent,
	signWebhookBody,
	verifyWebhookSignature,
	type WebhookSignatureSettings,
} from '../../../transports/rebound/webhook';

const SECRET = 'whsec_Distinctive_9f8e7d';
const NOW = Date.parse('2026-11-28T12:00:00Z');
const TS = NOW / 1000;

const event = {
	id: 'evt_100',
	event: 'return.processed',
	occurred_at: '2026-11-28T11:59:00Z',
	sequence: 4,
	data: {
		id: 5001,
		order_reference: 'WEB-1001',
		items: [
			{
				sku_code: 'JEANS-BLU-32',
				quantity: 1,
				price: '27.00',
				final_disposition: 'Grade A',
				reason: [],
			},
		],
	},
};
// Formatting the raw body differently from JSON.stringify is deliberate: only the exact bytes verify.
const rawText = JSON.stringify(event, null, 1);
const rawBody = Buffer.from(rawText, 'utf8');

function verify(
	body: Buffer,
	headers: Record<string, string | undefined>,
	settings: WebhookSignatureSettings = DEFAULT_WEBHOOK_SETTINGS,
	nowMs = NOW,
) {
	return verifyWebhookSignature({ rawBody: body, headers, secret: SECRET, settings, nowMs });
}

describe('webhook signature verification', () => {
	it('accepts a good signature over the raw body and timestamp', () => {
		const headers = signWebhookBody(rawBody, SECRET, TS, DEFAULT_WEBHOOK_SETTINGS);
		expect(headers['X-Rebound-Timestamp']).toBe(String(TS));
		expect(headers['X-Rebound-Signature']).toMatch(/^[0-9a-f]{64}$/);
		expect(verify(rawBody, headers)).toEqual({ ok: true, timestamp: TS });
	});

	it('matches header names case-insensitively', () => {
		const headers = signWebhookBody(rawBody, SECRET, TS, DEFAULT_WEBHOOK_SETTINGS);
		const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
		expect(verify(rawBody, lower).ok).toBe(true);
	});

	it('rejects a re-serialised body (same JSON, other bytes)', () => {
		const headers = signWebhookBody(rawBody, SECRET, TS, DEFAULT_WEBHOOK_SETTINGS);
		const reserialised = Buffer.from(JSON.stringify(JSON.parse(rawText)));
		expect(verify(reserialised, headers)).toMatchObject({ ok: false, reason: 'bad_signature' });
	});

	it('rejects a wrong secret, a missing signature and a missing timestamp', () => {
		const wrong = signWebhookBody(rawBody, 'other-secret', TS, DEFAULT_WEBHOOK_SETTINGS);
		expect(verify(rawBody, wrong)).toMatchObject({ ok: false, reason: 'bad_signature' });
		const headers = signWebhookBody(rawBody, SECRET, TS, DEFAULT_WEBHOOK_SETTINGS);
		expect(
			verify(rawBody, { 'X-Rebound-Timestamp': headers['X-Rebound-Timestamp'] }),
		).toMatchObject({ ok: false, reason: 'missing_signature' });
		expect(
			verify(rawBody, { 'X-Rebound-Signature': headers['X-Rebound-Signature'] }),
		).toMatchObject({ ok: false, reason: 'missing_timestamp' });
		expect(verify(rawBody, { ...headers, 'X-Rebound-Timestamp': 'yesterday' })).toMatchObject({
			ok: false,
			reason: 'bad_timestamp',
		});
	});

	it('rejects stale and future timestamps outside the tolerance, accepts the edge', () => {
		const old = signWebhookBody(rawBody, SECRET, TS - 301, DEFAULT_WEBHOOK_SETTINGS);
		expect(verify(rawBody, old)).toMatchObject({ ok: false, reason: 'stale_timestamp' });
		const future = signWebhookBody(rawBody, SECRET, TS + 301, DEFAULT_WEBHOOK_SETTINGS);
		expect(verify(rawBody, future)).toMatchObject({ ok: false, reason: 'stale_timestamp' });
		const edge = signWebhookBody(rawBody, SECRET, TS - 300, DEFAULT_WEBHOOK_SETTINGS);
		expect(verify(rawBody, edge).ok).toBe(true);
	});

	it('rejects a replayed body with a fresh timestamp (the timestamp is signed)', () => {
		const old = signWebhookBody(rawBody, SECRET, TS - 3_600, DEFAULT_WEBHOOK_SETTINGS);
		const replay = { ...old, 'X-Rebound-Timestamp': String(TS) };
		expect(verify(rawBody, replay)).toMatchObject({ ok: false, reason: 'bad_signature' });
	});

	it('supports base64, a prefix and body-only signing', () => {
		const settings: WebhookSignatureSettings = {
			...DEFAULT_WEBHOOK_SETTINGS,
			encoding: 'base64',
			prefix: 'sha256=',
			signTimestamp: false,
			acceptUnsignedTimestamp: true,
			signatureHeader: 'X-Loop-Signature',
		};
		const headers = signWebhookBody(rawBody, SECRET, TS, settings);
		expect(headers['X-Loop-Signature']).toMatch(/^sha256=[A-Za-z0-9+/]+=*$/);
		expect(verify(rawBody, { 'X-Loop-Signature': headers['X-Loop-Signature'] }, settings)).toEqual({
			ok: true,
			timestamp: null,
		});
		const bare = headers['X-Loop-Signature'].slice('sha256='.length);
		expect(verify(rawBody, { 'X-Loop-Signature': bare }, settings).ok).toBe(true);
	});

	it('refuses when no secret is configured and never echoes the secret', () => {
		const headers = signWebhookBody(rawBody, SECRET, TS, DEFAULT_WEBHOOK_SETTINGS);
		expect(
			verifyWebhookSignature({
				rawBody,
				headers,
				secret: '',
				settings: DEFAULT_WEBHOOK_SETTINGS,
				nowMs: NOW,
			}),
		).toMatchObject({ ok: false, reason: 'no_secret' });
		const bad = verify(rawBody, { ...headers, 'X-Rebound-Signature': 'ab' });
		expect(JSON.stringify(bad)).not.toContain(SECRET);
	});
});

describe('parseWebhookEvent', () => {
	it('parses and normalises an event', () => {
		const parsed = parseWebhookEvent(rawBody);
		expect(parsed.ok).toBe(true);
		if (!parsed.ok) return;
		expect(parsed.known).toBe(true);
		expect(parsed.event.id).toBe('evt_100');
		expect(parsed.normalised.ok && parsed.normalised.value).toMatchObject({
			source: 'rebound-webhook',
			returnId: '5001',
			event: { id: 'evt_100', type: 'return.processed', sequence: 4 },
		});
	});

	it('names the field of a malformed event', () => {
		expect(parseWebhookEvent(Buffer.from('{"id":'))).toMatchObject({ ok: false, field: '(body)' });
		expect(
			parseWebhookEvent(Buffer.from(JSON.stringify({ ...event, sequence: -1 }))),
		).toMatchObject({ ok: false, field: 'sequence' });
		expect(parseWebhookEvent(Buffer.from(JSON.stringify({ ...event, data: 'x' })))).toMatchObject({
			ok: false,
			field: 'data',
		});
		const unknown = parseWebhookEvent(
			Buffer.from(JSON.stringify({ ...event, event: 'return.teleported' })),
		);
		expect(unknown.ok && unknown.known).toBe(false);
	});

	it('keeps the event but reports an invalid return inside it', () => {
		const parsed = parseWebhookEvent(
			Buffer.from(
				JSON.stringify({
					...event,
					data: { id: 9, order_reference: 'W', items: [{ sku_code: 'A', quantity: -2 }] },
				}),
			),
		);
		expect(parsed.ok).toBe(true);
		if (!parsed.ok) return;
		expect(parsed.normalised.ok).toBe(false);
		if (parsed.normalised.ok) return;
		expect(parsed.normalised.issues[0].field).toBe('lines[0].quantity');
	});
});
