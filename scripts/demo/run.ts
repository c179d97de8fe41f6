/**
 * The demo's machinery (docs/demo.md): runtime → package install → sandboxes
 * → n8n (sqlite) → owner, API key → template import for the scenario's client
 * → signed ReBound events to the intake webhook → wait → summary. Every
 * process it starts is registered in a Cleanup so an error, a signal or the
 * end of a --once run stops them all (n8n's whole process group, both
 * sandboxes). Used by scripts/demo.ts and scripts/screenshot.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadFixture as loadKhaosFixture } from '../../sandbox/khaos/fixture';
import { startKhaosSandbox, type KhaosSandbox } from '../../sandbox/khaos/server';
import { loadFixture as loadReboundFixture } from '../../sandbox/rebound/state';
import { startReboundSandbox, type ReboundSandbox } from '../../sandbox/rebound/server';
import { signWebhookBody, type WebhookSignatureSettings } from '../../transports/rebound/webhook';
import {
	assertPortFree,
	createApiKey,
	packageLoadErrors,
	postWebhook,
	setupOwner,
	type ApiClient,
	type Owner,
} from '../n8n/instance';
import { startTopology, type Topology, type TopologyOptions } from '../n8n/topology';
import { installPackage, packRepo } from '../n8n/package';
import { defaultCacheDir, ensureRuntime, type Log } from '../n8n/runtime';
import { WORKFLOWS_DIR } from '../templates/build';
import { runImport, type ImportReport } from '../templates/import';
import { exampleValues } from '../templates/sandboxValues';
import { runDemoAudit } from './mappingAudit';
import type { FixtureChoice, Scenario } from './scenario';
import { checkScenarioAgainstFixture } from './scenario';
import {
	buildSummary,
	inboxRowFor,
	isFinalStatus,
	reviewOf,
	reviewRowFor,
	type DemoSummary,
	type FinanceAction,
	type KhaosAdjustment,
	type KhaosCreditNote,
	mappingAuditSummary,
	type MappingAuditSummary,
} from './summary';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Stops what was started, newest first, once; errors are logged, never thrown. */
export class Cleanup {
	private steps: Array<{ what: string; fn: () => Promise<void> | void }> = [];
	private running: Promise<void> | null = null;
	constructor(private readonly log: Log) {}
	add(what: string, fn: () => Promise<void> | void): void {
		this.steps.push({ what, fn });
	}
	run(): Promise<void> {
		if (!this.running) {
			this.running = (async () => {
				for (const step of this.steps.reverse()) {
					try {
						await step.fn();
						this.log(`[demo] stopped ${step.what}`);
					} catch (e) {
						this.log(`[demo] stopping ${step.what} failed: ${(e as Error).message}`);
					}
				}
				this.steps = [];
			})();
		}
		return this.running;
	}
}

export const DEMO_EMAIL = 'demo@rebound-khaos.invalid';

export interface StartDemoOptions {
	port: number;
	khaosPort: number;
	reboundPort: number;
	fixtures: FixtureChoice;
	scenario: Scenario;
	skipBuild: boolean;
	processEverySeconds: number;
	userFolder?: string;
	/** The deployment (default one process on SQLite). */
	topology?: TopologyOptions;
	log: Log;
	cleanup: Cleanup;
}

export interface DemoHandle {
	n8n: Topology;
	owner: Owner;
	api: ApiClient;
	report: ImportReport;
	khaos: KhaosSandbox;
	rebound: ReboundSandbox;
	userFolder: string;
	webhookPath: string;
	signing: WebhookSignatureSettings & { secret: string };
	timings: Record<string, number>;
	tableId(key: string): string;
	workflowId(file: string): string;
	workflowLinks(): Array<{ name: string; url: string }>;
}

export function defaultUserFolder(port: number): string {
	return path.join(defaultCacheDir(), `demo-${port}`);
}

const MARKER = '.rk-demo';

/**
 * Empties the demo user folder for a fresh n8n database, keeping the installed
 * community package (`.n8n/nodes`) so a warm start can skip `npm install`.
 * Refuses a non-empty folder the demo did not create.
 */
