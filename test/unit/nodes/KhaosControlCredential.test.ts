import { NodeApiError, NodeOperationError, type INode } from 'n8n-workflow';
import { KhaosControlApi } from '../../../credentials/KhaosControlApi.credentials';
import { toNodeError } from '../../../nodes/shared/nodeError';
import {
	khaosAdvice,
	khaosConfigFromCredentials,
	khaosSecrets,
	readKhaosCredentials,
} from '../../../nodes/KhaosControl/transport';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import { buildSoapRequest } from '../../../transports/khaos/soap';
import { parseXml, type XmlObject } from '../../../transports/khaos/xml';
import { resolveCredentialTestRequest } from '../../helpers/khaosN8nHttp';

const base = {
	url: 'http://127.0.0.1:8084/DemoSoap/defaultSoap/KhaosKSD.exe',
	authMode: 'none',
	username: '',
	password: '',
	soapVersion: '1.1',
	namespace: 'urn:KosWeb-IKosWeb',
	soapActionStyle: 'namespaceHash',
	defaultSiteId: '1',
	timeoutSeconds: 30,
	maxAttempts: 5,
	batchSize: 50,
};

function envelopeMethod(body: string): XmlObject {
	const doc = parseXml(body);
	if (!doc.ok) throw new Error(doc.error);
	const env = doc.value.Envelope as XmlObject;
	return (env.Body as XmlObject).GetSiteList as XmlObject;
}

describe('KhaosControlApi credential', () => {
	const cred = new KhaosControlApi();

	test('fields: URL, auth mode, user, password (hidden), SOAP settings, default site, timeout, attempts', () => {
		expect(cred.name).toBe('khaosControlApi');
		expect(cred.properties.map((p) => p.name)).toEqual([
			'url',
			'authMode',
			'username',
			'password',
			'soapVersion',
			'namespace',
			'soapActionStyle',
			'defaultSiteId',
			'timeoutSeconds',
			'maxAttempts',
			'batchSize',
			'maxResponseMb',
		]);
		expect(cred.properties.find((p) => p.name === 'password')?.typeOptions).toEqual({
			password: true,
		});
		expect(cred.icon).toEqual({
			light: 'file:khaosControl.svg',
			dark: 'file:khaosControl.dark.svg',
		});
	});

	test('authenticate adds HTTP Basic only in basic mode', async () => {
		const req = { url: 'http://x', headers: {} };
		expect(
			await cred.authenticate({ ...base, authMode: 'basic', username: 'u', password: 'p' }, req),
		).toEqual({ ...req, auth: { username: 'u', password: 'p' } });
		expect(
			await cred.authenticate(
				{ ...base, authMode: 'inRequest', username: 'u', password: 'p' },
				req,
			),
		).toEqual(req);
		expect(await cred.authenticate({ ...base }, req)).toEqual(req);
	});

	test('the test request is a SOAP 1.1 POST of GetSiteList with the same headers the transport sends', () => {
		const r = resolveCredentialTestRequest({ ...base });
		const transport = buildSoapRequest(
			{ version: '1.1', namespace: base.namespace, actionStyle: 'namespaceHash' },
			'GetSiteList',
			[],
		);
		expect(r.method).toBe('POST');
		expect(r.url).toBe(base.url);
		expect((r.headers as Record<string, string>)['Content-Type']).toBe(
			transport.headers['content-type'],
		);
		expect((r.headers as Record<string, string>).SOAPAction).toBe(transport.headers.soapaction);
		const method = envelopeMethod(r.body as string);
		expect(method).toBeDefined();
		expect(r.body as string).toContain('<ns1:GetSiteList xmlns:ns1="urn:KosWeb-IKosWeb">');
		expect(method.UserName).toBeUndefined();
		expect(r.body as string).toContain('http://schemas.xmlsoap.org/soap/envelope/');
	});

	test('SOAP 1.2, method-name SOAPAction, in-request credentials escaped', () => {
		const r = resolveCredentialTestRequest({
			...base,
			soapVersion: '1.2',
			soapActionStyle: 'method',
			authMode: 'inRequest',
			username: 'ann<&>',
			password: 'p"w&d',
		});
		expect((r.headers as Record<string, string>)['Content-Type']).toBe(
			'application/soap+xml; charset=utf-8; action="GetSiteList"',
		);
		expect(r.body as string).toContain('http://www.w3.org/2003/05/soap-envelope');
		const method = envelopeMethod(r.body as string);
		expect(method.UserName).toBe('ann<&>');
		expect(method.Password).toBe('p"w&d');
		const empty = resolveCredentialTestRequest({ ...base, soapActionStyle: 'empty' });
		expect((empty.headers as Record<string, string>).SOAPAction).toBe('""');
	});

	test('basic mode: the client sends no header of its own (authenticate does); limits are clamped', () => {
		const creds = readKhaosCredentials({
			...base,
			authMode: 'basic',
			username: 'u',
			password: 'secret',
			maxAttempts: 99,
			timeoutSeconds: 'x',
		});
		const config = khaosConfigFromCredentials(creds);
		expect(config.authMode).toBe('none');
		expect(config.password).toBe('secret');
		expect(config.retry.maxAttempts).toBe(10);
		expect(config.timeoutMs).toBe(30_000);
		expect(
			khaosConfigFromCredentials(readKhaosCredentials({ ...base, authMode: 'inRequest' })).authMode,
		).toBe('inRequest');
	});

	test('errors become NodeApiError (transport) or NodeOperationError (logic) without secrets', () => {
		const node = {
			id: '1',
			name: 'Khaos',
			type: 'khaosControl',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		} as INode;
		const secrets = khaosSecrets({ username: 'alice', password: 'Tr0ub4dor&3' });
		const t = toNodeError(
			node,
			new TransientExhaustedError(
				'Khaos ExportStock',
				3,
				10,
				new TransportError('HTTP 503 for alice:Tr0ub4dor&3', {
					kind: 'http',
					retryable: true,
					status: 503,
				}),
			),
			{ itemIndex: 2, secrets, advice: khaosAdvice },
		);
		expect(t).toBeInstanceOf(NodeApiError);
		expect(t.message).not.toContain('Tr0ub4dor&3');
		expect(t.message).not.toContain('alice');
		expect(t.context.itemIndex).toBe(2);
		const l = toNodeError(node, new Error('Stock Codes is empty'), {
			itemIndex: 1,
			secrets,
			advice: khaosAdvice,
		});
		expect(l).toBeInstanceOf(NodeOperationError);
		expect(l.message).toBe('Stock Codes is empty');
	});
});
