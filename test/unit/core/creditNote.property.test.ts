/**
 * Property tests over hundreds of random orders from a seeded PRNG: the
 * money invariants of credit-notes.md hold for every order, not just the
 * worked example.
 */
import {
	allocateProportionally,
	computeCredit,
	lineValuePence,
	paidPerLine,
	type CreditLine,
	type CreditOrder,
	type CreditOrderLine,
	type CreditRequestLine,
	type DeliveryPolicy,
	type RoundingRule,
} from '../../../core/creditNote';
import { expectOk, prng } from './creditNote.fixtures';

type Rng = ReturnType<typeof prng>;

const ORDERS = 300;

function randomOrder(rng: Rng, index: number): CreditOrder {
	const count = rng.int(1, 5);
	const lines: CreditOrderLine[] = [];
	for (let i = 0; i < count; i++) {
		const tiny = rng.chance(0.15);
		const qtySold = rng.int(1, tiny ? 4 : 9);
		const unitPricePence = tiny ? rng.int(1, 3) : rng.int(1, 60000);
		lines.push({
			lineId: `O${index}-L${i}`,
			// a repeated SKU now and then, to exercise filling several order lines
			sku: i > 0 && rng.chance(0.2) ? lines[0].sku : `SKU-${index}-${i}`,
			qtySold,
			qtyPreviouslyReturned: 0,
			unitPricePence,
			discountPercent: rng.pick([0, 0, 0, 5, 10, 12.5, 33.33, 50, 99.99, 100]),
			discountValuePence: rng.chance(0.2)
				? rng.int(0, Math.ceil((unitPricePence * qtySold) / 2))
				: 0,
			vatRatePercent: rng.pick([20, 20, 5, 0, 17.5]),
		});
	}
	const values = lines.map((l) => lineValuePence(l));
	const sum = values.reduce((a, b) => a + b, 0);
	return {
		orderRef: `R-${index}`,
		currency: rng.pick(['GBP', 'EUR', 'USD']),
		exchangeRate: rng.pick([1, 1.1734, 0.8571]),
		priceBasis: rng.pick(['gross', 'net'] as const),
		vatRounding: rng.pick(['line', 'total', undefined] as const),
		orderDiscountPence: rng.pick([0, rng.int(1, 50), rng.int(0, sum), rng.int(0, sum + 500)]),
		delivery: rng.chance(0.7)
			? { pricePence: rng.int(0, 999), vatRatePercent: rng.pick([20, 0, 5]) }
			: null,
		deliveryAlreadyRefunded: false,
		lines,
	};
}

/** The credit in the order's price basis: what the unit formula produces. */
function basisAmount(order: CreditOrder, line: CreditLine): number {
	return order.priceBasis === 'gross' ? line.grossPence : line.netPence;
}

/** half-up / half-even of num/den for num ≥ 0, in BigInt: an independent check of the VAT rule. */
function roundRef(num: bigint, den: bigint, rule: RoundingRule): bigint {
	const q = num / den;
	const r2 = 2n * (num - q * den);
	if (r2 > den || (r2 === den && (rule === 'half_up' || q % 2n === 1n))) return q + 1n;
	return q;
}

function rateFraction(rate: number): [bigint, bigint] {
	// rates in these tests have at most one decimal
	return [BigInt(Math.round(rate * 10)), 10n];
}

function expectedVat(
	amount: number,
	rate: number,
	basis: 'gross' | 'net',
	rule: RoundingRule,
): number {
	const [rn, rd] = rateFraction(rate);
	const den = basis === 'gross' ? 100n * rd + rn : 100n * rd;
	return Number(roundRef(BigInt(amount) * rn, den, rule));
}

