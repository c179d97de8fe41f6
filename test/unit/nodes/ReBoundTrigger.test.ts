import { createHmac } from 'node:crypto';
import type { IDataObject, INodeExecutionData, IWebhookResponseData } from 'n8n-workflow';
import { ReBoundTrigger } from '../../../nodes/ReBoundTrigger/ReBoundTrigger.node';
import { isFinalEvent } from '../../../transports/rebound/webhookDelivery';
import { readWebhookMemory, recordDelivery } from '../../../transports/rebound/webhookMemory';
import { DEFAULT_WEBHOOK_SETTINGS, signWebhookBody } from '../../../transports/rebound/webhook';
import {
	StaticDataStore,
	TEST_API_KEY,
	TEST_WEBHOOK_SECRET,
	makeHookContext,
	makeWebhookContext,
	rawReturn,
	reboundCredentials,
} from '../../helpers/reboundFakes';

const node = new ReBoundTrigger();

interface EventSpec {
	id?: string;
	event?: string;
	sequence?: number;
	returnId?: string;
	lines?: Array<{ sku: string; disposition?: string | null; qty?: number }>;
}

function eventBody(spec: EventSpec = {}, space?: number): string {
	const returnId = spec.returnId ?? '5001';
	const lines = spec.lines ?? [
		{ sku: 'TSHIRT-RED-M', disposition: 'Grade A' },
		{ sku: 'JEANS-BLU-32', disposition: 'Damaged', qty: 2 },
	];
	return JSON.stringify(
		{
			id: spec.id ?? `evt-${returnId}-${spec.sequence ?? 3}`,
			event: spec.event ?? 'return.processed',
			occurred_at: '2026-11-28T10:00:00Z',
			sequence: spec.sequence ?? 3,
			data: rawReturn(
				returnId,
				'WEB-1001',
				lines.map((l) => ({
					sku: l.sku,
					qty: l.qty,
					disposition: l.disposition ?? null,
					reason: 'Too small',
				})),
			),
		},
		null,
		space,
	);
}

function signedHeaders(
	body: string,
	secret = TEST_WEBHOOK_SECRET,
	ts = Math.floor(Date.now() / 1000),
) {
	return signWebhookBody(body, secret, ts, DEFAULT_WEBHOOK_SETTINGS);
}

async function deliver(
	body: string,
	options: {
		headers?: Record<string, string>;
		params?: Record<string, unknown>;
		store?: StaticDataStore;
		mode?: string;
		parsedBody?: unknown;
		credentials?: Record<string, unknown>;
	} = {},
) {
	const store = options.store ?? new StaticDataStore();
	const { ctx, response, staticData } = makeWebhookContext({
		rawBody: Buffer.from(body, 'utf8'),
		headers: options.headers ?? signedHeaders(body),
		body: options.parsedBody,
		params: options.params,
		staticData: store.open(),
		mode: options.mode,
		credentials: options.credentials ? reboundCredentials(options.credentials) : undefined,
	});
	const result = (await node.webhook.call(ctx)) as IWebhookResponseData;
	store.save(staticData); // what n8n does after every production webhook call
	return { result, response, store };
}

const emitted = (result: IWebhookResponseData): INodeExecutionData[] =>
	result.workflowData ? result.workflowData[0] : [];
const exceptions = (result: IWebhookResponseData): INodeExecutionData[] =>
	result.workflowData ? result.workflowData[1] : [];

