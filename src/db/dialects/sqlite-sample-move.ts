/**
 * SQLite's sample move (the contract: SqlDialect.moveRecentSamples, metrics/sample-mover.ts).
 * One writer at a time, so no one else can touch the slice meanwhile: three plain statements in
 * one transaction.
 */
import { sql, type Kysely } from 'kysely';
import type { MovedSamples } from './storage-dialect.js';

export function moveRecentSamplesSqlite(db: Kysely<any>, from: number, to: number): Promise<MovedSamples> {
  return db.transaction().execute(async (trx) => {
    // One pass over the slice: beside max(), SQLite's bare column `value` is the newest row's.
    const latest = await sql`update series set last_at = m.at, last_num = m.value
      from (select series_id, max(at) as at, value from samples_recent where series_id >= ${from} and series_id < ${to} group by series_id) as m
      where series.id = m.series_id and (series.last_at is null or series.last_at <= m.at)`.execute(trx);
    // (An INSERT … SELECT needs its WHERE before ON CONFLICT on SQLite: the range is it.)
    const moved = await sql`insert into samples (series_id, at, value)
      select series_id, at, value from samples_recent where series_id >= ${from} and series_id < ${to}
      on conflict (series_id, at) do update set value = excluded.value`.execute(trx);
    await sql`delete from samples_recent where series_id >= ${from} and series_id < ${to}`.execute(trx);
    return { rows: Number(moved.numAffectedRows ?? 0n), series: Number(latest.numAffectedRows ?? 0n) };
  });
}
