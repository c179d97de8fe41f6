/**
 * The demo's scenario: which ReBound returns are driven through the intake
 * webhook and what must come out of each (docs/demo.md). The default scenario
 * is spelled out here, against the default sandbox fixtures, so `--once`
 * fails when an outcome is wrong; `--scenario <file>` replaces it with a
 * client's own (same format, validated with zod).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { EXCEPTION_KINDS } from '../../core/exceptions';
import { formatPence, parseToPence } from '../../core/money';

const pounds = z
	.string()
	.regex(/^\d{1,9}\.\d{2}$/, 'expected pounds and pence like "24.13"')
	.transform((s) => parseToPence(s) as number);

const ExpectedStockSchema = z
	.object({
		sku: z.string().min(1),
		siteId: z.string().min(1),
		locationId: z.string().min(1),
		/** Units moved into that site/location by this return (negative: taken out). */
		delta: z
			.number()
			.int()
			.refine((n) => n !== 0, 'delta 0 is not a move; leave the line out'),
	})
	.strict();

/**
 * One line of the credit note RB-<id> as the Khaos sandbox holds it: a returned product
 * (`sku`, `quantity`) or the delivery line (`"delivery": true`), in £ with VAT included in gross.
 */
export const ExpectedCreditLineSchema = z
	.object({
		sku: z.string().min(1).optional(),
		quantity: z.number().int().positive().optional(),
		delivery: z.literal(true).optional(),
		gross: pounds,
		vat: pounds,
		net: pounds,
	})
	.strict()
	.superRefine((l, ctx) => {
		const issue = (message: string, path: string[] = []) =>
			ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
		if (l.delivery) {
			if (l.sku !== undefined || l.quantity !== undefined)
				issue('the delivery line has no sku or quantity');
		} else {
			if (l.sku === undefined) issue('a product line needs a sku (or "delivery": true)', ['sku']);
			if (l.quantity === undefined) issue('a product line needs a quantity', ['quantity']);
		}
		if (l.gross !== l.vat + l.net) issue('gross must equal vat + net');
	});
export type ExpectedCreditLine = z.output<typeof ExpectedCreditLineSchema>;

const ExpectedCreditSchema = z
	.object({
		gross: pounds,
		vat: pounds,
		net: pounds,
		/** Optional: exactly these lines (products, and the delivery line when credited), in any order. */
		lines: z.array(ExpectedCreditLineSchema).min(1).optional(),
	})
	.strict()
	.superRefine((c, ctx) => {
		const issue = (message: string, path: string[] = []) =>
			ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
		if (c.gross !== c.vat + c.net) issue('gross must equal vat + net');
		if (!c.lines) return;
		if (c.lines.filter((l) => l.delivery).length > 1) issue('one delivery line at most', ['lines']);
		for (const field of ['gross', 'vat', 'net'] as const) {
			const sum = c.lines.reduce((n, l) => n + l[field], 0);
			if (sum !== c[field])
				issue(
					`the lines' ${field} add up to ${formatPence(sum)}, the credit note's ${field} is ${formatPence(c[field])}`,
					['lines'],
				);
		}
	});

/**
 * An exception expected for the return: its kind, or `{ kind, differencePence }` to check the
 * difference the exception row's details record too (credit_mismatch: refund − credit, in pence).
 */
export const ExpectedExceptionSchema = z.union([
	z.enum(EXCEPTION_KINDS),
	z
		.object({
			kind: z.enum(EXCEPTION_KINDS),
			differencePence: z.number().int().optional(),
		})
		.strict(),
]);
export type ExpectedException = z.output<typeof ExpectedExceptionSchema>;

/** What finance decides on a held credit's review row (docs/credit-notes.md "Credit policy"). */
export const FINANCE_DECISIONS = ['release', 'release_without_held', 'reject'] as const;
export type FinanceDecision = (typeof FINANCE_DECISIONS)[number];

/**
 * The finance step the demo performs for a held return, as finance would: once its credit reviews
 * row is `pending`, `decision` (with `decidedBy`, `note`) is set through n8n's public API row update;
 * the finance review workflow (every minute) then acts on it.
 */
export const FinanceStepSchema = z
	.object({
		decision: z.enum(FINANCE_DECISIONS),
		decidedBy: z.string().min(1).max(100),
		note: z.string().max(500).optional(),
	})
	.strict();
