/**
 * The editor pictures in docs/images/ show the workflow templates as they are
 * now: each PNG carries the stamp `npm run screenshot` writes (the template it
 * shows and the digest of that template, scripts/demo/pictures.ts), and the
 * digest must equal that of the template scripts/templates/build.ts generates
 * today. When a template changes, this fails until the picture is retaken with
 * `npm run screenshot` (docs/demo.md, "The editor screenshot"). No browser.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOC_PICTURES, REPO_ROOT, pictureProblem } from '../../scripts/demo/pictures';

describe('docs pictures are as new as the templates they show', () => {
	it.each(DOC_PICTURES.map((p) => [p.picture, p.template]))(
		'%s shows the %s template as it is now',
		(picture, template) => {
			const problem = pictureProblem(picture, template);
			if (problem) throw new Error(problem);
		},
	);

	it('every other picture in docs/images is stamped and as new as its template', () => {
		const known = new Set(DOC_PICTURES.map((p) => p.picture));
		const problems = fs
			.readdirSync(path.join(REPO_ROOT, 'docs', 'images'))
			.filter((f) => f.toLowerCase().endsWith('.png'))
			.map((f) => `docs/images/${f}`)
			.filter((p) => !known.has(p))
			.map((p) => pictureProblem(p))
			.filter((p): p is string => p !== null);
		if (problems.length) throw new Error(problems.join('\n'));
	});
});
