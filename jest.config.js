/** Types are checked by `npm run typecheck`; jest only transpiles (tsconfig.jest.json).
 * Jest projects: `unit` (core, transports, nodes with mocked contexts; milliseconds),
 * `integration` (in-process sandboxes on 127.0.0.1), `e2e` (a real n8n; see test/e2e). */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.jest.json' }];
const base = {
	testEnvironment: 'node',
	transform: { '^.+\\.ts$': tsJest },
	moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
	projects: [
		{ ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
		{ ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
		{ ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
	],
};
