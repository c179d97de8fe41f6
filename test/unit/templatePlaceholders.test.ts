/**
 * Template values in expressions (issue 12, item 7): a placeholder value
 * enters n8n expression code only as a JSON string literal (or a checked
 * number / boolean), is inserted verbatim in plain text, and never becomes an
 * expression in a field n8n evaluates. The generated workflows are resolved
 * with n8n-workflow's own expression engine over data that holds a secret in
 * `$env`: a value that became code would read it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DateTime } from 'luxon';
import { Expression, ExpressionParser } from 'n8n-workflow';
import {
	TEMPLATES,
	WORKFLOWS_DIR,
	renderTemplate,
	type N8nNode,
	type WorkflowTemplate,
} from '../../scripts/templates/build';
import {
	EXIT_FAILED,
	EXIT_OK,
	runImport,
	type ImportOptions,
} from '../../scripts/templates/import';
import {
	PlaceholderError,
	expressionLiteral,
	placeholderUses,
	substitute,
} from '../../scripts/templates/placeholders';
import { placeholderValues, resolveOffline, validateValues } from '../../scripts/templates/values';

const EXAMPLE = path.resolve(__dirname, '../../scripts/templates/values.example.json');
const SECRET = 'LEAKED-ENV-VALUE-7f3a';

/** Client names that break or inject into an expression when spliced as text. */
const HOSTILE: string[] = [
	"O'Brien & Sons",
	"acme' + $env['N8N_SECRET'] + '",
	'acme" + $env["N8N_SECRET"] + "',
	'Back\\slash \\\' \\" \\n \\u0041 ends in \\',
	'{{ $env.N8N_SECRET }} and }} and {{ and {',
	'={{ $env.N8N_SECRET }}',
	'line one\nline two\r\n\ttabbed',
	'Zoë – 株式会社 🚀 \u2028\u2029 <b>&amp;</b> *bold* <!channel>',
	'${$env.N8N_SECRET} `tick` /* c */ // c',
];
HOSTILE.push(HOSTILE.join(' | '));

const ITEMS = [1, 2, 3].map((n) => ({
	json: { title: `T${n}`, owner: 'ops', returnId: String(n), message: 'm', action: 'a' },
}));
const TODAY = DateTime.fromISO('2026-11-28T00:00:00Z', { zone: 'UTC' });

/** Resolve a parameter as n8n does, with `$env` holding a secret a value-turned-code would read. */
function evaluate(parameter: unknown, extra: Record<string, unknown> = {}): unknown {
	const data = {
		$input: { all: () => ITEMS },
		$json: ITEMS[0].json,
		$today: TODAY,
		$now: TODAY,
		$env: { N8N_SECRET: SECRET },
		...extra,
	};
	return new Expression('UTC').resolveSimpleParameterValue(parameter as string, data as never);
}

const slack = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function node(wf: WorkflowTemplate, name: string): N8nNode {
	const n = wf.nodes.find((x) => x.name === name);
	if (!n) throw new Error(`${wf.name} has no node ${name}`);
	return n;
}

function expressions(
	value: unknown,
	at = '',
	out: Array<[string, string]> = [],
): Array<[string, string]> {
	if (typeof value === 'string') {
		if (value.startsWith('=')) out.push([at, value]);
	} else if (Array.isArray(value)) value.forEach((v, i) => expressions(v, `${at}[${i}]`, out));
	else if (value && typeof value === 'object')
		for (const [k, v] of Object.entries(value)) expressions(v, at ? `${at}.${k}` : k, out);
	return out;
}

/** Syntax check of every `{{ … }}` of an expression parameter, split by n8n's own splitter (compiled, never run). */
function compileErrors(parameter: string): string[] {
	const errors: string[] = [];
	for (const chunk of ExpressionParser.splitExpression(parameter.slice(1))) {
		if (chunk.type !== 'code') continue;
		if (!chunk.hasClosingBrackets) errors.push(`unclosed: ${chunk.text}`);
		let ok = false;
		for (const body of [`return (${chunk.text}\n);`, chunk.text]) {
			try {
				new Function(body);
				ok = true;
				break;
			} catch {
				// next form
			}
		}
		if (!ok) errors.push(chunk.text);
	}
	return errors;
}

