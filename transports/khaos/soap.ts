/**
 * SOAP 1.1 / 1.2 envelopes for the Khaos IKosWeb interface (a Delphi server).
 *
 * Request (SOAP 1.1 shown; 1.2 differs only in the envelope namespace and headers):
 *   POST <exe URL>   Content-Type: text/xml; charset=utf-8   SOAPAction: "urn:KosWeb-IKosWeb#ExportStock"
 *   <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
 *     <soap:Body><ns1:ExportStock xmlns:ns1="urn:KosWeb-IKosWeb">
 *       <StockCode>A,B</StockCode><MappingType>1</MappingType><LastUpdated></LastUpdated>
 *     </ns1:ExportStock></soap:Body></soap:Envelope>
 * SOAP 1.2: Content-Type: application/soap+xml; charset=utf-8; action="<SOAPAction>" and no SOAPAction header.
 *
 * Response: <ns1:<Method>Response><return>…</return></ns1:<Method>Response>; Export* calls carry
 * their XML document escaped as the text of `return`. Faults: SOAP 1.1 `Fault/faultcode,faultstring`,
 * SOAP 1.2 `Fault/Code/Value, Reason/Text`.
 */
import { TransportError } from '../http';
import { findMarkupDeclaration, parseXml, type XmlObject, type XmlValue } from './xml';

export const SOAP11_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_ENV = 'http://www.w3.org/2003/05/soap-envelope';

export type SoapVersion = '1.1' | '1.2';
export type SoapActionStyle = 'namespaceHash' | 'method' | 'empty';

/** Escape text for an XML element or attribute value. */
export function escapeXml(value: string): string {
	return value
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&apos;');
}

/** A node of a document to serialise: scalars become text, arrays repeat the element, objects nest. */
export type XmlNode = string | number | null | undefined | XmlNode[] | { [name: string]: XmlNode };

/** Serialise `{ NAME: value }` pairs to XML elements (no attributes; null/undefined elements are left out). */
export function toXml(name: string, value: XmlNode): string {
	if (value === null || value === undefined) return '';
	if (Array.isArray(value)) return value.map((v) => toXml(name, v)).join('');
	if (typeof value === 'object') {
		const inner = Object.entries(value)
			.map(([k, v]) => toXml(k, v))
			.join('');
		return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
	}
	const text = escapeXml(String(value));
	return text === '' ? `<${name}/>` : `<${name}>${text}</${name}>`;
}

export function soapAction(namespace: string, method: string, style: SoapActionStyle): string {
	if (style === 'namespaceHash') return `${namespace}#${method}`;
	if (style === 'method') return method;
	return '';
}

export interface SoapRequestParts {
	body: string;
	headers: Record<string, string>;
}

/** Build the envelope and headers for one call. Parameters are scalars, in order. */
export function buildSoapRequest(
	opts: { version: SoapVersion; namespace: string; actionStyle: SoapActionStyle },
	method: string,
	params: Array<[string, string | number]>,
): SoapRequestParts {
	const env = opts.version === '1.2' ? SOAP12_ENV : SOAP11_ENV;
	const args = params
		.map(([k, v]) => toXml(k, String(v)).replace(/^<([A-Za-z_]+)\/>$/, '<$1></$1>'))
		.join('');
	const body =
		'<?xml version="1.0" encoding="utf-8"?>' +
		`<soap:Envelope xmlns:soap="${env}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<soap:Body><ns1:${method} xmlns:ns1="${escapeXml(opts.namespace)}">${args}</ns1:${method}></soap:Body></soap:Envelope>`;
	const action = soapAction(opts.namespace, method, opts.actionStyle);
	const headers: Record<string, string> =
		opts.version === '1.2'
			? {
					'content-type': `application/soap+xml; charset=utf-8; action="${action}"`,
					accept: 'application/soap+xml, text/xml',
				}
			: {
					'content-type': 'text/xml; charset=utf-8',
					soapaction: `"${action}"`,
					accept: 'text/xml',
				};
	return { body, headers };
}

export type SoapParseResult =
	| { kind: 'response'; element: XmlObject }
	| { kind: 'fault'; faultCode: string; faultString: string }
	| { kind: 'invalid'; error: string };

/** Text of an element whether it has attributes (`#text`) or not; '' for empty elements. */
export function textOf(value: XmlValue | undefined): string | undefined {
	if (value === undefined) return undefined;
	if (typeof value === 'string') return value;
	if (Array.isArray(value)) return textOf(value[0]);
	const t = value['#text'];
	if (t === undefined) return Object.keys(value).some((k) => !k.startsWith('@_')) ? undefined : '';
	return typeof t === 'string' ? t : String(t);
}

