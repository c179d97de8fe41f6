import type { INodeProperties } from 'n8n-workflow';

const show = { resource: ['creditNote'] };

export const creditNoteOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show },
	options: [
		{
			name: 'Create From Return',
			value: 'createFromReturn',
			action: 'Create a credit note from a return',
			description: 'Compute the credit from the original Khaos order, import the return with those values and process it',
		},
		{
			name: 'Find By Reference',
			value: 'findByReference',
			action: 'Find credit notes by reference',
			description: 'Find credit notes by associated ref (e.g. RB- followed by the ReBound return ID)',
		},
	],
	default: 'createFromReturn',
};

export const creditNoteFields: INodeProperties[] = [
	{
		displayName: 'Associated Refs',
		name: 'references',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. RB-R1001',
		description: 'One associated ref or several separated by commas (all items are looked up in one batched call)',
		displayOptions: { show: { ...show, operation: ['findByReference'] } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { ...show, operation: ['createFromReturn'] } },
		options: [
			{
				displayName: 'Delivery Refund',
				name: 'deliveryPolicy',
				type: 'options',
				options: [
					{ name: 'Never', value: 'never' },
					{ name: 'When the Whole Order Comes Back', value: 'whole_order' },
					{ name: 'Always (Once per Order)', value: 'always' },
				],
				default: 'never',
			},
			{
				displayName: 'Manual Auth Code',
				name: 'manualAuthCode',
				type: 'string',
				default: 'REBOUND',
				description: 'Recorded when the return is processed (the refund is marked as manually processed)',
			},
			{
				displayName: 'Process Concurrency',
				name: 'processConcurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 16 },
				default: 4,
				description: 'How many ProcessReturn calls (one return each) may be in flight at once; 1 processes them one after another',
			},
			{
				displayName: 'Process Return',
				name: 'processReturn',
				type: 'boolean',
				default: true,
				description: 'Whether to process the imported return (which raises the credit note) straight away',
			},
			{
				displayName: 'Rounding',
				name: 'rounding',
				type: 'options',
				options: [
					{ name: 'Half Up', value: 'half_up' },
					{ name: 'Half Even (Banker’s)', value: 'half_even' },
				],
				default: 'half_up',
			},
			{
				displayName: 'Tolerance (Pence per Line)',
				name: 'tolerancePencePerLine',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 1,
				description: 'A difference between the computed credit and the refund ReBound reports above this (times the credited lines) is reported as a credit mismatch',
			},
		],
	},
];
