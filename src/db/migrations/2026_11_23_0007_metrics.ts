import type { Kysely } from 'kysely';
import { dialectOf } from '../dialects/dialect-of.js';

/**
 * Agent metrics (issue 6, seeds 000 and 004): ingest ids kept for idempotency, machines (each a
 * monitor of kind `machine`), series (one per machine + metric name + labels), raw numeric
 * samples, the change history of bool and string series, and per-minute / per-hour rollups of
 * numeric series.
 *
 * Samples are the high-volume table: a series id (integer, not a UUID: 8 bytes a row instead of
 * 36) and a time, the primary key, and the value. On SQLite it is WITHOUT ROWID, so the primary
 * key is the table (one b-tree, not a table plus an index). Same (series, time) twice keeps the
 * last value written.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const dialect = dialectOf(db);

  await db.schema
    .createTable('ingest_batches')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('ingest_id', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('machine_id', 'text')
    /** The answer given the first time, JSON, replayed to a duplicate. */
    .addColumn('response', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ingest_batches_pk', ['tenant_id', 'ingest_id'])
    .execute();
  await db.schema.createIndex('ingest_batches_expires_idx').on('ingest_batches').column('expires_at').execute();

  await db.schema
    .createTable('machines')
    .addColumn('monitor_id', 'text', (c) => c.primaryKey().references('monitors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('os', 'text')
    /** The other fields of the ingest's `machine` object, JSON. */
    .addColumn('info', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('machines_tenant_hostname_idx').on('machines').columns(['tenant_id', 'hostname']).unique().execute();
  await db.schema.createIndex('machines_last_seen_idx').on('machines').column('last_seen_at').execute();

  await db.schema
    .createTable('series')
    .addColumn('id', dialect.autoIncrementType, (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('machine_id', 'text', (c) => c.notNull().references('machines.monitor_id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    /** Canonical JSON of the labels: keys sorted, `{}` when none. */
    .addColumn('labels', 'text', (c) => c.notNull().defaultTo('{}'))
    /** numeric | bool | string */
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('unit', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    /** The latest sample: its time, and its value as a number (numeric, bool 1/0) or text (string). */
    .addColumn('last_at', 'bigint')
    .addColumn('last_num', 'double precision')
    .addColumn('last_text', 'text')
    .execute();
  await db.schema.createIndex('series_identity_idx').on('series').columns(['machine_id', 'name', 'labels']).unique().execute();
  await db.schema.createIndex('series_tenant_name_idx').on('series').columns(['tenant_id', 'name']).execute();

  await dialect
    .clusteredByPrimaryKey(
      db.schema
        .createTable('samples')
        .addColumn('series_id', 'bigint', (c) => c.notNull().references('series.id').onDelete('cascade'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('samples_pk', ['series_id', 'at']),
    )
    .execute();

  await dialect
    .clusteredByPrimaryKey(
      db.schema
        .createTable('series_changes')
        .addColumn('series_id', 'bigint', (c) => c.notNull().references('series.id').onDelete('cascade'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        /** bool series: 'true' / 'false'; string series: the value. */
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('series_changes_pk', ['series_id', 'at']),
    )
    .execute();

  for (const table of ['series_rollups_minute', 'series_rollups_hour'] as const) {
    await dialect
      .clusteredByPrimaryKey(
        db.schema
          .createTable(table)
          .addColumn('series_id', 'bigint', (c) => c.notNull().references('series.id').onDelete('cascade'))
          .addColumn('bucket_start', 'bigint', (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addColumn('min', 'double precision', (c) => c.notNull())
          .addColumn('max', 'double precision', (c) => c.notNull())
          .addColumn('sum', 'double precision', (c) => c.notNull())
          .addColumn('last', 'double precision', (c) => c.notNull())
          .addColumn('last_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['series_id', 'bucket_start']),
      )
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['series_rollups_hour', 'series_rollups_minute', 'series_changes', 'samples', 'series', 'machines', 'ingest_batches']) {
    await db.schema.dropTable(table).execute();
  }
}
