import type { Dialect } from 'kysely';
import type { DatabaseTarget } from '../database-url.js';

export type DialectName = DatabaseTarget['dialect'];

/** What one storage engine brings: a Kysely dialect for a target, and how to say what it is. */
export interface StorageDialect<T extends DatabaseTarget = DatabaseTarget> {
  readonly name: T['dialect'];
  /** Builds the Kysely dialect; may create local files or directories it needs. */
  createKyselyDialect(target: T): Dialect;
}
