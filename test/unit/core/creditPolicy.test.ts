/**
 * Finance's credit policy: the disposition table's credit column, the per-action rule, held credits
 * (released with or without the held lines, or rejected), exchanges and zero-value credits — in
 * core/mappingTables.ts, core/mapping.ts and core/usecases/postCreditNotes.ts, against the Khaos fake.
 */
import {
	compileActionPolicy,
	compileTables,
	lineCredit,
	mapReturn,
	validateMappedReturn,
	type CompiledTables,
} from '../../../core/mapping';
import type { DescribeFailure } from '../../../core/ports';
import { applyReturnStock, heldFromRecords } from '../../../core/usecases/applyReturnStock';
import {
	postCreditNotes,
	uncreditedMoves,
	type CreditInput,
	type CreditPolicy,
	type HeldCredit,
	type NotCredited,
	type PostedCredit,
} from '../../../core/usecases/postCreditNotes';
import {
	FakeKhaosApi,
	TEST_CREDIT_POLICY,
	mappedReturn,
	type LineSpec,
} from '../../helpers/khaosFakes';
import { makeReturn } from './mapping.fixtures';

const POLICY: CreditPolicy = TEST_CREDIT_POLICY;
const describe_: DescribeFailure = (error) => ({
	category: 'fatal',
	message: String(error),
	code: null,
	status: null,
	attempts: null,
});

function input(
	returnId: string,
	order: string,
	lines: LineSpec[],
	extra: Partial<CreditInput> = {},
): CreditInput {
	const json = mappedReturn(returnId, order, lines);
	const parsed = validateMappedReturn(json);
	if (!parsed.ok) throw new Error(parsed.message);
	return { ret: parsed.value, payload: json, ...extra };
}

function tables(rows: unknown[]): CompiledTables {
	const r = compileTables({ dispositions: rows, reasons: [{ reason: '*', reasonId: '2' }] });
	if (!r.ok) throw new Error(r.message);
	return r.tables;
}

describe('the disposition table’s credit column', () => {
	it('an empty cell (a new row) is hold for no_movement and credit otherwise; a table without the column keeps crediting', () => {
		const t = tables([
			{ disposition: 'Grade A', action: 'restock', siteId: '1', locationId: 'A1', credit: null },
			{ disposition: 'Missing Item', action: 'no_movement', credit: null },
			{ disposition: 'Wrong item returned', action: 'no_movement', credit: '' },
			{ disposition: 'Old Missing', action: 'no_movement' },
		]);
		expect(t.dispositions.get('grade a')?.credit).toBe('credit');
		expect(t.dispositions.get('missing item')?.credit).toBe('hold');
		expect(t.dispositions.get('wrong item returned')?.credit).toBe('hold');
		expect(t.dispositions.get('old missing')?.credit).toBe('credit');
	});

	it('takes credit, no_credit or hold as finance writes them, and names the row and field of anything else', () => {
		const t = tables([
			{ disposition: 'A', action: 'restock', siteId: '1', locationId: 'A1', credit: 'No Credit' },
			{ disposition: 'B', action: 'no_movement', credit: 'credit' },
			{ disposition: 'C', action: 'quarantine', siteId: '1', locationId: 'Q', credit: 'Review' },
		]);
		expect(t.dispositions.get('a')?.credit).toBe('no_credit');
		expect(t.dispositions.get('b')?.credit).toBe('credit');
		expect(t.dispositions.get('c')?.credit).toBe('hold');
		const bad = compileTables({
			dispositions: [{ disposition: 'X', action: 'no_movement', credit: 'maybe' }],
			reasons: [{ reason: '*', reasonId: '2' }],
		});
		expect(bad.ok).toBe(false);
		if (!bad.ok)
			expect(bad.message).toBe(
				'Mapping tables are invalid: Disposition table row 1, field "credit": credit must be one of credit, no_credit, hold',
			);
	});
});

