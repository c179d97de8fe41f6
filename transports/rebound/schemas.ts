/**
 * The wire shapes of ReBound's legacy API (as the public Singer tap's schema
 * describes it; sandbox/rebound/README.md, "The wire (legacy API)"): request bodies, the envelope, error codes, and
 * a lenient schema of a raw return. The client and the sandbox both use them
 * so they cannot drift apart. Values arrive as strings more often than not
 * (`quantity: "1"`, `price: "27.00"`, `id: "5001"`), so the raw schemas accept
 * strings and numbers and leave the conversion to normalise.ts.
 */
import { z } from 'zod';

/** Every error code the legacy API documents. */
export const REBOUND_ERROR_CODES = [
	'internal',
	'request_wrong',
	'login_empty',
	'api_key_empty',
	'ip_blocked',
	'access_denied',
	'request_empty',
	'json_invalid',
	'xml_invalid',
	'unknown_call',
	'empty',
] as const;
export type ReboundErrorCode = (typeof REBOUND_ERROR_CODES)[number];

/** Codes a retry can fix. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set(['internal']);

/**
 * Codes that are never retried whatever the HTTP status says: retrying bad
 * credentials is what gets an IP blocked, and a wrong request stays wrong.
 */
export const PERMANENT_ERROR_CODES: ReadonlySet<string> = new Set([
	'ip_blocked',
	'access_denied',
	'login_empty',
	'api_key_empty',
	'request_wrong',
	'request_empty',
	'json_invalid',
	'xml_invalid',
	'unknown_call',
	'empty',
	'not_found',
]);

/** YYYY/MM/DD as the search filter wants it. */
export const ReboundDateSchema = z.string().regex(/^\d{4}\/\d{2}\/\d{2}$/, 'expected YYYY/MM/DD');

export const SearchRequestSchema = z.object({
	filter: z.object({ date_from: ReboundDateSchema, date_to: ReboundDateSchema }),
});
export type SearchRequest = z.infer<typeof SearchRequestSchema>;

export const GetRequestSchema = z.object({
	return: z.object({
		id: z.union([z.string().min(1), z.number().int()]),
		type: z.literal('id').default('id'),
	}),
});
export type GetRequest = z.infer<typeof GetRequestSchema>;

export const TrackingRequestSchema = z.object({ tracking: z.object({ code: z.string().min(1) }) });

export const ErrorEnvelopeSchema = z.object({
	error: z.object({
		code: z.string(),
		message: z.union([z.array(z.string()), z.string()]).optional(),
	}),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

export const SearchSuccessSchema = z.object({
	success: z.object({
		id: z.union([z.array(z.union([z.string(), z.number()])), z.string(), z.number()]),
	}),
});

const scalar = z.union([z.string(), z.number()]);
const nullableScalar = scalar.nullable().optional();

export const RawReasonSchema = z
	.object({
		reason: z.string().nullable().optional(),
		action: z.string().nullable().optional(),
		wish: z.string().nullable().optional(),
		additional: z
			.union([
				z
					.object({
						title: z.string().nullable().optional(),
						value: z.string().nullable().optional(),
					})
					.passthrough(),
				z.array(z.unknown()),
			])
			.nullable()
			.optional(),
	})
	.passthrough();

export const RawItemSchema = z
	.object({
		sku_code: scalar,
		sku_desc: z.string().nullable().optional(),
		quantity: scalar,
		price: nullableScalar,
		cost_price: nullableScalar,
		hs_code: nullableScalar,
		non_returnable: z.union([z.string(), z.number(), z.boolean()]).nullable().optional(),
		final_disposition: z.string().nullable().optional(),
		reason: z.array(RawReasonSchema).nullable().optional(),
	})
	.passthrough();
export type RawItem = z.infer<typeof RawItemSchema>;

/** A return as returns/get gives it (the fields this project reads; everything else passes through). */
export const RawReturnSchema = z
	.object({
		id: scalar,
		display_id: nullableScalar,
		external_id: nullableScalar,
		order_reference: z.string().nullable().optional(),
		date_added: z.string().nullable().optional(),
		name: z.string().nullable().optional(),
		email: z.string().nullable().optional(),
		carrier: z.string().nullable().optional(),
		tracking: z.string().nullable().optional(),
		current_tracking_status: z.string().nullable().optional(),
		tracking_last_update: z.string().nullable().optional(),
		item: z.array(RawItemSchema),
	})
	.passthrough();
export type RawReturn = z.infer<typeof RawReturnSchema>;

/** Keys under which a raw return may carry its items: `item` is the documented one. */
export const ITEM_KEYS = ['item', 'items', 'products', 'lines'] as const;
