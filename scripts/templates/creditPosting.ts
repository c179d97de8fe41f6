import { Builder, type WorkflowTemplate } from './builder';
import { addExceptionSink, connectToSink } from './exceptionSink';
import { CREDIT_PARAMETERS, cronTrigger, dataTableNode, eq, ifNode, khaos, parseJsonNode, sticky, text } from './nodes';

export function buildCreditPosting(): WorkflowTemplate {
	const b = new Builder('creditPosting', 'Returns: credit-note posting ({{CLIENT_NAME}})');
	b.add(
		sticky(
			'About',
			[-40, -260],
			'## Credit-note posting (finance batching)\nFor clients who post credit notes in batches: on the schedule `{{CREDIT_POSTING_CRON}}` it takes every `credit_queued` inbox row in arrival order ' +
				'(their stock moves were applied by the processor) and creates the credit notes from the original Khaos orders. ' +
				'A credit note that already exists is reported as a duplicate, never raised twice. Only active when finance batching is on.',
			560,
			220,
		),
	);
	const trigger = b.add(cronTrigger('On Posting Schedule', [0, 200], '{{CREDIT_POSTING_CRON}}'));
	const rows = b.add(
		dataTableNode('Credit-Queued Returns', [240, 200], 'inbox', 'get', { conditions: [eq('status', 'credit_queued')], returnAll: true, orderBy: { column: 'id', direction: 'ASC' } }),
	);
	const parse = b.add(parseJsonNode('Parse Mapped Return', [480, 200], '={{ $json.mapped }}', 'The mapped return after its stock moves'));
	const credit = b.add(khaos('Create Credit Note', [720, 200], CREDIT_PARAMETERS, 'Values from the original Khaos order'));
	const done = b.add(
		dataTableNode('Mark Done', [960, 100], 'inbox', 'update', {
			conditions: [eq('id', "={{ $('Credit-Queued Returns').item.json.id }}")],
			columns: { status: 'done', processedAt: '={{ $now.toISO() }}', creditNoteRef: text('$json.associatedRef'), lastError: '' },
		}),
	);
	const row = "$('Credit-Queued Returns').item.json";
	const retry = b.add(ifNode('Retry Later?', [960, 400], `={{ $json.kind === 'transient_exhausted' && Number(${row}.attempts || 0) + 1 < {{MAX_TRANSIENT_ATTEMPTS}} }}`));
	const keep = b.add({
		...dataTableNode('Keep Queued', [1200, 300], 'inbox', 'update', {
			conditions: [eq('id', `={{ ${row}.id }}`)],
			columns: { attempts: `={{ Number(${row}.attempts || 0) + 1 }}`, lastError: '={{ $json.message }}' },
		}),
		notes: 'Transient failure: posted on the next run',
		notesInFlow: true,
	});
	const markException = b.add(
		// Below the exception sink: the exception row is written first (see the processor).
		dataTableNode('Mark Inbox Exception', [1200, 1400], 'inbox', 'update', {
			conditions: [eq('id', `={{ ${row}.id }}`)],
			columns: { status: "={{ $json.kind === 'credit_mismatch' ? 'done' : 'exception' }}", lastError: '={{ $json.message }}' },
		}),
	);
	const sink = addExceptionSink(b, 1200, 800);
	b.connect(trigger, rows).connect(rows, parse).connect(parse, credit).connect(credit, done, 0).connect(credit, retry, 1);
	b.connect(retry, keep, 0).connect(retry, markException, 1);
	connectToSink(b, retry, 1, sink);
	return b.build();
}
