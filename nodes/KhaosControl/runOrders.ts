/**
 * The original orders a Khaos Control node read, kept for the rest of the same execution (issue 15):
 * the processor's Apply Stock Moves reads each return's order from Khaos, and its Create Credit Note,
 * a few nodes later in the same execution, takes them from here instead of asking Khaos again: one
 * ExportOrders round trip fewer per run. Stock adjustments do not change a sales order, and a credit
 * step counts the returns of its own batch on a private copy (core/usecases/postCreditNotes.ts), so
 * the order read seconds earlier in the same run is the order it would read again.
 *
 * Only the same execution reuses (an execution runs on one n8n process, in queue mode on one
 * worker): a credit posting run, a finance release or a node run by hand in another execution always
 * asks Khaos. Orders older than MAX_AGE_MS are not reused; at most MAX_RUNS executions are
 * remembered (the least recently used are dropped), so memory stays bounded.
 */
import type { KhaosApi, KhaosSalesOrder } from '../../transports/khaos/api';
import { withMethods } from '../../transports/khaos/api';

export const MAX_AGE_MS = 60_000;
export const MAX_RUNS = 32;

interface RunEntry {
	at: number;
	orders: Map<string, KhaosSalesOrder>;
}

export class RunOrderMemo {
	private readonly runs = new Map<string, RunEntry>();

	constructor(private readonly now: () => number = Date.now) {}

	/** Orders read in this execution (by associated ref, any case). */
	remember(executionId: string, orders: Map<string, KhaosSalesOrder>): void {
		if (!executionId || orders.size === 0) return;
		const prev = this.runs.get(executionId);
		const entry: RunEntry = { at: this.now(), orders: prev?.orders ?? new Map() };
		// a copy: whatever the reader does with its orders, the next reader gets them as Khaos gave them
		for (const [ref, order] of orders)
			entry.orders.set(ref.trim().toLowerCase(), structuredClone(order));
		this.runs.delete(executionId);
		this.runs.set(executionId, entry);
		while (this.runs.size > MAX_RUNS) this.runs.delete(this.runs.keys().next().value as string);
	}

	/** The orders of this execution still fresh, for the refs asked (missing refs are not in the map). */
	recall(executionId: string, refs: string[]): Map<string, KhaosSalesOrder> {
		const out = new Map<string, KhaosSalesOrder>();
		const entry = this.runs.get(executionId);
		if (!entry) return out;
		if (this.now() - entry.at > MAX_AGE_MS) {
			this.runs.delete(executionId);
			return out;
		}
		for (const ref of refs) {
			const order = entry.orders.get(ref.trim().toLowerCase());
			if (order) out.set(ref, order);
		}
		return out;
	}

	get size(): number {
		return this.runs.size;
	}
}

/** The one memo of this n8n process. */
export const runOrders = new RunOrderMemo();

/** The Khaos API whose getSalesOrders remembers what it read for this execution. */
export function recordingOrders(
	api: KhaosApi,
	executionId: string,
	memo: RunOrderMemo = runOrders,
): KhaosApi {
	return withMethods(api, {
		getSalesOrders: async (refs) => {
			const orders = await api.getSalesOrders(refs);
			memo.remember(executionId, orders);
			return orders;
		},
	});
}

/** The Khaos API whose getSalesOrders takes this execution's fresh orders and asks Khaos for the rest only. */
export function reusingOrders(
	api: KhaosApi,
	executionId: string,
	memo: RunOrderMemo = runOrders,
): KhaosApi {
	return withMethods(api, {
		getSalesOrders: async (refs) => {
			const known = memo.recall(executionId, refs);
			const missing = refs.filter((r) => !known.has(r));
			if (missing.length === 0) return known;
			const fetched = await api.getSalesOrders(missing);
			memo.remember(executionId, fetched);
			return new Map([...known, ...fetched]);
		},
	});
}
