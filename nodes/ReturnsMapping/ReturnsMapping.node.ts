import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { carryUnmapped } from '../../core/carriedReturn';
import {
	checkCodes,
	mapReturn,
	unmappedToExceptions,
	type CodeInput,
	type CompiledTables,
} from '../../core/mapping';
import { recordLabel, validateReturn, type NormalisedReturn } from '../../core/returnModel';
import { returnsMappingProperties } from './ReturnsMappingDescription';
import {
	invalidInput,
	readActionPolicy,
	readTables,
	returnFromItem,
	unexpected,
} from './mappingInput';

type Outputs = [mapped: INodeExecutionData[], unmapped: INodeExecutionData[]];

/** Check Mappings: every code seen without an exact mapping, on the Unmapped output. */
function checkMappings(items: INodeExecutionData[], tables: CompiledTables): Outputs {
	const unmapped: INodeExecutionData[] = [];
	const inputs: Array<NormalisedReturn | CodeInput> = [];
	const origin: number[] = [];
	items.forEach((item, itemIndex) => {
		const carried = returnFromItem(item.json);
		if (!carried.ok) {
			unmapped.push(invalidInput(item.json, carried.message, 'payload', itemIndex));
			return;
		}
		const json = carried.value;
		if (Array.isArray(json.lines)) {
			const valid = validateReturn(json);
			if (!valid.ok) {
				unmapped.push(invalidInput(json, valid.message, valid.issues[0]?.field ?? null, itemIndex));
				return;
			}
			inputs.push(valid.value);
		} else if (json.code !== undefined || json.codes !== undefined) {
			inputs.push(json as CodeInput);
		} else {
			const message = `${recordLabel(json)} is invalid: expected a normalised return (lines) or an item with a code or codes field`;
			unmapped.push(invalidInput(json, message, 'lines', itemIndex));
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
	return [[], unmapped];
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
		if (items.length === 0) return [[], []];

		const operation = this.getNodeParameter('operation', 0, 'map') as string;
		const tables = readTables(this, operation === 'map');
		if (operation === 'check') return checkMappings(items, tables);

		const actions = readActionPolicy(this);
		// pass on: a return that did not map goes out on Mapped carrying its problems, so the SKU and
		// order checks downstream report every problem at once (core/carriedReturn.ts)
		const passOn = this.getNodeParameter('unmappedReturns', 0, 'route') === 'passOn';
		const [mapped, unmapped]: Outputs = [[], []];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const pairedItem = { item: itemIndex };
			const carried = returnFromItem(items[itemIndex].json);
			if (!carried.ok) {
				unmapped.push(invalidInput(items[itemIndex].json, carried.message, 'payload', itemIndex));
				continue;
			}
			const json = carried.value;
			try {
				const valid = validateReturn(json);
				if (!valid.ok) {
					unmapped.push(
						invalidInput(json, valid.message, valid.issues[0]?.field ?? null, itemIndex),
					);
					continue;
				}
				const result = mapReturn(valid.value, tables, { actions });
				if (result.ok) {
					mapped.push({ json: result.mapped as unknown as IDataObject, pairedItem });
				} else if (passOn) {
					const out = carryUnmapped(valid.value, result);
					mapped.push({ json: out as unknown as IDataObject, pairedItem });
				} else {
					for (const ex of unmappedToExceptions(valid.value, result.unmapped))
						unmapped.push({ json: ex as unknown as IDataObject, pairedItem });
				}
			} catch (error) {
				if (this.continueOnFail()) {
					unmapped.push(unexpected(json, error, itemIndex));
					continue;
				}
				throw new NodeOperationError(this.getNode(), error as Error, { itemIndex });
			}
		}
		return [mapped, unmapped];
	}
}
