/**
 * The finance review template: finance releases or rejects held credits by editing the `decision`
 * of their row in the credit reviews Data Table (n8n's Data Table UI, no code); every minute this
 * workflow acts on the decided `pending` rows. A release raises the credit note from the original
 * order (reference RB-<returnId>, so a run that repeats finds it and raises nothing twice); a
 * reject records it and raises nothing. The return's inbox row becomes `done`, or `credit_rejected`
 * (final: the units it moved never reach Khaos' quantity returned, so they keep counting against
 * the order for later returns).
 */
import { Builder, type WorkflowTemplate } from './builder';
import { addNoticeFirst } from './creditOutcome';
import { addExceptionSink, connectToSink } from './exceptionSink';
import { CREDIT_PARAMETERS, dataTableNode, eq, ifNode, khaos, parseJsonNode } from './nodes';

const OVERVIEW = [
	'## Finance review of held credits',
	'### How it works',
	"When finance's credit policy holds a return's credit (a grade set to `hold`, such as a missing item; an action such as store credit; a zero-value credit set to hold), the process queue moves its stock, writes a `pending` row to the **credit reviews** Data Table with the credit computed both ways, and alerts finance.",
	'Every minute this workflow takes the pending rows whose `decision` is filled in:',
	'1. `release`: the credit note is raised from the original Khaos order as computed, held lines included.',
	'2. `release_without_held`: only the lines that were not held are credited.',
	'3. `reject`: nothing is raised; the row records it.',
	'A release first claims its row (`releasing`, only if still pending with the decision read), so an edited decision or an overlapping run never acts twice. The row becomes `released` (with the credit-note reference) and the return `done`, or `rejected` and the return `credit_rejected`. A release that fails is `failed` with the reason, and goes to the exceptions table; one a stopped run left `releasing` is pending again after 10 min.',
	'### Setup',
	'1. `npm run templates:import` creates the credit reviews Data Table and activates this workflow.',
	'2. Finance: open the credit reviews Data Table, set `decision` (and `decidedBy`, `note`) on a pending row. Anything else in `decision` is reported in `lastError` and waits.',
].join('\n');

const DECISION = "String($json.decision || '').trim().toLowerCase()";
const ROW = "$('Decided Reviews').item.json";
const ROW_DECISION = `String(${ROW}.decision || '').trim().toLowerCase()`;

