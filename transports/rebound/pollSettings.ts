/**
 * The ReBound Poll Trigger's settings and memory, free of n8n: its parameters as PollOptions (each
 * number whole and within the range its field allows, the default when it is not a number), the
 * share of n8n's poll budget a poll may spend, and its memory in the node's static data.
 */
import { int } from '../../core/numbers';
import { DEFAULT_POLL_OPTIONS, type PollOptions, type PollState } from './poll';

/** The range of each numeric parameter (its field's minValue and maxValue). */
export const POLL_OPTION_RANGES = {
	lookbackDays: { min: 0, max: 365 },
	overlapDays: { min: 0, max: 60 },
	windowDays: { min: 1, max: 31 },
	concurrency: { min: 1, max: 16 },
	watchDays: { min: 0, max: 365 },
	recheckGradedMinutes: { min: 0, max: 1440 },
	recheckUngradedMinutes: { min: 0, max: 1440 },
	recheckGradedDays: { min: 0, max: 365 },
	sampleSize: { min: 1, max: 50 },
} as const;

type RangedOption = keyof typeof POLL_OPTION_RANGES;

/** How many of the newest returns a manual run shows by default. */
export const DEFAULT_SAMPLE_SIZE = 5;

/** Share of n8n's poll budget spent walking windows before the poll hands over what it has. */
export const POLL_BUDGET_SHARE = 0.6;

function ranged(name: RangedOption, value: unknown, fallback: number): number {
	const { min, max } = POLL_OPTION_RANGES[name];
	return int(value, fallback, min, max);
}

/** The trigger's parameters (Emit, the day counts, and the options Fetch Concurrency, Watch Ungraded Returns and the re-check schedule) as PollOptions. */
export function readPollOptions(params: Partial<Record<keyof PollOptions, unknown>>): PollOptions {
	const d = DEFAULT_POLL_OPTIONS;
	return {
		emitMode: params.emitMode === 'line' ? 'line' : 'return',
		lookbackDays: ranged('lookbackDays', params.lookbackDays, d.lookbackDays),
		overlapDays: ranged('overlapDays', params.overlapDays, d.overlapDays),
		windowDays: ranged('windowDays', params.windowDays, d.windowDays),
		concurrency: ranged('concurrency', params.concurrency, d.concurrency),
		watchDays: ranged('watchDays', params.watchDays, d.watchDays),
		recheckGradedMinutes: ranged(
			'recheckGradedMinutes',
			params.recheckGradedMinutes,
			d.recheckGradedMinutes,
		),
		recheckUngradedMinutes: ranged(
			'recheckUngradedMinutes',
			params.recheckUngradedMinutes,
			d.recheckUngradedMinutes,
		),
		recheckGradedDays: ranged('recheckGradedDays', params.recheckGradedDays, d.recheckGradedDays),
	};
}

/** The Manual Run Sample Size option. */
export function pollSampleSize(value: unknown): number {
	return ranged('sampleSize', value, DEFAULT_SAMPLE_SIZE);
}

/** When a poll started at `startedMs` stops starting new windows: a share of n8n's budget, none without one. */
export function pollDeadline(startedMs: number, budgetMs: number): number | undefined {
	return Number.isFinite(budgetMs) && budgetMs > 0
		? startedMs + budgetMs * POLL_BUDGET_SHARE
		: undefined;
}

/** Writes the poll's memory into the node's static data, reassigned (not mutated) so n8n notices and saves it. */
export function storePollState(store: Record<string, unknown>, state: PollState): void {
	store.version = 1;
	if (state.cursor) store.cursor = state.cursor;
	store.returns = state.returns;
}
