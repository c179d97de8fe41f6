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
		{
			name: 'Reconcile',
			value: 'reconcile',
			action: 'Reconcile returns',
			description:
				'Check the input returns (from ReBound) against Khaos stock adjustments and credit notes plus the open exceptions; outputs one report (JSON, subject, Markdown, HTML, summary line)',
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
		displayName: 'Exception Rows (JSON)',
		name: 'exceptionsJson',
		type: 'json',
		default: '[]',
		description:
			'The rows of the exceptions Data Table as a JSON array (key, kind, owner, status, returnId, sku, message, firstSeen, lastSeen, attempts); open rows are reported and linked to their returns. The input items are the returns of the window.',
		displayOptions: { show: { ...show, operation: ['reconcile'] } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { ...show, operation: ['reconcile'] } },
		options: [
			{
				displayName: 'Title',
				name: 'title',
				type: 'string',
				default: '',
				description: 'Heading of the report and its e-mail subject (empty: "Returns reconciliation" and the window)',
			},
			{
				displayName: 'Tolerance (Pence per Line)',
				name: 'tolerancePencePerLine',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 1,
				description: 'Difference allowed per credited line before a value counts as a mismatch',
			},
			{
				displayName: 'Window From',
				name: 'windowFrom',
				type: 'string',
				default: '',
				placeholder: 'e.g. 2026-11-27',
				description: 'First day of the window the returns come from (shown in the report)',
			},
			{
				displayName: 'Window To',
				name: 'windowTo',
				type: 'string',
				default: '',
				placeholder: 'e.g. 2026-11-27',
				description: 'Last day of the window (shown in the report)',
			},
		],
	},
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