export function buildFinanceReview(): WorkflowTemplate {
	const b = new Builder(
		'financeReview',
		'Returns: finance review of held credits ({{CLIENT_NAME}})',
	);
	const trigger = b.add({
		name: 'Every Minute',
		type: 'n8n-nodes-base.scheduleTrigger',
		typeVersion: 1.2,
		position: [0, 0],
		parameters: { rule: { interval: [{ field: 'minutes', minutesInterval: 1 }] } },
	});
	const decided = b.add({
		...dataTableNode('Decided Reviews', [240, 0], 'reviews', 'get', {
			all: true,
			conditions: [eq('status', 'pending'), { keyName: 'decision', condition: 'isNotEmpty' }],
			returnAll: true,
			orderBy: { column: 'id', direction: 'ASC' },
		}),
		notes: 'Pending rows finance has decided',
		notesInFlow: true,
	});
	const reject = b.add(ifNode('Reject?', [480, 0], `={{ ${DECISION} === 'reject' }}`));
	const markRejected = b.add(
		dataTableNode('Mark Rejected', [840, -400], 'reviews', 'update', {
			all: true,
			// the row as read: still pending and with the decision read (edited since: next minute)
			conditions: [
				eq('id', '={{ $json.id }}'),
				eq('status', 'pending'),
				eq('decision', '={{ $json.decision }}'),
			],
			columns: { status: 'rejected', resolvedAt: '={{ $now.toISO() }}', lastError: '' },
		}),
	);
	const inboxRejected = b.add(
		dataTableNode('Inbox Rejected', [1080, -400], 'inbox', 'update', {
			all: true,
			conditions: [eq('returnId', `={{ ${ROW}.returnId }}`), eq('status', 'credit_review')],
			columns: {
				status: 'credit_rejected',
				processedAt: '={{ $now.toISO() }}',
				lastError:
					"={{ 'credit rejected by finance' + (" +
					ROW +
					".decidedBy ? ' (' + " +
					ROW +
					".decidedBy + ')' : '') + ': nothing raised' }}",
			},
		}),
	);
	const release = b.add(
		ifNode(
			'Release?',
			[840, 100],
			`={{ ['release', 'release_without_held'].includes(${DECISION}) }}`,
		),
	);
	const unknown = b.add(
		dataTableNode('Unknown Decision', [1080, 400], 'reviews', 'update', {
			all: true,
			conditions: [eq('id', '={{ $json.id }}'), eq('status', 'pending')],
			columns: {
				lastError:
					"={{ 'decision \"' + String($json.decision).slice(0, 40) + '\" is not one of release, release_without_held, reject: nothing done' }}",
			},
		}),
	);
	// Claimed before Khaos is called: the row becomes `releasing` only if it is still pending with the
	// decision read, so a decision edited meanwhile, an overlapping run or a re-grade (which upserts a
	// new pending row) never acts on it twice; the update gives back only the rows it changed.
	const claim = b.add({
		...dataTableNode('Claim Release', [1080, 100], 'reviews', 'update', {
			all: true,
			conditions: [
				eq('id', '={{ $json.id }}'),
				eq('status', 'pending'),
				eq('decision', '={{ $json.decision }}'),
			],
			columns: { status: 'releasing', lastError: '' },
		}),
		notes: 'Only a row still pending with the decision read',
		notesInFlow: true,
	});
	const parse = b.add({
		...parseJsonNode('Parse Mapped Return', [1320, 100], '={{ $json.mapped }}', 'The held return'),
		onError: 'continueErrorOutput',
	});
	const unreadable = b.add(
		dataTableNode('Mark Unreadable', [1560, 400], 'reviews', 'update', {
			all: true,
			conditions: [eq('id', `={{ ${ROW}.id }}`), eq('status', 'releasing')],
			columns: {
				status: 'failed',
				lastError:
					'the stored return (column mapped) is not valid JSON: nothing was raised; replay the return from its exception, or credit by hand',
			},
		}),
	);
	const credit = b.add(
		khaos(
			'Create Credit Note',
			[1560, 100],
			{
				...CREDIT_PARAMETERS,
				options: {
					...CREDIT_PARAMETERS.options,
					heldCredit: `={{ ${ROW_DECISION} }}`,
					reviewedGrossPence: `={{ ${ROW_DECISION} === 'release' ? ${ROW}.grossPence : ${ROW}.withoutHeldGrossPence }}`,
				},
			},
			'Released: values from the original Khaos order',
		),
	);
	const markReleased = b.add(
		dataTableNode('Mark Released', [1800, 100], 'reviews', 'update', {
			all: true,
			conditions: [eq('id', `={{ ${ROW}.id }}`), eq('status', 'releasing')],
			columns: {
				status: 'released',
				resolvedAt: '={{ $now.toISO() }}',
				creditNoteRef: "={{ $json.creditStatus === 'not_credited' ? '' : $json.associatedRef }}",
				creditGross:
					"={{ $json.totals && $json.totals.gross !== undefined ? $json.totals.gross : '' }}",
				lastError: "={{ $json.creditStatus === 'not_credited' ? $json.message : '' }}",
			},
		}),
	);
	const inboxReleased = b.add(
		dataTableNode('Inbox Done (Released)', [2040, 100], 'inbox', 'update', {
			all: true,
			conditions: [eq('returnId', `={{ ${ROW}.returnId }}`), eq('status', 'credit_review')],
			columns: {
				status: 'done',
				processedAt: '={{ $now.toISO() }}',
				creditNoteRef:
					"={{ $('Create Credit Note').item.json.creditStatus === 'not_credited' ? '' : String($('Create Credit Note').item.json.associatedRef ?? '') }}",
				lastError: '',
				uncredited:
					"={{ $('Create Credit Note').item.json.uncredited ? JSON.stringify($('Create Credit Note').item.json.uncredited) : '' }}",
			},
		}),
	);
	const [notice, exception] = addNoticeFirst(b, [1800, -60], [1800, 900]);
	const transient = b.add(
		ifNode('Transient?', [2040, 900], "={{ $json.kind === 'transient_exhausted' }}"),
	);
	const keepPending = b.add({
		...dataTableNode('Keep Pending', [2280, 900], 'reviews', 'update', {
			all: true,
			conditions: [eq('id', `={{ ${ROW}.id }}`), eq('status', 'releasing')],
			columns: {
				status: 'pending',
				lastError: "={{ 'tried again next minute: ' + $json.message }}",
			},
		}),
		notes: 'Khaos unavailable: the next run tries again',
		notesInFlow: true,
	});
	const markFailed = b.add(
		// below the sink: the exception row is written first (n8n runs branches top to bottom)
		dataTableNode('Mark Release Failed', [2280, 2140], 'reviews', 'update', {
			all: true,
			conditions: [eq('id', `={{ ${ROW}.id }}`), eq('status', 'releasing')],
			columns: { status: 'failed', lastError: '={{ $json.message }}' },
		}),
	);
	const sink = addExceptionSink(b, 2280, 1300);
	// A run that stopped between its claim and its end leaves the row `releasing`: after 10 min it is
	// pending again, and the next run releases it (the credit note's reference RB-<returnId> makes a
	// second release find the first one's note instead of raising another).
	const stalled = b.add({
		...dataTableNode('Stalled Releases', [240, -800], 'reviews', 'get', {
			all: true,
			conditions: [
				eq('status', 'releasing'),
				{
					keyName: 'updatedAt',
					condition: 'lt',
					keyValue: '={{ $now.minus({ minutes: 10 }).toISO() }}',
				},
			],
			returnAll: true,
		}),
		notes: 'Releases a stopped run left behind',
		notesInFlow: true,
	});
	const unstall = b.add(
		dataTableNode('Back to Pending', [480, -800], 'reviews', 'update', {
			all: true,
			conditions: [eq('id', '={{ $json.id }}'), eq('status', 'releasing')],
			columns: {
				status: 'pending',
				lastError: 'a release run stopped before it finished: tried again',
			},
		}),
	);
	b.connect(trigger, stalled).connect(stalled, unstall);
	b.connect(trigger, decided).connect(decided, reject);
	b.connect(reject, markRejected, 0).connect(markRejected, inboxRejected);
	b.connect(reject, release, 1);
	b.connect(release, claim, 0).connect(release, unknown, 1);
	b.connect(claim, parse).connect(parse, unreadable, 1);
	b.connect(parse, credit, 0).connect(credit, markReleased, 0).connect(markReleased, inboxReleased);
	b.connect(credit, notice, 1).connect(credit, exception, 1);
	connectToSink(b, notice, 0, sink);
	b.connect(exception, transient, 0);
	b.connect(transient, keepPending, 0).connect(transient, markFailed, 1);
	connectToSink(b, transient, 1, sink);

	b.overview(OVERVIEW);
	b.section(
		'Stopped releases',
		'A row left `releasing` for 10 min by a run that stopped is pending again; the credit note reference makes a second release safe.',
		[stalled, unstall],
	);
	b.section(
		'Decided reviews',
		'Every minute: the `pending` rows of the credit reviews table whose `decision` finance has filled in.',
		[trigger, decided, reject],
	);
	b.section(
		'Reject',
		'Rejected: recorded, nothing is raised; the return becomes `credit_rejected` (its moved units still count against the order).',
		[markRejected, inboxRejected],
	);
	b.section(
		'Release',
		'The credit note from the original Khaos order, with or without the held lines; the row records its reference and gross, and the return is `done`.',
		[release, claim, parse, credit, markReleased, inboxReleased, unknown, unreadable, notice],
	);
	b.section(
		'Retry or record',
		'Notices (written first, before the row is marked) stop nothing. Khaos unavailable: the row stays pending and the next run tries again. Anything else: the row is `failed` with the reason, and an exception row is written.',
		[exception, transient, keepPending],
	);
	b.section(
		'Failed release',
		'The row becomes `failed` with the reason once its exception row is written (below the sink on purpose: n8n runs branches top to bottom).',
		[markFailed],
	);
	return b.build();
}
