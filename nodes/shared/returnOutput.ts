import type { IDataObject, INodeProperties } from 'n8n-workflow';
import { toInboxRow } from '../../core/inboxRow';
import type { NormalisedReturn } from '../../core/returnModel';

/** The "Output" option of both ReBound triggers: each return as the normalised return, or as the intake's inbox row. */
export const RETURN_OUTPUT_OPTION: INodeProperties = {
	displayName: 'Output',
	name: 'output',
	type: 'options',
	options: [
		{
			name: 'Normalised Return',
			value: 'return',
			description: 'The return with its lines and event (what the Khaos nodes take)',
		},
		{
			name: 'Inbox Row',
			value: 'inboxRow',
			description:
				"The intake template's inbox columns (eventId, returnId, sequence … payload = the normalised return as JSON), for a Data table insert that maps them automatically",
		},
	],
	default: 'return',
	description: 'What each return is emitted as on the Returns output',
};

/**
 * The ReBound Trigger's "Hold Late Deliveries" option: with the inbox-row output, how long a late
 * delivery (its event occurred longer ago than this) waits before the processor may take it.
 */
export const HOLD_LATE_OPTION: INodeProperties = {
	displayName: 'Hold Late Deliveries (Seconds)',
	name: 'holdLateSeconds',
	type: 'number',
	typeOptions: { minValue: 0, maxValue: 600 },
	default: 0,
	description:
		'With the Inbox Row output: a delivery whose event occurred more than this many seconds before it arrived (a redelivery, which a newer event of the same return may be overtaking) gets a readyAtMs this much later, so the newer event can supersede it; a prompt delivery is ready at once (0 = none held)',
};

/** One return as the Output option asks: the normalised return itself, or its inbox row. */
export function returnAsOutput(
	ret: NormalisedReturn,
	output: unknown,
	receivedAtIso: string,
	holdLateSeconds: unknown = 0,
): IDataObject {
	const hold = Number(holdLateSeconds);
	const holdMs = Number.isFinite(hold) && hold > 0 ? Math.min(hold, 600) * 1000 : 0;
	return (output === 'inboxRow'
		? toInboxRow(ret, receivedAtIso, holdMs)
		: ret) as unknown as IDataObject;
}
