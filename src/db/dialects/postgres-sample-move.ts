/**
 * PostgreSQL's sample move (the contract: SqlDialect.moveRecentSamples; why it locks as it does:
 * metrics/sample-mover.ts). Several movers and every web process's ingestion may work on the
 * same rows, so one statement takes what nobody else holds and moves it: a row is moved by the
 * statement that deletes it (DELETE … RETURNING feeds the insert), so it is moved once.
 */
import { sql, type Kysely } from 'kysely';
import type { MovedSamples } from './storage-dialect.js';

/** PostgreSQL's codes for a transaction aborted by a lock cycle or a serialization conflict: trying again is the remedy. */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

/**
 * The mover itself waits for nobody, but the rows it writes into `samples` can still meet
 * another transaction there (retention deleting a late sample's old page, say); should
 * PostgreSQL abort it in a lock cycle, it moved nothing and tries again.
 */
export async function moveRecentSamplesPostgres(db: Kysely<any>, from: number, to: number): Promise<MovedSamples> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await moveOnce(db, from, to);
    } catch (error) {
      if (attempt >= ATTEMPTS || !RETRYABLE.has((error as { code?: string }).code ?? '')) throw error;
    }
  }
}

/**
 * `owned`: the slice's series that have recent samples and that no one else holds (an ingest
 * transaction changing a unit, another mover), locked until commit: no other mover moves them
 * meanwhile. `picked`: their recent rows that no ingest transaction is rewriting. A lock taken
 * FOR NO KEY UPDATE lets ingestion go on inserting samples of these series (its foreign key only
 * takes KEY SHARE).
 */
async function moveOnce(db: Kysely<any>, from: number, to: number): Promise<MovedSamples> {
  const { rows } = await sql<{ moved_rows: string; moved_series: string }>`with owned as (
      select id from series where id in (select series_id from samples_recent where series_id >= ${from} and series_id < ${to})
      for no key update skip locked
    ), picked as (
      select series_id, at from samples_recent where series_id in (select id from owned) for update skip locked
    ), moved as (
      delete from samples_recent r using picked where r.series_id = picked.series_id and r.at = picked.at
      returning r.series_id, r.at, r.value
    ), newest as (
      select distinct on (series_id) series_id, at, value from moved order by series_id, at desc
    ), latest as (
      update series set last_at = newest.at, last_num = newest.value from newest
      where series.id = newest.series_id and (series.last_at is null or series.last_at <= newest.at) returning 1
    ), stored as (
      insert into samples (series_id, at, value) select series_id, at, value from moved order by series_id, at
      on conflict (series_id, at) do update set value = excluded.value returning 1
    )
    select (select count(*) from stored) as moved_rows, (select count(*) from latest) as moved_series`.execute(db);
  return { rows: Number(rows[0]!.moved_rows), series: Number(rows[0]!.moved_series) };
}
