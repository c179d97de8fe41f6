/**
 * The Errors template: the client's n8n error workflow. Every other template of the client names it
 * in `settings.errorWorkflow` (the import command sets it), so a run that fails outside the exception
 * outputs (a Data Table deleted, a node that throws, n8n refusing a write) is not only a red
 * execution: n8n's Error Trigger starts this workflow, which writes a `workflow_failed` exception row
 * (owner tech) through the same exception sink as every other template, and alerts by the same
 * e-mail / Slack nodes. One row per workflow and failing node (core/exceptions.ts workflowFailedKey):
 * a workflow that fails on every run updates its row (lastSeen, attempts + 1, the latest execution)
 * and alerts once. The error text is scrubbed of anything shaped like a secret (SECRET_SHAPES); the
 * package's own nodes have already removed their credentials' values.
 */
import { EXCEPTION_CATALOGUE, SECRET_SHAPES } from '../../core/exceptions';
import { Builder, EXCEPTION_COLOR, type WorkflowTemplate } from './builder';
import { addExceptionSink, connectToSink } from './exceptionSink';
import { parseJsonNode } from './nodes';

const OVERVIEW = [
	'## Workflow errors',
	'### How it works',
	'Every record a node cannot complete goes to the exceptions Data Table through the exception outputs. This workflow catches the rest: a whole run that failed (a Data Table deleted or renamed away, a node that throws, n8n refusing a write).',
	"n8n's **Error Trigger** starts it whenever a run of another returns workflow of this client fails: each of them names this workflow as its **Error workflow** (workflow settings).",
	'1. The failure becomes a `workflow_failed` exception (owner **tech**): the workflow, the node that failed, the execution id and its link, and the error message with anything shaped like a secret removed.',
	'2. It goes to the **exceptions** Data Table and is alerted like every other exception. One row per workflow and failing node: a workflow failing on every run updates that row (`lastSeen`, `attempts`, the latest execution) and alerts once.',
	'### Setup',
	'1. `npm run templates:import` imports and activates this workflow first, then sets it as the error workflow of every other template of the client (on every re-import too).',
	'2. Tech: open the execution linked in the row, fix the cause, then set the row `resolved` (docs/exceptions.md).',
].join('\n');

/** A JavaScript expression that removes texts shaped like a secret from `expr` (SECRET_SHAPES, in the same order). */
export function scrubExpression(expr: string): string {
	return SECRET_SHAPES.reduce(
		(out, { pattern, replacement }) =>
			`${out}.replace(${pattern.toString()}, ${JSON.stringify(replacement)})`,
		`String(${expr})`,
	);
}

const info = EXCEPTION_CATALOGUE.workflow_failed;
/** The failing node: the last node the run executed; for a trigger that failed to start, its node or `trigger`. */
const NODE =
	"(($json.execution || {}).lastNodeExecuted || ((($json.execution || $json.trigger || {}).error || {}).node || {}).name || ($json.execution ? null : 'trigger'))";
/** The message: who failed where, and the error's own message and description with secret-shaped texts removed. */
const MESSAGE =
	"'Workflow \"' + (wf.name || wf.id) + '\" (id ' + wf.id + ') failed' + (node ? ' at node \"' + node + '\"' : '') + " +
	"(run.id ? ' in execution ' + run.id : ' while its trigger started') + ': ' + " +
	`${scrubExpression("String(err.message || 'no error message').slice(0, 600)")} + ` +
	`(err.description ? ' (' + ${scrubExpression('String(err.description).slice(0, 300)')} + ')' : '') + ` +
	"(run.url ? '; execution link: ' + run.url : '')";

/**
 * The Error Trigger's item (n8n: `{ execution: { id, url, error, lastNodeExecuted, mode, retryOf }, workflow: { id, name } }`,
 * or `{ trigger: { error, mode }, workflow }` when a trigger failed to start) as the ReturnException item the sink
 * expects (core/exceptions.ts; key = workflowFailedKey(workflow id, node)). Only the error's message and description
 * are kept, never its stack or the node's parameters.
 */
export const WORKFLOW_FAILED_EXPRESSION =
	'={{ JSON.stringify(((wf, run, err, node) => ({ exception: true, kind: ' +
	`'workflow_failed', title: ${JSON.stringify(info.title)}, owner: ${JSON.stringify(info.owner)}, action: ${JSON.stringify(info.action)}, stage: 'workflow', ` +
	"key: 'workflow_failed|-|' + (wf.id || '-') + '|' + (node || '-'), returnId: null, displayId: null, orderReference: null, " +
	'sku: null, lineId: null, code: node || null, field: null, notice: false, occurredAt: $now.toISO(), payload: null, ' +
	'details: { workflowId: wf.id || null, workflowName: wf.name || null, node: node || null, executionId: run.id || null, ' +
	'executionUrl: run.url || null, mode: run.mode || ($json.trigger || {}).mode || null, retryOf: run.retryOf || null, errorName: err.name || null }, ' +
	`message: ${MESSAGE} ` +
	`}))($json.workflow || {}, $json.execution || {}, ($json.execution || $json.trigger || {}).error || {}, ${NODE})) }}`;

export function buildErrors(): WorkflowTemplate {
	const b = new Builder('errors', 'Returns: workflow errors ({{CLIENT_NAME}})');
	const trigger = b.add({
		name: 'On Workflow Error',
		type: 'n8n-nodes-base.errorTrigger',
		typeVersion: 1,
		position: [0, 150],
		parameters: {},
		notes: 'A run of another workflow of this client failed',
		notesInFlow: true,
	});
	const exception = b.add(
		parseJsonNode(
			'Workflow Failed Exception',
			[320, 150],
			WORKFLOW_FAILED_EXPRESSION,
			'The failed run as a workflow_failed exception (owner tech)',
		),
	);
	const sink = addExceptionSink(b, 640, 0);
	b.connect(trigger, exception);
	connectToSink(b, exception, 0, sink);

	b.overview(OVERVIEW);
	b.section(
		'Failed run',
		"n8n's Error Trigger: a run of a workflow that names this one as its error workflow failed.",
		[trigger],
		EXCEPTION_COLOR,
	);
	b.section(
		'As an exception',
		'The workflow, the failing node, the execution and its link, the error without secrets; one key per workflow and node.',
		[exception],
		EXCEPTION_COLOR,
	);
	return b.build();
}
