/**
 * The only module that imports fast-xml-parser (a devDependency): the build
 * (scripts/bundle-vendor.js) rebundles dist/transports/khaos/xml.js with the
 * parser inlined, so the published package has no runtime dependency on it.
 * Keep every use of the library behind these functions, and keep this file free
 * of other imports (the bundle test transpiles it on its own).
 *
 * Hardening (issue 12): Khaos answers are untrusted input, often over plain HTTP
 * on a LAN. A DOCTYPE lets a document declare entities, and fast-xml-parser has
 * had several advisories about expanding them (GHSA-jmr7-xgp7-cmfj: a 61 KiB
 * answer grew to 190 MiB; GHSA-m7jm-9gc2-mpf2: an entity named `l.` replaced
 * `&lt;`). Khaos never sends a DTD, so rather than trusting the parser's limits:
 * - a document with any markup declaration (`<!DOCTYPE`, `<!ENTITY`, …) is refused
 *   before the validator or the parser sees it;
 * - the parser runs with processEntities off, and text and attribute values are
 *   decoded here by decodeXmlText: the five predefined entities and numeric
 *   character references of legal XML characters, nothing else. The output is never
 *   longer than the input, so there is nothing to expand.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
	[key: string]: XmlValue;
}

const parser = new XMLParser({
	ignoreAttributes: false,
	attributeNamePrefix: '@_',
	textNodeName: '#text',
	removeNSPrefix: true,
	parseTagValue: false,
	parseAttributeValue: false,
	trimValues: true,
	// entities are decoded by decodeXmlText after parsing, never by the parser
	processEntities: false,
	htmlEntities: false,
	ignoreDeclaration: true,
	ignorePiTags: true,
});

/**
 * `refused`: the document was not parsed because it carries a markup declaration (DOCTYPE,
 * ENTITY …): a typed refusal, not a transient fault (soap.ts turns it into a TransportError).
 */
export type XmlParseResult =
	| { ok: true; value: XmlObject }
	| { ok: false; error: string; refused?: boolean };

/** A reference decodeXmlText will not decode: the document is not well formed. */
export class XmlReferenceError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'XmlReferenceError';
	}
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF] (XML 1.0, production 2). */
export function isXmlChar(codePoint: number): boolean {
	return (
		codePoint === 0x9 ||
		codePoint === 0xa ||
		codePoint === 0xd ||
		(codePoint >= 0x20 && codePoint <= 0xd7ff) ||
		(codePoint >= 0xe000 && codePoint <= 0xfffd) ||
		(codePoint >= 0x10000 && codePoint <= 0x10ffff)
	);
}

