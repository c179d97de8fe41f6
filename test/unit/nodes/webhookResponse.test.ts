/**
 * nodes/shared/webhookResponse.ts (the one module that touches n8n's webhook response) against
 * the pinned n8n's own response path: the Express of that n8n, and its webhook request handler
 * (webhooks/webhook-request-handler) answering what n8n's webhook helpers hand it in the "last
 * node" response mode. When an n8n upgrade changes how a trigger's response is answered, or
 * what the response object offers, this file fails, and it is the only one to change.
 *
 * Needs the pinned runtime in the cache (`npm run n8n:runtime`; the e2e tests install it too):
 * without it the suite is skipped and says so.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { IDataObject, IWebhookResponseData } from 'n8n-workflow';
import { ReBoundTrigger } from '../../../nodes/ReBoundTrigger/ReBoundTrigger.node';
import { openBatchCount } from '../../../transports/rebound/deliveryBatch';
import { RESPONSE_METHODS, RESPONSE_PROPERTIES } from '../../../nodes/shared/webhookResponse';
import { DEFAULT_WEBHOOK_SETTINGS, signWebhookBody } from '../../../transports/rebound/webhook';
import { PINNED_N8N_VERSION, runtimeRoot } from '../../../scripts/n8n/runtime';
import {
	StaticDataStore,
	TEST_WEBHOOK_SECRET,
	makeWebhookContext,
	rawReturn,
} from '../../helpers/reboundFakes';

// The trigger's longest answer wait (120 s) uses n8n-workflow's sleep: unref'd here so it does not keep Jest alive.
jest.mock('n8n-workflow', () => ({
	...jest.requireActual('n8n-workflow'),
	sleep: (ms: number) =>
		new Promise<void>((resolve) => {
			setTimeout(resolve, ms).unref();
		}),
}));

const N8N_MODULES = path.join(runtimeRoot(PINNED_N8N_VERSION), 'n8n', 'node_modules');
const HANDLER = path.join(N8N_MODULES, 'n8n', 'dist', 'webhooks', 'webhook-request-handler.js');
const installed = fs.existsSync(HANDLER);
const suite = installed ? describe : describe.skip;
const title = installed
	? `webhook response against n8n ${PINNED_N8N_VERSION}`
	: `webhook response against n8n ${PINNED_N8N_VERSION} (SKIPPED: not installed at ${N8N_MODULES}; run npm run n8n:runtime)`;

/** What this file uses of the pinned n8n (loaded from its install, not from this repository). */
interface PinnedN8n {
	express: () => {
		post(p: string, h: unknown): void;
		get(p: string, h: unknown): void;
		listen(port: number, host: string, cb: () => void): PinnedServer;
	};
	createWebhookHandlerFor: (
		manager: { executeWebhook: (req: unknown, res: unknown) => Promise<unknown> },
		type: string,
	) => unknown;
	createStaticResponse: (body: unknown, code: number | undefined, headers: unknown) => unknown;
	extractWebhookLastNodeResponse: (
		responseData: string,
		lastNodeTaskData: unknown,
		checkAllMainOutputs: boolean,
		options: Record<string, unknown>,
	) => Promise<
		{ ok: true; result: { type: string; body?: unknown } } | { ok: false; error: Error }
	>;
}

interface PinnedServer {
	address(): AddressInfo;
	close(cb?: () => void): void;
	closeAllConnections(): void;
}

function loadPinnedN8n(): PinnedN8n {
	// Node's own require (not Jest's registry), from inside the pinned install. The extractor is
	// loaded first: inside Jest, loading the request handler first overflows V8 (an import cycle in
	// n8n's packages that n8n's own start order never meets).
	const load = createRequire(HANDLER);
	const { extractWebhookLastNodeResponse } = load('./webhook-last-node-response-extractor.js');
	const { createStaticResponse } = load('./webhook-response.js');
	const { createWebhookHandlerFor } = load(HANDLER);
	return {
		express: load(path.join(N8N_MODULES, 'express')),
		createWebhookHandlerFor,
		createStaticResponse,
		extractWebhookLastNodeResponse,
	};
}

/** How a test ends a started run: as n8n's webhook helpers report it in the "last node" mode. */
type RunEnd = 'success' | 'error';

interface Deferred<T> {
	promise: Promise<T>;
	resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
	let resolve!: (value: T) => void;
	const promise = new Promise<T>((r) => {
		resolve = r;
	});
	return { promise, resolve };
}

