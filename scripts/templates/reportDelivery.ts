/**
 * Delivering a report (the daily reconciliation; the mapping audit builds on the same function):
 * e-mail with the HTML report as the body and attached as a file, Slack with the report text and
 * the HTML file in the message's thread, and a failed delivery as an exception row, never silent.
 *
 * The report is the first item of a node (`source`) with the fields the Khaos Control › Return ›
 * Reconcile operation outputs: `html`, `markdown`, `subject` and `title`.
 *
 *   source ─┬─ <L> File ─ Email <L> ─ <L> E-mail Accepted? ──(no)──────────────┐
 *           │                 └──(error output)────────────────────────────────┤→ <L> E-mail Failed ─┐
 *           └─ Post <L> to Slack ─ <L> for Slack Thread ─ <L> File for Slack ─ Attach <L> in Slack Thread
 *                  └──(error output)────────────────────────────────────────────────┴─→ <L> Slack Post Failed ─┤
 *                                                                                          exception sink ←┘
 *
 * Slack gets the report's summary line (one line for chat) and the whole report as the HTML file.
 *
 * Why so: n8n's Send Email node attaches binary data only, so the HTML becomes a file first (Convert
 * to File); n8n's Slack node uploads a file only to a channel id (files.completeUploadExternal), so
 * the text is posted first (a channel name works there) and the file goes into that message's
 * thread with the channel id Slack answered. Each sending node continues on its error output
 * (`onError: continueErrorOutput`): a refused e-mail (SMTP down, the address refused) or a Slack
 * error becomes a `report_delivery_failed` exception (owner tech, stage `report`) written by the
 * shared exception sink and alerted like any other. An e-mail the node did not send at all (no
 * message id: its credential could not be read) or that a recipient refused counts as failed too.
 * The key is one per report and channel (core/exceptions.ts reportDeliveryFailedKey): running the
 * same report again updates its row (attempts + 1) instead of adding one.
 */
import {
	EXCEPTION_CATALOGUE,
	type ExceptionKind,
	type ExceptionStage,
} from '../../core/exceptions';
import { EXCEPTION_COLOR, type Builder } from './builder';
import { scrubExpression } from './errors';
import {
	SLACK_CREDENTIALS,
	SMTP_CREDENTIALS,
	ifNode,
	parseJsonNode,
	slackEscape,
	type Pos,
} from './nodes';

export interface ReportDeliveryOptions {
	/** The report's word in node names: `Report` gives Email Report, Post Report to Slack, Report File … */
	label: string;
	/** The node whose first item is the report (html, markdown, subject, title). */
	source: string;
	/** Where the first column of nodes sits (right of the source). */
	at: Pos;
	/** Expression code (no `}}`): the report's id in exception keys, e.g. `'reconciliation:' + day`. */
	reportId: string;
	/** Expression code: the attachment's file name (ending .html). */
	fileName: string;
	/** Expression code: the e-mail subject when the report has none. */
	fallbackSubject: string;
	/** Placeholders (each as `{{NAME}}`): the e-mail nodes' disabled flag, sender and recipients. */
	email: { disabled: string; from: string; to: string };
	/** Placeholders: the Slack nodes' disabled flag and channel (a name or an id). */
	slack: { disabled: string; channel: string };
	/** The exception sink's two entry nodes (addExceptionSink). */
	sink: [string, string];
}

export interface ReportDeliveryNodes {
	/** The nodes fed by the source (connect nothing else to them). */
	entries: string[];
	/** Every sending node, for the section sticky. */
	send: string[];
	/** The two nodes that turn a failed delivery into an exception item. */
	failed: string[];
}

/** The binary field the report file travels in. */
export const REPORT_BINARY = 'report';

/** The error text of a failed item (an error output's `error`, or why an e-mail was not accepted), secret-shaped texts removed, at most 600 characters. */
export const ERROR_TEXT = scrubExpression(
	"String(typeof $json.error === 'string' ? $json.error : ($json.error && $json.error.message) ? $json.error.message : " +
		"($json.rejected && $json.rejected.length) ? 'the server refused ' + $json.rejected.join(', ') : " +
		"'the e-mail node sent nothing (no message id)').slice(0, 600)",
);

/**
 * A Set node's raw JSON expression building one ReturnException item (core/exceptions.ts) that
 * belongs to no return (a report not delivered, an alert not sent): an arrow function over `params`
 * called with `args`; `key`, `code`, `details` and `message` are expression code.
 */
