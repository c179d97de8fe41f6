/**
 * Read ahead (issue 15): the processor's Validate SKUs asks Khaos, in the same round trip as its
 * product look-up, for what the steps after it in the same execution would each ask in a round trip
 * of their own, one after another: the returns' original orders and the stock moves already made
 * (Apply Return Stock Moves), and the credit notes already made (Create Credit Note's duplicate
 * look-up). Four calls at once instead of one, then three fewer round trips on the run's path: at
 * 40 ms a call ~120 ms a run, which a return waits for twice (the run before its own, then its own).
 *
 * What was read ahead is TAKEN, not shared: the first look-up of the step it was read for takes it
 * (all the references it asks for, or it asks Khaos), and every later look-up asks Khaos, as do the
 * credit step's second look-ups (a duplicate import, a ProcessReturn whose answer was lost). It is
 * kept for the same execution only (one n8n process; in queue mode one worker) and at most
 * MAX_AGE_MS: the stock and credit steps follow Validate SKUs within a run's own work, so what they
 * take is as fresh as the orders the credit step already takes from the stock step (./runOrders.ts);
 * a run slowed down past it (retries) asks Khaos again. Khaos stays the judge either way: a move
 * reference or a credit note's associated ref made meanwhile by someone else is refused as a
 * duplicate by Khaos and settled as one (core/usecases/postCreditNotes.ts, step 4).
 *
 * A failed read ahead is dropped without a word: the step that needs it asks Khaos itself, with its
 * own retries and isolation, and reports its own failures, as without read ahead.
 *
 * Earlier still (startReadAhead, Return → Read Ahead in the processor, right after the batch read; the
 * held rows are read before the batch): the same look-ups and Validate SKUs' products are asked
 * without waiting, while n8n does the run's other work; Validate SKUs waits for them (capped), takes each product read
 * (takingProducts: the others, a SKU the alias table changed, it asks itself) and does not read
 * the rest again.
 */
import type {
	AppliedStockAdjustment,
	KhaosApi,
	KhaosOrderStatus,
	KhaosProduct,
	KhaosSalesOrder,
	StockAdjustmentQuery,
} from './api';
import { withMethods } from './api';
import { moveReferencePrefix } from '../../core/usecases/applyReturnStock';
import { returnAssociatedRef } from '../../core/usecases/postCreditNotes';

export const MAX_AGE_MS = 5_000;
/**
 * How long Validate SKUs waits for its read ahead once its own look-up is answered: the read ahead
 * normally comes back with it (a Khaos serving one call at a time answers the four in turn); a
 * read ahead that is slow or failing (retries) must not hold the run up longer than this. An answer
 * that comes later is still kept for a step that has not asked yet, and dropped once the step asked
 * without it (a later look-up, such as a re-check, must never get an answer older than its first).
 */
export const WAIT_AFTER_OWN_MS: number = 2_000;
export const MAX_RUNS = 32;

type Kind = 'orders' | 'moves' | 'statuses' | 'products';
interface Entry {
	at: number;
	/** by the reference asked, lower case: what Khaos answered for it (asked and not found: empty) */
	byRef: Map<string, unknown[]>;
}
type RunEntry = { [K in Kind]?: Entry } & {
	/** asked before its read ahead came back: the read ahead, when it comes, is dropped */
	closed: Set<Kind>;
	/** a read ahead started early in the run (Return → Read Ahead), until it has come back */
	pending?: Promise<void>;
};

const key = (ref: string) => ref.trim().toLowerCase();
/** Products by mapping type and code as asked, case kept: Khaos is asked for exactly that code. */
export const productKey = (mappingType: number, code: string) => `${mappingType}:${code.trim()}`;
const keyOf = (kind: Kind, ref: string) => (kind === 'products' ? ref : key(ref));

export class ReadAheadMemo {
	private readonly runs = new Map<string, RunEntry>();

