import type { Dialect, Expression, Kysely, SelectQueryBuilder, SqlBool } from 'kysely';
import type { DatabaseTarget } from '../database-url.js';
import type { DirectConnection } from './direct-connection.js';

export type DialectName = DatabaseTarget['dialect'];

/** How a read holds the rows it selects until commit (PostgreSQL's row locks). */
export type RowLockMode = 'update' | 'noKeyUpdate' | 'share';

/** Column types a bulk upsert binds, named as the migrations name them. */
export type BulkColumnType = 'bigint' | 'double precision' | 'text';

export interface BulkUpsertSpec {
  readonly table: string;
  /** Every column written, in the order the values are given. */
  readonly columns: Readonly<Record<string, BulkColumnType>>;
  /** The unique key; every other column takes the value written last. */
  readonly conflict: readonly string[];
}

export interface BulkUpsert {
  /** One array per column, in the spec's column order, all the same length; none is a no-op. */
  run(trx: Kysely<any>, columns: readonly (readonly unknown[])[]): Promise<void>;
}

/** What a move of recent samples did (metrics/sample-mover.ts). */
export interface MovedSamples {
  /** Samples moved. */
  rows: number;
  /** Series whose latest value moved forward (about the series the slice held). */
  series: number;
}

/**
 * Everything whose SQL or behaviour differs between engines. Code outside src/db/ asks the
 * dialect (dialectOf) instead of testing which engine it runs on, so a third engine is one more
 * implementation of this interface, and test/dialect-contract.test.ts says what each must do.
 */
export interface SqlDialect {
  readonly name: DialectName;

  /**
   * A claim: the selected rows are locked until commit, and rows another transaction holds are
   * skipped, not waited for (FOR UPDATE SKIP LOCKED). SQLite has one writer, so a claim there
   * needs no clause: no other transaction can hold a row.
   */
  claimRows<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;

  /**
   * The rows read are held until commit, waiting for whoever holds them: per table when `locks`
   * names tables (e.g. the row to rewrite FOR NO KEY UPDATE, the row it depends on FOR SHARE),
   * else FOR UPDATE of everything read. Nothing on SQLite (one writer).
   */
  lockRows<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, locks?: Partial<Record<TB & string, RowLockMode>>): SelectQueryBuilder<DB, TB, O>;

  /**
   * True where the JSON object stored in `object` (text) has `key` with the string `value`,
   * matched with the engine's JSON functions (not as text, which would depend on how the JSON
   * was written). Key and value are bound parameters.
   */
  jsonHasEntry(object: Expression<unknown>, key: string, value: string): Expression<SqlBool>;

  /** Many rows inserted or updated by key in as few statements as the engine allows. */
  bulkUpsert(spec: BulkUpsertSpec): BulkUpsert;

  /**
   * Moves the recent samples of series ids in [from, to) from `samples_recent` into `samples`,
   * moving each series' latest value forward, in one transaction of its own (the contract and
   * the reasons: metrics/sample-mover.ts). Where several movers can run at once (PostgreSQL),
   * it takes only rows nobody else holds and leaves the rest for a later pass.
   */
  moveRecentSamples(db: Kysely<any>, from: number, to: number): Promise<MovedSamples>;

  /**
   * The fast statement path of db/precompiled.ts: the connection of transaction `db`, on which
   * a prepared statement runs without Kysely's executor; undefined where there is none (no
   * transaction, or an engine whose driver offers no such path).
   */
  directConnection(db: Kysely<any>): DirectConnection | undefined;

  /** Bytes the database takes at rest, as the engine counts them. */
  databaseSizeBytes(db: Kysely<any>): Promise<number>;

  /**
   * Runs a read-only `work`; where the engine can (PostgreSQL's statement_timeout), the server
   * itself gives up after `timeoutMs`, so an abandoned reading stops costing it too.
   */
  boundedRead<DB, T>(db: Kysely<DB>, timeoutMs: number, work: (db: Kysely<DB>) => Promise<T>): Promise<T>;

  /** Migrations: the type of an integer primary key the database numbers itself. */
  readonly autoIncrementType: 'bigserial' | 'integer';

  /**
   * Migrations: a table stored as its primary key's b-tree (SQLite's WITHOUT ROWID: one b-tree,
   * not a table plus an index); unchanged where the engine has no such choice.
   */
  clusteredByPrimaryKey<T extends { modifyEnd(modifier: Expression<unknown>): T }>(table: T): T;
}

/** One storage engine: its SQL differences, and how to open it for a target. */
export interface StorageDialect<T extends DatabaseTarget = DatabaseTarget> extends SqlDialect {
  readonly name: T['dialect'];
  /** Builds the Kysely dialect; may create local files or directories it needs. */
  createKyselyDialect(target: T): Dialect;
}
