/**
 * Template placeholders: `{{NAME}}` (upper case, digits and underscores, no
 * spaces, so n8n expressions such as `{{ $json.x }}` never match).
 *
 * Substitution knows where each placeholder stands, and a value never becomes
 * code or an expression:
 *
 * - plain text (workflow names, notes, settings, credentials and node
 *   parameters that do not start with `=`): the value is inserted verbatim;
 *   a JSON string that is exactly one placeholder takes the value's own type
 *   (number, boolean, string). A node parameter that would start with `=`
 *   only because of a value is written as `={{ "<value>" }}` instead (n8n
 *   would evaluate it otherwise).
 * - the text part of a node parameter that starts with `=` (outside
 *   `{{ … }}`): verbatim, unless the value holds `{`, `}` or `\` (which could
 *   open, close or escape an expression): then it is written as an
 *   expression that is a string literal, `{{ "<value>" }}`.
 * - expression code (inside `{{ … }}` of a parameter that starts with `=`): a
 *   string value enters only as a JSON string literal (JSON.stringify, with
 *   `{`, `}`, U+2028 and U+2029 escaped so it can never close the
 *   expression); a number or boolean placeholder must have a finite number or
 *   a boolean as its value. A placeholder inside a string literal, template
 *   literal, regular expression or comment of expression code is refused,
 *   when the template is built and when it is filled: write it as its own
 *   operand, `'Returns sync (' + {{CLIENT_NAME}} + ')'`.
 *
 * Every expression filled in is then compiled (never run) as JavaScript, and
 * substitution fails if any placeholder is left.
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
	tablePlaceholders[`${t.stem}_TABLE_ID`] = {
		type: 'string',
		description: `Data Table id of the ${t.defaultName} table (${t.purpose})`,
	};
	tablePlaceholders[`${t.stem}_TABLE_NAME`] = {
		type: 'string',
		description: `Name of the ${t.defaultName} table`,
	};
}

export const PLACEHOLDERS: Record<string, PlaceholderSpec> = {
	CLIENT_NAME: {
		type: 'string',
		description: 'The client (retailer) name, shown in workflow names, alerts and reports',
	},
	TIMEZONE: {
		type: 'string',
		description: 'Workflow time zone (schedules, "yesterday" in the reconciliation)',
	},
	KHAOS_CREDENTIAL_ID: {
		type: 'string',
		description: 'n8n credential id of the Khaos Control API credential',
	},
	KHAOS_CREDENTIAL_NAME: {
		type: 'string',
		description: 'Name of the Khaos Control API credential',
	},
	REBOUND_CREDENTIAL_ID: {
		type: 'string',
		description: 'n8n credential id of the ReBound API credential',
	},
	REBOUND_CREDENTIAL_NAME: { type: 'string', description: 'Name of the ReBound API credential' },
	SMTP_CREDENTIAL_ID: {
		type: 'string',
		description:
			'n8n credential id of the SMTP credential for alert and report e-mails (empty: none)',
	},
	SMTP_CREDENTIAL_NAME: { type: 'string', description: 'Name of the SMTP credential' },
	SLACK_CREDENTIAL_ID: {
		type: 'string',
		description: 'n8n credential id of the Slack API credential (empty: none)',
	},
	SLACK_CREDENTIAL_NAME: { type: 'string', description: 'Name of the Slack API credential' },
	REBOUND_WEBHOOK_ID: {
		type: 'string',
		description: 'Fixed webhook id: the ReBound webhook URL is <n8n>/webhook/<id>/rebound',
	},
	WEBHOOK_TRIGGER_DISABLED: {
		type: 'boolean',
		description: 'true when the client uses polling instead of the webhook',
	},
	POLL_TRIGGER_DISABLED: {
		type: 'boolean',
		description: 'true when the client uses the webhook (the default)',
	},
	POLL_EVERY_MINUTES: {
		type: 'number',
		description: 'How often the ReBound Poll Trigger polls (minutes)',
	},
	WEBHOOK_BATCH_WINDOW_MS: {
		type: 'number',
		description:
			'ReBound Trigger batch window (ms): deliveries inside it start one intake execution and are answered once queued; 0 = one execution per delivery',
	},
	WEBHOOK_BATCH_MAX_SIZE: {
		type: 'number',
		description: 'Most deliveries one intake execution takes',
	},
	PROCESS_EVERY_SECONDS: {
		type: 'number',
		description: 'How often the processor takes the next batch from the inbox (seconds)',
	},
	BATCH_SIZE: { type: 'number', description: 'Most inbox rows one processor run takes' },
	SAVE_SUCCESS_EXECUTIONS: {
		type: 'string',
		description: "Whether successful intake and processor runs are saved in n8n: 'all' or 'none'",
	},
	STALE_AFTER_MINUTES: {
		type: 'number',
		description: 'A row left "processing" this long (crash) is queued again',
	},
	MAX_TRANSIENT_ATTEMPTS: {
		type: 'number',
		description: 'Runs a row is retried after transient failures before it becomes an exception',
	},
	MAX_REQUEUES: {
		type: 'number',
		description:
			'Times a row left "processing" is queued again; left processing once more, it becomes a `stuck` exception',
	},
	SETTLE_SECONDS: {
		type: 'number',
		description:
			'A late delivery (its event occurred more than this many seconds before it arrived: a redelivery) waits this long before the processor takes it, so a newer event of the same return can arrive first and supersede it; a prompt delivery is taken at once',
	},
	FINANCE_BATCHED: {
		type: 'boolean',
		description:
			'true: credit notes are posted by the scheduled posting workflow; false: straight after restock',
	},
	CREDIT_POSTING_CRON: {
		type: 'string',
		description: 'Cron expression of the credit-note posting run',
	},
	RECONCILIATION_CRON: {
		type: 'string',
		description: 'Cron expression of the daily reconciliation',
	},
	MAPPING_AUDIT_CRON: {
		type: 'string',
		description: 'Cron expression of the daily mapping audit',
	},
	MAPPING_AUDIT_DAYS: {
		type: 'number',
		description: 'Days of ReBound returns the mapping audit reads for the codes in use',
	},
	REPLAY_EVERY_MINUTES: {
		type: 'number',
		description: 'How often the replay workflow retries open exceptions (when scheduled)',
	},
	REPLAY_SCHEDULE_DISABLED: {
		type: 'boolean',
		description: 'true when exceptions are replayed by hand only',
	},
	DELIVERY_POLICY: {
		type: 'string',
		description: 'Delivery refund policy: never | whole_order | always',
	},
	CREDIT_ROUNDING: { type: 'string', description: 'VAT rounding: half_up | half_even' },
	CREDIT_TOLERANCE_PENCE: {
		type: 'number',
		description: 'Credit vs ReBound refund tolerance, pence per line',
	},
	ZERO_VALUE_CREDITS: {
		type: 'string',
		description: 'A credit worth nothing after discounts: skip | raise | hold',
	},
	LINE_ACTION_RULES_JSON: {
		type: 'string',
		description:
			'Line action rules as JSON: [{ action, rule }] (rule: follow | no_credit | hold | exchange)',
	},
	LINE_ACTION_OTHER: {
		type: 'string',
		description: 'What an action without a rule does to the line credit',
	},
	LINE_ACTION_NONE: {
		type: 'string',
		description: 'What a line without an action does to its credit',
	},
	MANUAL_AUTH_CODE: {
		type: 'string',
		description: 'Manual authorisation code recorded when a return is processed',
	},
	ADJUSTMENT_REASON: {
		type: 'string',
		description: 'Reason text recorded on Khaos stock adjustments',
	},
	KEEP_DONE_DAYS: {
		type: 'number',
		description:
			'Final inbox rows not deleted after KEEP_DONE_INBOX_HOURS (done with credit values; none holding units), recorded credits, return events and exceptions resolved or ignored longer ago than this are deleted by the daily run',
	},
	KEEP_DONE_INBOX_HOURS: {
		type: 'number',
		description:
			'Done inbox rows whose credit is in the recorded credits (or that had none), superseded and replayed rows older than this many hours are deleted by the daily run; their events and credits stay keepDoneDays',
	},
	KEEP_REPORTED_DAYS: {
		type: 'number',
		description: 'Notices and decided credit reviews older than this are deleted by the daily run',
	},
	PURGE_BATCH_SIZE: {
		type: 'number',
		description: 'At most this many rows of each kind are deleted per daily run',
	},
	DATA_TABLES_MAX_BYTES: {
		type: 'number',
		description:
			"The n8n instance's Data Table limit (N8N_DATA_TABLES_MAX_SIZE_BYTES); the report warns at 80 %",
	},
	ALERT_EMAIL_DISABLED: { type: 'boolean', description: 'true until alert e-mail is configured' },
	ALERT_EMAIL_FROM: { type: 'string', description: 'Sender of alert and report e-mails' },
	ALERT_EMAIL_TO: {
		type: 'string',
		description: 'Recipients of exception alerts (comma separated)',
	},
	ALERT_SLACK_DISABLED: { type: 'boolean', description: 'true until Slack alerts are configured' },
	ALERT_SLACK_CHANNEL: {
		type: 'string',
		description: 'Slack channel for exception alerts, e.g. #returns-alerts',
	},
	REPORT_EMAIL_DISABLED: {
		type: 'boolean',
		description: 'true until the report e-mail is configured',
	},
	REPORT_EMAIL_TO: { type: 'string', description: 'Recipients of the daily reconciliation report' },
	REPORT_SLACK_DISABLED: {
		type: 'boolean',
		description: 'true until the Slack report is configured',
	},
	REPORT_SLACK_CHANNEL: {
		type: 'string',
		description: 'Slack channel for the daily reconciliation report',
	},
	...tablePlaceholders,
};

export const PLACEHOLDER_PATTERN = /\{\{([A-Z][A-Z0-9_]*)\}\}/g;
const WHOLE = /^\{\{([A-Z][A-Z0-9_]*)\}\}$/;
/** A placeholder starting exactly at `lastIndex`. */
const PLACEHOLDER_AT = /\{\{([A-Z][A-Z0-9_]*)\}\}/y;

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