	// a monotonic clock: a wall clock set back must not keep an answer fresh
	constructor(private readonly now: () => number = () => performance.now()) {}

	/** A read ahead starts for this execution (the most recent of at most MAX_RUNS kept). */
	open(executionId: string): void {
		if (!executionId) return;
		const run = this.runs.get(executionId) ?? { closed: new Set<Kind>() };
		this.runs.delete(executionId);
		this.runs.set(executionId, run);
		while (this.runs.size > MAX_RUNS) this.runs.delete(this.runs.keys().next().value as string);
	}

	/** A read ahead started early for this execution: the steps that need it wait for it (capped). */
	track(executionId: string, done: Promise<void>): void {
		const run = this.runs.get(executionId);
		if (run) run.pending = done;
	}

	/** The early read ahead of this execution, while one was started (resolved once it came back). */
	pending(executionId: string): Promise<void> | undefined {
		return this.runs.get(executionId)?.pending;
	}

	/** What Khaos answered for each reference asked (a reference with nothing found is kept, empty). */
	put(executionId: string, kind: Kind, byRef: Map<string, unknown[]>): void {
		const run = this.runs.get(executionId);
		if (!run || run.closed.has(kind)) return;
		run[kind] = { at: this.now(), byRef };
	}

	/**
	 * Each reference's answer, or null when any of them was not read ahead (or it is too old): the
	 * caller then asks Khaos for all of them. The references asked are taken either way: a second
	 * look-up of one always asks Khaos.
	 */
	take<T>(executionId: string, kind: Kind, refs: string[]): Map<string, T[]> | null {
		const run = this.runs.get(executionId);
		const entry = run?.[kind];
		if (!entry) {
			// asked first: whatever the read ahead brings later is older than this look-up's answer
			run?.closed.add(kind);
			return null;
		}
		const fresh = this.now() - entry.at <= MAX_AGE_MS;
		const out = new Map<string, T[]>();
		let all = fresh;
		for (const ref of refs) {
			const found = entry.byRef.get(keyOf(kind, ref));
			if (found) out.set(ref, found as T[]);
			else all = false;
			entry.byRef.delete(keyOf(kind, ref));
		}
		return all ? out : null;
	}

	/**
	 * Each reference that was read ahead, while fresh, taken one by one (products, which do not
	 * depend on each other): the caller asks Khaos for the rest.
	 */
	takeEach<T>(executionId: string, kind: Kind, refs: string[]): Map<string, T[]> {
		const run = this.runs.get(executionId);
		const entry = run?.[kind];
		const out = new Map<string, T[]>();
		if (!entry) {
			run?.closed.add(kind);
			return out;
		}
		if (this.now() - entry.at > MAX_AGE_MS) return out;
		for (const ref of refs) {
			const found = entry.byRef.get(keyOf(kind, ref));
			if (!found) continue;
			out.set(ref, found as T[]);
			entry.byRef.delete(keyOf(kind, ref));
		}
		return out;
	}

	get size(): number {
		return this.runs.size;
	}
}

/** The one memo of this n8n process. */
export const readAheadMemo = new ReadAheadMemo();

/** What one return needs read ahead (its order only when it names one). */
export interface ReadAheadReturn {
	returnId: string;
	orderReference: string;
}

/** Each move under every prefix of the list its reference starts with (one Map look-up per '-'). */
function movesByPrefix(prefixes: string[], moves: AppliedStockAdjustment[]) {
	const byRef = new Map<string, unknown[]>(prefixes.map((p) => [key(p), []]));
	for (const m of moves) {
		const ref = key(m.reference);
		for (let i = ref.indexOf('-'); i >= 0; i = ref.indexOf('-', i + 1))
			byRef.get(ref.slice(0, i + 1))?.push(m);
	}
	return byRef;
}

/**
 * Ask Khaos, all at once, for what the stock and credit steps of this execution will ask first.
 * Never rejects: what fails is simply not kept.
 */
