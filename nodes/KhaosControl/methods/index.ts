/**
 * The node's list-search and load-options methods. Each gets the Khaos client for the node's
 * credential through one wrapper, which also turns any failure into an n8n error without secrets.
 */
import type {
	ILoadOptionsFunctions,
	INodeListSearchResult,
	INodePropertyOptions,
} from 'n8n-workflow';
import type { KhaosApi } from '../../../transports/khaos/api';
import { toNodeError } from '../../shared/nodeError';
import {
	createKhaosApi,
	getKhaosCredentials,
	khaosAdvice,
	khaosSecrets,
	type KhaosCredentials,
} from '../transport';

interface Khaos {
	ctx: ILoadOptionsFunctions;
	api: KhaosApi;
	creds: KhaosCredentials;
}

/** A method with the Khaos client of the node's credential; failures become n8n errors without secrets. */
function withKhaos<A extends unknown[], R>(fn: (khaos: Khaos, ...args: A) => Promise<R>) {
	return async function (this: ILoadOptionsFunctions, ...args: A): Promise<R> {
		const creds = await getKhaosCredentials(this);
		const api = createKhaosApi(this, creds);
		try {
			return await fn({ ctx: this, api, creds }, ...args);
		} catch (error) {
			throw toNodeError(this.getNode(), error, {
				itemIndex: 0,
				secrets: khaosSecrets(creds),
				advice: khaosAdvice,
			});
		}
	};
}

function includes(name: string, filter: string | undefined): boolean {
	return !filter || name.toLowerCase().includes(filter.toLowerCase());
}

export const listSearch = {
	searchSites: withKhaos(async ({ api }, filter?: string): Promise<INodeListSearchResult> => {
		const sites = await api.getSites();
		return {
			results: sites
				.filter((s) => includes(`${s.id} ${s.name}`, filter))
				.map((s) => ({ name: `${s.name} (${s.id})`, value: s.id })),
		};
	}),
	searchLocations: withKhaos(
		async ({ ctx, api, creds }, filter?: string): Promise<INodeListSearchResult> => {
			const raw = ctx.getCurrentNodeParameter('site', { extractValue: true }) as unknown;
			const site =
				(typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : '') ||
				creds.defaultSiteId;
			if (!site) return { results: [] };
			const locations = await api.getLocations(site);
			return {
				results: locations
					.filter((l) => includes(`${l.id} ${l.name}`, filter))
					.map((l) => ({
						name: `${l.name} (${l.id})${l.sellable ? '' : ' – not sellable'}`,
						value: l.id,
					})),
			};
		},
	),
};

export const loadOptions = {
	getReturnReasons: withKhaos(async ({ api }): Promise<INodePropertyOptions[]> => {
		const reasons = await api.getReturnReasons();
		return reasons.map((r) => ({
			name: `${r.description || r.code} (${r.id})`,
			value: r.id,
			description: `${r.code}; Khaos ${r.restock ? 'restocks' : 'does not restock'} on processing`,
		}));
	}),
	getSites: withKhaos(
		async ({ api }): Promise<INodePropertyOptions[]> =>
			(await api.getSites()).map((s) => ({ name: `${s.name} (${s.id})`, value: s.id })),
	),
};