export function recordlessExceptionExpression(o: {
	kind: ExceptionKind;
	stage: ExceptionStage;
	params: string;
	args: string;
	key: string;
	code: string;
	details: string;
	message: string;
}): string {
	const k = EXCEPTION_CATALOGUE[o.kind];
	return (
		`={{ JSON.stringify(((${o.params}) => ({ exception: true, kind: ` +
		`'${o.kind}', title: ${JSON.stringify(k.title)}, owner: ${JSON.stringify(k.owner)}, action: ${JSON.stringify(k.action)}, stage: '${o.stage}', ` +
		`key: ${o.key}, returnId: null, displayId: null, orderReference: null, ` +
		`sku: null, lineId: null, code: ${o.code}, field: null, notice: false, occurredAt: $now.toISO(), payload: null, ` +
		`details: ${o.details}, ` +
		`message: ${o.message} ` +
		`}))(${o.args})) }}`
	);
}

/**
 * A Set node's raw JSON: the failed delivery as a ReturnException item (core/exceptions.ts) for the
 * exception sink. `report` is the report's item (json), `recipient` a placeholder.
 */
export function deliveryFailedExpression(
	channel: 'email' | 'slack',
	o: Pick<ReportDeliveryOptions, 'reportId' | 'fileName'>,
	report: string,
	recipient: string,
): string {
	const where =
		channel === 'email'
			? "' could not be e-mailed to ' + to"
			: "' could not be posted to Slack channel ' + to";
	return recordlessExceptionExpression({
		kind: 'report_delivery_failed',
		stage: 'report',
		params: 'r, id, to, err',
		args: `${report}, ${o.reportId}, ${recipient}, ${ERROR_TEXT}`,
		key: `'report_delivery_failed|-|' + id + '|${channel}'`,
		code: `'${channel}'`,
		details:
			`{ channel: '${channel}', recipient: to, report: id, title: r.title || null, subject: r.subject || null, ` +
			`fileName: ${o.fileName}, node: $prevNode.name || null, executionId: $execution.id || null, error: err }`,
		message: `'The report "' + (r.title || id) + '"' + ${where} + ': ' + err + '. Execution ' + $execution.id + ' keeps the report.'`,
	});
}

/**
 * The delivery nodes, connected among themselves and to the sink; the caller connects the source to
 * every entry and places the three groups in sections (or calls addReportDeliverySections).
 */
