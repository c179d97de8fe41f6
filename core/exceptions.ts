/**
 * Exceptions are data, not log lines. Every record a node cannot complete is
 * routed as a ReturnException: a typed kind, the ids an operator needs, a
 * sentence a person can act on, and the team that owns the fix.
 */
export const EXCEPTION_KINDS = [
	'unmapped_disposition',
	'unmapped_reason',
	'unknown_sku',
	'archived_sku',
	'order_not_found',
	'quantity_exceeds_sold',
	'credit_mismatch',
	'khaos_rejected',
	'transient_exhausted',
	'invalid_payload',
	'line_not_on_order',
	'regraded_after_move',
	'stuck',
	'discontinued_sku',
	'exchange_recorded',
	'zero_value_credit',
	'credit_held',
	'review_value_changed',
	'workflow_failed',
	'report_delivery_failed',
	'alert_failed',
	'unmapped_code_seen',
	'mapping_row_wrong',
] as const;

/**
 * Kinds that are notices: recorded in the exceptions table with status `notice` (shown in the daily
 * report, alerted) but never blocking the return. Each can be set to block instead where it arises
 * (Validate SKUs: discontinued; Returns Mapping: exchange; Create Credit Note: zero value → hold).
 */
export const NOTICE_KINDS = [
	'discontinued_sku',
	'exchange_recorded',
	'zero_value_credit',
	'credit_held',
	'review_value_changed',
] as const satisfies readonly ExceptionKind[];
export type NoticeKind = (typeof NOTICE_KINDS)[number];
export const isNoticeKind = (kind: string): kind is NoticeKind =>
	(NOTICE_KINDS as readonly string[]).includes(kind);

export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];
export type OwnerTeam = 'ops' | 'finance' | 'tech';
export type ExceptionStage =
	| 'trigger'
	| 'mapping'
	| 'validate'
	| 'stock'
	| 'return'
	| 'credit'
	| 'reconcile'
	| 'processor'
	/** A whole workflow run failed outside the exception outputs (the Errors workflow records it). */
	| 'workflow'
	/** A report (the daily reconciliation, the mapping audit) could not be e-mailed or posted to Slack. */
	| 'report'
	/** The alert of new exceptions (e-mail, Slack) could not be sent; the exceptions themselves are recorded. */
	| 'alert';

export interface ExceptionKindInfo {
	title: string;
	owner: OwnerTeam;
	/** What the owner should do, in one sentence. */
	action: string;
}

