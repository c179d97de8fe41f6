/**
 * The PNG text chunks and the template stamp behind `npm run screenshot` and
 * test/unit/screenshotFreshness.test.ts (scripts/demo/png.ts, pictures.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
	PngError,
	crc32,
	readChunks,
	readTextChunks,
	withTextChunks,
	writeChunks,
} from '../../../scripts/demo/png';
import {
	DOC_PICTURES,
	RETAKE_ALL,
	generatedTemplate,
	parseScreenshotArgs,
	pictureProblem,
	readStamp,
	resolveTemplate,
	retakeCommand,
	stampPicture,
	templateDigest,
} from '../../../scripts/demo/pictures';

/** A valid 2 × 1 greyscale PNG. */
function tinyPng(): Buffer {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(2, 0);
	ihdr.writeUInt32BE(1, 4);
	ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, greyscale, deflate, no filter, no interlace
	return writeChunks([
		{ type: 'IHDR', data: ihdr },
		{ type: 'IDAT', data: zlib.deflateSync(Buffer.from([0, 0x10, 0xf0])) },
		{ type: 'IEND', data: Buffer.alloc(0) },
	]);
}

describe('PNG chunks', () => {
	it('crc32 is the CRC-32 of PNG and zlib', () => {
		expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
		expect(crc32(Buffer.alloc(0))).toBe(0);
		for (let n = 0; n < 20; n++) {
			const buf = Buffer.from(Array.from({ length: n * 37 }, (_, i) => (i * 7919 + n) & 0xff));
			expect(crc32(buf)).toBe(zlib.crc32(buf));
			expect(crc32(buf.subarray(0, 5), buf.subarray(5))).toBe(zlib.crc32(buf));
		}
	});

	it('reads what it writes, byte for byte', () => {
		const png = tinyPng();
		expect(png.subarray(0, 8).toString('latin1')).toBe('\x89PNG\r\n\x1a\n');
		expect(readChunks(png).map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
		expect(writeChunks(readChunks(png)).equals(png)).toBe(true);
	});

	it('refuses a bad signature, a broken CRC, a truncated file, a missing IEND', () => {
		const png = tinyPng();
		expect(() => readChunks(Buffer.from('not a png at all'))).toThrow('bad signature');
		const flipped = Buffer.from(png);
		flipped[8 + 8 + 3] ^= 1; // a byte of IHDR's data
		expect(() => readChunks(flipped)).toThrow('IHDR at byte 8: CRC mismatch');
		expect(() => readChunks(png.subarray(0, png.length - 6))).toThrow(PngError);
		expect(() => readChunks(png.subarray(0, png.length - 12))).toThrow('no IEND chunk');
	});

	it('adds tEXt entries before the image data, replaces them on a second write, keeps the rest', () => {
		const png = tinyPng();
		const once = withTextChunks(png, { Title: 'returns', Comment: 'first' });
		expect(readChunks(once).map((c) => c.type)).toEqual(['IHDR', 'tEXt', 'tEXt', 'IDAT', 'IEND']);
		expect(readTextChunks(once)).toEqual({ Title: 'returns', Comment: 'first' });
		const twice = withTextChunks(once, { Comment: 'second' });
		expect(readTextChunks(twice)).toEqual({ Title: 'returns', Comment: 'second' });
		expect(readChunks(twice).filter((c) => c.type === 'tEXt')).toHaveLength(2);
		const idat = (b: Buffer) => readChunks(b).find((c) => c.type === 'IDAT')!.data;
		expect(idat(twice).equals(idat(png))).toBe(true);
		expect(zlib.inflateSync(idat(twice))).toEqual(Buffer.from([0, 0x10, 0xf0]));
	});

	it('refuses keywords and texts tEXt cannot hold', () => {
		const png = tinyPng();
		expect(() => withTextChunks(png, { '': 'x' })).toThrow('bad tEXt keyword');
		expect(() => withTextChunks(png, { ['k'.repeat(80)]: 'x' })).toThrow('bad tEXt keyword');
		expect(() => withTextChunks(png, { ' lead': 'x' })).toThrow('bad tEXt keyword');
		expect(() => withTextChunks(png, { k: 'a\0b' })).toThrow('Latin-1 without NUL');
		expect(() => withTextChunks(png, { k: 'π' })).toThrow('Latin-1 without NUL');
	});
});

describe('template digest', () => {
	const base = {
		name: 'W',
		nodes: [
			{ id: 'a-1', name: 'A', type: 't', typeVersion: 1, position: [0, 0], parameters: { x: 1 } },
			{ id: 'b-1', name: 'B', type: 't', typeVersion: 1, position: [200, 0], parameters: {} },
		],
		connections: { A: { main: [[{ node: 'B', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
	const digest = (wf: unknown) => templateDigest(JSON.stringify(wf, null, '\t'));
	const changed = (edit: (wf: any) => void) => {
		const wf = JSON.parse(JSON.stringify(base));
		edit(wf);
		return digest(wf);
	};

	it('leaves out node ids, settings, key order and formatting', () => {
		const d = digest(base);
		expect(d).toMatch(/^[0-9a-f]{64}$/);
		expect(changed((wf) => (wf.nodes[0].id = 'other'))).toBe(d);
		expect(changed((wf) => (wf.settings = { timezone: 'Europe/London' }))).toBe(d);
		expect(
			changed((wf) => (wf.nodes[1] = { parameters: {}, position: [200, 0], ...wf.nodes[1] })),
		).toBe(d);
		expect(templateDigest(JSON.stringify(base))).toBe(d);
	});

	it('changes with anything the canvas draws', () => {
		const d = digest(base);
		expect(changed((wf) => (wf.nodes[1].position = [220, 0]))).not.toBe(d);
		expect(changed((wf) => (wf.nodes[1].name = 'C'))).not.toBe(d);
		expect(changed((wf) => (wf.nodes[0].parameters.x = 2))).not.toBe(d);
		expect(changed((wf) => (wf.connections = {}))).not.toBe(d);
		expect(changed((wf) => wf.nodes.pop())).not.toBe(d);
		expect(changed((wf) => (wf.name = 'V'))).not.toBe(d);
	});

	it('the generated processor template has one', () => {
		expect(templateDigest(generatedTemplate('returns-processor'))).toMatch(/^[0-9a-f]{64}$/);
		expect(() => templateDigest('{"name":"x"}')).toThrow('no nodes array');
	});
});

describe('picture stamps', () => {
	let root: string;
	const picture = 'docs/images/returns-flow.png';
	const write = (png: Buffer, rel = picture) => {
		fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
		fs.writeFileSync(path.join(root, rel), png);
	};
	const current = () => templateDigest(generatedTemplate('returns-processor'));
	beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-pictures-'))));
	afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

	it('a stamp reads back; a PNG without one has none', () => {
		const stamp = { template: 'returns-processor', sha256: 'ab'.repeat(32) };
		expect(readStamp(stampPicture(tinyPng(), stamp))).toEqual(stamp);
		expect(readStamp(tinyPng())).toBeNull();
		expect(() => stampPicture(tinyPng(), { template: 'x', sha256: 'nope' })).toThrow(
			'not a sha256',
		);
	});

	it('a fresh picture passes; missing, unstamped, stale or other-template ones say to run npm run screenshot', () => {
		expect(pictureProblem(picture, 'returns-processor', root)).toMatch(
			/returns-flow.png is missing\. Retake it with `npm run screenshot`/,
		);
		write(Buffer.from('plain text'));
		expect(pictureProblem(picture, 'returns-processor', root)).toMatch(/cannot be read as a PNG/);
		write(tinyPng());
		expect(pictureProblem(picture, 'returns-processor', root)).toMatch(
			/has no template-sha256 stamp.*Retake it with `npm run screenshot`/,
		);
		write(stampPicture(tinyPng(), { template: 'returns-processor', sha256: '0'.repeat(64) }));
		expect(pictureProblem(picture, 'returns-processor', root)).toMatch(
			/is out of date: the returns-processor template .* has changed since the picture was taken \(stamped template-sha256 000000000000…, the template is now [0-9a-f]{12}…\)\. Retake it with `npm run screenshot`/,
		);
		write(stampPicture(tinyPng(), { template: 'returns-intake', sha256: current() }));
		expect(pictureProblem(picture, 'returns-processor', root)).toMatch(
			/shows returns-intake, but the docs use it for returns-processor/,
		);
		write(stampPicture(tinyPng(), { template: 'returns-processor', sha256: current() }));
		expect(pictureProblem(picture, 'returns-processor', root)).toBeNull();
	});

	it('a picture outside the docs list names its own retake command', () => {
		const other = 'docs/images/returns-intake.png';
		write(tinyPng(), other);
		expect(pictureProblem(other, undefined, root)).toMatch(/has no template-sha256 stamp/);
		write(stampPicture(tinyPng(), { template: 'returns-intake', sha256: '1'.repeat(64) }), other);
		expect(pictureProblem(other, undefined, root)).toContain(
			'`npm run screenshot -- --workflow intake --out docs/images/returns-intake.png`',
		);
		write(stampPicture(tinyPng(), { template: 'gone-template', sha256: '1'.repeat(64) }), other);
		expect(pictureProblem(other, undefined, root)).toMatch(/no longer generates/);
	});

	it('retake commands', () => {
		for (const p of DOC_PICTURES) expect(retakeCommand(p.picture, p.template)).toBe(RETAKE_ALL);
		expect(retakeCommand('docs/images/x.png', 'reconciliation')).toBe(
			'npm run screenshot -- --workflow reconciliation --out docs/images/x.png',
		);
	});
});

describe('npm run screenshot command line', () => {
	const root = '/repo';
	it('without options: every docs picture', () => {
		expect(parseScreenshotArgs([], root)).toEqual({
			targets: DOC_PICTURES.map((p) => ({ ...p })),
			port: 5678,
			skipBuild: false,
		});
		expect(DOC_PICTURES).toContainEqual({
			picture: 'docs/images/returns-flow.png',
			template: 'returns-processor',
		});
	});

	it('one workflow, by alias or file name, into its docs picture or docs/images/<template>.png', () => {
		expect(parseScreenshotArgs(['--workflow', 'processor'], root).targets).toEqual([
			{ template: 'returns-processor', picture: 'docs/images/returns-flow.png' },
		]);
		expect(parseScreenshotArgs(['--workflow', 'intake'], root).targets).toEqual([
			{ template: 'returns-intake', picture: 'docs/images/returns-intake.png' },
		]);
		expect(
			parseScreenshotArgs(['--workflow', 'reconciliation', '--out', '/repo/tmp/r.png'], root)
				.targets,
		).toEqual([{ template: 'reconciliation', picture: 'tmp/r.png' }]);
		expect(
			parseScreenshotArgs(['--out', '/repo/a.png', '--port', '5700', '--no-build'], root),
		).toEqual({
			targets: [{ template: 'returns-processor', picture: 'a.png' }],
			port: 5700,
			skipBuild: true,
		});
		expect(resolveTemplate('credit-posting')).toBe('credit-posting');
	});

	it('refuses what it does not know', () => {
		expect(() => parseScreenshotArgs(['--workflow', 'nope'], root)).toThrow(
			'no workflow template "nope"',
		);
		expect(() => parseScreenshotArgs(['--out', '/repo/a.jpg'], root)).toThrow('name it .png');
		expect(() => parseScreenshotArgs(['--port', 'x'], root)).toThrow('--port needs a port number');
		expect(() => parseScreenshotArgs(['--workflow'], root)).toThrow('--workflow needs a value');
		expect(() => parseScreenshotArgs(['--size'], root)).toThrow('unknown option --size');
	});
});
