import { parseScenario } from '../../../scripts/demo/scenario';
import {
	buildSummary,
	isFinalStatus,
	renderSummary,
	type DemoStateInput,
} from '../../../scripts/demo/summary';

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
				details: {},
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
			'return 5001: stock JEANS-BLU-32 at site 1 / A1: moved 0, expected +1',
			'return 5001: stock JEANS-BLU-32 at site 1 / RET: moved +1, expected no move',
			'return 5001: credit note RB-5001 gross £24.14, expected £24.13',
			'return 5001: credit note RB-5001 net £20.12, expected £20.11',
		]);
		expect(s.returns[1].problems).toEqual([
			'return 5003: inbox status processing, expected exception',
			'return 5003: stock MUG-WHT at site 1 / A1: moved +1, expected no move',
			'return 5003: exceptions [], expected [unmapped_disposition]',
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
			'return 5001: inbox status (no row), expected done',
			'return 5001: no credit note RB-5001, expected £24.13 gross',
		]);
		expect(s.returns[1].problems).toContain(
			'return 5003: credit note RB-5003 of £24.13 gross raised, expected none',
		);
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
		expect(bad).toContain('    return 5003: exceptions [], expected [unmapped_disposition]');
	});
});

// ------------------------------------------------------------------ credit-note lines, differences, notices

/** 5010 of the default scenario: the jeans and the whole-order delivery, refund 27.00 → credit_mismatch −208. */
const MISMATCH_EXPECT = {
	status: 'done',
	stock: [{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'RET', delta: 1 }],
	creditNote: {
		gross: '29.08',
		vat: '4.85',
		net: '24.23',
		lines: [
			{ sku: 'JEANS-BLU-32', quantity: 1, gross: '24.13', vat: '4.02', net: '20.11' },
			{ delivery: true, gross: '4.95', vat: '0.83', net: '4.12' },
		],
	},
	exceptions: [{ kind: 'credit_mismatch', differencePence: -208 }],
};
/** The 5010 scenario, some of its expectations replaced. */
const mismatchScenarioWith = (over: Record<string, unknown> = {}) =>
	parseScenario({
		returns: [
			{ returnId: '5010', label: 'refund differs', expect: { ...MISMATCH_EXPECT, ...over } },
		],
	});
const mismatchScenario = mismatchScenarioWith();

type Note = DemoStateInput['khaos']['creditNotes'][number];
const jeans = {
	stockCode: 'JEANS-BLU-32',
	quantity: 1,
	grossPence: 2413,
	taxPence: 402,
	netPence: 2011,
};
const delivery = { grossPence: 495, taxPence: 83, netPence: 412 };
const mismatchRow = (details: unknown, over: Record<string, unknown> = {}) => ({
	kind: 'credit_mismatch',
	returnId: '5010',
	sku: '',
	owner: 'finance',
	status: 'open',
	message: 'the credit computed from order WEB-1001 is 29.08 GBP but ReBound refunded 27.00',
	details,
	...over,
});

function mismatchState(
	note: Partial<Note> = {},
	exceptions: Array<Record<string, unknown>> = [
		mismatchRow(
			JSON.stringify({
				refundPence: 2700,
				creditPence: 2908,
				differencePence: -208,
				tolerancePence: 1,
			}),
		),
	],
	scenario = mismatchScenario,
): DemoStateInput {
	return {
		scenario,
		sent: { '5010': { eventId: 'e10', orderReference: 'WEB-1001' } },
		inbox: [{ eventId: 'e10', returnId: '5010', status: 'done' }],
		exceptions,
		khaos: {
			adjustments: [
				{
					reference: 'RB-5010-5010:JEANS-BLU-32#1-move',
					stockCode: 'JEANS-BLU-32',
					siteId: '1',
					locationId: 'RET',
					delta: 1,
					newLevel: 3,
				},
			],
			creditNotes: [
				{
					orderCode: 'SO000107',
					associatedRef: 'RB-5010',
					sourceOrderCode: 'SO000101',
					lines: [jeans],
					delivery,
					totals: { grossPence: 2908, taxPence: 485, netPence: 2423 },
					...note,
				},
			],
		},
	};
}

