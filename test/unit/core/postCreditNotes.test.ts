/**
 * core/usecases/postCreditNotes.ts on its own: a port (the Khaos fake satisfies CreditPort as the
 * transport's KhaosApi does), a failure describer, no n8n. The node-level behaviour is tested in
 * test/unit/nodes/KhaosControl.test.ts and poisonIsolation.test.ts.
 */
import { validateMappedReturn } from '../../../core/mapping';
import type { DescribeFailure, FailureInfo } from '../../../core/ports';
import {
	PostingStopped,
	postCreditNotes,
	returnAssociatedRef,
	type CreditInput,
	type CreditPolicy,
	type PostedCredit,
} from '../../../core/usecases/postCreditNotes';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import { KhaosFault } from '../../../transports/khaos/faults';
import { FakeKhaosApi, TEST_CREDIT_POLICY, mappedReturn } from '../../helpers/khaosFakes';

const POLICY: CreditPolicy = TEST_CREDIT_POLICY;

/** Faults are refused (split to the culprit); anything else is fatal. */
const describe: DescribeFailure = (error): FailureInfo => ({
	category: error instanceof KhaosFault ? 'refused' : 'fatal',
	message: error instanceof Error ? error.message : String(error),
	code: null,
	status: null,
	attempts: null,
});

function input(...args: Parameters<typeof mappedReturn>): CreditInput {
	const json = mappedReturn(...args);
	const parsed = validateMappedReturn(json);
	if (!parsed.ok) throw new Error(parsed.message);
	return { ret: parsed.value, payload: json };
}

test('two returns of one order in waves: the second sees the first one’s unit as returned', async () => {
	const fake = new FakeKhaosApi();
	const inputs = [
		input('R1', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]),
		input('R2', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]),
		input('R3', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]),
	];
	const posting = await postCreditNotes(fake, inputs, POLICY, describe);
	expect(
		posting.created.map((c) => [
			c.index,
			c.credit.associatedRef,
			(c.credit as PostedCredit).processed,
		]),
	).toEqual([
		[0, 'RB-R1', 'processed'],
		[1, 'RB-R2', 'processed'],
	]);
	// the order sold two: the third return is over the quantity, and nothing of it was imported
	expect(posting.exceptions.map((e) => [e.index, e.exception.kind])).toEqual([
		[2, 'quantity_exceeds_sold'],
	]);
	expect(fake.calls.importReturns).toBe(2);
	expect(fake.calls.getSalesOrders).toBe(1);
});

test('a credit note that exists already is a duplicate: nothing imported or processed', async () => {
	const fake = new FakeKhaosApi();
	await postCreditNotes(fake, [input('R1', 'WEB-1002', [{ sku: 'MUG-WHT' }])], POLICY, describe);
	const again = await postCreditNotes(
		fake,
		[input('R1', 'WEB-1002', [{ sku: 'MUG-WHT' }])],
		POLICY,
		describe,
	);
	expect(again.created).toEqual([
		{
			index: 0,
			credit: expect.objectContaining({
				duplicate: true,
				associatedRef: returnAssociatedRef('R1'),
				returnCode: null,
			}),
		},
	]);
	expect(fake.calls.importReturns).toBe(1);
	expect(fake.calls.processReturn).toBe(1);
});

test('a refused import is split to its culprit; a fatal one stops the run on the return it surfaced on', async () => {
	const fake = new FakeKhaosApi();
	fake.refuseMentioning.add('ReBound return D-R2');
	const inputs = [
		input('R1', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }]),
		input('R2', 'WEB-1002', [{ sku: 'MUG-WHT' }]),
		input('R3', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]),
	];
	const posting = await postCreditNotes(fake, inputs, POLICY, describe);
	expect(posting.created.map((c) => c.index)).toEqual([0, 2]);
	expect(posting.exceptions.map((e) => [e.index, e.exception.kind, e.exception.stage])).toEqual([
		[1, 'khaos_rejected', 'return'],
	]);

	const broken = new FakeKhaosApi().fail('getOrderStatuses', new Error('no such method'));
	const stopped = await postCreditNotes(broken, inputs.slice(1), POLICY, describe).catch(
		(e: unknown) => e,
	);
	expect(stopped).toBeInstanceOf(PostingStopped);
	expect((stopped as PostingStopped).index).toBe(0);
});

/** A call the transport gave up on after five tries. */
function exhausted(operation: string, cause: string): TransientExhaustedError {
	return new TransientExhaustedError(
		operation,
		5,
		9_000,
		new TransportError(`${operation}: ${cause}`, { kind: 'network', retryable: true }),
	);
}

