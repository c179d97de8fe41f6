/**
 * The normalised return: the one shape every trigger emits (webhook, poll,
 * the ReBound action node) and every downstream node reads. Validated with
 * zod at each boundary; a failure names the record and the field.
 */
import { z } from 'zod';

const text = (max = 255) => z.string().trim().max(max);
/**
 * C0 control characters and DEL. Keys that go onto the Khaos wire (return id, order reference, SKU)
 * must not carry them: XML 1.0 cannot, and one such record would fail a whole batched call.
 */
export function hasControlChars(value: string): boolean {
	for (let i = 0; i < value.length; i++) {
		const code = value.charCodeAt(i);
		if (code < 0x20 || code === 0x7f) return true;
	}
	return false;
}
const wireKey = (max: number, empty: string) =>
	text(max)
		.min(1, empty)
		.refine((v) => !hasControlChars(v), { message: 'must not contain control characters' });
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
	/** Stable id of the line within the return: `<returnId>:<1-based index>` unless ReBound gives one. */
	lineId: text(300).min(1),
	sku: wireKey(255, 'SKU is empty'),
	description: text().default(''),
	quantity: z.number().int('quantity must be a whole number').positive('quantity must be at least 1').max(100000),
	/** Unit price ReBound reports, in pence. Informational: credits come from the Khaos order. */
	unitPricePence: z.number().int().nonnegative().nullable().default(null),
	/** The hub's grade (`final_disposition`); null until the item is graded. */
	disposition: text().min(1).nullable().default(null),
	reasons: z.array(ReturnReasonSchema).default([]),
	nonReturnable: z.boolean().default(false),
});
export type ReturnLine = z.infer<typeof ReturnLineSchema>;

export const ReturnEventSchema = z.object({
	/** Event id (webhook) or a synthetic id for polled returns (`poll:<returnId>:<disposition hash>`). */
	id: text(300).min(1),
	/** return.created | return.received | return.processed | return.cancelled | return.polled … */
	type: text(100).min(1),
	occurredAt: isoDateTime,
	/** Increasing per return; an event with a lower sequence than one already seen is stale. */
	sequence: z.number().int().nonnegative(),
});
export type ReturnEvent = z.infer<typeof ReturnEventSchema>;

export const NormalisedReturnSchema = z.object({
	schemaVersion: z.literal(1),
	source: z.enum(['rebound-webhook', 'rebound-poll', 'rebound-api', 'manual']),
	returnId: wireKey(100, 'return id is empty'),
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

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[]; message: string };

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

export function validateWith<S extends z.ZodTypeAny>(schema: S, input: unknown, label = recordLabel(input)): ValidationResult<z.infer<S>> {
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
