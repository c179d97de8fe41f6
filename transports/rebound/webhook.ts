/**
 * ReBound push notifications (MODELED: ReBound's webhook format is not public;
 * see sandbox/rebound/README.md, "Lifecycle and webhooks"):
 * a JSON POST per event, HMAC-SHA256 of the exact raw body — with the
 * timestamp when `signTimestamp` (`<ts>.<body>`) — in a header; header names,
 * encoding and tolerance are credential settings. Verification works on the
 * raw bytes only: a re-serialised body does not verify.
 *
 * Replays: only a signed timestamp stops a captured delivery from being sent
 * again later, so a body-only signature (`signTimestamp` off) is refused
 * unless the credential opts in with `acceptUnsignedTimestamp` (its text says
 * such deliveries are replayable). The tolerance cannot turn the time check
 * off: below 1 s every delivery is refused with `invalid_tolerance` rather
 * than silently rejected as stale (see toleranceProblem).
 */
import { createHmac, timingSafeEqual } from 'crypto';
import { z } from 'zod';
import { formatPath, type NormalisedReturn, type ValidationResult } from '../../core/returnModel';
import { normaliseReboundReturn } from './normalise';

export interface WebhookSignatureSettings {
	signatureHeader: string;
	timestampHeader: string;
	encoding: 'hex' | 'base64';
	/** Sign `${timestamp}.${body}` rather than the body alone. */
	signTimestamp: boolean;
	/** Accepted clock difference in seconds, both directions; at least 1 (there is no "off"). */
	toleranceSeconds: number;
	/**
	 * With `signTimestamp` off: accept deliveries whose signature covers the
	 * body alone. They carry no signed time, so anyone who captured one can
	 * replay it; off (the default) refuses them with `unsigned_timestamp_not_accepted`.
	 */
	acceptUnsignedTimestamp?: boolean;
	/** A prefix on the signature value (e.g. `sha256=`), accepted when present. */
	prefix?: string;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSignatureSettings = {
	signatureHeader: 'X-Rebound-Signature',
	timestampHeader: 'X-Rebound-Timestamp',
	encoding: 'hex',
	signTimestamp: true,
	toleranceSeconds: 300,
};

export type WebhookVerifyReason =
	| 'missing_signature'
	| 'missing_timestamp'
	| 'bad_timestamp'
	| 'stale_timestamp'
	| 'bad_signature'
	| 'no_secret'
	| 'unsigned_timestamp_not_accepted'
	| 'invalid_tolerance';
export type WebhookVerifyResult =
	| { ok: true; timestamp: number | null }
	| { ok: false; reason: WebhookVerifyReason; message: string };

function header(
	headers: Record<string, string | string[] | undefined>,
	name: string,
): string | undefined {
	const wanted = name.toLowerCase();
	for (const [key, value] of Object.entries(headers)) {
		if (key.toLowerCase() !== wanted) continue;
		return Array.isArray(value) ? value[0] : value;
	}
	return undefined;
}

function digest(
	rawBody: Buffer,
	secret: string,
	timestamp: string | null,
	encoding: 'hex' | 'base64',
): Buffer {
	const hmac = createHmac('sha256', secret);
	if (timestamp !== null) hmac.update(`${timestamp}.`);
	hmac.update(rawBody);
	return Buffer.from(hmac.digest(encoding), 'utf8');
}

export function signWebhookBody(
	rawBody: Buffer | string,
	secret: string,
	timestampSec: number,
	settings: WebhookSignatureSettings,
): Record<string, string> {
	const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
	const ts = String(Math.floor(timestampSec));
	const signature = digest(
		body,
		secret,
		settings.signTimestamp ? ts : null,
		settings.encoding,
	).toString('utf8');
	return {
		[settings.signatureHeader]: `${settings.prefix ?? ''}${signature}`,
		[settings.timestampHeader]: ts,
	};
}

/**
 * Why a tolerance is refused, or null. A tolerance of 0 used to be described
 * as "turns the check off" while it rejected every delivery. Making 0 mean
 * off would let a captured, correctly signed delivery be replayed forever,
 * the one thing the signed timestamp is there to stop, so the safest and
 * clearest reading is the other one: there is no "off", the setting must be
 * at least 1 s, and anything below is refused with a reason that names the
 * setting (not reported as a stale timestamp, which sent people hunting for
 * clock skew).
 */
function toleranceProblem(toleranceSeconds: number): string | null {
	if (Number.isFinite(toleranceSeconds) && toleranceSeconds >= 1) return null;
	return `Tolerance (Seconds) in the ReBound API credential is ${toleranceSeconds}: it must be at least 1 (default 300). 0 does not turn the timestamp check off; nothing does`;
}

export function verifyWebhookSignature(input: {
	rawBody: Buffer;
	headers: Record<string, string | string[] | undefined>;
	secret: string;
	settings: WebhookSignatureSettings;
	nowMs: number;
}): WebhookVerifyResult {
	const { rawBody, headers, secret, settings, nowMs } = input;
	if (!secret)
		return { ok: false, reason: 'no_secret', message: 'No webhook secret is configured' };
	let signature = header(headers, settings.signatureHeader)?.trim();
	if (!signature)
		return {
			ok: false,
			reason: 'missing_signature',
			message: `Header ${settings.signatureHeader} is missing`,
		};
	if (settings.prefix && signature.startsWith(settings.prefix))
		signature = signature.slice(settings.prefix.length);

	const tsHeader = header(headers, settings.timestampHeader)?.trim();
	let timestamp: number | null = null;
	if (settings.signTimestamp || tsHeader !== undefined) {
		if (!tsHeader)
			return {
				ok: false,
				reason: 'missing_timestamp',
				message: `Header ${settings.timestampHeader} is missing`,
			};
		if (!/^\d{1,12}$/.test(tsHeader))
			return {
				ok: false,
				reason: 'bad_timestamp',
				message: `Header ${settings.timestampHeader} is not unix seconds`,
			};
		timestamp = Number(tsHeader);
	}
	const expected = digest(
		rawBody,
		secret,
		settings.signTimestamp ? String(timestamp) : null,
		settings.encoding,
	);
	// Hex is case-insensitive (some senders upper-case it); base64 is not.
	const given = Buffer.from(
		settings.encoding === 'hex' ? signature.toLowerCase() : signature,
		'utf8',
	);
	if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
		return { ok: false, reason: 'bad_signature', message: 'Signature does not match the body' };
	}
	// The settings are checked once the signature holds, so only a sender with the secret learns them.
	if (!settings.signTimestamp && !settings.acceptUnsignedTimestamp) {
		return {
			ok: false,
			reason: 'unsigned_timestamp_not_accepted',
			message:
				'The ReBound API credential has Sign Timestamp off, so this delivery carries no signed time and anyone who captured it could replay it. ' +
				'Turn Sign Timestamp on (ReBound signs "<timestamp>.<body>"), or turn on "Accept Deliveries Without a Signed Timestamp" to accept replayable deliveries',
		};
	}
	const badTolerance = toleranceProblem(settings.toleranceSeconds);
	if (badTolerance) return { ok: false, reason: 'invalid_tolerance', message: badTolerance };
	// Unsigned (opted in): a timestamp header, when sent, is still held to the tolerance; it stops only a verbatim replay, as it can be dropped or forged.
	if (timestamp !== null) {
		const skew = Math.abs(nowMs / 1000 - timestamp);
		if (skew > settings.toleranceSeconds) {
			return {
				ok: false,
				reason: 'stale_timestamp',
				message: `Timestamp is ${Math.round(skew)} s away from now (tolerance ${settings.toleranceSeconds} s)`,
			};
		}
	}
	return { ok: true, timestamp };
}

