/**
 * The ReBound polling engine, free of n8n so it can be tested with a fixed
 * clock: walks date windows from a cursor (minus an overlap) to today, fetches
 * the returns, and decides what to emit from a small per-return memory.
 *
 * ReBound's legacy search has no cursor and no "modified since": it filters
 * on a date window and gives ids only, and nothing it documents marks a return
 * as closed for good (`final_disposition` can still be regraded). A new
 * disposition is seen only by fetching the return. So a new id is fetched at
 * once, and a known return is re-checked by id on a schedule rather than on
 * every poll (`recheckDue`), never less often than its re-check interval
 * (`recheckGradedMinutes` once fully graded, `recheckUngradedMinutes` before);
 * a graded return (or one failing) is re-checked on every poll just after it
 * changed, then less often as it stays unchanged (after a quarter of the time
 * since its last change), so a quick correction is seen at once. An ungraded
 * return waits for a grade, days in transit: its interval. Ungraded returns are watched
 * for `watchDays` after they were first seen, graded ones for
 * `recheckGradedDays` after their last change (or first sight), also after
 * their date has left the overlap (hubs grade days after a return is made).
 * A change is therefore seen within the interval plus one poll. Per poll the
 * API's floor is one search per window (one with the defaults) and one fetch
 * per new id; the rest are the re-checks that fall due.
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
	/** Longest gap (minutes) between two fetches of a known, fully graded return; 0: every poll. */
	recheckGradedMinutes: number;
	/** Longest gap (minutes) between two fetches of a known return not fully graded (or failing); 0: every poll. */
	recheckUngradedMinutes: number;
	/** How long (days) after its last change, or first sight if later, a graded return is re-checked once the search no longer finds it; 0: only while the search finds it. */
	recheckGradedDays: number;
}

export const DEFAULT_POLL_OPTIONS: PollOptions = {
	lookbackDays: 30,
	overlapDays: 2,
	windowDays: 7,
	emitMode: 'return',
	concurrency: 4,
	watchDays: 30,
	recheckGradedMinutes: 60,
	recheckUngradedMinutes: 5,
	recheckGradedDays: 30,
};

/**
 * Share of the time a graded (or failing) return has been unchanged that may pass before it is
 * re-checked: one unchanged for 4 minutes is re-checked a minute later, for 4 hours an hour later
 * (up to its interval).
 */
export const RECHECK_AGE_SHARE = 0.25;

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
	/** Last fetched (unix seconds). */
	k?: number;
	/** Last change known (unix seconds): a change emitted, else the return's own latest time (tracking update, date added). */
	c?: number;
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
	/** Known returns the search found that were not due a re-check (not fetched). */
	skipped: number;
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

const DAY_S = 86_400;

/** Unix seconds at the start of a YYYY-MM-DD day (UTC); 0 when it is not a day. */
function dayStartS(day: string): number {
	const ms = Date.parse(`${day}T00:00:00Z`);
	return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/**
 * Where in each re-check interval a return's re-check falls (seconds in [0, periodS)), stable per
 * id, so the returns a catch-up poll first saw together are not all re-checked on one later poll.
 */
export function recheckPhase(id: string, periodS: number): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
	return periodS > 0 ? h % periodS : 0;
}

/** The longest gap (seconds) between two fetches of a known return. */
export function recheckIntervalS(entry: PollEntry, opts: PollOptions): number {
	const minutes = entry.p ? opts.recheckUngradedMinutes : opts.recheckGradedMinutes;
	return Number.isFinite(minutes) && minutes > 0 ? Math.floor(minutes * 60) : 0;
}

/**
 * When (unix seconds) a known return is next due a fetch. A graded or failing one:
 * `RECHECK_AGE_SHARE` of the time it had been unchanged at its last fetch after that fetch (so on
 * every poll just after a change), at most its interval. An ungraded one: its interval. At its
 * interval the fetch falls at the return's own phase in it (within the interval of the last
 * fetch, never later). Now when it was never fetched with this memory or the clock moved back.
 */
export function recheckDue(id: string, entry: PollEntry, opts: PollOptions, nowS: number): number {
	const k = entry.k;
	if (k === undefined || k > nowS) return nowS;
	const intervalS = recheckIntervalS(entry, opts);
	const gapS =
		entry.p && !entry.x ? intervalS : (k - Math.min(entry.c ?? k, k)) * RECHECK_AGE_SHARE;
	if (gapS < intervalS) return k + gapS;
	if (intervalS === 0) return k;
	const phase = recheckPhase(id, intervalS);
	return k - ((((k - phase) % intervalS) + intervalS) % intervalS) + intervalS;
}

