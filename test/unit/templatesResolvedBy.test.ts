/**
 * Who resolved an exception, and why (issue 17): the exceptions Data Table's `resolvedBy` and
 * `resolutionNote` columns, filled by the automatic resolvers (the exception replay, the mapping
 * audit) and read by the daily reconciliation for the rows closed in its window.
 */
import type { N8nNode, WorkflowTemplate } from '../../scripts/templates/builder';
import { TEMPLATES } from '../../scripts/templates/build';
import { buildMappingAudit } from '../../scripts/templates/mappingAudit';
import { buildReconciliation } from '../../scripts/templates/reconciliation';
import { buildReplay } from '../../scripts/templates/replay';
import { TABLES } from '../../scripts/templates/tables';

function node(wf: WorkflowTemplate, name: string): N8nNode {
	const n = wf.nodes.find((x) => x.name === name);
	if (!n) throw new Error(`no node ${name}`);
	return n;
}
type Params = Record<string, any>;
const columnsOf = (n: N8nNode) => (n.parameters as Params).columns.value as Record<string, unknown>;

/** Evaluate an n8n expression (`={{ … }}`) with the given variables. */
function evaluate(expr: string, vars: Record<string, unknown>): unknown {
	const body = expr.replace(/^=\{\{/, '').replace(/\}\}$/, '');
	const names = Object.keys(vars);
	return new Function(...names, `return (${body});`)(...names.map((k) => vars[k]));
}

describe('the exceptions table says who resolved a row and why', () => {
	it('has resolvedBy and resolutionNote (text) after resolvedAt', () => {
		const cols = TABLES.exceptions.columns;
		expect(cols.find((c) => c.name === 'resolvedBy')).toEqual({
			name: 'resolvedBy',
			type: 'string',
		});
		expect(cols.find((c) => c.name === 'resolutionNote')).toEqual({
			name: 'resolutionNote',
			type: 'string',
		});
		const names = cols.map((c) => c.name);
		expect(names.indexOf('resolvedBy')).toBe(names.indexOf('resolvedAt') + 1);
		expect(names.indexOf('resolutionNote')).toBe(names.indexOf('resolvedAt') + 2);
	});

	it('the exception replay sets resolvedBy "replay" and a note naming its execution', () => {
		const resolve = node(buildReplay(), 'Resolve Exceptions');
		const cols = columnsOf(resolve);
		expect(cols).toMatchObject({ status: 'resolved', resolvedBy: 'replay' });
		expect(evaluate(String(cols.resolutionNote), { $execution: { id: '41' } })).toBe(
			'Replayed after the fix: the return went through (execution 41)',
		);
		// the column schema n8n's Data table node keeps beside the values
		expect(
			((resolve.parameters as Params).columns.schema as Array<{ id: string }>).map((s) => s.id),
		).toEqual(expect.arrayContaining(['resolvedBy', 'resolutionNote']));
	});

	it('the mapping audit sets resolvedBy "mapping audit" on the findings it clears', () => {
		const cols = columnsOf(node(buildMappingAudit(), 'Resolve Cleared Findings'));
		expect(cols).toMatchObject({
			status: 'resolved',
			resolvedBy: 'mapping audit',
			resolutionNote: 'The mapping audit no longer finds it: the row was corrected or added',
		});
	});

	it('the daily reconciliation also reads the rows changed since its window began (the ones closed in it)', () => {
		const read = node(buildReconciliation(), 'Open Exceptions and Notices').parameters as Params;
		expect(read.matchType).toBe('anyCondition');
		expect(read.filters.conditions).toEqual([
			{ keyName: 'status', condition: 'eq', keyValue: 'open' },
			{ keyName: 'status', condition: 'eq', keyValue: 'notice' },
			{
				keyName: 'updatedAt',
				condition: 'gte',
				keyValue:
					"={{ DateTime.fromISO($('Report Window').first().json.from).startOf('day').toISO() }}",
			},
		]);
	});

	it('no template other than these two sets an exception row resolved', () => {
		const resolvers: string[] = [];
		for (const t of TEMPLATES) {
			for (const n of t.build().nodes) {
				const p = n.parameters as Params;
				if (
					String(p.dataTableId?.value ?? '').includes('EXCEPTIONS') &&
					p.columns?.value?.status === 'resolved'
				) {
					resolvers.push(`${t.file}: ${n.name}`);
					expect(p.columns.value.resolvedBy).toBeTruthy();
				}
			}
		}
		expect(resolvers.sort()).toEqual([
			'exception-replay: Resolve Exceptions',
			'mapping-audit: Resolve Cleared Findings',
		]);
	});
});
