/**
 * The refund ReBound reports reaches the credit step on every path, with both
 * sandboxes in-process on 127.0.0.1 (docs/credit-notes.md, "Comparison with the
 * ReBound refund"; the refund field is MODELED: sandbox/rebound/README.md).
 *
 * - Webhook: the ReBound sandbox fires a signed `return.processed` → ReBound
 *   Trigger (Output: Inbox Row) → the inbox row's payload → the processor's
 *   nodes as the template chains them: Returns Mapping (reads the payload) →
 *   Validate SKUs → Apply Stock Moves → Create Credit Note.
 * - Poll: ReBound Poll Trigger over the sandbox's legacy API (as normalised
 *   returns, and as inbox rows) → the same nodes.
 * - API: the ReBound node's Return → Get → the same nodes.
 * - Finance batched: the stock step's output stored as JSON (the inbox
 *   `mapped` column) and parsed again before Create Credit Note.
 *
 * Each drives the demo's WEB-1001 returns in order (5001, 5005, then 5010)
 * into a fresh Khaos sandbox: 5001 and 5005 report what the order computes
 * (difference 0, no exception), 5010 reports 27.00 against 24.13 + the
 * whole-order delivery 4.95 = 29.08, so its credit note is created AND a
 * finance `credit_mismatch` records refund, credit and difference (-208p).
 * The refundPence is asserted at every hop, so dropping it anywhere fails here.
 */
import type { IDataObject, INodeExecutionData, IWebhookResponseData } from 'n8n-workflow';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KhaosControl } from '../../nodes/KhaosControl/KhaosControl.node';
import { ReBound } from '../../nodes/ReBound/ReBound.node';
import { ReBoundPollTrigger } from '../../nodes/ReBoundPollTrigger/ReBoundPollTrigger.node';
import { ReBoundTrigger } from '../../nodes/ReBoundTrigger/ReBoundTrigger.node';
import { ReturnsMapping } from '../../nodes/ReturnsMapping/ReturnsMapping.node';
import { startKhaosSandbox, type KhaosSandbox } from '../../sandbox/khaos/server';
import { startReboundSandbox, type ReboundSandbox } from '../../sandbox/rebound/server';
import { DEMO_DISPOSITIONS, DEMO_REASONS } from '../unit/core/mapping.fixtures';
import { khaosExecuteContext } from '../helpers/khaosN8nHttp';
import { mockExecuteContext } from '../helpers/mockExecuteContext';
import { makeNodeHttpSend } from '../helpers/nodeHttpSend';
import {
	makePollContext,
	makeWebhookContext,
	n8nHttpOverNode,
	reboundCredentials,
} from '../helpers/reboundFakes';

/** The default ReBound fixture's demo values (not secrets). */
const LOGIN = 'demo-retailer';
const API_KEY = 'demo-api-key-0000';
const SECRET = 'demo-webhook-secret-0000';

/** The demo's WEB-1001 returns in the demo's order, the refund each reports and what the credit step must see. */
const SEQUENCE = [
	{ id: '5001', refund: 2413, credit: 2413, difference: 0, delivery: false },
	{ id: '5005', refund: 3574, credit: 3574, difference: 0, delivery: false },
	// the order's last unit: the jeans (24.13) + the whole-order delivery (4.95); ReBound refunded 27.00
	{ id: '5010', refund: 2700, credit: 2908, difference: -208, delivery: true },
] as const;

let rebound: ReboundSandbox;
let khaos: KhaosSandbox;

beforeEach(async () => {
	// real clock: the poll trigger's windows are computed from now, the fixture's dates are relative
	rebound = await startReboundSandbox({ port: 0 });
	khaos = await startKhaosSandbox({ port: 0 });
});
afterEach(async () => {
	await rebound.close();
	await khaos.close();
});

const reboundCreds = () =>
	reboundCredentials({
		baseUrl: rebound.url,
		login: LOGIN,
		apiKey: API_KEY,
		webhookSecret: SECRET,
	});

