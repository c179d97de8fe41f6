import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';
import { ReBoundPollTrigger } from '../../../nodes/ReBoundPollTrigger/ReBoundPollTrigger.node';
import * as glue from '../../../nodes/shared/reboundApi';
import {
	DEFAULT_POLL_OPTIONS,
	planWindows,
	pollStart,
	readPollState,
	runReboundPoll,
	type PollState,
} from '../../../transports/rebound/poll';
import {
	FakeReboundApi,
	TEST_API_KEY,
	makePollContext,
	rawReturn,
	type RawLineSpec,
} from '../../helpers/reboundFakes';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const node = new ReBoundPollTrigger();

const graded = (
	id: number,
	date: string,
	dispositions: Array<string | null> = ['Grade A', 'Damaged'],
) =>
	[
		id,
		date,
		rawReturn(
			id,
			`WEB-${1000 + (id % 5) + 1}`,
			dispositions.map(
				(d, i): RawLineSpec => ({
					sku: i === 0 ? 'TSHIRT-RED-M' : 'JEANS-BLU-32',
					disposition: d,
					reason: 'Too small',
				}),
			),
		),
	] as const;

function seed(api: FakeReboundApi, rows: Array<readonly [number, string, unknown]>) {
	for (const [id, date, raw] of rows) api.put(id, date, raw);
	return api;
}

let api: FakeReboundApi;
beforeEach(() => {
	api = new FakeReboundApi();
	jest.spyOn(Date, 'now').mockReturnValue(NOW);
	jest.spyOn(glue, 'createReboundApi').mockImplementation(() => api);
});
afterEach(() => jest.restoreAllMocks());

async function poll(
	staticData: IDataObject,
	params: Record<string, unknown> = {},
	mode = 'trigger',
) {
	const { ctx } = makePollContext({ staticData, params, mode });
	return (await node.poll.call(ctx)) as INodeExecutionData[][] | null;
}

const ids = (out: INodeExecutionData[][] | null) => (out ? out[0].map((i) => i.json.returnId) : []);

describe('poll windows', () => {
	it('first run walks the look-back in 7-day windows up to today (UTC), inclusive', async () => {
		const state: IDataObject = {};
		await poll(state);
		expect(api.searches).toEqual([
			{ from: '2026/10/29', to: '2026/11/04' },
			{ from: '2026/11/05', to: '2026/11/11' },
			{ from: '2026/11/12', to: '2026/11/18' },
			{ from: '2026/11/19', to: '2026/11/25' },
			{ from: '2026/11/26', to: '2026/11/28' },
		]);
		expect(state.cursor).toBe('2026-11-28');
	});

	it('later runs start at the cursor minus the overlap', async () => {
		const state: IDataObject = { version: 1, cursor: '2026-11-25', returns: {} };
		await poll(state, { overlapDays: 3, windowDays: 2 });
		expect(api.searches).toEqual([
			{ from: '2026/11/22', to: '2026/11/23' },
			{ from: '2026/11/24', to: '2026/11/25' },
			{ from: '2026/11/26', to: '2026/11/27' },
			{ from: '2026/11/28', to: '2026/11/28' },
		]);
		expect(state.cursor).toBe('2026-11-28');
	});

	it('a cursor in the future (clock moved back) never searches after today', () => {
		expect(
			pollStart({ cursor: '2026-12-10' }, '2026-11-28', { lookbackDays: 30, overlapDays: 2 }),
		).toBe('2026-11-28');
		expect(planWindows('2026-11-28', '2026-11-28', 7)).toEqual([
			{ from: '2026-11-28', to: '2026-11-28' },
		]);
		expect(planWindows('2026-02-27', '2026-03-02', 2)).toEqual([
			{ from: '2026-02-27', to: '2026-02-28' },
			{ from: '2026-03-01', to: '2026-03-02' },
		]);
	});
});

