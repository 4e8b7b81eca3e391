import type { Kysely } from 'kysely';

/**
 * Threshold rules on agent metrics (issue 6, seeds 000 and 004): one row beside each monitor of
 * kind `metric`. The selector (metric name, optional machine or machine tag, a labels subset),
 * the condition of the rule's value type, its `for` duration, and its evaluation state.
 *
 * The condition columns are nullable because each value type uses its own: numeric rules an
 * aggregation over a window, a comparison and warning/critical thresholds; bool rules the value
 * that alerts and a level; string rules a condition (changed within a window, or differs from an
 * expected text) and a level. The service keeps the unused ones null.
 *
 * `machine_id` has no foreign key on purpose: deleting a machine must not delete the rule (and
 * leave its monitor behind) nor widen it to every machine (what SET NULL would do); a rule whose
 * machine is gone matches no series and says so.
 *
 * Evaluation state: `warning_since` / `critical_since` are when the value started to hold at
 * least that level without a break (the `for` clocks); `revision` is bumped by every write, a
 * compare-and-set so that two evaluators never both write the same evaluation.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('metric_rules')
    .addColumn('monitor_id', 'text', (c) => c.primaryKey().references('monitors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('machine_id', 'text')
    .addColumn('machine_tag', 'text')
    /** Canonical JSON (sorted keys) of the labels a series must carry; `{}` matches every series. */
    .addColumn('labels', 'text', (c) => c.notNull().defaultTo('{}'))
    /** numeric | bool | string */
    .addColumn('value_type', 'text', (c) => c.notNull())
    .addColumn('aggregation', 'text')
    .addColumn('window_seconds', 'integer')
    .addColumn('comparison', 'text')
    .addColumn('warning_threshold', 'double precision')
    .addColumn('critical_threshold', 'double precision')
    /** bool rules: 1 alerts when the value is true, 0 when it is false. */
    .addColumn('alert_when', 'integer')
    /** string rules: changed | differs */
    .addColumn('string_condition', 'text')
    .addColumn('expected_text', 'text')
    /** bool and string rules: the level of a breach (warning | critical). */
    .addColumn('breach_level', 'text')
    .addColumn('for_seconds', 'integer', (c) => c.notNull().defaultTo(0))
    /** ok | warning | critical | no_data, as the last evaluation saw it (before `for`). */
    .addColumn('observed_level', 'text')
    .addColumn('warning_since', 'bigint')
    .addColumn('critical_since', 'bigint')
    .addColumn('last_value', 'double precision')
    .addColumn('last_message', 'text')
    .addColumn('last_evaluated_at', 'bigint')
    .addColumn('last_recorded_at', 'bigint')
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Rules of a tenant for the metric names an ingest stored (the on-sample path), and listings.
  await db.schema.createIndex('metric_rules_tenant_metric_idx').on('metric_rules').columns(['tenant_id', 'metric']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('metric_rules').execute();
}
