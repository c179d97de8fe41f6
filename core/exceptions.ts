/**
 * Exceptions are data, not log lines. Every record a node cannot complete is
 * routed as a ReturnException: a typed kind, the ids an operator needs, a
 * sentence a person can act on, and the team that owns the fix.
 */
export const EXCEPTION_KINDS = [
	'unmapped_disposition',
	'unmapped_reason',
	'unknown_sku',
	'archived_sku',
	'order_not_found',
	'quantity_exceeds_sold',
	'credit_mismatch',
	'khaos_rejected',
	'transient_exhausted',
	'invalid_payload',
	'line_not_on_order',
	'regraded_after_move',
	'stuck',
] as const;

export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];
export type OwnerTeam = 'ops' | 'finance' | 'tech';
export type ExceptionStage = 'trigger' | 'mapping' | 'validate' | 'stock' | 'return' | 'credit' | 'reconcile';

export interface ExceptionKindInfo {
	title: string;
	owner: OwnerTeam;
	/** What the owner should do, in one sentence. */
	action: string;
}

export const EXCEPTION_CATALOGUE: Record<ExceptionKind, ExceptionKindInfo> = {
	unmapped_disposition: {
		title: 'Unmapped disposition',
		owner: 'ops',
		action: 'Add the disposition to the disposition mapping table (site, location, action), then replay the exception.',
	},
	unmapped_reason: {
		title: 'Unmapped return reason',
		owner: 'ops',
		action: 'Add the reason to the reason mapping table with its Khaos return-reason id, then replay the exception.',
	},
	unknown_sku: {
		title: 'Unknown SKU',
		owner: 'ops',
		action: 'Check the SKU in Khaos; add a SKU alias if it was renamed, then replay the exception.',
	},
	archived_sku: {
		title: 'Archived or unusable SKU',
		owner: 'ops',
		action: 'The product is deleted or not stock controlled in Khaos: reinstate it or alias the SKU to its replacement, then replay.',
	},
	order_not_found: {
		title: 'Original order not found',
		owner: 'finance',
		action: 'Find the original Khaos sales order for this return (order reference), correct the reference in ReBound or raise the credit by hand.',
	},
	quantity_exceeds_sold: {
		title: 'Quantity exceeds quantity sold',
		owner: 'finance',
		action: 'More units are being returned than were sold (less earlier returns): check the order and earlier credits before crediting by hand.',
	},
	credit_mismatch: {
		title: 'Credit differs from the refund',
		owner: 'finance',
		action: 'The credit computed from the Khaos order differs from the refund ReBound reports beyond tolerance: check the refund and the order.',
	},
	khaos_rejected: {
		title: 'Khaos rejected the request',
		owner: 'tech',
		action: 'Khaos refused the call (see message): fix the data or settings it names, then replay.',
	},
	transient_exhausted: {
		title: 'Transient failure, retries exhausted',
		owner: 'tech',
		action: 'The service kept failing (timeouts, 5xx, rate limits): check the service is up, then replay; nothing was applied twice.',
	},
	invalid_payload: {
		title: 'Invalid payload',
		owner: 'tech',
		action: 'The record from ReBound is malformed (see the field named): fix it at source or ask ReBound support, then replay.',
	},
	line_not_on_order: {
		title: 'Returned item not on the original order',
		owner: 'finance',
		action: 'The returned SKU is not a line of the original Khaos order, so nothing was moved: check the order reference and the SKU in ReBound, then replay or credit by hand.',
	},
	regraded_after_move: {
		title: 'Re-graded after its stock moved',
		owner: 'ops',
		action: 'The hub changed the grade after the unit was already moved: move the unit between the locations named by hand in Khaos if needed, then resolve.',
	},
	stuck: {
		title: 'Stuck in processing',
		owner: 'tech',
		action: 'The return stopped a processor run several times (see the last error): check the executions of the processor, fix the cause, then replay.',
	},
};

export interface ReturnException {
	/** Marks an item as an exception so downstream nodes and tables can tell. */
	exception: true;
	kind: ExceptionKind;
	title: string;
	owner: OwnerTeam;
	stage: ExceptionStage;
	returnId: string | null;
	displayId: string | null;
	orderReference: string | null;
	sku: string | null;
	lineId: string | null;
	/** The code that failed (disposition, reason, Khaos fault code …), if any. */
	code: string | null;
	/** The field that was wrong, for invalid payloads. */
	field: string | null;
	message: string;
	action: string;
	/** Stable key: the same problem on the same record gets the same key (exception table upserts on it). */
	key: string;
	occurredAt: string;
	details: Record<string, string | number | boolean | null>;
	/** The record as it arrived (JSON), so the exception can be replayed after the fix; null if none. */
	payload: string | null;
}

export interface ExceptionContext {
	stage: ExceptionStage;
	returnId?: string | null;
	displayId?: string | null;
	orderReference?: string | null;
	sku?: string | null;
	lineId?: string | null;
	code?: string | null;
	field?: string | null;
	owner?: OwnerTeam;
	details?: Record<string, string | number | boolean | null>;
	occurredAt?: string;
	/** The record to keep for replay (stored as JSON). */
	payload?: unknown;
}

export function exceptionKey(kind: ExceptionKind, ctx: Pick<ExceptionContext, 'returnId' | 'sku' | 'code' | 'field' | 'lineId'>): string {
	return [kind, ctx.returnId ?? '-', ctx.lineId ?? ctx.sku ?? '-', ctx.code ?? ctx.field ?? '-'].join('|');
}

export function makeException(kind: ExceptionKind, message: string, ctx: ExceptionContext): ReturnException {
	const info = EXCEPTION_CATALOGUE[kind];
	return {
		exception: true,
		kind,
		title: info.title,
		owner: ctx.owner ?? info.owner,
		stage: ctx.stage,
		returnId: ctx.returnId ?? null,
		displayId: ctx.displayId ?? null,
		orderReference: ctx.orderReference ?? null,
		sku: ctx.sku ?? null,
		lineId: ctx.lineId ?? null,
		code: ctx.code ?? null,
		field: ctx.field ?? null,
		message,
		action: info.action,
		key: exceptionKey(kind, ctx),
		occurredAt: ctx.occurredAt ?? new Date().toISOString(),
		details: ctx.details ?? {},
		payload: ctx.payload === undefined || ctx.payload === null ? null : typeof ctx.payload === 'string' ? ctx.payload : JSON.stringify(ctx.payload),
	};
}

export function isReturnException(value: unknown): value is ReturnException {
	return typeof value === 'object' && value !== null && (value as { exception?: unknown }).exception === true;
}

/**
 * Remove every occurrence of the given secrets (and their URL-encoded and
 * base64 forms) from a text before it reaches an error, a log or an exception row.
 */
export function redactSecrets(text: string, secrets: Array<string | undefined | null>): string {
	let out = text;
	for (const secret of secrets) {
		if (!secret || secret.length < 3) continue;
		const forms = new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]);
		for (const form of forms) out = out.split(form).join('***');
	}
	return out;
}
