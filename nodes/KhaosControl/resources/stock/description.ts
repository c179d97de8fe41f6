import type { INodeProperties } from 'n8n-workflow';
import { locationLocator, siteLocator } from '../../common';

const show = { resource: ['stock'] };

export const stockOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show },
	options: [
		{
			name: 'Adjust',
			value: 'adjust',
			action: 'Adjust stock at a location',
			description: 'Adjust a stock level at a site and location (all items in one batched call)',
		},
		{
			name: 'Apply Return Stock Moves',
			value: 'applyReturnMoves',
			action: 'Apply the stock moves of mapped returns',
			description: 'Restock or quarantine every line of mapped returns into its mapped location, once (idempotent references)',
		},
		{ name: 'Get Levels', value: 'getLevels', action: 'Get stock levels', description: 'Stock levels per site and location' },
	],
	default: 'applyReturnMoves',
};

export const stockFields: INodeProperties[] = [
	{
		displayName: 'Stock Codes',
		name: 'stockCodes',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. TSHIRT-RED-M, JEANS-BLU-32',
		description: 'One code or several separated by commas',
		displayOptions: { show: { ...show, operation: ['getLevels'] } },
	},
	siteLocator({ ...show, operation: ['getLevels', 'adjust'] }),
	{
		displayName: 'Stock Code',
		name: 'stockCode',
		type: 'string',
		default: '',
		required: true,
		displayOptions: { show: { ...show, operation: ['adjust'] } },
	},
	locationLocator({ ...show, operation: ['adjust'] }),
	{
		displayName: 'Adjustment',
		name: 'adjustMode',
		type: 'options',
		options: [
			{ name: 'Adjust By', value: 'by', description: 'Add (or, negative, remove) this many units' },
			{ name: 'Adjust To', value: 'to', description: 'Set the level at the location to this many units' },
		],
		default: 'by',
		displayOptions: { show: { ...show, operation: ['adjust'] } },
	},
	{
		displayName: 'Quantity',
		name: 'quantity',
		type: 'number',
		typeOptions: { numberPrecision: 0 },
		default: 1,
		displayOptions: { show: { ...show, operation: ['adjust'] } },
	},
	{
		displayName: 'Reason',
		name: 'reason',
		type: 'string',
		default: 'n8n stock adjustment',
		description: 'Reason recorded on the adjustment',
		displayOptions: { show: { ...show, operation: ['adjust'] } },
	},
	{
		displayName: 'Reference',
		name: 'reference',
		type: 'string',
		default: '',
		required: true,
		description: 'Unique reference of this adjustment: Khaos skips an adjustment whose reference was already applied, so a re-run moves nothing twice',
		displayOptions: { show: { ...show, operation: ['adjust'] } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { ...show, operation: ['applyReturnMoves'] } },
		options: [
			{
				displayName: 'Adjustment Reason',
				name: 'adjustmentReason',
				type: 'string',
				default: 'ReBound return',
				description: 'Reason text recorded on each adjustment (the disposition is appended)',
			},
			{
				displayName: 'Check Original Order',
				name: 'checkOrder',
				type: 'boolean',
				default: true,
				description:
					"Whether to check each return against its original order before anything moves: the order exists, each SKU is on it, and no more units move than it sold less those already returned or held by other returns",
			},
			{
				displayName: 'Changed After Move',
				name: 'changedAfterMove',
				type: 'options',
				default: 'block',
				options: [
					{ name: 'Block (Exception for Ops)', value: 'block', description: 'Raise regraded_after_move and move nothing for the return' },
					{ name: 'Continue (Already Handled)', value: 'continue', description: 'Leave the moved unit where it is and let the return go on, e.g. when replaying after ops dealt with it' },
				],
				description: 'What to do with a line whose unit already moved but whose grade or quantity has changed since',
			},
			{
				displayName: 'Held Returns',
				name: 'heldReturns',
				type: 'json',
				default: '[]',
				description:
					'Mapped returns outside this run whose stock has moved but whose credit is not yet in Khaos (e.g. rows waiting for credit posting): their units count against the order. An array of records or JSON strings.',
			},
		],
	},
];
