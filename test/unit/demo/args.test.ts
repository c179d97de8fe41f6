import { parseDemoArgs } from '../../../scripts/demo/args';

describe('demo command line', () => {
	it('defaults: n8n 5678 (one process, SQLite), sandboxes 8084/8085, stays up, builds, processor every 2 s', () => {
		expect(parseDemoArgs([])).toEqual({
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
		});
	});

	it('reads every flag, in both --flag value and --flag=value forms; --fixture repeats', () => {
		const o = parseDemoArgs([
			'--once',
			'--json',
			'--port=5999',
			'--khaos-port',
			'9001',
			'--rebound-port=9002',
			'--fixture',
			'a',
			'--fixture=b,c',
			'--scenario',
			's.json',
			'--no-build',
			'--wait-seconds',
			'30',
			'--process-every=5',
			'--user-folder',
			'/tmp/x',
			'--exit-after-summary',
		]);
		expect(o).toMatchObject({
			once: true,
			json: true,
			port: 5999,
			khaosPort: 9001,
			reboundPort: 9002,
			fixtures: ['a', 'b,c'],
			scenario: 's.json',
			skipBuild: true,
			waitSeconds: 30,
			processEverySeconds: 5,
			userFolder: '/tmp/x',
			exitAfterSummary: true,
		});
	});

	it.each([
		[['--port', 'abc'], '--port needs a port number 1-65535, got "abc"'],
		[['--port', '70000'], '--port needs a port number 1-65535, got "70000"'],
		[['--khaos-port'], '--khaos-port needs a value'],
		[['--fixture', '--once'], '--fixture needs a value'],
		[['--wait-seconds', '2'], '--wait-seconds needs a whole number 5-3600, got "2"'],
		[['--process-every', '1.5'], '--process-every needs a whole number 1-3600, got "1.5"'],
		[['--bogus'], 'unknown option --bogus (see --help)'],
		[['--json'], '--json needs --once (the JSON summary is printed once, then the demo exits)'],
		[['--port', '8084'], '--port and --khaos-port are both 8084'],
		[['--rebound-port', '8084'], '--khaos-port and --rebound-port are both 8084'],
	])('%j is refused: %s', (argv, message) => {
		expect(() => parseDemoArgs(argv)).toThrow(message);
	});
});