/** ProcessReturn failing for good after Khaos took the note: Khaos processes the return, then the answer never arrives: the transport ran out of tries. */
class LostAnswers extends FakeKhaosApi {
	lose = new Set<string>();
	/** notes cancelled after they were made, or found for another amount */
	cancel = new Set<string>();
	renet = new Set<string>();
	/** getOrderStatuses answers this many times, then fails for good */
	lookUpsBeforeFailing = Infinity;
	override async getOrderStatuses(refs: string[]) {
		if (this.calls.getOrderStatuses >= this.lookUpsBeforeFailing) {
			this.calls.getOrderStatuses++;
			throw exhausted('Khaos ExportOrderStatusEx', 'HTTP 503');
		}
		return super.getOrderStatuses(refs);
	}
	override async processReturn(returnCode: string, manualAuthCode: string) {
		const outcome = await super.processReturn(returnCode, manualAuthCode);
		const note = this.creditNotes.find((n) => n.orderCode === `CN${returnCode}`);
		if (note && this.cancel.has(returnCode)) note.cancelled = true;
		if (note && this.renet.has(returnCode)) note.itemsNetPence += 100;
		if (!this.lose.has(returnCode)) return outcome;
		throw exhausted('Khaos ProcessReturn', 'socket hang up');
	}
}
const transientAware: DescribeFailure = (error) =>
	error instanceof TransientExhaustedError
		? { category: 'transient', message: error.message, code: null, status: null, attempts: 5 }
		: describe(error);

test('ProcessReturn lost for good: the credit note is looked up before calling it a failure; found, the credit is posted (already processed), with its values', async () => {
	const fake = new LostAnswers();
	fake.lose.add('RTN000001');
	const posting = await postCreditNotes(
		fake,
		[
			input('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }]),
			input('R2', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]),
		],
		POLICY,
		transientAware,
	);
	expect(posting.exceptions).toEqual([]);
	expect(
		posting.created.map((c) => [
			c.index,
			c.credit.associatedRef,
			(c.credit as PostedCredit).processed,
			(c.credit as PostedCredit).totals.grossPence,
		]),
	).toEqual([
		[0, 'RB-R1', 'already_processed', 5500],
		[1, 'RB-R2', 'processed', expect.any(Number)],
	]);
	expect(fake.creditNotes.map((n) => n.associatedRef)).toEqual(['RB-R1', 'RB-R2']);
	// the run's look-up, then one for the lost answer
	expect(fake.calls.getOrderStatuses).toBe(2);
});

test('ProcessReturn lost for good on several returns: one look-up for them all; only a live note with the items net imported settles one', async () => {
	const fake = new LostAnswers();
	for (const code of ['RTN000001', 'RTN000002', 'RTN000003']) fake.lose.add(code);
	fake.cancel.add('RTN000002'); // its note was cancelled since
	fake.renet.add('RTN000003'); // a note for another amount (partly processed)
	const posting = await postCreditNotes(
		fake,
		[
			input('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }]),
			input('R2', 'WEB-1001', [{ sku: 'JEANS-BLU-32' }]),
			input('R3', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]),
		],
		POLICY,
		transientAware,
	);
	expect(posting.created.map((c) => [c.index, (c.credit as PostedCredit).processed])).toEqual([
		[0, 'already_processed'],
	]);
	expect(posting.exceptions.map((e) => [e.index, e.exception.kind])).toEqual([
		[1, 'transient_exhausted'],
		[2, 'transient_exhausted'],
	]);
	expect(fake.calls.getOrderStatuses).toBe(2);
});

// ProcessReturn failing, the credit settled by nothing: the failure stands, for a later run
test.each<[string, (fake: LostAnswers) => void, string, number, string[]]>([
	[
		'lost for good and the look-up failing too',
		(fake) => {
			fake.lose.add('RTN000001');
			fake.lookUpsBeforeFailing = 1;
		},
		'transient_exhausted',
		2,
		['RB-R1'], // Khaos took it; the next run finds it (duplicate)
	],
	[
		'refused (not transient): no look-up',
		(fake) =>
			fake.fail(
				'processReturn',
				new KhaosFault('ProcessReturn', 'Return has been partially processed', {
					code: 'return_partially_processed',
				}),
				1,
			),
		'khaos_rejected',
		1,
		[],
	],
	[
		'failed for good with no credit note in Khaos',
		(fake) => fake.fail('processReturn', exhausted('Khaos ProcessReturn', 'HTTP 503'), 1),
		'transient_exhausted',
		2,
		[],
	],
])('ProcessReturn %s: its exception, no credit', async (_name, setUp, kind, lookUps, notes) => {
	const fake = new LostAnswers();
	setUp(fake);
	const posting = await postCreditNotes(
		fake,
		[input('R1', 'WEB-1002', [{ sku: 'HOODIE-GRY-L' }])],
		POLICY,
		transientAware,
	);
	expect(posting.created).toEqual([]);
	expect(posting.exceptions.map((e) => [e.index, e.exception.kind])).toEqual([[0, kind]]);
	// the run's look-up, then (a transient failure) the one that checked it
	expect(fake.calls.getOrderStatuses).toBe(lookUps);
	expect(fake.creditNotes.map((n) => n.associatedRef)).toEqual(notes);
});
