/**
 * The only module that imports fast-xml-parser (a devDependency): the build
 * (scripts/bundle-vendor.js) rebundles dist/transports/khaos/xml.js with the
 * parser inlined, so the published package has no runtime dependency on it.
 * Keep every use of the library behind these functions.
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
	processEntities: true,
	ignoreDeclaration: true,
	ignorePiTags: true,
});

export type XmlParseResult = { ok: true; value: XmlObject } | { ok: false; error: string };

/**
 * Parse an XML document into plain objects: element names without namespace
 * prefixes, text as strings (never coerced), attributes as `@_NAME`, text of an
 * element with attributes as `#text`, repeated elements as arrays.
 * A document that is not well formed (truncated, mismatched tags) is reported, never thrown.
 */
export function parseXml(text: string): XmlParseResult {
	const trimmed = text.trim();
	if (trimmed === '') return { ok: false, error: 'empty document' };
	const valid = XMLValidator.validate(trimmed);
	if (valid !== true) {
		return { ok: false, error: `not well-formed XML (${valid.err.msg} at line ${valid.err.line})` };
	}
	try {
		const value = parser.parse(trimmed) as unknown;
		if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'no root element' };
		return { ok: true, value: value as XmlObject };
	} catch (error) {
		return { ok: false, error: `not well-formed XML (${error instanceof Error ? error.message : String(error)})` };
	}
}
