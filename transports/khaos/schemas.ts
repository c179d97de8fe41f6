/**
 * zod schemas for every Khaos response, applied to the output of xml.ts
 * (strings, `@_ATTR` attributes, `#text`, single-or-array elements) and
 * mapped into the api.ts types. A mismatch becomes a TransportError of kind
 * 'protocol' naming the call and the field (see client.ts), never a crash.
 */
import { z } from 'zod';
import { parseToPence } from '../../core/money';

type Raw = unknown;

/** Text of an element with or without attributes. */
function text(v: Raw): Raw {
	if (v && typeof v === 'object' && !Array.isArray(v)) {
		const o = v as Record<string, unknown>;
		if ('#text' in o) return o['#text'];
		if (Object.keys(o).every((k) => k.startsWith('@_'))) return '';
	}
	return v;
}

/** A required string element. */
export const xStr = z.preprocess(
	text,
	z.string({ required_error: 'element missing', invalid_type_error: 'expected text' }),
);
/** An optional string element: missing or empty → null. */
export const xOptStr = z.preprocess(
	(v) => {
		const t = text(v);
		return t === undefined || t === '' ? null : t;
	},
	z.string({ invalid_type_error: 'expected text' }).nullable(),
);

/** A required integer element. */
export const xInt = z.preprocess(
	text,
	z
		.string({ required_error: 'element missing', invalid_type_error: 'expected a number' })
		.trim()
		.regex(/^-?\d+$/, 'expected a whole number')
		.transform(Number),
);
/** An optional integer: missing or empty → the default. */
export const xIntOr = (fallback: number) =>
	z.preprocess((v) => {
		const t = text(v);
		return t === undefined || t === '' ? String(fallback) : t;
	}, xInt);
/** A decimal number (exchange rates, percentages). */
export const xDecOr = (fallback: number) =>
	z.preprocess(
		(v) => {
			const t = text(v);
			return t === undefined || t === '' ? String(fallback) : t;
		},
		z
			.string({ invalid_type_error: 'expected a number' })
			.trim()
			.regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number')
			.transform(Number),
	);
/** Khaos boolean: -1 true, 0 false (also 1/true/false as some versions send). */
export const xBool = z.preprocess(
	(v) => text(v),
	z
		.string({ required_error: 'element missing', invalid_type_error: 'expected -1 or 0' })
		.trim()
		.toLowerCase()
		.refine((s) => ['-1', '0', '1', 'true', 'false'].includes(s), 'expected -1 or 0')
		.transform((s) => s === '-1' || s === '1' || s === 'true'),
);
export const xBoolOr = (fallback: boolean) =>
	z.preprocess((v) => {
		const t = text(v);
		return t === undefined || t === '' ? (fallback ? '-1' : '0') : t;
	}, xBool);
/** A decimal amount in major units → integer pence. */
export const xPence = z.preprocess(
	text,
	z
		.string({ required_error: 'element missing', invalid_type_error: 'expected an amount' })
		.transform((s, ctx) => {
			const p = parseToPence(s);
			if (p === null) {
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					message: `expected a decimal amount, got "${s.slice(0, 20)}"`,
				});
				return z.NEVER;
			}
			return p;
		}),
);
export const xPenceOr = (fallback: number) =>
	z.preprocess((v) => {
		const t = text(v);
		return t === undefined || t === '' ? (fallback / 100).toFixed(2) : t;
	}, xPence);
export const xOptPence = z.preprocess((v) => {
	const t = text(v);
	return t === undefined || t === '' ? null : t;
}, xPence.nullable());
/** DD/MM/YYYY (optionally with a time) → YYYY-MM-DD; ISO dates pass through. */
export const xDate = z.preprocess(
	text,
	z
		.string({ required_error: 'element missing' })
		.trim()
		.transform((s, ctx) => {
			const dmy = /^(\d{1,2})\/(\d{1,2})\/(\d{4})/.exec(s);
			if (dmy) return `${dmy[3]}-${dmy[2].padStart(2, '0')}-${dmy[1].padStart(2, '0')}`;
			const iso = /^(\d{4}-\d{2}-\d{2})/.exec(s);
			if (iso) return iso[1];
			ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected a date DD/MM/YYYY' });
			return z.NEVER;
		}),
);

