/**
 * The ReBound sandbox's fixture format (validated with zod) and its in-memory
 * state: returns in ReBound's legacy field names, the lifecycle
 * (created → in_transit → at_hub → graded → delivered, or cancelled), failed
 * login counting for `ip_blocked`, and deterministic bulk generation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FaultConfig } from '../shared/faults';
import { mulberry32 } from '../shared/prng';

const decimal = z
	.union([
		z.string().regex(/^-?\d+(\.\d{1,4})?$/, 'expected a decimal amount like "12.34"'),
		z.number().finite(),
	])
	.transform((v) => (typeof v === 'number' ? v.toFixed(2) : v));
/**
 * MODELED: the refund ReBound reports on a return, in pounds ("24.13"). ReBound's public docs name no
 * refund field; the wire carries it as `refund_total`, the first key transports/rebound/normalise.ts
 * reads into `refundPence`. Compared with the computed credit, never used as its value.
 */
const refund = z
	.union([
		z
			.string()
			.regex(/^\d{1,9}(\.\d{1,2})?$/, 'expected a refund in pounds like "24.13" (not negative)'),
		z.number().finite().nonnegative(),
	])
	.transform((v) => (typeof v === 'number' ? v.toFixed(2) : v));
const dateTime = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'expected "YYYY-MM-DD HH:MM:SS" (UTC)');

export const STATUSES = ['created', 'in_transit', 'at_hub', 'graded', 'delivered'] as const;
export type ReturnStatus = (typeof STATUSES)[number] | 'cancelled';

const ReasonSchema = z.object({
	reason: z.string().max(255),
	action: z.string().max(255).default('Refund'),
	wish: z.string().max(255).default(''),
	additional: z
		.object({ title: z.string().max(255).default(''), value: z.string().max(255).default('') })
		.default({}),
});

export const ItemInputSchema = z.object({
	sku_code: z.string().min(1).max(255),
	sku_desc: z.string().max(255).optional(),
	quantity: z.union([
		z.number().int().positive(),
		z
			.string()
			.regex(/^[1-9]\d*$/, 'expected a whole number > 0')
			.transform(Number),
	]),
	price: decimal,
	cost_price: decimal.nullable().default(null),
	hs_code: z.string().max(255).nullable().default(null),
	non_returnable: z
		.union([z.boolean(), z.enum(['0', '1']).transform((v) => v === '1')])
		.default(false),
	final_disposition: z.string().max(255).nullable().default(null),
	/** A list of reason entries, or one reason text (action Refund). */
	reason: z.union([z.string().max(255), z.array(ReasonSchema)]).default([]),
});

export const ReturnInputSchema = z
	.object({
		/** A whole number (also as a numeric string, the way the wire gives it). */
		id: z
			.union([
				z.number().int().positive(),
				z
					.string()
					.regex(/^[1-9]\d{0,12}$/, 'expected a whole number')
					.transform(Number),
			])
			.optional(),
		display_id: z.string().max(255).optional(),
		external_id: z.string().max(255).nullable().default(null),
		order_reference: z.string().min(1).max(255),
		date_added: dateTime.optional(),
		/** Relative alternative to date_added: this many whole days before "now" (UTC), at date_added_time. */
		date_added_days_ago: z.number().int().min(0).max(3650).optional(),
		date_added_time: z
			.string()
			.regex(/^\d{2}:\d{2}:\d{2}$/, 'expected HH:MM:SS')
			.default('10:00:00'),
		name: z.string().max(255).default('Jo Bloggs'),
		company_name: z.string().max(255).default(''),
		email: z.string().max(255).default('jo.bloggs@example.com'),
		phone: z.string().max(255).default(''),
		addr1: z.string().max(255).default('1 High Street'),
		addr2: z.string().max(255).default(''),
		addr3: z.string().max(255).default(''),
		city: z.string().max(255).default('Leeds'),
		state: z.string().max(255).default(''),
		zip: z.string().max(255).default('LS1 1AA'),
		country: z.string().max(255).default('GB'),
		carrier: z.string().max(255).default('Royal Mail'),
		tracking: z.string().max(255).optional(),
		status: z
			.enum(['created', 'in_transit', 'at_hub', 'graded', 'delivered', 'cancelled'])
			.default('created'),
		/** MODELED: the refund ReBound reports (pounds); absent or null: none reported, no key on the wire. */
		refund_total: refund.nullable().default(null),
		item: z.array(ItemInputSchema).min(1),
	})
	.superRefine((r, ctx) => {
		if (r.date_added !== undefined && r.date_added_days_ago !== undefined) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['date_added_days_ago'],
				message: 'give date_added or date_added_days_ago, not both',
			});
		}
		const graded = r.status === 'graded' || r.status === 'delivered';
		r.item.forEach((it, i) => {
			if (graded && !it.final_disposition)
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					path: ['item', i, 'final_disposition'],
					message: `status ${r.status} needs a final_disposition on every item`,
				});
			if (!graded && it.final_disposition)
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					path: ['item', i, 'final_disposition'],
					message: `status ${r.status} is not graded yet: final_disposition must be null`,
				});
		});
	});
