import {
	checkCodes,
	compileTables,
	formatTableIssue,
	mapReturn,
	MappedReturnSchema,
	unmappedToExceptions,
	validateMappedReturn,
	type CompiledTables,
	type RawTables,
} from '../../../core/mapping';
import { DEMO_ALIASES, DEMO_DISPOSITIONS, DEMO_REASONS, makeReturn } from './mapping.fixtures';

function compile(raw: RawTables, requireRows = true): CompiledTables {
	const result = compileTables(raw, { requireRows });
	if (!result.ok) throw new Error(result.message);
	return result.tables;
}

const demo = () =>
	compile({ dispositions: DEMO_DISPOSITIONS, reasons: DEMO_REASONS, skuAliases: DEMO_ALIASES });

function issuesOf(raw: RawTables, requireRows = true) {
	const result = compileTables(raw, { requireRows });
	if (result.ok) throw new Error('expected the tables to be rejected');
	return result;
}

describe('compileTables: coercion', () => {
	it('coerces Data Table values: "true"/"-1" sellable, numeric reason ids, empty site/location on no_movement', () => {
		const t = demo();
		expect(t.dispositions.get('like new')).toMatchObject({ sellable: true, row: 2 });
		expect(t.dispositions.get('grade b')).toMatchObject({ sellable: true, locationId: 'RET' });
		expect(t.dispositions.get('dirty')).toMatchObject({ sellable: false, action: 'quarantine' });
		expect(t.dispositions.get('missing')).toMatchObject({
			action: 'no_movement',
			siteId: null,
			locationId: null,
		});
		expect(t.reasons.reason.get('too big')).toMatchObject({ reasonId: '2', matchOn: 'reason' });
		expect(t.counts).toEqual({ dispositions: 7, reasons: 5, skuAliases: 1 });
	});

	it('accepts action spellings ("Write Off", "no movement") and numeric site ids', () => {
		const t = compile({
			dispositions: [
				{ disposition: 'Scrap', action: 'Write Off', siteId: 1, locationId: 'WOFF', sellable: 0 },
				{ disposition: 'Lost', action: 'no movement' },
				{ disposition: 'Binned', action: 'write-off' },
			],
			reasons: [{ reason: '*', reasonId: '3' }],
		});
		expect(t.dispositions.get('scrap')).toMatchObject({
			action: 'write_off',
			siteId: '1',
			locationId: 'WOFF',
			sellable: false,
		});
		expect(t.dispositions.get('lost')).toMatchObject({ action: 'no_movement', sellable: false });
		expect(t.dispositions.get('binned')).toMatchObject({
			action: 'write_off',
			siteId: null,
			locationId: null,
		});
	});

	it('accepts a JSON string and n8n items ({ json: row })', () => {
		const t = compile({
			dispositions: JSON.stringify([
				{
					disposition: 'Grade A',
					action: 'restock',
					siteId: '1',
					locationId: 'A1',
					sellable: true,
				},
			]),
			reasons: [{ json: { reason: 'Faulty', reasonId: '1', id: 7, createdAt: '2026-01-01' } }],
		});
		expect(t.dispositions.get('grade a')?.locationId).toBe('A1');
		expect(t.reasons.reason.get('faulty')?.reasonId).toBe('1');
	});
});

