/**
 * The baseline: the returns job built the way a competent n8n user would
 * build it with n8n's own nodes (Webhook, Code, HTTP Request), one execution
 * per delivered event, SOAP envelopes written by hand (sandbox/khaos/README.md):
 *
 *   Webhook (answers on receipt)
 *   → Code: verify the HMAC signature (X-Rebound-Signature over "<timestamp>.<body>"),
 *     map disposition/reason (a lookup object), one item per return line
 *   → HTTP Request: ExportStock per line (product look-up)
 *   → Code: check every product exists and is not deleted
 *   → HTTP Request: ExportOrders for the return's order
 *   → Code: match lines to the order, compute each line's credit (gross price, VAT 20%
 *     per line, half-up), one stock adjustment per line
 *   → HTTP Request: ImportStockAdjustments per line
 *   → Code: build the Returns XML (RESTOCK 0: stock was moved above)
 *   → HTTP Request: ImportReturns
 *   → Code: read the return code (or the duplicate's)
 *   → HTTP Request: ProcessReturn (Khaos raises the credit note)
 *
 * `npx ts-node --transpile-only bench/baselineWorkflow.ts` writes
 * bench/baseline-workflow.json (committed); the harness fills the
 * placeholders {{KHAOS_URL}}, {{WEBHOOK_PATH}}, {{WEBHOOK_SECRET}}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BASELINE_FILE = path.join(__dirname, 'baseline-workflow.json');

const SOAP_HELPERS = `
const NS = 'urn:KosWeb-IKosWeb';
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unesc = (s) => String(s).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const envelope = (method, params) => '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ns1:' + method + ' xmlns:ns1="' + NS + '">' + params + '</ns1:' + method + '></soap:Body></soap:Envelope>';
const soapAction = (method) => '"' + NS + '#' + method + '"';
const tag = (xml, name) => { const m = new RegExp('<' + name + '[^>]*>([^<]*)</' + name + '>').exec(xml); return m ? m[1] : null; };
`;

const VERIFY = `const crypto = require('crypto');
${SOAP_HELPERS}
const SECRET = '{{WEBHOOK_SECRET}}';
const DISPOSITIONS = {
  'Grade A': { siteId: '1', locationId: 'A1' }, 'Like New': { siteId: '1', locationId: 'A1' },
  'Grade B': { siteId: '1', locationId: 'RET' },
  'Damaged': { siteId: '1', locationId: 'QUAR' }, 'Dirty': { siteId: '1', locationId: 'QUAR' }, 'Quarantine': { siteId: '1', locationId: 'QUAR' },
};
const REASONS = { 'Too small': '2', 'Too big': '2', 'Faulty': '1', 'Changed my mind': '3', 'Arrived damaged': '4' };
const out = [];
for (const item of $input.all()) {
  const headers = item.json.headers || {};
  const body = item.json.body || {};
  const ts = String(headers['x-rebound-timestamp'] || '');
  const sig = String(headers['x-rebound-signature'] || '').toLowerCase();
  if (!/^\\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) throw new Error('Webhook timestamp missing or stale');
  const expected = crypto.createHmac('sha256', SECRET).update(ts + '.' + JSON.stringify(body)).digest('hex');
  if (sig !== expected) throw new Error('Webhook signature does not match');
  const r = body.data;
  if (!r || !Array.isArray(r.item)) throw new Error('Event has no return');
  r.item.forEach((line, i) => {
    const target = DISPOSITIONS[line.final_disposition];
    if (!target) throw new Error('Return ' + r.id + ': unmapped disposition ' + line.final_disposition);
    const reason = (line.reason && line.reason[0] && line.reason[0].reason) || '';
    out.push({ json: {
      returnId: String(r.id), orderRef: r.order_reference, lineNo: i + 1, sku: line.sku_code, qty: Number(line.quantity),
      disposition: line.final_disposition, siteId: target.siteId, locationId: target.locationId, reasonId: REASONS[reason] || '3',
      soapAction: soapAction('ExportStock'),
      soap: envelope('ExportStock', '<StockCode>' + esc(line.sku_code) + '</StockCode><MappingType>1</MappingType><LastUpdated></LastUpdated>'),
    } });
  });
}
return out;`;

const CHECK_PRODUCTS = `${SOAP_HELPERS}
const lines = $('Verify Signature and Split Lines').all().map((i) => i.json);
const answers = $input.all().map((i) => unesc(i.json.data));
lines.forEach((l, i) => {
  const xml = answers[i] || '';
  if (!xml.includes('<STOCK_CODE>' + l.sku + '</STOCK_CODE>')) throw new Error('Return ' + l.returnId + ': product ' + l.sku + ' not found in Khaos');
  if (tag(xml, 'DELETED') === '-1') throw new Error('Return ' + l.returnId + ': product ' + l.sku + ' is deleted');
});
const first = lines[0];
return [{ json: { returnId: first.returnId, orderRef: first.orderRef, soapAction: soapAction('ExportOrders'),
  soap: envelope('ExportOrders', '<IDs>' + esc(first.orderRef) + '</IDs><MappingType>4</MappingType>') } }];`;

const CREDIT = `${SOAP_HELPERS}
const lines = $('Verify Signature and Split Lines').all().map((i) => i.json);
const xml = unesc($input.first().json.data);
const orderXml = (/<ORDER>([\\s\\S]*?)<\\/ORDER>/.exec(xml) || [])[1];
if (!orderXml || tag(orderXml, 'ORDER_TYPE') !== '1') throw new Error('Return ' + lines[0].returnId + ': order ' + lines[0].orderRef + ' not found in Khaos');
const orderItems = [...orderXml.matchAll(/<ORDER_ITEM>([\\s\\S]*?)<\\/ORDER_ITEM>/g)].map((m) => ({
  id: tag(m[1], 'SORDER_ITEM_ID'), sku: tag(m[1], 'STOCK_CODE'), qty: Number(tag(m[1], 'ORDER_QTY')), returned: Number(tag(m[1], 'QTY_RETURNED') || 0),
  price: Math.round(Number(tag(m[1], 'PRICE_GRS')) * 100), taxRate: tag(m[1], 'TAX_RATE'), used: 0,
}));
const ref = 'RB-' + lines[0].returnId;
return lines.map((l) => {
  const ol = orderItems.find((o) => o.sku === l.sku && o.qty - o.returned - o.used >= l.qty);
  if (!ol) throw new Error('Return ' + l.returnId + ': ' + l.sku + ' x' + l.qty + ' is not on order ' + l.orderRef);
  ol.used += l.qty;
  const gross = ol.price * l.qty;
  const tax = ol.taxRate === '1' ? Math.round(gross / 6) : 0;
  const adj = '<STOCK_ADJUSTMENTS><ADJUSTMENT><STOCK_CODE>' + esc(l.sku) + '</STOCK_CODE><MAPPING_TYPE>1</MAPPING_TYPE><SITE>' + l.siteId + '</SITE><LOCATION>' + l.locationId +
    '</LOCATION><ADJUST_BY>' + l.qty + '</ADJUST_BY><REASON>ReBound return ' + ref + ' ' + esc(l.disposition) + '</REASON><REFERENCE>' + ref + ':' + l.lineNo + '</REFERENCE></ADJUSTMENT></STOCK_ADJUSTMENTS>';
  return { json: { ...l, orderLineId: ol.id, grossPence: gross, taxPence: tax, netPence: gross - tax,
    soapAction: soapAction('ImportStockAdjustments'), soap: envelope('ImportStockAdjustments', '<Adjustments>' + esc(adj) + '</Adjustments>') } };
});`;

const BUILD_RETURN = `${SOAP_HELPERS}
const lines = $('Compute Credit and Adjustments').all().map((i) => i.json);
$input.all().forEach((i, n) => {
  const result = tag(unesc(i.json.data), 'Result');
  if (result !== 'APPLIED' && result !== 'SKIPPED_DUPLICATE') throw new Error('Return ' + lines[n].returnId + ' line ' + lines[n].lineNo + ': stock adjustment ' + result);
});
const pounds = (p) => (p / 100).toFixed(2);
const ref = 'RB-' + lines[0].returnId;
const items = lines.map((l) => '<RETURN_ITEM><STOCK_CODE>' + esc(l.sku) + '</STOCK_CODE><MAPPING_TYPE>1</MAPPING_TYPE><SORDER_ITEM_ID>' + l.orderLineId + '</SORDER_ITEM_ID><QUANTITY>' + l.qty +
  '</QUANTITY><RETURN_REASON_ID>' + l.reasonId + '</RETURN_REASON_ID><SITE>' + l.siteId + '</SITE><LOCATION>' + l.locationId + '</LOCATION><RESTOCK>0</RESTOCK><CREDIT_NET>' + pounds(l.netPence) +
  '</CREDIT_NET><CREDIT_TAX>' + pounds(l.taxPence) + '</CREDIT_TAX><CREDIT_GRS>' + pounds(l.grossPence) + '</CREDIT_GRS></RETURN_ITEM>').join('');
const ret = '<RETURNS><RETURN><ASSOCIATED_REF>' + ref + '</ASSOCIATED_REF><URN>C1001</URN><SOURCE_ORDER><ASSOCIATED_REF>' + esc(lines[0].orderRef) +
  '</ASSOCIATED_REF></SOURCE_ORDER><CURRENCY_CODE>GBP</CURRENCY_CODE><EXCHANGE_RATE>1</EXCHANGE_RATE><RETURN_ITEMS>' + items + '</RETURN_ITEMS></RETURN></RETURNS>';
return [{ json: { returnId: lines[0].returnId, ref, soapAction: soapAction('ImportReturns'), soap: envelope('ImportReturns', '<Returns>' + esc(ret) + '</Returns>') } }];`;

const PROCESS = `${SOAP_HELPERS}
const ret = $('Build Return').first().json;
const xml = unesc($input.first().json.data);
let code = tag(xml, 'ReturnCode');
if (!code) {
  const dup = /already imported as return ([A-Z0-9]+)/.exec(xml);
  if (!dup) throw new Error('Return ' + ret.returnId + ' not imported: ' + (tag(xml, 'SkipReason') || 'no answer'));
  code = dup[1];
}
return [{ json: { returnId: ret.returnId, ref: ret.ref, returnCode: code, soapAction: soapAction('ProcessReturn'),
  soap: envelope('ProcessReturn', '<ReturnCode>' + esc(code) + '</ReturnCode><ManualAuthCode>REBOUND</ManualAuthCode>') } }];`;

function http(name: string, x: number): Record<string, unknown> {
	return {
		name,
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position: [x, 300],
		parameters: {
			method: 'POST',
			url: '{{KHAOS_URL}}',
			sendHeaders: true,
			headerParameters: { parameters: [{ name: 'SOAPAction', value: '={{ $json.soapAction }}' }] },
			sendBody: true,
			contentType: 'raw',
			rawContentType: 'text/xml; charset=utf-8',
			body: '={{ $json.soap }}',
			// response format left on Autodetect (text/xml → text in `data`): an explicit "Text" fails on n8n 2.40.7 ("Converting circular structure to JSON")
			options: { timeout: 30000 },
		},
	};
}

function code(name: string, x: number, jsCode: string): Record<string, unknown> {
	return {
		name,
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		position: [x, 300],
		parameters: { mode: 'runOnceForAllItems', language: 'javaScript', jsCode },
	};
}

export function buildBaselineWorkflow(): {
	name: string;
	nodes: Array<Record<string, unknown>>;
	connections: Record<string, unknown>;
} {
	const nodes: Array<Record<string, unknown>> = [
		{
			name: 'ReBound Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 300],
			webhookId: '{{WEBHOOK_ID}}',
			parameters: {
				httpMethod: 'POST',
				path: '{{WEBHOOK_PATH}}',
				responseMode: 'onReceived',
				options: {},
			},
		},
		code('Verify Signature and Split Lines', 220, VERIFY),
		http('Look Up Product (ExportStock)', 440),
		code('Check Products', 660, CHECK_PRODUCTS),
		http('Fetch Order (ExportOrders)', 880),
		code('Compute Credit and Adjustments', 1100, CREDIT),
		http('Adjust Stock (ImportStockAdjustments)', 1320),
		code('Build Return', 1540, BUILD_RETURN),
		http('Import Return (ImportReturns)', 1760),
		code('Read Return Code', 1980, PROCESS),
		http('Process Return (ProcessReturn)', 2200),
	];
	const connections: Record<string, unknown> = {};
	for (let i = 0; i < nodes.length - 1; i++) {
		connections[nodes[i].name as string] = {
			main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]],
		};
	}
	return {
		name: 'Bench baseline: ReBound returns → Khaos (Webhook, Code, HTTP Request)',
		nodes,
		connections,
	};
}

/** The committed JSON with the placeholders filled (every occurrence; values are JSON-string-escaped). */
export function loadBaselineWorkflow(values: {
	khaosUrl: string;
	webhookPath: string;
	webhookId: string;
	webhookSecret: string;
}) {
	let text = fs.readFileSync(BASELINE_FILE, 'utf8');
	const fill: Record<string, string> = {
		KHAOS_URL: values.khaosUrl,
		WEBHOOK_PATH: values.webhookPath,
		WEBHOOK_ID: values.webhookId,
		WEBHOOK_SECRET: values.webhookSecret,
	};
	for (const [k, v] of Object.entries(fill))
		text = text.split(`{{${k}}}`).join(JSON.stringify(v).slice(1, -1));
	if (/\{\{[A-Z_]+\}\}/.test(text))
		throw new Error(
			`bench/baseline-workflow.json: placeholder left: ${/\{\{[A-Z_]+\}\}/.exec(text)?.[0]}`,
		);
	return JSON.parse(text) as ReturnType<typeof buildBaselineWorkflow>;
}

if (require.main === module) {
	fs.writeFileSync(BASELINE_FILE, `${JSON.stringify(buildBaselineWorkflow(), null, '\t')}\n`);
	console.log(`wrote ${BASELINE_FILE}`);
}
