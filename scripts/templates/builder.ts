/**
 * The workflow builder: the n8n workflow JSON types the templates are written in,
 * stable node ids and the Builder that collects nodes and connections.
 */
import { createHash } from 'node:crypto';

export interface N8nConnection {
	node: string;
	type: 'main';
	index: number;
}

export interface N8nNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string | null; name: string } | string>;
	/** A boolean, or a `{{…_DISABLED}}` placeholder that becomes one. */
	disabled?: boolean | string;
	executeOnce?: boolean;
	alwaysOutputData?: boolean;
	notes?: string;
	notesInFlow?: boolean;
	webhookId?: string;
	onError?: string;
}

export interface WorkflowTemplate {
	name: string;
	nodes: N8nNode[];
	connections: Record<string, { main: N8nConnection[][] }>;
	settings: Record<string, unknown>;
}

export interface TemplateInfo {
	/** File name under workflows/ without .json. */
	file: string;
	title: string;
	/** When the import command activates it: always, only when finance is batched, only when replay is scheduled. */
	activate: 'always' | 'financeBatched' | 'replayScheduled';
	build: () => WorkflowTemplate;
}

export function uuidFor(seed: string): string {
	const h = createHash('sha1').update(seed).digest('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class Builder {
	private readonly nodes: N8nNode[] = [];
	private readonly connections: WorkflowTemplate['connections'] = {};

	constructor(
		private readonly key: string,
		private readonly name: string,
		/** High-volume workflows: whether successful runs are saved is a client value (the inbox row is the record). */
		private readonly keepSuccessSetting = false,
	) {}

	add(node: Omit<N8nNode, 'id'>): string {
		if (this.nodes.some((n) => n.name === node.name)) throw new Error(`${this.key}: duplicate node name ${node.name}`);
		this.nodes.push({ id: uuidFor(`${this.key}:${node.name}`), ...node });
		return node.name;
	}

	connect(from: string, to: string, output = 0, input = 0): this {
		const entry = (this.connections[from] ??= { main: [] });
		while (entry.main.length <= output) entry.main.push([]);
		entry.main[output].push({ node: to, type: 'main', index: input });
		return this;
	}

	build(): WorkflowTemplate {
		return {
			name: this.name,
			nodes: this.nodes,
			connections: this.connections,
			settings: {
				executionOrder: 'v1',
				timezone: '{{TIMEZONE}}',
				saveManualExecutions: true,
				saveDataErrorExecution: 'all',
				...(this.keepSuccessSetting ? { saveDataSuccessExecution: '{{SAVE_SUCCESS_EXECUTIONS}}' } : {}),
				callerPolicy: 'workflowsFromSameOwner',
			},
		};
	}
}
