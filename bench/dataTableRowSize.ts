/**
 * Measures what one row of the growing Data Tables costs against n8n's instance-wide Data Table
 * limit (N8N_DATA_TABLES_MAX_SIZE_BYTES), on a real n8n 2.40.7 with SQLite:
 *
 *   npx ts-node --transpile-only bench/dataTableRowSize.ts [--rows 2000] [--json]
 *
 * It starts a throw-away n8n, creates the inbox, exceptions, credit reviews, recorded credits and return events tables with the
 * templates' columns (scripts/templates/tables.ts), inserts realistic rows through the public API
 * (a 3-line return's `done` inbox row with its payload, an open exception of that return with the
 * return as its payload, a held credit's review row with the mapped return, the processor's recorded credit), and reads the size
 * n8n itself counts against the limit (`sizeBytes` of GET /api/v1/data-tables/{id}: SQLite's
 * dbstat pages of the table) and the growth of the SQLite file. The bytes per row it prints are
 * the constants of core/dataTableStorage.ts (DEFAULT_BYTES_PER_ROW).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toInboxRow } from '../core/inboxRow';
import { validateReturn, type NormalisedReturn } from '../core/returnModel';
import { createApiKey, freePort, setupOwner, startN8n } from '../scripts/n8n/instance';
import { ensureRuntime } from '../scripts/n8n/runtime';
import { TABLES, type TableKey } from '../scripts/templates/tables';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function argValue(name: string, fallback: string): string {
	const i = process.argv.indexOf(name);
	return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** A graded 3-line return as the ReBound trigger normalises it (customer, prices, reasons, comment). */
export function sampleReturn(n: number): NormalisedReturn {
	const id = String(600000 + n);
	const line = (i: number, sku: string, grade: string, reason: string, price: number) => ({
		lineId: `${id}:${i}`,
		sku,
		description: `${sku.replace(/-/g, ' ').toLowerCase()} (sample product ${i})`,
		quantity: i === 2 ? 2 : 1,
		disposition: grade,
		unitPricePence: price,
		reasons: [
			{
				reason,
				action: 'Refund',
				wish: 'Refund',
				additional: [
					{ title: 'Comment', value: 'Customer says the colour differs from the photo' },
				],
			},
		],
	});
	const result = validateReturn({
		schemaVersion: 1,
		source: 'rebound-webhook',
		returnId: id,
		displayId: `RB-${id}`,
		orderReference: `WEB-${200000 + n}`,
		currency: 'GBP',
		externalId: `EXT-${id}`,
		refundPence: 12_497,
		createdAt: '2026-11-18T15:20:00.000Z',
		customer: { name: 'Dee Dawson', email: `dee.dawson+${n}@example.com` },
		event: {
			id: `evt-${id}-3-graded`,
			type: 'return.processed',
			occurredAt: '2026-11-20T10:00:00.000Z',
			sequence: 3,
		},
		lines: [
			line(1, 'JEANS-BLU-32', 'Grade A', 'Too small', 4_999),
			line(2, 'TSHIRT-WHT-M', 'Like New', 'Changed my mind', 1_250),
			line(3, 'HOODIE-GRY-L', 'Damaged', 'Not as described', 5_500),
		],
	});
	if (!result.ok) throw new Error(result.message);
	return result.value;
}

/** The return after mapping and its stock moves, roughly as the credit step carries it. */
function mappedJson(ret: NormalisedReturn): string {
	return JSON.stringify({
		...ret,
		lines: ret.lines.map((l, i) => ({
			...l,
			khaosSku: l.sku,
			mapping: {
				action: i === 2 ? 'quarantine' : 'restock',
				siteId: '1',
				locationId: i === 2 ? 'QUAR' : 'MAIN',
				sellable: i !== 2,
				credit: 'credit',
				reasonId: '12',
			},
			moves: [
				{
					siteId: '1',
					locationId: i === 2 ? 'QUAR' : 'MAIN',
					quantity: l.quantity,
					ref: `RB-${ret.returnId}-${i + 1}`,
				},
			],
		})),
	});
}