export const KNOWN_WEBHOOK_EVENTS = [
	'return.created',
	'return.received',
	'return.processed',
	'return.cancelled',
] as const;

export const WebhookEventSchema = z.object({
	id: z.union([z.string().trim().min(1).max(300), z.number().int()]).transform(String),
	event: z.string().trim().min(1).max(100),
	occurred_at: z
		.string()
		.refine((v) => !Number.isNaN(Date.parse(v)), { message: 'Expected an ISO 8601 date-time' }),
	sequence: z.number().int().nonnegative(),
	data: z.record(z.unknown()),
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

export function isKnownWebhookEvent(type: string): boolean {
	return (KNOWN_WEBHOOK_EVENTS as readonly string[]).includes(type);
}

export function parseWebhookEvent(rawBody: Buffer):
	| {
			ok: true;
			event: WebhookEvent;
			known: boolean;
			normalised: ValidationResult<NormalisedReturn>;
	  }
	| { ok: false; field: string; message: string } {
	let json: unknown;
	try {
		json = JSON.parse(rawBody.toString('utf8'));
	} catch (error) {
		return { ok: false, field: '(body)', message: `Malformed JSON: ${(error as Error).message}` };
	}
	const parsed = WebhookEventSchema.safeParse(json);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		return { ok: false, field: formatPath(issue.path), message: issue.message };
	}
	const event = parsed.data;
	const normalised = normaliseReboundReturn(event.data, {
		source: 'rebound-webhook',
		event: {
			id: event.id,
			type: event.event,
			occurredAt: event.occurred_at,
			sequence: event.sequence,
		},
	});
	return { ok: true, event, known: isKnownWebhookEvent(event.event), normalised };
}
