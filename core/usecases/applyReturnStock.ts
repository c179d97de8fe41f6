/**
 * Apply mapped returns' stock moves in Khaos, bounded by the original order.
 *
 * For a batch of mapped returns, before anything moves:
 * 1. what each line has already moved (one look-up of the returns' move references), so a
 *    re-delivered line moves nothing and a line re-graded after its unit moved is reported
 *    (`regraded_after_move`), never moved a second time;
 * 2. the original orders (batched), so a return whose order is not in Khaos moves nothing
 *    (`order_not_found`);
 * 3. every line that would move is checked against its order: the SKU is on the order
 *    (`line_not_on_order`) and the quantity is at most sold − already returned in Khaos − units
 *    held by other returns (in this batch before it, or passed in as held) (`quantity_exceeds_sold`).
 *    Every problem of a return is reported at once and a return with any of them moves nothing.
 * Then one batched adjustment call moves what is left. Every batched call is isolated: a permanent
 * refusal splits the batch so only the culprit return fails (core/usecases/isolate.ts).
 *
 * A return that arrives carrying problems (core/carriedReturn.ts: passed on by Returns Mapping or
 * Validate SKUs) goes through 1–3 as well, so its order problems are found in the same pass, and
 * never moves anything: no move request is ever made for it. It comes out as all its exceptions,
 * those it carried and its own. Its order is always looked up; every line is bounded that would
 * move or, its disposition unmapped or not graded, may move once fixed; a line whose Khaos stock
 * code is itself the problem (unknown_sku, archived_sku) is not checked against the order (an alias
 * will change it).
 */
import { linesWithSkuProblems, withoutProblems, type CarriedReturn } from '../carriedReturn';
import { makeException, type ExceptionKind, type ReturnException } from '../exceptions';
import {
	type CarriedLine,
	type LineMapping,
	type MappedLine,
	type MappedReturn,
	type PartialMapping,
} from '../mapping';
import type {
	AppliedMove,
	DescribeFailure,
	FailureInfo,
	MoveRequest,
	MoveResult,
	OrderForStock,
	StockPort,
} from '../ports';
import { isolateInChunks } from './isolate';

/**
 * Idempotency reference of one line's stock move: one per return line, ever. The line id is stable
 * across events (transports/rebound/normalise.ts: SKU plus occurrence, never the position). The
 * disposition is deliberately not part of it: a re-grade after the unit moved must not move it again.
 */
export function moveReference(returnId: string, lineId: string): string {
	return `RB-${returnId}-${lineId}-move`;
}

/** The prefix every move reference of a return starts with (one look-up finds them all). */
export function moveReferencePrefix(returnId: string): string {
	return `RB-${returnId}-`;
}

/** Move references made before line ids were stable (`<returnId>:<position>`): matched by SKU. */
function isPositionalReference(reference: string, returnId: string): boolean {
	const prefix = `${moveReference(returnId, `${returnId}:`).slice(0, -'-move'.length)}`;
	return reference.startsWith(prefix) && /^\d+-move$/.test(reference.slice(prefix.length));
}

export interface StockTarget {
	siteId: string;
	locationId: string;
}

/** Where a mapped line's unit goes: restock/quarantine always; write-off only into a given location; no_movement never. */
export function targetOf(line: Pick<MappedLine | CarriedLine, 'mapping'>): StockTarget | null {
	const m: Pick<LineMapping | PartialMapping, 'action' | 'siteId' | 'locationId'> = line.mapping;
	const moves = m.action === 'restock' || m.action === 'quarantine' || m.action === 'write_off';
	return moves && m.siteId && m.locationId ? { siteId: m.siteId, locationId: m.locationId } : null;
}

/** A return holding units of an order outside this batch (stock moved, not yet imported into Khaos). */
export interface HeldReturn {
	returnId: string;
	orderReference: string;
	lines: Array<{ stockCode: string; quantity: number }>;
}

