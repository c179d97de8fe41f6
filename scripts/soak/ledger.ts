/**
 * The soak's ledger check: every return sent either applied exactly once
 * (its stock moves and credit note in the Khaos sandbox equal what the oracle
 * computes), held for finance exactly as the credit policy says (its stock
 * moved, no credit note, one credit review row with the oracle's values; once
 * decided: released with exactly one credit note of the oracle's value, or
 * rejected with none), or present in the exceptions Data Table with a reason;
 * none lost, none doubled. Notices (exception rows with status `notice`:
 * discontinued SKU, exchange, credit held, …) never count as exceptions; the
 * ones the oracle expects must be there. And the inbox invariant: no row reads
 * `done` without its return's effects in Khaos, and none reads `exception`
 * without an exception row. Pure: takes the states, returns the verdict.
 */
import type { Expected } from './scenario';

export interface KhaosAdjustment {
	reference: string;
	stockCode: string;
	siteId: string;
	locationId: string;
	delta: number;
}

export interface KhaosCreditNote {
	associatedRef: string;
	totals: { netPence: number; taxPence: number; grossPence: number };
}

/** A row of the credit reviews Data Table. */
export interface ReviewRow {
	returnId: string;
	status: string;
	decision?: string;
	grossPence: number | null;
	withoutHeldGrossPence: number | null;
	creditNoteRef?: string;
}

export type FinanceDecision = 'release' | 'reject';

/**
 * The inbox status of a return whose held credit finance rejected (scripts/templates/financeReview.ts
 * "Inbox Rejected"): final, and not `done`, since its moved units never reach Khaos' quantity returned.
 */
export const REJECTED_INBOX_STATUS = 'credit_rejected';

export interface LedgerInput {
	/** return id → what the oracle says it must end as */
	expected: Map<string, Expected>;
	adjustments: KhaosAdjustment[];
	creditNotes: KhaosCreditNote[];
	/** stock level per `${code}|${site}|${loc}` before and after (upper-case code and location) */
	stockBefore: Map<string, number>;
	stockAfter: Map<string, number>;
	exceptions: Array<{ returnId: string; kind: string; status?: string }>;
	/** returns with an inbox row still queued / processing / credit_queued (the bounded wait ended first): not lost, not finished */
	pending?: Set<string>;
	/** every inbox row (its return and status), for the invariant on final statuses */
	inbox?: Array<{ returnId: string; status: string; eventId?: string }>;
	/** every row of the credit reviews table (held credits) */
	reviews?: ReviewRow[];
	/** what finance decided on held returns (the soak driver's decisions); absent: undecided */
	decisions?: Map<string, FinanceDecision>;
}

export interface ReturnVerdict {
	returnId: string;
	verdict: 'applied' | 'held' | 'excepted' | 'lost' | 'doubled' | 'wrong' | 'pending';
	detail: string;
}

export interface LedgerResult {
	applied: number;
	/** held for finance as the oracle says (stock moved, no credit note until released, one review row) */
	held: number;
	/** of the held: released (exactly one credit note, the oracle's value) and rejected (none), as decided */
	released: number;
	rejected: number;
	excepted: number;
	exceptedByKind: Record<string, number>;
	/** returns with a notice (status notice) of each kind: never counted as excepted */
	noticesByKind: Record<string, number>;
	lost: number;
	doubled: number;
	/** not finished when the bounded wait ended (an inbox row still queued or processing) */
	pending: number;
	/** applied with other values than the oracle's, half-applied without an exception, or excepted but moved */
	wrong: number;
	/** per (code, site, location) of a soak product: final − initial ≠ the sum of the stock adjustments (a move outside the references) */
	stockDrift: Array<{ key: string; expected: number; actual: number }>;
	/**
	 * Inbox rows whose final status claims more than is true: `done` while the return's credit note
	 * (or, for a return the oracle applies, one of its stock moves) is not in Khaos, or `exception`
	 * with no exception row for the return (open or resolved).
	 */
	silentEnds: Array<{ returnId: string; eventId: string; status: string; detail: string }>;
	problems: ReturnVerdict[];
}

