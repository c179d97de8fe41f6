/**
 * Webhook settings (issue 12, item 6): only a signed timestamp stops a
 * captured delivery from being replayed, so a body-only signature needs an
 * explicit opt-in, and the tolerance has no "off" (0 is refused with a reason
 * naming the setting instead of rejecting everything as stale).
 */
import { createHmac } from 'node:crypto';
import type { IDataObject, IWebhookResponseData } from 'n8n-workflow';
import { ReBoundApi } from '../../../credentials/ReBoundApi.credentials';
import { ReBoundTrigger } from '../../../nodes/ReBoundTrigger/ReBoundTrigger.node';
import {
	DEFAULT_WEBHOOK_SETTINGS,
	signWebhookBody,
	verifyWebhookSignature,
	type WebhookSignatureSettings,
} from '../../../transports/rebound/webhook';
import {
	TEST_WEBHOOK_SECRET,
	makeWebhookContext,
	rawReturn,
	reboundCredentials,
} from '../../helpers/reboundFakes';

const SECRET = 'whsec_Replay_4c1d';
const NOW = Date.parse('2026-11-28T12:00:00Z');
const TS = NOW / 1000;
const body = Buffer.from(
	JSON.stringify({
		id: 'evt_1',
		event: 'return.processed',
		occurred_at: '2026-11-28T11:59:00Z',
		sequence: 1,
		data: { id: 1 },
	}),
);

const SIGNED: WebhookSignatureSettings = { ...DEFAULT_WEBHOOK_SETTINGS };
const UNSIGNED: WebhookSignatureSettings = { ...DEFAULT_WEBHOOK_SETTINGS, signTimestamp: false };
const UNSIGNED_OPT_IN: WebhookSignatureSettings = { ...UNSIGNED, acceptUnsignedTimestamp: true };

function verify(headers: Record<string, string>, settings: WebhookSignatureSettings, nowMs = NOW) {
	return verifyWebhookSignature({ rawBody: body, headers, secret: SECRET, settings, nowMs });
}

/** A body-only signature, with or without a timestamp header. */
function bodyOnly(ts?: number): Record<string, string> {
	const headers: Record<string, string> = {
		'X-Rebound-Signature': createHmac('sha256', SECRET).update(body).digest('hex'),
	};
	if (ts !== undefined) headers['X-Rebound-Timestamp'] = String(ts);
	return headers;
}

describe('signed timestamp (the default)', () => {
	it('accepts within the tolerance, both directions, up to the edge', () => {
		for (const ts of [TS, TS - 300, TS + 300, TS - 1])
			expect(verify(signWebhookBody(body, SECRET, ts, SIGNED), SIGNED)).toEqual({
				ok: true,
				timestamp: ts,
			});
	});

	it('rejects outside the tolerance as stale: a captured delivery replayed later', () => {
		for (const ts of [TS - 301, TS + 301, TS - 86_400])
			expect(verify(signWebhookBody(body, SECRET, ts, SIGNED), SIGNED)).toMatchObject({
				ok: false,
				reason: 'stale_timestamp',
			});
		const strict = { ...SIGNED, toleranceSeconds: 1 };
		expect(verify(signWebhookBody(body, SECRET, TS - 1, strict), strict)).toMatchObject({
			ok: true,
		});
		expect(verify(signWebhookBody(body, SECRET, TS - 2, strict), strict)).toMatchObject({
			ok: false,
			reason: 'stale_timestamp',
		});
	});

	it('rejects a missing, malformed or forged timestamp header', () => {
		const captured = signWebhookBody(body, SECRET, TS - 3_600, SIGNED);
		const withoutTs = { ...captured };
		delete withoutTs['X-Rebound-Timestamp'];
		expect(verify(withoutTs, SIGNED)).toMatchObject({ ok: false, reason: 'missing_timestamp' });
		expect(verify({ ...captured, 'X-Rebound-Timestamp': 'now' }, SIGNED)).toMatchObject({
			ok: false,
			reason: 'bad_timestamp',
		});
		// a fresh timestamp on an old signature: the timestamp is signed, so the forgery does not verify
		expect(verify({ ...captured, 'X-Rebound-Timestamp': String(TS) }, SIGNED)).toMatchObject({
			ok: false,
			reason: 'bad_signature',
		});
		// a body-only signature does not pass as a timestamp signature
		expect(verify(bodyOnly(TS), SIGNED)).toMatchObject({ ok: false, reason: 'bad_signature' });
	});
});

