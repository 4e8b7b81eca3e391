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
    return new SqliteDialect({ database });
  },
};