/** True while a fully graded return is still re-checked after the search has stopped finding it. */
function gradedWatched(entry: PollEntry, opts: PollOptions, nowS: number): boolean {
	const days = opts.recheckGradedDays;
	if (!(Number.isFinite(days) && days > 0)) return false;
	return Math.max(entry.c ?? 0, dayStartS(entry.f)) >= nowS - days * DAY_S;
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
			) {
				const kept: PollEntry = { ...entry };
				for (const key of ['k', 'c'] as const)
					if (!(typeof kept[key] === 'number' && Number.isFinite(kept[key]))) delete kept[key];
				returns[id] = kept;
			}
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
): { ret?: NormalisedReturn; exception?: ReturnException; updatedAt?: string } {
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
		norm = normaliseReboundReturn(outcome.value, { source: 'rebound-poll', nowIso });
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
	// Without `meta.event` the normaliser dates the return by its latest own time (tracking update, …).
	const updatedAt = ret.event.occurredAt;
	const graded = isFullyGraded(ret);
	if (graded) delete entry.p;
	else entry.p = 1;
	if (opts.emitMode === 'line') {
		const emitted = entry.l ?? {};
		const fresh = ret.lines.filter(
			(line) => line.disposition !== null && emitted[line.lineId] !== line.disposition,
		);
		if (fresh.length === 0) return { updatedAt };
		for (const line of fresh) emitted[line.lineId] = line.disposition as string;
		entry.l = emitted;
		return { ret: withPollEvent(ret, fresh, nowMs), updatedAt };
	}
	if (!graded) return { updatedAt };
	const fp = shortHash(dispositionFingerprint(ret));
	if (entry.fp === fp) return { updatedAt };
	entry.fp = fp;
	return { ret: withPollEvent(ret, ret.lines, nowMs), updatedAt };
}

function prune(state: PollState, today: string, opts: PollOptions, nowS: number): void {
	const forgetBefore = addDays(
		today,
		-(Math.max(0, opts.lookbackDays) + Math.max(0, opts.overlapDays) + 1),
	);
	const stopWatchingBefore = addDays(today, -Math.max(0, opts.watchDays));
	for (const [id, entry] of Object.entries(state.returns)) {
		if (
			entry.p
				? entry.f < stopWatchingBefore
				: entry.s < forgetBefore && !gradedWatched(entry, opts, nowS)
		)
			delete state.returns[id];
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
	const nowS = Math.floor(nowMs / 1000);
	const today = dayOf(nowMs);
	const state: PollState = { version: 1, returns: {} };
	for (const [id, entry] of Object.entries(prev.returns)) {
		const copy: PollEntry = { ...entry, ...(entry.l ? { l: { ...entry.l } } : {}) };
		// A memory from before check times were kept: a graded return counts as checked now (its
		// first re-check falls within its interval, no burst), an ungraded one is fetched at once.
		if (copy.k === undefined && !copy.p) {
			copy.k = nowS;
			copy.c ??= dayStartS(copy.f);
		}
		state.returns[id] = copy;
	}
	if (prev.cursor) state.cursor = prev.cursor;

	const windows = planWindows(pollStart(prev, today, opts), today, opts.windowDays);
	const stats: PollStats = {
		windows: [],
		searchCalls: 0,
		fetched: 0,
		skipped: 0,
		truncated: false,
	};
	const returns: NormalisedReturn[] = [];
	const exceptions: ReturnException[] = [];
	const seen = new Set<string>();

	const take = (outcomes: FetchOutcome[]) => {
		for (const outcome of outcomes) {
			const known = state.returns[outcome.id];
			const entry = known ?? { f: today, s: today };
			entry.s = today;
			entry.k = nowS;
			state.returns[outcome.id] = entry;
			const judged = judgeReturn(outcome, entry, opts, nowMs, secrets);
			// Its last change: now when a known return changed (emitted again), else its own latest
			// time (one in the future, a clock or time zone off, is not taken: it would look new forever).
			const ownS = judged.updatedAt ? Math.floor(Date.parse(judged.updatedAt) / 1000) : NaN;
			let changed = entry.c;
			if (Number.isFinite(ownS) && ownS <= nowS) changed = Math.max(changed ?? 0, ownS);
			if (known && judged.ret) changed = nowS;
			entry.c = changed ?? nowS;
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
		const found = ids.map(String).filter((id) => !seen.has(id));
		for (const id of found) seen.add(id);
		// New ids are fetched; known ones only when due a re-check.
		const fetch = found.filter((id) => {
			const entry = state.returns[id];
			if (!entry || nowS >= recheckDue(id, entry, opts, nowS)) return true;
			entry.s = today;
			stats.skipped++;
			return false;
		});
		stats.fetched += fetch.length;
		take(await fetchAll(api, fetch, opts.concurrency));
		stats.windows.push(window);
		state.cursor = window.to;
	}

	// Known returns the search did not find (their date has left the windows), due a re-check:
	// those still waiting for a grade (or failing), and graded ones still watched.
	const pending = Object.keys(state.returns).filter((id) => {
		const entry = state.returns[id];
		return (
			!seen.has(id) &&
			(entry.p || gradedWatched(entry, opts, nowS)) &&
			nowS >= recheckDue(id, entry, opts, nowS)
		);
	});
	if (pending.length > 0 && !(clock.deadlineMs !== undefined && clock.now() >= clock.deadlineMs)) {
		stats.fetched += pending.length;
		take(await fetchAll(api, pending, opts.concurrency));
	}

	prune(state, today, opts, nowS);
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
