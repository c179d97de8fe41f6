/**
 * Bench data: a Khaos fixture (the shared demo fixture plus bench products and
 * one sales order per bench return) and the ReBound events that return them.
 *
 * Every bench return has its own order (BENCH-<n>) with `lines` lines of one
 * unit each (BENCH-P01…P10, £20.00 gross, 20% VAT, no discounts, no delivery),
 * so Khaos' quantity guard never refuses a return and the credit is exact:
 * 20.00 gross / 16.67 net / 3.33 VAT per line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { toInboxRow } from '../core/inboxRow';
import { parseWebhookEvent } from '../transports/rebound/webhook';

export const BENCH_PRODUCTS = Array.from(
	{ length: 10 },
	(_, i) => `BENCH-P${String(i + 1).padStart(2, '0')}`,
);
const DISPOSITIONS = ['Grade A', 'Grade B', 'Damaged'] as const;
const DEFAULT_FIXTURE = path.join(__dirname, '..', 'sandbox', 'fixtures', 'khaos-default.json');

/** Bench return n (1-based) → its ReBound id, order reference and Khaos credit-note reference. */
export const benchReturnId = (n: number) => String(700000 + n);
export const benchOrderRef = (n: number) => `BENCH-${String(n).padStart(6, '0')}`;
export const benchCreditRef = (n: number) => `RB-${benchReturnId(n)}`;

/** The default demo fixture with the bench products (stock 100000 at 1/A1, RET, QUAR) and `orders` bench orders of `linesFor(n)` lines. */
export function benchKhaosFixture(
	orders: Array<{ n: number; lines: number }>,
	latencyMs: number,
): Record<string, unknown> {
	const f = JSON.parse(fs.readFileSync(DEFAULT_FIXTURE, 'utf8')) as Record<string, any>;
	BENCH_PRODUCTS.forEach((code, i) => {
		f.products.push({
			stockId: String(90001 + i),
			stockCode: code,
			associatedRef: code,
			description: `Bench product ${i + 1}`,
			sellPrice: '20.00',
			sellPriceIsNet: false,
			barcodes: [],
			stockType: 'Bench',
			taxRate: 1,
			deleted: false,
			discontinued: false,
			stockControlled: true,
			web: true,
			runToZero: false,
		});
		for (const loc of ['A1', 'RET', 'QUAR'])
			f.stock.push({ stockCode: code, siteId: '1', locationId: loc, level: 100000 });
	});
	for (const { n, lines } of orders) {
		f.orders.push({
			orderCode: `SB${String(n).padStart(6, '0')}`,
			associatedRef: benchOrderRef(n),
			orderDate: '2026-11-01',
			urn: 'C1001',
			siteId: '1',
			currency: 'GBP',
			exchangeRate: 1,
			priceBasis: 'gross',
			vatRounding: 'line',
			keycode: null,
			orderDiscount: '0.00',
			delivery: null,
			lines: Array.from({ length: lines }, (_, j) => ({
				lineId: String(n * 100 + j + 1),
				stockCode: BENCH_PRODUCTS[j % BENCH_PRODUCTS.length],
				qty: 1,
				price: '20.00',
				discountPercent: 0,
				discountValue: '0.00',
				taxRate: 1,
			})),
		});
	}
	f.faults = { seed: 42, rules: latencyMs > 0 ? { '*': { latencyMs } } : {} };
	return f;
}

/**
 * The deliveries of a webhook phase, returns firstN… in order: each body is built (and so dated) when
 * it is sent, as ReBound pushes an event when it happens. A body built at the start of the phase was
 * dated then: every delivery sent more than the intake's hold later (SETTLE_SECONDS, 3 s) looked like
 * a late redelivery to the package, which holds such a row that long before the processor may take it
 * (core/inboxRow readyAtMs), and 3 s went into the latency of every later return of a 5/s phase.
 */
export function phaseDeliveries(
	firstN: number,
	returns: number,
	lines: number,
): Array<{ n: number; body: () => Record<string, unknown> }> {
	return Array.from({ length: returns }, (_, i) => ({
		n: firstN + i,
		body: () => benchEvent(firstN + i, lines),
	}));
}

