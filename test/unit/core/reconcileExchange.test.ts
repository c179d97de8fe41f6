/**
 * Exchanges in the daily reconciliation (issue 17): a line the customer exchanged is never credited
 * (docs/mapping.md, line actions), so a return whose lines are all exchanges expects no credit note
 * and is complete once its stock moved, and a mixed return expects a credit for its refunded lines
 * only. The reconciliation knows a line is an exchange from the mapping the return carries (its
 * `credit`) or from the credit step's `exchange_recorded` notice for the line (keyed
 * exchange_recorded|<return>|<line>|<action>, core/exceptions.ts exceptionKey).
 */
import { reconcile, type PerReturn, type RawReconcileInput } from '../../../core/reconcile';
import type { LineMapping } from '../../../core/mapping';
import { NOW, adj, exceptionRow, holding, note, ret } from './reconcile.fixtures';

function one(input: RawReconcileInput): PerReturn {
	const { report, issues } = reconcile({ ...input, options: { now: NOW } });
	expect(issues).toEqual([]);
	expect(report.perReturn).toHaveLength(1);
	return report.perReturn[0];
}

/** The credit step's notice for an exchanged line, as the exceptions table holds it. */
function exchangeNotice(returnId: string, lineNo: number) {
	return exceptionRow(
		`exchange_recorded|${returnId}|${returnId}:${lineNo}|Exchange`,
		'exchange_recorded',
		{ status: 'notice', owner: 'finance', returnId, sku: 'TSHIRT-RED-M' },
	);
}

/** A return whose lines asked for the given actions (ReBound's line action). */
function withActions(returnId: string, actions: string[]) {
	const r = ret(
		returnId,
		actions.map(() => ({ sku: 'TSHIRT-RED-M' })),
	);
	r.lines.forEach((l, i) => (l.reasons = [{ reason: 'Too small', action: actions[i] }]));
	return r;
}

const mapping = (credit: LineMapping['credit']): LineMapping => ({
	action: 'restock',
	siteId: '1',
	locationId: 'A1',
	sellable: true,
	reasonId: '2',
	khaosSku: 'TSHIRT-RED-M',
	matchedDisposition: 'Grade A',
	matchedBy: 'exact',
	reasonMatchedBy: 'exact',
	credit,
	creditBy: credit === 'exchange' ? 'action' : 'disposition',
	lineAction: credit === 'exchange' ? 'Exchange' : 'Refund',
});

describe('reconcile: exchanges expect no credit note', () => {
	it('an exchange-only return (the credit step recorded each line as an exchange) is complete once its stock moved, not credit_pending', () => {
		const p = one({
			returns: [withActions('X1', ['Exchange', 'Exchange'])],
			khaos: [holding('X1', [], [adj('X1', 1), adj('X1', 2)])],
			exceptions: [exchangeNotice('X1', 1), exchangeNotice('X1', 2)],
		});
		expect(p.status).toBe('complete');
		expect(p.credit.expected).toBe(false);
		expect(p.findings).toEqual([
			'Stock moved; no credit note expected: every line is an exchange or not credited (X1:1, X1:2).',
		]);
	});

	it('an exchange-only return whose lines carry their mapping (credit: exchange) is complete once its stock moved', () => {
		const r = withActions('X2', ['Exchange']);
		const p = one({
			returns: [{ ...r, lines: r.lines.map((l) => ({ ...l, mapping: mapping('exchange') })) }],
			khaos: [holding('X2', [], [adj('X2', 1)])],
		});
		expect(p.status).toBe('complete');
		expect(p.credit.expected).toBe(false);
	});

	it('an exchange-only return is not complete before its stock moved', () => {
		const p = one({
			returns: [withActions('X3', ['Exchange'])],
			khaos: [holding('X3', [], [], { returnCode: 'RET-X3' })],
			exceptions: [exchangeNotice('X3', 1)],
		});
		expect(p.status).toBe('pending');
		expect(p.credit.expected).toBe(false);
		expect(p.stock.missingLineIds).toEqual(['X3:1']);
	});

	it('a mixed return (one line refunded, one exchanged) expects a credit for the refunded line only: credit_pending without a note, complete with it, its tolerance that of one line', () => {
		const input = {
			returns: [withActions('X4', ['Refund', 'Exchange'])],
			exceptions: [exchangeNotice('X4', 2)],
		};
		const pending = one({ ...input, khaos: [holding('X4', [], [adj('X4', 1), adj('X4', 2)])] });
		expect(pending.status).toBe('credit_pending');
		expect(pending.credit.expected).toBe(true);
		expect(pending.findings[0]).toBe('Stock moved; no credit note yet.');

		const done = one({
			...input,
			khaos: [holding('X4', [note('CN-X4', 1500, 1250)], [adj('X4', 1), adj('X4', 2)])],
		});
		expect(done.status).toBe('complete');
		expect(done.credit.tolerancePence).toBe(1);
		expect(done.findings).toEqual(['Stock moved and credit note raised as expected.']);
	});

	it('a line held for finance (mapping credit: hold) still expects its credit, exchange or not', () => {
		const r = withActions('X5', ['Exchange']);
		const p = one({
			returns: [{ ...r, lines: r.lines.map((l) => ({ ...l, mapping: mapping('hold') })) }],
			khaos: [holding('X5', [], [adj('X5', 1)])],
		});
		expect(p.status).toBe('credit_pending');
	});

	it("the ReBound action alone does not decide: without the mapping or the credit step's notice (the client's line-action rules may credit an exchange) the credit is expected", () => {
		const p = one({
			returns: [withActions('X6', ['Exchange'])],
			khaos: [holding('X6', [], [adj('X6', 1)])],
		});
		expect(p.status).toBe('credit_pending');
		expect(p.credit.expected).toBe(true);
	});
});
