import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import type { StorageDialect } from './storage-dialect.js';

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
    return new SqliteDialect({ database: withStatementCache(database) });
  },
};

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
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) {
        cache.delete(sql); // re-inserted below: the Map's order is the LRU order
        cache.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      if (!cached) {
        cache.set(sql, statement);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
  };
}
