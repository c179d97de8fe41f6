import type { INodeProperties } from 'n8n-workflow';

/** Parameters of the ReBound node: Return → Get (by ID) and Search (a date window), and the options. */
export function reBoundProperties(): INodeProperties[] {
	return [
		{
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			noDataExpression: true,
			options: [{ name: 'Return', value: 'return' }],
			default: 'return',
		},
		{
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: { resource: ['return'] } },
			options: [
				{
					name: 'Get',
					value: 'get',
					description: 'Get a return by its ReBound ID',
					action: 'Get a return',
				},
				{
					name: 'Search',
					value: 'search',
					description: 'Find the returns of a date window',
					action: 'Search returns',
				},
			],
			default: 'get',
		},
		{
			displayName: 'Return ID',
			name: 'returnId',
			type: 'string',
			required: true,
			default: '',
			placeholder: '123456',
			description: "The return's ReBound ID (not its display ID)",
			displayOptions: { show: { resource: ['return'], operation: ['get'] } },
		},
		{
			displayName: 'From Date',
			name: 'dateFrom',
			type: 'dateTime',
			required: true,
			default: '',
			description: 'First day of the window (UTC, inclusive)',
			displayOptions: { show: { resource: ['return'], operation: ['search'] } },
		},
		{
			displayName: 'To Date',
			name: 'dateTo',
			type: 'dateTime',
			required: true,
			default: '',
			description: 'Last day of the window (UTC, inclusive)',
			displayOptions: { show: { resource: ['return'], operation: ['search'] } },
		},
		{
			displayName: 'Output',
			name: 'output',
			type: 'options',
			options: [
				{
					name: 'Returns',
					value: 'returns',
					description: 'Fetch each return and output it normalised',
				},
				{
					name: 'IDs Only',
					value: 'ids',
					description: 'Output one item per return ID (one search call per 7 days)',
				},
			],
			default: 'returns',
			displayOptions: { show: { resource: ['return'], operation: ['search'] } },
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add option',
			default: {},
			displayOptions: { show: { resource: ['return'] } },
			options: [
				{
					displayName: 'Include Raw Return',
					name: 'includeRaw',
					type: 'boolean',
					default: false,
					description:
						'Whether to add the return as ReBound sent it under `raw` (without the base64 label)',
				},
				{
					displayName: 'Fetch Concurrency',
					name: 'concurrency',
					type: 'number',
					typeOptions: { minValue: 1, maxValue: 16 },
					default: 4,
					description: 'Returns fetched at the same time by Search',
				},
			],
		},
	];
}