describe('compileTables: errors name the table, the row and the field', () => {
	it('restock and quarantine need a site and a location', () => {
		const r = issuesOf({
			dispositions: [
				{
					disposition: 'Grade A',
					action: 'restock',
					siteId: '1',
					locationId: 'A1',
					sellable: true,
				},
				{ disposition: 'Grade B', action: 'restock', siteId: '1', locationId: '' },
				{ disposition: 'Damaged', action: 'quarantine', locationId: 'QUAR' },
			],
			reasons: DEMO_REASONS,
		});
		expect(r.issues).toEqual([
			{
				table: 'dispositions',
				row: 2,
				field: 'locationId',
				message: 'restock needs a location (locationId)',
			},
			{
				table: 'dispositions',
				row: 3,
				field: 'siteId',
				message: 'quarantine needs a site (siteId)',
			},
		]);
		expect(r.message).toContain(
			'Disposition table row 2, field "locationId": restock needs a location',
		);
	});

	it('quarantine, write_off and no_movement are never sellable', () => {
		const r = issuesOf({
			dispositions: [
				{
					disposition: 'Damaged',
					action: 'quarantine',
					siteId: '1',
					locationId: 'QUAR',
					sellable: 'true',
				},
				{ disposition: 'Scrap', action: 'write_off', sellable: true },
				{ disposition: 'Missing', action: 'no_movement', sellable: '-1' },
			],
			reasons: DEMO_REASONS,
		});
		expect(r.issues.map((i) => [i.row, i.field])).toEqual([
			[1, 'sellable'],
			[2, 'sellable'],
			[3, 'sellable'],
		]);
		expect(r.issues[1].message).toBe('write_off is never sellable: set sellable to false');
	});

	it('rejects a sellable default (*) row', () => {
		const r = issuesOf({
			dispositions: [
				...DEMO_DISPOSITIONS,
				{ disposition: ' * ', action: 'restock', siteId: '1', locationId: 'A1', sellable: 'yes' },
			],
			reasons: DEMO_REASONS,
		});
		expect(r.issues).toHaveLength(1);
		expect(r.issues[0]).toMatchObject({ table: 'dispositions', row: 8, field: 'sellable' });
		expect(r.issues[0].message).toMatch(/default row \(\*\) must never be sellable/);
	});

	it('write_off takes both site and location or neither', () => {
		const r = issuesOf({
			dispositions: [{ disposition: 'Scrap', action: 'write_off', siteId: '1' }],
			reasons: DEMO_REASONS,
		});
		expect(r.issues).toEqual([
			{
				table: 'dispositions',
				row: 1,
				field: 'locationId',
				message: 'write_off takes both a site and a location (a write-off location) or neither',
			},
		]);
	});

	it('rejects unknown actions, bad booleans and empty codes', () => {
		const r = issuesOf({
			dispositions: [
				{ disposition: 'Grade C', action: 'resell', siteId: '1', locationId: 'A1' },
				{
					disposition: 'Grade D',
					action: 'restock',
					siteId: '1',
					locationId: 'A1',
					sellable: 'maybe',
				},
				{ disposition: '  ', action: 'no_movement' },
			],
			reasons: [
				{ reason: 'Faulty', reasonId: '' },
				{ reason: 'Too big', reasonId: '2', matchOn: 'colour' },
			],
		});
		expect(r.issues.map((i) => `${i.table}#${i.row}.${i.field}`)).toEqual([
			'dispositions#1.action',
			'dispositions#2.sellable',
			'dispositions#3.disposition',
			'reasons#1.reasonId',
			'reasons#2.matchOn',
		]);
		expect(formatTableIssue(r.issues[3])).toBe(
			'Reason table row 1, field "reasonId": reasonId is empty',
		);
	});

	it('reports duplicate codes after normalisation naming both rows', () => {
		const r = issuesOf({
			dispositions: [
				...DEMO_DISPOSITIONS,
				{ disposition: '  grade   a ', action: 'quarantine', siteId: '1', locationId: 'QUAR' },
			],
			reasons: [
				...DEMO_REASONS,
				{ reason: 'FAULTY', reasonId: '4' },
				{ reason: 'Faulty', reasonId: '1', matchOn: 'action' },
			],
		});
		expect(r.issues).toHaveLength(2);
		expect(r.issues[0]).toMatchObject({
			table: 'dispositions',
			row: 8,
			otherRow: 1,
			field: 'disposition',
		});
		expect(r.issues[0].message).toContain('duplicates row 1');
		// same text matched on a different field is not a duplicate
		expect(r.issues[1]).toMatchObject({ table: 'reasons', row: 6, otherRow: 3 });
	});

	it('reports alias cycles, self-aliases, chains and duplicate sources', () => {
		const r = issuesOf({
			dispositions: DEMO_DISPOSITIONS,
			reasons: DEMO_REASONS,
			skuAliases: [
				{ from: 'A', to: 'B' },
				{ from: 'b', to: 'a' },
				{ from: 'SELF', to: ' self ' },
				{ from: 'OLD1', to: 'OLD2' },
				{ from: 'OLD2', to: 'NEW' },
				{ from: 'old1', to: 'X' },
			],
		});
		const byRow = Object.fromEntries(r.issues.map((i) => [i.row, i.message]));
		expect(byRow[1]).toMatch(/alias cycle "A" → "b" → "A"/);
		expect(byRow[2]).toBeUndefined(); // the cycle is reported once
		expect(byRow[3]).toBe('aliases "SELF" to itself');
		expect(byRow[4]).toMatch(/single-hop, point this row straight at "NEW"/);
		expect(byRow[6]).toContain('duplicates row 4');
		expect(r.issues).toHaveLength(4);
	});

	it('rejects empty tables when rows are required, and non-array input', () => {
		const empty = issuesOf({ dispositions: [], reasons: undefined });
		expect(empty.issues.map((i) => `${i.table}.${i.field}`)).toEqual([
			'dispositions.(table)',
			'reasons.(table)',
		]);
		expect(empty.message).toContain('Disposition table: has no rows');
		expect(compileTables({}, { requireRows: false }).ok).toBe(true);
		const bad = issuesOf({ dispositions: '{not json', reasons: { a: 1 } });
		expect(bad.issues.map((i) => i.message)).toEqual([
			'is not valid JSON (expected an array of rows)',
			'must be an array of rows',
		]);
	});
});

