/**
 * Credit Note: Create From Return and Find By Reference.
 *
 * Create From Return, per execution:
 * 1. mapped returns are validated (invalid → invalid_payload);
 * 2. one batched status look-up of every `RB-<returnId>`: a return whose credit
 *    note already exists is a duplicate delivery and is reported as such, with
 *    nothing imported or processed again (its units are already counted as
 *    returned on the order, so computing again would be wrong);
 * 3. every distinct original order is fetched in batched ExportOrders calls
 *    (batchSize refs a call; a failed call fails only the returns of its orders);
 * 4. in waves (the k-th return of each order in wave k): every credit of the
 *    wave is computed by core/creditNote (never from ReBound's refund), the wave
 *    is imported in batched ImportReturns calls (ASSOCIATED_REF `RB-<returnId>`,
 *    restock false: stock moved in the stock step; each return imported or
 *    skipped on its own; a failed call → an exception per return of that call);
 * 5. each imported return is processed (ProcessReturn, one a call; a duplicate import
 *    whose credit note already exists for the same items' net — an overlapping
 *    run processed it — is found in one batched status look-up and not processed
 *    again, reported `processed: 'already_processed'` as ProcessReturn would); the cached
 *    order then counts its units as returned, so two returns of one order in one
 *    execution never credit the same unit twice.
 * Items come out in input order.
 * Outputs: "Created" (credit notes, duplicates included) and "Exceptions".
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { CREDIT_PROBLEM_EXCEPTION_KIND, computeCredit, type CreditLine, type CreditOptions, type CreditOrder, type DeliveryPolicy, type RoundingRule } from '../../../../core/creditNote';
import type { ExceptionKind } from '../../../../core/exceptions';
import { validateMappedReturn, type MappedReturn } from '../../../../core/mapping';
import type { ImportReturnInput, ImportReturnResult, KhaosOrderStatus, KhaosSalesOrder } from '../../../../transports/khaos/api';
import {
	exceptionItem,
	failureExceptions,
	isolateOrFail,
	money,
	outputItem,
	perItem,
	recordException,
	recordName,
	splitCodes,
	type KhaosRun,
	type OperationResult,
} from '../../common';

export async function executeCreditNote(run: KhaosRun, operation: string): Promise<OperationResult> {
	if (operation === 'createFromReturn') return createFromReturn(run);
	if (operation === 'findByReference') return [await findByReference(run)];
	throw new Error(`Unknown credit note operation "${operation}"`);
}

/** The duplicate guard of a return's import (Khaos allows 50 characters). */
export function returnAssociatedRef(returnId: string): string {
	return `RB-${returnId}`;
}

export function toCreditOrder(o: KhaosSalesOrder): CreditOrder {
	return {
		orderRef: o.associatedRef,
		currency: o.currency,
		exchangeRate: o.exchangeRate,
		priceBasis: o.priceBasis,
		vatRounding: o.vatRounding,
		orderDiscountPence: o.orderDiscountPence,
		delivery: o.delivery.grossPence > 0 || o.delivery.netPence > 0 ? { pricePence: o.priceBasis === 'gross' ? o.delivery.grossPence : o.delivery.netPence, vatRatePercent: o.delivery.vatRatePercent } : null,
		deliveryAlreadyRefunded: o.deliveryRefunded,
		lines: o.lines.map((l) => ({
			lineId: l.lineId,
			sku: l.stockCode,
			qtySold: l.qtyOrdered,
			qtyPreviouslyReturned: l.qtyReturned,
			unitPricePence: l.unitPricePence,
			discountPercent: l.discountPercent,
			discountValuePence: l.discountValuePence,
			vatRatePercent: l.vatRatePercent,
		})),
	};
}

interface Options {
	credit: CreditOptions;
	manualAuthCode: string;
	processReturn: boolean;
	/** ProcessReturn calls in flight at once (1–16). */
	processConcurrency: number;
}

