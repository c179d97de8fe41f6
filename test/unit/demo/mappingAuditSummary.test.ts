import {
	mappingAuditSummary,
	renderSummary,
	type DemoSummary,
} from '../../../scripts/demo/summary';
import { renderMappingAudit } from '../../../core/mappingAuditReport';
import { auditMappings } from '../../../core/usecases/auditMappings';
import { FakeKhaosApi } from '../../helpers/khaosFakes';

describe('demo summary: Mapping audit section', () => {
	it('shows the summary line, each wrong row with its fix and each code seen without a row', async () => {
		const audit = await auditMappings(new FakeKhaosApi(), {
			dispositions: [
				{ disposition: 'Damaged', action: 'quarantine', siteId: '1', locationId: 'A1' },
			],
			reasons: [{ reason: '*', reasonId: '1' }],
			returns: [
				{
					schemaVersion: 1,
					source: 'rebound-api',
					returnId: '5003',
					orderReference: 'WEB-1003',
					event: {
						id: 'e',
						type: 'return.fetched',
						occurredAt: '2026-11-27T10:00:00Z',
						sequence: 1,
					},
					lines: [
						{
							sku: 'MUG-WHT',
							lineId: '5003:1',
							quantity: 1,
							disposition: 'Mystery Grade',
							reasons: [],
						},
					],
				},
			],
			days: 30,
		});
		const m = mappingAuditSummary({ ...audit, ...renderMappingAudit(audit) });
		const summary = {
			ok: true,
			client: 'Demo',
			returns: [],
			stockMoves: [],
			creditNotes: [],
			exceptions: [],
			reviews: [],
			mappingAudit: m,
		} as DemoSummary;
		const text = renderSummary(summary);
		expect(text).toContain(
			'Mapping audit (the mapping tables against Khaos, the codes ReBound used in the last 30 days)',
		);
		expect(text).toContain('Mapping audit: 1 wrong row, 1 code seen without a row');
		expect(text).toMatch(
			/disposition row 1 +Damaged +Disposition table row 1 \("Damaged"\): quarantine into location A1/,
		);
		expect(text).toContain(
			'fix: Point the row at a non-sellable location of site 1 (QUAR (Quarantine), WOFF (Write-off)).',
		);
		expect(text).toMatch(
			/disposition +Mystery Grade +1 line\(s\) of 1 return\(s\), first 5003 +no row: alerted once/,
		);
		expect(renderSummary({ ...summary, mappingAudit: undefined })).not.toContain('Mapping audit');
	});
});
