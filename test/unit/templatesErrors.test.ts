/**
 * The Errors workflow (workflows/errors.json, scripts/templates/errors.ts): n8n's Error Trigger
 * payload becomes one `workflow_failed` exception item for the shared exception sink, resolved by
 * n8n-workflow's own expression engine: the workflow, the failing node, the execution id and link,
 * the error message without secret-shaped texts, a key per workflow and node (a workflow failing on
 * every run keeps one row), and nothing of the error's stack or the node's parameters.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DateTime } from 'luxon';
import { Expression } from 'n8n-workflow';
import {
	EXCEPTION_CATALOGUE,
	makeException,
	scrubSecretShapes,
	workflowFailedKey,
} from '../../core/exceptions';
import type { WorkflowTemplate } from '../../scripts/templates/build';
import { WORKFLOW_FAILED_EXPRESSION } from '../../scripts/templates/errors';

const ROOT = path.resolve(__dirname, '../..');
const wf = JSON.parse(
	fs.readFileSync(path.join(ROOT, 'workflows', 'errors.json'), 'utf8'),
) as WorkflowTemplate;
const NOW = DateTime.fromISO('2026-11-28T10:00:00Z', { zone: 'UTC' });

function node(name: string) {
	const n = wf.nodes.find((x) => x.name === name);
	if (!n) throw new Error(`no node ${name}`);
	return n;
}

/** The Set node's output for one Error Trigger item, as n8n resolves it (raw JSON mode: the string parsed). */
function exceptionFor(payload: unknown): Record<string, any> {
	const parameter = (node('Workflow Failed Exception').parameters as { jsonOutput: string })
		.jsonOutput;
	const text = new Expression('UTC').resolveSimpleParameterValue(parameter, {
		$json: payload,
		$now: NOW,
	} as never);
	return JSON.parse(String(text)) as Record<string, any>;
}

/** What n8n 2.40.7 hands the Error Trigger when a run fails (execute-error-workflow.js), its error as serialised. */
function failedRun(over: { message?: string; description?: string; node?: string; id?: string }) {
	return {
		execution: {
			id: over.id ?? '231',
			url: `http://127.0.0.1:5678/workflow/wfProc123/executions/${over.id ?? '231'}`,
			error: {
				message: over.message ?? 'Could not find data table with id "dt9"',
				...(over.description ? { description: over.description } : {}),
				name: 'NodeOperationError',
				stack:
					'NodeOperationError: Could not find data table\n    at /usr/lib/n8n/secret-path.js:1:1',
				node: {
					name: over.node ?? 'Disposition Map',
					parameters: { dataTableId: { value: 'dt9' }, apiKey: 'PARAM-SECRET-1' },
					credentials: { khaosControlApi: { id: 'c1', name: 'Khaos' } },
				},
			},
			lastNodeExecuted: over.node ?? 'Disposition Map',
			mode: 'trigger',
			executionContext: { version: 1, establishedAt: 1 },
		},
		workflow: { id: 'wfProc123', name: 'Returns: ReBound → Khaos – 2 process queue (Acme)' },
	};
}