describe("ReBound Trigger: Hold Late Deliveries (the inbox row's readyAtMs)", () => {
	const rowOf = async (occurredAt: string, options: IDataObject) => {
		const body = eventBody().replace('"2026-11-28T10:00:00Z"', JSON.stringify(occurredAt));
		const { result } = await deliver(body, { params: { options } });
		const row = emitted(result)[0].json;
		return { row, receivedMs: Date.parse(String(row.receivedAt)) };
	};

	it('a prompt delivery is ready when received; a late one (a redelivery) the hold later', async () => {
		const prompt = await rowOf(new Date(Date.now() - 1000).toISOString(), {
			output: 'inboxRow',
			holdLateSeconds: 3,
		});
		expect(prompt.row.readyAtMs).toBe(prompt.receivedMs);
		const late = await rowOf('2026-11-28T10:00:00Z', { output: 'inboxRow', holdLateSeconds: 3 });
		expect(late.row.readyAtMs).toBe(late.receivedMs + 3000);
	});

	it('without the option nothing is held; the normalised-return output has no readyAtMs', async () => {
		const none = await rowOf('2026-11-28T10:00:00Z', { output: 'inboxRow' });
		expect(none.row.readyAtMs).toBe(none.receivedMs);
		const body = eventBody();
		const { result } = await deliver(body, { params: { options: { holdLateSeconds: 3 } } });
		expect(emitted(result)[0].json.readyAtMs).toBeUndefined();
	});
});

describe('ReBound Trigger: signature and timestamp', () => {
	it('accepts a correctly signed final event and emits one normalised return with the event set', async () => {
		const body = eventBody();
		const { result, response } = await deliver(body);
		expect(response.status).toBeUndefined();
		expect(result.webhookResponse).toEqual({ status: 'accepted', eventId: 'evt-5001-3' });
		const items = emitted(result);
		expect(items).toHaveLength(1);
		const ret = items[0].json as IDataObject;
		expect(ret.returnId).toBe('5001');
		expect(ret.orderReference).toBe('WEB-1001');
		expect(ret.source).toBe('rebound-webhook');
		expect(ret.event).toMatchObject({ id: 'evt-5001-3', type: 'return.processed', sequence: 3 });
		expect((ret.lines as IDataObject[]).map((l) => [l.sku, l.quantity, l.disposition])).toEqual([
			['TSHIRT-RED-M', 1, 'Grade A'],
			['JEANS-BLU-32', 2, 'Damaged'],
		]);
		expect(exceptions(result)).toEqual([]);
	});

	it('signs `<timestamp>.<raw body>` with HMAC-SHA256 hex in X-Rebound-Signature (the documented format)', async () => {
		const body = eventBody();
		const ts = Math.floor(Date.now() / 1000);
		const sig = createHmac('sha256', TEST_WEBHOOK_SECRET).update(`${ts}.${body}`).digest('hex');
		const { result } = await deliver(body, {
			headers: { 'X-Rebound-Signature': sig, 'X-Rebound-Timestamp': String(ts) },
		});
		expect(emitted(result)).toHaveLength(1);
	});

	it.each([
		['a wrong secret', (body: string) => signedHeaders(body, 'not-the-secret')],
		[
			'no signature header',
			() => ({ 'X-Rebound-Timestamp': String(Math.floor(Date.now() / 1000)) }),
		],
		['no headers at all', () => ({})],
		[
			'a stale timestamp (10 minutes old)',
			(body: string) =>
				signedHeaders(body, TEST_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 600),
		],
		[
			'a timestamp from the future (10 minutes ahead)',
			(body: string) =>
				signedHeaders(body, TEST_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) + 600),
		],
	])('answers 401 and starts nothing for %s', async (_label, headers) => {
		const body = eventBody();
		const store = new StaticDataStore();
		const { result, response } = await deliver(body, {
			headers: headers(body) as Record<string, string>,
			store,
		});
		expect(response.status).toBe(401);
		expect(response.body).toMatchObject({ status: 'rejected' });
		expect(typeof (response.body as IDataObject).reason).toBe('string');
		expect(result).toEqual({ noWebhookResponse: true });
		// Nothing remembered either: a rejected delivery must not make the genuine one a "duplicate".
		expect(store.peek().deliveries).toBeUndefined();
		expect(JSON.stringify(response.body)).not.toContain(TEST_WEBHOOK_SECRET);
	});

	it('verifies the exact raw bytes, not a re-serialised body', async () => {
		// ReBound sends pretty-printed JSON; n8n's parsed body re-serialised would differ byte for byte.
		const pretty = eventBody({}, 2);
		const parsed = JSON.parse(pretty);
		expect(JSON.stringify(parsed)).not.toBe(pretty);
		const ok = await deliver(pretty, { parsedBody: parsed });
		expect(emitted(ok.result)).toHaveLength(1);

		// Signed over the compact form but delivered pretty: same JSON, different bytes → rejected.
		const { response } = await deliver(pretty, {
			headers: signedHeaders(JSON.stringify(parsed)),
			parsedBody: parsed,
		});
		expect(response.status).toBe(401);
	});

	it('a body altered after signing is rejected', async () => {
		const body = eventBody();
		const tampered = body.replace('Damaged', 'Grade A');
		const { response, result } = await deliver(tampered, { headers: signedHeaders(body) });
		expect(response.status).toBe(401);
		expect(result.workflowData).toBeUndefined();
	});

	it('rejects everything when the credential has no webhook secret', async () => {
		const body = eventBody();
		const { response } = await deliver(body, { credentials: { webhookSecret: '' } });
		expect(response.status).toBe(401);
		expect(response.body).toMatchObject({ reason: 'secret_not_configured' });
	});

	it('honours base64 encoding and a custom header from the credential', async () => {
		const body = eventBody();
		const ts = Math.floor(Date.now() / 1000);
		const sig = createHmac('sha256', TEST_WEBHOOK_SECRET).update(body).digest('base64');
		const creds = {
			signatureEncoding: 'base64',
			signTimestamp: false,
			acceptUnsignedTimestamp: true,
			signatureHeader: 'X-Loop-Signature',
		};
		const { result } = await deliver(body, {
			headers: { 'X-Loop-Signature': sig, 'X-Rebound-Timestamp': String(ts) },
			credentials: creds,
		});
		expect(emitted(result)).toHaveLength(1);
		const hexSig = createHmac('sha256', TEST_WEBHOOK_SECRET).update(body).digest('hex');
		const bad = await deliver(body, {
			headers: { 'X-Loop-Signature': hexSig, 'X-Rebound-Timestamp': String(ts) },
			credentials: creds,
		});
		expect(bad.response.status).toBe(401);
	});
});

