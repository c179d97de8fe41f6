/**
 * An HttpSend backed by Node's http/https modules, for tests, sandboxes'
 * clients and scripts (nock intercepts it). Nodes inside n8n use
 * nodes/shared/n8nHttp.ts instead.
 */
import http from 'node:http';
import https from 'node:https';
import {
	TransportError,
	type HttpRequest,
	type HttpResponse,
	type HttpSend,
} from '../../transports/http';

export function makeNodeHttpSend(options: { agent?: http.Agent } = {}): HttpSend {
	return (req: HttpRequest) =>
		new Promise<HttpResponse>((resolve, reject) => {
			const url = new URL(req.url);
			const mod = url.protocol === 'https:' ? https : http;
			const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
			const headers: Record<string, string> = { ...req.headers };
			if (body) headers['content-length'] = String(body.length);
			const request = mod.request(
				url,
				{ method: req.method, headers, agent: options.agent },
				(res) => {
					const chunks: Buffer[] = [];
					res.on('data', (c: Buffer) => chunks.push(c));
					res.on('end', () => {
						const out: Record<string, string | undefined> = {};
						for (const [k, v] of Object.entries(res.headers))
							out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
						resolve({
							status: res.statusCode ?? 0,
							headers: out,
							body: Buffer.concat(chunks).toString('utf8'),
						});
					});
					res.on('error', (e) =>
						reject(
							new TransportError(`connection dropped: ${e.message}`, {
								kind: 'network',
								retryable: true,
							}),
						),
					);
					res.on('aborted', () =>
						reject(
							new TransportError('connection dropped while reading the response', {
								kind: 'network',
								retryable: true,
							}),
						),
					);
				},
			);
			request.setTimeout(req.timeoutMs, () => {
				request.destroy(
					new TransportError(`no response within ${req.timeoutMs} ms`, {
						kind: 'timeout',
						retryable: true,
					}),
				);
			});
			request.on('error', (e) => {
				if (e instanceof TransportError) reject(e);
				else
					reject(
						new TransportError(
							`connection failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`,
							{ kind: 'network', retryable: true },
						),
					);
			});
			if (body) request.write(body);
			request.end();
		});
}

export const realRetryDeps = {
	sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
	now: () => Date.now(),
	random: () => Math.random(),
};