/**
 * A mapped return (moves its stock), or a return carrying problems (core/carriedReturn.ts: checked,
 * never moved). `payload` is the record as it arrived, kept on exception rows for replay.
 */
export type StockInput =
	| { ret: MappedReturn; payload: unknown }
	| { carried: CarriedReturn; payload: unknown };

export interface ApplyStockOptions {
	/** Text of the adjustment reason; the line's disposition is appended. */
	reasonText: string;
	/** Look the order up and bound the moves by it (default true). */
	checkOrder?: boolean;
	/** Returns outside this batch that hold units (finance batched: stock moved, credit not yet posted). */
	held?: HeldReturn[];
	/** Calls carry at most this many records (Khaos' batch size). */
	batchSize?: number;
	/**
	 * A line whose unit already moved but whose grade (target location) or quantity has changed since:
	 * 'block' (default) raises regraded_after_move and moves nothing for the return; 'continue' (a
	 * person has dealt with the unit, e.g. a replay) moves nothing for that line and lets the return go on.
	 */
	changedAfterMove?: 'block' | 'continue';
}

export type LineResult = 'applied' | 'duplicate' | 'no_movement';

export interface LineStockMove {
	lineId: string;
	result: LineResult;
	applied: boolean;
	duplicate: boolean;
	reference: string | null;
	stockCode: string | null;
	siteId: string | null;
	locationId: string | null;
	quantity: number | null;
	newLevel: number | null;
}

export type StockOutcome =
	| { ok: true; lines: LineStockMove[] }
	| { ok: false; exceptions: ReturnException[] };

interface LinePlan {
	/** Position in the return's lines (for field paths). */
	index: number;
	lineId: string;
	quantity: number;
	disposition: string | null;
	/** The Khaos stock code (the mapping's khaosSku). */
	stockCode: string;
	/** The stock action; null when the line's disposition did not map (a carried return's line). */
	action: LineMapping['action'] | null;
	target: StockTarget | null;
	reference: string;
	/** The adjustment already applied for this line, if any. */
	moved: AppliedMove | null;
	/** The move to make: only ever set for a mapped return, never for a carried one. */
	request: MoveRequest | null;
	/** Checked against the order: it moves (request) or, in a carried return, would or may move. */
	bounded: boolean;
	/**
	 * Its units will be credited or held for a finance review (not an exchange, not a grade never
	 * credited): even when nothing moves (a missing item), they must be within what the order sold.
	 */
	creditable: boolean;
}

interface Work {
	ret: MappedReturn | CarriedReturn;
	/** Kept on exception rows for replay (a carried return's without its problems). */
	payload: unknown;
	/** The problems a carried return arrived with; null for a mapped return (the only kind that moves). */
	carried: ReturnException[] | null;
	lines: LinePlan[];
	problems: ReturnException[];
	/** A call failed for this return: its exceptions replace everything else. */
	failed: ReturnException[] | null;
}

const lower = (s: string) => s.trim().toLowerCase();

