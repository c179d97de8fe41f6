/**
 * CPU time and resident memory of the processes a bench run starts, read from /proc (Linux):
 * every n8n process with its process group (the task runner included), the services of a
 * topology (PostgreSQL, Redis, nginx: found by their working folder under the run's user
 * folder) and the harness itself (sandboxes and load generator). The parsing and the sums are
 * pure and unit-tested (test/unit/bench/procstat.test.ts).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One /proc/<pid>/stat line, the fields the bench uses. */
export interface ProcStat {
	pid: number;
	ppid: number;
	pgrp: number;
	/** user + system CPU of the process itself, clock ticks */
	ticks: number;
	/** user + system CPU of its children that exited and were waited for, clock ticks */
	childTicks: number;
	/** resident pages */
	rssPages: number;
}

/**
 * Parses /proc/<pid>/stat (proc(5)): the comm field is in parentheses and may hold spaces or
 * ")", so fields are counted from the last ")". Null for text that is not a stat line.
 */
export function parseProcStat(text: string): ProcStat | null {
	const close = text.lastIndexOf(')');
	const open = text.indexOf('(');
	if (close < 0 || open < 0) return null;
	const pid = Number(text.slice(0, open).trim());
	// after ") ": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9) minflt(10) cminflt(11)
	// majflt(12) cmajflt(13) utime(14) stime(15) cutime(16) cstime(17) ... rss(24)
	const f = text
		.slice(close + 2)
		.trim()
		.split(/\s+/);
	if (f.length < 22) return null;
	const n = (field: number) => Number(f[field - 3]);
	const out: ProcStat = {
		pid,
		ppid: n(4),
		pgrp: n(5),
		ticks: n(14) + n(15),
		childTicks: n(16) + n(17),
		rssPages: n(24),
	};
	return Object.values(out).every(Number.isFinite) ? out : null;
}

/** CPU seconds of a process group: its live processes' own time plus what their waited-for children used. */
export function groupCpuSeconds(stats: ProcStat[], pgid: number, ticksPerSecond: number): number {
	let ticks = 0;
	for (const s of stats) if (s.pgrp === pgid) ticks += s.ticks + s.childTicks;
	return ticks / ticksPerSecond;
}

/** The pids of a process and every descendant (by parent pid): PostgreSQL's backends each lead a session of their own, so a process group misses them. */
export function processTree(stats: ProcStat[], root: number): number[] {
	const children = new Map<number, number[]>();
	for (const s of stats) {
		const list = children.get(s.ppid) ?? [];
		list.push(s.pid);
		children.set(s.ppid, list);
	}
	const live = new Set(stats.map((s) => s.pid));
	const seen = new Set<number>();
	const todo = [root];
	while (todo.length && seen.size < 10_000) {
		const pid = todo.pop()!;
		if (seen.has(pid) || !live.has(pid)) continue;
		seen.add(pid);
		todo.push(...(children.get(pid) ?? []));
	}
	return [...seen];
}

/** CPU seconds of a process tree (own time + waited-for children of each). */
export function treeCpuSeconds(stats: ProcStat[], root: number, ticksPerSecond: number): number {
	const pids = new Set(processTree(stats, root));
	let ticks = 0;
	for (const s of stats) if (pids.has(s.pid)) ticks += s.ticks + s.childTicks;
	return ticks / ticksPerSecond;
}

/** Per label, the CPU seconds used between two snapshots (labels missing from either are left out; a restarted process's negative delta counts as 0). */
export function cpuDelta(
	before: Record<string, number>,
	after: Record<string, number>,
): Record<string, number> {
	const out: Record<string, number> = {};
	for (const [label, a] of Object.entries(after)) {
		const b = before[label];
		if (b === undefined) continue;
		out[label] = Math.max(0, a - b);
	}
	return out;
}

let clockTicks: number | undefined;
/** sysconf(_SC_CLK_TCK), 100 on Linux unless told otherwise. */
export function ticksPerSecond(): number {
	if (clockTicks !== undefined) return clockTicks;
	try {
		clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
	} catch {
		clockTicks = 100;
	}
	return clockTicks;
}

let pageKb: number | undefined;
function pageSizeKb(): number {
	if (pageKb !== undefined) return pageKb;
	try {
		pageKb = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) / 1024 || 4;
	} catch {
		pageKb = 4;
	}
	return pageKb;
}

/** Every live process's stat (those that vanish while read are skipped). */
export function readProcStats(): ProcStat[] {
	const out: ProcStat[] = [];
	let entries: string[] = [];
	try {
		entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
	} catch {
		return out;
	}
	for (const pid of entries) {
		try {
			const s = parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
			if (s) out.push(s);
		} catch {
			/* gone */
		}
	}
	return out;
}