const khaosCreds = () => ({
	url: khaos.url,
	authMode: 'none',
	username: '',
	password: '',
	soapVersion: '1.1',
	namespace: 'urn:KosWeb-IKosWeb',
	soapActionStyle: 'namespaceHash',
	defaultSiteId: '1',
	timeoutSeconds: 5,
	maxAttempts: 3,
	batchSize: 50,
});

async function khaosNode(
	params: Record<string, unknown>,
	items: IDataObject[],
): Promise<INodeExecutionData[][]> {
	const ctx = khaosExecuteContext({ items, params, credentials: khaosCreds() as never });
	return new KhaosControl().execute.call(ctx);
}

/** The processor's mapping, as the standard demo tables (docs/mapping.md) feed it. */
const MAPPING = {
	operation: 'map',
	dispositionSource: 'json',
	dispositionJson: JSON.stringify(DEMO_DISPOSITIONS),
	reasonSource: 'json',
	reasonJson: JSON.stringify(DEMO_REASONS),
	skuAliasSource: 'json',
	skuAliasJson: '[]',
};
/** The demo's finance settings (whole-order delivery, half-up, 1p a line), as the templates set them. */
const CREDIT = {
	resource: 'creditNote',
	operation: 'createFromReturn',
	options: {
		deliveryPolicy: 'whole_order',
		rounding: 'half_up',
		tolerancePencePerLine: 1,
		processReturn: true,
	},
};

const refundOf = (json: IDataObject): unknown =>
	typeof json.payload === 'string' && !Array.isArray(json.lines)
		? (JSON.parse(json.payload) as IDataObject).refundPence
		: json.refundPence;

/**
 * One return through the processor's nodes, in the template's order; refundPence is checked after
 * every node. `batched`: the stock step's output goes through JSON (the inbox `mapped` column and
 * the posting workflow's Parse Mapped Return) before the credit step.
 */
async function process(
	item: IDataObject,
	want: (typeof SEQUENCE)[number],
	batched = false,
): Promise<{ created: IDataObject; exceptions: IDataObject[] }> {
	const hops: Array<[string, unknown]> = [['trigger output', refundOf(item)]];
	const [mapped, unmapped] = await new ReturnsMapping().execute.call(
		mockExecuteContext({
			items: [item],
			params: MAPPING,
			node: { name: 'Map Returns', type: 'n8n-nodes-rebound-khaos.returnsMapping' },
		}),
	);
	expect({ id: want.id, unmapped: unmapped.map((u) => u.json.kind) }).toEqual({
		id: want.id,
		unmapped: [],
	});
	hops.push(['Map Returns', mapped[0].json.refundPence]);
	const [valid, invalid] = await khaosNode(
		{ resource: 'product', operation: 'validateSkus', mappingType: 1 },
		[mapped[0].json],
	);
	expect({ id: want.id, invalid: invalid.map((e) => e.json.kind) }).toEqual({
		id: want.id,
		invalid: [],
	});
	hops.push(['Validate SKUs', valid[0].json.refundPence]);
	const [moved, stockEx] = await khaosNode(
		{ resource: 'stock', operation: 'applyReturnMoves', options: {} },
		[valid[0].json],
	);
	expect({ id: want.id, stock: stockEx.map((e) => e.json.kind) }).toEqual({
		id: want.id,
		stock: [],
	});
	const toCredit = batched
		? (JSON.parse(JSON.stringify(moved[0].json)) as IDataObject)
		: moved[0].json;
	hops.push(['Apply Stock Moves', toCredit.refundPence]);
	// the refund rides every hop unchanged
	expect({ id: want.id, hops }).toEqual({
		id: want.id,
		hops: hops.map(([hop]) => [hop, want.refund]),
	});
	const [created, exceptions] = await khaosNode(CREDIT, [toCredit]);
	expect(created).toHaveLength(1);
	return { created: created[0].json, exceptions: exceptions.map((e) => e.json) };
}

