/**
 * ReBound push notifications (MODELED, see shared/reference/rebound.md):
 * a JSON POST per event, HMAC-SHA256 of the exact raw body — with the
 * timestamp when `signTimestamp` (`<ts>.<body>`) — in a header; header names,
 * encoding and tolerance are credential settings. Verification works on the
 * raw bytes only: a re-serialised body does not verify.
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
	/** Accepted clock difference in seconds, both directions. */
	toleranceSeconds: number;
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

export type WebhookVerifyReason = 'missing_signature' | 'missing_timestamp' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' | 'no_secret';
export type WebhookVerifyResult = { ok: true; timestamp: number | null } | { ok: false; reason: WebhookVerifyReason; message: string };

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
	const wanted = name.toLowerCase();
	for (const [key, value] of Object.entries(headers)) {
		if (key.toLowerCase() !== wanted) continue;
		return Array.isArray(value) ? value[0] : value;
	}
	return undefined;
}

function digest(rawBody: Buffer, secret: string, timestamp: string | null, encoding: 'hex' | 'base64'): Buffer {
	const hmac = createHmac('sha256', secret);
	if (timestamp !== null) hmac.update(`${timestamp}.`);
	hmac.update(rawBody);
	return Buffer.from(hmac.digest(encoding), 'utf8');
}

export function signWebhookBody(rawBody: Buffer | string, secret: string, timestampSec: number, settings: WebhookSignatureSettings): Record<string, string> {
	const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
	const ts = String(Math.floor(timestampSec));
	const signature = digest(body, secret, settings.signTimestamp ? ts : null, settings.encoding).toString('utf8');
	return { [settings.signatureHeader]: `${settings.prefix ?? ''}${signature}`, [settings.timestampHeader]: ts };
}

export function verifyWebhookSignature(input: {
	rawBody: Buffer;
	headers: Record<string, string | string[] | undefined>;
	secret: string;
	settings: WebhookSignatureSettings;
	nowMs: number;
}): WebhookVerifyResult {
	const { rawBody, headers, secret, settings, nowMs } = input;
	if (!secret) return { ok: false, reason: 'no_secret', message: 'No webhook secret is configured' };
	let signature = header(headers, settings.signatureHeader)?.trim();
	if (!signature) return { ok: false, reason: 'missing_signature', message: `Header ${settings.signatureHeader} is missing` };
	if (settings.prefix && signature.startsWith(settings.prefix)) signature = signature.slice(settings.prefix.length);

	const tsHeader = header(headers, settings.timestampHeader)?.trim();
	let timestamp: number | null = null;
	if (settings.signTimestamp || tsHeader !== undefined) {
		if (!tsHeader) return { ok: false, reason: 'missing_timestamp', message: `Header ${settings.timestampHeader} is missing` };
		if (!/^\d{1,12}$/.test(tsHeader)) return { ok: false, reason: 'bad_timestamp', message: `Header ${settings.timestampHeader} is not unix seconds` };
		timestamp = Number(tsHeader);
		const skew = Math.abs(nowMs / 1000 - timestamp);
		if (skew > settings.toleranceSeconds) {
			return { ok: false, reason: 'stale_timestamp', message: `Timestamp is ${Math.round(skew)} s away from now (tolerance ${settings.toleranceSeconds} s)` };
		}
	}
	const expected = digest(rawBody, secret, settings.signTimestamp ? String(timestamp) : null, settings.encoding);
	// Hex is case-insensitive (some senders upper-case it); base64 is not.
	const given = Buffer.from(settings.encoding === 'hex' ? signature.toLowerCase() : signature, 'utf8');
	if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
		return { ok: false, reason: 'bad_signature', message: 'Signature does not match the body' };
	}
	return { ok: true, timestamp };
}

export const KNOWN_WEBHOOK_EVENTS = ['return.created', 'return.received', 'return.processed', 'return.cancelled'] as const;

export const WebhookEventSchema = z.object({
	id: z.union([z.string().trim().min(1).max(300), z.number().int()]).transform(String),
	event: z.string().trim().min(1).max(100),
	occurred_at: z.string().refine((v) => !Number.isNaN(Date.parse(v)), { message: 'Expected an ISO 8601 date-time' }),
	sequence: z.number().int().nonnegative(),
	data: z.record(z.unknown()),
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

export function isKnownWebhookEvent(type: string): boolean {
	return (KNOWN_WEBHOOK_EVENTS as readonly string[]).includes(type);
}

export function parseWebhookEvent(
	rawBody: Buffer,
): { ok: true; event: WebhookEvent; known: boolean; normalised: ValidationResult<NormalisedReturn> } | { ok: false; field: string; message: string } {
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
		event: { id: event.id, type: event.event, occurredAt: event.occurred_at, sequence: event.sequence },
	});
	return { ok: true, event, known: isKnownWebhookEvent(event.event), normalised };
}
