/**
 * A minimal loopback server speaking ReBound's legacy API as the reference
 * describes it (POST, form-encoded `login`, `api_key`, `request` JSON;
 * `{"success": …}` or `{"error": {code, message[]}}`), for the nodes'
 * integration tests when the full sandbox is not needed. Counts every call.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LegacyServerOptions {
	login: string;
	apiKey: string;
	/** Raw returns with the date the search filters on (YYYY-MM-DD). */
	returns: Array<{ raw: Record<string, unknown>; date: string }>;
}

export async function startLegacyReboundServer(options: LegacyServerOptions) {
	const calls: Array<{ path: string; request: unknown }> = [];
	const byId = new Map(options.returns.map((r) => [String(r.raw.id), r]));
	const send = (res: http.ServerResponse, body: unknown) => {
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end(JSON.stringify(body));
	};
	const fail = (res: http.ServerResponse, code: string, message: string) =>
		send(res, { error: { code, message: [message] } });
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const path = new URL(req.url ?? '/', 'http://x').pathname;
			const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
			let request: Record<string, any> = {};
			try {
				request = JSON.parse(form.get('request') ?? '{}');
			} catch {
				calls.push({ path, request: null });
				return fail(res, 'json_invalid', 'request is not JSON');
			}
			calls.push({ path, request });
			if (!form.get('login')) return fail(res, 'login_empty', 'Login is empty');
			if (!form.get('api_key')) return fail(res, 'api_key_empty', 'API key is empty');
			if (form.get('login') !== options.login || form.get('api_key') !== options.apiKey)
				return fail(res, 'access_denied', 'Access denied');
			if (path.endsWith('/returns/search/json')) {
				const from = String(request.filter?.date_from ?? '').replace(/\//g, '-');
				const to = String(request.filter?.date_to ?? '').replace(/\//g, '-');
				const ids = options.returns
					.filter((r) => r.date >= from && r.date <= to)
					.map((r) => r.raw.id);
				return ids.length === 0
					? fail(res, 'empty', 'No results')
					: send(res, { success: { id: ids } });
			}
			if (path.endsWith('/returns/get/json')) {
				const hit = byId.get(String(request.return?.id));
				return hit ? send(res, { success: hit.raw }) : fail(res, 'empty', 'No results');
			}
			return fail(res, 'unknown_call', 'Unknown call');
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	return {
		url: `http://127.0.0.1:${port}/api`,
		calls,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
