import type { QueryResult } from 'kysely';

/** Runs a query with its parameters and answers what Kysely would. */
export type DirectStatement = (parameters: readonly unknown[]) => QueryResult<any>;

/** A transaction's own connection, for the fast statement path (SqlDialect.directConnection). */
export interface DirectConnection {
  /** Prepares once; the statement then runs any number of times. */
  prepare(sql: string): DirectStatement;
}