export async function applyReturnStock(
	port: StockPort,
	inputs: StockInput[],
	options: ApplyStockOptions,
	describe: DescribeFailure,
): Promise<StockOutcome[]> {
	const batchSize = options.batchSize ?? 50;
	const work: Work[] = inputs.map(workOf);
	const exceptionOf = (
		w: Work,
		kind: ExceptionKind,
		message: string,
		extra: Partial<Parameters<typeof makeException>[2]> = {},
	) =>
		makeException(kind, `Return ${w.ret.returnId}: ${message}`, {
			stage: 'stock',
			returnId: w.ret.returnId,
			displayId: w.ret.displayId,
			orderReference: w.ret.orderReference,
			payload: w.payload,
			...extra,
		});
	const fail = (ws: Work[], failure: FailureInfo, what: string) => {
		for (const w of ws) {
			if (w.failed) continue;
			const kind: ExceptionKind =
				failure.category === 'transient' ? 'transient_exhausted' : 'khaos_rejected';
			w.failed = [
				exceptionOf(w, kind, `${what} failed: ${failure.message}`, {
					code: failure.code,
					details: { status: failure.status, attempts: failure.attempts },
				}),
			];
		}
	};
	const live = () => work.filter((w) => !w.failed);

	// 1. what has already moved, for every return (a re-grade can turn a moved line into no movement)
	const prefixed = await isolateInChunks(
		live(),
		batchSize,
		(ws) =>
			port.getStockAdjustments({
				prefixes: ws.map((w) => moveReferencePrefix(w.ret.returnId)),
			}),
		describe,
	);
	for (const part of prefixed) {
		if ('failure' in part) {
			fail(part.items, part.failure, 'looking up the stock moves already made in Khaos');
			continue;
		}
		for (const w of part.items) matchApplied(w, part.result);
	}

	// 2. what each line would do now
	for (const w of live()) {
		const skuProblems = w.carried ? linesWithSkuProblems(w.carried) : new Set<string>();
		for (const p of w.lines) {
			if (p.moved && p.action !== null) {
				const same =
					p.target &&
					lower(p.target.siteId) === lower(p.moved.siteId) &&
					lower(p.target.locationId) === lower(p.moved.locationId);
				const sameQuantity = p.moved.quantity === p.quantity;
				if ((!same || !sameQuantity) && options.changedAfterMove !== 'continue') {
					const to = p.target
						? `site ${p.target.siteId} location ${p.target.locationId}`
						: `no movement (${p.action})`;
					const what = !same
						? `was re-graded to "${p.disposition}"`
						: `now says ${p.quantity} unit(s)`;
					w.problems.push(
						exceptionOf(
							w,
							'regraded_after_move',
							`line ${p.lineId} (SKU ${p.stockCode}) ${what} after ${p.moved.quantity} unit(s) moved into site ${p.moved.siteId} location ${p.moved.locationId} (reference ${p.moved.reference}); it now maps to ${to}${sameQuantity ? '' : ` for ${p.quantity} unit(s)`}. Nothing was moved.`,
							{
								sku: p.stockCode,
								lineId: p.lineId,
								code: p.moved.reference,
								details: {
									fromSiteId: p.moved.siteId,
									fromLocationId: p.moved.locationId,
									toSiteId: p.target?.siteId ?? null,
									toLocationId: p.target?.locationId ?? null,
									quantity: p.moved.quantity,
									newQuantity: p.quantity,
									disposition: p.disposition,
								},
							},
						),
					);
				}
			} else if (p.moved) {
				// a carried line whose disposition did not map: where it would go now is unknown
			} else if (w.carried) {
				// never a request: checked against the order when it would move, or may once its disposition maps
				p.bounded = (p.target !== null || p.action === null) && !skuProblems.has(p.lineId);
			} else if (p.target) {
				p.request = {
					stockCode: p.stockCode,
					siteId: p.target.siteId,
					locationId: p.target.locationId,
					adjustBy: p.quantity,
					reason: `${options.reasonText} (${p.disposition})`.slice(0, 100),
					reference: p.reference,
				};
				p.bounded = true;
			} else if (p.creditable) {
				// nothing moves (no movement, a write-off without a location), but the credit or a finance
				// review will count these units: bounded too, before anything of the return moves
				p.bounded = true;
			}
		}
	}

	// 3. bound every move by the original order
	if (options.checkOrder !== false)
		await checkOrders(port, work, options, describe, exceptionOf, fail);

	// 4. one batched call for every move of every mapped return without a problem
	const moving = live().filter(
		(w) => !w.carried && w.problems.length === 0 && w.lines.some((p) => p.request),
	);
	const results = new Map<string, MoveResult>();
	const applied = await isolateInChunks(moving, batchSize, (ws) => adjustAll(port, ws), describe);
	for (const part of applied) {
		if ('failure' in part) fail(part.items, part.failure, 'the Khaos stock adjustment');
		else for (const [ref, r] of part.result) if (!results.has(ref)) results.set(ref, r);
	}

	return work.map((w): StockOutcome => {
		if (w.failed) return { ok: false, exceptions: w.failed };
		if (w.carried) {
			const payload = JSON.stringify(w.payload);
			return {
				ok: false,
				exceptions: [...w.carried.map((p) => ({ ...p, payload })), ...w.problems],
			};
		}
		if (w.problems.length) return { ok: false, exceptions: w.problems };
		const rejected: ReturnException[] = [];
		const lines = w.lines.map((p): LineStockMove => {
			if (p.moved)
				return moveJson(
					p,
					'duplicate',
					p.moved.stockCode,
					p.moved.siteId,
					p.moved.locationId,
					p.moved.quantity,
					null,
				);
			if (!p.request) return moveJson(p, 'no_movement', null, null, null, null, null);
			const r = results.get(p.reference);
			if (!r || r.rejectReason) {
				const why = r
					? `Khaos rejected stock move ${p.reference}: ${r.rejectReason}`
					: `Khaos returned no result for stock move ${p.reference}`;
				rejected.push(
					exceptionOf(w, 'khaos_rejected', why, {
						sku: p.request.stockCode,
						lineId: p.lineId,
						code: p.reference,
						details: { siteId: p.request.siteId, locationId: p.request.locationId },
					}),
				);
			}
			return moveJson(
				p,
				r?.duplicate ? 'duplicate' : 'applied',
				p.request.stockCode,
				p.request.siteId,
				p.request.locationId,
				p.request.adjustBy,
				r?.newLevel ?? null,
				r,
			);
		});
		// the other lines' moves stand; a replay of the return finds them applied and moves them no more
		return rejected.length ? { ok: false, exceptions: rejected } : { ok: true, lines };
	});
}

