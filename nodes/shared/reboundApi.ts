/**
 * Glue between the `reBoundApi` credential and the ReBound transport: the
 * client config, the webhook signature settings and the mapping of transport
 * errors to n8n errors. No wire format here. (The credential test is the
 * credential's own declarative `test`: credentials/ReBoundApi.credentials.ts.)
 */
import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	IHookFunctions,
	INode,
	IPollFunctions,
	IWebhookFunctions,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../transports/retry';
import type { ReboundApi, ReboundConfig } from '../../transports/rebound/api';
import { ReboundClient } from '../../transports/rebound/client';
import {
	DEFAULT_WEBHOOK_SETTINGS,
	type WebhookSignatureSettings,
} from '../../transports/rebound/webhook';
import { makeN8nSend, n8nRetryDeps } from './n8nHttp';
import { toNodeError as nodeError, type FailureDescription } from './nodeError';
import { secretsOf, str } from './values';

export const REBOUND_CREDENTIAL = 'reBoundApi';
export const DEFAULT_REBOUND_BASE_URL = 'https://intelligentreturns.net/api';
export const REBOUND_TIMEOUT_MS = 30_000;

export interface ReboundCredentials {
	login: string;
	apiKey: string;
	baseUrl: string;
	webhookSecret: string;
	signatureHeader: string;
	signaturePrefix: string;
	timestampHeader: string;
	signatureEncoding: 'hex' | 'base64';
	signTimestamp: boolean;
	toleranceSeconds: number;
}

/** Read the credential leniently (older saved credentials may lack newer fields). */
export function readReboundCredentials(
	data: ICredentialDataDecryptedObject | Record<string, unknown>,
): ReboundCredentials {
	const tolerance = Number(data.toleranceSeconds);
	return {
		login: str(data.login).trim(),
		apiKey: str(data.apiKey).trim(),
		baseUrl: (str(data.baseUrl).trim() || DEFAULT_REBOUND_BASE_URL).replace(/\/+$/, ''),
		webhookSecret: str(data.webhookSecret),
		signatureHeader: str(data.signatureHeader).trim() || DEFAULT_WEBHOOK_SETTINGS.signatureHeader,
		signaturePrefix: str(data.signaturePrefix),
		timestampHeader: str(data.timestampHeader).trim() || DEFAULT_WEBHOOK_SETTINGS.timestampHeader,
		signatureEncoding:
			data.signatureEncoding === 'base64'
				? 'base64'
				: data.signatureEncoding === 'hex'
					? 'hex'
					: DEFAULT_WEBHOOK_SETTINGS.encoding,
		signTimestamp:
			typeof data.signTimestamp === 'boolean'
				? data.signTimestamp
				: DEFAULT_WEBHOOK_SETTINGS.signTimestamp,
		toleranceSeconds:
			Number.isFinite(tolerance) && tolerance >= 0
				? tolerance
				: DEFAULT_WEBHOOK_SETTINGS.toleranceSeconds,
	};
}

export function reboundConfigFromCredentials(
	creds: ReboundCredentials,
	retry: RetryPolicy = DEFAULT_RETRY_POLICY,
): ReboundConfig {
	return {
		baseUrl: creds.baseUrl,
		login: creds.login,
		apiKey: creds.apiKey,
		timeoutMs: REBOUND_TIMEOUT_MS,
		retry,
	};
}

export function webhookSettingsFromCredentials(
	creds: ReboundCredentials,
): WebhookSignatureSettings {
	const settings: WebhookSignatureSettings = {
		...DEFAULT_WEBHOOK_SETTINGS,
		signatureHeader: creds.signatureHeader,
		timestampHeader: creds.timestampHeader,
		encoding: creds.signatureEncoding,
		signTimestamp: creds.signTimestamp,
		toleranceSeconds: creds.toleranceSeconds,
	};
	if (creds.signaturePrefix) settings.prefix = creds.signaturePrefix;
	return settings;
}

/** The secrets to scrub from any text that could reach an error, a log or an exception item. */
export function reboundSecrets(
	creds: Pick<ReboundCredentials, 'apiKey' | 'webhookSecret'>,
): string[] {
	return secretsOf(creds.apiKey, creds.webhookSecret);
}

type ApiContext = IExecuteFunctions | IPollFunctions | IHookFunctions | IWebhookFunctions;

/**
 * A ReBound client for a node, talking through n8n's HTTP helpers
 * (httpRequestWithAuthentication: proxy, SSRF policy, credential handling).
 * Tests replace it with `jest.spyOn(module, 'createReboundApi')`.
 */
export function createReboundApi(
	ctx: ApiContext,
	creds: ReboundCredentials,
	retry: RetryPolicy = DEFAULT_RETRY_POLICY,
): ReboundApi {
	return new ReboundClient(reboundConfigFromCredentials(creds, retry), {
		send: makeN8nSend(ctx, REBOUND_CREDENTIAL),
		retry: n8nRetryDeps,
	});
}

export async function getReboundCredentials(ctx: ApiContext): Promise<ReboundCredentials> {
	const data = await ctx.getCredentials(REBOUND_CREDENTIAL);
	return readReboundCredentials(data);
}

const CREDENTIAL_CODES = new Set(['access_denied', 'login_empty', 'api_key_empty', 'ip_blocked']);

/** What the editor shows under a ReBound NodeApiError (nodes/shared/nodeError.ts toNodeError's `advice`). */
export function reboundAdvice(failure: FailureDescription): string | undefined {
	if (failure.category === 'transient' || failure.retryable)
		return 'ReBound kept failing (timeouts, 5xx or rate limits) after retries with back-off. Check the service, then run again.';
	if (failure.code !== null && CREDENTIAL_CODES.has(failure.code))
		return 'ReBound refused the credentials. Check the login, the API key and the base URL of the ReBound API credential.';
	return undefined;
}

/**
 * The ReBound nodes' positional form of nodes/shared/nodeError.ts toNodeError (what defaults to
 * "ReBound request"); new code calls that one with `{ itemIndex, secrets, what, advice: reboundAdvice }`.
 */
export function toNodeError(
	node: INode,
	error: unknown,
	secrets: string[],
	itemIndex?: number,
	what = 'ReBound request',
): NodeApiError | NodeOperationError {
	return nodeError(node, error, { itemIndex, secrets, what, advice: reboundAdvice });
}
