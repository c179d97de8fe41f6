/**
 * The node's execute: find the chosen operation in the list (./operations/index.ts), run it on
 * the input items with the run context (Khaos client, credential, secrets) and its flags: once
 * per return (./onePerReturn.ts), on an empty input or not, as many outputs as it declares.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { toNodeError } from '../shared/nodeError';
import { runError, type KhaosRun, type OperationResult } from './common';
import { onePerReturn } from './onePerReturn';
import { RESOURCES, findOperation } from './operations';
import { createKhaosApi, getKhaosCredentials, khaosSecrets } from './transport';

export async function route(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const resource = ctx.getNodeParameter('resource', 0) as string;
	const operation = ctx.getNodeParameter('operation', 0) as string;
	const op = findOperation(resource, operation);
	const outputs = op?.flags.outputNames.length ?? 1;
	// Reconcile reports on an empty window too; every other operation has nothing to do
	if (items.length === 0 && !op?.flags.runsOnEmptyInput)
		return Array.from({ length: outputs }, () => []);
	if (!op) {
		const known = RESOURCES.find((r) => r.value === resource);
		const message = known
			? `Unknown ${known.name.toLowerCase()} operation "${operation}"`
			: `Unknown resource "${resource}"`;
		throw toNodeError(ctx.getNode(), new Error(message), { itemIndex: 0 });
	}

	const creds = await getKhaosCredentials(ctx);
	const run: KhaosRun = {
		ctx,
		api: createKhaosApi(ctx, creds),
		creds,
		secrets: khaosSecrets(creds),
		items,
	};
	let result: OperationResult;
	try {
		result = op.flags.oncePerReturn ? await onePerReturn(run, op.execute) : await op.execute(run);
		if (op.settle) result = await op.settle(run, result);
	} catch (error) {
		throw runError(run, error, 0);
	}
	while (result.length < outputs) result.push([]);
	return result;
}
