/**
 * Parameters of the Returns Mapping node: the operation and, per table
 * (dispositions, reasons, SKU aliases), a source (rows defined in the node or
 * rows from an expression, e.g. a Data table node) and its rows.
 */
import type { INodeProperties } from 'n8n-workflow';
import { dispositionCreditColumn, lineActionsProperty } from './creditPolicyProperties';

export type TableSource = 'define' | 'json';

interface TableSpec {
	/** Parameter name prefix: disposition | reason | skuAlias. */
	prefix: string;
	title: string;
	noun: string;
	example: string;
	columns: INodeProperties[];
}

function tableProperties(spec: TableSpec): INodeProperties[] {
	return [
		{
			displayName: `${spec.title} Source`,
			name: `${spec.prefix}Source`,
			type: 'options',
			noDataExpression: true,
			options: [
				{ name: 'Define in Node', value: 'define', description: 'Edit the rows here, in a table' },
				{
					name: 'From Expression / Input',
					value: 'json',
					description: 'Rows as a JSON array, usually from a Data table node via an expression',
				},
			],
			default: 'define',
		},
		{
			displayName: spec.title,
			name: `${spec.prefix}Rows`,
			type: 'fixedCollection',
			typeOptions: { multipleValues: true, sortable: true },
			placeholder: `Add ${spec.noun}`,
			default: {},
			displayOptions: { show: { [`${spec.prefix}Source`]: ['define'] } },
			options: [{ name: 'rows', displayName: spec.noun, values: spec.columns }],
		},
		{
			displayName: `${spec.title} (JSON)`,
			name: `${spec.prefix}Json`,
			type: 'json',
			default: '[]',
			hint: `An array of rows with the column names of the table, e.g. ${spec.example}`,
			description:
				'Usually an expression that reads the rows a Data table node returned; see the mapping guide',
			displayOptions: { show: { [`${spec.prefix}Source`]: ['json'] } },
		},
	];
}

export const returnsMappingProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Map Returns',
				value: 'map',
				description:
					'Map each graded return to Khaos stock actions and reason IDs; anything unmapped goes to the Unmapped output',
				action: 'Map returns',
			},
			{
				name: 'Check Mappings',
				value: 'check',
				description:
					'List every disposition or reason code seen that has no exact mapping (on the Unmapped output)',
				action: 'Check mappings',
			},
		],
		default: 'map',
	},
	{
		displayName: 'Unmapped Returns',
		name: 'unmappedReturns',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { operation: ['map'] } },
		options: [
			{
				name: 'Route to Unmapped Output',
				value: 'route',
				description: 'A return with any unmapped line goes to Unmapped, one exception per code',
			},
			{
				name: 'Pass On With Their Problems (Checked Further Downstream)',
				value: 'passOn',
				description:
					'It goes out on Mapped carrying its problems, so Validate SKUs and Apply Return Stock Moves report every problem at once; it never moves stock',
			},
		],
		default: 'route',
		description:
			'Where a return with an unmapped disposition or reason, or an ungraded line, goes; see <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/mapping.md">docs/mapping.md</a>',
	},
	{
		displayName:
			'Unmapped codes never default to sellable stock. A "*" row is the default for anything unmatched and must not be sellable. Tables are read once per run, from the first item.',
		name: 'notice',
		type: 'notice',
		default: '',
	},
	...tableProperties({
		prefix: 'disposition',
		title: 'Dispositions',
		noun: 'Disposition',
		example:
			'[{"disposition":"Grade A","action":"restock","siteId":"1","locationId":"A1","sellable":true}]',
		columns: [
			{
				displayName: 'Disposition',
				name: 'disposition',
				type: 'string',
				default: '',
				placeholder: 'Grade A',
				description:
					'The ReBound grade (final disposition), matched ignoring case and spaces; * for the default row',
			},
			{
				displayName: 'Action',
				// "action" is the column name everywhere else; the node translates (the lint reserves "action" for operations)
				name: 'stockAction',
				type: 'options',
				options: [
					{
						name: 'Restock',
						value: 'restock',
						description: 'Book the stock into a site and location',
					},
					{
						name: 'Quarantine',
						value: 'quarantine',
						description: 'Book the stock into a quarantine location (never sellable)',
					},
					{
						name: 'Write Off',
						value: 'write_off',
						description: 'Write the stock off (optionally into a write-off location)',
					},
					{
						name: 'No Movement',
						value: 'no_movement',
						description: 'Move no stock (e.g. item missing from the parcel)',
					},
				],
				default: 'quarantine',
			},
			{
				displayName: 'Site ID',
				name: 'siteId',
				type: 'string',
				default: '',
				placeholder: '1',
				description: 'Khaos site ID (needed for restock and quarantine)',
			},
			{
				displayName: 'Location ID',
				name: 'locationId',
				type: 'string',
				default: '',
				placeholder: 'A1',
				description: 'Khaos stock location within the site (needed for restock and quarantine)',
			},
			{
				displayName: 'Sellable',
				name: 'sellable',
				type: 'boolean',
				default: false,
				description: 'Whether the stock goes back on sale (restock only)',
			},
			dispositionCreditColumn,
		],
	}),
	...tableProperties({
		prefix: 'reason',
		title: 'Reasons',
		noun: 'Reason',
		example: '[{"reason":"Too small","reasonId":"2"}]',
		columns: [
			{
				displayName: 'Reason',
				name: 'reason',
				type: 'string',
				default: '',
				placeholder: 'Too small',
				description:
					'The ReBound reason text, matched ignoring case and spaces; * for the default row',
			},
			{
				displayName: 'Khaos Reason ID',
				name: 'reasonId',
				type: 'string',
				default: '',
				placeholder: '2',
				description: 'ID of the Khaos return reason',
			},
			{
				displayName: 'Match On',
				name: 'matchOn',
				type: 'options',
				options: [
					{ name: 'Reason', value: 'reason' },
					{
						name: 'Action',
						value: 'action',
						description: 'What the customer asked for (e.g. Refund)',
					},
					{ name: 'Wish', value: 'wish' },
				],
				default: 'reason',
				description: 'Which field of the ReBound reason the text is compared with',
			},
		],
	}),
	...tableProperties({
		prefix: 'skuAlias',
		title: 'SKU Aliases',
		noun: 'SKU Alias',
		example: '[{"from":"TSHIRT-RED-MED","to":"TSHIRT-RED-M"}]',
		columns: [
			{
				displayName: 'ReBound SKU',
				name: 'from',
				type: 'string',
				default: '',
				description: 'The SKU as ReBound reports it',
			},
			{
				displayName: 'Khaos Stock Code',
				name: 'to',
				type: 'string',
				default: '',
				description:
					'The Khaos stock code to use instead (one hop: point straight at the final code)',
			},
		],
	}),
	lineActionsProperty,
];
