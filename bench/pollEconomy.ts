/**
 * What a ReBound poll costs in ReBound API calls with the intake template's poll settings (issue 15,
 * "ReBound API economy"), for the bench report: the package's ReBound Poll Trigger (the node
 * itself, outside n8n) against a ReBound sandbox on 127.0.0.1 (no injected latency), on a
 * simulated clock: a first poll, then `laterPolls` polls `minutesApart` minutes apart with nothing
 * changing in ReBound (the empty poll). Calls are counted from the sandbox's call log. The
 * trigger's parameters are read from workflows/returns-intake.json, so the figures follow the
 * template; the poll engine is transports/rebound/poll.ts as it is. Bounded: one sandbox per
 * scenario, at most 5,000 returns and 1,440 later polls.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IDataObject, INode, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import { WORKFLOWS_DIR } from '../scripts/templates/build';
import { startReboundSandbox } from '../sandbox/rebound/server';
import { makeNodeHttpSend } from '../test/helpers/nodeHttpSend';
import { StaticDataStore, n8nHttpOverNode, reboundCredentials } from '../test/helpers/reboundFakes';
import { benchReboundFixture, benchReboundReturn } from './fixture';
import type { PollEconomy } from './stats';

const MINUTE_MS = 60_000;

/** The intake template's ReBound Poll Trigger: its parameters (without pollTimes) and its interval. */
export function templatePollSettings(file = path.join(WORKFLOWS_DIR, 'returns-intake.json')): {
	params: IDataObject;
	everyMinutes: string;
	describe: string;
} {
	const wf = JSON.parse(fs.readFileSync(file, 'utf8')) as {
		nodes: Array<{ type: string; parameters?: IDataObject }>;
	};
	const node = wf.nodes.find((n) => n.type.endsWith('.reBoundPollTrigger'));
	if (!node) throw new Error(`${file}: no ReBound Poll Trigger`);
	const { pollTimes, ...params } = node.parameters ?? {};
	const item = ((pollTimes as IDataObject | undefined)?.item as IDataObject[] | undefined)?.[0];
	const everyMinutes = String(item?.value ?? '?');
	const shown = Object.entries(params)
		.filter(([k]) => k !== 'options')
		.map(([k, v]) => `${k} ${String(v)}`);
	const options = Object.entries((params.options as IDataObject | undefined) ?? {})
		.filter(([k]) => k !== 'output')
		.map(([k, v]) => `${k} ${JSON.stringify(v)}`);
	return {
		params,
		everyMinutes,
		describe: [...shown, ...options].join(', ') || 'node defaults',
	};
}

/** A poll context as n8n gives the node in production (mode trigger), without n8n. */
function pollContext(
	params: IDataObject,
	staticData: IDataObject,
	credentials: ReturnType<typeof reboundCredentials>,
	http: ReturnType<typeof n8nHttpOverNode>['fn'],
) {
	const noop = () => undefined;
	const node: INode = {
		id: 'bench-poll',
		name: 'ReBound Poll Trigger',
		type: 'n8n-nodes-rebound-khaos.reBoundPollTrigger',
		typeVersion: 1,
		position: [0, 0],
		parameters: params as INodeParameters,
	};
	return {
		getNodeParameter: (name: string, fallback?: unknown) =>
			Object.prototype.hasOwnProperty.call(params, name) && params[name] !== undefined
				? params[name]
				: fallback,
		getCredentials: async () => credentials,
		getWorkflowStaticData: () => staticData,
		getMode: () => 'trigger',
		getActivationMode: () => 'activate',
		getNode: () => node,
		getPollBudgetMs: () => 60_000,
		logger: { debug: noop, info: noop, warn: noop, error: noop, verbose: noop },
		helpers: { httpRequestWithAuthentication: http },
	};
}

/**
 * Per scenario (`returns`: graded bench returns of 3 lines in ReBound, dated over the last 3 days,
 * all inside the template's overlap): the calls of the first poll and of each later poll.
 */
export async function measurePollEconomy(o: {
	returns: number[];
	laterPolls: number;
	minutesApart: number;
}): Promise<PollEconomy> {
	const settings = templatePollSettings();
	// `…/ReBoundPollTrigger.node` would resolve to the codex file (.node.json) under ts-node: name the .ts file.
	const { ReBoundPollTrigger } =
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		require('../nodes/ReBoundPollTrigger/ReBoundPollTrigger.node.ts') as typeof import('../nodes/ReBoundPollTrigger/ReBoundPollTrigger.node');
	const laterPolls = Math.min(1440, Math.max(1, Math.floor(o.laterPolls)));
	const scenarios: PollEconomy['scenarios'] = [];
	const realNow = Date.now;
	let simNow = Math.floor(realNow() / MINUTE_MS) * MINUTE_MS;
	// the node reads Date.now, the sandbox its `now`: both on the simulated clock while measuring
	Date.now = () => simNow;
	try {
		for (const count of o.returns) {
			const n = Math.min(5000, Math.max(0, Math.floor(count)));
			const sandbox = await startReboundSandbox({
				port: 0,
				// a small label: it changes the bytes, not the calls
				fixture: benchReboundFixture(100),
				now: () => simNow,
				callLogMax: 200_000,
			});
			try {
				for (let i = 1; i <= n; i++) sandbox.state.add(benchReboundReturn(i, 3));
				const creds = sandbox.state.credentials;
				const http = n8nHttpOverNode(makeNodeHttpSend());
				const store = new StaticDataStore();
				const node = new ReBoundPollTrigger();
				const poll = async (): Promise<number> => {
					const data = store.open();
					const seq = sandbox.calls.lastSeq;
					const ctx = pollContext(
						settings.params,
						data,
						reboundCredentials({
							baseUrl: sandbox.url,
							login: creds.login,
							apiKey: creds.apiKey,
						}),
						http.fn,
					);
					(await node.poll.call(ctx as never)) as INodeExecutionData[][] | null;
					store.save(data);
					return sandbox.calls.since(seq).length;
				};
				const first = await poll();
				const later: number[] = [];
				for (let i = 0; i < laterPolls; i++) {
					simNow += o.minutesApart * MINUTE_MS;
					later.push(await poll());
				}
				const mean = later.reduce((a, b) => a + b, 0) / later.length;
				scenarios.push({
					label:
						n === 0
							? 'no returns (nothing in the look-back)'
							: `${n.toLocaleString('en-GB')} graded returns dated over the last 3 days, all seen`,
					returns: n,
					firstPollCalls: first,
					laterPolls: later.length,
					laterCallsPerPoll: mean,
					laterMin: Math.min(...later),
					laterMax: Math.max(...later),
					perDay: mean * (1440 / o.minutesApart),
				});
			} finally {
				await sandbox.close();
			}
		}
	} finally {
		Date.now = realNow;
	}
	return {
		settings: `${settings.describe}; poll interval: the import value pollEveryMinutes (the template's ${settings.everyMinutes})`,
		minutesApart: o.minutesApart,
		scenarios,
	};
}
