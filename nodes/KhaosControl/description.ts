/**
 * The parts of the node description made from the operation list (./operations/index.ts): the
 * Resource picker, one Operation picker per resource, every operation's parameters with their
 * displayOptions, and the outputs (an expression over the chosen operation).
 */
import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_RESOURCE, OPERATIONS, RESOURCES, type KhaosOperation } from './operations';

export function resourceProperty(): INodeProperties {
	return {
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: RESOURCES.map(({ name, value }) => ({ name, value })),
		default: DEFAULT_RESOURCE,
	};
}

export function operationProperties(
	ops: readonly KhaosOperation[] = OPERATIONS,
): INodeProperties[] {
	return RESOURCES.map(({ value: resource, defaultOperation }) => ({
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: [resource] } },
		options: ops
			.filter((o) => o.resource === resource)
			.map((o) => ({ ...o.description.option }))
			.sort((a, b) => a.name.localeCompare(b.name)),
		default: defaultOperation,
	}));
}

/**
 * Every operation's parameters, shown for its resource and operation. A parameter several
 * operations of one resource declare identically is one property shown for all of them (at the
 * first one's place), as a hand-written description would have it.
 */
export function operationFields(ops: readonly KhaosOperation[] = OPERATIONS): INodeProperties[] {
	const fields: Array<{
		resource: string;
		key: string;
		property: INodeProperties;
		operations: string[];
	}> = [];
	for (const op of ops) {
		for (const property of op.description.properties) {
			const key = JSON.stringify(property);
			const same = fields.find((f) => f.resource === op.resource && f.key === key);
			if (same) same.operations.push(op.operation);
			else fields.push({ resource: op.resource, key, property, operations: [op.operation] });
		}
	}
	return fields.map(({ resource, property, operations }) => ({
		...property,
		displayOptions: {
			...property.displayOptions,
			show: { resource: [resource], operation: operations, ...property.displayOptions?.show },
		},
	}));
}

/** Operations with a second output for exception items, and the name of their first output. */
export function exceptionOutputOperations(
	ops: readonly KhaosOperation[] = OPERATIONS,
): Record<string, string> {
	const out: Record<string, string> = {};
	for (const op of ops.filter((o) => o.flags.twoOutputs)) {
		// the outputs expression sees the operation's name only
		if (ops.some((o) => o.operation === op.operation && o !== op))
			throw new Error(`Two resources have an operation "${op.operation}"; one has two outputs`);
		out[op.operation] = op.flags.outputNames[0];
	}
	return out;
}

/** The node's outputs: [first, "Exceptions"] for a two-output operation (./operations/types.ts flags), one unnamed output otherwise. */
export function outputsExpression(ops: readonly KhaosOperation[] = OPERATIONS): `={{${string}}}` {
	const firsts = Object.entries(exceptionOutputOperations(ops));
	const names = `[${firsts.map(([op]) => JSON.stringify(op)).join(', ')}]`;
	const map = `{ ${firsts.map(([op, name]) => `${JSON.stringify(op)}: ${JSON.stringify(name)}`).join(', ')} }`;
	return (`={{ ${names}.includes($parameter["operation"]) ? ` +
		`[{ "type": "main", "displayName": (${map})[$parameter["operation"]] }, { "type": "main", "displayName": "Exceptions" }] : ` +
		'[{ "type": "main", "displayName": "" }] }}') as `={{${string}}}`;
}
