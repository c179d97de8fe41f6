/**
 * End-to-end: bad input and secrets on a real n8n 2.40.7 (docs/bad-input.md).
 *
 * One n8n with the package installed, the templates imported (runImport) with
 * DISTINCTIVE secrets: ReBound API key `SECRET-RBK-<hex>`, webhook secret
 * `SECRET-WHS-<hex>`, Khaos Basic-auth password `SECRET-KPW-<hex>` (the Khaos
 * sandbox runs with Basic auth). Then:
 *  - a sample of the webhook fuzz corpus (test/unit/badInput/corpus.ts: bad
 *    signatures, malformed JSON, oversized bodies, unknown events and signed
 *    but invalid returns) is POSTed to the intake webhook: every request is
 *    answered with the expected status, n8n stays up, nothing moves in Khaos,
 *    nothing is queued, every invalid payload is an exception row naming the
 *    field (and the record when there is one);
 *  - valid returns that fail in Khaos (unknown order, archived SKU, an order
 *    reference that looks like an n8n expression, a Khaos fault echoing the
 *    password) become exception rows with the text verbatim;
 *  - a processor run that fails outside the exception outputs (its disposition
 *    map Data Table deleted) starts the client's Errors workflow, which writes
 *    one workflow_failed row naming the processor, the node and the execution
 *    however many runs fail; a re-import restores the table and every
 *    workflow's error workflow;
 *  - the three secrets appear in no n8n log line, no exception or inbox row, no
 *    execution's data, no webhook answer, no sandbox call log.
 *
 * Run: npx jest --selectProjects e2e --runInBand test/e2e/badInput.test.ts   (E2E_SKIP_BUILD=1 packs the current dist/)
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageLoadErrors, type ApiClient, type N8nInstance } from '../../scripts/n8n/instance';
import type { InstalledPackage } from '../../scripts/n8n/package';
import type { ImportReport } from '../../scripts/templates/import';
import { sandboxClientValues } from '../../scripts/templates/sandboxValues';
import type { KhaosSandbox } from '../../sandbox/khaos/server';
import { DEFAULT_FIXTURE_PATH as KHAOS_FIXTURE } from '../../sandbox/khaos/fixture';
import type { ReboundSandbox } from '../../sandbox/rebound/server';
import { DEFAULT_FIXTURE_PATH as REBOUND_FIXTURE } from '../../sandbox/rebound/state';
import { importClient } from './stack';
import {
	flowLookups,
	startFlowStack,
	stopFlowStack,
	type FlowClientBase,
	type Row,
} from './flowStack';
import {
	envelope,
	generateCorpus,
	headersFor,
	rawReturn,
	type Delivery,
	type FuzzCase,
	type FuzzClass,
} from '../unit/badInput/corpus';

jest.setTimeout(240_000);

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const RUN = randomBytes(4).toString('hex');
const REBOUND_LOGIN = 'demo-retailer';
const REBOUND_API_KEY = `SECRET-RBK-${randomBytes(8).toString('hex')}`;
const WEBHOOK_SECRET = `SECRET-WHS-${randomBytes(8).toString('hex')}`;
const KHAOS_USER = 'khaos-e2e';
const KHAOS_PASSWORD = `SECRET-KPW-${randomBytes(8).toString('hex')}`;
const SECRETS = [
	REBOUND_API_KEY,
	WEBHOOK_SECRET,
	KHAOS_PASSWORD,
	Buffer.from(`${KHAOS_USER}:${KHAOS_PASSWORD}`).toString('base64'),
];
const PROCESS_EVERY_SECONDS = 5;

/** How many cases of each class go to n8n (valid and replayed ones would move stock: not sent). */
const SAMPLE: Partial<Record<FuzzClass, number>> = {
	bad_signature: 60,
	malformed_json: 40,
	oversized: 8,
	unknown_event: 20,
	missing_fields: 30,
	wrong_types: 34,
	huge_quantity: 20,
	negative_price: 20,
	unicode_sku: 14,
	injection: 40,
	xml_illegal: 20,
	prototype: 10,
};