describe('mapReturn', () => {
	it('maps exactly, ignoring case and whitespace, and resolves SKU aliases', () => {
		const ret = makeReturn('R1', [
			{ sku: 'tshirt-red-med', disposition: '  grade   A ', reasons: ['TOO SMALL'] },
			{ sku: 'JEANS-BLU-32', disposition: 'Damaged', reasons: ['Arrived damaged'], quantity: 2 },
			{ sku: 'MUG-WHT', disposition: 'Missing', reasons: ['Changed my mind'] },
		]);
		const r = mapReturn(ret, demo());
		if (!r.ok) throw new Error(JSON.stringify(r.unmapped));
		expect(r.mapped.lines.map((l) => l.mapping)).toEqual([
			{
				action: 'restock',
				siteId: '1',
				locationId: 'A1',
				sellable: true,
				reasonId: '2',
				khaosSku: 'TSHIRT-RED-M',
				matchedDisposition: 'Grade A',
				matchedBy: 'exact',
				reasonMatchedBy: 'exact',
				credit: 'credit',
				creditBy: 'disposition',
				lineAction: null,
			},
			{
				action: 'quarantine',
				siteId: '1',
				locationId: 'QUAR',
				sellable: false,
				reasonId: '4',
				khaosSku: 'JEANS-BLU-32',
				matchedDisposition: 'Damaged',
				matchedBy: 'exact',
				reasonMatchedBy: 'exact',
				credit: 'credit',
				creditBy: 'disposition',
				lineAction: null,
			},
			{
				action: 'no_movement',
				siteId: null,
				locationId: null,
				sellable: false,
				reasonId: '3',
				khaosSku: 'MUG-WHT',
				matchedDisposition: 'Missing',
				matchedBy: 'exact',
				reasonMatchedBy: 'exact',
				// a table without the credit column (from before the policy) keeps crediting
				credit: 'credit',
				creditBy: 'disposition',
				lineAction: null,
			},
		]);
		// the rest of the return is untouched
		expect(r.mapped.returnId).toBe('R1');
		expect(r.mapped.lines[1].quantity).toBe(2);
		expect(r.mapped.lines[0].sku).toBe('tshirt-red-med');
		expect(MappedReturnSchema.safeParse(r.mapped).success).toBe(true);
	});

	it('routes an unknown disposition to the default row, never sellable', () => {
		const tables = compile({
			dispositions: [
				...DEMO_DISPOSITIONS,
				{
					disposition: '*',
					action: 'quarantine',
					siteId: '1',
					locationId: 'QUAR',
					sellable: false,
				},
			],
			reasons: DEMO_REASONS,
		});
		const r = mapReturn(
			makeReturn('R2', [{ sku: 'HOODIE-GRY-L', disposition: 'Mystery Grade' }]),
			tables,
		);
		if (!r.ok) throw new Error('expected mapped');
		expect(r.mapped.lines[0].mapping).toMatchObject({
			action: 'quarantine',
			locationId: 'QUAR',
			sellable: false,
			matchedDisposition: '*',
			matchedBy: 'default',
		});
	});

	it('reports unmapped disposition and reason codes with line and SKU when there is no default', () => {
		const ret = makeReturn('R3', [
			{ sku: 'HOODIE-GRY-L', disposition: 'Mystery Grade', reasons: ['Too big'] },
			{ sku: 'MUG-WHT', disposition: 'Grade B', reasons: ['Not as described'] },
			{ sku: 'TSHIRT-RED-M', disposition: 'Grade A', reasons: ['Faulty'] },
		]);
		const r = mapReturn(ret, demo());
		if (r.ok) throw new Error('expected unmapped');
		expect(r.unmapped).toEqual([
			expect.objectContaining({
				kind: 'disposition',
				code: 'Mystery Grade',
				lineId: 'R3:1',
				sku: 'HOODIE-GRY-L',
				problem: 'no_mapping',
			}),
			expect.objectContaining({
				kind: 'reason',
				code: 'Not as described',
				lineId: 'R3:2',
				sku: 'MUG-WHT',
				problem: 'no_mapping',
			}),
		]);
		expect(r.unmapped[0].message).toContain('disposition "Mystery Grade" has no row');
	});

	it('never maps an ungraded line, even with a default row', () => {
		const tables = compile({
			dispositions: [
				...DEMO_DISPOSITIONS,
				{ disposition: '*', action: 'quarantine', siteId: '1', locationId: 'QUAR' },
			],
			reasons: DEMO_REASONS,
		});
		const r = mapReturn(
			makeReturn('R4', [{ sku: 'TSHIRT-RED-M' }, { sku: 'MUG-WHT', disposition: null }]),
			tables,
		);
		if (r.ok) throw new Error('expected unmapped');
		expect(r.unmapped).toEqual([
			expect.objectContaining({
				kind: 'disposition',
				code: null,
				lineId: 'R4:2',
				problem: 'not_graded',
			}),
		]);
		expect(r.unmapped[0].message).toMatch(/not graded yet/);
	});

	it('a line with no reasons uses the reason default row, else is unmapped', () => {
		const ret = makeReturn('R5', [{ sku: 'MUG-WHT', disposition: 'Grade A', reasons: [] }]);
		const without = mapReturn(ret, demo());
		expect(without.ok).toBe(false);
		if (!without.ok)
			expect(without.unmapped).toEqual([
				expect.objectContaining({ kind: 'reason', code: null, problem: 'no_reason' }),
			]);

		const withDefault = compile({
			dispositions: DEMO_DISPOSITIONS,
			reasons: [...DEMO_REASONS, { reason: '*', reasonId: '3' }],
		});
		const r = mapReturn(ret, withDefault);
		if (!r.ok) throw new Error('expected mapped');
		expect(r.mapped.lines[0].mapping).toMatchObject({
			reasonId: '3',
			reasonMatchedBy: 'default',
			matchedBy: 'exact',
		});
	});

	it('matches reasons on action or wish when the table says so, and uses the first reason entry', () => {
		const tables = compile({
			dispositions: DEMO_DISPOSITIONS,
			reasons: [
				{ reason: 'Exchange', reasonId: '2', matchOn: 'action' },
				{ reason: 'Faulty', reasonId: '1' },
			],
		});
		const ret = makeReturn('R6', [
			{ sku: 'JEANS-BLU-32', reasons: [{ reason: 'Wrong size', action: ' exchange ' }] },
			{
				sku: 'MUG-WHT',
				reasons: [{ reason: 'Faulty', action: 'Exchange' }, { reason: 'Too big' }],
			},
		]);
		const r = mapReturn(ret, tables);
		if (!r.ok) throw new Error(JSON.stringify(r.unmapped));
		expect(r.mapped.lines.map((l) => l.mapping.reasonId)).toEqual(['2', '1']);
	});
});

