/** Credit Note → Find By Reference: credit notes by associated ref, one batched look-up for all items. */
import type { KhaosOrderStatus } from '../../../transports/khaos/api';
import { splitCodes } from '../../shared/values';
import { money, outputItem, perItem, type KhaosRun, type OperationResult } from '../common';
import { defineOperation } from './types';

async function findByReference(run: KhaosRun): Promise<OperationResult> {
	const refsPerItem = run.items.map((_, i) =>
		splitCodes(run.ctx.getNodeParameter('references', i, '')),
	);
	const all = [...new Set(refsPerItem.flat())];
	let statuses: KhaosOrderStatus[] = [];
	let lookupError: unknown = null;
	if (all.length) {
		try {
			statuses = await run.api.getOrderStatuses(all);
		} catch (error) {
			lookupError = error;
		}
	}
	const creditNotes = statuses.filter((s) => s.orderType === 2);
	const out = await perItem(run, async (itemIndex) => {
		if (lookupError) throw lookupError;
		const refs = refsPerItem[itemIndex];
		if (refs.length === 0) throw new Error('Associated Refs is empty');
		return refs.flatMap((ref) => {
			const found = creditNotes.filter((s) => s.associatedRef.toLowerCase() === ref.toLowerCase());
			if (found.length === 0) return [outputItem({ associatedRef: ref, found: false }, itemIndex)];
			return found.map((s) =>
				outputItem(
					{
						associatedRef: ref,
						found: true,
						creditNoteCode: s.orderCode,
						currency: s.currency,
						dateCreated: s.dateCreated,
						itemsNetPence: s.itemsNetPence,
						deliveryNetPence: s.deliveryNetPence,
						netPence: s.itemsNetPence + s.deliveryNetPence,
						net: money(s.itemsNetPence + s.deliveryNetPence),
						complete: s.complete,
						cancelled: s.cancelled,
					},
					itemIndex,
				),
			);
		});
	});
	return [out];
}

export const creditNoteFindByReference = defineOperation({
	resource: 'creditNote',
	option: {
		name: 'Find By Reference',
		value: 'findByReference',
		action: 'Find credit notes by reference',
		description: 'Find credit notes by associated ref (e.g. RB- followed by the ReBound return ID)',
	},
	properties: [
		{
			displayName: 'Associated Refs',
			name: 'references',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. RB-R1001',
			description:
				'One associated ref or several separated by commas (all items are looked up in one batched call)',
		},
	],
	execute: findByReference,
});
