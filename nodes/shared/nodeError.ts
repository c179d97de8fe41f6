/**
 * The one translation of an error into what n8n shows, for every node of the package: a
 * NodeApiError when a service failed or refused (transports/http TransportError,
 * TransientExhaustedError and their subclasses), a NodeOperationError for anything else (a
 * check of our own, a bug); an n8n error passes through as it is. Messages never carry a secret.
 */
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';
import { redactSecrets } from '../../core/exceptions';
import { TransientExhaustedError, TransportError } from '../../transports/http';

/** A failed call, described without secrets. */
export interface FailureDescription {
	/**
	 * transient: the service kept failing and the retries ran out; remote: the service answered
	 * with a refusal (a SOAP fault, an error envelope); transport: HTTP, network, protocol or
	 * configuration; logic: not a transport error at all.
	 */
	category: 'transient' | 'remote' | 'transport' | 'logic';
	message: string;
	/** The transport's code, else its kind (null for logic errors). */
	code: string | null;
	status: number | null;
	attempts: number | null;
	/** Whether the transport would have tried again (always true for transient). */
	retryable: boolean;
}

export function describeFailure(
	error: unknown,
	secrets: readonly string[] = [],
): FailureDescription {
	const clean = (s: string) => redactSecrets(s, [...secrets]);
	if (error instanceof TransientExhaustedError) {
		const last = error.lastError;
		return {
			category: 'transient',
			message: clean(error.message),
			code: last.code ?? last.kind,
			status: last.status ?? null,
			attempts: error.attempts,
			retryable: true,
		};
	}
	if (error instanceof TransportError) {
		return {
			category: error.kind === 'remote' ? 'remote' : 'transport',
			message: clean(error.message),
			code: error.code ?? error.kind,
			status: error.status ?? null,
			attempts: null,
			retryable: error.retryable,
		};
	}
	const message = error instanceof Error ? error.message : String(error);
	return {
		category: 'logic',
		message: clean(message),
		code: null,
		status: null,
		attempts: null,
		retryable: false,
	};
}

export interface NodeErrorOptions {
	itemIndex?: number;
	/** Texts to scrub from the message (credential values, in every encoding redactSecrets derives). */
	secrets?: readonly string[];
	/** What failed ("ReBound search"): the message reads "<what> failed: <reason>". Without it, the reason alone. */
	what?: string;
	/** The service's advice shown under a NodeApiError's message. */
	advice?: (failure: FailureDescription) => string | undefined;
}

export function toNodeError(
	node: INode,
	error: unknown,
	options: NodeErrorOptions = {},
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	const { itemIndex, secrets = [], what, advice } = options;
	const failure = describeFailure(error, secrets);
	const message = what ? `${what} failed: ${failure.message}` : failure.message;
	if (failure.category === 'logic') return new NodeOperationError(node, message, { itemIndex });
	const response: JsonObject = {
		message: failure.message,
		code: failure.code,
		status: failure.status,
	};
	return new NodeApiError(node, response, {
		message,
		description: advice?.(failure),
		httpCode: failure.status === null ? undefined : String(failure.status),
		itemIndex,
	});
}
