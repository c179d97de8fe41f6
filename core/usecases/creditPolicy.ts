/**
 * Finance's credit policy applied to a mapped return (docs/credit-notes.md#credit-policy): which lines
 * a credit note takes, holds or leaves out, how they are described to finance, and which moved units
 * no credit note will record as returned in Khaos. Pure; used by ./postCreditNotes.ts.
 */
import type { MappedReturn } from '../mapping';
import type { CreditOutcome, HeldRelease } from './postCreditNotes';

/** A line the credit note leaves out or holds, as the policy decided. */
export interface PolicyLine {
	lineId: string;
	sku: string;
	quantity: number;
	disposition: string;
	credit: MappedReturn['lines'][number]['mapping']['credit'];
	creditBy: 'disposition' | 'action';
	lineAction: string | null;
}

export function policyLine(l: MappedReturn['lines'][number]): PolicyLine {
	return {
		lineId: l.lineId,
		sku: l.mapping.khaosSku,
		quantity: l.quantity,
		disposition: l.disposition,
		credit: l.mapping.credit,
		creditBy: l.mapping.creditBy,
		lineAction: l.mapping.lineAction,
	};
}

/**
 * The lines the credit note takes (credit, and hold when released with them), the held ones (a return
 * with any is held unless released) and the excluded ones (no_credit, exchange, and hold when released
 * without them).
 */
export function splitByPolicy(
	ret: MappedReturn,
	release: HeldRelease | undefined,
): { credited: MappedReturn['lines']; held: MappedReturn['lines']; excluded: PolicyLine[] } {
	const credited: MappedReturn['lines'] = [];
	const held: MappedReturn['lines'] = [];
	const excluded: PolicyLine[] = [];
	for (const l of ret.lines) {
		const c = l.mapping.credit;
		if (c === 'credit' || (c === 'hold' && release === 'release')) credited.push(l);
		else if (c === 'hold' && release === undefined) held.push(l);
		else excluded.push(policyLine(l));
	}
	return { credited, held, excluded };
}

export function describeLines(lines: PolicyLine[]): string {
	return lines
		.map(
			(l) =>
				`line ${l.lineId} (${l.quantity} × ${l.sku}, ${l.creditBy === 'action' ? `action "${l.lineAction ?? ''}"` : `grade "${l.disposition}"`})`,
		)
		.join(', ');
}

export function describeHeld(lines: PolicyLine[]): string {
	return `held by finance's credit policy: ${describeLines(lines)}`;
}

export function describeExcluded(lines: PolicyLine[]): string {
	const exchanges = lines.filter((l) => l.credit === 'exchange');
	const others = lines.filter((l) => l.credit !== 'exchange');
	return [
		exchanges.length ? `exchange: ${describeLines(exchanges)}` : '',
		others.length ? `not credited: ${describeLines(others)}` : '',
	]
		.filter(Boolean)
		.join('; ');
}

/** Units a return moved that no credit note will record as returned in Khaos (see uncreditedMoves). */
export interface UncreditedMoves {
	returnId: string;
	orderReference: string;
	/** The return's lines as they came in (mapping, quantity, stockMove), only the uncredited moved ones. */
	lines: unknown[];
}

/**
 * The lines of a return whose stock moved but which its credit note leaves out (an exchange, a grade
 * never credited, a held line released without, a zero-value credit skipped): Khaos never counts them
 * as returned on the order, so they must keep counting against it for later returns (the stock
 * step's held units). Read from the item as it came in (each line's `stockMove`); null when none.
 */
export function uncreditedMoves(payload: unknown, outcome: CreditOutcome): UncreditedMoves | null {
	if (outcome.creditStatus !== 'posted' && outcome.creditStatus !== 'not_credited') return null;
	const excluded = new Set(outcome.excludedLines.map((l) => l.lineId));
	if (excluded.size === 0 || !payload || typeof payload !== 'object') return null;
	const lines = (payload as { lines?: unknown }).lines;
	if (!Array.isArray(lines)) return null;
	const moved = lines.filter((l) => {
		if (!l || typeof l !== 'object') return false;
		const line = l as { lineId?: unknown; stockMove?: { result?: unknown } };
		const result = line.stockMove?.result;
		return (
			typeof line.lineId === 'string' &&
			excluded.has(line.lineId) &&
			(result === 'applied' || result === 'duplicate')
		);
	});
	return moved.length
		? { returnId: outcome.returnId, orderReference: outcome.orderReference, lines: moved }
		: null;
}