export async function readAhead(
	api: KhaosApi,
	executionId: string,
	returns: ReadAheadReturn[],
	what: { credit: boolean; products?: { codes: string[]; mappingType: number } },
	memo: ReadAheadMemo = readAheadMemo,
): Promise<void> {
	try {
		const unique = (xs: string[]) => [
			...new Map(xs.filter((x) => x.trim()).map((x) => [key(x), x.trim()])).values(),
		];
		const ids = unique(returns.map((r) => r.returnId));
		const orderRefs = unique(returns.map((r) => r.orderReference));
		const prefixes = ids.map(moveReferencePrefix);
		const creditRefs = ids.map(returnAssociatedRef);
		if (!executionId || ids.length === 0) return;
		memo.open(executionId);
		await Promise.allSettled([
			orderRefs.length
				? api.getSalesOrders(orderRefs).then((orders) => {
						const byRef = new Map<string, unknown[]>(orderRefs.map((r) => [key(r), []]));
						for (const [ref, o] of orders) byRef.set(key(ref), [o]);
						memo.put(executionId, 'orders', byRef);
					})
				: undefined,
			api
				.getStockAdjustments({ prefixes })
				.then((moves) => memo.put(executionId, 'moves', movesByPrefix(prefixes, moves))),
			// the SKU look-up of Validate SKUs, when read ahead before it (Return → Read Ahead)
			what.products && what.products.codes.length
				? readProducts(api, executionId, what.products.codes, what.products.mappingType, memo)
				: undefined,
			// only when a credit step follows in this execution (not for a finance-batched client's run)
			what.credit
				? api.getOrderStatuses(creditRefs).then((statuses) => {
						const byRef = new Map<string, unknown[]>(creditRefs.map((r) => [key(r), []]));
						for (const st of statuses) byRef.get(key(st.associatedRef))?.push(st);
						memo.put(executionId, 'statuses', byRef);
					})
				: undefined,
		]);
	} catch {
		// nothing kept: the steps ask Khaos themselves
	}
}

async function readProducts(
	api: KhaosApi,
	executionId: string,
	codes: string[],
	mappingType: number,
	memo: ReadAheadMemo,
): Promise<void> {
	const unique = [...new Set(codes.map((c) => c.trim()).filter(Boolean))];
	if (!unique.length) return;
	const found = await api.getProducts(unique, mappingType);
	const byRef = new Map<string, unknown[]>();
	for (const code of unique) {
		const p = found.get(code);
		byRef.set(productKey(mappingType, code), p ? [p] : []);
	}
	memo.put(executionId, 'products', byRef);
}

/**
 * Starts a read ahead early in the run (Return → Read Ahead) without waiting for it: the steps that
 * take from it wait for it, at most WAIT_AFTER_OWN_MS (Validate SKUs). False when there is nothing
 * to read (no execution id, no return id).
 */
export function startReadAhead(
	api: KhaosApi,
	executionId: string,
	returns: ReadAheadReturn[],
	what: { credit: boolean; products?: { codes: string[]; mappingType: number } },
	memo: ReadAheadMemo = readAheadMemo,
): boolean {
	if (!executionId || !returns.some((r) => r.returnId.trim())) return false;
	memo.open(executionId);
	memo.track(executionId, readAhead(api, executionId, returns, what, memo));
	return true;
}

/** Sleeps `ms`, or less when `signal` aborts (n8n-workflow's `sleep` in the nodes; transports have no timers of their own). */
export type AbortableSleep = (ms: number, signal: AbortSignal) => Promise<void>;

/**
 * How Validate SKUs' product look-up of this execution reads ahead. When an early read ahead (Return
 * → Read Ahead) was started, it waits for it (at most WAIT_AFTER_OWN_MS), takes each product it read
 * and asks Khaos for the other codes only, and reads nothing ahead itself. Otherwise, when asked
 * (`own`), it reads ahead in the same round trip as the look-up; `settle`, called once the look-up
 * is answered, waits for that at most WAIT_AFTER_OWN_MS more. Neither wait ever fails the step.
 */
