import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialects/dialect-of.js';

/**
 * Numeric samples arrive in `samples_recent` first and are moved into `samples` in bulk, a range
 * of series at a time, by the sample mover (metrics/sample-mover.ts).
 *
 * Why: `samples` is clustered by (series_id, at), so that reading one series over a time range
 * is one index range. Writing into it straight from each agent batch made every commit dirty one
 * b-tree page per series (the page at the end of that series' history): ~2.4 KB written to the
 * WAL per 24-byte sample, and the ingest throughput capped well below what the rest of the path
 * allows. `samples_recent` has the same layout but holds only the last few seconds of each
 * series (a handful of samples each), so many series share a page and a batch of 1,000 samples
 * touches tens of pages, not a thousand; the mover then appends tens of samples per series per
 * page to `samples`.
 *
 * Readers see both tables as one (metrics/sample-rows.ts): a (series, time) present in both is
 * read from `samples_recent`, which holds the later write. The foreign key cascades like
 * `samples`': deleting a series deletes its recent samples too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const dialect = dialectOf(db);
  const table = db.schema
    .createTable('samples_recent')
    .addColumn('series_id', 'bigint', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('samples_recent_pk', ['series_id', 'at']);
  await dialect.clusteredByPrimaryKey(table).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Nothing may be lost going back: recent samples join the others first.
  await sql`insert into samples (series_id, at, value) select series_id, at, value from samples_recent where true
    on conflict (series_id, at) do update set value = excluded.value`.execute(db);
  await db.schema.dropTable('samples_recent').execute();
}
