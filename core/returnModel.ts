/**
 * The normalised return: the one shape every trigger emits (webhook, poll,
 * the ReBound action node) and every downstream node reads. Validated with
 * zod at each boundary; a failure names the record and the field.
 */
import { z } from 'zod';

/**
 * The first character of a text that XML 1.0 cannot carry, or that a strict XML reader refuses:
 * C0 controls other than tab, LF and CR; DEL and the C1 controls (U+0080–U+009F, allowed by XML 1.0
 * but "discouraged", and refused by strict readers); lone surrogates; U+FFFE and U+FFFF. Every text
 * of a return can reach a Khaos SOAP envelope (notes, reasons, stock-move reasons), where one such
 * character would make Khaos refuse the whole batched call, so the model refuses the record instead.
 * Returns a description of the character and its position, or null.
 */
export function xmlIllegalChar(value: string, allowWhitespace = true): string | null {
	for (let i = 0; i < value.length; i++) {
		const code = value.charCodeAt(i);
		let bad = false;
		if (code < 0x20) bad = !allowWhitespace || (code !== 0x09 && code !== 0x0a && code !== 0x0d);
		else if (code >= 0x7f && code <= 0x9f) bad = true;
		else if (code === 0xfffe || code === 0xffff) bad = true;
		else if (code >= 0xd800 && code <= 0xdbff) {
			const next = value.charCodeAt(i + 1);
			if (next >= 0xdc00 && next <= 0xdfff) i++;
			else bad = true;
		} else if (code >= 0xdc00 && code <= 0xdfff) bad = true;
		if (bad) return `U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${i + 1}`;
	}
	return null;
}

/** C0 control characters (tab and line breaks included), DEL and C1 controls: what a key on the Khaos wire must not carry. */
export function hasControlChars(value: string): boolean {
	for (let i = 0; i < value.length; i++) {
		const code = value.charCodeAt(i);
		if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
	}
	return false;
}

/** Free text: trimmed, bounded, and only characters XML carries (tab and line breaks allowed). */
export const text = (max = 255, min = 0, tooShort?: string) =>
	z
		.string()
		.trim()
		.min(min, tooShort)
		.max(max)
		.superRefine((v, ctx) => {
			const bad = xmlIllegalChar(v);
			if (bad)
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					message: `contains ${bad}, a character XML cannot carry to Khaos`,
				});
		});

/**
 * A key that goes onto the Khaos wire as a value of a comma-separated call parameter (return id,
 * order reference, SKU, Khaos stock code): no control characters, no XML-illegal characters, no
 * comma. One such record would otherwise fail the whole batched call it rides in.
 */
export const wireKey = (max: number, empty: string) =>
	text(max, 1, empty).superRefine((v, ctx) => {
		if (hasControlChars(v))
			ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must not contain control characters' });
		if (v.includes(','))
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: 'must not contain a comma (Khaos look-ups take comma-separated lists)',
			});
	});
const isoDateTime = z
	.string()
	.refine((v) => !Number.isNaN(Date.parse(v)), { message: 'Expected an ISO 8601 date-time' });

export const ReturnReasonSchema = z.object({
	/** ReBound's free-text reason ("Too small"). */
	reason: text().default(''),
	/** What the customer asked the retailer to do ("Refund"). */
	action: text().default(''),
	/** The customer's wish ("Exchange for larger size"). */
	wish: text().default(''),
	additional: z.array(z.object({ title: text(), value: text(1000) })).default([]),
});
export type ReturnReason = z.infer<typeof ReturnReasonSchema>;

export const ReturnLineSchema = z.object({
	// sku before lineId: the line id is made from the SKU, so a bad SKU is reported as the SKU
	sku: wireKey(255, 'SKU is empty'),
	/**
	 * Stable id of the line within the return, surviving reordering and added items in later events:
	 * `<returnId>:<sku>#<occurrence of that SKU>` unless ReBound gives the item an id
	 * (transports/rebound/normalise.ts). Stock-move references are made from it.
	 */
	lineId: text(300, 1),
	description: text().default(''),
	quantity: z
		.number()
		.int('quantity must be a whole number')
		.positive('quantity must be at least 1')
		.max(100000),
	/** Unit price ReBound reports, in pence. Informational: credits come from the Khaos order. */
	unitPricePence: z.number().int().nonnegative().nullable().default(null),
	/** The hub's grade (`final_disposition`); null until the item is graded. */
	disposition: text(255, 1).nullable().default(null),
	reasons: z.array(ReturnReasonSchema).default([]),
	nonReturnable: z.boolean().default(false),
});
export type ReturnLine = z.infer<typeof ReturnLineSchema>;

