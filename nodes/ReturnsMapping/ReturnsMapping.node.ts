import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { makeException, type ReturnException } from '../../core/exceptions';
import {
	checkCodes,
	compileActionPolicy,
	compileTables,
	formatTableIssue,
	mapReturn,
	unmappedToExceptions,
	type ActionPolicy,
	type CodeInput,
	type CompiledTables,
	type RawTables,
} from '../../core/mapping';
import { recordLabel, validateReturn, type NormalisedReturn } from '../../core/returnModel';
import { returnsMappingProperties, type TableSource } from './ReturnsMappingDescription';

const TABLES: Array<{ key: keyof RawTables; prefix: string }> = [
	{ key: 'dispositions', prefix: 'disposition' },
	{ key: 'reasons', prefix: 'reason' },
	{ key: 'skuAliases', prefix: 'skuAlias' },
];

/** Read the three tables (once, from the first item) and compile them; a bad table fails the node loudly. */
function readTables(ctx: IExecuteFunctions, requireRows: boolean): CompiledTables {
	const raw: RawTables = {};
	for (const { key, prefix } of TABLES) {
		const source = ctx.getNodeParameter(`${prefix}Source`, 0, 'define') as TableSource;
		if (source === 'json') {
			raw[key] = ctx.getNodeParameter(`${prefix}Json`, 0, '[]');
		} else {
			const collection = ctx.getNodeParameter(`${prefix}Rows`, 0, {}) as { rows?: IDataObject[] };
			const rows = collection.rows ?? [];
			// the row editor names the action column stockAction (see ReturnsMappingDescription)
			raw[key] =
				key === 'dispositions'
					? rows.map(({ stockAction, ...row }) => ({ ...row, action: row.action ?? stockAction }))
					: rows;
		}
	}
	const compiled = compileTables(raw, { requireRows });
	if (!compiled.ok) {
		throw new NodeOperationError(ctx.getNode(), compiled.message, {
			description: compiled.issues.map(formatTableIssue).join('\n'),
			itemIndex: 0,
		});
	}
	return compiled.tables;
}

/** Finance's rule per line action (Refund, Exchange …); a bad rule fails the node naming it. */
function readActionPolicy(ctx: IExecuteFunctions): ActionPolicy {
	const p = ctx.getNodeParameter('lineActions', 0, {}) as IDataObject;
	const rules = ((p.rules as IDataObject | undefined)?.rule as IDataObject[] | undefined) ?? [];
	const compiled = compileActionPolicy({ rules, other: p.other, none: p.none });
	if (!compiled.ok) throw new NodeOperationError(ctx.getNode(), compiled.message, { itemIndex: 0 });
	return compiled.policy;
}

/**
 * The return an item carries: the item itself (a normalised return), or the JSON in its `payload`
 * field (an inbox row of the intake template), so the processor needs no parse step (and no n8n
 * expression per row) in front of this node.
 */
