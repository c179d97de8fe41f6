/**
 * The per-client values file of the import command: its schema, the check
 * that names every missing value before anything is imported, and the
 * placeholder values the templates are filled with.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { compileTables, formatTableIssue } from '../../core/mapping';
import { PLACEHOLDERS, PlaceholderError, type PlaceholderValue } from './placeholders';
import { TABLES, TABLE_KEYS, type TableKey } from './tables';

const nonEmpty = z.string().trim().min(1, 'is empty');

/** A section of the file: absent counts as {} so every missing value inside is named. */
const section = <T extends z.ZodTypeAny>(schema: T) =>
	z.preprocess((v) => (v === undefined || v === null ? {} : v), schema);

/** A credential that exists (id) or is created by the import (name + data). */
const CredentialSchema = z
	.object({
		id: nonEmpty.optional(),
		name: nonEmpty.optional(),
		/** Field values of the credential; a string "env:NAME" is read from the environment. */
		data: z.record(z.unknown()).optional(),
	})
	.superRefine((c, ctx) => {
		if (!c.id && !(c.name && c.data))
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: 'give an id (existing credential) or a name and data (to create one)',
				params: { missing: true },
			});
		if (!c.id && !c.name)
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['name'],
				message: 'is missing',
				params: { missing: true },
			});
	});

/** A Data Table that exists (id) or is found / created by name. */
const TableSchema = z
	.object({
		id: nonEmpty.optional(),
		name: nonEmpty.optional(),
		/** Create the table (through the API) when no table has this name; default true. */
		create: z.boolean().default(true),
	})
	.superRefine((t, ctx) => {
		if (!t.id && !t.name)
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				message: 'give an id or a name',
				params: { missing: true },
			});
	});

const cron = z
	.string()
	.trim()
	.regex(/^(\S+\s+){4,5}\S+$/, 'must be a cron expression of 5 or 6 fields, e.g. "0 6 * * *"');

const email = z
	.string()
	.trim()
	.regex(
		/^[^@\s,]+@[^@\s,]+(\s*,\s*[^@\s,]+@[^@\s,]+)*$/,
		'must be an e-mail address (or several, comma separated)',
	);
const slackChannel = z
	.string()
	.trim()
	.regex(
		/^#?[a-z0-9_-]{2,80}$|^[CGD][A-Z0-9]{2,}$/,
		'must be a Slack channel name (#returns) or id',
	);