describe('ReBound Trigger: malformed deliveries', () => {
	it('answers 400 naming the field for JSON that does not parse', async () => {
		const body = '{"id": "evt-1", "event": ';
		const { response, result } = await deliver(body);
		expect(response.status).toBe(400);
		expect(response.body).toMatchObject({ status: 'invalid' });
		expect(typeof (response.body as IDataObject).field).toBe('string');
		expect(result.workflowData).toBeUndefined();
	});

	it('answers 400 naming the field of an event without an id', async () => {
		const body = JSON.stringify({ ...JSON.parse(eventBody()), id: undefined });
		const { response } = await deliver(body);
		expect(response.status).toBe(400);
		expect((response.body as IDataObject).field).toMatch(/id/);
	});

	it('answers 400 naming the return field when the return inside is invalid (and does not remember it)', async () => {
		const body = eventBody({ lines: [{ sku: '', disposition: 'Grade A' }] });
		const store = new StaticDataStore();
		const { response } = await deliver(body, { store });
		expect(response.status).toBe(400);
		expect((response.body as IDataObject).field).toMatch(/^data\.lines\[0\]\.sku$/);
		expect(store.peek().deliveries).toBeUndefined();
	});

	it('with "Emit invalid payloads as exceptions", emits an invalid_payload exception on the second output and answers 200', async () => {
		const body = eventBody({ lines: [{ sku: '', disposition: 'Grade A' }] });
		const { response, result } = await deliver(body, {
			params: { options: { emitInvalidAsExceptions: true } },
		});
		expect(response.status).toBeUndefined();
		expect(result.webhookResponse).toMatchObject({ status: 'exception' });
		expect(emitted(result)).toEqual([]);
		const [ex] = exceptions(result).map((i) => i.json as IDataObject);
		expect(ex).toMatchObject({
			exception: true,
			kind: 'invalid_payload',
			stage: 'trigger',
			returnId: '5001',
			field: 'lines[0].sku',
		});
		const payload = JSON.parse(ex.payload as string);
		expect(payload.order_reference).toBe('WEB-1001');
		expect(payload.label).toBeUndefined(); // the base64 label is never kept
		expect(ex.details).toMatchObject({ eventId: 'evt-5001-3', sequence: 3 });
	});

	it('with the option on, unparseable JSON becomes an exception with the text as payload', async () => {
		const body = 'not json at all';
		const { result } = await deliver(body, {
			params: { options: { emitInvalidAsExceptions: true } },
		});
		const [ex] = exceptions(result).map((i) => i.json as IDataObject);
		expect(ex).toMatchObject({ kind: 'invalid_payload', payload: 'not json at all' });
	});
});