export function prepareUserFolder(dir: string): void {
	if (fs.existsSync(dir)) {
		const entries = fs.readdirSync(dir);
		if (entries.length && !entries.includes(MARKER))
			throw new Error(
				`--user-folder ${dir} is not empty and was not made by the demo (no ${MARKER} file); choose another folder`,
			);
		for (const e of entries) {
			if (e === '.n8n') {
				for (const inner of fs.readdirSync(path.join(dir, e)))
					if (inner !== 'nodes')
						fs.rmSync(path.join(dir, e, inner), { recursive: true, force: true });
			} else if (e !== MARKER && e !== 'package.sha256')
				fs.rmSync(path.join(dir, e), { recursive: true, force: true });
		}
	}
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(
		path.join(dir, MARKER),
		'n8n user folder of `npm run demo`; emptied (except .n8n/nodes) at every start\n',
	);
}

/** The import's values for the demo client (the shape of scripts/templates/values.example.json). */
export function demoValues(args: {
	client: string;
	khaosUrl: string;
	khaosFixture: ReturnType<typeof loadKhaosFixture>;
	reboundUrl: string;
	reboundLogin: string;
	signing: WebhookSignatureSettings;
	webhookId: string;
	processEverySeconds: number;
	scenario: Scenario;
}) {
	const k = args.khaosFixture;
	const khaosAuth =
		k.auth.mode === 'none'
			? { authMode: 'none' }
			: {
					authMode: k.auth.mode,
					username: 'env:DEMO_KHAOS_USERNAME',
					password: 'env:DEMO_KHAOS_PASSWORD',
				};
	return {
		client: args.client,
		timezone: 'Europe/London',
		credentials: {
			khaos: {
				name: `Khaos sandbox (${args.client})`,
				data: {
					url: args.khaosUrl,
					...khaosAuth,
					soapVersion: '1.1',
					namespace: k.soap.namespace,
					soapActionStyle: 'namespaceHash',
					defaultSiteId: k.sites[0]?.id ?? '1',
					timeoutSeconds: 30,
					maxAttempts: 3,
					batchSize: 50,
				},
			},
			rebound: {
				name: `ReBound sandbox (${args.client})`,
				data: {
					login: args.reboundLogin,
					apiKey: 'env:DEMO_REBOUND_API_KEY',
					baseUrl: args.reboundUrl,
					webhookSecret: 'env:DEMO_REBOUND_WEBHOOK_SECRET',
					signatureHeader: args.signing.signatureHeader,
					signaturePrefix: args.signing.prefix ?? '',
					timestampHeader: args.signing.timestampHeader,
					signatureEncoding: args.signing.encoding,
					signTimestamp: args.signing.signTimestamp,
					toleranceSeconds: args.signing.toleranceSeconds,
				},
			},
		},
		dataTables: {
			inbox: { name: `${args.client} inbox` },
			exceptions: { name: `${args.client} exceptions` },
			dispositions: { name: `${args.client} disposition map` },
			reasons: { name: `${args.client} reason map` },
			skuAliases: { name: `${args.client} sku aliases` },
			reviews: { name: `${args.client} credit reviews` },
			credits: { name: `${args.client} recorded credits` },
			events: { name: `${args.client} return events` },
		},
		sites: k.sites.map((s) => ({
			id: s.id,
			name: s.name,
			locations: s.locations.map((l) => ({ id: l.id, sellable: l.sellable })),
		})),
		mapping: args.scenario.mapping ?? STANDARD_DEMO_MAPPING,
		trigger: { mode: 'webhook', webhookId: args.webhookId, pollEveryMinutes: 60 },
		schedules: {
			processEverySeconds: args.processEverySeconds,
			reconciliationCron: '0 7 * * *',
			replayEveryMinutes: null,
		},
		processing: {
			batchSize: 20,
			staleAfterMinutes: 15,
			maxTransientAttempts: 3,
			adjustmentReason: 'ReBound return',
		},
		finance: {
			batchCreditNotes: false,
			deliveryPolicy: 'whole_order',
			rounding: 'half_up',
			tolerancePencePerLine: 1,
			manualAuthCode: 'REBOUND',
			...(args.scenario.finance ?? {}),
		},
		reconciliation: { keepDoneDays: 30 },
		alerts: {},
	};
}

