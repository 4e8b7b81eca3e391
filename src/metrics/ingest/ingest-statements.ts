/**
 * The SQL of the ingest path. The per-batch statements (the ingest id, the machine, a change of
 * a bool or string series) are compiled once (db/precompiled.ts). Numeric samples go into
 * `samples_recent` (migration 0009; the sample mover takes them on to `samples` and moves each
 * series' latest value forward), many rows per statement: one statement per row cost more in the
 * query layer than the database took to store the row. The best form differs by dialect, so the
 * dialect writes it (SqlDialect.bulkUpsert: a chunked VALUES list on SQLite, arrays through
 * `unnest` on PostgreSQL).
 */
import { sql, type QueryResult } from 'kysely';
import { dialectOf, type Db } from '../../db/database.js';
import { precompile, slot } from '../../db/precompiled.js';

/** Rows of (series id, time, number): numeric samples. */
export interface NumericRows {
  ids: number[];
  ats: number[];
  nums: number[];
}

export function createIngestStatements(db: Db) {
  const dialect = dialectOf(db);

  const findBatch = precompile(db.selectFrom('ingest_batches').select('response').where('tenant_id', '=', slot<string>('tenantId')).where('ingest_id', '=', slot<string>('ingestId')));
  const insertBatch = precompile(
    db.insertInto('ingest_batches').values({
      tenant_id: slot<string>('tenantId'),
      ingest_id: slot<string>('ingestId'),
      received_at: slot<number>('receivedAt'),
      expires_at: slot<number>('expiresAt'),
      machine_id: slot<string>('machineId'),
      response: slot<string>('response'),
    }),
  );
  const findMachine = precompile(db.selectFrom('machines').select('monitor_id').where('tenant_id', '=', slot<string>('tenantId')).where('hostname', '=', slot<string>('hostname')));
  /** Null os or info keeps the stored one (an agent that sends only its hostname changes nothing). */
  const touchMachine = precompile(
    db
      .updateTable('machines')
      .set({
        last_seen_at: slot<number>('at'),
        os: sql<string | null>`coalesce(${slot<string | null>('os')}, os)`,
        info: sql<string>`coalesce(${slot<string | null>('info')}, info)`,
      })
      .where('monitor_id', '=', slot<string>('machineId')),
  );
  const monitorState = precompile(db.selectFrom('monitors').select('state').where('id', '=', slot<string>('machineId')));
  const machineTags = precompile(db.selectFrom('monitor_tags').select('tag').where('monitor_id', '=', slot<string>('machineId')).orderBy('tag'));
  const loadSeries = precompile(db.selectFrom('series').select(['id', 'name', 'labels', 'type', 'unit']).where('machine_id', '=', slot<string>('machineId')));
  const setUnit = precompile(
    db
      .updateTable('series')
      .set({ unit: slot<string | null>('unit') })
      .where('id', '=', slot<number>('id')),
  );
  const setLast = precompile(
    db
      .updateTable('series')
      .set({ last_at: slot<number>('at'), last_num: slot<number | null>('num'), last_text: slot<string | null>('text') })
      .where('id', '=', slot<number>('id')),
  );
  const changeAt = precompile(db.selectFrom('series_changes').select('value').where('series_id', '=', slot<number>('id')).where('at', '<=', slot<number>('at')).orderBy('at', 'desc').limit(1));
  const upsertChange = precompile(
    db
      .insertInto('series_changes')
      .values({ series_id: slot<number>('id'), at: slot<number>('at'), value: slot<string>('value') })
      .onConflict((oc) => oc.columns(['series_id', 'at']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') })),
  );

  const samples = dialect.bulkUpsert({ table: 'samples_recent', columns: { series_id: 'bigint', at: 'bigint', value: 'double precision' }, conflict: ['series_id', 'at'] });

  async function insertSamples(trx: Db, rows: NumericRows): Promise<void> {
    await samples.run(trx, [rows.ids, rows.ats, rows.nums]);
  }

  return {
    findBatch,
    insertBatch,
    findMachine,
    touchMachine,
    monitorState,
    machineTags,
    loadSeries,
    setUnit,
    setLast,
    changeAt,
    upsertChange,
    /** Upserts numeric samples into samples_recent: the same series and time again keeps the last value written. */
    insertSamples,
    /**
     * The stored latest value of bool and string series, to compare new values with. On
     * PostgreSQL the rows are locked, so two writers (two replicas) cannot both see the old value
     * and both record the same change.
     */
    async readLatest(trx: Db, ids: number[]): Promise<QueryResult<{ id: number; last_at: number | null; last_num: number | null; last_text: string | null }>> {
      const sorted = [...ids].sort((a, b) => a - b); // one lock order for every writer
      const query = trx.selectFrom('series').select(['id', 'last_at', 'last_num', 'last_text']).where('id', 'in', sorted);
      return { rows: await dialect.lockRows(query).execute() };
    },
  };
}

export type IngestStatements = ReturnType<typeof createIngestStatements>;
