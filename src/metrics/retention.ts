/**
 * Retention of the series store, deleting in bounded statements (series chunk by series chunk,
 * at most DELETE_BATCH rows each) so that no statement holds the database for long:
 *
 * - raw samples older than METRICS_RAW_RETENTION_DAYS, but never those the minute rollups have
 *   not covered yet (a rollup backlog must not turn into lost history);
 * - changes of bool and string series older than the same age, except each series' latest
 *   change before that age: it is the value in force at the cutoff, which the points API needs
 *   to say what the value was at the start of a range (a value unchanged for a month has only
 *   that one row);
 * - minute rollups older than METRICS_MINUTE_ROLLUPS_RETENTION_DAYS, but never those not yet
 *   merged into hours; hour rollups older than METRICS_HOUR_ROLLUPS_RETENTION_DAYS;
 * - ingest ids whose idempotency window is over (expires_at < now).
 *
 * Each deletion by age goes through the primary key (series_id, time), one series chunk at a
 * time: there is no index on time alone. After pruning, the cutoffs are written to app_meta
 * so that readers know the raw and minute sources are incomplete before them.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf } from './buckets.js';
import { readStoreMarks, writeStoreMark } from './store-marks.js';

export interface MetricsRetentionDays {
  raw: number;
  minuteRollups: number;
  hourRollups: number;
}

export interface PruneReport {
  samples: number;
  changes: number;
  minuteRollups: number;
  hourRollups: number;
  ingestBatches: number;
}

const DELETE_BATCH = 5_000;
const SERIES_CHUNK = 500;

type TimedTable = 'samples' | 'series_changes' | 'series_rollups_minute' | 'series_rollups_hour';
const TIME_COLUMN: Record<TimedTable, 'at' | 'bucket_start'> = { samples: 'at', series_changes: 'at', series_rollups_minute: 'bucket_start', series_rollups_hour: 'bucket_start' };

async function seriesIdChunks(db: Db, kind: 'numeric' | 'changing'): Promise<number[][]> {
  const rows = await db
    .selectFrom('series')
    .select('id')
    .where('type', kind === 'numeric' ? '=' : '<>', 'numeric')
    .orderBy('id')
    .execute();
  const ids = rows.map((row) => Number(row.id));
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += SERIES_CHUNK) out.push(ids.slice(i, i + SERIES_CHUNK));
  return out;
}

/** Deletes rows of these series older than `cutoff`, DELETE_BATCH at a time. */
async function deleteOlder(db: Db, table: TimedTable, ids: readonly number[], cutoff: number): Promise<number> {
  const time = sql.ref(TIME_COLUMN[table]);
  const t = sql.table(table);
  const idList = sql.join(ids.map((id) => sql`${id}`));
  // series_changes: keep each series' latest row before the cutoff (the value in force then).
  const keepInForce = table === 'series_changes' ? sql`and exists (select 1 from series_changes n where n.series_id = o.series_id and n.at > o.at and n.at < ${cutoff})` : sql``;
  let deleted = 0;
  for (;;) {
    const result = await sql`delete from ${t} where (series_id, ${time}) in (
        select o.series_id, o.${time} from ${t} o where o.series_id in (${idList}) and o.${time} < ${cutoff} ${keepInForce} limit ${sql.lit(DELETE_BATCH)}
      )`.execute(db);
    const n = Number(result.numAffectedRows ?? 0n);
    deleted += n;
    if (n < DELETE_BATCH) return deleted;
  }
}

async function pruneTable(db: Db, table: TimedTable, chunks: readonly number[][], cutoff: number): Promise<number> {
  let deleted = 0;
  for (const ids of chunks) deleted += await deleteOlder(db, table, ids, cutoff);
  return deleted;
}

async function pruneIngestBatches(db: Db, now: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await sql`delete from ingest_batches where (tenant_id, ingest_id) in (
        select tenant_id, ingest_id from ingest_batches where expires_at < ${now} limit ${sql.lit(DELETE_BATCH)}
      )`.execute(db);
    const n = Number(result.numAffectedRows ?? 0n);
    deleted += n;
    if (n < DELETE_BATCH) return deleted;
  }
}

/** Deletes what is past its retention at time `now`; returns rows deleted per table. */
export async function pruneSeriesStore(db: Db, now: number, retention: MetricsRetentionDays): Promise<PruneReport> {
  const marks = await readStoreMarks(db);
  const rawCutoff = Math.min(bucketOf(now - retention.raw * DAY_MS, MINUTE_MS), marks.minuteWatermark);
  const changesCutoff = bucketOf(now - retention.raw * DAY_MS, MINUTE_MS);
  const minuteCutoff = Math.min(bucketOf(now - retention.minuteRollups * DAY_MS, MINUTE_MS), marks.hourWatermark);
  const hourCutoff = bucketOf(now - retention.hourRollups * DAY_MS, HOUR_MS);

  const numeric = await seriesIdChunks(db, 'numeric');
  const changing = await seriesIdChunks(db, 'changing');
  const report: PruneReport = {
    samples: await pruneTable(db, 'samples', numeric, rawCutoff),
    changes: await pruneTable(db, 'series_changes', changing, changesCutoff),
    minuteRollups: await pruneTable(db, 'series_rollups_minute', numeric, minuteCutoff),
    hourRollups: await pruneTable(db, 'series_rollups_hour', numeric, hourCutoff),
    ingestBatches: await pruneIngestBatches(db, now),
  };
  // Marks only move forward: a shorter retention later must not claim less was deleted.
  if (rawCutoff > marks.rawPrunedBefore) await writeStoreMark(db, 'rawPrunedBefore', rawCutoff);
  if (minuteCutoff > marks.minutePrunedBefore) await writeStoreMark(db, 'minutePrunedBefore', minuteCutoff);
  return report;
}
