/**
 * A forced garbage collection in n8n's main process, for the bench's memory phase: n8n is started
 * with `--inspect=127.0.0.1:<port>` (NODE_OPTIONS; its task runner gets its own environment
 * without it), and a short Node 24 script (the n8n runtime's node: it has a WebSocket client
 * built in, the harness's Node 20 does not) sends `HeapProfiler.collectGarbage` twice over the
 * inspector protocol and reads `Runtime.getHeapUsage`. Asynchronous (the harness's sandboxes
 * keep answering meanwhile) and bounded in time.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';

/** The NODE_OPTIONS flag that opens the inspector on loopback. */
export const inspectFlag = (port: number) => `--inspect=127.0.0.1:${port}`;

/** The inspector's WebSocket URL of the process listening on `port` (bounded: 10 s). */
export async function inspectorUrl(port: number): Promise<string> {
	const res = await fetch(`http://127.0.0.1:${port}/json/list`, {
		signal: AbortSignal.timeout(10_000),
	});
	const list = (await res.json()) as Array<{ webSocketDebuggerUrl?: string }>;
	const url = list.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
	if (!url) throw new Error(`no inspector target on 127.0.0.1:${port}`);
	return url;
}

/** The script the runtime's node runs: argv[1] = the WebSocket URL; prints Runtime.getHeapUsage as JSON. */
export const GC_SCRIPT = `
const url = process.argv[1];
const ws = new WebSocket(url);
let next = 0;
const pending = new Map();
const call = (method) => new Promise((resolve, reject) => {
  const id = ++next;
  pending.set(id, { resolve, reject });
  ws.send(JSON.stringify({ id, method, params: {} }));
});
ws.onmessage = (e) => {
  const m = JSON.parse(String(e.data));
  const p = m.id !== undefined && pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  if (m.error) p.reject(new Error(m.error.message)); else p.resolve(m.result);
};
ws.onerror = () => { console.error('inspector WebSocket error'); process.exit(2); };
ws.onopen = async () => {
  try {
    await call('HeapProfiler.collectGarbage');
    await new Promise((r) => setTimeout(r, 500));
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.getHeapUsage');
    console.log(JSON.stringify(usage));
    process.exit(0);
  } catch (e) {
    console.error(String(e && e.message || e));
    process.exit(1);
  }
};
setTimeout(() => { console.error('inspector: no answer in 90 s'); process.exit(3); }, 90000).unref();
`;

/** Parses the script's output: heap used and total, MB. */
export function parseHeapUsage(stdout: string): { heapUsedMb: number; heapTotalMb: number } {
	const line = stdout.trim().split('\n').pop() ?? '';
	const u = JSON.parse(line) as { usedSize?: unknown; totalSize?: unknown };
	if (typeof u.usedSize !== 'number' || typeof u.totalSize !== 'number')
		throw new Error(`Runtime.getHeapUsage answered ${line.slice(0, 200)}`);
	return { heapUsedMb: u.usedSize / 2 ** 20, heapTotalMb: u.totalSize / 2 ** 20 };
}

/** Collects garbage in the process whose inspector listens on `port` (twice, 0.5 s apart); its V8 heap afterwards. */
export async function forceGc(
	nodeBin: string,
	port: number,
): Promise<{ heapUsedMb: number; heapTotalMb: number }> {
	const url = await inspectorUrl(port);
	const stdout = await new Promise<string>((resolve, reject) => {
		execFile(
			nodeBin,
			['-e', GC_SCRIPT, url],
			{ timeout: 100_000, maxBuffer: 1 << 20 },
			(error, out, err) => {
				if (error) reject(new Error(`forced GC failed: ${String(err).trim() || error.message}`));
				else resolve(out);
			},
		);
	});
	return parseHeapUsage(stdout);
}

/** RSS of one process (not its group), MB, from /proc/<pid>/status; NaN when it is gone. */
export function processRssMb(pid: number): number {
	try {
		const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
		return m ? Number(m[1]) / 1024 : NaN;
	} catch {
		return NaN;
	}
}