function workOf(input: StockInput): Work {
	const carried = 'carried' in input;
	const ret = carried ? input.carried : input.ret;
	const lines = (ret.lines as Array<MappedLine | CarriedLine>).map(
		(line, index): LinePlan => ({
			index,
			lineId: line.lineId,
			quantity: line.quantity,
			disposition: line.disposition,
			stockCode: line.mapping.khaosSku,
			action: line.mapping.action,
			target: targetOf(line),
			reference: moveReference(ret.returnId, line.lineId),
			moved: null,
			request: null,
			bounded: false,
			creditable:
				!('credit' in line.mapping) || ['credit', 'hold'].includes(String(line.mapping.credit)),
		}),
	);
	return {
		ret,
		payload: carried ? withoutProblems(input.payload) : input.payload,
		carried: carried ? input.carried.problems : null,
		lines,
		problems: [],
		failed: null,
	};
}

function moveJson(
	p: LinePlan,
	result: LineResult,
	stockCode: string | null,
	siteId: string | null,
	locationId: string | null,
	quantity: number | null,
	newLevel: number | null,
	r?: MoveResult,
): LineStockMove {
	return {
		lineId: p.lineId,
		result,
		applied: result === 'applied' ? (r?.applied ?? false) : false,
		duplicate: result === 'duplicate',
		reference: result === 'no_movement' ? null : p.moved ? p.moved.reference : p.reference,
		stockCode,
		siteId,
		locationId,
		quantity,
		newLevel,
	};
}

/** The return's lines that Khaos has already moved: by their reference, or (older references by position) by SKU. */
function matchApplied(w: Work, applied: AppliedMove[]): void {
	const returnId = w.ret.returnId;
	const byRef = new Map(applied.map((a) => [a.reference, a]));
	for (const p of w.lines) p.moved = byRef.get(p.reference) ?? null;
	const claimed = new Set(w.lines.map((p) => p.moved?.reference));
	const positional = applied.filter(
		(a) => !claimed.has(a.reference) && isPositionalReference(a.reference, returnId),
	);
	for (const a of positional) {
		const p = w.lines.find((x) => !x.moved && lower(x.stockCode) === lower(a.stockCode));
		if (p) p.moved = a;
	}
}

