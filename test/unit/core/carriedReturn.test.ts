/**
 * A return carried on with its problems (core/carriedReturn.ts): what mapping makes of it, that it
 * can never pass as a mapped return nor move stock, and how the stock use case checks it.
 */
import {
	CarriedReturnSchema,
	carryProblems,
	carryUnmapped,
	releaseProblems,
	validateCarriedReturn,
	type CarriedReturn,
} from '../../../core/carriedReturn';
import { makeException } from '../../../core/exceptions';
import {
	LineMappingSchema,
	MappedLineSchema,
	compileTables,
	mapReturn,
	validateMappedReturn,
	type CompiledTables,
} from '../../../core/mapping';
import type { DescribeFailure } from '../../../core/ports';
import { validateReturn } from '../../../core/returnModel';
import { applyReturnStock, type StockInput } from '../../../core/usecases/applyReturnStock';
import { TransientExhaustedError, TransportError } from '../../../transports/http';
import { FakeKhaosApi, mappedReturn } from '../../helpers/khaosFakes';
import { DEMO_ALIASES, DEMO_DISPOSITIONS, DEMO_REASONS, makeReturn } from './mapping.fixtures';

function tables(): CompiledTables {
	const compiled = compileTables({
		dispositions: DEMO_DISPOSITIONS,
		reasons: DEMO_REASONS,
		skuAliases: DEMO_ALIASES,
	});
	if (!compiled.ok) throw new Error(compiled.message);
	return compiled.tables;
}

/** The return as Returns Mapping passes it on (pass-on mode). */
function carriedOf(ret: ReturnType<typeof makeReturn>): CarriedReturn {
	const result = mapReturn(ret, tables());
	if (result.ok) throw new Error('expected the return not to map');
	return carryUnmapped(ret, result);
}

const skuProblem = (
	ret: { returnId: string },
	kind: 'archived_sku' | 'unknown_sku',
	lineId: string,
	sku: string,
) =>
	makeException(kind, `Return ${ret.returnId}: SKU ${sku} (line ${lineId}) is wrong`, {
		stage: 'validate',
		returnId: ret.returnId,
		sku,
		lineId,
		code: sku,
	});

/** A fully mapped return carried on only because of a SKU problem. */
function carriedMapped(ret: ReturnType<typeof mappedReturn>, lineIndex = 0) {
	const line = ret.lines[lineIndex];
	return carryProblems(ret, [skuProblem(ret, 'archived_sku', line.lineId, line.sku)]);
}

describe('mapping a return that does not map (pass-on mode)', () => {
	test('every line as far as it mapped: a full mapping, or the stock code and what is missing', () => {
		const ret = makeReturn('C1', [
			{ sku: 'TSHIRT-RED-MED', disposition: 'Grade A' },
			{ sku: 'TSHIRT-RED-MED', disposition: 'Mystery Grade' },
			{ sku: 'MUG-WHT', disposition: 'Damaged', reasons: ['Not as described'] },
			{ sku: 'JEANS-BLU-32', disposition: null },
		]);
		const carried = carriedOf(ret);
		expect(CarriedReturnSchema.safeParse(carried).success).toBe(true);
		expect(carried.lines.map((l) => l.mapping)).toEqual([
			expect.objectContaining({ action: 'restock', khaosSku: 'TSHIRT-RED-M', reasonId: '2' }),
			{
				khaosSku: 'TSHIRT-RED-M',
				missing: ['disposition'],
				action: null,
				siteId: null,
				locationId: null,
			},
			{
				khaosSku: 'MUG-WHT',
				missing: ['reason'],
				action: 'quarantine',
				siteId: '1',
				locationId: 'QUAR',
			},
			{
				khaosSku: 'JEANS-BLU-32',
				missing: ['disposition'],
				action: null,
				siteId: null,
				locationId: null,
			},
		]);
		expect(
			carried.problems.map((p) => [p.kind, p.lineId, (p.details as { problem: string }).problem]),
		).toEqual([
			['unmapped_disposition', 'C1:2', 'no_mapping'],
			['unmapped_reason', 'C1:3', 'no_mapping'],
			['unmapped_disposition', 'C1:4', 'not_graded'],
		]);
		// no return nested in its own problems: the payload is set when they leave
		expect(carried.problems.every((p) => p.payload === null)).toBe(true);
	});

	test('released problems carry the return without its problems, replayable through mapping', () => {
		const ret = makeReturn('C2', [{ sku: 'A', disposition: 'Mystery Grade' }]);
		const carried = carriedOf(ret);
		const out = releaseProblems(carried, carried.problems);
		expect(out).toHaveLength(1);
		const payload = JSON.parse(out[0].payload as string);
		expect(payload.problems).toBeUndefined();
		// mapping reads it as the return it was (the partial mappings are not part of a return)
		const again = validateReturn(payload);
		expect(again.ok && again.value).toEqual(ret);
	});

	test('carrying more problems adds them once each (by key), keeping the first', () => {
		const ret = mappedReturn('C3', 'WEB-1001', [{ sku: 'SCARF-OLD' }]);
		const once = carriedMapped(ret);
		const twice = carryProblems(once, [
			...once.problems,
			skuProblem(ret, 'unknown_sku', 'C3:1', 'X'),
		]);
		expect(twice.problems.map((p) => p.kind)).toEqual(['archived_sku', 'unknown_sku']);
	});
});

