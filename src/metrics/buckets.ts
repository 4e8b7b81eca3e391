/**
 * Numeric samples aggregated into time buckets, in SQL, shared by the rollup job (which stores
 * minute and hour buckets) and the points API (which re-buckets rollups at read time).
 *
 * One query shape for both dialects:
 * - the bucket of a time is `(t / step) * step`: integer division, with the step written as a
 *   literal (SQLite binds JavaScript numbers as REAL, and `at / 60000.0` is not a bucket; on
 *   PostgreSQL two parameters could not be recognised as the same GROUP BY expression);
 * - "last" is the value at the greatest time of the bucket. SQLite's bare column beside `max()`
 *   does not exist on PostgreSQL, so the query groups first and looks up the row of that
 *   greatest time by primary key: raw samples by (series_id, at) in both sample tables
 *   (sample-rows.ts), rollups by (series_id, bucket_start) where the rollup holding `last_at` is
 *   the one whose bucket contains it.
 *
 * Raw samples are read through sample-rows.ts: `samples` and `samples_recent` as one table.
 *
 * Every query names its series and a time range, so that both databases read the primary key
 * (series_id, time) range by range; there is no index on time alone, on purpose (write cost).
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.js';
import type { SeriesRollupsTable } from '../db/tables/metrics.table.js';
import { sampleRows, sampleValueAt } from './sample-rows.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Where buckets are read from: raw samples, or the rollups of a finer level. */
export type BucketSource = 'samples' | 'series_rollups_minute' | 'series_rollups_hour';
export type RollupTable = 'series_rollups_minute' | 'series_rollups_hour';

/** The size of the buckets a rollup table holds. */
export const LEVEL_SIZE: Record<RollupTable, number> = { series_rollups_minute: MINUTE_MS, series_rollups_hour: HOUR_MS };

/** A bucket as the rollup tables store it (and as a bucket query answers). */
export type BucketRow = SeriesRollupsTable;

/** Which rows go in: these series, and samples (or rollup buckets) starting in [from, to). */
export interface BucketFilter {
  seriesIds: readonly number[];
  from: number;
  to: number;
}

const floorTo = (t: number, size: number) => Math.floor(t / size) * size;
export const bucketOf = floorTo;

function literalStep(stepMs: number) {
  if (!Number.isSafeInteger(stepMs) || stepMs < MINUTE_MS) throw new Error(`bucket step must be a whole number of ms >= 1 minute, got ${stepMs}`);
  return sql.lit(stepMs);
}

/**
 * `select series_id, bucket_start, count, min, max, sum, last, last_at` of the buckets of
 * `stepMs` (a multiple of the source's own bucket size) holding the filtered rows.
 */
export function bucketsQuery(source: BucketSource, filter: BucketFilter, stepMs: number): RawBuilder<BucketRow> {
  const step = literalStep(stepMs);
  if (source === 'samples') {
    return sql<BucketRow>`select g.series_id, g.b as bucket_start, g.n as "count", g.lo as "min", g.hi as "max", g.total as "sum",
        ${sampleValueAt(sql.ref('g.series_id'), sql.ref('g.last_at'))} as "last", g.last_at
      from (
        select series_id, (at / ${step}) * ${step} as b, count(*) as n, min(value) as lo, max(value) as hi, sum(value) as total, max(at) as last_at
        from (${sampleRows({ seriesIds: filter.seriesIds, from: filter.from, to: filter.to })}) as v
        group by series_id, (at / ${step}) * ${step}
      ) g`;
  }
  const ids = sql.join(filter.seriesIds.map((id) => sql`${id}`));
  const table = sql.table(source);
  const size = sql.lit(LEVEL_SIZE[source]);
  return sql<BucketRow>`select g.series_id, g.b as bucket_start, g.n as "count", g.lo as "min", g.hi as "max", g.total as "sum", r."last" as "last", g.last_at
    from (
      select series_id, (bucket_start / ${step}) * ${step} as b, sum("count") as n, min("min") as lo, max("max") as hi, sum("sum") as total, max(last_at) as last_at
      from ${table}
      where series_id in (${ids}) and bucket_start >= ${filter.from} and bucket_start < ${filter.to}
      group by series_id, (bucket_start / ${step}) * ${step}
    ) g
    join ${table} r on r.series_id = g.series_id and r.bucket_start = (g.last_at / ${size}) * ${size}`;
}

/**
 * Writes the buckets of `source` into a rollup table, replacing buckets already there: a rerun
 * (or a recompute after late samples) gives the same rows. Returns the number of buckets written.
 */
export async function upsertBuckets(db: Db, target: RollupTable, source: BucketSource, filter: BucketFilter): Promise<number> {
  if (filter.seriesIds.length === 0 || filter.from >= filter.to) return 0;
  // `where true`: SQLite needs a WHERE before ON CONFLICT when inserting from a SELECT (a join's
  // ON would otherwise be ambiguous with the upsert's).
  const result = await sql`insert into ${sql.table(target)} (series_id, bucket_start, "count", "min", "max", "sum", "last", last_at)
    select x.series_id, x.bucket_start, x."count", x."min", x."max", x."sum", x."last", x.last_at
    from (${bucketsQuery(source, filter, LEVEL_SIZE[target])}) x
    where true
    on conflict (series_id, bucket_start) do update set
      "count" = excluded."count", "min" = excluded."min", "max" = excluded."max", "sum" = excluded."sum", "last" = excluded."last", last_at = excluded.last_at`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/** Plain numbers: PostgreSQL may hand sums and counts back as strings or bigints depending on the type. */
export function toBucket(row: BucketRow): BucketRow {
  return {
    series_id: Number(row.series_id),
    bucket_start: Number(row.bucket_start),
    count: Number(row.count),
    min: Number(row.min),
    max: Number(row.max),
    sum: Number(row.sum),
    last: Number(row.last),
    last_at: Number(row.last_at),
  };
}
