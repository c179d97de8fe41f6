/**
 * A seeded corpus of bad (and a few good) ReBound webhook deliveries, for the
 * fuzz unit test (test/unit/badInput/webhookFuzz.test.ts) and the real-n8n
 * test (test/e2e/badInput.test.ts). Every case knows its expected outcome by
 * construction: a rejection (401 / 413), an invalid payload naming the field
 * (answered 400, or 200 + an invalid_payload exception item when the trigger
 * emits invalid payloads as exceptions), a valid normalised return (with the
 * text fields it must carry verbatim), or a delivery that starts nothing
 * (ignored / duplicate / stale).
 *
 * Signatures are made at delivery time (`headersFor`), so the same corpus
 * serves any secret and clock.
 */
import { mulberry32 } from '../../../sandbox/shared/prng';
import { DEFAULT_WEBHOOK_SETTINGS, signWebhookBody } from '../../../transports/rebound/webhook';
import { createHmac } from 'node:crypto';

export type FuzzClass =
	| 'valid'
	| 'bad_signature'
	| 'malformed_json'
	| 'replayed'
	| 'oversized'
	| 'unknown_event'
	| 'missing_fields'
	| 'wrong_types'
	| 'huge_quantity'
	| 'negative_price'
	| 'unicode_sku'
	| 'injection'
	| 'xml_illegal'
	| 'prototype';

export const FUZZ_CLASSES: FuzzClass[] = [
	'valid',
	'bad_signature',
	'malformed_json',
	'replayed',
	'oversized',
	'unknown_event',
	'missing_fields',
	'wrong_types',
	'huge_quantity',
	'negative_price',
	'unicode_sku',
	'injection',
	'xml_illegal',
	'prototype',
];

export type SignSpec =
	| 'good'
	| 'wrong_secret'
	| 'flipped_char'
	| 'missing_signature'
	| 'missing_timestamp'
	| 'non_numeric_timestamp'
	| 'stale_timestamp'
	| 'future_timestamp'
	| 'other_body'
	| 'empty_signature'
	| 'base64_encoding'
	| 'unexpected_prefix'
	| 'very_long_signature'
	| 'body_only_no_timestamp';

export const BAD_SIGNS: SignSpec[] = [
	'wrong_secret',
	'flipped_char',
	'missing_signature',
	'missing_timestamp',
	'non_numeric_timestamp',
	'stale_timestamp',
	'future_timestamp',
	'other_body',
	'empty_signature',
	'base64_encoding',
	'unexpected_prefix',
	'very_long_signature',
	'body_only_no_timestamp',
];

export type Expectation =
	| { outcome: 'rejected'; status: 401 | 413 }
	/**
	 * `field`: the field named (envelope level: `id`, `sequence`, `(body)` …; return level: the
	 * normalised path `lines[0].quantity` or the raw key `item[0].price`); `returnId`: the record named.
	 */
	| { outcome: 'invalid'; level: 'envelope' | 'data'; field: string; returnId: string | null }
	| { outcome: 'valid'; returnId: string; verbatim: Record<string, string | number> }
	| { outcome: 'ignored' | 'duplicate' | 'stale' };

export interface Delivery {
	body: Buffer;
	sign: SignSpec;
	/** Send a content-length header (the real HTTP client always does; the mock only when asked). */
	contentLength?: boolean;
}

export interface FuzzCase {
	n: number;
	cls: FuzzClass;
	label: string;
	delivery: Delivery;
	/** Deliveries made first into the same trigger memory (replay / stale cases). */
	before?: Delivery[];
	expect: Expectation;
	/** Strings that must come through unevaluated (injection cases). */
	injected?: string;
}

// ------------------------------------------------------------------ values

export const INJECTIONS: string[] = [
	"'; DROP TABLE returns;--",
	'1 OR 1=1',
	'Robert\'); DELETE FROM "inbox";--',
	'<script>alert(1)</script>',
	'<img src=x onerror=alert(1)>',
	'"><svg/onload=alert(document.cookie)>',
	'{{ $env.N8N_ENCRYPTION_KEY }}',
	'={{ $env }}',
	'={{ $secrets }}',
	'{{ 7*7 }}',
	'={{ $execution.id }}',
	"={{ this.constructor.constructor('return process')() }}",
	'={{ $credentials.apiKey }}',
	"=cmd|' /C calc'!A0",
	"+SUM(1+1)*cmd|' /C calc'!A0",
	'@SUM(1+1)',
	"-2+3+cmd|' /C calc'!A0",
	'=HYPERLINK("http://evil.example","x")',
	'__proto__',
	'constructor',
	'prototype',
	'toString',
	'hasOwnProperty',
	'${process.env.HOME}',
	'#{7*7}',
	'../../etc/passwd',
];

