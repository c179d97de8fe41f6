/**
 * Khaos SOAP faults: the word-for-word fault strings a client must match and
 * their classification into KhaosFaultCode (see api.ts for the list).
 */
import { TransportError } from '../http';
import type { KhaosFaultCode } from './api';

/** ProcessReturn fault strings, word for word (documented). */
export const FAULT_RETURN_NOT_FOUND = 'Return does not exist or has been deleted.';
export const FAULT_RETURN_ALREADY_PROCESSED = 'Return has already been processed';
export const FAULT_RETURN_CODE_MISSING = 'Return Code or Auth Code not defined.';
/** The exact wording is not published ("a fault saying the return was partially processed"); matched on the phrase. */
export const FAULT_RETURN_PARTIALLY_PROCESSED = 'Return has been partially processed';
/** MODELED: inRequest authentication refused. */
export const FAULT_LOGIN_FAILED = 'Login failed: invalid user name or password.';

/** Longest fault string quoted in an error message (the whole string stays on `faultString`). */
export const MAX_FAULT_MESSAGE_CHARS = 1000;

function quoteFault(faultString: string): string {
	if (!faultString) return '(empty fault string)';
	if (faultString.length <= MAX_FAULT_MESSAGE_CHARS) return faultString;
	return `${faultString.slice(0, MAX_FAULT_MESSAGE_CHARS)}… (${faultString.length} characters in all)`;
}

export class KhaosFault extends TransportError {
	/** The fault string exactly as Khaos sent it (secrets redacted). */
	readonly faultString: string;
	readonly faultCode: string;
	declare readonly code: KhaosFaultCode;
	/** The SOAP method that faulted. */
	readonly method: string;

	constructor(
		method: string,
		faultString: string,
		options: { code: KhaosFaultCode; faultCode?: string; retryable?: boolean },
	) {
		super(`Khaos ${method} fault: ${quoteFault(faultString)}`, {
			kind: 'remote',
			retryable: options.retryable ?? false,
			code: options.code,
		});
		this.name = 'KhaosFault';
		this.faultString = faultString;
		this.faultCode = options.faultCode ?? '';
		this.method = method;
	}
}

/**
 * Faults retried like transient HTTP errors: the server said it could not do the
 * work right now (database lock/deadlock, busy, timeout, temporarily unavailable,
 * too many connections). Everything else is permanent.
 */
const TRANSIENT_FAULT =
	/deadlock|lock (?:conflict|timeout)|record (?:is )?locked|timed? ?out|temporarily unavailable|server (?:is )?busy|try again|too many connections|connection (?:was )?(?:lost|reset)/i;

export function classifyFault(
	method: string,
	faultString: string,
): { code: KhaosFaultCode; retryable: boolean } {
	const s = faultString.trim();
	if (s === FAULT_RETURN_ALREADY_PROCESSED || /^Return has already been processed/i.test(s))
		return { code: 'return_already_processed', retryable: false };
	if (s === FAULT_RETURN_NOT_FOUND || /^Return does not exist or has been deleted/i.test(s))
		return { code: 'return_not_found', retryable: false };
	if (s === FAULT_RETURN_CODE_MISSING || /^Return Code or Auth Code not defined/i.test(s))
		return { code: 'return_code_missing', retryable: false };
	if (/partial(?:ly)? processed/i.test(s))
		return { code: 'return_partially_processed', retryable: false };
	if (/login failed|invalid user ?name or password|not authori[sz]ed|access denied/i.test(s))
		return { code: 'auth_failed', retryable: false };
	if (/ADJUST_BY and ADJUST_TO/i.test(s)) return { code: 'invalid_adjustment', retryable: false };
	if (
		/(?:unknown|no such|not found).{0,20}(?:method|operation)|method .{0,40}not (?:found|implemented)/i.test(
			s,
		)
	)
		return { code: 'unknown_method', retryable: false };
	if (TRANSIENT_FAULT.test(s)) return { code: 'transient', retryable: true };
	if (
		/not well[- ]formed|invalid xml|required|not defined|invalid/i.test(s) &&
		method.startsWith('Import')
	)
		return { code: 'invalid_request', retryable: false };
	return { code: 'other', retryable: false };
}
