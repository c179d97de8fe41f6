#!/usr/bin/env node
/**
 * Run by `npm run build` after tsc: rebundles dist/transports/khaos/xml.js in
 * place with fast-xml-parser (a devDependency) inlined, so the published
 * package needs nothing at run time beyond what n8n provides. Idempotent (a
 * file already bundled is left alone); fails loudly when the file is missing
 * or still requires fast-xml-parser afterwards.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const ROOT = path.join(__dirname, '..');
// `--dist <dir>` bundles another build output (tests build into a temporary folder)
const distArg = process.argv.indexOf('--dist');
const DIST = distArg >= 0 ? path.resolve(process.argv[distArg + 1]) : path.join(ROOT, 'dist');
const TARGETS = ['transports/khaos/xml.js'];
const MARKER = '/* bundled by scripts/bundle-vendor.js: fast-xml-parser inlined */';
const VENDOR = /require\(["']fast-xml-parser["']\)/;

function fail(message) {
	console.error(`bundle-vendor: ${message}`);
	process.exit(1);
}

async function bundle(rel) {
	const file = path.join(DIST, rel);
	if (!fs.existsSync(file))
		fail(`${file} not found: run tsc first (npm run build), or the module moved`);
	const before = fs.readFileSync(file, 'utf8');
	if (before.startsWith(MARKER) && !VENDOR.test(before)) {
		console.log(`bundle-vendor: ${rel} already bundled`);
		return;
	}
	const result = await esbuild.build({
		entryPoints: [file],
		bundle: true,
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		write: false,
		sourcemap: false,
		legalComments: 'inline',
		banner: { js: MARKER },
		logLevel: 'silent',
		// resolve the vendored package from this repository even when the build output lives elsewhere
		nodePaths: [path.join(ROOT, 'node_modules')],
	});
	const out = result.outputFiles[0].text;
	if (VENDOR.test(out)) fail(`${rel} still requires fast-xml-parser after bundling`);
	const requires = [...out.matchAll(/require\(["']([^"']+)["']\)/g)]
		.map((m) => m[1])
		.filter((s) => !s.startsWith('node:') && !['fs', 'path', 'util', 'crypto'].includes(s));
	if (requires.length > 0) fail(`${rel} requires ${requires.join(', ')} after bundling`);
	fs.writeFileSync(file, out);
	// the tsc source map describes the unbundled file: drop it rather than ship a wrong one
	const map = `${file}.map`;
	if (fs.existsSync(map)) fs.rmSync(map);
	console.log(`bundle-vendor: ${rel} bundled (${Math.round(out.length / 1024)} KiB)`);
}

(async () => {
	for (const t of TARGETS) await bundle(t);
})().catch((error) => fail(error && error.stack ? error.stack : String(error)));
