import { TEMPLATES } from '../../scripts/templates/build';
import type { N8nNode, WorkflowTemplate } from '../../scripts/templates/builder';
import { AUDIT_KINDS, buildMappingAudit } from '../../scripts/templates/mappingAudit';
import { placeholderValues, resolveOffline, validateValues } from '../../scripts/templates/values';
import { exampleValues } from '../../scripts/templates/sandboxValues';

const wf: WorkflowTemplate = buildMappingAudit();
const node = (name: string): N8nNode => {
	const n = wf.nodes.find((x) => x.name === name);
	if (!n) throw new Error(`no node ${name}`);
	return n;
};
const targets = (from: string, output = 0) =>
	(wf.connections[from]?.main[output] ?? []).map((c) => c.node);

describe('mapping audit template', () => {
	it('is a template of its own, activated on import, daily on its own schedule and by hand', () => {
		expect(TEMPLATES.find((t) => t.file === 'mapping-audit')).toMatchObject({
			activate: 'always',
			title: 'Returns: daily mapping audit',
		});
		expect(node('Every Morning').parameters.rule).toEqual({
			interval: [{ field: 'cronExpression', expression: '{{MAPPING_AUDIT_CRON}}' }],
		});
		expect(node('Run Audit Now').type).toBe('n8n-nodes-base.manualTrigger');
		expect(targets('Every Morning')).toEqual(['Audit Window']);
		expect(targets('Run Audit Now')).toEqual(['Audit Window']);
		expect(String(node('Audit Window').parameters.jsonOutput)).toContain(
			'days: {{MAPPING_AUDIT_DAYS}}',
		);
	});

	it('reads the mapping tables and the ReBound returns of the window, then audits them against Khaos', () => {
		expect(targets('Audit Window')).toEqual(['Disposition Map']);
		expect(targets('SKU Aliases')).toEqual(['ReBound Returns Seen']);
		expect(node('ReBound Returns Seen').parameters).toMatchObject({
			operation: 'search',
			output: 'returns',
			dateFrom: "={{ $('Audit Window').first().json.from }}",
		});
		expect(targets('ReBound Returns Seen')).toEqual(['Audit Mappings']);
		const audit = node('Audit Mappings');
		expect(audit.type).toBe('n8n-nodes-rebound-khaos.khaosControl');
		expect(audit.parameters).toMatchObject({
			resource: 'mapping',
			operation: 'audit',
			options: { days: '{{MAPPING_AUDIT_DAYS}}', title: '=Mapping audit {{CLIENT_NAME}}' },
		});
		// every row of the table (a row with an empty code is a finding, not dropped), not the empty item
		expect(audit.parameters.dispositionsJson).toBe(
			"={{ JSON.stringify($('Disposition Map').all().map(i => i.json).filter(r => r.id !== undefined)) }}",
		);
		expect(audit.credentials).toHaveProperty('khaosControlApi');
	});

	it('findings go to the exception sink (alerted once per key); cleared ones are resolved; the report goes out when run by hand', () => {
		expect(targets('Audit Mappings', 1)).toEqual(['New Exception?', 'Known Exception?']);
		expect(targets('Audit Mappings', 0)).toEqual(['Audit Findings on Record', 'Run by Hand?']);
		const onRecord = node('Audit Findings on Record').parameters as {
			matchType: string;
			filters: { conditions: Array<{ keyName: string; keyValue: string }> };
		};
		expect(onRecord.matchType).toBe('anyCondition');
		expect(onRecord.filters.conditions.map((c) => [c.keyName, c.keyValue])).toEqual(
			AUDIT_KINDS.map((k) => ['kind', k]),
		);
		expect(targets('Audit Findings on Record')).toEqual(['Cleared Since']);
		const cleared = JSON.stringify(node('Cleared Since').parameters);
		expect(cleared).toContain("$json.status === 'open'");
		expect(cleared).toContain("$('Audit Mappings').first().json.exceptionKeys.includes($json.key)");
		expect(targets('Cleared Since')).toEqual(['Resolve Cleared Findings']);
		const resolve = node('Resolve Cleared Findings').parameters as {
			operation: string;
			columns: { value: Record<string, string> };
		};
		expect(resolve.operation).toBe('update');
		expect(resolve.columns.value.status).toBe('resolved');
		// the shared report delivery (scripts/templates/reportDelivery.ts), only when run by hand
		expect(targets('Run by Hand?')).toEqual(['Audit File', 'Post Audit to Slack']);
		expect(JSON.stringify(node('Run by Hand?').parameters)).toContain(
			"$('Run Audit Now').isExecuted",
		);
		expect(node('Email Audit')).toMatchObject({ disabled: '{{REPORT_EMAIL_DISABLED}}' });
		expect(node('Email Audit').parameters).toMatchObject({
			toEmail: '{{REPORT_EMAIL_TO}}',
			options: { fileAttachments: 'report' },
		});
		expect(String(node('Email Audit').parameters.html)).toContain(
			'$("Audit Mappings").first().json.html',
		);
		expect(node('Post Audit to Slack')).toMatchObject({ disabled: '{{REPORT_SLACK_DISABLED}}' });
		expect(String(node('Post Audit to Slack').parameters.text)).toContain(".replace(/</g, '&lt;')");
		// a failed delivery is a report_delivery_failed row through the same sink
		expect(targets('Audit E-mail Failed')).toEqual(['New Exception?', 'Known Exception?']);
		expect(String(node('Audit E-mail Failed').parameters.jsonOutput)).toContain(
			"'report_delivery_failed|-|' + id + '|email'",
		);
		expect(String(node('Audit E-mail Failed').parameters.jsonOutput)).toContain(
			"'mapping-audit:' + $today.toISODate()",
		);
	});

	it('values: mappingAuditCron and mappingAudit.days have defaults and reach the placeholders', () => {
		const raw = exampleValues();
		const v = validateValues(raw);
		if (!v.ok) throw new Error(JSON.stringify(v.problems));
		const p = placeholderValues(v.values, resolveOffline(v.values));
		expect([p.MAPPING_AUDIT_CRON, p.MAPPING_AUDIT_DAYS]).toEqual(['30 6 * * *', 30]);
		const custom = validateValues({
			...raw,
			schedules: { ...raw.schedules, mappingAuditCron: '0 5 * * 1-5' },
			mappingAudit: { days: 90 },
		});
		if (!custom.ok) throw new Error(JSON.stringify(custom.problems));
		const q = placeholderValues(custom.values, resolveOffline(custom.values));
		expect([q.MAPPING_AUDIT_CRON, q.MAPPING_AUDIT_DAYS]).toEqual(['0 5 * * 1-5', 90]);
		const bad = validateValues({ ...raw, mappingAudit: { days: 0 } });
		expect(bad.ok).toBe(false);
	});
});
