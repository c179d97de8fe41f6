/** Command line of `npm run demo` (docs/demo.md). */
import { topologyFromArgs, type TopologyOptions } from '../n8n/topology';

export interface DemoOptions {
	/** n8n's port (default 5678). */
	port: number;
	khaosPort: number;
	reboundPort: number;
	/** --fixture values, as given (resolved by resolveFixtures). */
	fixtures: string[];
	scenario?: string;
	/** Print the summary and exit (0 when every return reached its expected end state). */
	once: boolean;
	/** With --once: the summary as one JSON document on stdout, logs on stderr. */
	json: boolean;
	/** Hidden: print the summary, then shut down like Ctrl+C (for timing runs). */
	exitAfterSummary: boolean;
	/** Skip `npm run build` and pack the current dist/. */
	skipBuild: boolean;
	/** Bound for all returns to reach done/exception (seconds). */
	waitSeconds: number;
	/** Processor interval (seconds). */
	processEverySeconds: number;
	/** n8n user folder (default ~/.cache/n8n-nodes-rebound-khaos/demo-<port>); wiped at start. */
	userFolder?: string;
	help: boolean;
	/** The deployment (scripts/n8n/topology.ts); default one process on SQLite. */
	topology: TopologyOptions;
}

export const DEMO_USAGE = `Usage: npm run demo -- [options]

  --port N              n8n port on 127.0.0.1 (default 5678)
  --khaos-port N        Khaos sandbox port (default 8084)
  --rebound-port N      ReBound sandbox port (default 8085)
  --fixture PATH        a fixture file or folder (khaos*.json / rebound*.json); repeatable, comma lists allowed
  --scenario FILE       the returns to drive and their expected outcomes (docs/demo.md)
  --once                print the summary and exit; exit code 0 only if every return ended as expected
  --json                with --once: the summary as one JSON document on stdout (logs go to stderr)
  --no-build            pack the current dist/ without npm run build
  --wait-seconds N      bound for the returns to finish (default 120)
  --process-every N     processor interval in seconds (default 2)
  --user-folder DIR     n8n user folder (default ~/.cache/n8n-nodes-rebound-khaos/demo-<port>; emptied at start)
  --db sqlite|postgres  n8n's database (default sqlite; postgres: a private PostgreSQL cluster, or PGHOST's server)
  --queue               queue mode: PostgreSQL, Redis, main + 1 webhook process + 2 workers
  --mode regular|queue  n8n's executions mode (queue needs PostgreSQL)
  --workers N           queue mode: worker processes (default 2)
  --webhook-processes M queue mode: webhook processes (default 1; nginx in front when more than 1)
  -h, --help            this text
`;

function portValue(flag: string, v: string | undefined): number {
	const n = Number(v);
	if (v === undefined || v === '' || !Number.isInteger(n) || n < 1 || n > 65535)
		throw new Error(
			`${flag} needs a port number 1-65535, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
		);
	return n;
}

function intValue(flag: string, v: string | undefined, min: number, max: number): number {
	const n = Number(v);
	if (v === undefined || v === '' || !Number.isInteger(n) || n < min || n > max)
		throw new Error(
			`${flag} needs a whole number ${min}-${max}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
		);
	return n;
}

/** Parses argv (without node and the script); throws an Error naming the bad flag. */
export function parseDemoArgs(argv: string[]): DemoOptions {
	const o: DemoOptions = {
		port: 5678,
		khaosPort: 8084,
		reboundPort: 8085,
		fixtures: [],
		once: false,
		json: false,
		exitAfterSummary: false,
		skipBuild: false,
		waitSeconds: 120,
		processEverySeconds: 2,
		help: false,
		topology: {},
	};
	for (let i = 0; i < argv.length; i++) {
		let arg = argv[i];
		let inline: string | undefined;
		const eq = arg.indexOf('=');
		if (arg.startsWith('--') && eq > 0) {
			inline = arg.slice(eq + 1);
			arg = arg.slice(0, eq);
		}
		const value = () => {
			if (inline !== undefined) return inline;
			const v = argv[i + 1];
			if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
			i++;
			return v;
		};
		switch (arg) {
			case '--port':
				o.port = portValue(arg, value());
				break;
			case '--khaos-port':
				o.khaosPort = portValue(arg, value());
				break;
			case '--rebound-port':
				o.reboundPort = portValue(arg, value());
				break;
			case '--fixture':
				o.fixtures.push(value());
				break;
			case '--scenario':
				o.scenario = value();
				break;
			case '--once':
				o.once = true;
				break;
			case '--json':
				o.json = true;
				break;
			case '--exit-after-summary':
				o.exitAfterSummary = true;
				break;
			case '--no-build':
				o.skipBuild = true;
				break;
			case '--wait-seconds':
				o.waitSeconds = intValue(arg, value(), 5, 3600);
				break;
			case '--process-every':
				o.processEverySeconds = intValue(arg, value(), 1, 3600);
				break;
			case '--user-folder':
				o.userFolder = value();
				break;
			case '--queue':
				o.topology = { ...o.topology, ...topologyFromArgs(['--queue']) };
				break;
			case '--db':
			case '--mode':
			case '--workers':
			case '--webhook-processes':
				o.topology = { ...o.topology, ...topologyFromArgs([arg, value()]) };
				break;
			case '-h':
			case '--help':
				o.help = true;
				break;
			default:
				throw new Error(`unknown option ${argv[i]} (see --help)`);
		}
	}
	if (o.json && !o.once)
		throw new Error('--json needs --once (the JSON summary is printed once, then the demo exits)');
	const ports = [
		['--port', o.port],
		['--khaos-port', o.khaosPort],
		['--rebound-port', o.reboundPort],
	] as const;
	for (let a = 0; a < ports.length; a++)
		for (let b = a + 1; b < ports.length; b++)
			if (ports[a][1] === ports[b][1])
				throw new Error(`${ports[a][0]} and ${ports[b][0]} are both ${ports[a][1]}`);
	return o;
}