export const ValuesSchema = z
	.object({
		/**
		 * Any text: substitution (placeholders.ts) puts it into expressions only as a string literal
		 * and keeps `{{ … }}` in it from becoming an expression, so quotes, braces and `$env` are data.
		 */
		client: nonEmpty,
		timezone: nonEmpty,
		credentials: section(
			z.object({
				khaos: CredentialSchema,
				rebound: CredentialSchema,
				smtp: CredentialSchema.optional(),
				slack: CredentialSchema.optional(),
			}),
		),
		dataTables: section(
			z.object({
				inbox: TableSchema,
				exceptions: TableSchema,
				dispositions: TableSchema,
				reasons: TableSchema,
				skuAliases: TableSchema,
				/** Held credits for finance review; created by default (named after the client) when not given. */
				reviews: TableSchema.optional(),
				/** The credits the processor recorded (the reconciliation's expected values); created by default when not given. */
				credits: TableSchema.optional(),
				/** The events the intake queued (id, return, sequence): its duplicate check; created by default when not given. */
				events: TableSchema.optional(),
			}),
		),
		/** Khaos sites and their locations: mapping rows are checked against them. */
		sites: z
			.array(
				z.object({
					id: z.union([nonEmpty, z.number()]).transform(String),
					name: z.string().default(''),
					locations: z
						.array(
							z.object({
								id: z.union([nonEmpty, z.number()]).transform(String),
								sellable: z.boolean().default(false),
							}),
						)
						.default([]),
				}),
			)
			.default([]),
		/** Rows to seed into the mapping tables (only into tables that are empty). */
		mapping: z
			.object({
				dispositions: z.array(z.record(z.unknown())).default([]),
				reasons: z.array(z.record(z.unknown())).default([]),
				skuAliases: z.array(z.record(z.unknown())).default([]),
			})
			.default({}),
		trigger: section(
			z.object({
				mode: z.enum(['webhook', 'poll']),
				/** Fixed id in the webhook URL <n8n>/webhook/<webhookId>/rebound; generated when absent. */
				webhookId: z
					.string()
					.trim()
					.regex(/^[A-Za-z0-9-]{8,64}$/, 'must be 8–64 letters, digits or dashes')
					.optional(),
				pollEveryMinutes: z.number().int().min(1).max(1440).default(5),
				/**
				 * ReBound Trigger "Batch Window": deliveries within this many ms start one intake execution
				 * together and are answered once it queued them (0: one execution per delivery, answered on
				 * receipt). n8n's ~45 ms per execution caps one-per-delivery intake at ~20 a second here.
				 */
				batchWindowMs: z.number().int().min(0).max(5000).default(50),
				/** Deliveries per intake execution at most. */
				batchMaxSize: z.number().int().min(1).max(1000).default(100),
			}),
		),
		schedules: section(
			z.object({
				/**
				 * Processor interval. 1 s is allowed for low latency (event to credit note); a run that
				 * outlasts the interval overlaps the next one, which only takes rows still queued (the first
				 * marks its rows processing), and the Khaos references keep an overlap from applying twice.
				 */
				processEverySeconds: z.number().int().min(1).max(3600),
				creditPostingCron: cron.optional(),
				reconciliationCron: cron,
				/** Replay open exceptions every N minutes; null or absent: by hand only. */
				replayEveryMinutes: z.number().int().min(5).max(1440).nullable().default(null),
				/** The daily mapping audit (rows against Khaos, codes seen without a row). */
				mappingAuditCron: cron.default('30 6 * * *'),
			}),
		),
		processing: section(
			z.object({
				batchSize: z.number().int().min(1).max(1000),
				staleAfterMinutes: z.number().int().min(1).max(1440).default(15),
				maxTransientAttempts: z.number().int().min(1).max(50).default(5),
				/** A row left `processing` (a run stopped) is queued again at most this many times; the next time it becomes a `stuck` exception. */
				maxRequeues: z.number().int().min(1).max(100).default(3),
				/** Rows younger than this are left for the next run: a later event of the same return may still be on its way to the inbox. */
				settleSeconds: z.number().int().min(0).max(600).default(3),
				adjustmentReason: z.string().trim().min(1).max(60).default('ReBound return'),
				/**
				 * Save the data of successful intake and processor runs in n8n (its execution list). Off by
				 * default: every return has its inbox row (and every failure its exception row and a saved
				 * failed run), and saving each run's items is the largest database write per return.
				 */
				keepSuccessfulExecutions: z.boolean().default(false),
			}),
		),
		finance: section(
			z.object({
				batchCreditNotes: z.boolean(),
				deliveryPolicy: z.enum(['never', 'whole_order', 'always']).default('never'),
				rounding: z.enum(['half_up', 'half_even']).default('half_up'),
				tolerancePencePerLine: z.number().int().min(0).default(1),
				manualAuthCode: z.string().trim().min(1).max(30).default('REBOUND'),
				/** A credit worth nothing after discounts: skip with a notice, raise anyway, or hold for review. */
				zeroValueCredits: z.enum(['skip', 'raise', 'hold']).default('skip'),
				/** What a line's ReBound action does to its credit (docs/credit-notes.md#credit-policy). */
				lineActions: z
					.object({
						/** Rules per action text, after the built-in Refund (follow) and Exchange (exchange). */
						rules: z
							.array(
								z.object({
									action: z.string().trim().min(1).max(100),
									rule: z.enum(['follow', 'no_credit', 'hold', 'exchange']),
								}),
							)
							.default([]),
						other: z.enum(['follow', 'no_credit', 'hold', 'exchange']).default('hold'),
						none: z.enum(['follow', 'no_credit', 'hold', 'exchange']).default('follow'),
					})
					.default({}),
			}),
		),
		/** The mapping audit reads this many days of ReBound returns for the codes in use. */
		mappingAudit: z.object({ days: z.number().int().min(1).max(365).default(30) }).default({}),
		reconciliation: z
			.object({
				/** Final inbox rows not deleted after keepDoneInboxHours (done with credit values; none holding units), recorded credits, return events and resolved or ignored exceptions are deleted after this many days. */
				keepDoneDays: z.number().int().min(1).max(3650).default(30),
				/** Done inbox rows that carry nothing the reconciliation reads (their credit is in the recorded credits, or there was none), superseded and replayed rows leave the inbox after this many hours: the processor's and the intake's statements scan the inbox, so it holds live rows and about a day of finished ones; the recorded credits and the return events keep their record for keepDoneDays. */
				keepDoneInboxHours: z.number().int().min(1).max(8760).default(24),
				/** Notices and decided credit reviews (what the month-end report reads) are deleted after this many days: 62 covers last month's report run on any day of this month. */
				keepReportedDays: z.number().int().min(1).max(3650).default(62),
				/** At most this many rows of each kind are deleted per daily run (bounded deletes; twice 1,000 returns a day). */
				purgeBatchSize: z.number().int().min(100).max(50000).default(2000),
				/** The instance's N8N_DATA_TABLES_MAX_SIZE_BYTES (n8n's default 200 MiB): the report warns at 80 % of it. */
				dataTablesMaxBytes: z.number().int().min(1048576).default(209715200),
				emailTo: email.optional(),
				slackChannel: slackChannel.optional(),
			})
			.default({}),
		alerts: z
			.object({
				emailFrom: email.optional(),
				emailTo: email.optional(),
				slackChannel: slackChannel.optional(),
			})
			.default({}),
	})
	.superRefine((v, ctx) => {
		const need = (path: Array<string | number>, message: string) =>
			ctx.addIssue({ code: z.ZodIssueCode.custom, path, message, params: { missing: true } });
		if (v.finance.batchCreditNotes && !v.schedules.creditPostingCron)
			need(['schedules', 'creditPostingCron'], 'is needed when finance.batchCreditNotes is true');
		const emails = !!v.alerts.emailTo || !!v.reconciliation.emailTo;
		if (emails && !v.alerts.emailFrom)
			need(['alerts', 'emailFrom'], 'is needed to send alert or report e-mails');
		if (emails && !v.credentials.smtp)
			need(['credentials', 'smtp'], 'is needed to send alert or report e-mails');
		if ((v.alerts.slackChannel || v.reconciliation.slackChannel) && !v.credentials.slack)
			need(['credentials', 'slack'], 'is needed to post to Slack');
	});

