import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import {
	exceptionOutputOperations,
	operationFields,
	operationProperties,
	outputsExpression,
	resourceProperty,
} from './description';
import { listSearch, loadOptions } from './methods';
import { route } from './router';
import { KHAOS_CREDENTIAL } from './transport';

/** Operations with a second output for exception items, and the name of their first output. */
export const EXCEPTION_OUTPUT_OPERATIONS: Record<string, string> = exceptionOutputOperations();

/**
 * Khaos Control: products, stock, sales orders, returns and credit notes. Every operation is one
 * file of ./operations, listed in ./operations/index.ts; the pickers, parameters and outputs
 * below are made from that list, and execute is its router.
 */
export class KhaosControl implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Khaos Control',
		name: 'khaosControl',
		icon: { light: 'file:khaosControl.svg', dark: 'file:khaosControl.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Products, stock, sales orders, returns and credit notes in Khaos Control (SOAP web services)',
		defaults: { name: 'Khaos Control' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: outputsExpression(),
		credentials: [{ name: KHAOS_CREDENTIAL, required: true }],
		properties: [resourceProperty(), ...operationProperties(), ...operationFields()],
	};

	methods = {
		listSearch,
		loadOptions,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return route(this);
	}
}