describe('the line action rule', () => {
	it('Refund follows the disposition, Exchange is an exchange, other actions are held, no action follows', () => {
		expect(lineCredit('credit', 'Refund')).toEqual({ credit: 'credit', creditBy: 'disposition' });
		expect(lineCredit('credit', ' exchange ')).toEqual({ credit: 'exchange', creditBy: 'action' });
		expect(lineCredit('credit', 'Store credit')).toEqual({ credit: 'hold', creditBy: 'action' });
		expect(lineCredit('credit', null)).toEqual({ credit: 'credit', creditBy: 'disposition' });
		// a stricter disposition is never undone by the action
		expect(lineCredit('hold', 'Refund')).toEqual({ credit: 'hold', creditBy: 'disposition' });
		// an exchange asked for an item that did not come back waits for finance; never-credited stays so
		expect(lineCredit('hold', 'Exchange')).toEqual({ credit: 'hold', creditBy: 'disposition' });
		expect(lineCredit('no_credit', 'Exchange')).toEqual({
			credit: 'no_credit',
			creditBy: 'disposition',
		});
		expect(lineCredit('no_credit', 'Store credit')).toEqual({
			credit: 'no_credit',
			creditBy: 'disposition',
		});
	});

	it('is configurable, and a bad rule names itself', () => {
		const p = compileActionPolicy({
			rules: [{ action: 'Store Credit', rule: 'credit' }],
			other: 'no_credit',
		});
		if (!p.ok) throw new Error(p.message);
		expect(lineCredit('credit', 'store credit', p.policy).credit).toBe('credit');
		expect(lineCredit('credit', 'Repair', p.policy).credit).toBe('no_credit');
		expect(lineCredit('credit', 'Exchange', p.policy).credit).toBe('exchange');
		const bad = compileActionPolicy({ rules: [{ action: 'Repair', rule: 'sometimes' }] });
		expect(bad).toEqual({
			ok: false,
			message:
				'Line action rule 1 ("Repair"): the rule must be one of follow, no_credit, hold, exchange',
		});
	});

	it('is applied by mapReturn on each line’s first action', () => {
		const t = tables([
			{ disposition: 'Grade A', action: 'restock', siteId: '1', locationId: 'A1' },
			{ disposition: 'Missing Item', action: 'no_movement', credit: '' },
		]);
		const ret = makeReturn('R1', [
			{ sku: 'A', disposition: 'Grade A', reasons: ['Too small'] },
			{ sku: 'B', disposition: 'Missing Item', reasons: ['Too small'] },
		]);
		ret.lines[0].reasons = [{ reason: 'Too small', action: 'Exchange', wish: '', additional: [] }];
		const r = mapReturn(ret, t);
		if (!r.ok) throw new Error('unmapped');
		expect(r.mapped.lines.map((l) => [l.mapping.credit, l.mapping.lineAction])).toEqual([
			['exchange', 'Exchange'],
			['hold', null],
		]);
	});
});