/** Drives the sequence through `process` and checks the credit step compared the refund each time. */
async function expectRefundsCompared(
	items: Map<string, IDataObject>,
	batched = false,
): Promise<void> {
	for (const want of SEQUENCE) {
		const item = items.get(want.id);
		expect({ id: want.id, emitted: item !== undefined }).toEqual({ id: want.id, emitted: true });
		const { created, exceptions } = await process(item!, want, batched);
		// the credit note exists whatever the refund said, valued from the Khaos order
		expect({
			id: want.id,
			associatedRef: created.associatedRef,
			gross: (created.totals as IDataObject).grossPence,
			delivery: created.deliveryRefunded,
			refundPence: created.refundPence,
			difference: (created.mismatch as IDataObject | null)?.differencePence,
		}).toEqual({
			id: want.id,
			associatedRef: `RB-${want.id}`,
			gross: want.credit,
			delivery: want.delivery,
			refundPence: want.refund,
			difference: want.difference,
		});
		const mismatches = exceptions.filter((e) => e.kind === 'credit_mismatch');
		expect({ id: want.id, others: exceptions.filter((e) => e.kind !== 'credit_mismatch') }).toEqual(
			{ id: want.id, others: [] },
		);
		if (want.difference === 0) {
			expect({ id: want.id, mismatches }).toEqual({ id: want.id, mismatches: [] });
			continue;
		}
		expect(mismatches).toHaveLength(1);
		expect(mismatches[0]).toMatchObject({
			kind: 'credit_mismatch',
			owner: 'finance',
			returnId: want.id,
			details: {
				refundPence: want.refund,
				creditPence: want.credit,
				differencePence: want.difference,
				tolerancePence: 1,
			},
		});
		expect(mismatches[0].message).toMatch(/the credit note was created/);
	}
	const notes = khaos.state.snapshot().creditNotes;
	expect(notes.map((n) => [n.associatedRef, n.totals.grossPence])).toEqual(
		SEQUENCE.map((s) => [`RB-${s.id}`, s.credit]),
	);
}

// ------------------------------------------------------------------ webhook path

/** A receiver the ReBound sandbox delivers to; keeps the raw bytes and headers of each delivery. */
async function startReceiver() {
	const received: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			received.push({ headers: req.headers, body: Buffer.concat(chunks) });
			res.writeHead(200).end('ok');
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
		received,
		close: () => new Promise<void>((r) => server.close(() => r())),
	};
}

