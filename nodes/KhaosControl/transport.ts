/**
 * Glue between the `khaosControlApi` credential and the Khaos transport: the
 * client config, the client itself (sending through n8n's HTTP helpers), and
 * the translation of transport errors into n8n errors and exception items.
 * No wire format here (transports/khaos owns it).
 */
import { NodeOperationError } from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
} from 'n8n-workflow';
import { BYTES_PER_MB, capResponseSize, type HttpSend } from '../../transports/http';
import { DEFAULT_RETRY_POLICY } from '../../transports/retry';
import type { KhaosApi, KhaosAuthMode, KhaosConfig } from '../../transports/khaos/api';
import { KhaosClient } from '../../transports/khaos/client';
import { makeN8nSend, n8nRetryDeps } from '../shared/n8nHttp';
import { describeFailure, type FailureDescription } from '../shared/nodeError';
import { int, secretsOf, str } from '../shared/values';

export const KHAOS_CREDENTIAL = 'khaosControlApi';

export interface KhaosCredentials {
	url: string;
	authMode: KhaosAuthMode;
	username: string;
	password: string;
	soapVersion: '1.1' | '1.2';
	namespace: string;
	soapActionStyle: 'namespaceHash' | 'method' | 'empty';
	defaultSiteId: string;
	timeoutSeconds: number;
	maxAttempts: number;
	batchSize: number;
	/** Largest SOAP answer accepted, in MB (1 MB = 1,048,576 bytes); larger ones are refused before parsing. */
	maxResponseMb: number;
}

/** Default of the credential's Max Response Size: room for large exports, while one answer cannot exhaust n8n's memory. */
export const DEFAULT_MAX_RESPONSE_MB = 20;

/** Read the credential leniently (older saved credentials may lack newer fields). */
export function readKhaosCredentials(
	data: ICredentialDataDecryptedObject | Record<string, unknown>,
): KhaosCredentials {
	const authMode: KhaosAuthMode =
		data.authMode === 'basic' || data.authMode === 'inRequest' ? data.authMode : 'none';
	const style =
		data.soapActionStyle === 'method' || data.soapActionStyle === 'empty'
			? data.soapActionStyle
			: 'namespaceHash';
	return {
		url: str(data.url).trim(),
		authMode,
		username: str(data.username),
		password: str(data.password),
		soapVersion: str(data.soapVersion) === '1.2' ? '1.2' : '1.1',
		namespace: str(data.namespace).trim() || 'urn:KosWeb-IKosWeb',
		soapActionStyle: style,
		defaultSiteId: str(data.defaultSiteId).trim(),
		timeoutSeconds: int(data.timeoutSeconds, 30, 1, 600),
		maxAttempts: int(data.maxAttempts, DEFAULT_RETRY_POLICY.maxAttempts, 1, 10),
		batchSize: int(data.batchSize, 50, 1, 500),
		maxResponseMb: int(data.maxResponseMb, DEFAULT_MAX_RESPONSE_MB, 1, 1024),
	};
}

/**
 * The transport config. In "basic" mode the credential's `authenticate` adds the
 * Authorization header (n8n's credential handling), so the client itself sends
 * none; it still gets the user name and password to scrub them from messages.
 */
export function khaosConfigFromCredentials(creds: KhaosCredentials): KhaosConfig {
	return {
		url: creds.url,
		authMode: creds.authMode === 'basic' ? 'none' : creds.authMode,
		username: creds.username || undefined,
		password: creds.password || undefined,
		soapVersion: creds.soapVersion,
		namespace: creds.namespace,
		soapActionStyle: creds.soapActionStyle,
		timeoutMs: creds.timeoutSeconds * 1000,
		batchSize: creds.batchSize,
		retry: {
			...DEFAULT_RETRY_POLICY,
			maxAttempts: creds.maxAttempts,
			maxTotalMs: Math.max(DEFAULT_RETRY_POLICY.maxTotalMs, creds.timeoutSeconds * 1000 * 2),
		},
	};
}

/**
 * What to scrub from messages, exception rows and output (core/exceptions redactSecrets derives every
 * encoded form: XML-escaped as in the SOAP body, URL/form-encoded, JSON-escaped, base64). The
 * `user:password` pair stands for the HTTP Basic header, whose base64 is of the pair, not the parts.
 */
export function khaosSecrets(creds: Pick<KhaosCredentials, 'username' | 'password'>): string[] {
	const pair = creds.username || creds.password ? `${creds.username}:${creds.password}` : null;
	return secretsOf(creds.password, creds.username.length >= 3 ? creds.username : null, pair);
}

export async function getKhaosCredentials(
	ctx: IExecuteFunctions | ILoadOptionsFunctions,
): Promise<KhaosCredentials> {
	const creds = readKhaosCredentials(await ctx.getCredentials(KHAOS_CREDENTIAL));
	if (!creds.url)
		throw new NodeOperationError(
			ctx.getNode(),
			'The Khaos Control credential has no web services URL',
		);
	return creds;
}

/**
 * A Khaos client for a node, talking through n8n's httpRequestWithAuthentication
 * (proxy, SSRF policy, credential `authenticate`). Unit tests replace it with
 * `jest.spyOn(transport, 'createKhaosApi')`.
 */
export function createKhaosApi(
	ctx: IExecuteFunctions | ILoadOptionsFunctions,
	creds: KhaosCredentials,
): KhaosApi {
	return new KhaosClient(khaosConfigFromCredentials(creds), {
		send: khaosSend(makeN8nSend(ctx, KHAOS_CREDENTIAL), creds),
		retry: n8nRetryDeps,
	});
}

/**
 * The sender the Khaos client gets: answers over the credential's Max Response Size are refused
 * before anything parses them (makeN8nSend stops receiving once past the cap; the check here
 * covers any sender). The cap lives in the sender rather than in KhaosConfig so it applies to
 * every call the client makes, whatever the call.
 */
export function khaosSend(
	send: HttpSend,
	creds: Pick<KhaosCredentials, 'maxResponseMb'>,
): HttpSend {
	return capResponseSize(
		send,
		creds.maxResponseMb * BYTES_PER_MB,
		'Khaos',
		'raise Max Response Size in the Khaos Control credential only if Khaos really sends answers this large',
	);
}

/** A Khaos error, classified for exception items. */
export interface KhaosErrorInfo {
	/** transient: retries exhausted; rejected: Khaos answered with a fault or refused the data; failed: transport/config problem. */
	category: 'transient' | 'rejected' | 'failed' | 'logic';
	message: string;
	code: string | null;
	status: number | null;
	attempts: number | null;
}

const KHAOS_CATEGORY = {
	transient: 'transient',
	remote: 'rejected',
	transport: 'failed',
	logic: 'logic',
} as const;

export function describeKhaosError(error: unknown, secrets: string[]): KhaosErrorInfo {
	const { category, message, code, status, attempts } = describeFailure(error, secrets);
	return { category: KHAOS_CATEGORY[category], message, code, status, attempts };
}

/** What the editor shows under a Khaos NodeApiError (nodes/shared/nodeError.ts toNodeError's `advice`). */
export function khaosAdvice(failure: FailureDescription): string {
	if (failure.category === 'transient')
		return `Khaos kept failing after ${failure.attempts ?? '?'} attempt(s); nothing was applied twice. Check the service, then run again.`;
	if (failure.category === 'remote')
		return 'Khaos refused the call; the message is the SOAP fault it sent.';
	return 'Check the web services URL, the authentication settings and the network.';
}
