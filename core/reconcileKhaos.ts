/**
 * Gathering the `khaos` input of reconcile() from what the Khaos transport
 * returns, without importing it (core has no transport imports): the shapes
 * below are the fields reconcile reads, which KhaosOrderStatus,
 * AppliedStockAdjustment and ImportReturnResult (transports/khaos/api.ts)
 * satisfy as they are.
 *
 * The integration's references (see docs/reconciliation.md):
 * - return import and credit note: associated ref `RB-<returnId>`;
 * - stock adjustment: reference `RB-<returnId>-<lineId>-move` (the Khaos node's moveReference; any suffix after the line id is accepted).
 */

/** The associated ref the integration gives a return's import and credit note. */
export function returnRef(returnId: string): string {
	return `RB-${returnId}`;
}

/** The reference prefix of a return's stock adjustments. */
export function adjustmentPrefix(returnId: string): string {
	return `RB-${returnId}-`;
}

/**
 * What to ask Khaos for a set of returns: `associatedRefs` for the order-status
 * look-up (credit notes, ORDER_TYPE 2) and `prefixes` for the stock-adjustment
 * look-up. Ids are trimmed; blanks and repeats are dropped; order is kept.
 */
export function khaosLookupRefs(returnIds: string[]): {
	returnIds: string[];
	associatedRefs: string[];
	prefixes: string[];
} {
	const ids = [...new Set(returnIds.map((id) => String(id).trim()).filter(Boolean))];
	return {
		returnIds: ids,
		associatedRefs: ids.map(returnRef),
		prefixes: ids.map(adjustmentPrefix),
	};
}

/** An order or credit note as the order-status look-up reports it (KhaosOrderStatus fits). */
export interface OrderStatusLike {
	orderCode: string;
	associatedRef: string;
	/** 1 sales order, 2 credit note: only 2 is kept. */
	orderType: number;
	currency: string;
	dateCreated?: string | null;
	itemsNetPence: number;
	deliveryNetPence: number;
	/** Gross when the source knows it (KhaosOrderStatus does not: then only net can be compared). */
	grossPence?: number | null;
	cancelled?: boolean;
}

/** An applied stock adjustment (AppliedStockAdjustment fits). */
export interface AdjustmentLike {
	id?: string | null;
	reference: string;
	stockCode: string;
	siteId: string;
	locationId: string;
	quantity: number;
}

/** A return import found in Khaos, by its associated ref `RB-<returnId>` (or the return id). */
export interface ReturnImportLike {
	associatedRef?: string | null;
	returnId?: string | null;
	returnCode: string | null;
	processed?: boolean;
}

/** One `khaos` row of reconcile()'s input. */
export interface KhaosHoldingRow {
	returnId: string;
	returnCode: string | null;
	/** Only set when imports were given; otherwise reconcile() reads "imported" as "a return code is known". */
	imported?: boolean;
	processed: boolean;
	creditNotes: Array<{
		orderCode: string;
		associatedRef: string;
		orderType: number;
		itemsNetPence: number;
		deliveryNetPence: number;
		grossPence: number | null;
		currency: string;
		created: string | null;
		cancelled: boolean;
	}>;
	adjustments: Array<{
		id: string | null;
		reference: string;
		stockCode: string;
		siteId: string;
		locationId: string;
		quantity: number;
	}>;
}

/**
 * The return id an adjustment reference belongs to: the longest id whose prefix `RB-<id>-`
 * starts it. Tries each `-` of the reference from the right (a return id may contain `-`), so
 * the cost is the reference's length, not the number of returns.
 */
function ownerOfReference(reference: string, ids: ReadonlySet<string>): string | null {
	if (!reference.startsWith('RB-')) return null;
	for (let end = reference.lastIndexOf('-'); end > 3; end = reference.lastIndexOf('-', end - 1)) {
		const id = reference.slice(3, end);
		if (ids.has(id)) return id;
	}
	return null;
}

/**
 * One `khaos` row per return id, in the order given: credit notes (ORDER_TYPE 2
 * only) whose associated ref is `RB-<returnId>`, adjustments whose reference
 * starts with `RB-<returnId>-` (the longest matching return id wins, so
 * `RB-R1-…` is never taken for `RB-R1-2-…` when both R1 and R1-2 are asked),
 * and the return import when `imports` are given. Records that belong to none
 * of the ids are left out and counted in `unassigned`.
 */
export function groupKhaosHoldings(
	returnIds: string[],
	data: {
		orders?: OrderStatusLike[];
		adjustments?: AdjustmentLike[];
		imports?: ReturnImportLike[];
	},
): {
	rows: KhaosHoldingRow[];
	unassigned: { orders: number; adjustments: number; imports: number };
} {
	const { returnIds: ids } = khaosLookupRefs(returnIds);
	const byId = new Map<string, KhaosHoldingRow>();
	for (const id of ids)
		byId.set(id, {
			returnId: id,
			returnCode: null,
			processed: false,
			creditNotes: [],
			adjustments: [],
		});
	const byRef = new Map(ids.map((id) => [returnRef(id).toUpperCase(), id] as const));
	const idSet: ReadonlySet<string> = new Set(ids);
	const unassigned = { orders: 0, adjustments: 0, imports: 0 };

	for (const o of data.orders ?? []) {
		if (o.orderType !== 2) continue;
		const id = byRef.get(
			String(o.associatedRef ?? '')
				.trim()
				.toUpperCase(),
		);
		const row = id === undefined ? undefined : byId.get(id);
		if (!row) {
			unassigned.orders++;
			continue;
		}
		row.creditNotes.push({
			orderCode: o.orderCode,
			associatedRef: o.associatedRef,
			orderType: 2,
			itemsNetPence: o.itemsNetPence,
			deliveryNetPence: o.deliveryNetPence,
			grossPence: o.grossPence ?? null,
			currency: o.currency,
			created: o.dateCreated ?? null,
			cancelled: o.cancelled ?? false,
		});
	}

	for (const a of data.adjustments ?? []) {
		const id = ownerOfReference(a.reference, idSet);
		const row = id === null ? undefined : byId.get(id);
		if (!row) {
			unassigned.adjustments++;
			continue;
		}
		row.adjustments.push({
			id: a.id ?? null,
			reference: a.reference,
			stockCode: a.stockCode,
			siteId: a.siteId,
			locationId: a.locationId,
			quantity: a.quantity,
		});
	}

	if (data.imports) {
		for (const row of byId.values()) row.imported = false;
		for (const imp of data.imports) {
			const id = imp.returnId
				? String(imp.returnId).trim()
				: byRef.get(
						String(imp.associatedRef ?? '')
							.trim()
							.toUpperCase(),
					);
			const row = id === undefined ? undefined : byId.get(id);
			if (!row) {
				unassigned.imports++;
				continue;
			}
			row.imported = true;
			row.returnCode = row.returnCode ?? imp.returnCode;
			row.processed = row.processed || (imp.processed ?? false);
		}
	}

	return { rows: [...byId.values()], unassigned };
}
