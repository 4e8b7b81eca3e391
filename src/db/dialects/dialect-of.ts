/**
 * Which dialect a Kysely instance (or one of its transactions) speaks. Each dialect binds its
 * SqlDialect to the adapter it gives Kysely (one per Kysely instance, shared by its
 * transactions), so the answer is a lookup: no engine test anywhere, and this module needs to
 * know none of the engines (db/precompiled.ts and the dialects themselves import it).
 */
import type { DialectAdapter, Kysely } from 'kysely';
import type { SqlDialect } from './storage-dialect.js';

const bound = new WeakMap<DialectAdapter, SqlDialect>();

/** Called by a dialect's createAdapter. */
export function bindDialect(adapter: DialectAdapter, dialect: SqlDialect): DialectAdapter {
  bound.set(adapter, dialect);
  return adapter;
}

/** The dialect of a database opened by db/database.ts (openDatabase), or of its transaction. */
export function dialectOf(db: Kysely<any>): SqlDialect {
  const dialect = bound.get(db.getExecutor().adapter);
  if (!dialect) throw new Error('dialectOf: this Kysely instance was not opened by openDatabase');
  return dialect;
}
