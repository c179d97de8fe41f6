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
	pollDeadline,
	pollSampleSize,
	readPollOptions,
	storePollState,
} from '../../transports/rebound/pollSettings';
import {
	createReboundApi,
	getReboundCredentials,
	reboundSecrets,
	toNodeError,
} from '../shared/reboundApi';
import { returnAsOutput } from '../shared/returnOutput';
import { reBoundPollTriggerProperties } from './ReBoundPollTriggerDescription';

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
		properties: reBoundPollTriggerProperties(),
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const creds = await getReboundCredentials(this);
		const secrets = reboundSecrets(creds);
		const api = createReboundApi(this, creds);
		const extra = this.getNodeParameter('options', {}) as IDataObject;
		const param = (name: keyof PollOptions) =>
			this.getNodeParameter(name, DEFAULT_POLL_OPTIONS[name]);
		const opts = readPollOptions({
			emitMode: param('emitMode'),
			lookbackDays: param('lookbackDays'),
			overlapDays: param('overlapDays'),
			windowDays: param('windowDays'),
			concurrency: extra.concurrency,
			watchDays: extra.watchDays,
			recheckGradedMinutes: extra.recheckGradedMinutes,
			recheckUngradedMinutes: extra.recheckUngradedMinutes,
			recheckGradedDays: extra.recheckGradedDays,
		});

		if (this.getMode() === 'manual') {
			let sample: Awaited<ReturnType<typeof sampleReboundReturns>>;
			try {
				const size = pollSampleSize(extra.sampleSize);
				sample = await sampleReboundReturns(api, opts, Date.now(), size, secrets);
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
		const clock = { now: () => Date.now(), deadlineMs: pollDeadline(started, budgetMs) };
		let result: Awaited<ReturnType<typeof runReboundPoll>>;
		try {
			result = await runReboundPoll(api, readPollState(staticData), opts, clock, secrets);
		} catch (error) {
			throw toNodeError(this.getNode(), error, secrets, undefined, 'ReBound search');
		}
		storePollState(staticData, result.state);
		if (result.returns.length === 0 && result.exceptions.length === 0) return null;
		return [returnItems(result.returns, extra.output, Date.now()), toItems(result.exceptions)];
	}
}
