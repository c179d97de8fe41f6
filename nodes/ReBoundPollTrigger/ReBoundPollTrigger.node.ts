import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IDataObject,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
} from 'n8n-workflow';
import type { ReturnException } from '../../core/exceptions';
import type { NormalisedReturn } from '../../core/returnModel';
import {
	DEFAULT_POLL_OPTIONS,
	readPollState,
	runReboundPoll,
	sampleReboundReturns,
	type PollOptions,
} from '../../transports/rebound/poll';
import {
	createReboundApi,
	getReboundCredentials,
	reboundSecrets,
	toNodeError,
} from '../shared/reboundApi';
import { RETURN_OUTPUT_OPTION, returnAsOutput } from '../shared/returnOutput';

/** Share of n8n's poll budget spent walking windows before the poll hands over what it has. */
const BUDGET_SHARE = 0.6;

function toItems(rows: Array<NormalisedReturn | ReturnException>): INodeExecutionData[] {
	return rows.map((row) => ({ json: row as unknown as IDataObject }));
}

/** The Returns output, as normalised returns or (Output: Inbox Row) as the intake's inbox rows. */
function returnItems(
	rows: NormalisedReturn[],
	output: unknown,
	nowMs: number,
): INodeExecutionData[] {
	if (output !== 'inboxRow') return toItems(rows);
	const receivedAt = new Date(nowMs).toISOString();
	return rows.map((row) => ({ json: returnAsOutput(row, output, receivedAt) }));
}

function num(value: unknown, fallback: number, min: number, max: number): number {
	const n = Number(value);
	if (!Number.isFinite(n)) return fallback;
	return Math.min(max, Math.max(min, Math.floor(n)));
}

export class ReBoundPollTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ReBound Poll Trigger',
		name: 'reBoundPollTrigger',
		icon: { light: 'file:rebound.svg', dark: 'file:rebound.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle:
			'={{$parameter["emitMode"] === "line" ? "Each graded line" : "Fully graded returns"}}',
		description:
			'Polls ReBound for graded returns (date windows with overlap, a cursor, per-return dedupe)',
		defaults: { name: 'ReBound Poll Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Returns', 'Exceptions'],
		credentials: [{ name: 'reBoundApi', required: true }],
		properties: [
			{
				displayName:
					'Each poll searches date windows from the last poll (minus the overlap) to today and emits a return once every line is graded, and again only when a disposition changes: see <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/idempotency.md#the-poll-triggers-seen-state">docs/idempotency.md</a>.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Emit',
				name: 'emitMode',
				type: 'options',
				options: [
					{
						name: 'Per Return, When Fully Graded',
						value: 'return',
						description:
							'Emit a return once every line has a final disposition, again only if a disposition changes',
					},
					{
						name: 'Per Line, As Each Is Graded',
						value: 'line',
						description:
							'Emit a return holding just the lines graded (or regraded) since the last poll',
					},
				],
				default: 'return',
			},
			{
				displayName: 'First Run Look-Back (Days)',
				name: 'lookbackDays',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 365 },
				default: 30,
				description: 'How far back the first poll searches',
			},
			{
				displayName: 'Overlap (Days)',
				name: 'overlapDays',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 60 },
				default: 2,
				description:
					'Each poll starts this many days before the end of the previous one, so late changes are seen',
			},
			{
				displayName: 'Window (Days)',
				name: 'windowDays',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 31 },
				default: 7,
				description: 'Days covered by one search call',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Fetch Concurrency',
						name: 'concurrency',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 16 },
						default: 4,
						description: 'Returns fetched from ReBound at the same time',
					},
					RETURN_OUTPUT_OPTION,
					{
						displayName: 'Watch Ungraded Returns For (Days)',
						name: 'watchDays',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 365 },
						default: 30,
						description:
							'How long a return that is not fully graded yet is fetched again on each poll after it was first seen',
					},
					{
						displayName: 'Manual Run Sample Size',
						name: 'sampleSize',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 50 },
						default: 5,
						description: 'How many of the newest returns a manual run shows',
					},
				],
			},
		],
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const creds = await getReboundCredentials(this);
		const secrets = reboundSecrets(creds);
		const api = createReboundApi(this, creds);
		const extra = this.getNodeParameter('options', {}) as IDataObject;
		const opts: PollOptions = {
			emitMode: this.getNodeParameter('emitMode', 'return') === 'line' ? 'line' : 'return',
			lookbackDays: num(
				this.getNodeParameter('lookbackDays', DEFAULT_POLL_OPTIONS.lookbackDays),
				DEFAULT_POLL_OPTIONS.lookbackDays,
				0,
				365,
			),
			overlapDays: num(
				this.getNodeParameter('overlapDays', DEFAULT_POLL_OPTIONS.overlapDays),
				DEFAULT_POLL_OPTIONS.overlapDays,
				0,
				60,
			),
			windowDays: num(
				this.getNodeParameter('windowDays', DEFAULT_POLL_OPTIONS.windowDays),
				DEFAULT_POLL_OPTIONS.windowDays,
				1,
				31,
			),
			concurrency: num(extra.concurrency, DEFAULT_POLL_OPTIONS.concurrency, 1, 16),
			watchDays: num(extra.watchDays, DEFAULT_POLL_OPTIONS.watchDays, 0, 365),
		};

		if (this.getMode() === 'manual') {
			let sample: Awaited<ReturnType<typeof sampleReboundReturns>>;
			try {
				sample = await sampleReboundReturns(
					api,
					opts,
					Date.now(),
					num(extra.sampleSize, 5, 1, 50),
					secrets,
				);
			} catch (error) {
				throw toNodeError(this.getNode(), error, secrets, undefined, 'ReBound search');
			}
			if (sample.returns.length === 0 && sample.exceptions.length === 0) return null;
			return [returnItems(sample.returns, extra.output, Date.now()), toItems(sample.exceptions)];
		}

		const staticData = this.getWorkflowStaticData('node');
		const started = Date.now();
		const budgetFn = (this as { getPollBudgetMs?: () => number }).getPollBudgetMs;
		const budgetMs =
			typeof budgetFn === 'function' ? budgetFn.call(this) : Number.POSITIVE_INFINITY;
		let result: Awaited<ReturnType<typeof runReboundPoll>>;
		try {
			result = await runReboundPoll(
				api,
				readPollState(staticData),
				opts,
				{
					now: () => Date.now(),
					deadlineMs:
						Number.isFinite(budgetMs) && budgetMs > 0
							? started + budgetMs * BUDGET_SHARE
							: undefined,
				},
				secrets,
			);
		} catch (error) {
			throw toNodeError(this.getNode(), error, secrets, undefined, 'ReBound search');
		}
		// Reassigned (not mutated) so n8n notices the change and saves it.
		staticData.version = 1;
		if (result.state.cursor) staticData.cursor = result.state.cursor;
		staticData.returns = result.state.returns as unknown as IDataObject;
		if (result.returns.length === 0 && result.exceptions.length === 0) return null;
		return [returnItems(result.returns, extra.output, Date.now()), toItems(result.exceptions)];
	}
}
