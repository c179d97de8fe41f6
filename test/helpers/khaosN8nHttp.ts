/**
 * n8n's HTTP helpers for tests that talk to a real server (the Khaos sandbox):
 * `httpRequest` / `httpRequestWithAuthentication` with n8n's semantics
 * (returnFullResponse, ignoreHttpStatusErrors, `auth` → Basic, errors carrying
 * axios-style codes), sent through test/helpers/nodeHttpSend.ts; the
 * credential's `authenticate` is applied like n8n's credentials helper does.
 * Plus the credential's declarative test, resolved and run like n8n's
 * CredentialsTester (./credentialTestRequest.ts).
 */
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestOptions,
} from 'n8n-workflow';
import { KhaosControlApi } from '../../credentials/KhaosControlApi.credentials';
import { TransportError, type HttpResponse } from '../../transports/http';
import {
	resolveTestRequest,
	runDeclarativeCredentialTest,
	type CredentialTestOutcome,
} from './credentialTestRequest';
import { mockExecuteContext, type MockExecuteContext, type MockParam } from './mockExecuteContext';
import { makeNodeHttpSend } from './nodeHttpSend';

export interface HttpHelperStats {
	requests: number;
}

function headerRecord(headers: IDataObject | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(headers ?? {}))
		if (v !== undefined && v !== null) out[k.toLowerCase()] = String(v);
	return out;
}

/** helpers.httpRequest and helpers.httpRequestWithAuthentication backed by Node's http module. */
export function makeRealHttpHelpers(
	credentials: ICredentialDataDecryptedObject,
	stats: HttpHelperStats = { requests: 0 },
) {
	const send = makeNodeHttpSend();
	const credentialType = new KhaosControlApi();

	async function httpRequest(options: IHttpRequestOptions): Promise<unknown> {
		const headers = headerRecord(options.headers);
		if (options.auth)
			headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
		const body =
			options.body === undefined || options.body === null
				? undefined
				: typeof options.body === 'string'
					? options.body
					: JSON.stringify(options.body);
		stats.requests++;
		let res: HttpResponse;
		try {
			res = await send({
				method: (options.method ?? 'GET') as 'GET' | 'POST',
				url: options.url,
				headers,
				body,
				timeoutMs: options.timeout ?? 300_000,
			});
		} catch (error) {
			// what axios (inside n8n) throws: an error with a code
			const e = new Error(error instanceof Error ? error.message : String(error)) as Error & {
				code?: string;
			};
			e.code =
				error instanceof TransportError && error.kind === 'timeout' ? 'ECONNABORTED' : 'ECONNRESET';
			throw e;
		}
		if (res.status >= 400 && !options.ignoreHttpStatusErrors) {
			const e = new Error(`Request failed with status code ${res.status}`) as Error & {
				httpCode?: string;
				cause?: unknown;
			};
			e.httpCode = String(res.status);
			e.cause = { response: { status: res.status, statusText: '', data: res.body } };
			throw e;
		}
		if (options.returnFullResponse)
			return { statusCode: res.status, statusMessage: '', headers: res.headers, body: res.body };
		return res.body;
	}

	async function httpRequestWithAuthentication(
		this: unknown,
		type: string,
		options: IHttpRequestOptions,
	): Promise<unknown> {
		if (type !== credentialType.name) throw new Error(`unexpected credential type ${type}`);
		return httpRequest(await credentialType.authenticate(credentials, options));
	}

	return { httpRequest, httpRequestWithAuthentication, stats };
}

/** An execute context whose HTTP helpers really send (credentials under `khaosControlApi`). */
export function khaosExecuteContext(options: {
	items: IDataObject[];
	params: Record<string, MockParam>;
	credentials: ICredentialDataDecryptedObject;
	continueOnFail?: boolean;
	stats?: HttpHelperStats;
	/** One id for the nodes of one simulated execution (default: a new one per context). */
	executionId?: string;
}): MockExecuteContext {
	const helpers = makeRealHttpHelpers(options.credentials, options.stats);
	return mockExecuteContext({
		items: options.items,
		params: options.params,
		continueOnFail: options.continueOnFail,
		executionId: options.executionId,
		credentials: { khaosControlApi: options.credentials },
		helpers: {
			httpRequest: helpers.httpRequest,
			httpRequestWithAuthentication: helpers.httpRequestWithAuthentication,
		},
	});
}

/** The credential's `test.request` with its expressions resolved by n8n-workflow against `$credentials`. */
export function resolveCredentialTestRequest(
	credentials: ICredentialDataDecryptedObject,
): IHttpRequestOptions {
	return resolveTestRequest(new KhaosControlApi(), credentials);
}

/** Run the credential test like n8n's CredentialsTester: authenticate, send, 2xx = OK, else the matching rule's message. */
export async function runCredentialTest(
	credentials: ICredentialDataDecryptedObject,
): Promise<CredentialTestOutcome> {
	return runDeclarativeCredentialTest(new KhaosControlApi(), credentials);
}