/**
 * Where a placeholder stands: `plain` text n8n does not evaluate, the `text`
 * part of an expression parameter (outside `{{ … }}`), or expression `code`.
 */
export type PlaceholderContext = 'plain' | 'text' | 'code';

export interface PlaceholderUse {
	name: string;
	/** e.g. `nodes[Alert on Slack].parameters.text` */
	path: string;
	context: PlaceholderContext;
}

/**
 * A string as a JavaScript string literal (JSON.stringify) that holds no `{`
 * or `}` (so it cannot open or close an n8n expression) and no U+2028/U+2029.
 * It evaluates to exactly the string.
 */
export function expressionLiteral(value: string): string {
	return JSON.stringify(value).replace(
		/[{}\u2028\u2029]/g,
		(c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
	);
}

/** Characters after which `/` starts a regular expression rather than a division. */
const REGEX_AFTER = new Set([
	'',
	'(',
	',',
	'=',
	':',
	'[',
	'!',
	'&',
	'|',
	'?',
	'{',
	'}',
	';',
	'+',
	'-',
	'*',
	'%',
	'<',
	'>',
	'~',
	'^',
]);

/** End (exclusive) of the quoted literal starting at `start`, or -1 when it is not closed. */
function skipQuoted(code: string, start: number): number {
	const quote = code[start];
	for (let j = start + 1; j < code.length; j++) {
		if (code[j] === '\\') j++;
		else if (code[j] === quote) return j + 1;
	}
	return -1;
}

/** End (exclusive) of the regular expression literal starting at `start`, or -1 when there is none. */
function skipRegex(code: string, start: number): number {
	let inClass = false;
	for (let j = start + 1; j < code.length; j++) {
		const c = code[j];
		if (c === '\n') return -1;
		if (c === '\\') j++;
		else if (c === '[') inClass = true;
		else if (c === ']') inClass = false;
		else if (c === '/' && !inClass) {
			let end = j + 1;
			while (end < code.length && /[a-z]/i.test(code[end])) end++;
			return end;
		}
	}
	return -1;
}

type Emit = (name: string, context: 'text' | 'code') => string;

/**
 * Fill the body of an n8n expression parameter (the text after `=`): text
 * and `{{ code }}` segments, split as n8n splits them (a code segment ends
 * at the first `}}`). Placeholders are atomic tokens. Returns the filled body
 * and its code segments.
 */
function fillExpression(body: string, emit: Emit, where: string): { text: string; code: string[] } {
	let out = '';
	const segments: string[] = [];
	let codeStart = -1;
	let prev = '';
	let i = 0;
	while (i < body.length) {
		PLACEHOLDER_AT.lastIndex = i;
		const ph = PLACEHOLDER_AT.exec(body);
		if (ph) {
			const context = codeStart >= 0 ? 'code' : 'text';
			const filled = emit(ph[1], context);
			if (context === 'text' && filled.startsWith('{{')) segments.push(filled.slice(2, -2));
			out += filled;
			i += ph[0].length;
			prev = 'a';
			continue;
		}
		if (codeStart < 0) {
			if (body.startsWith('{{', i)) {
				out += '{{';
				codeStart = out.length;
				prev = '';
				i += 2;
			} else out += body[i++];
			continue;
		}
		if (body.startsWith('}}', i)) {
			segments.push(out.slice(codeStart));
			codeStart = -1;
			out += '}}';
			i += 2;
			continue;
		}
		const c = body[i];
		let end = -1;
		let kind = '';
		if (c === '"' || c === "'" || c === '`') {
			end = skipQuoted(body, i);
			kind = c === '`' ? 'template literal' : 'string literal';
			if (end < 0)
				throw new PlaceholderError(`${where}: a ${kind} of the expression is not closed`, []);
		} else if (c === '/' && body[i + 1] === '/') {
			const nl = body.indexOf('\n', i);
			const close = body.indexOf('}}', i);
			end = Math.min(nl < 0 ? body.length : nl, close < 0 ? body.length : close);
			kind = 'comment';
		} else if (c === '/' && body[i + 1] === '*') {
			const close = body.indexOf('*/', i + 2);
			end = close < 0 ? body.length : close + 2;
			kind = 'comment';
		} else if (c === '/' && REGEX_AFTER.has(prev)) {
			end = skipRegex(body, i);
			kind = 'regular expression';
		}
		if (end >= 0) {
			const piece = body.slice(i, end);
			const inside = [...piece.matchAll(PLACEHOLDER_PATTERN)].map((m) => m[1]);
			if (inside.length) {
				throw new PlaceholderError(
					`${where}: {{${inside[0]}}} is inside a ${kind} of an expression, where its value would become code. ` +
						`A value enters an expression only as its own operand (a JSON string literal), e.g. '… (' + {{${inside[0]}}} + ') …'`,
					inside,
				);
			}
			if (piece.includes('}}'))
				throw new PlaceholderError(
					`${where}: "}}" inside a ${kind} ends the n8n expression early`,
					[],
				);
			out += piece;
			i = end;
			prev = 'a';
			continue;
		}
		if (!/\s/.test(c)) prev = c;
		out += c;
		i++;
	}
	if (codeStart >= 0)
		throw new PlaceholderError(`${where}: an expression ({{) is not closed (}})`, []);
	return { text: out, code: segments };
}

/** Whether an expression's code compiles as JavaScript (it is never run). */
function compiles(code: string): boolean {
	for (const body of [`return (${code}\n);`, code]) {
		try {
			// compiled only, never called
			new Function(body);
			return true;
		} catch {
			// try the next form
		}
	}
	return false;
}

type Path = ReadonlyArray<string | number>;

/** Strings n8n evaluates when they start with `=`: node parameters. */
const underParameters = (path: Path): boolean => path.includes('parameters');

export interface SubstituteOptions {
	/** Whether n8n evaluates the string at this path when it starts with `=` (default: anything under a node's `parameters`). */
	evaluated?: (path: Path) => boolean;
}

interface Filler {
	/** Text for a placeholder in plain text or an expression, or undefined to leave it (no value). */
	text(name: string, context: PlaceholderContext, where: string): string | undefined;
	/** The typed value of a string that is exactly one placeholder, or undefined to leave it. */
	whole(name: string, where: string): PlaceholderValue | undefined;
}

function pathText(path: Path, names: Array<string | null>): string {
	let out = '';
	path.forEach((p, k) => {
		if (typeof p === 'number') out += `[${names[k] ?? p}]`;
		else out += out ? `.${p}` : p;
	});
	return out || '(root)';
}

function fillString(s: string, where: string, evaluated: boolean, f: Filler): unknown {
	if (evaluated && s.startsWith('=')) {
		const emit: Emit = (name, context) => f.text(name, context, where) ?? `{{${name}}}`;
		const { text, code } = fillExpression(s.slice(1), emit, where);
		for (const segment of code) {
			if (findPlaceholders(segment).size) continue; // a placeholder without a value: reported by the caller
			if (!compiles(segment)) {
				throw new PlaceholderError(
					`${where}: the expression {{${segment.length > 200 ? `${segment.slice(0, 200)}…` : segment}}} does not compile`,
					[...findPlaceholders(s)],
				);
			}
		}
		return `=${text}`;
	}
	const whole = WHOLE.exec(s);
	let out: unknown;
	if (whole) out = f.whole(whole[1], where) ?? s;
	else
		out = s.replace(
			PLACEHOLDER_PATTERN,
			(text, name: string) => f.text(name, 'plain', where) ?? text,
		);
	// a value must not turn a plain parameter into an expression
	if (evaluated && out !== s && typeof out === 'string' && out.startsWith('='))
		return `={{ ${expressionLiteral(out)} }}`;
	return out;
}

function fillValue(
	value: unknown,
	path: Array<string | number>,
	names: Array<string | null>,
	f: Filler,
	label: string,
	evaluated: (path: Path) => boolean,
): unknown {
	if (typeof value === 'string')
		return fillString(value, `${label} › ${pathText(path, names)}`, evaluated(path), f);
	if (Array.isArray(value)) {
		return value.map((v, k) => {
			const name =
				v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string'
					? (v as { name: string }).name
					: null;
			return fillValue(v, [...path, k], [...names, name], f, label, evaluated);
		});
	}
	if (value && typeof value === 'object') {
		const out: Record<string, unknown> = {};
		for (const [k, v] of Object.entries(value)) {
			const key = k.replace(
				PLACEHOLDER_PATTERN,
				(text, name: string) =>
					f.text(name, 'plain', `${label} › ${pathText(path, names)} (key)`) ?? text,
			);
			out[key] = fillValue(v, [...path, k], [...names, null], f, label, evaluated);
		}
		return out;
	}
	return value;
}

/** The text of a value in expression code: a JSON string literal, or a checked number or boolean. */
function codeText(name: string, value: PlaceholderValue, where: string): string {
	const type = PLACEHOLDERS[name]?.type ?? (typeof value as PlaceholderType);
	if (type === 'number') {
		if (typeof value !== 'number' || !Number.isFinite(value)) {
			throw new PlaceholderError(
				`${where}: {{${name}}} is used in expression code as a number, but its value ${JSON.stringify(value)} is not a finite number`,
				[name],
			);
		}
		return value < 0 || Object.is(value, -0) ? `(${value})` : String(value);
	}
	if (type === 'boolean') {
		if (typeof value !== 'boolean')
			throw new PlaceholderError(
				`${where}: {{${name}}} is used in expression code as a boolean, but its value ${JSON.stringify(value)} is not true or false`,
				[name],
			);
		return String(value);
	}
	return expressionLiteral(String(value));
}

/**
 * Replace every placeholder of a template (a parsed JSON value) by the rules
 * at the top of this file; throws a PlaceholderError naming every placeholder
 * with no value, or the first one that stands where a value could become
 * code. The template is not changed.
 */
export function substitute<T>(
	template: T,
	values: Record<string, PlaceholderValue>,
	label = 'template',
	options: SubstituteOptions = {},
): T {
	const missing = new Set<string>();
	const get = (name: string): PlaceholderValue | undefined => {
		if (!Object.prototype.hasOwnProperty.call(values, name)) {
			missing.add(name);
			return undefined;
		}
		return values[name];
	};
	const filler: Filler = {
		text(name, context, where) {
			const value = get(name);
			if (value === undefined) return undefined;
			if (context === 'code') return codeText(name, value, where);
			const text = String(value);
			// `{`, `}` or `\` could open, close or escape an expression in the text part of one
			if (context === 'text' && /[{}\\]/.test(text)) return `{{ ${expressionLiteral(text)} }}`;
			return text;
		},
		whole: get,
	};
	const out = fillValue(template, [], [], filler, label, options.evaluated ?? underParameters) as T;
	const left = [...findPlaceholders(out)];
	const names = [...new Set([...missing, ...left])].sort();
	if (names.length)
		throw new PlaceholderError(
			`${label}: no value for placeholder(s) ${names.map((n) => `{{${n}}}`).join(', ')}`,
			names,
		);
	return out;
}

/**
 * Every placeholder use of a template and where it stands. Throws (like
 * substitute) when a placeholder stands inside a string literal, regular
 * expression or comment of expression code, or an expression does not
 * compile with the placeholders filled: the template build runs this, so such
 * a template is never written.
 */
export function placeholderUses(
	template: unknown,
	label = 'template',
	options: SubstituteOptions = {},
): PlaceholderUse[] {
	const uses: PlaceholderUse[] = [];
	const record = (name: string, context: PlaceholderContext, where: string) =>
		uses.push({ name, path: where.slice(where.indexOf(' › ') + 3), context });
	const sample = (name: string): PlaceholderValue => {
		const type = PLACEHOLDERS[name]?.type ?? 'string';
		return type === 'number' ? 1 : type === 'boolean' ? true : 'x';
	};
	const filler: Filler = {
		text(name, context, where) {
			record(name, context, where);
			return context === 'code' ? codeText(name, sample(name), where) : 'x';
		},
		whole(name, where) {
			record(name, 'plain', where);
			return sample(name);
		},
	};
	fillValue(template, [], [], filler, label, options.evaluated ?? underParameters);
	return uses;
}
