/**
 * Webhook fuzz: the seeded corpus (corpus.ts, > 1,000 deliveries in 13 classes)
 * through the ReBound Trigger's webhook() with a mocked IWebhookFunctions, in
 * both invalid-payload modes (400, and 200 + invalid_payload exception item as
 * the templates configure it), and through transports/rebound/webhook.ts
 * (verifyWebhookSignature, parseWebhookEvent). Every outcome is one of:
 * 401 / 413 / 400 (starts nothing), an invalid_payload exception naming the
 * record and the field, a valid normalised return carrying the text verbatim,
 * or 200 starting nothing (ignored / duplicate / stale). Never a throw, never
 * a prototype change, never an expression evaluated.
 */
import type { IDataObject, IWebhookResponseData } from 'n8n-workflow';
import { ReBoundTrigger } from '../../../nodes/ReBoundTrigger/ReBoundTrigger.node';
import {
	DEFAULT_WEBHOOK_SETTINGS,
	parseWebhookEvent,
	verifyWebhookSignature,
} from '../../../transports/rebound/webhook';
import {
	StaticDataStore,
	TEST_API_KEY,
	TEST_WEBHOOK_SECRET,
	makeWebhookContext,
} from '../../helpers/reboundFakes';
import {
	FUZZ_CLASSES,
	generateCorpus,
	headersFor,
	readPath,
	type Delivery,
	type FuzzCase,
} from './corpus';

const node = new ReBoundTrigger();
const MAX_BODY_KB = 64;
const corpus = generateCorpus({ seed: 20261128, perClass: 90, maxBodyKb: MAX_BODY_KB });

type Outcome =
	| 'rejected_401'
	| 'rejected_413'
	| 'rejected_400'
	| 'exception'
	| 'valid'
	| 'ignored'
	| 'duplicate'
	| 'stale'
	| 'threw'
	| 'other';

interface Observed {
	outcome: Outcome;
	status: number;
	body?: IDataObject;
	result?: IWebhookResponseData;
	error?: unknown;
}

async function deliver(
	d: Delivery,
	store: StaticDataStore,
	emitInvalid: boolean,
): Promise<Observed> {
	const { ctx, response, staticData } = makeWebhookContext({
		rawBody: d.body,
		headers: headersFor(d, TEST_WEBHOOK_SECRET, Math.floor(Date.now() / 1000)),
		params: {
			events: 'final',
			options: { emitInvalidAsExceptions: emitInvalid, maxBodyKb: MAX_BODY_KB },
		},
		staticData: store.open(),
	});
	let result: IWebhookResponseData;
	try {
		result = (await node.webhook.call(ctx)) as IWebhookResponseData;
	} catch (error) {
		return { outcome: 'threw', status: 500, error };
	}
	store.save(staticData);
	if (response.status !== undefined && response.status !== 200) {
		const status = response.status;
		const outcome: Outcome =
			status === 401
				? 'rejected_401'
				: status === 413
					? 'rejected_413'
					: status === 400
						? 'rejected_400'
						: 'other';
		return { outcome, status, body: response.body as IDataObject, result };
	}
	const answer = (result.webhookResponse ?? {}) as IDataObject;
	const s = answer.status;
	if (s === 'accepted') return { outcome: 'valid', status: 200, body: answer, result };
	if (s === 'exception') return { outcome: 'exception', status: 200, body: answer, result };
	if (s === 'ignored' || s === 'duplicate' || s === 'stale')
		return { outcome: s, status: 200, body: answer, result };
	return { outcome: 'other', status: response.status ?? 200, body: answer, result };
}

async function run(c: FuzzCase, emitInvalid: boolean): Promise<Observed> {
	const store = new StaticDataStore();
	for (const d of c.before ?? []) await deliver(d, store, emitInvalid);
	return deliver(c.delivery, store, emitInvalid);
}

const started = (o: Observed) =>
	(o.result?.workflowData ?? []).reduce((n, out) => n + (out?.length ?? 0), 0);

