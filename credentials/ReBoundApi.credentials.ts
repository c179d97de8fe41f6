import type {
	ICredentialTestRequest,
	ICredentialType,
	IAuthenticateRuleResponseSuccessBody,
	INodeProperties,
} from 'n8n-workflow';

/**
 * ReBound (Intelligentreturns) legacy API credential, plus the shared secret
 * and signature settings of its (modeled) webhooks.
 *
 * The legacy API puts `login` and `api_key` in the form-encoded body of each
 * call, so the transport (transports/rebound) adds them itself; this
 * credential has no `authenticate` block.
 *
 * The credential test is declarative (`test`, run by n8n's own credential tester: one request,
 * never retried, as ReBound blocks an IP after repeated failed logins): a `returns/search/json`
 * over today (UTC), form-encoded as the transport sends it. ReBound answers its errors with
 * HTTP 200 and `{"error": {"code": …}}`, so every documented error code but `empty` (no returns
 * today, which is a success) is a rule below; an HTTP error status fails the test too.
 */

/** Error codes of the legacy API (transports/rebound/schemas.ts) that fail the test, and what to do. */
export const REBOUND_TEST_FAILURES: Record<string, string> = {
	access_denied: 'ReBound refused the login or API key (access_denied): check both',
	login_empty: 'ReBound refused the login or API key (login_empty): the login is empty',
	api_key_empty: 'ReBound refused the login or API key (api_key_empty): the API key is empty',
	ip_blocked:
		'ReBound has blocked this IP after failed logins (ip_blocked); wait before trying again',
	internal: 'ReBound failed on its side (internal); try again later',
	request_wrong: 'ReBound did not understand the test call (request_wrong): check the base URL',
	request_empty: 'ReBound did not understand the test call (request_empty): check the base URL',
	json_invalid: 'ReBound did not understand the test call (json_invalid): check the base URL',
	xml_invalid: 'ReBound did not understand the test call (xml_invalid): check the base URL',
	unknown_call: 'ReBound does not know the test call (unknown_call): check the base URL',
};

const TODAY = '$now.toUTC().toFormat("yyyy/MM/dd")';

/** The test request's `request` field: the search filter over today, as JSON. */
export const REBOUND_TEST_SEARCH = `={{ JSON.stringify({ filter: { date_from: ${TODAY}, date_to: ${TODAY} } }) }}`;

export class ReBoundApi implements ICredentialType {
	name = 'reBoundApi';

	displayName = 'ReBound API';

	icon = { light: 'file:rebound.svg', dark: 'file:rebound.dark.svg' } as const;

	documentationUrl = 'https://intelligentreturns.net/api';

	properties: INodeProperties[] = [
		{
			displayName: 'Login',
			name: 'login',
			type: 'string',
			default: '',
			required: true,
			description: 'The API login ReBound gave you (sent as the `login` field of every call)',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'The API key ReBound gave you (sent as the `api_key` field of every call)',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://intelligentreturns.net/api',
			required: true,
			placeholder: 'https://intelligentreturns.net/api',
			description:
				"The legacy API root. ReBound's test system is https://test.intelligentreturns.net/api.",
		},
		{
			displayName: 'Webhook Secret',
			name: 'webhookSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Shared secret ReBound signs webhook deliveries with (HMAC-SHA256). Required by the ReBound Trigger: without it every delivery is rejected.',
		},
		{
			displayName: 'Signature Header',
			name: 'signatureHeader',
			type: 'string',
			default: 'X-Rebound-Signature',
			description: 'Request header that carries the signature',
		},
		{
			displayName: 'Signature Prefix',
			name: 'signaturePrefix',
			type: 'string',
			default: '',
			placeholder: 'sha256=',
			description: 'Text before the signature in the header, if any',
		},
		{
			displayName: 'Timestamp Header',
			name: 'timestampHeader',
			type: 'string',
			default: 'X-Rebound-Timestamp',
			description: 'Request header that carries the unix time (seconds) the delivery was signed at',
		},
		{
			displayName: 'Signature Encoding',
			name: 'signatureEncoding',
			type: 'options',
			options: [
				{ name: 'Hex', value: 'hex' },
				{ name: 'Base64', value: 'base64' },
			],
			default: 'hex',
		},
		{
			displayName: 'Sign Timestamp',
			name: 'signTimestamp',
			type: 'boolean',
			default: true,
			description:
				'Whether the signature covers `<timestamp>.<raw body>` (true) or the raw body alone (false). Off, deliveries are refused unless "Accept Deliveries Without a Signed Timestamp" is on.',
		},
		{
			// Off by default, also for credentials saved before it existed: with Sign Timestamp off they get
			// 401 `unsigned_timestamp_not_accepted` (naming this option) until someone opts in here.
			displayName: 'Accept Deliveries Without a Signed Timestamp',
			name: 'acceptUnsignedTimestamp',
			type: 'boolean',
			default: false,
			displayOptions: { show: { signTimestamp: [false] } },
			description:
				'Whether to accept deliveries signed over the body alone, which carry no signed time: anyone who captured one can replay it; turn on only if ReBound cannot sign the timestamp (<a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/bad-input.md#replay-settings-credential">docs/bad-input.md</a>).',
		},
		{
			displayName: 'Tolerance (Seconds)',
			name: 'toleranceSeconds',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 300,
			description:
				'Deliveries whose timestamp is further than this from now (either way) are rejected as replays; at least 1, as the check cannot be turned off (below 1 every delivery is refused as invalid_tolerance).',
		},
	];

	test: ICredentialTestRequest = {
		request: {
			method: 'POST',
			baseURL:
				'={{ String($credentials.baseUrl || "").trim() || "https://intelligentreturns.net/api" }}',
			url: '/returns/search/json',
			headers: {
				'Content-Type': 'application/x-www-form-urlencoded',
				Accept: 'application/json',
			},
			body: {
				login: '={{ String($credentials.login || "").trim() }}',
				api_key: '={{ String($credentials.apiKey || "").trim() }}',
				request: REBOUND_TEST_SEARCH,
			},
		},
		rules: [
			...Object.entries(REBOUND_TEST_FAILURES).map(
				([code, message]): IAuthenticateRuleResponseSuccessBody => ({
					type: 'responseSuccessBody',
					properties: { key: 'error.code', value: code, message },
				}),
			),
			{
				// An answer that is not JSON stays text, whose first character is key "0": an HTML page
				// answering 200 (a wrong base URL) fails instead of passing.
				type: 'responseSuccessBody',
				properties: {
					key: '0',
					value: '<',
					message: 'An HTML page answered, not the ReBound API: check the base URL',
				},
			},
		],
	};
}
