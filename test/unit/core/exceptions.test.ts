import {
	EXCEPTION_CATALOGUE,
	EXCEPTION_KINDS,
	isReturnException,
	makeException,
	redactSecrets,
} from '../../../core/exceptions';

describe('exception model', () => {
	it('has an owner, title and action for every kind', () => {
		expect(EXCEPTION_KINDS).toHaveLength(23);
		for (const kind of EXCEPTION_KINDS) {
			const info = EXCEPTION_CATALOGUE[kind];
			expect(['ops', 'finance', 'tech']).toContain(info.owner);
			expect(info.title.length).toBeGreaterThan(5);
			expect(info.action).toMatch(/\.$/);
		}
	});

	it('builds an exception with ids, owner, stable key and replay payload', () => {
		const ret = { returnId: '5003', lines: [] };
		const e = makeException('archived_sku', 'SKU SCARF-OLD is deleted in Khaos', {
			stage: 'validate',
			returnId: '5003',
			sku: 'SCARF-OLD',
			lineId: '5003:1',
			payload: ret,
			occurredAt: '2026-11-28T00:00:00.000Z',
		});
		expect(e).toMatchObject({
			exception: true,
			kind: 'archived_sku',
			owner: 'ops',
			stage: 'validate',
			returnId: '5003',
			sku: 'SCARF-OLD',
			key: 'archived_sku|5003|5003:1|-',
			occurredAt: '2026-11-28T00:00:00.000Z',
		});
		expect(JSON.parse(e.payload as string)).toEqual(ret);
		expect(isReturnException(e)).toBe(true);
		expect(isReturnException({ kind: 'x' })).toBe(false);
	});

	it('lets a client override the owner team', () => {
		expect(makeException('order_not_found', 'm', { stage: 'credit', owner: 'ops' }).owner).toBe(
			'ops',
		);
		expect(makeException('order_not_found', 'm', { stage: 'credit' }).owner).toBe('finance');
	});
});

describe('redactSecrets', () => {
	it('removes plain, URL-encoded and base64 forms', () => {
		const secret = 'k3y+with/odd=chars';
		const text = `api_key=${encodeURIComponent(secret)} raw=${secret} basic=${Buffer.from(secret).toString('base64')}`;
		const out = redactSecrets(text, [secret, undefined, '']);
		expect(out).not.toContain(secret);
		expect(out).not.toContain(encodeURIComponent(secret));
		expect(out).not.toContain(Buffer.from(secret).toString('base64'));
		expect(out.match(/\*\*\*/g)).toHaveLength(3);
	});
});
