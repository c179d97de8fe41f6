/**
 * The shape of one Khaos Control operation: everything the node, its router and its outputs
 * expression need to know about it, in one object (see ./index.ts for the list).
 */
import type { INodeProperties } from 'n8n-workflow';
import type { KhaosRun, OperationResult } from '../common';

export type KhaosResource =
	| 'creditNote'
	| 'mapping'
	| 'product'
	| 'return'
	| 'salesOrder'
	| 'stock';

/** The operation's entry in the Operation picker; `value` is the operation's name. */
export interface OperationOption {
	name: string;
	value: string;
	action: string;
	description: string;
}

export interface OperationFlags {
	/** A second output for exception items. */
	twoOutputs: boolean;
	/** Runs on the first item of each return only; later items of the same return get duplicate copies (../onePerReturn.ts). */
	oncePerReturn: boolean;
	/** Runs when no item comes in (every other operation then outputs nothing, calling nothing). */
	runsOnEmptyInput: boolean;
	/** The outputs' names, one per output ('' for a single output). */
	outputNames: string[];
}

export interface KhaosOperation {
	resource: KhaosResource;
	operation: string;
	/** How it shows in the editor: its picker entry and its own parameters (the list adds their displayOptions). */
	description: { option: OperationOption; properties: INodeProperties[] };
	execute: (run: KhaosRun) => Promise<OperationResult>;
	flags: OperationFlags;
	/** Runs on the whole batch after the once-per-return copying. */
	settle?: (run: KhaosRun, result: OperationResult) => Promise<OperationResult>;
}

/** Flags: `firstOutput` names the first of two outputs (the second is "Exceptions"); without it, one unnamed output. */
export function flags(
	o: { firstOutput?: string; oncePerReturn?: boolean; runsOnEmptyInput?: boolean } = {},
): OperationFlags {
	return {
		twoOutputs: o.firstOutput !== undefined,
		oncePerReturn: o.oncePerReturn ?? false,
		runsOnEmptyInput: o.runsOnEmptyInput ?? false,
		outputNames: o.firstOutput !== undefined ? [o.firstOutput, 'Exceptions'] : [''],
	};
}

export function defineOperation(def: {
	resource: KhaosResource;
	option: OperationOption;
	properties?: INodeProperties[];
	execute: KhaosOperation['execute'];
	flags?: OperationFlags;
	settle?: KhaosOperation['settle'];
}): KhaosOperation {
	return {
		resource: def.resource,
		operation: def.option.value,
		description: { option: def.option, properties: def.properties ?? [] },
		execute: def.execute,
		flags: def.flags ?? flags(),
		...(def.settle ? { settle: def.settle } : {}),
	};
}