/** The standard demo mapping (shared demo data), as written in scripts/templates/values.example.json. */
export const STANDARD_DEMO_MAPPING = exampleValues().mapping as {
	dispositions: Array<{
		disposition: string;
		action: string;
		siteId: string;
		locationId: string;
		sellable: boolean;
	}>;
	reasons: Array<{ reason: string; reasonId: string; matchOn: string }>;
	skuAliases: Array<Record<string, unknown>>;
};

function sha256(file: string): string {
	return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Steps 1-3 of the demo: everything up and the templates imported and active. */
export async function startDemo(o: StartDemoOptions): Promise<DemoHandle> {
	const { log, cleanup } = o;
	const timings: Record<string, number> = {};
	const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
		const t = Date.now();
		try {
			return await fn();
		} catch (e) {
			throw new Error(`${name} failed: ${(e as Error).message}`);
		} finally {
			timings[`${name}Ms`] = Date.now() - t;
		}
	};

	// fail fast, before the slow steps, when a port is taken
	await assertPortFree(o.port, 'n8n (--port)');
	await assertPortFree(o.khaosPort, 'the Khaos sandbox (--khaos-port)');
	await assertPortFree(o.reboundPort, 'the ReBound sandbox (--rebound-port)');

	const khaosFixture = await step('khaosFixture', async () => loadKhaosFixture(o.fixtures.khaos));
	const reboundFixture = await step('reboundFixture', async () =>
		loadReboundFixture(o.fixtures.rebound),
	);
	checkScenarioAgainstFixture(
		o.scenario,
		reboundFixture.returns.map((r) => String(r.id ?? '')),
		o.fixtures.rebound,
	);
	if (
		khaosFixture.auth.mode !== 'none' &&
		(!khaosFixture.auth.username || !khaosFixture.auth.password)
	)
		throw new Error(
			`Khaos fixture ${o.fixtures.khaos}: auth mode ${khaosFixture.auth.mode} needs auth.username and auth.password`,
		);

	const runtime = await step('ensureRuntime', () => ensureRuntime({ log }));

	const userFolder = path.resolve(o.userFolder ?? defaultUserFolder(o.port));
	prepareUserFolder(userFolder);
	log(
		`[demo] n8n user folder ${userFolder} (emptied; the installed package is kept for the next start)`,
	);

	const tarball = await step('installPackage', async () => {
		const tarball = await packRepo({ skipBuild: o.skipBuild, log });
		const workDir = path.dirname(tarball);
		// kept until the end: the other processes of a queue-mode topology install the same tarball
		cleanup.add('the packed package', async () =>
			fs.rmSync(workDir, { recursive: true, force: true }),
		);
		{
			const sum = sha256(tarball);
			const shaFile = path.join(userFolder, 'package.sha256');
			const installed = path.join(
				userFolder,
				'.n8n',
				'nodes',
				'node_modules',
				'n8n-nodes-rebound-khaos',
				'package.json',
			);
			if (
				fs.existsSync(installed) &&
				fs.existsSync(shaFile) &&
				fs.readFileSync(shaFile, 'utf8').trim() === sum
			) {
				log(
					'[package] the same package is already installed in the demo user folder; not reinstalled',
				);
				return tarball;
			}
			fs.rmSync(shaFile, { force: true });
			await installPackage(userFolder, { tarball, log });
			fs.writeFileSync(shaFile, `${sum}\n`);
		}
		return tarball;
	});

	const khaos = await step('khaosSandbox', () =>
		startKhaosSandbox({ port: o.khaosPort, fixture: o.fixtures.khaos }),
	);
	cleanup.add('the Khaos sandbox', () => khaos.close());
	const rebound = await step('reboundSandbox', () =>
		startReboundSandbox({ port: o.reboundPort, fixture: o.fixtures.rebound }),
	);
	cleanup.add('the ReBound sandbox', () => rebound.close());
	log(
		`[demo] Khaos sandbox ${khaos.url} (admin ${khaos.adminUrl}); ReBound sandbox ${rebound.url} (admin ${rebound.adminUrl})`,
	);

	const n8n = await step('startN8n', () =>
		startTopology({
			topology: o.topology,
			runtime,
			userFolder,
			tarball,
			port: o.port,
			log,
		}),
	);
	cleanup.add(`n8n (${n8n.describe()})`, () => n8n.stop());
	const loadErrors = packageLoadErrors(n8n.logs());
	if (loadErrors.length) throw new Error(`n8n did not load the package: ${loadErrors.join('; ')}`);

	const owner = await step('setupOwner', () => setupOwner(n8n.baseUrl, { email: DEMO_EMAIL }));
	const api = await step('createApiKey', () =>
		createApiKey(n8n.baseUrl, owner, 'rebound-khaos demo'),
	);

	const wh = reboundFixture.webhook;
	const signing = {
		secret: wh.secret,
		signatureHeader: wh.signatureHeader,
		timestampHeader: wh.timestampHeader,
		encoding: wh.encoding,
		signTimestamp: wh.signTimestamp,
		toleranceSeconds: wh.toleranceSeconds,
		prefix: wh.prefix,
	};
	if (!signing.secret)
		throw new Error(
			`ReBound fixture ${o.fixtures.rebound}: webhook.secret is empty; the intake only accepts signed events`,
		);
	const webhookId = `demo-${randomBytes(6).toString('hex')}`;
	const client = o.scenario.client;
	const valuesFile = path.join(userFolder, 'demo-values.json');
	fs.writeFileSync(
		valuesFile,
		JSON.stringify(
			demoValues({
				client,
				khaosUrl: khaos.url,
				khaosFixture,
				reboundUrl: rebound.url,
				reboundLogin: reboundFixture.credentials.login,
				signing,
				webhookId,
				processEverySeconds: o.processEverySeconds,
				scenario: o.scenario,
			}),
			null,
			2,
		),
	);
	const importLog: string[] = [];
	const report = await step('import', () =>
		runImport(
			{
				client,
				valuesFile,
				n8nUrl: n8n.baseUrl,
				apiKeyEnv: 'DEMO_N8N_API_KEY',
				dryRun: false,
				templatesDir: WORKFLOWS_DIR,
			},
			{
				env: {
					DEMO_N8N_API_KEY: api.apiKey,
					DEMO_REBOUND_API_KEY: reboundFixture.credentials.apiKey,
					DEMO_REBOUND_WEBHOOK_SECRET: signing.secret,
					DEMO_KHAOS_USERNAME: khaosFixture.auth.username ?? '',
					DEMO_KHAOS_PASSWORD: khaosFixture.auth.password ?? '',
				},
				log: (line) => importLog.push(line),
			},
		),
	);
	if (report.exitCode !== 0)
		throw new Error(`template import failed (exit ${report.exitCode}):\n${importLog.join('\n')}`);
	log(
		`[demo] imported for client "${client}": ${report.workflows.map((w) => `${w.file}${w.active ? ' (active)' : ''}`).join(', ')}`,
	);

	const tableId = (key: string) => {
		const id = report.tables.find((t) => t.key === key)?.id;
		if (!id) throw new Error(`the import reported no ${key} Data Table`);
		return id;
	};
	const workflowId = (file: string) => {
		const id = report.workflows.find((w) => w.file === file)?.id;
		if (!id) throw new Error(`the import reported no ${file} workflow`);
		return id;
	};
	return {
		n8n,
		owner,
		api,
		report,
		khaos,
		rebound,
		userFolder,
		webhookPath: `${webhookId}/rebound`,
		signing,
		timings,
		tableId,
		workflowId,
		workflowLinks: () =>
			report.workflows
				.filter((w) => w.id)
				.map((w) => ({ name: w.name, url: `${n8n.baseUrl}/workflow/${w.id}` })),
	};
}

