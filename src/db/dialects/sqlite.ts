import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { SqliteDialect, sql, type DialectAdapter, type Kysely, type SqlBool } from 'kysely';
import { bindDialect } from './dialect-of.js';
import type { DirectConnection } from './direct-connection.js';
import { sqliteBulkUpsert } from './sqlite-bulk-upsert.js';
import { moveRecentSamplesSqlite } from './sqlite-sample-move.js';
import type { StorageDialect } from './storage-dialect.js';

export type { DirectConnection, DirectStatement } from './direct-connection.js';

/**
 * The embedded default. WAL lets readers run beside the writer; synchronous=FULL because an
 * acknowledged ping or result must survive a power cut, not only a process crash; busy_timeout
 * makes a second process (e.g. `vigie migrate` beside `serve`) wait instead of failing.
 */
export const sqliteDialect: StorageDialect<{ dialect: 'sqlite'; path: string }> = {
  name: 'sqlite',
  createKyselyDialect(target) {
    const inMemory = target.path === ':memory:';
    if (!inMemory) mkdirSync(dirname(target.path), { recursive: true });
    const database = new SQLite(target.path);
    if (!inMemory) database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    database.pragma('wal_autocheckpoint = 10000');
    database.pragma('cache_size = -65536');
    return new DirectSqliteDialect(database);
  },

  // One writer at a time: no other transaction can hold a row, so claims and locks need no clause.
  claimRows: (query) => query,
  lockRows: (query) => query,
  jsonHasEntry: (object, key, value) => sql<SqlBool>`exists (select 1 from json_each(${object}) as j where j.key = ${key} and j.value = ${value})`,
  bulkUpsert: sqliteBulkUpsert,
  moveRecentSamples: moveRecentSamplesSqlite,
  directConnection,
  async databaseSizeBytes(db) {
    // Pages in use times the page size: the WAL is not included (it is folded in at checkpoints).
    const { rows } = await sql<{ bytes: number }>`select page_count * page_size as bytes from pragma_page_count(), pragma_page_size()`.execute(db);
    return Number(rows[0]?.bytes);
  },
  // Nothing to bound on the server side: the reading runs in this process.
  boundedRead: (db, _timeoutMs, work) => work(db),
  autoIncrementType: 'integer',
  clusteredByPrimaryKey: (table) => table.modifyEnd(sql`without rowid`),
};

/**
 * Kysely's SQLite dialect, remembering which better-sqlite3 connection is behind the Kysely
 * instance it serves, for directConnection below. The key is the instance's adapter: Kysely makes
 * it once per instance, and every transaction of that instance shares it.
 */
class DirectSqliteDialect extends SqliteDialect {
  constructor(private readonly database: SQLite.Database) {
    super({ database: withStatementCache(database) });
  }

  override createAdapter(): DialectAdapter {
    const adapter = super.createAdapter();
    connections.set(adapter, directConnectionTo(this.database));
    return bindDialect(adapter, sqliteDialect);
  }
}

const connections = new WeakMap<DialectAdapter, DirectConnection>();

/**
 * For precompiled queries (db/precompiled.ts) in a transaction on SQLite: the transaction's
 * connection, on which a prepared statement then runs straight away instead of through Kysely's
 * executor (a connection provider, an executor made per query, five or six promise hops each
 * time: more than SQLite takes to run a ping's small statements). Undefined when `db` is not a
 * transaction of a database opened here: PostgreSQL, or no transaction (outside one, only
 * Kysely's mutex knows when the shared connection is free).
 *
 * Why it stays within the transaction: Kysely's SQLite driver has a single connection and holds
 * it, behind a mutex, from BEGIN to COMMIT; while the transaction's callback runs, whatever runs
 * on that connection is part of it. So the caller must await its statements in order (a direct
 * one runs the moment it is called, not queued behind Kysely's), and must not keep a transaction
 * past its end: a statement checks that a transaction is open, but cannot tell whose it is.
 */
export function directConnection(db: Kysely<any>): DirectConnection | undefined {
  if (!db.isTransaction) return undefined;
  const executor = db.getExecutor();
  // A plugin may transform results (none is installed, see db/database.ts): keep Kysely's path then.
  return executor.plugins.length === 0 ? connections.get(executor.adapter) : undefined;
}

function directConnectionTo(database: SQLite.Database): DirectConnection {
  return {
    prepare(text) {
      const statement = database.prepare(text);
      return (parameters) => {
        if (!database.inTransaction) throw new Error('a direct SQLite statement must run in a transaction');
        // As Kysely's SqliteConnection.executeQuery answers.
        if (statement.reader) return { rows: statement.all(parameters) };
        const { changes, lastInsertRowid } = statement.run(parameters);
        return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
      };
    },
  };
}

/** Distinct SQL texts kept prepared; the app's queries number in the hundreds. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query it runs; parsing the SQL costs several times what running a small
 * statement does (~17 µs against ~4 µs here). Same text, same statement: keep the last few hundred
 * prepared. A statement still being iterated (a streamed query) is busy and cannot be shared, so
 * then a fresh one is prepared.
 */
function withStatementCache(database: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      const cached = cache.get(text);
      if (cached && !cached.busy) {
        cache.delete(text); // re-inserted below: the Map's order is the LRU order
        cache.set(text, cached);
        return cached;
      }
      const statement = database.prepare(text);
      if (!cached) {
        cache.set(text, statement);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
  };
}
