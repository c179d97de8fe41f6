/** Builders for the reconciliation tests: returns in the window and what Khaos holds for them. */
import type { NormalisedReturnInput } from '../../../core/returnModel';

export const NOW = '2026-11-21T07:00:00.000Z';

/** An ISO time `hours` before NOW. */
export function hoursAgo(hours: number): string {
	return new Date(Date.parse(NOW) - hours * 3_600_000).toISOString();
}

type LineSpec = { sku: string; quantity?: number; disposition?: string | null };

export function ret(
	returnId: string,
	lines: LineSpec[] = [{ sku: 'TSHIRT-RED-M' }],
	extra: Partial<NormalisedReturnInput> & { ageHours?: number } = {},
): NormalisedReturnInput {
	const { ageHours = 10, ...rest } = extra;
	return {
		schemaVersion: 1,
		source: 'rebound-poll',
		returnId,
		orderReference: 'WEB-1001',
		currency: 'GBP',
		refundPence: null,
		event: {
			id: `poll:${returnId}`,
			type: 'return.processed',
			occurredAt: hoursAgo(ageHours),
			sequence: 3,
		},
		lines: lines.map((l, i) => ({
			lineId: `${returnId}:${i + 1}`,
			sku: l.sku,
			quantity: l.quantity ?? 1,
			disposition: l.disposition === undefined ? 'Grade A' : l.disposition,
			reasons: [{ reason: 'Too small' }],
		})),
		...rest,
	};
}

export function note(
	orderCode: string,
	grossPence: number | null,
	itemsNetPence = 0,
	extra: Record<string, unknown> = {},
) {
	return {
		orderCode,
		associatedRef: 'RB-x',
		itemsNetPence,
		deliveryNetPence: 0,
		grossPence,
		currency: 'GBP',
		created: '2026-11-20',
		...extra,
	};
}

export function adj(
	returnId: string,
	lineNo: number,
	quantity = 1,
	disposition = 'Grade A',
	extra: Record<string, unknown> = {},
) {
	return {
		reference: `RB-${returnId}-${returnId}:${lineNo}-${disposition}`,
		stockCode: 'TSHIRT-RED-M',
		siteId: '1',
		locationId: 'A1',
		quantity,
		...extra,
	};
}

export function holding(
	returnId: string,
	creditNotes: unknown[] = [],
	adjustments: unknown[] = [],
	extra: Record<string, unknown> = {},
) {
	return {
		returnId,
		returnCode: creditNotes.length ? `RET-${returnId}` : null,
		processed: creditNotes.length > 0,
		creditNotes,
		adjustments,
		...extra,
	};
}

export function exceptionRow(key: string, kind: string, extra: Record<string, unknown> = {}) {
	return {
		key,
		kind,
		owner: null,
		status: 'open',
		returnId: null,
		sku: null,
		message: `${kind} happened`,
		firstSeen: hoursAgo(5),
		lastSeen: hoursAgo(1),
		attempts: 1,
		...extra,
	};
}

/** A row of the credit reviews Data Table (a held credit), `pending` and held `heldHoursAgo` before NOW. */
export function reviewRow(
	returnId: string,
	heldHoursAgo: number,
	extra: Record<string, unknown> = {},
) {
	return {
		id: `id-${returnId}`,
		returnId,
		displayId: `RMA-${returnId}`,
		orderReference: 'WEB-1001',
		currency: 'GBP',
		heldWhy: 'a line graded Missing Item is held',
		heldLines: '1 × MUG-WHT (Missing Item)',
		gross: '45.00',
		grossPence: 4500,
		withoutHeldGross: '20.00',
		withoutHeldGrossPence: 2000,
		decision: '',
		decidedBy: '',
		note: '',
		status: 'pending',
		heldAt: hoursAgo(heldHoursAgo),
		resolvedAt: '',
		creditNoteRef: '',
		creditGross: '',
		lastError: '',
		mapped: '{"returnId":"x"}',
		...extra,
	};
}