export function sampleRows(n: number): Record<TableKey | 'x', Record<string, unknown>> {
	const ret = sampleReturn(n);
	const now = '2026-11-21T07:12:45.123+00:00';
	const inbox = {
		...toInboxRow(ret, now),
		status: 'done',
		processedAt: now,
		creditNoteRef: `SO${String(300000 + n).padStart(6, '0')}`,
		claim: String(100000 + n),
		requeues: 0,
		uncredited: '',
		mapped: '',
	};
	const exception = {
		key: `unknown_sku|${ret.returnId}|${ret.lines[2].lineId}|HOODIE-GRY-L`,
		kind: 'unknown_sku',
		title: 'Unknown SKU',
		owner: 'ops',
		stage: 'validate',
		returnId: ret.returnId,
		displayId: ret.displayId ?? '',
		orderReference: ret.orderReference,
		sku: 'HOODIE-GRY-L',
		lineId: ret.lines[2].lineId,
		code: 'HOODIE-GRY-L',
		field: 'lines[2].sku',
		message: `Return ${ret.displayId} line ${ret.lines[2].lineId}: SKU HOODIE-GRY-L is not a Khaos stock code (not found by the batch look-up).`,
		action:
			'Find the Khaos stock code; add a row to sku aliases (from = ReBound SKU, to = Khaos code), then replay.',
		status: 'open',
		firstSeen: now,
		lastSeen: now,
		attempts: 1,
		resolvedAt: '',
		details: JSON.stringify({ lookup: 'batch', found: false }),
		payload: JSON.stringify(ret),
	};
	const review = {
		returnId: ret.returnId,
		displayId: ret.displayId ?? '',
		orderReference: ret.orderReference,
		currency: 'GBP',
		heldWhy: 'Line 3 HOODIE-GRY-L: grade Damaged holds its credit for finance (credit policy)',
		heldLines: JSON.stringify([
			{ lineId: ret.lines[2].lineId, sku: 'HOODIE-GRY-L', quantity: 1, why: 'grade holds' },
		]),
		gross: '124.97',
		grossPence: 12_497,
		withoutHeldGross: '69.97',
		withoutHeldGrossPence: 6_997,
		decision: 'release',
		decidedBy: 'Finance person',
		note: 'checked the parcel',
		status: 'released',
		heldAt: now,
		resolvedAt: now,
		creditNoteRef: `SO${String(300000 + n).padStart(6, '0')}`,
		creditGross: '124.97',
		lastError: '',
		mapped: mappedJson(ret),
	};
	// the processor's recorded credit of the done inbox row (scripts/templates/tables.ts `credits`)
	const credit = {
		inboxId: 100000 + n,
		eventId: ret.event.id,
		returnId: ret.returnId,
		displayId: ret.displayId ?? '',
		receivedAt: now,
		creditNoteRef: `RB-${ret.returnId}`,
		creditGross: '124.97',
		creditNet: '104.14',
		claim: String(100000 + n),
	};
	// the intake's record of the queued event (scripts/templates/tables.ts `events`)
	const event = {
		eventId: ret.event.id,
		returnId: ret.returnId,
		sequence: 1,
		receivedAt: now,
	};
	return {
		inbox,
		exceptions: exception,
		reviews: review,
		credits: credit,
		events: event,
		x: {},
	} as never;
}

async function main(): Promise<void> {
	const rows = Number(argValue('--rows', '2000'));
	const asJson = process.argv.includes('--json');
	const log = (l: string) => {
		if (!asJson) process.stderr.write(`${l}\n`);
	};
	const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-rowsize-'));
	const runtime = await ensureRuntime({ log });
	const n8n = await startN8n({ userFolder, port: await freePort(), runtime, log: () => undefined });
	try {
		const owner = await setupOwner(n8n.baseUrl);
		const api = await createApiKey(n8n.baseUrl, owner);
		const dbFile = path.join(userFolder, '.n8n', 'database.sqlite');
		const measured: Record<string, unknown> = {};
		for (const key of ['inbox', 'exceptions', 'reviews', 'credits', 'events'] as const) {
			const spec = TABLES[key];
			const table = await api.createDataTable({ name: `size ${key}`, columns: spec.columns });
			const size = async () => {
				await sleep(5_500); // n8n caches the size for 5 s
				const t = await api.request('GET', `/data-tables/${table.id}`);
				return Number(t.sizeBytes ?? 0);
			};
			const before = await size();
			const fileBefore = fs.statSync(dbFile).size;
			let json = 0;
			for (let i = 0; i < rows; i += 200) {
				const batch = [];
				for (let j = i; j < Math.min(rows, i + 200); j++) {
					const row = sampleRows(j)[key];
					json += JSON.stringify(row).length;
					batch.push(row);
				}
				await api.request('POST', `/data-tables/${table.id}/rows`, {
					data: batch,
					returnType: 'count',
				});
			}
			const after = await size();
			const fileAfter = fs.statSync(dbFile).size;
			measured[key] = {
				rows,
				jsonBytesPerRow: Math.round(json / rows),
				n8nSizeBytesPerRow: Math.round((after - before) / rows),
				sqliteFileBytesPerRow: Math.round((fileAfter - fileBefore) / rows),
				tableSizeBytes: after,
			};
			log(`${key}: ${JSON.stringify(measured[key])}`);
		}
		const result = { n8n: '2.40.7', database: 'sqlite', measured };
		process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
	} finally {
		await n8n.stop();
		fs.rmSync(userFolder, { recursive: true, force: true });
	}
}

if (require.main === module)
	main().catch((e) => {
		process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
		process.exit(1);
	});
