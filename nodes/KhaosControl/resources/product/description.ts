import type { INodeProperties } from 'n8n-workflow';

const show = { resource: ['product'] };

export const MAPPING_TYPE_OPTIONS = [
	{ name: 'Stock Code', value: 1 },
	{ name: 'Other Ref (Associated Ref)', value: 2 },
	{ name: 'Barcode', value: 5 },
	{ name: 'Automatic', value: -1 },
	{ name: 'External Map File', value: 3 },
	{ name: 'Description', value: 4 },
	{ name: 'Channel Code', value: 6 },
	{ name: 'Catalogue Ref', value: 7 },
];

export const productOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show },
	options: [
		{ name: 'Get', value: 'get', action: 'Get products', description: 'Look products up by code (one batched call for all items)' },
		{
			name: 'Validate SKUs',
			value: 'validateSkus',
			action: 'Validate return skus',
			description: 'Check every SKU of the incoming returns exists, is not archived and is stock controlled (one batched look-up)',
		},
	],
	default: 'validateSkus',
};

export const productFields: INodeProperties[] = [
	{
		displayName: 'Stock Codes',
		name: 'stockCodes',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. TSHIRT-RED-M, JEANS-BLU-32',
		description: 'One code or several separated by commas',
		displayOptions: { show: { ...show, operation: ['get'] } },
	},
	{
		displayName: 'Mapping Type',
		name: 'mappingType',
		type: 'options',
		options: MAPPING_TYPE_OPTIONS,
		default: 1,
		description: 'How Khaos matches the codes',
		displayOptions: { show: { ...show, operation: ['get', 'validateSkus'] } },
	},
];
