import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_BATCH_MAX_SIZE } from '../../transports/rebound/deliveryBatch';
import { DEFAULT_MAX_BODY_KB } from '../../transports/rebound/webhookDelivery';
import { HOLD_LATE_OPTION, RETURN_OUTPUT_OPTION } from '../shared/returnOutput';

/** Parameters of the ReBound Trigger: the setup notice, the events let through, and the options. */
export function reBoundTriggerProperties(): INodeProperties[] {
	return [
		{
			displayName:
				"Give ReBound this node's Production URL and the credential's webhook secret by hand; unsigned deliveries are refused, and exactly-once intake needs the intake template's inbox checks: see <a href=\"https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/idempotency.md#intake-durable-dedupe-in-the-inbox\">docs/idempotency.md</a>.",
			name: 'notice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Events',
			name: 'events',
			type: 'options',
			options: [
				{
					name: 'Final Dispositions Only',
					value: 'final',
					description:
						'Return.processed or return.received events in which every line has a final disposition',
				},
				{
					name: 'All Events',
					value: 'all',
					description:
						'Every verified, new, in-order event (created, received, processed, cancelled …)',
				},
			],
			default: 'final',
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add option',
			default: {},
			options: [
				{
					displayName: 'Batch Window (Ms)',
					name: 'batchWindowMs',
					type: 'number',
					typeOptions: { minValue: 0, maxValue: 5000 },
					default: 0,
					description:
						'Deliveries within this many milliseconds of each other start one execution (0 = one each); each is answered after its run, with 503 (500 unbatched) if it failed, so ReBound delivers again: see <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/idempotency.md#intake-durable-dedupe-in-the-inbox">docs/idempotency.md</a>',
				},
				{
					displayName: 'Emit Invalid Payloads as Exceptions',
					name: 'emitInvalidAsExceptions',
					type: 'boolean',
					default: false,
					description:
						'Whether a signed delivery that is not a valid event is answered 200 and emitted as an invalid_payload exception on the Exceptions output (for the exception queue) instead of answered 400',
				},
				{
					displayName: 'Max Body Size (KiB)',
					name: 'maxBodyKb',
					type: 'number',
					typeOptions: { minValue: 16 },
					default: DEFAULT_MAX_BODY_KB,
					description:
						'Deliveries with a larger body are answered 413 and start nothing (checked before the signature)',
				},
				{
					displayName: 'Max Deliveries per Batch',
					name: 'batchMaxSize',
					type: 'number',
					typeOptions: { minValue: 1, maxValue: 1000 },
					default: DEFAULT_BATCH_MAX_SIZE,
					description:
						'A batch that reaches this many deliveries starts at once, before its window closes (used only when Batch Window is above 0)',
				},
				RETURN_OUTPUT_OPTION,
				HOLD_LATE_OPTION,
				{
					displayName: 'Remembered Event IDs',
					name: 'maxEvents',
					type: 'number',
					typeOptions: { minValue: 100 },
					default: 5000,
					description:
						'How many event IDs are kept to answer duplicate deliveries (oldest forgotten first; not used with a Batch Window, where the inbox checks after this node drop duplicates)',
				},
				{
					displayName: 'Remembered Returns',
					name: 'maxReturns',
					type: 'number',
					typeOptions: { minValue: 100 },
					default: 5000,
					description:
						'How many returns keep their highest event sequence, to drop stale events (least recently updated forgotten first; not used with a Batch Window)',
				},
				{
					displayName: 'Start at Once When Idle',
					name: 'batchStartWhenIdle',
					type: 'boolean',
					default: false,
					description:
						'Whether a delivery that finds no batch of this trigger running starts its execution at once instead of waiting for the Batch Window; deliveries arriving while a batch runs still gather, so a trickle pays no window and a burst still runs in batches (used only when Batch Window is above 0)',
				},
			],
		},
	];
}
