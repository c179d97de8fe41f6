/**
 * The one list of Khaos Control operations. The node's Resource and Operation pickers, its
 * parameters, its outputs expression and its router are all made from it (../description.ts,
 * ../router.ts): adding an operation is adding its file and one line here.
 */
import { creditNoteCreateFromReturn } from './creditNote.createFromReturn';
import { creditNoteFindByReference } from './creditNote.findByReference';
import { mappingAudit } from './mapping.audit';
import { productGet } from './product.get';
import { productValidateSkus } from './product.validateSkus';
import { returnImport } from './return.import';
import { returnProcess } from './return.process';
import { returnReadAhead } from './return.readAhead';
import { returnReconcile } from './return.reconcile';
import { salesOrderGet } from './salesOrder.get';
import { stockAdjust } from './stock.adjust';
import { stockApplyReturnMoves } from './stock.applyReturnMoves';
import { stockGetLevels } from './stock.getLevels';
import type { KhaosOperation, KhaosResource } from './types';

export type { KhaosOperation, KhaosResource, OperationFlags } from './types';

/** The resources, in the Resource picker's order, with the operation each starts on. */
export const RESOURCES: ReadonlyArray<{
	value: KhaosResource;
	name: string;
	defaultOperation: string;
}> = [
	{ value: 'creditNote', name: 'Credit Note', defaultOperation: 'createFromReturn' },
	{ value: 'mapping', name: 'Mapping', defaultOperation: 'audit' },
	{ value: 'product', name: 'Product', defaultOperation: 'validateSkus' },
	{ value: 'return', name: 'Return', defaultOperation: 'import' },
	{ value: 'salesOrder', name: 'Sales Order', defaultOperation: 'get' },
	{ value: 'stock', name: 'Stock', defaultOperation: 'applyReturnMoves' },
];

export const DEFAULT_RESOURCE: KhaosResource = 'product';

export const OPERATIONS: readonly KhaosOperation[] = [
	productGet,
	productValidateSkus,
	stockGetLevels,
	stockAdjust,
	stockApplyReturnMoves,
	salesOrderGet,
	returnImport,
	returnProcess,
	returnReconcile,
	returnReadAhead,
	creditNoteCreateFromReturn,
	creditNoteFindByReference,
	mappingAudit,
];

export function findOperation(resource: string, operation: string): KhaosOperation | undefined {
	return OPERATIONS.find((o) => o.resource === resource && o.operation === operation);
}
