/**
 * The docs for the people running the business (issue 17): the operations and finance pages hold
 * no configuration, JSON, commands, API calls or code (those are in docs/integrator-reference.md
 * and docs/deployment.md), and every relative link of every page under docs/ leads to a file that
 * exists and, with an anchor, to a heading of it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const DOCS = path.join(ROOT, 'docs');

/** The ops and finance pages. */
export const PEOPLE_DOCS = [
	'operating-guide.md',
	'ops-daily-card.md',
	'finance-daily-card.md',
	'exceptions.md',
	'exception-card.md',
	'editing-mappings.md',
	'mapping.md',
	'find-it-in-khaos.md',
	'credit-mismatch-playbook.md',
	'period-end.md',
	'reconciliation.md',
	'credit-notes.md',
];

/** What marks configuration, commands or code: each with why it is not for people. */
const NOT_FOR_PEOPLE: Array<[RegExp, string]> = [
	[/^\s*(```|~~~)/m, 'a code block'],
	[/\{\{/, 'an n8n expression or placeholder'],
	[/\$json|\$\(|\$now|\$execution/, 'an n8n expression'],
	[/\/api\/v\d/, 'an API call'],
	[/\b(GET|POST|PUT|PATCH|DELETE) \//, 'an API call'],
	[/\b(npm|npx|curl|ts-node) [a-z-]/, 'a command'],
	[/\bvalues file\b/i, 'a values-file setting'],
	[/\benv:|\bN8N_[A-Z_]+/, 'an environment setting'],
	[/`[^`]*\.(ts|json|js)`|\]\([^)]*\.(ts|json|js)\)/, 'a code or JSON file'],
	[/=>|\bconst |\bfunction\b\s*\w*\(/, 'code'],
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
	return heading
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\s_-]/gu, '')
		.replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
	const out = new Set<string>();
	const seen = new Map<string, number>();
	let fenced = false;
	for (const line of markdown.split('\n')) {
		if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
		const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
		if (!m) continue;
		const base = slug(m[1]);
		const n = seen.get(base) ?? 0;
		seen.set(base, n + 1);
		out.add(n === 0 ? base : `${base}-${n}`);
	}
	return out;
}

/** Relative links of a page (code spans and blocks left out), as [target, anchor]. */
function links(markdown: string): Array<{ target: string; anchor: string | null }> {
	const text = markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '').replace(/`[^`\n]*`/g, '');
	const out: Array<{ target: string; anchor: string | null }> = [];
	for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
		const href = m[1];
		if (/^[a-z]+:/i.test(href)) continue;
		const [target, anchor] = href.split('#');
		out.push({ target, anchor: anchor ?? null });
	}
	return out;
}

describe('the ops and finance docs hold no configuration, JSON, commands or code', () => {
	it.each(PEOPLE_DOCS)('%s', (doc) => {
		const text = fs.readFileSync(path.join(DOCS, doc), 'utf8');
		const found = NOT_FOR_PEOPLE.flatMap(([re, what]) => {
			const m = re.exec(text);
			if (!m) return [];
			const line = text.slice(0, m.index).split('\n').length;
			return [`${doc}:${line}: ${what} (${JSON.stringify(m[0])})`];
		});
		expect(found).toEqual([]);
	});

	it('the operating guide is an index: short, and it names a page for each role', () => {
		const guide = fs.readFileSync(path.join(DOCS, 'operating-guide.md'), 'utf8');
		expect(guide.split('\n').length).toBeLessThan(120);
		for (const heading of ['## Operations', '## Finance', '## Tech and the integrator'])
			expect(guide).toContain(heading);
		for (const doc of [
			'ops-daily-card.md',
			'finance-daily-card.md',
			'exceptions.md',
			'exception-card.md',
			'editing-mappings.md',
			'credit-mismatch-playbook.md',
			'find-it-in-khaos.md',
			'period-end.md',
			'integrator-reference.md',
			'deployment.md',
		])
			expect(guide).toContain(`](${doc}`);
	});
});

describe('docs links', () => {
	it('slug follows GitHub', () => {
		expect(slug('When the report does not arrive (`report_delivery_failed`)')).toBe(
			'when-the-report-does-not-arrive-report_delivery_failed',
		);
		expect(slug('Closing a row by hand: who and why')).toBe('closing-a-row-by-hand-who-and-why');
		expect(slug('Line-action rules (credit by what the customer asked for)')).toBe(
			'line-action-rules-credit-by-what-the-customer-asked-for',
		);
	});

	const pages = fs.readdirSync(DOCS).filter((f) => f.endsWith('.md'));
	it.each(pages)('%s: every relative link and anchor exists', (page) => {
		const from = path.join(DOCS, page);
		const text = fs.readFileSync(from, 'utf8');
		const broken: string[] = [];
		for (const { target, anchor } of links(text)) {
			const file = target === '' ? from : path.resolve(path.dirname(from), target);
			if (!fs.existsSync(file)) {
				broken.push(`${target}: no such file`);
				continue;
			}
			if (anchor && file.endsWith('.md') && !anchors(fs.readFileSync(file, 'utf8')).has(anchor))
				broken.push(`${target}#${anchor}: no such heading`);
		}
		expect(broken).toEqual([]);
	});
});
