/**
 * An alert that cannot be sent costs the alert, never the run (scripts/templates/exceptionSink.ts):
 * the exception sink's Alert by Email and Alert on Slack continue on their error output, and a
 * refused or unreachable mail server, a refused recipient or a Slack error becomes one
 * `alert_failed` row a workflow, channel and day, written straight into the exceptions table (not
 * through the sink, whose alert would fail the same way). The failure items are resolved by
 * n8n-workflow's own expression engine from the processor template as the import fills it in; the
 * run itself is proved on a real n8n against a refusing SMTP server (test/e2e/poison.test.ts).
 */
import { DateTime } from 'luxon';
import { Expression } from 'n8n-workflow';
import { EXCEPTION_CATALOGUE, alertFailedKey, makeException } from '../../core/exceptions';
import {
	committedTemplate,
	filledTemplate,
	nodeNamed as node,
	targetsOf as targets,
} from '../helpers/filledTemplate';

const template = committedTemplate('returns-processor');
const NOW = DateTime.fromISO('2026-12-04T19:30:01Z', { zone: 'UTC' });
const wf = filledTemplate(template, 'returns-processor', {
	CLIENT_NAME: 'Acme',
	ALERT_EMAIL_TO: 'ops@example.com, tech@example.com',
	ALERT_SLACK_CHANNEL: '#returns-alerts',
});

const RECORDED = Array.from({ length: 23 }, (_, i) => ({
	json: { key: `unmapped_disposition|${9100 + i}|-|Dirty` },
}));

function failed(
	name: string,
	over: { json?: Record<string, unknown>; recorded?: unknown[]; now?: DateTime } = {},
): Record<string, any> {
	const now = over.now ?? NOW;
	const data = {
		$json: over.json ?? {},
		$now: now,
		$today: now.startOf('day'),
		$execution: { id: '5120' },
		$workflow: { id: 'wf-processor-1', name: 'Returns: ReBound → Khaos – 2 process queue (Acme)' },
		$: (n: string) => ({
			all: () => (n === 'Record New Exception' ? (over.recorded ?? RECORDED) : []),
		}),
	};
	const parameter = (node(wf, name).parameters as { jsonOutput: string }).jsonOutput;
	return JSON.parse(
		String(new Expression('UTC').resolveSimpleParameterValue(parameter, data as never)),
	) as Record<string, any>;
}

