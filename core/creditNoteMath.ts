/**
 * Exact integer arithmetic for credit notes. Every product that could pass
 * 2^53 (pence × units × percent scale) is done in BigInt; results are turned
 * back into numbers only after checking they are safe integers.
 */

export type Rounding = 'half_up' | 'half_even';

/** A non-negative decimal as an exact fraction num/den (den a power of ten). */
export interface DecimalFraction {
	num: bigint;
	den: bigint;
}

/**
 * The exact decimal a JavaScript number prints as (12.5 → 125/10,
 * 33.33 → 3333/100, 1e-7 → 1/10000000). Uses the shortest round-trip text,
 * so the fraction is the decimal the user typed, not the binary float.
 */
export function decimalFraction(value: number): DecimalFraction {
	if (!Number.isFinite(value) || value < 0)
		throw new RangeError(`not a non-negative finite number: ${String(value)}`);
	const match = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(value));
	if (!match) throw new RangeError(`cannot read ${String(value)} as a decimal`);
	const [, whole, fraction = '', exponent = '0'] = match;
	const digits = BigInt(whole + fraction);
	const scale = fraction.length - Number(exponent);
	if (scale >= 0) return { num: digits, den: 10n ** BigInt(scale) };
	return { num: digits * 10n ** BigInt(-scale), den: 1n };
}

/** numerator / denominator rounded to an integer: half up (away from zero) or half to even. */
export function roundDiv(
	numerator: bigint,
	denominator: bigint,
	rule: Rounding = 'half_up',
): bigint {
	if (denominator <= 0n) throw new RangeError('denominator must be positive');
	const negative = numerator < 0n;
	const n = negative ? -numerator : numerator;
	let q = n / denominator;
	const twice = 2n * (n - q * denominator);
	if (twice > denominator || (twice === denominator && (rule === 'half_up' || q % 2n === 1n)))
		q += 1n;
	return negative ? -q : q;
}

/** floor(a / b) for a ≥ 0, b > 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
	if (b <= 0n) throw new RangeError('divisor must be positive');
	if (a >= 0n) return a / b;
	return -((-a + b - 1n) / b);
}

/**
 * Largest-remainder split of `discount` over `values` in proportion: each
 * part first gets floor(discount × v / Σv); the pennies left go one each to
 * the largest remainders, ties to the earlier index. Sums exactly to
 * `discount` unless Σv is 0 (then nothing can be shared and all parts are 0).
 * Values and discount must be non-negative.
 */
export function allocateBig(values: readonly bigint[], discount: bigint): bigint[] {
	const total = values.reduce((sum, v) => sum + v, 0n);
	if (total === 0n || discount === 0n) return values.map(() => 0n);
	const parts = values.map((v) => (discount * v) / total);
	const remainders = values.map((v, i) => ({
		index: i,
		remainder: discount * v - parts[i] * total,
	}));
	let left = discount - parts.reduce((sum, p) => sum + p, 0n);
	remainders.sort((x, y) =>
		x.remainder === y.remainder ? x.index - y.index : x.remainder > y.remainder ? -1 : 1,
	);
	// left < values.length because each remainder is below `total`
	for (const { index } of remainders) {
		if (left <= 0n) break;
		parts[index] += 1n;
		left -= 1n;
	}
	return parts;
}

/** Convert to a number, refusing anything beyond ±2^53 − 1. */
export function toSafeNumber(value: bigint, what: string): number {
	if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
		throw new RangeError(`${what} is too large to represent exactly (${value.toString()} pence)`);
	}
	return Number(value);
}
