import { EventEmitter } from 'node:events';
import type { IDataObject, IWebhookResponseData } from 'n8n-workflow';
import { ReBoundTrigger } from '../../../nodes/ReBoundTrigger/ReBoundTrigger.node';
import {
	markInFlight,
	settleFollowers,
	type BatchMember,
} from '../../../nodes/shared/reboundDeliveryBatch';
import type { HeldResponse } from '../../../nodes/shared/webhookResponse';
import {
	batchWorkflowData,
	inFlightCount,
	joinBatch,
	openBatchCount,
} from '../../../transports/rebound/deliveryBatch';
import { DEFAULT_WEBHOOK_SETTINGS, signWebhookBody } from '../../../transports/rebound/webhook';
import {
	StaticDataStore,
	TEST_WEBHOOK_SECRET,
	makeWebhookContext,
	rawReturn,
} from '../../helpers/reboundFakes';

// The node's own waits (window, longest answer wait) use n8n-workflow's sleep: here its timers are
// unref'd so a pending 120 s answer wait does not keep Jest alive; the durations are unchanged.
jest.mock('n8n-workflow', () => ({
	...jest.requireActual('n8n-workflow'),
	sleep: (ms: number) =>
		new Promise<void>((resolve) => {
			setTimeout(resolve, ms).unref();
		}),
}));

/** An Express-like response that records what it was answered with and emits 'finish' / 'close'. */
class FakeRes extends EventEmitter implements HeldResponse {
	statusCode = 200;
	body: unknown = undefined;
	headersSent = false;
	writableEnded = false;
	answers = 0;
	status(code: number): this {
		this.statusCode = code;
		return this;
	}
	json(body: unknown): this {
		this.body = body;
		this.answers += 1;
		this.headersSent = true;
		this.writableEnded = true;
		return this;
	}
	/** What n8n does when it answers the leader at the end of its run. */
	finishWith(code: number): void {
		this.status(code).json(undefined);
		this.emit('finish');
		this.emit('close');
	}
}

