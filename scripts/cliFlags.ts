/**
 * The flag loop the harness CLIs share (soak, bench, bench --topologies): `--flag value` and
 * `--flag=value`, whole numbers within bounds, and the deployment flags of scripts/n8n/topology.ts.
 */
import { topologyFromArgs, type TopologyOptions } from './n8n/topology';

export interface Flag {
	/** The flag without an inline value (`--rate` of `--rate=4`). */
	name: string;
	/** The argument as given. */
	raw: string;
	/** Its value: inline after `=`, else the next argument (consumed); undefined when none. */
	value(): string | undefined;
	/** Its value as a whole number within [min, max]; an error naming the flag otherwise. */
	num(min: number, max: number): number;
}

/**
 * Calls `on` for every argument in turn; `usage` ends the number errors (e.g. '. Usage: …'). With
 * `withTopology`, the deployment flags are merged into its `topology` and not passed to `on`.
 */
export function eachFlag(
	argv: string[],
	on: (f: Flag) => void,
	usage = '',
	withTopology?: { topology: TopologyOptions },
): void {
	for (let i = 0; i < argv.length; i++) {
		const raw = argv[i];
		const eq = raw.indexOf('=');
		const name = eq > 0 ? raw.slice(0, eq) : raw;
		const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
		const value = () => inline ?? argv[++i];
		const f: Flag = {
			name,
			raw,
			value,
			num: (min, max) => {
				const v = value();
				const n = Number(v);
				if (v === undefined || !Number.isInteger(n) || n < min || n > max)
					throw new Error(`${name} needs a whole number from ${min} to ${max}${usage}`);
				return n;
			},
		};
		const topology = withTopology && topologyFlag(f, withTopology.topology);
		if (topology) withTopology.topology = topology;
		else on(f);
	}
}

const TOPOLOGY_FLAGS = ['--db', '--mode', '--workers', '--webhook-processes', '--concurrency'];

/** The deployment flags (`--queue`, `--db`, `--mode`, `--workers`, `--webhook-processes`, `--concurrency`) merged into `topology`; undefined when `f` is not one of them. */
export function topologyFlag(f: Flag, topology: TopologyOptions): TopologyOptions | undefined {
	if (f.name === '--queue') return { ...topology, ...topologyFromArgs(['--queue']) };
	if (!TOPOLOGY_FLAGS.includes(f.name)) return undefined;
	return { ...topology, ...topologyFromArgs([f.name, f.value() ?? '']) };
}

/** What both bench entries (bench/run.ts, bench/topologies.ts) read from their common flags. */
export interface CommonBenchFlags {
	khaosLatencyMs: number;
	reboundLatencyMs: number;
	only: 'package' | 'baseline' | null;
	build: boolean;
	json: boolean;
}

/** `--khaos-latency`, `--rebound-latency`, `--only`, `--build`, `--json` into `o`; false when `f` is none of them. */
export function commonBenchFlag(f: Flag, o: CommonBenchFlags): boolean {
	switch (f.name) {
		case '--khaos-latency':
			o.khaosLatencyMs = f.num(0, 5000);
			return true;
		case '--rebound-latency':
			o.reboundLatencyMs = f.num(0, 5000);
			return true;
		case '--only': {
			const v = f.value();
			if (v !== 'package' && v !== 'baseline') throw new Error('--only needs package or baseline');
			o.only = v;
			return true;
		}
		case '--build':
			o.build = true;
			return true;
		case '--json':
			o.json = true;
			return true;
		default:
			return false;
	}
}