async function adjustAll(port: StockPort, ws: Work[]): Promise<Map<string, MoveResult>> {
	const requests = ws.flatMap((w) => w.lines.flatMap((p) => (p.request ? [p.request] : [])));
	const out = await port.adjustStock(requests);
	const byRef = new Map<string, MoveResult>();
	requests.forEach((req, i) => {
		// two rows of one return in a batch send the same reference twice: Khaos applies the first
		if (out[i] && !byRef.has(req.reference)) byRef.set(req.reference, out[i]);
	});
	return byRef;
}

type ExceptionOf = (
	w: Work,
	kind: ExceptionKind,
	message: string,
	extra?: Partial<Parameters<typeof makeException>[2]>,
) => ReturnException;

async function checkOrders(
	port: StockPort,
	work: Work[],
	options: ApplyStockOptions,
	describe: DescribeFailure,
	exceptionOf: ExceptionOf,
	fail: (ws: Work[], failure: FailureInfo, what: string) => void,
): Promise<void> {
	// a carried return's order is always looked up: order_not_found is one of its problems too
	const needs = work.filter((w) => !w.failed && (w.carried || w.lines.some((p) => p.bounded)));
	const refs = [
		...new Map(
			needs.map((w) => [lower(w.ret.orderReference), w.ret.orderReference.trim()]),
		).values(),
	];
	const orders = new Map<string, OrderForStock>();
	const failedRefs = new Map<string, FailureInfo>();
	const looked = await isolateInChunks(
		refs,
		options.batchSize ?? 50,
		(batch) => port.getSalesOrders(batch),
		describe,
	);
	for (const part of looked) {
		if ('failure' in part) for (const ref of part.items) failedRefs.set(lower(ref), part.failure);
		else for (const [ref, order] of part.result) orders.set(lower(ref), order);
	}

	// units of an order+SKU taken: by returns held outside the batch, then by each return of the batch in order
	const taken = new Map<string, number>();
	const key = (order: string, sku: string) => `${lower(order)}\u0000${lower(sku)}`;
	const inBatch = new Set(work.map((w) => w.ret.returnId));
	for (const h of options.held ?? []) {
		if (inBatch.has(h.returnId)) continue;
		for (const l of h.lines)
			taken.set(
				key(h.orderReference, l.stockCode),
				(taken.get(key(h.orderReference, l.stockCode)) ?? 0) + l.quantity,
			);
	}
	const countedRefs = new Set<string>();
	// Units the batch's returns have already moved are in stock but, unless their credit was imported,
	// not in Khaos' quantity returned: they count too (each move reference once). Counting them also
	// when the credit was imported can only refuse, never over-move; a refused return can be replayed.
	for (const w of work) {
		if (w.failed) continue;
		for (const p of w.lines) {
			if (!p.moved || countedRefs.has(p.moved.reference)) continue;
			countedRefs.add(p.moved.reference);
			const k = key(w.ret.orderReference, p.moved.stockCode);
			taken.set(k, (taken.get(k) ?? 0) + p.moved.quantity);
		}
	}

	for (const w of needs) {
		const ret = w.ret;
		const failure = failedRefs.get(lower(ret.orderReference));
		if (failure) {
			fail([w], failure, `looking up the original order "${ret.orderReference}" in Khaos`);
			continue;
		}
		const order = orders.get(lower(ret.orderReference));
		if (!order) {
			w.problems.push(
				exceptionOf(
					w,
					'order_not_found',
					`the original order "${ret.orderReference.slice(0, 60)}" is not in Khaos, so no stock was moved (nor can it be credited)`,
					{
						code: ret.orderReference.slice(0, 60),
						field: 'orderReference',
					},
				),
			);
			continue;
		}
		const wants = new Map<string, { stockCode: string; quantity: number; lines: LinePlan[] }>();
		for (const p of w.lines) {
			if (!p.bounded || countedRefs.has(p.reference)) continue;
			const k = lower(p.stockCode);
			const entry = wants.get(k) ?? { stockCode: p.stockCode, quantity: 0, lines: [] };
			entry.quantity += p.quantity;
			entry.lines.push(p);
			wants.set(k, entry);
		}
		const claims: Array<[string, number]> = [];
		for (const [sku, want] of wants) {
			const orderLines = order.lines.filter((l) => lower(l.stockCode) === sku);
			const first = want.lines[0];
			const lineIds = want.lines.map((p) => p.lineId).join(', ');
			const field = `lines[${first.index}].sku`;
			if (orderLines.length === 0) {
				w.problems.push(
					exceptionOf(
						w,
						'line_not_on_order',
						`SKU ${want.stockCode} (line ${lineIds}) is not on the original order ${order.associatedRef}, so no stock was moved`,
						{
							sku: want.stockCode,
							lineId: first.lineId,
							field,
							code: order.associatedRef,
						},
					),
				);
				continue;
			}
			const sold = orderLines.reduce((n, l) => n + l.qtyOrdered, 0);
			const returned = orderLines.reduce((n, l) => n + l.qtyReturned, 0);
			const held = taken.get(key(ret.orderReference, sku)) ?? 0;
			const available = Math.max(0, sold - returned - held);
			if (want.quantity > available) {
				w.problems.push(
					exceptionOf(
						w,
						'quantity_exceeds_sold',
						`${want.quantity} unit(s) of SKU ${want.stockCode} (line ${lineIds}) ${w.carried || !want.lines.some((x) => x.request) ? 'are returned' : 'would move'}, but order ${order.associatedRef} sold ${sold}, ${returned} already returned in Khaos and ${held} moved or held by returns in progress: at most ${available}. Nothing was moved`,
						{
							sku: want.stockCode,
							lineId: first.lineId,
							field: `lines[${first.index}].quantity`,
							code: order.associatedRef,
							details: {
								requested: want.quantity,
								sold,
								returnedInKhaos: returned,
								heldByOtherReturns: held,
								available,
							},
						},
					),
				);
				continue;
			}
			claims.push([key(ret.orderReference, sku), want.quantity]);
		}
		// a carried return moves nothing, so it takes no units from the returns after it
		if (w.problems.length || w.carried) continue;
		for (const [k, n] of claims) taken.set(k, (taken.get(k) ?? 0) + n);
		for (const p of w.lines) if (p.request) countedRefs.add(p.reference);
	}
}