export type ReturnInput = z.input<typeof ReturnInputSchema>;

export const WebhookFixtureSchema = z
	.object({
		secret: z.string().default(''),
		signatureHeader: z.string().min(1).default('X-Rebound-Signature'),
		timestampHeader: z.string().min(1).default('X-Rebound-Timestamp'),
		encoding: z.enum(['hex', 'base64']).default('hex'),
		signTimestamp: z.boolean().default(true),
		prefix: z.string().default(''),
		toleranceSeconds: z.number().int().positive().default(300),
		/** Receivers registered at start and on reset. */
		targets: z.array(z.string().url()).default([]),
		maxAttempts: z.number().int().min(1).max(20).default(5),
		baseDelayMs: z.number().int().min(0).default(250),
		maxDelayMs: z.number().int().min(0).default(10_000),
		timeoutMs: z.number().int().min(1).default(5000),
		/** Event type fired on entering each status; null fires nothing. */
		eventNames: z
			.object({
				created: z.string().nullable().default('return.created'),
				in_transit: z.string().nullable().default('return.in_transit'),
				at_hub: z.string().nullable().default('return.received'),
				graded: z.string().nullable().default('return.processed'),
				delivered: z.string().nullable().default('return.delivered'),
				cancelled: z.string().nullable().default('return.cancelled'),
			})
			.default({}),
	})
	.default({});

export const FixtureSchema = z.object({
	description: z.string().optional(),
	credentials: z.object({ login: z.string().min(1), apiKey: z.string().min(1) }),
	security: z.object({ maxFailedLogins: z.number().int().min(1).default(5) }).default({}),
	webhook: WebhookFixtureSchema,
	/** Size in bytes of the base64 label returns/get includes. */
	labelBytes: z.number().int().min(0).max(5_000_000).default(60_000),
	/** First id given to returns created through the admin API or bulk generation. */
	nextId: z.number().int().positive().default(10_000),
	returns: z.array(ReturnInputSchema).default([]),
	faults: z
		.custom<FaultConfig>(
			(v) => typeof v === 'object' && v !== null && !Array.isArray(v),
			'expected a fault configuration object',
		)
		.optional(),
});
export type Fixture = z.infer<typeof FixtureSchema>;

export const DEFAULT_FIXTURE_PATH = path.join(__dirname, '..', 'fixtures', 'rebound-default.json');

function issueText(label: string, error: z.ZodError): string {
	const i = error.issues[0];
	return `${label} is invalid at ${i.path.join('.') || '(root)'}: ${i.message}`;
}

export function loadFixture(source?: string | object): Fixture {
	let raw: unknown;
	let label = 'ReBound fixture object';
	if (source === undefined || typeof source === 'string') {
		const file = source ?? DEFAULT_FIXTURE_PATH;
		label = `ReBound fixture ${file}`;
		raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
	} else {
		raw = JSON.parse(JSON.stringify(source)) as unknown;
	}
	const parsed = FixtureSchema.safeParse(raw);
	if (!parsed.success) throw new Error(issueText(label, parsed.error));
	return parsed.data;
}

