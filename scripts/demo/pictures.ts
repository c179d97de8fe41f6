/**
 * The editor pictures in docs/images/: which workflow template each shows,
 * the stamp that says which version of it, whether the template has changed
 * since, and the command line of `npm run screenshot` that retakes them
 * (docs/demo.md, "The editor screenshot").
 *
 * `npm run screenshot` stamps two tEXt chunks into the PNG it writes:
 * `workflow-template` (the template's file name under workflows/, e.g.
 * `returns-processor`) and `template-sha256` (templateDigest of that
 * template). test/unit/screenshotFreshness.test.ts recomputes the digest from
 * what scripts/templates/build.ts generates and fails when a picture has no
 * stamp or an old one.
 *
 * The build is deterministic (node ids are derived from the node names,
 * positions are computed from the layout), so no id or position is
 * regenerated between builds. The digest still leaves out what the canvas
 * never draws, so that only a change that can show in the picture asks for a
 * retake: node ids and the workflow settings. Everything else counts: node
 * names, types, positions, parameters (sticky-note texts and sizes among
 * them) and connections. Keys are sorted, so the digest does not depend on
 * the order the builder writes them in.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEMPLATES, WORKFLOWS_DIR, renderTemplate } from '../templates/build';
import { readTextChunks, withTextChunks } from './png';

export const REPO_ROOT = path.resolve(__dirname, '../..');

export const STAMP_TEMPLATE = 'workflow-template';
export const STAMP_SHA256 = 'template-sha256';

/** Bumped when what the digest covers changes: every picture then asks for a retake. */
const DIGEST_VERSION = 'n8n-nodes-rebound-khaos template digest 1';

/**
 * The editor pictures the docs show, with the template each shows (repository-relative paths).
 * `npm run screenshot` without options retakes all of them.
 */
export const DOC_PICTURES: ReadonlyArray<{ picture: string; template: string }> = [
	{ picture: 'docs/images/returns-flow.png', template: 'returns-processor' },
];

/**
 * The pictures of people's screens in docs/images/ (ops-*.png, finance-*.png): taken by the
 * browser end-to-end test while it works n8n's UI as ops and finance would, and retaken by every
 * run of it (`npm test`). Each carries the tEXt chunk `taken-by` naming that test instead of a
 * template stamp; they show Data Tables and executions, not a template's canvas.
 */
export const TAKEN_BY = 'taken-by';
export const BROWSER_TEST = 'test/e2e/browser.test.ts';

/** A picture stamped as taken by the browser test (`taken-by`), for docs/images. */
export function stampBrowserPicture(png: Buffer): Buffer {
	return withTextChunks(png, { [TAKEN_BY]: BROWSER_TEST });
}

/** Short names `--workflow` accepts besides the template file names. */
export const WORKFLOW_ALIASES: Readonly<Record<string, string>> = {
	processor: 'returns-processor',
	intake: 'returns-intake',
};

export const RETAKE_ALL = 'npm run screenshot';

/** A template file name (returns-processor, …) from an alias or a file name; throws on anything else. */
export function resolveTemplate(name: string): string {
	const file = WORKFLOW_ALIASES[name] ?? name;
	if (!TEMPLATES.some((t) => t.file === file))
		throw new Error(
			`no workflow template ${JSON.stringify(name)}: one of ${[
				...Object.keys(WORKFLOW_ALIASES),
				...TEMPLATES.map((t) => t.file),
			].join(', ')}`,
		);
	return file;
}

/** The template as scripts/templates/build.ts generates it into workflows/<file>.json. */
export function generatedTemplate(file: string): string {
	const info = TEMPLATES.find((t) => t.file === file);
	if (!info) throw new Error(`scripts/templates/build.ts generates no ${file}`);
	return renderTemplate(info);
}

/** The same template as committed in workflows/<file>.json (what the demo imports). */
export function committedTemplate(file: string): string {
	return fs.readFileSync(path.join(WORKFLOWS_DIR, `${file}.json`), 'utf8');
}

/** JSON with object keys sorted at every level. */
export function canonical(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (value && typeof value === 'object')
		return `{${Object.keys(value)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
			.join(',')}}`;
	return JSON.stringify(value);
}

/** sha256 (hex) of a workflow template's JSON text, without node ids and settings, keys sorted. */
export function templateDigest(templateJson: string): string {
	const wf = JSON.parse(templateJson) as Record<string, unknown> & { nodes?: unknown };
	if (!Array.isArray(wf.nodes)) throw new Error('not a workflow template: no nodes array');
	const shown: Record<string, unknown> = { ...wf };
	delete shown.settings;
	shown.nodes = wf.nodes.map((node: Record<string, unknown>) => {
		const rest = { ...node };
		delete rest.id;
		return rest;
	});
	return createHash('sha256')
		.update(`${DIGEST_VERSION}\n${canonical(shown)}`)
		.digest('hex');
}

export interface Stamp {
	template: string;
	sha256: string;
}

/** The stamp of a PNG, or null when it has none (throws PngError when it is not a readable PNG). */
export function readStamp(png: Buffer): Stamp | null {
	const text = readTextChunks(png);
	const template = text[STAMP_TEMPLATE];
	const sha256 = text[STAMP_SHA256];
	if (!template || !sha256) return null;
	return { template, sha256 };
}

export function stampPicture(png: Buffer, stamp: Stamp): Buffer {
	if (!/^[0-9a-f]{64}$/.test(stamp.sha256)) throw new Error(`not a sha256: ${stamp.sha256}`);
	return withTextChunks(png, { [STAMP_TEMPLATE]: stamp.template, [STAMP_SHA256]: stamp.sha256 });
}

