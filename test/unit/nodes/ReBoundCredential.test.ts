import { ReBoundApi } from '../../../credentials/ReBoundApi.credentials';
import {
	makeLegacyRequestSend,
	readReboundCredentials,
	reBoundApiTest,
	testReboundCredentials,
	webhookSettingsFromCredentials,
} from '../../../nodes/shared/reboundApi';
import { TransportError } from '../../../transports/http';
import {
	FakeReboundApi,
	TEST_API_KEY,
	TEST_LOGIN,
	reboundCredentials,
} from '../../helpers/reboundFakes';

const NOW = Date.parse('2026-11-28T23:30:00Z');

describe('ReBound API credential', () => {
	it('declares login, a password API key, base URL, a password webhook secret and the signature settings', () => {
		const cred = new ReBoundApi();
		expect(cred.name).toBe('reBoundApi');
		const byName = Object.fromEntries(cred.properties.map((p) => [p.name, p]));
		expect(Object.keys(byName)).toEqual([
			'login',
			'apiKey',
			'baseUrl',
			'webhookSecret',
			'signatureHeader',
			'signaturePrefix',
			'timestampHeader',
			'signatureEncoding',
			'signTimestamp',
			'acceptUnsignedTimestamp',
			'toleranceSeconds',
		]);
		expect(byName.apiKey.typeOptions).toEqual({ password: true });
		expect(byName.webhookSecret.typeOptions).toEqual({ password: true });
		expect(byName.baseUrl.default).toBe('https://intelligentreturns.net/api');
		expect(byName.baseUrl.description).toContain('https://test.intelligentreturns.net/api');
	});

	it('reads saved credentials leniently and maps the signature settings', () => {
		const creds = readReboundCredentials({
			login: ' me ',
			apiKey: 'k',
			baseUrl: 'https://test.intelligentreturns.net/api/',
			signatureEncoding: 'base64',
			toleranceSeconds: 60,
			signaturePrefix: 'sha256=',
		});
		expect(creds).toMatchObject({
			login: 'me',
			baseUrl: 'https://test.intelligentreturns.net/api',
			signatureHeader: 'X-Rebound-Signature',
			timestampHeader: 'X-Rebound-Timestamp',
			signTimestamp: true,
		});
		expect(webhookSettingsFromCredentials(creds)).toMatchObject({
			encoding: 'base64',
			toleranceSeconds: 60,
			prefix: 'sha256=',
			signTimestamp: true,
		});
		expect(readReboundCredentials({}).baseUrl).toBe('https://intelligentreturns.net/api');
	});
});