describe('Errors workflow template', () => {
	it('is started by the Error Trigger alone, feeds the shared exception sink, and names no error workflow itself', () => {
		expect(node('On Workflow Error')).toMatchObject({
			type: 'n8n-nodes-base.errorTrigger',
			typeVersion: 1,
			parameters: {},
		});
		expect(wf.connections['On Workflow Error'].main).toEqual([
			[{ node: 'Workflow Failed Exception', type: 'main', index: 0 }],
		]);
		expect(wf.connections['Workflow Failed Exception'].main[0].map((c) => c.node).sort()).toEqual([
			'Known Exception?',
			'New Exception?',
		]);
		expect(wf.settings.errorWorkflow).toBeUndefined();
		// the only trigger: n8n starts it for other workflows' failures, never on a schedule
		expect(wf.nodes.filter((n) => /trigger/i.test(n.type)).map((n) => n.name)).toEqual([
			'On Workflow Error',
		]);
		// n8n's expression splitter would end the expression at a `}}` inside the code
		expect(WORKFLOW_FAILED_EXPRESSION.slice(3, -2)).not.toContain('}}');
	});

	it('a failed run becomes one workflow_failed exception (owner tech) naming the workflow, the node, the execution and its link', () => {
		const item = exceptionFor(failedRun({}));
		const info = EXCEPTION_CATALOGUE.workflow_failed;
		expect(item).toEqual({
			exception: true,
			kind: 'workflow_failed',
			title: info.title,
			owner: 'tech',
			action: info.action,
			stage: 'workflow',
			key: 'workflow_failed|-|wfProc123|Disposition Map',
			returnId: null,
			displayId: null,
			orderReference: null,
			sku: null,
			lineId: null,
			code: 'Disposition Map',
			field: null,
			notice: false,
			occurredAt: '2026-11-28T10:00:00.000Z',
			payload: null,
			details: {
				workflowId: 'wfProc123',
				workflowName: 'Returns: ReBound → Khaos – 2 process queue (Acme)',
				node: 'Disposition Map',
				executionId: '231',
				executionUrl: 'http://127.0.0.1:5678/workflow/wfProc123/executions/231',
				mode: 'trigger',
				retryOf: null,
				errorName: 'NodeOperationError',
			},
			message:
				'Workflow "Returns: ReBound → Khaos – 2 process queue (Acme)" (id wfProc123) failed at node "Disposition Map" in execution 231: ' +
				'Could not find data table with id "dt9"; execution link: http://127.0.0.1:5678/workflow/wfProc123/executions/231',
		});
		expect(item.key).toBe(workflowFailedKey('wfProc123', 'Disposition Map'));
		// the fields the sink writes are those of every other exception item (core makeException)
		const made = makeException('workflow_failed', 'm', { stage: 'workflow' });
		expect(Object.keys(item).sort()).toEqual([...Object.keys(made), 'notice'].sort());
		expect(made.owner).toBe('tech');
		// never the stack, the node's parameters or its credentials
		const text = JSON.stringify(item);
		for (const absent of ['secret-path', 'PARAM-SECRET-1', 'khaosControlApi', 'dt9"}'])
			expect(text).not.toContain(absent);
	});

	it('one key per workflow and failing node: the same failure in later runs updates its row instead of flooding', () => {
		const a = exceptionFor(failedRun({ id: '231' }));
		const b = exceptionFor(failedRun({ id: '232', message: 'Could not find data table "x"' }));
		const c = exceptionFor(failedRun({ id: '233', node: 'Queued Returns' }));
		expect(a.key).toBe(b.key);
		expect(b.details.executionId).toBe('232');
		expect(b.message).toContain('in execution 232');
		expect(c.key).toBe('workflow_failed|-|wfProc123|Queued Returns');
	});

	it('a trigger that failed to start (no execution) is keyed by its node, else `trigger`', () => {
		const payload = {
			trigger: {
				error: { message: 'Polling failed: ECONNREFUSED', node: { name: 'ReBound Poll Trigger' } },
				mode: 'trigger',
			},
			workflow: { id: 'wfIntake', name: 'Returns: ReBound → Khaos – 1 intake (Acme)' },
		};
		const item = exceptionFor(payload);
		expect([item.key, item.details.executionId, item.details.mode, item.message]).toEqual([
			'workflow_failed|-|wfIntake|ReBound Poll Trigger',
			null,
			'trigger',
			'Workflow "Returns: ReBound → Khaos – 1 intake (Acme)" (id wfIntake) failed at node "ReBound Poll Trigger" while its trigger started: Polling failed: ECONNREFUSED',
		]);
		const bare = exceptionFor({ trigger: { error: {}, mode: 'trigger' }, workflow: { id: 'w2' } });
		expect([bare.key, bare.message]).toEqual([
			'workflow_failed|-|w2|trigger',
			'Workflow "w2" (id w2) failed at node "trigger" while its trigger started: no error message',
		]);
	});

	it('texts shaped like a secret are removed from the error message and description, as core scrubSecretShapes does', () => {
		const message =
			'Request failed: Authorization: Basic a2hhb3M6U0VDUkVULUtQVy0x, url https://user:SECRET-URL-2@khaos.example.com/ws, ' +
			'body password=SECRET-PW-3&apiKey=SECRET-KEY-4 {"api_key":"SECRET-KEY-5","token": "SECRET-TOK-6"} Bearer SECRET7tok.en';
		const description = 'sent pwd=SECRET-PW-8 and secret: SECRET-9';
		const item = exceptionFor(failedRun({ message, description }));
		for (const secret of [
			'a2hhb3M6U0VDUkVULUtQVy0x',
			'SECRET-URL-2',
			'SECRET-PW-3',
			'SECRET-KEY-4',
			'SECRET-KEY-5',
			'SECRET-TOK-6',
			'SECRET7tok.en',
			'SECRET-PW-8',
			'SECRET-9',
		])
			expect({ secret, leaked: JSON.stringify(item).includes(secret) }).toEqual({
				secret,
				leaked: false,
			});
		expect(item.message).toContain(
			`: ${scrubSecretShapes(message)} (${scrubSecretShapes(description)});`,
		);
		expect(scrubSecretShapes(message)).toBe(
			'Request failed: Authorization: Basic ***, url https://user:***@khaos.example.com/ws, ' +
				'body password=***&apiKey=*** {"api_key":"***","token": "***"} Bearer ***',
		);
		// ordinary words stay: only values after a key, a scheme or in a URL's user part go
		expect(scrubSecretShapes('Invalid password for user alice; Basic authentication failed')).toBe(
			'Invalid password for user alice; Basic authentication failed',
		);
	});
});