/** The one command that retakes this picture. */
export function retakeCommand(picture: string, template: string): string {
	if (DOC_PICTURES.some((p) => p.picture === picture && p.template === template)) return RETAKE_ALL;
	const alias = Object.keys(WORKFLOW_ALIASES).find((a) => WORKFLOW_ALIASES[a] === template);
	return `${RETAKE_ALL} -- --workflow ${alias ?? template} --out ${picture}`;
}

/**
 * What is wrong with a committed picture, as a sentence for the developer, or null when its
 * stamp matches the template it shows. `expected`: the template it must show (DOC_PICTURES).
 */
export function pictureProblem(
	picture: string,
	expected?: string,
	root = REPO_ROOT,
): string | null {
	const file = path.join(root, picture);
	const how = (template: string) =>
		`Retake it with \`${retakeCommand(picture, template)}\` (it starts its own demo stack and needs Debian's Chromium: apt-get install -y chromium; see docs/demo.md), then commit the picture.`;
	if (!fs.existsSync(file)) return `${picture} is missing. ${how(expected ?? 'returns-processor')}`;
	let stamp: Stamp | null;
	try {
		stamp = readStamp(fs.readFileSync(file));
	} catch (e) {
		return `${picture} cannot be read as a PNG (${(e as Error).message}). ${how(expected ?? 'returns-processor')}`;
	}
	if (!stamp && !expected) {
		const by = readTextChunks(fs.readFileSync(file))[TAKEN_BY];
		if (by === BROWSER_TEST && fs.existsSync(path.join(root, BROWSER_TEST))) return null;
	}
	if (!stamp && expected)
		return `${picture} has no ${STAMP_SHA256} stamp, so nothing says which version of the ${expected} template it shows (it was not taken by \`npm run screenshot\`). ${how(expected)}`;
	if (!stamp)
		return `${picture} has no ${STAMP_SHA256} stamp: docs/images holds the editor pictures taken by \`npm run screenshot\`, each stamped with the template it shows. Take it with \`${RETAKE_ALL} -- --workflow <processor|intake|template> --out ${picture}\` (a screen of n8n's UI: by ${BROWSER_TEST}, which stamps it \`${TAKEN_BY}\`), or keep an image that is not an editor picture elsewhere.`;
	if (expected && stamp.template !== expected)
		return `${picture} shows ${stamp.template}, but the docs use it for ${expected}. ${how(expected)}`;
	if (!TEMPLATES.some((t) => t.file === stamp.template))
		return `${picture} shows the template ${stamp.template}, which scripts/templates/build.ts no longer generates: remove the picture or retake it for another template.`;
	const now = templateDigest(generatedTemplate(stamp.template));
	if (now !== stamp.sha256)
		return `${picture} is out of date: the ${stamp.template} template (what scripts/templates/build.ts generates into workflows/${stamp.template}.json) has changed since the picture was taken (stamped ${STAMP_SHA256} ${stamp.sha256.slice(0, 12)}…, the template is now ${now.slice(0, 12)}…). ${how(stamp.template)}`;
	return null;
}

// ------------------------------------------------------------------ npm run screenshot's command line

export interface ScreenshotArgs {
	/** What to take: template file name and repository-relative picture path. */
	targets: Array<{ template: string; picture: string }>;
	/** A running `npm run demo` to reuse on this port, if any (default 5678). */
	port: number;
	skipBuild: boolean;
}

export const SCREENSHOT_USAGE = `Usage: npm run screenshot -- [--workflow processor|intake|<template>] [--out FILE] [--port N] [--no-build]

  (no option)       retake every picture of the docs: ${DOC_PICTURES.map((p) => `${p.picture} (${p.template})`).join(', ')}
  --workflow NAME   one workflow: processor, intake or a template file name under workflows/
  --out FILE        where to write it (default: the docs picture of that workflow, else docs/images/<template>.png)
  --port N          reuse the \`npm run demo\` running on this port (default 5678) when there is one
  --no-build        pack the current dist/ without \`npm run build\` when starting its own demo stack`;

export function parseScreenshotArgs(argv: string[], root = REPO_ROOT): ScreenshotArgs {
	let workflow: string | null = null;
	let out: string | null = null;
	let port = 5678;
	let skipBuild = false;
	for (let i = 0; i < argv.length; i++) {
		const value = () => {
			const x = argv[++i];
			if (x === undefined || x.startsWith('--')) throw new Error(`${argv[i - 1]} needs a value`);
			return x;
		};
		switch (argv[i]) {
			case '--workflow':
				workflow = resolveTemplate(value());
				break;
			case '--out':
				out = path.relative(root, path.resolve(value()));
				break;
			case '--port':
				port = Number(value());
				if (!Number.isInteger(port) || port < 1 || port > 65535)
					throw new Error('--port needs a port number');
				break;
			case '--no-build':
				skipBuild = true;
				break;
			default:
				throw new Error(`unknown option ${argv[i]}\n${SCREENSHOT_USAGE}`);
		}
	}
	if (out !== null && !out.toLowerCase().endsWith('.png'))
		throw new Error(`--out ${out}: the picture is a PNG, name it .png`);
	let targets: ScreenshotArgs['targets'];
	if (workflow === null && out === null) targets = DOC_PICTURES.map((p) => ({ ...p }));
	else {
		const template = workflow ?? 'returns-processor';
		const picture =
			out ??
			DOC_PICTURES.find((p) => p.template === template)?.picture ??
			path.join('docs', 'images', `${template}.png`);
		targets = [{ template, picture }];
	}
	return { targets, port, skipBuild };
}
