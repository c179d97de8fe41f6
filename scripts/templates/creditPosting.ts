import { Builder, type WorkflowTemplate } from './builder';
import { addExceptionSink, addInboxAfterExceptionSection, connectToSink } from './exceptionSink';
import {
	CREDIT_PARAMETERS,
	cronTrigger,
	dataTableNode,
	eq,
	ifNode,
	khaos,
	parseJsonNode,
	text,
} from './nodes';

const OVERVIEW = [
	'## Credit-note posting (finance batching)',
	'### How it works',
	'For clients whose finance team posts credit notes in batches. On the schedule `{{CREDIT_POSTING_CRON}}`:',
	'1. Take every `credit_queued` inbox row in arrival order. The process queue workflow has applied their stock moves and stored the mapped return.',
	'2. Create each credit note from the original Khaos order and mark the row `done`. A credit note that already exists is reported as a duplicate, never raised twice.',
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
	const done = b.add(
		dataTableNode('Mark Done', [1080, 0], 'inbox', 'update', {
			conditions: [eq('id', "={{ $('Credit-Queued Returns').item.json.id }}")],
			columns: {
				status: 'done',
				processedAt: '={{ $now.toISO() }}',
				creditNoteRef: text('$json.associatedRef'),
				lastError: '',
			},
		}),
	);
	const row = "$('Credit-Queued Returns').item.json";
	const retry = b.add(
		ifNode(
			'Retry Later?',
			[1080, 460],
			`={{ $json.kind === 'transient_exhausted' && Number(${row}.attempts || 0) + 1 < {{MAX_TRANSIENT_ATTEMPTS}} }}`,
		),
	);
	const keep = b.add({
		...dataTableNode('Keep Queued', [1320, 460], 'inbox', 'update', {
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
		dataTableNode('Mark Inbox Exception', [1320, 1720], 'inbox', 'update', {
			conditions: [eq('id', `={{ ${row}.id }}`)],
			columns: {
				status: "={{ $json.kind === 'credit_mismatch' ? 'done' : 'exception' }}",
				lastError: '={{ $json.message }}',
			},
		}),
	);
	const sink = addExceptionSink(b, 1320, 900);
	b.connect(trigger, rows)
		.connect(rows, parse)
		.connect(parse, credit)
		.connect(credit, done, 0)
		.connect(credit, retry, 1);
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
		'The credit note from the original Khaos order; the row becomes `done` with its reference.',
		[credit, done],
	);
	b.section(
		'Retry or record',
		'Transient failures with tries left stay `credit_queued` for the next run; everything else goes to the exceptions.',
		[retry, keep],
	);
	addInboxAfterExceptionSection(b, [markException]);
	return b.build();
}
