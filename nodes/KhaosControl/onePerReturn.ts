/**
 * One item per return within an execution (docs/idempotency.md, "Concurrent
 * deliveries"). Two intake executions can both pass the inbox check for the
 * same return, and a return can be re-graded (a later event) before the
 * processor ran, so one processor batch may hold two items of the same
 * return. Apply Return Stock Moves and Create Credit Note from Return then
 * see them together: the credit note would count the first item's units as
 * returned and refuse the second as "quantity exceeds sold", and a Khaos that
 * did not check references inside one call could move the stock twice.
 *
 * So the operation runs on the first item of each return only (input order:
 * the earliest inbox row); every later item of the same return gets copies of
 * that first item's outputs, paired to its own input item (so the processor
 * settles its inbox row too) and marked as duplicates: credit items
 * `duplicate: true`, stock lines `result: 'duplicate'`. Exception items are
 * copied as they are (same exception key: one row in the exceptions table).
 * Items without a return id run as they are (the operation rejects them).
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import type { KhaosOrderStatus } from '../../transports/khaos/api';
import type { KhaosRun, OperationResult } from './common';

/** The return an item belongs to (case-insensitive, as Khaos compares references), or null. */
export function returnKey(json: IDataObject): string | null {
	const id = json.returnId;
	if (typeof id !== 'string' && typeof id !== 'number') return null;
	const key = String(id).trim().toLowerCase();
	return key === '' ? null : key;
}

function pairedIndex(item: INodeExecutionData): number | null {
	const p = item.pairedItem;
	const first = Array.isArray(p) ? p[0] : p;
	if (typeof first === 'number') return first;
	return first && typeof first === 'object' && typeof first.item === 'number' ? first.item : null;
}

function asDuplicate(json: IDataObject, output: number): IDataObject {
	if (output !== 0 || json.exception === true) return json;
	const copy = JSON.parse(JSON.stringify(json)) as IDataObject;
	if ('associatedRef' in copy || 'creditNoteCode' in copy) {
		copy.duplicate = true;
		copy.imported = false;
		if (copy.processed) copy.processed = 'already_processed';
	}
	if (Array.isArray(copy.lines) && copy.stockMoves && typeof copy.stockMoves === 'object') {
		let duplicate = 0;
		let noMovement = 0;
		for (const line of copy.lines as IDataObject[]) {
			const move = line?.stockMove as IDataObject | undefined;
			if (!move || move.result === 'no_movement') {
				noMovement++;
				continue;
			}
			if (move.result === 'applied')
				Object.assign(move, { result: 'duplicate', applied: false, duplicate: true });
			duplicate++;
		}
		copy.stockMoves = { applied: 0, duplicate, noMovement };
	}
	return copy;
}

/**
 * Runs `operation` on the first item of each return and copies its outputs to
 * the later items of the same return (see the file comment).
 */
export async function onePerReturn(
	run: KhaosRun,
	operation: (run: KhaosRun) => Promise<OperationResult>,
): Promise<OperationResult> {
	const leaderOf = new Map<string, number>();
	const leaders: number[] = [];
	/** follower input index → leader input index */
	const followerOf = new Map<number, number>();
	run.items.forEach((item, i) => {
		const key = returnKey(item.json);
		const leader = key === null ? undefined : leaderOf.get(key);
		if (leader !== undefined) {
			followerOf.set(i, leader);
			return;
		}
		if (key !== null) leaderOf.set(key, i);
		leaders.push(i);
	});
	if (followerOf.size === 0) return operation(run);

	const result = await operation({ ...run, items: leaders.map((i) => run.items[i]) });
	return result.map((items, output) => {
		const byLeader = new Map<number, INodeExecutionData[]>();
		const remapped = items.map((item) => {
			const sub = pairedIndex(item);
			const original = sub === null ? null : (leaders[sub] ?? null);
			const out: INodeExecutionData =
				original === null ? item : { ...item, pairedItem: { item: original } };
			if (original !== null) byLeader.set(original, [...(byLeader.get(original) ?? []), out]);
			return { original, out };
		});
		// every item in input order: a leader's outputs, then (at its own position) a follower's copies
		const all: Array<{ at: number; seq: number; out: INodeExecutionData }> = remapped.map(
			(r, seq) => ({ at: r.original ?? -1, seq, out: r.out }),
		);
		let seq = all.length;
		for (const [follower, leader] of followerOf) {
			for (const item of byLeader.get(leader) ?? []) {
				all.push({
					at: follower,
					seq: seq++,
					out: { json: asDuplicate(item.json, output), pairedItem: { item: follower } },
				});
			}
		}
		return all.sort((a, b) => (a.at === b.at ? a.seq - b.seq : a.at - b.at)).map((x) => x.out);
	});
}

