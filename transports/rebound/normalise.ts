/**
 * ReBound return (as returns/get or a webhook's `data` gives it) → the
 * normalised return every node reads. Never throws for bad data: problems
 * come back as field issues naming the record and the field.
 */
import { createHash } from 'crypto';
import { parseToPence } from '../../core/money';
import { ITEM_KEYS } from './schemas';
import {
	describeIssues,
	validateWith,
	NormalisedReturnSchema,
	type FieldIssue,
	type NormalisedReturn,
	type ValidationResult,
} from '../../core/returnModel';

export interface NormaliseMeta {
	source: 'rebound-webhook' | 'rebound-poll' | 'rebound-api';
	event?: { id: string; type: string; occurredAt: string; sequence: number };
	/** Used for a synthesised event time when the return carries none. */
	nowIso?: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(v: unknown): string | null {
	if (typeof v === 'string') return v.trim();
	if (typeof v === 'number' && Number.isFinite(v)) return String(v);
	return null;
}

/** ReBound times are UTC "YYYY-MM-DD HH:MM:SS" (or ISO); → ISO 8601, null if unreadable. */
export function reboundTimeToIso(v: unknown): string | null {
	const s = text(v);
	if (!s) return null;
	const m = /^(\d{4})[-/](\d{2})[-/](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(s);
	if (m && !/[zZ]|[+-]\d{2}:?\d{2}$/.test(s)) {
		const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}Z`;
		return Number.isNaN(Date.parse(iso)) ? null : new Date(iso).toISOString();
	}
	const t = Date.parse(s);
	return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** The latest of several ReBound times, as ISO 8601; null when none is readable. */
function latestIso(values: unknown[]): string | null {
	let best: string | null = null;
	for (const v of values) {
		const iso = reboundTimeToIso(v);
		if (iso !== null && (best === null || iso > best)) best = iso;
	}
	return best;
}

function quantityOf(v: unknown): number | null {
	if (typeof v === 'number') return v;
	if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
	return null;
}

function booleanOf(v: unknown): boolean {
	return (
		v === true ||
		v === 1 ||
		v === '1' ||
		v === -1 ||
		v === '-1' ||
		(typeof v === 'string' && ['true', 'yes'].includes(v.toLowerCase()))
	);
}

function reasonsOf(v: unknown): Obj[] {
	const list = Array.isArray(v)
		? v
		: isObj(v)
			? [v]
			: typeof v === 'string' && v.trim()
				? [{ reason: v }]
				: [];
	return list.filter(isObj).map((r) => ({
		reason: text(r.reason) ?? '',
		action: text(r.action) ?? '',
		wish: text(r.wish) ?? '',
		additional: (Array.isArray(r.additional)
			? r.additional
			: isObj(r.additional)
				? [r.additional]
				: []
		)
			.filter(isObj)
			.map((a) => ({ title: text(a.title) ?? '', value: text(a.value) ?? '' })),
	}));
}

function customerName(raw: Obj): string {
	const direct = text(raw.customer_name) ?? text(raw.name);
	if (direct) return direct;
	return [
		text(raw.customer_first_name) ?? text(raw.first_name),
		text(raw.customer_last_name) ?? text(raw.last_name),
	]
		.filter(Boolean)
		.join(' ');
}

/** Stable hash of the line dispositions: a change of any grade changes it. */
export function dispositionFingerprint(ret: Pick<NormalisedReturn, 'lines'>): string {
	const parts = ret.lines.map((l) => `${l.lineId}=${l.disposition ?? ''}`).sort();
	return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}

export function normaliseReboundReturn(
	raw: unknown,
	meta: NormaliseMeta,
): ValidationResult<NormalisedReturn> {
	if (!isObj(raw)) {
		const issues = [{ field: '(root)', message: 'Expected a return object' }];
		return { ok: false, issues, message: describeIssues('Return (no id)', issues) };
	}
	const returnId = text(raw.id) ?? '';
	const label = returnId ? `Return ${returnId}` : 'Return (no id)';
	const pre: FieldIssue[] = [];
	// `item` is the documented key (the public tap's schema); the others are accepted for hand-made payloads.
	const itemKey = ITEM_KEYS.find((k) => raw[k] !== undefined && raw[k] !== null) ?? 'item';
	const items = raw[itemKey];
	if (!Array.isArray(items)) pre.push({ field: itemKey, message: 'Expected a list of items' });

	// A line's id must survive a later event that reorders the items or adds one: ReBound's items carry
	// no id of their own (an `id`/`item_id`, where a payload has one, is used), so the id is the SKU
	// plus its occurrence among the lines of that SKU (`<returnId>:<sku>#<n>`), never the position.
	const occurrences = new Map<string, number>();
	const lines = (Array.isArray(items) ? items : []).map((item: unknown, index: number) => {
		const it = isObj(item) ? item : {};
		if (!isObj(item))
			pre.push({ field: `${itemKey}[${index}]`, message: 'Expected an item object' });
		const price =
			it.price === undefined || it.price === null || it.price === ''
				? null
				: parseToPence(it.price);
		if (price === null && !(it.price === undefined || it.price === null || it.price === '')) {
			pre.push({
				field: `${itemKey}[${index}].price`,
				message: `"${String(it.price).slice(0, 40)}" is not an amount`,
			});
		} else if (price !== null && price < 0) {
			pre.push({ field: `${itemKey}[${index}].price`, message: 'must not be negative' });
		}
		const quantity = quantityOf(it.quantity ?? it.qty);
		const disposition = text(it.final_disposition);
		const ownId = text(it.id) ?? text(it.item_id);
		const sku = text(it.sku_code) ?? text(it.sku) ?? '';
		const nth = (occurrences.get(sku) ?? 0) + 1;
		occurrences.set(sku, nth);
		return {
			lineId: ownId ? `${returnId}:${ownId}` : `${returnId}:${sku}#${nth}`,
			sku,
			description: (text(it.sku_desc) ?? '').slice(0, 255),
			quantity: quantity ?? Number.NaN,
			unitPricePence: price !== null && price >= 0 ? price : null,
			disposition: disposition ? disposition : null,
			reasons: reasonsOf(it.reason ?? it.reasons),
			nonReturnable: booleanOf(it.non_returnable),
		};
	});

	const refundKey = (['refund_total', 'refund_amount', 'refund'] as const).find(
		(k) => raw[k] !== undefined && raw[k] !== null && raw[k] !== '',
	);
	const refund = refundKey === undefined ? undefined : raw[refundKey];
	const refundPence = refund === undefined ? null : parseToPence(refund);
	if (refundKey !== undefined && refundPence === null) {
		pre.push({ field: refundKey, message: `"${String(refund).slice(0, 40)}" is not an amount` });
	} else if (refundKey !== undefined && refundPence !== null && refundPence < 0) {
		pre.push({ field: refundKey, message: 'must not be negative' });
	}

	if (pre.length) return { ok: false, issues: pre, message: describeIssues(label, pre) };

	const createdAt = reboundTimeToIso(raw.date_added);
	const graded = lines.filter((l) => l.disposition !== null).length;
	const event = meta.event ?? {
		id: `poll:${returnId}:${dispositionFingerprint({ lines: lines as unknown as NormalisedReturn['lines'] })}`,
		type: 'return.polled',
		occurredAt:
			latestIso([raw.tracking_last_update, raw.date_updated, raw.date_processed, raw.date_added]) ??
			meta.nowIso ??
			new Date().toISOString(),
		// Grading only ever adds dispositions, so the count of graded lines orders poll snapshots.
		sequence: graded,
	};

	const candidate = {
		schemaVersion: 1,
		source: meta.source,
		returnId,
		displayId: text(raw.display_id),
		externalId: text(raw.external_id),
		orderReference: text(raw.order_reference) ?? '',
		customer: {
			name: customerName(raw).slice(0, 255),
			email: (text(raw.customer_email) ?? text(raw.email) ?? '').slice(0, 255),
		},
		currency: text(raw.currency) ?? 'GBP',
		refundPence,
		createdAt,
		event,
		lines,
	};
	return validateWith(NormalisedReturnSchema, candidate, label);
}
