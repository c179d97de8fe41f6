/**
 * The Khaos sandbox's own XML: reading the requests and writing the answers of a KhaosKSD-like
 * SOAP server. Written apart from the client's transports/khaos/soap.ts and xml.ts on purpose:
 * when both sides share one definition of the wire, a bug in it is agreed on by both and the
 * client-vs-sandbox tests cannot see it. So nothing here comes from transports/khaos (keep it
 * that way); it follows what a Delphi SOAP server sends and accepts.
 *
 * fast-xml-parser is used directly (the sandbox is not shipped, so it may): the parser keeps
 * references as they are and this module decodes them itself (the five predefined entities and
 * numeric character references); CDATA sections are read as their text; DTDs are refused.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type SoapVersion = '1.1' | '1.2';

/** A parsed element: text, child elements by local name (repeated ones as arrays), attributes as `@_NAME`, text beside attributes as `#text`. */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
	[name: string]: XmlValue;
}

/** What xmlElement writes: scalars as text, arrays as the element repeated, objects as child elements; null and undefined as nothing. */
export type XmlTree = string | number | null | undefined | XmlTree[] | { [name: string]: XmlTree };

const ENVELOPE_NAMESPACE: Record<SoapVersion, string> = {
	'1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
	'1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

const ESCAPED: Record<string, string> = {
	'&': '&amp;',
	'<': '&lt;',
	'>': '&gt;',
	'"': '&quot;',
	"'": '&apos;',
};

/** Text made safe for element content and attribute values. */
export function xmlEscape(text: string): string {
	return text.replace(/[&<>"']/g, (c) => ESCAPED[c]);
}

/** `<name>…</name>` for a tree (no attributes); an empty value is written `<name/>`. */
export function xmlElement(name: string, value: XmlTree): string {
	if (value === null || value === undefined) return '';
	if (Array.isArray(value)) return value.map((v) => xmlElement(name, v)).join('');
	let inner: string;
	if (typeof value === 'object') {
		inner = '';
		for (const [child, v] of Object.entries(value)) inner += xmlElement(child, v);
	} else {
		inner = xmlEscape(String(value));
	}
	return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
}

/** A SOAP answer as KhaosKSD writes it: `<NS1:{method}Response>` holding `inner`. */
export function soapResponse(
	version: SoapVersion,
	namespace: string,
	method: string,
	inner: string,
): string {
	return (
		'<?xml version="1.0" encoding="utf-8"?>' +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="${ENVELOPE_NAMESPACE[version]}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		'<SOAP-ENV:Body>' +
		`<NS1:${method}Response xmlns:NS1="${xmlEscape(namespace)}">${inner}</NS1:${method}Response>` +
		'</SOAP-ENV:Body></SOAP-ENV:Envelope>'
	);
}

/** A SOAP fault: 1.1 `faultcode` / `faultstring`; 1.2 `Code/Value` (Sender for a client fault, else Receiver) and `Reason/Text`. */
export function soapFault(
	version: SoapVersion,
	faultString: string,
	faultCode = 'SOAP-ENV:Server',
): string {
	const fault =
		version === '1.1'
			? `<faultcode>${xmlEscape(faultCode)}</faultcode><faultstring>${xmlEscape(faultString)}</faultstring>`
			: `<SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:${/Client$/.test(faultCode) ? 'Sender' : 'Receiver'}</SOAP-ENV:Value></SOAP-ENV:Code>` +
				`<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">${xmlEscape(faultString)}</SOAP-ENV:Text></SOAP-ENV:Reason>`;
	return (
		'<?xml version="1.0" encoding="utf-8"?>' +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="${ENVELOPE_NAMESPACE[version]}"><SOAP-ENV:Body><SOAP-ENV:Fault>${fault}</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`
	);
}

const reader = new XMLParser({
	ignoreAttributes: false,
	attributeNamePrefix: '@_',
	textNodeName: '#text',
	removeNSPrefix: true,
	parseTagValue: false,
	parseAttributeValue: false,
	trimValues: true,
	processEntities: false,
	htmlEntities: false,
	ignoreDeclaration: true,
	ignorePiTags: true,
});

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function legalXmlChar(cp: number): boolean {
	if (cp < 0x20) return cp === 0x9 || cp === 0xa || cp === 0xd;
	return cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** References in a text or attribute value decoded; anything XML does not allow throws. */
function unescapeXml(text: string): string {
	return text.replace(
		/&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([A-Za-z_][\w.:-]*))?;?/g,
		(whole, hex?: string, dec?: string, name?: string) => {
			if (!whole.endsWith(';') || whole === '&;') throw new Error(`"${whole}" is not a reference`);
			if (name !== undefined) {
				if (!(name in PREDEFINED)) throw new Error(`undeclared entity &${name};`);
				return PREDEFINED[name];
			}
			const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec);
			if (!legalXmlChar(cp)) throw new Error(`${whole} is not a legal XML character`);
			return String.fromCodePoint(cp);
		},
	);
}

function decoded(value: unknown): XmlValue {
	if (Array.isArray(value)) return value.map(decoded);
	if (value !== null && typeof value === 'object') {
		const out: XmlObject = {};
		for (const [k, v] of Object.entries(value)) out[k] = decoded(v);
		return out;
	}
	return unescapeXml(String(value));
}

export type XmlRead = { ok: true; value: XmlObject } | { ok: false; error: string };

/** A document read into plain objects (see XmlValue), or why it is not well formed. */
export function readXml(text: string): XmlRead {
	const doc = text.trim();
	if (doc === '') return { ok: false, error: 'not well-formed XML (empty document)' };
	if (/<!(DOCTYPE|ENTITY)/i.test(doc)) return { ok: false, error: 'a DTD is not accepted' };
	const valid = XMLValidator.validate(doc);
	if (valid !== true)
		return { ok: false, error: `not well-formed XML (${valid.err.msg} at line ${valid.err.line})` };
	try {
		// a CDATA section means its text: written out escaped, so it is decoded once like the rest
		const value = decoded(
			reader.parse(
				doc.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, content: string) => xmlEscape(content)),
			),
		);
		if (typeof value !== 'object' || Array.isArray(value))
			return { ok: false, error: 'not well-formed XML (no root element)' };
		return { ok: true, value };
	} catch (error) {
		return {
			ok: false,
			error: `not well-formed XML (${error instanceof Error ? error.message : String(error)})`,
		};
	}
}

/** The text of an element, beside attributes or not ('' when empty); undefined when absent or holding child elements. */
export function textOf(value: XmlValue | undefined): string | undefined {
	if (value === undefined || typeof value === 'string') return value;
	if (Array.isArray(value)) return textOf(value[0]);
	const text = value['#text'];
	if (typeof text === 'string') return text;
	return Object.keys(value).every((k) => k.startsWith('@_')) ? '' : undefined;
}
