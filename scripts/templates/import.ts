/**
 * Import the workflow templates for one client:
 *
 *   npm run templates:import -- --client "Demo Retail" --values values.json \
 *     [--n8n-url http://127.0.0.1:5678 --api-key-env N8N_API_KEY] [--dry-run --out dir]
 *
 * 1. loads and checks the values file: every missing or invalid value is named
 *    and nothing is imported (exit 2);
 * 2. with a server: finds or creates the credentials and Data Tables (public
 *    API), seeds the mapping rows into empty mapping tables, creates or updates
 *    the workflows (matched by name) and activates those that should run: the
 *    Errors workflow first, then every other one with `settings.errorWorkflow`
 *    naming it (on create and on every re-import);
 * 3. with --dry-run --out: writes the filled-in workflow JSON (and a plan of
 *    what a real import would create) without a server. The files import with
 *    `n8n import:workflow --separate --input=<dir>`.
 * Every placeholder must get a value: a template with one left fails.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEMPLATES, WORKFLOWS_DIR, type TemplateInfo, type WorkflowTemplate } from './build';
import { N8nApi } from './n8nApi';
import { expressionLiteral, substitute } from './placeholders';
import { TABLES, TABLE_KEYS, type TableKey } from './tables';
import {
	credentialData,
	formatProblems,
	placeholderValues,
	resolveOffline,
	validateValues,
	type ClientValues,
	type Resolved,
} from './values';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_VALUES = 2;

export interface ImportOptions {
	client?: string;
	valuesFile: string;
	n8nUrl: string;
	apiKeyEnv: string;
	dryRun: boolean;
	outDir?: string;
	templatesDir: string;
}

export interface ImportDeps {
	env: NodeJS.ProcessEnv;
	log: (line: string) => void;
	fetchImpl?: typeof fetch;
}

export interface ImportReport {
	exitCode: number;
	workflows: Array<{
		file: string;
		name: string;
		id: string | null;
		active: boolean;
		action: 'created' | 'updated' | 'written';
	}>;
	tables: Array<{
		key: TableKey;
		name: string;
		id: string | null;
		action: 'given' | 'found' | 'created' | 'planned';
		seeded: number;
	}>;
	credentials: Array<{
		key: string;
		name: string;
		id: string | null;
		action: 'given' | 'found' | 'created' | 'planned';
	}>;
	webhookUrl: string | null;
	/** The id of the client's Errors workflow, which every other workflow names as its error workflow (dry run: the id it is written with). */
	errorWorkflowId: string | null;
}

const CREDENTIAL_TYPES = {
	khaos: 'khaosControlApi',
	rebound: 'reBoundApi',
	smtp: 'smtp',
	slack: 'slackApi',
} as const;
type CredKey = keyof typeof CREDENTIAL_TYPES;

// ------------------------------------------------------------------ arguments

export function parseArgs(
	argv: string[],
): { ok: true; options: ImportOptions } | { ok: false; message: string } {
	const o: ImportOptions = {
		valuesFile: '',
		n8nUrl: 'http://127.0.0.1:5678',
		apiKeyEnv: 'N8N_API_KEY',
		dryRun: false,
		templatesDir: WORKFLOWS_DIR,
	};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const [flag, inline] = arg.includes('=')
			? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
			: [arg, undefined];
		const value = (): string => {
			const v = inline ?? argv[++i];
			if (v === undefined || (inline === undefined && v.startsWith('--')))
				throw new Error(`${flag} needs a value`);
			return v;
		};
		try {
			switch (flag) {
				case '--client':
					o.client = value();
					break;
				case '--values':
					o.valuesFile = value();
					break;
				case '--n8n-url':
					o.n8nUrl = value();
					break;
				case '--api-key-env':
					o.apiKeyEnv = value();
					break;
				case '--dry-run':
					o.dryRun = true;
					break;
				case '--out':
					o.outDir = value();
					break;
				case '--templates':
					o.templatesDir = value();
					break;
				default:
					return { ok: false, message: `Unknown option ${arg}` };
			}
		} catch (error) {
			return { ok: false, message: (error as Error).message };
		}
	}
	if (!o.valuesFile) return { ok: false, message: '--values <file> is required' };
	if (o.dryRun && !o.outDir) return { ok: false, message: '--dry-run needs --out <dir>' };
	if (o.outDir && !o.dryRun) return { ok: false, message: '--out is only used with --dry-run' };
	return { ok: true, options: o };
}