/** What the case expects, as an outcome of the mode. */
function expectedOutcome(c: FuzzCase, emitInvalid: boolean): Outcome {
	const e = c.expect;
	if (e.outcome === 'rejected') return e.status === 401 ? 'rejected_401' : 'rejected_413';
	if (e.outcome === 'invalid') return emitInvalid ? 'exception' : 'rejected_400';
	return e.outcome;
}

/** Every assertion for one case; returns the problems (empty when it behaved). */
function check(c: FuzzCase, o: Observed, emitInvalid: boolean): string[] {
	const problems: string[] = [];
	const want = expectedOutcome(c, emitInvalid);
	if (o.outcome !== want)
		return [
			`expected ${want}, got ${o.outcome} ${JSON.stringify(o.body ?? String(o.error)).slice(0, 300)}`,
		];
	const e = c.expect;
	const text = JSON.stringify({ body: o.body, data: o.result?.workflowData ?? null });
	if (text.includes(TEST_WEBHOOK_SECRET) || text.includes(TEST_API_KEY))
		problems.push('a secret is in the answer or the items');
	if (o.outcome.startsWith('rejected') || ['ignored', 'duplicate', 'stale'].includes(o.outcome)) {
		if (started(o) !== 0) problems.push(`${o.outcome} but started ${started(o)} item(s)`);
	}
	if (e.outcome === 'invalid' && o.outcome === 'rejected_400') {
		const field = o.body?.field;
		const wantField = e.level === 'data' ? `data.${e.field}` : e.field;
		if (field !== wantField)
			problems.push(`400 names field ${String(field)}, expected ${wantField}`);
	}
	if (e.outcome === 'invalid' && o.outcome === 'exception') {
		const [main, exceptions] = o.result!.workflowData!;
		if (main.length !== 0 || exceptions.length !== 1)
			problems.push(`outputs ${main.length}/${exceptions.length}, expected 0/1`);
		const ex = exceptions[0]?.json as IDataObject;
		if (ex?.kind !== 'invalid_payload' || ex?.exception !== true)
			problems.push(`exception kind ${String(ex?.kind)}`);
		if (ex?.field !== e.field)
			problems.push(`exception names field ${String(ex?.field)}, expected ${e.field}`);
		if (!String(ex?.message).includes(e.field))
			problems.push(`message does not name the field: ${String(ex?.message).slice(0, 200)}`);
		const wantId = e.returnId;
		if (
			wantId === null
				? !(ex?.returnId === null || ex?.returnId === '(no id)')
				: ex?.returnId !== wantId
		)
			problems.push(`exception names record ${String(ex?.returnId)}, expected ${String(wantId)}`);
		if (wantId !== null && !String(ex?.message).includes(wantId))
			problems.push('message does not name the record');
		if (ex?.payload === null || ex?.payload === undefined)
			problems.push('no payload kept for replay');
		if (
			c.injected &&
			e.level === 'data' &&
			!String(ex?.payload).includes(JSON.stringify(c.injected).slice(1, -1))
		)
			problems.push('injected text not kept verbatim in the payload');
	}
	if (e.outcome === 'valid') {
		const [main, exceptions] = o.result!.workflowData!;
		if (main.length !== 1 || exceptions.length !== 0)
			problems.push(`outputs ${main.length}/${exceptions.length}, expected 1/0`);
		const ret = main[0]?.json;
		for (const [path, value] of Object.entries(e.verbatim)) {
			const got = readPath(ret, path);
			if (got !== value)
				problems.push(
					`${path} = ${JSON.stringify(got)}, expected verbatim ${JSON.stringify(value)}`,
				);
		}
		if (ret && Object.getPrototypeOf(ret) !== Object.prototype)
			problems.push('emitted item has an odd prototype');
	}
	return problems;
}

