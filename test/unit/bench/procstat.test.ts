import {
	busyShare,
	cpuDelta,
	parseCpuLine,
	groupCpuSeconds,
	parseProcStat,
	processTree,
	treeCpuSeconds,
	sampleProcesses,
	type ProcStat,
} from '../../../bench/procstat';

// a real /proc/<pid>/stat line shape (fields 1..52); comm with a space and a ")"
const line = (
	pid: number,
	comm: string,
	ppid: number,
	pgrp: number,
	ut: number,
	st: number,
	cut = 0,
	cst = 0,
	rss = 1000,
) =>
	`${pid} (${comm}) S ${ppid} ${pgrp} ${pgrp} 0 -1 4194560 100 0 0 0 ${ut} ${st} ${cut} ${cst} 20 0 11 0 12345 1000000 ${rss} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0`;

describe('bench /proc reading', () => {
	it('parses stat lines whose command holds spaces and parentheses', () => {
		expect(parseProcStat(line(42, 'node (worker) x', 1, 40, 150, 50, 7, 3, 2048))).toEqual({
			pid: 42,
			ppid: 1,
			pgrp: 40,
			ticks: 200,
			childTicks: 10,
			rssPages: 2048,
		});
		expect(parseProcStat('not a stat line')).toBeNull();
		expect(parseProcStat('1 (x) S 0 1')).toBeNull();
	});

	it('sums a process group: its live processes and the children they waited for', () => {
		const stats = [
			line(40, 'n8n', 1, 40, 300, 100, 50, 0),
			line(41, 'task runner', 40, 40, 80, 20),
			line(99, 'other', 1, 99, 1000, 1000),
		].map((l) => parseProcStat(l) as ProcStat);
		expect(groupCpuSeconds(stats, 40, 100)).toBeCloseTo(5.5);
		expect(groupCpuSeconds(stats, 7, 100)).toBe(0);
	});

	it('follows a process tree across sessions (PostgreSQL backends lead their own)', () => {
		const stats = [
			line(100, 'postgres', 1, 100, 10, 10, 30, 0),
			line(101, 'postgres: checkpointer', 100, 101, 5, 5),
			line(102, 'postgres: n8n n8n 127.0.0.1(1)', 100, 102, 100, 50),
			line(103, 'child of a backend', 102, 102, 10, 0),
			line(200, 'unrelated', 1, 200, 999, 999),
		].map((l) => parseProcStat(l) as ProcStat);
		expect(processTree(stats, 100).sort()).toEqual([100, 101, 102, 103]);
		expect(processTree(stats, 555)).toEqual([]);
		expect(treeCpuSeconds(stats, 100, 100)).toBeCloseTo(2.2);
	});

	it('reads the whole machine from /proc/stat', () => {
		const a = parseCpuLine('cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n');
		expect(a).toEqual({ busy: 200, total: 1000 });
		const b = parseCpuLine('cpu  400 0 200 800 100 0 0 0 0 0\n');
		expect(busyShare(a, b)).toBeCloseTo(0.8);
		expect(busyShare(b, a)).toBeNaN();
		expect(busyShare(null, b)).toBeNaN();
		expect(parseCpuLine('intr 1 2 3')).toBeNull();
	});

	it('cpuDelta keeps labels present in both snapshots and never goes below zero', () => {
		expect(
			cpuDelta({ main: 10, 'worker 1': 5, gone: 1 }, { main: 12.5, 'worker 1': 3, new: 9 }),
		).toEqual({
			main: 2.5,
			'worker 1': 0,
		});
	});

	it('samples this process as the harness and a group it leads', () => {
		const s = sampleProcesses([{ label: 'main', pid: process.pid }], null);
		expect(s.cpuS.harness).toBeGreaterThan(0);
		expect(Object.keys(s.cpuS)).toEqual(['main', 'harness']);
		expect(s.rssMb.main).toBeGreaterThanOrEqual(0);
	});
});
