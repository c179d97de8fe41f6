import {
	classifyFault,
	FAULT_RETURN_ALREADY_PROCESSED,
	FAULT_RETURN_CODE_MISSING,
	FAULT_RETURN_NOT_FOUND,
} from '../../../transports/khaos/faults';
import {
	buildSoapFault,
	buildSoapRequest,
	buildSoapResponse,
	parseSoapResponse,
	toXml,
} from '../../../transports/khaos/soap';
import { parseXml } from '../../../transports/khaos/xml';
import { buildAdjustmentsXml, classifySkipReason } from '../../../transports/khaos/client';

describe('Khaos wire helpers', () => {
	it('toXml escapes text and leaves out null elements', () => {
		expect(toXml('A', { B: 'x & <y>', C: null, D: ['1', '2'], E: '' })).toBe(
			'<A><B>x &amp; &lt;y&gt;</B><D>1</D><D>2</D><E/></A>',
		);
	});

	it('request parameters keep their order and empty values are explicit', () => {
		const { body } = buildSoapRequest(
			{ version: '1.1', namespace: 'urn:X-IKosWeb', actionStyle: 'namespaceHash' },
			'ExportStockStatus',
			[
				['StockCodes', 'A'],
				['MappingType', 1],
				['LastUpdated', ''],
				['SiteID', '2'],
			],
		);
		expect(body).toContain(
			'<StockCodes>A</StockCodes><MappingType>1</MappingType><LastUpdated></LastUpdated><SiteID>2</SiteID>',
		);
	});

	it('parses responses and faults of both SOAP versions', () => {
		const r = parseSoapResponse(
			buildSoapResponse(
				'1.2',
				'urn:X',
				'GetSiteList',
				'<return><item><SiteID>1</SiteID></item></return>',
			),
			'GetSiteList',
		);
		expect(r).toMatchObject({ kind: 'response', element: { return: { item: { SiteID: '1' } } } });
		expect(parseSoapResponse(buildSoapFault('1.1', 'Boom & co'), 'X')).toEqual({
			kind: 'fault',
			faultCode: 'SOAP-ENV:Server',
			faultString: 'Boom & co',
		});
		expect(parseSoapResponse(buildSoapFault('1.2', 'Bad', 'SOAP-ENV:Client'), 'X')).toEqual({
			kind: 'fault',
			faultCode: 'SOAP-ENV:Sender',
			faultString: 'Bad',
		});
		expect(parseSoapResponse('', 'X')).toMatchObject({ kind: 'invalid', error: 'empty document' });
	});

	it('parseXml keeps codes as strings (no number coercion) and reports mismatched tags', () => {
		const doc = parseXml('<R><CODE>00123</CODE><N>1e5</N></R>');
		expect(doc).toEqual({ ok: true, value: { R: { CODE: '00123', N: '1e5' } } });
		expect(parseXml('<R><A></B></R>').ok).toBe(false);
	});

	it('classifies faults word for word', () => {
		expect(classifyFault('ProcessReturn', FAULT_RETURN_ALREADY_PROCESSED)).toEqual({
			code: 'return_already_processed',
			retryable: false,
		});
		expect(classifyFault('ProcessReturn', FAULT_RETURN_NOT_FOUND)).toEqual({
			code: 'return_not_found',
			retryable: false,
		});
		expect(classifyFault('ProcessReturn', FAULT_RETURN_CODE_MISSING)).toEqual({
			code: 'return_code_missing',
			retryable: false,
		});
		expect(
			classifyFault('ProcessReturn', 'The return was partially processed: 1 line failed'),
		).toEqual({ code: 'return_partially_processed', retryable: false });
		expect(
			classifyFault(
				'ImportStockAdjustments',
				'Adjustment line 1 (REFERENCE X): ADJUST_BY and ADJUST_TO cannot both be set.',
			).code,
		).toBe('invalid_adjustment');
		expect(classifyFault('ExportStock', 'Lock timeout on table STOCK')).toEqual({
			code: 'transient',
			retryable: true,
		});
		expect(classifyFault('ExportStock', 'Server is busy, try again later')).toEqual({
			code: 'transient',
			retryable: true,
		});
		expect(classifyFault('Foo', 'Method Foo not found in interface IKosWeb.').code).toBe(
			'unknown_method',
		);
		expect(classifyFault('ImportReturns', 'Returns XML is not well formed: x').code).toBe(
			'invalid_request',
		);
		expect(classifyFault('ExportStock', 'Stock code is wrong')).toEqual({
			code: 'other',
			retryable: false,
		});
	});

	it('classifies ImportReturns skip reasons', () => {
		expect(
			classifySkipReason('Duplicate ASSOCIATED_REF RB-1: already imported as return RTN000003'),
		).toEqual({ code: 'duplicate', existingReturnCode: 'RTN000003' });
		expect(
			classifySkipReason('SORDER_ITEM_ID 77 is not a line of order SO000101 (item 1).').code,
		).toBe('line_not_found');
		expect(classifySkipReason('Stock code X is deleted (item 1).').code).toBe('unknown_stock');
		expect(classifySkipReason('Return reason 9 not found (item 1).').code).toBe('unknown_reason');
		expect(classifySkipReason('Location Z not found at site 1 (item 1).').code).toBe(
			'unknown_location',
		);
		expect(classifySkipReason('Customer URN C9 not found.').code).toBe('other');
	});

	it('adjustments XML carries exactly one of ADJUST_BY / ADJUST_TO per line', () => {
		const xml = buildAdjustmentsXml([
			{
				stockCode: 'A',
				siteId: '1',
				locationId: 'QUAR',
				adjustBy: -1,
				reason: 'q',
				reference: 'R1',
			},
			{
				stockCode: 'B',
				siteId: '2',
				locationId: 'OUT1',
				adjustTo: 0,
				reason: 'count',
				reference: 'R2',
			},
		]);
		expect(xml).toBe(
			'<STOCK_ADJUSTMENTS><ADJUSTMENT><STOCK_CODE>A</STOCK_CODE><MAPPING_TYPE>1</MAPPING_TYPE><SITE>1</SITE><LOCATION>QUAR</LOCATION><ADJUST_BY>-1</ADJUST_BY><REASON>q</REASON><REFERENCE>R1</REFERENCE></ADJUSTMENT>' +
				'<ADJUSTMENT><STOCK_CODE>B</STOCK_CODE><MAPPING_TYPE>1</MAPPING_TYPE><SITE>2</SITE><LOCATION>OUT1</LOCATION><ADJUST_TO>0</ADJUST_TO><REASON>count</REASON><REFERENCE>R2</REFERENCE></ADJUSTMENT></STOCK_ADJUSTMENTS>',
		);
	});
});
