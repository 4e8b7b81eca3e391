/** Threshold rules on agent metrics (migration 0008): see the migration for what each column holds. */
import type { Generated } from 'kysely';

export interface MetricRulesTable {
  /** The rule's monitor (kind `metric`). */
  monitor_id: string;
  tenant_id: string;
  metric: string;
  machine_id: string | null;
  machine_tag: string | null;
  /** Canonical JSON (sorted keys), `{}` when none. */
  labels: Generated<string>;
  /** numeric | bool | string */
  value_type: string;
  /** numeric: last | avg | min | max */
  aggregation: string | null;
  /** numeric: the aggregation window; string `changed`: how long a change alerts. */
  window_seconds: number | null;
  /** numeric: > >= < <= == != */
  comparison: string | null;
  warning_threshold: number | null;
  critical_threshold: number | null;
  /** bool: 1 alerts on true, 0 on false. */
  alert_when: number | null;
  /** string: changed | differs */
  string_condition: string | null;
  expected_text: string | null;
  /** bool and string: warning | critical */
  breach_level: string | null;
  for_seconds: Generated<number>;
  observed_level: string | null;
  warning_since: number | null;
  critical_since: number | null;
  last_value: number | null;
  last_message: string | null;
  last_evaluated_at: number | null;
  last_recorded_at: number | null;
  revision: Generated<number>;
}
