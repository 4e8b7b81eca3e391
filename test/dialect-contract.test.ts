/**
 * The dialect contract (src/db/dialects/storage-dialect.ts, SqlDialect): what every storage
 * engine must do for the code that asks it, on real databases, SQLite always and PostgreSQL when
 * TEST_DATABASE_URL is set. A new engine runs the same suite. Where only an engine with row locks
 * can show a behaviour (two transactions at once), the test says so and runs there.
 */
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialectOf, openDatabase, type DatabaseHandle, type Db } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';
import { insertMachine, insertRecentSamples, insertSamples, insertSeries } from './helpers/metrics-fixtures.js';

/** A promise with its resolver, to hold one transaction open while another runs. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(TEST_DIALECTS)('the %s dialect', (dialectName) => {
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;
  const db = (): Db => database.db;
  /** Tables of this suite's own, outside the app's schema. */
  const scratch = () => db() as unknown as Kysely<any>;

  beforeEach(async () => {
    testDatabase = await createTestDatabase(dialectName);
    database = await openDatabase(testDatabase.target);
    await migrateToLatest(database.db);
    await db().insertInto('tenants').values({ id: 't1', name: 'Acme', created_at: 1000 }).execute();
  });
  afterEach(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('is the dialect the database was opened with, on the database and on its transactions', async () => {
    expect(dialectOf(db()).name).toBe(dialectName);
    await db()
      .transaction()
      .execute(async (trx) => expect(dialectOf(trx)).toBe(dialectOf(db())));
  });

  describe('claims', () => {
    beforeEach(async () => {
      await scratch()
        .schema.createTable('jobs')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('owner', 'text')
        .execute();
      await scratch()
        .insertInto('jobs')
        .values([1, 2, 3, 4, 5].map((id) => ({ id, owner: null })))
        .execute();
    });

    /** Claims up to `limit` unowned jobs for `owner`, as the router and delivery claim their rows. */
    async function claim(trx: Kysely<any>, owner: string, limit: number): Promise<number[]> {
      const free = dialectOf(trx).claimRows(trx.selectFrom('jobs').select('id').where('owner', 'is', null).orderBy('id').limit(limit));
      const rows = await trx.updateTable('jobs').set({ owner }).where('id', 'in', free).where('owner', 'is', null).returning('id').execute();
      return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    }

    it('two claimers at once never take the same row, and together take them all', async () => {
      const [a, b] = await Promise.all([
        scratch()
          .transaction()
          .execute((trx) => claim(trx, 'a', 3)),
        scratch()
          .transaction()
          .execute((trx) => claim(trx, 'b', 3)),
      ]);
      expect(a.filter((id) => b.includes(id))).toEqual([]);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
      expect(a.length + b.length).toBe(5);
    });

    if (dialectName === 'postgres') {
      it('skips rows another open transaction holds, without waiting for it (several processes claim at once)', async () => {
        const held = deferred();
        const release = deferred();
        const first = scratch()
          .transaction()
          .execute(async (trx) => {
            const mine = await claim(trx, 'a', 2);
            held.resolve();
            await release.promise; // still open while the second claims
            return mine;
          });
        await held.promise;
        const second = await scratch()
          .transaction()
          .execute((trx) => claim(trx, 'b', 5));
        release.resolve();
        expect(await first).toEqual([1, 2]);
        expect(second).toEqual([3, 4, 5]);
      });
    }
  });

  describe('row locks', () => {
    beforeEach(async () => {
      await scratch()
        .schema.createTable('counters')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('n', 'integer', (c) => c.notNull())
        .execute();
      await scratch()
        .schema.createTable('owners')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('counter_id', 'integer', (c) => c.notNull())
        .execute();
      await scratch().insertInto('counters').values({ id: 1, n: 0 }).execute();
      await scratch().insertInto('owners').values({ id: 10, counter_id: 1 }).execute();
    });

    /** Read, then write what was read plus one: a lost update unless the read holds the row. */
    async function increment(trx: Kysely<any>, perTable: boolean): Promise<void> {
      const dialect = dialectOf(trx);
      const row = perTable
        ? await dialect
            .lockRows(trx.selectFrom('counters').innerJoin('owners', 'owners.counter_id', 'counters.id').select(['counters.id', 'counters.n']).where('counters.id', '=', 1), {
              counters: 'noKeyUpdate',
              owners: 'share',
            })
            .executeTakeFirstOrThrow()
        : await dialect.lockRows(trx.selectFrom('counters').select(['id', 'n']).where('id', '=', 1)).executeTakeFirstOrThrow();
      await new Promise((resolve) => setTimeout(resolve, 20)); // let the other writers reach their read
      await trx
        .updateTable('counters')
        .set({ n: Number(row.n) + 1 })
        .where('id', '=', 1)
        .execute();
    }

    it('a locked read holds the row to the commit: concurrent read-then-write transactions lose no update', async () => {
      await Promise.all(
        Array.from({ length: 4 }, () =>
          scratch()
            .transaction()
            .execute((trx) => increment(trx, false)),
        ),
      );
      expect(Number((await scratch().selectFrom('counters').select('n').executeTakeFirstOrThrow()).n)).toBe(4);
    });

    it('locks per table when told which (the row written FOR NO KEY UPDATE, the row it depends on FOR SHARE)', async () => {
      await Promise.all(
        Array.from({ length: 3 }, () =>
          scratch()
            .transaction()
            .execute((trx) => increment(trx, true)),
        ),
      );
      expect(Number((await scratch().selectFrom('counters').select('n').executeTakeFirstOrThrow()).n)).toBe(3);
      // The shared row stays shared: two transactions may hold it at once (on SQLite, one after the other).
      const shared = (trx: Kysely<any>) => dialectOf(trx).lockRows(trx.selectFrom('owners').select('id'), { owners: 'share' }).execute();
      const held = deferred();
      const release = deferred();
      const first = scratch()
        .transaction()
        .execute(async (trx) => {
          await shared(trx);
          held.resolve();
          if (dialectName === 'postgres') await release.promise;
        });
      await held.promise;
      expect(await scratch().transaction().execute(shared)).toEqual([{ id: 10 }]);
      release.resolve();
      await first;
    });
  });

  describe('JSON label matching', () => {
    beforeEach(async () => {
      await scratch()
        .schema.createTable('docs')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('labels', 'text', (c) => c.notNull())
        .execute();
      await scratch()
        .insertInto('docs')
        .values([
          { id: 1, labels: '{"env":"prod","region":"eu"}' },
          { id: 2, labels: '{ "region" : "eu" ,\n "env": "dev" }' }, // written differently: still JSON
          { id: 3, labels: '{"we\\"ird key":"it\'s \\"quoted\\"","env":"prod"}' },
          { id: 4, labels: '{"port":8080}' },
          { id: 5, labels: '{}' },
        ])
        .execute();
    });

    const matching = async (entries: [string, string][]) => {
      let query = scratch().selectFrom('docs').select('id');
      for (const [key, value] of entries) query = query.where(dialectOf(db()).jsonHasEntry(sql.ref('docs.labels'), key, value));
      return (await query.orderBy('id').execute()).map((r) => Number(r.id));
    };

    it('matches a key with its string value wherever it sits in the object, however the JSON was written', async () => {
      expect(await matching([['env', 'prod']])).toEqual([1, 3]);
      expect(await matching([['region', 'eu']])).toEqual([1, 2]);
      expect(await matching([['env', 'dev']])).toEqual([2]);
    });

    it('several entries must all be present: a subset match', async () => {
      expect(
        await matching([
          ['env', 'prod'],
          ['region', 'eu'],
        ]),
      ).toEqual([1]);
      expect(
        await matching([
          ['env', 'dev'],
          ['region', 'eu'],
        ]),
      ).toEqual([2]);
      expect(
        await matching([
          ['env', 'prod'],
          ['region', 'us'],
        ]),
      ).toEqual([]);
      expect(await matching([])).toEqual([1, 2, 3, 4, 5]);
    });

    it('binds keys and values: quotes match as themselves, a value is not a key, a number is not its string', async () => {
      expect(await matching([['we"ird key', 'it\'s "quoted"']])).toEqual([3]);
      expect(await matching([['prod', 'env']])).toEqual([]);
      expect(await matching([['env', "prod' or '1'='1"]])).toEqual([]);
      expect(await matching([['port', '8080']])).toEqual([]);
    });
  });

  describe('bulk upserts', () => {
    beforeEach(async () => {
      await scratch()
        .schema.createTable('readings')
        .addColumn('series', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('note', 'text')
        .addPrimaryKeyConstraint('readings_pk', ['series', 'at'])
        .execute();
    });
    const spec = { table: 'readings', columns: { series: 'bigint', at: 'bigint', value: 'double precision', note: 'text' }, conflict: ['series', 'at'] } as const;
    const stored = async () => (await scratch().selectFrom('readings').selectAll().orderBy('series').orderBy('at').execute()).map((r) => [Number(r.series), Number(r.at), Number(r.value), r.note]);

    it('inserts every row of any count in one transaction, and a key written again keeps the last values', async () => {
      const upsert = dialectOf(db()).bulkUpsert(spec);
      const count = 300 + 27; // more than one statement's worth on SQLite, and an odd remainder
      const series = Array.from({ length: count }, (_, i) => i % 7);
      const ats = Array.from({ length: count }, (_, i) => 1_700_000_000_000 + i);
      await scratch()
        .transaction()
        .execute((trx) => upsert.run(trx, [series, ats, ats.map((_, i) => i + 0.5), ats.map((_, i) => `n${i}`)]));
      const first = await stored();
      expect(first).toHaveLength(count);
      expect(first).toContainEqual([3, 1_700_000_000_010, 10.5, 'n10']);

      // Rows 10 and 11 again with new values, and one new row.
      await scratch()
        .transaction()
        .execute((trx) =>
          upsert.run(trx, [
            [3, 4, 9],
            [1_700_000_000_010, 1_700_000_000_011, 5],
            [-1, -2.25, 1e300],
            ["it's", null, 'new'],
          ]),
        );
      const second = await stored();
      expect(second).toHaveLength(count + 1);
      expect(second).toContainEqual([3, 1_700_000_000_010, -1, "it's"]);
      expect(second).toContainEqual([4, 1_700_000_000_011, -2.25, null]);
      expect(second).toContainEqual([9, 5, 1e300, 'new']);
    });

    it('writes nothing for no rows, and refuses columns that do not match the spec', async () => {
      const upsert = dialectOf(db()).bulkUpsert(spec);
      await scratch()
        .transaction()
        .execute((trx) => upsert.run(trx, [[], [], [], []]));
      expect(await stored()).toEqual([]);
      await expect(
        scratch()
          .transaction()
          .execute((trx) => upsert.run(trx, [[1], [2], [3]])),
      ).rejects.toThrow('4 columns expected');
      await expect(
        scratch()
          .transaction()
          .execute((trx) => upsert.run(trx, [[1, 2], [2], [3], ['x']])),
      ).rejects.toThrow('lengths differ');
    });

    it('rolls back with the transaction it runs in', async () => {
      const upsert = dialectOf(db()).bulkUpsert(spec);
      await expect(
        scratch()
          .transaction()
          .execute(async (trx) => {
            await upsert.run(trx, [
              [1, 2],
              [10, 20],
              [1, 2],
              [null, null],
            ]);
            throw new Error('roll back');
          }),
      ).rejects.toThrow('roll back');
      expect(await stored()).toEqual([]);
    });
  });

  describe('the sample move', () => {
    const t0 = 1_700_000_000_000;
    let machineId: string;
    beforeEach(async () => {
      machineId = await insertMachine(db(), { tenantId: 't1', hostname: 'web-01', now: t0 });
    });
    const newSeries = (name: string) => insertSeries(db(), { tenantId: 't1', machineId, name, now: t0 });
    const rowsOf = async (table: 'samples' | 'samples_recent', id: number) =>
      (await db().selectFrom(table).select(['at', 'value']).where('series_id', '=', id).orderBy('at').execute()).map((r) => [Number(r.at) - t0, Number(r.value)]);
    const latestOf = async (id: number) => {
      const row = await db().selectFrom('series').select(['last_at', 'last_num']).where('id', '=', id).executeTakeFirstOrThrow();
      return [row.last_at === null ? null : Number(row.last_at) - t0, row.last_num === null ? null : Number(row.last_num)];
    };

    it("moves the range's recent samples into samples (a time in both takes the recent value) and moves each latest value forward only", async () => {
      const a = await newSeries('a');
      const b = await newSeries('b');
      const outside = await newSeries('outside');
      await insertSamples(db(), a, [
        { at: t0 + 1000, value: 1 },
        { at: t0 + 2000, value: 2 },
      ]);
      await insertRecentSamples(db(), a, [
        { at: t0 + 2000, value: 20 },
        { at: t0 + 3000, value: 3 },
      ]);
      // b's latest is newer than what arrives late: it must not move back.
      await insertSamples(db(), b, [{ at: t0 + 9000, value: 9 }]);
      await insertRecentSamples(db(), b, [{ at: t0 + 4000, value: 4 }]);
      await insertRecentSamples(db(), outside, [{ at: t0 + 5000, value: 5 }]);

      const report = await dialectOf(db()).moveRecentSamples(db(), Math.min(a.id, b.id), Math.max(a.id, b.id) + 1);

      expect(report).toEqual({ rows: 3, series: 1 });
      expect(await rowsOf('samples', a.id)).toEqual([
        [1000, 1],
        [2000, 20],
        [3000, 3],
      ]);
      expect(await rowsOf('samples_recent', a.id)).toEqual([]);
      expect(await latestOf(a.id)).toEqual([3000, 3]);
      expect(await rowsOf('samples', b.id)).toEqual([
        [4000, 4],
        [9000, 9],
      ]);
      expect(await latestOf(b.id)).toEqual([9000, 9]);
      // Outside the range: untouched.
      expect(await rowsOf('samples_recent', outside.id)).toEqual([[5000, 5]]);
      expect(await rowsOf('samples', outside.id)).toEqual([]);
      expect(await latestOf(outside.id)).toEqual([null, null]);

      expect(await dialectOf(db()).moveRecentSamples(db(), 0, Number.MAX_SAFE_INTEGER)).toEqual({ rows: 1, series: 1 });
      expect(await dialectOf(db()).moveRecentSamples(db(), 0, Number.MAX_SAFE_INTEGER)).toEqual({ rows: 0, series: 0 });
    });

    if (dialectName === 'postgres') {
      it('leaves a series another transaction holds for a later pass, without waiting for it', async () => {
        const busy = await newSeries('busy');
        const free = await newSeries('free');
        await insertRecentSamples(db(), busy, [{ at: t0 + 1000, value: 1 }]);
        await insertRecentSamples(db(), free, [{ at: t0 + 1000, value: 2 }]);
        const held = deferred();
        const release = deferred();
        const holder = db()
          .transaction()
          .execute(async (trx) => {
            // As an ingest transaction setting the series' unit holds it.
            await trx.updateTable('series').set({ unit: 'bytes' }).where('id', '=', busy.id).execute();
            held.resolve();
            await release.promise;
          });
        await held.promise;
        const report = await dialectOf(db()).moveRecentSamples(db(), 0, Number.MAX_SAFE_INTEGER);
        release.resolve();
        await holder;
        expect(report).toEqual({ rows: 1, series: 1 });
        expect(await rowsOf('samples_recent', busy.id)).toEqual([[1000, 1]]);
        expect(await rowsOf('samples', free.id)).toEqual([[1000, 2]]);
        expect(await dialectOf(db()).moveRecentSamples(db(), 0, Number.MAX_SAFE_INTEGER)).toEqual({ rows: 1, series: 1 });
        expect(await rowsOf('samples', busy.id)).toEqual([[1000, 1]]);
      });
    }
  });

  describe('the fast statement path', () => {
    it('exists only within a transaction; where it does, a statement runs in that transaction and answers as Kysely does', async () => {
      const dialect = dialectOf(db());
      expect(dialect.directConnection(db())).toBeUndefined(); // outside a transaction the connection may be another's
      await expect(
        db()
          .transaction()
          .execute(async (trx) => {
            const direct = dialect.directConnection(trx);
            // SQLite's driver gives one; pg offers none (every statement goes through Kysely).
            expect(direct !== undefined).toBe(dialectName === 'sqlite');
            if (!direct) throw new Error('roll back');
            const insert = direct.prepare('insert into tenants (id, name, created_at) values (?, ?, ?)');
            expect(insert(['t2', 'Globex', 2000]).numAffectedRows).toBe(1n);
            const read = direct.prepare('select id, name from tenants order by id');
            const viaKysely = await sql<{ id: string; name: string }>`select id, name from tenants order by id`.execute(trx);
            expect(read([]).rows).toEqual(viaKysely.rows);
            expect(viaKysely.rows).toEqual([
              { id: 't1', name: 'Acme' },
              { id: 't2', name: 'Globex' },
            ]);
            throw new Error('roll back');
          }),
      ).rejects.toThrow('roll back');
      expect(await db().selectFrom('tenants').select('id').execute()).toEqual([{ id: 't1' }]);
    });
  });

  describe('database size and bounded reads', () => {
    it('counts the bytes at rest, and the count grows as data is stored', async () => {
      const dialect = dialectOf(db());
      const before = await dialect.databaseSizeBytes(db());
      expect(Number.isInteger(before)).toBe(true);
      expect(before).toBeGreaterThan(0);
      const filler = 'x'.repeat(1000);
      await db()
        .insertInto('tenants')
        .values(Array.from({ length: 2000 }, (_, i) => ({ id: `fill-${i}`, name: `${filler}${i}`, created_at: 1 })))
        .execute();
      const after = await dialect.databaseSizeBytes(db());
      expect(after - before).toBeGreaterThanOrEqual(1_000_000);
    });

    it('a bounded read answers what its work returns', async () => {
      const name = await dialectOf(db()).boundedRead(db(), 2000, async (q) => (await q.selectFrom('tenants').select('name').executeTakeFirstOrThrow()).name);
      expect(name).toBe('Acme');
    });

    if (dialectName === 'postgres') {
      it('on a server that can bound it, a read past its time limit is stopped by the server', async () => {
        const started = Date.now();
        await expect(dialectOf(db()).boundedRead(db(), 100, (q) => sql`select pg_sleep(5)`.execute(q))).rejects.toMatchObject({ code: '57014' });
        expect(Date.now() - started).toBeLessThan(4000);
      });
    }
  });

  describe('migration helpers', () => {
    it('an auto-increment primary key is numbered by the database', async () => {
      await scratch()
        .schema.createTable('numbered')
        .addColumn('id', dialectOf(db()).autoIncrementType, (c) => c.primaryKey())
        .addColumn('v', 'text')
        .execute();
      const ids = [];
      for (const v of ['a', 'b', 'c']) ids.push(Number((await scratch().insertInto('numbered').values({ v }).returning('id').executeTakeFirstOrThrow()).id));
      expect(ids[1]! - ids[0]!).toBe(1);
      expect(ids[2]! - ids[1]!).toBe(1);
    });

    it('a table clustered by its primary key keeps its key unique and upserts by it', async () => {
      const table = scratch()
        .schema.createTable('clustered')
        .addColumn('k', 'bigint', (c) => c.notNull())
        .addColumn('v', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('clustered_pk', ['k']);
      await dialectOf(db()).clusteredByPrimaryKey(table).execute();
      await scratch().insertInto('clustered').values({ k: 1, v: 1 }).execute();
      await expect(scratch().insertInto('clustered').values({ k: 1, v: 2 }).execute()).rejects.toThrow();
      await scratch()
        .insertInto('clustered')
        .values({ k: 1, v: 3 })
        .onConflict((oc) => oc.column('k').doUpdateSet({ v: 3 }))
        .execute();
      expect(await scratch().selectFrom('clustered').selectAll().execute()).toEqual([{ k: 1, v: 3 }]);
      if (dialectName === 'sqlite') {
        // WITHOUT ROWID: the primary key's b-tree is the table, so there is no rowid to read.
        await expect(sql`select rowid from clustered`.execute(db())).rejects.toThrow(/rowid/);
      }
    });
  });
});