// ------------------------------------------------------------------ driving

export async function tableRows(
	h: DemoHandle,
	key: string,
): Promise<Array<Record<string, unknown>>> {
	const out: Array<Record<string, unknown>> = [];
	let cursor: string | undefined;
	for (let page = 0; page < 40; page++) {
		const q = new URLSearchParams({ limit: '250' });
		if (cursor) q.set('cursor', cursor);
		const res = await h.api.request(
			'GET',
			`/data-tables/${encodeURIComponent(h.tableId(key))}/rows?${q.toString()}`,
		);
		out.push(...((res?.data ?? []) as Array<Record<string, unknown>>));
		cursor = res?.nextCursor ?? undefined;
		if (!cursor) break;
	}
	return out;
}

export async function khaosState(
	h: DemoHandle,
): Promise<{ adjustments: KhaosAdjustment[]; creditNotes: KhaosCreditNote[] }> {
	const res = await fetch(`${h.khaos.adminUrl}/state`, { signal: AbortSignal.timeout(10_000) });
	if (!res.ok) throw new Error(`Khaos sandbox ${h.khaos.adminUrl}/state → HTTP ${res.status}`);
	return (await res.json()) as { adjustments: KhaosAdjustment[]; creditNotes: KhaosCreditNote[] };
}

/** Sets the scenario's grades in the ReBound sandbox (walking an ungraded return to graded). */
export function applyGrade(h: DemoHandle, returnId: string, grade: Record<string, string>): void {
	const r = h.rebound.state.get(Number(returnId));
	if (r.status === 'cancelled')
		throw new Error(
			`scenario return ${returnId} is cancelled in the ReBound fixture; it cannot be graded`,
		);
	if (r.status === 'created' || r.status === 'in_transit')
		for (const s of h.rebound.state.path(r, 'at_hub')) h.rebound.state.transition(r, s);
	h.rebound.state.grade(r, grade);
	const ungraded = r.item
		.map((it, i) => (it.final_disposition ? null : `line ${i + 1} (${it.sku_code})`))
		.filter(Boolean);
	if (ungraded.length)
		throw new Error(
			`scenario return ${returnId}: no disposition for ${ungraded.join(', ')}; give every line in "grade"`,
		);
	if (r.status === 'at_hub') h.rebound.state.transition(r, 'graded');
	else h.rebound.state.transition(r, r.status); // a re-grade: a new, later event
}

