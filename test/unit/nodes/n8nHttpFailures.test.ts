/**
 * nodes/shared/n8nHttp.ts when n8n's helper fails: a network failure or a timeout (by the error's
 * code) becomes a retryable TransportError; any other error (n8n's own, an HTTP error when not
 * ignored) is passed on as it is, so the node layer classifies it.
 */
import { makeN8nSend } from '../../../nodes/shared/n8nHttp';
import { TransportError, type HttpRequest } from '../../../transports/http';
import { mockExecuteContext } from '../../helpers/mockExecuteContext';

const request: HttpRequest = {
	method: 'POST',
	url: 'http://khaos.test/x',
	headers: {},
	body: '<a/>',
	timeoutMs: 1000,
};

function sendFailing(fail: () => never, credentialType?: string) {
	const helper = () => fail();
	const ctx = mockExecuteContext({
		helpers: { httpRequest: helper, httpRequestWithAuthentication: helper },
	});
	return makeN8nSend(ctx, credentialType);
}

const coded = (code: string) => Object.assign(new Error(`failed: ${code}`), { code });

test.each([
	['ECONNREFUSED', 'network', 'connection failed: ECONNREFUSED'],
	['ECONNRESET', 'network', 'connection failed: ECONNRESET'],
	['ETIMEDOUT', 'timeout', 'no response within 1000 ms'],
	['ECONNABORTED', 'timeout', 'no response within 1000 ms'],
])('%s is a retryable %s TransportError', async (code, kind, message) => {
	for (const credentialType of [undefined, 'khaosControlApi']) {
		const error = await sendFailing(() => {
			throw coded(code);
		}, credentialType)(request).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TransportError);
		expect(error).toMatchObject({ kind, retryable: true, message });
	}
});

test('any other error is passed on as it is', async () => {
	const own = Object.assign(new Error('Request failed with status code 418'), { httpCode: '418' });
	const error = await sendFailing(() => {
		throw own;
	}, 'khaosControlApi')(request).catch((e: unknown) => e);
	expect(error).toBe(own);
	const unknownCode = coded('EPROTO');
	expect(
		await sendFailing(() => {
			throw unknownCode;
		})(request).catch((e: unknown) => e),
	).toBe(unknownCode);
});
