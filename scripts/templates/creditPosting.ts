import { Builder, type WorkflowTemplate } from './builder';
import { addCreditRecord, addCreditReview, addHeldSplit, addNoticeFirst } from './creditOutcome';
import { addExceptionSink, addInboxAfterExceptionSection, connectToSink } from './exceptionSink';
import {
	CREDIT_PARAMETERS,
	UNCREDITED,
	cronTrigger,
	dataTableNode,
	eq,
	ifNode,
	khaos,
	parseJsonNode,
} from './nodes';

const OVERVIEW = [
	'## Credit-note posting (finance batching)',
	'### How it works',
	'For clients whose finance team posts credit notes in batches. On the schedule `{{CREDIT_POSTING_CRON}}`:',
	'1. Take every `credit_queued` inbox row in arrival order. The process queue workflow has applied their stock moves and stored the mapped return.',
	"2. Create each credit note from the original Khaos order and mark the row `done`. A credit note that already exists is reported as a duplicate, never raised twice. A credit held by finance's credit policy becomes a `pending` row of the **credit reviews** Data Table (row `credit_review`).",
	'3. Transient failures stay queued for the next run, up to {{MAX_TRANSIENT_ATTEMPTS}} tries. Any other failure goes to the **exceptions** Data Table, with an alert, before its row becomes `exception`.',
	'### Setup',
	'1. Needed only when finance batches credit notes (`finance.batchCreditNotes` in the values file): the import activates it only then.',
	'2. Set `schedules.creditPostingCron` to the time finance posts, then run `npm run templates:import` again.',
].join('\n');

export function buildCreditPosting(): WorkflowTemplate {
	const b = new Builder('creditPosting', 'Returns: credit-note posting ({{CLIENT_NAME}})');
	const trigger = b.add(cronTrigger('On Posting Schedule', [0, 0], '{{CREDIT_POSTING_CRON}}'));
	const rows = b.add(
		dataTableNode('Credit-Queued Returns', [240, 0], 'inbox', 'get', {
			conditions: [eq('status', 'credit_queued')],
			returnAll: true,
			orderBy: { column: 'id', direction: 'ASC' },
		}),
	);
	const parse = b.add(
		parseJsonNode(
			'Parse Mapped Return',
			[480, 0],
			'={{ $json.mapped }}',
			'The mapped return after its stock moves',
		),
	);
	const credit = b.add(
		khaos(
			'Create Credit Note',
			[840, 0],
			CREDIT_PARAMETERS,
			'Values from the original Khaos order',
		),
	);
	const heldSplit = addHeldSplit(b, [1080, 0]);
	const [review, markReview] = addCreditReview(
		b,
		[1320, -200],
		"$('Parse Mapped Return').item.json",
		[eq('id', "={{ $('Credit-Queued Returns').item.json.id }}"), eq('status', 'credit_queued')],
	);
	// the credit's values go to the recorded credits (as the processor's), first: n8n's v1 order runs
	// this upper child of the held split before Mark Done, so a row is never done without its record
	// (a run stopped in between posts it again: Khaos refuses the duplicate, recorded without values)
	const [creditRecord, record] = addCreditRecord(
		b,
		[1320, -50],
		"$('Credit-Queued Returns').item.json",
	);
	const done = b.add(
		dataTableNode('Mark Done', [1320, 100], 'inbox', 'update', {
			conditions: [eq('id', "={{ $('Credit-Queued Returns').item.json.id }}")],
			columns: {
				status: 'done',
				processedAt: '={{ $now.toISO() }}',
				creditNoteRef:
					"={{ $json.creditStatus === 'not_credited' ? '' : String($json.associatedRef ?? '') }}",
				lastError: '',
				uncredited: UNCREDITED,
			},
		}),
	);
	const row = "$('Credit-Queued Returns').item.json";
	const [notice, exception] = addNoticeFirst(b, [1080, -300], [1080, 460]);
	const retry = b.add(
		ifNode(
			'Retry Later?',
			[1320, 560],
			`={{ $json.kind === 'transient_exhausted' && Number(${row}.attempts || 0) + 1 < {{MAX_TRANSIENT_ATTEMPTS}} }}`,
		),
	);
	const keep = b.add({
		...dataTableNode('Keep Queued', [1560, 460], 'inbox', 'update', {
			conditions: [eq('id', `={{ ${row}.id }}`)],
			columns: {
				attempts: `={{ Number(${row}.attempts || 0) + 1 }}`,
				lastError: '={{ $json.message }}',
			},
		}),
		notes: 'Transient failure: posted on the next run',
		notesInFlow: true,
	});
	const markException = b.add(
		// Below the exception sink: the exception row is written first (see the processor).
		dataTableNode('Mark Inbox Exception', [1560, 1820], 'inbox', 'update', {
			conditions: [eq('id', `={{ ${row}.id }}`)],
			columns: {
				status: "={{ $json.kind === 'credit_mismatch' ? 'done' : 'exception' }}",
				lastError: '={{ $json.message }}',
			},
		}),
	);
	const sink = addExceptionSink(b, 1560, 1000);
	b.connect(trigger, rows)
		.connect(rows, parse)
		.connect(parse, credit)
		.connect(credit, heldSplit, 0)
		.connect(credit, notice, 1)
		.connect(credit, exception, 1);
	b.connect(heldSplit, review, 0).connect(heldSplit, creditRecord, 1).connect(heldSplit, done, 1);
	connectToSink(b, notice, 0, sink);
	b.connect(exception, retry, 0);
	b.connect(retry, keep, 0).connect(retry, markException, 1);
	connectToSink(b, retry, 1, sink);

	b.overview(OVERVIEW);
	b.section(
		'Queued credits',
		'On the posting schedule: every `credit_queued` row, oldest first, with the mapped return the processor stored.',
		[trigger, rows, parse],
	);
	b.section(
		'Credit',
		"The credit note from the original Khaos order; the row becomes `done` with its reference. A credit held by finance's policy becomes a `pending` credit review and the row `credit_review`.",
		[credit, heldSplit, review, markReview, creditRecord, record, done, notice],
	);
	b.section(
		'Retry or record',
		'Notices (written first, as `notice`) stop nothing. Transient failures with tries left stay `credit_queued` for the next run; everything else goes to the exceptions.',
		[exception, retry, keep],
	);
	addInboxAfterExceptionSection(b, [markException]);
	return b.build();
}
