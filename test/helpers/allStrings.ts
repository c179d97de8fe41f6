/** Every string value inside a JSON-like value (arrays and objects walked to the end), in order. */
export function allStrings(value: unknown, out: string[] = []): string[] {
	if (typeof value === 'string') out.push(value);
	else if (Array.isArray(value)) value.forEach((v) => allStrings(v, out));
	else if (value && typeof value === 'object')
		Object.values(value).forEach((v) => allStrings(v, out));
	return out;
}
