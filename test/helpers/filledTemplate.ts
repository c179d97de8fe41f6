/**
 * A committed workflow template as the import fills it in for a test client: every placeholder
 * given a plain value of its type (numbers 7, flags false, texts `v-<name>`), then the overrides.
 * Shared by the unit tests that resolve a template's expressions with n8n-workflow's own engine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { N8nNode, WorkflowTemplate } from '../../scripts/templates/build';
import { PLACEHOLDERS, substitute } from '../../scripts/templates/placeholders';

const WORKFLOWS = path.resolve(__dirname, '..', '..', 'workflows');

/** workflows/<file>.json as committed (placeholders in it). */
export function committedTemplate(file: string): WorkflowTemplate {
	return JSON.parse(
		fs.readFileSync(path.join(WORKFLOWS, `${file}.json`), 'utf8'),
	) as WorkflowTemplate;
}

/** The committed template filled in with a value for every placeholder, `overrides` first. */
export function filledTemplate(
	template: WorkflowTemplate,
	file: string,
	overrides: Record<string, unknown>,
): WorkflowTemplate {
	const values: Record<string, unknown> = Object.fromEntries(
		Object.entries(PLACEHOLDERS).map(([name, spec]) => [
			name,
			spec.type === 'number' ? 7 : spec.type === 'boolean' ? false : `v-${name.toLowerCase()}`,
		]),
	);
	Object.assign(values, overrides);
	return substitute(template, values as never, `${file}.json`);
}

export function nodeNamed(w: WorkflowTemplate, name: string): N8nNode {
	const n = w.nodes.find((x) => x.name === name);
	if (!n) throw new Error(`no node ${name}`);
	return n;
}

/** The nodes one output of a node feeds, sorted. */
export const targetsOf = (w: WorkflowTemplate, from: string, output: number): string[] =>
	(w.connections[from]?.main[output] ?? []).map((c) => c.node).sort();
