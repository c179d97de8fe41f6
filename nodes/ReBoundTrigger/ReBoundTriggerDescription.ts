import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_MAX_BODY_KB } from '../../transports/rebound/webhookDelivery';
import { DEFAULT_BATCH_MAX_SIZE } from '../shared/reboundDeliveryBatch';
import { RETURN_OUTPUT_OPTION } from '../shared/returnOutput';

/** Parameters of the ReBound Trigger: the setup notice, the events let through, and the options. */
export function reBoundTriggerProperties(): INodeProperties[] {
	return [
		{
			displayName:
				'ReBound has no public API for registering webhooks, so this node registers nothing remotely: copy the Production URL shown under "Webhook URLs" into ReBound by hand (its control panel or ReBound support) and give ReBound the webhook secret set in the credential. Every delivery must be signed (HMAC-SHA256 over the exact raw body, with a timestamp inside the tolerance); anything else is answered 401 and starts nothing. Duplicates (same event ID) and stale events (a sequence not above the highest already seen for that return) that this node remembers are answered 200 and start nothing. That memory is best effort: it lives in the workflow\'s static data, which n8n 2.40 does not save when a delivery starts an execution. For exactly-once delivery across restarts, follow this node with the inbox checks of the Returns intake template (event ID, and sequence per return, against the inbox Data Table in n8n\'s database). Deliveries to the Test URL are not remembered.',
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
						"Deliveries that arrive within this many milliseconds of each other start one execution together (one item each), which lifts intake far above n8n's ~20 executions a second; while the previous batch is still running, the next one keeps filling (up to 2 s), so under load a run takes many deliveries. 0 = one execution per delivery. Either way a delivery is answered when its execution has finished: 200 once the workflow ran without error, 503 (500 without a batch) otherwise so ReBound delivers again. Keep the workflow after this trigger short: the intake template only queues.",
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
			],
		},
	];
}
