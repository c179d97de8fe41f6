/**
 * The ReBound API calls the ReBound Poll Trigger makes (issue 15, "ReBound API economy"), against
 * the ReBound sandbox (loopback, no injected latency), on a simulated clock at one poll a minute.
 * Bounded: one sandbox, N graded + N/10 in-transit returns, about 190 polls per schedule.
 *   npx ts-node --transpile-only bench/reboundPoll.ts [N=500] [IN_TRANSIT=N/10]
 *
 * Each schedule starts from the same sandbox state (N graded returns of 3 lines over 28 days,
 * IN_TRANSIT over the last 5 days, besides the sandbox fixture's dozen) and runs:
 *  - the first poll (catch-up: every return is new);
 *  - a quiet hour: 60 polls, nothing changes in ReBound (the empty poll);
 *  - a busy hour: 60 polls; before each a new return arrives (in transit), every 2nd poll an
 *    in-transit return is graded, every 10th an old graded return (dated 10+ days ago, long out of
 *    the overlap) is regraded (the busy poll);
 *  - then quiet polls until every change of the busy hour was emitted (at most 70): the longest
 *    delay from a change in ReBound to its emission, and the changes never emitted.
 * Schedules: "every poll" (re-check intervals 0, Re-Check Graded Returns For 0 days: every return
 * in the overlap and every ungraded one fetched on every poll, what the trigger did before issue 15)
 * and "re-check" (the node's defaults). Calls per day = the hour's mean per poll x 1,440.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { startReboundSandbox, type ReboundSandbox } from '../sandbox/rebound/server';
import { makeNodeHttpSend } from '../test/helpers/nodeHttpSend';
import {
	StaticDataStore,
	makePollContext,
	n8nHttpOverNode,
	reboundCredentials,
} from '../test/helpers/reboundFakes';

// The poll context fake (test/helpers) builds its logger with jest.fn: a minimal stand-in outside jest.
(globalThis as unknown as { jest: unknown }).jest = {
	fn:
		(impl?: (...a: unknown[]) => unknown) =>
		(...a: unknown[]) =>
			impl?.(...a),
};
// `…/ReBoundPollTrigger.node` would resolve to the codex file (.node.json) under ts-node: name the .ts file.
const { ReBoundPollTrigger } =
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	require('../nodes/ReBoundPollTrigger/ReBoundPollTrigger.node.ts') as typeof import('../nodes/ReBoundPollTrigger/ReBoundPollTrigger.node');

const MIN = 60_000;
const DAY = 86_400_000;

// The simulated clock: the node and the sandbox both read Date.now.
const realNow = Date.now.bind(Date);
const T0 = Math.floor(realNow() / MIN) * MIN;
let simNow = T0;
Date.now = () => simNow;

interface Schedule {
	label: string;
	options: IDataObject;
}

const SCHEDULES: Schedule[] = [
	{
		label: 'every poll (before)',
		options: { recheckGradedMinutes: 0, recheckUngradedMinutes: 0, recheckGradedDays: 0 },
	},
	{ label: 're-check (defaults)', options: {} },
];

interface PollCount {
	searches: number;
	gets: number;
}

interface PhaseStats {
	polls: number;
	first: PollCount;
	mean: number;
	meanSearches: number;
	max: number;
}

function phaseStats(counts: PollCount[]): PhaseStats {
	const total = counts.map((c) => c.searches + c.gets);
	return {
		polls: counts.length,
		first: counts[0],
		mean: total.reduce((a, b) => a + b, 0) / counts.length,
		meanSearches: counts.reduce((a, c) => a + c.searches, 0) / counts.length,
		max: Math.max(...total),
	};
}

async function runSchedule(
	sandbox: ReboundSandbox,
	n: number,
	transitCount: number,
	schedule: Schedule,
) {
	const admin = async (path: string, body?: unknown) => {
		const res = await fetch(`${sandbox.adminUrl}${path}`, {
			method: body === undefined ? 'GET' : 'POST',
			headers: { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const json = (await res.json()) as Record<string, unknown>;
		if (!res.ok) throw new Error(`sandbox ${path}: ${JSON.stringify(json)}`);
		return json;
	};
	simNow = T0;
	await admin('/reset', {});
	await admin('/returns/bulk', { count: n, seed: 7, graded: true, linesPerReturn: 3, days: 28 });
	const transit =
		transitCount > 0
			? await admin('/returns/bulk', {
					count: transitCount,
					seed: 8,
					graded: false,
					linesPerReturn: 3,
					days: 5,
				})
			: { firstId: 1, lastId: 0 };
	const state = (await admin('/state')) as {
		returns: Array<{ id: string; date_added: string; status: string }>;
	};
	const creds = sandbox.state.credentials;
	const oldDay = new Date(T0 - 10 * DAY).toISOString().slice(0, 10);
	const oldGraded = state.returns
		.filter((r) => r.status === 'graded' && r.date_added.slice(0, 10) <= oldDay)
		.map((r) => String(r.id));
	const inTransit: string[] = [];
	for (let id = Number(transit.firstId); id <= Number(transit.lastId); id++)
		inTransit.push(String(id));

	const http = n8nHttpOverNode(makeNodeHttpSend());
	const store = new StaticDataStore();
	const node = new ReBoundPollTrigger();
	/** Change time per return id, until the trigger emits it. */
	const changes = new Map<string, number>();
	const delays: number[] = [];

	const poll = async (): Promise<PollCount & { emitted: number; ms: number }> => {
		const data = store.open();
		const before = http.calls.length;
		const { ctx } = makePollContext({
			staticData: data,
			credentials: reboundCredentials({
				baseUrl: sandbox.url,
				login: creds.login,
				apiKey: creds.apiKey,
			}),
			params: { options: { concurrency: 8, ...schedule.options } },
			httpRequestWithAuthentication: http.fn,
		});
		const started = performance.now();
		const out = (await node.poll.call(ctx as never)) as INodeExecutionData[][] | null;
		const ms = performance.now() - started;
		store.save(data);
		for (const item of out?.[0] ?? []) {
			const id = String(item.json.returnId);
			const at = changes.get(id);
			if (at !== undefined) {
				delays.push(simNow - at);
				changes.delete(id);
			}
		}
		const calls = http.calls.slice(before);
		const searches = calls.filter((c) => c.endsWith('/returns/search/json')).length;
		return { searches, gets: calls.length - searches, emitted: out?.[0].length ?? 0, ms };
	};

	const first = await poll();
	const quiet: PollCount[] = [];
	for (let m = 1; m <= 60; m++) {
		simNow = T0 + m * MIN;
		quiet.push(await poll());
	}
	const busy: PollCount[] = [];
	let grade = 0;
	let regrade = 0;
	for (let m = 61; m <= 120; m++) {
		simNow = T0 + m * MIN - 30_000;
		await admin('/returns/bulk', {
			count: 1,
			seed: 100 + m,
			graded: false,
			linesPerReturn: 3,
			days: 1,
		});
		if (m % 2 === 0 && grade < inTransit.length) {
			const id = inTransit[grade++];
			await admin(`/returns/${id}/advance`, {
				to: 'graded',
				dispositions: { 1: 'Grade A', 2: 'Grade B', 3: 'Like New' },
			});
			changes.set(id, simNow);
		}
		if (m % 10 === 0 && regrade < oldGraded.length) {
			const id = oldGraded[regrade++];
			await admin(`/returns/${id}/grade`, { dispositions: { 1: `Regraded ${m}` } });
			changes.set(id, simNow);
		}
		simNow = T0 + m * MIN;
		busy.push(await poll());
	}
	const changed = delays.length + changes.size;
	let settle = 0;
	for (let m = 121; m <= 190 && changes.size > 0; m++) {
		simNow = T0 + m * MIN;
		await poll();
		settle++;
	}
	return {
		first,
		quiet: phaseStats(quiet),
		busy: phaseStats(busy),
		changed,
		missed: changes.size,
		maxDelayMin: delays.length ? Math.max(...delays) / MIN : 0,
		settle,
	};
}

