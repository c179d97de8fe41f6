/**
 * scripts/bundle-vendor.js inlines fast-xml-parser into the built xml.js, so the
 * published package runs where fast-xml-parser is not installed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'bundle-vendor.js');

describe('bundle-vendor', () => {
	let dist: string;
	beforeAll(() => {
		// outside the repository: no node_modules up the tree, so fast-xml-parser cannot be resolved at run time
		dist = fs.mkdtempSync(path.join(os.tmpdir(), 'khaos-bundle-'));
		const source = fs.readFileSync(path.join(ROOT, 'transports', 'khaos', 'xml.ts'), 'utf8');
		const out = ts.transpileModule(source, {
			compilerOptions: {
				module: ts.ModuleKind.CommonJS,
				target: ts.ScriptTarget.ES2022,
				esModuleInterop: true,
			},
		});
		fs.mkdirSync(path.join(dist, 'transports', 'khaos'), { recursive: true });
		fs.writeFileSync(path.join(dist, 'transports', 'khaos', 'xml.js'), out.outputText);
	});
	afterAll(() => fs.rmSync(dist, { recursive: true, force: true }));

	it('inlines fast-xml-parser, is idempotent, and the result runs without the package', () => {
		const file = path.join(dist, 'transports', 'khaos', 'xml.js');
		expect(fs.readFileSync(file, 'utf8')).toMatch(/require\("fast-xml-parser"\)/);
		const first = execFileSync(process.execPath, [SCRIPT, '--dist', dist], { encoding: 'utf8' });
		expect(first).toContain('bundled');
		const bundled = fs.readFileSync(file, 'utf8');
		expect(bundled).not.toMatch(/require\(["']fast-xml-parser["']\)/);
		const second = execFileSync(process.execPath, [SCRIPT, '--dist', dist], { encoding: 'utf8' });
		expect(second).toContain('already bundled');
		expect(fs.readFileSync(file, 'utf8')).toBe(bundled);
		const probe = `try { require.resolve('fast-xml-parser'); console.log('visible') } catch { console.log('hidden') }
const x = require(${JSON.stringify(file)}); console.log(JSON.stringify(x.parseXml('<A><B k="1">v</B></A>')))`;
		const run = execFileSync(process.execPath, ['-e', probe], {
			cwd: dist,
			encoding: 'utf8',
			env: { ...process.env, NODE_PATH: '' },
		});
		expect(run.split('\n')[0]).toBe('hidden');
		expect(JSON.parse(run.split('\n')[1])).toEqual({
			ok: true,
			value: { A: { B: { '#text': 'v', '@_k': '1' } } },
		});
	});

	it('fails loudly when the built file is missing', () => {
		const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'khaos-bundle-empty-'));
		try {
			let status = 0;
			let stderr = '';
			try {
				execFileSync(process.execPath, [SCRIPT, '--dist', empty], {
					encoding: 'utf8',
					stdio: 'pipe',
				});
			} catch (error) {
				status = (error as { status: number }).status;
				stderr = String((error as { stderr: string }).stderr);
			}
			expect(status).toBe(1);
			expect(stderr).toMatch(/transports\/khaos\/xml\.js not found/);
		} finally {
			fs.rmSync(empty, { recursive: true, force: true });
		}
	});
});
