import { EXCEPTION_CATALOGUE } from '../../core/exceptions';
import { Builder, type WorkflowTemplate } from './builder';
import { addCreditRecord, addCreditReview, addHeldSplit, addNoticeFirst } from './creditOutcome';
import { addExceptionSink, addInboxAfterExceptionSection, connectToSink } from './exceptionSink';
import {
	CREDIT_PARAMETERS,
	MAPPING_PARAMETERS,
	VALIDATE_PARAMETERS,
	PACKAGE,
	addHeldRows,
	addMappingReads,
	constantIfNode,
	dataTableNode,
	eventsOfReturnsNode,
	returnIdsNode,
	UNCREDITED,
	eq,
	filterNode,
	ifNode,
	khaos,
	parseJsonNode,
	stockParameters,
} from './nodes';

const OVERVIEW = [
	'## Process the returns queue',
	'### How it works',
	'Every {{PROCESS_EVERY_SECONDS}} s (and at once after a run that left ready rows), when some row is queued and no run holds rows:',
	'1. Take up to {{BATCH_SIZE}} ready `queued` inbox rows in arrival order (a late delivery, whose event occurred more than {{SETTLE_SECONDS}} s before it arrived, is ready {{SETTLE_SECONDS}} s after it arrived; a prompt one at once) and mark them `processing` in one update.',
	'2. A row whose return has a later event in the **return events** Data Table becomes `superseded`: it moves nothing, the later event decides.',
	'3. Map each return with the mapping Data Tables, validate the SKUs, and apply the stock moves: restock or quarantine always comes before the credit.',
	"4. Create the credit note and record it in the **recorded credits** Data Table (one insert); the run's credited rows become `done` together at its end. When finance posts in batches: `credit_queued` for the posting workflow. A credit held by finance's policy goes to the **credit reviews** Data Table until finance decides.",
	'5. Transient failures (Khaos down, rate limits) are tried again on later runs, up to {{MAX_TRANSIENT_ATTEMPTS}} times. Any other failure is written to the **exceptions** Data Table and alerted before its row becomes `exception`. Notices (a discontinued SKU, an exchange, a zero-value or held credit) never stop a return.',
	'',
	'Every minute, rows left `processing` {{STALE_AFTER_MINUTES}} min by a stopped run are queued again, alone, at most {{MAX_REQUEUES}} times; then they become a `stuck` exception. Khaos references make a re-run safe.',
	'### Setup',
	'1. `npm run templates:import` creates the Data Tables and activates this workflow.',
	'2. Fill the disposition, reason and SKU alias tables (docs/mapping.md); an edit counts from the next run.',
	'3. Keep a batch small enough to end well within {{STALE_AFTER_MINUTES}} min.',
].join('\n');

/** Ready to be processed: the intake's readyAtMs has passed (late deliveries are held SETTLE_SECONDS). */
const READY = {
	keyName: 'readyAtMs',
	condition: 'lt',
	keyValue: '={{ $now.toMillis() }}',
} as const;

/** The later-event check reads the events of the returns of a batch's rows in tiers: rows 1 to
 * READ_TIERS[0] together, then (only when the batch has more) up to READ_TIERS[1] together, and so
 * on; rows past the last tier one read each. */
const READ_TIERS = [3, 10, 100] as const;
const BATCH_READ = READ_TIERS[READ_TIERS.length - 1];

/** The rows this run holds: claimed by this execution and not settled yet. */
const HELD_BY_THIS_RUN = [eq('status', 'processing'), eq('claim', '={{ $execution.id }}')];

/** One claimed row, only while this run still holds it. */
const THIS_RUNS_ROW = [eq('id', "={{ $('Mark Processing').item.json.id }}"), ...HELD_BY_THIS_RUN];