/** A repeated element: missing/empty → [], one → [it]. */
export function xList<T extends z.ZodTypeAny>(item: T) {
	return z.preprocess(
		(v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]),
		z.array(item),
	);
}
/** An element with children; an empty element (`<X/>`) reads as {}. */
export function xObj<T extends z.ZodRawShape>(shape: T) {
	return z.preprocess(
		(v) => (v === '' ? {} : v),
		z.object(shape, {
			required_error: 'element missing',
			invalid_type_error: 'expected an element with children',
		}),
	);
}

// ---------------------------------------------------------------- ExportStock
export const StockItemSchema = xObj({
	STOCK_ID: xStr,
	STOCK_CODE: xStr,
	ASSOCIATED_REF: xOptStr,
	STOCK_DESC: xOptStr,
	SELL_PRICE: z.preprocess(
		(v) =>
			v === undefined || v === '' ? { '#text': '' } : typeof v === 'string' ? { '#text': v } : v,
		z.object({ '@_IS_NET': xBoolOr(false), '#text': xOptPence }),
	),
	BARCODES: z.preprocess(
		(v) => (v === undefined || v === '' ? {} : v),
		z.object({ BARCODE: xList(xStr) }),
	),
	DELETED: xBoolOr(false),
	WEB: xBoolOr(false),
	DISCONTINUED: xBoolOr(false),
	STOCK_CONTROLLED: xBoolOr(true),
	RUN_TO_ZERO: xBoolOr(false),
});
export const ExportStockSchema = z.object(
	{ STOCK_ITEMS: xObj({ STOCK_ITEM: xList(StockItemSchema) }) },
	{ required_error: 'STOCK_ITEMS missing' },
);

// ---------------------------------------------------------------- ExportStockStatus
export const StockStatusItemSchema = xObj({
	'@_CODE': xStr,
	'@_ID': xStr,
	LEVEL: xInt,
	STATUS: xIntOr(0),
	LOCATIONS: z.preprocess(
		(v) => (v === undefined || v === '' ? {} : v),
		z.object({ LOCATION: xList(xObj({ '@_ID': xStr, LEVEL: xInt })) }),
	),
});
export const ExportStockStatusSchema = z.object(
	{
		STOCK_STATUS: xObj({
			'@_SITE': xStr,
			STOCK_ITEM: xList(StockStatusItemSchema),
		}),
	},
	{ required_error: 'STOCK_STATUS missing' },
);

// ---------------------------------------------------------------- ExportOrderStatusEx
export const OrderStatusSchema = xObj({
	SORDER_CODE: xStr,
	ASSOCIATED_REF: z.preprocess((v) => (v === undefined ? '' : v), xStr),
	ORDER_TYPE: xIntOr(1),
	CURRENCY_CODE: z.preprocess((v) => (v === undefined ? '' : v), xStr),
	DATE_CREATED: xDate,
	ITEMS_TOTAL: xObj({ '@_NET_VALUE': xPenceOr(0) }),
	DELIVERY_TOTAL: z.preprocess(
		(v) => (v === undefined ? {} : v),
		xObj({ '@_NET_VALUE': xPenceOr(0) }),
	),
	COMPLETE: xBoolOr(false),
	CANCELLED: xBoolOr(false),
});
export const ExportOrderStatusSchema = z.object(
	{ STATUS_LIST: xObj({ ORDER_STATUS: xList(OrderStatusSchema) }) },
	{ required_error: 'STATUS_LIST missing' },
);

