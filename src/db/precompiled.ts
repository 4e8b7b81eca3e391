/**
 * Queries built and compiled once, then run many times with new values: for the hottest paths
 * (a ping), where building a Kysely query each time costs several times what SQLite takes to run
 * it. Write the query with `slot('name')` where a value goes, compile it against the database
 * (the SQL differs by dialect), then `run(trx, { name: value })` in any transaction of that
 * database.
 *
 * In a transaction whose dialect offers a direct connection (SqlDialect.directConnection: SQLite,
 * dialects/sqlite.ts) the query runs on its own prepared statement, straight on the
 * transaction's connection: same transaction, same commit, without Kysely's executor around each
 * run. Elsewhere (PostgreSQL, or no transaction) it goes through Kysely; its SQL never changes,
 * so SQLite's statement cache still serves it.
 *
 * This leans on Kysely's internals (getExecutor, the executor's adapter and plugins, what
 * compile() leaves in `parameters`, how its SQLite driver holds its one connection through a
 * transaction): `kysely` is pinned to an exact version in package.json, and
 * test/kysely-internals.test.ts fails if an upgrade changes any of them.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import { dialectOf } from './dialects/dialect-of.js';
import type { DirectConnection, DirectStatement } from './dialects/direct-connection.js';

const SLOT = Symbol('slot');
interface Slot {
  readonly [SLOT]: string;
}

/** A placeholder for a value given at run time; typed as whatever the query expects there. */
export function slot<T>(name: string): T {
  return { [SLOT]: name } satisfies Slot as unknown as T;
}

const isSlot = (value: unknown): value is Slot => typeof value === 'object' && value !== null && SLOT in value;

export interface Precompiled<Row> {
  /** Throws at once when a slot has no value; otherwise settles as Kysely's executeQuery would. */
  run(db: Kysely<any>, values: Record<string, unknown>): Promise<QueryResult<Row>>;
}

export interface RawStatement<Row> {
  /** Settles as Kysely's executeQuery would. */
  run(db: Kysely<any>, parameters: readonly unknown[]): Promise<QueryResult<Row>>;
}

/**
 * SQL text whose parameters are given positionally at run time (multi-row VALUES lists, whose
 * text depends on the row count): the same direct path as precompile() where the dialect has
 * one, Kysely's executor elsewhere.
 */
export function rawStatement<Row>(sql: string): RawStatement<Row> {
  /** Prepared on the first direct run; again should the statement meet another SQLite database. */
  let direct: { on: DirectConnection; statement: DirectStatement } | undefined;
  return {
    run(db, parameters) {
      try {
        const connection = dialectOf(db).directConnection(db);
        if (!connection) return db.executeQuery<Row>(CompiledQuery.raw(sql, [...parameters]));
        if (direct?.on !== connection) direct = { on: connection, statement: connection.prepare(sql) };
        return Promise.resolve(direct.statement(parameters));
      } catch (error) {
        return Promise.reject(error); // as from Kysely's executor: a refused statement rejects
      }
    },
  };
}

export function precompile<Row>(query: Compilable<Row>): Precompiled<Row> {
  const { sql, parameters } = query.compile();
  const names = parameters.map((p) => (isSlot(p) ? p[SLOT] : undefined));
  const statement = rawStatement<Row>(sql);
  return {
    run(db, values) {
      const bound = parameters.map((p, i) => {
        const name = names[i];
        if (name === undefined) return p;
        if (!(name in values)) throw new Error(`precompiled query: no value for slot "${name}"`);
        return values[name];
      });
      return statement.run(db, bound);
    },
  };
}
