/**
 * What a failed ReBound call comes to, with secrets scrubbed: the message, the
 * service's error code and HTTP status when there were any, and whether trying
 * again later could help. No n8n here: the poll engine reads it, and the node
 * layer turns it into NodeApiError / NodeOperationError (nodes/shared/reboundApi.ts).
 */
import { redactSecrets } from '../../core/exceptions';
import { TransientExhaustedError, TransportError } from '../http';

export interface ReboundErrorInfo {
	message: string;
	code?: string;
	status?: number;
	transient: boolean;
}

export function describeReboundError(error: unknown, secrets: string[]): ReboundErrorInfo {
	if (error instanceof TransientExhaustedError) {
		return {
			message: redactSecrets(error.message, secrets),
			code: error.lastError.code,
			status: error.lastError.status,
			transient: true,
		};
	}
	if (error instanceof TransportError) {
		return {
			message: redactSecrets(error.message, secrets),
			code: error.code,
			status: error.status,
			transient: error.retryable,
		};
	}
	const message = error instanceof Error ? error.message : String(error);
	return { message: redactSecrets(message, secrets), transient: false };
}