export type ClientValues = z.infer<typeof ValuesSchema>;

export interface ValuesProblem {
	/** Dotted path in the values file, e.g. `credentials.khaos`. */
	name: string;
	message: string;
	missing: boolean;
}

export type ValuesResult =
	| { ok: true; values: ClientValues; warnings: string[] }
	| { ok: false; problems: ValuesProblem[] };

function pathName(path: Array<string | number>): string {
	return (
		path
			.map((p) => (typeof p === 'number' ? `[${p}]` : p))
			.join('.')
			.replace(/\.\[/g, '[') || '(root)'
	);
}

/** Check the mapping rows with the same rules the Returns Mapping node uses, and against the sites. */
function mappingProblems(v: ClientValues): { problems: ValuesProblem[]; warnings: string[] } {
	const problems: ValuesProblem[] = [];
	const warnings: string[] = [];
	const { dispositions, reasons, skuAliases } = v.mapping;
	if (dispositions.length || reasons.length || skuAliases.length) {
		const compiled = compileTables({ dispositions, reasons, skuAliases }, { requireRows: false });
		if (!compiled.ok)
			for (const issue of compiled.issues) {
				const where =
					issue.row > 0
						? `mapping.${issue.table}[${issue.row - 1}].${issue.field}`
						: `mapping.${issue.table}`;
				problems.push({ name: where, message: formatTableIssue(issue), missing: false });
			}
	}
	if (v.sites.length) {
		dispositions.forEach((row, i) => {
			const site =
				row.siteId === undefined || row.siteId === null || row.siteId === ''
					? null
					: String(row.siteId);
			const loc =
				row.locationId === undefined || row.locationId === null || row.locationId === ''
					? null
					: String(row.locationId);
			if (!site) return;
			const known = v.sites.find((s) => s.id === site);
			if (!known) {
				problems.push({
					name: `mapping.dispositions[${i}].siteId`,
					message: `site "${site}" is not one of the sites listed under sites`,
					missing: false,
				});
				return;
			}
			const location = loc ? known.locations.find((l) => l.id === loc) : undefined;
			if (loc && known.locations.length && !location) {
				problems.push({
					name: `mapping.dispositions[${i}].locationId`,
					message: `location "${loc}" is not listed for site "${site}"`,
					missing: false,
				});
			}
			const sellable =
				row.sellable === true ||
				row.sellable === 'true' ||
				row.sellable === 1 ||
				row.sellable === -1 ||
				row.sellable === 'yes';
			if (location && sellable && !location.sellable) {
				problems.push({
					name: `mapping.dispositions[${i}].sellable`,
					message: `row is sellable but location "${loc}" of site "${site}" is not a sellable location`,
					missing: false,
				});
			}
		});
	}
	if (!dispositions.length)
		warnings.push(
			'mapping.dispositions is empty: fill the disposition table before the first return arrives, or every return becomes an exception',
		);
	if (!reasons.length)
		warnings.push('mapping.reasons is empty: add rows (or one "*" row) to the reason table');
	return { problems, warnings };
}

/** Validate a parsed values file; every missing or invalid value is named. */
export function validateValues(raw: unknown, clientOverride?: string): ValuesResult {
	const input =
		raw && typeof raw === 'object' && !Array.isArray(raw)
			? { ...(raw as Record<string, unknown>) }
			: {};
	if (clientOverride) input.client = clientOverride;
	const parsed = ValuesSchema.safeParse(input);
	if (!parsed.success) {
		const problems = parsed.error.issues.map((issue) => {
			const received = (issue as { received?: unknown }).received;
			const missing =
				(issue.code === z.ZodIssueCode.invalid_type && received === 'undefined') ||
				(issue.code === z.ZodIssueCode.custom && issue.params?.missing === true);
			return {
				name: pathName(issue.path),
				message: missing && issue.message === 'Required' ? 'is missing' : issue.message,
				missing,
			};
		});
		return { ok: false, problems: dedupe(problems) };
	}
	const { problems, warnings } = mappingProblems(parsed.data);
	if (problems.length) return { ok: false, problems };
	return { ok: true, values: parsed.data, warnings };
}

function dedupe(problems: ValuesProblem[]): ValuesProblem[] {
	const seen = new Set<string>();
	return problems.filter((p) => {
		const k = `${p.name}|${p.message}`;
		if (seen.has(k)) return false;
		seen.add(k);
		return true;
	});
}

export function formatProblems(problems: ValuesProblem[]): string {
	const missing = problems.filter((p) => p.missing);
	const invalid = problems.filter((p) => !p.missing);
	const lines: string[] = [];
	if (missing.length)
		lines.push(
			`Missing values (${missing.length}):`,
			...missing.map((p) => `  - ${p.name}: ${p.message}`),
		);
	if (invalid.length)
		lines.push(
			`Invalid values (${invalid.length}):`,
			...invalid.map((p) => `  - ${p.name}: ${p.message}`),
		);
	return lines.join('\n');
}

// ------------------------------------------------------------------ placeholder values

export interface ResolvedRef {
	id: string | null;
	name: string;
}

export interface Resolved {
	credentials: {
		khaos: ResolvedRef;
		rebound: ResolvedRef;
		smtp: ResolvedRef | null;
		slack: ResolvedRef | null;
	};
	tables: Record<TableKey, ResolvedRef>;
	webhookId: string;
}

export function defaultTableName(client: string, key: TableKey): string {
	return `${client} ${TABLES[key].defaultName}`.slice(0, 128);
}

/** What is known before talking to n8n: ids given in the values file, names otherwise. */
export function resolveOffline(v: ClientValues): Resolved {
	const cred = (
		c: { id?: string; name?: string } | undefined,
		fallback: string,
	): ResolvedRef | null => (c ? { id: c.id ?? null, name: c.name ?? fallback } : null);
	const tables = {} as Record<TableKey, ResolvedRef>;
	for (const key of TABLE_KEYS) {
		const t = v.dataTables[key] ?? { id: undefined, name: undefined };
		tables[key] = { id: t.id ?? null, name: t.name ?? defaultTableName(v.client, key) };
	}
	return {
		credentials: {
			khaos: cred(v.credentials.khaos, `Khaos Control (${v.client})`) as ResolvedRef,
			rebound: cred(v.credentials.rebound, `ReBound (${v.client})`) as ResolvedRef,
			smtp: cred(v.credentials.smtp, `SMTP (${v.client})`),
			slack: cred(v.credentials.slack, `Slack (${v.client})`),
		},
		tables,
		webhookId: v.trigger.webhookId ?? randomUUID(),
	};
}

/** Every placeholder's value for this client. */
export function placeholderValues(v: ClientValues, r: Resolved): Record<string, PlaceholderValue> {
	const out: Record<string, PlaceholderValue> = {
		CLIENT_NAME: v.client,
		TIMEZONE: v.timezone,
		KHAOS_CREDENTIAL_ID: r.credentials.khaos.id ?? '',
		KHAOS_CREDENTIAL_NAME: r.credentials.khaos.name,
		REBOUND_CREDENTIAL_ID: r.credentials.rebound.id ?? '',
		REBOUND_CREDENTIAL_NAME: r.credentials.rebound.name,
		SMTP_CREDENTIAL_ID: r.credentials.smtp?.id ?? '',
		SMTP_CREDENTIAL_NAME: r.credentials.smtp?.name ?? '',
		SLACK_CREDENTIAL_ID: r.credentials.slack?.id ?? '',
		SLACK_CREDENTIAL_NAME: r.credentials.slack?.name ?? '',
		REBOUND_WEBHOOK_ID: r.webhookId,
		WEBHOOK_TRIGGER_DISABLED: v.trigger.mode !== 'webhook',
		POLL_TRIGGER_DISABLED: v.trigger.mode !== 'poll',
		POLL_EVERY_MINUTES: v.trigger.pollEveryMinutes,
		WEBHOOK_BATCH_WINDOW_MS: v.trigger.batchWindowMs,
		WEBHOOK_BATCH_MAX_SIZE: v.trigger.batchMaxSize,
		PROCESS_EVERY_SECONDS: v.schedules.processEverySeconds,
		BATCH_SIZE: v.processing.batchSize,
		SAVE_SUCCESS_EXECUTIONS: v.processing.keepSuccessfulExecutions ? 'all' : 'none',
		STALE_AFTER_MINUTES: v.processing.staleAfterMinutes,
		MAX_TRANSIENT_ATTEMPTS: v.processing.maxTransientAttempts,
		MAX_REQUEUES: v.processing.maxRequeues,
		SETTLE_SECONDS: v.processing.settleSeconds,
		ADJUSTMENT_REASON: v.processing.adjustmentReason,
		FINANCE_BATCHED: v.finance.batchCreditNotes,
		CREDIT_POSTING_CRON: v.schedules.creditPostingCron ?? '0 18 * * *',
		RECONCILIATION_CRON: v.schedules.reconciliationCron,
		REPLAY_EVERY_MINUTES: v.schedules.replayEveryMinutes ?? 60,
		REPLAY_SCHEDULE_DISABLED: v.schedules.replayEveryMinutes === null,
		MAPPING_AUDIT_CRON: v.schedules.mappingAuditCron,
		MAPPING_AUDIT_DAYS: v.mappingAudit.days,
		DELIVERY_POLICY: v.finance.deliveryPolicy,
		CREDIT_ROUNDING: v.finance.rounding,
		CREDIT_TOLERANCE_PENCE: v.finance.tolerancePencePerLine,
		MANUAL_AUTH_CODE: v.finance.manualAuthCode,
		ZERO_VALUE_CREDITS: v.finance.zeroValueCredits,
		LINE_ACTION_RULES_JSON: JSON.stringify(v.finance.lineActions.rules),
		LINE_ACTION_OTHER: v.finance.lineActions.other,
		LINE_ACTION_NONE: v.finance.lineActions.none,
		KEEP_DONE_DAYS: v.reconciliation.keepDoneDays,
		KEEP_DONE_INBOX_HOURS: v.reconciliation.keepDoneInboxHours,
		KEEP_REPORTED_DAYS: v.reconciliation.keepReportedDays,
		PURGE_BATCH_SIZE: v.reconciliation.purgeBatchSize,
		DATA_TABLES_MAX_BYTES: v.reconciliation.dataTablesMaxBytes,
		ALERT_EMAIL_DISABLED: !v.alerts.emailTo,
		ALERT_EMAIL_FROM: v.alerts.emailFrom ?? '',
		ALERT_EMAIL_TO: v.alerts.emailTo ?? '',
		ALERT_SLACK_DISABLED: !v.alerts.slackChannel,
		ALERT_SLACK_CHANNEL: v.alerts.slackChannel ?? '',
		REPORT_EMAIL_DISABLED: !v.reconciliation.emailTo,
		REPORT_EMAIL_TO: v.reconciliation.emailTo ?? '',
		REPORT_SLACK_DISABLED: !v.reconciliation.slackChannel,
		REPORT_SLACK_CHANNEL: v.reconciliation.slackChannel ?? '',
	};
	for (const key of TABLE_KEYS) {
		out[`${TABLES[key].stem}_TABLE_ID`] = r.tables[key].id ?? r.tables[key].name;
		out[`${TABLES[key].stem}_TABLE_NAME`] = r.tables[key].name;
	}
	// numbers and booleans go into expression code as they are: each must have its declared type
	for (const [name, value] of Object.entries(out)) {
		const type = PLACEHOLDERS[name]?.type;
		const ok =
			type === 'number'
				? typeof value === 'number' && Number.isFinite(value)
				: type === undefined || typeof value === type;
		if (!ok)
			throw new PlaceholderError(
				`placeholder {{${name}}} must be a ${type}, not ${JSON.stringify(value)}`,
				[name],
			);
	}
	return out;
}

/** Credential data with "env:NAME" values read from the environment; names every variable that is not set. */
export function credentialData(
	data: Record<string, unknown>,
	env: NodeJS.ProcessEnv,
	label: string,
): { ok: true; data: Record<string, unknown> } | { ok: false; missing: string[] } {
	const out: Record<string, unknown> = {};
	const missing: string[] = [];
	for (const [k, val] of Object.entries(data)) {
		if (typeof val === 'string' && val.startsWith('env:')) {
			const name = val.slice(4);
			const fromEnv = env[name];
			if (fromEnv === undefined || fromEnv === '')
				missing.push(`${label}.data.${k} (environment variable ${name})`);
			else out[k] = fromEnv;
		} else out[k] = val;
	}
	return missing.length ? { ok: false, missing } : { ok: true, data: out };
}