export const USAGE =
	'Usage: npm run templates:import -- --client <name> --values <file> [--n8n-url http://127.0.0.1:5678 --api-key-env N8N_API_KEY] [--dry-run --out <dir>]';

// ------------------------------------------------------------------ rendering

export interface LoadedTemplate {
	info: TemplateInfo;
	template: WorkflowTemplate;
}

export function loadTemplates(dir: string): LoadedTemplate[] {
	return TEMPLATES.map((info) => {
		const file = path.join(dir, `${info.file}.json`);
		let template: WorkflowTemplate;
		try {
			template = JSON.parse(fs.readFileSync(file, 'utf8')) as WorkflowTemplate;
		} catch (error) {
			throw new Error(`Template ${file} cannot be read: ${(error as Error).message}`);
		}
		return { info, template };
	});
}

export function shouldActivate(info: TemplateInfo, v: ClientValues): boolean {
	if (info.activate === 'financeBatched') return v.finance.batchCreditNotes;
	if (info.activate === 'replayScheduled') return v.schedules.replayEveryMinutes !== null;
	return true;
}

/** Templates in import order: the error workflow first (the others name its id), then the rest as listed. */
export function importOrder<T extends { info: TemplateInfo }>(templates: T[]): T[] {
	return [
		...templates.filter((t) => t.info.errorWorkflow),
		...templates.filter((t) => !t.info.errorWorkflow),
	];
}

/** A workflow that names `errorWorkflowId` as its error workflow (the error workflow itself never does). */
export function withErrorWorkflow(
	info: TemplateInfo,
	workflow: WorkflowTemplate,
	errorWorkflowId: string | null,
): WorkflowTemplate {
	if (info.errorWorkflow || !errorWorkflowId) return workflow;
	return { ...workflow, settings: { ...workflow.settings, errorWorkflow: errorWorkflowId } };
}

/**
 * The id a dry run writes the Errors workflow with (n8n import:workflow keeps a workflow's id), so
 * the other files can name it: 16 letters and digits like n8n's own ids, the same for the same client.
 */
