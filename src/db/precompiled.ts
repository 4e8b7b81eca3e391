/**
 * Queries built and compiled once, then run many times with new values: for the hottest paths
 * (a ping), where building a Kysely query each time costs several times what SQLite takes to run
 * it. Write the query with `slot('name')` where a value goes, compile it against the database
 * (the SQL differs by dialect), then `run(trx, { name: value })` in any transaction of that
 * database. The SQL never changes between runs, so SQLite reuses its prepared statement (see
 * the statement cache in dialects/sqlite.ts).
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';

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
  run(db: Kysely<any>, values: Record<string, unknown>): Promise<QueryResult<Row>>;
}

export function precompile<Row>(query: Compilable<Row>): Precompiled<Row> {
  const { sql, parameters } = query.compile();
  const names = parameters.map((p) => (isSlot(p) ? p[SLOT] : undefined));
  return {
    run(db, values) {
      const bound = parameters.map((p, i) => {
        const name = names[i];
        if (name === undefined) return p;
        if (!(name in values)) throw new Error(`precompiled query: no value for slot "${name}"`);
        return values[name];
      });
      return db.executeQuery<Row>(CompiledQuery.raw(sql, bound));
    },
  };
}
