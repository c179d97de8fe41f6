/**
 * Post the credit notes of mapped returns in Khaos, computed from the original orders.
 *
 * For a batch of mapped returns:
 * 1. one batched status look-up of every `RB-<returnId>`: a return whose credit note already
 *    exists is a duplicate delivery and is reported as such, with nothing imported or processed
 *    again (its units are already counted as returned on the order, so computing again would be
 *    wrong);
 * 2. every distinct original order is fetched in batched calls (a failed call fails only the
 *    returns of its orders);
 * 3. in waves (the k-th return of each order in wave k): every credit of the wave is computed by
 *    core/creditNote (never from ReBound's refund), the wave is imported in batched calls
 *    (associated ref `RB-<returnId>`, restock false: stock moved in the stock step; each return
 *    imported or skipped on its own);
 * 4. each imported return is processed (one a call, up to `processConcurrency` at once; a
 *    duplicate import whose credit note already exists for the same items' net, because an
 *    overlapping run processed it, is found in one batched look-up and reported
 *    `already_processed` without processing it again); the cached order then counts its units as
 *    returned, so two returns of one order in one batch never credit the same unit twice.
 * Every batched call is isolated (./isolate.ts): a permanent refusal splits the batch so only the
 * culprit return fails. A fatal failure (nothing can succeed) stops the run: PostingStopped.
 *
 * Finance's credit policy (docs/credit-notes.md) decides which lines are credited: each mapped line
 * carries `credit` (credit | no_credit | hold | exchange, from the disposition row and the line's
 * action). Lines not credited are left out of the computation (an exchange line with an
 * `exchange_recorded` notice); a return with a held line is not imported at all: its computed value
 * comes out as a HeldCredit (with a `credit_held` notice) for a finance person to release (the input's
 * `release`: with or without the held lines) or reject. A credit worth nothing is skipped with a
 * `zero_value_credit` notice, raised, or held, as the policy says. Notices never block.
 */
import {
	CREDIT_PROBLEM_EXCEPTION_KIND,
	computeCredit,
	type CreditLine,
	type CreditOptions,
	type CreditOrder,
	type CreditResult,
} from '../creditNote';
import {
	makeException,
	type ExceptionContext,
	type ExceptionKind,
	type ExceptionStage,
	type ReturnException,
} from '../exceptions';
import type { MappedReturn } from '../mapping';
import { formatPence } from '../money';
import type {
	CreditPort,
	DescribeFailure,
	FailureInfo,
	OrderStatus,
	ReturnImport,
	ReturnImportResult,
	SalesOrderForCredit,
} from '../ports';
import {
	describeExcluded,
	describeHeld,
	policyLine,
	splitByPolicy,
	type PolicyLine,
} from './creditPolicy';
import { isolateInChunks } from './isolate';

/** The duplicate guard of a return's import (Khaos allows 50 characters; the model keeps return ids within 47). */
export function returnAssociatedRef(returnId: string): string {
	return `RB-${returnId}`;
}

