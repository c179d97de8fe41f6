/**
 * The Returns Mapping parameters of finance's credit policy (docs/credit-notes.md#credit-policy): the
 * disposition rows' Credit column and the Credit by Line Action rules. Read by ./mappingInput.ts.
 */
import type { INodeProperties } from 'n8n-workflow';

const ACTION_RULE_OPTIONS: INodeProperties['options'] = [
	{ name: 'Follow the Disposition', value: 'follow' },
	{ name: 'No Credit', value: 'no_credit' },
	{ name: 'Hold for Finance Review', value: 'hold' },
	{ name: 'Exchange (No Credit, Recorded)', value: 'exchange' },
];

/** A column of the disposition rows: what the grade does to the line's credit. */
export const dispositionCreditColumn: INodeProperties = {
	displayName: 'Credit',
	name: 'credit',
	type: 'options',
	options: [
		{ name: 'By Action (Hold for No Movement, Else Credit)', value: '' },
		{ name: 'Credit', value: 'credit' },
		{ name: 'No Credit', value: 'no_credit' },
		{ name: 'Hold for Finance Review', value: 'hold' },
	],
	default: '',
	description:
		'Finance\'s credit policy for the grade; see <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/credit-notes.md#credit-policy">docs/credit-notes.md</a>',
};

/** What a line's ReBound action does to its credit. */
export const lineActionsProperty: INodeProperties = {
	displayName: 'Credit by Line Action',
	name: 'lineActions',
	type: 'collection',
	placeholder: 'Add Rule',
	default: {},
	displayOptions: { show: { operation: ['map'] } },
	description:
		'What the line\'s ReBound action does to its credit (Refund follows the disposition, Exchange is never credited, other actions are held); see <a href="https://github.com/n8n-nodes-rebound-khaos/n8n-nodes-rebound-khaos/blob/main/docs/credit-notes.md#credit-policy">docs/credit-notes.md</a>',
	options: [
		{
			displayName: 'Action Rules',
			name: 'rules',
			type: 'fixedCollection',
			typeOptions: { multipleValues: true },
			default: {},
			options: [
				{
					name: 'rule',
					displayName: 'Rule',
					values: [
						{
							displayName: 'Action',
							name: 'action',
							type: 'string',
							default: '',
							placeholder: 'Store credit',
							description: 'The ReBound action text, matched ignoring case and spaces',
						},
						{
							displayName: 'Credit',
							name: 'rule',
							type: 'options',
							options: ACTION_RULE_OPTIONS,
							default: 'follow',
						},
					],
				},
			],
		},
		{
			displayName: 'Action Rules (JSON)',
			name: 'rulesJson',
			type: 'string',
			default: '',
			placeholder: '[{"action":"Store credit","rule":"follow"}]',
			description:
				'More rules as a JSON list of { action, rule }, e.g. from the template values; they come after the rules above',
		},
		{
			displayName: 'Other Actions',
			name: 'other',
			type: 'options',
			options: ACTION_RULE_OPTIONS,
			default: 'hold',
			description: 'A line whose action has no rule (Refund and Exchange have built-in ones)',
		},
		{
			displayName: 'Lines Without an Action',
			name: 'none',
			type: 'options',
			options: ACTION_RULE_OPTIONS,
			default: 'follow',
		},
	],
};
