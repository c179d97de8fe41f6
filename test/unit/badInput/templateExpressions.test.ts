/**
 * Text from a ReBound payload ends up in Data Table columns (exception rows,
 * inbox rows) through the templates' expressions. n8n evaluates an expression
 * once: the value it yields is data, even when it starts with '=' or holds
 * `{{ … }}`. These checks make sure the templates never evaluate data a second
 * time (no $evaluateExpression, eval, Function) and that the plain column
 * expressions, resolved with n8n-workflow's own expression engine over a
 * hostile exception item, give the text back verbatim.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Expression } from 'n8n-workflow';
import { INJECTIONS } from './corpus';

const dir = path.join(__dirname, '../../../workflows');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

interface Expr {
	file: string;
	node: string;
	param: string;
	value: string;
}

function collect(value: unknown, at: string, out: string[][]): void {
	if (typeof value === 'string') out.push([at, value]);
	else if (Array.isArray(value)) value.forEach((v, i) => collect(v, `${at}[${i}]`, out));
	else if (value && typeof value === 'object')
		for (const [k, v] of Object.entries(value)) collect(v, at ? `${at}.${k}` : k, out);
}

const expressions: Expr[] = [];
for (const file of files) {
	const wf = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
		nodes: Array<{ name: string; parameters?: unknown }>;
	};
	for (const node of wf.nodes) {
		const found: string[][] = [];
		collect(node.parameters ?? {}, '', found);
		for (const [param, value] of found)
			if (value.startsWith('=')) expressions.push({ file, node: node.name, param, value });
	}
}

describe('templates never evaluate data as an expression', () => {
	it('finds the templates and their expressions', () => {
		expect(files).toEqual(
			expect.arrayContaining([
				'returns-intake.json',
				'returns-processor.json',
				'exception-replay.json',
			]),
		);
		expect(expressions.length).toBeGreaterThan(50);
	});

	it('no expression re-evaluates text ($evaluateExpression, eval, Function, $evaluate)', () => {
		const risky = expressions.filter((e) =>
			/\$evaluateExpression|\beval\s*\(|\bFunction\s*\(|new\s+Function|\$evaluate\b/.test(e.value),
		);
		expect(risky.map((e) => `${e.file} / ${e.node} / ${e.param}`)).toEqual([]);
	});

	it('the exception row columns read the item fields directly; resolved over hostile text they give it back verbatim', () => {
		const columns = expressions.filter(
			(e) =>
				e.file === 'returns-intake.json' &&
				e.node === 'Record New Exception' &&
				e.param.startsWith('columns.value.'),
		);
		expect(columns.map((c) => c.param.replace('columns.value.', ''))).toEqual(
			expect.arrayContaining(['message', 'returnId', 'field', 'payload', 'sku', 'code']),
		);
		const simple = columns.filter((c) => /^=\{\{ \$json\.[A-Za-z]+ \}\}$/.test(c.value));
		expect(simple.length).toBeGreaterThanOrEqual(4);
		let checked = 0;
		for (const text of INJECTIONS) {
			const item = {
				key: text,
				kind: text,
				title: text,
				owner: text,
				stage: text,
				message: text,
				action: text,
				returnId: text,
				payload: text,
			};
			for (const c of simple) {
				const field = /\$json\.([A-Za-z]+)/.exec(c.value)![1];
				if (!(field in item)) continue;
				const resolved = Expression.resolveWithoutWorkflow(c.value.slice(1), { $json: item });
				expect({ column: c.param, resolved }).toEqual({ column: c.param, resolved: text });
				checked++;
			}
		}
		expect(checked).toBeGreaterThan(100);
		// the engine does evaluate real expressions (so the check above could fail)
		expect(Expression.resolveWithoutWorkflow('{{ 7*7 }}', {})).toBe(49);
	});

	it('the e-mail alert escapes HTML in the text it carries', () => {
		const html = expressions.find(
			(e) => e.file === 'returns-intake.json' && e.node === 'Alert by Email' && e.param === 'html',
		);
		expect(html).toBeDefined();
		for (const field of ['title', 'returnId', 'message', 'action']) {
			expect(html!.value).toContain(
				`String(i.json.${field} ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;')`,
			);
		}
	});
});