/** How long a finished return waits for the exception rows its scenario expects (then it is judged). */
const EXPECTED_ROWS_GRACE_MS = 15_000;

/**
 * How long the demo waits, after deciding a held credit as finance, for the finance review workflow
 * (every minute) to act on it: one schedule tick and its run, with room to spare.
 */
export const FINANCE_REVIEW_WAIT_MS = 90_000;

/**
 * Finance's decision on a pending credit reviews row, exactly as finance makes it in n8n's Data
 * Table UI: the public API's row update of `decision`, `decidedBy` and `note` on the return's
 * pending row (and on that row only: the filter names the return and status pending).
 */
export async function decideReview(
	h: Pick<DemoHandle, 'api' | 'tableId'>,
	returnId: string,
	step: { decision: string; decidedBy: string; note?: string },
): Promise<void> {
	await h.api.request(
		'PATCH',
		`/data-tables/${encodeURIComponent(h.tableId('reviews'))}/rows/update`,
		{
			filter: {
				type: 'and',
				filters: [
					{ columnName: 'returnId', condition: 'eq', value: returnId },
					{ columnName: 'status', condition: 'eq', value: 'pending' },
				],
			},
			data: { decision: step.decision, decidedBy: step.decidedBy, note: step.note ?? '' },
		},
	);
}

/** A signed `return.processed` event for a sandbox return, exactly as the e2e test sends it. */
export async function deliver(
	h: DemoHandle,
	returnId: string,
): Promise<{ eventId: string; orderReference: string }> {
	const r = h.rebound.state.get(Number(returnId));
	if (r.status !== 'graded' && r.status !== 'delivered')
		throw new Error(
			`scenario return ${returnId} is ${r.status} in the ReBound sandbox, not graded; give it a "grade" in the scenario`,
		);
	const eventId = `evt_demo_${returnId}_${randomBytes(4).toString('hex')}`;
	const event = {
		id: eventId,
		event: 'return.processed',
		occurred_at: new Date().toISOString(),
		sequence: r.sequence,
		data: h.rebound.state.wire(r, false),
	};
	const body = JSON.stringify(event);
	const headers = signWebhookBody(body, h.signing.secret, Date.now() / 1000, h.signing);
	const res = await postWebhook(h.n8n.webhookBaseUrl, h.webhookPath, event, { headers });
	if (res.status !== 200)
		throw new Error(
			`the intake webhook answered HTTP ${res.status} for return ${returnId}: ${res.text.slice(0, 300)}`,
		);
	return { eventId, orderReference: r.order_reference };
}