describe('demo summary: credit-note lines, exception differences, notices', () => {
	it('the expected lines, delivery and difference match: ok; details are read from the JSON column', () => {
		const s = buildSummary(mismatchState());
		expect(s.returns[0].problems).toEqual([]);
		expect(s.ok).toBe(true);
		expect(s.returns[0].exceptionKinds).toEqual(['credit_mismatch']);
		expect(s.exceptions[0].details).toEqual({
			refundPence: 2700,
			creditPence: 2908,
			differencePence: -208,
			tolerancePence: 1,
		});
		expect(s.creditNotes[0].delivery).toEqual({ gross: '4.95', vat: '0.83', net: '4.12' });
		// a details object (not JSON text) is read the same; a line SKU in another case is the same SKU
		expect(
			buildSummary(
				mismatchState({ lines: [{ ...jeans, stockCode: 'jeans-blu-32' }] }, [
					mismatchRow({ differencePence: -208 }),
				]),
			).ok,
		).toBe(true);
		expect(renderSummary(s)).toMatch(
			/5010 +WEB-1001 +done, credit £29\.08 \(credit_mismatch\) +ok/,
		);
	});

	it('a wrong line value fails, naming the return, the line, the field and both values', () => {
		// same totals, the pennies on the wrong line
		const s = buildSummary(
			mismatchState({
				lines: [{ ...jeans, grossPence: 2414, netPence: 2012 }],
				delivery: { grossPence: 494, taxPence: 83, netPence: 411 },
			}),
		);
		expect(s.ok).toBe(false);
		expect(s.returns[0].problems).toEqual([
			'return 5010: credit note RB-5010 line JEANS-BLU-32 ×1 gross £24.14, expected £24.13',
			'return 5010: credit note RB-5010 line JEANS-BLU-32 ×1 net £20.12, expected £20.11',
			'return 5010: credit note RB-5010 line delivery gross £4.94, expected £4.95',
			'return 5010: credit note RB-5010 line delivery net £4.11, expected £4.12',
		]);
		expect(
			buildSummary(mismatchState({ lines: [{ ...jeans, quantity: 2 }] })).returns[0].problems,
		).toEqual(['return 5010: credit note RB-5010 line JEANS-BLU-32 ×1 quantity 2, expected 1']);
	});

	it('a missing line fails, and so does a line or delivery the scenario does not expect', () => {
		const noDelivery = buildSummary(
			mismatchState({
				delivery: null,
				totals: { grossPence: 2413, taxPence: 402, netPence: 2011 },
			}),
		);
		expect(noDelivery.returns[0].problems).toEqual([
			'return 5010: credit note RB-5010 gross £24.13, expected £29.08',
			'return 5010: credit note RB-5010 VAT £4.02, expected £4.85',
			'return 5010: credit note RB-5010 net £20.11, expected £24.23',
			'return 5010: credit note RB-5010 has no delivery line, expected £4.95 gross, £0.83 VAT, £4.12 net',
		]);
		// the product line missing, another one in its place (totals kept equal: only the lines can tell)
		const swapped = buildSummary(
			mismatchState({ lines: [{ ...jeans, stockCode: 'TSHIRT-RED-M' }] }),
		);
		expect(swapped.returns[0].problems).toEqual([
			'return 5010: credit note RB-5010 has no line JEANS-BLU-32 ×1, expected £24.13 gross, £4.02 VAT, £20.11 net',
			'return 5010: credit note RB-5010 line TSHIRT-RED-M ×1 (£24.13 gross, £4.02 VAT, £20.11 net) is not expected',
		]);
		// lines expected without a delivery line: a delivery on the note is named
		const withoutDelivery = parseScenario({
			returns: [
				{
					returnId: '5010',
					label: 'x',
					expect: {
						status: 'done',
						stock: [{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'RET', delta: 1 }],
						creditNote: {
							gross: '29.08',
							vat: '4.85',
							net: '24.23',
							lines: [
								{ sku: 'JEANS-BLU-32', quantity: 1, gross: '29.08', vat: '4.85', net: '24.23' },
							],
						},
						exceptions: ['credit_mismatch'],
					},
				},
			],
		});
		expect(buildSummary(mismatchState({}, undefined, withoutDelivery)).returns[0].problems).toEqual(
			[
				'return 5010: credit note RB-5010 line JEANS-BLU-32 ×1 gross £24.13, expected £29.08',
				'return 5010: credit note RB-5010 line JEANS-BLU-32 ×1 VAT £4.02, expected £4.85',
				'return 5010: credit note RB-5010 line JEANS-BLU-32 ×1 net £20.11, expected £24.23',
				'return 5010: credit note RB-5010 delivery line (£4.95 gross, £0.83 VAT, £4.12 net) is not expected',
			],
		);
	});

	it('without expected lines only the totals are checked', () => {
		const totalsOnly = parseScenario({
			returns: [
				{
					returnId: '5010',
					label: 'x',
					expect: {
						status: 'done',
						stock: [{ sku: 'JEANS-BLU-32', siteId: '1', locationId: 'RET', delta: 1 }],
						creditNote: { gross: '29.08', vat: '4.85', net: '24.23' },
						exceptions: ['credit_mismatch'],
					},
				},
			],
		});
		const s = buildSummary(
			mismatchState(
				{ lines: [{ ...jeans, grossPence: 2414, netPence: 2012 }] },
				undefined,
				totalsOnly,
			),
		);
		expect(s.returns[0].problems).toEqual([]);
	});

	it('a wrong differencePence fails, naming the return, the kind, both values and the refund and credit', () => {
		const s = buildSummary(
			mismatchState({}, [
				mismatchRow(
					JSON.stringify({
						refundPence: 2700,
						creditPence: 2907,
						differencePence: -207,
						tolerancePence: 1,
					}),
				),
			]),
		);
		expect(s.ok).toBe(false);
		expect(s.returns[0].problems).toEqual([
			'return 5010: credit_mismatch differencePence -207 (refund £27.00, credit £29.07), expected -208',
		]);
		// no difference recorded at all
		expect(buildSummary(mismatchState({}, [mismatchRow('')])).returns[0].problems).toEqual([
			'return 5010: credit_mismatch differencePence (none in its details), expected -208',
		]);
		// no credit_mismatch row: named once, as a missing kind
		expect(buildSummary(mismatchState({}, [])).returns[0].problems).toEqual([
			'return 5010: exceptions [], expected [credit_mismatch]',
		]);
		// a bare kind does not look at the details
		const bare = mismatchScenarioWith({ exceptions: ['credit_mismatch'] });
		expect(buildSummary(mismatchState({}, [mismatchRow('{}')], bare)).ok).toBe(true);
	});

	it('rows of status notice are not exceptions: compared with expect.notices, [] or absent matches none', () => {
		// any kind: the checker compares the rows of status notice, whatever kind they carry
		const notice = mismatchRow('{}', { kind: 'regraded_after_move', status: 'notice' });
		const withNotice = [mismatchRow(JSON.stringify({ differencePence: -208 })), notice];
		const s = buildSummary(mismatchState({}, withNotice));
		expect(s.returns[0].exceptionKinds).toEqual(['credit_mismatch']);
		expect(s.returns[0].noticeKinds).toEqual(['regraded_after_move']);
		expect(s.returns[0].problems).toEqual([
			'return 5010: notices [regraded_after_move], expected []',
		]);
		const expecting = mismatchScenarioWith({ notices: ['regraded_after_move'] });
		expect(buildSummary(mismatchState({}, withNotice, expecting)).ok).toBe(true);
		expect(buildSummary(mismatchState({}, undefined, expecting)).returns[0].problems).toEqual([
			'return 5010: notices [], expected [regraded_after_move]',
		]);
		// a notice of an expected exception's kind does not stand in for the exception
		expect(
			buildSummary(mismatchState({}, [{ ...withNotice[0], status: 'notice' }], expecting))
				.returns[0].problems,
		).toEqual([
			'return 5010: exceptions [], expected [credit_mismatch]',
			'return 5010: notices [credit_mismatch], expected [regraded_after_move]',
		]);
		expect(renderSummary(buildSummary(mismatchState({}, withNotice, expecting)))).toMatch(
			/regraded_after_move \(notice\) +5010/,
		);
	});
});