const stockKey = (code: string, site: string, loc: string) =>
	`${code.toUpperCase()}|${site}|${loc.toUpperCase()}`;

const sameCredit = (
	a: { netPence: number; taxPence: number; grossPence: number },
	b: { netPence: number; taxPence: number; grossPence: number },
) => a.grossPence === b.grossPence && a.netPence === b.netPence && a.taxPence === b.taxPence;

/** A number column of a Data Table row: null when empty. */
const pence = (v: unknown): number | null =>
	v === null || v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v);

export function checkLedger(input: LedgerInput): LedgerResult {
	const adjByReturn = new Map<string, KhaosAdjustment[]>();
	for (const a of input.adjustments) {
		const m = /^RB-(.+?)-(.+)-move$/.exec(a.reference);
		const id = m ? m[1] : null;
		if (id === null) continue;
		adjByReturn.set(id, [...(adjByReturn.get(id) ?? []), a]);
	}
	const notesByReturn = new Map<string, KhaosCreditNote[]>();
	for (const c of input.creditNotes) {
		const m = /^RB-(.+)$/i.exec(c.associatedRef);
		if (!m) continue;
		notesByReturn.set(m[1], [...(notesByReturn.get(m[1]) ?? []), c]);
	}
	// notices (status notice) never block a return: kept apart, never an exception
	const exByReturn = new Map<string, string[]>();
	const noticesByReturn = new Map<string, Set<string>>();
	for (const e of input.exceptions) {
		if (e.status === 'notice') {
			noticesByReturn.set(e.returnId, (noticesByReturn.get(e.returnId) ?? new Set()).add(e.kind));
			continue;
		}
		if (e.status === 'resolved') continue;
		exByReturn.set(e.returnId, [...(exByReturn.get(e.returnId) ?? []), e.kind]);
	}
	const reviewsByReturn = new Map<string, ReviewRow[]>();
	for (const r of input.reviews ?? [])
		reviewsByReturn.set(r.returnId, [...(reviewsByReturn.get(r.returnId) ?? []), r]);
	const inboxByReturn = new Map<string, string[]>();
	for (const row of input.inbox ?? [])
		inboxByReturn.set(row.returnId, [...(inboxByReturn.get(row.returnId) ?? []), row.status]);

	const result: LedgerResult = {
		applied: 0,
		held: 0,
		released: 0,
		rejected: 0,
		excepted: 0,
		exceptedByKind: {},
		noticesByKind: {},
		lost: 0,
		doubled: 0,
		pending: 0,
		wrong: 0,
		stockDrift: [],
		silentEnds: [],
		problems: [],
	};
	for (const kinds of noticesByReturn.values())
		for (const k of kinds) result.noticesByKind[k] = (result.noticesByKind[k] ?? 0) + 1;
	const expectedDelta = new Map<string, number>();
	const verdict = (returnId: string, v: ReturnVerdict['verdict'], detail: string) => {
		if (v === 'applied') result.applied++;
		else if (v === 'held') result.held++;
		else if (v === 'excepted') result.excepted++;
		else {
			result[v]++;
			result.problems.push({ returnId, verdict: v, detail });
		}
	};
	const excepted = (id: string, kinds: string[]) => {
		verdict(id, 'excepted', kinds.join(','));
		for (const k of new Set(kinds)) result.exceptedByKind[k] = (result.exceptedByKind[k] ?? 0) + 1;
	};

	for (const [id, exp] of input.expected) {
		const adjs = adjByReturn.get(id) ?? [];
		const notes = notesByReturn.get(id) ?? [];
		const kinds = exByReturn.get(id) ?? [];
		const reviews = reviewsByReturn.get(id) ?? [];
		const refs = new Map<string, number>();
		for (const a of adjs) refs.set(a.reference, (refs.get(a.reference) ?? 0) + 1);
		const repeated = [...refs].filter(([, n]) => n > 1).map(([r]) => r);
		if (notes.length > 1 || repeated.length || reviews.length > 1) {
			verdict(
				id,
				'doubled',
				`${notes.length} credit note(s); ${reviews.length} credit review row(s); references applied more than once: ${repeated.join(', ') || 'none'}`,
			);
			continue;
		}
		const unfinished = input.pending?.has(id) ?? false;
		if (exp.outcome === 'exception') {
			if (kinds.length === 0 && unfinished) {
				verdict(id, 'pending', 'inbox row not finished');
			} else if (kinds.length === 0) {
				verdict(
					id,
					adjs.length || notes.length || reviews.length ? 'wrong' : 'lost',
					`expected an exception (${exp.kinds.join(', ')}); ${adjs.length} move(s), ${notes.length} credit note(s), ${reviews.length} credit review(s), no exception row`,
				);
			} else if (adjs.length || notes.length || reviews.length) {
				verdict(
					id,
					'wrong',
					`expected an exception (${exp.kinds.join(', ')}) and nothing applied; found ${adjs.length} move(s), ${notes.length} credit note(s), ${reviews.length} credit review(s)`,
				);
			} else if (!exp.kinds.some((k) => kinds.includes(k))) {
				verdict(
					id,
					'wrong',
					`expected exception ${exp.kinds.join(' or ')}, found ${kinds.join(', ')}`,
				);
			} else excepted(id, kinds);
			continue;
		}
		const movesOk =
			adjs.length === exp.moves.length &&
			exp.moves.every((m) =>
				adjs.some(
					(a) =>
						a.reference === m.reference &&
						a.delta === m.quantity &&
						stockKey(a.stockCode, a.siteId, a.locationId) ===
							stockKey(m.stockCode, m.siteId, m.locationId),
				),
			);
		const movesText = () =>
			`${JSON.stringify(adjs.map((a) => [a.reference, a.locationId, a.delta]))} ≠ ${JSON.stringify(exp.moves.map((m) => [m.reference, m.locationId, m.quantity]))}`;
		const noteText = notes.length ? JSON.stringify(notes[0].totals) : 'no credit note';
		const notices = noticesByReturn.get(id) ?? new Set<string>();
		const missingNotices = (exp.notices ?? []).filter((k) => !notices.has(k));

		if (exp.outcome === 'held') {
			const decision = input.decisions?.get(id);
			const review = reviews[0];
			const statuses = (inboxByReturn.get(id) ?? []).filter((s) => s !== 'superseded');
			if (!review && notes.length === 0 && kinds.length) {
				// not held, but an operator sees why (a failure before the credit step): excepted
				excepted(id, kinds);
				continue;
			}
			if (!review && notes.length === 0 && unfinished) {
				verdict(id, 'pending', `inbox row not finished; ${adjs.length} move(s) so far`);
				continue;
			}
			if (!review && notes.length === 0 && adjs.length === 0) {
				verdict(id, 'lost', 'expected held: nothing moved, no credit review row, no exception row');
				continue;
			}
			const wrongs: string[] = [];
			if (!movesOk) wrongs.push(`moves ${movesText()}`);
			if (!review) wrongs.push('no credit review row');
			else {
				const withoutHeld = exp.withoutHeld?.grossPence ?? null;
				if (
					pence(review.grossPence) !== exp.credit.grossPence ||
					pence(review.withoutHeldGrossPence) !== withoutHeld
				)
					wrongs.push(
						`review values gross ${review.grossPence} / without held ${review.withoutHeldGrossPence} ≠ ${exp.credit.grossPence} / ${withoutHeld}`,
					);
			}
			if (missingNotices.length) wrongs.push(`notice(s) missing: ${missingNotices.join(', ')}`);
			const spurious = kinds.filter((k) => k !== 'credit_mismatch');
			if (spurious.length) wrongs.push(`also in the exceptions table: ${spurious.join(', ')}`);
			if (decision === undefined) {
				if (notes.length) wrongs.push(`held, but a credit note exists: ${noteText}`);
				if (review && review.status !== 'pending')
					wrongs.push(`review row ${review.status}, no decision was made`);
				if (!statuses.length || statuses.some((s) => s !== 'credit_review'))
					wrongs.push(`inbox row(s) ${statuses.join(', ') || 'none'}, expected credit_review`);
			} else if (decision === 'release') {
				if (notes.length !== 1 || !sameCredit(notes[0].totals, exp.credit))
					wrongs.push(`released: credit ${noteText} ≠ ${JSON.stringify(exp.credit)}`);
				if (review && review.status !== 'released')
					wrongs.push(`review row ${review.status}, expected released`);
				if (review && review.creditNoteRef !== `RB-${id}`)
					wrongs.push(
						`review row creditNoteRef "${review.creditNoteRef ?? ''}", expected RB-${id}`,
					);
				if (!statuses.length || statuses.some((s) => s !== 'done'))
					wrongs.push(`inbox row(s) ${statuses.join(', ') || 'none'}, expected done`);
			} else {
				if (notes.length) wrongs.push(`rejected, but a credit note exists: ${noteText}`);
				if (review && review.status !== 'rejected')
					wrongs.push(`review row ${review.status}, expected rejected`);
				if (!statuses.length || statuses.some((s) => s !== REJECTED_INBOX_STATUS))
					wrongs.push(
						`inbox row(s) ${statuses.join(', ') || 'none'}, expected ${REJECTED_INBOX_STATUS}`,
					);
			}
			if (wrongs.length) {
				// a release that failed with an exception row is seen by an operator: excepted
				if (review?.status === 'failed' && spurious.length && notes.length === 0)
					excepted(id, spurious);
				else if (unfinished && !review) verdict(id, 'pending', wrongs.join('; '));
				else
					verdict(
						id,
						'wrong',
						`expected held${decision ? ` then ${decision === 'release' ? 'released' : 'rejected'}` : ''}: ${wrongs.join('; ')}`,
					);
				continue;
			}
			verdict(id, 'held', '');
			if (decision === 'release') result.released++;
			else if (decision === 'reject') result.rejected++;
			continue;
		}

		// expected applied (a credit note, or none when the policy credits no line)
		const creditOk = exp.credit
			? notes.length === 1 && sameCredit(notes[0].totals, exp.credit)
			: notes.length === 0;
		// nothing due in Khaos (no moving line, no credited line): its inbox row must say it was processed
		const nothingDue = exp.moves.length === 0 && exp.credit === null;
		if (nothingDue && input.inbox && !(inboxByReturn.get(id) ?? []).includes('done')) {
			if (kinds.length) excepted(id, kinds);
			else
				verdict(
					id,
					unfinished ? 'pending' : 'lost',
					`nothing is due in Khaos, but no inbox row is done (${(inboxByReturn.get(id) ?? []).join(', ') || 'no row'})`,
				);
			continue;
		}
		if (movesOk && creditOk && reviews.length === 0) {
			// an applied return may still carry a credit_mismatch (finance looks); anything else is a false alarm
			const spurious = kinds.filter((k) => k !== 'credit_mismatch');
			if (spurious.length)
				verdict(
					id,
					'wrong',
					`applied correctly but also in the exceptions table: ${spurious.join(', ')}`,
				);
			else if (missingNotices.length)
				verdict(
					id,
					'wrong',
					`applied correctly, but notice(s) missing: ${missingNotices.join(', ')}`,
				);
			else verdict(id, 'applied', '');
		} else if (kinds.length && (adjs.length === 0 || !creditOk) && reviews.length === 0) {
			// not (fully) applied, but an operator sees why: counts as excepted (stock moved so far stands, a replay completes it)
			excepted(id, kinds);
		} else if (unfinished && reviews.length === 0) {
			verdict(
				id,
				'pending',
				`inbox row not finished; ${adjs.length} move(s), ${notes.length} credit note(s) so far`,
			);
		} else if (adjs.length === 0 && notes.length === 0 && reviews.length === 0) {
			verdict(id, 'lost', 'nothing applied and no exception row');
		} else {
			verdict(
				id,
				'wrong',
				`moves ${movesOk ? 'ok' : movesText()}; credit ${creditOk ? 'ok' : `${noteText} ≠ ${JSON.stringify(exp.credit)}`}${reviews.length ? `; held for review (${reviews[0].status}), the policy credits every line` : ''}`,
			);
		}
	}

	// no final status without what it claims (whatever the return's verdict above)
	const withExceptionRow = new Set(
		input.exceptions.filter((e) => e.status !== 'notice').map((e) => e.returnId),
	);
	for (const row of input.inbox ?? []) {
		const silent = (detail: string) =>
			result.silentEnds.push({
				returnId: row.returnId,
				eventId: row.eventId ?? '',
				status: row.status,
				detail,
			});
		if (row.status === 'exception' && !withExceptionRow.has(row.returnId))
			silent('inbox row exception, no exception row for the return');
		if (row.status === 'credit_review' && !(reviewsByReturn.get(row.returnId) ?? []).length)
			silent('inbox row credit_review, no credit review row for the return');
		if (row.status === REJECTED_INBOX_STATUS) {
			const review = (reviewsByReturn.get(row.returnId) ?? [])[0];
			if (review?.status !== 'rejected')
				silent(`inbox row ${row.status}, its review row ${review?.status ?? 'missing'}`);
			if ((notesByReturn.get(row.returnId) ?? []).length)
				silent(`inbox row ${row.status}, but a credit note exists in Khaos`);
		}
		if (row.status !== 'done') continue;
		const notes = notesByReturn.get(row.returnId) ?? [];
		const exp = input.expected.get(row.returnId);
		const refs = new Set((adjByReturn.get(row.returnId) ?? []).map((a) => a.reference));
		const missing =
			exp?.outcome === 'applied' || exp?.outcome === 'held'
				? exp.moves.filter((m) => !refs.has(m.reference)).map((m) => m.reference)
				: [];
		const review = (reviewsByReturn.get(row.returnId) ?? [])[0];
		// done without a credit note is right only when the policy credits no line (a rejected held
		// credit ends credit_rejected, not done)
		const noCreditDue = exp?.outcome === 'applied' && exp.credit === null;
		if (exp?.outcome === 'held' && review?.status !== 'released')
			silent(
				`inbox row done, its held credit not released (review ${review?.status ?? 'missing'})`,
			);
		else if (notes.length === 0 && !noCreditDue) silent('inbox row done, no credit note in Khaos');
		else if (notes.length > 0 && noCreditDue)
			silent('inbox row done with a credit note where none is due');
		else if (missing.length)
			silent(`inbox row done, stock move(s) not in Khaos: ${missing.join(', ')}`);
	}

	// every unit that moved must be one of the referenced adjustments checked above (ProcessReturn never restocks: RESTOCK false)
	for (const a of input.adjustments) {
		const k = stockKey(a.stockCode, a.siteId, a.locationId);
		expectedDelta.set(k, (expectedDelta.get(k) ?? 0) + a.delta);
	}
	const keys = new Set([
		...input.stockAfter.keys(),
		...input.stockBefore.keys(),
		...expectedDelta.keys(),
	]);
	for (const k of keys) {
		if (!k.startsWith('SOAK-')) continue;
		const actual = (input.stockAfter.get(k) ?? 0) - (input.stockBefore.get(k) ?? 0);
		const expected = expectedDelta.get(k) ?? 0;
		if (actual !== expected) result.stockDrift.push({ key: k, expected, actual });
	}
	return result;
}
