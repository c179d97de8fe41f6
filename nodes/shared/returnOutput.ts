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

/** One return as the Output option asks: the normalised return itself, or its inbox row. */
export function returnAsOutput(
	ret: NormalisedReturn,
	output: unknown,
	receivedAtIso: string,
): IDataObject {
	return (output === 'inboxRow' ? toInboxRow(ret, receivedAtIso) : ret) as unknown as IDataObject;
}
