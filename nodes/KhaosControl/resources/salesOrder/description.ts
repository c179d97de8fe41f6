import type { INodeProperties } from 'n8n-workflow';

const show = { resource: ['salesOrder'] };

export const salesOrderOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show },
	options: [{ name: 'Get', value: 'get', action: 'Get a sales order', description: 'Get a sales order with its lines and prices' }],
	default: 'get',
};

export const salesOrderFields: INodeProperties[] = [
	{
		displayName: 'Look Up By',
		name: 'lookupBy',
		type: 'options',
		options: [
			{ name: 'Associated Ref (Retailer Order Number)', value: 'associatedRef' },
			{ name: 'Khaos Order Code', value: 'orderCode' },
		],
		default: 'associatedRef',
		displayOptions: { show: { ...show, operation: ['get'] } },
	},
	{
		displayName: 'Reference',
		name: 'orderReference',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. WEB-1001',
		displayOptions: { show: { ...show, operation: ['get'] } },
	},
];