const perDay = (perPoll: number) => Math.round(perPoll * 1440).toLocaleString('en-GB');

async function main() {
	const n = Math.min(5000, Math.max(1, Number(process.argv[2] ?? 500)));
	const transitArg = Number(process.argv[3] ?? Math.round(n / 10));
	const transit = Number.isFinite(transitArg) ? Math.min(5000, Math.max(0, transitArg)) : 0;
	const sandbox = await startReboundSandbox({ port: 0, seed: 7 });
	try {
		console.log(
			`ReBound Poll Trigger: ${n} graded returns (3 lines) over 28 days + ${transit} in transit over 5 days; one poll a minute (simulated clock)`,
		);
		for (const schedule of SCHEDULES) {
			const started = performance.now();
			const r = await runSchedule(sandbox, n, transit, schedule);
			const f = (s: PhaseStats) =>
				`${s.mean.toFixed(1)} calls/poll (${s.meanSearches.toFixed(1)} searches; max ${s.max}) = ${perDay(s.mean)} a day`;
			console.log(`\n${schedule.label}`);
			console.log(
				`  first poll:  ${r.first.searches + r.first.gets} calls (${r.first.searches} searches + ${r.first.gets} gets), ${r.first.emitted} returns emitted, ${r.first.ms.toFixed(0)} ms`,
			);
			console.log(
				`  empty poll:  first ${r.quiet.first.searches + r.quiet.first.gets} calls (${r.quiet.first.searches} + ${r.quiet.first.gets}); quiet hour ${f(r.quiet)}`,
			);
			console.log(`  busy poll:   busy hour ${f(r.busy)}`);
			console.log(
				`  changes:     ${r.changed - r.missed}/${r.changed} emitted, longest delay ${r.maxDelayMin.toFixed(1)} min${r.missed ? `; ${r.missed} never emitted (${r.settle} more polls)` : ''}`,
			);
			console.log(`  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
		}
	} finally {
		Date.now = realNow;
		await sandbox.close();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