describe('an alert that cannot be sent is an alert_failed row; the run goes on', () => {
	it('both alert nodes continue on their error output; a refused recipient or an e-mail never sent fails too; the failure is written straight to the exceptions table, with nothing after it', () => {
		for (const name of ['Alert by Email', 'Alert on Slack'])
			expect((node(template, name) as any).onError).toBe('continueErrorOutput');
		expect(targets(template, 'Alert by Email', 0)).toEqual(['Alert E-mail Accepted?']);
		expect(targets(template, 'Alert by Email', 1)).toEqual(['Alert E-mail Failed']);
		expect(targets(template, 'Alert E-mail Accepted?', 0)).toEqual([]);
		expect(targets(template, 'Alert E-mail Accepted?', 1)).toEqual(['Alert E-mail Failed']);
		expect(targets(template, 'Alert on Slack', 0)).toEqual([]);
		expect(targets(template, 'Alert on Slack', 1)).toEqual(['Alert Slack Post Failed']);
		expect(targets(template, 'Alert E-mail Failed', 0)).toEqual(['Record Alert Failure']);
		expect(targets(template, 'Alert Slack Post Failed', 0)).toEqual(['Record Alert Failure']);
		// no alert about the alert: the row is the end of the branch
		expect(template.connections['Record Alert Failure']).toBeUndefined();
		// disabled with e-mail alerts (a disabled node passes its input on output 0: nothing follows there)
		expect(node(template, 'Alert E-mail Accepted?').disabled).toBe('{{ALERT_EMAIL_DISABLED}}');
		const record = node(template, 'Record Alert Failure').parameters as any;
		expect(record.operation).toBe('upsert');
		expect(record.filters.conditions).toEqual([
			{ keyName: 'key', condition: 'eq', keyValue: '={{ $json.key }}' },
		]);
		// the columns of a new exception row, and a row closed earlier that day is open again
		const fresh = (node(template, 'Record New Exception').parameters as any).columns;
		expect(record.columns.value).toEqual({ ...fresh.value, resolvedBy: '', resolutionNote: '' });
		expect(record.columns.value.status).toBe("={{ $json.notice ? 'notice' : 'open' }}");
		expect(record.columns.value.resolvedAt).toBe('');
		for (const name of ['Alert E-mail Failed', 'Alert Slack Post Failed'])
			expect(node(template, name).executeOnce).toBe(true);
	});

	it('a refused e-mail names the workflow, the execution, the recipients, how many exceptions and the error; the fields are those of every exception item', () => {
		const info = EXCEPTION_CATALOGUE.alert_failed;
		const item = failed('Alert E-mail Failed', {
			json: {
				error: "Can't send mail - all recipients were rejected: 550 5.1.1 mailbox unavailable",
			},
		});
		expect(item).toEqual({
			exception: true,
			kind: 'alert_failed',
			title: info.title,
			owner: 'tech',
			action: info.action,
			stage: 'alert',
			key: 'alert_failed|-|wf-processor-1:2026-12-04|email',
			returnId: null,
			displayId: null,
			orderReference: null,
			sku: null,
			lineId: null,
			code: 'email',
			field: null,
			notice: false,
			occurredAt: '2026-12-04T19:30:01.000Z',
			payload: null,
			details: {
				channel: 'email',
				recipient: 'ops@example.com, tech@example.com',
				workflow: 'Returns: ReBound → Khaos – 2 process queue (Acme)',
				executionId: '5120',
				exceptions: 23,
				keys: RECORDED.slice(0, 20)
					.map((r) => r.json.key)
					.join(', '),
				error: "Can't send mail - all recipients were rejected: 550 5.1.1 mailbox unavailable",
			},
			message:
				'23 new exception(s) recorded by Returns: ReBound → Khaos – 2 process queue (Acme) (execution 5120) could not be alerted by e-mail to ops@example.com, tech@example.com: ' +
				"Can't send mail - all recipients were rejected: 550 5.1.1 mailbox unavailable. They are in this table.",
		});
		expect(item.key).toBe(alertFailedKey('wf-processor-1', '2026-12-04', 'email'));
		const made = makeException('alert_failed', 'm', { stage: 'alert' });
		expect(Object.keys(item).sort()).toEqual([...Object.keys(made), 'notice'].sort());
	});

	it('a refused recipient, an e-mail never sent, a Slack error; anything shaped like a secret is removed', () => {
		expect(
			failed('Alert E-mail Failed', {
				json: { messageId: '<a@b>', accepted: ['ops@example.com'], rejected: ['tech@example.com'] },
			}).details.error,
		).toBe('the server refused tech@example.com');
		expect(failed('Alert E-mail Failed', { json: {} }).details.error).toBe(
			'the e-mail node sent nothing (no message id)',
		);
		const leaked = failed('Alert E-mail Failed', {
			json: { error: 'Invalid login: 535 for smtp://alerts:hunter2-pass@mail.example.com' },
		});
		expect(JSON.stringify(leaked)).not.toContain('hunter2');
		const slack = failed('Alert Slack Post Failed', {
			json: { error: { message: 'An API error occurred: channel_not_found' } },
			recorded: RECORDED.slice(0, 1),
		});
		expect(slack).toMatchObject({
			kind: 'alert_failed',
			code: 'slack',
			key: 'alert_failed|-|wf-processor-1:2026-12-04|slack',
			details: { channel: 'slack', recipient: '#returns-alerts', exceptions: 1 },
		});
		expect(slack.message).toContain(
			'could not be alerted on Slack channel #returns-alerts: An API error occurred: channel_not_found',
		);
	});

	it('one row a workflow, channel and day: every failing run that day writes the same row, the next day a new one', () => {
		const key = (now: DateTime) =>
			failed('Alert E-mail Failed', { json: { error: 'x' }, now }).key as string;
		expect(key(NOW)).toBe(key(NOW.plus({ hours: 4 })));
		expect(key(NOW.plus({ days: 1 }))).toBe('alert_failed|-|wf-processor-1:2026-12-05|email');
	});
});