let userFolder: string;
let n8n: N8nInstance | undefined;
let api: ApiClient;
let installed: InstalledPackage | undefined;
let khaos: KhaosSandbox | undefined;
let rebound: ReboundSandbox | undefined;
let report: ImportReport;
let importLog: string[] = [];
let webhookPath: string;
const timings: Record<string, number> = {};
const answers: string[] = [];

const { tableId, workflowId } = flowLookups(
	() => ({ report, api, n8n: n8n!, webhookPath }),
	WEBHOOK_SECRET,
);

function clientValues(base: FlowClientBase) {
	// the Khaos credential in basic-auth mode, its password read from the environment (a distinctive secret)
	const v = sandboxClientValues({
		...base,
		processEverySeconds: PROCESS_EVERY_SECONDS,
		maxTransientAttempts: 2,
		khaos: {
			authMode: 'basic',
			username: KHAOS_USER,
			password: 'env:E2E_KHAOS_PASSWORD',
			maxAttempts: 2,
		},
	});
	v.credentials.rebound.data.login = REBOUND_LOGIN;
	return v;
}

beforeAll(async () => {
	const khaosFixture = JSON.parse(fs.readFileSync(KHAOS_FIXTURE, 'utf8'));
	khaosFixture.auth = { mode: 'basic', username: KHAOS_USER, password: KHAOS_PASSWORD };
	const reboundFixture = JSON.parse(fs.readFileSync(REBOUND_FIXTURE, 'utf8'));
	reboundFixture.credentials = { login: REBOUND_LOGIN, apiKey: REBOUND_API_KEY };
	({ userFolder, installed, n8n, api, khaos, rebound, report, importLog, webhookPath } =
		await startFlowStack({
			folderPrefix: 'rk-e2e-bad-',
			khaos: { fixture: khaosFixture },
			rebound: { fixture: reboundFixture },
			client: `E2E Bad ${RUN}`,
			webhookId: `e2e-bad-${RUN}`,
			reboundApiKey: REBOUND_API_KEY,
			reboundWebhookSecret: WEBHOOK_SECRET,
			values: clientValues,
			env: { E2E_KHAOS_PASSWORD: KHAOS_PASSWORD },
			log,
			timings,
		}));
}, 25 * 60_000);

afterAll(async () => {
	await stopFlowStack({ n8n, khaos, rebound, userFolder, installed }, [], 'badInput', log, timings);
}, 60_000);

// ------------------------------------------------------------------ helpers

async function allRows(key: string): Promise<Row[]> {
	const out: Row[] = [];
	let cursor: string | undefined;
	for (let page = 0; page < 40; page++) {
		const q = new URLSearchParams({ limit: '250' });
		if (cursor) q.set('cursor', cursor);
		const res = await api.request(
			'GET',
			`/data-tables/${encodeURIComponent(tableId(key))}/rows?${q.toString()}`,
		);
		out.push(...((res?.data ?? []) as Row[]));
		cursor = res?.nextCursor ?? undefined;
		if (!cursor) break;
	}
	return out;
}

async function allExecutions(wfId: string): Promise<Array<{ id: string; status: string }>> {
	const out: Array<{ id: string; status: string }> = [];
	let cursor: string | undefined;
	for (let page = 0; page < 40; page++) {
		const q = new URLSearchParams({ workflowId: wfId, limit: '250' });
		if (cursor) q.set('cursor', cursor);
		const res = await api.request('GET', `/executions?${q.toString()}`);
		out.push(...((res?.data ?? []) as Array<{ id: string; status: string }>));
		cursor = res?.nextCursor ?? undefined;
		if (!cursor) break;
	}
	return out;
}

async function waitFor<T>(
	what: string,
	check: () => Promise<T | undefined>,
	timeoutMs = 60_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const v = await check();
		if (v !== undefined) return v;
		await sleep(500);
	}
	throw new Error(`${what}: not reached in ${timeoutMs / 1000} s`);
}

