/**
 * The Khaos sandbox's own XML (sandbox/khaos/xml.ts): what it reads and writes, that the client
 * reads its answers, and that it stays apart from the client's code (the point of having it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
	readXml,
	soapFault,
	soapResponse,
	textOf,
	xmlElement,
	xmlEscape,
} from '../../sandbox/khaos/xml';
import { buildSoapRequest, parseSoapResponse } from '../../transports/khaos/soap';

describe('Khaos sandbox XML', () => {
	it('imports nothing from the client (transports/khaos) anywhere in sandbox/khaos', () => {
		const dir = path.join(__dirname, '..', '..', 'sandbox', 'khaos');
		const offenders = fs
			.readdirSync(dir)
			.filter((f) => f.endsWith('.ts'))
			.filter((f) =>
				/from\s+['"][./]*transports\/khaos\//.test(fs.readFileSync(path.join(dir, f), 'utf8')),
			);
		expect(offenders).toEqual([]);
	});

	it('writes elements: text escaped, arrays repeated, objects nested, empty as <x/>, null left out', () => {
		expect(
			xmlElement('A', { B: 'x & <y> "z" \'w\'', C: ['1', 2], D: '', E: null, F: { G: undefined } }),
		).toBe('<A><B>x &amp; &lt;y&gt; &quot;z&quot; &apos;w&apos;</B><C>1</C><C>2</C><D/><F/></A>');
		expect(xmlEscape('a&b')).toBe('a&amp;b');
	});

	it('reads a document: local names, attributes, text beside attributes, references decoded once, CDATA as text', () => {
		const doc = readXml(
			'<?xml version="1.0"?><ns:R xmlns:ns="urn:x"><ns:A ID="1&amp;2">x &amp;amp; &#65;&#x42; &lt;</ns:A><B/><B>t</B><C><![CDATA[<raw> & ]]></C></ns:R>',
		);
		expect(doc).toEqual({
			ok: true,
			value: { R: { A: { '#text': 'x &amp; AB <', '@_ID': '1&2' }, B: ['', 't'], C: '<raw> &' } },
		});
		if (!doc.ok) return;
		const r = doc.value.R;
		expect(textOf((r as Record<string, never>).A)).toBe('x &amp; AB <');
		expect(textOf(r)).toBeUndefined();
	});

	it.each([
		['truncated', '<a><b></a>'],
		['an undeclared entity', '<a>&nbsp;</a>'],
		['a character XML forbids', '<a>&#0;</a>'],
		['a bare ampersand', '<a>a & b</a>'],
		['a DTD', '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'],
		['nothing', '  '],
	])('refuses %s', (_what, text) => {
		const doc = readXml(text);
		expect(doc.ok).toBe(false);
	});

	it("reads the client's request envelopes (SOAP 1.1 and 1.2)", () => {
		for (const version of ['1.1', '1.2'] as const) {
			const req = buildSoapRequest(
				{ version, namespace: 'urn:KosWeb-IKosWeb', actionStyle: 'namespaceHash' },
				'ExportStock',
				[
					['StockCode', 'A&B,<C>'],
					['MappingType', 1],
					['LastUpdated', ''],
				],
			);
			const doc = readXml(req.body);
			expect(doc.ok).toBe(true);
			if (!doc.ok) return;
			const body = (doc.value.Envelope as Record<string, Record<string, Record<string, string>>>)
				.Body;
			expect(body.ExportStock).toMatchObject({
				StockCode: 'A&B,<C>',
				MappingType: '1',
				LastUpdated: '',
			});
		}
	});

	it('writes answers and faults the client reads', () => {
		for (const version of ['1.1', '1.2'] as const) {
			const answer = parseSoapResponse(
				soapResponse(
					version,
					'urn:KosWeb-IKosWeb',
					'GetSiteList',
					'<return><item><SiteID>1</SiteID></item></return>',
				),
				'GetSiteList',
			);
			expect(answer).toEqual({ kind: 'response', element: { return: { item: { SiteID: '1' } } } });
		}
		expect(parseSoapResponse(soapFault('1.1', 'Boom & <co>'), 'X')).toEqual({
			kind: 'fault',
			faultCode: 'SOAP-ENV:Server',
			faultString: 'Boom & <co>',
		});
		expect(parseSoapResponse(soapFault('1.2', 'Bad', 'SOAP-ENV:Client'), 'X')).toEqual({
			kind: 'fault',
			faultCode: 'SOAP-ENV:Sender',
			faultString: 'Bad',
		});
		expect(parseSoapResponse(soapFault('1.2', 'Down'), 'X')).toEqual({
			kind: 'fault',
			faultCode: 'SOAP-ENV:Receiver',
			faultString: 'Down',
		});
	});
});