export interface ReboundReason {
	reason: string;
	action: string;
	wish: string;
	additional: { title: string; value: string };
}

export interface ReboundItem {
	sku_code: string;
	sku_desc: string;
	quantity: number;
	price: string;
	cost_price: string | null;
	hs_code: string | null;
	non_returnable: boolean;
	final_disposition: string | null;
	reason: ReboundReason[];
}

export interface ReboundReturn {
	id: number;
	display_id: string;
	external_id: string | null;
	order_reference: string;
	date_added: string;
	name: string;
	company_name: string;
	email: string;
	phone: string;
	addr1: string;
	addr2: string;
	addr3: string;
	city: string;
	state: string;
	zip: string;
	country: string;
	carrier: string;
	tracking: string;
	current_tracking_status: string;
	tracking_last_update: string;
	/** MODELED: the refund ReBound reports, pounds as a decimal string; null: none (the key is left off the wire). */
	refund_total: string | null;
	item: ReboundItem[];
	/** Sandbox-only (not on the wire): lifecycle status, last event sequence, tracking history. */
	status: ReturnStatus;
	sequence: number;
	history: Array<{ status: string; date: string }>;
}

export const TRACKING_TEXT: Record<ReturnStatus, string> = {
	created: 'Return created',
	in_transit: 'In carrier network',
	at_hub: 'Arrived at hub',
	graded: 'Processed at hub',
	delivered: 'Delivered to retailer',
	cancelled: 'Cancelled',
};