export const VALID_SKUS = [
	'TSHIRT-RED-M',
	'JEANS-BLU-32',
	'HOODIE-GRY-L',
	'MUG-WHT',
	'KIDS-TEE-5Y',
];
export const VALID_DISPOSITIONS = [
	'Grade A',
	'Grade B',
	'Like New',
	'Damaged',
	'Quarantine',
	'Dirty',
	'Missing',
];
export const VALID_REASONS = [
	'Too small',
	'Too big',
	'Faulty',
	'Changed my mind',
	'Arrived damaged',
];
export const VALID_ORDERS = ['WEB-1001', 'WEB-1002', 'WEB-1003', 'WEB-1004', 'WEB-1005'];

export const UNICODE_VALID_SKUS = [
	'TSHIRT-RÉD-M',
	'Ｔシャツ-赤-M',
	'😀-SKU-1',
	'עברית-SKU',
	'SKU\u200bZERO-WIDTH',
	'CAFE\u0301-LATTE',
	'ÆØÅ-ß-ŁÓDŹ',
	'中文货号-01',
	'Ω≈ç√∫',
	'\u202eRTL-OVERRIDE',
];

export const UNICODE_INVALID_SKUS: Array<{ sku: string; why: string }> = [
	{ sku: 'SKU\u0000NUL', why: 'NUL character' },
	{ sku: 'SKU\tTAB', why: 'tab character' },
	{ sku: 'SKU\nNEWLINE', why: 'newline inside' },
	{ sku: 'SKU\u001bESC', why: 'escape character' },
	{ sku: 'SKU\u007fDEL', why: 'DEL character' },
	{ sku: '\u00a0\u2003\u3000', why: 'only unicode spaces' },
	{ sku: '€'.repeat(256), why: '256 euro signs' },
	{ sku: '😀'.repeat(200), why: '200 emoji (400 UTF-16 units)' },
];

/**
 * Characters XML 1.0 cannot carry (or strict readers refuse), each of which would make Khaos refuse
 * the whole batched call it rides in: the model refuses the record and names the field instead.
 */
export const XML_ILLEGAL: Array<{ ch: string; why: string }> = [
	{ ch: '\u0001', why: 'C0 control U+0001' },
	{ ch: '\u000b', why: 'C0 control U+000B (vertical tab)' },
	{ ch: '\u0085', why: 'C1 control U+0085 (next line)' },
	{ ch: '\u009f', why: 'C1 control U+009F' },
	{ ch: '\ufffe', why: 'noncharacter U+FFFE' },
	{ ch: '\uffff', why: 'noncharacter U+FFFF' },
	{ ch: '\ud800', why: 'lone high surrogate' },
	{ ch: '\udc00', why: 'lone low surrogate' },
];

// ------------------------------------------------------------------ building blocks

type Obj = Record<string, unknown>;

export interface ReturnSpec {
	id: string;
	order: string;
	lines: Array<{
		sku: string;
		qty: number;
		price: string;
		disposition: string | null;
		reason: string;
	}>;
}

/** A raw return as ReBound's wire gives it (string ids and quantities, `item[]`). */
export function rawReturn(spec: ReturnSpec): Obj {
	return {
		id: spec.id,
		display_id: `RB-${spec.id}`,
		external_id: `EXT-${spec.id}`,
		order_reference: spec.order,
		date_added: '2026-11-20 10:00:00',
		name: 'Alex Archer',
		email: 'alex.archer@example.com',
		currency: 'GBP',
		item: spec.lines.map((l) => ({
			sku_code: l.sku,
			sku_desc: `${l.sku} description`,
			quantity: String(l.qty),
			price: l.price,
			final_disposition: l.disposition,
			reason: [{ reason: l.reason, action: 'Refund', wish: 'Refund' }],
		})),
	};
}

export function envelope(
	data: unknown,
	opts: { id: string; event?: string; sequence?: number; occurredAt?: string },
): Obj {
	return {
		id: opts.id,
		event: opts.event ?? 'return.processed',
		occurred_at: opts.occurredAt ?? '2026-11-28T10:00:00Z',
		sequence: opts.sequence ?? 3,
		data,
	};
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v), 'utf8');