describe('credit notes under the policy', () => {
	// WEB-1002: HOODIE-GRY-L £55.00 ×1, MUG-WHT £8.00 ×2, no promotion
	it('holds a return with a held line: nothing imported, both values computed, a credit_held notice', async () => {
		const fake = new FakeKhaosApi();
		const posting = await postCreditNotes(
			fake,
			[
				input('R1', 'WEB-1002', [
					{ sku: 'HOODIE-GRY-L' },
					{ sku: 'MUG-WHT', action: 'no_movement', credit: 'hold' },
				]),
			],
			POLICY,
			describe_,
		);
		expect(fake.calls.importReturns ?? 0).toBe(0);
		const held = posting.created[0].credit as HeldCredit;
		expect(held.creditStatus).toBe('held');
		expect(held.totals.grossPence).toBe(6300);
		expect(held.withoutHeld?.grossPence).toBe(5500);
		expect(held.heldLines.map((l) => l.sku)).toEqual(['MUG-WHT']);
		expect(posting.exceptions.map((e) => [e.exception.kind, e.exception.notice])).toEqual([
			['credit_held', true],
		]);
		expect(posting.exceptions[0].exception.owner).toBe('finance');
	});

	it('releases as computed, with or without the held lines', async () => {
		const all = new FakeKhaosApi();
		const lines: LineSpec[] = [
			{ sku: 'HOODIE-GRY-L' },
			{ sku: 'MUG-WHT', action: 'no_movement', credit: 'hold' },
		];
		const released = await postCreditNotes(
			all,
			[input('R1', 'WEB-1002', lines, { release: 'release', reviewedGrossPence: 6300 })],
			POLICY,
			describe_,
		);
		const posted = released.created[0].credit as PostedCredit;
		expect(posted.creditStatus).toBe('posted');
		expect(posted.totals.grossPence).toBe(6300);
		expect(posted.lines.map((l) => [l.sku, l.quantity, l.grossPence])).toEqual([
			['HOODIE-GRY-L', 1, 5500],
			['MUG-WHT', 1, 800],
		]);
		expect(released.exceptions).toEqual([]);

		const some = new FakeKhaosApi();
		const without = await postCreditNotes(
			some,
			[
				input('R1', 'WEB-1002', lines, {
					release: 'release_without_held',
					reviewedGrossPence: 5500,
				}),
			],
			POLICY,
			describe_,
		);
		const part = without.created[0].credit as PostedCredit;
		expect(part.lines.map((l) => [l.sku, l.grossPence])).toEqual([['HOODIE-GRY-L', 5500]]);
		expect(without.exceptions).toEqual([]);
	});

	it('a release whose value moved since the review gets a review_value_changed notice naming both', async () => {
		const fake = new FakeKhaosApi();
		const released = await postCreditNotes(
			fake,
			[
				input('R1', 'WEB-1002', [{ sku: 'MUG-WHT', action: 'no_movement', credit: 'hold' }], {
					release: 'release',
					reviewedGrossPence: 799,
				}),
			],
			POLICY,
			describe_,
		);
		expect((released.created[0].credit as PostedCredit).totals.grossPence).toBe(800);
		const notice = released.exceptions[0].exception;
		expect([notice.kind, notice.notice, notice.details]).toEqual([
			'review_value_changed',
			true,
			{ reviewedGrossPence: 799, creditGrossPence: 800 },
		]);
	});

	it('credits no exchange line and records each; an exchange-only return gets no credit note', async () => {
		const fake = new FakeKhaosApi();
		const posting = await postCreditNotes(
			fake,
			[
				input('R1', 'WEB-1002', [
					{ sku: 'HOODIE-GRY-L' },
					{ sku: 'MUG-WHT', credit: 'exchange', lineAction: 'Exchange' },
				]),
				input('R2', 'WEB-1001', [
					{ sku: 'TSHIRT-RED-M', credit: 'exchange', lineAction: 'Exchange' },
				]),
			],
			POLICY,
			describe_,
		);
		const [first, second] = posting.created.map((c) => c.credit);
		expect((first as PostedCredit).lines.map((l) => l.sku)).toEqual(['HOODIE-GRY-L']);
		expect((first as PostedCredit).totals.grossPence).toBe(5500);
		expect((second as NotCredited).creditStatus).toBe('not_credited');
		expect((second as NotCredited).why).toBe('no_credited_lines');
		expect(fake.calls.importReturns).toBe(1);
		expect(posting.exceptions.map((e) => [e.index, e.exception.kind, e.exception.sku])).toEqual([
			[0, 'exchange_recorded', 'MUG-WHT'],
			[1, 'exchange_recorded', 'TSHIRT-RED-M'],
		]);
		expect(posting.exceptions.every((e) => e.exception.notice)).toBe(true);
	});

	it('records the exchange again when the credit note already exists (a run cut after Khaos took the note, before its notices were written)', async () => {
		const fake = new FakeKhaosApi();
		const ret = () =>
			input('R1', 'WEB-1002', [
				{ sku: 'HOODIE-GRY-L' },
				{ sku: 'MUG-WHT', credit: 'exchange', lineAction: 'Exchange' },
			]);
		const first = await postCreditNotes(fake, [ret()], POLICY, describe_);
		const again = await postCreditNotes(fake, [ret()], POLICY, describe_);
		expect(again.created.map((c) => c.credit.creditStatus)).toEqual(['duplicate']);
		expect(fake.calls.importReturns).toBe(1);
		const noticeOf = (p: typeof first) =>
			p.exceptions.map((e) => [e.index, e.exception.kind, e.exception.sku, e.exception.key]);
		expect(noticeOf(first)).toEqual([[0, 'exchange_recorded', 'MUG-WHT', expect.any(String)]]);
		// the same notice (same key: the exceptions table keeps one row), nothing else
		expect(noticeOf(again)).toEqual(noticeOf(first));
	});

	it('a no_credit line is left out without a notice', async () => {
		const fake = new FakeKhaosApi();
		const posting = await postCreditNotes(
			fake,
			[input('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }, { sku: 'MUG-WHT', credit: 'no_credit' }])],
			POLICY,
			describe_,
		);
		expect((posting.created[0].credit as PostedCredit).totals.grossPence).toBe(5500);
		expect(posting.exceptions).toEqual([]);
	});

	describe('a credit of zero value (a promotion larger than the goods)', () => {
		function zeroOrderFake() {
			const fake = new FakeKhaosApi();
			const order = fake.orders.find((o) => o.associatedRef === 'WEB-1002');
			if (!order) throw new Error('no WEB-1002');
			order.orderDiscountPence = 5500 + 1600;
			return fake;
		}
		it('is skipped with a zero_value_credit notice by default', async () => {
			const fake = zeroOrderFake();
			const posting = await postCreditNotes(
				fake,
				[input('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }])],
				POLICY,
				describe_,
			);
			expect((posting.created[0].credit as NotCredited).why).toBe('zero_value');
			expect(fake.calls.importReturns ?? 0).toBe(0);
			expect(posting.exceptions.map((e) => [e.exception.kind, e.exception.notice])).toEqual([
				['zero_value_credit', true],
			]);
		});
		it('is raised when finance says raise, and held when it says hold', async () => {
			const raise = zeroOrderFake();
			const raised = await postCreditNotes(
				raise,
				[input('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }])],
				{ ...POLICY, zeroValue: 'raise' },
				describe_,
			);
			expect((raised.created[0].credit as PostedCredit).totals.grossPence).toBe(0);
			expect(raise.calls.importReturns).toBe(1);
			const hold = zeroOrderFake();
			const held = await postCreditNotes(
				hold,
				[input('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }])],
				{ ...POLICY, zeroValue: 'hold' },
				describe_,
			);
			expect((held.created[0].credit as HeldCredit).creditStatus).toBe('held');
			expect(held.exceptions.map((e) => e.exception.kind)).toEqual(['credit_held']);
		});
	});
});

describe('units moved but never credited keep counting against the order', () => {
	it('an exchange line that moved is handed on as held units; a later return of the same unit is refused', async () => {
		const fake = new FakeKhaosApi();
		// WEB-1001 sold one T-shirt; it comes back as an exchange (restocked, no credit)
		const json = mappedReturn('R1', 'WEB-1001', [
			{ sku: 'JEANS-BLU-32' },
			{ sku: 'TSHIRT-RED-M', credit: 'exchange', lineAction: 'Exchange' },
		]);
		const moved = {
			...json,
			lines: json.lines.map((l) => ({ ...l, stockMove: { result: 'applied' } })),
		};
		const parsed = validateMappedReturn(moved);
		if (!parsed.ok) throw new Error(parsed.message);
		const posting = await postCreditNotes(
			fake,
			[{ ret: parsed.value, payload: moved }],
			POLICY,
			describe_,
		);
		const credit = posting.created[0].credit as PostedCredit;
		expect(credit.excludedLines.map((l) => l.sku)).toEqual(['TSHIRT-RED-M']);
		const uncredited = uncreditedMoves(moved, credit);
		expect(uncredited?.lines.map((l) => (l as { sku: string }).sku)).toEqual(['TSHIRT-RED-M']);
		// a credited-only return has none
		const plain = mappedReturn('R2', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }]);
		const p2 = validateMappedReturn(plain);
		if (!p2.ok) throw new Error(p2.message);
		const posted2 = await postCreditNotes(
			fake,
			[{ ret: p2.value, payload: plain }],
			POLICY,
			describe_,
		);
		expect(uncreditedMoves(plain, posted2.created[0].credit)).toBeNull();

		// the stock step, given those units as held, refuses a second return of the T-shirt
		const later = validateMappedReturn(mappedReturn('R3', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }]));
		if (!later.ok) throw new Error(later.message);
		const [outcome] = await applyReturnStock(
			fake,
			[{ ret: later.value, payload: {} }],
			{ reasonText: 'ReBound return', held: heldFromRecords([JSON.stringify(uncredited)]) },
			describe_,
		);
		expect(outcome.ok).toBe(false);
		if (!outcome.ok)
			expect(outcome.exceptions.map((e) => [e.kind, e.details.heldByOtherReturns])).toEqual([
				['quantity_exceeds_sold', 1],
			]);
	});
});