// ---------------------------------------------------------------- ExportOrders (MODELED)
export const OrderItemSchema = xObj({
	SORDER_ITEM_ID: xStr,
	STOCK_CODE: xStr,
	STOCK_DESC: xOptStr,
	ORDER_QTY: xInt,
	QTY_RETURNED: xIntOr(0),
	PRICE_GRS: xOptPence,
	PRICE_NET: xOptPence,
	KSD_DISCOUNT: xDecOr(0),
	DISCOUNT_VALUE: xPenceOr(0),
	TAX_RATE: xIntOr(1),
	TAX_RATE_PERCENT: z.preprocess((v) => (text(v) === '' ? undefined : v), xDecOr(-1)),
});
export const OrderSchema = xObj({
	SORDER_CODE: xStr,
	ASSOCIATED_REF: z.preprocess((v) => (v === undefined ? '' : v), xStr),
	ORDER_TYPE: xIntOr(1),
	ORDER_DATE: xDate,
	URN: z.preprocess((v) => (v === undefined ? '' : v), xStr),
	SITE: z.preprocess((v) => (v === undefined ? '' : v), xStr),
	ORDER_CURRENCY_CODE: xStr,
	EXCHANGE_RATE: xDecOr(1),
	VAT_PER_LINE: xBoolOr(true),
	KEYCODE_CODE: xOptStr,
	ORDER_DISCOUNT: xPenceOr(0),
	DELIVERY_NET: xPenceOr(0),
	DELIVERY_TAX: xPenceOr(0),
	DELIVERY_GRS: xPenceOr(0),
	DELIVERY_TAX_RATE: xIntOr(1),
	DELIVERY_REFUNDED: xBoolOr(false),
	ORDER_ITEMS: z.preprocess(
		(v) => (v === undefined || v === '' ? {} : v),
		z.object({ ORDER_ITEM: xList(OrderItemSchema) }),
	),
});
export const ExportOrdersSchema = z.object(
	{ ORDERS: xObj({ ORDER: xList(OrderSchema) }) },
	{ required_error: 'ORDERS missing' },
);

// ---------------------------------------------------------------- SOAP struct results (PascalCase)
const items = <T extends z.ZodTypeAny>(item: T) =>
	z.preprocess((v) => (v === undefined || v === '' ? {} : v), z.object({ item: xList(item) }));

export const SiteListSchema = items(xObj({ SiteID: xStr, SiteName: xStr }));
export const LocationListSchema = items(
	xObj({
		SiteID: xStr,
		LocationID: xStr,
		LocationName: z.preprocess((v) => (v === undefined ? '' : v), xStr),
		Sellable: xBoolOr(true),
	}),
);
export const ReturnReasonListSchema = items(
	xObj({
		ReasonID: xStr,
		ReasonCode: xStr,
		Description: z.preprocess((v) => (v === undefined ? '' : v), xStr),
		Restock: xBoolOr(false),
	}),
);
export const ImportReturnsResultSchema = xObj({
	ImportedCount: xInt,
	ReturnImport: items(xObj({ OrderRef: xStr, ReturnCode: xStr })),
	ReturnSkipped: items(xObj({ OrderRef: xStr, SkipReason: xStr })),
});
export const ImportStockAdjustmentsResultSchema = xObj({
	AppliedCount: xInt,
	Lines: items(
		xObj({
			Reference: xStr,
			StockCode: xStr,
			Result: z.preprocess(text, z.enum(['APPLIED', 'SKIPPED_DUPLICATE', 'REJECTED'])),
			NewLevel: z.preprocess((v) => (text(v) === '' ? undefined : v), xInt.optional()),
			Reason: xOptStr,
		}),
	),
});

/** Khaos TAX_RATE codes → percent (UK): 1 standard 20, 2 zero 0, 3 exempt 0, 4 reduced 5. */
export const TAX_RATE_PERCENT: Record<number, number> = { 1: 20, 2: 0, 3: 0, 4: 5 };