export function dryRunErrorWorkflowId(client: string): string {
	const digest = createHash('sha256').update(`rebound-khaos errors workflow:${client}`).digest();
	const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
	return Array.from(digest.subarray(0, 16), (byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * Fill one template. After substitution: a credential with neither id nor
 * name is dropped (optional alert credentials not configured; those nodes are
 * disabled); one with a name only is written as the name (the CLI import
 * resolves it); a Data table known only by name is referenced "By Name".
 */
export function renderWorkflow(
	template: WorkflowTemplate,
	values: ClientValues,
	resolved: Resolved,
	label: string,
): WorkflowTemplate {
	const filled = substitute(template, placeholderValues(values, resolved), label);
	// a name that starts with '=' was written as an expression literal (placeholders.ts)
	const unnamedTables = new Set(
		TABLE_KEYS.filter((k) => !resolved.tables[k].id).flatMap((k) => [
			resolved.tables[k].name,
			`={{ ${expressionLiteral(resolved.tables[k].name)} }}`,
		]),
	);
	for (const node of filled.nodes) {
		if (node.credentials) {
			for (const [type, cred] of Object.entries(node.credentials)) {
				if (typeof cred === 'string') continue;
				if (!cred.id && !cred.name) delete node.credentials[type];
				else if (!cred.id) node.credentials[type] = cred.name;
			}
			if (Object.keys(node.credentials).length === 0) delete node.credentials;
		}
		const locator = node.parameters.dataTableId as { mode?: string; value?: string } | undefined;
		if (
			node.type === 'n8n-nodes-base.dataTable' &&
			locator &&
			typeof locator.value === 'string' &&
			unnamedTables.has(locator.value)
		)
			locator.mode = 'name';
	}
	return filled;
}

/** Rows of a mapping table in the column types of the Data Table. */
export function seedRows(
	key: TableKey,
	rows: Array<Record<string, unknown>>,
): Array<Record<string, unknown>> {
	const spec = TABLES[key];
	return rows.map((row) => {
		const out: Record<string, unknown> = {};
		for (const col of spec.columns) {
			if (!(col.name in row)) continue;
			const v = row[col.name];
			if (v === null || v === undefined) out[col.name] = null;
			else if (col.type === 'boolean')
				out[col.name] =
					v === true ||
					v === 'true' ||
					v === 1 ||
					v === -1 ||
					v === '-1' ||
					v === '1' ||
					v === 'yes';
			else if (col.type === 'number') out[col.name] = Number(v);
			else out[col.name] = String(v);
		}
		return out;
	});
}

type MappingKey = 'dispositions' | 'reasons' | 'skuAliases';
const MAPPING_TABLES: MappingKey[] = ['dispositions', 'reasons', 'skuAliases'];
const isMappingTable = (key: TableKey): key is MappingKey =>
	(MAPPING_TABLES as string[]).includes(key);

function unknownMappingColumns(v: ClientValues): string[] {
	const problems: string[] = [];
	for (const key of MAPPING_TABLES) {
		const allowed = new Set(TABLES[key].columns.map((c) => c.name));
		v.mapping[key].forEach((row, i) => {
			for (const col of Object.keys(row))
				if (!allowed.has(col))
					problems.push(
						`mapping.${key}[${i}].${col}: not a column of the ${key} table (${[...allowed].join(', ')})`,
					);
		});
	}
	return problems;
}

// ------------------------------------------------------------------ the run

/**
 * The return events table holds, for every inbox row, its event's id, return and sequence: the
 * intake's duplicate and stale check and the processor's later-event check read it instead of the
 * inbox. An inbox from before the table existed (an upgrade), or rows added while an import was
 * interrupted, give their events here: every inbox row whose (returnId, eventId) is not in the table
 * yet is copied, in inserts of 500, so a re-run on a quiet intake copies nothing. An event the intake
 * writes between this copy's two reads can end up twice (harmless: the checks ask only whether an
 * event of the return with that id or a later sequence exists). Returns how many were copied.
 */
export async function copyInboxEvents(
	api: N8nApi,
	inboxId: string,
	eventsId: string,
): Promise<number> {
	const key = (r: Record<string, unknown>) => `${String(r.returnId)}\u0000${String(r.eventId)}`;
	const known = new Set<string>();
	await api.forEachRowPage(eventsId, (rows) => {
		for (const r of rows) known.add(key(r));
	});
	const missing: Array<Record<string, unknown>> = [];
	await api.forEachRowPage(inboxId, (rows) => {
		for (const r of rows) {
			if (r.eventId === undefined || r.eventId === null || r.eventId === '') continue;
			if (r.returnId === undefined || r.returnId === null || r.returnId === '') continue;
			if (known.has(key(r))) continue;
			known.add(key(r));
			missing.push({
				eventId: String(r.eventId),
				returnId: String(r.returnId),
				sequence: typeof r.sequence === 'number' ? r.sequence : Number(r.sequence) || 0,
				receivedAt: r.receivedAt === undefined || r.receivedAt === null ? '' : String(r.receivedAt),
			});
		}
	});
	let copied = 0;
	for (let i = 0; i < missing.length; i += 500)
		copied += await api.insertRows(eventsId, missing.slice(i, i + 500));
	return copied;
}

export async function runImport(options: ImportOptions, deps: ImportDeps): Promise<ImportReport> {
	const { log } = deps;
	const report: ImportReport = {
		exitCode: EXIT_OK,
		workflows: [],
		tables: [],
		credentials: [],
		webhookUrl: null,
		errorWorkflowId: null,
	};
	const fail = (code: number, message: string): ImportReport => {
		log(message);
		report.exitCode = code;
		return report;
	};

	let raw: unknown;
	try {
		raw = JSON.parse(fs.readFileSync(options.valuesFile, 'utf8'));
	} catch (error) {
		return fail(
			EXIT_BAD_VALUES,
			`Values file ${options.valuesFile} cannot be read: ${(error as Error).message}`,
		);
	}
	const checked = validateValues(raw, options.client);
	if (!checked.ok)
		return fail(
			EXIT_BAD_VALUES,
			`Nothing was imported. ${options.valuesFile}:\n${formatProblems(checked.problems)}`,
		);
	const values = checked.values;
	const columnProblems = unknownMappingColumns(values);
	if (columnProblems.length)
		return fail(
			EXIT_BAD_VALUES,
			`Nothing was imported. ${options.valuesFile}:\nInvalid values (${columnProblems.length}):\n${columnProblems.map((p) => `  - ${p}`).join('\n')}`,
		);
	for (const w of checked.warnings) log(`warning: ${w}`);

	// secrets and the API key are checked before anything is created
	const missingEnv: string[] = [];
	const credData: Partial<Record<CredKey, Record<string, unknown>>> = {};
	for (const key of Object.keys(CREDENTIAL_TYPES) as CredKey[]) {
		const c = values.credentials[key];
		if (!c || c.id || !c.data) continue;
		const d = credentialData(c.data, deps.env, `credentials.${key}`);
		if (d.ok) credData[key] = d.data;
		else if (!options.dryRun) missingEnv.push(...d.missing);
	}
	const apiKey = deps.env[options.apiKeyEnv];
	if (!options.dryRun && !apiKey)
		missingEnv.push(`${options.apiKeyEnv} (environment variable holding the n8n API key)`);
	if (missingEnv.length)
		return fail(
			EXIT_BAD_VALUES,
			`Nothing was imported. Missing values (${missingEnv.length}):\n${missingEnv.map((m) => `  - ${m}`).join('\n')}`,
		);

	let templates: LoadedTemplate[];
	try {
		templates = loadTemplates(options.templatesDir);
	} catch (error) {
		return fail(EXIT_FAILED, (error as Error).message);
	}
	const resolved = resolveOffline(values);
	const webhookPath = `webhook/${resolved.webhookId}/rebound`;

	if (options.dryRun) {
		// every template must fill completely before anything is written
		let rendered: Array<{ info: TemplateInfo; workflow: WorkflowTemplate }>;
		const errorWorkflowId = templates.some((t) => t.info.errorWorkflow)
			? dryRunErrorWorkflowId(values.client)
			: null;
		try {
			rendered = importOrder(templates).map(({ info, template }) => ({
				info,
				workflow: withErrorWorkflow(
					info,
					renderWorkflow(template, values, resolved, `${info.file}.json`),
					errorWorkflowId,
				),
			}));
		} catch (error) {
			return fail(EXIT_FAILED, (error as Error).message);
		}
		report.errorWorkflowId = errorWorkflowId;
		const out = options.outDir as string;
		fs.mkdirSync(path.join(out, 'plan'), { recursive: true });
		for (const { info, workflow } of rendered) {
			// the Errors workflow keeps its id through `n8n import:workflow`, so the others can name it
			const file = info.errorWorkflow ? { id: errorWorkflowId, ...workflow } : workflow;
			fs.writeFileSync(
				path.join(out, `${info.file}.json`),
				`${JSON.stringify(file, null, '\t')}\n`,
			);
			report.workflows.push({
				file: info.file,
				name: workflow.name,
				id: null,
				active: shouldActivate(info, values),
				action: 'written',
			});
		}
		for (const key of TABLE_KEYS) {
			const t = resolved.tables[key];
			const seeded = isMappingTable(key) ? values.mapping[key].length : 0;
			report.tables.push({
				key,
				name: t.name,
				id: t.id,
				action: t.id ? 'given' : 'planned',
				seeded,
			});
		}
		for (const key of Object.keys(CREDENTIAL_TYPES) as CredKey[]) {
			const c = resolved.credentials[key];
			if (c)
				report.credentials.push({
					key,
					name: c.name,
					id: c.id,
					action: c.id ? 'given' : 'planned',
				});
		}
		report.webhookUrl = `${options.n8nUrl.replace(/\/+$/, '')}/${webhookPath}`;
		const plan = {
			client: values.client,
			webhookPath,
			errorWorkflowId,
			workflows: report.workflows.map(({ file, name, active }) => ({
				file: `${file}.json`,
				name,
				activate: active,
			})),
			dataTables: report.tables.map((t) => ({
				key: t.key,
				name: t.name,
				id: t.id,
				create: !t.id && (values.dataTables[t.key]?.create ?? true),
				columns: TABLES[t.key].columns,
				seedRows: t.seeded,
			})),
			credentials: report.credentials.map((c) => ({
				key: c.key,
				type: CREDENTIAL_TYPES[c.key as CredKey],
				name: c.name,
				id: c.id,
				create: !c.id,
			})),
		};
		fs.writeFileSync(
			path.join(out, 'plan', 'import-plan.json'),
			`${JSON.stringify(plan, null, '\t')}\n`,
		);
		log(
			`Dry run for ${values.client}: wrote ${rendered.length} workflows to ${out} (import with: n8n import:workflow --separate --input=${out}); plan in ${path.join(out, 'plan', 'import-plan.json')}`,
		);
		if (errorWorkflowId)
			log(
				`The Errors workflow is written with id ${errorWorkflowId}, which every other workflow names as its error workflow: publish it first (n8n publish:workflow --id=${errorWorkflowId})`,
			);
		log(`ReBound webhook URL once imported and active: ${report.webhookUrl}`);
		return report;
	}

	// every template must fill before anything is created: a value that cannot enter an expression
	// safely (or a template that splices one into expression code) stops the import here
	try {
		for (const { info, template } of templates)
			renderWorkflow(template, values, resolved, `${info.file}.json`);
	} catch (error) {
		return fail(EXIT_FAILED, `Nothing was imported. ${(error as Error).message}`);
	}

	const api = new N8nApi({
		baseUrl: options.n8nUrl,
		apiKey: apiKey as string,
		fetchImpl: deps.fetchImpl,
	});
	try {
		// credentials
		for (const key of Object.keys(CREDENTIAL_TYPES) as CredKey[]) {
			const ref = resolved.credentials[key];
			if (!ref) continue;
			if (ref.id) {
				report.credentials.push({ key, name: ref.name, id: ref.id, action: 'given' });
				continue;
			}
			const found = await api.findCredential(ref.name, CREDENTIAL_TYPES[key]);
			if (found) {
				ref.id = found.id;
				report.credentials.push({ key, name: ref.name, id: found.id, action: 'found' });
				continue;
			}
			const created = await api.createCredential(
				ref.name,
				CREDENTIAL_TYPES[key],
				credData[key] ?? {},
			);
			ref.id = created.id;
			report.credentials.push({ key, name: ref.name, id: created.id, action: 'created' });
		}

		// data tables
		for (const key of TABLE_KEYS) {
			const ref = resolved.tables[key];
			const spec = TABLES[key];
			let action: ImportReport['tables'][number]['action'];
			let isNew = false;
			let columns: Array<{ name: string }>;
			if (ref.id) {
				const t = await api.getDataTable(ref.id);
				ref.name = t.name ?? ref.name;
				columns = t.columns ?? [];
				action = 'given';
			} else {
				const found = await api.findDataTable(ref.name);
				if (found) {
					ref.id = found.id;
					columns = found.columns ?? [];
					action = 'found';
				} else if (values.dataTables[key]?.create ?? true) {
					const created = await api.createDataTable(ref.name, spec.columns);
					ref.id = created.id;
					columns = spec.columns;
					action = 'created';
					isNew = true;
				} else {
					return fail(
						EXIT_FAILED,
						`dataTables.${key}: no Data Table is named "${ref.name}" and create is false`,
					);
				}
			}
			for (const col of spec.columns) {
				if (columns.some((c) => c.name === col.name)) continue;
				await api.addColumn(ref.id as string, col);
				log(`added column ${col.name} (${col.type}) to Data Table "${ref.name}"`);
				if (key === 'dispositions' && col.name === 'credit' && !isNew)
					log(
						`  finance: the existing rows' credit is empty, so their no_movement grades now hold the credit for a finance review ` +
							`(and every other grade credits); write credit or no_credit in a row to decide otherwise (docs/credit-notes.md#credit-policy)`,
					);
			}
			let seeded = 0;
			if (isMappingTable(key)) {
				const rows = values.mapping[key];
				if (rows.length) {
					const empty = isNew || (await api.countRows(ref.id as string)) === 0;
					if (empty) seeded = await api.insertRows(ref.id as string, seedRows(key, rows));
					else
						log(
							`Data Table "${ref.name}" already has rows: the ${rows.length} mapping rows from the values file were not added`,
						);
				}
			}
			report.tables.push({ key, name: ref.name, id: ref.id, action, seeded });
		}

		// the return events (what the new intake and processor read instead of the inbox): copied from
		// the inbox BEFORE the new workflows go live, so they never read an empty table (a copy that
		// fails stops the import with the old workflows in place)
		let eventsCopied = 0;
		const copyEvents = async () => {
			const copied = await copyInboxEvents(
				api,
				resolved.tables.inbox.id as string,
				resolved.tables.events.id as string,
			);
			eventsCopied += copied;
			const events = report.tables.find((t) => t.key === 'events');
			if (events) events.seeded = eventsCopied;
			if (copied > 0)
				log(
					`copied ${copied} queued event(s) from the inbox into Data Table "${resolved.tables.events.name}" (the intake's duplicate check reads that table)`,
				);
		};
		await copyEvents();

		// workflows: fill all first (nothing is imported if one fails), then create or update, then
		// activate; the Errors workflow first (n8n runs an error workflow only once it is published),
		// then the others, each naming it in settings.errorWorkflow (set again on every re-import)
		const rendered = importOrder(templates).map(({ info, template }) => ({
			info,
			workflow: renderWorkflow(template, values, resolved, `${info.file}.json`),
		}));
		for (const { info, workflow: filled } of rendered) {
			const workflow = withErrorWorkflow(info, filled, report.errorWorkflowId);
			const existing = await api.findWorkflow(workflow.name);
			const saved = existing
				? await api.updateWorkflow(existing.id, workflow)
				: await api.createWorkflow(workflow);
			const id = saved.id ?? existing?.id;
			const active = shouldActivate(info, values);
			if (active) await api.activateWorkflow(id);
			if (info.errorWorkflow) report.errorWorkflowId = id;
			report.workflows.push({
				file: info.file,
				name: workflow.name,
				id,
				active,
				action: existing ? 'updated' : 'created',
			});
		}
		// and after them: the new intake writes the events from now on, so this copy takes the rows
		// the old intake queued while the import ran (only events missing from the table are copied)
		await copyEvents();
	} catch (error) {
		return fail(EXIT_FAILED, `Import stopped: ${(error as Error).message}`);
	}

	report.webhookUrl = `${options.n8nUrl.replace(/\/+$/, '')}/${webhookPath}`;
	log(`Imported for ${values.client}:`);
	for (const c of report.credentials)
		log(`  credential ${c.key}: "${c.name}" ${c.id} (${c.action})`);
	for (const t of report.tables)
		log(
			`  data table ${t.key}: "${t.name}" ${t.id} (${t.action}${t.seeded ? `, ${t.seeded} rows seeded` : ''})`,
		);
	for (const w of report.workflows)
		log(`  workflow "${w.name}" ${w.id} (${w.action}${w.active ? ', active' : ', inactive'})`);
	if (values.trigger.mode === 'webhook')
		log(`Give ReBound this webhook URL and the credential's webhook secret: ${report.webhookUrl}`);
	return report;
}

async function main(): Promise<number> {
	const parsed = parseArgs(process.argv.slice(2));
	if (!parsed.ok) {
		console.error(`${parsed.message}\n${USAGE}`);
		return EXIT_BAD_VALUES;
	}
	const report = await runImport(parsed.options, {
		env: process.env,
		log: (line) => console.log(line),
	});
	return report.exitCode;
}

if (require.main === module) {
	main().then(
		(code) => process.exit(code),
		(error: unknown) => {
			console.error(error instanceof Error ? error.message : String(error));
			process.exit(EXIT_FAILED);
		},
	);
}
