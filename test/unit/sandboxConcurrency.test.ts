/**
 * The sandboxes' concurrency limit (fault config `concurrency`, sandbox/shared/faults.ts): at most
 * N calls served at once, the rest wait in arrival order, a call whose client left while waiting
 * is never served. The gate on its own, then the Khaos sandbox on 127.0.0.1 (port 0) proving that
 * with N = 1 overlapping SOAP calls finish one latency apart.
 */
import { ConcurrencyGate, validateFaultConfig } from '../../sandbox/shared/faults';
import { startKhaosSandbox, type KhaosSandbox } from '../../sandbox/khaos/server';

const envelope = (method: string) =>
	'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
	`<soap:Body><ns1:${method} xmlns:ns1="urn:KosWeb-IKosWeb"></ns1:${method}></soap:Body></soap:Envelope>`;

async function soapCall(sb: KhaosSandbox, signal?: AbortSignal): Promise<number> {
	const res = await fetch(sb.url, {
		method: 'POST',
		headers: {
			'content-type': 'text/xml; charset=utf-8',
			soapaction: '"urn:KosWeb-IKosWeb#GetSiteList"',
		},
		body: envelope('GetSiteList'),
		signal,
	});
	await res.text();
	if (res.status !== 200) throw new Error(`GetSiteList answered ${res.status}`);
	return Date.now();
}

describe('ConcurrencyGate', () => {
	it('lets at most `limit` in, the others in arrival order; 0 is unlimited', async () => {
		const gate = new ConcurrencyGate(1);
		const order: string[] = [];
		const first = await gate.acquire();
		expect(first).not.toBeNull();
		const b = gate.acquire().then((r) => (order.push('b'), r));
		const c = gate.acquire().then((r) => (order.push('c'), r));
		await Promise.resolve();
		expect(gate.inFlight).toBe(1);
		expect(gate.waiting).toBe(2);
		first!();
		first!(); // a second release of the same slot changes nothing
		const rb = await b;
		expect(order).toEqual(['b']);
		expect(gate.inFlight).toBe(1);
		rb!();
		(await c)!();
		expect(order).toEqual(['b', 'c']);
		expect(gate.inFlight).toBe(0);
		expect(gate.maxInFlight).toBe(1);
		expect(gate.waited).toBe(2);

		const open = new ConcurrencyGate(0);
		const slots = await Promise.all([open.acquire(), open.acquire(), open.acquire()]);
		expect(open.maxInFlight).toBe(3);
		expect(open.waited).toBe(0);
		slots.forEach((r) => r!());
	});

	it('a waiter whose signal aborts leaves the queue with null; a larger limit lets the waiting in', async () => {
		const gate = new ConcurrencyGate(1);
		const held = await gate.acquire();
		const gone = new AbortController();
		const leaving = gate.acquire(gone.signal);
		const staying = gate.acquire();
		gone.abort();
		expect(await leaving).toBeNull();
		expect(gate.abandoned).toBe(1);
		expect(gate.waiting).toBe(1);
		gate.setLimit(2);
		const r = await staying;
		expect(r).not.toBeNull();
		expect(gate.inFlight).toBe(2);
		r!();
		held!();
		expect(await gate.acquire(AbortSignal.abort())).toBeNull();
	});

	it('the config takes a whole number from 0 to 10000', () => {
		expect(validateFaultConfig({ concurrency: 1 }).concurrency).toBe(1);
		expect(validateFaultConfig({ concurrency: 0 }).concurrency).toBe(0);
		expect(() => validateFaultConfig({ concurrency: -1 })).toThrow('concurrency must be');
		expect(() => validateFaultConfig({ concurrency: 1.5 })).toThrow('concurrency must be');
	});
});

describe('Khaos sandbox with a concurrency limit', () => {
	let sb: KhaosSandbox;
	const LATENCY = 150;

	beforeAll(async () => {
		sb = await startKhaosSandbox({ port: 0 });
	});
	afterAll(async () => {
		await sb.close();
	});

	it('concurrency 1: overlapping calls are served one at a time, finishing one latency apart', async () => {
		sb.faults.configure({ seed: 1, rules: { '*': { latencyMs: LATENCY } }, concurrency: 1 });
		sb.faults.gate.resetCounters();
		const started = Date.now();
		const done = (await Promise.all([soapCall(sb), soapCall(sb), soapCall(sb)])).sort(
			(a, b) => a - b,
		);
		// each call waits for the one before it: its latency starts when the previous one is answered,
		// so the last answer comes at least three latencies after the start (a bound that holds however
		// late this busy test process reads each answer; the gap between two answers as the client sees
		// them does not: a late-read first answer shortens it)
		expect(done[0] - started).toBeGreaterThanOrEqual(LATENCY - 5);
		expect(done[2] - started).toBeGreaterThanOrEqual(3 * LATENCY - 5);
		expect(sb.faults.gate.maxInFlight).toBe(1);
		expect(sb.faults.gate.waited).toBe(2);
		expect(sb.faults.current.concurrency).toBe(1);
	});

	it('unlimited (0, the default): the same calls overlap', async () => {
		sb.faults.configure({ seed: 1, rules: { '*': { latencyMs: LATENCY } } });
		sb.faults.gate.resetCounters();
		await Promise.all([soapCall(sb), soapCall(sb), soapCall(sb)]);
		expect(sb.faults.gate.maxInFlight).toBe(3);
		expect(sb.faults.gate.waited).toBe(0);
	});

	it('a call whose client gives up while it waits for the slot is never served', async () => {
		sb.faults.configure({ seed: 1, rules: { '*': { latencyMs: 300 } }, concurrency: 1 });
		const seq = sb.calls.lastSeq;
		const first = soapCall(sb);
		await new Promise((r) => setTimeout(r, 30));
		await expect(soapCall(sb, AbortSignal.timeout(60))).rejects.toThrow();
		await first;
		let outcomes: string[] = [];
		for (let i = 0; i < 40 && outcomes.length < 2; i++) {
			outcomes = sb.calls.since(seq).map((c) => c.outcome);
			await new Promise((r) => setTimeout(r, 25));
		}
		expect(outcomes.sort()).toEqual(['abandoned', 'ok']);
		expect(sb.faults.gate.inFlight).toBe(0);
	});
});