// ------------------------------------------------------------------ held credits and finance's decision

/** 5011 of the default scenario: the mug back (discontinued), the hoodie Missing (held), released by finance. */
const heldScenario = (over: Record<string, unknown> = {}, finance: unknown = undefined) =>
	parseScenario({
		returns: [
			{
				returnId: '5011',
				label: 'held, released',
				...(finance === null
					? {}
					: { finance: finance ?? { decision: 'release', decidedBy: 'Fran (finance)' } }),
				expect: {
					status: 'done',
					stock: [{ sku: 'MUG-WHT', siteId: '1', locationId: 'A1', delta: 1 }],
					creditNote: { gross: '63.00', vat: '10.50', net: '52.50' },
					notices: ['credit_held', 'discontinued_sku'],
					review: {
						status: 'released',
						gross: '63.00',
						withoutHeldGross: '8.00',
						decision: 'release',
						creditGross: '63.00',
					},
					...over,
				},
			},
		],
	});

const reviewRow = (over: Record<string, unknown> = {}) => ({
	id: 1,
	returnId: '5011',
	displayId: 'RB5011',
	orderReference: 'WEB-1006',
	currency: 'GBP',
	heldWhy: 'line 5011:HOODIE-GRY-L#1 (HOODIE-GRY-L ×1): grade "Missing" holds the credit',
	heldLines: '1 × HOODIE-GRY-L (Missing, Refund)',
	gross: '63.00',
	grossPence: 6300,
	withoutHeldGross: '8.00',
	withoutHeldGrossPence: 800,
	decision: 'release',
	decidedBy: 'Fran (finance)',
	note: '',
	status: 'released',
	creditNoteRef: 'RB-5011',
	creditGross: '63.00',
	resolvedAt: '2026-11-20T10:01:00.000Z',
	lastError: '',
	...over,
});

