import {
	auditExceptions,
	auditMappings,
	type MappingAudit,
} from '../../../core/usecases/auditMappings';
import {
	escapeAuditMarkdown,
	renderMappingAudit,
	renderMappingAuditHtml,
	renderMappingAuditMarkdown,
} from '../../../core/mappingAuditReport';
import { FakeKhaosApi } from '../../helpers/khaosFakes';

const GOOD_DISPOSITIONS = [
	{ disposition: 'Grade A', action: 'restock', siteId: '1', locationId: 'A1', sellable: true },
	{
		disposition: 'Damaged',
		action: 'quarantine',
		siteId: '1',
		locationId: 'QUAR',
		sellable: false,
	},
	{ disposition: 'Missing', action: 'no_movement', siteId: '', locationId: '', sellable: false },
];
const GOOD_REASONS = [
	{ reason: 'Too small', reasonId: '2', matchOn: 'reason' },
	{ reason: 'Faulty', reasonId: '1' },
];

let n = 0;
function ret(lines: Array<{ disposition: string | null; reason?: string }>, returnId = `R${++n}`) {
	return {
		schemaVersion: 1,
		source: 'rebound-api',
		returnId,
		orderReference: 'WEB-1001',
		event: {
			id: `e${returnId}`,
			type: 'return.fetched',
			occurredAt: '2026-11-27T10:00:00Z',
			sequence: 1,
		},
		lines: lines.map((l, i) => ({
			sku: `SKU-${i}`,
			lineId: `${returnId}:${i}`,
			quantity: 1,
			disposition: l.disposition,
			reasons: l.reason === undefined ? [] : [{ reason: l.reason, action: 'Refund', wish: '' }],
		})),
	};
}

async function audit(over: {
	dispositions?: unknown;
	reasons?: unknown;
	returns?: unknown[];
	fake?: FakeKhaosApi;
}): Promise<MappingAudit> {
	return auditMappings(over.fake ?? new FakeKhaosApi(), {
		dispositions: over.dispositions ?? GOOD_DISPOSITIONS,
		reasons: over.reasons ?? GOOD_REASONS,
		returns: over.returns ?? [],
		days: 30,
		now: new Date('2026-11-28T06:00:00Z'),
	});
}

const problems = (a: MappingAudit) => a.rows.map((r) => [r.table, r.row, r.problem]);