function asObject(value: XmlValue | undefined): XmlObject | undefined {
	if (value === '') return {};
	if (value && typeof value === 'object' && !Array.isArray(value)) return value;
	return undefined;
}

// a start tag whose local name is Envelope (any prefix); the name is bounded so a long one is not rescanned slowly
const ENVELOPE_TAG = /<(?:[A-Za-z_][\w.-]{0,100}:)?Envelope[\s/>]/;

/**
 * Read a SOAP response body: the `<Method>Response` element, a fault, or why it could not be read.
 * A SOAP envelope with a DOCTYPE or an entity declaration throws a TransportError (kind `protocol`,
 * not retryable) instead of reporting `invalid`: the client reads an unreadable HTTP 500 as a server
 * error to retry, and a hostile answer must not be asked for again.
 * A body with a declaration but no Envelope element is no SOAP answer at all: IIS and proxies answer
 * an error status with an HTML page that often starts with `<!DOCTYPE html …>`. It is reported
 * `invalid` (without being parsed), so the client judges it by its status as before: an HTTP 500 or
 * 503 page is a server error to retry, a 2xx is an unreadable answer (protocol, not retried).
 */
export function parseSoapResponse(text: string, method: string): SoapParseResult {
	const doc = parseXml(text);
	if (!doc.ok && doc.refused) {
		if (!ENVELOPE_TAG.test(text)) {
			return {
				kind: 'invalid',
				error: `no SOAP Envelope element (the document contains ${findMarkupDeclaration(text) ?? 'a markup declaration'}; not parsed)`,
			};
		}
		throw new TransportError(`Khaos ${method}: response refused: ${doc.error}`, {
			kind: 'protocol',
			retryable: false,
		});
	}
	if (!doc.ok) return { kind: 'invalid', error: doc.error };
	const envelope = asObject(doc.value.Envelope);
	if (!envelope) return { kind: 'invalid', error: 'no SOAP Envelope element' };
	const body = asObject(envelope.Body);
	if (!body) return { kind: 'invalid', error: 'no SOAP Body element' };
	const fault = asObject(body.Fault);
	if (fault) {
		// SOAP 1.1
		if (fault.faultstring !== undefined || fault.faultcode !== undefined) {
			return {
				kind: 'fault',
				faultCode: textOf(fault.faultcode) ?? '',
				faultString: textOf(fault.faultstring) ?? '',
			};
		}
		// SOAP 1.2
		const code = asObject(fault.Code);
		const reason = asObject(fault.Reason);
		return {
			kind: 'fault',
			faultCode: textOf(code?.Value) ?? '',
			faultString: textOf(reason?.Text) ?? '',
		};
	}
	const responseName = `${method}Response`;
	const response = body[responseName];
	if (response === undefined) {
		const found = Object.keys(body).filter((k) => !k.startsWith('@_'));
		return {
			kind: 'invalid',
			error: `expected ${responseName} in the SOAP Body, found ${found.length ? found.join(', ') : 'nothing'}`,
		};
	}
	const element = asObject(response);
	if (!element) return { kind: 'invalid', error: `${responseName} is not an element` };
	return { kind: 'response', element };
}

/** Build a response envelope (used by the sandbox; kept here so both sides share one wire definition). */
export function buildSoapResponse(
	version: SoapVersion,
	namespace: string,
	method: string,
	inner: string,
): string {
	const env = version === '1.2' ? SOAP12_ENV : SOAP11_ENV;
	return (
		'<?xml version="1.0" encoding="utf-8"?>' +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="${env}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<SOAP-ENV:Body><NS1:${method}Response xmlns:NS1="${escapeXml(namespace)}">${inner}</NS1:${method}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>`
	);
}

/** Build a fault envelope (sandbox). */
export function buildSoapFault(
	version: SoapVersion,
	faultString: string,
	faultCode = 'SOAP-ENV:Server',
): string {
	if (version === '1.2') {
		const code = faultCode.endsWith('Client') ? 'SOAP-ENV:Sender' : 'SOAP-ENV:Receiver';
		return (
			'<?xml version="1.0" encoding="utf-8"?>' +
			`<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP12_ENV}"><SOAP-ENV:Body><SOAP-ENV:Fault>` +
			`<SOAP-ENV:Code><SOAP-ENV:Value>${code}</SOAP-ENV:Value></SOAP-ENV:Code>` +
			`<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">${escapeXml(faultString)}</SOAP-ENV:Text></SOAP-ENV:Reason>` +
			'</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>'
		);
	}
	return (
		'<?xml version="1.0" encoding="utf-8"?>' +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11_ENV}"><SOAP-ENV:Body><SOAP-ENV:Fault>` +
		`<faultcode>${escapeXml(faultCode)}</faultcode><faultstring>${escapeXml(faultString)}</faultstring>` +
		'</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>'
	);
}
