/**
 * The workflow builder: the n8n workflow JSON types the templates are written in,
 * stable node ids and the Builder that collects nodes and connections and lays
 * out the stickies (n8n's template conventions: one overview sticky, How it works
 * and Setup, left of everything; one short section sticky over each group of nodes).
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
	/** The client's n8n error workflow: imported (and activated) first; every other template's settings.errorWorkflow names it. */
	errorWorkflow?: true;
	build: () => WorkflowTemplate;
}

export function uuidFor(seed: string): string {
	const h = createHash('sha1').update(seed).digest('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Canvas geometry: n8n draws a node as a 100 × 100 square from its position, its name and
 * notes below it. A section sticky reaches padX beside its outermost nodes, padBottom below
 * the lowest (room for the name and notes) and padTop plus its text above the highest.
 */
export const CANVAS = {
	node: 100,
	padX: 80,
	padTop: 20,
	padBottom: 100,
	overviewWidth: 520,
	overviewGap: 60,
	grid: 20,
} as const;

/** Sticky colours: the overview n8n's default (yellow), the sections of the main path grey, the exception path red. */
export const SECTION_COLOR = 7;
export const EXCEPTION_COLOR = 3;

/**
 * Height of a sticky's markdown on the canvas, estimated generously (about 7.2 px a character,
 * 21 px a line of text, more for headings and between paragraphs).
 */
export function textHeight(content: string, width: number): number {
	const perLine = Math.max(10, Math.floor((width - 32) / 7.2));
	let height = 32;
	for (const line of content.split('\n')) {
		if (line.startsWith('## ')) height += 36;
		else if (line.startsWith('### ')) height += 30;
		else if (line === '') height += 10;
		else height += Math.ceil(line.length / perLine) * 21;
	}
	return height;
}

const down = (v: number) => Math.floor(v / CANVAS.grid) * CANVAS.grid;
const up = (v: number) => Math.ceil(v / CANVAS.grid) * CANVAS.grid;

interface Section {
	title: string;
	text: string;
	nodes: string[];
	color: number;
}

export class Builder {
	private readonly nodes: N8nNode[] = [];
	private readonly connections: WorkflowTemplate['connections'] = {};
	private readonly sections: Section[] = [];
	private overviewContent: string | null = null;

	constructor(
		private readonly key: string,
		private readonly name: string,
		/** High-volume workflows: whether successful runs are saved is a client value (the inbox row is the record). */
		private readonly keepSuccessSetting = false,
	) {}

	add(node: Omit<N8nNode, 'id'>): string {
		if (this.nodes.some((n) => n.name === node.name))
			throw new Error(`${this.key}: duplicate node name ${node.name}`);
		this.nodes.push({ id: uuidFor(`${this.key}:${node.name}`), ...node });
		return node.name;
	}

	connect(from: string, to: string, output = 0, input = 0): this {
		const entry = (this.connections[from] ??= { main: [] });
		while (entry.main.length <= output) entry.main.push([]);
		entry.main[output].push({ node: to, type: 'main', index: input });
		return this;
	}

	/** The overview sticky (markdown: a `##` title, `### How it works` and `### Setup`), placed left of every section. */
	overview(content: string): this {
		this.overviewContent = content;
		return this;
	}

	/** A section sticky over these nodes: `### title` and a sentence or two; sized around the nodes when the workflow is built. */
	section(title: string, text: string, nodes: string[], color = SECTION_COLOR): this {
		this.sections.push({ title, text, nodes, color });
		return this;
	}

	private stickies(): N8nNode[] {
		const placed = new Map<string, string>();
		const stickies: N8nNode[] = [];
		for (const s of this.sections) {
			const positions = s.nodes.map((name) => {
				const node = this.nodes.find((n) => n.name === name);
				if (!node) throw new Error(`${this.key}: section ${s.title} names no node ${name}`);
				if (placed.has(name))
					throw new Error(`${this.key}: ${name} is in sections ${placed.get(name)} and ${s.title}`);
				placed.set(name, s.title);
				return node.position;
			});
			const left = Math.min(...positions.map((p) => p[0])) - CANVAS.padX;
			const width = Math.max(...positions.map((p) => p[0])) + CANVAS.node + CANVAS.padX - left;
			const content = `### ${s.title}\n${s.text}`;
			const top = down(
				Math.min(...positions.map((p) => p[1])) - CANVAS.padTop - textHeight(content, width),
			);
			const bottom = Math.max(...positions.map((p) => p[1])) + CANVAS.node + CANVAS.padBottom;
			stickies.push(
				this.sticky(`Section: ${s.title}`, [left, top], content, width, up(bottom - top), s.color),
			);
		}
		const loose = this.nodes.filter((n) => !placed.has(n.name)).map((n) => n.name);
		if (this.sections.length && loose.length)
			throw new Error(`${this.key}: nodes in no section: ${loose.join(', ')}`);
		if (this.overviewContent !== null) {
			const left =
				Math.min(...stickies.map((n) => n.position[0])) - CANVAS.overviewGap - CANVAS.overviewWidth;
			const top = Math.min(...stickies.map((n) => n.position[1]));
			const height = up(textHeight(this.overviewContent, CANVAS.overviewWidth));
			stickies.unshift(
				this.sticky('Overview', [left, top], this.overviewContent, CANVAS.overviewWidth, height),
			);
		}
		return stickies;
	}

	private sticky(
		name: string,
		position: [number, number],
		content: string,
		width: number,
		height: number,
		color?: number,
	): N8nNode {
		if (this.nodes.some((n) => n.name === name))
			throw new Error(`${this.key}: a node is named like the sticky ${name}`);
		const parameters = { content, width, height, ...(color === undefined ? {} : { color }) };
		return {
			id: uuidFor(`${this.key}:${name}`),
			name,
			type: 'n8n-nodes-base.stickyNote',
			typeVersion: 1,
			position,
			parameters,
		};
	}

	build(): WorkflowTemplate {
		return {
			name: this.name,
			nodes: [...this.stickies(), ...this.nodes],
			connections: this.connections,
			settings: {
				executionOrder: 'v1',
				timezone: '{{TIMEZONE}}',
				saveManualExecutions: true,
				saveDataErrorExecution: 'all',
				...(this.keepSuccessSetting
					? { saveDataSuccessExecution: '{{SAVE_SUCCESS_EXECUTIONS}}' }
					: {}),
				callerPolicy: 'workflowsFromSameOwner',
			},
		};
	}
}
