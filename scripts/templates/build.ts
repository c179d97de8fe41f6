/**
 * Generates the workflow templates in workflows/*.json (n8n workflow JSON with
 * `{{PLACEHOLDER}}` values). The templates are committed; this generator keeps
 * them consistent (same Data table shapes, same exception sink)
 * and a unit test checks the committed files equal its output.
 *
 *   npx ts-node --transpile-only scripts/templates/build.ts          # write workflows/
 *   npx ts-node --transpile-only scripts/templates/build.ts --check  # exit 1 if out of date
 *
 * Only the fields n8n's public API accepts on POST /api/v1/workflows are
 * written: name, nodes, connections, settings (no id, active or tags).
 *
 * Layout: builder.ts (workflow types, Builder), nodes.ts (node helpers and
 * shared parameters), exceptionSink.ts (the one exception sink), one file per
 * template (errors, intake, processor, creditPosting, financeReview, reconciliation, mappingAudit,
 * replay); this
 * file keeps the list of templates and the command line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TemplateInfo } from './builder';
import { buildCreditPosting } from './creditPosting';
import { buildErrors } from './errors';
import { buildFinanceReview } from './financeReview';
import { buildIntake } from './intake';
import { buildMappingAudit } from './mappingAudit';
import { placeholderUses } from './placeholders';
import { buildProcessor } from './processor';
import { buildReconciliation } from './reconciliation';
import { buildReplay } from './replay';

export type { N8nConnection, N8nNode, TemplateInfo, WorkflowTemplate } from './builder';
export { PACKAGE } from './nodes';

// ------------------------------------------------------------------ catalogue

export const TEMPLATES: TemplateInfo[] = [
	{
		file: 'errors',
		title: 'Returns: workflow errors',
		activate: 'always',
		errorWorkflow: true,
		build: buildErrors,
	},
	{
		file: 'returns-intake',
		title: 'Returns: ReBound → Khaos – 1 intake',
		activate: 'always',
		build: buildIntake,
	},
	{
		file: 'returns-processor',
		title: 'Returns: ReBound → Khaos – 2 process queue',
		activate: 'always',
		build: buildProcessor,
	},
	{
		file: 'credit-posting',
		title: 'Returns: credit-note posting',
		activate: 'financeBatched',
		build: buildCreditPosting,
	},
	{
		file: 'finance-review',
		title: 'Returns: finance review of held credits',
		activate: 'always',
		build: buildFinanceReview,
	},
	{
		file: 'reconciliation',
		title: 'Returns: daily reconciliation',
		activate: 'always',
		build: buildReconciliation,
	},
	{
		file: 'mapping-audit',
		title: 'Returns: daily mapping audit',
		activate: 'always',
		build: buildMappingAudit,
	},
	{
		file: 'exception-replay',
		title: 'Returns: exception replay',
		activate: 'replayScheduled',
		build: buildReplay,
	},
];

export const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');

export function renderTemplate(info: TemplateInfo): string {
	const template = info.build();
	// fails loudly when a placeholder stands where its value could become expression code
	placeholderUses(template, `${info.file}.json`);
	return `${JSON.stringify(template, null, '\t')}\n`;
}

function main(argv: string[]): number {
	const check = argv.includes('--check');
	let stale = 0;
	for (const info of TEMPLATES) {
		const file = path.join(WORKFLOWS_DIR, `${info.file}.json`);
		const text = renderTemplate(info);
		const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
		if (current === text) continue;
		if (check) {
			console.error(
				`${path.relative(process.cwd(), file)} is out of date: run scripts/templates/build.ts`,
			);
			stale++;
		} else {
			fs.writeFileSync(file, text);
			console.log(`wrote ${path.relative(process.cwd(), file)}`);
		}
	}
	return stale ? 1 : 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
