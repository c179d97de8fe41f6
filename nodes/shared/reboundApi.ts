/**
 * Glue between the `reBoundApi` credential and the ReBound transport: the
 * client config, the webhook signature settings, the node credential test
 * and the mapping of transport errors to n8n errors. No wire format here.
 */
import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IExecuteFunctions,
	IHookFunctions,
	INode,
	INodeCredentialTestResult,
	IPollFunctions,
	IWebhookFunctions,
	NodeApiError,
	NodeOperationError,
} from 'n8n-workflow';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../transports/retry';
import type { ReboundApi, ReboundConfig } from '../../transports/rebound/api';
import { ReboundClient } from '../../transports/rebound/client';
import { describeReboundError } from '../../transports/rebound/errors';
import {
	DEFAULT_WEBHOOK_SETTINGS,
	type WebhookSignatureSettings,
} from '../../transports/rebound/webhook';
import { makeLegacyRequestSend, makeN8nSend, n8nRetryDeps } from './n8nHttp';
import { toNodeError as nodeError, type FailureDescription } from './nodeError';
import { secretsOf, str } from './values';

export { makeLegacyRequestSend };

export const REBOUND_CREDENTIAL = 'reBoundApi';
/** Name of the node credential test (`methods.credentialTest`), referenced by `testedBy`. */
export const REBOUND_CREDENTIAL_TEST = 'reBoundApiTest';
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

export function todaySlashDate(nowMs: number): string {
	const d = new Date(nowMs);
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}

/**
 * The credential check itself: one `returns/search/json` over today, one
 * attempt (no retries: repeated failed logins get the IP blocked). Any
 * success, including ReBound's `empty` envelope (no returns today), passes.
 */
export async function testReboundCredentials(
	api: ReboundApi,
	creds: ReboundCredentials,
	nowMs: number,
): Promise<INodeCredentialTestResult> {
	if (!creds.login) return { status: 'Error', message: 'Login is empty' };
	if (!creds.apiKey) return { status: 'Error', message: 'API key is empty' };
	const today = todaySlashDate(nowMs);
	try {
		const ids = await api.searchReturnIds(today, today);
		return { status: 'OK', message: `Connected to ReBound: ${ids.length} return(s) today` };
	} catch (error) {
		const info = describeReboundError(error, reboundSecrets(creds));
		if (info.code === 'empty')
			return { status: 'OK', message: 'Connected to ReBound: no returns today' };
		const prefix =
			info.code === 'access_denied' || info.code === 'login_empty' || info.code === 'api_key_empty'
				? 'ReBound refused the login or API key'
				: info.code === 'ip_blocked'
					? 'ReBound has blocked this IP after failed logins; wait before trying again'
					: 'Could not reach ReBound';
		return { status: 'Error', message: `${prefix}: ${info.message}` };
	}
}

/** `methods.credentialTest.reBoundApiTest` of every ReBound node. */
export async function reBoundApiTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const creds = readReboundCredentials(credential.data ?? {});
	const api = new ReboundClient(
		reboundConfigFromCredentials(creds, { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 }),
		{
			// Credential tests get only the legacy `helpers.request` (ICredentialTestFunctions has no httpRequest).
			// eslint-disable-next-line @n8n/community-nodes/no-deprecated-workflow-functions
			send: makeLegacyRequestSend(this.helpers.request),
			retry: n8nRetryDeps,
		},
	);
	return await testReboundCredentials(api, creds, Date.now());
}
