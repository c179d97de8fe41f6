import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IDataObject,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { redactSecrets } from '../../core/exceptions';
import { parseWebhookEvent, verifyWebhookSignature } from '../../transports/rebound/webhook';
import {
	invalidDeliveryException,
	invalidEventException,
	isFinalEvent,
	maxBodyBytes,
	rawReturnId,
} from '../../transports/rebound/webhookDelivery';
import { recordDeliveryIn, webhookMemoryLimits } from '../../transports/rebound/webhookMemory';
import {
	REBOUND_CREDENTIAL,
	readReboundCredentials,
	webhookSettingsFromCredentials,
} from '../shared/reboundApi';
import { batchPlaceOf, deliverAlone, deliverInBatch } from '../shared/reboundDeliveryBatch';
import { returnAsOutput } from '../shared/returnOutput';
import {
	readRawBodyCapped,
	recordOnlyWebhookMethods,
	type WebhookRequest,
} from '../shared/webhookRequest';
import { heldResponse, replyNow } from '../shared/webhookResponse';
import { reBoundTriggerProperties } from './ReBoundTriggerDescription';

export class ReBoundTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ReBound Trigger',
		name: 'reBoundTrigger',
		icon: { light: 'file:rebound.svg', dark: 'file:rebound.dark.svg' },
		group: ['trigger'],
		// 1.1 behaves as 1. n8n evaluates an expression (its binary-data option) in the webhook phase
		// of every delivery to a version-1 webhook node, which costs an expression isolate per
		// delivery; it skips that for later versions (webhook-helpers parseRequestBody).
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{$parameter["events"] === "all" ? "All events" : "Final dispositions"}}',
		description: 'Starts the workflow when ReBound pushes a return event (signed webhook)',
		defaults: { name: 'ReBound Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Returns', 'Exceptions'],
		credentials: [{ name: 'reBoundApi', required: true }],
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
		properties: reBoundTriggerProperties(),
	};

	webhookMethods = {
		// Nothing to register remotely (ReBound's webhook registration is not public).
		default: recordOnlyWebhookMethods(
			(url) => `ReBound Trigger active: give ReBound this URL by hand: ${url}`,
		),
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
		const maxBytes = maxBodyBytes(options.maxBodyKb);
		const body = await readRawBodyCapped(req, maxBytes);
		if (!body.ok && body.reason === 'no_body')
			return reply(400, { status: 'invalid', field: '(body)', message: 'The request has no body' });
		if (!body.ok) {
			return reply(413, {
				status: 'rejected',
				reason: 'body_too_large',
				message: `The request body is larger than ${Math.round(maxBytes / 1024)} KiB`,
			});
		}
		const rawBody = body.rawBody;

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
			json: IDataObject,
			ack: IDataObject,
		): Promise<IWebhookResponseData> => {
			const delivery = { output, item: { json } as INodeExecutionData, ack };
			if (!batching) return deliverAlone(res, delivery);
			const place = batchPlaceOf(
				this,
				batchWindowMs,
				options.batchMaxSize,
				options.batchStartWhenIdle === true,
			);
			return await deliverInBatch(res, delivery, place);
		};

		const emitInvalid = options.emitInvalidAsExceptions === true;
		const nowIso = new Date().toISOString();
		const parsed = parseWebhookEvent(rawBody);
		if (!parsed.ok) {
			if (!emitInvalid)
				return reply(400, { status: 'invalid', field: parsed.field, message: parsed.message });
			const exception = invalidDeliveryException(rawBody, parsed, nowIso);
			return await emit(1, exception as unknown as IDataObject, {
				status: 'exception',
				field: parsed.field,
			});
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
			const seen = recordDeliveryIn(
				this.getWorkflowStaticData('node'),
				{ eventId: event.id, returnId, sequence: event.sequence },
				Math.floor(Date.now() / 1000),
				webhookMemoryLimits(options),
			);
			if (seen === 'duplicate')
				return { webhookResponse: { status: 'duplicate', eventId: event.id } };
			if (seen === 'stale')
				return {
					webhookResponse: { status: 'stale', eventId: event.id, sequence: event.sequence },
				};
		}

		if (!normalised.ok) {
			const exception = invalidEventException(event, returnId, normalised, rawBody, nowIso);
			return await emit(1, exception as unknown as IDataObject, {
				status: 'exception',
				eventId: event.id,
			});
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
		const json = returnAsOutput(ret, options.output, nowIso, options.holdLateSeconds);
		return await emit(0, json, { status: 'accepted', eventId: event.id });
	}
}