/** A sleep that only resolves when the test releases it (no wall-clock waits). */
function manualSleeper() {
	const pending: Array<{ ms: number; resolve: () => void }> = [];
	return {
		sleep: (ms: number) => new Promise<void>((resolve) => pending.push({ ms, resolve })),
		release(ms?: number) {
			for (const p of pending.splice(0))
				if (ms === undefined || p.ms === ms) p.resolve();
				else pending.push(p);
		},
		pending: () => pending.map((p) => p.ms),
	};
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function member(eventId: string, output: 0 | 1 = 0): BatchMember & { res: FakeRes } {
	return {
		output,
		item: { json: { returnId: eventId } },
		ack: { status: output === 0 ? 'accepted' : 'exception', eventId },
		res: new FakeRes(),
	};
}

describe('delivery batch: joining', () => {
	it('the first delivery leads; deliveries inside the window follow; the leader returns every member in arrival order', async () => {
		const s = manualSleeper();
		const settings = { windowMs: 100, maxSize: 10, maxWaitMs: 60_000 };
		const [a, b, c] = [member('e1'), member('e2'), member('e3', 1)];
		const leading = joinBatch('wf:T', a, settings, s.sleep);
		expect(await joinBatch('wf:T', b, settings, s.sleep)).toEqual({ role: 'follower' });
		expect(await joinBatch('wf:T', c, settings, s.sleep)).toEqual({ role: 'follower' });
		expect(s.pending()).toEqual([100]);
		s.release();
		const led = await leading;
		expect(led.role).toBe('leader');
		if (led.role !== 'leader') return;
		expect(led.members.map((m) => m.ack.eventId)).toEqual(['e1', 'e2', 'e3']);
		// Returns on output 0, exceptions on output 1
		expect(batchWorkflowData(led.members).map((o) => o.map((i) => i.json.returnId))).toEqual([
			['e1', 'e2'],
			['e3'],
		]);
		expect(openBatchCount()).toBe(0);
	});

	it('emits a return delivered twice within one batch once (the inbox check cannot see an uninserted copy)', () => {
		const [a, copy, b] = [member('e1'), member('e1'), member('e2')];
		expect(batchWorkflowData([a, copy, b]).map((o) => o.map((i) => i.json.returnId))).toEqual([
			['e1', 'e2'],
			[],
		]);
	});

	it('a full batch starts at once, without waiting for its window; the next delivery opens a new batch', async () => {
		const s = manualSleeper();
		const settings = { windowMs: 5000, maxSize: 3, maxWaitMs: 60_000 };
		const leading = joinBatch('wf:Full', member('f1'), settings, s.sleep);
		await joinBatch('wf:Full', member('f2'), settings, s.sleep);
		await joinBatch('wf:Full', member('f3'), settings, s.sleep);
		const led = await leading; // resolved by the batch filling up: the window's sleep is still pending
		expect(s.pending()).toEqual([5000]);
		expect(led.role === 'leader' && led.members.length).toBe(3);
		const next = joinBatch('wf:Full', member('f4'), settings, s.sleep);
		expect(s.pending()).toEqual([5000, 5000]);
		s.release();
		const second = await next;
		expect(second.role === 'leader' && second.members.map((m) => m.ack.eventId)).toEqual(['f4']);
	});

	it('group commit: while the previous batch still runs, the next keeps filling after its window, until that run is answered', async () => {
		const s = manualSleeper();
		const settings = { windowMs: 50, maxSize: 10, maxWaitMs: 60_000, holdMs: 2000 };
		const firstLeader = new FakeRes();
		markInFlight('wf:G', firstLeader, 60_000, s.sleep); // batch 1's run is going
		const leading = joinBatch('wf:G', member('g1'), settings, s.sleep);
		s.release(50); // the window closes ...
		await tick();
		expect(await joinBatch('wf:G', member('g2'), settings, s.sleep)).toEqual({ role: 'follower' }); // ... and it still takes deliveries
		expect(s.pending()).toContain(2000);
		firstLeader.finishWith(200); // batch 1 answered: batch 2 starts with both
		const led = await leading;
		expect(led.role === 'leader' && led.members.map((m) => m.ack.eventId)).toEqual(['g1', 'g2']);
		expect(inFlightCount()).toBe(0);
		s.release();
	});

	it('group commit waits at most holdMs for a run that is never answered', async () => {
		const s = manualSleeper();
		markInFlight('wf:H', new FakeRes(), 60_000, s.sleep);
		const leading = joinBatch(
			'wf:H',
			member('h1'),
			{ windowMs: 50, maxSize: 10, maxWaitMs: 60_000, holdMs: 2000 },
			s.sleep,
		);
		s.release(50);
		await tick();
		s.release(2000);
		const led = await leading;
		expect(led.role === 'leader' && led.members).toHaveLength(1);
		s.release();
	});

	it('start when idle: a delivery that finds no run going leads alone at once; what arrives during its run gathers for the window and that run', async () => {
		const s = manualSleeper();
		const settings = {
			windowMs: 50,
			maxSize: 10,
			maxWaitMs: 60_000,
			holdMs: 2000,
			startWhenIdle: true,
		};
		const alone = await joinBatch('wf:I', member('i1'), settings, s.sleep);
		expect(s.pending()).toEqual([]); // no window waited
		expect(alone.role === 'leader' && alone.members.map((m) => m.ack.eventId)).toEqual(['i1']);
		expect(openBatchCount()).toBe(0);
		// its run is going (the trigger marks it in flight): the next deliveries batch as before
		const firstLeader = new FakeRes();
		markInFlight('wf:I', firstLeader, 60_000, s.sleep);
		const leading = joinBatch('wf:I', member('i2'), settings, s.sleep);
		expect(await joinBatch('wf:I', member('i3'), settings, s.sleep)).toEqual({ role: 'follower' });
		expect(s.pending()).toContain(50);
		s.release(50);
		await tick();
		expect(await joinBatch('wf:I', member('i4'), settings, s.sleep)).toEqual({ role: 'follower' });
		firstLeader.finishWith(200);
		const led = await leading;
		expect(led.role === 'leader' && led.members.map((m) => m.ack.eventId)).toEqual([
			'i2',
			'i3',
			'i4',
		]);
		expect(inFlightCount()).toBe(0);
		// idle again: at once
		const again = await joinBatch('wf:I', member('i5'), settings, s.sleep);
		expect(again.role === 'leader' && again.members.map((m) => m.ack.eventId)).toEqual(['i5']);
		s.release();
	});

	it('without start when idle, a delivery waits for its window even when no run is going', async () => {
		const s = manualSleeper();
		const leading = joinBatch(
			'wf:W',
			member('w1'),
			{ windowMs: 50, maxSize: 10, maxWaitMs: 60_000, startWhenIdle: false },
			s.sleep,
		);
		await tick();
		expect(s.pending()).toEqual([50]);
		s.release(50);
		const led = await leading;
		expect(led.role === 'leader' && led.members).toHaveLength(1);
	});

	it('keeps batches of different workflows (keys) apart', async () => {
		const s = manualSleeper();
		const settings = { windowMs: 50, maxSize: 10, maxWaitMs: 60_000 };
		const one = joinBatch('wf1:T', member('x1'), settings, s.sleep);
		const two = joinBatch('wf2:T', member('y1'), settings, s.sleep);
		s.release();
		const [a, b] = await Promise.all([one, two]);
		expect(a.role === 'leader' && a.members.map((m) => m.ack.eventId)).toEqual(['x1']);
		expect(b.role === 'leader' && b.members.map((m) => m.ack.eventId)).toEqual(['y1']);
	});
});

describe('delivery batch: answering the followers', () => {
	const info = { size: 3, leaderEventId: 'e1' };

	it('answers every follower 200 with its own ack once n8n answered the leader 200 (the run finished)', async () => {
		const s = manualSleeper();
		const leader = new FakeRes();
		const followers = [member('e2'), member('e3', 1)];
		const settled = settleFollowers(leader, followers, info, 60_000, s.sleep);
		await tick();
		expect(followers.map((f) => f.res.answers)).toEqual([0, 0]); // held until the run is done
		leader.finishWith(200);
		expect(await settled).toBe(200);
		expect(followers.map((f) => [f.res.statusCode, f.res.body])).toEqual([
			[200, { status: 'accepted', eventId: 'e2', batch: { size: 3, leader: 'e1' } }],
			[200, { status: 'exception', eventId: 'e3', batch: { size: 3, leader: 'e1' } }],
		]);
		expect(followers.map((f) => f.res.answers)).toEqual([1, 1]);
	});

	it.each([
		[
			'the run failed (n8n answered the leader 500)',
			(r: FakeRes) => r.finishWith(500),
			'ended with HTTP 500',
		],
		[
			'the leader lost its connection before the answer',
			(r: FakeRes) => r.emit('close'),
			'lost its connection',
		],
	])('answers 503 (deliver again) when %s', async (_label, end, why) => {
		const s = manualSleeper();
		const leader = new FakeRes();
		const followers = [member('e2')];
		const settled = settleFollowers(leader, followers, info, 60_000, s.sleep);
		end(leader);
		expect(await settled).toBe(503);
		expect(followers[0].res.statusCode).toBe(503);
		expect(followers[0].res.body).toMatchObject({ status: 'retry', eventId: 'e2' });
		expect(String((followers[0].res.body as IDataObject).message)).toContain(why);
	});

	it('answers 503 after the longest wait when the leader is never answered, and never twice', async () => {
		const s = manualSleeper();
		const leader = new FakeRes();
		const followers = [member('e2')];
		const settled = settleFollowers(leader, followers, info, 120_000, s.sleep);
		expect(s.pending()).toEqual([120_000]);
		s.release(120_000);
		expect(await settled).toBe(503);
		expect(String((followers[0].res.body as IDataObject).message)).toContain(
			'not answered within 120 s',
		);
		leader.finishWith(200); // too late: the follower already has its answer
		await tick();
		expect(followers[0].res.answers).toBe(1);
		expect(followers[0].res.statusCode).toBe(503);
	});

	it('does not answer a follower whose client already went away', async () => {
		const s = manualSleeper();
		const leader = new FakeRes();
		const gone = member('e2');
		gone.res.writableEnded = true;
		const settled = settleFollowers(leader, [gone], info, 60_000, s.sleep);
		leader.finishWith(200);
		await settled;
		expect(gone.res.answers).toBe(0);
	});
});

describe('ReBound Trigger with a batch window', () => {
	const node = new ReBoundTrigger();

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

	function delivery(
		raw: string,
		params: Record<string, unknown>,
		mode?: string,
		workflowId = 'wfB',
	) {
		const store = new StaticDataStore();
		const headers = signWebhookBody(
			raw,
			TEST_WEBHOOK_SECRET,
			Math.floor(Date.now() / 1000),
			DEFAULT_WEBHOOK_SETTINGS,
		);
		const { ctx } = makeWebhookContext({
			rawBody: Buffer.from(raw, 'utf8'),
			headers,
			params,
			staticData: store.open(),
			mode,
		});
		const res = new FakeRes();
		const context = {
			...(ctx as object),
			getResponseObject: () => res,
			getWorkflow: () => ({ id: workflowId, name: 'intake', active: true }),
		};
		return { run: () => node.webhook.call(context as never) as Promise<IWebhookResponseData>, res };
	}

	it('starts one execution for deliveries inside the window and answers the others after the run', async () => {
		const params = { options: { batchWindowMs: 30, batchMaxSize: 50 } };
		const ds = ['7001', '7002', '7003'].map((id) => delivery(body(id), params));
		const results = await Promise.all(ds.map((d) => d.run()));
		const leaders = results.filter((r) => r.workflowData !== undefined);
		expect(leaders).toHaveLength(1);
		expect(leaders[0].workflowData?.[0].map((i) => i.json.returnId)).toEqual([
			'7001',
			'7002',
			'7003',
		]);
		expect(leaders[0].workflowData?.[1]).toEqual([]);
		expect(leaders[0].webhookResponse).toBeUndefined(); // n8n answers the leader when the run is done
		expect(results.slice(1)).toEqual([{ noWebhookResponse: true }, { noWebhookResponse: true }]);
		expect(ds.map((d) => d.res.answers)).toEqual([0, 0, 0]);
		ds[0].res.finishWith(200);
		await tick();
		// n8n sends the leader no body ("no data"): it gets the same JSON ack as the others
		expect([ds[0].res.statusCode, ds[0].res.body]).toEqual([
			200,
			{ status: 'accepted', eventId: 'evt-7001', batch: { size: 3, leader: 'evt-7001' } },
		]);
		expect(
			ds
				.slice(1)
				.map((d) => [
					d.res.statusCode,
					(d.res.body as IDataObject).status,
					(d.res.body as IDataObject).eventId,
				]),
		).toEqual([
			[200, 'accepted', 'evt-7002'],
			[200, 'accepted', 'evt-7003'],
		]);
	});

	it('Start at Once When Idle: the first delivery runs at once; those arriving during its run start one execution after it, answered after theirs', async () => {
		const params = {
			options: { batchWindowMs: 600, batchMaxSize: 50, batchStartWhenIdle: true },
		};
		const ds = ['7101', '7102', '7103'].map((id) => delivery(body(id), params, undefined, 'wfS'));
		const t0 = Date.now();
		const first = await ds[0].run(); // nothing was running: no window
		expect(Date.now() - t0).toBeLessThan(300);
		expect(first.workflowData?.[0].map((i) => i.json.returnId)).toEqual(['7101']);
		const rest = Promise.all(ds.slice(1).map((d) => d.run()));
		await new Promise((r) => setTimeout(r, 650)); // past their window: they wait for 7101's run
		expect(ds.map((d) => d.res.answers)).toEqual([0, 0, 0]);
		ds[0].res.finishWith(200);
		const [second, third] = await rest;
		expect(second.workflowData?.[0].map((i) => i.json.returnId)).toEqual(['7102', '7103']);
		expect(third).toEqual({ noWebhookResponse: true });
		ds[1].res.finishWith(200);
		await tick();
		expect([ds[2].res.statusCode, (ds[2].res.body as IDataObject).eventId]).toEqual([
			200,
			'evt-7103',
		]);
	});

	it("passes n8n's own error answer to the leader unchanged and answers the followers 503", async () => {
		const params = { options: { batchWindowMs: 20 } };
		const ds = ['7301', '7302'].map((id) => delivery(body(id), params, undefined, 'wfE'));
		await Promise.all(ds.map((d) => d.run()));
		ds[0].res.status(500).json({ message: 'Error in workflow' });
		ds[0].res.emit('finish');
		await tick();
		expect([ds[0].res.statusCode, ds[0].res.body]).toEqual([500, { message: 'Error in workflow' }]);
		expect([ds[1].res.statusCode, (ds[1].res.body as IDataObject).status]).toEqual([503, 'retry']);
	});

	it('Output: Inbox Row emits the inbox row (payload = the normalised return) in a batch too', async () => {
		const plain = delivery(body('7501'), { options: {} }, undefined, 'wfO1');
		const ret = (await plain.run()).workflowData![0][0].json;
		const batched = delivery(
			body('7501'),
			{ options: { batchWindowMs: 5, output: 'inboxRow' } },
			undefined,
			'wfO2',
		);
		const row = (await batched.run()).workflowData![0][0].json;
		expect(row).toMatchObject({
			eventId: 'evt-7501',
			returnId: '7501',
			orderReference: 'WEB-1001',
			eventType: 'return.processed',
			sequence: 3,
			status: 'queued',
			attempts: 0,
			lastError: '',
		});
		expect(JSON.parse(String(row.payload))).toEqual(ret);
	});

	it('keeps no duplicate memory in static data while batching (n8n would write it after every follower)', async () => {
		const params = { options: { batchWindowMs: 10 } };
		const raw = body('7401');
		const store = new StaticDataStore();
		const headers = signWebhookBody(
			raw,
			TEST_WEBHOOK_SECRET,
			Math.floor(Date.now() / 1000),
			DEFAULT_WEBHOOK_SETTINGS,
		);
		for (let i = 0; i < 2; i++) {
			const { ctx, staticData } = makeWebhookContext({
				rawBody: Buffer.from(raw, 'utf8'),
				headers,
				params,
				staticData: store.open(),
			});
			const res = new FakeRes();
			const result = (await node.webhook.call({
				...(ctx as object),
				getResponseObject: () => res,
				getWorkflow: () => ({ id: 'wfM' }),
			} as never)) as IWebhookResponseData;
			store.save(staticData);
			// both deliveries go on to the workflow: the inbox's event-id check drops the second
			expect(result.workflowData?.[0].map((it) => it.json.returnId)).toEqual(['7401']);
		}
		expect(store.peek().deliveries).toBeUndefined();
	});

	it('does not batch without a window, nor in the editor (manual test deliveries); still answers after the run', async () => {
		for (const [params, mode] of [
			[{ options: {} }, undefined],
			[{ options: { batchWindowMs: 30 } }, 'manual'],
		] as const) {
			const d = delivery(body('7101'), params, mode, `wf-${String(mode)}`);
			const result = await d.run();
			expect(result.webhookResponse).toEqual({ status: 'accepted', eventId: 'evt-7101' });
			expect(result.workflowData?.[0]).toHaveLength(1);
			// answered by n8n when the run has finished; the trigger gives that answer its ack
			d.res.finishWith(200);
			expect(d.res.body).toEqual({ status: 'accepted', eventId: 'evt-7101' });
		}
	});

	it('still answers rejected deliveries at once, outside any batch', async () => {
		const params = { options: { batchWindowMs: 30 } };
		const raw = body('7201');
		const { ctx, response } = makeWebhookContext({
			rawBody: Buffer.from(raw, 'utf8'),
			headers: { 'X-Rebound-Signature': 'bad', 'X-Rebound-Timestamp': '1' },
			params,
		});
		const result = (await node.webhook.call({
			...(ctx as object),
			getWorkflow: () => ({ id: 'wfR' }),
		} as never)) as IWebhookResponseData;
		expect(result).toEqual({ noWebhookResponse: true });
		expect(response.status).toBe(401);
		expect(openBatchCount()).toBe(0);
	});
});
