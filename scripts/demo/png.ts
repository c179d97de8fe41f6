/**
 * Just enough PNG to read and write text chunks (PNG spec, 5.3 and 11.3.4.3):
 * a PNG is an 8-byte signature and then chunks, each `length (4, big endian) |
 * type (4 ASCII) | data | CRC-32 of type + data`. `tEXt` data is
 * `keyword (Latin-1, 1–79 bytes) NUL text (Latin-1)`. Image data is never
 * decoded: chunks are copied as they are. No npm dependency.
 */

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngChunk {
	/** Four ASCII letters, e.g. IHDR, IDAT, tEXt, IEND. */
	type: string;
	data: Buffer;
}

// CRC-32 as PNG (and zlib, gzip) define it: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF.
const CRC_TABLE = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

export function crc32(...parts: Buffer[]): number {
	let c = 0xffffffff;
	for (const part of parts)
		for (let i = 0; i < part.length; i++) c = CRC_TABLE[(c ^ part[i]) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

export class PngError extends Error {}

/** Every chunk of a PNG, in order; throws PngError on a bad signature, a truncated chunk or a CRC mismatch. */
export function readChunks(png: Buffer): PngChunk[] {
	if (png.length < PNG_SIGNATURE.length || !png.subarray(0, 8).equals(PNG_SIGNATURE))
		throw new PngError('not a PNG file (bad signature)');
	const chunks: PngChunk[] = [];
	let at = 8;
	while (at < png.length) {
		if (at + 12 > png.length) throw new PngError(`truncated chunk header at byte ${at}`);
		const length = png.readUInt32BE(at);
		const typeBytes = png.subarray(at + 4, at + 8);
		const type = typeBytes.toString('latin1');
		if (!/^[A-Za-z]{4}$/.test(type)) throw new PngError(`bad chunk type at byte ${at + 4}`);
		const end = at + 12 + length;
		if (end > png.length) throw new PngError(`chunk ${type} at byte ${at} runs past the end`);
		const data = png.subarray(at + 8, at + 8 + length);
		if (crc32(typeBytes, data) !== png.readUInt32BE(at + 8 + length))
			throw new PngError(`chunk ${type} at byte ${at}: CRC mismatch`);
		chunks.push({ type, data });
		at = end;
		if (type === 'IEND') break;
	}
	if (chunks[0]?.type !== 'IHDR') throw new PngError('the first chunk is not IHDR');
	if (chunks[chunks.length - 1].type !== 'IEND') throw new PngError('no IEND chunk');
	return chunks;
}

export function writeChunks(chunks: PngChunk[]): Buffer {
	const parts: Buffer[] = [PNG_SIGNATURE];
	for (const { type, data } of chunks) {
		if (!/^[A-Za-z]{4}$/.test(type)) throw new PngError(`bad chunk type ${JSON.stringify(type)}`);
		const head = Buffer.alloc(8);
		head.writeUInt32BE(data.length, 0);
		head.write(type, 4, 'latin1');
		const crc = Buffer.alloc(4);
		crc.writeUInt32BE(crc32(head.subarray(4), data), 0);
		parts.push(head, data, crc);
	}
	return Buffer.concat(parts);
}

function checkKeyword(keyword: string): void {
	// Latin-1 printable (32–126, 161–255), no leading, trailing or double spaces (spec 11.3.4.2)
	if (
		keyword.length < 1 ||
		keyword.length > 79 ||
		!/^[\x20-\x7e\xa1-\xff]+$/.test(keyword) ||
		/^ | $| {2}/.test(keyword)
	)
		throw new PngError(`bad tEXt keyword ${JSON.stringify(keyword)}`);
}

/** The tEXt entries of a PNG, keyword → text (the first of a repeated keyword). */
export function readTextChunks(png: Buffer): Record<string, string> {
	const out: Record<string, string> = {};
	for (const chunk of readChunks(png)) {
		if (chunk.type !== 'tEXt') continue;
		const nul = chunk.data.indexOf(0);
		if (nul < 1) continue; // malformed: no keyword
		const keyword = chunk.data.subarray(0, nul).toString('latin1');
		if (!(keyword in out)) out[keyword] = chunk.data.subarray(nul + 1).toString('latin1');
	}
	return out;
}

/**
 * The same PNG with these tEXt entries: any tEXt chunk with one of their keywords is dropped,
 * the new ones go just before the first IDAT. Everything else is copied unchanged.
 */
export function withTextChunks(png: Buffer, entries: Record<string, string>): Buffer {
	const fresh: PngChunk[] = Object.entries(entries).map(([keyword, text]) => {
		checkKeyword(keyword);
		if ([...text].some((ch) => ch === '\0' || ch.charCodeAt(0) > 0xff))
			throw new PngError(`tEXt ${keyword}: the text must be Latin-1 without NUL`);
		return {
			type: 'tEXt',
			data: Buffer.concat([
				Buffer.from(keyword, 'latin1'),
				Buffer.of(0),
				Buffer.from(text, 'latin1'),
			]),
		};
	});
	const replaced = new Set(Object.keys(entries));
	const kept = readChunks(png).filter((c) => {
		if (c.type !== 'tEXt') return true;
		const nul = c.data.indexOf(0);
		return !replaced.has(c.data.subarray(0, nul < 0 ? c.data.length : nul).toString('latin1'));
	});
	let at = kept.findIndex((c) => c.type === 'IDAT');
	if (at < 0) at = kept.length - 1; // no image data: before IEND
	return writeChunks([...kept.slice(0, at), ...fresh, ...kept.slice(at)]);
}