const decision = {
	decision: 'release',
	decidedBy: 'Fran (finance)',
	note: '',
	decidedAt: '2026-11-20T10:00:20.000Z',
	held: {
		gross: '63.00',
		withoutHeldGross: '8.00',
		heldLines: '1 × HOODIE-GRY-L (Missing, Refund)',
		heldWhy: 'grade "Missing" holds the credit',
	},
	settledAfterMs: 41_000,
};

function heldState(over: Partial<DemoStateInput> = {}, scenario = heldScenario()): DemoStateInput {
	return {
		scenario,
		sent: { '5011': { eventId: 'e11', orderReference: 'WEB-1006' } },
		inbox: [{ eventId: 'e11', returnId: '5011', status: 'done' }],
		exceptions: [
			{
				kind: 'credit_held',
				returnId: '5011',
				sku: '',
				owner: 'finance',
				status: 'notice',
				message: 'held',
			},
			{
				kind: 'discontinued_sku',
				returnId: '5011',
				sku: 'MUG-WHT',
				owner: 'ops',
				status: 'notice',
				message: 'MUG-WHT is discontinued in Khaos and was let through',
			},
		],
		khaos: {
			adjustments: [
				{
					reference: 'RB-5011-5011:MUG-WHT#1-move',
					stockCode: 'MUG-WHT',
					siteId: '1',
					locationId: 'A1',
					delta: 1,
					newLevel: 13,
				},
			],
			creditNotes: [
				{
					orderCode: 'SO000110',
					associatedRef: 'RB-5011',
					sourceOrderCode: 'SO000106',
					lines: [
						{
							stockCode: 'HOODIE-GRY-L',
							quantity: 1,
							grossPence: 5500,
							taxPence: 917,
							netPence: 4583,
						},
						{ stockCode: 'MUG-WHT', quantity: 1, grossPence: 800, taxPence: 133, netPence: 667 },
					],
					delivery: null,
					totals: { grossPence: 6300, taxPence: 1050, netPence: 5250 },
				},
			],
		},
		reviews: [reviewRow(), { ...reviewRow({ id: 2, returnId: '6000' }) }],
		decisions: { '5011': decision },
		...over,
	};
}