export const EXCEPTION_CATALOGUE: Record<ExceptionKind, ExceptionKindInfo> = {
	unmapped_disposition: {
		title: 'Unmapped disposition',
		owner: 'ops',
		action:
			'Add the disposition to the disposition mapping table (site, location, action), then replay the exception.',
	},
	unmapped_reason: {
		title: 'Unmapped return reason',
		owner: 'ops',
		action:
			'Add the reason to the reason mapping table with its Khaos return-reason id, then replay the exception.',
	},
	unknown_sku: {
		title: 'Unknown SKU',
		owner: 'ops',
		action: 'Check the SKU in Khaos; add a SKU alias if it was renamed, then replay the exception.',
	},
	archived_sku: {
		title: 'Archived or unusable SKU',
		owner: 'ops',
		action:
			'The product is deleted or not stock controlled in Khaos: reinstate it or alias the SKU to its replacement, then replay.',
	},
	order_not_found: {
		title: 'Original order not found',
		owner: 'finance',
		action:
			'Find the original Khaos sales order for this return (order reference), correct the reference in ReBound or raise the credit by hand.',
	},
	quantity_exceeds_sold: {
		title: 'Quantity exceeds quantity sold',
		owner: 'finance',
		action:
			'More units are being returned than were sold (less earlier returns): check the order and earlier credits before crediting by hand.',
	},
	credit_mismatch: {
		title: 'Credit differs from the refund',
		owner: 'finance',
		action:
			'The credit computed from the Khaos order differs from the refund ReBound reports beyond tolerance: check the refund and the order.',
	},
	khaos_rejected: {
		title: 'Khaos rejected the request',
		owner: 'tech',
		action: 'Khaos refused the call (see message): fix the data or settings it names, then replay.',
	},
	transient_exhausted: {
		title: 'Transient failure, retries exhausted',
		owner: 'tech',
		action:
			'The service kept failing (timeouts, 5xx, rate limits): check the service is up, then replay; nothing was applied twice.',
	},
	invalid_payload: {
		title: 'Invalid payload',
		owner: 'tech',
		action:
			'The record from ReBound is malformed (see the field named): fix it at source or ask ReBound support, then replay.',
	},
	line_not_on_order: {
		title: 'Returned item not on the original order',
		owner: 'finance',
		action:
			'The returned SKU is not a line of the original Khaos order, so nothing was moved: check the order reference and the SKU in ReBound, then replay or credit by hand.',
	},
	regraded_after_move: {
		title: 'Re-graded or changed after its stock moved',
		owner: 'ops',
		action:
			'The hub changed the grade (or quantity) after the unit was already moved: move the unit between the locations named by hand in Khaos if needed, then replay: the return goes on to its credit note and nothing moves again.',
	},
	stuck: {
		title: 'Stuck in processing',
		owner: 'tech',
		action:
			'The return stopped a processor run several times (see the last error): check the executions of the processor, fix the cause, then replay.',
	},
	discontinued_sku: {
		title: 'Discontinued SKU returned',
		owner: 'ops',
		action:
			'The product is discontinued in Khaos but was restocked as the disposition says: decide whether to sell it off, move it or write it off. Nothing else to do for the return.',
	},
	exchange_recorded: {
		title: 'Exchange: no credit note for the line',
		owner: 'finance',
		action:
			'The customer asked for an exchange, so the line was not credited (its stock moved by its grade): send the replacement; credit by hand only if the exchange falls through.',
	},
	zero_value_credit: {
		title: 'Credit of zero value not raised',
		owner: 'finance',
		action:
			'The lines credited are worth nothing after discounts (e.g. a promotion larger than the goods), so no credit note was raised: nothing to do unless you want one (set Zero-Value Credits to raise).',
	},
	credit_held: {
		title: 'Credit held for finance review',
		owner: 'finance',
		action:
			'Open the credit reviews Data Table, find the return, and set its decision to release, release_without_held or reject; the finance review workflow acts on it within a minute.',
	},
	review_value_changed: {
		title: 'Released credit differs from the reviewed value',
		owner: 'finance',
		action:
			'The credit raised on release was computed again from the order and differs from the value shown for review (another return of the order was credited meanwhile, or the order changed): check the credit note.',
	},
	workflow_failed: {
		title: 'Workflow run failed',
		owner: 'tech',
		action:
			'A whole run stopped outside the exception outputs (a Data Table missing, a node or n8n failing): open the execution linked, fix the cause, then set this row resolved. Rows a failed processor run held are requeued by its crash recovery.',
	},
	report_delivery_failed: {
		title: 'Report not delivered',
		owner: 'tech',
		action:
			'The report was built but its e-mail or Slack post failed (the channel, recipient and error are named): fix the SMTP or Slack credential, the address or the channel, run the report again (its execution keeps the report meanwhile), then set this row resolved.',
	},
	alert_failed: {
		title: 'Alert not sent',
		owner: 'tech',
		action:
			"New exceptions were recorded in this table but their alert could not be sent (the channel, recipient and error are named; the first keys are in details): fix the SMTP or Slack credential, the address or the channel, look through the open rows first seen on the day named in this row's key or later (they may not have been alerted), then set this row resolved.",
	},
	unmapped_code_seen: {
		title: 'New code in ReBound without a mapping row',
		owner: 'ops',
		action:
			'The daily mapping audit saw a disposition or reason in ReBound that no mapping row covers: add its row (Khaos site, location and action, or reason id) before a return with it arrives; the row resolves itself on the next audit.',
	},
	mapping_row_wrong: {
		title: 'Mapping row wrong against Khaos',
		owner: 'ops',
		action:
			'The daily mapping audit found a mapping row whose target is wrong in Khaos (see the fix named): correct the row; it resolves itself on the next audit.',
	},
};