async function admin(path: string, body: unknown): Promise<void> {
	const res = await fetch(`${rebound.adminUrl}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	if (res.status >= 300) throw new Error(`admin ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** Fires a signed return.processed for each return (a re-grade to its own grade) and hands the deliveries to the ReBound Trigger. */
async function throughTheTrigger(): Promise<Map<string, IDataObject>> {
	const receiver = await startReceiver();
	try {
		await admin('/webhooks', { url: receiver.url });
		for (const { id } of SEQUENCE) {
			const grade = rebound.state.get(Number(id)).item[0].final_disposition;
			await admin(`/returns/${id}/grade`, { dispositions: { 1: grade } });
		}
		await admin('/webhooks/flush', {});
		expect(receiver.received).toHaveLength(SEQUENCE.length);
		const rows = new Map<string, IDataObject>();
		for (const delivery of receiver.received) {
			const headers: Record<string, string> = {};
			for (const [k, v] of Object.entries(delivery.headers))
				if (typeof v === 'string') headers[k] = v;
			const { ctx, response } = makeWebhookContext({
				rawBody: delivery.body,
				headers,
				credentials: reboundCreds(),
				params: { options: { output: 'inboxRow' } },
			});
			const result = (await new ReBoundTrigger().webhook.call(ctx)) as IWebhookResponseData;
			expect(response.status ?? 200).toBe(200);
			const [returns, exceptions] = result.workflowData ?? [[], []];
			expect(exceptions ?? []).toEqual([]);
			expect(returns).toHaveLength(1);
			rows.set(String(returns[0].json.returnId), returns[0].json);
		}
		return rows;
	} finally {
		await receiver.close();
	}
}

describe('the refund ReBound reports reaches the credit step', () => {
	it('webhook: ReBound Trigger → inbox row → Map Returns → Validate SKUs → Apply Stock Moves → Create Credit Note', async () => {
		const rows = await throughTheTrigger();
		// the inbox row is what the processor reads: the payload carries the refund
		for (const want of SEQUENCE)
			expect({ id: want.id, refund: refundOf(rows.get(want.id)!) }).toEqual({
				id: want.id,
				refund: want.refund,
			});
		await expectRefundsCompared(rows);
	});

	it('webhook, finance batched: the stock step output stored as JSON, then Create Credit Note', async () => {
		await expectRefundsCompared(await throughTheTrigger(), true);
	});

	it('poll: ReBound Poll Trigger over the legacy API (normalised returns) → the processor nodes', async () => {
		const http = n8nHttpOverNode(makeNodeHttpSend());
		const { ctx } = makePollContext({
			credentials: reboundCreds(),
			httpRequestWithAuthentication: http.fn,
		});
		const out = (await new ReBoundPollTrigger().poll.call(ctx)) as INodeExecutionData[][];
		expect(out[1]).toEqual([]);
		const byId = new Map(out[0].map((i) => [String(i.json.returnId), i.json]));
		// every graded return of the fixture, each with the refund it reports
		expect(Object.fromEntries([...byId].map(([id, r]) => [id, r.refundPence]))).toEqual({
			'5001': 2413,
			'5002': 5500,
			'5003': 800,
			'5004': 1500,
			'5005': 3574,
			'5006': 6241,
			'5007': 4000,
			'5010': 2700,
			// the demo's credit-policy returns (held Missing hoodie: 63.00 if released; exchange: the jeans only)
			'5011': 6300,
			'5012': 3000,
		});
		await expectRefundsCompared(byId);
	});

	it('poll, Output: Inbox Row → the processor nodes', async () => {
		const http = n8nHttpOverNode(makeNodeHttpSend());
		const { ctx } = makePollContext({
			credentials: reboundCreds(),
			httpRequestWithAuthentication: http.fn,
			params: { options: { output: 'inboxRow' } },
		});
		const out = (await new ReBoundPollTrigger().poll.call(ctx)) as INodeExecutionData[][];
		const rows = new Map(out[0].map((i) => [String(i.json.returnId), i.json]));
		expect(typeof rows.get('5010')?.payload).toBe('string');
		await expectRefundsCompared(rows);
	});

	it('API: the ReBound node (Return → Get) → the processor nodes', async () => {
		const http = n8nHttpOverNode(makeNodeHttpSend());
		const [out] = await new ReBound().execute.call(
			mockExecuteContext({
				items: SEQUENCE.map(() => ({})),
				params: { resource: 'return', operation: 'get', options: {} },
				paramsPerItem: SEQUENCE.map((s) => ({ returnId: s.id })),
				credentials: { reBoundApi: reboundCreds() },
				helpers: { httpRequestWithAuthentication: http.fn },
				node: { name: 'ReBound', type: 'n8n-nodes-rebound-khaos.reBound' },
			}),
		);
		await expectRefundsCompared(new Map(out.map((i) => [String(i.json.returnId), i.json])));
	});

	it('no refund reported: the credit is created, nothing is compared, no exception', async () => {
		const res = await fetch(`${rebound.adminUrl}/returns/5010/refund`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ refund_total: null }),
		});
		expect(res.status).toBe(200);
		const http = n8nHttpOverNode(makeNodeHttpSend());
		const [out] = await new ReBound().execute.call(
			mockExecuteContext({
				items: [{}],
				params: { resource: 'return', operation: 'get', returnId: '5010', options: {} },
				credentials: { reBoundApi: reboundCreds() },
				helpers: { httpRequestWithAuthentication: http.fn },
				node: { name: 'ReBound', type: 'n8n-nodes-rebound-khaos.reBound' },
			}),
		);
		expect(out[0].json.refundPence).toBeNull();
		const [created, exceptions] = await khaosNode(CREDIT, [
			(
				await khaosNode({ resource: 'stock', operation: 'applyReturnMoves', options: {} }, [
					(
						await new ReturnsMapping().execute.call(
							mockExecuteContext({ items: [out[0].json], params: MAPPING }),
						)
					)[0][0].json,
				])
			)[0][0].json,
		]);
		expect(exceptions).toEqual([]);
		expect(created[0].json).toMatchObject({ associatedRef: 'RB-5010', refundPence: null });
		expect(created[0].json.mismatch ?? null).toBeNull();
	});
});