/** Runs task(0..count-1) with at most `limit` running at once; resolves when all have settled. */
async function inPool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < count) {
			const i = next++;
			await task(i);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

function readOptions(run: KhaosRun): Options {
	const o = run.ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const policy = (['never', 'whole_order', 'always'] as const).find((p) => p === o.deliveryPolicy) ?? 'never';
	const rounding = (['half_up', 'half_even'] as const).find((r) => r === o.rounding) ?? 'half_up';
	const tolerance = o.tolerancePencePerLine === undefined ? 1 : Number(o.tolerancePencePerLine);
	if (!Number.isFinite(tolerance) || tolerance < 0) throw new Error('Options › Tolerance (Pence per Line) must be 0 or more');
	return {
		credit: { deliveryPolicy: policy as DeliveryPolicy, rounding: rounding as RoundingRule, tolerancePencePerLine: Math.floor(tolerance) },
		manualAuthCode: String(o.manualAuthCode ?? 'REBOUND').trim() || 'REBOUND',
		processReturn: o.processReturn === undefined ? true : o.processReturn === true,
		processConcurrency: Math.min(16, Math.max(1, Math.floor(Number(o.processConcurrency ?? 4)) || 1)),
	};
}

function skipKind(result: ImportReturnResult): ExceptionKind {
	switch (result.skipCode) {
		case 'quantity_exceeds_sold':
			return 'quantity_exceeds_sold';
		case 'order_not_found':
			return 'order_not_found';
		case 'line_not_found':
			return 'unknown_sku';
		case 'unknown_stock':
			return /deleted|not stock controlled/i.test(result.skipReason ?? '') ? 'archived_sku' : 'unknown_sku';
		default:
			return 'khaos_rejected';
	}
}

function creditLineJson(l: CreditLine, extra: IDataObject): IDataObject {
	return {
		kind: l.kind,
		orderLineId: l.lineId,
		sku: l.sku,
		returnLineIds: l.refs ?? (l.ref ? [l.ref] : []),
		quantity: l.quantity,
		fromUnit: l.fromUnit,
		toUnit: l.toUnit,
		vatRatePercent: l.vatRatePercent,
		netPence: l.netPence,
		vatPence: l.vatPence,
		grossPence: l.grossPence,
		net: money(l.netPence),
		vat: money(l.vatPence),
		gross: money(l.grossPence),
		...extra,
	};
}

type Rec = { itemIndex: number; json: IDataObject; ret: MappedReturn; associatedRef: string };
type OrderEntry = { order: KhaosSalesOrder | null } | { error: unknown };
/** Per return: its items on both outputs (assembled in input order at the end). */
type Outcome = { created: INodeExecutionData[]; exceptions: INodeExecutionData[] };
/** A return whose credit is computed and whose import is ready. */
type Prepared = {
	rec: Rec;
	order: KhaosSalesOrder;
	result: Extract<ReturnType<typeof computeCredit>, { ok: true }>;
	input: ImportReturnInput;
	itemLines: CreditLine[];
	deliveryLine: CreditLine | null;
	placeOf: (l: CreditLine) => { reasonId: string; siteId: string; locationId: string | null };
};

async function createFromReturn(run: KhaosRun): Promise<OperationResult> {
	const created: INodeExecutionData[] = [];
	const exceptions: INodeExecutionData[] = [];
	const options = readOptions(run);

	// 1. validate
	const recs: Rec[] = [];
	run.items.forEach((item, itemIndex) => {
		const parsed = validateMappedReturn(item.json);
		if (!parsed.ok) {
			exceptions.push(exceptionItem(recordException('invalid_payload', parsed.message, item.json, 'credit', { field: parsed.issues[0]?.field ?? null }), itemIndex));
			return;
		}
		// the model bounds the return id (RB-<id> fits Khaos' 50 characters) and keeps commas and XML-illegal characters out of every key
		const associatedRef = returnAssociatedRef(parsed.value.returnId);
		recs.push({ itemIndex, json: item.json, ret: parsed.value, associatedRef });
	});
	if (recs.length === 0) return [created, exceptions];

	// 2. credit notes that already exist (duplicate deliveries): one batched look-up
	// (every batched call below is isolated: a refused call is split until only the culprit fails)
	const existing = new Map<string, KhaosOrderStatus>();
	const looked: Rec[] = [];
	for (const part of await isolateOrFail(run, recs, (batch) => run.api.getOrderStatuses(batch.map((r) => r.associatedRef)))) {
		if ('failure' in part) {
			exceptions.push(...failureExceptions(run, part.error, part.items, 'credit', 'the Khaos credit-note look-up'));
			continue;
		}
		looked.push(...part.items);
		for (const s of part.result) if (s.orderType === 2 && !s.cancelled) existing.set(s.associatedRef.toLowerCase(), s);
	}

	const outcomes = new Map<Rec, Outcome>(recs.map((r) => [r, { created: [], exceptions: [] }]));
	const outcome = (rec: Rec) => outcomes.get(rec) as Outcome;
	/** Anything unexpected still ends as an exception for this return (or fails the node without continueOnFail). */
	const guarded = async (rec: Rec, what: string, fn: () => Promise<void> | void): Promise<void> => {
		try {
			await fn();
		} catch (error) {
			outcome(rec).exceptions.push(...failureExceptions(run, error, [rec], 'credit', what));
		}
	};

	const pending: Rec[] = [];
	for (const rec of looked) {
		const already = existing.get(rec.associatedRef.toLowerCase());
		if (!already) {
			pending.push(rec);
			continue;
		}
		const { ret, itemIndex } = rec;
		outcome(rec).created.push(
			outputItem(
				{
					returnId: ret.returnId,
					displayId: ret.displayId,
					orderReference: ret.orderReference,
					associatedRef: rec.associatedRef,
					duplicate: true,
					creditNoteCode: already.orderCode,
					returnCode: null,
					currency: already.currency,
					dateCreated: already.dateCreated,
					totals: { netPence: already.itemsNetPence + already.deliveryNetPence, net: money(already.itemsNetPence + already.deliveryNetPence) },
				},
				itemIndex,
			),
		);
	}

	// 3. every distinct original order of the execution: batched ExportOrders (a failed batch fails only its orders)
	const orderKey = (ref: string) => ref.trim().toLowerCase();
	const orders = new Map<string, OrderEntry>();
	const refs: string[] = [];
	for (const rec of pending) {
		const key = orderKey(rec.ret.orderReference);
		if (!orders.has(key)) {
			orders.set(key, { order: null });
			refs.push(rec.ret.orderReference.trim());
		}
	}
	const refRecords = refs.map((ref, i) => ({ ref, itemIndex: i }));
	for (const part of await isolateOrFail(run, refRecords, (batch) => run.api.getSalesOrders(batch.map((r) => r.ref)))) {
		if ('failure' in part) {
			for (const { ref } of part.items) orders.set(orderKey(ref), { error: part.error });
			continue;
		}
		const byKey = new Map([...part.result.entries()].map(([k, o]) => [orderKey(k), o]));
		// a private copy: the waves below count this execution's returns on it
		for (const { ref } of part.items) {
			const o = byKey.get(orderKey(ref));
			orders.set(orderKey(ref), { order: o ? (JSON.parse(JSON.stringify(o)) as KhaosSalesOrder) : null });
		}
	}

	// 4.–5. in waves: the k-th return of each order in wave k, so two returns of one order see
	// each other's units (and delivery) as returned, exactly as one after the other would
	const groups = new Map<string, Rec[]>();
	for (const rec of pending) {
		const key = orderKey(rec.ret.orderReference);
		const g = groups.get(key);
		if (g) g.push(rec);
		else groups.set(key, [rec]);
	}
	const waves = Math.max(0, ...[...groups.values()].map((g) => g.length));
	for (let w = 0; w < waves; w++) {
		const wave = [...groups.values()].filter((g) => g.length > w).map((g) => g[w]);
		const prepared: Prepared[] = [];
		for (const rec of wave) {
			await guarded(rec, 'creating the credit note', () => {
				const p = prepare(run, rec, orders.get(orderKey(rec.ret.orderReference)) as OrderEntry, options, outcome(rec));
				if (p) prepared.push(p);
			});
		}

		const importable = prepared.map((p) => ({ ...p, itemIndex: p.rec.itemIndex }));
		for (const part of await isolateOrFail(run, importable, async (batch) => {
			const results = await run.api.importReturns(batch.map((p) => p.input));
			if (results.length !== batch.length) throw new Error(`Khaos ImportReturns answered ${results.length} result(s) for ${batch.length} return(s)`);
			return results;
		})) {
			const batch = part.items;
			if ('failure' in part) {
				// only the culprit (or, for a transient failure, its batch) is an exception; the others go on
				for (const p of batch) outcome(p.rec).exceptions.push(...failureExceptions(run, part.error, [p.rec], 'return', 'importing the return into Khaos'));
				continue;
			}
			const results = part.result;
			const credited = await alreadyCredited(run, batch, results, options);
			// ProcessReturn is one return a call: up to processConcurrency calls at once. Safe: a wave
			// holds at most one return of each order, so no two of them count units on the same order.
			await inPool(batch.length, options.processConcurrency, (i) =>
				guarded(batch[i].rec, 'creating the credit note', () => finish(run, batch[i], results[i], options, outcome(batch[i].rec), credited.has(batch[i].rec.associatedRef.toLowerCase()))),
			);
		}
	}

	for (const rec of recs) {
		const o = outcome(rec);
		created.push(...o.created);
		exceptions.push(...o.exceptions);
	}
	return [created, exceptions];
}

/** Compute the credit of one return from its (cached) order; null when it became an exception. */
function prepare(run: KhaosRun, rec: Rec, entry: OrderEntry, options: Options, out: Outcome): Prepared | null {
	const { ret, json, itemIndex } = rec;
	if ('error' in entry) {
		out.exceptions.push(...failureExceptions(run, entry.error, [rec], 'credit', `fetching order ${ret.orderReference}`));
		return null;
	}
	const order = entry.order;
	if (!order) {
		out.exceptions.push(
			exceptionItem(
				recordException('order_not_found', `${recordName(json)}: no Khaos sales order has the associated ref ${ret.orderReference}`, json, 'credit', { code: ret.orderReference }),
				itemIndex,
			),
		);
		return null;
	}

	const result = computeCredit(
		toCreditOrder(order),
		ret.lines.map((l) => ({ sku: l.mapping.khaosSku, quantity: l.quantity, ref: l.lineId })),
		{ ...options.credit, refundPence: ret.refundPence },
	);
	if (!result.ok) {
		for (const p of result.problems) {
			const lineId = ret.lines.find((l) => p.sku !== null && l.mapping.khaosSku.toLowerCase() === p.sku.toLowerCase())?.lineId ?? null;
			out.exceptions.push(
				exceptionItem(
					recordException(CREDIT_PROBLEM_EXCEPTION_KIND[p.kind], `${recordName(json)} (order ${order.associatedRef}): ${p.message}`, json, 'credit', {
						sku: p.sku,
						lineId,
						code: p.kind,
						field: p.field,
						details: { requested: p.requested, available: p.available, orderLineId: p.lineId },
					}),
					itemIndex,
				),
			);
		}
		return null;
	}

	const lineById = new Map(ret.lines.map((l) => [l.lineId, l]));
	const placeOf = (l: CreditLine) => {
		const first = (l.refs ?? (l.ref ? [l.ref] : [])).map((r) => lineById.get(r)).find((x) => x !== undefined);
		const m = first?.mapping;
		return { reasonId: m?.reasonId ?? '', siteId: m?.siteId ?? (order.siteId || run.creds.defaultSiteId), locationId: m?.locationId ?? null };
	};
	const itemLines = result.lines.filter((l) => l.kind === 'item');
	const deliveryLine = result.lines.find((l) => l.kind === 'delivery') ?? null;
	const input: ImportReturnInput = {
		associatedRef: rec.associatedRef,
		customerUrn: order.customerUrn,
		orderAssociatedRef: order.associatedRef,
		currency: order.currency,
		exchangeRate: order.exchangeRate,
		notes: `ReBound return ${ret.displayId ?? ret.returnId}`,
		lines: itemLines.map((l) => ({
			stockCode: l.sku ?? '',
			quantity: l.quantity,
			orderLineId: l.lineId ?? '',
			restock: false,
			creditNetPence: l.netPence,
			creditTaxPence: l.vatPence,
			creditGrossPence: l.grossPence,
			...placeOf(l),
		})),
		delivery: deliveryLine ? { netPence: deliveryLine.netPence, taxPence: deliveryLine.vatPence, grossPence: deliveryLine.grossPence } : null,
	};
	return { rec, order, result, input, itemLines, deliveryLine, placeOf };
}

/**
 * Returns of a batch that Khaos reported as duplicates (imported before, e.g. by
 * an overlapping run) and whose credit note now exists for exactly the items'
 * net computed here: one batched status look-up, so ProcessReturn is not called
 * once per duplicate only to answer "already processed". A credit note for a
 * different amount (partly processed) is not in the set: ProcessReturn is called
 * as before. A failed look-up leaves the set empty (ProcessReturn as before).
 */
async function alreadyCredited(run: KhaosRun, batch: Prepared[], results: ImportReturnResult[], options: Options): Promise<Set<string>> {
	const out = new Set<string>();
	if (!options.processReturn) return out;
	const dups = batch.filter((_p, i) => results[i].duplicate && results[i].returnCode);
	if (dups.length === 0) return out;
	let statuses: KhaosOrderStatus[];
	try {
		statuses = await run.api.getOrderStatuses(dups.map((p) => p.rec.associatedRef));
	} catch {
		return out;
	}
	for (const p of dups) {
		const ref = p.rec.associatedRef.toLowerCase();
		const itemsNet = p.itemLines.reduce((sum, l) => sum + l.netPence, 0);
		if (statuses.some((s) => s.orderType === 2 && !s.cancelled && s.associatedRef.toLowerCase() === ref && s.itemsNetPence === itemsNet)) out.add(ref);
	}
	return out;
}

/** After the import: the skip exception, or ProcessReturn (one per call) and the Created item. */
async function finish(run: KhaosRun, p: Prepared, imported: ImportReturnResult, options: Options, out: Outcome, credited = false): Promise<void> {
	const { rec, order, result, itemLines, deliveryLine, placeOf } = p;
	const { ret, json, itemIndex } = rec;
	if (!imported.imported && !imported.duplicate) {
		out.exceptions.push(
			exceptionItem(
				recordException(skipKind(imported), `${recordName(json)}: Khaos did not import the return: ${imported.skipReason ?? 'no reason given'}`, json, 'return', {
					code: imported.skipCode ?? null,
				}),
				itemIndex,
			),
		);
		return;
	}

	let processed: string | null = null;
	if (options.processReturn && imported.returnCode && credited) {
		processed = 'already_processed';
	} else if (options.processReturn && imported.returnCode) {
		try {
			processed = await run.api.processReturn(imported.returnCode, options.manualAuthCode);
		} catch (error) {
			// the return stays imported; a replay finds it as a duplicate and processes it then
			out.exceptions.push(...failureExceptions(run, error, [rec], 'credit', `processing return ${imported.returnCode}`));
			return;
		}
	}

	// the cached order now counts these units (and the delivery) as returned
	for (const l of itemLines) {
		const ol = order.lines.find((x) => x.lineId === l.lineId);
		if (ol) ol.qtyReturned += l.quantity;
	}
	if (deliveryLine) order.deliveryRefunded = true;

	const lines = result.lines.map((l) => creditLineJson(l, l.kind === 'item' ? placeOf(l) : {}));
	out.created.push(
		outputItem(
			{
				returnId: ret.returnId,
				displayId: ret.displayId,
				orderReference: ret.orderReference,
				orderCode: order.orderCode,
				customerUrn: order.customerUrn,
				associatedRef: rec.associatedRef,
				returnCode: imported.returnCode || null,
				creditNoteCode: null,
				imported: imported.imported,
				duplicate: imported.duplicate,
				processed,
				currency: result.currency,
				exchangeRate: result.exchangeRate,
				lines,
				totals: {
					netPence: result.totals.netPence,
					vatPence: result.totals.vatPence,
					grossPence: result.totals.grossPence,
					net: money(result.totals.netPence),
					vat: money(result.totals.vatPence),
					gross: money(result.totals.grossPence),
				},
				deliveryRefunded: result.deliveryRefunded,
				refundPence: ret.refundPence,
				mismatch: result.mismatch as unknown as IDataObject,
			},
			itemIndex,
		),
	);
	if (result.mismatch?.overTolerance) {
		const mm = result.mismatch;
		out.exceptions.push(
			exceptionItem(
				recordException(
					'credit_mismatch',
					`${recordName(json)}: the credit computed from order ${order.associatedRef} is ${money(mm.creditPence)} ${result.currency} but ReBound refunded ${money(mm.refundPence)} (difference ${money(mm.differencePence)}, tolerance ${money(mm.tolerancePence)}); the credit note was created`,
					json,
					'credit',
					{ code: imported.returnCode || null, details: { refundPence: mm.refundPence, creditPence: mm.creditPence, differencePence: mm.differencePence, tolerancePence: mm.tolerancePence } },
				),
				itemIndex,
			),
		);
	}
}

async function findByReference(run: KhaosRun): Promise<INodeExecutionData[]> {
	const refsPerItem = run.items.map((_, i) => splitCodes(run.ctx.getNodeParameter('references', i, '')));
	const all = [...new Set(refsPerItem.flat())];
	let statuses: KhaosOrderStatus[] = [];
	let lookupError: unknown = null;
	if (all.length) {
		try {
			statuses = await run.api.getOrderStatuses(all);
		} catch (error) {
			lookupError = error;
		}
	}
	const creditNotes = statuses.filter((s) => s.orderType === 2);
	return perItem(run, async (itemIndex) => {
		if (lookupError) throw lookupError;
		const refs = refsPerItem[itemIndex];
		if (refs.length === 0) throw new Error('Associated Refs is empty');
		return refs.flatMap((ref) => {
			const found = creditNotes.filter((s) => s.associatedRef.toLowerCase() === ref.toLowerCase());
			if (found.length === 0) return [outputItem({ associatedRef: ref, found: false }, itemIndex)];
			return found.map((s) =>
				outputItem(
					{
						associatedRef: ref,
						found: true,
						creditNoteCode: s.orderCode,
						currency: s.currency,
						dateCreated: s.dateCreated,
						itemsNetPence: s.itemsNetPence,
						deliveryNetPence: s.deliveryNetPence,
						netPence: s.itemsNetPence + s.deliveryNetPence,
						net: money(s.itemsNetPence + s.deliveryNetPence),
						complete: s.complete,
						cancelled: s.cancelled,
					},
					itemIndex,
				),
			);
		});
	});
}