/** Headers for a delivery of `body` signed as `spec` says, with `secret`, at `nowSec`. */
export function headersFor(
	delivery: Delivery,
	secret: string,
	nowSec: number,
): Record<string, string> {
	const s = DEFAULT_WEBHOOK_SETTINGS;
	const good = () => signWebhookBody(delivery.body, secret, nowSec, s);
	const extra: Record<string, string> = delivery.contentLength
		? { 'content-length': String(delivery.body.length) }
		: {};
	const sig = s.signatureHeader;
	const ts = s.timestampHeader;
	switch (delivery.sign) {
		case 'good':
			return { ...good(), ...extra };
		case 'wrong_secret':
			return { ...signWebhookBody(delivery.body, `${secret}-not`, nowSec, s), ...extra };
		case 'flipped_char': {
			const h = good();
			const v = h[sig];
			h[sig] = v.slice(0, 10) + (v[10] === 'a' ? 'b' : 'a') + v.slice(11);
			return { ...h, ...extra };
		}
		case 'missing_signature': {
			const h = good();
			delete h[sig];
			return { ...h, ...extra };
		}
		case 'missing_timestamp': {
			const h = good();
			delete h[ts];
			return { ...h, ...extra };
		}
		case 'non_numeric_timestamp':
			return { ...good(), [ts]: `${nowSec}abc`, ...extra };
		case 'stale_timestamp':
			return { ...signWebhookBody(delivery.body, secret, nowSec - 3600, s), ...extra };
		case 'future_timestamp':
			return { ...signWebhookBody(delivery.body, secret, nowSec + 3600, s), ...extra };
		case 'other_body':
			return {
				...signWebhookBody(Buffer.concat([delivery.body, Buffer.from(' ')]), secret, nowSec, s),
				...extra,
			};
		case 'empty_signature':
			return { ...good(), [sig]: '', ...extra };
		case 'base64_encoding':
			return {
				...signWebhookBody(delivery.body, secret, nowSec, { ...s, encoding: 'base64' }),
				...extra,
			};
		case 'unexpected_prefix': {
			const h = good();
			h[sig] = `sha256=${h[sig]}`;
			return { ...h, ...extra };
		}
		case 'very_long_signature':
			return { ...good(), [sig]: 'f'.repeat(8192), ...extra };
		case 'body_only_no_timestamp':
			// A body-only HMAC (no timestamp) when the credential signs the timestamp too.
			return {
				[sig]: createHmac('sha256', secret).update(delivery.body).digest('hex'),
				[ts]: String(nowSec),
				...extra,
			};
	}
}

// ------------------------------------------------------------------ generator

export interface CorpusOptions {
	seed?: number;
	/** Cases per class (some classes have a fixed list first, then random fill). */
	perClass?: number;
	/** Max body size the trigger is configured with, in KiB (for oversized / just-under cases). */
	maxBodyKb?: number;
	/** Prefix of every event and return id (unique per run on a shared n8n). */
	idPrefix?: string;
}