/** A ReBound `return.processed` push event for bench return n, in the sandbox's wire format. */
export function benchEvent(n: number, lines: number): Record<string, unknown> {
	const id = benchReturnId(n);
	return {
		id: `evt_bench_${id}_${randomBytes(4).toString('hex')}`,
		event: 'return.processed',
		occurred_at: new Date().toISOString(),
		sequence: 1,
		data: {
			id,
			display_id: `RB${id}`,
			external_id: `EXT-${id}`,
			order_reference: benchOrderRef(n),
			date_added: '2026-11-25 09:15:00',
			name: 'Bench Customer',
			company_name: '',
			email: 'bench@example.com',
			phone: '',
			addr1: '1 Bench Row',
			addr2: '',
			addr3: '',
			city: 'Leeds',
			state: '',
			zip: 'LS1 1AA',
			country: 'GB',
			carrier: 'Royal Mail',
			tracking: `RM${id}GB`,
			current_tracking_status: 'Processed at hub',
			tracking_last_update: '2026-11-25 09:15:00',
			item: Array.from({ length: lines }, (_, j) => ({
				sku_code: BENCH_PRODUCTS[j % BENCH_PRODUCTS.length],
				sku_desc: `Bench product ${(j % BENCH_PRODUCTS.length) + 1}`,
				quantity: '1',
				price: '20.00',
				cost_price: '8.00',
				hs_code: '620342',
				non_returnable: '0',
				final_disposition: DISPOSITIONS[(n + j) % DISPOSITIONS.length],
				reason: [
					{
						reason: 'Too small',
						action: 'Refund',
						wish: 'Refund',
						additional: { title: 'Comment', value: '' },
					},
				],
			})),
		},
	};
}

/** Days before today bench return n is dated in ReBound (the poll-fed phase: a few days of returns, as after an outage). */
export const benchReturnDaysAgo = (n: number) => n % 3;

/**
 * Bench return n as a graded return in the ReBound sandbox (its state's input format): the same
 * return, lines and dispositions as benchEvent(n, lines) pushes, dated `daysAgo` days back.
 */
export function benchReboundReturn(
	n: number,
	lines: number,
	daysAgo = benchReturnDaysAgo(n),
): Record<string, unknown> {
	const data = { ...(benchEvent(n, lines).data as Record<string, unknown>) };
	delete data.date_added;
	return {
		...data,
		date_added_days_ago: daysAgo,
		date_added_time: '09:15:00',
		status: 'graded',
	};
}

const DEFAULT_REBOUND_FIXTURE = path.join(
	__dirname,
	'..',
	'sandbox',
	'fixtures',
	'rebound-default.json',
);

/** The default ReBound fixture (credentials, webhook signing) without its demo returns, so a poll finds the bench's returns only. */
export function benchReboundFixture(labelBytes?: number): Record<string, unknown> {
	const f = JSON.parse(fs.readFileSync(DEFAULT_REBOUND_FIXTURE, 'utf8')) as Record<string, unknown>;
	return { ...f, returns: [], ...(labelBytes !== undefined ? { labelBytes } : {}) };
}

/** History rows are bench returns numbered from here (return ids 2,700,000 up): none is ever delivered. */
export const HISTORY_BASE = 2_000_000;

/**
 * Inbox history row i: a 3-line return finished a while ago (`done`, credit note recorded), as the
 * intake and the processor leave it, for the bench's --inbox-history (an inbox holding a month of
 * returns, as production does within its retention, instead of an empty one).
 */
export function benchHistoryRow(i: number, lines = 3): Record<string, unknown> {
	const event = benchEvent(HISTORY_BASE + i, lines);
	const parsed = parseWebhookEvent(Buffer.from(JSON.stringify(event)));
	if (!parsed.ok || !parsed.normalised.ok)
		throw new Error(`bench history row ${i}: the bench event does not parse`);
	const at = new Date(Date.now() - 86_400_000).toISOString();
	return {
		...toInboxRow(parsed.normalised.value, at),
		status: 'done',
		processedAt: at,
		creditNoteRef: benchCreditRef(HISTORY_BASE + i),
	};
}

/** How many of N history returns (finished within the 30 days the events and credits are kept) still have an inbox row: the last two days' (finished rows leave the inbox after keepDoneInboxHours, 24, by the daily housekeeping; right before it, up to two days' are there). */
export function historyInboxRows(returns: number): number {
	return Math.ceil((returns * 2) / 30);
}

/** The recorded credit of history row i (`row`: benchHistoryRow(i)), as the processor's Credit Record builds it. */
export function benchHistoryCredit(
	row: Record<string, unknown>,
	i: number,
): Record<string, unknown> {
	return {
		inboxId: i + 1,
		eventId: row.eventId,
		returnId: row.returnId,
		displayId: row.displayId ?? '',
		receivedAt: row.receivedAt ?? '',
		creditNoteRef: row.creditNoteRef,
		creditGross: '59.97',
		creditNet: '49.98',
		claim: 'history',
	};
}
