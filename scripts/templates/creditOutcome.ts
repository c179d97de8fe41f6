/**
 * What follows a Create Credit Note node in every template that has one (processor, credit posting,
 * finance review), built by one function each so the copies stay identical:
 * - a held credit (finance's credit policy held a line, or a zero-value credit set to hold) becomes a
 *   `pending` row of the credit reviews Data Table, and its inbox row `credit_review`;
 * - notices (never blocking: discontinued, exchange, zero value, credit held, review value changed) go
 *   straight to the exception sink, bypassing the retry / inbox-exception path.
 */
import type { Builder } from './builder';
import { dataTableNode, eq, ifNode, parseJsonNode, text, type Condition, type Pos } from './nodes';

/** IF: held credits on output 0, every other outcome on output 1. */
export function addHeldSplit(b: Builder, position: Pos): string {
	return b.add(ifNode('Credit Held?', position, "={{ $json.creditStatus === 'held' }}"));
}

/**
 * The credit a credit step computed and sent, recorded for the daily reconciliation (its expected
 * values) in the recorded credits Data Table: one expression a row builds the record (each column
 * its own expression was 9 evaluations a row in n8n's expression isolate), and one insert takes the
 * whole run's records as they are. `row` is the inbox row the credit step's item came from. A
 * duplicate or a return given no credit note records no values. Returns [Credit Record, Record Credits].
 */
export function addCreditRecord(b: Builder, position: Pos, row: string): [string, string] {
	const build = b.add(
		parseJsonNode(
			'Credit Record',
			position,
			'={{ JSON.stringify(((m, c) => ({ inboxId: m.id, eventId: m.eventId, returnId: m.returnId, ' +
				"displayId: m.displayId ?? '', receivedAt: m.receivedAt ?? '', " +
				"creditNoteRef: c.creditStatus === 'posted' ? String(c.associatedRef ?? '') : '', " +
				"creditGross: c.creditStatus === 'posted' && c.totals ? c.totals.gross : '', " +
				"creditNet: c.creditStatus === 'posted' && c.totals ? c.totals.net : '', " +
				`claim: String($execution.id) }))(${row}, $json)) }}`,
			'Its inbox row, and the credit the credit step computed and sent',
		),
	);
	const record = b.add({
		...dataTableNode('Record Credits', [position[0] + 240, position[1]], 'credits', 'insert', {
			autoMap: true,
		}),
		notes: 'All the batch in one insert',
		notesInFlow: true,
	});
	b.connect(build, record);
	return [build, record];
}

/**
 * The held credit's review row: one `pending` row per return (a later event of a return still under
 * review replaces its values, and finance decides again); then the inbox row becomes `credit_review`
 * with the mapped return stored (its units count as held for the stock bound). `mappedExpr` is the
 * credit node's input item as JSON; `inboxRow` the conditions naming the row this run holds.
 */
export function addCreditReview(
	b: Builder,
	position: Pos,
	mappedExpr: string,
	inboxRow: Condition[],
): [string, string] {
	const review = b.add({
		...dataTableNode('Record Credit Review', position, 'reviews', 'upsert', {
			all: true,
			conditions: [eq('returnId', '={{ $json.returnId }}'), eq('status', 'pending')],
			columns: {
				returnId: text('$json.returnId'),
				displayId: text('$json.displayId'),
				orderReference: text('$json.orderReference'),
				currency: text('$json.currency'),
				heldWhy: text('$json.heldWhy'),
				heldLines:
					"={{ ($json.heldLines || []).map(l => l.quantity + ' × ' + l.sku + ' (' + l.disposition + (l.lineAction ? ', ' + l.lineAction : '') + ')').join('; ') }}",
				gross: '={{ $json.totals.gross }}',
				grossPence: '={{ $json.totals.grossPence }}',
				withoutHeldGross: "={{ $json.withoutHeld ? $json.withoutHeld.gross : '' }}",
				withoutHeldGrossPence: '={{ $json.withoutHeld ? $json.withoutHeld.grossPence : null }}',
				decision: '',
				decidedBy: '',
				note: '',
				status: 'pending',
				heldAt: '={{ $now.toISO() }}',
				resolvedAt: '',
				creditNoteRef: '',
				creditGross: '',
				lastError: '',
				mapped: `={{ JSON.stringify(${mappedExpr}) }}`,
			},
		}),
		notes: 'One pending row per held return: finance sets decision',
		notesInFlow: true,
	});
	const inbox = b.add({
		...dataTableNode(
			'Mark Inbox Credit Review',
			[position[0] + 240, position[1]],
			'inbox',
			'update',
			{
				all: true,
				conditions: inboxRow,
				columns: {
					status: 'credit_review',
					mapped: `={{ JSON.stringify(${mappedExpr}) }}`,
					lastError:
						"={{ 'credit held for finance review: ' + $('Credit Held?').item.json.heldWhy }}",
				},
			},
		),
		notes: 'Stock done; the credit waits for finance',
		notesInFlow: true,
	});
	b.connect(review, inbox);
	return [review, inbox];
}

/**
 * The two IFs an exception output feeds: `Notice?` (true: a notice, to the sink only) and
 * `Exception?` (true: a real exception, on to retry / mark). Place `Notice?` ABOVE the success
 * branch of the nodes that feed it: n8n's v1 order runs a node's children top to bottom, each to
 * its end, so a notice row is then written before the return's row leaves its state for good; a
 * run that stops in between leaves the row to be requeued, never final without its notice (the
 * queue-mode soak lost a discontinued_sku notice to a kill in that gap when the notice branch ran
 * after the success branch). `Exception?` stays below: an exception's alert never holds up the
 * good returns of the batch, and its row is still written before its return's row is marked.
 */
export function addNoticeFirst(b: Builder, noticeAt: Pos, exceptionAt: Pos): [string, string] {
	const notice = b.add({
		...ifNode('Notice?', noticeAt, '={{ $json.notice === true }}'),
		notes: 'Notices first: written before the return is marked',
		notesInFlow: true,
	});
	const exception = b.add(ifNode('Exception?', exceptionAt, '={{ $json.notice !== true }}'));
	return [notice, exception];
}