export type FinanceStep = z.output<typeof FinanceStepSchema>;

/** Statuses of a credit reviews row. */
export const REVIEW_STATUSES = ['pending', 'released', 'rejected', 'failed'] as const;

/**
 * The return's row in the credit reviews Data Table at the end: its status, the credit as computed
 * (`gross`, held lines included), optionally the value without the held lines (null: none, the held
 * lines were all there was), the decision and the gross the credit note was raised for.
 */
export const ExpectedReviewSchema = z
	.object({
		status: z.enum(REVIEW_STATUSES),
		gross: pounds,
		withoutHeldGross: pounds.nullable().optional(),
		decision: z.enum(FINANCE_DECISIONS).optional(),
		creditGross: pounds.optional(),
	})
	.strict();
export type ExpectedReview = z.output<typeof ExpectedReviewSchema>;

/** Final inbox statuses a scenario can expect (credit_review: held, no finance step; credit_rejected: finance rejected). */
export const EXPECTED_STATUSES = ['done', 'exception', 'credit_review', 'credit_rejected'] as const;

export const ScenarioReturnSchema = z
	.object({
		/** ReBound return id in the ReBound fixture. */
		returnId: z
			.union([z.string(), z.number()])
			.transform((v) => String(v))
			.refine((v) => /^\d+$/.test(v), 'expected a numeric ReBound return id'),
		/** What the return shows, for people reading the summary. */
		label: z.string().min(1),
		/**
		 * Final dispositions to set in the ReBound sandbox before the event is
		 * sent ({"<sku or 1-based line>": "<disposition>"}); a return not graded
		 * yet is walked to graded. Omit for returns graded in the fixture.
		 */
		grade: z.record(z.string()).optional(),
		/** Finance's decision on the return's held credit, made by the demo once its review row is pending. */
		finance: FinanceStepSchema.optional(),
		expect: z
			.object({
				/** The inbox row's final status. */
				status: z.enum(EXPECTED_STATUSES),
				/** Exactly these stock moves (Khaos adjustments referenced RB-<id>-…); [] = nothing moves. */
				stock: z.array(ExpectedStockSchema).default([]),
				/** The credit note RB-<id> in £ (VAT included in gross), or null for none. */
				creditNote: ExpectedCreditSchema.nullable().default(null),
				/**
				 * Exceptions recorded for this return (any order; rows of status `notice` are not
				 * counted here): kinds, or `{ kind, differencePence }`; [] = none.
				 */
				exceptions: z.array(ExpectedExceptionSchema).default([]),
				/** Notice kinds recorded for this return (exception rows of status `notice`); [] = none. */
				notices: z.array(z.enum(EXCEPTION_KINDS)).default([]),
				/** The return's credit reviews row (a held credit), or null (default) for none. */
				review: ExpectedReviewSchema.nullable().default(null),
			})
			.strict(),
	})
	.strict()
	.superRefine((r, ctx) => {
		const issue = (message: string, path: Array<string | number>) =>
			ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
		const review = r.expect.review;
		if (r.finance) {
			const d = r.finance.decision;
			if (!review)
				issue('a finance decision needs expect.review (the credit reviews row it decides)', [
					'expect',
					'review',
				]);
			else {
				if (review.status === 'pending')
					issue(`finance decides it (${d}): the review cannot stay pending`, [
						'expect',
						'review',
						'status',
					]);
				if (review.decision !== undefined && review.decision !== d)
					issue(`finance decides ${d}, the review expects ${review.decision}`, [
						'expect',
						'review',
						'decision',
					]);
			}
			if (r.expect.status === 'credit_review')
				issue(`finance decides it (${d}): the return does not stay credit_review`, [
					'expect',
					'status',
				]);
		} else if (review && review.status !== 'pending')
			issue(
				`review ${review.status} needs a decision: give returns[].finance (the demo decides as finance)`,
				['finance'],
			);
	});

