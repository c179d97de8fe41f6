/**
 * End-to-end: one bad record never stops the queue, on a real n8n 2.40.7 with the templates.
 *
 * 50 signed ReBound events (returns 9000–9049, one Grade A T-shirt each, each against its own
 * Khaos order that sold one) go to the intake webhook. Two of them are poison that passes the
 * intake and reaches the processor:
 *  - 9017: the Khaos sandbox is strict and refuses, whole, every call that carries `RB-9017-`
 *    (refuseMentioning): the batched calls are split until only 9017 fails (khaos_rejected);
 *  - 9033: its SKU is aliased (sku aliases Data Table, edited as ops would) to a Khaos code with
 *    a comma, which a comma-separated Khaos look-up cannot carry (invalid_payload naming
 *    lines[0].mapping.khaosSku).
 * Expected: 48 inbox rows done with their stock moved and credit notes raised, 2 rows exception
 * with their exception rows, no processor execution failed, nothing left queued or processing.
 *
 * Then no silent end, even under SIGKILL: alerts go by e-mail to an SMTP catcher on 127.0.0.1,
 * which is made to hang, holding the processor inside its exception branch after the exception
 * rows are written and before the inbox rows are settled (the window where the template used to
 * show excepted returns as `done`). Inside it, the excepted rows read `processing`, never `done`;
 * n8n is killed there, restarted, and the stall recovery (1 min) settles every row as the oracle
 * says, each exception row once, nothing lost or doubled.
 *
 * Run: npx jest --selectProjects e2e --runInBand test/e2e/poison.test.ts
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startN8n, type ApiClient, type N8nInstance } from '../../scripts/n8n/instance';
import type { Runtime } from '../../scripts/n8n/runtime';
import type { InstalledPackage } from '../../scripts/n8n/package';
import type { ImportReport } from '../../scripts/templates/import';
import { SANDBOX_REBOUND, sandboxClientValues } from '../../scripts/templates/sandboxValues';
import type { KhaosSandbox } from '../../sandbox/khaos/server';
import type { ReboundSandbox } from '../../sandbox/rebound/server';
import { startSmtpCatcher, type SmtpCatcher } from '../helpers/smtpCatcher';
import {
	flowLookups,
	startFlowStack,
	stopFlowStack,
	type FlowClientBase,
	type Row,
} from './flowStack';

jest.setTimeout(300_000);

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const COUNT = 50;
const REFUSED = 9017;
const ALIASED = 9033;

let runtime: Runtime;
let userFolder: string;
let smtp: SmtpCatcher | undefined;
let n8n: N8nInstance | undefined;
let api: ApiClient;
let installed: InstalledPackage | undefined;
let khaos: KhaosSandbox | undefined;
let rebound: ReboundSandbox | undefined;
let report: ImportReport;
let importLog: string[] = [];
let webhookPath: string;
const timings: Record<string, number> = {};

const { tableId, workflowId, rows, deliver } = flowLookups(
	() => ({ report, api, n8n: n8n!, webhookPath }),
	SANDBOX_REBOUND.webhookSecret,
);
const ids = Array.from({ length: COUNT }, (_, i) => 9000 + i);
/** The kill test's returns: 9100–9104 good, 9105–9107 with a grade no mapping row knows. */
const killIds = Array.from({ length: 8 }, (_, i) => 9100 + i);
/** The refused-alert test's returns: 9200 and 9201 good, 9202 with a grade no mapping row knows. */
const refusedAlertIds = [9200, 9201, 9202];
const unmapped = (id: number) => (id >= 9105 && id < 9200) || id === 9202;