export interface ReturnException {
	/** Marks an item as an exception so downstream nodes and tables can tell. */
	exception: true;
	kind: ExceptionKind;
	title: string;
	owner: OwnerTeam;
	stage: ExceptionStage;
	returnId: string | null;
	displayId: string | null;
	orderReference: string | null;
	sku: string | null;
	lineId: string | null;
	/** The code that failed (disposition, reason, Khaos fault code …), if any. */
	code: string | null;
	/** The field that was wrong, for invalid payloads. */
	field: string | null;
	message: string;
	action: string;
	/** Stable key: the same problem on the same record gets the same key (exception table upserts on it). */
	key: string;
	occurredAt: string;
	details: Record<string, string | number | boolean | null>;
	/** The record as it arrived (JSON), so the exception can be replayed after the fix; null if none. */
	payload: string | null;
	/** A notice (status `notice` in the table): recorded and alerted, never blocking the return. */
	notice?: boolean;
}

export interface ExceptionContext {
	stage: ExceptionStage;
	returnId?: string | null;
	displayId?: string | null;
	orderReference?: string | null;
	sku?: string | null;
	lineId?: string | null;
	code?: string | null;
	field?: string | null;
	owner?: OwnerTeam;
	details?: Record<string, string | number | boolean | null>;
	occurredAt?: string;
	/** The record to keep for replay (stored as JSON). */
	payload?: unknown;
	/** A notice kind set to block: an ordinary (open) exception instead of a notice. */
	blocking?: boolean;
}

export function exceptionKey(
	kind: ExceptionKind,
	ctx: Pick<ExceptionContext, 'returnId' | 'sku' | 'code' | 'field' | 'lineId'>,
): string {
	return [
		kind,
		ctx.returnId ?? '-',
		ctx.lineId ?? ctx.sku ?? '-',
		ctx.code ?? ctx.field ?? '-',
	].join('|');
}

/**
 * The key of a failed workflow run (written by the Errors workflow, scripts/templates/errors.ts): one
 * row per workflow and failing node, in the shape of exceptionKey (kind|record|line|code). A workflow
 * that fails on every run (the processor runs every few seconds) updates its one row (lastSeen,
 * attempts + 1, the latest execution in message and details) and alerts once, instead of writing a
 * row and sending an alert per run. A failure while a trigger starts (no execution) is node `trigger`.
 */
export function workflowFailedKey(
	workflowId: string | null | undefined,
	node: string | null | undefined,
): string {
	return ['workflow_failed', '-', workflowId || '-', node || '-'].join('|');
}

/** The channels a report is delivered on. */
export type ReportChannel = 'email' | 'slack';

/**
 * The key of a report that could not be delivered: one row per report (its kind and window, e.g.
 * `reconciliation:2026-11-16`) and channel, in the shape of exceptionKey (kind|record|line|code). A
 * run of the same report again (a retry, the month-end run repeated) that fails on the same channel
 * updates that row (lastSeen, attempts + 1) instead of adding one; the next day's report is a row of
 * its own.
 */
export function reportDeliveryFailedKey(report: string, channel: ReportChannel): string {
	return ['report_delivery_failed', '-', report || '-', channel].join('|');
}

/**
 * The key of an alert that could not be sent: one row per workflow, day and channel, in the shape of
 * exceptionKey (kind|record|line|code). Another failure of the same channel in the same workflow on
 * the same day writes the same row again (its message and lastSeen the latest) instead of adding one
 * per run: a dead mail server during a surge is one row a day, not one a second.
 */
export function alertFailedKey(workflowId: string, day: string, channel: ReportChannel): string {
	return ['alert_failed', '-', `${workflowId || '-'}:${day || '-'}`, channel].join('|');
}

/**
 * Texts shaped like a secret, for error texts written where the secrets themselves are not known
 * (the Errors workflow holds no credential): the value after password, pwd, secret, token, api key
 * (`:` or `=`, quoted or not, as in JSON, a query string or a form body), an Authorization header's
 * credentials, a Basic or Bearer token, the password of a `user:password@host` URL. The package's
 * own nodes remove their credentials' values (redactSecrets) before an error leaves them; this is the
 * second line, for errors of other nodes. Each pattern keeps what precedes the secret ($1).
 */