export function buildProcessor(): WorkflowTemplate {
	const b = new Builder(
		'processor',
		'Returns: ReBound → Khaos – 2 process queue ({{CLIENT_NAME}})',
		true,
	);
	const trigger = b.add({
		name: 'Every Few Seconds',
		type: 'n8n-nodes-base.scheduleTrigger',
		typeVersion: 1.2,
		position: [0, 0],
		parameters: {
			rule: { interval: [{ field: 'seconds', secondsInterval: '{{PROCESS_EVERY_SECONDS}}' }] },
		},
	});
	// Crash recovery runs on its own minute schedule, not in every run: one Data Table write less per run
	// (a run every second spent ~0.1 s on it). A stalled row is requeued after STALE_AFTER_MINUTES anyway.
	const everyMinute = b.add({
		name: 'Every Minute',
		type: 'n8n-nodes-base.scheduleTrigger',
		typeVersion: 1.2,
		position: [0, -560],
		parameters: { rule: { interval: [{ field: 'minutes', minutesInterval: 1 }] } },
	});
	// The requeue is counted per row (requeues) and bounded: a row that stops a run every time (a record
	// that makes a node throw, say) would otherwise be requeued forever and hold the queue for
	// STALE_AFTER_MINUTES each time. After MAX_REQUEUES requeues, the next stall makes it a `stuck`
	// exception instead. One read, then one update per stalled row (stalls are rare; a per-row count
	// cannot be written by one update of many rows).
	const stalled = b.add({
		...dataTableNode('Stalled Rows', [240, -560], 'inbox', 'get', {
			all: true,
			conditions: [
				eq('status', 'processing'),
				{
					keyName: 'updatedAt',
					condition: 'lt',
					keyValue: '={{ $now.minus({ minutes: {{STALE_AFTER_MINUTES}} }).toISO() }}',
				},
			],
			returnAll: true,
		}),
		executeOnce: true,
		notes: 'Crash recovery: rows left processing by a run that stopped',
		notesInFlow: true,
	});
	const tooOften = b.add(
		ifNode(
			'Requeued Too Often?',
			[480, -560],
			'={{ Number($json.requeues || 0) >= {{MAX_REQUEUES}} }}',
		),
	);
	// The last error a stalled row had before it was first requeued is carried along in lastError (after
	// " | last error: "), so the stuck exception can quote it; the run that stopped is named by its claim.
	const cause =
		"((e) => e.startsWith('left processing') ? '' : e)(String($json.lastError || '').split(' | last error: ').pop())";
	const requeueRow = b.add({
		...dataTableNode('Requeue Stalled Row', [720, -680], 'inbox', 'update', {
			all: true,
			conditions: [eq('id', '={{ $json.id }}'), eq('status', 'processing')],
			columns: {
				status: 'queued',
				requeues: '={{ Number($json.requeues || 0) + 1 }}',
				lastError:
					"={{ 'left processing by execution ' + $json.claim + ' (requeue ' + (Number($json.requeues || 0) + 1) + ' of ' + {{MAX_REQUEUES}} + ')' + " +
					`((c) => c ? ' | last error: ' + c : '')(${cause}) }}`,
			},
		}),
		notes: 'Back to queued, counted (only if still processing)',
		notesInFlow: true,
	});
	const stuck = EXCEPTION_CATALOGUE.stuck;
	const stuckException = b.add(
		parseJsonNode(
			'Stuck Exception',
			[720, -440],
			// The item the exception sink expects (core/exceptions.ts ReturnException; key = exceptionKey('stuck', { returnId })).
			"={{ JSON.stringify({ exception: true, kind: 'stuck', " +
				`title: ${JSON.stringify(stuck.title)}, owner: ${JSON.stringify(stuck.owner)}, action: ${JSON.stringify(stuck.action)}, stage: 'processor', ` +
				"key: 'stuck|' + ($json.returnId || '-') + '|-|-', returnId: $json.returnId, displayId: $json.displayId, orderReference: $json.orderReference, " +
				'sku: null, lineId: null, code: null, field: null, notice: false, occurredAt: $now.toISO(), payload: $json.payload || null, ' +
				'details: { inboxId: $json.id, eventId: $json.eventId, sequence: $json.sequence, requeues: Number($json.requeues || 0), lastExecution: $json.claim }, ' +
				"message: 'Return ' + ($json.displayId || $json.returnId) + ' (event ' + $json.eventId + ') was left processing by a processor run ' + (Number($json.requeues || 0) + 1) + " +
				"' times (requeued ' + Number($json.requeues || 0) + ' times, the limit), the last time by execution ' + $json.claim + '. Last error: ' + " +
				"(String($json.lastError || '') || 'none recorded (see that execution)') }) }}",
			'The row as a stuck exception (owner tech)',
		),
	);
	// Below the exception sink: the exception row is written before the inbox row leaves `processing` (see Mark Inbox Exception).
	const markStuck = b.add({
		...dataTableNode('Mark Inbox Stuck', [4560, 2100], 'inbox', 'update', {
			all: true,
			conditions: [eq('id', "={{ $('Stalled Rows').item.json.id }}"), eq('status', 'processing')],
			columns: {
				status: 'exception',
				processedAt: '={{ $now.toISO() }}',
				lastError: '={{ $json.message }}',
			},
		}),
		notes: 'After its exception row is written',
		notesInFlow: true,
	});
	// A queued row without readyAtMs (inserted by hand, or by an intake older than the column) would
	// never be ready: the minute schedule makes it ready now.
	const unstamped = b.add({
		...dataTableNode('Make Unstamped Rows Ready', [240, -800], 'inbox', 'update', {
			all: true,
			conditions: [eq('status', 'queued'), { keyName: 'readyAtMs', condition: 'isEmpty' }],
			columns: { readyAtMs: '={{ $now.toMillis() }}' },
		}),
		executeOnce: true,
		notes: 'Queued rows without readyAtMs become ready',
		notesInFlow: true,
	});
	b.connect(everyMinute, unstamped);
	b.connect(everyMinute, stalled)
		.connect(stalled, tooOften)
		.connect(tooOften, stuckException, 0)
		.connect(tooOften, requeueRow, 1)
		.connect(stuckException, markStuck);
	// One run at a time: the schedule starts a run every few seconds whatever the previous one is
	// doing; under Khaos faults a run can take minutes, and overlapping runs took the same rows and
	// piled up (the soak saw ~200 processor executions running at once and throughput collapse). A run
	// goes on only when no row is `processing`; a crashed run's rows are requeued above after
	// STALE_AFTER_MINUTES, so a crash never blocks the queue for longer.
	const noRunInProgress = (name: string, position: [number, number], notes: string) =>
		b.add({
			...dataTableNode(name, position, 'inbox', 'rowNotExists', {
				conditions: [eq('status', 'processing')],
			}),
			executeOnce: true,
			notes,
			notesInFlow: true,
		});
	const idle = noRunInProgress(
		'No Run In Progress?',
		[420, 0],
		'Skips this run while another run holds rows (processing)',
	);
	// An idle tick reads the inbox once and evaluates no expression: with
	// N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE (docs/deployment.md) n8n then builds no expression isolate
	// for it (~50 ms of CPU each, every second). Each read scans the inbox (Data Tables have no index
	// but the id), so the idle check comes first and the run-in-progress check only when rows wait;
	// Queued Returns compares readyAtMs with now, an expression, so it runs only then too.
	const anyQueued = b.add({
		...dataTableNode('Rows Queued?', [180, 0], 'inbox', 'rowExists', {
			conditions: [eq('status', 'queued')],
		}),
		executeOnce: true,
		notes: 'Idle ticks stop here (one read, no expression)',
		notesInFlow: true,
	});
	// A run that leaves ready rows queued starts the next one itself (Start the Next Run, at the end):
	// the queue drains run after run without waiting up to PROCESS_EVERY_SECONDS for the schedule
	// between them. The started run skips the idle check (its starter has just read a ready row) and
	// goes through both one-run-at-a-time checks as a tick does: they bracket its read of the held
	// rows, so no other run can have held rows (not yet counted as held) while it read them (a run
	// cannot start and end between the two). A tick at the same moment may make a second run: the
	// claim takes each row once whichever run it is, and the check after the claim (Rows Other Runs
	// Hold) makes the one that looks second give its rows back.
	const startedByLastRun = b.add({
		name: 'Started by the Last Run',
		type: 'n8n-nodes-base.executeWorkflowTrigger',
		typeVersion: 1.1,
		position: [0, 200],
		parameters: { inputSource: 'passthrough' },
		notes: 'A run that left ready rows queued starts this one at once',
		notesInFlow: true,
	});
	b.connect(trigger, anyQueued).connect(anyQueued, idle).connect(startedByLastRun, idle);
	// The one-run-at-a-time check again, right before the batch read: the held rows and the mapping
	// tables are read between the first check and this one (below), and a tick that passed the first
	// check during another run's reads could otherwise read and claim rows that arrived after that
	// run's claim, and run beside it. From this check to the claim is the batch read alone; a tick and
	// a run started at the same moment can still both pass it (each row is claimed once either way,
	// and the check after the claim makes one of them give its rows back).
	const idleAgain = noRunInProgress(
		'Still No Run In Progress?',
		[720, 0],
		'Checked again right before the batch is read',
	);
	// Only rows that are ready (readyAtMs, stamped by the intake): a prompt delivery at once, a late one
	// (a redelivery, which a newer event of the same return may be overtaking) SETTLE_SECONDS after it
	// arrived, so that the newer event, when it comes, makes it superseded (docs/idempotency.md).
	const queued = b.add({
		...dataTableNode('Queued Returns', [960, 0], 'inbox', 'get', {
			all: true,
			conditions: [eq('status', 'queued'), READY],
			returnAll: false,
			limit: '{{BATCH_SIZE}}',
			orderBy: { column: 'id', direction: 'ASC' },
		}),
		executeOnce: true,
		notes: 'Oldest first (arrival order), settled rows only, at most one batch',
		notesInFlow: true,
	});
	// Claim the whole batch with ONE compare-and-set update: rows from the first to the last id read
	// above that are still queued become processing, and the update returns exactly the rows it
	// changed, so a run that overlaps another (or a row requeued meanwhile) never takes a row twice
	// (found by the benchmark: overlapping runs re-processing the same rows). One update for the batch
	// instead of one per row: per-row Data Table writes were the processor's largest cost. (SQLite
	// gives the rows back in id order; where a database does not, two rows of one return still end
	// the same way: the Khaos nodes apply the first and settle the other as its duplicate.)
	// A requeued row (a run stopped with it) comes first again, being the oldest: it is claimed ALONE, so
	// a record that stops every run it is in stops only its own runs and ends `stuck` by itself, while
	// the rows that shared its batch go through one by one.
	const first = "$('Queued Returns').first().json";
	const processing = b.add({
		...dataTableNode('Mark Processing', [1200, 0], 'inbox', 'update', {
			all: true,
			conditions: [
				eq('status', 'queued'),
				READY,
				{ keyName: 'id', condition: 'gte', keyValue: `={{ ${first}.id }}` },
				{
					keyName: 'id',
					condition: 'lte',
					keyValue: `={{ Number(${first}.requeues || 0) > 0 ? ${first}.id : $('Queued Returns').last().json.id }}`,
				},
			],
			columns: { status: 'processing', claim: '={{ $execution.id }}' },
		}),
		executeOnce: true,
		notes:
			'Claims the batch in one update (only rows still queued): overlapping runs never take the same row',
		notesInFlow: true,
	});
	// One run at a time, made sure after the claim: a tick and a run started by the last one can pass
	// Still No Run In Progress? together (their reads before the batch run side by side), and when
	// rows became ready between their two batch reads, each claims some. Neither would count the
	// other's rows as held units of their orders (Held by Credit Posting is read before the claim), so
	// two returns of one order in the two runs could both fit what the order sold. So right after its
	// claim a run looks for rows another run holds `processing` and, when there are any, gives its
	// own back (`queued`, to be claimed by the run that goes on or the next tick) before anything is
	// moved or settled for them (the read ahead, before the claim, has only read). Of two runs that claimed side by side, the one that looks second sees
	// the other's rows; if both look before either gives back, both give back and the next tick
	// takes the rows. Rows a stopped run left `processing` stop every run at the checks above anyway.
	const others = b.add({
		...dataTableNode('Rows Other Runs Hold', [1440, -100], 'inbox', 'get', {
			all: true,
			conditions: [
				eq('status', 'processing'),
				{ keyName: 'claim', condition: 'neq', keyValue: '={{ $execution.id }}' },
			],
			returnAll: false,
			limit: 1,
		}),
		executeOnce: true,
		alwaysOutputData: true,
		notes: 'Right after the claim: does another run hold rows?',
		notesInFlow: true,
	});
	const alone = b.add(
		ifNode(
			'The Only Run Holding Rows?',
			[1440, 100],
			"={{ $('Rows Other Runs Hold').first().json.id === undefined }}",
		),
	);
	const giveBack = b.add({
		...dataTableNode('Give the Batch Back', [1680, 200], 'inbox', 'update', {
			all: true,
			conditions: HELD_BY_THIS_RUN,
			columns: { status: 'queued', claim: '' },
		}),
		executeOnce: true,
		notes: 'Another run holds rows: this run takes nothing (its rows queued again)',
		notesInFlow: true,
	});
	// Out of order: a claimed row whose return has a later event (a higher sequence) among the queued
	// events is `superseded` and moves nothing; the later event decides. Read from the narrow **return
	// events** table the intake writes after each inbox insert (not the inbox, whose rows carry the
	// whole return: at a month's retention a read of it costs ~40 ms, of this table ~2.3 ms;
	// bench/sqlite_scan.py, docs/benchmark.md). Unbounded on purpose: a later event of the return
	// queued BEFORE this row (two intake runs overlapping, one reading before the other's insert) must
	// be found too. The Data table node has no "in" condition: a Get per claimed row cost 12–17 ms of
	// n8n's work and a scan each (1.1–1.6 s of a 95-row run at steady state, docs/benchmark.md), and a
	// condition 1–2 ms (its expression: ~0.7 ms of n8n's main thread in a CPU profile). So the
	// claimed rows' return ids are gathered into ONE item, in row order, one per row (Returns of the
	// Batch: an Aggregate with static parameters), and read in
	// tiers that cost only what the batch needs (READ_TIERS): every event of the returns of its first 3
	// rows in one Get; of its rows 4 to 10 in a second Get, only when the batch has more than 3 rows
	// (an If on the one item: one expression); of its rows 11 to BATCH_READ in a third, only when it
	// has more than 10; rows past BATCH_READ (a batch size above it) one Get each. Each condition is an
	// expression n8n evaluates whether the row exists or not: at a few returns a second, a run claims
	// one to three rows, and a first read of 10 conditions evaluated seven for nothing. A return with many events could make a tier read more than 1,000
	// rows, which n8n reads in pages with a count each: an event of those returns inserted between two
	// pages fails the run ("synchronization error"), and its rows wait for the crash recovery (a few
	// events a return make that remote). n8n's v1 order runs the claimed rows' children (the true output
	// of The Only Run Holding Rows?) top to bottom,
	// so every read has run before Superseded? reads them.
	const batchReturns = b.add(
		returnIdsNode(
			'Returns of the Batch',
			[2040, -560],
			"The claimed rows' return ids, in one item",
		),
	);
	// Tier k reads rows READ_TIERS[k-1]+1 to READ_TIERS[k]; from the second tier on, only behind an If
	// on the one item (More Than … Rows?), whose true output runs the read (upper) and the next If
	// (lower): n8n's v1 order runs each read before the next tier's If.
	const tierReads: string[] = [];
	const tierIfs: string[] = [];
	let feeder = batchReturns;
	READ_TIERS.forEach((to, k) => {
		const from = k === 0 ? 0 : READ_TIERS[k - 1];
		const x = 2240 + 180 * k;
		const read = b.add(
			eventsOfReturnsNode(
				k === 0 ? `Events of the First ${to}` : `Events of Rows ${from + 1} to ${to}`,
				[x, -880],
				from,
				to,
				k === 0
					? `Every event of the returns of the batch's first ${to} rows, in one read`
					: `Only for a batch of more than ${from} rows: every event of the returns of rows ${from + 1} to ${to}, in one read`,
			),
		);
		tierReads.push(read);
		b.connect(feeder, read, 0);
		if (k === READ_TIERS.length - 1) return;
		const more = b.add(
			ifNode(`More Than ${to} Rows?`, [x, -720], `={{ $json.returnId.length > ${to} }}`),
		);
		tierIfs.push(more);
		b.connect(feeder, more, 0);
		feeder = more;
	});
	const pastBatch = b.add(
		filterNode(`Past the First ${BATCH_READ}`, [2040, -240], `={{ $itemIndex >= ${BATCH_READ} }}`),
	);
	const later = b.add({
		...dataTableNode('Later Event of the Return', [2280, -240], 'events', 'get', {
			all: true,
			conditions: [
				eq('returnId', '={{ $json.returnId }}'),
				{ keyName: 'sequence', condition: 'gt', keyValue: '={{ $json.sequence }}' },
			],
			returnAll: false,
			limit: 1,
		}),
		alwaysOutputData: true,
		notes: `Batch size above ${BATCH_READ} only: per row past them, a later event of its return`,
		notesInFlow: true,
	});
	const tiers = [...tierReads, later].map((n) => `$('${n}')`);
	const laterOf = `${tiers[0]}.all().concat(${tiers
		.slice(1)
		.map((t) => `${t}.isExecuted ? ${t}.all() : []`)
		.join(
			', ',
		)}).find(l => String(l.json.returnId) === String($json.returnId) && Number(l.json.sequence) > Number($json.sequence))`;
	const superseded = b.add(ifNode('Superseded?', [2280, 0], `={{ !!${laterOf} }}`));
	const markSuperseded = b.add({
		...dataTableNode('Mark Superseded', [2520, 200], 'inbox', 'update', {
			conditions: [eq('id', '={{ $json.id }}')],
			columns: {
				status: 'superseded',
				processedAt: '={{ $now.toISO() }}',
				lastError: `={{ 'superseded by a later event of the return (sequence ' + ${laterOf}.json.sequence + '): nothing moved' }}`,
			},
		}),
		notes: 'Moves nothing: the later event of the return decides',
		notesInFlow: true,
	});
	// Map Returns reads the return from each claimed row's payload itself (no parse node, no expression per row).
	const map = b.add({
		name: 'Map Returns',
		type: `${PACKAGE}.returnsMapping`,
		typeVersion: 1,
		position: [2880, 0],
		parameters: MAPPING_PARAMETERS,
	});
	const validate = b.add(
		khaos(
			'Validate SKUs',
			[3120, 0],
			VALIDATE_PARAMETERS,
			'Exists, not archived, stock controlled; reads ahead for the stock and credit steps',
		),
	);
	const stock = b.add(
		khaos(
			'Apply Stock Moves',
			[3480, 0],
			stockParameters('block'),
			'Restock / quarantine before any credit, bounded by the order',
		),
	);
	const batched = b.add(
		constantIfNode(
			'Finance Batched?',
			[3840, 0],
			'FINANCE_BATCHED',
			'Set by the import (finance.batchCreditNotes)',
		),
	);
	const queueCredit = b.add({
		...dataTableNode('Queue for Credit Posting', [4080, -200], 'inbox', 'update', {
			all: true,
			// this row, only while this run holds it: a run that outlived the stall limit (its rows
			// requeued or stuck, maybe claimed by another run) must not overwrite what came after
			conditions: THIS_RUNS_ROW,
			columns: { status: 'credit_queued', mapped: '={{ JSON.stringify($json) }}', lastError: '' },
		}),
		notes: 'Stock done; the posting workflow creates the credit note',
		notesInFlow: true,
	});
	const credit = b.add(
		khaos(
			'Create Credit Note',
			[4080, 100],
			CREDIT_PARAMETERS,
			'Values from the original Khaos order',
		),
	);
	// The rows that succeeded become done in ONE update at the end of the run (Finish the Batch, below),
	// not one update per row: every Data Table write makes n8n measure the size of all Data Tables
	// again, and Data Tables have no index but the id, so per-row marks were the processor's largest
	// cost (docs/benchmark.md). What differs per row, the credit the credit step computed and sent
	// (the reconciliation's expected values), goes into the recorded credits Data Table in one insert
	// (an insert is n8n's only bulk Data Table write). The credit note's reference is RB-<returnId>.
	const heldSplit = addHeldSplit(b, [4320, 100]);
	const [review, markReview] = addCreditReview(
		b,
		[4560, -100],
		"$('Finance Batched?').item.json",
		THIS_RUNS_ROW,
	);
	// One expression a row builds the record; the insert maps it as it is, in one statement.
	const [creditRecord, record] = addCreditRecord(b, [4560, 200], "$('Mark Processing').item.json");
	// Units moved that no credit note records as returned (an exchange, a line never credited) keep
	// counting against their order: written on the row itself (Held by Credit Posting reads it), rare.
	// A second child of the credit step's success output (right of Record Credits: n8n's v1 order
	// runs it after that branch), so each item pairs straight back to its claimed row.
	const uncreditedSplit = b.add(
		ifNode('Units Uncredited?', [5040, 200], '={{ !!$json.uncredited }}'),
	);
	const keepUncredited = b.add({
		...dataTableNode('Record Uncredited Units', [5280, 200], 'inbox', 'update', {
			all: true,
			conditions: THIS_RUNS_ROW,
			columns: { uncredited: UNCREDITED },
		}),
		notes: 'Moved units no credit note records (they keep counting against the order)',
		notesInFlow: true,
	});
	// Notice? above the success path (it runs first, see addNoticeFirst), Exception? below it
	const [notice, exception] = addNoticeFirst(b, [4320, -460], [4200, 560]);
	const retry = b.add(
		ifNode(
			'Retry Later?',
			[4320, 560],
			"={{ $json.kind === 'transient_exhausted' && Number($('Mark Processing').item.json.attempts || 0) + 1 < {{MAX_TRANSIENT_ATTEMPTS}} }}",
		),
	);
	const requeueRetry = b.add({
		...dataTableNode('Requeue for Retry', [4560, 560], 'inbox', 'update', {
			all: true,
			// this row, only while this run holds it: a run that outlived the stall limit (its rows
			// requeued or stuck, maybe claimed by another run) must not overwrite what came after
			conditions: THIS_RUNS_ROW,
			columns: {
				status: 'queued',
				attempts: "={{ Number($('Mark Processing').item.json.attempts || 0) + 1 }}",
				lastError: '={{ $json.message }}',
				// ready again only PROCESS_EVERY_SECONDS later (the second tick after, or a run started
				// after that): the run this one starts (Start the Next Run) must not try it again at once
				// (a Khaos outage would use every attempt within seconds)
				readyAtMs: '={{ $now.toMillis() + {{PROCESS_EVERY_SECONDS}} * 1000 }}',
			},
		}),
		notes:
			'Transient failure: ready again after {{PROCESS_EVERY_SECONDS}} s (attempts counts these)',
		notesInFlow: true,
	});
	const markException = b.add(
		// Below the exception sink on purpose: n8n's v1 order runs the children of one output top to
		// bottom, each branch to its end, so the exception row is written BEFORE the inbox row leaves
		// `processing`. The other order lost two exceptions in the full soak when n8n was killed between
		// the two (the inbox said "exception", the exceptions table had no row, nothing requeued it).
		dataTableNode('Mark Inbox Exception', [4560, 1860], 'inbox', 'update', {
			all: true,
			// this row, only while this run holds it: a run that outlived the stall limit (its rows
			// requeued or stuck, maybe claimed by another run) must not overwrite what came after
			conditions: THIS_RUNS_ROW,
			columns: {
				status: "={{ $json.kind === 'credit_mismatch' ? 'done' : 'exception' }}",
				// when the row took its final status (a credit_mismatch's credit note exists: it is done
				// here, not at the end of the run, and keeps the difference in lastError)
				processedAt: '={{ $now.toISO() }}',
				lastError: '={{ $json.message }}',
			},
		}),
	);
	const sink = addExceptionSink(b, 4560, 1000);

	// Finish the batch: the last child of the claimed rows (The Only Run Holding Rows?), so n8n's v1
	// order runs it after every
	// branch above has ended (each row is superseded, queued for posting, under review, requeued,
	// an exception, or recorded as credited). The rows this run still holds must then be exactly the
	// recorded ones; only then do they become done in one update. A row still held that was not
	// recorded (a step that dropped it) is left processing: the crash recovery requeues it and, if it
	// happens again, makes it a stuck exception; the recorded rows are then marked one by one.
	const heldByThisRun = (name: string, position: [number, number], notes: string) =>
		b.add({
			...dataTableNode(name, position, 'inbox', 'get', {
				all: true,
				conditions: HELD_BY_THIS_RUN,
				returnAll: true,
			}),
			executeOnce: true,
			notes,
			notesInFlow: true,
		});
	const still = heldByThisRun(
		'Rows Still Held',
		[2040, 2640],
		'After every branch: the rows this run has not settled',
	);
	// the records as Credit Record built them, once Record Credits has inserted them (one statement:
	// all or none; Optimize Bulk returns a count, not the rows)
	const recorded =
		"($('Record Credits').isExecuted ? $('Credit Record').all() : []).map(c => c.json).filter(c => String(c.claim) === String($execution.id))";
	// Judged ONCE a run (executeOnce: one expression, not one a row): every row still held has a record.
	const accounted = b.add({
		...ifNode(
			'Every Row Accounted For?',
			[2280, 2640],
			`={{ ((recorded) => $('Rows Still Held').all().filter(i => i.json.id !== undefined).every(r => recorded.some(c => Number(c.inboxId) === Number(r.json.id))))(${recorded}) }}`,
		),
		executeOnce: true,
	});
	// Rare (a step dropped a row): the rows are read again, and only the credited ones become done, by id.
	const again = heldByThisRun(
		'Rows Still Held, Again',
		[2520, 2760],
		'Some row still held has no record: the rows again, one by one',
	);
	const succeeded = b.add(
		filterNode(
			'Credited in This Run',
			[2760, 2760],
			`={{ ${recorded}.some(c => Number(c.inboxId) === Number($json.id)) }}`,
		),
	);
	const done = b.add({
		...dataTableNode('Mark Done', [2520, 2540], 'inbox', 'update', {
			all: true,
			conditions: HELD_BY_THIS_RUN,
			columns: { status: 'done', processedAt: '={{ $now.toISO() }}', lastError: '' },
		}),
		executeOnce: true,
		notes: 'The credited rows, in one update (every row still held is one)',
		notesInFlow: true,
	});
	const doneOneByOne = b.add({
		...dataTableNode('Mark Done One by One', [3000, 2760], 'inbox', 'update', {
			all: true,
			conditions: [eq('id', '={{ $json.id }}'), ...HELD_BY_THIS_RUN],
			columns: { status: 'done', processedAt: '={{ $now.toISO() }}', lastError: '' },
		}),
		notes: 'Some row still held was not credited: only the credited ones, by id',
		notesInFlow: true,
	});

	// The run's very last step (the last child of the claimed rows, below Finish the batch, so after
	// every row is settled): when ready rows are still queued (a backlog larger than a batch, or rows
	// that arrived during the run), start the next run now instead of at the next tick. One read, and
	// one execution started without waiting for it (its checks run as a tick's do). A run that stops
	// earlier (nothing claimed, a failure) starts none: the schedule goes on as before.
	const readyLeft = b.add({
		// a Get of one row: n8n's Row Exists compares by equality only
		...dataTableNode('Ready Rows Left?', [2040, 3160], 'inbox', 'get', {
			all: true,
			conditions: [eq('status', 'queued'), READY],
			returnAll: false,
			limit: 1,
		}),
		executeOnce: true,
		notes: 'After every row of this run is settled: more rows ready?',
		notesInFlow: true,
	});
	const startNext = b.add({
		name: 'Start the Next Run',
		type: 'n8n-nodes-base.executeWorkflow',
		typeVersion: 1.2,
		position: [2280, 3160],
		// every row of this run is settled by now: a start n8n refuses (the workflow deactivated
		// meanwhile) must not fail the run; the schedule goes on
		onError: 'continueRegularOutput',
		parameters: {
			workflowId: { __rl: true, mode: 'id', value: '={{ $workflow.id }}' },
			mode: 'once',
			options: { waitForSubWorkflow: false },
		},
		notes: 'This workflow again, now (not waiting for it)',
		notesInFlow: true,
	});
	b.connect(readyLeft, startNext);

	// Read ahead (issue 15): the batch's rows name the returns, their orders and SKUs, so Khaos is
	// asked now, without waiting, for what Validate SKUs and the stock and credit steps will ask
	// first; the answers come back while n8n claims the batch, checks it for later events and maps
	// it, and those steps take them (transports/khaos/readAhead.ts). The first child of Queued Returns
	// (n8n's v1 order runs it before Mark Processing): asked as soon as the batch is read, not after
	// the claim, so the claim's update is waited for beside Khaos, not before it. A row read but not
	// claimed (a requeued row is claimed alone; another run's claim) only costs its look-ups: nothing
	// is written ahead, and each step takes only the answers for the returns it has. After the held
	// rows on purpose (read before the batch, below): the order is read after the units held against
	// it, as the stock step always read it, so a credit posted meanwhile is counted in one or the
	// other. It never stops the run: a read ahead that fails is asked again by the step that needs
	// it, and a node error (a credential) goes on with the rows.
	const early = b.add({
		...khaos(
			'Read Ahead',
			[2040, -1250],
			{
				resource: 'return',
				operation: 'readAhead',
				mappingType: 1,
				readAheadFor: "={{ {{FINANCE_BATCHED}} ? 'stock' : 'stockAndCredit' }}",
			},
			'Asks Khaos now for what the checks, stock and credit steps will ask (not waiting)',
		),
		onError: 'continueRegularOutput',
	});
	// The held rows and the mapping tables do not depend on the batch, so they are read before it
	// (No Run In Progress?'s upper child: n8n's v1 order runs that branch to its end before the lower
	// one, the second check and Queued Returns). A return queued just after a run read its batch
	// waits for the rest of that run, then for its own up to its credit note: the work between a
	// run's batch read and its credit notes counts twice in the latency, the rest once (issue 15,
	// docs/benchmark.md). Only a run that passed the one-run-at-a-time check reads them: a tick that
	// finds nothing queued reads the inbox alone, and one that finds only rows not ready yet (settle
	// time, a retry's back-off) reads them and then finds no batch.
	const held = addHeldRows(b, [640, -1250]);
	addMappingReads(b, ['Open Credit Exceptions'], 1160, -1250);
	b.connect(idle, held)
		.connect(idle, idleAgain)
		.connect(idleAgain, queued)
		.connect(queued, early)
		.connect(queued, processing);
	b.connect(processing, others).connect(processing, alone).connect(alone, giveBack, 1);
	b.connect(alone, batchReturns)
		.connect(alone, pastBatch)
		.connect(alone, superseded)
		.connect(alone, still)
		.connect(alone, readyLeft);
	b.connect(still, accounted)
		.connect(accounted, done, 0)
		.connect(accounted, again, 1)
		.connect(again, succeeded)
		.connect(succeeded, doneOneByOne);
	b.connect(pastBatch, later);
	b.connect(superseded, markSuperseded, 0).connect(superseded, map, 1);
	b.connect(map, validate, 0).connect(validate, stock, 0).connect(stock, batched, 0);
	b.connect(batched, queueCredit, 0).connect(batched, credit, 1).connect(credit, heldSplit, 0);
	b.connect(heldSplit, review, 0)
		.connect(heldSplit, creditRecord, 1)
		.connect(heldSplit, uncreditedSplit, 1);
	b.connect(uncreditedSplit, keepUncredited, 0);
	for (const [from, output] of [
		[map, 1],
		[validate, 1],
		[stock, 1],
		[credit, 1],
	] as const)
		b.connect(from, notice, output).connect(from, exception, output);
	b.connect(exception, retry, 0);
	connectToSink(b, notice, 0, sink);
	b.connect(retry, requeueRetry, 0).connect(retry, markException, 1);
	connectToSink(b, retry, 1, sink);
	connectToSink(b, stuckException, 0, sink);

	b.overview(OVERVIEW);
	b.section(
		'Crash recovery',
		'Every minute: rows left `processing` for {{STALE_AFTER_MINUTES}} min by a run that stopped go back to `queued`, counted in `requeues`; a queued row without `readyAtMs` (added by hand) becomes ready. ' +
			'After {{MAX_REQUEUES}} requeues the next stall makes the row a `stuck` exception instead.',
		[everyMinute, unstamped, stalled, tooOften, requeueRow, stuckException],
	);
	b.section(
		'Start a run',
		'Only when some row is `queued` (an idle tick reads the inbox once and evaluates no expression; a run started by the last one skips this check: that run has just seen a ready row) and no row is `processing` (runs never pile up).',
		[trigger, startedByLastRun, anyQueued, idle],
	);
	b.section(
		'Claim a batch',
		'No row `processing` right before the batch read (every run checks twice), then the oldest settled `queued` rows, claimed in one update that takes only rows still queued. A requeued row is claimed alone. A run that then finds rows of another run gives its own back: one run at a time.',
		[idleAgain, queued, processing, others, alone, giveBack],
	);
	b.section(
		'Out-of-order events',
		'A claimed row whose return has a later event (the return events, read for the whole batch: one read up to 3 rows, two up to 10, three up to 100) is marked `superseded` and moves nothing.',
		[batchReturns, ...tierReads, ...tierIfs, pastBatch, later, superseded, markSuperseded],
	);
	b.section(
		'Read ahead',
		'Khaos is asked now, not waited for, for what the checks, stock and credit steps ask first.',
		[early],
	);
	b.section(
		'Mapping and checks',
		'Dispositions, reasons and SKU aliases from the mapping tables; then the SKUs are checked in Khaos.',
		[map, validate],
	);
	b.section('Stock', 'Restock or quarantine before any credit, bounded by what the order sold.', [
		stock,
	]);
	b.section(
		'Credit',
		'Finance batched: the row waits as `credit_queued` for the posting workflow. Otherwise the credit note is created and recorded (one insert a batch; the row is `done` at the end of the run); a held credit becomes a `pending` credit review and the row `credit_review`. Notices (a discontinued SKU, an exchange) are written first.',
		[
			batched,
			queueCredit,
			credit,
			heldSplit,
			review,
			markReview,
			creditRecord,
			record,
			uncreditedSplit,
			keepUncredited,
			notice,
		],
	);
	b.section(
		'Retry or record',
		'Transient failures with tries left go back to `queued` for a later run; everything else goes to the exceptions.',
		[exception, retry, requeueRetry],
	);
	b.section(
		'Drain the queue',
		'Last of all: when ready rows are still queued, this run starts the next one now rather than at the next tick.',
		[readyLeft, startNext],
	);
	b.section(
		'Finish the batch',
		'Last, after every branch: the rows this run still holds become `done` in one update when each of them had its credit recorded; otherwise only the credited ones, by id, and the rest wait for the crash recovery.',
		[still, accounted, done, again, succeeded, doneOneByOne],
	);
	addInboxAfterExceptionSection(b, [markException, markStuck]);
	return b.build();
}