describe('ReBound Trigger: duplicates, stale events, restarts', () => {
	it('a duplicate event id (after a restart) answers 200 duplicate and emits nothing', async () => {
		const store = new StaticDataStore();
		const body = eventBody();
		const first = await deliver(body, { store });
		expect(emitted(first.result)).toHaveLength(1);
		// "Restart": a new context built from what was saved.
		const again = await deliver(body, { store, headers: signedHeaders(body) });
		expect(again.result).toEqual({
			webhookResponse: { status: 'duplicate', eventId: 'evt-5001-3' },
		});
		expect(again.result.workflowData).toBeUndefined();
		// And after a second restart.
		const third = await deliver(body, { store });
		expect(third.result.webhookResponse).toMatchObject({ status: 'duplicate' });
	});

	it('an older sequence arriving after a newer one is dropped as stale', async () => {
		const store = new StaticDataStore();
		const newer = await deliver(eventBody({ sequence: 5, id: 'evt-b' }), { store });
		expect(emitted(newer.result)).toHaveLength(1);
		const older = await deliver(
			eventBody({
				sequence: 4,
				id: 'evt-a',
				lines: [{ sku: 'TSHIRT-RED-M', disposition: 'Grade B' }],
			}),
			{ store },
		);
		expect(older.result).toEqual({
			webhookResponse: { status: 'stale', eventId: 'evt-a', sequence: 4 },
		});
		// Another return is not affected by return 5001's sequence.
		const other = await deliver(eventBody({ sequence: 1, id: 'evt-c', returnId: '5002' }), {
			store,
		});
		expect(emitted(other.result)).toHaveLength(1);
		expect(store.peek().deliveries).toMatchObject({
			seq: { '5001': [5, expect.any(Number)], '5002': [1, expect.any(Number)] },
		});
	});

	it('a stale event stays stale even when a filtered (non-final) newer event set the sequence', async () => {
		const store = new StaticDataStore();
		const cancelled = await deliver(
			eventBody({ event: 'return.cancelled', sequence: 7, id: 'evt-x' }),
			{ store },
		);
		expect(cancelled.result.webhookResponse).toMatchObject({ status: 'ignored' });
		const processed = await deliver(eventBody({ sequence: 6, id: 'evt-y' }), { store });
		expect(processed.result.webhookResponse).toMatchObject({ status: 'stale' });
	});

	it('test-URL deliveries (manual mode) are not remembered', async () => {
		const store = new StaticDataStore();
		const body = eventBody();
		const test = await deliver(body, { store, mode: 'manual' });
		expect(emitted(test.result)).toHaveLength(1);
		expect(store.peek().deliveries).toBeUndefined();
		const live = await deliver(body, { store });
		expect(emitted(live.result)).toHaveLength(1);
	});

	it('the memory is bounded: the oldest event ids are forgotten, sequences still guard', () => {
		const memory = readWebhookMemory(undefined);
		for (let i = 0; i < 150; i++)
			recordDelivery(memory, { eventId: `e${i}`, returnId: `r${i}`, sequence: 1 }, 1000 + i, {
				maxEvents: 100,
				maxReturns: 120,
			});
		expect(Object.keys(memory.events)).toHaveLength(100);
		expect(memory.events.e0).toBeUndefined();
		expect(memory.events.e149).toBe(1149);
		expect(Object.keys(memory.seq)).toHaveLength(120);
		// e40's id is forgotten but its return's sequence is not: a redelivery is stale, not new.
		expect(
			recordDelivery(memory, { eventId: 'e40', returnId: 'r40', sequence: 1 }, 2000, {
				maxEvents: 100,
				maxReturns: 120,
			}),
		).toBe('stale');
	});
});

