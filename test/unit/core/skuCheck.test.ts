/** Validate SKUs' judgement (core/skuCheck.ts): what each product fact makes of a line, and what an item asks. */
import { carryProblems } from '../../../core/carriedReturn';
import { makeException } from '../../../core/exceptions';
import { judgeSkus, skuRequestOf, type ProductFacts } from '../../../core/skuCheck';
import { mappedReturn } from '../../helpers/khaosFakes';

const product = (stockCode: string, flags: Partial<ProductFacts> = {}): ProductFacts => ({
	stockCode,
	deleted: false,
	discontinued: false,
	stockControlled: true,
	...flags,
});
const products = new Map([
	['OK', product('OK')],
	['GONE', product('GONE', { deleted: true, discontinued: true })],
	['OLD', product('OLD', { discontinued: true })],
	['GIFT', product('GIFT', { stockControlled: false })],
	['OLD-GIFT', product('OLD-GIFT', { discontinued: true, stockControlled: false })],
]);
const lines = ['OK', 'NOPE', 'GONE', 'OLD', 'GIFT', 'OLD-GIFT'].map((code, i) => ({
	code,
	lineId: `R1:${i + 1}`,
	sku: code,
}));
const kinds = (fs: Array<{ kind: string; line: { code: string } }>) =>
	fs.map((f) => [f.kind, f.line.code]);

describe('judgeSkus', () => {
	test('unknown, deleted and not stock controlled stop the return; discontinued by its rule', () => {
		const always = [
			['unknown_sku', 'NOPE'],
			['archived_sku', 'GONE'],
			['archived_sku', 'GIFT'],
		];
		const flag = judgeSkus('Return R1', lines, products, 'flag');
		expect(kinds(flag.problems)).toEqual([...always, ['archived_sku', 'OLD-GIFT']]);
		expect(flag.notices).toEqual([]);

		const notice = judgeSkus('Return R1', lines, products, 'notice');
		expect(kinds(notice.problems)).toEqual(kinds(flag.problems));
		expect(kinds(notice.notices)).toEqual([
			['discontinued_sku', 'OLD'],
			['discontinued_sku', 'OLD-GIFT'],
		]);

		const block = judgeSkus('Return R1', lines, products, 'block');
		expect(kinds(block.problems)).toEqual([
			['unknown_sku', 'NOPE'],
			['archived_sku', 'GONE'],
			['discontinued_sku', 'OLD'],
			['archived_sku', 'GIFT'],
			['discontinued_sku', 'OLD-GIFT'],
			['archived_sku', 'OLD-GIFT'],
		]);
		expect(block.problems[2].message).toBe(
			'Return R1: SKU OLD (line R1:4) is discontinued in Khaos: the return waits (Discontinued SKUs: block)',
		);
	});
});

describe('skuRequestOf', () => {
	test('a mapped return checks its Khaos stock codes; a carried one brings its problems', () => {
		const ret = mappedReturn('R2', 'WEB-1001', [{ sku: 'TSHIRT-RED-M' }]);
		ret.lines[0].mapping.khaosSku = 'TSHIRT-RED-M-NEW';
		const asked = skuRequestOf(ret, 'Return R2');
		expect(asked).toEqual({
			ok: true,
			request: {
				lines: [{ code: 'TSHIRT-RED-M-NEW', lineId: 'R2:1', sku: 'TSHIRT-RED-M' }],
				plain: false,
				carried: [],
			},
		});
		const problem = makeException('unmapped_reason', 'no reason', {
			stage: 'mapping',
			returnId: 'R2',
			lineId: 'R2:1',
		});
		const carried = skuRequestOf(carryProblems(ret, [problem]), 'Return R2');
		expect(carried.ok && carried.request.carried.map((p) => p.kind)).toEqual(['unmapped_reason']);
	});

	test('a plain SKU item, and what cannot be checked', () => {
		expect(skuRequestOf({ sku: ' OK ' }, 'Item')).toMatchObject({
			ok: true,
			request: { plain: true, lines: [{ code: 'OK', lineId: null }] },
		});
		expect(skuRequestOf({ sku: 'A,B' }, 'Item')).toMatchObject({ ok: false, field: 'sku' });
		expect(skuRequestOf({ foo: 1 }, 'Item')).toMatchObject({ ok: false, field: 'lines' });
		const broken = { ...mappedReturn('R3', 'WEB-1001', [{ sku: 'X' }]), problems: [{}] };
		expect(skuRequestOf(broken, 'Return R3')).toMatchObject({ ok: false });
	});
});
