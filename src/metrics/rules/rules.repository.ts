/**
 * The `metric_rules` table: a rule's definition and evaluation state, read with its monitor.
 * Every function takes the tenant id, except those of the evaluator, which works across tenants
 * by design and names each rule by its monitor id.
 */
import type { Db } from '../../db/database.js';
import type { MetricRulesTable } from '../../db/tables/metric-rules.table.js';
import { findMonitor, findMonitors, type Monitor } from '../../monitors/monitors.repository.js';
import type { Aggregation, BreachLevel, Comparison, ObservedLevel, RuleDefinition, StringCondition, ValueType } from './definition.js';
import { canonicalLabels } from './definition.js';

export interface RuleEvaluationState {
  observedLevel: ObservedLevel | null;
  warningSince: number | null;
  criticalSince: number | null;
  lastValue: number | null;
  lastMessage: string | null;
  lastEvaluatedAt: number | null;
  lastRecordedAt: number | null;
}

export interface MetricRule {
  monitor: Monitor;
  definition: RuleDefinition;
  evaluation: RuleEvaluationState;
}

type RuleRow = Omit<MetricRulesTable, 'labels' | 'for_seconds' | 'revision'> & { labels: string; for_seconds: number; revision: number };

export function toDefinition(row: RuleRow): RuleDefinition {
  return {
    metric: row.metric,
    machineId: row.machine_id,
    machineTag: row.machine_tag,
    labels: JSON.parse(row.labels) as Record<string, string>,
    type: row.value_type as ValueType,
    aggregation: row.aggregation as Aggregation | null,
    windowSeconds: row.window_seconds,
    comparison: row.comparison as Comparison | null,
    warningThreshold: row.warning_threshold,
    criticalThreshold: row.critical_threshold,
    alertWhen: row.alert_when === null ? null : row.alert_when === 1,
    condition: row.string_condition as StringCondition | null,
    expected: row.expected_text,
    level: row.breach_level as BreachLevel | null,
    forSeconds: row.for_seconds,
  };
}

export function toEvaluationState(row: RuleRow): RuleEvaluationState {
  return {
    observedLevel: row.observed_level as ObservedLevel | null,
    warningSince: row.warning_since,
    criticalSince: row.critical_since,
    lastValue: row.last_value,
    lastMessage: row.last_message,
    lastEvaluatedAt: row.last_evaluated_at,
    lastRecordedAt: row.last_recorded_at,
  };
}

/** The definition's columns, as create and update write them. */
function definitionColumns(d: RuleDefinition) {
  return {
    metric: d.metric,
    machine_id: d.machineId,
    machine_tag: d.machineTag,
    labels: canonicalLabels(d.labels),
    value_type: d.type,
    aggregation: d.aggregation,
    window_seconds: d.windowSeconds,
    comparison: d.comparison,
    warning_threshold: d.warningThreshold,
    critical_threshold: d.criticalThreshold,
    alert_when: d.alertWhen === null ? null : d.alertWhen ? 1 : 0,
    string_condition: d.condition,
    expected_text: d.expected,
    breach_level: d.level,
    for_seconds: d.forSeconds,
  };
}

/** A new or changed definition starts its evaluation afresh: old `for` clocks measured another condition. */
const FRESH_STATE = {
  observed_level: null,
  warning_since: null,
  critical_since: null,
  last_value: null,
  last_message: null,
  last_evaluated_at: null,
} as const;

/** The settings row of a new rule, for createMonitorWithSettings. */
export const newRuleRow = (definition: RuleDefinition) => ({ ...definitionColumns(definition), ...FRESH_STATE, last_recorded_at: null });

export async function updateRuleDefinition(db: Db, tenantId: string, monitorId: string, definition: RuleDefinition): Promise<void> {
  await db
    .updateTable('metric_rules')
    .set((eb) => ({ ...definitionColumns(definition), ...FRESH_STATE, revision: eb('revision', '+', 1) }))
    .where('tenant_id', '=', tenantId)
    .where('monitor_id', '=', monitorId)
    .execute();
}

export async function findRule(db: Db, tenantId: string, monitorId: string): Promise<MetricRule | undefined> {
  const row = await db.selectFrom('metric_rules').selectAll().where('tenant_id', '=', tenantId).where('monitor_id', '=', monitorId).executeTakeFirst();
  if (!row) return undefined;
  const monitor = await findMonitor(db, tenantId, monitorId);
  if (!monitor) return undefined;
  return { monitor, definition: toDefinition(row), evaluation: toEvaluationState(row) };
}

export interface RuleFilters {
  metric?: string;
  tag?: string;
  limit: number;
  offset: number;
}

export async function listRules(db: Db, tenantId: string, filters: RuleFilters): Promise<{ items: MetricRule[]; total: number }> {
  let query = db.selectFrom('metric_rules').innerJoin('monitors', 'monitors.id', 'metric_rules.monitor_id').where('metric_rules.tenant_id', '=', tenantId);
  if (filters.metric !== undefined) query = query.where('metric_rules.metric', '=', filters.metric);
  if (filters.tag !== undefined) {
    const tag = filters.tag;
    query = query.where((eb) =>
      eb.exists(eb.selectFrom('monitor_tags').select('monitor_tags.tag').whereRef('monitor_tags.monitor_id', '=', 'metric_rules.monitor_id').where('monitor_tags.tag', '=', tag)),
    );
  }
  const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const ruleRows = await query.selectAll('metric_rules').orderBy('monitors.name').orderBy('monitors.id').limit(filters.limit).offset(filters.offset).execute();
  // The page's monitors (tags and channels included) in one go, mapped by the monitors repository.
  const monitors = await findMonitors(
    db,
    tenantId,
    ruleRows.map((row) => row.monitor_id),
  );
  const items = ruleRows.flatMap((row) => {
    const monitor = monitors.get(row.monitor_id);
    return monitor ? [{ monitor, definition: toDefinition(row), evaluation: toEvaluationState(row) }] : [];
  });
  return { items, total: Number(total.n) };
}

/** Whether the tenant has this machine (a rule's machine_id must name one). */
export async function machineExists(db: Db, tenantId: string, machineId: string): Promise<boolean> {
  const row = await db.selectFrom('machines').select('monitor_id').where('tenant_id', '=', tenantId).where('monitor_id', '=', machineId).executeTakeFirst();
  return row !== undefined;
}
