/**
 * When the processor may take an intake row (issue 15: a prompt delivery is not held; a late one,
 * which a newer event of its return may be overtaking, waits the settle time).
 */
import { readyAtMs, toInboxRow } from '../../../core/inboxRow';
import { makeReturn } from './mapping.fixtures';

const RECEIVED = Date.parse('2026-12-03T10:00:10.000Z');

describe('readyAtMs: only late deliveries are held', () => {
	it('a delivery within the hold of its event is ready when received', () => {
		expect(readyAtMs('2026-12-03T10:00:09.500Z', RECEIVED, 3000)).toBe(RECEIVED);
		expect(readyAtMs('2026-12-03T10:00:07.000Z', RECEIVED, 3000)).toBe(RECEIVED);
	});

	it('a delivery more than the hold after its event (a redelivery) waits the hold', () => {
		expect(readyAtMs('2026-12-03T10:00:06.999Z', RECEIVED, 3000)).toBe(RECEIVED + 3000);
		expect(readyAtMs('2026-12-02T10:00:00.000Z', RECEIVED, 3000)).toBe(RECEIVED + 3000);
	});

	it('an event time that cannot be read is held (the safe side); no hold holds nothing', () => {
		expect(readyAtMs('not a date', RECEIVED, 3000)).toBe(RECEIVED + 3000);
		expect(readyAtMs('2026-12-02T10:00:00.000Z', RECEIVED, 0)).toBe(RECEIVED);
		expect(readyAtMs('2026-12-02T10:00:00.000Z', RECEIVED, -5)).toBe(RECEIVED);
		expect(readyAtMs('2026-12-02T10:00:00.000Z', RECEIVED, Number.NaN)).toBe(RECEIVED);
	});

	it('toInboxRow stamps readyAtMs from the event time and the hold', () => {
		const ret = makeReturn('5001', [{ sku: 'TSHIRT-RED-M', disposition: 'Grade A' }]);
		const prompt = { ...ret, event: { ...ret.event, occurredAt: '2026-12-03T10:00:09.000Z' } };
		const late = { ...ret, event: { ...ret.event, occurredAt: '2026-12-03T09:00:00.000Z' } };
		expect(toInboxRow(prompt, '2026-12-03T10:00:10.000Z', 3000).readyAtMs).toBe(RECEIVED);
		expect(toInboxRow(late, '2026-12-03T10:00:10.000Z', 3000).readyAtMs).toBe(RECEIVED + 3000);
		// without a hold (the poll trigger: it emits each return's latest state) every row is ready at once
		expect(toInboxRow(late, '2026-12-03T10:00:10.000Z').readyAtMs).toBe(RECEIVED);
	});
});
