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
 * The poll-fed baseline (two workflows, a poller and this chain as its sub-workflow) is
 * described at buildBaselinePollWorkflows below.
 *
 * `npx ts-node --transpile-only bench/baselineWorkflow.ts` writes
 * bench/baseline-workflow.json, bench/baseline-poll-workflow.json and
 * bench/baseline-return-workflow.json (committed); the harness fills the
 * placeholders ({{KHAOS_URL}}, {{WEBHOOK_PATH}}, {{WEBHOOK_SECRET}}, {{REBOUND_URL}}, …).
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

const MAPPING = `const DISPOSITIONS = {
  'Grade A': { siteId: '1', locationId: 'A1' }, 'Like New': { siteId: '1', locationId: 'A1' },
  'Grade B': { siteId: '1', locationId: 'RET' },
  'Damaged': { siteId: '1', locationId: 'QUAR' }, 'Dirty': { siteId: '1', locationId: 'QUAR' }, 'Quarantine': { siteId: '1', locationId: 'QUAR' },
};
const REASONS = { 'Too small': '2', 'Too big': '2', 'Faulty': '1', 'Changed my mind': '3', 'Arrived damaged': '4' };`;

/** One item per line of the return `r` (mapped, with its ExportStock call), into `out`. */
const SPLIT_RETURN = `  r.item.forEach((line, i) => {
    const target = DISPOSITIONS[line.final_disposition];
    if (!target) throw new Error('Return ' + r.id + ': unmapped disposition ' + line.final_disposition);
    const reason = (line.reason && line.reason[0] && line.reason[0].reason) || '';
    out.push({ json: {
      returnId: String(r.id), orderRef: r.order_reference, lineNo: i + 1, sku: line.sku_code, qty: Number(line.quantity),
      disposition: line.final_disposition, siteId: target.siteId, locationId: target.locationId, reasonId: REASONS[reason] || '3',
      soapAction: soapAction('ExportStock'),
      soap: envelope('ExportStock', '<StockCode>' + esc(line.sku_code) + '</StockCode><MappingType>1</MappingType><LastUpdated></LastUpdated>'),
    } });
  });`;

const VERIFY = `const crypto = require('crypto');
${SOAP_HELPERS}
const SECRET = '{{WEBHOOK_SECRET}}';
${MAPPING}
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
${SPLIT_RETURN}
}
return out;`;

/** The per-return sub-workflow's first step: the return as returns/get gave it (the poller passes one a run). */
const SPLIT_LINES = `${SOAP_HELPERS}
${MAPPING}
const out = [];
for (const item of $input.all()) {
  const r = item.json;
  if (!r || !Array.isArray(r.item)) throw new Error('Item has no return');
${SPLIT_RETURN}
}
return out;`;

const checkProducts = (first: string) => `${SOAP_HELPERS}
const lines = $('${first}').all().map((i) => i.json);
const answers = $input.all().map((i) => unesc(i.json.data));
lines.forEach((l, i) => {
  const xml = answers[i] || '';
  if (!xml.includes('<STOCK_CODE>' + l.sku + '</STOCK_CODE>')) throw new Error('Return ' + l.returnId + ': product ' + l.sku + ' not found in Khaos');
  if (tag(xml, 'DELETED') === '-1') throw new Error('Return ' + l.returnId + ': product ' + l.sku + ' is deleted');
});
const first = lines[0];
return [{ json: { returnId: first.returnId, orderRef: first.orderRef, soapAction: soapAction('ExportOrders'),
  soap: envelope('ExportOrders', '<IDs>' + esc(first.orderRef) + '</IDs><MappingType>4</MappingType>') } }];`;