export const SECRET_SHAPES: ReadonlyArray<{ pattern: RegExp; replacement: string }> = [
	{
		pattern:
			/(authorization["']?\s*[:=]\s*["']?(?:basic\s+|bearer\s+|digest\s+|token\s+)?)[^\s"',;&<>]+/gi,
		replacement: '$1***',
	},
	{
		pattern:
			/((?:password|passwd|pwd|secret|api[-_]?key|access[-_]?token|refresh[-_]?token|token)["']?\s*[:=]\s*["']?)[^\s"',;&<>]+/gi,
		replacement: '$1***',
	},
	{
		pattern: /(\b(?:Basic|Bearer)\s+)(?=[A-Za-z0-9+/=._~-]*[0-9+/=])[A-Za-z0-9+/=._~-]{8,}/g,
		replacement: '$1***',
	},
	{ pattern: /(\/\/[^/\s:@]+:)[^/\s@]+@/g, replacement: '$1***@' },
];

/** Remove texts shaped like a secret (SECRET_SHAPES). */
export function scrubSecretShapes(text: string): string {
	let out = text;
	for (const { pattern, replacement } of SECRET_SHAPES) out = out.replace(pattern, replacement);
	return out;
}

export function makeException(
	kind: ExceptionKind,
	message: string,
	ctx: ExceptionContext,
): ReturnException {
	const info = EXCEPTION_CATALOGUE[kind];
	return {
		exception: true,
		kind,
		title: info.title,
		owner: ctx.owner ?? info.owner,
		stage: ctx.stage,
		returnId: ctx.returnId ?? null,
		displayId: ctx.displayId ?? null,
		orderReference: ctx.orderReference ?? null,
		sku: ctx.sku ?? null,
		lineId: ctx.lineId ?? null,
		code: ctx.code ?? null,
		field: ctx.field ?? null,
		message,
		action: info.action,
		key: exceptionKey(kind, ctx),
		occurredAt: ctx.occurredAt ?? new Date().toISOString(),
		details: ctx.details ?? {},
		payload:
			ctx.payload === undefined || ctx.payload === null
				? null
				: typeof ctx.payload === 'string'
					? ctx.payload
					: JSON.stringify(ctx.payload),
		...(isNoticeKind(kind) && !ctx.blocking ? { notice: true } : {}),
	};
}

export function isReturnException(value: unknown): value is ReturnException {
	return (
		typeof value === 'object' &&
		value !== null &&
		(value as { exception?: unknown }).exception === true
	);
}

/** Shorter secrets are not redacted: blanking every 1–2 character match would garble ordinary text. */
export const MIN_SECRET_LENGTH = 3;

/** What the form encoding of a body (URLSearchParams, application/x-www-form-urlencoded) makes of a text. */
function formEncode(text: string): string {
	return new URLSearchParams({ v: text }).toString().slice(2);
}

/** The five predefined XML entities, as transports/khaos/soap.ts escapeXml writes them. */
function xmlEscape(text: string): string {
	return text
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&apos;');
}

/** A text inside a JSON string literal (JSON.stringify without the quotes). */
function jsonEscape(text: string): string {
	return JSON.stringify(text).slice(1, -1);
}

/**
 * Whole-text encoders: how our transports write a secret into a request (encodeURIComponent, the
 * form body of ReBound calls, the XML escaping of the Khaos SOAP body) and how a service quoting a
 * request back, or our own JSON (execution data, exception payloads), writes it again.
 */
const ENCODERS: Array<(text: string) => string> = [
	encodeURIComponent,
	formEncode,
	xmlEscape,
	jsonEscape,
];

function hex(n: number, width: number): string {
	return n.toString(16).toUpperCase().padStart(width, '0');
}

/**
 * Every way one character (code point) of a secret is written, as literal strings: itself;
 * percent-encoded UTF-8 (any character, the `!'()*` encodeURIComponent leaves alone included);
 * `+` for a space (form encoding); an XML entity, a decimal or hex character reference; a JSON
 * escape, `\uXXXX` (a surrogate pair beyond the BMP) or `\/` (PHP's json_encode writes slashes so);
 * and each of those encoded once more by one of ENCODERS (an XML-escaped request quoted in JSON,
 * a JSON text form-encoded …).
 */
function charForms(char: string): Set<string> {
	const cp = char.codePointAt(0) ?? 0;
	const utf16 = Array.from({ length: char.length }, (_, i) => char.charCodeAt(i));
	const once = new Set<string>([
		char,
		Array.from(Buffer.from(char, 'utf8'), (b) => `%${hex(b, 2)}`).join(''),
		`&#${cp};`,
		`&#x${hex(cp, 1)};`,
		utf16.map((u) => `\\u${hex(u, 4)}`).join(''),
	]);
	if (char === ' ') once.add('+');
	if (char === '/') once.add('\\/');
	const encodeAll = (into: Set<string>, from: Iterable<string>) => {
		for (const text of from) {
			for (const encode of ENCODERS) {
				try {
					into.add(encode(text));
				} catch {
					// encodeURIComponent refuses a lone surrogate: no such form can occur
				}
			}
		}
	};
	encodeAll(once, [char]);
	const twice = new Set(once);
	encodeAll(twice, once);
	return twice;
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/-]/;

/** Hex digits matched in either case (`%2a` and `%2A`, `&#xe9;` and `&#xE9;`, `\u00e9` and `\u00E9`). */
function anyCaseHex(digits: string): string {
	return Array.from(digits, (d) =>
		/[0-9]/.test(d) ? d : `[${d.toLowerCase()}${d.toUpperCase()}]`,
	).join('');
}

/** A literal form as a regular expression: escaped, with percent-, character-reference and `\u` hex in any case. */
function formPattern(literal: string): string {
	let out = '';
	for (let i = 0; i < literal.length; ) {
		const rest = literal.slice(i);
		const m =
			/^%([0-9A-Fa-f]{2})/.exec(rest) ??
			/^&#[xX]0*([0-9A-Fa-f]+);/.exec(rest) ??
			/^&#0*([0-9]+);/.exec(rest) ??
			/^\\u([0-9A-Fa-f]{4})/.exec(rest);
		if (m) {
			if (m[0].startsWith('%')) out += `%${anyCaseHex(m[1])}`;
			else if (m[0].startsWith('&#x') || m[0].startsWith('&#X'))
				out += `&#[xX]0*${anyCaseHex(m[1])};`;
			else if (m[0].startsWith('&#')) out += `&#0*${m[1]};`;
			else out += `\\\\u${anyCaseHex(m[1])}`;
			i += m[0].length;
			continue;
		}
		const ch = literal[i];
		out += REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch;
		i++;
	}
	return out;
}

/** Per character: one alternation of its forms, longest first (so `&amp;` wins over `&`). Memoised by character only. */
const charPatternCache = new Map<string, string>();

function charPattern(char: string): string {
	let pattern = charPatternCache.get(char);
	if (pattern === undefined) {
		const forms = [...charForms(char)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
		pattern = `(?:${[...new Set(forms.map(formPattern))].join('|')})`;
		if (charPatternCache.size < 4096) charPatternCache.set(char, pattern);
	}
	return pattern;
}

/**
 * The texts a secret is sent as before any character escaping: itself, and its base64 (standard,
 * with and without padding, and base64url) as in an HTTP Basic header. A Basic header encodes
 * `user:password` as one text, so callers list that pair as a secret of its own.
 */
function secretTexts(secret: string): string[] {
	const b64 = Buffer.from(secret, 'utf8').toString('base64');
	const unpadded = b64.replace(/=+$/, '');
	const url = unpadded.replace(/\+/g, '-').replace(/\//g, '_');
	return [...new Set([secret, b64, unpadded, url, url + b64.slice(unpadded.length)])];
}

/**
 * Remove a secret from a text in every form our transports produce, before the text reaches an
 * error, a log, an exception row, an alert or a node's output: raw; URL- and form-encoded
 * (`%XX` in either case, `+` for a space); XML-escaped (the five entities, decimal and hex
 * character references) as in the Khaos SOAP body; JSON-escaped; base64 and base64url (HTTP
 * Basic); and one encoding inside another (a quoted request inside a JSON error). The rule is per
 * character, so a text mixing forms (only `&` and `<` escaped, `%2a` next to `%21`) matches too.
 * Longer secrets are removed first, so `user:password` goes before `password`, then `user`.
 */
export function redactSecrets(text: string, secrets: Array<string | undefined | null>): string {
	const texts = new Set<string>();
	for (const secret of secrets) {
		if (!secret || secret.length < MIN_SECRET_LENGTH) continue;
		for (const form of secretTexts(secret)) texts.add(form);
	}
	let out = text;
	for (const form of [...texts].sort((a, b) => b.length - a.length)) {
		if (out === '') break;
		const pattern = Array.from(form, charPattern).join('');
		out = out.replace(new RegExp(pattern, 'g'), '***');
	}
	return out;
}