describe('demo summary: held credits, the credit reviews row and the finance step', () => {
	it('released as expected: ok; the review row and the decision are in the return and in reviews[]', () => {
		const s = buildSummary(heldState());
		expect(s.returns[0].problems).toEqual([]);
		expect(s.ok).toBe(true);
		expect(s.returns[0].noticeKinds.sort()).toEqual(['credit_held', 'discontinued_sku']);
		expect(s.returns[0].review).toMatchObject({
			status: 'released',
			gross: '63.00',
			withoutHeldGross: '8.00',
			decision: 'release',
			creditNoteRef: 'RB-5011',
			creditGross: '63.00',
		});
		expect(s.returns[0].finance).toEqual(decision);
		// only the scenario's returns
		expect(s.reviews.map((r) => [r.returnId, r.status, r.gross, r.creditNoteRef])).toEqual([
			['5011', 'released', '63.00', 'RB-5011'],
		]);
		const text = renderSummary(s);
		expect(text).toMatch(
			/5011 +WEB-1006 +done, credit £63\.00, held, released by Fran \(finance\) \(notices: credit_held, discontinued_sku\) +ok/,
		);
		expect(text).toMatch(
			/5011 +WEB-1006 +released +£63\.00 as computed, £8\.00 without the held lines +held: 1 × HOODIE-GRY-L \(Missing, Refund\) +decision release by Fran \(finance\), acted on 41 s later → RB-5011 £63\.00/,
		);
	});

	it('money columns are read from their pence, else their text; a missing decision and an unreleased row are named', () => {
		const textOnly = reviewRow({ grossPence: null, withoutHeldGrossPence: undefined });
		expect(buildSummary(heldState({ reviews: [textOnly] })).ok).toBe(true);
		const s = buildSummary(
			heldState({
				inbox: [{ eventId: 'e11', returnId: '5011', status: 'credit_review' }],
				khaos: { ...heldState().khaos, creditNotes: [] },
				reviews: [
					reviewRow({
						status: 'pending',
						decision: '',
						creditNoteRef: '',
						creditGross: '',
						grossPence: 6299,
						withoutHeldGross: '',
						withoutHeldGrossPence: null,
					}),
				],
				decisions: {},
			}),
		);
		expect(s.returns[0].problems).toEqual([
			'return 5011: inbox status credit_review, expected done',
			'return 5011: no credit note RB-5011, expected £63.00 gross',
			'return 5011: finance could not release it: no pending credit review came (inbox status credit_review)',
			'return 5011: credit review status pending, expected released',
			'return 5011: credit review gross £62.99, expected £63.00',
			'return 5011: credit review withoutHeldGross (empty), expected £8.00',
			'return 5011: credit review creditGross (empty), expected £63.00',
			'return 5011: credit review decision (empty), expected release',
			'return 5011: credit review creditNoteRef (empty), expected RB-5011',
		]);
		expect(renderSummary(s)).toMatch(
			/5011 +WEB-1006 +credit held for finance \(review pending, £62\.99\) \(notices: credit_held, discontinued_sku\) +UNEXPECTED/,
		);
	});

	it('a failed release names its lastError; no review row where one is expected, or one where none is', () => {
		const failed = buildSummary(
			heldState({
				reviews: [reviewRow({ status: 'failed', lastError: 'Khaos refused the return' })],
			}),
		);
		expect(failed.returns[0].problems).toEqual([
			'return 5011: credit review status failed, expected released (lastError: Khaos refused the return)',
		]);
		expect(buildSummary(heldState({ reviews: [] })).returns[0].problems).toEqual([
			'return 5011: no credit review row, expected released at £63.00 gross',
		]);
		// a return the scenario does not expect to be held
		const plain = heldScenario(
			{ review: null, notices: ['discontinued_sku', 'credit_held'] },
			null,
		);
		expect(buildSummary(heldState({ decisions: {} }, plain)).returns[0].problems).toEqual([
			'return 5011: credit review released (£63.00 gross) recorded, expected none',
		]);
		// absent reviews (an older caller): no rows, nothing to name when none is expected
		const old: DemoStateInput = {
			...heldState({}, plain),
			reviews: undefined,
			decisions: undefined,
		};
		expect(buildSummary(old).ok).toBe(true);
		expect(buildSummary(old).reviews).toEqual([]);
	});

	it('the newest review row of a return is judged (a later event opens a new pending row)', () => {
		const s = buildSummary(
			heldState({
				reviews: [reviewRow({ id: 7, status: 'pending', decision: '' }), reviewRow({ id: 3 })],
			}),
		);
		expect(s.returns[0].review?.status).toBe('pending');
		expect(s.reviews.map((r) => r.status)).toEqual(['released', 'pending']);
	});

	it('a rejected credit: the inbox row credit_rejected is final, nothing raised', () => {
		const rejected = heldScenario(
			{
				status: 'credit_rejected',
				creditNote: null,
				review: { status: 'rejected', gross: '63.00', decision: 'reject' },
			},
			{ decision: 'reject', decidedBy: 'Fran (finance)' },
		);
		const s = buildSummary(
			heldState(
				{
					inbox: [{ eventId: 'e11', returnId: '5011', status: 'credit_rejected' }],
					khaos: { ...heldState().khaos, creditNotes: [] },
					reviews: [
						reviewRow({
							status: 'rejected',
							decision: 'reject',
							creditNoteRef: '',
							creditGross: '',
						}),
					],
					decisions: { '5011': { ...decision, decision: 'reject' } },
				},
				rejected,
			),
		);
		expect(s.returns[0].problems).toEqual([]);
		expect(isFinalStatus('credit_rejected')).toBe(true);
		expect(isFinalStatus('credit_review')).toBe(false);
		expect(renderSummary(s)).toMatch(/5011 +WEB-1006 +done, credit rejected by finance/);
	});
});
