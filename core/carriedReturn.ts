/**
 * A return passed on with its problems ("every problem of a return in one pass").
 *
 * In pass-on mode Returns Mapping and Validate SKUs do not stop a return at its first problem: it
 * goes on to the stock step carrying `problems` (the exceptions found so far) and lines that can
 * still be checked (the Khaos stock code, SKU alias applied, and the quantity), so the stock step
 * can check its order too and report every problem at once. Safety by construction:
 * - a carried return has at least one blocking problem (notices are never carried);
 * - a line that did not map has a PartialMapping, which can never pass as a LineMapping;
 * - MappedReturnSchema refuses any item that carries problems, so no node that moves stock or
 *   credits can take a carried return for a mapped one; applyReturnStock takes it as its own kind
 *   of input and never makes a move request for it.
 * Carried problems hold no payload (no return nested in its own problems); when they leave as
 * exception items, each gets the return without its problems as payload, replayable from the start.
 */
import { z } from 'zod';
import { EXCEPTION_KINDS, type ExceptionStage, type ReturnException } from './exceptions';
import {
	CarriedLineSchema,
	unmappedToExceptions,
	type CarriedLine,
	type MapResult,
} from './mapping';
import {
	NormalisedReturnSchema,
	validateWith,
	type NormalisedReturn,
	type ValidationResult,
} from './returnModel';

const nullableText = z.string().nullable();
const STAGES = [
	'trigger',
	'mapping',
	'validate',
	'stock',
	'return',
	'credit',
	'reconcile',
	'processor',
] as const satisfies readonly ExceptionStage[];

/** A blocking exception as it rides on a carried return. */
export const CarriedProblemSchema = z
	.object({
		exception: z.literal(true),
		kind: z.enum(EXCEPTION_KINDS),
		title: z.string(),
		owner: z.enum(['ops', 'finance', 'tech']),
		stage: z.enum(STAGES),
		returnId: nullableText,
		displayId: nullableText,
		orderReference: nullableText,
		sku: nullableText,
		lineId: nullableText,
		code: nullableText,
		field: nullableText,
		message: z.string(),
		action: z.string(),
		key: z.string().min(1),
		occurredAt: z.string(),
		details: z.record(z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
		payload: nullableText.default(null),
		notice: z
			.literal(false, {
				errorMap: () => ({ message: 'a notice never blocks a return, so it is not carried' }),
			})
			.optional(),
	})
	.transform((p) => p as ReturnException);

export const CarriedReturnSchema = NormalisedReturnSchema.extend({
	lines: z.array(CarriedLineSchema).min(1, 'a return needs at least one line'),
	problems: z.array(CarriedProblemSchema).min(1, 'a carried return has at least one problem'),
});
export type CarriedReturn = z.infer<typeof CarriedReturnSchema>;

/** True when an item carries problems (whether or not it is a valid carried return). */
export function isCarried(json: unknown): boolean {
	return (
		typeof json === 'object' &&
		json !== null &&
		Array.isArray((json as { problems?: unknown }).problems) &&
		(json as { problems: unknown[] }).problems.length > 0
	);
}

export function validateCarriedReturn(input: unknown): ValidationResult<CarriedReturn> {
	return validateWith(CarriedReturnSchema, input);
}

/** The record without its problems: what an exception keeps as payload for replay. */
export function withoutProblems<T>(json: T): T {
	if (typeof json !== 'object' || json === null || !('problems' in json)) return json;
	const rest = { ...json } as T & { problems?: unknown };
	delete rest.problems;
	return rest;
}

/** Problems in order, each key once (the first kept), none holding a payload. */
function merge(...lists: ReturnException[][]): ReturnException[] {
	const seen = new Set<string>();
	const out: ReturnException[] = [];
	for (const p of lists.flat()) {
		if (seen.has(p.key)) continue;
		seen.add(p.key);
		out.push({ ...p, payload: null });
	}
	return out;
}

/** The record passed on carrying these problems (added to the ones it already carries). */
export function carryProblems<T extends object>(
	json: T,
	problems: ReturnException[],
): Omit<T, 'problems'> & { problems: ReturnException[] } {
	const already = isCarried(json) ? ((json as { problems: ReturnException[] }).problems ?? []) : [];
	return { ...withoutProblems(json), problems: merge(already, problems) };
}

/** The problems as exception items to emit: each with the record (without its problems) as payload. */
export function releaseProblems(json: unknown, problems: ReturnException[]): ReturnException[] {
	const payload = JSON.stringify(withoutProblems(json));
	return merge(problems).map((p) => ({ ...p, payload }));
}

/** A return that did not map, passed on with its mapping problems and every line as far as it mapped. */
export function carryUnmapped(
	ret: NormalisedReturn,
	failed: Extract<MapResult, { ok: false }>,
): CarriedReturn {
	return {
		...ret,
		lines: failed.lines satisfies CarriedLine[],
		problems: merge(unmappedToExceptions(ret, failed.unmapped)),
	};
}

/** The line ids whose Khaos stock code is itself the problem (unknown, or deleted / not stock controlled). */
export function linesWithSkuProblems(problems: ReturnException[]): Set<string> {
	return new Set(
		problems
			.filter((p) => (p.kind === 'unknown_sku' || p.kind === 'archived_sku') && p.lineId !== null)
			.map((p) => p.lineId as string),
	);
}
