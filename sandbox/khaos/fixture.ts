/** The Khaos sandbox fixture format (documented in README.md), validated with zod. */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FaultConfig } from '../shared/faults';

const money = z.string().regex(/^-?\d+(\.\d{1,2})?$/, 'expected a decimal amount like "12.34"');
const taxRate = z
	.number()
	.int()
	.refine((n) => [1, 2, 3, 4].includes(n), 'TAX_RATE code 1 standard, 2 zero, 3 exempt, 4 reduced');

export const FixtureSchema = z.object({
	description: z.string().optional(),
	soap: z
		.object({
			namespace: z.string().default('urn:KosWeb-IKosWeb'),
			exePath: z.string().startsWith('/').default('/KhaosKSD.exe'),
		})
		.default({}),
	auth: z
		.object({
			mode: z.enum(['none', 'basic', 'inRequest']).default('none'),
			username: z.string().optional(),
			password: z.string().optional(),
		})
		.default({ mode: 'none' }),
	sites: z.array(
		z.object({
			id: z.string().min(1),
			name: z.string(),
			locations: z
				.array(z.object({ id: z.string().min(1), name: z.string(), sellable: z.boolean() }))
				.default([]),
		}),
	),
	products: z.array(
		z.object({
			stockId: z.string().min(1),
			stockCode: z.string().min(1),
			associatedRef: z.string().nullable().default(null),
			description: z.string().default(''),
			sellPrice: money.nullable().default(null),
			sellPriceIsNet: z.boolean().default(false),
			buyPrice: money.optional(),
			barcodes: z.array(z.string()).default([]),
			stockType: z.string().optional(),
			taxRate: taxRate.default(1),
			deleted: z.boolean().default(false),
			discontinued: z.boolean().default(false),
			stockControlled: z.boolean().default(true),
			web: z.boolean().default(true),
			runToZero: z.boolean().default(false),
			safeLevel: z.number().int().default(0),
			minLevel: z.number().int().default(0),
			leadTime: z.number().int().default(0),
		}),
	),
	stock: z
		.array(
			z.object({
				stockCode: z.string(),
				siteId: z.string(),
				locationId: z.string(),
				level: z.number().int(),
			}),
		)
		.default([]),
	customers: z
		.array(z.object({ urn: z.string().min(1), name: z.string().default('') }))
		.default([]),
	returnReasons: z
		.array(
			z.object({
				id: z.string().min(1),
				code: z.string(),
				description: z.string().default(''),
				restock: z.boolean(),
			}),
		)
		.default([]),
	orders: z
		.array(
			z.object({
				orderCode: z.string().min(1),
				associatedRef: z.string().max(50),
				orderDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD'),
				urn: z.string(),
				siteId: z.string(),
				currency: z.string().length(3).default('GBP'),
				exchangeRate: z.number().positive().default(1),
				priceBasis: z.enum(['gross', 'net']).default('gross'),
				vatRounding: z.enum(['line', 'total']).default('line'),
				keycode: z.string().nullable().default(null),
				orderDiscount: money.default('0.00'),
				delivery: z
					.object({ net: money, tax: money, gross: money, taxRate: taxRate.default(1) })
					.nullable()
					.default(null),
				deliveryRefunded: z.boolean().default(false),
				complete: z.boolean().default(true),
				cancelled: z.boolean().default(false),
				lines: z.array(
					z.object({
						lineId: z.string().min(1),
						stockCode: z.string().min(1),
						description: z.string().optional(),
						qty: z.number().int().positive(),
						qtyReturned: z.number().int().nonnegative().default(0),
						price: money,
						discountPercent: z.number().min(0).max(100).default(0),
						discountValue: money.default('0.00'),
						taxRate: taxRate.default(1),
					}),
				),
			}),
		)
		.default([]),
	faults: z.custom<FaultConfig>((v) => typeof v === 'object' && v !== null).optional(),
});

export type Fixture = z.infer<typeof FixtureSchema>;
export type FixtureInput = z.input<typeof FixtureSchema>;

export const DEFAULT_FIXTURE_PATH = path.join(__dirname, '..', 'fixtures', 'khaos-default.json');

export function loadFixture(source?: string | object): Fixture {
	let raw: unknown;
	let label = 'fixture object';
	if (source === undefined || typeof source === 'string') {
		const file = source ?? DEFAULT_FIXTURE_PATH;
		label = file;
		raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
	} else {
		raw = JSON.parse(JSON.stringify(source)) as unknown;
	}
	const parsed = FixtureSchema.safeParse(raw);
	if (!parsed.success) {
		const i = parsed.error.issues[0];
		throw new Error(
			`Khaos fixture ${label} is invalid at ${i.path.join('.') || '(root)'}: ${i.message}`,
		);
	}
	return parsed.data;
}
