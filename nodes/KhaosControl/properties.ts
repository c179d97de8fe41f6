/**
 * Parameters several operations declare: the site, location and return reason pickers (their
 * lists come from ./methods) and Khaos' product mapping types. The operation list
 * (./operations/index.ts) adds each property's displayOptions.
 */
import type { INodeProperties } from 'n8n-workflow';

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

export function siteLocator(name = 'site'): INodeProperties {
	return {
		displayName: 'Site',
		name,
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		description: "Khaos site. Empty uses the credential's default site ID.",
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchSites', searchable: true },
			},
			{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'e.g. 1' },
		],
	};
}

export function locationLocator(name = 'location'): INodeProperties {
	return {
		displayName: 'Location',
		name,
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: 'Stock location at the chosen site',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchLocations', searchable: true },
			},
			{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'e.g. A1' },
		],
	};
}

export function reasonOptions(
	name = 'reasonId',
	displayName = 'Return Reason Name or ID',
): INodeProperties {
	return {
		displayName,
		name,
		type: 'options',
		typeOptions: { loadOptionsMethod: 'getReturnReasons' },
		default: '',
		description:
			'Khaos return reason (used for lines that name none). Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	};
}

export const mappingTypeProperty: INodeProperties = {
	displayName: 'Mapping Type',
	name: 'mappingType',
	type: 'options',
	options: MAPPING_TYPE_OPTIONS,
	default: 1,
	description: 'How Khaos matches the codes',
};

/** Comma-separated stock codes (Product → Get, Stock → Get Levels). */
export const stockCodesProperty: INodeProperties = {
	displayName: 'Stock Codes',
	name: 'stockCodes',
	type: 'string',
	default: '',
	required: true,
	placeholder: 'e.g. TSHIRT-RED-M, JEANS-BLU-32',
	description: 'One code or several separated by commas',
};