export function generateCorpus(options: CorpusOptions = {}): FuzzCase[] {
	const rnd = mulberry32(options.seed ?? 20261128);
	const perClass = options.perClass ?? 90;
	const maxBytes = (options.maxBodyKb ?? 1024) * 1024;
	const prefix = options.idPrefix ?? 'fz';
	const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
	const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
	const cases: FuzzCase[] = [];
	let n = 0;
	let seq = 0;
	const nextIds = () => {
		seq++;
		return { eventId: `${prefix}-evt-${seq}`, returnId: `${prefix}${seq}` };
	};
	const randomSpec = (returnId: string, lines = int(1, 3)): ReturnSpec => ({
		id: returnId,
		order: pick(VALID_ORDERS),
		lines: Array.from({ length: lines }, () => ({
			sku: pick(VALID_SKUS),
			qty: int(1, 3),
			price: `${int(1, 80)}.${String(int(0, 99)).padStart(2, '0')}`,
			disposition: pick(VALID_DISPOSITIONS),
			reason: pick(VALID_REASONS),
		})),
	});
	const add = (c: Omit<FuzzCase, 'n'>) => cases.push({ n: n++, ...c });
	const fill = (cls: FuzzClass, make: (i: number) => Omit<FuzzCase, 'n' | 'cls'>) => {
		for (let i = 0; i < perClass; i++) add({ cls, ...make(i) });
	};
	const validExpect = (spec: ReturnSpec, eventId: string): Expectation => ({
		outcome: 'valid',
		returnId: spec.id,
		verbatim: {
			returnId: spec.id,
			orderReference: spec.order,
			'event.id': eventId,
			'lines.length': spec.lines.length,
			'lines[0].sku': spec.lines[0].sku,
			'lines[0].quantity': spec.lines[0].qty,
		},
	});
	/** A signed event whose return has one defect (applied by `mutate` to a valid raw return). */
	const dataDefect = (
		mutate: (raw: Obj, spec: ReturnSpec) => void,
		field: string,
		label: string,
		lines?: number,
	): Omit<FuzzCase, 'n' | 'cls'> => {
		const { eventId, returnId } = nextIds();
		const spec = randomSpec(returnId, lines);
		const raw = rawReturn(spec);
		mutate(raw, spec);
		const recordId =
			typeof raw.id === 'string' || typeof raw.id === 'number' ? String(raw.id) : null;
		return {
			label,
			delivery: { body: json(envelope(raw, { id: eventId })), sign: 'good' },
			expect: { outcome: 'invalid', level: 'data', field, returnId: recordId },
		};
	};
	const item = (raw: Obj, i = 0) => (raw.item as Obj[])[i];

	// valid: random demo returns, final dispositions
	fill('valid', () => {
		const { eventId, returnId } = nextIds();
		const spec = randomSpec(returnId);
		return {
			label: `valid ${spec.order} ×${spec.lines.length}`,
			delivery: { body: json(envelope(rawReturn(spec), { id: eventId })), sign: 'good' },
			expect: validExpect(spec, eventId),
		};
	});

	// bad signatures: any body, valid or not, is refused 401
	fill('bad_signature', (i) => {
		const { eventId, returnId } = nextIds();
		const sign = BAD_SIGNS[i % BAD_SIGNS.length];
		const body =
			i % 3 === 2
				? Buffer.from('{"not":"an event"', 'utf8')
				: json(envelope(rawReturn(randomSpec(returnId)), { id: eventId }));
		return {
			label: `bad signature: ${sign}`,
			delivery: { body, sign },
			expect: { outcome: 'rejected', status: 401 },
		};
	});

	// malformed JSON (signed correctly)
	const malformed: Array<[string, string]> = [
		['empty body', ''],
		['lone brace', '{'],
		['truncated key', '{"id":'],
		['trailing comma', '{"id":"x",}'],
		['single quotes', "{'id':'x'}"],
		['bare word', 'return.processed'],
		['NaN literal', '{"sequence": NaN}'],
		['BOM before JSON', '\ufeff{"id":"x"}'],
		['two documents', '{"id":"a"}{"id":"b"}'],
		['unterminated string', '{"id":"abc'],
		['control char in string', '{"id":"a\u0001b"}'],
		['comment', '{"id":"x" /* hi */}'],
	];
	const nonObjects: Array<[string, string]> = [
		['null', 'null'],
		['array', '[]'],
		['string', '"return.processed"'],
		['number', '42'],
		['boolean', 'true'],
	];
	fill('malformed_json', (i) => {
		const { eventId, returnId } = nextIds();
		if (i < malformed.length)
			return {
				label: `malformed: ${malformed[i][0]}`,
				delivery: { body: Buffer.from(malformed[i][1], 'utf8'), sign: 'good' },
				expect: { outcome: 'invalid', level: 'envelope', field: '(body)', returnId: null },
			};
		if (i < malformed.length + nonObjects.length) {
			const [label, text] = nonObjects[i - malformed.length];
			return {
				label: `JSON ${label}`,
				delivery: { body: Buffer.from(text, 'utf8'), sign: 'good' },
				expect: { outcome: 'invalid', level: 'envelope', field: '(root)', returnId: null },
			};
		}
		if (i % 4 === 0) {
			const bytes = Buffer.alloc(int(1, 400));
			for (let b = 0; b < bytes.length; b++) bytes[b] = int(0, 255);
			bytes[0] = 0xff; // never valid UTF-8 JSON
			return {
				label: 'random bytes',
				delivery: { body: bytes, sign: 'good' },
				expect: { outcome: 'invalid', level: 'envelope', field: '(body)', returnId: null },
			};
		}
		const full = JSON.stringify(envelope(rawReturn(randomSpec(returnId)), { id: eventId }));
		const cut = int(1, full.length - 2);
		return {
			label: `truncated at ${cut}/${full.length}`,
			delivery: { body: Buffer.from(full.slice(0, cut), 'utf8'), sign: 'good' },
			expect: { outcome: 'invalid', level: 'envelope', field: '(body)', returnId: null },
		};
	});

	// replayed (same event id) and stale (lower sequence than one already seen)
	fill('replayed', (i) => {
		const { eventId, returnId } = nextIds();
		const spec = randomSpec(returnId);
		const first = json(envelope(rawReturn(spec), { id: eventId, sequence: 5 }));
		if (i % 2 === 0)
			return {
				label: 'replayed event id',
				before: [{ body: first, sign: 'good' }],
				delivery: { body: first, sign: 'good' },
				expect: { outcome: 'duplicate' },
			};
		const older = json(envelope(rawReturn(spec), { id: `${eventId}-older`, sequence: int(0, 5) }));
		return {
			label: 'older sequence after newer',
			before: [{ body: first, sign: 'good' }],
			delivery: { body: older, sign: 'good' },
			expect: { outcome: 'stale' },
		};
	});

	// oversized bodies: refused 413 before verification; just under the limit is processed
	fill('oversized', (i) => {
		const { eventId, returnId } = nextIds();
		const spec = randomSpec(returnId);
		const base = JSON.stringify(envelope(rawReturn(spec), { id: eventId }));
		if (i % 5 === 4) {
			const raw = rawReturn(spec);
			raw.notes = 'n'.repeat(Math.max(0, maxBytes - base.length - 64));
			const body = json(envelope(raw, { id: eventId }));
			return {
				label: `just under the limit (${body.length} bytes)`,
				delivery: { body, sign: 'good', contentLength: true },
				expect: validExpect(spec, eventId),
			};
		}
		const raw = rawReturn(spec);
		raw.label = 'L'.repeat(maxBytes + int(1, 64 * 1024));
		const sign: SignSpec = i % 3 === 0 ? 'wrong_secret' : 'good';
		return {
			label: `over the limit (${sign}${i % 2 ? ', content-length' : ''})`,
			delivery: { body: json(envelope(raw, { id: eventId })), sign, contentLength: i % 2 === 1 },
			expect: { outcome: 'rejected', status: 413 },
		};
	});

	// unknown or non-final event types
	const types = [
		'return.exploded',
		'RETURN.PROCESSED',
		'return.created',
		'return.cancelled',
		'return.processed.v2',
		'refund.issued',
		'💥',
		'={{ $env }}',
		'<script>x</script>',
	];
	fill('unknown_event', (i) => {
		const { eventId, returnId } = nextIds();
		const type =
			i < types.length
				? types[i]
				: `${pick(['return', 'order', 'x'])}.${pick(['exploded', 'deleted', 'unknown', 'graded'])}${i}`;
		return {
			label: `event "${type}"`,
			delivery: {
				body: json(envelope(rawReturn(randomSpec(returnId)), { id: eventId, event: type })),
				sign: 'good',
			},
			expect: { outcome: 'ignored' },
		};
	});

	// missing fields
	const envelopeFields = ['id', 'event', 'occurred_at', 'sequence', 'data'];
	const dataMissing: Array<{
		label: string;
		field: string;
		mutate: (raw: Obj) => void;
		lines?: number;
	}> = [
		{ label: 'data.id', field: 'returnId', mutate: (raw) => delete raw.id },
		{
			label: 'data.order_reference',
			field: 'orderReference',
			mutate: (raw) => delete raw.order_reference,
		},
		{ label: 'data.item', field: 'item', mutate: (raw) => delete raw.item },
		{
			label: 'item[0].sku_code',
			field: 'lines[0].sku',
			mutate: (raw) => delete item(raw).sku_code,
		},
		{
			label: 'item[0].quantity',
			field: 'lines[0].quantity',
			mutate: (raw) => delete item(raw).quantity,
		},
		{
			label: 'item[1].sku_code',
			field: 'lines[1].sku',
			mutate: (raw) => delete item(raw, 1).sku_code,
			lines: 2,
		},
		{
			label: 'item[2].quantity',
			field: 'lines[2].quantity',
			mutate: (raw) => delete item(raw, 2).quantity,
			lines: 3,
		},
		{ label: 'items empty', field: 'lines', mutate: (raw) => (raw.item = []) },
	];
	fill('missing_fields', (i) => {
		if (i % 2 === 0) {
			const { eventId, returnId } = nextIds();
			const field = envelopeFields[(i / 2) % envelopeFields.length];
			const env = envelope(rawReturn(randomSpec(returnId)), { id: eventId });
			delete env[field];
			// the record is still named from data.id when the data is there
			return {
				label: `envelope ${field}`,
				delivery: { body: json(env), sign: 'good' },
				expect: {
					outcome: 'invalid',
					level: 'envelope',
					field,
					returnId: field === 'data' ? null : returnId,
				},
			};
		}
		const d = dataMissing[((i - 1) / 2) % dataMissing.length];
		const c = dataDefect(d.mutate, d.field, `missing ${d.label}`, d.lines);
		if (d.field === 'returnId' && c.expect.outcome === 'invalid') c.expect.returnId = null;
		return c;
	});

	// wrong types
	const envelopeTypes: Array<{ field: string; value: unknown }> = [
		{ field: 'sequence', value: '3' },
		{ field: 'sequence', value: -1 },
		{ field: 'sequence', value: 1.5 },
		{ field: 'sequence', value: null },
		{ field: 'occurred_at', value: 'yesterday' },
		{ field: 'occurred_at', value: 12 },
		{ field: 'id', value: {} },
		{ field: 'id', value: true },
		{ field: 'id', value: '   ' },
		{ field: 'event', value: 42 },
		{ field: 'event', value: '' },
		{ field: 'data', value: [] },
		{ field: 'data', value: 'a return' },
		{ field: 'data', value: null },
	];
	const dataTypes: Array<{ label: string; field: string; mutate: (raw: Obj) => void }> = [
		{ label: 'data.id object', field: 'returnId', mutate: (raw) => (raw.id = { $gt: '' }) },
		{
			label: 'order_reference object',
			field: 'orderReference',
			mutate: (raw) => (raw.order_reference = { $ne: null }),
		},
		{
			label: 'order_reference array',
			field: 'orderReference',
			mutate: (raw) => (raw.order_reference = ['WEB-1001']),
		},
		{ label: 'item object', field: 'item', mutate: (raw) => (raw.item = { sku_code: 'X' }) },
		{ label: 'item string', field: 'item', mutate: (raw) => (raw.item = 'TSHIRT-RED-M') },
		{
			label: 'item[0] string',
			field: 'item[0]',
			mutate: (raw) => ((raw.item as unknown[])[0] = 'TSHIRT-RED-M'),
		},
		{
			label: 'quantity word',
			field: 'lines[0].quantity',
			mutate: (raw) => (item(raw).quantity = 'many'),
		},
		{
			label: 'quantity boolean',
			field: 'lines[0].quantity',
			mutate: (raw) => (item(raw).quantity = true),
		},
		{
			label: 'quantity array',
			field: 'lines[0].quantity',
			mutate: (raw) => (item(raw).quantity = [1]),
		},
		{ label: 'price word', field: 'item[0].price', mutate: (raw) => (item(raw).price = 'free') },
		{
			label: 'price object',
			field: 'item[0].price',
			mutate: (raw) => (item(raw).price = { amount: 10 }),
		},
		{
			label: 'price with currency',
			field: 'item[0].price',
			mutate: (raw) => (item(raw).price = '£10.00'),
		},
		{ label: 'currency number', field: 'currency', mutate: (raw) => (raw.currency = 826) },
		{ label: 'currency word', field: 'currency', mutate: (raw) => (raw.currency = 'pounds') },
		{
			label: 'sku object',
			field: 'lines[0].sku',
			mutate: (raw) => (item(raw).sku_code = { code: 'X' }),
		},
		{ label: 'refund word', field: 'refund_total', mutate: (raw) => (raw.refund_total = 'lots') },
	];
	fill('wrong_types', (i) => {
		if (i % 2 === 0) {
			const { eventId, returnId } = nextIds();
			const t = envelopeTypes[(i / 2) % envelopeTypes.length];
			const env = envelope(rawReturn(randomSpec(returnId)), { id: eventId });
			env[t.field] = t.value;
			return {
				label: `envelope ${t.field} = ${JSON.stringify(t.value)}`,
				delivery: { body: json(env), sign: 'good' },
				expect: {
					outcome: 'invalid',
					level: 'envelope',
					field: t.field,
					returnId: t.field === 'data' ? null : returnId,
				},
			};
		}
		const t = dataTypes[((i - 1) / 2) % dataTypes.length];
		const c = dataDefect(t.mutate, t.field, t.label);
		if (t.field === 'returnId' && c.expect.outcome === 'invalid') c.expect.returnId = null;
		return c;
	});

	// huge (and otherwise impossible) quantities
	const quantities: unknown[] = [
		100001,
		1e6,
		2 ** 53 + 2,
		1e308,
		'99999999999999999999',
		'1e400',
		0,
		-1,
		-100000,
		1.5,
		'2.5',
		'-3',
		' 0 ',
	];
	fill('huge_quantity', (i) => {
		const q =
			i < quantities.length
				? quantities[i]
				: pick([
						100001 + int(0, 1e6),
						-int(1, 1e6),
						int(1, 9) + 0.5,
						1e9 * int(1, 9),
						`${int(100001, 9e6)}`,
					]);
		const lines = int(1, 3);
		const at = int(0, lines - 1);
		return dataDefect(
			(raw) => (item(raw, at).quantity = q),
			`lines[${at}].quantity`,
			`quantity ${JSON.stringify(q)} on line ${at}`,
			lines,
		);
	});

	// negative (and unreadable) prices and refunds
	const prices: unknown[] = [-0.01, -1, '-10.00', ' -3 ', -1e6, '-0.50', 1e20, '1234567890123.00'];
	fill('negative_price', (i) => {
		if (i % 6 === 5) {
			const refund = pick([-5, '-0.01', '-100.00', -1e6]);
			return dataDefect(
				(raw) => (raw.refund_total = refund),
				'refund_total',
				`refund_total ${JSON.stringify(refund)}`,
			);
		}
		const p =
			i < prices.length
				? prices[i]
				: pick([-int(1, 100000) / 100, `-${int(1, 999)}.${String(int(0, 99)).padStart(2, '0')}`]);
		const lines = int(1, 3);
		const at = int(0, lines - 1);
		return dataDefect(
			(raw) => (item(raw, at).price = p),
			`item[${at}].price`,
			`price ${JSON.stringify(p)} on line ${at}`,
			lines,
		);
	});

	// unicode SKUs: valid text is carried verbatim; control characters, blank and over-long SKUs name the field
	fill('unicode_sku', (i) => {
		if (i % 2 === 0) {
			const { eventId, returnId } = nextIds();
			const spec = randomSpec(returnId);
			spec.lines[0].sku = UNICODE_VALID_SKUS[(i / 2) % UNICODE_VALID_SKUS.length];
			return {
				label: `unicode SKU ${JSON.stringify(spec.lines[0].sku)}`,
				delivery: { body: json(envelope(rawReturn(spec), { id: eventId })), sign: 'good' },
				expect: validExpect(spec, eventId),
			};
		}
		const bad = UNICODE_INVALID_SKUS[((i - 1) / 2) % UNICODE_INVALID_SKUS.length];
		return dataDefect(
			(raw) => (item(raw).sku_code = bad.sku),
			'lines[0].sku',
			`SKU with ${bad.why}`,
		);
	});

	// injection strings in every text field: data, carried verbatim (or the field named when a rule refuses it)
	interface TextField {
		path: string;
		/** Where the value lands in the normalised return. */
		norm: string;
		set: (env: Obj, raw: Obj, v: string) => void;
		/** Rule of the normalised field: max length, or a pattern. */
		max?: number;
		pattern?: RegExp;
		/** Not compared verbatim (not carried, or a case where the event type decides). */
		eventType?: boolean;
		/** A key of comma-separated Khaos look-ups: a comma is refused. */
		wireKey?: boolean;
	}
	const fields: TextField[] = [
		{ path: 'id', norm: 'event.id', set: (env, _raw, v) => (env.id = v), max: 300 },
		{ path: 'event', norm: 'event.type', set: (env, _raw, v) => (env.event = v), eventType: true },
		{
			path: 'data.id',
			norm: 'returnId',
			set: (_env, raw, v) => (raw.id = v),
			max: 47,
			wireKey: true,
		},
		{
			path: 'data.display_id',
			norm: 'displayId',
			set: (_env, raw, v) => (raw.display_id = v),
			max: 255,
		},
		{
			path: 'data.external_id',
			norm: 'externalId',
			set: (_env, raw, v) => (raw.external_id = v),
			max: 255,
		},
		{
			path: 'data.order_reference',
			norm: 'orderReference',
			set: (_env, raw, v) => (raw.order_reference = v),
			max: 50,
			wireKey: true,
		},
		{ path: 'data.name', norm: 'customer.name', set: (_env, raw, v) => (raw.name = v), max: 255 },
		{
			path: 'data.email',
			norm: 'customer.email',
			set: (_env, raw, v) => (raw.email = v),
			max: 255,
		},
		{
			path: 'data.currency',
			norm: 'currency',
			set: (_env, raw, v) => (raw.currency = v),
			pattern: /^[A-Za-z]{3}$/,
		},
		{
			path: 'item[0].sku_code',
			norm: 'lines[0].sku',
			set: (_env, raw, v) => (item(raw).sku_code = v),
			max: 255,
			wireKey: true,
		},
		{
			path: 'item[0].sku_desc',
			norm: 'lines[0].description',
			set: (_env, raw, v) => (item(raw).sku_desc = v),
			max: 255,
		},
		{
			path: 'item[0].final_disposition',
			norm: 'lines[0].disposition',
			set: (_env, raw, v) => (item(raw).final_disposition = v),
			max: 255,
		},
		{
			path: 'item[0].reason[0].reason',
			norm: 'lines[0].reasons[0].reason',
			set: (_env, raw, v) => ((item(raw).reason as Obj[])[0].reason = v),
			max: 255,
		},
		{
			path: 'item[0].reason[0].action',
			norm: 'lines[0].reasons[0].action',
			set: (_env, raw, v) => ((item(raw).reason as Obj[])[0].action = v),
			max: 255,
		},
		{
			path: 'item[0].reason[0].wish',
			norm: 'lines[0].reasons[0].wish',
			set: (_env, raw, v) => ((item(raw).reason as Obj[])[0].wish = v),
			max: 255,
		},
	];
	fill('injection', (i) => {
		const { eventId, returnId } = nextIds();
		const f = fields[i % fields.length];
		const v = INJECTIONS[(i * 7 + Math.floor(i / fields.length)) % INJECTIONS.length];
		const spec = randomSpec(returnId);
		const raw = rawReturn(spec);
		const env = envelope(raw, { id: eventId });
		f.set(env, raw, v);
		const label = `${f.path} = ${JSON.stringify(v)}`;
		const delivery: Delivery = { body: json(env), sign: 'good' };
		if (f.eventType) return { label, delivery, expect: { outcome: 'ignored' }, injected: v };
		const trimmed = v.trim();
		const refused =
			(f.max !== undefined && trimmed.length > f.max) ||
			(f.pattern !== undefined && !f.pattern.test(trimmed)) ||
			(f.wireKey === true && trimmed.includes(','));
		if (refused)
			return {
				label,
				delivery,
				expect: {
					outcome: 'invalid',
					level: 'data',
					field: f.norm,
					returnId: f.path === 'data.id' ? trimmed : returnId,
				},
				injected: v,
			};
		const ret = f.path === 'data.id' ? trimmed : returnId;
		const verbatim: Record<string, string | number> = { returnId: ret, [f.norm]: trimmed };
		return { label, delivery, expect: { outcome: 'valid', returnId: ret, verbatim }, injected: v };
	});

	// XML-illegal characters in every text field that can reach a Khaos envelope: the field is named
	fill('xml_illegal', (i) => {
		const { eventId, returnId } = nextIds();
		const carried = fields.filter((f) => !f.eventType && f.pattern === undefined);
		const f = carried[i % carried.length];
		const bad = XML_ILLEGAL[Math.floor(i / carried.length) % XML_ILLEGAL.length];
		const spec = randomSpec(returnId);
		const raw = rawReturn(spec);
		const env = envelope(raw, { id: eventId });
		f.set(env, raw, `A${bad.ch}B`);
		const field = f.norm;
		return {
			label: `${f.path} with ${bad.why}`,
			delivery: { body: json(env), sign: 'good' },
			expect: {
				outcome: 'invalid',
				level: 'data',
				field,
				returnId: f.path === 'data.id' ? `A${bad.ch}B` : returnId,
			},
		};
	});

	// prototype pollution: keys and ids that are property names of Object.prototype
	const protoCases: Array<{
		label: string;
		build: (eventId: string, returnId: string) => { body: string; expect: Expectation };
	}> = [
		{
			label: 'top-level __proto__ key',
			build: (eventId, returnId) => {
				const spec = randomSpec(returnId);
				const body = JSON.stringify(envelope(rawReturn(spec), { id: eventId })).replace(
					/^\{/,
					'{"__proto__":{"polluted":"yes","id":"evil"},',
				);
				return { body, expect: validExpect(spec, eventId) };
			},
		},
		{
			label: 'data.__proto__ carrying id and items',
			build: (eventId, returnId) => {
				const spec = randomSpec(returnId);
				const data = JSON.stringify(rawReturn(spec)).replace(
					/^\{/,
					'{"__proto__":{"polluted":"yes","id":"evil","order_reference":"EVIL-1"},',
				);
				const body = `{"id":${JSON.stringify(eventId)},"event":"return.processed","occurred_at":"2026-11-28T10:00:00Z","sequence":3,"data":${data}}`;
				return { body, expect: validExpect(spec, eventId) };
			},
		},
		{
			label: 'items only under data.__proto__',
			build: (eventId, returnId) => {
				const raw = rawReturn(randomSpec(returnId));
				const items = JSON.stringify(raw.item);
				delete raw.item;
				const data = JSON.stringify(raw).replace(/^\{/, `{"__proto__":{"item":${items}},`);
				const body = `{"id":${JSON.stringify(eventId)},"event":"return.processed","occurred_at":"2026-11-28T10:00:00Z","sequence":3,"data":${data}}`;
				return { body, expect: { outcome: 'invalid', level: 'data', field: 'item', returnId } };
			},
		},
		{
			label: 'item.__proto__ with a sku',
			build: (eventId, returnId) => {
				const spec = randomSpec(returnId, 1);
				const body = JSON.stringify(envelope(rawReturn(spec), { id: eventId })).replace(
					'{"sku_code"',
					'{"__proto__":{"sku_code":"EVIL","polluted":"yes"},"sku_code"',
				);
				return { body, expect: validExpect(spec, eventId) };
			},
		},
		{
			label: 'constructor.prototype in data and item',
			build: (eventId, returnId) => {
				const spec = randomSpec(returnId, 1);
				const raw = rawReturn(spec);
				(raw as Record<string, unknown>)['constructor'] = { prototype: { polluted: 'yes' } };
				(item(raw) as Record<string, unknown>)['constructor'] = { prototype: { polluted: 'yes' } };
				return {
					body: JSON.stringify(envelope(raw, { id: eventId })),
					expect: validExpect(spec, eventId),
				};
			},
		},
	];
	const protoIds = [
		'__proto__',
		'constructor',
		'toString',
		'hasOwnProperty',
		'valueOf',
		'__defineGetter__',
	];
	fill('prototype', (i) => {
		const ids = nextIds();
		if (i % 2 === 0) {
			const p = protoCases[(i / 2) % protoCases.length];
			const built = p.build(ids.eventId, ids.returnId);
			return {
				label: p.label,
				delivery: { body: Buffer.from(built.body, 'utf8'), sign: 'good' },
				expect: built.expect,
			};
		}
		const name = protoIds[((i - 1) / 2) % protoIds.length];
		const asEvent = ((i - 1) / 2) % 2 === 0;
		const eventId = asEvent ? name : ids.eventId;
		const returnId = asEvent ? ids.returnId : name;
		const spec = randomSpec(returnId);
		// return ids that are prototype names are unique per case only through the event id; the trigger memory is per case
		return {
			label: `${asEvent ? 'event' : 'return'} id "${name}"`,
			delivery: { body: json(envelope(rawReturn(spec), { id: eventId })), sign: 'good' },
			expect: validExpect(spec, eventId),
		};
	});

	return cases;
}

/** Read a dotted/bracket path (`lines[0].reasons[0].reason`, `lines.length`) from a value. */
export function readPath(value: unknown, path: string): unknown {
	let cur: unknown = value;
	for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
		if (cur === null || cur === undefined) return undefined;
		if (part === 'length' && Array.isArray(cur)) return cur.length;
		cur = Object.prototype.hasOwnProperty.call(cur, part)
			? (cur as Record<string, unknown>)[part]
			: undefined;
	}
	return cur;
}