export async function skuLookUp(
	api: KhaosApi,
	executionId: string,
	own: { returns: ReadAheadReturn[]; credit: boolean } | null,
	sleep: AbortableSleep,
	memo: ReadAheadMemo = readAheadMemo,
): Promise<{ api: KhaosApi; settle: () => Promise<void> }> {
	const capped = async (p: Promise<unknown>) => {
		const stop = new AbortController();
		await Promise.race([p, sleep(WAIT_AFTER_OWN_MS, stop.signal).catch(() => undefined)]);
		stop.abort();
	};
	const early = memo.pending(executionId);
	if (early) {
		await capped(early.catch(() => undefined));
		return { api: takingProducts(api, executionId, memo), settle: async () => undefined };
	}
	const ahead = own
		? readAhead(api, executionId, own.returns, { credit: own.credit }, memo).catch(() => undefined)
		: undefined;
	return { api, settle: async () => (ahead ? capped(ahead) : undefined) };
}

/**
 * The Khaos API whose product look-ups take what an early read ahead of this execution read (the
 * same code, as asked, with the same mapping type; each once, while fresh) and ask Khaos only for
 * the other codes (a SKU the alias table changed).
 */
export function takingProducts(
	api: KhaosApi,
	executionId: string,
	memo: ReadAheadMemo = readAheadMemo,
): KhaosApi {
	return withMethods(api, {
		getProducts: async (codes: string[], mappingType = 1) => {
			const asked = [...new Set(codes)];
			const keys = asked.map((c) => productKey(mappingType, c));
			const taken = memo.takeEach<KhaosProduct>(executionId, 'products', keys);
			// keyed by the code asked, as Khaos's answer is; a copy, as a fresh answer would be
			const out = new Map<string, KhaosProduct>();
			const missing: string[] = [];
			asked.forEach((code, i) => {
				const found = taken.get(keys[i]);
				if (!found) missing.push(code);
				else if (found[0]) out.set(code, structuredClone(found[0]));
			});
			if (missing.length)
				for (const [code, p] of await api.getProducts(missing, mappingType)) out.set(code, p);
			return out;
		},
	});
}

/**
 * The Khaos API whose first look-up of orders, moves made (by prefix) and credit notes takes what
 * this execution read ahead, when it read all of it; otherwise, and afterwards, Khaos answers.
 */
export function takingReadAhead(
	api: KhaosApi,
	executionId: string,
	memo: ReadAheadMemo = readAheadMemo,
): KhaosApi {
	// one list of what was taken, each answer once (in the order the references were asked)
	const flat = <T>(taken: Map<string, T[]>) => [...new Set([...taken.values()].flat())];
	const overrides: Partial<KhaosApi> = {
		getSalesOrders: async (refs: string[]) => {
			const taken = memo.take<KhaosSalesOrder>(executionId, 'orders', refs);
			if (!taken) return api.getSalesOrders(refs);
			// keyed by the reference asked, as Khaos's answer is; a copy, as a fresh answer would be
			const out = new Map<string, KhaosSalesOrder>();
			for (const [ref, [o]] of taken) if (o) out.set(ref, structuredClone(o));
			return out;
		},
		getStockAdjustments: async (query: StockAdjustmentQuery) => {
			const prefixes = query.prefixes ?? [];
			const taken =
				(query.references ?? []).length === 0 && prefixes.length > 0
					? memo.take<AppliedStockAdjustment>(executionId, 'moves', prefixes)
					: null;
			return taken ? flat(taken).map((m) => ({ ...m })) : api.getStockAdjustments(query);
		},
		getOrderStatuses: async (refs: string[]) => {
			const taken = memo.take<KhaosOrderStatus>(executionId, 'statuses', refs);
			return taken ? flat(taken).map((st) => ({ ...st })) : api.getOrderStatuses(refs);
		},
	};
	return withMethods(api, overrides);
}
