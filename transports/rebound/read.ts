/**
 * The ReBound node's Get and Search without n8n: the date window a Search accepts, the ids of a
 * window (one search call per 7 days), and what one fetched return becomes (the normalised
 * return with its synthetic `return.fetched` event, or an exception). The node (nodes/ReBound)
 * reads its parameters and turns failures into node errors.
 */
import { makeException, type ReturnException } from '../../core/exceptions';
import type { ReboundApi } from './api';
import { describeReboundError } from './errors';
import { normaliseReboundReturn } from './normalise';
import {
	invalidReturnException,
	planWindows,
	slashDate,
	slimRawReturn,
	withSyntheticEvent,
	type PollWindow,
} from './poll';

/** Days per search call, as ReBound's own tooling does. */
export const SEARCH_WINDOW_DAYS = 7;
/** Longest window one Search accepts. */
export const MAX_SEARCH_DAYS = 731;

/** A date parameter as YYYY-MM-DD (UTC), or null when it is empty or not a date. */
export function dayParam(value: unknown): string | null {
	if (typeof value !== 'string' || value.trim() === '') return null;
	const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
	if (Number.isNaN(ms)) return null;
	return value.length >= 10 && /^\d{4}-\d{2}-\d{2}/.test(value)
		? value.slice(0, 10)
		: new Date(ms).toISOString().slice(0, 10);
}

/** From Date and To Date as a Search window, or what is wrong with them. */
export function searchWindow(
	dateFrom: unknown,
	dateTo: unknown,
): { ok: true; from: string; to: string } | { ok: false; message: string } {
	const from = dayParam(dateFrom);
	const to = dayParam(dateTo);
	if (!from) return { ok: false, message: 'From Date is empty or not a date' };
	if (!to) return { ok: false, message: 'To Date is empty or not a date' };
	if (from > to) return { ok: false, message: `From Date (${from}) is after To Date (${to})` };
	if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > MAX_SEARCH_DAYS)
		return {
			ok: false,
			message: `The window ${from} to ${to} is longer than ${MAX_SEARCH_DAYS} days`,
		};
	return { ok: true, from, to };
}

/**
 * The ids of the returns of a window, each once, in the order found: one search call per
 * SEARCH_WINDOW_DAYS; ReBound's `empty` answer is no returns, any other failure is thrown as
 * `wrap` makes it.
 */
export async function searchWindowIds(
	api: ReboundApi,
	from: string,
	to: string,
	secrets: string[],
	wrap: (error: unknown, window: PollWindow) => Error,
): Promise<string[]> {
	const ids: string[] = [];
	const seen = new Set<string>();
	for (const window of planWindows(from, to, SEARCH_WINDOW_DAYS)) {
		let found: string[];
		try {
			found = await api.searchReturnIds(slashDate(window.from), slashDate(window.to));
		} catch (error) {
			if (describeReboundError(error, secrets).code === 'empty') continue;
			throw wrap(error, window);
		}
		for (const id of found.map(String)) {
			if (!seen.has(id)) {
				seen.add(id);
				ids.push(id);
			}
		}
	}
	return ids;
}

export type FetchedReturn =
	| { ok: true; json: Record<string, unknown> }
	| { ok: false; exception: ReturnException; message: string };

/** One fetched raw return → the normalised return (with `raw` when asked), or an invalid_payload exception. */
export function judgeFetchedReturn(
	id: string,
	raw: unknown,
	includeRaw: boolean,
	nowMs: number,
): FetchedReturn {
	const norm = normaliseReboundReturn(raw, { source: 'rebound-api' });
	if (!norm.ok) {
		const occurredAt = new Date(nowMs).toISOString();
		const exception = invalidReturnException(id, raw, norm.issues, norm.message, occurredAt);
		return { ok: false, exception, message: norm.message };
	}
	const ret = withSyntheticEvent(norm.value, norm.value.lines, nowMs, {
		source: 'rebound-api',
		prefix: 'api',
		type: 'return.fetched',
	});
	const json = ret as unknown as Record<string, unknown>;
	if (includeRaw) json.raw = slimRawReturn(raw);
	return { ok: true, json };
}

/** A return that could not be fetched, as an exception (transient_exhausted when ReBound kept failing). */
export function fetchFailureException(
	id: string,
	error: unknown,
	secrets: string[],
): ReturnException {
	const info = describeReboundError(error, secrets);
	return makeException(
		info.transient ? 'transient_exhausted' : 'invalid_payload',
		`Return ${id} could not be fetched from ReBound: ${info.message}`,
		{
			stage: 'trigger',
			returnId: id,
			code: info.code ?? null,
			details: { status: info.status ?? null },
		},
	);
}