/** The process groups of the services a topology runs in `<userFolder>/topology/<name>` (pg, redis, nginx), by each process's working folder. */
export function serviceGroups(stats: ProcStat[], userFolder: string): Record<string, number[]> {
	const out: Record<string, number[]> = {};
	const names: Record<string, string> = { pg: 'postgres', redis: 'redis', nginx: 'nginx' };
	const root = path.join(userFolder, 'topology');
	for (const s of stats) {
		let cwd = '';
		try {
			cwd = fs.readlinkSync(`/proc/${s.pid}/cwd`);
		} catch {
			continue;
		}
		if (!cwd.startsWith(`${root}${path.sep}`)) continue;
		const name = names[cwd.slice(root.length + 1).split(path.sep)[0]];
		if (!name) continue;
		const groups = (out[name] ??= []);
		if (!groups.includes(s.pgrp)) groups.push(s.pgrp);
	}
	return out;
}

export interface ProcessSample {
	/** CPU seconds so far, per label: every n8n process (`main`, `webhook 1`, `worker 2`, …), `postgres`, `redis`, `nginx`, `harness` */
	cpuS: Record<string, number>;
	/** resident memory now, MB, per n8n process (its group) and per service (the sum of its processes' RSS: PostgreSQL's shared buffers are counted once per backend, an upper bound) */
	rssMb: Record<string, number>;
}

/** The PostgreSQL server (postmaster) listening on this port, by its command line (`postgres -D … -p <port>`). */
export function postmasterPid(port: number): number | null {
	let entries: string[] = [];
	try {
		entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
	} catch {
		return null;
	}
	for (const pid of entries) {
		try {
			const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
			const p = args.indexOf('-p');
			if (/postgres$/.test(args[0] ?? '') && p > 0 && args[p + 1] === String(port))
				return Number(pid);
		} catch {
			/* gone */
		}
	}
	return null;
}

/** One snapshot of every process of a run. `n8n`: label and group leader pid of every n8n process; `services`: where to find PostgreSQL, Redis and nginx. */
export function sampleProcesses(
	n8n: Array<{ label: string; pid: number }>,
	userFolder: string | null,
	postgresPort?: number,
): ProcessSample {
	const stats = readProcStats();
	const hz = ticksPerSecond();
	const kb = pageSizeKb();
	const cpuS: Record<string, number> = {};
	const rssMb: Record<string, number> = {};
	const groupRss = (pgid: number) =>
		(stats.filter((s) => s.pgrp === pgid).reduce((t, s) => t + s.rssPages, 0) * kb) / 1024;
	for (const p of n8n) {
		cpuS[p.label] = groupCpuSeconds(stats, p.pid, hz);
		rssMb[p.label] = groupRss(p.pid);
	}
	if (postgresPort !== undefined) {
		const root = postmasterPid(postgresPort);
		if (root !== null) {
			const pids = new Set(processTree(stats, root));
			cpuS.postgres = treeCpuSeconds(stats, root, hz);
			rssMb.postgres =
				(stats.filter((s) => pids.has(s.pid)).reduce((t, s) => t + s.rssPages, 0) * kb) / 1024;
		}
	}
	if (userFolder) {
		for (const [name, groups] of Object.entries(serviceGroups(stats, userFolder))) {
			if (name in cpuS) continue;
			cpuS[name] = groups.reduce((t, g) => t + groupCpuSeconds(stats, g, hz), 0);
			rssMb[name] = groups.reduce((t, g) => t + groupRss(g), 0);
		}
	}
	const own = process.cpuUsage();
	cpuS.harness = (own.user + own.system) / 1e6;
	return { cpuS, rssMb };
}

/** The first line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal …"): busy and total jiffies of the whole machine. */
export function parseCpuLine(text: string): { busy: number; total: number } | null {
	const line = text.split('\n').find((l) => /^cpu\s/.test(l));
	if (!line) return null;
	const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
	if (f.length < 5 || !f.every(Number.isFinite)) return null;
	const total = f.reduce((a, b) => a + b, 0);
	const idle = f[3] + (f[4] ?? 0);
	return { busy: total - idle, total };
}

/** The whole machine's busy and total jiffies now (every process, ours and others'). */
export function machineCpu(): { busy: number; total: number } | null {
	try {
		return parseCpuLine(fs.readFileSync('/proc/stat', 'utf8'));
	} catch {
		return null;
	}
}

/** Share of the machine's CPU that was busy between two machineCpu() readings (0..1). */
export function busyShare(
	a: { busy: number; total: number } | null,
	b: { busy: number; total: number } | null,
): number {
	if (!a || !b || b.total <= a.total) return NaN;
	return (b.busy - a.busy) / (b.total - a.total);
}