const protoSnapshot = () => ({
	object: Object.getOwnPropertyNames(Object.prototype).sort().join(','),
	array: Object.getOwnPropertyNames(Array.prototype).sort().join(','),
	string: Object.getOwnPropertyNames(String.prototype).sort().join(','),
	function: Object.getOwnPropertyNames(Function.prototype).sort().join(','),
});

const table: Record<string, Record<string, number>> = {};
const results: Record<'exceptions' | 'rejects', Map<number, Observed>> = {
	exceptions: new Map(),
	rejects: new Map(),
};

describe('webhook fuzz corpus', () => {
	it('has at least 1,000 deliveries over every class, deterministic for the seed', () => {
		expect(corpus.length).toBeGreaterThanOrEqual(1000);
		const counts = Object.fromEntries(
			FUZZ_CLASSES.map((k) => [k, corpus.filter((c) => c.cls === k).length]),
		);
		for (const k of FUZZ_CLASSES) expect(counts[k]).toBeGreaterThanOrEqual(50);
		const again = generateCorpus({ seed: 20261128, perClass: 90, maxBodyKb: MAX_BODY_KB });
		expect(again.map((c) => c.delivery.body.toString('base64'))).toEqual(
			corpus.map((c) => c.delivery.body.toString('base64')),
		);
		// every invalid case names a field, and the injection class covers every text field at least twice
		for (const c of corpus) if (c.expect.outcome === 'invalid') expect(c.expect.field).not.toBe('');
		expect(
			new Set(corpus.filter((c) => c.cls === 'injection').map((c) => c.label.split(' = ')[0])).size,
		).toBe(15);
	});
});

describe.each([
	['exceptions', true],
	['rejects', false],
] as const)(
	'ReBound Trigger webhook() over the corpus (invalid payloads as %s)',
	(mode, emitInvalid) => {
		const protoBefore = protoSnapshot();

		it('answers every delivery with the expected outcome, never throws, never changes a prototype', async () => {
			const failures: string[] = [];
			const counts: Record<string, Record<string, number>> = {};
			for (const c of corpus) {
				const o = await run(c, emitInvalid);
				results[mode].set(c.n, o);
				counts[c.cls] ??= {};
				counts[c.cls][o.outcome] = (counts[c.cls][o.outcome] ?? 0) + 1;
				const problems = check(c, o, emitInvalid);
				if (problems.length) failures.push(`#${c.n} [${c.cls}] ${c.label}: ${problems.join('; ')}`);
			}
			if (emitInvalid) Object.assign(table, counts);
			expect(failures.slice(0, 15)).toEqual([]);
			expect(({} as Record<string, unknown>).polluted).toBeUndefined();
			expect(protoSnapshot()).toEqual(protoBefore);
			expect(Object.values(counts).reduce((n, by) => n + (by.threw ?? 0), 0)).toBe(0);
		});

		it('counts per class match the corpus expectations', () => {
			const got: Record<string, Record<string, number>> = {};
			const want: Record<string, Record<string, number>> = {};
			for (const c of corpus) {
				const o = results[mode].get(c.n)!;
				got[c.cls] ??= {};
				got[c.cls][o.outcome] = (got[c.cls][o.outcome] ?? 0) + 1;
				const w = expectedOutcome(c, emitInvalid);
				want[c.cls] ??= {};
				want[c.cls][w] = (want[c.cls][w] ?? 0) + 1;
			}
			expect(got).toEqual(want);
			// the classes that must never yield a valid return
			for (const cls of [
				'bad_signature',
				'malformed_json',
				'oversized',
				'missing_fields',
				'wrong_types',
				'huge_quantity',
				'negative_price',
			] as const) {
				const valid = corpus.filter(
					(c) =>
						c.cls === cls &&
						results[mode].get(c.n)!.outcome === 'valid' &&
						c.expect.outcome !== 'valid',
				);
				expect({ cls, valid: valid.length }).toEqual({ cls, valid: 0 });
			}
			expect(got.bad_signature).toEqual({ rejected_401: 90 });
			expect(got.huge_quantity).toEqual(emitInvalid ? { exception: 90 } : { rejected_400: 90 });
			expect(got.negative_price).toEqual(emitInvalid ? { exception: 90 } : { rejected_400: 90 });
		});
	},
);

