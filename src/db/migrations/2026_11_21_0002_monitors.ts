import type { Kysely } from 'kysely';
import { dialectOf } from '../dialects/dialect-of.js';

/**
 * The monitor core: monitors of every kind, their tags, HTTP targets (the first kind's own
 * settings), results, per-minute and per-hour rollups, flips and incidents.
 *
 * Results are the one high-volume table: an integer key (SQLite's rowid, PostgreSQL's bigserial)
 * and no tenant column keep each row small; reads reach them through their monitor, which is
 * tenant-checked first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const dialect = dialectOf(db);

  await db.schema
    .createTable('monitors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('consecutive_successes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failure_threshold', 'integer')
    .addColumn('recovery_threshold', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('interval_seconds', 'integer')
    .addColumn('last_checked_at', 'bigint')
    .addColumn('next_due_at', 'bigint')
    .addColumn('state_changed_at', 'bigint')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // Paused and passive monitors have no next_due_at, so the scheduler's index holds only due work.
  await db.schema.createIndex('monitors_next_due_at_idx').on('monitors').column('next_due_at').where('next_due_at', 'is not', null).execute();
  await db.schema.createIndex('monitors_tenant_kind_idx').on('monitors').columns(['tenant_id', 'kind']).execute();

  await db.schema
    .createTable('monitor_tags')
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_tags_pk', ['monitor_id', 'tag'])
    .execute();
  await db.schema.createIndex('monitor_tags_tenant_tag_idx').on('monitor_tags').columns(['tenant_id', 'tag']).execute();

  await db.schema
    .createTable('http_targets')
    .addColumn('monitor_id', 'text', (c) => c.primaryKey().references('monitors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('expected_status_code', 'integer', (c) => c.notNull())
    .addColumn('timeout_seconds', 'integer', (c) => c.notNull())
    .addColumn('follow_redirects', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('tls_skip_verify', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('headers_json', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('body', 'text')
    .addColumn('auth_json', 'text')
    .addColumn('assertions_json', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  // Seed 000's idempotence: one target per URL per tenant, enforced by the database.
  await db.schema.createIndex('http_targets_tenant_url_uq').on('http_targets').columns(['tenant_id', 'url']).unique().execute();

  await db.schema
    .createTable('check_results')
    .addColumn('id', dialect.autoIncrementType, (c) => c.primaryKey())
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('latency_ms', 'integer')
    .addColumn('value', 'double precision')
    .addColumn('message', 'text')
    .execute();
  await db.schema.createIndex('check_results_monitor_at_idx').on('check_results').columns(['monitor_id', 'at']).execute();
  await db.schema.createIndex('check_results_at_idx').on('check_results').column('at').execute();

  for (const table of ['rollups_minute', 'rollups_hour']) {
    await db.schema
      .createTable(table)
      .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
      .addColumn('bucket_start', 'bigint', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('up_count', 'integer', (c) => c.notNull())
      .addColumn('latency_count', 'integer', (c) => c.notNull())
      .addColumn('latency_min', 'integer')
      .addColumn('latency_max', 'integer')
      .addColumn('latency_sum', 'double precision')
      .addColumn('latency_p95', 'integer')
      .addPrimaryKeyConstraint(`${table}_pk`, ['monitor_id', 'bucket_start'])
      .execute();
    await db.schema.createIndex(`${table}_bucket_idx`).on(table).column('bucket_start').execute();
  }

  await db.schema
    .createTable('monitor_flips')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('from_state', 'text', (c) => c.notNull())
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text')
    .execute();
  await db.schema.createIndex('monitor_flips_monitor_at_idx').on('monitor_flips').columns(['monitor_id', 'at']).execute();
  await db.schema.createIndex('monitor_flips_tenant_at_idx').on('monitor_flips').columns(['tenant_id', 'at']).execute();

  await db.schema
    .createTable('incidents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('opened_at', 'bigint', (c) => c.notNull())
    .addColumn('opened_by_flip_id', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'bigint')
    .addColumn('resolved_by_flip_id', 'text')
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('acknowledged_by', 'text')
    .execute();
  await db.schema.createIndex('incidents_tenant_state_idx').on('incidents').columns(['tenant_id', 'state', 'opened_at']).execute();
  await db.schema.createIndex('incidents_monitor_state_idx').on('incidents').columns(['monitor_id', 'state']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['incidents', 'monitor_flips', 'rollups_hour', 'rollups_minute', 'check_results', 'http_targets', 'monitor_tags', 'monitors']) {
    await db.schema.dropTable(table).execute();
  }
}
