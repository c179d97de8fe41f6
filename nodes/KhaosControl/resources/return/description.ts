import type { INodeProperties } from 'n8n-workflow';
import { reasonOptions, siteLocator } from '../../common';

const show = { resource: ['return'] };

export const returnOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show },
	options: [
		{
			name: 'Import',
			value: 'import',
			action: 'Import a return',
			description: 'Create a customer return against its original order (a second import with the same associated ref is reported as a duplicate, never created twice)',
		},
		{
			name: 'Process',
			value: 'process',
			action: 'Process a return',
			description: 'Process an imported return and its credit note (a return already processed counts as success)',
		},
	],
	default: 'import',
};

export const returnFields: INodeProperties[] = [
	{
		displayName: 'Return (JSON)',
		name: 'returnJson',
		type: 'json',
		default: '={{ JSON.stringify($json) }}',
		required: true,
		description:
			'The return to import: associatedRef (unique, max 50 characters: the duplicate guard), customerUrn, orderAssociatedRef, currency, exchangeRate, lines [{stockCode, quantity, reasonId, orderLineId, siteId, locationId, restock, creditNetPence, creditTaxPence, creditGrossPence}], delivery {netPence, taxPence, grossPence} or null',
		displayOptions: { show: { ...show, operation: ['import'] } },
	},
	reasonOptions({ ...show, operation: ['import'] }, 'defaultReasonId', 'Default Return Reason Name or ID'),
	siteLocator({ ...show, operation: ['import'] }, 'defaultSite'),
	{
		displayName: 'Return Code',
		name: 'returnCode',
		type: 'string',
		default: '={{ $json.returnCode }}',
		required: true,
		displayOptions: { show: { ...show, operation: ['process'] } },
	},
	{
		displayName: 'Manual Auth Code',
		name: 'manualAuthCode',
		type: 'string',
		default: 'REBOUND',
		description: 'Recorded as the manual authorisation of the refund (no card provider is called)',
		displayOptions: { show: { ...show, operation: ['process'] } },
	},
];
