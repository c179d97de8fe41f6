/**
 * The demo's mapping audit: the same use case the Khaos Control › Mapping › Audit operation runs
 * (core/usecases/auditMappings.ts), over the same transports, against the demo's sandboxes and the
 * demo client's mapping tables as n8n holds them. The imported "Returns: daily mapping audit"
 * workflow runs it every morning; the demo runs it once, here, to show it in the summary without
 * waiting for the schedule (n8n's public API cannot start a workflow).
 */
import { renderMappingAudit } from '../../core/mappingAuditReport';
import { auditMappings, type MappingAudit } from '../../core/usecases/auditMappings';
import { TransportError, type HttpSend } from '../../transports/http';
import { KhaosClient } from '../../transports/khaos/client';
import { ReboundClient } from '../../transports/rebound/client';
import { judgeFetchedReturn, searchWindowIds } from '../../transports/rebound/read';
import type { RetryDeps } from '../../transports/retry';

/** An HttpSend over Node's fetch (the sandboxes are on 127.0.0.1). */
export const fetchSend: HttpSend = async (req) => {
	try {
		const res = await fetch(req.url, {
			method: req.method,
			headers: req.headers,
			body: req.body,
			signal: AbortSignal.timeout(req.timeoutMs),
		});
		const headers: Record<string, string> = {};
		res.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
		return { status: res.status, headers, body: await res.text() };
	} catch (error) {
		throw new TransportError(`${req.method} ${req.url}: ${(error as Error).message}`, {
			kind: 'network',
			retryable: true,
		});
	}
};

const retryDeps: RetryDeps = {
	sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
	now: () => Date.now(),
	random: Math.random,
};
const retry = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2000, maxTotalMs: 10_000 };

export interface DemoAuditOptions {
	khaosUrl: string;
	reboundUrl: string;
	reboundLogin: string;
	reboundApiKey: string;
	dispositions: unknown[];
	reasons: unknown[];
	days: number;
	title: string;
	now?: Date;
}

export type DemoAudit = MappingAudit & ReturnType<typeof renderMappingAudit>;

export async function runDemoAudit(o: DemoAuditOptions): Promise<DemoAudit> {
	const now = o.now ?? new Date();
	const khaos = new KhaosClient(
		{
			url: o.khaosUrl,
			authMode: 'none',
			soapVersion: '1.1',
			namespace: 'urn:KosWeb-IKosWeb',
			soapActionStyle: 'namespaceHash',
			timeoutMs: 10_000,
			batchSize: 50,
			retry,
		},
		{ send: fetchSend, retry: retryDeps },
	);
	const rebound = new ReboundClient(
		{
			baseUrl: o.reboundUrl,
			login: o.reboundLogin,
			apiKey: o.reboundApiKey,
			timeoutMs: 10_000,
			retry,
		},
		{ send: fetchSend, retry: retryDeps },
	);
	// what the template's ReBound Search reads: the returns of the last N days, normalised
	const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
	const ids = await searchWindowIds(
		rebound,
		day(now.getTime() - o.days * 86_400_000),
		day(now.getTime()),
		[o.reboundApiKey],
		(error) => (error instanceof Error ? error : new Error(String(error))),
	);
	const returns: unknown[] = [];
	for (const r of await rebound.getReturns(ids)) {
		if (!r.ok) continue;
		const judged = judgeFetchedReturn(r.id, r.value, false, now.getTime());
		returns.push(judged.ok ? judged.json : judged.exception);
	}
	const audit = await auditMappings(khaos, {
		dispositions: o.dispositions,
		reasons: o.reasons,
		returns,
		days: o.days,
		title: o.title,
		now,
	});
	return { ...audit, ...renderMappingAudit(audit) };
}

/**
 * `npx ts-node --transpile-only scripts/demo/mappingAudit.ts [--write <file>]`: the demo client's
 * audit on fresh sandboxes (default fixtures, the standard demo mapping of values.example.json),
 * printed as Markdown or written to a file (docs/examples/mapping-audit-demo.md).
 */
async function main(argv: string[]): Promise<void> {
	const { startKhaosSandbox } = await import('../../sandbox/khaos/server');
	const { startReboundSandbox } = await import('../../sandbox/rebound/server');
	const { exampleValues, SANDBOX_REBOUND } = await import('../templates/sandboxValues');
	const fs = await import('node:fs');
	const khaos = await startKhaosSandbox({ port: 0 });
	const rebound = await startReboundSandbox({ port: 0 });
	try {
		const values = exampleValues();
		const audit = await runDemoAudit({
			khaosUrl: khaos.url,
			reboundUrl: rebound.url,
			reboundLogin: SANDBOX_REBOUND.login,
			reboundApiKey: SANDBOX_REBOUND.apiKey,
			dispositions: values.mapping.dispositions,
			reasons: values.mapping.reasons,
			days: 30,
			title: `Mapping audit ${values.client}`,
		});
		const i = argv.indexOf('--write');
		if (i >= 0 && argv[i + 1]) fs.writeFileSync(argv[i + 1], audit.markdown);
		else process.stdout.write(audit.markdown);
	} finally {
		await khaos.close();
		await rebound.close();
	}
}

if (require.main === module)
	main(process.argv.slice(2)).catch((error: unknown) => {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	});