describe('safe by construction: a carried return never moves stock', () => {
	test('a partial mapping is never a line mapping, whatever is missing', () => {
		const carried = carriedOf(
			makeReturn('S1', [
				{ sku: 'A', disposition: 'Mystery Grade' },
				{ sku: 'B', disposition: 'Damaged', reasons: ['Not as described'] },
				{ sku: 'C', disposition: null },
			]),
		);
		for (const line of carried.lines) {
			expect(LineMappingSchema.safeParse(line.mapping).success).toBe(false);
			expect(MappedLineSchema.safeParse(line).success).toBe(false);
		}
	});

	test('a return carrying problems is never a mapped return, even when every line mapped', () => {
		const carried = carriedMapped(mappedReturn('S2', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }]));
		const v = validateMappedReturn(carried);
		expect(v.ok).toBe(false);
		if (!v.ok) {
			expect(v.issues[0].field).toBe('problems');
			expect(v.message).toContain('never moves stock');
		}
		// an empty list is no problem
		expect(validateMappedReturn({ ...carried, problems: [] }).ok).toBe(true);
	});

	test('a carried return has at least one problem, and a notice is never one', () => {
		const carried = carriedMapped(mappedReturn('S3', 'WEB-1001', [{ sku: 'MUG-WHT' }]));
		expect(validateCarriedReturn(carried).ok).toBe(true);
		expect(validateCarriedReturn({ ...carried, problems: [] }).ok).toBe(false);
		const notice = makeException('discontinued_sku', 'MUG-WHT is discontinued', {
			stage: 'validate',
			returnId: 'S3',
		});
		const v = validateCarriedReturn({ ...carried, problems: [notice] });
		expect(v.ok).toBe(false);
		if (!v.ok) expect(v.message).toContain('a notice never blocks');
	});
});