beforeAll(async () => {
	smtp = await startSmtpCatcher();
	const fixture = JSON.parse(
		fs.readFileSync(
			path.join(__dirname, '..', '..', 'sandbox', 'fixtures', 'khaos-default.json'),
			'utf8',
		),
	) as Record<string, unknown>;
	const orders = [...ids, ...killIds, ...refusedAlertIds].map((id) => ({
		orderCode: `SO${id}`,
		associatedRef: `WEB-P${id}`,
		orderDate: '2026-11-10',
		urn: 'C1001',
		siteId: '1',
		lines: [{ lineId: `${id}1`, stockCode: 'TSHIRT-RED-M', qty: 1, price: '40.00' }],
	}));
	({ runtime, userFolder, installed, n8n, api, khaos, rebound, report, importLog, webhookPath } =
		await startFlowStack({
			folderPrefix: 'rk-e2e-poison-',
			khaos: {
				fixture: { ...fixture, orders: [...(fixture.orders as unknown[]), ...orders] } as never,
			},
			client: `E2E Poison ${randomBytes(3).toString('hex')}`,
			webhookId: `e2e-${randomBytes(8).toString('hex')}`,
			reboundApiKey: SANDBOX_REBOUND.apiKey,
			reboundWebhookSecret: SANDBOX_REBOUND.webhookSecret,
			values: clientValues,
			log,
			timings,
		}));
	khaos!.faults.configure({ refuseMentioning: [`RB-${REFUSED}-`] });
}, 25 * 60_000);

afterAll(async () => {
	await stopFlowStack(
		{ n8n, khaos, rebound, userFolder, installed },
		[smtp],
		'poison',
		log,
		timings,
	);
}, 60_000);

/** The values: processing every 2 s, 50 a batch, rows stale after 1 min, alerts by e-mail to the catcher. */
function clientValues(base: FlowClientBase) {
	const values = sandboxClientValues({
		...base,
		processEverySeconds: 2,
		batchSize: COUNT,
		staleAfterMinutes: 1,
	});
	// alerts by e-mail to the catcher (plain SMTP on loopback, no auth)
	const withAlerts = values as unknown as {
		credentials: Record<string, unknown>;
		alerts: Record<string, unknown>;
	};
	withAlerts.credentials.smtp = {
		name: `SMTP catcher (${base.client})`,
		data: {
			host: '127.0.0.1',
			port: smtp!.port,
			secure: false,
			disableStartTls: true,
			user: '',
			password: '',
		},
	};
	withAlerts.alerts = { emailFrom: 'returns@example.com', emailTo: 'ops@example.com' };
	return values;
}

function eventFor(id: number) {
	const sku = id === ALIASED ? 'ALIAS-POISON' : 'TSHIRT-RED-M';
	const grade = unmapped(id) ? 'Mystery Grade' : 'Grade A';
	return {
		id: `evt_poison_${id}_${randomBytes(4).toString('hex')}`,
		event: 'return.processed',
		occurred_at: new Date().toISOString(),
		sequence: 1,
		data: {
			id,
			display_id: `RMA-${id}`,
			order_reference: `WEB-P${id}`,
			name: 'Alice Archer',
			email: 'alice@example.com',
			item: [
				{
					sku_code: sku,
					sku_desc: 'T-shirt',
					quantity: 1,
					price: '40.00',
					final_disposition: grade,
					reason: [{ reason: 'Too small', action: 'Refund' }],
				},
			],
		},
	};
}