describe('tolerance 0 (and anything below 1)', () => {
	it.each([0, 0.5, -1, Number.NaN])(
		'refuses every delivery with invalid_tolerance naming the setting, not as a stale timestamp: %p',
		(toleranceSeconds) => {
			const settings = { ...SIGNED, toleranceSeconds };
			const fresh = signWebhookBody(body, SECRET, TS, settings);
			const r = verify(fresh, settings);
			expect(r).toMatchObject({ ok: false, reason: 'invalid_tolerance' });
			expect(!r.ok && r.message).toContain('Tolerance (Seconds)');
			expect(!r.ok && r.message).toContain('at least 1');
			// 0 is not "off": an hour-old capture is refused too
			expect(verify(signWebhookBody(body, SECRET, TS - 3_600, settings), settings)).toMatchObject({
				ok: false,
			});
			// the reason is only given to a sender with the secret
			expect(verify(signWebhookBody(body, 'not-the-secret', TS, settings), settings)).toMatchObject(
				{ ok: false, reason: 'bad_signature' },
			);
		},
	);

	it('applies with the unsigned opt-in as well', () => {
		expect(verify(bodyOnly(), { ...UNSIGNED_OPT_IN, toleranceSeconds: 0 })).toMatchObject({
			ok: false,
			reason: 'invalid_tolerance',
		});
	});
});

describe('signature over the body alone (Sign Timestamp off)', () => {
	it('without the opt-in: refused with a reason that names the option, whatever the timestamp header says', () => {
		for (const headers of [bodyOnly(), bodyOnly(TS), bodyOnly(TS - 86_400)]) {
			const r = verify(headers, UNSIGNED);
			expect(r).toMatchObject({ ok: false, reason: 'unsigned_timestamp_not_accepted' });
			expect(!r.ok && r.message).toContain('Accept Deliveries Without a Signed Timestamp');
			expect(!r.ok && r.message).toContain('replay');
		}
		expect(verify(bodyOnly(), { ...UNSIGNED, acceptUnsignedTimestamp: false })).toMatchObject({
			ok: false,
			reason: 'unsigned_timestamp_not_accepted',
		});
		// a wrong signature is still just a wrong signature (the settings are not disclosed)
		expect(verify({ 'X-Rebound-Signature': 'ab'.repeat(32) }, UNSIGNED)).toMatchObject({
			ok: false,
			reason: 'bad_signature',
		});
	});

	it('with the opt-in: accepted, and replayable as the option says (no header, a forged fresh header)', () => {
		expect(verify(bodyOnly(), UNSIGNED_OPT_IN)).toEqual({ ok: true, timestamp: null });
		// captured a day ago and sent again today, header dropped or rewritten: accepted (what the opt-in accepts)
		expect(verify(bodyOnly(), UNSIGNED_OPT_IN, NOW + 86_400_000)).toEqual({
			ok: true,
			timestamp: null,
		});
		expect(verify(bodyOnly(TS + 86_400), UNSIGNED_OPT_IN, NOW + 86_400_000)).toEqual({
			ok: true,
			timestamp: TS + 86_400,
		});
		// a timestamp header that is sent is still held to the tolerance (stops only a verbatim replay)
		expect(verify(bodyOnly(TS - 301), UNSIGNED_OPT_IN)).toMatchObject({
			ok: false,
			reason: 'stale_timestamp',
		});
		expect(verify(bodyOnly(TS - 300), UNSIGNED_OPT_IN)).toMatchObject({
			ok: true,
			timestamp: TS - 300,
		});
		expect(verify({ ...bodyOnly(), 'X-Rebound-Timestamp': 'x' }, UNSIGNED_OPT_IN)).toMatchObject({
			ok: false,
			reason: 'bad_timestamp',
		});
		expect(verify({ 'X-Rebound-Signature': 'ab'.repeat(32) }, UNSIGNED_OPT_IN)).toMatchObject({
			ok: false,
			reason: 'bad_signature',
		});
	});
});