interface Answer {
	status: number;
	text: string;
	json: any;
}

async function post(delivery: Delivery, contentType = 'application/json'): Promise<Answer> {
	const headers = {
		'content-type': contentType,
		...headersFor(delivery, WEBHOOK_SECRET, Math.floor(Date.now() / 1000)),
	};
	delete (headers as Record<string, string>)['content-length'];
	const deadline = Date.now() + 15_000;
	for (;;) {
		const res = await fetch(`${n8n!.baseUrl}/webhook/${webhookPath}`, {
			method: 'POST',
			headers,
			body: delivery.body,
			signal: AbortSignal.timeout(60_000),
		});
		const text = await res.text();
		if (res.status === 404 && text.includes('is not registered') && Date.now() < deadline) {
			await sleep(250);
			continue;
		}
		let json: any;
		try {
			json = text ? JSON.parse(text) : undefined;
		} catch {
			json = undefined;
		}
		answers.push(text);
		return { status: res.status, text, json };
	}
}

/** Would n8n's own body parser read it as JSON (it strips a BOM)? If not, n8n answers 422 before the trigger runs. */
function n8nParses(body: Buffer): boolean {
	let text = body.toString('utf8');
	if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
	if (text.length === 0) return true;
	try {
		JSON.parse(text);
		return true;
	} catch {
		return false;
	}
}

function khaosMoves() {
	const s = khaos!.state.snapshot() as any;
	return JSON.stringify({
		stock: s.stock,
		adjustments: s.adjustments,
		returns: s.returns,
		creditNotes: s.creditNotes,
	});
}

/** A signed, valid return of one line (qty 1, 10.00, reason Too small), delivered now. */
function deliverReturn(returnId: string, order: string, sku: string, disposition: string) {
	return post({
		body: Buffer.from(
			JSON.stringify(
				envelope(
					rawReturn({
						id: returnId,
						order,
						lines: [{ sku, qty: 1, price: '10.00', disposition, reason: 'Too small' }],
					}),
					{ id: `evt-${returnId}`, occurredAt: new Date().toISOString() },
				),
			),
			'utf8',
		),
		sign: 'good',
	});
}

async function healthy(): Promise<number> {
	const res = await fetch(`${n8n!.baseUrl}/healthz`);
	return res.status;
}

// ------------------------------------------------------------------ the sample

const corpus = generateCorpus({ seed: 6_2026, perClass: 60, idPrefix: `bi${RUN}` });
const sample: FuzzCase[] = [];
for (const [cls, count] of Object.entries(SAMPLE) as Array<[FuzzClass, number]>) {
	sample.push(
		...corpus.filter((c) => c.cls === cls && c.expect.outcome !== 'valid').slice(0, count),
	);
}
/** Every other malformed body goes as text/plain, which n8n hands to the trigger unparsed. */
const contentTypeOf = (c: FuzzCase, i: number) =>
	c.cls === 'malformed_json' && i % 2 === 1 ? 'text/plain' : 'application/json';

interface Sent {
	c: FuzzCase;
	contentType: string;
	want: number;
	answer: Answer;
}
const sent: Sent[] = [];

function wantedStatus(c: FuzzCase, contentType: string): number {
	if (contentType === 'application/json' && !n8nParses(c.delivery.body)) return 422;
	if (c.expect.outcome === 'rejected') return c.expect.status;
	return 200;
}