describe('one bad record never stops the queue (real n8n, templates, strict Khaos)', () => {
	it('48 of 50 returns are moved and credited, the two poison returns are exception rows, the queue drains', async () => {
		expect({
			exitCode: report.exitCode,
			log: report.exitCode === 0 ? '' : importLog.join('\n'),
		}).toEqual({ exitCode: 0, log: '' });
		// ops alias a SKU to a Khaos code that no comma-separated look-up can carry
		await api.request('POST', `/data-tables/${encodeURIComponent(tableId('skuAliases'))}/rows`, {
			data: [{ from: 'ALIAS-POISON', to: 'TSHIRT-RED-M,JEANS-BLU-32' }],
			returnType: 'count',
		});
		const before = khaos!.state.level('TSHIRT-RED-M', '1', 'A1');
		const t = Date.now();
		for (let i = 0; i < ids.length; i += 10) {
			const answers = await Promise.all(ids.slice(i, i + 10).map((id) => deliver(eventFor(id))));
			expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
		}
		const deadline = Date.now() + 180_000;
		let inbox: Row[] = [];
		while (Date.now() < deadline) {
			inbox = (await rows('inbox')).filter((r) => ids.includes(Number(r.returnId)));
			if (
				inbox.length === COUNT &&
				inbox.every((r) => r.status === 'done' || r.status === 'exception')
			)
				break;
			await sleep(1000);
		}
		timings.drainMs = Date.now() - t;
		const byStatus = (s: string) =>
			inbox
				.filter((r) => r.status === s)
				.map((r) => Number(r.returnId))
				.sort((a, b) => a - b);
		expect({
			exception: byStatus('exception'),
			left: inbox
				.filter((r) => r.status !== 'done' && r.status !== 'exception')
				.map((r) => [r.returnId, r.status]),
		}).toEqual({
			exception: [REFUSED, ALIASED],
			left: [],
		});
		expect(byStatus('done')).toHaveLength(COUNT - 2);
		// each poison row shared its processor run (the claim) with returns that were applied
		for (const id of [REFUSED, ALIASED]) {
			const row = inbox.find((r) => Number(r.returnId) === id)!;
			expect({
				id,
				sharedWithDone:
					inbox.filter((r) => r.claim === row.claim && r.status === 'done').length > 0,
			}).toEqual({ id, sharedWithDone: true });
		}

		const exceptions = (await rows('exceptions')).filter((r) => ids.includes(Number(r.returnId)));
		expect(exceptions.map((r) => [Number(r.returnId), r.kind, r.field || null]).sort()).toEqual(
			[
				[REFUSED, 'khaos_rejected', null],
				[ALIASED, 'invalid_payload', 'lines[0].mapping.khaosSku'],
			].sort(),
		);
		expect(String(exceptions.find((r) => Number(r.returnId) === REFUSED)?.message)).toContain(
			'Request refused',
		);

		const state = khaos!.state.snapshot();
		const credited = state.creditNotes
			.map((c) => c.associatedRef)
			.filter((ref) => /^RB-90\d\d$/.test(ref));
		expect(credited.sort()).toEqual(
			ids
				.filter((id) => id !== REFUSED && id !== ALIASED)
				.map((id) => `RB-${id}`)
				.sort(),
		);
		expect(khaos!.state.level('TSHIRT-RED-M', '1', 'A1')).toBe(before + COUNT - 2);
		const runs = await api.listExecutions(workflowId('returns-processor'), { limit: 100 });
		expect(runs.filter((r) => r.status === 'error').map((r) => r.id)).toEqual([]);
		log(
			`[e2e poison] ${COUNT} returns drained in ${timings.drainMs} ms; processor runs seen: ${runs.length}`,
		);
	});

	it('a refused alert costs the alert only: the run ends, its rows done or excepted, and one alert_failed row names the recipient and the error', async () => {
		const since = Date.now();
		smtp!.refuse = 'mailbox unavailable';
		try {
			const answers = await Promise.all(refusedAlertIds.map((id) => deliver(eventFor(id))));
			expect(answers.map((a) => a.status)).toEqual(refusedAlertIds.map(() => 200));
			const mine = (r: Row) => refusedAlertIds.includes(Number(r.returnId));
			const deadline = Date.now() + 90_000;
			let inbox: Row[] = [];
			let failed: Row[] = [];
			while (Date.now() < deadline) {
				inbox = (await rows('inbox')).filter(mine);
				failed = (await rows('exceptions')).filter((r) => r.kind === 'alert_failed');
				if (
					failed.length > 0 &&
					inbox.length === 3 &&
					inbox.every((r) => r.status === 'done' || r.status === 'exception')
				)
					break;
				await sleep(500);
			}
			expect(inbox.map((r) => [Number(r.returnId), r.status]).sort()).toEqual([
				[9200, 'done'],
				[9201, 'done'],
				[9202, 'exception'],
			]);
			expect(
				(await rows('exceptions')).filter(mine).map((r) => [Number(r.returnId), r.kind]),
			).toEqual([[9202, 'unmapped_disposition']]);
			expect(failed).toHaveLength(1);
			const row = failed[0];
			expect({
				key: row.key,
				code: row.code,
				owner: row.owner,
				stage: row.stage,
				status: row.status,
			}).toEqual({
				key: expect.stringMatching(
					new RegExp(
						`^alert_failed\\|-\\|${workflowId('returns-processor')}:\\d{4}-\\d\\d-\\d\\d\\|email$`,
					),
				),
				code: 'email',
				owner: 'tech',
				stage: 'alert',
				status: 'open',
			});
			expect(String(row.message)).toMatch(
				/^1 new exception\(s\) recorded by .* could not be alerted by e-mail to ops@example\.com: .*550 mailbox unavailable/,
			);
			expect(JSON.parse(String(row.details))).toMatchObject({
				channel: 'email',
				exceptions: 1,
				keys: expect.stringContaining('9202'),
			});
			// the run that met the refused alert ended as a success
			const runs = await api.listExecutions(workflowId('returns-processor'), { limit: 50 });
			expect(
				runs
					.filter(
						(r) =>
							Date.parse(String(r.startedAt)) >= since &&
							(r.status === 'error' || r.status === 'crashed'),
					)
					.map((r) => [r.id, r.status]),
			).toEqual([]);
		} finally {
			smtp!.refuse = null;
		}
	});

	it('no silent end, even killed inside the alert step: the batch reads processing (never done) until the run ends, the credited rows with their records; after a SIGKILL and a restart every row ends as it should, once', async () => {
		expect(smtp!.messages.some((m) => m.data.includes(String(REFUSED)))).toBe(true); // the poison run's alert was delivered
		smtp!.hang = true;
		const before = khaos!.state.level('TSHIRT-RED-M', '1', 'A1');
		const answers = await Promise.all(killIds.map((id) => deliver(eventFor(id))));
		expect(answers.map((a) => a.status)).toEqual(killIds.map(() => 200));
		const mine = (r: Row) => killIds.includes(Number(r.returnId));
		// inside the window: the good rows' credits recorded, the excepted rows' exception rows written,
		// the alert held; every row of the batch still processing (done only at the end of the run)
		const deadline = Date.now() + 60_000;
		let inbox: Row[] = [];
		let exceptions: Row[] = [];
		let recorded: Row[] = [];
		while (Date.now() < deadline) {
			recorded = (await rows('credits')).filter(mine);
			exceptions = (await rows('exceptions')).filter(mine);
			if (recorded.length === 5 && exceptions.length === 3) break;
			await sleep(250);
		}
		expect({
			recorded: recorded.map((r) => [Number(r.returnId), r.creditNoteRef]).sort(),
			exceptionRows: exceptions.length,
		}).toEqual({
			recorded: killIds.filter((id) => !unmapped(id)).map((id) => [id, `RB-${id}`]),
			exceptionRows: 3,
		});
		await sleep(1000);
		inbox = (await rows('inbox')).filter(mine);
		expect(inbox.map((r) => [Number(r.returnId), r.status]).sort()).toEqual(
			killIds.map((id) => [id, 'processing']).sort(),
		);

		// killed there; back up with the SMTP server answering again
		const port = Number(new URL(n8n!.baseUrl).port);
		await n8n!.kill('SIGKILL');
		smtp!.hang = false;
		n8n = await startN8n({ runtime, userFolder, port, log });
		const settleBy = Date.now() + 240_000;
		while (Date.now() < settleBy) {
			inbox = (await rows('inbox')).filter(mine);
			if (inbox.length === 8 && inbox.every((r) => r.status === 'done' || r.status === 'exception'))
				break;
			await sleep(2000);
		}
		expect(inbox.map((r) => [Number(r.returnId), r.status]).sort()).toEqual(
			killIds.map((id) => [id, unmapped(id) ? 'exception' : 'done']).sort(),
		);
		exceptions = (await rows('exceptions')).filter(mine);
		expect(exceptions.map((r) => [Number(r.returnId), r.kind]).sort()).toEqual([
			[9105, 'unmapped_disposition'],
			[9106, 'unmapped_disposition'],
			[9107, 'unmapped_disposition'],
		]);
		const state = khaos!.state.snapshot();
		expect(
			state.creditNotes
				.map((c) => c.associatedRef)
				.filter((ref) => /^RB-91\d\d$/.test(ref))
				.sort(),
		).toEqual(['RB-9100', 'RB-9101', 'RB-9102', 'RB-9103', 'RB-9104']);
		expect(khaos!.state.level('TSHIRT-RED-M', '1', 'A1')).toBe(before + 5);
		// every row of the killed run was requeued once and processed again alone: the credited ones
		// found their credit notes (no second one above), the excepted ones were excepted again
		expect(inbox.map((r) => Number(r.requeues || 0))).toEqual(killIds.map(() => 1));
	});
});
