/**
 * Bench finding (docs/benchmark.md): overlapping processor runs import the same
 * returns; Khaos answers "duplicate" and ProcessReturn was then called only to
 * answer "already processed". Create From Return now checks the duplicates of
 * a batch in one status look-up and skips ProcessReturn when the credit note
 * exists for the same items' net. The race is reproduced in the sandbox: just
 * before the node's ImportReturns, "another run" imports and processes the
 * same return.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { KhaosControl } from '../../../nodes/KhaosControl/KhaosControl.node';
import { startKhaosSandbox, type KhaosSandbox } from '../../../sandbox/khaos/server';
import type { KhaosState } from '../../../sandbox/khaos/state';
import { mappedReturn } from '../../helpers/khaosFakes';
import { khaosExecuteContext } from '../../helpers/khaosN8nHttp';

let sandbox: KhaosSandbox;

const CREDIT = {
	resource: 'creditNote',
	operation: 'createFromReturn',
	options: { deliveryPolicy: 'never', processReturn: true, manualAuthCode: 'REBOUND' },
};

async function createCredit(items: IDataObject[]): Promise<INodeExecutionData[][]> {
	const ctx = khaosExecuteContext({
		items,
		params: CREDIT,
		credentials: {
			url: sandbox.url,
			authMode: 'none',
			username: '',
			password: '',
			soapVersion: '1.1',
			namespace: 'urn:KosWeb-IKosWeb',
			soapActionStyle: 'namespaceHash',
			defaultSiteId: '1',
			timeoutSeconds: 5,
			maxAttempts: 2,
			batchSize: 50,
		} as never,
	});
	return new KhaosControl().execute.call(ctx);
}

/** The next ImportReturns of `refs` finds them already imported and processed by "another run" (and, optionally, tweaks the fault rules first). */
function overlapOnNextImport(refs: string[], before?: () => void) {
	const state = sandbox.state as KhaosState & { importReturn: KhaosState['importReturn'] };
	const original = state.importReturn.bind(state);
	let raced = false;
	state.importReturn = (input) => {
		if (!raced && refs.includes(input.associatedRef)) {
			raced = true;
			before?.();
			for (const ref of refs) {
				// the other run's import + ProcessReturn of the same return
				const res = original({ ...input, associatedRef: ref });
				if (res.ok) state.processReturn(res.returnCode, 'REBOUND');
			}
		}
		return original(input);
	};
}

const methods = () => sandbox.calls.all().map((c) => c.method);

describe('Create From Return: duplicates processed by an overlapping run', () => {
	beforeEach(async () => {
		sandbox = await startKhaosSandbox({ port: 0 });
	});
	afterEach(async () => {
		await sandbox.close();
	});

	it('a duplicate whose credit note exists for the same net is not processed again (no ProcessReturn), output as already processed', async () => {
		overlapOnNextImport(['RB-R900']);
		const [created, exceptions] = await createCredit([
			mappedReturn('R900', 'WEB-1002', [{ sku: 'HOODIE-GRY-L', action: 'restock' }]),
		]);
		expect(exceptions).toEqual([]);
		expect(created).toHaveLength(1);
		expect(created[0].json).toMatchObject({
			associatedRef: 'RB-R900',
			duplicate: true,
			imported: false,
			processed: 'already_processed',
		});
		expect(methods()).toEqual([
			'ExportOrderStatusEx',
			'ExportOrders',
			'ImportReturns',
			'ExportOrderStatusEx',
		]);
		// one credit note, the other run's: 55.00 gross, nothing credited twice
		const notes = sandbox.state.snapshot().creditNotes.filter((c) => c.associatedRef === 'RB-R900');
		expect(notes.map((c) => c.totals.grossPence)).toEqual([5500]);
		expect(
			sandbox.state
				.snapshot()
				.orders.find((o) => o.associatedRef === 'WEB-1002')
				?.lines.find((l) => l.stockCode === 'HOODIE-GRY-L')?.qtyReturned,
		).toBe(1);
	});

	it('a fresh import is processed as before: one ProcessReturn, no extra look-up', async () => {
		const [created] = await createCredit([
			mappedReturn('R901', 'WEB-1002', [{ sku: 'HOODIE-GRY-L', action: 'restock' }]),
		]);
		expect(created[0].json).toMatchObject({
			associatedRef: 'RB-R901',
			imported: true,
			duplicate: false,
			processed: 'processed',
		});
		expect(methods()).toEqual([
			'ExportOrderStatusEx',
			'ExportOrders',
			'ImportReturns',
			'ProcessReturn',
		]);
	});

	it('when the re-check fails, ProcessReturn is called as before and answers already processed', async () => {
		overlapOnNextImport(['RB-R902'], () =>
			sandbox.faults.merge({
				rules: {
					ExportOrderStatusEx: {
						next: { count: 1, kind: 'fault', faultString: 'Bench: status look-up refused' },
					},
				},
			}),
		);
		const [created, exceptions] = await createCredit([
			mappedReturn('R902', 'WEB-1002', [{ sku: 'HOODIE-GRY-L', action: 'restock' }]),
		]);
		expect(exceptions).toEqual([]);
		expect(created[0].json).toMatchObject({
			associatedRef: 'RB-R902',
			duplicate: true,
			processed: 'already_processed',
		});
		expect(methods()).toEqual([
			'ExportOrderStatusEx',
			'ExportOrders',
			'ImportReturns',
			'ExportOrderStatusEx',
			'ProcessReturn',
		]);
		expect(
			sandbox.state.snapshot().creditNotes.filter((c) => c.associatedRef === 'RB-R902'),
		).toHaveLength(1);
	});
});