/** Cheap assertions for tight loops: collect what is wrong, assert once at the end of a test. */
class Faults {
	readonly list: string[] = [];
	eq(what: string, actual: unknown, expected: unknown): void {
		if (this.list.length < 20 && JSON.stringify(actual) !== JSON.stringify(expected))
			this.list.push(`${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
	}
	ok(what: string, condition: boolean): void {
		if (this.list.length < 20 && !condition) this.list.push(what);
	}
}

function checkLines(
	f: Faults,
	order: CreditOrder,
	lines: CreditLine[],
	totals: { netPence: number; vatPence: number; grossPence: number },
	rule: RoundingRule,
): void {
	const at = order.orderRef;
	for (const l of lines) {
		f.eq(`${at} ${l.lineId} net + VAT = gross`, l.netPence + l.vatPence, l.grossPence);
		f.ok(`${at} ${l.lineId} net and VAT not negative`, l.netPence >= 0 && l.vatPence >= 0);
		if ((order.vatRounding ?? 'line') === 'line')
			f.eq(
				`${at} ${l.lineId} VAT`,
				l.vatPence,
				expectedVat(basisAmount(order, l), l.vatRatePercent, order.priceBasis, rule),
			);
	}
	if (order.vatRounding === 'total') {
		for (const rate of new Set(lines.map((l) => l.vatRatePercent))) {
			const same = lines.filter((l) => l.vatRatePercent === rate);
			const amount = same.reduce((s, l) => s + basisAmount(order, l), 0);
			f.eq(
				`${at} VAT total at ${rate} %`,
				same.reduce((s, l) => s + l.vatPence, 0),
				expectedVat(amount, rate, order.priceBasis, rule),
			);
		}
	}
	f.eq(`${at} totals`, totals, {
		netPence: lines.reduce((s, l) => s + l.netPence, 0),
		vatPence: lines.reduce((s, l) => s + l.vatPence, 0),
		grossPence: lines.reduce((s, l) => s + l.grossPence, 0),
	});
}

interface Step {
	request: CreditRequestLine[];
}

/**
 * Plays a sequence of returns against the order, carrying units returned and
 * the delivery flag between them as the Khaos order would. Returns the
 * cumulative credit per order line and how often delivery was credited.
 */
function play(
	f: Faults,
	order: CreditOrder,
	steps: Step[],
	policy: DeliveryPolicy,
	rule: RoundingRule,
	paid: number[],
) {
	const prev = order.lines.map(() => 0);
	const credited = order.lines.map(() => 0);
	let deliveryAlreadyRefunded = false;
	const deliverySteps: number[] = [];
	steps.forEach((step, s) => {
		const current: CreditOrder = {
			...order,
			deliveryAlreadyRefunded,
			lines: order.lines.map((l, i) => ({ ...l, qtyPreviouslyReturned: prev[i] })),
		};
		const r = computeCredit(current, step.request, { deliveryPolicy: policy, rounding: rule });
		if (!r.ok) {
			f.ok(`${order.orderRef} step ${s}: ${r.problems.map((p) => p.message).join('; ')}`, false);
			return;
		}
		f.eq(
			`${order.orderRef} currency and rate`,
			[r.currency, r.exchangeRate],
			[order.currency, order.exchangeRate],
		);
		checkLines(f, order, r.lines, r.totals, rule);
		for (const l of r.lines) {
			if (l.kind === 'delivery') {
				f.eq(
					`${order.orderRef} delivery amount`,
					basisAmount(order, l),
					order.delivery?.pricePence,
				);
				deliverySteps.push(s);
				continue;
			}
			const i = order.lines.findIndex((o) => o.lineId === l.lineId);
			f.eq(
				`${order.orderRef} ${l.lineId} units`,
				[l.fromUnit, l.toUnit],
				[prev[i], prev[i] + l.quantity],
			);
			prev[i] += l.quantity;
			credited[i] += basisAmount(order, l);
			// cumulative cap: never more than was paid for the line
			f.ok(
				`${order.orderRef} ${l.lineId} cumulative ${credited[i]} within 0..${paid[i]}`,
				credited[i] >= 0 && credited[i] <= paid[i],
			);
		}
		deliveryAlreadyRefunded ||= r.deliveryRefunded;
		f.eq(
			`${order.orderRef} deliveryRefunded flag`,
			r.deliveryRefunded,
			r.lines.some((l) => l.kind === 'delivery'),
		);
	});
	return { prev, credited, deliverySteps };
}

function oneAtATime(order: CreditOrder, rng: Rng): Step[] {
	const units = order.lines.flatMap((l) => Array.from({ length: l.qtySold }, () => l.lineId));
	// a random order of coming back
	for (let i = units.length - 1; i > 0; i--) {
		const j = rng.int(0, i);
		[units[i], units[j]] = [units[j], units[i]];
	}
	return units.map((lineId) => ({
		request: [{ sku: 'ignored-when-line-id-given', lineId, quantity: 1 }],
	}));
}

/** Random chunks by SKU (several request lines per return, duplicates aggregated), until everything is back. */
function chunked(order: CreditOrder, rng: Rng): Step[] {
	const left = new Map<string, number>();
	for (const l of order.lines) left.set(l.sku, (left.get(l.sku) ?? 0) + l.qtySold);
	const steps: Step[] = [];
	for (let guard = 0; guard < 200 && [...left.values()].some((q) => q > 0); guard++) {
		const request: CreditRequestLine[] = [];
		for (const [sku, q] of left) {
			if (q === 0 || !rng.chance(0.5)) continue;
			const take = rng.int(1, q);
			const split = take > 1 && rng.chance(0.3) ? rng.int(1, take - 1) : take;
			request.push({
				sku: rng.chance(0.3) ? ` ${sku.toLowerCase()} ` : sku,
				quantity: split,
				ref: `ref-${steps.length}-${request.length}`,
			});
			if (split < take) request.push({ sku, quantity: take - split });
			left.set(sku, q - take);
		}
		if (request.length > 0) steps.push({ request });
	}
	return steps;
}

describe('allocateProportionally (500 random splits)', () => {
	it('sums to the discount, each part is its quota rounded down or up by one penny, never above its value', () => {
		const rng = prng(20260101);
		const f = new Faults();
		let checked = 0;
		for (let c = 0; c < 500; c++) {
			const values = Array.from({ length: rng.int(1, 8) }, () =>
				rng.chance(0.1) ? 0 : rng.int(0, rng.pick([5, 1000, 10_000_000])),
			);
			const sum = values.reduce((a, b) => a + b, 0);
			const discount = sum === 0 ? 0 : rng.pick([0, 1, rng.int(0, sum), sum]);
			const parts = allocateProportionally(values, discount);
			f.eq(
				`split ${c} sum`,
				parts.reduce((a, b) => a + b, 0),
				discount,
			);
			f.eq(`split ${c} length`, parts.length, values.length);
			parts.forEach((p, i) => {
				const floor = Number((BigInt(discount) * BigInt(values[i])) / BigInt(Math.max(sum, 1)));
				f.ok(
					`split ${c} part ${i} = ${p}, quota floor ${floor}, value ${values[i]}`,
					(p === floor || p === floor + 1) && p <= values[i],
				);
			});
			f.eq(`split ${c} repeatable`, allocateProportionally(values, discount), parts);
			checked++;
		}
		expect(f.list).toEqual([]);
		expect(checked).toBe(500);
	});
});

describe(`random orders (${ORDERS})`, () => {
	const rng = prng(424242);
	const orders = Array.from({ length: ORDERS }, (_, i) => randomOrder(rng, i));
	const rules = orders.map(() => rng.pick(['half_up', 'half_up', 'half_even'] as const));
	const delivered = (order: CreditOrder) =>
		order.delivery !== null && order.delivery.pricePence > 0;

	it('the random orders cover the cases that matter', () => {
		const all = orders.flatMap((o) => o.lines);
		expect(all.some((l) => l.discountPercent === 100)).toBe(true);
		expect(all.some((l) => l.discountPercent === 12.5)).toBe(true);
		expect(all.some((l) => l.vatRatePercent === 0) && all.some((l) => l.vatRatePercent === 5)).toBe(
			true,
		);
		expect(orders.some((o) => new Set(o.lines.map((l) => l.sku)).size < o.lines.length)).toBe(true);
		expect(
			orders.some((o) => o.priceBasis === 'net') && orders.some((o) => o.vatRounding === 'total'),
		).toBe(true);
		expect(
			orders.some(
				(o) => o.orderDiscountPence > paidPerLine(o).reduce((s, p) => s + p.valuePence, 0),
			),
		).toBe(true);
		expect(rules.includes('half_even')).toBe(true);
	});

	it('order discount shares never exceed the line value and sum to the discount (capped at ΣV)', () => {
		const f = new Faults();
		orders.forEach((order, k) => {
			const paid = paidPerLine(order, rules[k]);
			const sumV = paid.reduce((s, p) => s + p.valuePence, 0);
			f.eq(
				`${order.orderRef} shares`,
				paid.reduce((s, p) => s + p.sharePence, 0),
				Math.min(order.orderDiscountPence, sumV),
			);
			for (const p of paid) {
				f.ok(
					`${order.orderRef} ${p.lineId} share ${p.sharePence} within 0..${p.valuePence}`,
					p.sharePence >= 0 && p.sharePence <= p.valuePence,
				);
				f.eq(`${order.orderRef} ${p.lineId} paid`, p.paidPence, p.valuePence - p.sharePence);
			}
		});
		expect(f.list).toEqual([]);
	});

	it('all at once credits exactly what was paid per line; net + VAT = gross on every line', () => {
		const f = new Faults();
		orders.forEach((order, k) => {
			const paid = paidPerLine(order, rules[k]).map((p) => p.paidPence);
			const request = order.lines.map((l) => ({
				sku: l.sku,
				lineId: l.lineId,
				quantity: l.qtySold,
			}));
			const { credited, prev, deliverySteps } = play(
				f,
				order,
				[{ request }],
				'whole_order',
				rules[k],
				paid,
			);
			f.eq(`${order.orderRef} credited`, credited, paid);
			f.eq(
				`${order.orderRef} units`,
				prev,
				order.lines.map((l) => l.qtySold),
			);
			f.eq(`${order.orderRef} delivery`, deliverySteps, delivered(order) ? [0] : []);
		});
		expect(f.list).toEqual([]);
	});

	it('one unit at a time in random order totals exactly all at once; delivery under always comes with the first return only', () => {
		const f = new Faults();
		let returns = 0;
		orders.forEach((order, k) => {
			const paid = paidPerLine(order, rules[k]).map((p) => p.paidPence);
			const steps = oneAtATime(order, rng);
			returns += steps.length;
			const { credited, deliverySteps } = play(f, order, steps, 'always', rules[k], paid);
			f.eq(`${order.orderRef} credited`, credited, paid);
			f.eq(`${order.orderRef} delivery`, deliverySteps, delivered(order) ? [0] : []);
		});
		expect(f.list).toEqual([]);
		expect(returns).toBeGreaterThan(ORDERS * 3);
	});

	it('random chunks by SKU (duplicates aggregated, several order lines filled in order) total exactly what was paid; whole_order delivery on the last return only', () => {
		const f = new Faults();
		orders.forEach((order, k) => {
			const paid = paidPerLine(order, rules[k]).map((p) => p.paidPence);
			const steps = chunked(order, rng);
			const { credited, prev, deliverySteps } = play(
				f,
				order,
				steps,
				'whole_order',
				rules[k],
				paid,
			);
			f.eq(
				`${order.orderRef} units`,
				prev,
				order.lines.map((l) => l.qtySold),
			);
			f.eq(`${order.orderRef} credited`, credited, paid);
			f.eq(`${order.orderRef} delivery`, deliverySteps, delivered(order) ? [steps.length - 1] : []);
			f.eq(
				`${order.orderRef} never`,
				play(f, order, steps, 'never', rules[k], paid).deliverySteps,
				[],
			);
		});
		expect(f.list).toEqual([]);
	});

	it('a partial return credits the unit slices floor(P·b/n) − floor(P·a/n), whatever the order of the request lines', () => {
		const f = new Faults();
		let checked = 0;
		orders.forEach((order, k) => {
			const paid = paidPerLine(order, rules[k]).map((p) => p.paidPence);
			const lines = order.lines.map((l) => ({
				...l,
				qtyPreviouslyReturned: rng.int(0, l.qtySold),
			}));
			const partial: CreditOrder = { ...order, lines };
			const request = lines
				.map((l) => ({
					sku: l.sku,
					lineId: l.lineId,
					quantity: rng.int(0, l.qtySold - l.qtyPreviouslyReturned),
				}))
				.filter((r) => r.quantity > 0);
			if (request.length === 0) return;
			const forward = expectOk(
				computeCredit(partial, request, { deliveryPolicy: 'never', rounding: rules[k] }),
			);
			const backward = expectOk(
				computeCredit(partial, [...request].reverse(), {
					deliveryPolicy: 'never',
					rounding: rules[k],
				}),
			);
			f.eq(`${order.orderRef} order of request lines`, backward.totals, forward.totals);
			for (const l of forward.lines) {
				const i = lines.findIndex((o) => o.lineId === l.lineId);
				const n = BigInt(lines[i].qtySold);
				const p = BigInt(paid[i]);
				const expected = (p * BigInt(l.toUnit)) / n - (p * BigInt(l.fromUnit)) / n;
				f.eq(`${order.orderRef} ${l.lineId} slice`, basisAmount(partial, l), Number(expected));
				checked++;
			}
		});
		expect(f.list).toEqual([]);
		expect(checked).toBeGreaterThan(ORDERS);
	});

	it('asking for one unit more than is left is always refused with no credit', () => {
		const f = new Faults();
		orders.forEach((order) => {
			const i = rng.int(0, order.lines.length - 1);
			const lines = order.lines.map((l) => ({
				...l,
				qtyPreviouslyReturned: rng.int(0, l.qtySold),
			}));
			const left = lines[i].qtySold - lines[i].qtyPreviouslyReturned;
			const r = computeCredit(
				{ ...order, lines },
				[{ sku: 'x', lineId: lines[i].lineId, quantity: left + 1 }],
				{ deliveryPolicy: 'always' },
			);
			f.eq(
				`${order.orderRef} refused`,
				r.ok ? 'credited' : r.problems.map((p) => [p.kind, p.lineId, p.requested, p.available]),
				[['quantity_exceeds_sold', lines[i].lineId, left + 1, left]],
			);
		});
		expect(f.list).toEqual([]);
	});
});
