/**
 * Delivering the daily report (issue 17, "Delivered"; scripts/templates/reportDelivery.ts): the
 * committed reconciliation template e-mails the HTML report as the body and as an attached file,
 * posts the report text to Slack with the HTML file in the message's thread, and turns every failed
 * delivery into a `report_delivery_failed` exception for the shared sink. The failure items are
 * resolved by n8n-workflow's own expression engine from the template as the import fills it in.
 *
 * n8n's Slack node has no base-URL setting (its requests go to https://slack.com/api), so Slack
 * delivery is proved here at the level of the workflow JSON; the e-mail is also proved end to end
 * on a real n8n against an SMTP catcher (test/e2e/pollFlow.test.ts).
 */
import { DateTime } from 'luxon';
import { Expression } from 'n8n-workflow';
import { EXCEPTION_CATALOGUE, makeException, reportDeliveryFailedKey } from '../../core/exceptions';
import { REPORT_BINARY } from '../../scripts/templates/reportDelivery';
import {
	committedTemplate,
	filledTemplate,
	nodeNamed as node,
	targetsOf as targets,
} from '../helpers/filledTemplate';

const template = committedTemplate('reconciliation');
const NOW = DateTime.fromISO('2026-11-28T07:00:03Z', { zone: 'UTC' });

/** The template as the import fills it in for a client with both channels configured. */
const wf = filledTemplate(template, 'reconciliation', {
	CLIENT_NAME: 'Acme',
	REPORT_EMAIL_TO: 'finance@example.com, ops@example.com',
	ALERT_EMAIL_FROM: 'returns@example.com',
	REPORT_SLACK_CHANNEL: '#returns-report',
});

const REPORT = {
	title: 'Returns reconciliation Acme – 2026-11-27',
	subject: 'Returns reconciliation Acme – 2026-11-27: 3 of 4 complete, 1 needs attention',
	html: '<h1>Returns reconciliation Acme – 2026-11-27</h1>',
	markdown: '# Returns reconciliation Acme – 2026-11-27',
	summaryLine: 'Check: 4 returns',
};

/** A parameter resolved as n8n would in the run: the report and the window of the run, this item. */
function evaluate(
	parameter: unknown,
	over: {
		json?: Record<string, unknown>;
		window?: { from: string; to: string };
		prevNode?: string;
		executionId?: string;
	} = {},
): unknown {
	const window = over.window ?? { from: '2026-11-27', to: '2026-11-27' };
	const data = {
		$json: over.json ?? {},
		$now: NOW,
		$today: NOW.startOf('day'),
		$execution: { id: over.executionId ?? '412' },
		$prevNode: { name: over.prevNode ?? 'Email Report' },
		$: (name: string) => ({
			first: () => ({
				json: name === 'Reconcile' ? REPORT : name === 'Report Window' ? window : {},
			}),
		}),
	};
	return new Expression('UTC').resolveSimpleParameterValue(parameter as string, data as never);
}

function failed(name: string, over: Parameters<typeof evaluate>[1]): Record<string, any> {
	const parameter = (node(wf, name).parameters as { jsonOutput: string }).jsonOutput;
	return JSON.parse(String(evaluate(parameter, over))) as Record<string, any>;
}

