/**
 * The Khaos credential tested through the transport (nodes/KhaosControl/methods/credentialTest.ts):
 * the node's `credentialTest.khaosControlApiTest` against the sandbox, through a legacy
 * `helpers.request` as n8n's CredentialTestContext gives it, with the outcomes the credential's
 * declarative test request has (test/integration/khaosNode.test.ts): one GetSiteList answered OK,
 * a wrong password an error naming HTTP 401 or the SOAP fault, never the password.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ICredentialsDecrypted, ICredentialTestFunctions, IDataObject } from 'n8n-workflow';
import { KhaosControl } from '../../nodes/KhaosControl/KhaosControl.node';
import { startKhaosSandbox, type KhaosSandbox } from '../../sandbox/khaos/server';
import { makeNodeHttpSend } from '../helpers/nodeHttpSend';

const DEFAULT_FIXTURE = JSON.parse(
	fs.readFileSync(
		path.join(__dirname, '..', '..', 'sandbox', 'fixtures', 'khaos-default.json'),
		'utf8',
	),
) as IDataObject;

let sandbox: KhaosSandbox;
afterEach(async () => {
	await sandbox.close();
});

/** A legacy `helpers.request` (resolveWithFullResponse, simple: false) over Node's http. */
function legacyContext(): ICredentialTestFunctions {
	const send = makeNodeHttpSend();
	const request = async (options: object) => {
		const o = options as {
			method: 'POST';
			uri: string;
			headers: Record<string, string>;
			body: string;
			timeout: number;
		};
		const res = await send({
			method: o.method,
			url: o.uri,
			headers: o.headers,
			body: o.body,
			timeoutMs: o.timeout,
		});
		return { statusCode: res.status, headers: res.headers, body: res.body };
	};
	return { helpers: { request } } as unknown as ICredentialTestFunctions;
}

async function runTest(creds: IDataObject) {
	const data = {
		url: sandbox.url,
		authMode: 'none',
		username: '',
		password: '',
		soapVersion: '1.1',
		namespace: 'urn:KosWeb-IKosWeb',
		soapActionStyle: 'namespaceHash',
		defaultSiteId: '1',
		timeoutSeconds: 5,
		maxAttempts: 5,
		batchSize: 50,
		...creds,
	};
	const credential = {
		id: '1',
		name: 'Khaos',
		type: 'khaosControlApi',
		data,
	} as unknown as ICredentialsDecrypted;
	return new KhaosControl().methods.credentialTest.khaosControlApiTest.call(
		legacyContext(),
		credential,
	);
}

test.each([
	['none', {}, {}],
	[
		'basic',
		{ mode: 'basic', username: 'ksd', password: 'b4sic-Pw' },
		{ authMode: 'basic', username: 'ksd', password: 'b4sic-Pw' },
	],
	[
		'inRequest',
		{ mode: 'inRequest', username: 'ksd', password: 'in-Req&Pw' },
		{ authMode: 'inRequest', username: 'ksd', password: 'in-Req&Pw', soapVersion: '1.2' },
	],
])(
	'%s: one GetSiteList answers OK; a wrong password fails without the password',
	async (_mode, auth, creds) => {
		sandbox = await startKhaosSandbox({
			port: 0,
			fixture: { ...DEFAULT_FIXTURE, auth: { mode: 'none', ...auth } },
		});
		const ok = await runTest(creds);
		expect(ok).toEqual({
			status: 'OK',
			message: expect.stringMatching(/^Connected to Khaos: \d+ site\(s\)$/),
		});
		expect(sandbox.calls.all().map((c) => [c.method, c.outcome])).toEqual([['GetSiteList', 'ok']]);
		if ((auth as IDataObject).mode) {
			const bad = await runTest({ ...creds, password: 'wrong-password' });
			expect(bad.status).toBe('Error');
			expect(bad.message).toMatch(/HTTP 401|SOAP fault/);
			expect(bad.message).not.toContain('wrong-password');
		}
	},
);

test('no KhaosKSD.exe at the URL, and no server at all', async () => {
	sandbox = await startKhaosSandbox({ port: 0, fixture: DEFAULT_FIXTURE });
	expect(await runTest({ url: `${sandbox.url}/nope/KhaosKSD.exe` })).toMatchObject({
		status: 'Error',
	});
	const url = sandbox.url;
	await sandbox.close();
	sandbox = await startKhaosSandbox({ port: 0, fixture: DEFAULT_FIXTURE });
	expect(await runTest({ url: url.replace(/:\d+/, ':1') })).toMatchObject({
		status: 'Error',
		message: expect.stringMatching(/^Could not reach Khaos/),
	});
});