export function addReportDelivery(b: Builder, o: ReportDeliveryOptions): ReportDeliveryNodes {
	const [x, y] = o.at;
	const report = `$(${JSON.stringify(o.source)}).first().json`;
	const L = o.label;
	// e-mail: the HTML as the body (Markdown as its plain-text part) and attached as a file
	const file = b.add({
		name: `${L} File`,
		type: 'n8n-nodes-base.convertToFile',
		typeVersion: 1.1,
		position: [x, y - 240],
		executeOnce: true,
		disabled: o.email.disabled,
		parameters: {
			operation: 'toText',
			sourceProperty: 'html',
			binaryPropertyName: REPORT_BINARY,
			options: { fileName: `={{ ${o.fileName} }}` },
		},
		notes: 'The HTML report as a file, for the attachment',
		notesInFlow: true,
	});
	const email = b.add({
		name: `Email ${L}`,
		type: 'n8n-nodes-base.emailSend',
		typeVersion: 2.1,
		position: [x + 240, y - 240],
		executeOnce: true,
		disabled: o.email.disabled,
		onError: 'continueErrorOutput',
		credentials: SMTP_CREDENTIALS,
		parameters: {
			resource: 'email',
			operation: 'send',
			fromEmail: o.email.from,
			toEmail: o.email.to,
			subject: `={{ ${report}.subject || (${o.fallbackSubject}) }}`,
			emailFormat: 'both',
			text: `={{ ${report}.markdown || ${report}.summaryLine || '' }}`,
			html: `={{ ${report}.html || ('<pre>' + JSON.stringify(${report}, null, 2) + '</pre>') }}`,
			options: { appendAttribution: false, fileAttachments: REPORT_BINARY },
		},
	});
	const accepted = b.add({
		...ifNode(
			`${L} E-mail Accepted?`,
			[x + 480, y - 240],
			'={{ !!$json.messageId && !(($json.rejected || []).length) }}',
		),
		disabled: o.email.disabled,
		notes: 'Sent, and no recipient refused',
		notesInFlow: true,
	});
	// Slack: the report text, then the HTML file in its thread (a file goes only to a channel id)
	const post = b.add({
		name: `Post ${L} to Slack`,
		type: 'n8n-nodes-base.slack',
		typeVersion: 2.3,
		position: [x, y + 120],
		executeOnce: true,
		disabled: o.slack.disabled,
		onError: 'continueErrorOutput',
		credentials: SLACK_CREDENTIALS,
		parameters: {
			authentication: 'accessToken',
			resource: 'message',
			operation: 'post',
			select: 'channel',
			channelId: { __rl: true, mode: 'name', value: o.slack.channel },
			messageType: 'text',
			// the report's one line for chat (its renderer escapes & < > for Slack and joins lines), the
			// whole report being the file in the thread; the Markdown, escaped, when a report has no line
			text: `={{ ${report}.summaryLine ? String(${report}.summaryLine) : ${slackEscape(`${report}.markdown ?? JSON.stringify(${report})`)} }}`,
			otherOptions: { includeLinkToWorkflow: false },
		},
	});
	const thread = b.add({
		name: `${L} for Slack Thread`,
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		position: [x + 240, y + 120],
		executeOnce: true,
		disabled: o.slack.disabled,
		parameters: {
			mode: 'manual',
			assignments: {
				assignments: [
					{ id: 'report-html', name: 'html', value: `={{ ${report}.html }}`, type: 'string' },
				],
			},
			options: {},
		},
		notes: 'The HTML again: the message posted replaced the item',
		notesInFlow: true,
	});
	const slackFile = b.add({
		name: `${L} File for Slack`,
		type: 'n8n-nodes-base.convertToFile',
		typeVersion: 1.1,
		position: [x + 480, y + 120],
		executeOnce: true,
		disabled: o.slack.disabled,
		parameters: {
			operation: 'toText',
			sourceProperty: 'html',
			binaryPropertyName: REPORT_BINARY,
			options: { fileName: `={{ ${o.fileName} }}` },
		},
	});
	const posted = `$(${JSON.stringify(post)}).first().json`;
	const attach = b.add({
		name: `Attach ${L} in Slack Thread`,
		type: 'n8n-nodes-base.slack',
		typeVersion: 2.3,
		position: [x + 720, y + 120],
		executeOnce: true,
		disabled: o.slack.disabled,
		onError: 'continueErrorOutput',
		credentials: SLACK_CREDENTIALS,
		parameters: {
			authentication: 'accessToken',
			resource: 'file',
			operation: 'upload',
			binaryPropertyName: REPORT_BINARY,
			options: {
				channelId: `={{ ${posted}.channel }}`,
				threadTs: `={{ ${posted}.message_timestamp }}`,
				fileName: `={{ ${o.fileName} }}`,
				title: `={{ ${report}.subject || ${report}.title || '' }}`,
			},
		},
		notes: "Into the message's thread (the channel id Slack answered)",
		notesInFlow: true,
	});
	const emailFailed = b.add(
		parseJsonNode(
			`${L} E-mail Failed`,
			[x + 1040, y - 240],
			deliveryFailedExpression('email', o, report, o.email.to),
			'A report_delivery_failed exception (owner tech): channel, recipient, error',
		),
	);
	const slackFailed = b.add(
		parseJsonNode(
			`${L} Slack Post Failed`,
			[x + 1040, y + 300],
			deliveryFailedExpression('slack', o, report, o.slack.channel),
			'A report_delivery_failed exception (owner tech): channel, error',
		),
	);
	b.connect(file, email)
		.connect(email, accepted, 0)
		.connect(email, emailFailed, 1)
		.connect(accepted, emailFailed, 1)
		.connect(post, thread, 0)
		.connect(post, slackFailed, 1)
		.connect(thread, slackFile)
		.connect(slackFile, attach)
		.connect(attach, slackFailed, 1);
	for (const failed of [emailFailed, slackFailed])
		b.connect(failed, o.sink[0]).connect(failed, o.sink[1]);
	return {
		entries: [file, post],
		send: [file, email, accepted, post, thread, slackFile, attach],
		failed: [emailFailed, slackFailed],
	};
}

/** The two section stickies of a delivery: the sending nodes, and the failures (exception colour). */
export function addReportDeliverySections(b: Builder, nodes: ReportDeliveryNodes): void {
	b.section(
		'Deliver the report',
		'E-mail: the HTML report as the body and attached as a file. Slack: the report text, then the HTML file in its thread. Either is disabled until its address or channel is set.',
		nodes.send,
	);
	b.section(
		'Not delivered',
		'A refused e-mail or a Slack error is a `report_delivery_failed` exception (owner tech) naming the channel, the recipient and the error; the same report and channel keep one row.',
		nodes.failed,
		EXCEPTION_COLOR,
	);
}