describe('unmappedToExceptions', () => {
	it('makes one exception per (line, code) with the return as payload', () => {
		const ret = makeReturn('R7', [
			{ sku: 'HOODIE-GRY-L', disposition: 'Mystery Grade', reasons: ['Not as described'] },
			{ sku: 'MUG-WHT', disposition: null },
		]);
		const r = mapReturn(ret, demo());
		if (r.ok) throw new Error('expected unmapped');
		const ex = unmappedToExceptions(ret, r.unmapped, '2026-11-28T00:00:00.000Z');
		expect(ex.map((e) => [e.kind, e.lineId, e.code, e.sku])).toEqual([
			['unmapped_disposition', 'R7:1', 'Mystery Grade', 'HOODIE-GRY-L'],
			['unmapped_reason', 'R7:1', 'Not as described', 'HOODIE-GRY-L'],
			['unmapped_disposition', 'R7:2', null, 'MUG-WHT'],
		]);
		expect(ex[0]).toMatchObject({
			stage: 'mapping',
			owner: 'ops',
			returnId: 'R7',
			orderReference: 'WEB-1001',
			key: 'unmapped_disposition|R7|R7:1|Mystery Grade',
		});
		expect(JSON.parse(ex[0].payload as string)).toEqual(ret);
		expect(ex[2].action).toMatch(/not been graded yet/);
		expect(ex[2].details).toEqual({ problem: 'not_graded', quantity: 1 });
	});
});

