import pg from 'pg';
import { CompiledQuery, PostgresDialect, sql, type DialectAdapter, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { checkedRowCount, columnNames, insertHead, onConflict } from './bulk-upsert-sql.js';
import { bindDialect } from './dialect-of.js';
import { moveRecentSamplesPostgres } from './postgres-sample-move.js';
import type { BulkColumnType, RowLockMode, StorageDialect } from './storage-dialect.js';

const INT8_OID = 20;

/** The array type each bulk column is sent as (one array parameter per column, through unnest). */
const ARRAY_TYPES: Record<BulkColumnType, string> = { bigint: 'bigint[]', 'double precision': 'float8[]', text: 'text[]' };

/**
 * PostgreSQL for scale-out. Times are epoch milliseconds in bigint columns: pg returns int8 as
 * a string by default, so this pool parses it to a number (safe: epoch ms stay far below 2^53).
 * Several processes may share one database, so claims and read-then-write paths take row locks.
 */
export const postgresDialect: StorageDialect<{ dialect: 'postgres'; url: string }> = {
  name: 'postgres',
  createKyselyDialect(target) {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: 10,
      connectionTimeoutMillis: 10_000,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          // eslint-disable-next-line @typescript-eslint/no-unsafe-return -- pg declares its own parsers as returning any
          oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    return new BoundPostgresDialect({ pool });
  },

  claimRows: (query) => query.forUpdate().skipLocked(),
  lockRows(query, locks) {
    if (!locks) return query.forUpdate();
    return (Object.entries(locks) as [string, RowLockMode][]).reduce((locked, [table, mode]) => withLock(locked, table, mode), query);
  },
  jsonHasEntry: (object, key, value) => sql<SqlBool>`cast(${object} as jsonb) @> cast(${JSON.stringify({ [key]: value })} as jsonb)`,
  bulkUpsert(spec) {
    // One statement whatever the row count: each column is one array parameter.
    const arrays = columnNames(spec).map((name, i) => `$${i + 1}::${ARRAY_TYPES[spec.columns[name]!]}`);
    const text = `${insertHead(spec)} select * from unnest(${arrays.join(', ')}) ${onConflict(spec)}`;
    return {
      async run(trx, columns) {
        if (checkedRowCount(spec, columns) === 0) return;
        await trx.executeQuery(CompiledQuery.raw(text, [...columns]));
      },
    };
  },
  moveRecentSamples: moveRecentSamplesPostgres,
  // pg has no synchronous path to a connection: every statement goes through Kysely.
  directConnection: () => undefined,
  async databaseSizeBytes(db) {
    const { rows } = await sql<{ bytes: string | number }>`select pg_database_size(current_database()) as bytes`.execute(db);
    return Number(rows[0]?.bytes);
  },
  boundedRead(db, timeoutMs, work) {
    return db.transaction().execute(async (trx) => {
      await sql`SET LOCAL statement_timeout = ${sql.lit(timeoutMs)}`.execute(trx);
      return work(trx);
    });
  },
  autoIncrementType: 'bigserial',
  // A heap table with a primary key index is PostgreSQL's only layout.
  clusteredByPrimaryKey: (table) => table,
};

function withLock<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, table: string, mode: RowLockMode): SelectQueryBuilder<DB, TB, O> {
  const of = table as TB & string;
  if (mode === 'update') return query.forUpdate(of);
  if (mode === 'noKeyUpdate') return query.forNoKeyUpdate(of);
  return query.forShare(of);
}

/** Kysely's PostgreSQL dialect, its adapter bound to postgresDialect (dialect-of.ts). */
class BoundPostgresDialect extends PostgresDialect {
  override createAdapter(): DialectAdapter {
    return bindDialect(super.createAdapter(), postgresDialect);
  }
}
