/**
 * The ReBound polling engine, free of n8n so it can be tested with a fixed
 * clock: walks date windows from a cursor (minus an overlap) to today, fetches
 * the returns, and decides what to emit from a small per-return memory.
 *
 * ReBound's legacy search has no cursor and no "modified since": it filters
 * on a date window only. So every return in the windows is fetched on every
 * poll (there is no cheaper way to see a new disposition), and returns that
 * are not yet fully graded are remembered as pending and fetched by id on
 * later polls even after their date has left the overlap (hubs can take days
 * to grade), until `watchDays` have passed.
 */
import { createHash } from 'crypto';
import { isFullyGraded, type NormalisedReturn } from '../../core/returnModel';
import { makeException, type ReturnException } from '../../core/exceptions';
import type { ReboundApi } from './api';
import { describeReboundError } from './errors';
import { dispositionFingerprint, normaliseReboundReturn } from './normalise';

export type PollEmitMode = 'return' | 'line';

export interface PollOptions {
	/** Days before today the first poll starts at. */
	lookbackDays: number;
	/** Days before the cursor each later poll starts at. */
	overlapDays: number;
	/** Days per search call. */
	windowDays: number;
	/** `return`: once every line is graded; `line`: each line as soon as it is graded. */
	emitMode: PollEmitMode;
	/** Returns fetched in parallel. */
	concurrency: number;
	/** How long an ungraded (or failing) return is watched by id after it was first seen. */
	watchDays: number;
}

export const DEFAULT_POLL_OPTIONS: PollOptions = {
	lookbackDays: 30,
	overlapDays: 2,
	windowDays: 7,
	emitMode: 'return',
	concurrency: 4,
	watchDays: 30,
};

/** Most returns remembered; the least recently seen are forgotten first. */
export const MAX_REMEMBERED_RETURNS = 20_000;

/** What is remembered per return (short keys: it lives in the workflow's static data). */
export interface PollEntry {
	/** First seen (YYYY-MM-DD, UTC). */
	f: string;
	/** Last seen. */
	s: string;
	/** 1 while the return still has ungraded lines (or could not be read): fetched by id on later polls. */
	p?: 1;
	/** Disposition fingerprint last emitted (emit mode `return`). */
	fp?: string;
	/** Disposition last emitted per line id (emit mode `line`). */
	l?: Record<string, string>;
	/** Key of the last exception emitted for it, so a broken return is reported once, not on every poll. */
	x?: string;
}

export interface PollState {
	version: 1;
	/** End (YYYY-MM-DD) of the last window fully processed. */
	cursor?: string;
	returns: Record<string, PollEntry>;
}

export interface PollWindow {
	from: string;
	to: string;
}

export interface PollStats {
	windows: PollWindow[];
	searchCalls: number;
	/** Returns fetched (ids asked for). */
	fetched: number;
	/** True when the time budget ran out before today was reached. */
	truncated: boolean;
}

export interface PollResult {
	returns: NormalisedReturn[];
	exceptions: ReturnException[];
	state: PollState;
	stats: PollStats;
}

export interface PollClock {
	now: () => number;
	/** Stop starting new windows after this time (ms since epoch). */
	deadlineMs?: number;
}

const DAY_MS = 86_400_000;

