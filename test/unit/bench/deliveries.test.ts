import { benchReturnId, phaseDeliveries } from '../../../bench/fixture';
import { readyAtMs } from '../../../core/inboxRow';

// The bench's webhook phases must deliver what ReBound pushes: an event sent when it happens. The
// package's intake holds a delivery whose event occurred more than SETTLE_SECONDS (3 s) before it
// arrived (a late redelivery) that long; a bench event dated at the start of its phase made every
// later delivery of a 40 s phase "late" and added 3 s to its latency.
describe('bench webhook deliveries', () => {
	afterEach(() => jest.useRealTimers());

	it('are dated when sent, so the intake takes every one of a 5/s phase as prompt (ready at once)', () => {
		const start = Date.parse('2026-12-05T04:00:00.000Z');
		jest.useFakeTimers().setSystemTime(start);
		const deliveries = phaseDeliveries(1, 200, 3);
		const holdMs = 3_000;
		const late: number[] = [];
		deliveries.forEach((d, i) => {
			const sentMs = start + i * 200; // 5 returns/s
			jest.setSystemTime(sentMs);
			const body = d.body();
			expect(body.occurred_at).toBe(new Date(sentMs).toISOString());
			if (readyAtMs(String(body.occurred_at), sentMs + 50, holdMs) !== sentMs + 50) late.push(i);
		});
		expect(late).toEqual([]);
	});

	it('are the phase’s returns in order, one event each', () => {
		const deliveries = phaseDeliveries(41, 3, 2);
		expect(deliveries.map((d) => d.n)).toEqual([41, 42, 43]);
		const bodies = deliveries.map((d) => d.body());
		expect(bodies.map((b) => (b.data as { id: string }).id)).toEqual(
			[41, 42, 43].map((n) => benchReturnId(n)),
		);
		expect(bodies.map((b) => ((b.data as { item: unknown[] }).item ?? []).length)).toEqual([
			2, 2, 2,
		]);
		expect(new Set(bodies.map((b) => b.id)).size).toBe(3);
	});
});
