/**
 * What a threshold rule is, as pure data: its names (defined once, reused by the table, the API
 * schema and the evaluator), its defaults, and the checks that make a definition complete and
 * coherent. No database here: rules.service.ts adds the checks that need one (the machine).
 *
 * A rule has a selector (metric name, optional machine or machine tag, labels the series must
 * carry) and a condition of its value type:
 * - numeric: an aggregation (`last`, `avg`, `min`, `max`) of the raw samples within
 *   `window_seconds`, compared (`>` `>=` `<` `<=` `==` `!=`) with a warning and/or a critical
 *   threshold (seed 004's warning/critical pairs);
 * - bool: alerts when the latest value is `alert_when` (false by default: "service_nginx_ok is
 *   false"), at `level`;
 * - string: `changed` alerts while the latest change of the value is less than `window_seconds`
 *   old; `differs` alerts while the latest value is not `expected`; at `level`.
 * Every type has a `for` duration: a breach is reported once it has held that long.
 */
import type { FieldProblem } from '../../errors.js';

export const VALUE_TYPES = ['numeric', 'bool', 'string'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export const AGGREGATIONS = ['last', 'avg', 'min', 'max'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

export const STRING_CONDITIONS = ['changed', 'differs'] as const;
export type StringCondition = (typeof STRING_CONDITIONS)[number];

/** The level of a breach; `ok` is none. */
export const BREACH_LEVELS = ['warning', 'critical'] as const;
export type BreachLevel = (typeof BREACH_LEVELS)[number];
export type Level = 'ok' | BreachLevel;

/** What an evaluation saw: a level, or no data to judge. */
export const OBSERVED_LEVELS = ['ok', 'warning', 'critical', 'no_data'] as const;
export type ObservedLevel = (typeof OBSERVED_LEVELS)[number];

export const LIMITS = Object.freeze({
  /** Below ten seconds a window holds at most one or two agent pushes: a rule would flap between data and no data. */
  minWindowSeconds: 10,
  /** A day of raw samples per series is the most one evaluation reads. */
  maxWindowSeconds: 86_400,
  maxForSeconds: 86_400,
  maxLabels: 20,
  maxLabelKeyLength: 100,
  maxLabelValueLength: 500,
  maxExpectedLength: 1000,
});

export const RULE_DEFAULTS = Object.freeze({
  aggregation: 'last' as Aggregation,
  windowSeconds: 300,
  comparison: '>' as Comparison,
  alertWhen: false,
  level: 'critical' as BreachLevel,
  forSeconds: 0,
});

export interface RuleDefinition {
  metric: string;
  machineId: string | null;
  machineTag: string | null;
  labels: Record<string, string>;
  type: ValueType;
  aggregation: Aggregation | null;
  windowSeconds: number | null;
  comparison: Comparison | null;
  warningThreshold: number | null;
  criticalThreshold: number | null;
  alertWhen: boolean | null;
  condition: StringCondition | null;
  expected: string | null;
  level: BreachLevel | null;
  forSeconds: number;
}

/** A definition as a client sends it: any field may be missing (null clears it). */
export type DefinitionInput = { [K in keyof RuleDefinition]?: RuleDefinition[K] | null };

/** The API's name of each field, for the `loc` of a problem. */
export const FIELD_NAMES: Record<keyof RuleDefinition, string> = {
  metric: 'metric',
  machineId: 'machine_id',
  machineTag: 'machine_tag',
  labels: 'labels',
  type: 'type',
  aggregation: 'aggregation',
  windowSeconds: 'window_seconds',
  comparison: 'comparison',
  warningThreshold: 'warning_threshold',
  criticalThreshold: 'critical_threshold',
  alertWhen: 'alert_when',
  condition: 'condition',
  expected: 'expected',
  level: 'level',
  forSeconds: 'for_seconds',
};

type ConditionField = 'aggregation' | 'windowSeconds' | 'comparison' | 'warningThreshold' | 'criticalThreshold' | 'alertWhen' | 'condition' | 'expected' | 'level';
const CONDITION_FIELDS: readonly ConditionField[] = ['aggregation', 'windowSeconds', 'comparison', 'warningThreshold', 'criticalThreshold', 'alertWhen', 'condition', 'expected', 'level'];

/** The condition fields a rule of this type (and string condition) uses. */
function usedFields(type: ValueType, condition: StringCondition | null): ReadonlySet<ConditionField> {
  if (type === 'numeric') return new Set(['aggregation', 'windowSeconds', 'comparison', 'warningThreshold', 'criticalThreshold']);
  if (type === 'bool') return new Set(['alertWhen', 'level']);
  if (condition === 'changed') return new Set(['condition', 'windowSeconds', 'level']);
  if (condition === 'differs') return new Set(['condition', 'expected', 'level']);
  return new Set(['condition', 'windowSeconds', 'expected', 'level']);
}

const problem = (field: keyof RuleDefinition | string[], msg: string, type = 'value_error'): FieldProblem => ({
  loc: ['body', ...(Array.isArray(field) ? field : [FIELD_NAMES[field]])],
  msg,
  type,
});

function thresholdOrderProblem(comparison: Comparison, warning: number, critical: number): FieldProblem | undefined {
  const rising = comparison === '>' || comparison === '>=';
  const falling = comparison === '<' || comparison === '<=';
  if (rising && critical < warning) {
    return problem('criticalThreshold', `With ${comparison}, critical_threshold (${critical}) must be at least warning_threshold (${warning}): the critical level is the further one`);
  }
  if (falling && critical > warning) {
    return problem('criticalThreshold', `With ${comparison}, critical_threshold (${critical}) must be at most warning_threshold (${warning}): the critical level is the further one`);
  }
  if (comparison === '==' && critical === warning) return problem('criticalThreshold', 'With ==, critical_threshold and warning_threshold must differ');
  // Two "differs from" thresholds would put every value in breach of one of them.
  if (comparison === '!=') return problem('criticalThreshold', 'With !=, give warning_threshold or critical_threshold, not both');
  return undefined;
}

function labelProblems(labels: Record<string, string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (Object.keys(labels).length > LIMITS.maxLabels) problems.push(problem('labels', `At most ${LIMITS.maxLabels} labels`));
  for (const [key, value] of Object.entries(labels)) {
    if (key.trim() === '' || key.length > LIMITS.maxLabelKeyLength) {
      problems.push(problem(['labels', key], `A label name has 1 to ${LIMITS.maxLabelKeyLength} characters, not all blank`));
    } else if (value.length > LIMITS.maxLabelValueLength) {
      problems.push(problem(['labels', key], `A label value has at most ${LIMITS.maxLabelValueLength} characters`));
    }
  }
  return problems;
}

/**
 * A client's input over a current definition (none when creating); null in the input clears a
 * field. Condition fields the resulting type does not use may linger here (a numeric rule
 * turned bool keeps its thresholds in the merge): `completeDefinition` drops them.
 */
export function mergeDefinition(current: RuleDefinition | undefined, input: DefinitionInput): DefinitionInput {
  const merged: DefinitionInput = { ...current };
  for (const [key, value] of Object.entries(input) as [keyof RuleDefinition, unknown][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/**
 * Every problem of a merged definition, each located on its field; none means
 * `completeDefinition` may be called. Condition fields the type does not use are refused when
 * the client gave them (`given`), not silently ignored: a `comparison` on a bool rule is a
 * misunderstanding worth saying; those merely kept from the current definition are dropped.
 */
export function definitionProblems(input: DefinitionInput, given: DefinitionInput = input): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (input.metric == null) problems.push(problem('metric', 'Field required', 'missing'));
  else if (input.metric.trim() === '') problems.push(problem('metric', 'The metric name must not be blank'));
  if (input.machineId != null && input.machineTag != null) problems.push(problem('machineTag', 'Give machine_id or machine_tag, not both'));
  if (input.labels != null) problems.push(...labelProblems(input.labels));

  const type = input.type ?? 'numeric';
  const condition = input.condition ?? null;
  const used = usedFields(type, condition);
  for (const field of CONDITION_FIELDS) {
    if (given[field] != null && !used.has(field)) {
      const what = type === 'string' && condition ? `a string rule with condition ${condition}` : `a ${type} rule`;
      problems.push(problem(field, `Not used by ${what}`));
    }
  }

  if (type === 'numeric') {
    const warning = input.warningThreshold ?? null;
    const critical = input.criticalThreshold ?? null;
    if (warning === null && critical === null) {
      const msg = 'A numeric rule needs warning_threshold, critical_threshold or both';
      problems.push(problem('warningThreshold', msg, 'missing'), problem('criticalThreshold', msg, 'missing'));
    } else if (warning !== null && critical !== null) {
      const order = thresholdOrderProblem(input.comparison ?? RULE_DEFAULTS.comparison, warning, critical);
      if (order) problems.push(order);
    }
  } else if (type === 'string') {
    if (condition === null) problems.push(problem('condition', 'Field required for a string rule: changed or differs', 'missing'));
    else if (condition === 'differs' && input.expected == null) problems.push(problem('expected', 'Field required for condition differs', 'missing'));
  }
  return problems;
}

/** A definition without problems, with the defaults of its type filled in and the rest null. */
export function completeDefinition(input: DefinitionInput): RuleDefinition {
  const type = input.type ?? 'numeric';
  const numeric = type === 'numeric';
  const condition = type === 'string' ? (input.condition ?? null) : null;
  const windowed = numeric || condition === 'changed';
  return {
    metric: (input.metric ?? '').trim(),
    machineId: input.machineId ?? null,
    machineTag: input.machineTag ?? null,
    labels: input.labels ?? {},
    type,
    aggregation: numeric ? (input.aggregation ?? RULE_DEFAULTS.aggregation) : null,
    windowSeconds: windowed ? (input.windowSeconds ?? RULE_DEFAULTS.windowSeconds) : null,
    comparison: numeric ? (input.comparison ?? RULE_DEFAULTS.comparison) : null,
    warningThreshold: numeric ? (input.warningThreshold ?? null) : null,
    criticalThreshold: numeric ? (input.criticalThreshold ?? null) : null,
    alertWhen: type === 'bool' ? (input.alertWhen ?? RULE_DEFAULTS.alertWhen) : null,
    condition,
    expected: condition === 'differs' ? (input.expected ?? null) : null,
    level: numeric ? null : (input.level ?? RULE_DEFAULTS.level),
    forSeconds: input.forSeconds ?? RULE_DEFAULTS.forSeconds,
  };
}

/** Canonical JSON of labels (sorted keys), as the series table keeps them. */
export function canonicalLabels(labels: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** Whether a series with these labels carries every label of the rule. */
export function labelsMatch(ruleLabels: Record<string, string>, seriesLabels: Record<string, string>): boolean {
  return Object.entries(ruleLabels).every(([key, value]) => seriesLabels[key] === value);
}