/**
 * Another execution credited it meanwhile (docs/idempotency.md, "Overlapping
 * processor runs"): a run whose credit-note look-up found nothing, but whose
 * order was read after an overlapping run processed the same return, sees
 * that return's units as returned already and reports "quantity exceeds
 * sold". Before such an exception leaves the node, one batched look-up of the
 * returns' references: when the credit note `RB-<returnId>` exists, the
 * return was credited (once) and the item is a duplicate on the first output,
 * as a redelivery would be. A failed look-up leaves the exceptions as they are.
 */
export async function creditedMeanwhile(
	run: KhaosRun,
	result: OperationResult,
	refOf: (returnId: string) => string,
): Promise<OperationResult> {
	const [created = [], exceptions = [], ...rest] = result;
	const suspects = exceptions.filter(
		(e) => e.json.kind === 'quantity_exceeds_sold' && returnKey(e.json) !== null,
	);
	if (suspects.length === 0) return result;
	const refs = [...new Set(suspects.map((e) => refOf(String(e.json.returnId).trim())))];
	let statuses: KhaosOrderStatus[];
	try {
		statuses = await run.api.getOrderStatuses(refs);
	} catch {
		return result;
	}
	const notes = new Map<string, KhaosOrderStatus>();
	for (const s of statuses)
		if (s.orderType === 2 && !s.cancelled) notes.set(s.associatedRef.toLowerCase(), s);
	const creditedItem = new Set<number>();
	const keep: INodeExecutionData[] = [];
	const added: INodeExecutionData[] = [];
	for (const e of exceptions) {
		const id = returnKey(e.json) === null ? null : String(e.json.returnId).trim();
		const note =
			e.json.kind === 'quantity_exceeds_sold' && id !== null
				? notes.get(refOf(id).toLowerCase())
				: undefined;
		const at = pairedIndex(e);
		if (!note || id === null || at === null) {
			keep.push(e);
			continue;
		}
		if (creditedItem.has(at)) continue;
		creditedItem.add(at);
		const source = run.items[at]?.json ?? {};
		const net = note.itemsNetPence + note.deliveryNetPence;
		added.push({
			json: {
				returnId: id,
				displayId:
					(source.displayId as string | undefined) ??
					(e.json.displayId as string | undefined) ??
					null,
				orderReference:
					(source.orderReference as string | undefined) ??
					(e.json.orderReference as string | undefined) ??
					null,
				associatedRef: refOf(id),
				duplicate: true,
				creditNoteCode: note.orderCode,
				returnCode: null,
				currency: note.currency,
				dateCreated: note.dateCreated,
				totals: { netPence: net, net: (net / 100).toFixed(2) },
			},
			pairedItem: { item: at },
		});
	}
	if (creditedItem.size === 0) return result;
	// other exceptions of an item found credited (e.g. a second line over the quantity) go too
	const remaining = keep.filter(
		(e) => !(e.json.kind === 'quantity_exceeds_sold' && creditedItem.has(pairedIndex(e) ?? -1)),
	);
	const createdAll = [...created, ...added].sort(
		(a, b) => (pairedIndex(a) ?? -1) - (pairedIndex(b) ?? -1),
	);
	return [createdAll, remaining, ...rest];
}
