import type { IHookFunctions } from 'n8n-workflow';

/**
 * The webhook request as a trigger reads it (n8n's Express request, from
 * `this.getRequestObject()`), and the webhook methods of a trigger whose service has no API to
 * register webhooks.
 */

/** The part of n8n's webhook request used here. */
export interface WebhookRequest {
	rawBody?: unknown;
	headers: Record<string, string | string[] | undefined>;
	readRawBody?: () => Promise<void>;
}

function headerValue(
	headers: Record<string, string | string[] | undefined>,
	name: string,
): string | undefined {
	const value = headers[name] ?? headers[name.toLowerCase()];
	return Array.isArray(value) ? value[0] : value;
}

export type RawBodyResult =
	| { ok: true; rawBody: Buffer }
	| { ok: false; reason: 'body_too_large' | 'no_body' };

/**
 * The request's exact raw bytes, refused when larger than `maxBytes`: first by the declared
 * `content-length` (before anything is read), then by the bytes read.
 */
export async function readRawBodyCapped(
	req: WebhookRequest,
	maxBytes: number,
): Promise<RawBodyResult> {
	const declared = Number(headerValue(req.headers, 'content-length'));
	if (Number.isFinite(declared) && declared > maxBytes)
		return { ok: false, reason: 'body_too_large' };
	if (!Buffer.isBuffer(req.rawBody) && typeof req.readRawBody === 'function')
		await req.readRawBody();
	const rawBody = req.rawBody;
	if (!Buffer.isBuffer(rawBody)) return { ok: false, reason: 'no_body' };
	if (rawBody.length > maxBytes) return { ok: false, reason: 'body_too_large' };
	return { ok: true, rawBody };
}

/**
 * Webhook methods for a service whose webhooks are registered by hand: nothing is registered
 * remotely; the URL is recorded in the node's static data so the activation is visible there.
 */
export function recordOnlyWebhookMethods(activeMessage: (url: string) => string) {
	return {
		async checkExists(this: IHookFunctions): Promise<boolean> {
			const data = this.getWorkflowStaticData('node');
			return data.webhookUrl !== undefined && data.webhookUrl === this.getNodeWebhookUrl('default');
		},
		async create(this: IHookFunctions): Promise<boolean> {
			const url = this.getNodeWebhookUrl('default');
			const data = this.getWorkflowStaticData('node');
			data.webhookUrl = url;
			this.logger.info(activeMessage(url ?? '(unknown)'));
			return true;
		},
		async delete(this: IHookFunctions): Promise<boolean> {
			const data = this.getWorkflowStaticData('node');
			delete data.webhookUrl;
			return true;
		},
	};
}
