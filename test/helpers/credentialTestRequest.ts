/**
 * A credential's declarative `test` (ICredentialTestRequest) run the way n8n's CredentialsTester
 * runs it (n8n 2.40.7: services/credentials-tester.service.ts): the request's expressions resolved
 * by n8n-workflow's real expression engine against `$credentials`, the credential's `authenticate`
 * applied, one request sent (over Node's http, so nock or a sandbox answers), then
 * - an HTTP status outside 2xx: the `responseCode` rule for it, else the status text: Error;
 * - a 2xx answer: the first `responseSuccessBody` rule whose `key` in the body (JSON parsed when it
 *   is JSON, as axios does) equals its `value`: Error; none: OK.
 * The body is sent as axios sends it: a string as is, an object form-encoded under
 * `application/x-www-form-urlencoded` and as JSON otherwise.
 */
import {
	Workflow,
	type ICredentialDataDecryptedObject,
	type ICredentialTestRequest,
	type ICredentialType,
	type IHttpRequestOptions,
	type INode,
	type INodeTypes,
} from 'n8n-workflow';
import type { HttpResponse } from '../../transports/http';
import { makeNodeHttpSend } from './nodeHttpSend';

type TestedCredential = ICredentialType & { test: ICredentialTestRequest };

export interface CredentialTestOutcome {
	status: 'OK' | 'Error';
	message: string;
	/** The answer's body as text (when one came). */
	body?: string;
}

/** The credential's `test.request` with its expressions resolved by n8n-workflow against `$credentials`. */
export function resolveTestRequest(
	type: TestedCredential,
	credentials: ICredentialDataDecryptedObject,
): IHttpRequestOptions {
	const types = { description: { properties: [] } };
	const nodeTypes = {
		getByName: () => types,
		getByNameAndVersion: () => types,
		getKnownTypes: () => ({}),
	} as unknown as INodeTypes;
	const node: INode = {
		id: 'temp',
		name: 'Temp-Node',
		type: 'mock',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	return workflow.expression.getParameterValue(
		type.test.request as never,
		null,
		0,
		0,
		node.name,
		[],
		'internal',
		{ $credentials: credentials } as never,
		undefined,
		false,
	) as unknown as IHttpRequestOptions;
}

function headerRecord(headers: IHttpRequestOptions['headers']): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(headers ?? {}))
		if (v !== undefined && v !== null) out[k.toLowerCase()] = String(v);
	return out;
}

/** axios' baseURL + url. */
function targetUrl(options: IHttpRequestOptions): string {
	if (!options.baseURL || /^https?:\/\//.test(options.url)) return options.url;
	return `${options.baseURL.replace(/\/+$/, '')}/${options.url.replace(/^\/+/, '')}`;
}

function bodyText(
	options: IHttpRequestOptions,
	contentType: string | undefined,
): string | undefined {
	const { body } = options;
	if (body === undefined || body === null) return undefined;
	if (typeof body === 'string') return body;
	if (contentType === 'application/x-www-form-urlencoded')
		return new URLSearchParams(body as Record<string, string>).toString();
	return JSON.stringify(body);
}

function parsed(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

/** lodash `get` for the dotted keys rules use. */
function valueAt(value: unknown, key: string): unknown {
	let at: unknown = value;
	for (const part of key.split('.')) {
		if (at === null || at === undefined) return undefined;
		at = (at as Record<string, unknown>)[part];
	}
	return at;
}

/** Runs the credential's declarative test once, as n8n's credential tester does. */
export async function runDeclarativeCredentialTest(
	type: TestedCredential,
	credentials: ICredentialDataDecryptedObject,
): Promise<CredentialTestOutcome> {
	let options = resolveTestRequest(type, credentials);
	if (typeof type.authenticate === 'function')
		options = await type.authenticate(credentials, options);
	const headers = headerRecord(options.headers);
	if (options.auth)
		headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
	let res: HttpResponse;
	try {
		res = await makeNodeHttpSend()({
			method: (options.method ?? 'GET') as 'GET' | 'POST',
			url: targetUrl(options),
			headers,
			body: bodyText(options, headers['content-type']),
			timeoutMs: options.timeout ?? 5000,
		});
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
	const rules = type.test.rules ?? [];
	if (res.status < 200 || res.status > 299) {
		const rule = rules.find((r) => r.type === 'responseCode' && r.properties.value === res.status);
		return {
			status: 'Error',
			message: rule ? rule.properties.message : `Received HTTP status code: ${res.status}`,
			body: res.body,
		};
	}
	const answer = parsed(res.body);
	const rule = rules.find(
		(r) =>
			r.type === 'responseSuccessBody' && valueAt(answer, r.properties.key) === r.properties.value,
	);
	if (rule) return { status: 'Error', message: rule.properties.message, body: res.body };
	return { status: 'OK', message: 'Connection successful!', body: res.body };
}