export const ScenarioSchema = z
	.object({
		description: z.string().optional(),
		/** Client name used for the import (credentials, tables, workflow names). */
		client: z.string().min(1).max(60).default('Demo'),
		/**
		 * The client's mapping rows (docs/mapping.md; the import's values-file
		 * `mapping` section); absent: the standard demo mapping.
		 */
		mapping: z
			.object({
				dispositions: z.array(z.record(z.unknown())).default([]),
				reasons: z.array(z.record(z.unknown())).default([]),
				skuAliases: z.array(z.record(z.unknown())).default([]),
			})
			.strict()
			.optional(),
		/** Finance settings (the values file's `finance` section without batching); absent: whole-order delivery, half-up, 1p. */
		finance: z
			.object({
				deliveryPolicy: z.enum(['never', 'whole_order', 'always']).optional(),
				rounding: z.enum(['half_up', 'half_even']).optional(),
				tolerancePencePerLine: z.number().int().min(0).optional(),
				manualAuthCode: z.string().min(1).max(30).optional(),
			})
			.strict()
			.optional(),
		returns: z.array(ScenarioReturnSchema).min(1).max(200),
	})
	.strict()
	.superRefine((s, ctx) => {
		const seen = new Set<string>();
		s.returns.forEach((r, i) => {
			if (seen.has(r.returnId))
				ctx.addIssue({
					code: z.ZodIssueCode.custom,
					path: ['returns', i, 'returnId'],
					message: `return ${r.returnId} is listed twice`,
				});
			seen.add(r.returnId);
		});
	});

export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioReturn = Scenario['returns'][number];

/**
 * The default scenario, against sandbox/fixtures/*-default.json and the
 * standard demo mapping (processor, whole-order delivery policy, half-up).
 * Credits follow docs/credit-notes.md (order WEB-1001 is its worked example).
 */
