/**
 * The per-client import command: values validation (every missing value
 * named, nothing imported), dry-run output, and a real-mode run against an
 * in-memory fake of n8n's public API (tables, seeded rows, credentials,
 * workflows, activation, idempotent re-run).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { WorkflowTemplate } from '../../scripts/templates/build';
import {
	EXIT_BAD_VALUES,
	EXIT_OK,
	parseArgs,
	runImport,
	type ImportOptions,
} from '../../scripts/templates/import';
import { TABLES } from '../../scripts/templates/tables';
import { formatProblems, validateValues } from '../../scripts/templates/values';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'scripts/templates/values.example.json');
const example = (): Record<string, any> => JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
const SECRET_KEY = 'n8n-api-key-SECRET-123';
const ENV = {
	N8N_API_KEY: SECRET_KEY,
	REBOUND_API_KEY: 'rb-key-SECRET-456',
	REBOUND_WEBHOOK_SECRET: 'whsec-SECRET-789',
};

let tmp: string;
beforeEach(() => {
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tpl-import-'));
});
afterEach(() => {
	fs.rmSync(tmp, { recursive: true, force: true });
});

function writeValues(values: unknown): string {
	const file = path.join(tmp, 'values.json');
	fs.writeFileSync(file, JSON.stringify(values));
	return file;
}

function options(valuesFile: string, extra: Partial<ImportOptions> = {}): ImportOptions {
	return {
		valuesFile,
		n8nUrl: 'http://127.0.0.1:5678',
		apiKeyEnv: 'N8N_API_KEY',
		dryRun: false,
		templatesDir: path.join(ROOT, 'workflows'),
		...extra,
	};
}

function node(wf: WorkflowTemplate, name: string) {
	const n = wf.nodes.find((x) => x.name === name);
	if (!n) throw new Error(`no node ${name}`);
	return n;
}

// ---------------------------------------------------------------- a fake n8n public API

interface FakeN8n {
	fetch: typeof fetch;
	calls: Array<{ method: string; path: string; body: any; apiKey: string | null }>;
	tables: Array<{
		id: string;
		name: string;
		columns: Array<{ name: string; type: string }>;
		rows: any[];
	}>;
	credentials: Array<{ id: string; name: string; type: string; data: any }>;
	workflows: Array<{ id: string; name: string; body: any; active: boolean }>;
}

function fakeN8n(): FakeN8n {
	const state: FakeN8n = {
		fetch: undefined as unknown as typeof fetch,
		calls: [],
		tables: [],
		credentials: [],
		workflows: [],
	};
	let seq = 0;
	const json = (status: number, body: unknown) =>
		new Response(body === undefined ? '' : JSON.stringify(body), {
			status,
			headers: { 'content-type': 'application/json' },
		});
	state.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
		const url = new URL(String(input));
		const method = (init?.method ?? 'GET').toUpperCase();
		const body = init?.body ? JSON.parse(String(init.body)) : undefined;
		const headers = (init?.headers ?? {}) as Record<string, string>;
		const p = url.pathname.replace(/^\/api\/v1/, '');
		state.calls.push({ method, path: p, body, apiKey: headers['X-N8N-API-KEY'] ?? null });
		if (headers['X-N8N-API-KEY'] !== SECRET_KEY) return json(401, { message: 'unauthorized' });
		let m: RegExpExecArray | null;
		if (method === 'GET' && p === '/data-tables') {
			const filter = JSON.parse(url.searchParams.get('filter') ?? '{}') as { name?: string };
			const data = state.tables
				.filter((t) => !filter.name || t.name.toLowerCase() === filter.name.toLowerCase())
				.map((t) => ({ id: t.id, name: t.name, columns: t.columns }));
			return json(200, { data, nextCursor: null });
		}
		if (method === 'POST' && p === '/data-tables') {
			const t = { id: `dt${++seq}`, name: body.name, columns: body.columns, rows: [] };
			state.tables.push(t);
			return json(201, { id: t.id, name: t.name, columns: t.columns, projectId: 'p1' });
		}
		if ((m = /^\/data-tables\/([^/]+)$/.exec(p)) && method === 'GET') {
			const t = state.tables.find((x) => x.id === m?.[1]);
			return t
				? json(200, { id: t.id, name: t.name, columns: t.columns })
				: json(404, { message: 'not found' });
		}
		if ((m = /^\/data-tables\/([^/]+)\/rows$/.exec(p))) {
			const t = state.tables.find((x) => x.id === m?.[1]);
			if (!t) return json(404, { message: 'not found' });
			if (method === 'GET') {
				// n8n's public API: limit (at most 250), an id filter, sortBy id, an offset cursor
				const limit = Math.min(250, Number(url.searchParams.get('limit') ?? 100));
				const filter = JSON.parse(url.searchParams.get('filter') ?? '{"filters":[]}') as {
					filters: Array<{ columnName: string; condition: string; value: number }>;
				};
				let rows = t.rows.filter((r) =>
					filter.filters.every(
						(f) => f.columnName === 'id' && f.condition === 'gt' && Number(r.id) > f.value,
					),
				);
				if (url.searchParams.get('sortBy') === 'id:asc')
					rows = [...rows].sort((a, b) => Number(a.id) - Number(b.id));
				const from = Number(url.searchParams.get('cursor') ?? 0);
				return json(200, {
					data: rows.slice(from, from + limit),
					nextCursor: from + limit < rows.length ? String(from + limit) : null,
				});
			}
			for (const row of body.data)
				for (const col of Object.keys(row))
					if (!t.columns.some((c) => c.name === col))
						return json(400, { message: `unknown column ${col}` });
			// each row gets its id, as n8n gives it
			let last = Math.max(0, ...t.rows.map((r) => Number(r.id) || 0));
			t.rows.push(...body.data.map((r: Record<string, unknown>) => ({ id: ++last, ...r })));
			return json(200, { count: body.data.length });
		}
		if ((m = /^\/data-tables\/([^/]+)\/columns$/.exec(p)) && method === 'POST') {
			state.tables.find((x) => x.id === m?.[1])?.columns.push(body);
			return json(201, body);
		}
		if (method === 'GET' && p === '/credentials')
			return json(200, {
				data: state.credentials.map((c) => ({ id: c.id, name: c.name, type: c.type })),
				nextCursor: null,
			});
		if (method === 'POST' && p === '/credentials') {
			const c = { id: `cr${++seq}`, name: body.name, type: body.type, data: body.data };
			state.credentials.push(c);
			return json(200, { id: c.id, name: c.name, type: c.type });
		}
		if (method === 'GET' && p === '/workflows') {
			const name = url.searchParams.get('name');
			return json(200, {
				data: state.workflows
					.filter((w) => !name || w.name === name)
					.map((w) => ({ id: w.id, name: w.name, active: w.active })),
				nextCursor: null,
			});
		}
		if (method === 'POST' && p === '/workflows') {
			const allowed = ['name', 'nodes', 'connections', 'settings'];
			const extra = Object.keys(body).filter((k) => !allowed.includes(k));
			if (extra.length)
				return json(400, {
					message: `request/body must NOT have additional properties: ${extra.join(',')}`,
				});
			const w = { id: `wf${++seq}`, name: body.name, body, active: false };
			state.workflows.push(w);
			return json(200, { id: w.id, name: w.name, active: false });
		}
		if ((m = /^\/workflows\/([^/]+)$/.exec(p)) && method === 'PUT') {
			const w = state.workflows.find((x) => x.id === m?.[1]);
			if (!w) return json(404, { message: 'not found' });
			w.body = body;
			return json(200, { id: w.id, name: w.name, active: w.active });
		}
		if ((m = /^\/workflows\/([^/]+)\/activate$/.exec(p)) && method === 'POST') {
			const w = state.workflows.find((x) => x.id === m?.[1]);
			if (!w) return json(404, { message: 'not found' });
			w.active = true;
			return json(200, { id: w.id, name: w.name, active: true });
		}
		return json(404, { message: `no route ${method} ${p}` });
	}) as typeof fetch;
	return state;
}

// ---------------------------------------------------------------- arguments

describe('parseArgs', () => {
	it('reads the documented options', () => {
		const r = parseArgs([
			'--client',
			'Acme',
			'--values',
			'v.json',
			'--n8n-url=http://127.0.0.1:9999',
			'--api-key-env',
			'KEY',
			'--dry-run',
			'--out',
			'out',
		]);
		expect(r).toEqual({
			ok: true,
			options: expect.objectContaining({
				client: 'Acme',
				valuesFile: 'v.json',
				n8nUrl: 'http://127.0.0.1:9999',
				apiKeyEnv: 'KEY',
				dryRun: true,
				outDir: 'out',
			}),
		});
	});
	it.each([
		[['--client', 'Acme'], '--values <file> is required'],
		[['--values', 'v.json', '--dry-run'], '--dry-run needs --out <dir>'],
		[['--values', 'v.json', '--bogus'], 'Unknown option --bogus'],
		[['--values'], '--values needs a value'],
	])('rejects %j', (argv, message) => {
		expect(parseArgs(argv)).toEqual({ ok: false, message });
	});
});

// ---------------------------------------------------------------- values

describe('validateValues', () => {
	it('accepts the example values file and fills the defaults', () => {
		const r = validateValues(example());
		if (!r.ok) throw new Error(formatProblems(r.problems));
		expect(r.values.processing.staleAfterMinutes).toBe(15);
		expect(r.values.schedules.replayEveryMinutes).toBeNull();
		expect(r.warnings).toEqual([]);
	});

	it('names every missing value of an empty file', () => {
		const r = validateValues({});
		expect(r.ok).toBe(false);
		if (r.ok) return;
		expect(r.problems.filter((p) => p.missing).map((p) => p.name)).toEqual([
			'client',
			'timezone',
			'credentials.khaos',
			'credentials.rebound',
			'dataTables.inbox',
			'dataTables.exceptions',
			'dataTables.dispositions',
			'dataTables.reasons',
			'dataTables.skuAliases',
			'trigger.mode',
			'schedules.processEverySeconds',
			'schedules.reconciliationCron',
			'processing.batchSize',
			'finance.batchCreditNotes',
		]);
	});

	it('names values needed by the choices made: the posting schedule, the e-mail sender and credentials', () => {
		const v = example();
		v.finance.batchCreditNotes = true;
		delete v.schedules.creditPostingCron;
		v.alerts = { emailTo: 'ops@example.com', slackChannel: '#returns' };
		delete v.credentials.rebound.data;
		const r = validateValues(v);
		expect(r.ok).toBe(false);
		if (r.ok) return;
		expect(
			r.problems
				.filter((p) => p.missing)
				.map((p) => p.name)
				.sort(),
		).toEqual(
			[
				'alerts.emailFrom',
				'credentials.rebound',
				'credentials.slack',
				'credentials.smtp',
				'schedules.creditPostingCron',
			].sort(),
		);
		expect(formatProblems(r.problems)).toContain(
			'  - schedules.creditPostingCron: is needed when finance.batchCreditNotes is true',
		);
	});

	it('checks mapping rows with the mapping rules and against the sites', () => {
		const v = example();
		v.mapping.dispositions.push({
			disposition: 'Mystery',
			action: 'restock',
			siteId: '9',
			locationId: 'X',
			sellable: true,
		});
		v.mapping.dispositions.push({
			disposition: 'Returns bay',
			action: 'restock',
			siteId: '1',
			locationId: 'QUAR',
			sellable: true,
		});
		v.mapping.dispositions.push({
			disposition: '*',
			action: 'restock',
			siteId: '1',
			locationId: 'A1',
			sellable: true,
		});
		const r = validateValues(v);
		expect(r.ok).toBe(false);
		if (r.ok) return;
		const byName = Object.fromEntries(r.problems.map((p) => [p.name, p.message]));
		expect(byName['mapping.dispositions[9].sellable']).toMatch(
			/default row \(\*\) must never be sellable/,
		);
		const again = validateValues({
			...v,
			mapping: { ...v.mapping, dispositions: v.mapping.dispositions.slice(0, 9) },
		});
		expect(again.ok).toBe(false);
		if (again.ok) return;
		expect(again.problems.map((p) => p.name)).toEqual([
			'mapping.dispositions[7].siteId',
			'mapping.dispositions[8].sellable',
		]);
		expect(again.problems[1].message).toBe(
			'row is sellable but location "QUAR" of site "1" is not a sellable location',
		);
	});

	it('rejects wrong types and formats with the value named', () => {
		const v = example();
		v.processing.batchSize = 0;
		v.schedules.reconciliationCron = 'daily';
		v.trigger.mode = 'email';
		const r = validateValues(v);
		expect(r.ok).toBe(false);
		if (r.ok) return;
		expect(r.problems.map((p) => [p.name, p.missing]).sort()).toEqual([
			['processing.batchSize', false],
			['schedules.reconciliationCron', false],
			['trigger.mode', false],
		]);
	});
});

// ---------------------------------------------------------------- dry run

describe('dry run', () => {
	it('writes the filled-in workflows and a plan, without a server; the Errors workflow keeps an id the others name as their error workflow', async () => {
		const out = path.join(tmp, 'out');
		const lines: string[] = [];
		const fake = fakeN8n();
		const report = await runImport(
			options(EXAMPLE, { dryRun: true, outDir: out, client: 'Demo Retail' }),
			{ env: {}, log: (l) => lines.push(l), fetchImpl: fake.fetch },
		);
		expect(report.exitCode).toBe(EXIT_OK);
		expect(fake.calls).toEqual([]);
		expect(fs.readdirSync(out).sort()).toEqual([
			'credit-posting.json',
			'errors.json',
			'exception-replay.json',
			'finance-review.json',
			'mapping-audit.json',
			'plan',
			'reconciliation.json',
			'returns-intake.json',
			'returns-processor.json',
		]);
		for (const f of fs.readdirSync(out).filter((x) => x.endsWith('.json')))
			expect(fs.readFileSync(path.join(out, f), 'utf8')).not.toMatch(/\{\{[A-Z][A-Z0-9_]*\}\}/);

		const processor = JSON.parse(
			fs.readFileSync(path.join(out, 'returns-processor.json'), 'utf8'),
		) as WorkflowTemplate;
		expect(processor.name).toBe('Returns: ReBound → Khaos – 2 process queue (Demo Retail)');
		expect(processor.settings.timezone).toBe('Europe/London');
		const queued = node(processor, 'Queued Returns').parameters as any;
		expect(queued.limit).toBe(100);
		// tables known by name only are referenced "By Name"
		expect(queued.dataTableId).toEqual({
			__rl: true,
			mode: 'name',
			value: 'Demo Retail returns inbox',
			cachedResultName: 'Demo Retail returns inbox',
		});
		expect((node(processor, 'Every Few Seconds').parameters as any).rule.interval[0]).toEqual({
			field: 'seconds',
			secondsInterval: 30,
		});
		// the import's boolean itself (no expression a row), in both templates that branch on it
		const replay = JSON.parse(
			fs.readFileSync(path.join(out, 'exception-replay.json'), 'utf8'),
		) as WorkflowTemplate;
		for (const wf of [processor, replay])
			expect(
				(node(wf, 'Finance Batched?').parameters as any).conditions.conditions[0].leftValue,
			).toBe(false);
		// credentials to be created are referenced by name (n8n import:workflow resolves them); unconfigured alerts stay disabled without one
		expect(node(processor, 'Validate SKUs').credentials).toEqual({
			khaosControlApi: 'Khaos Control (Demo Retail)',
		});
		expect(node(processor, 'Alert by Email').disabled).toBe(true);
		expect(node(processor, 'Alert by Email').credentials).toBeUndefined();
		expect((node(processor, 'Create Credit Note').parameters as any).options).toEqual({
			deliveryPolicy: 'whole_order',
			manualAuthCode: 'REBOUND',
			processReturn: true,
			rounding: 'half_up',
			tolerancePencePerLine: 1,
			zeroValue: 'skip',
		});

		const intake = JSON.parse(
			fs.readFileSync(path.join(out, 'returns-intake.json'), 'utf8'),
		) as WorkflowTemplate;
		expect(node(intake, 'ReBound Trigger').webhookId).toBe('demo-retail-returns');
		expect(node(intake, 'ReBound Trigger').disabled).toBe(false);
		expect(node(intake, 'ReBound Poll Trigger').disabled).toBe(true);

		const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan', 'import-plan.json'), 'utf8'));
		expect(plan.workflows.map((w: any) => [w.file, w.activate])).toEqual([
			['errors.json', true],
			['returns-intake.json', true],
			['returns-processor.json', true],
			['credit-posting.json', false],
			['finance-review.json', true],
			['reconciliation.json', true],
			['mapping-audit.json', true],
			['exception-replay.json', false],
		]);
		expect(plan.dataTables.find((t: any) => t.key === 'dispositions')).toEqual(
			expect.objectContaining({ create: true, seedRows: 7, columns: TABLES.dispositions.columns }),
		);
		expect(plan.credentials.map((c: any) => [c.key, c.type, c.create])).toEqual([
			['khaos', 'khaosControlApi', true],
			['rebound', 'reBoundApi', true],
		]);
		expect(JSON.stringify(plan)).not.toContain('env:');
		expect(lines.join('\n')).toContain('http://127.0.0.1:5678/webhook/demo-retail-returns/rebound');

		// the Errors workflow is written with its id (n8n import:workflow keeps it); every other file names it
		const errors = JSON.parse(fs.readFileSync(path.join(out, 'errors.json'), 'utf8'));
		expect(errors.id).toMatch(/^[0-9A-Za-z]{16}$/);
		expect(report.errorWorkflowId).toBe(errors.id);
		expect(plan.errorWorkflowId).toBe(errors.id);
		expect(errors.settings.errorWorkflow).toBeUndefined();
		expect(node(errors, 'On Workflow Error').type).toBe('n8n-nodes-base.errorTrigger');
		const others = fs
			.readdirSync(out)
			.filter((f) => f.endsWith('.json') && f !== 'errors.json')
			.map((f) => [f, JSON.parse(fs.readFileSync(path.join(out, f), 'utf8'))]);
		expect(others).toHaveLength(7);
		for (const [f, wf] of others)
			expect([f, wf.id, wf.settings.errorWorkflow]).toEqual([f, undefined, errors.id]);
		expect(lines.join('\n')).toContain(`n8n publish:workflow --id=${errors.id}`);
	});

	it('uses the ids it is given (tables by id, credentials by id) and honours the client choices', async () => {
		const v = example();
		v.credentials.khaos = { id: 'K1', name: 'Khaos live' };
		v.credentials.smtp = { id: 'S1', name: 'Mail' };
		v.dataTables.inbox = { id: 'T-INBOX' };
		v.finance.batchCreditNotes = true;
		v.schedules.replayEveryMinutes = 30;
		v.trigger = { mode: 'poll', pollEveryMinutes: 10 };
		v.alerts = { emailFrom: 'n8n@example.com', emailTo: 'ops@example.com' };
		const out = path.join(tmp, 'out');
		const report = await runImport(options(writeValues(v), { dryRun: true, outDir: out }), {
			env: {},
			log: () => undefined,
		});
		expect(report.exitCode).toBe(EXIT_OK);
		const read = (f: string) =>
			JSON.parse(fs.readFileSync(path.join(out, `${f}.json`), 'utf8')) as WorkflowTemplate;
		const processor = read('returns-processor');
		expect((node(processor, 'Queued Returns').parameters as any).dataTableId).toEqual({
			__rl: true,
			mode: 'id',
			value: 'T-INBOX',
			cachedResultName: 'Demo Retail returns inbox',
		});
		expect(node(processor, 'Apply Stock Moves').credentials).toEqual({
			khaosControlApi: { id: 'K1', name: 'Khaos live' },
		});
		expect(node(processor, 'Alert by Email').disabled).toBe(false);
		expect(node(processor, 'Alert by Email').credentials).toEqual({
			smtp: { id: 'S1', name: 'Mail' },
		});
		expect((node(processor, 'Alert by Email').parameters as any).toEmail).toBe('ops@example.com');
		// the import's boolean itself (no expression a row), in both templates that branch on it
		for (const wf of [processor, read('exception-replay')])
			expect(
				(node(wf, 'Finance Batched?').parameters as any).conditions.conditions[0].leftValue,
			).toBe(true);
		const intake = read('returns-intake');
		expect(node(intake, 'ReBound Trigger').disabled).toBe(true);
		expect(node(intake, 'ReBound Poll Trigger').disabled).toBe(false);
		expect((node(intake, 'ReBound Poll Trigger').parameters as any).pollTimes.item[0].value).toBe(
			10,
		);
		expect(node(read('exception-replay'), 'On Replay Schedule').disabled).toBe(false);
		expect(
			(node(read('credit-posting'), 'On Posting Schedule').parameters as any).rule.interval[0]
				.expression,
		).toBe('0 18 * * 1-5');
		expect(report.workflows.map((w) => w.active)).toEqual([
			true,
			true,
			true,
			true,
			true,
			true,
			true,
			true,
		]);
	});
});

// ---------------------------------------------------------------- against a (fake) n8n

describe('import into n8n through the public API', () => {
	it('exits 2 and calls nothing when values are missing', async () => {
		const fake = fakeN8n();
		const lines: string[] = [];
		const v = example();
		delete v.dataTables.exceptions;
		delete v.schedules.processEverySeconds;
		const report = await runImport(options(writeValues(v)), {
			env: ENV,
			log: (l) => lines.push(l),
			fetchImpl: fake.fetch,
		});
		expect(report.exitCode).toBe(EXIT_BAD_VALUES);
		expect(fake.calls).toEqual([]);
		expect(lines.join('\n')).toContain(
			'Missing values (2):\n  - dataTables.exceptions: is missing\n  - schedules.processEverySeconds: is missing',
		);
	});

	it('exits 2 naming the environment variables that are not set (API key, credential secrets)', async () => {
		const fake = fakeN8n();
		const lines: string[] = [];
		const report = await runImport(options(EXAMPLE), {
			env: { REBOUND_API_KEY: 'x' },
			log: (l) => lines.push(l),
			fetchImpl: fake.fetch,
		});
		expect(report.exitCode).toBe(EXIT_BAD_VALUES);
		expect(fake.calls).toEqual([]);
		expect(lines.join('\n')).toContain(
			'credentials.rebound.data.webhookSecret (environment variable REBOUND_WEBHOOK_SECRET)',
		);
		expect(lines.join('\n')).toContain(
			'N8N_API_KEY (environment variable holding the n8n API key)',
		);
	});

	it('creates credentials and tables, seeds the mapping rows, imports the workflows and activates the right ones; a re-run updates in place', async () => {
		const fake = fakeN8n();
		const lines: string[] = [];
		const report = await runImport(options(EXAMPLE), {
			env: ENV,
			log: (l) => lines.push(l),
			fetchImpl: fake.fetch,
		});
		expect(report.exitCode).toBe(EXIT_OK);
		expect(fake.calls.every((c) => c.apiKey === SECRET_KEY)).toBe(true);

		// credentials, with the secrets read from the environment
		expect(fake.credentials.map((c) => [c.name, c.type])).toEqual([
			['Khaos Control (Demo Retail)', 'khaosControlApi'],
			['ReBound (Demo Retail)', 'reBoundApi'],
		]);
		expect(fake.credentials[1].data).toEqual(
			expect.objectContaining({
				apiKey: ENV.REBOUND_API_KEY,
				webhookSecret: ENV.REBOUND_WEBHOOK_SECRET,
				login: 'demo-retail',
			}),
		);

		// tables with their columns; mapping rows seeded with the column types
		expect(fake.tables.map((t) => [t.name, t.columns.length])).toEqual([
			['Demo Retail returns inbox', TABLES.inbox.columns.length],
			['Demo Retail returns exceptions', TABLES.exceptions.columns.length],
			['Demo Retail disposition map', TABLES.dispositions.columns.length],
			['Demo Retail reason map', TABLES.reasons.columns.length],
			['Demo Retail sku aliases', TABLES.skuAliases.columns.length],
			['Demo Retail credit reviews', TABLES.reviews.columns.length],
			['Demo Retail recorded credits', TABLES.credits.columns.length],
			['Demo Retail return events', TABLES.events.columns.length],
		]);
		const dispositions = fake.tables[2].rows;
		expect(dispositions).toHaveLength(7);
		expect(dispositions[0]).toEqual({
			id: 1,
			disposition: 'Grade A',
			action: 'restock',
			siteId: '1',
			locationId: 'A1',
			sellable: true,
		});
		expect(dispositions[3]).toEqual({
			id: 4,
			disposition: 'Damaged',
			action: 'quarantine',
			siteId: '1',
			locationId: 'QUAR',
			sellable: false,
		});
		expect(fake.tables[3].rows).toHaveLength(5);
		expect(fake.tables[0].rows).toHaveLength(0);
		expect(report.tables.map((t) => [t.key, t.action, t.seeded])).toEqual([
			['inbox', 'created', 0],
			['exceptions', 'created', 0],
			['dispositions', 'created', 7],
			['reasons', 'created', 5],
			['skuAliases', 'created', 0],
			['reviews', 'created', 0],
			['credits', 'created', 0],
			['events', 'created', 0],
		]);

		// workflows: filled with the created ids, only API fields, the right ones active
		expect(fake.workflows).toHaveLength(8);
		for (const w of fake.workflows) {
			expect(Object.keys(w.body).sort()).toEqual(['connections', 'name', 'nodes', 'settings']);
			expect(JSON.stringify(w.body)).not.toMatch(/\{\{[A-Z][A-Z0-9_]*\}\}/);
		}
		const processor = fake.workflows[2].body as WorkflowTemplate;
		expect((node(processor, 'Queued Returns').parameters as any).dataTableId).toEqual({
			__rl: true,
			mode: 'id',
			value: fake.tables[0].id,
			cachedResultName: 'Demo Retail returns inbox',
		});
		expect(node(processor, 'Validate SKUs').credentials).toEqual({
			khaosControlApi: { id: fake.credentials[0].id, name: 'Khaos Control (Demo Retail)' },
		});
		expect(fake.workflows.map((w) => [w.name, w.active])).toEqual([
			['Returns: workflow errors (Demo Retail)', true],
			['Returns: ReBound → Khaos – 1 intake (Demo Retail)', true],
			['Returns: ReBound → Khaos – 2 process queue (Demo Retail)', true],
			['Returns: credit-note posting (Demo Retail)', false],
			['Returns: finance review of held credits (Demo Retail)', true],
			['Returns: daily reconciliation (Demo Retail)', true],
			['Returns: daily mapping audit (Demo Retail)', true],
			['Returns: exception replay (Demo Retail)', false],
		]);
		expect(lines.join('\n')).toContain(
			"Give ReBound this webhook URL and the credential's webhook secret: http://127.0.0.1:5678/webhook/demo-retail-returns/rebound",
		);

		// the Errors workflow was created and activated first; every other workflow names it as its error workflow
		const errorsId = fake.workflows[0].id;
		expect(report.errorWorkflowId).toBe(errorsId);
		const errorWorkflows = () =>
			fake.workflows.map((w) => [w.name, w.body.settings.errorWorkflow ?? null]);
		const expected = fake.workflows.map((w, i) => [w.name, i === 0 ? null : errorsId]);
		expect(errorWorkflows()).toEqual(expected);
		const creates = fake.calls.filter((c) => c.method === 'POST' && c.path === '/workflows');
		const firstActivation = fake.calls.findIndex((c) => /\/activate$/.test(c.path));
		expect(creates[0].body.name).toBe('Returns: workflow errors (Demo Retail)');
		expect(fake.calls[firstActivation].path).toBe(`/workflows/${errorsId}/activate`);
		expect(fake.calls.indexOf(creates[1])).toBeGreaterThan(firstActivation);

		// no secret reaches the output
		const output = lines.join('\n');
		for (const secret of Object.values(ENV)) expect(output).not.toContain(secret);

		// a second run reuses everything: no new tables, credentials or workflows, no second seeding
		const callsBefore = fake.calls.length;
		const again = await runImport(options(EXAMPLE), {
			env: ENV,
			log: () => undefined,
			fetchImpl: fake.fetch,
		});
		expect(again.exitCode).toBe(EXIT_OK);
		expect(fake.tables).toHaveLength(8);
		expect(fake.credentials).toHaveLength(2);
		expect(fake.workflows).toHaveLength(8);
		expect(fake.tables[2].rows).toHaveLength(7);
		expect(again.workflows.map((w) => w.action)).toEqual([
			'updated',
			'updated',
			'updated',
			'updated',
			'updated',
			'updated',
			'updated',
			'updated',
		]);
		expect(again.tables.map((t) => t.action)).toEqual([
			'found',
			'found',
			'found',
			'found',
			'found',
			'found',
			'found',
			'found',
		]);
		const newCalls = fake.calls.slice(callsBefore);
		expect(
			newCalls.filter(
				(c) => c.method === 'POST' && /^\/(data-tables|credentials|workflows)$/.test(c.path),
			),
		).toEqual([]);
		expect(newCalls.filter((c) => c.method === 'PUT')).toHaveLength(8);
		// the re-import's updates name the same Errors workflow again (a PUT replaces the settings)
		expect(again.errorWorkflowId).toBe(errorsId);
		expect(errorWorkflows()).toEqual(expected);
	});

	it('a client imported before the Errors workflow existed gets it on re-import, and every updated workflow names it', async () => {
		const fake = fakeN8n();
		const first = await runImport(options(EXAMPLE), {
			env: ENV,
			log: () => undefined,
			fetchImpl: fake.fetch,
		});
		expect(first.exitCode).toBe(EXIT_OK);
		// as it was before: no Errors workflow, no error workflow set on the others
		fake.workflows.splice(0, 1);
		for (const w of fake.workflows) delete w.body.settings.errorWorkflow;
		const again = await runImport(options(EXAMPLE), {
			env: ENV,
			log: () => undefined,
			fetchImpl: fake.fetch,
		});
		expect(again.exitCode).toBe(EXIT_OK);
		expect(again.workflows.map((w) => [w.file, w.action])).toEqual([
			['errors', 'created'],
			['returns-intake', 'updated'],
			['returns-processor', 'updated'],
			['credit-posting', 'updated'],
			['finance-review', 'updated'],
			['reconciliation', 'updated'],
			['mapping-audit', 'updated'],
			['exception-replay', 'updated'],
		]);
		const errors = fake.workflows.find((w) => w.name === 'Returns: workflow errors (Demo Retail)');
		expect(errors).toEqual(expect.objectContaining({ id: again.errorWorkflowId, active: true }));
		expect(
			fake.workflows
				.filter((w) => w !== errors)
				.map((w) => [w.name, w.body.settings.errorWorkflow]),
		).toEqual(
			fake.workflows.filter((w) => w !== errors).map((w) => [w.name, again.errorWorkflowId]),
		);
	});

	it('an existing disposition table gains the credit column, and finance is told what its empty cells now do', async () => {
		const fake = fakeN8n();
		// a client's table from before the credit policy: no credit column, a no_movement row
		fake.tables.push({
			id: 'dt-old',
			name: 'Demo Retail disposition map',
			columns: TABLES.dispositions.columns.filter((c) => c.name !== 'credit'),
			rows: [{ disposition: 'Missing', action: 'no_movement', sellable: false }],
		});
		const lines: string[] = [];
		const report = await runImport(options(EXAMPLE), {
			env: ENV,
			log: (l) => lines.push(l),
			fetchImpl: fake.fetch,
		});
		expect(report.exitCode).toBe(EXIT_OK);
		expect(fake.tables[0].columns.map((c) => c.name)).toContain('credit');
		const text = lines.join('\n');
		expect(text).toContain(
			'added column credit (string) to Data Table "Demo Retail disposition map"',
		);
		expect(text).toContain(
			"finance: the existing rows' credit is empty, so their no_movement grades now hold the credit for a finance review",
		);
		// the rows are the client's: not seeded over
		expect(fake.tables[0].rows).toHaveLength(1);
	});

	it('an existing exceptions table gains resolvedBy and resolutionNote on re-import, its rows kept', async () => {
		const fake = fakeN8n();
		// a client's table from before issue 17: no column for who resolved a row or why
		fake.tables.push({
			id: 'dt-ex',
			name: 'Demo Retail returns exceptions',
			columns: TABLES.exceptions.columns.filter(
				(c) => c.name !== 'resolvedBy' && c.name !== 'resolutionNote',
			),
			rows: [{ key: 'credit_mismatch|5010', status: 'resolved', resolvedAt: '2026-11-20' }],
		});
		const lines: string[] = [];
		const report = await runImport(options(EXAMPLE), {
			env: ENV,
			log: (l) => lines.push(l),
			fetchImpl: fake.fetch,
		});
		expect(report.exitCode).toBe(EXIT_OK);
		const table = fake.tables.find((t) => t.id === 'dt-ex');
		expect(table?.columns.map((c) => c.name)).toEqual(
			expect.arrayContaining(['resolvedBy', 'resolutionNote']),
		);
		expect(table?.columns).toHaveLength(TABLES.exceptions.columns.length);
		const text = lines.join('\n');
		expect(text).toContain(
			'added column resolvedBy (string) to Data Table "Demo Retail returns exceptions"',
		);
		expect(text).toContain(
			'added column resolutionNote (string) to Data Table "Demo Retail returns exceptions"',
		);
		expect(table?.rows).toHaveLength(1);
		expect(report.tables.find((t) => t.key === 'exceptions')).toMatchObject({ action: 'found' });
	});

	it('an upgrade: the return events table is created and every queued event of the existing inbox copied into it, once (a re-run copies none)', async () => {
		const fake = fakeN8n();
		// a client's inbox from before the return events table: 601 rows over three pages, one event
		// delivered twice (two rows), one row without an event id (added by hand)
		const inbox = Array.from({ length: 600 }, (_, i) => ({
			id: i + 1,
			eventId: `evt_${i}`,
			returnId: String(5000 + Math.floor(i / 2)),
			sequence: (i % 2) + 1,
			receivedAt: `2026-11-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00.000Z`,
			status: 'done',
			payload: '{}',
		}));
		inbox.push({ ...inbox[7], id: 601 });
		inbox.push({ ...inbox[8], id: 602, eventId: '' });
		fake.tables.push({
			id: 'dt-inbox',
			name: 'Demo Retail returns inbox',
			columns: TABLES.inbox.columns,
			rows: inbox,
		});
		const lines: string[] = [];
		const run = () =>
			runImport(options(EXAMPLE), { env: ENV, log: (l) => lines.push(l), fetchImpl: fake.fetch });
		const report = await run();
		expect(report.exitCode).toBe(EXIT_OK);
		const events = fake.tables.find((t) => t.name === 'Demo Retail return events');
		expect(events?.rows).toHaveLength(600);
		expect(events?.rows[7]).toEqual({
			id: 8,
			eventId: 'evt_7',
			returnId: '5003',
			sequence: 2,
			receivedAt: '2026-11-08T10:00:00.000Z',
		});
		expect(new Set(events?.rows.map((r) => `${r.returnId}|${r.eventId}`)).size).toBe(600);
		expect(report.tables.find((t) => t.key === 'events')).toMatchObject({
			action: 'created',
			seeded: 600,
		});
		expect(lines.join('\n')).toContain(
			'copied 600 queued event(s) from the inbox into Data Table "Demo Retail return events"',
		);
		// inserts of at most 500
		const posts = fake.calls.filter(
			(c) => c.method === 'POST' && c.path === `/data-tables/${events?.id}/rows`,
		);
		expect(posts.map((c) => c.body.data.length)).toEqual([500, 100]);
		// copied before any workflow is created or updated: the new intake never reads an empty table
		const firstWorkflowWrite = fake.calls.findIndex(
			(c) => c.method !== 'GET' && c.path.startsWith('/workflows'),
		);
		expect(firstWorkflowWrite).toBeGreaterThan(0);
		expect(fake.calls.indexOf(posts[posts.length - 1])).toBeLessThan(firstWorkflowWrite);

		// the intake queued one more event meanwhile (its events row written too): a re-import copies nothing
		fake.tables
			.find((t) => t.id === 'dt-inbox')
			?.rows.push({ ...inbox[0], id: 603, eventId: 'evt_new' });
		events?.rows.push({
			id: 601,
			eventId: 'evt_new',
			returnId: '5000',
			sequence: 1,
			receivedAt: '',
		});
		lines.length = 0;
		const again = await run();
		expect(again.exitCode).toBe(EXIT_OK);
		expect(events?.rows).toHaveLength(601);
		expect(again.tables.find((t) => t.key === 'events')).toMatchObject({
			action: 'found',
			seeded: 0,
		});
		expect(lines.join('\n')).not.toContain('copied');
	});

	it('stops with exit 1 and a message without the API key when n8n refuses', async () => {
		const fake = fakeN8n();
		const lines: string[] = [];
		const report = await runImport(options(EXAMPLE), {
			env: { ...ENV, N8N_API_KEY: 'wrong-key-SECRET' },
			log: (l) => lines.push(l),
			fetchImpl: fake.fetch,
		});
		expect(report.exitCode).toBe(1);
		expect(lines.join('\n')).toMatch(
			/Import stopped: GET \/credentials\?limit=250 failed with HTTP 401: unauthorized/,
		);
		expect(lines.join('\n')).not.toContain('wrong-key-SECRET');
		expect(fake.workflows).toHaveLength(0);
	});
});
