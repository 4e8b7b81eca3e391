/** The registry of storage dialects: the only place that knows which engines exist. */
import type { DatabaseTarget } from '../database-url.js';
import { postgresDialect } from './postgres.js';
import { sqliteDialect } from './sqlite.js';
import type { DialectName, StorageDialect } from './storage-dialect.js';

export const DIALECT_NAMES = ['sqlite', 'postgres'] as const satisfies readonly DialectName[];

const dialects: { [K in DialectName]: StorageDialect<Extract<DatabaseTarget, { dialect: K }>> } = {
  sqlite: sqliteDialect,
  postgres: postgresDialect,
};

export function storageDialectFor<T extends DatabaseTarget>(target: T): StorageDialect<T> {
  return dialects[target.dialect] as unknown as StorageDialect<T>;
}

export type { DialectName, StorageDialect };
