/**
 * The Khaos credential tested through the transport: one GetSiteList by the real client (SOAP
 * version, namespace, SOAPAction style and authentication exactly as the node's calls have them),
 * one attempt. Node method `credentialTest.khaosControlApiTest`, for the node's `testedBy`.
 *
 * Not yet referenced: the credential still declares its own `test` request (an envelope written in
 * expressions), which n8n prefers over `testedBy`. Dropping it needs test/helpers/khaosN8nHttp.ts
 * (which resolves that request) to run this method instead.
 */
import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';
import { TransportError } from '../../../transports/http';
import type { KhaosApi } from '../../../transports/khaos/api';
import { KhaosClient } from '../../../transports/khaos/client';
import { KhaosFault } from '../../../transports/khaos/faults';
import { DEFAULT_RETRY_POLICY } from '../../../transports/retry';
import { makeLegacyRequestSend, n8nRetryDeps } from '../../shared/n8nHttp';
import {
	describeKhaosError,
	khaosConfigFromCredentials,
	khaosSecrets,
	khaosSend,
	readKhaosCredentials,
	type KhaosCredentials,
} from '../transport';

/** Name of the method, for `testedBy`. */
export const KHAOS_CREDENTIAL_TEST = 'khaosControlApiTest';

/** The answer of one GetSiteList, in the words of the former test request's rules. */
export async function testKhaosCredentials(
	api: KhaosApi,
	creds: KhaosCredentials,
): Promise<INodeCredentialTestResult> {
	if (!creds.url) return { status: 'Error', message: 'The web services URL is empty' };
	try {
		const sites = await api.getSites();
		return { status: 'OK', message: `Connected to Khaos: ${sites.length} site(s)` };
	} catch (error) {
		const info = describeKhaosError(error, khaosSecrets(creds));
		const status = error instanceof TransportError ? error.status : undefined;
		if (status === 401)
			return {
				status: 'Error',
				message:
					'Khaos refused the user name or password (HTTP 401): check the authentication mode and the credentials',
			};
		if (status === 403)
			return {
				status: 'Error',
				message:
					'Khaos refused access (HTTP 403): check the authentication mode and the credentials',
			};
		if (status === 404)
			return {
				status: 'Error',
				message: 'No KhaosKSD.exe at this URL (HTTP 404): check the web services URL',
			};
		if (error instanceof KhaosFault) {
			return {
				status: 'Error',
				message: `Khaos answered GetSiteList with a SOAP fault: check the namespace and SOAPAction style (see the WSDL) and, for "In Request" authentication, the user name and password (${info.message})`,
			};
		}
		return { status: 'Error', message: `Could not reach Khaos: ${info.message}` };
	}
}

/**
 * `methods.credentialTest.khaosControlApiTest`. Credential tests get only the legacy
 * `helpers.request` and no credential `authenticate`, so the client sends HTTP Basic itself.
 */
export async function khaosControlApiTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const creds = readKhaosCredentials(credential.data ?? {});
	const config = {
		...khaosConfigFromCredentials(creds),
		authMode: creds.authMode,
		retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 },
	};
	// eslint-disable-next-line @n8n/community-nodes/no-deprecated-workflow-functions
	const send = khaosSend(makeLegacyRequestSend(this.helpers.request), creds);
	return await testKhaosCredentials(new KhaosClient(config, { send, retry: n8nRetryDeps }), creds);
}