export function toCreditOrder(o: SalesOrderForCredit): CreditOrder {
	return {
		orderRef: o.associatedRef,
		currency: o.currency,
		exchangeRate: o.exchangeRate,
		priceBasis: o.priceBasis,
		vatRounding: o.vatRounding,
		orderDiscountPence: o.orderDiscountPence,
		delivery:
			o.delivery.grossPence > 0 || o.delivery.netPence > 0
				? {
						pricePence: o.priceBasis === 'gross' ? o.delivery.grossPence : o.delivery.netPence,
						vatRatePercent: o.delivery.vatRatePercent,
					}
				: null,
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

export interface RecordIdentity {
	returnId: string | null;
	displayId: string | null;
	orderReference: string | null;
}

/** A finance person's release of a held credit: with the held lines, or only the others. */
export type HeldRelease = 'release' | 'release_without_held';

export interface CreditInput {
	ret: MappedReturn;
	/** The record as it arrived, kept on exception rows for replay. */
	payload: unknown;
	/** The ids as the record states them, stamped on its exception rows (default: the return's). */
	identity?: RecordIdentity;
	/** Set by the finance review: the held credit is released (otherwise held lines hold the return). */
	release?: HeldRelease;
	/** The gross (pence) the review showed for this release; a different credit gets a notice. */
	reviewedGrossPence?: number | null;
}

/** What to do with a credit worth nothing: skip it (a notice), raise it anyway, or hold it for review. */
export type ZeroValuePolicy = 'skip' | 'raise' | 'hold';

export interface CreditPolicy {
	credit: CreditOptions;
	manualAuthCode: string;
	processReturn: boolean;
	/** ProcessReturn calls in flight at once. */
	processConcurrency: number;
	/** Site of a credited line whose mapping names none and whose order has none. */
	defaultSiteId: string;
	/** Records per batched call. */
	batchSize: number;
	/** A credit of zero value (default skip, with a notice). */
	zeroValue?: ZeroValuePolicy;
}

export interface Totals {
	netPence: number;
	net: string;
}

/** A return whose credit note existed before this run (a redelivery): nothing was imported. */
export interface ExistingCredit {
	returnId: string;
	displayId: string | null;
	orderReference: string;
	associatedRef: string;
	duplicate: true;
	creditStatus: 'duplicate';
	creditNoteCode: string;
	returnCode: null;
	currency: string;
	dateCreated: string;
	totals: Totals;
}

export interface MoneyTotals {
	netPence: number;
	vatPence: number;
	grossPence: number;
	net: string;
	vat: string;
	gross: string;
}

export interface CreditLineOut {
	kind: CreditLine['kind'];
	orderLineId: string | null;
	sku: string | null;
	returnLineIds: string[];
	quantity: number;
	fromUnit: number;
	toUnit: number;
	vatRatePercent: number;
	netPence: number;
	vatPence: number;
	grossPence: number;
	net: string;
	vat: string;
	gross: string;
	reasonId?: string;
	siteId?: string;
	locationId?: string | null;
}

type Computed = Extract<CreditResult, { ok: true }>;

/** A return imported (or found imported) and, unless the policy says not to, processed. */
export interface PostedCredit {
	returnId: string;
	displayId: string | null;
	orderReference: string;
	orderCode: string;
	customerUrn: string;
	associatedRef: string;
	returnCode: string | null;
	creditNoteCode: null;
	imported: boolean;
	duplicate: boolean;
	creditStatus: 'posted';
	processed: string | null;
	/** Lines the credit note leaves out (exchanges, never-credited grades, held lines released without). */
	excludedLines: PolicyLine[];
	currency: string;
	exchangeRate: number;
	lines: CreditLineOut[];
	totals: MoneyTotals;
	deliveryRefunded: boolean;
	refundPence: number | null;
	mismatch: Computed['mismatch'];
}

/** A return whose credit waits for a finance person: nothing imported into Khaos. */
export interface HeldCredit {
	returnId: string;
	displayId: string | null;
	orderReference: string;
	associatedRef: string;
	creditStatus: 'held';
	/** Why, in a sentence finance reads in the review table. */
	heldWhy: string;
	heldLines: PolicyLine[];
	/** Lines left out whatever the decision (exchanges, no-credit grades). */
	excludedLines: PolicyLine[];
	currency: string;
	/** The credit if released with every held line, computed from the order now. */
	lines: CreditLineOut[];
	totals: MoneyTotals;
	/** The credit if released without the held lines (null: nothing else to credit). */
	withoutHeld: MoneyTotals | null;
	refundPence: number | null;
}

/** A return that gets no credit note: every line excluded, or a zero-value credit skipped. */
export interface NotCredited {
	returnId: string;
	displayId: string | null;
	orderReference: string;
	associatedRef: string;
	creditStatus: 'not_credited';
	why: 'no_credited_lines' | 'zero_value';
	message: string;
	excludedLines: PolicyLine[];
}

export type CreditOutcome = ExistingCredit | PostedCredit | HeldCredit | NotCredited;

export {
	splitByPolicy,
	uncreditedMoves,
	type PolicyLine,
	type UncreditedMoves,
} from './creditPolicy';

/** What the run reported, in the order it is to be output; `index` is the input's position. */
export interface CreditPosting {
	created: Array<{ index: number; credit: CreditOutcome }>;
	exceptions: Array<{ index: number; exception: ReturnException }>;
}

/** A fatal failure (credentials refused, misconfiguration, a bug): no return can succeed, so the run stops. */
export class PostingStopped extends Error {
	constructor(
		readonly error: unknown,
		/** The input it surfaced on. */
		readonly index: number,
	) {
		super(error instanceof Error ? error.message : String(error));
		this.name = 'PostingStopped';
	}
}

interface Rec {
	index: number;
	input: CreditInput;
	ret: MappedReturn;
	associatedRef: string;
	created: CreditOutcome[];
	exceptions: ReturnException[];
}
type OrderEntry = { order: SalesOrderForCredit | null } | { failure: FailureInfo };
/** A return whose credit is computed and whose import is ready. */
interface Prepared {
	rec: Rec;
	order: SalesOrderForCredit;
	result: Computed;
	input: ReturnImport;
	itemLines: CreditLine[];
	deliveryLine: CreditLine | null;
	placeOf: (l: CreditLine) => { reasonId: string; siteId: string; locationId: string | null };
	excluded: PolicyLine[];
}

/** A return whose ProcessReturn failed for good (transient): Khaos may still have taken it. */
interface LostProcess {
	p: Prepared;
	imported: ReturnImportResult;
	error: unknown;
}

const orderKey = (ref: string) => ref.trim().toLowerCase();
const isLiveCreditNote = (s: OrderStatus) => s.orderType === 2 && !s.cancelled;

export async function postCreditNotes(
	port: CreditPort,
	inputs: CreditInput[],
	policy: CreditPolicy,
	describe: DescribeFailure,
): Promise<CreditPosting> {
	const posting: CreditPosting = { created: [], exceptions: [] };
	const recs: Rec[] = inputs.map((input, index) => ({
		index,
		input,
		ret: input.ret,
		associatedRef: returnAssociatedRef(input.ret.returnId),
		created: [],
		exceptions: [],
	}));
	if (recs.length === 0) return posting;
	const run = new Run(port, policy, describe);

	// 1. credit notes that already exist (duplicate deliveries): one batched look-up
	const existing = new Map<string, OrderStatus>();
	const looked: Rec[] = [];
	for (const part of await run.isolated(recs, recs[0].index, (batch) =>
		port.getOrderStatuses(batch.map((r) => r.associatedRef)),
	)) {
		if ('failure' in part) {
			for (const rec of part.items)
				posting.exceptions.push(
					...failureOf(rec, part.failure, 'credit', 'the Khaos credit-note look-up').map(
						(exception) => ({ index: rec.index, exception }),
					),
				);
			continue;
		}
		looked.push(...part.items);
		for (const s of part.result)
			if (isLiveCreditNote(s)) existing.set(s.associatedRef.toLowerCase(), s);
	}
	const pending: Rec[] = [];
	for (const rec of looked) {
		const already = existing.get(rec.associatedRef.toLowerCase());
		if (!already) {
			pending.push(rec);
			continue;
		}
		rec.created.push(existingCredit(rec, already));
		// the notices the return itself implies, again: a run cut after Khaos took the note but
		// before its notices were written must not lose them (the exceptions table keeps one row a key)
		rec.exceptions.push(
			...exchangeNotices(rec, splitByPolicy(rec.ret, rec.input.release).excluded),
		);
	}

	// 2. every distinct original order: batched look-ups (a failed batch fails only its orders)
	const orders = await run.fetchOrders(pending);

	// 3.–4. in waves: the k-th return of each order in wave k, so two returns of one order see each
	// other's units (and delivery) as returned, exactly as one after the other would
	const groups = new Map<string, Rec[]>();
	for (const rec of pending)
		groups.set(orderKey(rec.ret.orderReference), [
			...(groups.get(orderKey(rec.ret.orderReference)) ?? []),
			rec,
		]);
	const waves = Math.max(0, ...[...groups.values()].map((g) => g.length));
	for (let w = 0; w < waves; w++) {
		const wave = [...groups.values()].filter((g) => g.length > w).map((g) => g[w]);
		await run.postWave(wave, orders);
	}

	for (const rec of recs) {
		posting.created.push(...rec.created.map((credit) => ({ index: rec.index, credit })));
		posting.exceptions.push(
			...rec.exceptions.map((exception) => ({ index: rec.index, exception })),
		);
	}
	return posting;
}

class Run {
	constructor(
		private readonly port: CreditPort,
		private readonly policy: CreditPolicy,
		private readonly describe: DescribeFailure,
	) {}

	/** A batched call, isolated; a fatal failure stops the run (reported on input `index`). */
	async isolated<T, R>(items: T[], index: number, call: (batch: T[]) => Promise<R>) {
		try {
			return await isolateInChunks(
				items,
				Math.max(1, this.policy.batchSize || 50),
				call,
				this.describe,
			);
		} catch (error) {
			throw new PostingStopped(error, index);
		}
	}

	/** The failure's exceptions for the return, or (fatal) the run stops. */
	fail(rec: Rec, error: unknown, stage: ExceptionStage, what: string): void {
		if (error instanceof PostingStopped) throw error;
		const failure = this.describe(error);
		if (failure.category === 'fatal') throw new PostingStopped(error, rec.index);
		rec.exceptions.push(...failureOf(rec, failure, stage, what));
	}

	/** Anything unexpected still ends as an exception for this return (or, fatal, stops the run). */
	async guarded(rec: Rec, what: string, fn: () => Promise<void> | void): Promise<void> {
		try {
			await fn();
		} catch (error) {
			this.fail(rec, error, 'credit', what);
		}
	}

	async fetchOrders(pending: Rec[]): Promise<Map<string, OrderEntry>> {
		const orders = new Map<string, OrderEntry>();
		const refs: Array<{ ref: string; index: number }> = [];
		for (const rec of pending) {
			const key = orderKey(rec.ret.orderReference);
			if (orders.has(key)) continue;
			orders.set(key, { order: null });
			refs.push({ ref: rec.ret.orderReference.trim(), index: rec.index });
		}
		for (const part of await this.isolated(refs, refs[0]?.index ?? 0, (batch) =>
			this.port.getSalesOrders(batch.map((r) => r.ref)),
		)) {
			if ('failure' in part) {
				for (const { ref } of part.items) orders.set(orderKey(ref), { failure: part.failure });
				continue;
			}
			const byKey = new Map([...part.result.entries()].map(([k, o]) => [orderKey(k), o]));
			// a private copy: the waves count this batch's returns on it
			for (const { ref } of part.items) {
				const o = byKey.get(orderKey(ref));
				orders.set(orderKey(ref), {
					order: o ? (JSON.parse(JSON.stringify(o)) as SalesOrderForCredit) : null,
				});
			}
		}
		return orders;
	}

	async postWave(wave: Rec[], orders: Map<string, OrderEntry>): Promise<void> {
		const prepared: Prepared[] = [];
		for (const rec of wave) {
			await this.guarded(rec, 'creating the credit note', () => {
				const p = this.prepare(rec, orders.get(orderKey(rec.ret.orderReference)) as OrderEntry);
				if (p) prepared.push(p);
			});
		}
		const parts = await this.isolated(prepared, prepared[0]?.rec.index ?? 0, async (batch) => {
			const results = await this.port.importReturns(batch.map((p) => p.input));
			if (results.length !== batch.length)
				throw new Error(
					`Khaos ImportReturns answered ${results.length} result(s) for ${batch.length} return(s)`,
				);
			return results;
		});
		for (const part of parts) {
			const batch = part.items;
			if ('failure' in part) {
				// only the culprit (or, for a transient failure, its batch) is an exception; the others go on
				for (const p of batch)
					p.rec.exceptions.push(
						...failureOf(p.rec, part.failure, 'return', 'importing the return into Khaos'),
					);
				continue;
			}
			const results = part.result;
			const credited = await this.alreadyCredited(batch, results);
			// ProcessReturn is one return a call: up to processConcurrency at once. Safe: a wave holds at
			// most one return of each order, so no two of them count units on the same order.
			const lost: LostProcess[] = [];
			await inPool(batch.length, this.policy.processConcurrency, (i) =>
				this.guarded(batch[i].rec, 'creating the credit note', () =>
					this.finish(
						batch[i],
						results[i],
						credited.has(batch[i].rec.associatedRef.toLowerCase()),
						lost,
					),
				),
			);
			await this.settleLost(lost);
		}
	}

	/** Compute the credit of one return from its (cached) order; null when it became an exception. */
	prepare(rec: Rec, entry: OrderEntry): Prepared | null {
		const { ret } = rec;
		if ('failure' in entry) {
			rec.exceptions.push(
				...failureOf(rec, entry.failure, 'credit', `fetching order ${ret.orderReference}`),
			);
			return null;
		}
		const order = entry.order;
		if (!order) {
			rec.exceptions.push(
				exceptionOf(
					rec,
					'order_not_found',
					`no Khaos sales order has the associated ref ${ret.orderReference}`,
					'credit',
					{ code: ret.orderReference },
				),
			);
			return null;
		}
		const split = splitByPolicy(ret, rec.input.release);
		rec.exceptions.push(...exchangeNotices(rec, split.excluded));
		if (split.credited.length + split.held.length === 0) {
			rec.created.push(
				notCredited(
					rec,
					'no_credited_lines',
					`no line of the return is credited (${describeExcluded(split.excluded)}): no credit note`,
					split.excluded,
				),
			);
			return null;
		}
		const compute = (lines: MappedReturn['lines']) =>
			computeCredit(
				toCreditOrder(order),
				lines.map((l) => ({ sku: l.mapping.khaosSku, quantity: l.quantity, ref: l.lineId })),
				{ ...this.policy.credit, refundPence: ret.refundPence },
			);
		const problemsOf = (result: Extract<CreditResult, { ok: false }>) => {
			for (const p of result.problems) {
				const lineId =
					ret.lines.find(
						(l) => p.sku !== null && l.mapping.khaosSku.toLowerCase() === p.sku.toLowerCase(),
					)?.lineId ?? null;
				rec.exceptions.push(
					exceptionOf(
						rec,
						CREDIT_PROBLEM_EXCEPTION_KIND[p.kind],
						p.message,
						'credit',
						{
							sku: p.sku,
							lineId,
							code: p.kind,
							field: p.field,
							details: { requested: p.requested, available: p.available, orderLineId: p.lineId },
						},
						` (order ${order.associatedRef})`,
					),
				);
			}
			return null;
		};
		const lineById = new Map(ret.lines.map((l) => [l.lineId, l]));
		const placeOf = (l: CreditLine) => {
			const first = (l.refs ?? (l.ref ? [l.ref] : []))
				.map((r) => lineById.get(r))
				.find((x) => x !== undefined);
			const m = first?.mapping;
			return {
				reasonId: m?.reasonId ?? '',
				siteId: m?.siteId ?? (order.siteId || this.policy.defaultSiteId),
				locationId: m?.locationId ?? null,
			};
		};
		const hold = (result: Computed, why: string, heldLines: MappedReturn['lines']) => {
			const without =
				heldLines.length > 0 && split.credited.length > 0 ? compute(split.credited) : null;
			const held = heldCredit(
				rec,
				result,
				why,
				heldLines.map(policyLine),
				split.excluded,
				without && without.ok ? without : null,
				placeOf,
			);
			rec.created.push(held);
			rec.exceptions.push(
				exceptionOf(
					rec,
					'credit_held',
					`the credit (${held.totals.gross} ${held.currency} gross if released as computed${held.withoutHeld ? `, ${held.withoutHeld.gross} without the held lines` : ''}) waits for a finance decision: ${why}`,
					'credit',
					{
						code: rec.associatedRef,
						details: {
							grossPence: held.totals.grossPence,
							withoutHeldGrossPence: held.withoutHeld?.grossPence ?? null,
							heldLines: held.heldLines.map((l) => l.lineId).join(', '),
						},
					},
				),
			);
			return null;
		};
		const result = compute([...split.credited, ...split.held]);
		if (!result.ok) return problemsOf(result);
		if (split.held.length > 0)
			return hold(result, `${describeHeld(split.held.map(policyLine))}`, split.held);
		if (result.totals.grossPence === 0 && !rec.input.release) {
			const zeroWhy = `the lines credited are worth ${formatPence(0)} ${result.currency} after discounts`;
			const zero = this.policy.zeroValue ?? 'skip';
			if (zero === 'hold') return hold(result, `zero value: ${zeroWhy}`, []);
			if (zero === 'skip') {
				const message = `${zeroWhy}, so no credit note was raised (Zero-Value Credits: skip)`;
				rec.created.push(notCredited(rec, 'zero_value', message, split.excluded));
				rec.exceptions.push(
					exceptionOf(rec, 'zero_value_credit', message, 'credit', {
						code: order.associatedRef,
						details: { grossPence: 0 },
					}),
				);
				return null;
			}
		}
		const itemLines = result.lines.filter((l) => l.kind === 'item');
		const deliveryLine = result.lines.find((l) => l.kind === 'delivery') ?? null;
		const input: ReturnImport = {
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
			delivery: deliveryLine
				? {
						netPence: deliveryLine.netPence,
						taxPence: deliveryLine.vatPence,
						grossPence: deliveryLine.grossPence,
					}
				: null,
		};
		return {
			rec,
			order,
			result,
			input,
			itemLines,
			deliveryLine,
			placeOf,
			excluded: split.excluded,
		};
	}

	/**
	 * Returns of a batch that Khaos reported as duplicates (imported before, e.g. by an overlapping
	 * run) and whose credit note now exists for exactly the items' net computed here: one batched
	 * look-up, so ProcessReturn is not called once per duplicate only to answer "already
	 * processed". A credit note for a different amount (partly processed) is not in the set:
	 * ProcessReturn is called. A failed look-up leaves the set empty (ProcessReturn as before).
	 */
	async alreadyCredited(batch: Prepared[], results: ReturnImportResult[]): Promise<Set<string>> {
		const out = new Set<string>();
		if (!this.policy.processReturn) return out;
		const dups = batch.filter((_p, i) => results[i].duplicate && results[i].returnCode);
		if (dups.length === 0) return out;
		let statuses: OrderStatus[];
		try {
			statuses = await this.port.getOrderStatuses(dups.map((p) => p.rec.associatedRef));
		} catch {
			return out;
		}
		for (const p of dups) if (creditNoteOf(p, statuses)) out.add(p.rec.associatedRef.toLowerCase());
		return out;
	}

	/** After the import: the skip exception, or ProcessReturn (one a call) and the posted credit. */
	async finish(
		p: Prepared,
		imported: ReturnImportResult,
		credited: boolean,
		lost: LostProcess[],
	): Promise<void> {
		const { rec } = p;
		if (!imported.imported && !imported.duplicate) {
			rec.exceptions.push(
				exceptionOf(
					rec,
					skipKind(imported),
					`Khaos did not import the return: ${imported.skipReason ?? 'no reason given'}`,
					'return',
					{ code: imported.skipCode ?? null },
				),
			);
			return;
		}
		let processed: string | null = null;
		if (this.policy.processReturn && imported.returnCode && credited) {
			processed = 'already_processed';
		} else if (this.policy.processReturn && imported.returnCode) {
			try {
				processed = await this.port.processReturn(imported.returnCode, this.policy.manualAuthCode);
			} catch (error) {
				// retries exhausted: Khaos may have taken it with every answer lost (settleLost looks)
				if (!(error instanceof PostingStopped) && this.describe(error).category === 'transient')
					lost.push({ p, imported, error });
				// the return stays imported; a replay finds it as a duplicate and processes it then
				else this.fail(rec, error, 'credit', `processing return ${imported.returnCode}`);
				return;
			}
		}
		this.posted(p, imported, processed);
	}

	/**
	 * ProcessReturn failed for good (transient: retries exhausted) for these returns, but Khaos may
	 * have done the work with every answer lost: one look-up of their credit notes. A live note with
	 * the items net imported means processed; otherwise (or the look-up fails too) the failure stands.
	 */
	async settleLost(lost: LostProcess[]): Promise<void> {
		if (lost.length === 0) return;
		let statuses: OrderStatus[] = [];
		try {
			statuses = await this.port.getOrderStatuses(lost.map((l) => l.p.rec.associatedRef));
		} catch {
			// the failures stand
		}
		for (const { p, imported, error } of lost) {
			if (creditNoteOf(p, statuses))
				await this.guarded(p.rec, 'creating the credit note', () =>
					this.posted(p, imported, 'already_processed'),
				);
			else this.fail(p.rec, error, 'credit', `processing return ${imported.returnCode}`);
		}
	}

	/** A processed return: its posted credit, counted on the cached order, with its notices. */
	posted(p: Prepared, imported: ReturnImportResult, processed: string | null): void {
		const { rec, order, result, itemLines, deliveryLine } = p;
		// the cached order now counts these units (and the delivery) as returned
		for (const l of itemLines) {
			const ol = order.lines.find((x) => x.lineId === l.lineId);
			if (ol) ol.qtyReturned += l.quantity;
		}
		if (deliveryLine) order.deliveryRefunded = true;
		rec.created.push(postedCredit(p, imported, processed));
		const reviewed = rec.input.reviewedGrossPence;
		if (rec.input.release && typeof reviewed === 'number' && reviewed !== result.totals.grossPence)
			rec.exceptions.push(
				exceptionOf(
					rec,
					'review_value_changed',
					`released (${rec.input.release}) for ${formatPence(reviewed)} ${result.currency} gross, but the order now gives ${formatPence(result.totals.grossPence)}: the credit note was raised for ${formatPence(result.totals.grossPence)}`,
					'credit',
					{
						code: imported.returnCode || null,
						details: { reviewedGrossPence: reviewed, creditGrossPence: result.totals.grossPence },
					},
				),
			);
		const mm = result.mismatch;
		if (mm?.overTolerance) {
			const m = formatPence;
			rec.exceptions.push(
				exceptionOf(
					rec,
					'credit_mismatch',
					`the credit computed from order ${order.associatedRef} is ${m(mm.creditPence)} ${result.currency} but ReBound refunded ${m(mm.refundPence)} (difference ${m(mm.differencePence)}, tolerance ${m(mm.tolerancePence)}); the credit note was created`,
					'credit',
					{
						code: imported.returnCode || null,
						details: {
							refundPence: mm.refundPence,
							creditPence: mm.creditPence,
							differencePence: mm.differencePence,
							tolerancePence: mm.tolerancePence,
						},
					},
				),
			);
		}
	}
}

function identityOf(rec: Rec): RecordIdentity {
	return (
		rec.input.identity ?? {
			returnId: rec.ret.returnId,
			displayId: rec.ret.displayId,
			orderReference: rec.ret.orderReference,
		}
	);
}

/** An exception of the return: "Return <id><qualifier>: <message>", the record as payload. */
function exceptionOf(
	rec: Rec,
	kind: ExceptionKind,
	message: string,
	stage: ExceptionStage,
	extra: Partial<ExceptionContext> = {},
	qualifier = '',
): ReturnException {
	const identity = identityOf(rec);
	const name = identity.returnId ? `Return ${identity.returnId}` : 'Item';
	return makeException(kind, `${name}${qualifier}: ${message}`, {
		stage,
		...identity,
		...extra,
		payload: rec.input.payload,
	});
}

/** An `exchange_recorded` notice for each exchange line the credit leaves out. */
function exchangeNotices(rec: Rec, excluded: PolicyLine[]): ReturnException[] {
	return excluded
		.filter((l) => l.credit === 'exchange')
		.map((l) =>
			exceptionOf(
				rec,
				'exchange_recorded',
				`line ${l.lineId} (SKU ${l.sku}, ${l.quantity} unit(s)) is an exchange (action "${l.lineAction ?? ''}"): no credit for it; its stock moved by its grade "${l.disposition}"`,
				'credit',
				{ sku: l.sku, lineId: l.lineId, code: l.lineAction, details: { quantity: l.quantity } },
			),
		);
}

/** A failed call for this return: transient (retries exhausted) → transient_exhausted; refused → khaos_rejected. */
function failureOf(
	rec: Rec,
	failure: FailureInfo,
	stage: ExceptionStage,
	what: string,
): ReturnException[] {
	const kind: ExceptionKind =
		failure.category === 'transient' ? 'transient_exhausted' : 'khaos_rejected';
	return [
		exceptionOf(rec, kind, `${what} failed: ${failure.message}`, stage, {
			code: failure.code,
			details: { status: failure.status, attempts: failure.attempts },
		}),
	];
}

function skipKind(result: ReturnImportResult): ExceptionKind {
	switch (result.skipCode) {
		case 'quantity_exceeds_sold':
			return 'quantity_exceeds_sold';
		case 'order_not_found':
			return 'order_not_found';
		case 'line_not_found':
			return 'unknown_sku';
		case 'unknown_stock':
			return /deleted|not stock controlled/i.test(result.skipReason ?? '')
				? 'archived_sku'
				: 'unknown_sku';
		default:
			return 'khaos_rejected';
	}
}

/** Whether a live credit note of this return with the items net it was imported with is among the statuses. */
function creditNoteOf(p: Prepared, statuses: OrderStatus[]): boolean {
	const ref = p.rec.associatedRef.toLowerCase();
	const itemsNet = p.itemLines.reduce((sum, l) => sum + l.netPence, 0);
	return statuses.some(
		(s) =>
			isLiveCreditNote(s) && s.associatedRef.toLowerCase() === ref && s.itemsNetPence === itemsNet,
	);
}

function existingCredit(rec: Rec, s: OrderStatus): ExistingCredit {
	const net = s.itemsNetPence + s.deliveryNetPence;
	return {
		returnId: rec.ret.returnId,
		displayId: rec.ret.displayId,
		orderReference: rec.ret.orderReference,
		associatedRef: rec.associatedRef,
		duplicate: true,
		creditStatus: 'duplicate',
		creditNoteCode: s.orderCode,
		returnCode: null,
		currency: s.currency,
		dateCreated: s.dateCreated,
		totals: { netPence: net, net: formatPence(net) },
	};
}

function creditLineOut(
	l: CreditLine,
	place: Partial<Pick<CreditLineOut, 'reasonId' | 'siteId' | 'locationId'>>,
): CreditLineOut {
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
		net: formatPence(l.netPence),
		vat: formatPence(l.vatPence),
		gross: formatPence(l.grossPence),
		...place,
	};
}

function postedCredit(
	p: Prepared,
	imported: ReturnImportResult,
	processed: string | null,
): PostedCredit {
	const { rec, order, result, placeOf } = p;
	const t = result.totals;
	return {
		returnId: rec.ret.returnId,
		displayId: rec.ret.displayId,
		orderReference: rec.ret.orderReference,
		orderCode: order.orderCode,
		customerUrn: order.customerUrn,
		associatedRef: rec.associatedRef,
		returnCode: imported.returnCode || null,
		creditNoteCode: null,
		imported: imported.imported,
		duplicate: imported.duplicate,
		creditStatus: 'posted',
		processed,
		excludedLines: p.excluded,
		currency: result.currency,
		exchangeRate: result.exchangeRate,
		lines: result.lines.map((l) => creditLineOut(l, l.kind === 'item' ? placeOf(l) : {})),
		totals: {
			...t,
			net: formatPence(t.netPence),
			vat: formatPence(t.vatPence),
			gross: formatPence(t.grossPence),
		},
		deliveryRefunded: result.deliveryRefunded,
		refundPence: rec.ret.refundPence,
		mismatch: result.mismatch,
	};
}

/** Runs task(0..count-1) with at most `limit` running at once; resolves when all have settled. */
async function inPool(
	count: number,
	limit: number,
	task: (i: number) => Promise<void>,
): Promise<void> {
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < count) {
			const i = next++;
			await task(i);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

function totalsOf(t: { netPence: number; vatPence: number; grossPence: number }): MoneyTotals {
	return {
		netPence: t.netPence,
		vatPence: t.vatPence,
		grossPence: t.grossPence,
		net: formatPence(t.netPence),
		vat: formatPence(t.vatPence),
		gross: formatPence(t.grossPence),
	};
}

function heldCredit(
	rec: Rec,
	result: Computed,
	why: string,
	heldLines: PolicyLine[],
	excludedLines: PolicyLine[],
	without: Computed | null,
	placeOf: Prepared['placeOf'],
): HeldCredit {
	return {
		returnId: rec.ret.returnId,
		displayId: rec.ret.displayId,
		orderReference: rec.ret.orderReference,
		associatedRef: rec.associatedRef,
		creditStatus: 'held',
		heldWhy: why,
		heldLines,
		excludedLines,
		currency: result.currency,
		lines: result.lines.map((l) => creditLineOut(l, l.kind === 'item' ? placeOf(l) : {})),
		totals: totalsOf(result.totals),
		withoutHeld: without ? totalsOf(without.totals) : null,
		refundPence: rec.ret.refundPence,
	};
}

function notCredited(
	rec: Rec,
	why: NotCredited['why'],
	message: string,
	excludedLines: PolicyLine[],
): NotCredited {
	return {
		returnId: rec.ret.returnId,
		displayId: rec.ret.displayId,
		orderReference: rec.ret.orderReference,
		associatedRef: rec.associatedRef,
		creditStatus: 'not_credited',
		why,
		message: `Return ${rec.ret.returnId}: ${message}`,
		excludedLines,
	};
}