describe('ReBound Trigger: final-disposition filter', () => {
	it('drops a received event with an ungraded line by default, emits it with "All events"', async () => {
		const lines = [
			{ sku: 'TSHIRT-RED-M', disposition: 'Grade A' },
			{ sku: 'JEANS-BLU-32', disposition: null },
		];
		const dropped = await deliver(eventBody({ event: 'return.received', lines }));
		expect(dropped.result).toEqual({
			webhookResponse: {
				status: 'ignored',
				eventId: 'evt-5001-3',
				reason: 'not a final disposition',
			},
		});
		const all = await deliver(eventBody({ event: 'return.received', lines }), {
			params: { events: 'all' },
		});
		const [item] = emitted(all.result);
		expect((item.json.lines as IDataObject[]).map((l) => l.disposition)).toEqual(['Grade A', null]);
	});

	it('a received event that carries every disposition is final', async () => {
		const { result } = await deliver(eventBody({ event: 'return.received' }));
		expect(emitted(result)).toHaveLength(1);
	});

	it('created and cancelled events are never final', async () => {
		for (const event of ['return.created', 'return.cancelled']) {
			const { result } = await deliver(eventBody({ event, id: `evt-${event}` }));
			expect(result.webhookResponse).toMatchObject({ status: 'ignored' });
		}
		const graded = { lines: [{ lineId: '1:1', disposition: 'Grade A' }] } as never;
		expect(isFinalEvent('return.processed', graded)).toBe(true);
		expect(isFinalEvent('return.cancelled', graded)).toBe(false);
	});
});

describe('ReBound Trigger: webhook lifecycle', () => {
	it('registers nothing remotely: records the URL, reports it, and forgets it on delete', async () => {
		const hook = makeHookContext();
		expect(await node.webhookMethods.default.checkExists.call(hook.ctx)).toBe(false);
		expect(await node.webhookMethods.default.create.call(hook.ctx)).toBe(true);
		expect(hook.staticData.webhookUrl).toBe('http://127.0.0.1:5678/webhook/abc/rebound');
		expect(hook.logger.info).toHaveBeenCalledWith(
			expect.stringContaining('http://127.0.0.1:5678/webhook/abc/rebound'),
		);
		expect(await node.webhookMethods.default.checkExists.call(hook.ctx)).toBe(true);
		expect(await node.webhookMethods.default.delete.call(hook.ctx)).toBe(true);
		expect(hook.staticData.webhookUrl).toBeUndefined();
	});

	it('is a trigger with two outputs, the rebound path and no usableAsTool', () => {
		expect(node.description.usableAsTool).toBeUndefined();
		// Answered when the run has finished ("last node", no body: the trigger supplies the JSON ack), with static
		// values: an expression here would be evaluated in n8n's expression isolate on every delivery.
		expect(node.description.webhooks).toEqual([
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'lastNode',
				responseData: 'noData',
				path: 'rebound',
			},
		]);
		expect(node.description.outputNames).toEqual(['Returns', 'Exceptions']);
		expect(JSON.stringify(node.description)).not.toContain(TEST_API_KEY);
	});
});
