/**
 * Lenient readers for what n8n hands a node: credential data and parameters that an older saved
 * workflow or credential may lack, hold as another type, or carry as an expression's result. One
 * place for the fallbacks, so every node reads an empty value, a number or a list the same way.
 */

/** A value as text: strings as they are, numbers and booleans stringified, nothing as the fallback. */
export function str(value: unknown, fallback = ''): string {
	return typeof value === 'string'
		? value
		: value === undefined || value === null
			? fallback
			: String(value);
}

/** Trimmed, non-empty text, or null. */
export function textOrNull(value: unknown): string | null {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** `clamp` and `int` (lenient whole numbers) live in core, for the transports' option readers too. */
export { clamp, int } from '../../core/numbers';

/** `items` in consecutive slices of at most `size` (at least 1). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
	const n = Math.max(1, Math.floor(size) || 1);
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
	return out;
}

/** The secrets to scrub from any text (core/exceptions redactSecrets): the non-empty ones. */
export function secretsOf(...values: Array<string | null | undefined>): string[] {
	return values.filter((s): s is string => typeof s === 'string' && s.length > 0);
}

/** A JSON parameter that may hold an array, a JSON string of one, or nothing: the array, else []. */
export function jsonList(value: unknown): unknown[] {
	if (Array.isArray(value)) return value;
	if (typeof value === 'string' && value.trim() !== '') {
		try {
			const parsed = JSON.parse(value) as unknown;
			return Array.isArray(parsed) ? parsed : [];
		} catch {
			return [];
		}
	}
	return [];
}

/** Split a comma/newline separated list of codes, trimmed, empties dropped (arrays are flattened). */
export function splitCodes(value: unknown): string[] {
	if (Array.isArray(value)) return value.flatMap((v) => splitCodes(v));
	if (typeof value !== 'string' && typeof value !== 'number') return [];
	return String(value)
		.split(/[,\n]/)
		.map((s) => s.trim())
		.filter((s) => s !== '');
}

/** A resourceLocator value ({ mode, value }) or a plain value, as trimmed text ('' when empty). */
export function locatorText(value: unknown): string {
	if (value && typeof value === 'object' && 'value' in value)
		return str((value as { value?: unknown }).value).trim();
	return str(value).trim();
}