/** "YYYY-MM-DD HH:MM:SS" in UTC. */
export function reboundTime(ms: number): string {
	return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A deterministic base64 blob of `bytes` characters (the shipping label). */
export function labelOf(id: number, bytes: number): string {
	if (bytes <= 0) return '';
	const seed = Buffer.from(`%PDF-1.4 ReBound sandbox label for return ${id}\n`, 'utf8');
	const raw = Buffer.alloc(Math.ceil((bytes * 3) / 4));
	for (let i = 0; i < raw.length; i++) raw[i] = seed[i % seed.length];
	return raw.toString('base64').slice(0, bytes);
}

export class SandboxError extends Error {
	constructor(
		message: string,
		readonly status = 400,
	) {
		super(message);
	}
}

/** The demo catalogue bulk generation draws from (agrees with the Khaos default fixture). */
export const DEMO_ORDER_LINES: Array<{
	order: string;
	sku: string;
	desc: string;
	price: string;
	qty: number;
}> = [
	{ order: 'WEB-1001', sku: 'TSHIRT-RED-M', desc: 'T-shirt red, medium', price: '40.00', qty: 1 },
	{ order: 'WEB-1001', sku: 'JEANS-BLU-32', desc: 'Jeans blue, 32in', price: '30.00', qty: 2 },
	{ order: 'WEB-1002', sku: 'HOODIE-GRY-L', desc: 'Hoodie grey, large', price: '55.00', qty: 1 },
	{ order: 'WEB-1002', sku: 'MUG-WHT', desc: 'Mug white', price: '8.00', qty: 2 },
	{ order: 'WEB-1003', sku: 'TSHIRT-RED-M', desc: 'T-shirt red, medium', price: '40.00', qty: 1 },
	{ order: 'WEB-1004', sku: 'KIDS-TEE-5Y', desc: 'Kids tee, age 5', price: '6.00', qty: 3 },
	{ order: 'WEB-1004', sku: 'HOODIE-GRY-L', desc: 'Hoodie grey, large', price: '55.00', qty: 1 },
	{ order: 'WEB-1005', sku: 'JEANS-BLU-32', desc: 'Jeans blue, 32in', price: '30.00', qty: 3 },
];
const BULK_GRADES = ['Grade A', 'Grade B', 'Like New', 'Damaged', 'Quarantine', 'Dirty'];
const BULK_REASONS = ['Too small', 'Too big', 'Faulty', 'Changed my mind', 'Arrived damaged'];

export interface BulkOptions {
	count: number;
	seed?: number;
	graded?: boolean;
	linesPerReturn?: number;
	/** Last day of the spread, YYYY-MM-DD (default: today UTC). */
	endDate?: string;
	/** Returns are spread over this many days ending at endDate (default 7). */
	days?: number;
}

export class ReboundState {
	returns = new Map<number, ReboundReturn>();
	private failedLogins = new Map<string, number>();
	private blocked = new Set<string>();
	nextId = 10_000;

	constructor(
		private fixture: Fixture,
		private readonly now: () => number = () => Date.now(),
	) {
		this.reset(fixture);
	}

	reset(fixture: Fixture = this.fixture): void {
		this.fixture = fixture;
		this.returns.clear();
		this.failedLogins.clear();
		this.blocked.clear();
		this.nextId = fixture.nextId;
		for (const r of fixture.returns) this.add(r);
	}

	get credentials(): Fixture['credentials'] {
		return this.fixture.credentials;
	}

	/** Validate and store a return (fixture entry or admin input). */
	add(input: unknown): ReboundReturn {
		const parsed = ReturnInputSchema.safeParse(input);
		if (!parsed.success) throw new SandboxError(issueText('return', parsed.error));
		const r = parsed.data;
		const id = r.id ?? this.nextId;
		if (this.returns.has(id)) throw new SandboxError(`return ${id} already exists`, 409);
		this.nextId = Math.max(this.nextId, id + 1);
		const nowMs = this.now();
		let dateAdded = r.date_added;
		if (dateAdded === undefined) {
			const day = new Date(nowMs - (r.date_added_days_ago ?? 0) * 86_400_000)
				.toISOString()
				.slice(0, 10);
			dateAdded =
				r.date_added_days_ago === undefined ? reboundTime(nowMs) : `${day} ${r.date_added_time}`;
		}
		const reached = r.status === 'cancelled' ? 1 : STATUSES.indexOf(r.status) + 1;
		const history = STATUSES.slice(0, r.status === 'cancelled' ? 1 : reached).map((s) => ({
			status: TRACKING_TEXT[s],
			date: dateAdded,
		}));
		if (r.status === 'cancelled')
			history.push({ status: TRACKING_TEXT.cancelled, date: dateAdded });
		const ret: ReboundReturn = {
			id,
			display_id: r.display_id ?? `RB${id}`,
			external_id: r.external_id,
			order_reference: r.order_reference,
			date_added: dateAdded,
			name: r.name,
			company_name: r.company_name,
			email: r.email,
			phone: r.phone,
			addr1: r.addr1,
			addr2: r.addr2,
			addr3: r.addr3,
			city: r.city,
			state: r.state,
			zip: r.zip,
			country: r.country,
			carrier: r.carrier,
			tracking: r.tracking ?? `RM${String(id).padStart(9, '0')}GB`,
			current_tracking_status: TRACKING_TEXT[r.status],
			tracking_last_update: dateAdded,
			refund_total: r.refund_total,
			item: r.item.map((it) => ({
				sku_code: it.sku_code,
				sku_desc: it.sku_desc ?? it.sku_code,
				quantity: it.quantity,
				price: it.price,
				cost_price: it.cost_price,
				hs_code: it.hs_code,
				non_returnable: it.non_returnable,
				final_disposition: it.final_disposition,
				reason:
					typeof it.reason === 'string'
						? [
								{
									reason: it.reason,
									action: 'Refund',
									wish: '',
									additional: { title: '', value: '' },
								},
							]
						: it.reason,
			})),
			status: r.status,
			sequence: r.status === 'cancelled' ? 2 : reached,
			history,
		};
		this.returns.set(id, ret);
		return ret;
	}

	get(id: number): ReboundReturn {
		const r = this.returns.get(id);
		if (!r) throw new SandboxError(`no return ${id}`, 404);
		return r;
	}

	/** Look a return up the way returns/get does (type id | display_id | external_id). */
	find(value: string, type: string): ReboundReturn | undefined {
		if (type === 'id') return /^\d+$/.test(value) ? this.returns.get(Number(value)) : undefined;
		for (const r of this.returns.values()) {
			if (type === 'display_id' && r.display_id === value) return r;
			if (type === 'external_id' && r.external_id === value) return r;
		}
		return undefined;
	}

	findByTracking(code: string): ReboundReturn | undefined {
		for (const r of this.returns.values()) if (r.tracking === code) return r;
		return undefined;
	}

	/** Ids whose date_added day lies in [from, to] (YYYY-MM-DD, inclusive, UTC), ascending. */
	search(from: string, to: string): number[] {
		const ids: number[] = [];
		for (const r of this.returns.values()) {
			const day = r.date_added.slice(0, 10);
			if (day >= from && day <= to) ids.push(r.id);
		}
		return ids.sort((a, b) => a - b);
	}

	/** Move to a status, recording tracking; the caller fires the webhook. */
	transition(r: ReboundReturn, to: ReturnStatus): void {
		const at = reboundTime(this.now());
		r.status = to;
		r.sequence++;
		r.current_tracking_status = TRACKING_TEXT[to];
		r.tracking_last_update = at;
		r.history.push({ status: TRACKING_TEXT[to], date: at });
	}

	/** The statuses advance walks through to reach `to` (one step when omitted). */
	path(r: ReboundReturn, to?: string): ReturnStatus[] {
		if (r.status === 'cancelled') throw new SandboxError(`return ${r.id} is cancelled`, 409);
		const from = STATUSES.indexOf(r.status as (typeof STATUSES)[number]);
		if (to === 'cancelled') {
			if (from >= STATUSES.indexOf('graded'))
				throw new SandboxError(`return ${r.id} is ${r.status}: too late to cancel`, 409);
			return ['cancelled'];
		}
		const target = to === undefined ? from + 1 : STATUSES.indexOf(to as (typeof STATUSES)[number]);
		if (to !== undefined && target < 0)
			throw new SandboxError(`"${to}" is not a status (${[...STATUSES, 'cancelled'].join(', ')})`);
		if (target >= STATUSES.length)
			throw new SandboxError(`return ${r.id} is already delivered`, 409);
		if (target <= from) throw new SandboxError(`return ${r.id} is already ${r.status}`, 409);
		return STATUSES.slice(from + 1, target + 1);
	}

	/**
	 * Set final dispositions: keys are a SKU (every line with it) or a 1-based
	 * line index. Returns the lines changed. Only at the hub or once graded.
	 */
	grade(r: ReboundReturn, dispositions: unknown): number[] {
		if (typeof dispositions !== 'object' || dispositions === null || Array.isArray(dispositions)) {
			throw new SandboxError(
				'dispositions must be an object {"<sku or 1-based line>": "<disposition>"}',
			);
		}
		const changes = new Map<number, string | null>();
		for (const [key, value] of Object.entries(dispositions as Record<string, unknown>)) {
			if (
				value !== null &&
				(typeof value !== 'string' || value.trim() === '' || value.length > 255)
			) {
				throw new SandboxError(
					`return ${r.id}: disposition for "${key}" must be a non-empty text up to 255 characters or null`,
				);
			}
			const lines = /^\d+$/.test(key)
				? Number(key) >= 1 && Number(key) <= r.item.length
					? [Number(key) - 1]
					: []
				: r.item.map((it, i) => (it.sku_code === key ? i : -1)).filter((i) => i >= 0);
			if (!lines.length)
				throw new SandboxError(
					`return ${r.id} has no line "${key}" (lines 1..${r.item.length}; SKUs ${r.item.map((i) => i.sku_code).join(', ')})`,
				);
			for (const i of lines) changes.set(i, value as string | null);
		}
		for (const [i, v] of changes) r.item[i].final_disposition = v;
		return [...changes.keys()].sort((a, b) => a - b).map((i) => i + 1);
	}

	/** MODELED: set (or, with null, clear) the refund ReBound reports on a return; pounds like "24.13". */
	setRefund(r: ReboundReturn, value: unknown): void {
		const parsed = refund.nullable().safeParse(value);
		if (!parsed.success)
			throw new SandboxError(`return ${r.id}: refund_total: ${parsed.error.issues[0].message}`);
		r.refund_total = parsed.data;
	}

	/** Counts a failed login from an address; true once it is blocked. */
	failLogin(address: string): boolean {
		const n = (this.failedLogins.get(address) ?? 0) + 1;
		this.failedLogins.set(address, n);
		if (n >= this.fixture.security.maxFailedLogins) this.blocked.add(address);
		return this.blocked.has(address);
	}

	loginOk(address: string): void {
		this.failedLogins.delete(address);
	}

	isBlocked(address: string): boolean {
		return this.blocked.has(address);
	}

	unblock(address?: string): void {
		if (address === undefined) {
			this.blocked.clear();
			this.failedLogins.clear();
		} else {
			this.blocked.delete(address);
			this.failedLogins.delete(address);
		}
	}

	/** Deterministic generated returns (same seed, same returns), ids from nextId. */
	bulk(opts: BulkOptions): ReboundReturn[] {
		if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 100_000)
			throw new SandboxError('count must be a whole number from 1 to 100000');
		const lines = opts.linesPerReturn ?? 1;
		if (!Number.isInteger(lines) || lines < 1 || lines > 50)
			throw new SandboxError('linesPerReturn must be a whole number from 1 to 50');
		const days = opts.days ?? 7;
		if (!Number.isInteger(days) || days < 1 || days > 3650)
			throw new SandboxError('days must be a whole number from 1 to 3650');
		if (opts.endDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.endDate))
			throw new SandboxError('endDate must be YYYY-MM-DD');
		const end = Date.parse(
			`${opts.endDate ?? new Date(this.now()).toISOString().slice(0, 10)}T00:00:00Z`,
		);
		const rnd = mulberry32(opts.seed ?? 1);
		const pick = <T>(list: T[]): T => list[Math.floor(rnd() * list.length)];
		const out: ReboundReturn[] = [];
		for (let n = 0; n < opts.count; n++) {
			const order = pick(['WEB-1001', 'WEB-1002', 'WEB-1003', 'WEB-1004', 'WEB-1005']);
			const candidates = DEMO_ORDER_LINES.filter((l) => l.order === order);
			const dayMs = end - Math.floor(rnd() * days) * 86_400_000;
			const secs = Math.floor(rnd() * 86_400);
			const item = Array.from({ length: lines }, () => {
				const l = pick(candidates);
				return {
					sku_code: l.sku,
					sku_desc: l.desc,
					quantity: 1,
					price: l.price,
					final_disposition: opts.graded ? pick(BULK_GRADES) : null,
					reason: pick(BULK_REASONS),
				};
			});
			out.push(
				this.add({
					order_reference: order,
					date_added: reboundTime(dayMs + secs * 1000),
					name: `Bulk Customer ${n + 1}`,
					email: `bulk${n + 1}@example.com`,
					status: opts.graded ? 'graded' : 'in_transit',
					item,
				}),
			);
		}
		return out;
	}

	/** The return as returns/get gives it: wire fields only, the label when asked. */
	wire(r: ReboundReturn, withLabel: boolean): Record<string, unknown> {
		const copy = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
		for (const internal of ['status', 'sequence', 'history']) delete copy[internal];
		// no refund reported: no key at all (what a return without one looks like on the wire)
		if (r.refund_total === null) delete copy.refund_total;
		// the wire (the public tap's schema) carries ids, quantities and flags as strings
		copy.id = String(r.id);
		copy.item = r.item.map((it) => ({
			...it,
			quantity: String(it.quantity),
			non_returnable: it.non_returnable ? '1' : '0',
			reason: it.reason.map((x) => ({ ...x, additional: { ...x.additional } })),
		}));
		if (withLabel) copy.label = labelOf(r.id, this.fixture.labelBytes);
		return copy;
	}

	snapshot(): {
		returns: Array<Record<string, unknown>>;
		blocked: string[];
		failedLogins: Record<string, number>;
		nextId: number;
	} {
		return {
			returns: [...this.returns.values()].map((r) => ({
				...this.wire(r, false),
				status: r.status,
				sequence: r.sequence,
				history: r.history,
			})),
			blocked: [...this.blocked],
			failedLogins: Object.fromEntries(this.failedLogins),
			nextId: this.nextId,
		};
	}
}