export const ReturnEventSchema = z.object({
	/** Event id (webhook) or a synthetic id for polled returns (`poll:<returnId>:<disposition hash>`). */
	id: text(300, 1),
	/** return.created | return.received | return.processed | return.cancelled | return.polled … */
	type: text(100, 1),
	occurredAt: isoDateTime,
	/** Increasing per return; an event with a lower sequence than one already seen is stale. */
	sequence: z.number().int().nonnegative(),
});
export type ReturnEvent = z.infer<typeof ReturnEventSchema>;

export const NormalisedReturnSchema = z.object({
	schemaVersion: z.literal(1),
	source: z.enum(['rebound-webhook', 'rebound-poll', 'rebound-api', 'manual']),
	/** At most 47 characters: the Khaos associated ref `RB-<returnId>` holds 50. */
	returnId: wireKey(47, 'return id is empty'),
	displayId: text().nullable().default(null),
	externalId: text().nullable().default(null),
	/** The retailer's original order number: the Khaos sales order's associated ref. */
	orderReference: wireKey(50, 'order reference is empty'),
	customer: z
		.object({
			name: text().default(''),
			email: text().default(''),
		})
		.default({ name: '', email: '' }),
	currency: z
		.string()
		.trim()
		.toUpperCase()
		.regex(/^[A-Z]{3}$/, 'currency must be a 3-letter ISO code')
		.default('GBP'),
	/** Refund ReBound reports, in pence, when known (compared with the computed credit, never used for it). */
	refundPence: z.number().int().nonnegative().nullable().default(null),
	createdAt: isoDateTime.nullable().default(null),
	event: ReturnEventSchema,
	lines: z.array(ReturnLineSchema).min(1, 'a return needs at least one line'),
});
export type NormalisedReturn = z.infer<typeof NormalisedReturnSchema>;
export type NormalisedReturnInput = z.input<typeof NormalisedReturnSchema>;

export interface FieldIssue {
	/** Dotted path into the record, e.g. `lines[1].quantity`. */
	field: string;
	message: string;
}

export type ValidationResult<T> =
	| { ok: true; value: T }
	| { ok: false; issues: FieldIssue[]; message: string };

export function formatPath(path: ReadonlyArray<string | number>): string {
	let out = '';
	for (const part of path) {
		if (typeof part === 'number') out += `[${part}]`;
		else out += out ? `.${part}` : part;
	}
	return out || '(root)';
}

/** The record id for messages, read leniently from whatever was supplied. */
export function recordLabel(input: unknown): string {
	if (input && typeof input === 'object') {
		const o = input as Record<string, unknown>;
		const id = o.returnId ?? o.id ?? o.display_id;
		if (typeof id === 'string' || typeof id === 'number') return `Return ${String(id)}`;
	}
	return 'Return (no id)';
}

export function issuesFromZod(error: z.ZodError): FieldIssue[] {
	return error.issues.map((issue) => ({ field: formatPath(issue.path), message: issue.message }));
}

export function describeIssues(label: string, issues: FieldIssue[]): string {
	const shown = issues.slice(0, 5).map((i) => `${i.field}: ${i.message}`);
	const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
	return `${label} is invalid: ${shown.join('; ')}${more}`;
}

export function validateWith<S extends z.ZodTypeAny>(
	schema: S,
	input: unknown,
	label = recordLabel(input),
): ValidationResult<z.infer<S>> {
	const parsed = schema.safeParse(input);
	if (parsed.success) return { ok: true, value: parsed.data };
	const issues = issuesFromZod(parsed.error);
	return { ok: false, issues, message: describeIssues(label, issues) };
}

/** Validate a normalised return (e.g. an item arriving at a node). */
export function validateReturn(input: unknown): ValidationResult<NormalisedReturn> {
	return validateWith(NormalisedReturnSchema, input);
}

/** True when every line has a final disposition. */
export function isFullyGraded(ret: Pick<NormalisedReturn, 'lines'>): boolean {
	return ret.lines.every((line) => line.disposition !== null);
}

/** Normalise a code for matching: trim, collapse inner whitespace, lower case. */
export function normaliseCode(code: string): string {
	return code.trim().replace(/\s+/g, ' ').toLowerCase();
}
