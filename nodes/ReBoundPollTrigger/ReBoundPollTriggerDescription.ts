import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_POLL_OPTIONS } from '../../transports/rebound/poll';
import { DEFAULT_SAMPLE_SIZE, POLL_OPTION_RANGES } from '../../transports/rebound/pollSettings';
import { RETURN_OUTPUT_OPTION } from '../shared/returnOutput';

const {
	lookbackDays,
	overlapDays,
	windowDays,
	concurrency,
	watchDays,
	recheckGradedMinutes,
	recheckUngradedMinutes,
	recheckGradedDays,
} = DEFAULT_POLL_OPTIONS;

/** A numeric field's bounds: the range its value is read within (transports/rebound/pollSettings.ts). */
function bounds(name: keyof typeof POLL_OPTION_RANGES) {
	return { minValue: POLL_OPTION_RANGES[name].min, maxValue: POLL_OPTION_RANGES[name].max };
}

/** Parameters of the ReBound Poll Trigger: the notice, what is emitted, the windows and the options. */
export function reBoundPollTriggerProperties(): INodeProperties[] {
	return [
		{
			displayName:
				'Each poll searches date windows from the last poll (minus the overlap) to today, fetches the new returns and re-checks known ones on a schedule (a change is seen within the re-check interval plus one poll), and emits a return once every line is graded, and again only when a disposition changes: see <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/idempotency.md#the-poll-triggers-seen-state">docs/idempotency.md</a>.',
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
			typeOptions: bounds('lookbackDays'),
			default: lookbackDays,
			description: 'How far back the first poll searches',
		},
		{
			displayName: 'Overlap (Days)',
			name: 'overlapDays',
			type: 'number',
			typeOptions: bounds('overlapDays'),
			default: overlapDays,
			description:
				'Each poll starts this many days before the end of the previous one, so late changes are seen',
		},
		{
			displayName: 'Window (Days)',
			name: 'windowDays',
			type: 'number',
			typeOptions: bounds('windowDays'),
			default: windowDays,
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
					typeOptions: bounds('concurrency'),
					default: concurrency,
					description: 'Returns fetched from ReBound at the same time',
				},
				RETURN_OUTPUT_OPTION,
				{
					displayName: 'Manual Run Sample Size',
					name: 'sampleSize',
					type: 'number',
					typeOptions: bounds('sampleSize'),
					default: DEFAULT_SAMPLE_SIZE,
					description: 'How many of the newest returns a manual run shows',
				},
				{
					displayName: 'Re-Check Graded Returns Every (Minutes)',
					name: 'recheckGradedMinutes',
					type: 'number',
					typeOptions: bounds('recheckGradedMinutes'),
					default: recheckGradedMinutes,
					description:
						'Longest gap between two fetches of a known, fully graded return: a later regrade is emitted within this plus one poll. Just after a change it is fetched on every poll. 0 fetches it on every poll.',
				},
				{
					displayName: 'Re-Check Graded Returns For (Days)',
					name: 'recheckGradedDays',
					type: 'number',
					typeOptions: bounds('recheckGradedDays'),
					default: recheckGradedDays,
					description:
						'How long after its last change (or after it was first seen, if later) a graded return is still re-checked once its date has left the overlap. 0 re-checks it only while the search still finds it.',
				},
				{
					displayName: 'Re-Check Ungraded Returns Every (Minutes)',
					name: 'recheckUngradedMinutes',
					type: 'number',
					typeOptions: bounds('recheckUngradedMinutes'),
					default: recheckUngradedMinutes,
					description:
						'Longest gap between two fetches of a known return not fully graded yet: its grade is emitted within this plus one poll. Just after a change it is fetched on every poll. 0 fetches it on every poll.',
				},
				{
					displayName: 'Watch Ungraded Returns For (Days)',
					name: 'watchDays',
					type: 'number',
					typeOptions: bounds('watchDays'),
					default: watchDays,
					description:
						'How long after it was first seen a return that is not fully graded yet is re-checked by ID',
				},
			],
		},
	];
}
