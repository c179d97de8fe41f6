// Shipped code (core, transports, nodes, credentials) is linted with n8n's own
// community-node configuration (@n8n/node-cli/eslint): the same rules as
// `n8n-node lint` and the package scanner (restricted imports and globals).
// Tooling around the package (tests, sandboxes, scripts, bench) runs on Node
// directly and gets plain TypeScript rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import n8n from '@n8n/node-cli/eslint';

const SHIPPED = ['core/**/*.ts', 'transports/**/*.ts', 'nodes/**/*.ts', 'credentials/**/*.ts'];
const TOOLING = ['test/**/*.ts', 'sandbox/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'];

const shipped = n8n.config.map((entry) =>
	Array.isArray(entry.files) && entry.files.length === 1 && entry.files[0] === '**/*.ts'
		? { ...entry, files: SHIPPED }
		: entry,
);

export default [
	{ ignores: ['dist/**', 'node_modules/**', '**/*.js', '**/*.mjs', 'workflows/**'] },
	...shipped,
	{
		// require-node-api-error asks node code to wrap errors in NodeApiError /
		// NodeOperationError so the editor shows them well. core/ and transports/
		// do not import n8n by design (layer 1 and 2): they throw typed errors
		// (TransportError, TransientExhaustedError, KhaosFault …) that the retry
		// logic classifies, and the node layer wraps them into NodeApiError /
		// NodeOperationError with itemIndex. nodes/ and credentials/ have the rule on.
		files: ['core/**/*.ts', 'transports/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	...tseslint.config({
		files: TOOLING,
		extends: [js.configs.recommended, tseslint.configs.recommended],
		rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-console': 'off' },
	}),
];