/**
 * Step 4-5: send every scenario return, wait (bounded) until each inbox row is done or exception
 * (an exception row present for the latter) or, for a held credit, `credit_review`; a return with a
 * finance step is decided as finance would (its pending review row's `decision` set through the
 * public API) and waited for until the finance review workflow has acted on it (bounded: 90 s
 * after the decision). Then judge.
 */
export async function driveScenario(
	h: DemoHandle,
	scenario: Scenario,
	opts: { waitSeconds: number; log: Log },
): Promise<DemoSummary> {
	const { log } = opts;
	const sent: Record<string, { eventId: string; orderReference: string }> = {};
	const t0 = Date.now();
	for (const r of scenario.returns) {
		if (r.grade) applyGrade(h, r.returnId, r.grade);
		sent[r.returnId] = await deliver(h, r.returnId);
		log(`[demo] sent return ${r.returnId} (${sent[r.returnId].orderReference}): ${r.label}`);
	}
	h.timings.sendMs = Date.now() - t0;

	const baseDeadline = Date.now() + opts.waitSeconds * 1000;
	const decisions: Record<string, FinanceAction> = {};
	const decidedAtMs = new Map<string, number>();
	// the bound: --wait-seconds for the returns, and FINANCE_REVIEW_WAIT_MS after each finance decision
	const deadline = () =>
		Math.max(baseDeadline, ...[...decidedAtMs.values()].map((t) => t + FINANCE_REVIEW_WAIT_MS));
	let inbox: Array<Record<string, unknown>> = [];
	let exceptions: Array<Record<string, unknown>> = [];
	let reviews: Array<Record<string, unknown>> = [];
	let pending: string[] = scenario.returns.map((r) => r.returnId);
	let lastReport = 0;
	// A row can end `done` with exception rows of its own (a credit_mismatch, a notice) that the sink
	// writes beside it: once final, a return waits a little longer for the rows its scenario expects.
	const finalSince = new Map<string, number>();
	const expectedKinds = (r: Scenario['returns'][number]) => [
		...r.expect.exceptions.map((e) => (typeof e === 'string' ? e : e.kind)),
		...r.expect.notices,
	];
	// held credits: the credit reviews rows (also to name a review the scenario does not expect)
	const readReviews = () => tableRows(h, 'reviews');
	while (Date.now() < deadline()) {
		inbox = await tableRows(h, 'inbox');
		exceptions = await tableRows(h, 'exceptions');
		reviews = await readReviews();
		pending = [];
		for (const r of scenario.returns) {
			const row = inboxRowFor(inbox, r.returnId, sent[r.returnId].eventId);
			const review = reviewRowFor(reviews, r.returnId);
			// finance: decide the held credit once its review row is pending, as finance would
			if (
				r.finance &&
				!decisions[r.returnId] &&
				row?.status === 'credit_review' &&
				review?.status === 'pending'
			) {
				await decideReview(h, r.returnId, r.finance);
				const seen = reviewOf(review);
				decidedAtMs.set(r.returnId, Date.now());
				decisions[r.returnId] = {
					decision: r.finance.decision,
					decidedBy: r.finance.decidedBy,
					note: r.finance.note ?? '',
					decidedAt: new Date().toISOString(),
					held: {
						gross: seen.gross,
						withoutHeldGross: seen.withoutHeldGross,
						heldLines: seen.heldLines,
						heldWhy: seen.heldWhy,
					},
					settledAfterMs: null,
				};
				log(
					`[demo] finance: return ${r.returnId}'s credit was held (${seen.heldLines}; £${seen.gross} as computed${seen.withoutHeldGross ? `, £${seen.withoutHeldGross} without the held lines` : ''}); ${r.finance.decidedBy} sets decision "${r.finance.decision}" on its credit reviews row; the finance review workflow acts on it within a minute`,
				);
			}
			const decided = decisions[r.returnId];
			const settled = (() => {
				if (!row) return false;
				// a held credit with no finance step waits for finance: as far as the demo goes
				if (row.status === 'credit_review') return !r.finance;
				if (!isFinalStatus(row.status)) return false;
				// decided: until the finance review workflow has acted on the row
				if (decided && (!review || review.status === 'pending')) return false;
				return true;
			})();
			if (!settled) {
				pending.push(r.returnId);
				continue;
			}
			if (decided && decided.settledAfterMs === null)
				decided.settledAfterMs = Date.now() - decidedAtMs.get(r.returnId)!;
			const own = exceptions.filter((e) => String(e.returnId) === r.returnId);
			if (row!.status === 'exception' && !own.length) {
				pending.push(r.returnId);
				continue;
			}
			if (!finalSince.has(r.returnId)) finalSince.set(r.returnId, Date.now());
			const missing = expectedKinds(r).some((k) => !own.some((e) => e.kind === k));
			if (missing && Date.now() - finalSince.get(r.returnId)! < EXPECTED_ROWS_GRACE_MS)
				pending.push(r.returnId);
		}
		if (!pending.length) break;
		if (Date.now() - lastReport > 10_000) {
			lastReport = Date.now();
			const waitingForFinance = pending.filter((id) => decisions[id]);
			log(
				`[demo] waiting for ${pending.length} return(s) to finish: ${pending.join(', ')}${waitingForFinance.length ? ` (${waitingForFinance.join(', ')}: the finance review workflow, every minute)` : ''}`,
			);
		}
		await sleep(500);
	}
	h.timings.processMs = Date.now() - t0;
	const decidedIds = Object.keys(decisions);
	if (decidedIds.length)
		h.timings.financeReviewMs = Math.max(
			...decidedIds.map((id) => decisions[id].settledAfterMs ?? Date.now() - decidedAtMs.get(id)!),
		);
	if (pending.length)
		log(
			`[demo] not finished within the bound (${opts.waitSeconds} s, ${FINANCE_REVIEW_WAIT_MS / 1000} s after a finance decision): ${pending.join(', ')}`,
		);
	else
		log(
			`[demo] all ${scenario.returns.length} returns finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
		);
	// the exception sink may still be writing its last rows: one more read
	exceptions = await tableRows(h, 'exceptions');
	reviews = await readReviews().catch(() => reviews);
	const khaos = await khaosState(h);
	const mappingAudit = await demoMappingAudit(h, scenario, log);
	return {
		...buildSummary({ scenario, sent, inbox, exceptions, khaos, reviews, decisions }),
		deployment: h.n8n.describe(),
		...(mappingAudit ? { mappingAudit } : {}),
	};
}

/**
 * The demo client's mapping audit (what its daily mapping audit workflow reports): its mapping
 * tables as n8n holds them, checked against the Khaos sandbox and the ReBound sandbox's returns of
 * the last 30 days. Never fails the demo: a failure is logged and the section left out.
 */
async function demoMappingAudit(
	h: DemoHandle,
	scenario: Scenario,
	log: Log,
): Promise<MappingAuditSummary | null> {
	const t0 = Date.now();
	try {
		const audit = await runDemoAudit({
			khaosUrl: h.khaos.url,
			reboundUrl: h.rebound.url,
			reboundLogin: h.rebound.state.credentials.login,
			reboundApiKey: h.rebound.state.credentials.apiKey,
			dispositions: await tableRows(h, 'dispositions'),
			reasons: await tableRows(h, 'reasons'),
			days: 30,
			title: `Mapping audit ${scenario.client}`,
		});
		h.timings.mappingAuditMs = Date.now() - t0;
		return mappingAuditSummary(audit);
	} catch (error) {
		log(`[demo] mapping audit failed: ${(error as Error).message}`);
		return null;
	}
}
