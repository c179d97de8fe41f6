import { parseScenario } from '../../../scripts/demo/scenario';
import { buildSummary, renderSummary, type DemoStateInput } from '../../../scripts/demo/summary';

const scenario = parseScenario({
	client: 'Demo',
	returns: [
		{
			returnId: '5001',
			label: 'restock',
			expect: {
				status: 'done',
				stock: [{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'A1', delta: 1 }],
				creditNote: { gross: '24.13', vat: '4.02', net: '20.11' },
			},
		},
		{
			returnId: '5003',
			label: 'unmapped',
			expect: { status: 'exception', exceptions: ['unmapped_disposition'] },
		},
	],
});

function state(over: Partial<DemoStateInput> = {}): DemoStateInput {
	return {
		scenario,
		sent: {
			'5001': { eventId: 'e1', orderReference: 'WEB-1001' },
			'5003': { eventId: 'e3', orderReference: 'WEB-1002' },
		},
		inbox: [
			{ eventId: 'e1', returnId: '5001', status: 'done' },
			{ eventId: 'e3', returnId: '5003', status: 'exception' },
			{ eventId: 'other', returnId: '6000', status: 'done' },
		],
		exceptions: [
			{
				kind: 'unmapped_disposition',
				returnId: '5003',
				sku: 'MUG-WHT',
				owner: 'ops',
				status: 'open',
				message: 'disposition "Mystery Grade" has no row',
			},
			{
				kind: 'order_not_found',
				returnId: '6000',
				sku: '',
				owner: 'finance',
				status: 'open',
				message: 'not ours',
			},
		],
		khaos: {
			adjustments: [
				{
					reference: 'RB-5001-5001:1-move',
					stockCode: 'JEANS-BLU-32',
					siteId: '1',
					locationId: 'A1',
					delta: 1,
					newLevel: 7,
				},
				{
					reference: 'RB-6000-6000:1-move',
					stockCode: 'MUG-WHT',
					siteId: '1',
					locationId: 'A1',
					delta: 1,
					newLevel: 3,
				},
			],
			creditNotes: [
				{
					orderCode: 'SO000105',
					associatedRef: 'RB-5001',
					sourceOrderCode: 'SO000101',
					lines: [
						{
							stockCode: 'JEANS-BLU-32',
							quantity: 1,
							grossPence: 2413,
							taxPence: 402,
							netPence: 2011,
						},
					],
					delivery: null,
					totals: { grossPence: 2413, taxPence: 402, netPence: 2011 },
				},
			],
		},
		...over,
	};
}

describe('demo summary', () => {
	it('judges returns that ended as expected ok, keeps only the scenario returns, before → after from the adjustment', () => {
		const s = buildSummary(state());
		expect(s.ok).toBe(true);
		expect(s.returns.map((r) => [r.returnId, r.status, r.ok, r.problems])).toEqual([
			['5001', 'done', true, []],
			['5003', 'exception', true, []],
		]);
		expect(s.stockMoves).toEqual([
			{
				returnId: '5001',
				reference: 'RB-5001-5001:1-move',
				sku: 'JEANS-BLU-32',
				siteId: '1',
				locationId: 'A1',
				before: 6,
				after: 7,
				delta: 1,
			},
		]);
		expect(s.creditNotes).toEqual([
			expect.objectContaining({
				reference: 'RB-5001',
				sourceOrderCode: 'SO000101',
				gross: '24.13',
				vat: '4.02',
				net: '20.11',
				grossPence: 2413,
				vatPence: 402,
				netPence: 2011,
				lines: [{ sku: 'JEANS-BLU-32', quantity: 1, gross: '24.13', vat: '4.02', net: '20.11' }],
			}),
		]);
		expect(s.exceptions).toEqual([
			{
				kind: 'unmapped_disposition',
				returnId: '5003',
				sku: 'MUG-WHT',
				owner: 'ops',
				status: 'open',
				message: 'disposition "Mystery Grade" has no row',
			},
		]);
	});

	it('names every difference: a penny off, a move too many, a wrong location, a missing exception, a wrong status', () => {
		const base = state();
		const s = buildSummary(
			state({
				inbox: [
					{ eventId: 'e1', returnId: '5001', status: 'done' },
					{ eventId: 'e3', returnId: '5003', status: 'processing' },
				],
				exceptions: [],
				khaos: {
					adjustments: [
						{
							reference: 'RB-5001-5001:1-move',
							stockCode: 'JEANS-BLU-32',
							siteId: '1',
							locationId: 'RET',
							delta: 1,
							newLevel: 1,
						},
						{
							reference: 'RB-5003-5003:1-move',
							stockCode: 'MUG-WHT',
							siteId: '1',
							locationId: 'A1',
							delta: 1,
							newLevel: 5,
						},
					],
					creditNotes: [
						{
							...base.khaos.creditNotes[0],
							totals: { grossPence: 2414, taxPence: 402, netPence: 2012 },
						},
					],
				},
			}),
		);
		expect(s.ok).toBe(false);
		expect(s.returns[0].problems).toEqual([
			'stock JEANS-BLU-32 at site 1 / A1: moved 0, expected +1',
			'stock JEANS-BLU-32 at site 1 / RET: moved +1, expected no move',
			'credit note RB-5001 gross/VAT/net £24.14/£4.02/£20.12, expected £24.13/£4.02/£20.11',
		]);
		expect(s.returns[1].problems).toEqual([
			'inbox status processing, expected exception',
			'stock MUG-WHT at site 1 / A1: moved +1, expected no move',
			'exceptions [], expected [unmapped_disposition]',
		]);
	});

	it('a missing credit note, an unexpected one and no inbox row are problems too', () => {
		const base = state();
		const s = buildSummary(
			state({
				inbox: [],
				khaos: {
					adjustments: base.khaos.adjustments,
					creditNotes: [{ ...base.khaos.creditNotes[0], associatedRef: 'RB-5003' }],
				},
			}),
		);
		expect(s.returns[0].problems).toEqual([
			'inbox status (no row), expected done',
			'no credit note RB-5001, expected £24.13 gross',
		]);
		expect(s.returns[1].problems).toContain('credit note RB-5003 of £24.13 raised, expected none');
	});

	it('renders the text summary with pounds to the penny and the login', () => {
		const s = buildSummary(state());
		s.editor = {
			url: 'http://127.0.0.1:5678/',
			email: 'demo@x.invalid',
			password: 'Pw1-abc',
			workflows: [{ name: 'Processor', url: 'http://127.0.0.1:5678/workflow/1' }],
		};
		const text = renderSummary(s);
		expect(text).toContain('2 returns driven through the intake webhook, 2 ended as expected');
		expect(text).toMatch(/JEANS-BLU-32 +site 1 \/ A1 +6 → 7/);
		expect(text).toMatch(
			/RB-5001 +from SO000101 +gross £24\.13 +VAT £4\.02 +net £20\.11 +JEANS-BLU-32 ×1/,
		);
		expect(text).toMatch(
			/unmapped_disposition +5003 +MUG-WHT +ops +disposition "Mystery Grade" has no row/,
		);
		expect(text).toContain('login:      demo@x.invalid / Pw1-abc');
		const bad = renderSummary(buildSummary(state({ exceptions: [] })));
		expect(bad).toContain('SOME DID NOT');
		expect(bad).toContain('5003: exceptions [], expected [unmapped_disposition]');
	});
});
