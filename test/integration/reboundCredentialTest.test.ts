/**
 * The ReBound credential's declarative test against the ReBound sandbox, run as n8n's credential
 * tester runs it (test/helpers/credentialTestRequest.ts): the right login and key pass with one
 * search, a wrong key fails with one search (never retried: ReBound blocks an IP after repeated
 * failed logins) and without the key in the message.
 */
import { ReBoundApi } from '../../credentials/ReBoundApi.credentials';
import { startReboundSandbox, type ReboundSandbox } from '../../sandbox/rebound/server';
import { runDeclarativeCredentialTest } from '../helpers/credentialTestRequest';
import { reboundCredentials } from '../helpers/reboundFakes';

let sandbox: ReboundSandbox;
beforeEach(async () => {
	sandbox = await startReboundSandbox({ port: 0 });
});
afterEach(async () => {
	await sandbox.close();
});

test('the right login and key pass, a wrong key fails, one search each', async () => {
	const cred = new ReBoundApi();
	const right = reboundCredentials({
		login: 'demo-retailer',
		apiKey: 'demo-api-key-0000',
		baseUrl: sandbox.url,
	});
	expect(await runDeclarativeCredentialTest(cred, right)).toMatchObject({ status: 'OK' });
	const wrong = await runDeclarativeCredentialTest(cred, { ...right, apiKey: 'wrong-key-123' });
	expect(wrong).toMatchObject({ status: 'Error', message: expect.stringMatching(/access_denied/) });
	expect(wrong.message).not.toContain('wrong-key-123');
	expect(sandbox.calls.all().map((c) => [c.method, c.outcome])).toEqual([
		['returns/search', expect.stringMatching(/^(ok|empty)$/)],
		['returns/search', 'error:access_denied'],
	]);
});