export function returnFromItem(
	json: IDataObject,
): { ok: true; value: IDataObject } | { ok: false; message: string } {
	if (Array.isArray(json.lines) || typeof json.payload !== 'string')
		return { ok: true, value: json };
	try {
		const parsed: unknown = JSON.parse(json.payload);
		if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
			return { ok: true, value: parsed as IDataObject };
		return { ok: false, message: `${recordLabel(json)}: payload is not a JSON object` };
	} catch (error) {
		return {
			ok: false,
			message: `${recordLabel(json)}: payload is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
		};
	}
}

function invalidInput(json: IDataObject, message: string, field: string | null): ReturnException {
	const id = json.returnId;
	return makeException('invalid_payload', message, {
		stage: 'mapping',
		returnId: typeof id === 'string' || typeof id === 'number' ? String(id) : null,
		field,
		payload: json,
	});
}

function unexpected(json: IDataObject, error: unknown): IDataObject {
	const message = error instanceof Error ? error.message : String(error);
	const ex = invalidInput(
		json,
		`${recordLabel(json)}: unexpected error while mapping: ${message}`,
		null,
	);
	return { ...ex, owner: 'tech', error: message } as unknown as IDataObject;
}

export class ReturnsMapping implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Returns Mapping',
		name: 'returnsMapping',
		icon: { light: 'file:returnsMapping.svg', dark: 'file:returnsMapping.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] === "check" ? "Check Mappings" : "Map Returns" }}',
		description:
			'Map ReBound dispositions to Khaos stock actions, reasons to Khaos reason IDs and SKUs to stock codes',
		defaults: { name: 'Returns Mapping' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Mapped', 'Unmapped'],
		properties: returnsMappingProperties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const mapped: INodeExecutionData[] = [];
		const unmapped: INodeExecutionData[] = [];
		if (items.length === 0) return [mapped, unmapped];

		const operation = this.getNodeParameter('operation', 0, 'map') as string;
		const tables = readTables(this, operation === 'map');

		if (operation === 'check') {
			const inputs: Array<NormalisedReturn | CodeInput> = [];
			const origin: number[] = [];
			items.forEach((item, itemIndex) => {
				const carried = returnFromItem(item.json);
				if (!carried.ok) {
					unmapped.push({
						json: invalidInput(item.json, carried.message, 'payload') as unknown as IDataObject,
						pairedItem: { item: itemIndex },
					});
					return;
				}
				const json = carried.value;
				if (Array.isArray(json.lines)) {
					const valid = validateReturn(json);
					if (!valid.ok) {
						unmapped.push({
							json: invalidInput(
								json,
								valid.message,
								valid.issues[0]?.field ?? null,
							) as unknown as IDataObject,
							pairedItem: { item: itemIndex },
						});
						return;
					}
					inputs.push(valid.value);
				} else if (json.code !== undefined || json.codes !== undefined) {
					inputs.push(json as CodeInput);
				} else {
					unmapped.push({
						json: invalidInput(
							json,
							`${recordLabel(json)} is invalid: expected a normalised return (lines) or an item with a code or codes field`,
							'lines',
						) as unknown as IDataObject,
						pairedItem: { item: itemIndex },
					});
					return;
				}
				origin.push(itemIndex);
			});
			for (const entry of checkCodes(inputs, tables)) {
				const { inputIndexes, ...json } = entry;
				unmapped.push({
					json: json as unknown as IDataObject,
					pairedItem: inputIndexes.map((i) => ({ item: origin[i] })),
				});
			}
			return [mapped, unmapped];
		}

		const actions = readActionPolicy(this);
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const pairedItem = { item: itemIndex };
			const carried = returnFromItem(items[itemIndex].json);
			if (!carried.ok) {
				unmapped.push({
					json: invalidInput(
						items[itemIndex].json,
						carried.message,
						'payload',
					) as unknown as IDataObject,
					pairedItem,
				});
				continue;
			}
			const json = carried.value;
			try {
				const valid = validateReturn(json);
				if (!valid.ok) {
					unmapped.push({
						json: invalidInput(
							json,
							valid.message,
							valid.issues[0]?.field ?? null,
						) as unknown as IDataObject,
						pairedItem,
					});
					continue;
				}
				const result = mapReturn(valid.value, tables, { actions });
				if (result.ok) {
					mapped.push({ json: result.mapped as unknown as IDataObject, pairedItem });
				} else {
					for (const ex of unmappedToExceptions(valid.value, result.unmapped))
						unmapped.push({ json: ex as unknown as IDataObject, pairedItem });
				}
			} catch (error) {
				if (this.continueOnFail()) {
					unmapped.push({ json: unexpected(json, error), pairedItem });
					continue;
				}
				throw new NodeOperationError(this.getNode(), error as Error, { itemIndex });
			}
		}
		return [mapped, unmapped];
	}
}