describe('what a poll emits', () => {
	it('emits fully graded returns once; a second poll with nothing new returns null', async () => {
		seed(api, [
			graded(101, '2026-11-20'),
			graded(102, '2026-11-27'),
			graded(103, '2026-11-27', ['Grade A', null]),
		]);
		const state: IDataObject = {};
		const first = await poll(state);
		expect(ids(first).sort()).toEqual(['101', '102']);
		const ret = first![0].find((i) => i.json.returnId === '101')!.json;
		expect(ret.source).toBe('rebound-poll');
		expect(ret.event).toMatchObject({
			type: 'return.polled',
			id: expect.stringMatching(/^poll:101:[0-9a-f]{16}$/),
			sequence: Math.floor(NOW / 1000),
		});
		expect((ret.lines as IDataObject[]).map((l) => l.disposition)).toEqual(['Grade A', 'Damaged']);
		expect(first![1]).toEqual([]);
		expect((state.returns as IDataObject)['103']).toMatchObject({ p: 1 });

		expect(await poll(state)).toBeNull();
	});

	it("Output: Inbox Row emits the intake's inbox row, whose payload is the normalised return", async () => {
		seed(api, [graded(101, '2026-11-20')]);
		const asReturn = (await poll({}))![0][0].json;
		const asRow = (await poll({}, { options: { output: 'inboxRow' } }))![0][0].json;
		expect(asRow).toEqual({
			eventId: (asReturn.event as IDataObject).id,
			returnId: '101',
			displayId: asReturn.displayId ?? '',
			orderReference: asReturn.orderReference,
			eventType: 'return.polled',
			sequence: Math.floor(NOW / 1000),
			receivedAt: new Date(NOW).toISOString(),
			status: 'queued',
			attempts: 0,
			lastError: '',
			// each poll emits a return's latest state: ready for the processor at once
			readyAtMs: NOW,
			payload: JSON.stringify(asReturn),
		});
	});

	it('re-emits a return when a disposition changes, with a different event id', async () => {
		seed(api, [graded(101, '2026-11-27')]);
		const state: IDataObject = {};
		const first = await poll(state);
		api.put(101, '2026-11-27', graded(101, '2026-11-27', ['Grade A', 'Grade B'])[2]);
		// A known graded return is re-checked within its interval (Re-Check Graded Returns Every: 60 minutes).
		(Date.now as jest.Mock).mockReturnValue(NOW + 61 * 60_000);
		const second = await poll(state);
		expect(ids(second)).toEqual(['101']);
		expect((second![0][0].json.lines as IDataObject[]).map((l) => l.disposition)).toEqual([
			'Grade A',
			'Grade B',
		]);
		expect((second![0][0].json.event as IDataObject).id).not.toBe(
			(first![0][0].json.event as IDataObject).id,
		);
		expect(await poll(state)).toBeNull();
	});

	it('keeps watching an ungraded return by id after its date left the overlap, and emits it once graded', async () => {
		seed(api, [graded(201, '2026-11-20', ['Grade A', null])]);
		const state: IDataObject = {};
		expect(await poll(state)).toBeNull();
		// Five days later, graded: its date is outside [cursor - 2 days, today].
		const later = NOW + 5 * 86_400_000;
		(Date.now as jest.Mock).mockReturnValue(later);
		api.put(201, '2026-11-20', graded(201, '2026-11-20')[2]);
		api.searches.length = 0;
		api.gets.length = 0;
		const out = await poll(state);
		expect(api.searches).toEqual([
			{ from: '2026/11/26', to: '2026/12/02' },
			{ from: '2026/12/03', to: '2026/12/03' },
		]);
		expect(api.gets).toEqual(['201']);
		expect(ids(out)).toEqual(['201']);
		expect((state.returns as IDataObject)['201']).not.toHaveProperty('p');
	});

	it('per line mode emits each line as it is graded, with just those lines', async () => {
		seed(api, [graded(301, '2026-11-27', ['Grade A', null])]);
		const state: IDataObject = {};
		const first = await poll(state, { emitMode: 'line' });
		expect((first![0][0].json.lines as IDataObject[]).map((l) => [l.sku, l.disposition])).toEqual([
			['TSHIRT-RED-M', 'Grade A'],
		]);
		api.put(301, '2026-11-27', graded(301, '2026-11-27', ['Grade A', 'Quarantine'])[2]);
		// An ungraded one within its interval (Re-Check Ungraded Returns Every: 5 minutes).
		(Date.now as jest.Mock).mockReturnValue(NOW + 6 * 60_000);
		const second = await poll(state, { emitMode: 'line' });
		expect((second![0][0].json.lines as IDataObject[]).map((l) => [l.sku, l.disposition])).toEqual([
			['JEANS-BLU-32', 'Quarantine'],
		]);
		expect(await poll(state, { emitMode: 'line' })).toBeNull();
	});

	it('a return that fails normalisation becomes one invalid_payload exception on output 2; the cursor moves', async () => {
		seed(api, [
			graded(101, '2026-11-27'),
			[102, '2026-11-27', rawReturn(102, '', [{ sku: 'MUG-WHT', disposition: 'Grade A' }])],
		]);
		const state: IDataObject = { version: 1, cursor: '2026-11-20', returns: {} };
		const out = await poll(state);
		expect(ids(out)).toEqual(['101']);
		const [ex] = out![1].map((i) => i.json);
		expect(ex).toMatchObject({
			exception: true,
			kind: 'invalid_payload',
			returnId: '102',
			field: 'orderReference',
			stage: 'trigger',
		});
		expect(JSON.parse(ex.payload as string).id).toBe(102);
		expect(JSON.parse(ex.payload as string).label).toBeUndefined();
		expect(state.cursor).toBe('2026-11-28');
		// Reported once, not on every poll.
		expect(await poll(state)).toBeNull();
	});

	it('a return that cannot be fetched becomes one exception (secrets removed) and is retried next poll', async () => {
		seed(api, [graded(101, '2026-11-27')]);
		api.failing.set('101', true);
		const state: IDataObject = {};
		const out = await poll(state);
		const [ex] = out![1].map((i) => i.json);
		expect(ex).toMatchObject({ kind: 'transient_exhausted', returnId: '101' });
		expect(JSON.stringify(ex)).not.toContain(TEST_API_KEY);
		api.failing.delete('101');
		const retried = await poll(state);
		expect(ids(retried)).toEqual(['101']);
	});
});

