/**
 * Sales Order → Get, with lines and prices (pence and formatted). ExportOrders takes one
 * reference a call; the same reference is fetched once an execution.
 */
import type { IDataObject } from 'n8n-workflow';
import type { KhaosSalesOrder } from '../../../transports/khaos/api';
import { money, outputItem, perItem, type KhaosRun, type OperationResult } from '../common';
import { defineOperation } from './types';

export function salesOrderJson(o: KhaosSalesOrder): IDataObject {
	return {
		orderCode: o.orderCode,
		associatedRef: o.associatedRef,
		orderDate: o.orderDate,
		customerUrn: o.customerUrn,
		siteId: o.siteId,
		currency: o.currency,
		exchangeRate: o.exchangeRate,
		priceBasis: o.priceBasis,
		vatRounding: o.vatRounding,
		keycode: o.keycode,
		orderDiscountPence: o.orderDiscountPence,
		orderDiscount: money(o.orderDiscountPence),
		delivery: {
			...o.delivery,
			net: money(o.delivery.netPence),
			tax: money(o.delivery.taxPence),
			gross: money(o.delivery.grossPence),
		},
		deliveryRefunded: o.deliveryRefunded,
		lines: o.lines.map((l) => ({
			lineId: l.lineId,
			stockCode: l.stockCode,
			description: l.description,
			qtyOrdered: l.qtyOrdered,
			qtyReturned: l.qtyReturned,
			unitPricePence: l.unitPricePence,
			unitPrice: money(l.unitPricePence),
			discountPercent: l.discountPercent,
			discountValuePence: l.discountValuePence,
			taxRateCode: l.taxRateCode,
			vatRatePercent: l.vatRatePercent,
		})),
	};
}

async function getSalesOrders(run: KhaosRun): Promise<OperationResult> {
	const cache = new Map<string, Promise<KhaosSalesOrder | null>>();
	const out = await perItem(run, async (itemIndex) => {
		const by = run.ctx.getNodeParameter('lookupBy', itemIndex, 'associatedRef') as
			| 'associatedRef'
			| 'orderCode';
		const ref = String(run.ctx.getNodeParameter('orderReference', itemIndex, '')).trim();
		if (!ref) throw new Error('Reference is empty');
		const key = `${by}:${by === 'associatedRef' ? ref.toLowerCase() : ref}`;
		if (!cache.has(key))
			cache.set(
				key,
				run.api.getSalesOrder(by === 'orderCode' ? { orderCode: ref } : { associatedRef: ref }),
			);
		const order = await (cache.get(key) as Promise<KhaosSalesOrder | null>);
		if (!order)
			throw new Error(
				`No Khaos sales order with ${by === 'orderCode' ? 'order code' : 'associated ref'} ${ref}`,
			);
		return [outputItem(salesOrderJson(order), itemIndex)];
	});
	return [out];
}

export const salesOrderGet = defineOperation({
	resource: 'salesOrder',
	option: {
		name: 'Get',
		value: 'get',
		action: 'Get a sales order',
		description: 'Get a sales order with its lines and prices',
	},
	properties: [
		{
			displayName: 'Look Up By',
			name: 'lookupBy',
			type: 'options',
			options: [
				{ name: 'Associated Ref (Retailer Order Number)', value: 'associatedRef' },
				{ name: 'Khaos Order Code', value: 'orderCode' },
			],
			default: 'associatedRef',
		},
		{
			displayName: 'Reference',
			name: 'orderReference',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. WEB-1001',
		},
	],
	execute: getSalesOrders,
});
