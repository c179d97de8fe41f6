/**
 * Focused tests of the fixes the fuzz corpus led to (each one fails on the code before it).
 */
import { readWebhookMemory, recordDelivery } from '../../../transports/rebound/webhookMemory';
import { invalidReturnException, jsonSafe } from '../../../transports/rebound/poll';
import { hasControlChars, validateReturn } from '../../../core/returnModel';
import { normaliseReboundReturn } from '../../../transports/rebound/normalise';
import { rawReturn } from './corpus';

describe('webhook memory: ids that are Object.prototype property names', () => {
	it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
		'event id "%s" is new the first time and a duplicate the second',
		(id) => {
			const memory = readWebhookMemory(undefined);
			expect(recordDelivery(memory, { eventId: id, returnId: 'R1', sequence: 1 }, 100)).toBe('new');
			expect(recordDelivery(memory, { eventId: id, returnId: 'R1', sequence: 2 }, 101)).toBe(
				'duplicate',
			);
			expect(Object.keys(memory.events)).toEqual([id]);
		},
	);

	it.each(['__proto__', 'constructor', 'toString'])(
		'return id "%s" keeps its own sequence and changes no prototype',
		(id) => {
			const memory = readWebhookMemory(undefined);
			expect(recordDelivery(memory, { eventId: 'e1', returnId: id, sequence: 5 }, 100)).toBe('new');
			expect(recordDelivery(memory, { eventId: 'e2', returnId: id, sequence: 4 }, 101)).toBe(
				'stale',
			);
			expect(recordDelivery(memory, { eventId: 'e3', returnId: id, sequence: 6 }, 102)).toBe('new');
			expect(Object.getPrototypeOf(memory.seq)).toBeNull();
			expect(memory.seq[id]).toEqual([6, 102]);
			// saved as JSON and read back (n8n's static data), the entry survives
			const again = readWebhookMemory(JSON.parse(JSON.stringify(memory)));
			expect(recordDelivery(again, { eventId: 'e4', returnId: id, sequence: 6 }, 103)).toBe(
				'stale',
			);
			expect(({} as Record<string, unknown>)[0]).toBeUndefined();
			expect(Object.getPrototypeOf({})).toBe(Object.prototype);
		},
	);
});

describe('normalise: refunds are checked like prices', () => {
	const raw = (refund: unknown) => ({
		...rawReturn({
			id: '77',
			order: 'WEB-1001',
			lines: [
				{
					sku: 'JEANS-BLU-32',
					qty: 1,
					price: '27.00',
					disposition: 'Grade A',
					reason: 'Too small',
				},
			],
		}),
		refund_total: refund,
	});

	it.each([
		[-5, 'must not be negative'],
		['-0.01', 'must not be negative'],
		['lots', 'is not an amount'],
		[{ amount: 5 }, 'is not an amount'],
	])('refund_total %p → invalid naming refund_total', (refund, message) => {
		const r = normaliseReboundReturn(raw(refund), { source: 'rebound-webhook' });
		expect(r.ok).toBe(false);
		if (!r.ok) {
			expect(r.issues[0].field).toBe('refund_total');
			expect(r.issues[0].message).toContain(message);
			expect(r.message).toContain('Return 77');
		}
	});

	it('a readable refund is kept in pence; an absent or empty one is null', () => {
		const ok = normaliseReboundReturn(raw('27.00'), { source: 'rebound-webhook' });
		expect(ok.ok && ok.value.refundPence).toBe(2700);
		const none = normaliseReboundReturn(raw(''), { source: 'rebound-webhook' });
		expect(none.ok && none.value.refundPence).toBeNull();
	});
});

describe('returnModel: keys that go onto the Khaos wire refuse control characters', () => {
	it('hasControlChars', () => {
		expect(['A\u0000B', 'A\tB', 'A\nB', '\u001b', '\u007f'].map(hasControlChars)).toEqual([
			true,
			true,
			true,
			true,
			true,
		]);
		expect(['TSHIRT-RÉD-M', '😀', 'SKU\u200bZW', '\u202eRTL', ''].map(hasControlChars)).toEqual([
			false,
			false,
			false,
			false,
			false,
		]);
	});

	it.each([
		[
			'sku',
			(r: Record<string, unknown>) =>
				((r.lines as Array<Record<string, unknown>>)[0].sku = 'A\u0000B'),
			'lines[0].sku',
		],
		['orderReference', (r: Record<string, unknown>) => (r.orderReference = 'WEB-1001\n'), null],
		[
			'orderReference inner',
			(r: Record<string, unknown>) => (r.orderReference = 'WEB\t1001'),
			'orderReference',
		],
		['returnId', (r: Record<string, unknown>) => (r.returnId = 'R\u001b1'), 'returnId'],
	])('%s', (_label, mutate, field) => {
		const ret: Record<string, unknown> = {
			schemaVersion: 1,
			source: 'manual',
			returnId: 'R1',
			orderReference: 'WEB-1001',
			event: { id: 'e', type: 'return.processed', occurredAt: '2026-11-28T10:00:00Z', sequence: 1 },
			lines: [{ lineId: 'R1:1', sku: 'JEANS-BLU-32', quantity: 1 }],
		};
		mutate(ret);
		const v = validateReturn(ret);
		if (field === null) {
			// a trailing newline is trimmed away, not an error
			expect(v.ok).toBe(true);
		} else {
			expect(v.ok).toBe(false);
			if (!v.ok)
				expect(v.issues[0]).toEqual({
					field,
					message: expect.stringMatching(
						/must not contain control characters|a character XML cannot carry/,
					),
				});
		}
	});
});

describe('invalid_payload exceptions keep a record that cannot be serialised as its raw text', () => {
	it('jsonSafe and the fallback payload', () => {
		let deep: unknown = [];
		for (let i = 0; i < 20_000; i++) deep = [deep];
		const raw = { id: 'D1', item: deep };
		expect(jsonSafe(raw)).toBe(false);
		expect(jsonSafe({ a: 1 })).toBe(true);
		const ex = invalidReturnException(
			'D1',
			raw,
			[{ field: 'item[0]', message: 'Expected an item object' }],
			'Return D1 is invalid: item[0]',
			'2026-11-28T10:00:00Z',
			{},
			'{"id":"D1","item":[[[]]]}',
		);
		expect(ex).toMatchObject({
			kind: 'invalid_payload',
			returnId: 'D1',
			field: 'item[0]',
			payload: '{"id":"D1","item":[[[]]]}',
		});
	});
});