describe('failures and budget', () => {
	it('a search failure on the first window throws NodeApiError and leaves the state alone', async () => {
		api.failingSearchFrom.add('2026/10/29');
		const state: IDataObject = {};
		await expect(poll(state)).rejects.toBeInstanceOf(NodeApiError);
		expect(state).toEqual({});
	});

	it('a search failure on a later window keeps what was done; the cursor stops at the last window done', async () => {
		seed(api, [graded(101, '2026-11-01')]);
		api.failingSearchFrom.add('2026/11/12');
		const state: IDataObject = {};
		const out = await poll(state);
		expect(ids(out)).toEqual(['101']);
		expect(state.cursor).toBe('2026-11-11');
	});

	it('stops starting windows when the time budget is spent', async () => {
		seed(api, [graded(101, '2026-10-30')]);
		let t = NOW;
		const result = await runReboundPoll(api, readPollState({}), DEFAULT_POLL_OPTIONS, {
			now: () => (t += 1000),
			deadlineMs: NOW + 2500,
		});
		expect(result.stats.truncated).toBe(true);
		expect(result.stats.windows.length).toBeLessThan(5);
		expect(result.state.cursor).toBe(result.stats.windows[result.stats.windows.length - 1].to);
		expect(result.returns.map((r) => r.returnId)).toEqual(['101']);
	});

	it('forgets emitted returns older than look-back + overlap, and stops watching ungraded ones after watchDays', async () => {
		const prev: PollState = {
			version: 1,
			cursor: '2026-11-27',
			returns: {
				old: { f: '2026-09-01', s: '2026-10-01', fp: 'x' },
				recent: { f: '2026-11-20', s: '2026-11-20', fp: 'y' },
				stuck: { f: '2026-10-01', s: '2026-11-27', p: 1 },
			},
		};
		const result = await runReboundPoll(api, prev, DEFAULT_POLL_OPTIONS, { now: () => NOW });
		expect(Object.keys(result.state.returns).sort()).toEqual(['recent']);
		expect(prev.returns.old).toBeDefined(); // the input is not modified
	});
});

describe('manual mode', () => {
	it('shows the newest returns (up to the sample size) and moves nothing', async () => {
		seed(api, [
			graded(101, '2026-11-01'),
			graded(102, '2026-11-20'),
			graded(103, '2026-11-27', ['Grade A', null]),
			graded(104, '2026-11-28'),
		]);
		const state: IDataObject = {
			version: 1,
			cursor: '2026-11-10',
			returns: { '101': { f: '2026-11-01', s: '2026-11-10', fp: 'abc' } },
		};
		const before = JSON.stringify(state);
		const out = await poll(state, { options: { sampleSize: 3 } }, 'manual');
		expect(ids(out)).toEqual(['104', '103', '102']);
		expect(JSON.stringify(state)).toBe(before);
		// Newest first: only the last window (and the one before) needed searching.
		expect(api.searches[0]).toEqual({ from: '2026/11/26', to: '2026/11/28' });
	});
});
