import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialects/dialect-of.js';

/**
 * Compact results (issue 12, footprint): check results and rollups keyed by a small integer per
 * monitor (`monitor_keys`) instead of the UUID text, clustered on (monitor_key, at) — WITHOUT
 * ROWID on SQLite, so a result is stored once, with no rowid and no secondary index (pruning goes
 * through the primary key, monitor by monitor). Status becomes a small integer (0 down, 1 up,
 * 2 warning) and the HTTP probe's success sentence, which only restates the status code and
 * latency, is stored as NULL.
 *
 * Rollups hold time shares (up_ms, known_ms) for time-weighted uptime; the minute level, which at
 * 60 s intervals duplicated every check, is dropped, and a day level answers the long windows.
 *
 * Existing rows are kept: results are copied over (two results of one monitor in the same
 * millisecond keep the later one: the new key has no room for both); old hour rollups become
 * hours whose known time is the whole hour and whose up time is the share of up checks (the
 * best the old counts can say). Minute rollups are dropped (raw results cover their span).
 */
const STATUS_CODE = sql`case status when 'up' then 1 when 'warning' then 2 else 0 end`;

/** A 32-bit auto-increment key (the monitor keys are few; 4 bytes a row in every results row's key). */
const smallAutoIncrement = (db: Kysely<unknown>) => (dialectOf(db).autoIncrementType === 'bigserial' ? 'serial' : 'integer');

async function createCompactTables(db: Kysely<unknown>): Promise<void> {
  // On SQLite the key is the rowid alias; on PostgreSQL a serial.
  await db.schema
    .createTable('monitor_keys')
    .addColumn('key', smallAutoIncrement(db), (c) => c.primaryKey())
    .addColumn('monitor_id', 'text', (c) => c.notNull().unique().references('monitors.id').onDelete('cascade'))
    .execute();
  const table = db.schema
    .createTable('check_results')
    .addColumn('monitor_key', 'integer', (c) => c.notNull().references('monitor_keys.key').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'smallint', (c) => c.notNull())
    .addColumn('latency_ms', 'integer')
    .addColumn('value', 'double precision')
    .addColumn('message', 'text')
    .addPrimaryKeyConstraint('check_results_key_pk', ['monitor_key', 'at']);
  await dialectOf(db).clusteredByPrimaryKey(table).execute();
  for (const name of ['rollups_hour', 'rollups_day']) {
    const rollups = db.schema
      .createTable(name)
      .addColumn('monitor_key', 'integer', (c) => c.notNull().references('monitor_keys.key').onDelete('cascade'))
      .addColumn('bucket_start', 'bigint', (c) => c.notNull())
      .addColumn('up_ms', 'bigint', (c) => c.notNull())
      .addColumn('known_ms', 'bigint', (c) => c.notNull())
      .addColumn('checks', 'integer', (c) => c.notNull())
      .addColumn('up_checks', 'integer', (c) => c.notNull())
      .addColumn('latency_count', 'integer', (c) => c.notNull())
      .addColumn('latency_sum', 'double precision')
      .addPrimaryKeyConstraint(`${name}_key_pk`, ['monitor_key', 'bucket_start']);
    await dialectOf(db).clusteredByPrimaryKey(rollups).execute();
  }
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('check_results').renameTo('check_results_0002').execute();
  await db.schema.alterTable('rollups_hour').renameTo('rollups_hour_0002').execute();
  await createCompactTables(db);

  await sql`insert into monitor_keys (monitor_id) select id from monitors order by created_at, id`.execute(db);
  await sql`
    insert into check_results (monitor_key, at, status, latency_ms, value, message)
    select k.key, r.at, ${STATUS_CODE}, r.latency_ms, r.value,
           case when r.status = 'up' and r.message = 'HTTP ' || cast(cast(r.value as integer) as text) || ' in ' || cast(r.latency_ms as text) || ' ms' then null else r.message end
    from check_results_0002 r join monitor_keys k on k.monitor_id = r.monitor_id
    where r.id = (select max(d.id) from check_results_0002 d where d.monitor_id = r.monitor_id and d.at = r.at)
  `.execute(db);
  await sql`
    insert into rollups_hour (monitor_key, bucket_start, up_ms, known_ms, checks, up_checks, latency_count, latency_sum)
    select k.key, h.bucket_start, case when h.count > 0 then (3600000 * h.up_count) / h.count else 0 end, case when h.count > 0 then 3600000 else 0 end,
           h.count, h.up_count, h.latency_count, h.latency_sum
    from rollups_hour_0002 h join monitor_keys k on k.monitor_id = h.monitor_id
  `.execute(db);

  await db.schema.dropTable('check_results_0002').execute();
  await db.schema.dropTable('rollups_hour_0002').execute();
  await db.schema.dropTable('rollups_minute').execute();
  // Hours before the old hour watermark are rolled up (converted above); the minute level is gone.
  await sql`delete from app_meta where key = 'rollup_minute_watermark'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('check_results_0012')
    .addColumn('id', dialectOf(db).autoIncrementType, (c) => c.primaryKey())
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('latency_ms', 'integer')
    .addColumn('value', 'double precision')
    .addColumn('message', 'text')
    .execute();
  await sql`
    insert into check_results_0012 (monitor_id, at, status, latency_ms, value, message)
    select k.monitor_id, r.at, case r.status when 1 then 'up' when 2 then 'warning' else 'down' end, r.latency_ms, r.value,
           coalesce(r.message, 'HTTP ' || cast(cast(r.value as integer) as text) || ' in ' || cast(r.latency_ms as text) || ' ms')
    from check_results r join monitor_keys k on k.key = r.monitor_key order by r.at
  `.execute(db);
  for (const table of ['check_results', 'rollups_hour', 'rollups_day', 'monitor_keys']) await db.schema.dropTable(table).execute();
  await db.schema.alterTable('check_results_0012').renameTo('check_results').execute();
  await db.schema.createIndex('check_results_monitor_at_idx').on('check_results').columns(['monitor_id', 'at']).execute();
  await db.schema.createIndex('check_results_at_idx').on('check_results').column('at').execute();
  // The old rollups are rebuilt by the old rollup job from the results still kept.
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
  await sql`delete from app_meta where key in ('rollup_hour_watermark', 'rollup_day_watermark')`.execute(db);
}