describe('the credential', () => {
	const byName = Object.fromEntries(new ReBoundApi().properties.map((p) => [p.name, p]));

	it('has an opt-in for unsigned timestamps, off by default, shown with Sign Timestamp off, that says such deliveries can be replayed', () => {
		const opt = byName.acceptUnsignedTimestamp;
		expect(opt).toMatchObject({
			type: 'boolean',
			default: false,
			displayOptions: { show: { signTimestamp: [false] } },
		});
		expect(opt.description).toMatch(/anyone who captured one .*can replay it/);
		expect(byName.signTimestamp.default).toBe(true);
	});

	it('says what the tolerance does: at least 1, no "off"', () => {
		const tol = byName.toleranceSeconds;
		expect(tol.typeOptions).toMatchObject({ minValue: 1 });
		expect(tol.description).not.toMatch(/turns the check off/);
		expect(tol.description).toContain('cannot be turned off');
	});
});

describe('ReBound Trigger: credential upgrade path', () => {
	const trigger = new ReBoundTrigger();
	const event = JSON.stringify({
		id: 'evt-7001-3',
		event: 'return.processed',
		occurred_at: '2026-11-28T10:00:00Z',
		sequence: 3,
		data: rawReturn('7001', 'WEB-7001', [
			{ sku: 'TSHIRT-RED-M', disposition: 'Grade A', reason: 'Too small' },
		]),
	});
	const bodySig = createHmac('sha256', TEST_WEBHOOK_SECRET).update(event).digest('hex');

	async function deliver(headers: Record<string, string>, credentials: Record<string, unknown>) {
		const { ctx, response } = makeWebhookContext({
			rawBody: Buffer.from(event),
			headers,
			credentials: reboundCredentials(credentials),
		});
		const result = (await trigger.webhook.call(ctx)) as IWebhookResponseData;
		return { response, emitted: result.workflowData ? result.workflowData[0] : [] };
	}

	it('a credential saved with Sign Timestamp off (no opt-in field) gets 401 naming the option, and starts nothing', async () => {
		const { response, emitted } = await deliver(
			{
				'X-Rebound-Signature': bodySig,
				'X-Rebound-Timestamp': String(Math.floor(Date.now() / 1000)),
			},
			{ signTimestamp: false },
		);
		expect(response.status).toBe(401);
		expect(response.body).toMatchObject({
			status: 'rejected',
			reason: 'unsigned_timestamp_not_accepted',
		});
		expect((response.body as IDataObject).message).toContain(
			'Accept Deliveries Without a Signed Timestamp',
		);
		expect(emitted).toEqual([]);
	});

	it('after opting in, the same delivery is accepted', async () => {
		const { response, emitted } = await deliver(
			{ 'X-Rebound-Signature': bodySig },
			{ signTimestamp: false, acceptUnsignedTimestamp: true },
		);
		expect(response.status).toBeUndefined();
		expect(emitted).toHaveLength(1);
		expect((emitted[0].json as IDataObject).returnId).toBe('7001');
	});

	it('the opt-in does nothing while Sign Timestamp is on: body-only signatures are still refused', async () => {
		const { response } = await deliver(
			{
				'X-Rebound-Signature': bodySig,
				'X-Rebound-Timestamp': String(Math.floor(Date.now() / 1000)),
			},
			{ acceptUnsignedTimestamp: true },
		);
		expect(response.status).toBe(401);
		expect(response.body).toMatchObject({ reason: 'bad_signature' });
	});

	it('tolerance 0 answers 401 invalid_tolerance for a correctly signed, fresh delivery', async () => {
		const headers = signWebhookBody(
			event,
			TEST_WEBHOOK_SECRET,
			Math.floor(Date.now() / 1000),
			DEFAULT_WEBHOOK_SETTINGS,
		);
		const { response, emitted } = await deliver(headers, { toleranceSeconds: 0 });
		expect(response.status).toBe(401);
		expect(response.body).toMatchObject({ status: 'rejected', reason: 'invalid_tolerance' });
		expect(emitted).toEqual([]);
	});
});