// a reference at the `&` (sticky): hex, decimal or a name; digits are bounded so a huge number cannot be parsed slowly
const REFERENCE = /&(?:#x([0-9A-Fa-f]{1,8});|#([0-9]{1,10});|([A-Za-z_][A-Za-z0-9._:-]{0,40});)/y;

/**
 * Decode the references in a text or attribute value. Decoded: `&lt; &gt; &amp; &quot; &apos;`
 * and `&#N;` / `&#xH;` of a legal XML character. Anything else is refused with an
 * XmlReferenceError rather than kept literally: an undeclared entity (`&nbsp;`, `&l.;`), a
 * reference to a character XML forbids (`&#0;`, `&#xFFFE;`, a lone surrogate, beyond U+10FFFF)
 * or a bare `&` all make the document not well formed, and keeping them would hand data
 * Khaos never meant (`&#0;` in a stock code) to the rest of the flow.
 */
export function decodeXmlText(text: string): string {
	let at = text.indexOf('&');
	if (at < 0) return text;
	let out = '';
	let from = 0;
	while (at >= 0) {
		out += text.slice(from, at);
		REFERENCE.lastIndex = at;
		const m = REFERENCE.exec(text);
		if (!m)
			throw new XmlReferenceError(
				`"${text.slice(at, at + 12)}" is not a reference XML allows here`,
			);
		if (m[3] !== undefined) {
			const named = PREDEFINED[m[3]];
			if (named === undefined)
				throw new XmlReferenceError(
					`undeclared entity &${m[3]}; (only &lt; &gt; &amp; &quot; &apos; are decoded)`,
				);
			out += named;
		} else {
			const codePoint = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
			if (!isXmlChar(codePoint))
				throw new XmlReferenceError(`character reference ${m[0]} is not a legal XML character`);
			out += String.fromCodePoint(codePoint);
		}
		from = REFERENCE.lastIndex;
		at = text.indexOf('&', from);
	}
	return out + text.slice(from);
}

/**
 * The markup declaration a document carries (`<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT` …), or null.
 * Searched in the whole text, comments and CDATA included: Khaos sends none anywhere, and a
 * search that does not need to agree with the parser about where a comment ends cannot be
 * fooled by a document the two read differently.
 */
export function findMarkupDeclaration(text: string): string | null {
	const m = /<!\s*([A-Za-z]+)/.exec(text);
	if (!m) return null;
	const name = m[1].toUpperCase();
	if (name === 'DOCTYPE') return 'a DOCTYPE declaration';
	if (name === 'ENTITY') return 'an entity declaration';
	return `a markup declaration (<!${m[1].slice(0, 20)}…>)`;
}

/** `&`, `<` and `>` of CDATA content as references, so it reads the same after decodeXmlText. */
function escapeCdata(content: string): string {
	return content.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * CDATA sections rewritten as escaped character data (what they mean). The parser folds CDATA
 * into the element's text raw, where decodeXmlText would decode it a second time; after this
 * every string the parser returns is escaped text. Comments are copied as they are (a
 * `<![CDATA[` inside one is not a section); an unclosed section is left for the validator.
 */
function inlineCdata(text: string): string {
	if (!text.includes('<![CDATA[')) return text;
	let out = '';
	let i = 0;
	for (;;) {
		const cdata = text.indexOf('<![CDATA[', i);
		if (cdata < 0) break;
		const comment = text.indexOf('<!--', i);
		if (comment >= 0 && comment < cdata) {
			const end = text.indexOf('-->', comment + 4);
			if (end < 0) break;
			out += text.slice(i, end + 3);
			i = end + 3;
			continue;
		}
		const end = text.indexOf(']]>', cdata + 9);
		if (end < 0) break;
		out += text.slice(i, cdata) + escapeCdata(text.slice(cdata + 9, end));
		i = end + 3;
	}
	return out + text.slice(i);
}

/** Every string of a parsed value (text and attribute values) decoded; keys are names and carry no references. */
function decodeValue(value: unknown): XmlValue {
	if (typeof value === 'string') return decodeXmlText(value);
	if (Array.isArray(value)) return value.map(decodeValue);
	if (typeof value === 'object' && value !== null) {
		const out: XmlObject = {};
		for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = decodeValue(v);
		return out;
	}
	// parseTagValue/parseAttributeValue are off, so the parser only returns strings; keep anything else readable
	return String(value);
}

/**
 * Parse an XML document into plain objects: element names without namespace
 * prefixes, text as strings (never coerced), attributes as `@_NAME`, text of an
 * element with attributes as `#text`, repeated elements as arrays.
 * A document that is not well formed (truncated, mismatched tags, a reference
 * decodeXmlText refuses) is reported, never thrown; one with a markup declaration
 * is reported as `refused` without being validated or parsed.
 */
export function parseXml(text: string): XmlParseResult {
	const trimmed = text.trim();
	if (trimmed === '') return { ok: false, error: 'empty document' };
	const declaration = findMarkupDeclaration(trimmed);
	if (declaration !== null) {
		return {
			ok: false,
			refused: true,
			error: `the document contains ${declaration}; DTDs and entity declarations are refused (entity expansion)`,
		};
	}
	const valid = XMLValidator.validate(trimmed);
	if (valid !== true) {
		return { ok: false, error: `not well-formed XML (${valid.err.msg} at line ${valid.err.line})` };
	}
	try {
		const value = decodeValue(parser.parse(inlineCdata(trimmed)) as unknown);
		if (typeof value !== 'object' || value === null || Array.isArray(value))
			return { ok: false, error: 'no root element' };
		return { ok: true, value };
	} catch (error) {
		return {
			ok: false,
			error: `not well-formed XML (${error instanceof Error ? error.message : String(error)})`,
		};
	}
}
