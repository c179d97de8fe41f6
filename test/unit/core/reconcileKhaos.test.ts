import {
	adjustmentPrefix,
	groupKhaosHoldings,
	khaosLookupRefs,
	reconcile,
	returnRef,
	type ReturnImportLike,
} from '../../../core/reconcile';
import type { AppliedStockAdjustment, KhaosOrderStatus } from '../../../transports/khaos/api';
import { NOW, ret } from './reconcile.fixtures';

function status(
	associatedRef: string,
	orderCode: string,
	extra: Partial<KhaosOrderStatus> = {},
): KhaosOrderStatus {
	return {
		orderCode,
		associatedRef,
		orderType: 2,
		currency: 'GBP',
		dateCreated: '2026-11-20',
		itemsNetPence: 3333,
		deliveryNetPence: 0,
		complete: true,
		cancelled: false,
		...extra,
	};
}

function applied(
	reference: string,
	quantity = 1,
	id: string | null = null,
): AppliedStockAdjustment {
	return {
		id,
		reference,
		stockCode: 'TSHIRT-RED-M',
		siteId: '1',
		locationId: 'A1',
		quantity,
		newLevel: 5,
		reason: 'Return',
		appliedDate: '2026-11-20',
	};
}

describe('khaosLookupRefs', () => {
	it('gives the associated refs and adjustment prefixes to ask Khaos for; trims, drops blanks and repeats, keeps order', () => {
		expect(khaosLookupRefs([' R2 ', 'R1', '', 'R2'])).toEqual({
			returnIds: ['R2', 'R1'],
			associatedRefs: ['RB-R2', 'RB-R1'],
			prefixes: ['RB-R2-', 'RB-R1-'],
		});
		expect(returnRef('7')).toBe('RB-7');
		expect(adjustmentPrefix('7')).toBe('RB-7-');
	});
});

describe('groupKhaosHoldings', () => {
	it('groups credit notes by associated ref (ORDER_TYPE 2 only) and adjustments by the longest matching return id', () => {
		const { rows, unassigned } = groupKhaosHoldings(['R1', 'R1-2', 'R3'], {
			orders: [
				status('RB-R1', 'CN1'),
				status('rb-r1-2 ', 'CN2', { cancelled: true }),
				status('RB-R1', 'SO1', { orderType: 1 }),
				status('RB-OTHER', 'CN9'),
			],
			adjustments: [
				applied('RB-R1-R1:1-Grade A'),
				applied('RB-R1-2-R1-2:1-Grade B', 2, 'ADJ-7'),
				applied('RB-R9-R9:1-Grade A'),
				applied('RB-R3-R3:1-Damaged', -1),
			],
		});
		expect(unassigned).toEqual({ orders: 1, adjustments: 1, imports: 0 });
		expect(rows.map((r) => r.returnId)).toEqual(['R1', 'R1-2', 'R3']);
		expect(rows[0].creditNotes).toEqual([
			{
				orderCode: 'CN1',
				associatedRef: 'RB-R1',
				orderType: 2,
				itemsNetPence: 3333,
				deliveryNetPence: 0,
				grossPence: null,
				currency: 'GBP',
				created: '2026-11-20',
				cancelled: false,
			},
		]);
		expect(rows[0].adjustments.map((a) => a.reference)).toEqual(['RB-R1-R1:1-Grade A']);
		expect(rows[1].creditNotes.map((n) => [n.orderCode, n.cancelled])).toEqual([['CN2', true]]);
		expect(rows[1].adjustments).toEqual([
			{
				id: 'ADJ-7',
				reference: 'RB-R1-2-R1-2:1-Grade B',
				stockCode: 'TSHIRT-RED-M',
				siteId: '1',
				locationId: 'A1',
				quantity: 2,
			},
		]);
		expect(rows[2].adjustments.map((a) => a.quantity)).toEqual([-1]);
		// without imports, "imported" is left for reconcile to decide
		expect(
			rows.every((r) => r.imported === undefined && r.returnCode === null && r.processed === false),
		).toBe(true);
	});

	it('marks the return import when imports are given (by associated ref or return id)', () => {
		const imports: ReturnImportLike[] = [
			{ associatedRef: 'RB-R1', returnCode: 'RET-1', processed: true },
			{ returnId: 'R2', returnCode: 'RET-2' },
			{ associatedRef: 'RB-NOPE', returnCode: 'RET-X' },
		];
		const { rows, unassigned } = groupKhaosHoldings(['R1', 'R2', 'R3'], { imports });
		expect(rows.map((r) => [r.returnId, r.imported, r.returnCode, r.processed])).toEqual([
			['R1', true, 'RET-1', true],
			['R2', true, 'RET-2', false],
			['R3', false, null, false],
		]);
		expect(unassigned.imports).toBe(1);
	});

	it('feeds reconcile directly: complete, credit pending, double move and double credit from transport-shaped records', () => {
		const ids = ['A', 'B', 'C', 'D'];
		const { rows } = groupKhaosHoldings(ids, {
			orders: [
				status('RB-A', 'CN-A'),
				status('RB-C', 'CN-C'),
				status('RB-D', 'CN-D1'),
				status('RB-D', 'CN-D2'),
			],
			adjustments: [
				applied('RB-A-A:1-Grade A'),
				applied('RB-B-B:1-Grade A'),
				applied('RB-C-C:1-Grade A'),
				applied('RB-C-C:1-Grade B'),
				applied('RB-D-D:1-Grade A'),
			],
		});
		const { report, issues } = reconcile({
			returns: ids.map((id) => ret(id)),
			khaos: rows,
			expected: ids.map((id) => ({ returnId: id, creditNetPence: 3333 })),
			options: { now: NOW },
		});
		expect(issues).toEqual([]);
		expect(report.perReturn.map((p) => [p.returnId, p.status])).toEqual([
			['A', 'complete'],
			['B', 'credit_pending'],
			['C', 'over_moved'],
			['D', 'duplicate_credit'],
		]);
		expect(report.perReturn[2].stock.overMoved).toEqual([
			{
				lineId: 'C:1',
				sku: 'TSHIRT-RED-M',
				expected: 1,
				moved: 2,
				references: ['RB-C-C:1-Grade A', 'RB-C-C:1-Grade B'],
			},
		]);
		expect(report.summary.totals.unitsMoved).toBe(5);
		expect(report.summary.totals.creditNotes).toBe(4);
	});
});