export function dayOf(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
	return dayOf(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
}

/** YYYY-MM-DD → YYYY/MM/DD (the legacy API's date format). */
export function slashDate(day: string): string {
	return day.replace(/-/g, '/');
}

/** Consecutive inclusive windows of `windowDays` from `from` to `to`. */
export function planWindows(from: string, to: string, windowDays: number): PollWindow[] {
	const size = Math.max(1, Math.floor(windowDays));
	const start = from > to ? to : from;
	const windows: PollWindow[] = [];
	// Bounded: at most (to - from) / size + 1 windows, and never more than ten years of days.
	for (let day = start, i = 0; day <= to && i < 3660; i++) {
		const end = addDays(day, size - 1);
		windows.push({ from: day, to: end < to ? end : to });
		day = addDays(day, size);
	}
	return windows;
}

/** Where a poll starts: the look-back on the first run, else the cursor minus the overlap (never after today). */
export function pollStart(
	state: Pick<PollState, 'cursor'>,
	today: string,
	opts: Pick<PollOptions, 'lookbackDays' | 'overlapDays'>,
): string {
	const start = state.cursor
		? addDays(state.cursor, -Math.max(0, opts.overlapDays))
		: addDays(today, -Math.max(0, opts.lookbackDays));
	return start > today ? today : start;
}

export function readPollState(raw: unknown): PollState {
	const o = (raw && typeof raw === 'object' ? raw : {}) as Partial<PollState>;
	const returns: Record<string, PollEntry> = {};
	if (o.returns && typeof o.returns === 'object') {
		for (const [id, entry] of Object.entries(o.returns)) {
			if (
				entry &&
				typeof entry === 'object' &&
				typeof entry.f === 'string' &&
				typeof entry.s === 'string'
			)
				returns[id] = { ...entry };
		}
	}
	const state: PollState = { version: 1, returns };
	if (typeof o.cursor === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(o.cursor)) state.cursor = o.cursor;
	return state;
}

function shortHash(text: string): string {
	return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Drop the base64 label and other huge strings from a raw return before it is kept in an exception. */
export function slimRawReturn(raw: unknown): unknown {
	if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
		if (/label/i.test(k) && typeof v === 'string' && v.length > 200) continue;
		if (typeof v === 'string' && v.length > 20_000) continue;
		out[k] = v;
	}
	return out;
}

/** True when JSON.stringify can serialise the value (a hostile payload can be nested deeper than the stack allows). */
export function jsonSafe(value: unknown): boolean {
	try {
		JSON.stringify(value);
		return true;
	} catch {
		return false;
	}
}

function rawString(raw: unknown, key: string): string | null {
	if (!raw || typeof raw !== 'object') return null;
	const v = (raw as Record<string, unknown>)[key];
	return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

/** An invalid_payload exception for a return that failed normalisation. */
export function invalidReturnException(
	id: string,
	raw: unknown,
	issues: Array<{ field: string; message: string }>,
	message: string,
	occurredAt: string,
	extra: Record<string, string | number | boolean | null> = {},
	/** Kept instead when the record cannot be serialised (nested too deeply for JSON.stringify): the raw text it came as. */
	fallbackPayload?: string,
): ReturnException {
	const slim = slimRawReturn(raw);
	return makeException('invalid_payload', message, {
		stage: 'trigger',
		returnId: id,
		displayId: rawString(raw, 'display_id'),
		orderReference: rawString(raw, 'order_reference'),
		field: issues[0]?.field ?? null,
		occurredAt,
		details: { issues: issues.length, ...extra },
		payload: jsonSafe(slim)
			? slim
			: (fallbackPayload ?? '(the record is nested too deeply to keep as JSON)'),
	});
}

interface FetchOutcome {
	id: string;
	ok: boolean;
	value?: unknown;
	error?: unknown;
}

async function fetchAll(
	api: ReboundApi,
	ids: string[],
	concurrency: number,
): Promise<FetchOutcome[]> {
	if (ids.length === 0) return [];
	const results = await api.getReturns(ids, Math.max(1, Math.floor(concurrency)));
	return results.map((r) =>
		r.ok ? { id: r.id, ok: true, value: r.value } : { id: r.id, ok: false, error: r.error },
	);
}

/**
 * Give a fetched (not pushed) return its event: a synthetic id that is the
 * same for the same dispositions (`<prefix>:<returnId>:<hash>`), so downstream
 * dedupe on the event id holds across polls and re-fetches.
 */
export function withSyntheticEvent(
	ret: NormalisedReturn,
	lines: NormalisedReturn['lines'],
	nowMs: number,
	kind: { source: 'rebound-poll' | 'rebound-api'; prefix: string; type: string } = {
		source: 'rebound-poll',
		prefix: 'poll',
		type: 'return.polled',
	},
): NormalisedReturn {
	const subset: NormalisedReturn = { ...ret, lines };
	const fp = shortHash(dispositionFingerprint(subset));
	return {
		...subset,
		source: kind.source,
		event: {
			id: `${kind.prefix}:${ret.returnId}:${fp}`,
			type: kind.type,
			occurredAt: new Date(nowMs).toISOString(),
			sequence: Math.floor(nowMs / 1000),
		},
	};
}

function withPollEvent(
	ret: NormalisedReturn,
	lines: NormalisedReturn['lines'],
	nowMs: number,
): NormalisedReturn {
	return withSyntheticEvent(ret, lines, nowMs);
}

/**
 * Decide what one fetched return contributes. Mutates `entry`; returns the
 * items to emit.
 */
function judgeReturn(
	outcome: FetchOutcome,
	entry: PollEntry,
	opts: PollOptions,
	nowMs: number,
	secrets: string[],
): { ret?: NormalisedReturn; exception?: ReturnException } {
	const nowIso = new Date(nowMs).toISOString();
	if (!outcome.ok) {
		entry.p = 1;
		const info = describeReboundError(outcome.error, secrets);
		const ex = makeException(
			info.transient ? 'transient_exhausted' : 'invalid_payload',
			`Return ${outcome.id} could not be fetched from ReBound: ${info.message}`,
			{
				stage: 'trigger',
				returnId: outcome.id,
				code: info.code ?? null,
				occurredAt: nowIso,
				details: { status: info.status ?? null, retriedNextPoll: true },
			},
		);
		if (entry.x === ex.key) return {};
		entry.x = ex.key;
		return { exception: ex };
	}
	let norm: ReturnType<typeof normaliseReboundReturn>;
	try {
		norm = normaliseReboundReturn(outcome.value, { source: 'rebound-poll' });
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		norm = {
			ok: false,
			issues: [{ field: '(root)', message }],
			message: `Return ${outcome.id} is invalid: ${message}`,
		};
	}
	if (!norm.ok) {
		entry.p = 1;
		const ex = invalidReturnException(outcome.id, outcome.value, norm.issues, norm.message, nowIso);
		if (entry.x === ex.key) return {};
		entry.x = ex.key;
		return { exception: ex };
	}
	delete entry.x;
	const ret = norm.value;
	const graded = isFullyGraded(ret);
	if (graded) delete entry.p;
	else entry.p = 1;
	if (opts.emitMode === 'line') {
		const emitted = entry.l ?? {};
		const fresh = ret.lines.filter(
			(line) => line.disposition !== null && emitted[line.lineId] !== line.disposition,
		);
		if (fresh.length === 0) return {};
		for (const line of fresh) emitted[line.lineId] = line.disposition as string;
		entry.l = emitted;
		return { ret: withPollEvent(ret, fresh, nowMs) };
	}
	if (!graded) return {};
	const fp = shortHash(dispositionFingerprint(ret));
	if (entry.fp === fp) return {};
	entry.fp = fp;
	return { ret: withPollEvent(ret, ret.lines, nowMs) };
}

function prune(state: PollState, today: string, opts: PollOptions): void {
	const forgetBefore = addDays(
		today,
		-(Math.max(0, opts.lookbackDays) + Math.max(0, opts.overlapDays) + 1),
	);
	const stopWatchingBefore = addDays(today, -Math.max(0, opts.watchDays));
	for (const [id, entry] of Object.entries(state.returns)) {
		if (entry.p ? entry.f < stopWatchingBefore : entry.s < forgetBefore) delete state.returns[id];
	}
	const ids = Object.keys(state.returns);
	if (ids.length > MAX_REMEMBERED_RETURNS) {
		ids.sort((a, b) =>
			state.returns[a].s < state.returns[b].s
				? -1
				: state.returns[a].s > state.returns[b].s
					? 1
					: 0,
		);
		for (const id of ids.slice(0, ids.length - MAX_REMEMBERED_RETURNS)) delete state.returns[id];
	}
}

/**
 * One poll. `prev` is not modified; the new state is returned. A search that
 * fails on the first window throws (nothing emitted, cursor unchanged); on a
 * later window the poll stops there and keeps what it has (cursor = the last
 * window done).
 */
export async function runReboundPoll(
	api: ReboundApi,
	prev: PollState,
	opts: PollOptions,
	clock: PollClock,
	secrets: string[] = [],
): Promise<PollResult> {
	const nowMs = clock.now();
	const today = dayOf(nowMs);
	const state: PollState = { version: 1, returns: {} };
	for (const [id, entry] of Object.entries(prev.returns))
		state.returns[id] = { ...entry, ...(entry.l ? { l: { ...entry.l } } : {}) };
	if (prev.cursor) state.cursor = prev.cursor;

	const windows = planWindows(pollStart(prev, today, opts), today, opts.windowDays);
	const stats: PollStats = { windows: [], searchCalls: 0, fetched: 0, truncated: false };
	const returns: NormalisedReturn[] = [];
	const exceptions: ReturnException[] = [];
	const seen = new Set<string>();

	const take = (outcomes: FetchOutcome[]) => {
		for (const outcome of outcomes) {
			const entry = state.returns[outcome.id] ?? { f: today, s: today };
			entry.s = today;
			state.returns[outcome.id] = entry;
			const judged = judgeReturn(outcome, entry, opts, nowMs, secrets);
			if (judged.ret) returns.push(judged.ret);
			if (judged.exception) exceptions.push(judged.exception);
		}
	};

	for (const window of windows) {
		if (
			stats.windows.length > 0 &&
			clock.deadlineMs !== undefined &&
			clock.now() >= clock.deadlineMs
		) {
			stats.truncated = true;
			break;
		}
		let ids: string[] = [];
		let failure: { error: unknown } | undefined;
		try {
			stats.searchCalls++;
			ids = await api.searchReturnIds(slashDate(window.from), slashDate(window.to));
		} catch (error) {
			if (describeReboundError(error, secrets).code !== 'empty') failure = { error };
		}
		if (failure) {
			// Nothing done yet: fail the poll (the caller wraps it). Otherwise keep what was done.
			if (stats.windows.length === 0) throw failure.error;
			stats.truncated = true;
			break;
		}
		const fresh = ids.map(String).filter((id) => !seen.has(id));
		for (const id of fresh) seen.add(id);
		stats.fetched += fresh.length;
		take(await fetchAll(api, fresh, opts.concurrency));
		stats.windows.push(window);
		state.cursor = window.to;
	}

	// Returns still waiting for a grade (or that failed) whose date has left the windows.
	const pending = Object.keys(state.returns).filter((id) => state.returns[id].p && !seen.has(id));
	if (pending.length > 0 && !(clock.deadlineMs !== undefined && clock.now() >= clock.deadlineMs)) {
		stats.fetched += pending.length;
		take(await fetchAll(api, pending, opts.concurrency));
	}

	prune(state, today, opts);
	return { returns, exceptions, state, stats };
}

/**
 * Manual runs ("Fetch Test Event"): the newest returns (up to `size`) from
 * the look-back, whatever their state, without touching the memory.
 */
export async function sampleReboundReturns(
	api: ReboundApi,
	opts: Pick<PollOptions, 'lookbackDays' | 'windowDays' | 'concurrency'>,
	nowMs: number,
	size: number,
	secrets: string[] = [],
): Promise<{ returns: NormalisedReturn[]; exceptions: ReturnException[] }> {
	const today = dayOf(nowMs);
	const windows = planWindows(
		addDays(today, -Math.max(0, opts.lookbackDays)),
		today,
		opts.windowDays,
	).reverse();
	const ids: string[] = [];
	for (const window of windows) {
		if (ids.length >= size) break;
		let failure: { error: unknown } | undefined;
		try {
			ids.push(
				...(await api.searchReturnIds(slashDate(window.from), slashDate(window.to))).map(String),
			);
		} catch (error) {
			if (describeReboundError(error, secrets).code !== 'empty') failure = { error };
		}
		if (failure) throw failure.error;
	}
	const unique = [...new Set(ids)];
	const numeric = unique.every((id) => /^\d+$/.test(id));
	unique.sort((a, b) => (numeric ? Number(b) - Number(a) : a < b ? 1 : a > b ? -1 : 0));
	const chosen = unique.slice(0, Math.max(0, size));
	const returns: NormalisedReturn[] = [];
	const exceptions: ReturnException[] = [];
	const nowIso = new Date(nowMs).toISOString();
	for (const outcome of await fetchAll(api, chosen, opts.concurrency)) {
		if (!outcome.ok) {
			const info = describeReboundError(outcome.error, secrets);
			exceptions.push(
				makeException(
					info.transient ? 'transient_exhausted' : 'invalid_payload',
					`Return ${outcome.id} could not be fetched from ReBound: ${info.message}`,
					{
						stage: 'trigger',
						returnId: outcome.id,
						code: info.code ?? null,
						occurredAt: nowIso,
					},
				),
			);
			continue;
		}
		const norm = normaliseReboundReturn(outcome.value, { source: 'rebound-poll' });
		if (norm.ok) returns.push(withPollEvent(norm.value, norm.value.lines, nowMs));
		else
			exceptions.push(
				invalidReturnException(outcome.id, outcome.value, norm.issues, norm.message, nowIso),
			);
	}
	return { returns, exceptions };
}
