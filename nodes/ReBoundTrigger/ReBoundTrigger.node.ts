import { NodeConnectionTypes, sleep } from 'n8n-workflow';
import type {
	IDataObject,
	IHookFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { makeException, redactSecrets } from '../../core/exceptions';
import { isFullyGraded, type NormalisedReturn } from '../../core/returnModel';
import { invalidReturnException, jsonSafe, slimRawReturn } from '../../transports/rebound/poll';
import { parseWebhookEvent, verifyWebhookSignature } from '../../transports/rebound/webhook';
import {
	REBOUND_CREDENTIAL,
	REBOUND_CREDENTIAL_TEST,
	readReboundCredentials,
	reBoundApiTest,
	webhookSettingsFromCredentials,
} from '../shared/reboundApi';
import {
	DEFAULT_BATCH_MAX_SIZE,
	DEFAULT_BATCH_MAX_WAIT_MS,
	deliverAlone,
	deliverInBatch,
} from '../shared/reboundDeliveryBatch';
import { readWebhookMemory, recordDelivery } from '../shared/reboundWebhookMemory';
import { RETURN_OUTPUT_OPTION, returnAsOutput } from '../shared/returnOutput';
import { heldResponse, replyNow } from '../shared/webhookResponse';

/** Event types that can carry a final disposition. */
export const FINAL_EVENT_TYPES = ['return.processed', 'return.received'];

/** True when the event is one the default ("final dispositions only") setting lets through. */
export function isFinalEvent(type: string, ret: NormalisedReturn): boolean {
	return FINAL_EVENT_TYPES.includes(type) && isFullyGraded(ret);
}

/** Largest delivery body accepted by default (KiB): a return event is a few KiB; anything far larger is refused 413 before it is verified or parsed. */
export const DEFAULT_MAX_BODY_KB = 1024;

interface WebhookRequest {
	rawBody?: unknown;
	headers: Record<string, string | string[] | undefined>;
	readRawBody?: () => Promise<void>;
}

function headerValue(
	headers: Record<string, string | string[] | undefined>,
	name: string,
): string | undefined {
	const value = headers[name] ?? headers[name.toLowerCase()];
	return Array.isArray(value) ? value[0] : value;
}

function rawReturnId(data: unknown): string | null {
	if (!data || typeof data !== 'object') return null;
	const id = (data as Record<string, unknown>).id;
	return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

export class ReBoundTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ReBound Trigger',
		name: 'reBoundTrigger',
		icon: { light: 'file:rebound.svg', dark: 'file:rebound.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"] === "all" ? "All events" : "Final dispositions"}}',
		description: 'Starts the workflow when ReBound pushes a return event (signed webhook)',
		defaults: { name: 'ReBound Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Returns', 'Exceptions'],
		credentials: [{ name: 'reBoundApi', required: true, testedBy: 'reBoundApiTest' }],
		activationMessage:
			'ReBound has no public API to register webhooks: give ReBound (control panel or support) the Production URL of this node and the webhook secret from the credential.',
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				// A delivery that starts the workflow is answered when its run has finished (alone or in a
				// batch): n8n answers 500 if the run failed, so ReBound delivers again. Static values: an
				// expression here would be evaluated (in n8n's expression isolate) for every delivery.
				responseMode: 'lastNode',
				// n8n sends no body then; the trigger gives the answer its JSON ack (nodes/shared/webhookResponse.ts).
				responseData: 'noData',
				path: 'rebound',
			},
		],
		properties: [
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
		],
	};

	methods = {
		credentialTest: { [REBOUND_CREDENTIAL_TEST]: reBoundApiTest },
	};

	webhookMethods = {
		default: {
			// Nothing to register remotely (ReBound's webhook registration is not public):
			// the URL is recorded so the activation is visible in the node's static data.
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node');
				return (
					data.webhookUrl !== undefined && data.webhookUrl === this.getNodeWebhookUrl('default')
				);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				const url = this.getNodeWebhookUrl('default');
				const data = this.getWorkflowStaticData('node');
				data.webhookUrl = url;
				this.logger.info(
					`ReBound Trigger active: give ReBound this URL by hand: ${url ?? '(unknown)'}`,
				);
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node');
				delete data.webhookUrl;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const req = this.getRequestObject() as unknown as WebhookRequest;
		const res = heldResponse(this.getResponseObject());
		const reply = (status: number, body: IDataObject): IWebhookResponseData => {
			replyNow(res, status, body);
			return { noWebhookResponse: true };
		};

		const credentialData = await this.getCredentials(REBOUND_CREDENTIAL);
		const creds = readReboundCredentials(credentialData);
		if (!creds.webhookSecret) {
			return reply(401, {
				status: 'rejected',
				reason: 'secret_not_configured',
				message: 'No webhook secret is set in the ReBound API credential',
			});
		}
		const options = this.getNodeParameter('options', {}) as IDataObject;
		const maxBodyKb = Number(options.maxBodyKb ?? DEFAULT_MAX_BODY_KB);
		const maxBytes =
			Math.max(16, Number.isFinite(maxBodyKb) ? maxBodyKb : DEFAULT_MAX_BODY_KB) * 1024;
		const tooLarge = () =>
			reply(413, {
				status: 'rejected',
				reason: 'body_too_large',
				message: `The request body is larger than ${Math.round(maxBytes / 1024)} KiB`,
			});
		const declared = Number(headerValue(req.headers, 'content-length'));
		if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
		if (!Buffer.isBuffer(req.rawBody) && typeof req.readRawBody === 'function')
			await req.readRawBody();
		const rawBody = req.rawBody;
		if (!Buffer.isBuffer(rawBody)) {
			return reply(400, { status: 'invalid', field: '(body)', message: 'The request has no body' });
		}
		if (rawBody.length > maxBytes) return tooLarge();

		const verdict = verifyWebhookSignature({
			rawBody,
			headers: req.headers,
			secret: creds.webhookSecret,
			// body-only signatures need the explicit opt-in (absent in credentials saved before it existed: off)
			settings: {
				...webhookSettingsFromCredentials(creds),
				acceptUnsignedTimestamp: credentialData.acceptUnsignedTimestamp === true,
			},
			nowMs: Date.now(),
		});
		if (!verdict.ok) {
			return reply(401, {
				status: 'rejected',
				reason: verdict.reason,
				message: redactSecrets(verdict.message, [creds.webhookSecret]),
			});
		}

		const batchWindowMs = Number(options.batchWindowMs ?? 0);
		const batching =
			this.getMode() !== 'manual' && Number.isFinite(batchWindowMs) && batchWindowMs > 0;
		/** Starts the workflow with this delivery's item, alone or in a batch: either way it is answered when its run has finished. */
		const emit = async (
			output: 0 | 1,
			item: INodeExecutionData,
			ack: IDataObject,
		): Promise<IWebhookResponseData> => {
			if (!batching) return deliverAlone(res, { output, item, ack });
			const workflowId =
				typeof this.getWorkflow === 'function' ? String(this.getWorkflow().id ?? '') : '';
			const settings = {
				windowMs: Math.min(5000, batchWindowMs),
				maxSize: Math.max(
					1,
					Math.min(
						1000,
						Number(options.batchMaxSize ?? DEFAULT_BATCH_MAX_SIZE) || DEFAULT_BATCH_MAX_SIZE,
					),
				),
				maxWaitMs: DEFAULT_BATCH_MAX_WAIT_MS,
			};
			return await deliverInBatch(
				res,
				{ output, item, ack },
				{ key: `${workflowId}:${this.getNode().name}`, settings, sleep },
			);
		};

		const emitInvalid = options.emitInvalidAsExceptions === true;
		const nowIso = new Date().toISOString();
		const parsed = parseWebhookEvent(rawBody);
		if (!parsed.ok) {
			if (!emitInvalid)
				return reply(400, { status: 'invalid', field: parsed.field, message: parsed.message });
			const rawText = rawBody.toString('utf8');
			let payload: unknown = rawText;
			try {
				payload = JSON.parse(rawText);
				const env = payload as IDataObject;
				if (env && typeof env === 'object' && env.data !== undefined)
					env.data = slimRawReturn(env.data) as IDataObject;
			} catch {
				// Not JSON: keep the text as it came (it is what ReBound sent).
			}
			// JSON `null`, or a document nested too deeply to serialise again: keep the text as it came.
			if (payload === null || payload === undefined || !jsonSafe(payload)) payload = rawText;
			const data =
				payload && typeof payload === 'object' ? (payload as IDataObject).data : undefined;
			const recordId = rawReturnId(data);
			const about = recordId === null ? '' : ` for return ${recordId}`;
			const exception = makeException(
				'invalid_payload',
				`ReBound webhook delivery${about} is invalid: ${parsed.field}: ${parsed.message}`,
				{
					stage: 'trigger',
					returnId: recordId,
					field: parsed.field,
					occurredAt: nowIso,
					payload,
				},
			);
			return await emit(
				1,
				{ json: exception as unknown as IDataObject },
				{ status: 'exception', field: parsed.field },
			);
		}

		const { event, normalised } = parsed;
		if (!normalised.ok && !emitInvalid) {
			// Answered before it is remembered, so ReBound's retry after a fix at source is not taken for a duplicate.
			const field = normalised.issues[0]?.field ?? '(root)';
			return reply(400, { status: 'invalid', field: `data.${field}`, message: normalised.message });
		}
		const returnId = normalised.ok ? normalised.value.returnId : rawReturnId(event.data);
		// With batching the memory is not kept: n8n writes the workflow's static data to its database after
		// every delivery that starts no execution (each follower), which cost more than the duplicate it
		// saves; a duplicate then costs one item, dropped by the inbox checks that follow.
		if (this.getMode() !== 'manual' && !batching) {
			const staticData = this.getWorkflowStaticData('node');
			const memory = readWebhookMemory(staticData.deliveries);
			const seen = recordDelivery(
				memory,
				{ eventId: event.id, returnId, sequence: event.sequence },
				Math.floor(Date.now() / 1000),
				{
					maxEvents: Math.max(100, Number(options.maxEvents ?? 5000)),
					maxReturns: Math.max(100, Number(options.maxReturns ?? 5000)),
				},
			);
			// Reassigned (not mutated) so n8n notices the change and saves it.
			staticData.deliveries = memory as unknown as IDataObject;
			if (seen === 'duplicate')
				return { webhookResponse: { status: 'duplicate', eventId: event.id } };
			if (seen === 'stale')
				return {
					webhookResponse: { status: 'stale', eventId: event.id, sequence: event.sequence },
				};
		}

		if (!normalised.ok) {
			const exception = invalidReturnException(
				returnId ?? '(no id)',
				event.data,
				normalised.issues,
				normalised.message,
				nowIso,
				{ eventId: event.id, eventType: event.event, sequence: event.sequence },
				rawBody.toString('utf8'),
			);
			return await emit(
				1,
				{ json: exception as unknown as IDataObject },
				{ status: 'exception', eventId: event.id },
			);
		}

		const ret = normalised.value;
		const all = this.getNodeParameter('events', 'final') === 'all';
		if (!all && !isFinalEvent(event.event, ret)) {
			return {
				webhookResponse: {
					status: 'ignored',
					eventId: event.id,
					reason: 'not a final disposition',
				},
			};
		}
		const item: INodeExecutionData = { json: returnAsOutput(ret, options.output, nowIso) };
		return await emit(0, item, { status: 'accepted', eventId: event.id });
	}
}
