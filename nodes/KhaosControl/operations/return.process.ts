/** Return → Process: processes an imported return and raises its credit note ("already processed" is a success). */
import { outputItem, perItem, type KhaosRun, type OperationResult } from '../common';
import { defineOperation } from './types';

async function processReturns(run: KhaosRun): Promise<OperationResult> {
	const out = await perItem(run, async (itemIndex) => {
		const returnCode = String(run.ctx.getNodeParameter('returnCode', itemIndex, '') ?? '').trim();
		const authCode = String(
			run.ctx.getNodeParameter('manualAuthCode', itemIndex, 'REBOUND') ?? '',
		).trim();
		if (!returnCode) throw new Error('Return Code is empty');
		if (!authCode) throw new Error('Manual Auth Code is empty');
		const outcome = await run.api.processReturn(returnCode, authCode);
		return [
			outputItem(
				{ returnCode, outcome, processed: true, alreadyProcessed: outcome === 'already_processed' },
				itemIndex,
			),
		];
	});
	return [out];
}

export const returnProcess = defineOperation({
	resource: 'return',
	option: {
		name: 'Process',
		value: 'process',
		action: 'Process a return',
		description:
			'Process an imported return and its credit note (a return already processed counts as success)',
	},
	properties: [
		{
			displayName: 'Return Code',
			name: 'returnCode',
			type: 'string',
			default: '={{ $json.returnCode }}',
			required: true,
		},
		{
			displayName: 'Manual Auth Code',
			name: 'manualAuthCode',
			type: 'string',
			default: 'REBOUND',
			description:
				'Recorded as the manual authorisation of the refund (no card provider is called)',
		},
	],
	execute: processReturns,
});
