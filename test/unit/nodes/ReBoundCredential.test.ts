import nock from 'nock';
import { REBOUND_TEST_FAILURES, ReBoundApi } from '../../../credentials/ReBoundApi.credentials';
import {
	readReboundCredentials,
	webhookSettingsFromCredentials,
} from '../../../nodes/shared/reboundApi';
import { REBOUND_ERROR_CODES } from '../../../transports/rebound/schemas';
import {
	resolveTestRequest,
	runDeclarativeCredentialTest,
} from '../../helpers/credentialTestRequest';
import { TEST_API_KEY, TEST_LOGIN, reboundCredentials } from '../../helpers/reboundFakes';

const HOST = 'https://test.intelligentreturns.net';

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

describe('credential test (declarative: n8n runs it, one request)', () => {
	const cred = new ReBoundApi();

	beforeAll(() => nock.disableNetConnect());
	afterEach(() => nock.cleanAll());
	afterAll(() => nock.enableNetConnect());

	/** Answers one search, recording the form it was sent. */
	function answerSearch(answer: object, status = 200) {
		const forms: URLSearchParams[] = [];
		nock(HOST)
			.post('/api/returns/search/json', (body: string) => {
				forms.push(new URLSearchParams(body));
				return true;
			})
			.reply(status, answer);
		return forms;
	}

	it('is a form-encoded returns/search over today (UTC), login and key trimmed, as the transport sends it', () => {
		const request = resolveTestRequest(
			cred,
			reboundCredentials({ login: ` ${TEST_LOGIN} `, baseUrl: `${HOST}/api/` }),
		);
		expect(request).toMatchObject({
			method: 'POST',
			baseURL: `${HOST}/api/`,
			url: '/returns/search/json',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: { login: TEST_LOGIN, api_key: TEST_API_KEY },
		});
		const today = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
		expect(JSON.parse((request.body as { request: string }).request)).toEqual({
			filter: { date_from: today, date_to: today },
		});
		expect(resolveTestRequest(cred, reboundCredentials({ baseUrl: '' })).baseURL).toBe(
			'https://intelligentreturns.net/api',
		);
	});

	it('passes on a search answer, and on `empty` (no returns today)', async () => {
		const forms = answerSearch({ success: { id: ['5001'] } });
		expect(await runDeclarativeCredentialTest(cred, reboundCredentials())).toMatchObject({
			status: 'OK',
		});
		expect(forms.map((f) => [f.get('login'), f.get('api_key')])).toEqual([
			[TEST_LOGIN, TEST_API_KEY],
		]);
		answerSearch({ error: { code: 'empty', message: ['No results'] } });
		expect(await runDeclarativeCredentialTest(cred, reboundCredentials())).toMatchObject({
			status: 'OK',
		});
	});

	it('fails on a wrong key, a blocked IP, an HTML page and an HTTP error, without the key', async () => {
		answerSearch({ error: { code: 'access_denied', message: ['Access denied'] } });
		const refused = await runDeclarativeCredentialTest(
			cred,
			reboundCredentials({ apiKey: 'wrong-key' }),
		);
		expect(refused).toMatchObject({
			status: 'Error',
			message: expect.stringMatching(/refused the login or API key \(access_denied\)/),
		});
		expect(refused.message).not.toContain('wrong-key');
		answerSearch({ error: { code: 'ip_blocked', message: ['blocked'] } });
		expect(await runDeclarativeCredentialTest(cred, reboundCredentials())).toMatchObject({
			status: 'Error',
			message: expect.stringMatching(/blocked this IP/),
		});
		nock(HOST).post('/api/returns/search/json').reply(200, '<!DOCTYPE html><html></html>');
		expect(await runDeclarativeCredentialTest(cred, reboundCredentials())).toMatchObject({
			status: 'Error',
			message: expect.stringMatching(/HTML page/),
		});
		answerSearch({ message: 'Service Unavailable' }, 503);
		expect(await runDeclarativeCredentialTest(cred, reboundCredentials())).toMatchObject({
			status: 'Error',
			message: expect.stringMatching(/503/),
		});
	});

	it('fails on every documented error code but `empty`', () => {
		expect(Object.keys(REBOUND_TEST_FAILURES).sort()).toEqual(
			REBOUND_ERROR_CODES.filter((c) => c !== 'empty').sort(),
		);
		expect(cred.test.rules).toHaveLength(REBOUND_ERROR_CODES.length); // and the HTML page
	});
});