describe('mapping audit: rows against Khaos', () => {
	it('a correct table is all good, and asks Khaos once per site named', async () => {
		const fake = new FakeKhaosApi();
		const a = await audit({ fake });
		expect(a.ok).toBe(true);
		expect(a.rows).toEqual([]);
		expect(fake.calls.getSites).toBe(1);
		expect(fake.calls.getLocations).toBe(1);
		expect(fake.calls.getReturnReasons).toBe(1);
		expect(a.khaos).toEqual({ sites: 2, locations: 4, reasons: 2 });
		expect(renderMappingAudit(a).summaryLine).toContain('all good');
	});

	it('site missing: names the row, the site and the sites Khaos has', async () => {
		const a = await audit({
			dispositions: [
				{
					disposition: 'Grade A',
					action: 'restock',
					siteId: '9',
					locationId: 'A1',
					sellable: true,
				},
			],
		});
		expect(problems(a)).toEqual([['dispositions', 1, 'site_missing']]);
		expect(a.rows[0].message).toContain(
			'Disposition table row 1 ("Grade A"): site "9" does not exist in Khaos',
		);
		expect(a.rows[0].fix).toBe(
			'Set siteId to the Khaos site this grade goes to: 1 (Main Warehouse), 2 (Outlet).',
		);
		expect(a.rows[0].field).toBe('siteId');
		expect(a.ok).toBe(false);
	});

	it('location missing: lists the right kind of location of that site; a case slip names the ID Khaos writes', async () => {
		const a = await audit({
			dispositions: [
				{
					disposition: 'Grade A',
					action: 'restock',
					siteId: '1',
					locationId: 'B7',
					sellable: true,
				},
				{
					disposition: 'Damaged',
					action: 'quarantine',
					siteId: '1',
					locationId: 'NOPE',
					sellable: false,
				},
				{
					disposition: 'Grade B',
					action: 'restock',
					siteId: '1',
					locationId: 'ret',
					sellable: true,
				},
			],
		});
		expect(problems(a)).toEqual([
			['dispositions', 1, 'location_missing'],
			['dispositions', 2, 'location_missing'],
			['dispositions', 3, 'location_missing'],
		]);
		expect(a.rows[0].fix).toBe(
			'Set locationId to a sellable location of site 1: A1 (Pick face A1), RET (Returns bay).',
		);
		expect(a.rows[1].fix).toBe(
			'Set locationId to a non-sellable location of site 1: QUAR (Quarantine), WOFF (Write-off).',
		);
		expect(a.rows[2].fix).toBe('Set locationId to "RET" (Khaos writes the ID so).');
	});

	it('restock into a non-sellable location', async () => {
		const a = await audit({
			dispositions: [
				{
					disposition: 'Grade A',
					action: 'restock',
					siteId: '1',
					locationId: 'QUAR',
					sellable: false,
				},
			],
		});
		expect(problems(a)).toEqual([['dispositions', 1, 'restock_not_sellable']]);
		expect(a.rows[0].message).toContain('which Khaos does not count as sellable');
		expect(a.rows[0].fix).toContain(
			'sellable location of site 1 (A1 (Pick face A1), RET (Returns bay))',
		);
		expect(a.rows[0].rowText).toBe('"Grade A" → restock into site 1, location QUAR (not sellable)');
	});

	it('quarantine and write-off into a sellable location', async () => {
		const a = await audit({
			dispositions: [
				{
					disposition: 'Damaged',
					action: 'quarantine',
					siteId: '1',
					locationId: 'A1',
					sellable: false,
				},
				{
					disposition: 'Destroyed',
					action: 'write_off',
					siteId: '2',
					locationId: 'OUT1',
					sellable: false,
				},
			],
		});
		expect(problems(a)).toEqual([
			['dispositions', 1, 'held_on_sellable'],
			['dispositions', 2, 'held_on_sellable'],
		]);
		expect(a.rows[0].fix).toBe(
			'Point the row at a non-sellable location of site 1 (QUAR (Quarantine), WOFF (Write-off)).',
		);
		expect(a.rows[1].message).toContain('write-off into location OUT1 of site 2');
		expect(a.rows[1].fix).toContain('(none at this site)');
	});

	it('reason id missing: the list of Khaos reasons, or the id when the row holds the reason code', async () => {
		const a = await audit({
			reasons: [
				{ reason: 'Too small', reasonId: '7' },
				{ reason: 'Faulty', reasonId: 'faulty' },
				{ reason: '*', reasonId: '99' },
			],
		});
		expect(problems(a)).toEqual([
			['reasons', 1, 'reason_missing'],
			['reasons', 2, 'reason_missing'],
			['reasons', 3, 'reason_missing'],
		]);
		expect(a.rows[0].fix).toBe(
			"Set reasonId to one of Khaos' return reason IDs: 1 FAULTY (Faulty), 2 SIZE (Wrong size).",
		);
		expect(a.rows[1].fix).toBe('Set reasonId to "1" (the ID of Khaos\' reason FAULTY).');
		expect(a.rows[0].message).toContain(
			'Reason table row 1 ("Too small"): reason id "7" is not a Khaos return reason',
		);
	});

	it('a row Returns Mapping would refuse is reported with its fix and left out of the Khaos checks; the other rows are still checked', async () => {
		const a = await audit({
			dispositions: [
				{ disposition: 'Grade A', action: 'restok', siteId: '9', locationId: 'A1', sellable: true },
				{
					disposition: 'Grade B',
					action: 'restock',
					siteId: '9',
					locationId: 'A1',
					sellable: true,
				},
				{ disposition: 'grade b', action: 'quarantine', siteId: '1', locationId: 'QUAR' },
			],
			reasons: 'not json',
		});
		expect(problems(a)).toEqual([
			['dispositions', 1, 'row_invalid'],
			['dispositions', 2, 'site_missing'],
			['dispositions', 3, 'row_invalid'],
			['reasons', 0, 'row_invalid'],
		]);
		expect(a.rows[0].fix).toBe('Set action to one of restock, quarantine, write_off, no_movement.');
		expect(a.rows[2].fix).toContain('Keep one of rows 2 and 3');
		expect(a.rows[3].message).toContain('Reason table: is not valid JSON');
		for (const r of a.rows) expect(r.message).not.toMatch(/\bat \w+ \(|Error:/);
	});

	it('a failed Khaos call rejects (the node reports it): no report from half the data', async () => {
		const fake = new FakeKhaosApi().fail(
			'getReturnReasons',
			new Error('Khaos GetReturnReasonList: HTTP 503'),
		);
		await expect(audit({ fake })).rejects.toThrow('HTTP 503');
	});

	it('never asks Khaos for the locations of a site it does not list', async () => {
		const fake = new FakeKhaosApi();
		await audit({
			fake,
			dispositions: [{ disposition: 'X', action: 'quarantine', siteId: '9', locationId: 'Q' }],
		});
		expect(fake.calls.getLocations).toBe(0);
	});
});

describe('mapping audit: codes seen in ReBound', () => {
	it('lists every disposition and reason without a row, with line and return counts; mapped ones are not', async () => {
		const a = await audit({
			returns: [
				ret(
					[
						{ disposition: 'Grade C', reason: 'Not as described' },
						{ disposition: 'Grade A', reason: 'Too small' },
					],
					'5001',
				),
				ret([{ disposition: 'grade  c', reason: 'Too small' }], '5002'),
				ret([{ disposition: 'Grade C', reason: 'Not as described' }], '5003'),
				ret([{ disposition: null, reason: 'Faulty' }], '5004'),
			],
		});
		expect(
			a.unmapped.map((u) => [
				u.kind,
				u.code,
				u.count,
				u.returnCount,
				u.firstReturnId,
				u.fallsToDefault,
			]),
		).toEqual([
			['disposition', 'Grade C', 3, 3, '5001', false],
			['reason', 'Not as described', 2, 2, '5001', false],
		]);
		expect(a.unmapped[0].fix).toContain('Add a row for "Grade C" to the disposition table');
		expect(a.counts).toMatchObject({ returns: 4, lines: 5, dispositionsSeen: 2, reasonsSeen: 3 });
		expect(a.seen.find((s) => s.code === 'Grade A')).toEqual({
			kind: 'disposition',
			code: 'Grade A',
			count: 1,
			row: 1,
			matchedBy: 'exact',
		});
		expect(a.ok).toBe(false);
	});

	it('a code the default row takes is listed, not alerted; with no default a line without a reason is', async () => {
		const a = await audit({
			dispositions: [
				...GOOD_DISPOSITIONS,
				{ disposition: '*', action: 'quarantine', siteId: '1', locationId: 'QUAR' },
			],
			returns: [ret([{ disposition: 'Grade Z', reason: 'Faulty' }, { disposition: 'Grade A' }])],
		});
		expect(a.unmapped.map((u) => [u.kind, u.code, u.fallsToDefault])).toEqual([
			['disposition', 'Grade Z', true],
			['reason', '', false],
		]);
		expect(a.seen.find((s) => s.code === 'Grade Z')).toMatchObject({
			row: 4,
			matchedBy: 'default',
		});
		const ex = auditExceptions(a);
		expect(ex.map((e) => [e.kind, e.key])).toEqual([
			['unmapped_code_seen', 'unmapped_code_seen|-|reason|(no reason)'],
		]);
		expect(ex[0].action).toContain('default (*) row to the reason table');
	});

	it('exception items: owner ops, stable keys per table and code (not the day, not the row number), the fix as the action', async () => {
		const returns = [ret([{ disposition: 'Mystery Grade', reason: 'Too small' }], '5003')];
		const one = await audit({
			returns,
			dispositions: [
				{ disposition: 'Grade A', action: 'restock', siteId: '1', locationId: 'QUAR' },
			],
		});
		const two = await auditMappings(new FakeKhaosApi(), {
			dispositions: [
				{ disposition: 'Damaged', action: 'quarantine', siteId: '1', locationId: 'QUAR' },
				{ disposition: 'GRADE A', action: 'restock', siteId: '1', locationId: 'QUAR' },
			],
			reasons: GOOD_REASONS,
			returns: [...returns, ...returns],
			now: new Date('2026-11-29T06:00:00Z'),
		});
		const keys = (a: MappingAudit) => auditExceptions(a).map((e) => e.key);
		expect(keys(one)).toEqual([
			'mapping_row_wrong|-|dispositions:grade a|restock_not_sellable',
			'unmapped_code_seen|-|disposition|mystery grade',
		]);
		expect(keys(two)).toEqual(keys(one));
		const ex = auditExceptions(one);
		expect(ex.map((e) => [e.kind, e.owner, e.stage, e.returnId, e.notice ?? false])).toEqual([
			['mapping_row_wrong', 'ops', 'mapping', null, false],
			['unmapped_code_seen', 'ops', 'mapping', null, false],
		]);
		expect(ex[0].action).toBe(one.rows[0].fix);
		expect(ex[1].message).toBe(
			'Disposition "Mystery Grade" was seen in ReBound in the last 30 days on 1 line of 1 return (first 5003) and has no mapping row: a return with it stops at mapping',
		);
		expect(ex[1].details).toMatchObject({
			kind: 'disposition',
			count: 1,
			returnCount: 1,
			firstReturnId: '5003',
			days: 30,
		});
	});

	it('skips exception items and unreadable items from ReBound, and says so', async () => {
		const a = await audit({
			returns: [
				{ exception: true, kind: 'invalid_payload' },
				{ returnId: 'x' },
				{},
				ret([{ disposition: 'Grade A', reason: 'Faulty' }]),
			],
		});
		expect(a.counts.returns).toBe(1);
		expect(a.counts.skippedItems).toBe(2);
		expect(renderMappingAuditMarkdown(a)).toContain(
			'2 items from ReBound could not be read as a return',
		);
	});
});

describe('mapping audit report', () => {
	const HOSTILE = '<img src=x onerror=alert(1)> | [click](http://evil.example) `x` & co\nnext';

	it('HTML escapes every code, row text and fix', async () => {
		const a = await audit({
			dispositions: [
				{ disposition: HOSTILE, action: 'restock', siteId: '<b>9</b>', locationId: 'A1' },
			],
			reasons: [{ reason: '"><script>x</script>', reasonId: "'7'" }],
			returns: [ret([{ disposition: '<svg onload=1>', reason: '<i>why</i>' }])],
		});
		const html = renderMappingAuditHtml(a);
		expect(html).not.toMatch(/<(img|script|svg|i|b)[\s>]/);
		expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
		expect(html).toContain('&lt;svg onload=1&gt;');
		expect(html).toContain('&quot;&gt;&lt;script&gt;');
		expect(html).toContain('&#39;7&#39;');
	});

	it('Markdown escapes HTML, pipes, newlines, links and code spans', async () => {
		const a = await audit({
			dispositions: [{ disposition: HOSTILE, action: 'restock', siteId: '9', locationId: 'A1' }],
			returns: [ret([{ disposition: '[x](javascript:alert(1))', reason: 'Faulty' }])],
		});
		const md = renderMappingAuditMarkdown(a);
		expect(md).not.toContain('<img');
		// a link needs an unescaped ]( : every one is escaped
		expect(md).not.toMatch(/[^\\]\]\(/);
		expect(md).toContain('\\[x\\](javascript:alert(1))');
		// the hostile row is still one table row of 4 cells (its pipe and newline escaped)
		const row = md.split('\n').find((l) => l.startsWith('| Disposition table row 1 |')) as string;
		expect(row.split(/(?<!\\)\|/).length).toBe(6);
		expect(escapeAuditMarkdown('a|b\nc <d> `e` [f]')).toBe('a\\|b c &lt;d&gt; \\`e\\` \\[f\\]');
	});

	it('the report names the rows to fix, the codes without a row and those taken by default; subject counts what to fix', async () => {
		const a = await audit({
			dispositions: [
				...GOOD_DISPOSITIONS,
				{ disposition: '*', action: 'quarantine', siteId: '1', locationId: 'A1' },
			],
			returns: [ret([{ disposition: 'Grade Q', reason: 'Bored' }])],
		});
		const r = renderMappingAudit(a);
		expect(r.subject).toBe('Mapping audit: 2 to fix');
		expect(r.summaryLine).toBe(
			'Mapping audit: 1 wrong row, 1 code seen without a row, 1 code taken by the default row (4 disposition rows, 2 reason rows; 1 return of the last 30 days)',
		);
		expect(r.markdown).toContain('## Rows to fix');
		expect(r.markdown).toContain(
			'| Disposition table row 4 | * | Quarantine or write-off into a sellable location',
		);
		expect(r.markdown).toContain('| reason | Bored | 1 | 1 |');
		expect(r.markdown).toContain('### Taken by the default (*) row');
		expect(r.html).toContain('Rows to fix');
	});
});