describe('the daily report is delivered: e-mail with the HTML attached, Slack with the file in its thread', () => {
	it('e-mail: the HTML report becomes a file (Convert to File) that the Send Email node attaches; the body is the HTML, the text part the Markdown', () => {
		expect(targets(template, 'Reconcile', 0)).toEqual([
			'Data Tables Nearly Full?',
			'Post Report to Slack',
			'Report File',
		]);
		const file = node(template, 'Report File');
		expect(file).toMatchObject({
			type: 'n8n-nodes-base.convertToFile',
			typeVersion: 1.1,
			executeOnce: true,
			disabled: '{{REPORT_EMAIL_DISABLED}}',
			parameters: {
				operation: 'toText',
				sourceProperty: 'html',
				binaryPropertyName: REPORT_BINARY,
			},
		});
		expect(evaluate((file.parameters.options as any).fileName)).toBe(
			'returns-reconciliation-2026-11-27.html',
		);
		// a month-end run names its period
		expect(
			evaluate((file.parameters.options as any).fileName, {
				window: { from: '2026-10-01', to: '2026-10-31' },
			}),
		).toBe('returns-reconciliation-2026-10-01_to_2026-10-31.html');
		expect(targets(template, 'Report File', 0)).toEqual(['Email Report']);

		const email = node(template, 'Email Report');
		expect(email).toMatchObject({
			type: 'n8n-nodes-base.emailSend',
			typeVersion: 2.1,
			executeOnce: true,
			disabled: '{{REPORT_EMAIL_DISABLED}}',
			onError: 'continueErrorOutput',
			credentials: { smtp: { id: '{{SMTP_CREDENTIAL_ID}}', name: '{{SMTP_CREDENTIAL_NAME}}' } },
			parameters: {
				resource: 'email',
				operation: 'send',
				fromEmail: '{{ALERT_EMAIL_FROM}}',
				toEmail: '{{REPORT_EMAIL_TO}}',
				emailFormat: 'both',
				options: { appendAttribution: false, fileAttachments: REPORT_BINARY },
			},
		});
		const p = node(wf, 'Email Report').parameters;
		expect(p.toEmail).toBe('finance@example.com, ops@example.com');
		expect(evaluate(p.subject)).toBe(REPORT.subject);
		expect(evaluate(p.html)).toBe(REPORT.html);
		expect(evaluate(p.text)).toBe(REPORT.markdown);
	});

	it('e-mail: a refused send (error output), a refused recipient or nothing sent goes to the failure node, which feeds the exception sink', () => {
		expect(targets(template, 'Email Report', 0)).toEqual(['Report E-mail Accepted?']);
		expect(targets(template, 'Email Report', 1)).toEqual(['Report E-mail Failed']);
		expect(targets(template, 'Report E-mail Accepted?', 0)).toEqual([]);
		expect(targets(template, 'Report E-mail Accepted?', 1)).toEqual(['Report E-mail Failed']);
		const accepted = (node(wf, 'Report E-mail Accepted?').parameters as any).conditions
			.conditions[0].leftValue;
		const ok = (json: Record<string, unknown>) => evaluate(accepted, { json });
		expect(ok({ messageId: '<a@b>', accepted: ['x@example.com'], rejected: [] })).toBe(true);
		expect(
			ok({ messageId: '<a@b>', accepted: ['x@example.com'], rejected: ['y@example.com'] }),
		).toBe(false);
		// the node failed before sending (its credential unreadable): the input item came through
		expect(ok({})).toBe(false);
		for (const name of ['Report E-mail Failed', 'Report Slack Post Failed'])
			expect({ name, to: targets(template, name, 0) }).toEqual({
				name,
				to: ['Known Exception?', 'New Exception?'],
			});
	});

	it("Slack: the report's summary line is posted (a channel name works), then the HTML file goes into its thread by the channel id Slack answered", () => {
		const post = node(template, 'Post Report to Slack');
		expect(post).toMatchObject({
			type: 'n8n-nodes-base.slack',
			typeVersion: 2.3,
			disabled: '{{REPORT_SLACK_DISABLED}}',
			onError: 'continueErrorOutput',
			credentials: {
				slackApi: { id: '{{SLACK_CREDENTIAL_ID}}', name: '{{SLACK_CREDENTIAL_NAME}}' },
			},
			parameters: {
				resource: 'message',
				operation: 'post',
				select: 'channel',
				channelId: { __rl: true, mode: 'name', value: '{{REPORT_SLACK_CHANNEL}}' },
				messageType: 'text',
			},
		});
		// the report's line for chat (its renderer escapes it for Slack); the file holds the whole report
		expect(evaluate(node(wf, 'Post Report to Slack').parameters.text)).toBe(REPORT.summaryLine);
		expect(targets(template, 'Post Report to Slack', 0)).toEqual(['Report for Slack Thread']);
		expect(targets(template, 'Post Report to Slack', 1)).toEqual(['Report Slack Post Failed']);
		expect(targets(template, 'Report for Slack Thread', 0)).toEqual(['Report File for Slack']);
		expect(targets(template, 'Report File for Slack', 0)).toEqual([
			'Attach Report in Slack Thread',
		]);
		const html = (node(wf, 'Report for Slack Thread').parameters as any).assignments.assignments;
		expect(html.map((a: any) => [a.name, evaluate(a.value)])).toEqual([['html', REPORT.html]]);
		expect(node(template, 'Report File for Slack').parameters).toEqual(
			node(template, 'Report File').parameters,
		);
		const attach = node(template, 'Attach Report in Slack Thread');
		expect(attach).toMatchObject({
			type: 'n8n-nodes-base.slack',
			typeVersion: 2.3,
			disabled: '{{REPORT_SLACK_DISABLED}}',
			onError: 'continueErrorOutput',
			parameters: {
				authentication: 'accessToken',
				resource: 'file',
				operation: 'upload',
				binaryPropertyName: REPORT_BINARY,
			},
		});
		expect(targets(template, 'Attach Report in Slack Thread', 1)).toEqual([
			'Report Slack Post Failed',
		]);
		// chat.postMessage answers the channel id; the Slack node renames `ts` to message_timestamp
		const posted = { channel: 'C0123ABCD', message_timestamp: '1764313203.000200', ok: true };
		const options = attach.parameters.options as Record<string, string>;
		const resolve = (value: string) =>
			new Expression('UTC').resolveSimpleParameterValue(value, {
				$: (name: string) => ({
					first: () => ({
						json:
							name === 'Post Report to Slack'
								? posted
								: name === 'Reconcile'
									? REPORT
									: { from: '2026-11-27', to: '2026-11-27' },
					}),
				}),
			} as never);
		expect(Object.fromEntries(Object.entries(options).map(([k, v]) => [k, resolve(v)]))).toEqual({
			channelId: 'C0123ABCD',
			threadTs: '1764313203.000200',
			fileName: 'returns-reconciliation-2026-11-27.html',
			title: REPORT.subject,
		});
		// the whole Slack path is switched on and off together
		for (const name of [
			'Post Report to Slack',
			'Report for Slack Thread',
			'Report File for Slack',
			'Attach Report in Slack Thread',
		])
			expect({ name, disabled: node(template, name).disabled }).toEqual({
				name,
				disabled: '{{REPORT_SLACK_DISABLED}}',
			});
	});
});