describe('checkCodes', () => {
	it('lists every code without an exact mapping with counts, first return and default fallback, most frequent first', () => {
		const tables = compile({
			dispositions: [
				...DEMO_DISPOSITIONS,
				{ disposition: '*', action: 'quarantine', siteId: '1', locationId: 'QUAR' },
			],
			reasons: DEMO_REASONS,
		});
		const returns = [
			makeReturn('R10', [{ sku: 'A', disposition: 'Grade A', reasons: ['Not as described'] }]),
			makeReturn('R11', [
				{ sku: 'B', disposition: 'Mystery Grade', reasons: ['not  as described'] },
				{ sku: 'C', disposition: 'mystery grade', reasons: ['Too small'] },
				{ sku: 'D', disposition: null, reasons: ['Not as described'] },
			]),
			makeReturn('R12', [{ sku: 'E', disposition: 'Grade Z', reasons: ['Too big'] }]),
		];
		const report = checkCodes(returns, tables);
		expect(
			report.map((c) => [
				c.kind,
				c.code,
				c.count,
				c.returnCount,
				c.firstReturnId,
				c.fallsToDefault,
			]),
		).toEqual([
			['reason', 'Not as described', 3, 2, 'R10', false],
			['disposition', 'Mystery Grade', 2, 1, 'R11', true],
			['disposition', 'Grade Z', 1, 1, 'R12', true],
		]);
		expect(report[1].defaultMapping).toBe('quarantine into site 1, location QUAR (not sellable)');
		expect(report[1].message).toContain('default (*) row would take it');
		expect(report[0].inputIndexes).toEqual([0, 1]);
	});

	it('checks plain code items and reports lines with no reason only when no default exists', () => {
		const tables = demo();
		const report = checkCodes(
			[
				{ code: 'Grade A' },
				{ codes: ['Grade C', 'grade c', 'Damaged'], returnId: 99 },
				{ kind: 'reason', code: 'Faulty' },
				{ kind: 'reason', codes: ['Wrong colour'] },
				makeReturn('R13', [{ sku: 'A', reasons: [] }]),
			],
			tables,
		);
		expect(report.map((c) => [c.kind, c.code, c.count, c.firstReturnId])).toEqual([
			['disposition', 'Grade C', 2, '99'],
			['reason', '', 1, 'R13'],
			['reason', 'Wrong colour', 1, null],
		]);
		expect(report[1].message).toContain('Lines with no reason');
	});

	it('returns nothing when every code maps exactly', () => {
		expect(
			checkCodes(
				[makeReturn('R14', [{ sku: 'A', disposition: 'Grade B', reasons: ['Faulty'] }])],
				demo(),
			),
		).toEqual([]);
	});
});

describe('MappedReturnSchema', () => {
	it('rejects a mapped item that claims a sellable quarantine or a missing location', () => {
		const r = mapReturn(makeReturn('R15', [{ sku: 'A', disposition: 'Grade A' }]), demo());
		if (!r.ok) throw new Error('expected mapped');
		const tampered = JSON.parse(JSON.stringify(r.mapped));
		tampered.lines[0].mapping.action = 'quarantine';
		tampered.lines[0].mapping.locationId = null;
		const v = validateMappedReturn(tampered);
		expect(v.ok).toBe(false);
		if (!v.ok) {
			expect(v.issues.map((i) => i.field).sort()).toEqual([
				'lines[0].mapping.locationId',
				'lines[0].mapping.sellable',
			]);
			expect(v.message).toMatch(/^Return R15 is invalid/);
		}
		expect(validateMappedReturn(makeReturn('R16', [{ sku: 'A' }])).ok).toBe(false);
	});
});
