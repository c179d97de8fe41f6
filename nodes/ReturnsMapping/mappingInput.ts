/**
 * What the Returns Mapping node reads: its tables and credit rules (once per run, from the first
 * item), the return each item carries, and the exception items for input it cannot take.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { makeException } from '../../core/exceptions';
import {
	compileActionPolicy,
	compileTables,
	formatTableIssue,
	type ActionPolicy,
	type CompiledTables,
	type RawTables,
} from '../../core/mapping';
import { recordLabel } from '../../core/returnModel';
import type { TableSource } from './ReturnsMappingDescription';

const TABLES: Array<{ key: keyof RawTables; prefix: string }> = [
	{ key: 'dispositions', prefix: 'disposition' },
	{ key: 'reasons', prefix: 'reason' },
	{ key: 'skuAliases', prefix: 'skuAlias' },
];

/** Read the three tables (once, from the first item) and compile them; a bad table fails the node loudly. */
export function readTables(ctx: IExecuteFunctions, requireRows: boolean): CompiledTables {
	const raw: RawTables = {};
	for (const { key, prefix } of TABLES) {
		const source = ctx.getNodeParameter(`${prefix}Source`, 0, 'define') as TableSource;
		if (source === 'json') {
			raw[key] = ctx.getNodeParameter(`${prefix}Json`, 0, '[]');
		} else {
			const collection = ctx.getNodeParameter(`${prefix}Rows`, 0, {}) as { rows?: IDataObject[] };
			const rows = collection.rows ?? [];
			// the row editor names the action column stockAction (see ReturnsMappingDescription); its
			// rows always have the Credit column, so one left alone is an empty cell (decided by the action)
			raw[key] =
				key === 'dispositions'
					? rows.map(({ stockAction, ...row }) => ({
							...row,
							action: row.action ?? stockAction,
							credit: row.credit ?? '',
						}))
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
export function readActionPolicy(ctx: IExecuteFunctions): ActionPolicy {
	const p = ctx.getNodeParameter('lineActions', 0, {}) as IDataObject;
	const rules: unknown[] = [
		...(((p.rules as IDataObject | undefined)?.rule as IDataObject[] | undefined) ?? []),
	];
	// more rules as JSON (the templates' values file), after the rows above
	if (typeof p.rulesJson === 'string' && p.rulesJson.trim() !== '') {
		const more = parseJsonList(p.rulesJson);
		if (!more)
			throw new NodeOperationError(
				ctx.getNode(),
				'Credit by Line Action › Action Rules (JSON) must be a JSON list of { action, rule }',
				{ itemIndex: 0 },
			);
		rules.push(...more);
	}
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

/** An invalid_payload exception item for input the node cannot take (the record kept for replay). */
export function invalidInput(
	json: IDataObject,
	message: string,
	field: string | null,
	itemIndex: number,
): INodeExecutionData {
	const id = json.returnId;
	const ex = makeException('invalid_payload', message, {
		stage: 'mapping',
		returnId: typeof id === 'string' || typeof id === 'number' ? String(id) : null,
		field,
		payload: json,
	});
	return { json: ex as unknown as IDataObject, pairedItem: { item: itemIndex } };
}

/** The continueOnFail item for an unexpected error while mapping (owned by tech). */
export function unexpected(
	json: IDataObject,
	error: unknown,
	itemIndex: number,
): INodeExecutionData {
	const message = error instanceof Error ? error.message : String(error);
	const item = invalidInput(
		json,
		`${recordLabel(json)}: unexpected error while mapping: ${message}`,
		null,
		itemIndex,
	);
	return { ...item, json: { ...item.json, owner: 'tech', error: message } };
}

function parseJsonList(text: string): unknown[] | null {
	try {
		const v: unknown = JSON.parse(text);
		return Array.isArray(v) ? v : null;
	} catch {
		return null;
	}
}
