/**
 * A bench run's time bounds (bench/run.ts, bench/topologies.ts, bench/sensitivity.ts): a hard stop
 * that ends the process should the run's own bounds fail, and for the runs with --max-minutes a
 * deadline after which nothing new starts.
 */
import { logErr } from './harness';

/**
 * Ends the process (exit 3) once `boundMs` has passed, saying so on stderr. Unref'd (it never keeps
 * the process alive); the caller clears it when the run ends.
 */
export function armHardStop(boundMs: number): NodeJS.Timeout {
	const hardStop = setTimeout(() => {
		logErr(`[bench] hard time bound (${Math.round(boundMs / 60_000)} min) reached, stopping`);
		process.exit(3);
	}, boundMs);
	hardStop.unref();
	return hardStop;
}

/** A run bounded by --max-minutes: its start, its deadline, and the hard stop 5 min after that. */
export function runBounds(maxMinutes: number): {
	t0: number;
	deadline: number;
	hardStop: NodeJS.Timeout;
} {
	const t0 = Date.now();
	return {
		t0,
		deadline: t0 + maxMinutes * 60_000,
		hardStop: armHardStop((maxMinutes + 5) * 60_000),
	};
}
