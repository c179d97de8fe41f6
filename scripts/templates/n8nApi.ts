/**
 * The few calls of n8n's public API (v1) the import command makes, with the
 * API key in X-N8N-API-KEY. Errors name the call and n8n's message, never the key.
 */
export interface N8nApiOptions {
	baseUrl: string;
	apiKey: string;
	fetchImpl?: typeof fetch;
	timeoutMs?: number;
}

export class N8nApiError extends Error {
	constructor(
		message: string,
		readonly status: number,
	) {
		super(message);
		this.name = 'N8nApiError';
	}
}

export interface DataTableInfo {
	id: string;
	name: string;
	columns: Array<{ name: string; type: string }>;
}

export interface WorkflowInfo {
	id: string;
	name: string;
	active?: boolean;
}

const MAX_PAGES = 50;

export class N8nApi {
	private readonly base: string;
	private readonly fetchImpl: typeof fetch;

	constructor(private readonly options: N8nApiOptions) {
		this.base = options.baseUrl.replace(/\/+$/, '');
		this.fetchImpl = options.fetchImpl ?? fetch;
	}

	async request<T>(method: string, path: string, body?: unknown): Promise<T> {
		const url = `${this.base}/api/v1${path}`;
		let res: Response;
		try {
			res = await this.fetchImpl(url, {
				method,
				headers: {
					'X-N8N-API-KEY': this.options.apiKey,
					accept: 'application/json',
					...(body === undefined ? {} : { 'content-type': 'application/json' }),
				},
				body: body === undefined ? undefined : JSON.stringify(body),
				signal: AbortSignal.timeout(this.options.timeoutMs ?? 30000),
			});
		} catch (error) {
			throw new N8nApiError(
				`${method} ${path}: n8n did not answer (${(error as Error).message})`,
				0,
			);
		}
		const text = await res.text();
		let json: unknown = undefined;
		try {
			json = text ? JSON.parse(text) : undefined;
		} catch {
			json = undefined;
		}
		if (!res.ok) {
			const message =
				json && typeof json === 'object' && 'message' in json
					? String((json as { message: unknown }).message)
					: text.slice(0, 300);
			throw new N8nApiError(
				`${method} ${path} failed with HTTP ${res.status}: ${message.split(this.options.apiKey).join('***')}`,
				res.status,
			);
		}
		return json as T;
	}

	private async paged<T>(path: string): Promise<T[]> {
		const out: T[] = [];
		let cursor: string | null = null;
		for (let page = 0; page < MAX_PAGES; page++) {
			const sep = path.includes('?') ? '&' : '?';
			const res: { data?: T[]; nextCursor?: string | null } = await this.request(
				'GET',
				`${path}${sep}limit=250${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
			);
			out.push(...(res?.data ?? []));
			cursor = res?.nextCursor ?? null;
			if (!cursor) break;
		}
		return out;
	}

	async findDataTable(name: string): Promise<DataTableInfo | null> {
		const tables = await this.paged<DataTableInfo>(
			`/data-tables?filter=${encodeURIComponent(JSON.stringify({ name }))}`,
		);
		return (
			tables.find((t) => t.name === name) ??
			tables.find((t) => t.name.toLowerCase() === name.toLowerCase()) ??
			null
		);
	}

	async getDataTable(id: string): Promise<DataTableInfo> {
		return this.request<DataTableInfo>('GET', `/data-tables/${encodeURIComponent(id)}`);
	}

	async createDataTable(
		name: string,
		columns: Array<{ name: string; type: string }>,
	): Promise<DataTableInfo> {
		return this.request<DataTableInfo>('POST', '/data-tables', { name, columns });
	}

	async addColumn(tableId: string, column: { name: string; type: string }): Promise<void> {
		await this.request('POST', `/data-tables/${encodeURIComponent(tableId)}/columns`, column);
	}

	async countRows(tableId: string): Promise<number> {
		const res = await this.request<{ data?: unknown[] }>(
			'GET',
			`/data-tables/${encodeURIComponent(tableId)}/rows?limit=1`,
		);
		return res?.data?.length ?? 0;
	}

	/**
	 * Every row of a Data Table in id order, a page of 250 at a time (n8n's most), handed to `each`
	 * page by page (not kept). Each page asks for the rows after the last id seen (not n8n's
	 * offset cursor), so rows deleted meanwhile (the daily housekeeping) do not make it skip any.
	 * Bounded by `maxPages` (an inbox at a month's retention of 1,000 returns a day is ~120 pages);
	 * throws when the table has more, so a caller never takes a part for the whole.
	 */
	async forEachRowPage(
		tableId: string,
		each: (rows: Array<Record<string, unknown>>) => void,
		maxPages = 4_000,
	): Promise<void> {
		let after = 0;
		for (let page = 0; page < maxPages; page++) {
			const filter = JSON.stringify({
				type: 'and',
				filters: [{ columnName: 'id', condition: 'gt', value: after }],
			});
			const res: { data?: Array<Record<string, unknown>>; nextCursor?: string | null } =
				await this.request(
					'GET',
					`/data-tables/${encodeURIComponent(tableId)}/rows?limit=250&sortBy=${encodeURIComponent('id:asc')}&filter=${encodeURIComponent(filter)}`,
				);
			const rows = res?.data ?? [];
			each(rows);
			const last = Number(rows[rows.length - 1]?.id);
			if (!res?.nextCursor || rows.length === 0 || !Number.isFinite(last) || last <= after) return;
			after = last;
		}
		throw new Error(`Data Table ${tableId} has more than ${maxPages * 250} rows`);
	}

	async insertRows(tableId: string, rows: Array<Record<string, unknown>>): Promise<number> {
		const res = await this.request<{ count?: number }>(
			'POST',
			`/data-tables/${encodeURIComponent(tableId)}/rows`,
			{ data: rows, returnType: 'count' },
		);
		return typeof res?.count === 'number' ? res.count : rows.length;
	}

	async findCredential(name: string, type: string): Promise<{ id: string; name: string } | null> {
		const creds = await this.paged<{ id: string; name: string; type: string }>('/credentials');
		const found = creds.find((c) => c.name === name && c.type === type);
		return found ? { id: found.id, name: found.name } : null;
	}

	async createCredential(
		name: string,
		type: string,
		data: Record<string, unknown>,
	): Promise<{ id: string; name: string }> {
		const res = await this.request<{ id: string; name: string }>('POST', '/credentials', {
			name,
			type,
			data,
		});
		return { id: res.id, name: res.name ?? name };
	}

	async findWorkflow(name: string): Promise<WorkflowInfo | null> {
		const flows = await this.paged<WorkflowInfo>(`/workflows?name=${encodeURIComponent(name)}`);
		return flows.find((w) => w.name === name) ?? null;
	}

	async createWorkflow(workflow: unknown): Promise<WorkflowInfo> {
		return this.request<WorkflowInfo>('POST', '/workflows', workflow);
	}

	async updateWorkflow(id: string, workflow: unknown): Promise<WorkflowInfo> {
		return this.request<WorkflowInfo>('PUT', `/workflows/${encodeURIComponent(id)}`, workflow);
	}

	async activateWorkflow(id: string): Promise<WorkflowInfo> {
		return this.request<WorkflowInfo>('POST', `/workflows/${encodeURIComponent(id)}/activate`);
	}
}
