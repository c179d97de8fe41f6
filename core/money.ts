/**
 * Money is integer pence everywhere in the core. Decimal strings from the
 * outside world ("19.99", "4.9", "12") are converted exactly, never through
 * floating point multiplication.
 */

/** Parse a decimal amount in major units ("19.99", 19.99, "-0.5") into integer pence; null if not a valid amount. */
export function parseToPence(value: unknown): number | null {
	if (typeof value === 'number') {
		if (!Number.isFinite(value)) return null;
		value = value.toFixed(6);
	}
	if (typeof value !== 'string') return null;
	const text = value.trim();
	const match = /^(-)?(\d{1,12})(?:\.(\d+))?$/.exec(text);
	if (!match) return null;
	const [, sign, whole, fraction = ''] = match;
	const padded = (fraction + '000').slice(0, 3);
	// round half up on the third decimal place
	let pence = Number(whole) * 100 + Number(padded.slice(0, 2));
	if (Number(padded[2]) >= 5) pence += 1;
	// anything beyond the third decimal only matters when the third is exactly 4 and the rest > 0: ignore (sub-milli-penny)
	return sign ? -pence : pence;
}

/** Format integer pence as a plain decimal string with two places ("-12.05"). */
export function formatPence(pence: number): string {
	const sign = pence < 0 ? '-' : '';
	const abs = Math.abs(pence);
	return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Round half up (away from zero for positive numbers) a non-negative rational numerator/denominator. */
export function roundHalfUpDiv(numerator: number, denominator: number): number {
	if (denominator <= 0) throw new RangeError('denominator must be positive');
	const sign = numerator < 0 ? -1 : 1;
	const n = Math.abs(numerator);
	const q = Math.floor(n / denominator);
	const r = n - q * denominator;
	return sign * (r * 2 >= denominator ? q + 1 : q);
}