describe('bad input on a real n8n 2.40.7 (templates imported with distinctive secrets)', () => {
	it('imports the templates (Khaos with Basic auth) and activates them', () => {
		expect(packageLoadErrors(n8n!.logs())).toEqual([]);
		expect({
			exitCode: report.exitCode,
			log: report.exitCode === 0 ? '' : importLog.join('\n'),
		}).toEqual({ exitCode: 0, log: '' });
		expect(report.workflows.find((w) => w.file === 'returns-intake')?.active).toBe(true);
		expect(sample.length).toBeGreaterThanOrEqual(250);
	});

	it('answers every fuzz delivery with the expected status, stays up, moves nothing in Khaos and queues nothing', async () => {
		const started = Date.now();
		const khaosBefore = khaosMoves();
		const khaosCallsBefore = khaos!.calls.lastSeq;
		const intakeBefore = (await allExecutions(workflowId('returns-intake'))).length;
		// four at a time: ReBound delivers concurrently too
		let next = 0;
		const worker = async () => {
			while (next < sample.length) {
				const i = next++;
				const c = sample[i];
				const contentType = contentTypeOf(c, i);
				sent.push({
					c,
					contentType,
					want: wantedStatus(c, contentType),
					answer: await post(c.delivery, contentType),
				});
			}
		};
		await Promise.all([worker(), worker(), worker(), worker()]);
		timings.fuzzPostsMs = Date.now() - started;
		expect(await healthy()).toBe(200);

		const wrong = sent
			.filter((s) => s.answer.status !== s.want)
			.map(
				(s) =>
					`#${s.c.n} [${s.c.cls}] ${s.c.label} (${s.contentType}): ${s.answer.status} ≠ ${s.want} ${s.answer.text.slice(0, 160)}`,
			);
		expect(wrong.slice(0, 10)).toEqual([]);
		// what the 200s said
		for (const s of sent.filter((x) => x.want === 200)) {
			const want = s.c.expect.outcome === 'invalid' ? 'exception' : s.c.expect.outcome;
			expect({ n: s.c.n, status: s.answer.json?.status }).toEqual({ n: s.c.n, status: want });
		}
		const byStatus: Record<string, number> = {};
		for (const s of sent)
			byStatus[`${s.c.cls}:${s.answer.status}`] =
				(byStatus[`${s.c.cls}:${s.answer.status}`] ?? 0) + 1;
		log(
			`[e2e badInput] ${sent.length} deliveries in ${timings.fuzzPostsMs} ms: ${JSON.stringify(byStatus)}`,
		);

		// every 200 "exception" went into an intake execution (the trigger batches deliveries within 50 ms,
		// so several share one, and each is answered only after its run): at least one ran, none still runs
		const exceptionsSent = sent.filter((s) => s.answer.json?.status === 'exception').length;
		expect(exceptionsSent).toBeGreaterThan(0);
		await waitFor(
			'intake executions finished',
			async () => {
				const runs = await allExecutions(workflowId('returns-intake'));
				const running = runs.filter((r) => ['running', 'new', 'waiting'].includes(r.status));
				return running.length === 0 && runs.length > intakeBefore ? runs : undefined;
			},
			90_000,
		);
		await sleep(PROCESS_EVERY_SECONDS * 1000 + 1500);
		timings.fuzzSettledMs = Date.now() - started;
		const failedRuns = (await allExecutions(workflowId('returns-intake'))).filter(
			(r) => r.status === 'error' || r.status === 'crashed',
		);
		expect(failedRuns).toEqual([]);
		expect(await healthy()).toBe(200);

		expect(khaosMoves()).toEqual(khaosBefore);
		const moving = khaos!.calls
			.since(khaosCallsBefore)
			.filter((c) => /^Import|ProcessReturn/.test(c.method));
		expect(moving).toEqual([]);
		const inbox = await allRows('inbox');
		expect(
			inbox.filter(
				(r) =>
					String(r.returnId).startsWith(`bi${RUN}`) || String(r.eventId).startsWith(`bi${RUN}`),
			),
		).toEqual([]);
	});

	it('every invalid payload is an exception row naming the field (and the record), text kept verbatim', async () => {
		const rows = await allRows('exceptions');
		const invalid = sent.filter((s) => s.answer.json?.status === 'exception');
		expect(invalid.length).toBeGreaterThan(120);
		const missing: string[] = [];
		for (const s of invalid) {
			const e = s.c.expect;
			if (e.outcome !== 'invalid') {
				missing.push(`#${s.c.n}: answered exception but expected ${e.outcome}`);
				continue;
			}
			const recordId = e.returnId === null ? ['', '(no id)'] : [e.returnId];
			const row = rows.find(
				(r) =>
					r.kind === 'invalid_payload' &&
					r.field === e.field &&
					recordId.includes(String(r.returnId)),
			);
			if (!row)
				missing.push(
					`#${s.c.n} ${s.c.label}: no row with field ${e.field} for ${recordId.join('|')}`,
				);
			else if (!String(row.message).includes(e.field))
				missing.push(`#${s.c.n}: row message does not name ${e.field}`);
		}
		expect(missing.slice(0, 10)).toEqual([]);
		for (const r of rows.filter((x) => x.kind === 'invalid_payload')) {
			expect({
				key: r.key,
				status: r.status,
				stage: r.stage,
				owner: r.owner,
				hasPayload: String(r.payload).length > 0,
			}).toEqual({ key: r.key, status: 'open', stage: 'trigger', owner: 'tech', hasPayload: true });
		}
		// a string that looks like an n8n expression or a formula stays what it was
		const injected = sent.filter(
			(s) => s.c.injected !== undefined && s.answer.json?.status === 'exception',
		);
		for (const s of injected) {
			const e = s.c.expect as { returnId: string };
			const row = rows.find((r) => r.kind === 'invalid_payload' && r.returnId === e.returnId);
			expect(row).toBeDefined();
			expect(String(row!.payload)).toContain(JSON.stringify(s.c.injected).slice(1, -1));
		}
		log(
			`[e2e badInput] ${rows.length} exception rows; invalid deliveries ${invalid.length}; injected kept verbatim ${injected.length}`,
		);
	});

	it('valid returns that fail in Khaos become exception rows with the text verbatim; a Khaos fault echoing the password is redacted', async () => {
		const started = Date.now();
		const id = (s: string) => `bv${RUN}${s}`;
		const tshirtA1 = khaos!.state.level('TSHIRT-RED-M', '1', 'A1');
		const scarf = ['A1', 'RET', 'QUAR', 'WOFF'].map((l) => khaos!.state.level('SCARF-OLD', '1', l));
		const answersValid = [
			await deliverReturn(id('unknown'), 'WEB-9999', 'TSHIRT-RED-M', 'Grade A'),
			await deliverReturn(id('archived'), 'WEB-1003', 'SCARF-OLD', 'Grade A'),
			await deliverReturn(id('expr'), '={{ $env }}', 'MUG-WHT', 'Missing'),
			await deliverReturn(id('formula'), "=cmd|' /C calc'!A0", 'MUG-WHT', 'Missing'),
		];
		expect(answersValid.map((a) => [a.status, a.json?.status])).toEqual(
			Array(4).fill([200, 'accepted']),
		);
		// the return's exception, not its notices (a discontinued MUG-WHT's notice is written first)
		const byId = async (returnId: string) =>
			(await allRows('exceptions')).find((r) => r.returnId === returnId && r.status !== 'notice');
		const unknown = await waitFor('unknown-order exception', () => byId(id('unknown')), 60_000);
		const archived = await waitFor('archived-SKU exception', () => byId(id('archived')), 60_000);
		const expr = await waitFor(
			'expression-looking order exception',
			() => byId(id('expr')),
			60_000,
		);
		const formula = await waitFor(
			'formula-looking order exception',
			() => byId(id('formula')),
			60_000,
		);
		expect(unknown).toMatchObject({
			kind: 'order_not_found',
			orderReference: 'WEB-9999',
			code: 'WEB-9999',
		});
		expect(archived).toMatchObject({ kind: 'archived_sku', sku: 'SCARF-OLD' });
		expect(expr).toMatchObject({
			kind: 'order_not_found',
			orderReference: '={{ $env }}',
			code: '={{ $env }}',
		});
		expect(String(expr.message)).toContain('={{ $env }}');
		expect(formula).toMatchObject({
			kind: 'order_not_found',
			orderReference: "=cmd|' /C calc'!A0",
		});
		expect(
			['A1', 'RET', 'QUAR', 'WOFF'].map((l) => khaos!.state.level('SCARF-OLD', '1', l)),
		).toEqual(scarf);
		// the unknown order moved nothing: Apply Stock Moves looks the original order up before moving
		expect(khaos!.state.level('TSHIRT-RED-M', '1', 'A1')).toBe(tshirtA1);
		expect(unknown.stage).toBe('stock');

		// a Khaos fault on the SKU look-up whose text carries the password
		khaos!.faults.merge({
			rules: {
				ExportStock: {
					next: {
						count: 3,
						kind: 'fault',
						faultString: `Access violation at address 0040A1B2 in module 'KhaosKSD.exe' (session user ${KHAOS_USER} pwd ${KHAOS_PASSWORD}) <b>Read</b>`,
					},
				},
			},
		});
		const hoodie = khaos!.state.level('HOODIE-GRY-L', '1', 'A1');
		const faultAnswer = await deliverReturn(id('fault'), 'WEB-1002', 'HOODIE-GRY-L', 'Grade A');
		expect([faultAnswer.status, faultAnswer.json?.status]).toEqual([200, 'accepted']);
		const faulted = await waitFor('Khaos fault exception', () => byId(id('fault')), 60_000);
		expect(faulted.kind).toBe('khaos_rejected');
		expect(String(faulted.message)).toContain('Access violation');
		expect(String(faulted.message)).toContain('***');
		expect(khaos!.state.level('HOODIE-GRY-L', '1', 'A1')).toBe(hoodie);
		timings.validFailuresMs = Date.now() - started;
	});

	it('a processor run that fails outside the exception outputs becomes one workflow_failed row (Errors workflow), however often it fails; a re-import restores it', async () => {
		const started = Date.now();
		const errorsId = report.errorWorkflowId as string;
		const processorId = workflowId('returns-processor');
		expect(errorsId).toBe(workflowId('errors'));
		// imported first and active; every other workflow names it as its error workflow
		const errorWorkflows = async () => {
			const out: Record<string, unknown> = {};
			for (const w of report.workflows) {
				const full = await api.request('GET', `/workflows/${encodeURIComponent(w.id as string)}`);
				out[w.file] = [full.active, full.settings?.errorWorkflow ?? null];
			}
			return out;
		};
		const linked = Object.fromEntries(
			report.workflows.map((w) => [w.file, [w.active, w.file === 'errors' ? null : errorsId]]),
		);
		expect(report.workflows[0].file).toBe('errors');
		expect(await errorWorkflows()).toEqual(linked);

		// ops delete the disposition map: the processor's Disposition Map node fails every run
		const failedBefore = new Set(
			(await allExecutions(processorId)).filter((r) => r.status === 'error').map((r) => r.id),
		);
		const errorsRunsBefore = (await allExecutions(errorsId)).length;
		await api.request('DELETE', `/data-tables/${encodeURIComponent(tableId('dispositions'))}`);
		// the processor reads the mapping tables only when a batch is queued (an idle tick reads the
		// inbox alone): a return arrives, and every run that takes it fails on the missing table
		const waiting = `bw${RUN}nomap`;
		const queuedAnswer = await deliverReturn(waiting, 'WEB-1001', 'TSHIRT-RED-M', 'Grade A');
		expect([queuedAnswer.status, queuedAnswer.json?.status]).toEqual([200, 'accepted']);
		const key = `workflow_failed|-|${processorId}|Disposition Map`;
		const failedRows = async () =>
			(await allRows('exceptions')).filter((r) => r.kind === 'workflow_failed');
		// three failed runs at least, each handled by the Errors workflow
		const failed = await waitFor(
			'three failed processor runs recorded by the Errors workflow',
			async () => {
				const runs = (await allExecutions(processorId)).filter(
					(r) => r.status === 'error' && !failedBefore.has(r.id),
				);
				const handled = (await allExecutions(errorsId)).filter((r) => r.status === 'success');
				const rows = await failedRows();
				return runs.length >= 3 &&
					handled.length >= errorsRunsBefore + 3 &&
					rows.length > 0 &&
					Number(rows[0].attempts) >= 3
					? runs
					: undefined;
			},
			90_000,
		);
		const errorRuns = await allExecutions(errorsId);
		expect(errorRuns.filter((r) => r.status === 'error' || r.status === 'crashed')).toEqual([]);
		const rows = await failedRows();
		// one row however many runs failed, alerted once (the sink alerts new keys only)
		expect(rows.map((r) => r.key)).toEqual([key]);
		const row = rows[0];
		const details = JSON.parse(String(row.details));
		const processorName = report.workflows.find((w) => w.file === 'returns-processor')?.name;
		expect({
			kind: row.kind,
			owner: row.owner,
			stage: row.stage,
			status: row.status,
			code: row.code,
			returnId: row.returnId || null,
			workflowId: details.workflowId,
			workflowName: details.workflowName,
			node: details.node,
		}).toEqual({
			kind: 'workflow_failed',
			owner: 'tech',
			stage: 'workflow',
			status: 'open',
			code: 'Disposition Map',
			returnId: null,
			workflowId: processorId,
			workflowName: processorName,
			node: 'Disposition Map',
		});
		expect(Number(row.attempts)).toBeGreaterThanOrEqual(3);
		// it names a run that really failed at that node, and links to it
		const failedIds = failed.map((r) => r.id);
		expect(failedIds).toContain(String(details.executionId));
		// n8n's own link to the run (its instance base URL, which may name localhost rather than 127.0.0.1)
		expect(String(details.executionUrl)).toMatch(
			new RegExp(`^https?://[^/]+/workflow/${processorId}/executions/${details.executionId}$`),
		);
		const run = await api.getExecution(String(details.executionId), true);
		expect(run.data?.resultData?.lastNodeExecuted).toBe('Disposition Map');
		expect(String(row.message)).toContain(
			`Workflow "${processorName}" (id ${processorId}) failed at node "Disposition Map" in execution ${details.executionId}: `,
		);
		expect(String(row.message)).toContain(String(run.data?.resultData?.error?.message));
		expect(String(row.message)).toContain(`; execution link: ${details.executionUrl}`);
		for (const secret of SECRETS) expect(JSON.stringify(rows)).not.toContain(secret);
		log(
			`[e2e badInput] ${failed.length} failed processor runs → 1 workflow_failed row (attempts ${row.attempts}): ${row.message}`,
		);

		// restored by a re-import: the table is created and seeded again, the workflows point at it,
		// and every workflow still names the same Errors workflow
		const again = await importClient(
			{ n8n: n8n!, api, userFolder },
			`E2E Bad ${RUN}`,
			clientValues({
				client: `E2E Bad ${RUN}`,
				webhookId: `e2e-bad-${RUN}`,
				khaosUrl: khaos!.url,
				reboundUrl: rebound!.url,
				reboundApiKeyEnv: 'E2E_REBOUND_API_KEY',
				reboundSecretEnv: 'E2E_REBOUND_WEBHOOK_SECRET',
			}),
			{
				E2E_REBOUND_API_KEY: REBOUND_API_KEY,
				E2E_REBOUND_WEBHOOK_SECRET: WEBHOOK_SECRET,
				E2E_KHAOS_PASSWORD: KHAOS_PASSWORD,
			},
		);
		expect({
			exitCode: again.report.exitCode,
			log: again.report.exitCode === 0 ? '' : again.importLog.join('\n'),
		}).toEqual({ exitCode: 0, log: '' });
		expect(again.report.errorWorkflowId).toBe(errorsId);
		expect(again.report.workflows.map((w) => [w.file, w.action])).toEqual(
			report.workflows.map((w) => [w.file, 'updated']),
		);
		expect(again.report.tables.find((t) => t.key === 'dispositions')).toEqual(
			expect.objectContaining({ action: 'created', seeded: 7 }),
		);
		report = again.report;
		expect(await errorWorkflows()).toEqual(linked);
		// the processor runs again without failing: no new failed run, the row's attempts stay
		await sleep(PROCESS_EVERY_SECONDS * 1000 + 3000);
		const settledFailures = (await allExecutions(processorId)).filter(
			(r) => r.status === 'error',
		).length;
		const settledAttempts = Number((await failedRows())[0].attempts);
		await sleep(PROCESS_EVERY_SECONDS * 3000);
		expect((await allExecutions(processorId)).filter((r) => r.status === 'error').length).toBe(
			settledFailures,
		);
		expect(Number((await failedRows())[0].attempts)).toBe(settledAttempts);
		timings.workflowFailedMs = Date.now() - started;
	});

	it('the secrets appear in no log line, row, execution, answer or sandbox call log', async () => {
		const started = Date.now();
		const leaks: string[] = [];
		const scan = (where: string, text: string) => {
			for (const s of SECRETS)
				if (text.includes(s))
					leaks.push(
						`${where}: …${text.slice(Math.max(0, text.indexOf(s) - 80), text.indexOf(s) + 20)}…`,
					);
		};
		const logs = n8n!.logs().split('\n');
		expect(logs.length).toBeGreaterThan(1);
		logs.forEach((line, i) => scan(`n8n log line ${i}`, line));
		scan(
			'n8n.log file',
			fs.existsSync(path.join(userFolder, 'n8n.log'))
				? fs.readFileSync(path.join(userFolder, 'n8n.log'), 'utf8')
				: '',
		);
		for (const key of ['exceptions', 'inbox'])
			scan(`${key} rows`, JSON.stringify(await allRows(key)));
		let executions = 0;
		for (const w of report.workflows) {
			for (const run of await allExecutions(w.id as string)) {
				const full = await api.getExecution(run.id, true);
				scan(`execution ${run.id} of ${w.file}`, JSON.stringify(full));
				executions++;
			}
		}
		answers.forEach((a, i) => scan(`webhook answer ${i}`, a));
		// The sandbox logs the fault strings it answers with; the injected one carries the password on
		// purpose (what a misbehaving Khaos might send), so it is the one entry allowed to hold it.
		const khaosCalls = khaos!.calls.since(0);
		const injectedFaults = khaosCalls.filter(
			(c) =>
				c.outcome === 'fault' &&
				String(c.detail ?? '').startsWith('Access violation at address 0040A1B2'),
		);
		expect(injectedFaults.length).toBeGreaterThanOrEqual(1);
		expect(injectedFaults.length).toBeLessThanOrEqual(3);
		scan(
			'Khaos sandbox call log',
			JSON.stringify(khaosCalls.filter((c) => !injectedFaults.includes(c))),
		);
		scan('ReBound sandbox call log', JSON.stringify(rebound!.calls.since(0)));
		expect(leaks.slice(0, 5)).toEqual([]);
		// the intake batches deliveries (a run takes all that arrive while the previous one runs), so the
		// 153 invalid deliveries span a few dozen intake runs; the processor adds its own
		expect(executions).toBeGreaterThan(30);
		// the secrets were really in use: Khaos saw Basic auth calls answered ok
		expect(khaos!.calls.since(0).filter((c) => c.outcome === 'ok').length).toBeGreaterThan(0);
		expect(khaos!.calls.since(0).filter((c) => c.outcome === 'http_401')).toEqual([]);
		timings.secretScanMs = Date.now() - started;
		log(
			`[e2e badInput] secrets scanned in ${logs.length} log lines, ${executions} executions, ${answers.length} answers: no leak`,
		);
	});
});