const wrap = (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
	name: 'wf {{CLIENT_NAME}}',
	...extra,
	nodes: [{ name: 'N', parameters }],
});
const params = (wf: unknown) =>
	(wf as { nodes: Array<{ parameters: Record<string, unknown> }> }).nodes[0].parameters;

function caught(fn: () => unknown): PlaceholderError {
	try {
		fn();
	} catch (error) {
		if (error instanceof PlaceholderError) return error;
		throw error;
	}
	throw new Error('expected a PlaceholderError');
}

// ---------------------------------------------------------------- the rule

describe('substitution: values in expression code', () => {
	it.each(HOSTILE)(
		'a string placeholder in code becomes a literal that evaluates to the value: %j',
		(name) => {
			const out = substitute(
				wrap({ text: "={{ 'Returns sync (' + {{CLIENT_NAME}} + '): ' + $input.all().length }}" }),
				{ CLIENT_NAME: name },
			);
			const text = params(out).text as string;
			expect(text).toBe(
				`={{ 'Returns sync (' + ${expressionLiteral(name)} + '): ' + $input.all().length }}`,
			);
			expect(JSON.parse(expressionLiteral(name))).toBe(name);
			expect(expressionLiteral(name)).not.toMatch(/[{}\u2028\u2029]/);
			expect(compileErrors(text)).toEqual([]);
			expect(evaluate(text)).toBe(`Returns sync (${name}): 3`);
		},
	);

	it.each([
		['string literal', "={{ 'Returns sync ({{CLIENT_NAME}})' }}"],
		['double-quoted literal', '={{ "Returns sync ({{CLIENT_NAME}})" }}'],
		['template literal', '={{ `Returns sync (${ {{CLIENT_NAME}} })` }}'],
		['regular expression', '={{ $json.x.replace(/{{CLIENT_NAME}}/g, "") }}'],
		['comment', '={{ 1 /* {{CLIENT_NAME}} */ }}'],
	])(
		'refuses a placeholder inside a %s of expression code, at import and at build time',
		(_kind, text) => {
			const e = caught(() => substitute(wrap({ text }), { CLIENT_NAME: 'Acme' }, 'x.json'));
			expect(e.names).toEqual(['CLIENT_NAME']);
			expect(e.message).toContain('x.json › nodes[N].parameters.text: {{CLIENT_NAME}} is inside a');
			expect(caught(() => placeholderUses(wrap({ text }), 'x.json')).names).toEqual([
				'CLIENT_NAME',
			]);
		},
	);

	it("the old alert form (':warning: *Returns sync ({{CLIENT_NAME}})*') fails the template build", () => {
		const spliced =
			"={{ ':warning: *Returns sync ({{CLIENT_NAME}})*: ' + $input.all().length + ' new exception(s)' }}";
		const info = {
			file: 'spliced',
			title: 'x',
			activate: 'always' as const,
			build: () => ({
				name: 'x',
				nodes: [
					{
						id: '1',
						name: 'Alert on Slack',
						type: 't',
						typeVersion: 1,
						position: [0, 0] as [number, number],
						parameters: { text: spliced },
					},
				],
				connections: {},
				settings: {},
			}),
		};
		expect(() => renderTemplate(info)).toThrow(PlaceholderError);
		expect(() => renderTemplate(info)).toThrow(
			/spliced\.json › nodes\[Alert on Slack\]\.parameters\.text: \{\{CLIENT_NAME\}\} is inside a string literal/,
		);
	});

	it('numbers and booleans enter code only when they are finite numbers and booleans', () => {
		const tpl = wrap({
			a: '={{ $json.n < {{MAX_TRANSIENT_ATTEMPTS}} }}',
			b: '={{ {{FINANCE_BATCHED}} }}',
		});
		const ok = params(
			substitute(tpl, { CLIENT_NAME: 'c', MAX_TRANSIENT_ATTEMPTS: -2, FINANCE_BATCHED: true }),
		);
		expect(ok).toEqual({ a: '={{ $json.n < (-2) }}', b: '={{ true }}' });
		for (const bad of ['5 || $env.N8N_SECRET', '5', Number.NaN, Number.POSITIVE_INFINITY, true]) {
			const e = caught(() =>
				substitute(
					tpl,
					{ CLIENT_NAME: 'c', MAX_TRANSIENT_ATTEMPTS: bad, FINANCE_BATCHED: true },
					'x.json',
				),
			);
			expect(e.names).toEqual(['MAX_TRANSIENT_ATTEMPTS']);
			expect(e.message).toContain('is used in expression code as a number');
		}
		for (const bad of ['true', 'false || $env.N8N_SECRET', 1]) {
			expect(
				caught(() =>
					substitute(tpl, { CLIENT_NAME: 'c', MAX_TRANSIENT_ATTEMPTS: 5, FINANCE_BATCHED: bad }),
				).names,
			).toEqual(['FINANCE_BATCHED']);
		}
	});

	it('the values file cannot give a number or boolean placeholder another type', () => {
		const checked = validateValues(JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')));
		if (!checked.ok) throw new Error('example values do not validate');
		const v = structuredClone(checked.values);
		(v.processing as Record<string, unknown>).maxTransientAttempts = '5 || $env.N8N_SECRET';
		expect(() => placeholderValues(v, resolveOffline(v))).toThrow(
			/\{\{MAX_TRANSIENT_ATTEMPTS\}\} must be a number/,
		);
		const w = structuredClone(checked.values);
		(w.finance as Record<string, unknown>).batchCreditNotes = 'true';
		expect(() => placeholderValues(w, resolveOffline(w))).toThrow(
			/\{\{FINANCE_BATCHED\}\} must be a boolean/,
		);
	});
});

describe('substitution: values in text', () => {
	it.each(HOSTILE)(
		'the text part of an expression parameter shows the value verbatim and never evaluates it: %j',
		(name) => {
			const out = params(
				substitute(
					wrap({ subject: '=Returns sync ({{CLIENT_NAME}}): {{ $input.all().length }} new' }),
					{ CLIENT_NAME: name },
				),
			);
			expect(compileErrors(out.subject as string)).toEqual([]);
			expect(evaluate(out.subject)).toBe(`Returns sync (${name}): 3 new`);
		},
	);

	it('a value without braces or backslashes stays readable text in an expression parameter', () => {
		const out = params(
			substitute(wrap({ subject: '=Returns sync ({{CLIENT_NAME}}): {{ 1 + 1 }}' }), {
				CLIENT_NAME: "O'Brien & Sons $env",
			}),
		);
		expect(out.subject).toBe("=Returns sync (O'Brien & Sons $env): {{ 1 + 1 }}");
	});

	it.each(HOSTILE)(
		'plain fields get the value verbatim; a parameter a value would turn into an expression gets it as a literal: %j',
		(name) => {
			const tpl = wrap(
				{ plain: 'Reason {{CLIENT_NAME}}', whole: '{{CLIENT_NAME}}', '{{CLIENT_NAME}} key': 1 },
				{ settings: { note: '={{CLIENT_NAME}}' } },
			);
			const out = substitute(tpl, { CLIENT_NAME: name }) as ReturnType<typeof wrap> & {
				settings: { note: string };
			};
			expect(out.name).toBe(`wf ${name}`);
			expect(out.settings.note).toBe(`=${name}`); // not a node parameter: n8n does not evaluate it
			const p = params(out);
			expect(Object.keys(p)).toContain(`${name} key`);
			expect(p.plain).toBe(`Reason ${name}`);
			if (name.startsWith('=')) {
				expect(p.whole).toBe(`={{ ${expressionLiteral(name)} }}`);
				expect(compileErrors(p.whole as string)).toEqual([]);
			} else expect(p.whole).toBe(name);
			expect(evaluate(p.whole)).toBe(name);
			expect(evaluate(p.plain)).toBe(`Reason ${name}`);
		},
	);
});

// ---------------------------------------------------------------- the import, end to end

describe('templates:import --dry-run with a hostile client name', () => {
	let tmp: string;
	beforeAll(() => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tpl-values-'));
	});
	afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

	const options = (extra: Partial<ImportOptions>): ImportOptions => ({
		valuesFile: EXAMPLE,
		n8nUrl: 'http://127.0.0.1:1',
		apiKeyEnv: 'N8N_API_KEY',
		dryRun: true,
		templatesDir: WORKFLOWS_DIR,
		...extra,
	});

	it.each(HOSTILE.map((name, i) => [i, name] as const))(
		'imports #%i and the names, alerts and report titles show it verbatim when evaluated',
		async (i, name) => {
			const out = path.join(tmp, `out-${i}`);
			const lines: string[] = [];
			const report = await runImport(options({ client: name, outDir: out }), {
				env: {},
				log: (l) => lines.push(l),
			});
			expect({ exit: report.exitCode, lines }).toMatchObject({ exit: EXIT_OK });

			let alerts = 0;
			for (const info of TEMPLATES) {
				const wf = JSON.parse(
					fs.readFileSync(path.join(out, `${info.file}.json`), 'utf8'),
				) as WorkflowTemplate;
				expect(wf.name).toBe(`${info.title} (${name})`);
				// every expression of the generated workflow still compiles (n8n's splitter, JavaScript syntax)
				const broken = expressions(wf.nodes.map((n) => n.parameters)).flatMap(([at, value]) =>
					compileErrors(value).map((e) => `${at}: ${e}`),
				);
				expect(broken).toEqual([]);
				expect(JSON.stringify(wf)).not.toContain(SECRET);

				const email = wf.nodes.find((n) => n.name === 'Alert by Email');
				if (email) {
					alerts++;
					expect(evaluate(email.parameters.subject)).toBe(
						`Returns sync (${name}): 3 new exception(s)`,
					);
					const text = evaluate(node(wf, 'Alert on Slack').parameters.text) as string;
					expect(
						text.startsWith(
							`:warning: *Returns sync (${slack(name)})*: 3 new exception(s)\n• *T1* [ops] return 1: m`,
						),
					).toBe(true);
					expect(text).not.toContain(SECRET);
				}
				if (info.file === 'reconciliation') {
					const reconcile = node(wf, 'Reconcile').parameters.options as Record<string, unknown>;
					expect(evaluate(reconcile.title)).toBe(`Returns reconciliation ${name} – 2026-11-27`);
					// the report's own subject; without one (an older Reconcile node), the client and the day
					const ran = (report: Record<string, unknown>) => ({
						$: (n: string) => ({
							first: () => ({
								json: n === 'Reconcile' ? report : { from: '2026-11-27', to: '2026-11-27' },
							}),
						}),
					});
					const subject = node(wf, 'Email Report').parameters.subject;
					expect(evaluate(subject, ran({}))).toBe(`Returns reconciliation ${name}: 2026-11-27`);
					expect(evaluate(subject, ran({ subject: `S ${name}` }))).toBe(`S ${name}`);
				}
			}
			// every template with the exception sink: errors, intake, processor, credit posting, finance review,
			// reconciliation (a report not delivered), mapping audit, replay
			expect(alerts).toBe(8);
		},
	);

	it('a template that splices a value into expression code stops a real import before anything is created', async () => {
		const dir = path.join(tmp, 'templates');
		fs.mkdirSync(dir, { recursive: true });
		for (const info of TEMPLATES)
			fs.copyFileSync(
				path.join(WORKFLOWS_DIR, `${info.file}.json`),
				path.join(dir, `${info.file}.json`),
			);
		const file = path.join(dir, 'reconciliation.json');
		const wf = JSON.parse(fs.readFileSync(file, 'utf8')) as WorkflowTemplate;
		const reconcile = node(wf, 'Reconcile').parameters.options as Record<string, unknown>;
		reconcile.title = "={{ 'Returns reconciliation {{CLIENT_NAME}}' }}";
		fs.writeFileSync(file, JSON.stringify(wf));

		const calls: string[] = [];
		const fetchImpl = (async (url: string) => {
			calls.push(String(url));
			throw new Error('no server in this test');
		}) as unknown as typeof fetch;
		const lines: string[] = [];
		const env = { N8N_API_KEY: 'k', REBOUND_API_KEY: 'a', REBOUND_WEBHOOK_SECRET: 's' };
		const report = await runImport(options({ client: 'Acme', dryRun: false, templatesDir: dir }), {
			env,
			log: (l) => lines.push(l),
			fetchImpl,
		});
		expect(report.exitCode).toBe(EXIT_FAILED);
		expect(calls).toEqual([]);
		expect(lines.join('\n')).toContain(
			'Nothing was imported. reconciliation.json › nodes[Reconcile].parameters.options.title: {{CLIENT_NAME}} is inside a string literal',
		);
	});
});
