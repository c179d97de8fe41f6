/**
 * The soak's ledger check: every return sent either applied exactly once
 * (its stock moves and credit note in the Khaos sandbox equal what the oracle
 * computes) or present in the exceptions Data Table with a reason; none lost,
 * none doubled. And the inbox invariant: no row reads `done` without its
 * return's effects in Khaos, and none reads `exception` without an exception
 * row. Pure: takes the states, returns the verdict.
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
}

export interface ReturnVerdict {
	returnId: string;
	verdict: 'applied' | 'excepted' | 'lost' | 'doubled' | 'wrong' | 'pending';
	detail: string;
}

export interface LedgerResult {
	applied: number;
	excepted: number;
	exceptedByKind: Record<string, number>;
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
	const exByReturn = new Map<string, string[]>();
	for (const e of input.exceptions) {
		if (e.status === 'resolved') continue;
		exByReturn.set(e.returnId, [...(exByReturn.get(e.returnId) ?? []), e.kind]);
	}

	const result: LedgerResult = {
		applied: 0,
		excepted: 0,
		exceptedByKind: {},
		lost: 0,
		doubled: 0,
		pending: 0,
		wrong: 0,
		stockDrift: [],
		silentEnds: [],
		problems: [],
	};
	const expectedDelta = new Map<string, number>();
	const verdict = (returnId: string, v: ReturnVerdict['verdict'], detail: string) => {
		if (v === 'applied') result.applied++;
		else if (v === 'excepted') result.excepted++;
		else {
			result[v]++;
			result.problems.push({ returnId, verdict: v, detail });
		}
	};

	for (const [id, exp] of input.expected) {
		const adjs = adjByReturn.get(id) ?? [];
		const notes = notesByReturn.get(id) ?? [];
		const kinds = exByReturn.get(id) ?? [];
		const refs = new Map<string, number>();
		for (const a of adjs) refs.set(a.reference, (refs.get(a.reference) ?? 0) + 1);
		const repeated = [...refs].filter(([, n]) => n > 1).map(([r]) => r);
		if (notes.length > 1 || repeated.length) {
			verdict(
				id,
				'doubled',
				`${notes.length} credit note(s); references applied more than once: ${repeated.join(', ') || 'none'}`,
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
					adjs.length || notes.length ? 'wrong' : 'lost',
					`expected an exception (${exp.kinds.join(', ')}); ${adjs.length} move(s), ${notes.length} credit note(s), no exception row`,
				);
			} else if (adjs.length || notes.length) {
				verdict(
					id,
					'wrong',
					`expected an exception (${exp.kinds.join(', ')}) and nothing applied; found ${adjs.length} move(s), ${notes.length} credit note(s)`,
				);
			} else if (!exp.kinds.some((k) => kinds.includes(k))) {
				verdict(
					id,
					'wrong',
					`expected exception ${exp.kinds.join(' or ')}, found ${kinds.join(', ')}`,
				);
			} else {
				verdict(id, 'excepted', kinds.join(','));
				for (const k of new Set(kinds))
					result.exceptedByKind[k] = (result.exceptedByKind[k] ?? 0) + 1;
			}
			continue;
		}
		// expected applied
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
		const creditOk =
			notes.length === 1 &&
			notes[0].totals.grossPence === exp.credit.grossPence &&
			notes[0].totals.netPence === exp.credit.netPence &&
			notes[0].totals.taxPence === exp.credit.taxPence;
		const noteText = notes.length ? JSON.stringify(notes[0].totals) : 'no credit note';
		if (movesOk && creditOk) {
			// an applied return may still carry a credit_mismatch (finance looks); anything else is a false alarm
			const spurious = kinds.filter((k) => k !== 'credit_mismatch');
			if (spurious.length)
				verdict(
					id,
					'wrong',
					`applied correctly but also in the exceptions table: ${spurious.join(', ')}`,
				);
			else verdict(id, 'applied', '');
		} else if (kinds.length && (adjs.length === 0 || !creditOk)) {
			// not (fully) applied, but an operator sees why: counts as excepted (stock moved so far stands, a replay completes it)
			verdict(id, 'excepted', kinds.join(','));
			for (const k of new Set(kinds))
				result.exceptedByKind[k] = (result.exceptedByKind[k] ?? 0) + 1;
		} else if (unfinished) {
			verdict(
				id,
				'pending',
				`inbox row not finished; ${adjs.length} move(s), ${notes.length} credit note(s) so far`,
			);
		} else if (adjs.length === 0 && notes.length === 0) {
			verdict(id, 'lost', 'nothing applied and no exception row');
		} else {
			verdict(
				id,
				'wrong',
				`moves ${movesOk ? 'ok' : `${JSON.stringify(adjs.map((a) => [a.reference, a.locationId, a.delta]))} ≠ ${JSON.stringify(exp.moves.map((m) => [m.reference, m.locationId, m.quantity]))}`}; credit ${creditOk ? 'ok' : `${noteText} ≠ ${JSON.stringify(exp.credit)}`}`,
			);
		}
	}

	// no final status without what it claims (whatever the return's verdict above)
	const withExceptionRow = new Set(input.exceptions.map((e) => e.returnId));
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
		if (row.status !== 'done') continue;
		const notes = notesByReturn.get(row.returnId) ?? [];
		const exp = input.expected.get(row.returnId);
		const refs = new Set((adjByReturn.get(row.returnId) ?? []).map((a) => a.reference));
		const missing =
			exp?.outcome === 'applied'
				? exp.moves.filter((m) => !refs.has(m.reference)).map((m) => m.reference)
				: [];
		if (notes.length === 0) silent('inbox row done, no credit note in Khaos');
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
