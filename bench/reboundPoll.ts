/**
 * How many ReBound API calls, and how long, one poll of the ReBound Poll
 * Trigger takes to pick up N graded returns from the ReBound sandbox
 * (loopback, no injected latency). Bounded: one sandbox, N returns, two polls.
 *   npx ts-node --transpile-only bench/reboundPoll.ts [N=500]
 */
import type { INodeExecutionData } from 'n8n-workflow';
import { startReboundSandbox } from '../sandbox/rebound/server';
import { makeNodeHttpSend } from '../test/helpers/nodeHttpSend';
import {
	StaticDataStore,
	makePollContext,
	n8nHttpOverNode,
	reboundCredentials,
} from '../test/helpers/reboundFakes';

// The poll context fake (test/helpers) builds its logger with jest.fn: a minimal stand-in outside jest.
(globalThis as unknown as { jest: unknown }).jest = {
	fn:
		(impl?: (...a: unknown[]) => unknown) =>
		(...a: unknown[]) =>
			impl?.(...a),
};
// `…/ReBoundPollTrigger.node` would resolve to the codex file (.node.json) under ts-node: name the .ts file.
const { ReBoundPollTrigger } =
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	require('../nodes/ReBoundPollTrigger/ReBoundPollTrigger.node.ts') as typeof import('../nodes/ReBoundPollTrigger/ReBoundPollTrigger.node');

async function main() {
	const n = Math.min(5000, Math.max(1, Number(process.argv[2] ?? 500)));
	const sandbox = await startReboundSandbox({ port: 0, seed: 7 });
	try {
		const fixture = sandbox.state as unknown as {
			credentials?: { login: string; api_key: string };
		};
		const admin = (path: string, body: unknown) =>
			fetch(`${sandbox.adminUrl}${path}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(body),
			}).then((r) => r.json());
		await admin('/reset', {});
		await admin('/returns/bulk', { count: n, seed: 7, graded: true, linesPerReturn: 3, days: 28 });
		const state = (await fetch(`${sandbox.adminUrl}/state`).then((r) => r.json())) as {
			credentials?: { login: string; apiKey?: string; api_key?: string };
		};
		const creds = state.credentials ?? fixture.credentials;
		const http = n8nHttpOverNode(makeNodeHttpSend());
		const store = new StaticDataStore();
		const node = new ReBoundPollTrigger();
		for (const label of ['first poll', 'second poll']) {
			const data = store.open();
			const before = http.calls.length;
			const { ctx } = makePollContext({
				staticData: data,
				credentials: reboundCredentials({
					baseUrl: sandbox.url,
					login: creds?.login,
					apiKey:
						(creds as { apiKey?: string; api_key?: string })?.apiKey ??
						(creds as { api_key?: string })?.api_key,
				}),
				params: { options: { concurrency: 8 } },
				httpRequestWithAuthentication: http.fn,
			});
			const started = performance.now();
			const out = (await node.poll.call(ctx as never)) as INodeExecutionData[][] | null;
			const ms = performance.now() - started;
			store.save(data);
			const calls = http.calls.slice(before);
			const searches = calls.filter((c) => c.endsWith('/returns/search/json')).length;
			console.log(
				`${label}: emitted ${out ? out[0].length : 0} returns (${out ? (out[1]?.length ?? 0) : 0} exceptions), ${calls.length} ReBound calls (${searches} searches + ${calls.length - searches} gets), ${ms.toFixed(0)} ms`,
			);
		}
	} finally {
		await sandbox.close();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
