/**
 * Glue between the `khaosControlApi` credential and the Khaos transport: the
 * client config, the client itself (sending through n8n's HTTP helpers), and
 * the translation of transport errors into n8n errors and exception items.
 * No wire format here (transports/khaos owns it).
 */
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { ICredentialDataDecryptedObject, IExecuteFunctions, ILoadOptionsFunctions, INode, JsonObject } from 'n8n-workflow';
import { redactSecrets } from '../../core/exceptions';
import { BYTES_PER_MB, TransientExhaustedError, TransportError, capResponseSize, type HttpSend } from '../../transports/http';
import { DEFAULT_RETRY_POLICY } from '../../transports/retry';
import type { KhaosApi, KhaosAuthMode, KhaosConfig } from '../../transports/khaos/api';
import { KhaosClient } from '../../transports/khaos/client';
import { makeN8nSend, n8nRetryDeps } from '../shared/n8nHttp';

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

function str(value: unknown, fallback = ''): string {
	return typeof value === 'string' ? value : value === undefined || value === null ? fallback : String(value);
}

function num(value: unknown, fallback: number, min: number, max: number): number {
	const n = Number(value);
	if (!Number.isFinite(n)) return fallback;
	return Math.min(max, Math.max(min, Math.floor(n)));
}

/** Read the credential leniently (older saved credentials may lack newer fields). */
export function readKhaosCredentials(data: ICredentialDataDecryptedObject | Record<string, unknown>): KhaosCredentials {
	const authMode: KhaosAuthMode = data.authMode === 'basic' || data.authMode === 'inRequest' ? data.authMode : 'none';
	const style = data.soapActionStyle === 'method' || data.soapActionStyle === 'empty' ? data.soapActionStyle : 'namespaceHash';
	return {
		url: str(data.url).trim(),
		authMode,
		username: str(data.username),
		password: str(data.password),
		soapVersion: str(data.soapVersion) === '1.2' ? '1.2' : '1.1',
		namespace: str(data.namespace).trim() || 'urn:KosWeb-IKosWeb',
		soapActionStyle: style,
		defaultSiteId: str(data.defaultSiteId).trim(),
		timeoutSeconds: num(data.timeoutSeconds, 30, 1, 600),
		maxAttempts: num(data.maxAttempts, DEFAULT_RETRY_POLICY.maxAttempts, 1, 10),
		batchSize: num(data.batchSize, 50, 1, 500),
		maxResponseMb: num(data.maxResponseMb, DEFAULT_MAX_RESPONSE_MB, 1, 1024),
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
		retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: creds.maxAttempts, maxTotalMs: Math.max(DEFAULT_RETRY_POLICY.maxTotalMs, creds.timeoutSeconds * 1000 * 2) },
	};
}

/**
 * What to scrub from messages, exception rows and output (core/exceptions redactSecrets derives every
 * encoded form: XML-escaped as in the SOAP body, URL/form-encoded, JSON-escaped, base64). The
 * `user:password` pair stands for the HTTP Basic header, whose base64 is of the pair, not the parts.
 */
export function khaosSecrets(creds: Pick<KhaosCredentials, 'username' | 'password'>): string[] {
	const out = [creds.password];
	if (creds.username.length >= 3) out.push(creds.username);
	if (creds.username || creds.password) out.push(`${creds.username}:${creds.password}`);
	return out.filter((s) => s.length > 0);
}

export async function getKhaosCredentials(ctx: IExecuteFunctions | ILoadOptionsFunctions): Promise<KhaosCredentials> {
	const creds = readKhaosCredentials(await ctx.getCredentials(KHAOS_CREDENTIAL));
	if (!creds.url) throw new NodeOperationError(ctx.getNode(), 'The Khaos Control credential has no web services URL');
	return creds;
}

/**
 * A Khaos client for a node, talking through n8n's httpRequestWithAuthentication
 * (proxy, SSRF policy, credential `authenticate`). Unit tests replace it with
 * `jest.spyOn(transport, 'createKhaosApi')`.
 */
export function createKhaosApi(ctx: IExecuteFunctions | ILoadOptionsFunctions, creds: KhaosCredentials): KhaosApi {
	return new KhaosClient(khaosConfigFromCredentials(creds), { send: khaosSend(makeN8nSend(ctx, KHAOS_CREDENTIAL), creds), retry: n8nRetryDeps });
}

/**
 * The sender the Khaos client gets: answers over the credential's Max Response Size are refused
 * before anything parses them (makeN8nSend stops receiving once past the cap; the check here
 * covers any sender). The cap lives in the sender rather than in KhaosConfig so it applies to
 * every call the client makes, whatever the call.
 */
export function khaosSend(send: HttpSend, creds: Pick<KhaosCredentials, 'maxResponseMb'>): HttpSend {
	return capResponseSize(send, creds.maxResponseMb * BYTES_PER_MB, 'Khaos', 'raise Max Response Size in the Khaos Control credential only if Khaos really sends answers this large');
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

export function describeKhaosError(error: unknown, secrets: string[]): KhaosErrorInfo {
	const clean = (s: string) => redactSecrets(s, secrets);
	if (error instanceof TransientExhaustedError) {
		return {
			category: 'transient',
			message: clean(error.message),
			code: error.lastError.code ?? error.lastError.kind,
			status: error.lastError.status ?? null,
			attempts: error.attempts,
		};
	}
	if (error instanceof TransportError) {
		return {
			category: error.kind === 'remote' ? 'rejected' : 'failed',
			message: clean(error.message),
			code: error.code ?? error.kind,
			status: error.status ?? null,
			attempts: null,
		};
	}
	const message = error instanceof Error ? error.message : String(error);
	return { category: 'logic', message: clean(message), code: null, status: null, attempts: null };
}

/** NodeApiError for transport/HTTP/remote errors, NodeOperationError for logic; messages scrubbed of secrets. */
export function toNodeError(node: INode, error: unknown, itemIndex: number, secrets: string[]): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	const info = describeKhaosError(error, secrets);
	if (info.category === 'logic') return new NodeOperationError(node, info.message, { itemIndex });
	const response: JsonObject = { message: info.message, code: info.code, status: info.status };
	const description =
		info.category === 'transient'
			? `Khaos kept failing after ${info.attempts ?? '?'} attempt(s); nothing was applied twice. Check the service, then run again.`
			: info.category === 'rejected'
				? 'Khaos refused the call; the message is the SOAP fault it sent.'
				: 'Check the web services URL, the authentication settings and the network.';
	return new NodeApiError(node, response, {
		message: info.message,
		description,
		httpCode: info.status === null ? undefined : String(info.status),
		itemIndex,
	});
}