export const DEFAULT_SCENARIO_INPUT: ScenarioInput = {
	description:
		'Default demo: the graded returns of sandbox/fixtures/rebound-default.json against khaos-default.json',
	client: 'Demo',
	returns: [
		{
			returnId: '5001',
			label:
				'restock (Grade A); partial return with discounts: jeans 1 of 2 on WEB-1001 (10% line discount, £10 order promotion)',
			expect: {
				status: 'done',
				stock: [{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'A1', delta: 1 }],
				// docs/credit-notes.md worked example: jeans unit 1 of 2, 48.26 × 1/2; VAT 24.13 × 20/120
				creditNote: {
					gross: '24.13',
					vat: '4.02',
					net: '20.11',
					lines: [{ sku: 'JEANS-BLU-32', quantity: 1, gross: '24.13', vat: '4.02', net: '20.11' }],
				},
				exceptions: [],
			},
		},
		{
			returnId: '5002',
			label: 'quarantine (Damaged, Arrived damaged)',
			expect: {
				status: 'done',
				stock: [{ sku: 'HOODIE-GRY-L', siteId: '1', locationId: 'QUAR', delta: 1 }],
				// no promotion on WEB-1002; VAT 55.00 × 20/120 = 9.1667; the mugs are still out: no delivery
				creditNote: {
					gross: '55.00',
					vat: '9.17',
					net: '45.83',
					lines: [{ sku: 'HOODIE-GRY-L', quantity: 1, gross: '55.00', vat: '9.17', net: '45.83' }],
				},
				exceptions: [],
			},
		},
		{
			returnId: '5003',
			label: 'unmapped disposition (Mystery Grade)',
			expect: {
				status: 'exception',
				stock: [],
				creditNote: null,
				exceptions: ['unmapped_disposition'],
			},
		},
		{
			returnId: '5004',
			label: 'archived SKU (SCARF-OLD on WEB-1003)',
			expect: { status: 'exception', stock: [], creditNote: null, exceptions: ['archived_sku'] },
		},
		{
			returnId: '5005',
			label:
				'partial return, order promotion apportioned: T-shirt of WEB-1001 (Grade B → returns bay)',
			expect: {
				status: 'done',
				stock: [{ sku: 'TSHIRT-RED-M', siteId: '1', locationId: 'RET', delta: 1 }],
				// 40.00 less its promotion share 4.26; VAT 35.74 × 20/120 = 5.9567; one pair still out: no delivery
				creditNote: {
					gross: '35.74',
					vat: '5.96',
					net: '29.78',
					lines: [{ sku: 'TSHIRT-RED-M', quantity: 1, gross: '35.74', vat: '5.96', net: '29.78' }],
				},
				exceptions: [],
			},
		},
		{
			returnId: '5006',
			label: 'unmapped reason (Not as described) on a mixed-VAT return: the whole return waits',
			expect: { status: 'exception', stock: [], creditNote: null, exceptions: ['unmapped_reason'] },
		},
		{
			returnId: '5007',
			label: 'unknown order (WEB-9999): nothing moves, finance gets the exception, no credit note',
			expect: {
				status: 'exception',
				// docs/exceptions.md: order_not_found — nothing moved (Apply Stock Moves checks the order first)
				stock: [],
				creditNote: null,
				exceptions: ['order_not_found'],
			},
		},
		{
			returnId: '5010',
			label:
				"refund differs from the credit: the second pair of jeans on WEB-1001 (Grade B), the order's last unit, so with the delivery; ReBound refunded £27.00",
			expect: {
				status: 'done',
				stock: [{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'RET', delta: 1 }],
				// jeans unit 2 of 2: 48.26 − 24.13; whole-order policy: the delivery 4.95 (VAT 0.825 → 0.83) too
				creditNote: {
					gross: '29.08',
					vat: '4.85',
					net: '24.23',
					lines: [
						{ sku: 'JEANS-BLU-32', quantity: 1, gross: '24.13', vat: '4.02', net: '20.11' },
						{ delivery: true, gross: '4.95', vat: '0.83', net: '4.12' },
					],
				},
				// refund 27.00 − credit 29.08, beyond the 1p tolerance of one line: reported, not absorbed
				exceptions: [{ kind: 'credit_mismatch', differencePence: -208 }],
			},
		},
		{
			returnId: '5011',
			label:
				'a held missing item, released by finance: WEB-1006, the mug back (Grade A, discontinued in Khaos) and the hoodie graded Missing (credit hold)',
			// docs/credit-notes.md "Credit policy": finance sets decision on the pending review row
			finance: {
				decision: 'release',
				decidedBy: 'Fran (finance)',
				note: "the courier's photo shows the hoodie in the parcel",
			},
			expect: {
				status: 'done',
				// the stock moves at once by the grade; the Missing hoodie moves nothing
				stock: [{ sku: 'MUG-WHT', siteId: '1', locationId: 'A1', delta: 1 }],
				// released as computed, held line included (worked example (a) of credit-notes.md, grades
				// swapped): hoodie 55.00 (VAT 9.1667) + mug 8.00 (VAT 1.3333); one mug still out: no delivery
				creditNote: {
					gross: '63.00',
					vat: '10.50',
					net: '52.50',
					lines: [
						{ sku: 'HOODIE-GRY-L', quantity: 1, gross: '55.00', vat: '9.17', net: '45.83' },
						{ sku: 'MUG-WHT', quantity: 1, gross: '8.00', vat: '1.33', net: '6.67' },
					],
				},
				exceptions: [],
				// the held credit for finance; the discontinued mug (let through, restocked) for ops
				notices: ['credit_held', 'discontinued_sku'],
				// 63.00 as computed, 8.00 (the mug) without the held hoodie; ReBound refunded 63.00
				review: {
					status: 'released',
					gross: '63.00',
					withoutHeldGross: '8.00',
					decision: 'release',
					creditGross: '63.00',
				},
			},
		},
		{
			returnId: '5012',
			label:
				'an exchange beside a refund: WEB-1007, the jeans for a refund and the T-shirt exchanged (both Grade A): the jeans only are credited',
			expect: {
				status: 'done',
				// an exchanged line's stock still moves by its grade
				stock: [
					{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'A1', delta: 1 },
					{ sku: 'TSHIRT-RED-M', siteId: '1', locationId: 'A1', delta: 1 },
				],
				// no promotion on WEB-1007: jeans 30.00, VAT 30.00 × 20/120 = 5.00; one pair still out: no delivery
				creditNote: {
					gross: '30.00',
					vat: '5.00',
					net: '25.00',
					lines: [{ sku: 'JEANS-BLU-32', quantity: 1, gross: '30.00', vat: '5.00', net: '25.00' }],
				},
				exceptions: [],
				notices: ['exchange_recorded'],
			},
		},
	],
};