describe('fuzz outcomes in detail', () => {
	it('huge quantities and negative prices name the exact field and the record', () => {
		const rows = corpus
			.filter((c) => c.cls === 'huge_quantity' || c.cls === 'negative_price')
			.map((c) => {
				const ex = results.exceptions.get(c.n)!.result!.workflowData![1][0].json as IDataObject;
				return {
					want: c.expect.outcome === 'invalid' ? [c.expect.field, c.expect.returnId] : null,
					got: [ex.field, ex.returnId],
				};
			});
		expect(rows.filter((r) => JSON.stringify(r.want) !== JSON.stringify(r.got))).toEqual([]);
		const q = corpus.find((c) => c.label.startsWith('quantity 1000000 '))!;
		const ex = results.exceptions.get(q.n)!.result!.workflowData![1][0].json as IDataObject;
		expect(ex).toMatchObject({ kind: 'invalid_payload', stage: 'trigger', owner: 'tech' });
		expect(String(ex.message)).toMatch(
			/lines\[\d\]\.quantity: Number must be less than or equal to 100000/,
		);
		const p = corpus.find((c) => c.label.startsWith('price -0.01 '))!;
		const exP = results.exceptions.get(p.n)!.result!.workflowData![1][0].json as IDataObject;
		expect(String(exP.message)).toMatch(/item\[\d\]\.price: must not be negative/);
	});

	it('injection strings are carried as data: verbatim in returns and exception payloads, never evaluated', () => {
		const injected = corpus.filter((c) => c.injected !== undefined);
		expect(injected.length).toBe(90);
		let verbatim = 0;
		for (const c of injected) {
			const o = results.exceptions.get(c.n)!;
			const text = JSON.stringify(o.result?.workflowData ?? o.body);
			// an evaluated `{{ 7*7 }}` would read 49; `$env` would read the environment
			if (c.injected === '{{ 7*7 }}' || c.injected === '#{7*7}') expect(text).not.toContain('"49"');
			if (o.outcome === 'valid') {
				const ret = o.result!.workflowData![0][0].json;
				expect(JSON.stringify(ret)).toContain(JSON.stringify(c.injected).slice(1, -1));
				verbatim++;
			}
		}
		expect(verbatim).toBeGreaterThan(60);
		expect(
			JSON.stringify([...results.exceptions.values()].map((o) => o.result?.workflowData ?? null)),
		).not.toContain(process.env.HOME ?? '/nonexistent-home');
	});

	it('verifyWebhookSignature / parseWebhookEvent agree with the trigger for every case (transport level)', () => {
		const now = Date.now();
		const mismatches: string[] = [];
		for (const c of corpus) {
			if (c.cls === 'oversized' && c.expect.outcome === 'rejected') continue; // size is the node's guard
			const headers = headersFor(c.delivery, TEST_WEBHOOK_SECRET, Math.floor(now / 1000));
			const verdict = verifyWebhookSignature({
				rawBody: c.delivery.body,
				headers,
				secret: TEST_WEBHOOK_SECRET,
				settings: DEFAULT_WEBHOOK_SETTINGS,
				nowMs: now,
			});
			const wantVerified = !(c.expect.outcome === 'rejected' && c.expect.status === 401);
			if (verdict.ok !== wantVerified)
				mismatches.push(`#${c.n} ${c.label}: verified ${verdict.ok}`);
			if (!verdict.ok) {
				if (verdict.message.includes(TEST_WEBHOOK_SECRET))
					mismatches.push(`#${c.n}: secret in message`);
				continue;
			}
			let parsed: ReturnType<typeof parseWebhookEvent>;
			try {
				parsed = parseWebhookEvent(c.delivery.body);
			} catch (error) {
				mismatches.push(`#${c.n} ${c.label}: parseWebhookEvent threw ${String(error)}`);
				continue;
			}
			const e = c.expect;
			if (e.outcome === 'invalid' && e.level === 'envelope') {
				if (parsed.ok || parsed.field !== e.field)
					mismatches.push(`#${c.n} ${c.label}: ${JSON.stringify(parsed.ok ? 'ok' : parsed.field)}`);
			} else if (e.outcome === 'invalid') {
				if (!parsed.ok || parsed.normalised.ok || parsed.normalised.issues[0].field !== e.field)
					mismatches.push(
						`#${c.n} ${c.label}: ${parsed.ok && !parsed.normalised.ok ? parsed.normalised.issues[0].field : 'not invalid'}`,
					);
			} else if (!parsed.ok || !parsed.normalised.ok) {
				mismatches.push(`#${c.n} ${c.label}: expected a valid event`);
			}
		}
		expect(mismatches.slice(0, 10)).toEqual([]);
	});

	it('a deeply nested body neither throws nor overflows: invalid payload naming the field', async () => {
		const depth = 20_000;
		const deep = '['.repeat(depth) + ']'.repeat(depth);
		const body = Buffer.from(
			`{"id":"evt-deep","event":"return.processed","occurred_at":"2026-11-28T10:00:00Z","sequence":1,"data":{"id":"deep1","order_reference":"WEB-1001","item":${deep}}}`,
			'utf8',
		);
		const o = await deliver({ body, sign: 'good' }, new StaticDataStore(), true);
		expect(o.outcome).toBe('exception');
		const ex = o.result!.workflowData![1][0].json as IDataObject;
		expect(ex).toMatchObject({ kind: 'invalid_payload', returnId: 'deep1', field: 'item[0]' });
		const r = await deliver({ body, sign: 'good' }, new StaticDataStore(), false);
		expect([r.outcome, r.body?.field]).toEqual(['rejected_400', 'data.item[0]']);
	});

	it('a body over the limit is refused 413 from its content-length before it is read', async () => {
		let read = false;
		const { ctx, response } = makeWebhookContext({
			rawBody: undefined,
			headers: { 'content-length': String(10 * 1024 * 1024) },
			params: { options: { emitInvalidAsExceptions: true } },
		});
		(ctx as unknown as { getRequestObject: () => unknown }).getRequestObject = () => ({
			headers: { 'content-length': String(10 * 1024 * 1024) },
			readRawBody: async () => {
				read = true;
			},
		});
		const result = await node.webhook.call(ctx);
		expect(response.status).toBe(413);
		expect(response.body).toMatchObject({ status: 'rejected', reason: 'body_too_large' });
		expect(result).toEqual({ noWebhookResponse: true });
		expect(read).toBe(false);
	});

	it('prints the outcome table', () => {
		const outcomes: Outcome[] = [
			'valid',
			'exception',
			'rejected_401',
			'rejected_413',
			'ignored',
			'duplicate',
			'stale',
			'threw',
			'other',
		];
		const lines = [
			`| class | ${outcomes.join(' | ')} | total |`,
			`|---|${outcomes.map(() => '---:').join('|')}|---:|`,
		];
		let total = 0;
		for (const cls of FUZZ_CLASSES) {
			const by = table[cls] ?? {};
			const sum = Object.values(by).reduce((a, b) => a + b, 0);
			total += sum;
			lines.push(`| ${cls} | ${outcomes.map((k) => by[k] ?? 0).join(' | ')} | ${sum} |`);
		}
		lines.push(
			`| **all** | ${outcomes.map((k) => Object.values(table).reduce((n, by) => n + (by[k] ?? 0), 0)).join(' | ')} | ${total} |`,
		);
		process.stdout.write(
			`\nWebhook fuzz outcomes (emitInvalidAsExceptions on, seed 20261128):\n${lines.join('\n')}\n`,
		);
		expect(total).toBe(corpus.length);
	});
});
