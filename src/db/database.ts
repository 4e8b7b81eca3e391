import { Kysely, sql } from 'kysely';
import { describeDatabaseTarget, type DatabaseTarget } from './database-url.js';
import { storageDialectFor, type DialectName } from './dialects/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  readonly db: Db;
  readonly dialect: DialectName;
  readonly target: DatabaseTarget;
  /** Throws when the database does not answer. Used by readiness and self-monitoring. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the database cannot be opened or reached; the message is safe to print. */
export class DatabaseUnavailableError extends Error {
  constructor(target: DatabaseTarget, cause: unknown) {
    const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
    super(`Cannot connect to the database at ${describeDatabaseTarget(target)}: ${reason}`);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Opens the database and checks that it answers, so a bad DATABASE_URL fails at start-up. */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  let db: Db;
  try {
    db = new Kysely<Database>({ dialect: storageDialectFor(target).createKyselyDialect(target) });
  } catch (error) {
    throw new DatabaseUnavailableError(target, error);
  }
  const ping = async () => {
    await sql`select 1`.execute(db);
  };
  try {
    await ping();
  } catch (error) {
    await db.destroy().catch(() => {});
    throw new DatabaseUnavailableError(target, error);
  }
  return { db, dialect: target.dialect, target, ping, close: () => db.destroy() };
}

/**
 * What differs by engine (claims, row locks, JSON matching, bulk upserts, …) is asked of the
 * database's dialect: `dialectOf(db)`, on a database or any of its transactions.
 */
export { dialectOf } from './dialects/dialect-of.js';
export type { SqlDialect } from './dialects/storage-dialect.js';

/** Runs `work` in the caller's transaction when given one, else in a transaction of its own. */
export function inTransaction<T>(db: Db, within: Db | undefined, work: (trx: Db) => Promise<T>): Promise<T> {
  return within ? work(within) : db.transaction().execute(work);
}
