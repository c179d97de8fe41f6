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
