import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

/**
 * Khaos Control web services (SOAP, the IKosWeb interface of KhaosKSD.exe).
 *
 * Authentication is a setting because Khaos sites differ: on-premise systems
 * usually have none (private network), some sit behind HTTP Basic, hosted
 * systems pass UserName/Password inside each SOAP request (the transport adds
 * those parameters itself). `authenticate` adds HTTP Basic only in "basic" mode.
 *
 * The credential test POSTs a real SOAP envelope for GetSiteList (a cheap,
 * documented call without parameters), built by n8n expressions from the
 * settings below: SOAP 1.1 or 1.2 envelope and headers, the namespace, the
 * SOAPAction style, and the user name/password parameters in "in request" mode.
 * Khaos (a Delphi server) answers a fault with HTTP 500, which fails the test.
 */

/** XML-escape an expression's value inside an n8n expression (no regex literals: portable to every expression engine). */
function xmlEscaped(expression: string): string {
	return `String(${expression} || '').split('&').join('&amp;').split('<').join('&lt;').split('>').join('&gt;').split('"').join('&quot;')`;
}

const TEST_METHOD = 'GetSiteList';
const ACTION =
	`($credentials.soapActionStyle === 'method' ? '${TEST_METHOD}' : $credentials.soapActionStyle === 'empty' ? '' : ` +
	`($credentials.namespace || 'urn:KosWeb-IKosWeb') + '#${TEST_METHOD}')`;
const ENVELOPE_NS = `($credentials.soapVersion === '1.2' ? 'http://www.w3.org/2003/05/soap-envelope' : 'http://schemas.xmlsoap.org/soap/envelope/')`;
const AUTH_PARAMS =
	`($credentials.authMode === 'inRequest' ? '<UserName>' + ${xmlEscaped('$credentials.username')} + '</UserName><Password>' + ` +
	`${xmlEscaped('$credentials.password')} + '</Password>' : '')`;

/** The test request's body: a complete SOAP envelope (exported for tests). */
export const KHAOS_TEST_BODY =
	`={{ '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="' + ${ENVELOPE_NS} + '">` +
	`<soap:Body><ns1:${TEST_METHOD} xmlns:ns1="' + ${xmlEscaped("($credentials.namespace || 'urn:KosWeb-IKosWeb')")} + '">' + ${AUTH_PARAMS} + ` +
	`'</ns1:${TEST_METHOD}></soap:Body></soap:Envelope>' }}`;

export const KHAOS_TEST_CONTENT_TYPE = `={{ $credentials.soapVersion === '1.2' ? 'application/soap+xml; charset=utf-8; action="' + ${ACTION} + '"' : 'text/xml; charset=utf-8' }}`;

export const KHAOS_TEST_SOAP_ACTION = `={{ '"' + ${ACTION} + '"' }}`;

export class KhaosControlApi implements ICredentialType {
	name = 'khaosControlApi';

	displayName = 'Khaos Control API';

	icon = { light: 'file:khaosControl.svg', dark: 'file:khaosControl.dark.svg' } as const;

	documentationUrl = 'https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos#readme';

	properties: INodeProperties[] = [
		{
			displayName: 'Web Services URL',
			name: 'url',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'http://server:8084/LiveSoap/KhaosKSD.exe',
			description:
				'The KhaosKSD.exe address of the system to use (test and live systems have different ones). The WSDL is at <URL>/wsdl/IKosWeb.',
		},
		{
			displayName: 'Authentication',
			name: 'authMode',
			type: 'options',
			options: [
				{ name: 'None', value: 'none', description: 'On-premise systems on a private network' },
				{
					name: 'HTTP Basic',
					value: 'basic',
					description: 'User name and password in the Authorization header',
				},
				{
					name: 'In Request',
					value: 'inRequest',
					description: 'User name and password as parameters of every SOAP call (hosted systems)',
				},
			],
			default: 'none',
		},
		{
			displayName: 'User Name',
			name: 'username',
			type: 'string',
			default: '',
			displayOptions: { show: { authMode: ['basic', 'inRequest'] } },
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { authMode: ['basic', 'inRequest'] } },
		},
		{
			displayName: 'SOAP Version',
			name: 'soapVersion',
			type: 'options',
			options: [
				{ name: 'SOAP 1.1', value: '1.1' },
				{ name: 'SOAP 1.2', value: '1.2' },
			],
			default: '1.1',
		},
		{
			displayName: 'Namespace',
			name: 'namespace',
			type: 'string',
			default: 'urn:KosWeb-IKosWeb',
			description:
				'SOAP namespace of the IKosWeb interface, as in the WSDL (a Delphi server uses urn:<Unit>-IKosWeb)',
		},
		{
			displayName: 'SOAPAction Style',
			name: 'soapActionStyle',
			type: 'options',
			options: [
				{
					name: 'Namespace#Method',
					value: 'namespaceHash',
					description: 'E.g. urn:KosWeb-IKosWeb#ExportStock (Delphi convention)',
				},
				{ name: 'Method Name', value: 'method', description: 'E.g. ExportStock' },
				{ name: 'Empty', value: 'empty', description: 'An empty SOAPAction' },
			],
			default: 'namespaceHash',
		},
		{
			displayName: 'Default Site ID',
			name: 'defaultSiteId',
			type: 'string',
			default: '1',
			description: 'Khaos site used when a node or a mapping names none',
		},
		{
			displayName: 'Timeout (Seconds)',
			name: 'timeoutSeconds',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 600 },
			default: 30,
			description: 'How long to wait for one SOAP call',
		},
		{
			displayName: 'Max Attempts',
			name: 'maxAttempts',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 10 },
			default: 5,
			description:
				'Tries per call for transient failures (timeouts, HTTP 429/5xx, lock faults), with back-off honouring Retry-After',
		},
		{
			displayName: 'Codes Per Call',
			name: 'batchSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 500 },
			default: 50,
			description:
				'How many stock codes or references one look-up call carries (Khaos has no paging; 50 is usual)',
		},
		{
			displayName: 'Max Response Size (MB)',
			name: 'maxResponseMb',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 1024 },
			default: 20,
			description:
				'Largest answer accepted from Khaos for one call (1 MB = 1,048,576 bytes). Larger answers are refused before they are parsed, and reading stops once past the limit.',
		},
	];

	/** HTTP Basic only in "basic" mode; "in request" credentials are SOAP parameters added by the transport. */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		if (credentials.authMode !== 'basic') return requestOptions;
		return {
			...requestOptions,
			auth: {
				username: String(credentials.username ?? ''),
				password: String(credentials.password ?? ''),
			},
		};
	}

	test: ICredentialTestRequest = {
		request: {
			method: 'POST',
			url: '={{ $credentials.url }}',
			headers: {
				'Content-Type': KHAOS_TEST_CONTENT_TYPE,
				SOAPAction: KHAOS_TEST_SOAP_ACTION,
				Accept: 'text/xml, application/soap+xml',
			},
			body: KHAOS_TEST_BODY,
			json: false,
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'Khaos refused the user name or password (HTTP 401): check the authentication mode and the credentials',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message:
						'Khaos refused access (HTTP 403): check the authentication mode and the credentials',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message: 'No KhaosKSD.exe at this URL (HTTP 404): check the web services URL',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 500,
					message:
						'Khaos answered GetSiteList with a SOAP fault: check the namespace and SOAPAction style (see the WSDL) and, for "In Request" authentication, the user name and password',
				},
			},
		],
	};
}
