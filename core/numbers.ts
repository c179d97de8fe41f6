/**
 * Lenient whole numbers from values that may be of any type (a saved parameter, an option an
 * older workflow lacks, an expression's result): one rule for every layer that reads them.
 */

/** `n` kept within [min, max]. */
export function clamp(n: number, min: number, max: number): number {
	return Math.min(max, Math.max(min, n));
}

/** A whole number within [min, max]; anything that is not a finite number is the fallback. */
export function int(value: unknown, fallback: number, min: number, max: number): number {
	const n = Number(value);
	if (!Number.isFinite(n)) return fallback;
	return clamp(Math.floor(n), min, max);
}
