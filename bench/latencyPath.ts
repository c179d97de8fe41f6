/**
 * Where a return's latency goes (issue 15), from the processor's saved executions (--keep-executions):
 * for each credited return of a phase, delivery → its inbox row (the intake), → the start of the run
 * that claimed it (waiting: behind the run in progress, or for a start), → that run's batch read
 * (Queued Returns), → its credit note in Khaos. Printed for every return and for the slowest 5 %.
 * From the newest 250 executions (the public API's page): a phase with more runs than that (idle
 * ticks are saved too) has its first returns left out, and the line says how many were found.
 */
import type { ApiClient } from '../scripts/n8n/instance';

interface NodeRun {
	startTime?: number;
	executionTime?: number;
	data?: { main?: Array<Array<{ json?: Record<string, unknown> }> | null> };
}

export interface ReturnPath {
	ref: string;
	totalMs: number;
	intakeMs: number;
	waitMs: number;
	/** run start → end of its batch read */
	toReadMs: number;
	/** end of the batch read → credit note */
	readToCreditMs: number;
	/** the row was queued while another claiming run was going */
	behindRun: boolean;
	/** how the claiming run started (n8n's execution mode: trigger = the schedule, integrated = started by the last run) */
	mode: string;
}

const endOf = (r: NodeRun | undefined) =>
	r?.startTime !== undefined ? r.startTime + (r.executionTime ?? 0) : NaN;

export async function latencyPaths(
	api: ApiClient,
	processorId: string,
	delivered: Map<string, number>,
	credited: Map<string, number>,
	sinceMs: number,
): Promise<ReturnPath[]> {
	const list = await api.listExecutions(processorId, { limit: 250 }).catch(() => []);
	const runs: Array<{
		start: number;
		stop: number;
		mode: string;
		read: number;
		rows: Record<string, unknown>[];
	}> = [];
	for (const e of list) {
		if (Date.parse(String(e.startedAt ?? '')) < sinceMs) continue;
		const full = await api.getExecution(e.id, true).catch(() => null);
		const runData = full?.data?.resultData?.runData as Record<string, NodeRun[]> | undefined;
		const claim = runData?.['Mark Processing']?.[0];
		if (!claim) continue;
		runs.push({
			start: Date.parse(full.startedAt),
			stop: Date.parse(full.stoppedAt),
			mode: String(full.mode ?? '?'),
			read: endOf(runData?.['Queued Returns']?.[0]),
			rows: (claim.data?.main?.[0] ?? []).map((i) => i.json ?? {}),
		});
	}
	// a row claimed by more than one run (requeued) counts once: by the last run that started before its credit note
	const byRef = new Map<string, ReturnPath & { start: number }>();
	for (const run of runs)
		for (const row of run.rows) {
			const ref = `RB-${String(row.returnId)}`;
			const d = delivered.get(ref);
			const c = credited.get(ref);
			const queued = Date.parse(String(row.createdAt ?? ''));
			if (d === undefined || c === undefined || Number.isNaN(queued) || Number.isNaN(run.read))
				continue;
			const seen = byRef.get(ref);
			if (seen && (seen.start > run.start || run.start > c)) continue;
			byRef.set(ref, {
				start: run.start,
				ref,
				totalMs: c - d,
				intakeMs: queued - d,
				waitMs: run.start - queued,
				toReadMs: run.read - run.start,
				readToCreditMs: c - run.read,
				behindRun: runs.some((o) => o !== run && o.start <= queued && queued < o.stop),
				mode: run.mode,
			});
		}
	return [...byRef.values()].map((p) => {
		const path: ReturnPath & { start?: number } = { ...p };
		delete path.start;
		return path;
	});
}

/** One line: the mean of each part for every return and for the slowest 5 %, and how those were started. */
export function describePaths(paths: ReturnPath[]): string {
	if (!paths.length) return 'no claimed rows found in saved executions';
	const sorted = [...paths].sort((a, b) => a.totalMs - b.totalMs);
	const tail = sorted.slice(Math.floor(sorted.length * 0.95));
	const mean = (ps: ReturnPath[], k: keyof ReturnPath) =>
		(ps.reduce((s, p) => s + Number(p[k]), 0) / ps.length).toFixed(0);
	const parts = (ps: ReturnPath[]) =>
		`total ${mean(ps, 'totalMs')} ms = intake ${mean(ps, 'intakeMs')} + wait ${mean(ps, 'waitMs')} + start→batch read ${mean(ps, 'toReadMs')} + batch read→credit ${mean(ps, 'readToCreditMs')}`;
	const count = (ps: ReturnPath[], f: (p: ReturnPath) => boolean) => ps.filter(f).length;
	const modes = (ps: ReturnPath[]) =>
		Object.entries(
			ps.reduce<Record<string, number>>((m, p) => ((m[p.mode] = (m[p.mode] ?? 0) + 1), m), {}),
		)
			.map(([k, v]) => `${k} ${v}`)
			.join(', ');
	return (
		`all ${paths.length}: ${parts(paths)} (queued behind a run ${count(paths, (p) => p.behindRun)}; runs started by ${modes(paths)}); ` +
		`slowest ${tail.length}: ${parts(tail)} (queued behind a run ${count(tail, (p) => p.behindRun)}; runs started by ${modes(tail)})`
	);
}