describe('applyReturnStock with carried returns', () => {
	const describeFailure: DescribeFailure = (error) => ({
		category: error instanceof TransientExhaustedError ? 'transient' : 'fatal',
		message: error instanceof Error ? error.message : String(error),
		code: null,
		status: null,
		attempts: null,
	});
	const asInput = (json: unknown): StockInput => {
		const carried = validateCarriedReturn(json);
		if (carried.ok) return { carried: carried.value, payload: json };
		const mapped = validateMappedReturn(json);
		if (!mapped.ok) throw new Error(mapped.message);
		return { ret: mapped.value, payload: json };
	};
	const apply = (fake: FakeKhaosApi, items: unknown[]) =>
		applyReturnStock(fake, items.map(asInput), { reasonText: 'ReBound return' }, describeFailure);
	const kinds = (o: Awaited<ReturnType<typeof apply>>[number]) =>
		o.ok ? [] : o.exceptions.map((e) => [e.kind, e.lineId, e.sku]);

	test('fully mapped lines with a SKU problem elsewhere: checked against the order, nothing moved, all problems out', async () => {
		const fake = new FakeKhaosApi();
		// WEB-1001 sold 1 TSHIRT-RED-M and 2 JEANS-BLU-32
		const ret = mappedReturn('A1', 'WEB-1001', [
			{ sku: 'SCARF-OLD' },
			{ sku: 'TSHIRT-RED-M', quantity: 3 },
			{ sku: 'HOODIE-GRY-L' },
			{ sku: 'JEANS-BLU-32', action: 'no_movement', quantity: 5 },
		]);
		const [out] = await apply(fake, [carriedMapped(ret)]);
		expect(fake.calls.adjustStock).toBe(0);
		// SCARF-OLD (the SKU is the problem) is not checked against the order; a non-moving line is not bounded
		expect(kinds(out)).toEqual([
			['archived_sku', 'A1:1', 'SCARF-OLD'],
			['quantity_exceeds_sold', 'A1:2', 'TSHIRT-RED-M'],
			['line_not_on_order', 'A1:3', 'HOODIE-GRY-L'],
		]);
		if (out.ok) throw new Error('expected exceptions');
		for (const ex of out.exceptions) {
			expect(JSON.parse(ex.payload as string)).toEqual(ret);
		}
		expect(out.exceptions[1].message).toContain(
			'3 unit(s) of SKU TSHIRT-RED-M (line A1:2) are returned',
		);
	});

	test('a line whose disposition did not map is bounded as if it moved; one with only its reason unmapped by its action', async () => {
		const fake = new FakeKhaosApi();
		const ret = makeReturn(
			'A2',
			[
				{ sku: 'TSHIRT-RED-M', disposition: 'Mystery Grade', quantity: 2 },
				{ sku: 'JEANS-BLU-32', disposition: 'Missing', reasons: ['Lost'], quantity: 9 },
				{ sku: 'JEANS-BLU-32', disposition: 'Damaged', reasons: ['Lost'], quantity: 3 },
			],
			{ orderReference: 'WEB-1001' },
		);
		const [out] = await apply(fake, [carriedOf(ret)]);
		expect(kinds(out)).toEqual([
			['unmapped_disposition', 'A2:1', 'TSHIRT-RED-M'],
			['unmapped_reason', 'A2:2', 'JEANS-BLU-32'],
			['unmapped_reason', 'A2:3', 'JEANS-BLU-32'],
			['quantity_exceeds_sold', 'A2:1', 'TSHIRT-RED-M'],
			['quantity_exceeds_sold', 'A2:3', 'JEANS-BLU-32'],
		]);
		expect(fake.calls.adjustStock).toBe(0);
	});

	test('its order is always looked up; a carried return takes no units from the returns after it', async () => {
		const fake = new FakeKhaosApi();
		const lost = carriedMapped(mappedReturn('B1', 'WEB-9999', [{ sku: 'SCARF-OLD' }]));
		// B2 would take WEB-1003's only TSHIRT-RED-M if it moved; B3 still gets it
		const b2 = carriedMapped(
			mappedReturn('B2', 'WEB-1003', [{ sku: 'SCARF-OLD' }, { sku: 'TSHIRT-RED-M' }]),
		);
		const b3 = mappedReturn('B3', 'WEB-1003', [{ sku: 'TSHIRT-RED-M' }]);
		const out = await apply(fake, [lost, b2, b3]);
		expect(kinds(out[0])).toEqual([
			['archived_sku', 'B1:1', 'SCARF-OLD'],
			['order_not_found', null, null],
		]);
		expect(kinds(out[1])).toEqual([['archived_sku', 'B2:1', 'SCARF-OLD']]);
		expect(out[2].ok).toBe(true);
		expect(fake.appliedAdjustments.map((a) => a.reference)).toEqual(['RB-B3-B3:1-move']);
	});

	test('a failed order look-up replaces its exceptions (retried later, as for a mapped return)', async () => {
		const fake = new FakeKhaosApi().fail(
			'getSalesOrders',
			new TransientExhaustedError(
				'Khaos ExportOrders',
				3,
				900,
				new TransportError('HTTP 503', { kind: 'http', retryable: true, status: 503 }),
			),
		);
		const [out] = await apply(fake, [
			carriedMapped(mappedReturn('B4', 'WEB-1001', [{ sku: 'SCARF-OLD' }])),
		]);
		expect(kinds(out)).toEqual([['transient_exhausted', null, null]]);
	});

	test('lines already moved (an earlier event) are not bounded again; a re-grade of a known line is still reported', async () => {
		const fake = new FakeKhaosApi();
		const first = mappedReturn('B5', 'WEB-1001', [
			{ sku: 'TSHIRT-RED-M' },
			{ sku: 'JEANS-BLU-32', quantity: 2 },
		]);
		expect((await apply(fake, [first]))[0].ok).toBe(true);
		// the same return comes back with a SKU problem on a new line and line 2 re-graded to quarantine
		const later = mappedReturn('B5', 'WEB-1001', [
			{ sku: 'TSHIRT-RED-M' },
			{ sku: 'JEANS-BLU-32', quantity: 2, action: 'quarantine' },
			{ sku: 'SCARF-OLD' },
		]);
		const [out] = await apply(fake, [carriedMapped(later, 2)]);
		expect(kinds(out)).toEqual([
			['archived_sku', 'B5:3', 'SCARF-OLD'],
			['regraded_after_move', 'B5:2', 'JEANS-BLU-32'],
		]);
		expect(fake.calls.adjustStock).toBe(1);
	});
});
