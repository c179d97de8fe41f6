/**
 * Template placeholders: `{{NAME}}` (upper case, digits and underscores, no
 * spaces, so n8n expressions such as `{{ $json.x }}` never match).
 *
 * A JSON string that is exactly one placeholder takes the value's own type
 * (number, boolean, string); a placeholder inside a longer string is replaced
 * by the value's text. Substitution fails if any placeholder is left.
 */
import { TABLES, TABLE_KEYS } from './tables';

export type PlaceholderValue = string | number | boolean;
export type PlaceholderType = 'string' | 'number' | 'boolean';

export interface PlaceholderSpec {
	type: PlaceholderType;
	description: string;
}

const tablePlaceholders: Record<string, PlaceholderSpec> = {};
for (const key of TABLE_KEYS) {
	const t = TABLES[key];
	tablePlaceholders[`${t.stem}_TABLE_ID`] = { type: 'string', description: `Data Table id of the ${t.defaultName} table (${t.purpose})` };
	tablePlaceholders[`${t.stem}_TABLE_NAME`] = { type: 'string', description: `Name of the ${t.defaultName} table` };
}

export const PLACEHOLDERS: Record<string, PlaceholderSpec> = {
	CLIENT_NAME: { type: 'string', description: 'The client (retailer) name, shown in workflow names, alerts and reports' },
	TIMEZONE: { type: 'string', description: 'Workflow time zone (schedules, "yesterday" in the reconciliation)' },
	KHAOS_CREDENTIAL_ID: { type: 'string', description: 'n8n credential id of the Khaos Control API credential' },
	KHAOS_CREDENTIAL_NAME: { type: 'string', description: 'Name of the Khaos Control API credential' },
	REBOUND_CREDENTIAL_ID: { type: 'string', description: 'n8n credential id of the ReBound API credential' },
	REBOUND_CREDENTIAL_NAME: { type: 'string', description: 'Name of the ReBound API credential' },
	SMTP_CREDENTIAL_ID: { type: 'string', description: 'n8n credential id of the SMTP credential for alert and report e-mails (empty: none)' },
	SMTP_CREDENTIAL_NAME: { type: 'string', description: 'Name of the SMTP credential' },
	SLACK_CREDENTIAL_ID: { type: 'string', description: 'n8n credential id of the Slack API credential (empty: none)' },
	SLACK_CREDENTIAL_NAME: { type: 'string', description: 'Name of the Slack API credential' },
	REBOUND_WEBHOOK_ID: { type: 'string', description: 'Fixed webhook id: the ReBound webhook URL is <n8n>/webhook/<id>/rebound' },
	WEBHOOK_TRIGGER_DISABLED: { type: 'boolean', description: 'true when the client uses polling instead of the webhook' },
	POLL_TRIGGER_DISABLED: { type: 'boolean', description: 'true when the client uses the webhook (the default)' },
	POLL_EVERY_MINUTES: { type: 'number', description: 'How often the ReBound Poll Trigger polls (minutes)' },
	WEBHOOK_BATCH_WINDOW_MS: { type: 'number', description: 'ReBound Trigger batch window (ms): deliveries inside it start one intake execution and are answered once queued; 0 = one execution per delivery' },
	WEBHOOK_BATCH_MAX_SIZE: { type: 'number', description: 'Most deliveries one intake execution takes' },
	PROCESS_EVERY_SECONDS: { type: 'number', description: 'How often the processor takes the next batch from the inbox (seconds)' },
	BATCH_SIZE: { type: 'number', description: 'Most inbox rows one processor run takes' },
	SAVE_SUCCESS_EXECUTIONS: { type: 'string', description: "Whether successful intake and processor runs are saved in n8n: 'all' or 'none'" },
	STALE_AFTER_MINUTES: { type: 'number', description: 'A row left "processing" this long (crash) is queued again' },
	MAX_TRANSIENT_ATTEMPTS: { type: 'number', description: 'Runs a row is retried after transient failures before it becomes an exception' },
	FINANCE_BATCHED: { type: 'boolean', description: 'true: credit notes are posted by the scheduled posting workflow; false: straight after restock' },
	CREDIT_POSTING_CRON: { type: 'string', description: 'Cron expression of the credit-note posting run' },
	RECONCILIATION_CRON: { type: 'string', description: 'Cron expression of the daily reconciliation' },
	REPLAY_EVERY_MINUTES: { type: 'number', description: 'How often the replay workflow retries open exceptions (when scheduled)' },
	REPLAY_SCHEDULE_DISABLED: { type: 'boolean', description: 'true when exceptions are replayed by hand only' },
	DELIVERY_POLICY: { type: 'string', description: 'Delivery refund policy: never | whole_order | always' },
	CREDIT_ROUNDING: { type: 'string', description: 'VAT rounding: half_up | half_even' },
	CREDIT_TOLERANCE_PENCE: { type: 'number', description: 'Credit vs ReBound refund tolerance, pence per line' },
	MANUAL_AUTH_CODE: { type: 'string', description: 'Manual authorisation code recorded when a return is processed' },
	ADJUSTMENT_REASON: { type: 'string', description: 'Reason text recorded on Khaos stock adjustments' },
	KEEP_DONE_DAYS: { type: 'number', description: 'Inbox rows done and exceptions resolved longer ago than this are deleted by the daily run' },
	ALERT_EMAIL_DISABLED: { type: 'boolean', description: 'true until alert e-mail is configured' },
	ALERT_EMAIL_FROM: { type: 'string', description: 'Sender of alert and report e-mails' },
	ALERT_EMAIL_TO: { type: 'string', description: 'Recipients of exception alerts (comma separated)' },
	ALERT_SLACK_DISABLED: { type: 'boolean', description: 'true until Slack alerts are configured' },
	ALERT_SLACK_CHANNEL: { type: 'string', description: 'Slack channel for exception alerts, e.g. #returns-alerts' },
	REPORT_EMAIL_DISABLED: { type: 'boolean', description: 'true until the report e-mail is configured' },
	REPORT_EMAIL_TO: { type: 'string', description: 'Recipients of the daily reconciliation report' },
	REPORT_SLACK_DISABLED: { type: 'boolean', description: 'true until the Slack report is configured' },
	REPORT_SLACK_CHANNEL: { type: 'string', description: 'Slack channel for the daily reconciliation report' },
	...tablePlaceholders,
};