describe('a failed delivery is a report_delivery_failed exception (owner tech), never silent', () => {
	const info = EXCEPTION_CATALOGUE.report_delivery_failed;

	it('a refused e-mail names the channel, the recipients, the report and the error; its fields are those of every exception item', () => {
		const item = failed('Report E-mail Failed', {
			json: {
				error: "Can't send mail - all recipients were rejected: 550 5.1.1 mailbox unavailable",
			},
		});
		expect(item).toEqual({
			exception: true,
			kind: 'report_delivery_failed',
			title: info.title,
			owner: 'tech',
			action: info.action,
			stage: 'report',
			key: 'report_delivery_failed|-|reconciliation:2026-11-27|email',
			returnId: null,
			displayId: null,
			orderReference: null,
			sku: null,
			lineId: null,
			code: 'email',
			field: null,
			notice: false,
			occurredAt: '2026-11-28T07:00:03.000Z',
			payload: null,
			details: {
				channel: 'email',
				recipient: 'finance@example.com, ops@example.com',
				report: 'reconciliation:2026-11-27',
				title: REPORT.title,
				subject: REPORT.subject,
				fileName: 'returns-reconciliation-2026-11-27.html',
				node: 'Email Report',
				executionId: '412',
				error: "Can't send mail - all recipients were rejected: 550 5.1.1 mailbox unavailable",
			},
			message:
				'The report "Returns reconciliation Acme – 2026-11-27" could not be e-mailed to finance@example.com, ops@example.com: ' +
				"Can't send mail - all recipients were rejected: 550 5.1.1 mailbox unavailable. Execution 412 keeps the report.",
		});
		expect(item.key).toBe(reportDeliveryFailedKey('reconciliation:2026-11-27', 'email'));
		const made = makeException('report_delivery_failed', 'm', { stage: 'report' });
		expect(Object.keys(item).sort()).toEqual([...Object.keys(made), 'notice'].sort());
		expect(made.owner).toBe('tech');
	});

	it('a refused recipient, or an e-mail never sent, is named as such', () => {
		expect(
			failed('Report E-mail Failed', {
				prevNode: 'Report E-mail Accepted?',
				json: {
					messageId: '<a@b>',
					accepted: ['ops@example.com'],
					rejected: ['finance@example.com'],
				},
			}).details.error,
		).toBe('the server refused finance@example.com');
		expect(
			failed('Report E-mail Failed', { prevNode: 'Report E-mail Accepted?', json: {} }).details
				.error,
		).toBe('the e-mail node sent nothing (no message id)');
	});

	it('anything shaped like a secret in the error is removed from the row', () => {
		const item = failed('Report E-mail Failed', {
			json: {
				error:
					'Invalid login: 535 auth failed for smtp://reports:hunter2-pass@mail.example.com password=hunter2-pass',
			},
		});
		expect(JSON.stringify(item)).not.toContain('hunter2');
		expect(item.details.error).toBe(
			'Invalid login: 535 auth failed for smtp://reports:***@mail.example.com password=***',
		);
		// an error object (n8n's error item) gives its message
		expect(
			failed('Report E-mail Failed', { json: { error: { message: 'connect ECONNREFUSED' } } })
				.details.error,
		).toBe('connect ECONNREFUSED');
	});

	it('one key per report and channel: the same report failing again updates its row; the next day, a month-end run or the other channel is a row of its own', () => {
		const key = (over: Parameters<typeof evaluate>[1]) =>
			failed('Report E-mail Failed', { json: { error: 'x' }, ...over }).key;
		expect(key({ executionId: '413' })).toBe(key({ executionId: '999' }));
		expect(key({ window: { from: '2026-11-28', to: '2026-11-28' } })).toBe(
			'report_delivery_failed|-|reconciliation:2026-11-28|email',
		);
		expect(key({ window: { from: '2026-10-01', to: '2026-10-31' } })).toBe(
			'report_delivery_failed|-|reconciliation:2026-10-01_to_2026-10-31|email',
		);
		const slack = failed('Report Slack Post Failed', {
			prevNode: 'Post Report to Slack',
			json: { error: 'An API error occurred: channel_not_found' },
		});
		expect(slack).toMatchObject({
			kind: 'report_delivery_failed',
			owner: 'tech',
			code: 'slack',
			key: 'report_delivery_failed|-|reconciliation:2026-11-27|slack',
			details: { channel: 'slack', recipient: '#returns-report', node: 'Post Report to Slack' },
			message:
				'The report "Returns reconciliation Acme – 2026-11-27" could not be posted to Slack channel #returns-report: ' +
				'An API error occurred: channel_not_found. Execution 412 keeps the report.',
		});
		// the file upload into the thread failing is the same row (the channel is Slack either way)
		expect(
			failed('Report Slack Post Failed', {
				prevNode: 'Attach Report in Slack Thread',
				json: { error: 'An API error occurred: not_in_channel' },
			}).key,
		).toBe(slack.key);
	});

	it("the expressions hold no `}}` before their end (n8n's splitter would end them there)", () => {
		for (const name of ['Report E-mail Failed', 'Report Slack Post Failed']) {
			// as filled in (the template's own `{{REPORT_EMAIL_TO}}` is a placeholder, not code)
			const expression = (node(wf, name).parameters as { jsonOutput: string }).jsonOutput;
			expect(expression.startsWith('={{ ')).toBe(true);
			expect(expression.slice(3, -2)).not.toContain('}}');
		}
	});
});