export function formatZodIssues(error: z.ZodError): string {
	return error.issues
		.map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`)
		.join('; ');
}

export function parseScenario(raw: unknown, label = 'scenario'): Scenario {
	const parsed = ScenarioSchema.safeParse(raw);
	if (!parsed.success) throw new Error(`${label} is invalid: ${formatZodIssues(parsed.error)}`);
	return parsed.data;
}

export const DEFAULT_SCENARIO: Scenario = parseScenario(DEFAULT_SCENARIO_INPUT, 'default scenario');

export function loadScenario(file: string): Scenario {
	let text: string;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (e) {
		throw new Error(`--scenario ${file}: cannot read it (${(e as Error).message})`);
	}
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch (e) {
		throw new Error(`--scenario ${file}: not JSON (${(e as Error).message})`);
	}
	return parseScenario(raw, `--scenario ${file}`);
}

/** Checks every scenario return exists in the ReBound fixture (by id); names the missing ones. */
export function checkScenarioAgainstFixture(
	scenario: Scenario,
	fixtureReturnIds: string[],
	fixtureLabel: string,
): void {
	const have = new Set(fixtureReturnIds);
	const missing = scenario.returns.filter((r) => !have.has(r.returnId)).map((r) => r.returnId);
	if (missing.length)
		throw new Error(
			`scenario returns not in the ReBound fixture ${fixtureLabel}: ${missing.join(', ')}`,
		);
}

// ------------------------------------------------------------------ fixtures

export interface FixtureChoice {
	khaos: string;
	rebound: string;
}

export const FIXTURES_DIR = path.resolve(__dirname, '..', '..', 'sandbox', 'fixtures');
export const DEFAULT_FIXTURES: FixtureChoice = {
	khaos: path.join(FIXTURES_DIR, 'khaos-default.json'),
	rebound: path.join(FIXTURES_DIR, 'rebound-default.json'),
};

/** Which sandbox a fixture JSON is for: ReBound fixtures have `returns`, Khaos fixtures `sites` + `products`. */
export function fixtureKind(raw: unknown): 'khaos' | 'rebound' | null {
	if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
	const o = raw as Record<string, unknown>;
	if (Array.isArray(o.sites) && Array.isArray(o.products)) return 'khaos';
	if (Array.isArray(o.returns)) return 'rebound';
	return null;
}

/**
 * `--fixture` values (each a folder or a file, comma-separated lists allowed)
 * → one Khaos and one ReBound fixture; the one not given stays the default.
 * In a folder, `khaos*.json` and `rebound*.json` are taken (exactly one each
 * at most). A file's kind is read from its content.
 */
export function resolveFixtures(
	values: string[],
	readJson: (file: string) => unknown = (f) => JSON.parse(fs.readFileSync(f, 'utf8')),
): FixtureChoice {
	const chosen: Partial<FixtureChoice> = {};
	const take = (kind: 'khaos' | 'rebound', file: string) => {
		if (chosen[kind] && chosen[kind] !== file)
			throw new Error(`--fixture: two ${kind} fixtures given (${chosen[kind]} and ${file})`);
		chosen[kind] = file;
	};
	const files: string[] = [];
	for (const v of values
		.flatMap((x) => x.split(','))
		.map((x) => x.trim())
		.filter(Boolean)) {
		const p = path.resolve(v);
		let stat: fs.Stats;
		try {
			stat = fs.statSync(p);
		} catch {
			throw new Error(`--fixture ${v}: no such file or folder`);
		}
		if (stat.isDirectory()) {
			const json = fs.readdirSync(p).filter((f) => /^(khaos|rebound).*\.json$/i.test(f));
			if (json.length === 0)
				throw new Error(`--fixture ${v}: the folder has no khaos*.json or rebound*.json`);
			for (const kind of ['khaos', 'rebound'] as const) {
				const mine = json.filter((f) => f.toLowerCase().startsWith(kind));
				if (mine.length > 1)
					throw new Error(
						`--fixture ${v}: more than one ${kind} fixture in the folder (${mine.join(', ')}); name the file`,
					);
			}
			files.push(...json.map((f) => path.join(p, f)));
		} else files.push(p);
	}
	for (const f of files) {
		let raw: unknown;
		try {
			raw = readJson(f);
		} catch (e) {
			throw new Error(`--fixture ${f}: not readable JSON (${(e as Error).message})`);
		}
		const kind = fixtureKind(raw);
		if (!kind)
			throw new Error(
				`--fixture ${f}: neither a Khaos fixture (sites, products) nor a ReBound fixture (returns)`,
			);
		take(kind, f);
	}
	return {
		khaos: chosen.khaos ?? DEFAULT_FIXTURES.khaos,
		rebound: chosen.rebound ?? DEFAULT_FIXTURES.rebound,
	};
}