/** Held returns read leniently from mapped-return records (e.g. inbox rows waiting for credit posting). */
export function heldFromRecords(records: unknown[]): HeldReturn[] {
	const out: HeldReturn[] = [];
	const seen = new Set<string>();
	for (const rec of records) {
		const r = typeof rec === 'string' ? safeJson(rec) : rec;
		if (!r || typeof r !== 'object') continue;
		const o = r as Record<string, unknown>;
		if (
			typeof o.returnId !== 'string' ||
			typeof o.orderReference !== 'string' ||
			!Array.isArray(o.lines)
		)
			continue;
		const lines: HeldReturn['lines'] = [];
		for (const l of o.lines as unknown[]) {
			if (!l || typeof l !== 'object') continue;
			const line = l as Record<string, unknown>;
			const mapping = line.mapping as Record<string, unknown> | undefined;
			const move = line.stockMove as Record<string, unknown> | undefined;
			const moved = move ? move.result === 'applied' || move.result === 'duplicate' : false;
			if (
				!moved ||
				!mapping ||
				typeof mapping.khaosSku !== 'string' ||
				typeof line.quantity !== 'number'
			)
				continue;
			lines.push({ stockCode: mapping.khaosSku, quantity: line.quantity });
		}
		// one record per return: two rows of one return (a row waiting for posting and its open credit
		// exception, say) hold its units once
		if (lines.length && !seen.has(o.returnId)) {
			seen.add(o.returnId);
			out.push({ returnId: o.returnId, orderReference: o.orderReference, lines });
		}
	}
	return out;
}

function safeJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}