describe('credential test', () => {
	it('searches today (UTC) once and reports the count', async () => {
		const api = new FakeReboundApi().put(7, '2026-11-28', {});
		const result = await testReboundCredentials(
			api,
			readReboundCredentials(reboundCredentials()),
			NOW,
		);
		expect(api.searches).toEqual([{ from: '2026/11/28', to: '2026/11/28' }]);
		expect(result).toEqual({ status: 'OK', message: 'Connected to ReBound: 1 return(s) today' });
	});

	it('counts the `empty` error envelope as success', async () => {
		const api = new FakeReboundApi();
		api.searchReturnIds = async () => {
			throw new TransportError('ReBound returns/search: empty', {
				kind: 'remote',
				retryable: false,
				code: 'empty',
			});
		};
		expect(
			await testReboundCredentials(api, readReboundCredentials(reboundCredentials()), NOW),
		).toMatchObject({ status: 'OK' });
	});

	it('reports refused credentials and blocked IPs without the key', async () => {
		for (const code of ['access_denied', 'ip_blocked']) {
			const api = new FakeReboundApi();
			api.searchReturnIds = async () => {
				throw new TransportError(`ReBound returns/search: ${code} for api_key=${TEST_API_KEY}`, {
					kind: 'auth',
					retryable: false,
					code,
				});
			};
			const result = await testReboundCredentials(
				api,
				readReboundCredentials(reboundCredentials()),
				NOW,
			);
			expect(result.status).toBe('Error');
			expect(result.message).toMatch(
				code === 'ip_blocked' ? /blocked this IP/ : /refused the login or API key/,
			);
			expect(result.message).not.toContain(TEST_API_KEY);
		}
	});

	it('refuses an empty login or key without calling ReBound', async () => {
		const api = new FakeReboundApi();
		expect(
			await testReboundCredentials(
				api,
				readReboundCredentials(reboundCredentials({ apiKey: '' })),
				NOW,
			),
		).toEqual({ status: 'Error', message: 'API key is empty' });
		expect(api.searches).toEqual([]);
	});

	it('runs through the real transport over the legacy request helper: form-encoded, one attempt', async () => {
		const calls: Array<{ uri: string; body: string; headers: Record<string, string> }> = [];
		const answer = {
			status: 200,
			body: JSON.stringify({ error: { code: 'empty', message: ['No results'] } }),
		};
		const request = jest.fn(async (options: unknown) => {
			const o = options as { uri: string; body: string; headers: Record<string, string> };
			calls.push({ uri: o.uri, body: o.body, headers: o.headers });
			return {
				statusCode: answer.status,
				headers: { 'content-type': 'application/json' },
				body: answer.body,
			};
		});
		const ctx = { helpers: { request }, logger: {} } as never;
		const ok = await reBoundApiTest.call(ctx, {
			id: '1',
			name: 'ReBound',
			type: 'reBoundApi',
			data: reboundCredentials(),
		});
		expect(ok.status).toBe('OK');
		expect(calls).toHaveLength(1);
		expect(calls[0].uri).toBe('https://test.intelligentreturns.net/api/returns/search/json');
		const form = new URLSearchParams(calls[0].body);
		expect(form.get('login')).toBe(TEST_LOGIN);
		expect(form.get('api_key')).toBe(TEST_API_KEY);
		expect(JSON.parse(form.get('request')!)).toMatchObject({
			filter: { date_from: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}$/) },
		});

		answer.body = JSON.stringify({ error: { code: 'access_denied', message: ['Access denied'] } });
		calls.length = 0;
		const refused = await reBoundApiTest.call(ctx, {
			id: '1',
			name: 'ReBound',
			type: 'reBoundApi',
			data: reboundCredentials(),
		});
		expect(refused.status).toBe('Error');
		expect(refused.message).not.toContain(TEST_API_KEY);
		expect(calls).toHaveLength(1); // never hammer ReBound with bad credentials

		answer.status = 503;
		answer.body = 'Service Unavailable';
		calls.length = 0;
		const down = await reBoundApiTest.call(ctx, {
			id: '1',
			name: 'ReBound',
			type: 'reBoundApi',
			data: reboundCredentials(),
		});
		expect(down).toMatchObject({
			status: 'Error',
			message: expect.stringMatching(/Could not reach ReBound/),
		});
		expect(calls).toHaveLength(1);
	});

	it('the legacy send turns a thrown HTTP error into a response and a socket error into a retryable TransportError', async () => {
		const send = makeLegacyRequestSend((async () => {
			throw Object.assign(new Error('Request failed with status code 429'), {
				response: { statusCode: 429, headers: { 'Retry-After': '3' }, body: 'slow down' },
			});
		}) as never);
		expect(
			await send({ method: 'POST', url: 'http://x', headers: {}, body: '', timeoutMs: 1000 }),
		).toEqual({ status: 429, headers: { 'retry-after': '3' }, body: 'slow down' });

		const dead = makeLegacyRequestSend((async () => {
			throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
		}) as never);
		const error = await dead({
			method: 'POST',
			url: 'http://x',
			headers: {},
			timeoutMs: 1000,
		}).catch((e) => e);
		expect(error).toBeInstanceOf(TransportError);
		expect(error).toMatchObject({ kind: 'network', retryable: true });
	});
});
