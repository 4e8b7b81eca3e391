/**
 * Raw numeric samples as every reader sees them: `samples` (the history, clustered by series and
 * time) and `samples_recent` (what ingestion wrote in the last seconds, not yet moved by the
 * sample mover — migration 0009) read as one table.
 *
 * A (series, time) can be in both tables for a while: an agent sent a value for a time already
 * moved, and the mover has not yet moved the new one over the old. The later write wins, as it
 * does within one table, so a `samples` row is read only when `samples_recent` has no row at the
 * same key (a primary-key probe into the small table).
 *
 * Every query names its series and a time range, so both tables are read by primary-key ranges.
 */
import { sql, type Expression, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.js';
import type { SamplesTable } from '../db/tables/metrics.table.js';

/** A raw sample row, the same in both tables. */
export type SampleRow = SamplesTable;

/** These series' samples with from <= at (< to, when given). */
export interface SampleRange {
  seriesIds: readonly number[];
  from: number;
  to?: number;
}

/** Series ids per query when a caller has many: far below either dialect's bound-parameter limit. */
export const SAMPLE_READ_CHUNK = 500;

function idList(ids: readonly number[]) {
  if (ids.length === 0) throw new Error('a samples query needs at least one series id');
  return sql.join(ids.map((id) => sql`${id}`));
}

/**
 * `select series_id, at, value` of the range from both tables, without a key twice. Unordered;
 * use it as a subquery: sql`select … from (${sampleRows(range)}) as v`.
 */
export function sampleRows({ seriesIds, from, to }: SampleRange): RawBuilder<SampleRow> {
  const ids = idList(seriesIds);
  const before = (column: string) => (to === undefined ? sql`` : sql`and ${sql.ref(column)} < ${to}`);
  return sql<SampleRow>`select r.series_id, r.at, r.value from samples_recent r
      where r.series_id in (${ids}) and r.at >= ${from} ${before('r.at')}
    union all
    select s.series_id, s.at, s.value from samples s
      where s.series_id in (${ids}) and s.at >= ${from} ${before('s.at')}
      and not exists (select 1 from samples_recent n where n.series_id = s.series_id and n.at = s.at)`;
}

/** The value a series has at exactly `at` (two primary-key lookups; the recent table wins), for "last" columns. */
export function sampleValueAt(seriesId: Expression<unknown> | RawBuilder<unknown>, at: Expression<unknown> | RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`coalesce(
    (select n.value from samples_recent n where n.series_id = ${seriesId} and n.at = ${at}),
    (select o.value from samples o where o.series_id = ${seriesId} and o.at = ${at}))`;
}

/**
 * The newest recent sample of each of these series (those that have one). A series' stored
 * latest value (series.last_at / last_num) covers what the mover has moved; this is the rest.
 */
export async function newestRecentSamples(db: Db, seriesIds: readonly number[]): Promise<Map<number, { at: number; value: number }>> {
  const newest = new Map<number, { at: number; value: number }>();
  for (let start = 0; start < seriesIds.length; start += SAMPLE_READ_CHUNK) {
    const ids = idList(seriesIds.slice(start, start + SAMPLE_READ_CHUNK));
    const { rows } = await sql<SampleRow>`select r.series_id, r.at, r.value from samples_recent r
      where r.series_id in (${ids}) and r.at = (select max(x.at) from samples_recent x where x.series_id = r.series_id)`.execute(db);
    for (const row of rows) newest.set(Number(row.series_id), { at: Number(row.at), value: Number(row.value) });
  }
  return newest;
}

/**
 * `records` with the latest value of their numeric series brought up to date with the recent
 * samples: the stored one unless a recent sample is as new or newer.
 */
export async function withRecentLatest<T extends { id: number; type: string; lastAt: number | null; lastNum: number | null }>(db: Db, records: T[]): Promise<T[]> {
  const numeric = records.filter((record) => record.type === 'numeric').map((record) => record.id);
  if (numeric.length === 0) return records;
  const newest = await newestRecentSamples(db, numeric);
  return records.map((record) => {
    const recent = newest.get(record.id);
    return recent && (record.lastAt === null || recent.at >= record.lastAt) ? { ...record, lastAt: recent.at, lastNum: recent.value } : record;
  });
}