const credit = (first: string) => `${SOAP_HELPERS}
const lines = $('${first}').all().map((i) => i.json);
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

type NodeJson = {
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
};

/** One of n8n's own nodes (`type` without its n8n-nodes-base. prefix) at x on the main row (y 300). */
function node(
	name: string,
	type: string,
	typeVersion: number,
	x: number,
	parameters: Record<string, unknown>,
	y = 300,
): NodeJson {
	return { name, type: `n8n-nodes-base.${type}`, typeVersion, position: [x, y], parameters };
}

/** An HTTP Request node at x that POSTs with a 30 s timeout; `parameters` go between the method and the options. */
function httpPost(name: string, x: number, parameters: Record<string, unknown>): NodeJson {
	return node(name, 'httpRequest', 4.2, x, {
		method: 'POST',
		...parameters,
		options: { timeout: 30000 },
	});
}

/** A SOAP call to Khaos (the envelope and SOAPAction made by the Code node before it). */
function http(name: string, x: number): NodeJson {
	// response format left on Autodetect (text/xml → text in `data`): an explicit "Text" fails on n8n 2.40.7 ("Converting circular structure to JSON")
	return httpPost(name, x, {
		url: '{{KHAOS_URL}}',
		sendHeaders: true,
		headerParameters: { parameters: [{ name: 'SOAPAction', value: '={{ $json.soapAction }}' }] },
		sendBody: true,
		contentType: 'raw',
		rawContentType: 'text/xml; charset=utf-8',
		body: '={{ $json.soap }}',
	});
}

function code(name: string, x: number, jsCode: string): NodeJson {
	return node(name, 'code', 2, x, { mode: 'runOnceForAllItems', language: 'javaScript', jsCode });
}

type WorkflowJson = {
	name: string;
	nodes: Array<Record<string, unknown>>;
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
};

/** The per-return chain after its first node (`first`, which makes one item per line), from x. */
function returnChain(first: string, x: number): Array<Record<string, unknown>> {
	return [
		http('Look Up Product (ExportStock)', x),
		code('Check Products', x + 220, checkProducts(first)),
		http('Fetch Order (ExportOrders)', x + 440),
		code('Compute Credit and Adjustments', x + 660, credit(first)),
		http('Adjust Stock (ImportStockAdjustments)', x + 880),
		code('Build Return', x + 1100, BUILD_RETURN),
		http('Import Return (ImportReturns)', x + 1320),
		code('Read Return Code', x + 1540, PROCESS),
		http('Process Return (ProcessReturn)', x + 1760),
	];
}

/** Each node's main output 0 to the next node's input. */
function chainConnections(nodes: Array<Record<string, unknown>>): Record<string, unknown> {
	const connections: Record<string, unknown> = {};
	for (let i = 0; i < nodes.length - 1; i++) {
		connections[nodes[i].name as string] = {
			main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]],
		};
	}
	return connections;
}

export function buildBaselineWorkflow(): WorkflowJson {
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
		...returnChain('Verify Signature and Split Lines', 440),
	];
	return {
		name: 'Bench baseline: ReBound returns → Khaos (Webhook, Code, HTTP Request)',
		nodes,
		connections: chainConnections(nodes),
	};
}

// ------------------------------------------------------------------ the poll-fed baseline

/**
 * The poll-fed baseline: what a competent n8n user builds for a ReBound without webhooks, with
 * n8n's own nodes, as two workflows.
 *
 * The poller (bench/baseline-poll-workflow.json):
 *   Schedule Trigger (every minute)
 *   → HTTP Request: returns/search for the last 7 days (one date window, form-encoded login,
 *     api_key, request), ids only
 *   → Code: one item per id ('empty' = none)
 *   → HTTP Request: returns/get per id
 *   → Code: keep the fully graded returns (every line has a final disposition), drop the label,
 *     a dedupe key of id + dispositions
 *   → Remove Duplicates: items seen in previous executions (by that key; n8n keeps the keys in
 *     its database), so a return is taken once per set of dispositions
 *   → Loop Over Items (1 at a time) → Execute Workflow (the per-return chain, wait for it) → loop.
 *
 * The per-return chain (bench/baseline-return-workflow.json): Execute Workflow Trigger (accept
 * all data) → Code: split the return into lines (the webhook baseline's mapping, no signature)
 * → the webhook baseline's chain, node for node (ExportStock per line … ProcessReturn).
 *
 * n8n 2.40 deprecates the Execute Workflow node's "run once for each item" in favour of Loop
 * Over Items + "run once with all items", which is what this does; the sub-workflow must be
 * active (published) for a production run to call it.
 */
export const BASELINE_POLL_FILE = path.join(__dirname, 'baseline-poll-workflow.json');
export const BASELINE_RETURN_FILE = path.join(__dirname, 'baseline-return-workflow.json');
/** Days the poller's one search covers (today and the 7 before it). */
export const BASELINE_POLL_DAYS = 7;

function reboundHttp(
	name: string,
	x: number,
	call: 'returns/search' | 'returns/get',
	request: string,
): NodeJson {
	return httpPost(name, x, {
		url: `{{REBOUND_URL}}/${call}/json`,
		sendBody: true,
		contentType: 'form-urlencoded',
		bodyParameters: {
			parameters: [
				{ name: 'login', value: '{{REBOUND_LOGIN}}' },
				{ name: 'api_key', value: '{{REBOUND_API_KEY}}' },
				{ name: 'request', value: request },
			],
		},
	});
}

const RETURN_IDS = `const res = $input.first().json;
if (res.error) {
  if (res.error.code === 'empty') return [];
  throw new Error('ReBound search: ' + res.error.code + ' ' + [].concat(res.error.message || []).join('; '));
}
return [].concat((res.success && res.success.id) || []).map((id) => ({ json: { id: String(id) } }));`;

const GRADED_RETURNS = `const out = [];
for (const item of $input.all()) {
  const res = item.json;
  if (res.error) {
    if (res.error.code === 'empty') continue;
    throw new Error('ReBound get: ' + res.error.code + ' ' + [].concat(res.error.message || []).join('; '));
  }
  const r = Object.assign({}, res.success);
  delete r.label;
  if (!Array.isArray(r.item) || r.item.length === 0) continue;
  if (!r.item.every((line) => line.final_disposition)) continue;
  out.push({ json: Object.assign(r, { dedupeKey: r.id + ':' + r.item.map((line) => line.final_disposition).join('|') }) });
}
return out;`;

export function buildBaselinePollWorkflows(): { poller: WorkflowJson; chain: WorkflowJson } {
	const chainNodes: Array<Record<string, unknown>> = [
		node('When Called by the Poller', 'executeWorkflowTrigger', 1.1, 0, {
			inputSource: 'passthrough',
		}),
		code('Split Lines', 220, SPLIT_LINES),
		...returnChain('Split Lines', 440),
	];
	const chain = {
		name: 'Bench baseline (poll): one return → Khaos (Code, HTTP Request)',
		nodes: chainNodes,
		connections: chainConnections(chainNodes),
	};

	const schedule = node('Every Minute', 'scheduleTrigger', 1.2, 0, {
		rule: { interval: [{ field: 'minutes', minutesInterval: 1 }] },
	});
	const search = reboundHttp(
		'Search Returns (ReBound)',
		220,
		'returns/search',
		`={{ JSON.stringify({ filter: { date_from: $now.toUTC().minus({ days: ${BASELINE_POLL_DAYS} }).toFormat('yyyy/MM/dd'), date_to: $now.toUTC().toFormat('yyyy/MM/dd') } }) }}`,
	);
	const ids = code('Return Ids', 440, RETURN_IDS);
	const get = reboundHttp(
		'Get Return (ReBound)',
		660,
		'returns/get',
		"={{ JSON.stringify({ return: { id: $json.id, type: 'id' } }) }}",
	);
	const graded = code('Fully Graded Returns', 880, GRADED_RETURNS);
	const dedupe = node('Not Taken Before', 'removeDuplicates', 2, 1100, {
		operation: 'removeItemsSeenInPreviousExecutions',
		logic: 'removeItemsWithAlreadySeenKeyValues',
		dedupeValue: '={{ $json.dedupeKey }}',
		options: {},
	});
	const loop = node('One Return at a Time', 'splitInBatches', 3, 1320, {
		batchSize: 1,
		options: {},
	});
	const run = node(
		'Process Return (Sub-workflow)',
		'executeWorkflow',
		1.2,
		1540,
		{
			source: 'database',
			workflowId: { __rl: true, value: '{{CHAIN_WORKFLOW_ID}}', mode: 'id' },
			mode: 'once',
			options: { waitForSubWorkflow: true },
		},
		400,
	);
	const nodes = [schedule, search, ids, get, graded, dedupe, loop, run];
	const connections = chainConnections(nodes.slice(0, 7));
	// Loop Over Items: output 0 = done (nothing to do), output 1 = the next return
	connections[loop.name] = { main: [[], [{ node: run.name, type: 'main', index: 0 }]] };
	connections[run.name] = { main: [[{ node: loop.name, type: 'main', index: 0 }]] };
	const poller = {
		name: 'Bench baseline (poll): ReBound search → each return (Schedule, HTTP Request, Code)',
		nodes,
		connections,
	};
	return { poller, chain };
}

/** Fills `{{NAME}}` placeholders (every occurrence; values JSON-string-escaped) and refuses leftovers. */
function fillPlaceholders(file: string, fill: Record<string, string>): WorkflowJson {
	let text = fs.readFileSync(file, 'utf8');
	for (const [k, v] of Object.entries(fill))
		text = text.split(`{{${k}}}`).join(JSON.stringify(v).slice(1, -1));
	if (/\{\{[A-Z_]+\}\}/.test(text))
		throw new Error(
			`${path.relative(process.cwd(), file)}: placeholder left: ${/\{\{[A-Z_]+\}\}/.exec(text)?.[0]}`,
		);
	return JSON.parse(text) as WorkflowJson;
}

/** The committed per-return chain (sub-workflow) with its Khaos URL. */
export function loadBaselineReturnWorkflow(values: { khaosUrl: string }): WorkflowJson {
	return fillPlaceholders(BASELINE_RETURN_FILE, { KHAOS_URL: values.khaosUrl });
}

/** The committed poller with ReBound's URL and login and the chain's workflow id. */
export function loadBaselinePollWorkflow(values: {
	reboundUrl: string;
	login: string;
	apiKey: string;
	chainWorkflowId: string;
}): WorkflowJson {
	return fillPlaceholders(BASELINE_POLL_FILE, {
		REBOUND_URL: values.reboundUrl,
		REBOUND_LOGIN: values.login,
		REBOUND_API_KEY: values.apiKey,
		CHAIN_WORKFLOW_ID: values.chainWorkflowId,
	});
}

/** The committed webhook baseline with the placeholders filled (every occurrence; values are JSON-string-escaped). */
export function loadBaselineWorkflow(values: {
	khaosUrl: string;
	webhookPath: string;
	webhookId: string;
	webhookSecret: string;
}): WorkflowJson {
	return fillPlaceholders(BASELINE_FILE, {
		KHAOS_URL: values.khaosUrl,
		WEBHOOK_PATH: values.webhookPath,
		WEBHOOK_ID: values.webhookId,
		WEBHOOK_SECRET: values.webhookSecret,
	});
}

/** The committed baseline files and what they hold (the generator writes them; a unit test checks they are current). */
export function baselineFiles(): Array<{ file: string; json: WorkflowJson }> {
	const { poller, chain } = buildBaselinePollWorkflows();
	return [
		{ file: BASELINE_FILE, json: buildBaselineWorkflow() },
		{ file: BASELINE_POLL_FILE, json: poller },
		{ file: BASELINE_RETURN_FILE, json: chain },
	];
}

if (require.main === module) {
	for (const { file, json } of baselineFiles()) {
		fs.writeFileSync(file, `${JSON.stringify(json, null, '\t')}\n`);
		console.log(`wrote ${file}`);
	}
}
