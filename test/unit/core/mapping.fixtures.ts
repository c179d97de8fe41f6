/** Shared fixtures for the mapping tests: the standard demo tables and a return builder. */
import {
	NormalisedReturnSchema,
	type NormalisedReturn,
	type NormalisedReturnInput,
} from '../../../core/returnModel';

export const DEMO_DISPOSITIONS = [
	{ disposition: 'Grade A', action: 'restock', siteId: '1', locationId: 'A1', sellable: true },
	{ disposition: 'Like New', action: 'restock', siteId: '1', locationId: 'A1', sellable: 'true' },
	{ disposition: 'Grade B', action: 'restock', siteId: '1', locationId: 'RET', sellable: '-1' },
	{
		disposition: 'Damaged',
		action: 'quarantine',
		siteId: '1',
		locationId: 'QUAR',
		sellable: false,
	},
	{ disposition: 'Dirty', action: 'quarantine', siteId: '1', locationId: 'QUAR', sellable: '0' },
	{
		disposition: 'Quarantine',
		action: 'quarantine',
		siteId: '1',
		locationId: 'QUAR',
		sellable: 'false',
	},
	{ disposition: 'Missing', action: 'no_movement', siteId: '', locationId: '', sellable: false },
];

export const DEMO_REASONS = [
	{ reason: 'Too small', reasonId: '2' },
	{ reason: 'Too big', reasonId: 2 },
	{ reason: 'Faulty', reasonId: '1' },
	{ reason: 'Changed my mind', reasonId: '3', matchOn: 'reason' },
	{ reason: 'Arrived damaged', reasonId: '4' },
];

export const DEMO_ALIASES = [{ from: 'TSHIRT-RED-MED', to: 'TSHIRT-RED-M' }];

type LineSpec = {
	sku: string;
	disposition?: string | null;
	reasons?: Array<string | { reason?: string; action?: string; wish?: string }>;
	quantity?: number;
};

export function makeReturn(
	returnId: string,
	lines: LineSpec[],
	extra: Partial<NormalisedReturnInput> = {},
): NormalisedReturn {
	const input: NormalisedReturnInput = {
		schemaVersion: 1,
		source: 'rebound-webhook',
		returnId,
		orderReference: 'WEB-1001',
		event: {
			id: `evt-${returnId}`,
			type: 'return.processed',
			occurredAt: '2026-11-20T10:00:00Z',
			sequence: 3,
		},
		lines: lines.map((l, i) => ({
			lineId: `${returnId}:${i + 1}`,
			sku: l.sku,
			quantity: l.quantity ?? 1,
			disposition: l.disposition === undefined ? 'Grade A' : l.disposition,
			reasons: (l.reasons ?? ['Too small']).map((r) => (typeof r === 'string' ? { reason: r } : r)),
		})),
		...extra,
	};
	return NormalisedReturnSchema.parse(input);
}