suite(title, () => {
	let n8n: PinnedN8n;
	let server: PinnedServer;
	let baseUrl: string;
	/** What the fake webhook manager does with the next request (set per test). */
	let onRequest: (req: unknown, res: unknown) => Promise<unknown>;

	beforeAll(async () => {
		n8n = loadPinnedN8n();
		const app = n8n.express();
		// n8n's own request handler: it writes to the response whatever the webhook helpers answer.
		app.post(
			'/webhook/:path',
			n8n.createWebhookHandlerFor({ executeWebhook: (req, res) => onRequest(req, res) }, 'webhook'),
		);
		await new Promise<void>((resolve) => {
			server = app.listen(0, '127.0.0.1', resolve);
		});
		baseUrl = `http://127.0.0.1:${server.address().port}`;
	}, 30_000);

	afterAll(async () => {
		server?.closeAllConnections();
		await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
	});

	it('the response n8n hands a webhook node has every method and property the module uses', async () => {
		const seen: {
			methods: Record<string, string>;
			properties: Record<string, boolean>;
			chains: boolean;
		} = { methods: {}, properties: {}, chains: false };
		onRequest = async (_req, res) => {
			const r = res as Record<string, unknown> & { status(code: number): unknown };
			for (const m of RESPONSE_METHODS) seen.methods[m] = typeof r[m];
			for (const p of RESPONSE_PROPERTIES) seen.properties[p] = p in r;
			seen.chains = r.status(200) === r;
			return n8n.createStaticResponse({ ok: true }, 200, undefined);
		};
		const answer = await fetch(`${baseUrl}/webhook/shape`, { method: 'POST' });
		expect(answer.status).toBe(200);
		expect(seen.methods).toEqual(Object.fromEntries(RESPONSE_METHODS.map((m) => [m, 'function'])));
		expect(seen.properties).toEqual(Object.fromEntries(RESPONSE_PROPERTIES.map((p) => [p, true])));
		expect(seen.chains).toBe(true);
	});

	it('"no data" in the last node mode gives the answer no body (the gap the trigger fills with its ack)', async () => {
		const extracted = await n8n.extractWebhookLastNodeResponse(
			'noData',
			{ data: { main: [[{ json: { a: 1 } }]] } },
			false,
			{},
		);
		expect(extracted).toEqual({ ok: true, result: { type: 'static', body: undefined } });
		onRequest = async () => n8n.createStaticResponse(undefined, 200, undefined);
		const answer = await fetch(`${baseUrl}/webhook/nodata`, { method: 'POST' });
		expect([answer.status, await answer.text()]).toEqual([200, '']);
	});

	describe("the ReBound Trigger through n8n's request handler", () => {
		const node = new ReBoundTrigger();
		let workflowSeq = 0;

		function body(returnId: string): string {
			return JSON.stringify({
				id: `evt-${returnId}`,
				event: 'return.processed',
				occurred_at: '2026-11-28T10:00:00Z',
				sequence: 3,
				data: rawReturn(returnId, 'WEB-1001', [
					{ sku: 'TSHIRT-RED-M', qty: 1, disposition: 'Grade A', reason: 'Too small' },
				]),
			});
		}

		/**
		 * Plays n8n's webhook helpers (webhooks/webhook-helpers) for a trigger in the "last node" mode
		 * with "no data": the node's webhook() gets the real response; `noWebhookResponse` is passed
		 * on (n8n then sends nothing); a started run is answered when the test ends it, 200 with the
		 * extracted (empty) body, or 500 "Error in workflow" as n8n answers a failed run.
		 */
		function triggerBehindN8n(params: Record<string, unknown>, signed = true) {
			const workflowId = `wf-${++workflowSeq}`;
			const runs: Array<Deferred<RunEnd>> = [];
			const results: IWebhookResponseData[] = [];
			onRequest = async (req, res) => {
				const raw = String((req as { headers: Record<string, string> }).headers['x-test-body']);
				const headers = signed
					? signWebhookBody(
							raw,
							TEST_WEBHOOK_SECRET,
							Math.floor(Date.now() / 1000),
							DEFAULT_WEBHOOK_SETTINGS,
						)
					: { 'X-Rebound-Signature': 'bad', 'X-Rebound-Timestamp': '1' };
				const { ctx } = makeWebhookContext({
					rawBody: Buffer.from(raw, 'utf8'),
					headers,
					params,
					staticData: new StaticDataStore().open(),
				});
				const context = {
					...(ctx as object),
					getResponseObject: () => res,
					getWorkflow: () => ({ id: workflowId, name: 'intake', active: true }),
				};
				const result = (await node.webhook.call(context as never)) as IWebhookResponseData;
				results.push(result);
				if (result.noWebhookResponse === true) return { noWebhookResponse: true };
				const run = deferred<RunEnd>();
				runs.push(run);
				if ((await run.promise) === 'error')
					return { data: { message: 'Error in workflow' }, responseCode: 500 };
				const extracted = await n8n.extractWebhookLastNodeResponse(
					'noData',
					{ data: { main: result.workflowData } },
					false,
					{},
				);
				if (!extracted.ok) throw extracted.error;
				return n8n.createStaticResponse(extracted.result.body, 200, undefined);
			};
			const send = (returnId: string, signal?: AbortSignal) =>
				fetch(`${baseUrl}/webhook/rebound`, {
					method: 'POST',
					headers: { 'x-test-body': body(returnId) },
					signal,
				});
			return { runs, results, send };
		}

		async function until(check: () => boolean): Promise<void> {
			for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
			expect(check()).toBe(true);
		}

		async function read(answer: Response): Promise<[number, IDataObject]> {
			return [answer.status, (await answer.json()) as IDataObject];
		}

		it('alone: answered when the run has finished, with the JSON ack as the body', async () => {
			const t = triggerBehindN8n({ options: {} });
			const answer = t.send('8001');
			await until(() => t.runs.length === 1);
			t.runs[0].resolve('success');
			expect(await read(await answer)).toEqual([200, { status: 'accepted', eventId: 'evt-8001' }]);
		});

		it("alone: a failed run keeps n8n's own 500 answer", async () => {
			const t = triggerBehindN8n({ options: {} });
			const answer = t.send('8002');
			await until(() => t.runs.length === 1);
			t.runs[0].resolve('error');
			expect(await read(await answer)).toEqual([500, { message: 'Error in workflow' }]);
		});

		it('in a batch: the follower is held open and answered 200 with its ack once n8n answered the leader', async () => {
			const t = triggerBehindN8n({ options: { batchWindowMs: 100 } });
			const leader = t.send('8101');
			await until(() => openBatchCount() === 1); // the leader waits for its window
			const follower = t.send('8102');
			await until(() => t.runs.length === 1);
			expect(
				t.results.map((r) => (r.noWebhookResponse ? 'held' : r.workflowData![0].length)),
			).toEqual(['held', 2]);
			t.runs[0].resolve('success');
			const batch = { size: 2, leader: 'evt-8101' };
			expect(await read(await leader)).toEqual([
				200,
				{ status: 'accepted', eventId: 'evt-8101', batch },
			]);
			expect(await read(await follower)).toEqual([
				200,
				{ status: 'accepted', eventId: 'evt-8102', batch },
			]);
		});

		it("in a batch: a failed run gives the leader n8n's 500 and the follower 503, so ReBound sends it again", async () => {
			const t = triggerBehindN8n({ options: { batchWindowMs: 100 } });
			const leader = t.send('8201');
			await until(() => openBatchCount() === 1);
			const follower = t.send('8202');
			await until(() => t.runs.length === 1);
			t.runs[0].resolve('error');
			expect(await read(await leader)).toEqual([500, { message: 'Error in workflow' }]);
			const [status, answer] = await read(await follower);
			expect([status, answer.status, answer.eventId]).toEqual([503, 'retry', 'evt-8202']);
			expect(String(answer.message)).toContain('ended with HTTP 500');
		});

		it("in a batch: the leader's connection closing unanswered answers the follower 503", async () => {
			const t = triggerBehindN8n({ options: { batchWindowMs: 100 } });
			const abort = new AbortController();
			const leader = t.send('8301', abort.signal).catch((error: { name?: string }) => error);
			await until(() => openBatchCount() === 1);
			const follower = t.send('8302');
			await until(() => t.runs.length === 1);
			abort.abort();
			expect(((await leader) as { name?: string }).name).toBe('AbortError');
			const [status, answer] = await read(await follower);
			expect([status, answer.status]).toEqual([503, 'retry']);
			expect(String(answer.message)).toContain('lost its connection');
			t.runs[0].resolve('success'); // n8n answering a closed connection afterwards changes nothing
		});

		it('a rejected delivery is answered at once by the node, and n8n adds nothing', async () => {
			const t = triggerBehindN8n({ options: { batchWindowMs: 100 } }, false);
			const [status, answer] = await read(await t.send('8401'));
			expect([status, answer.status]).toEqual([401, 'rejected']);
			expect(t.results).toEqual([{ noWebhookResponse: true }]);
		});
	});
});