export const PLACEHOLDER_PATTERN = /\{\{([A-Z][A-Z0-9_]*)\}\}/g;
const WHOLE = /^\{\{([A-Z][A-Z0-9_]*)\}\}$/;

/** Every placeholder name used anywhere in a JSON value (keys included). */
export function findPlaceholders(value: unknown, found = new Set<string>()): Set<string> {
	if (typeof value === 'string') {
		for (const m of value.matchAll(PLACEHOLDER_PATTERN)) found.add(m[1]);
	} else if (Array.isArray(value)) {
		for (const v of value) findPlaceholders(v, found);
	} else if (value && typeof value === 'object') {
		for (const [k, v] of Object.entries(value)) {
			findPlaceholders(k, found);
			findPlaceholders(v, found);
		}
	}
	return found;
}

export class PlaceholderError extends Error {
	constructor(
		message: string,
		readonly names: string[],
	) {
		super(message);
		this.name = 'PlaceholderError';
	}
}

function substituteValue(value: unknown, values: Record<string, PlaceholderValue>, missing: Set<string>): unknown {
	if (typeof value === 'string') {
		const whole = WHOLE.exec(value);
		if (whole) {
			if (!(whole[1] in values)) {
				missing.add(whole[1]);
				return value;
			}
			return values[whole[1]];
		}
		return value.replace(PLACEHOLDER_PATTERN, (text, name: string) => {
			if (!(name in values)) {
				missing.add(name);
				return text;
			}
			return String(values[name]);
		});
	}
	if (Array.isArray(value)) return value.map((v) => substituteValue(v, values, missing));
	if (value && typeof value === 'object') {
		const out: Record<string, unknown> = {};
		for (const [k, v] of Object.entries(value)) out[substituteValue(k, values, missing) as string] = substituteValue(v, values, missing);
		return out;
	}
	return value;
}

/**
 * Replace every placeholder of a template (a parsed JSON value); throws a
 * PlaceholderError naming every placeholder with no value. The template is
 * not changed.
 */
export function substitute<T>(template: T, values: Record<string, PlaceholderValue>, label = 'template'): T {
	const missing = new Set<string>();
	const out = substituteValue(template, values, missing) as T;
	const left = [...findPlaceholders(out)];
	const names = [...new Set([...missing, ...left])].sort();
	if (names.length) throw new PlaceholderError(`${label}: no value for placeholder(s) ${names.map((n) => `{{${n}}}`).join(', ')}`, names);
	return out;
}
