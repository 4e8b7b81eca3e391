/**
 * What src/db/precompiled.ts and src/db/dialects/ rely on in Kysely beyond its documented API.
 * `kysely` is pinned to an exact version (package.json); before raising it, run this file: it
 * fails if the new version changes any of these, and the fast path must then be revisited.
 */
import { readFileSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { CamelCasePlugin, CompiledQuery, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dialectOf, openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { precompile, rawStatement, slot } from '../src/db/precompiled.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';

const pinned = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }).dependencies.kysely!;
const lockRoot = (JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> }).packages[''];
/** Read from the installed package itself (its exports do not include package.json). */
const installed = (JSON.parse(readFileSync(new URL('../node_modules/kysely/package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('the pinned Kysely', () => {
  it('is pinned to one exact version, in package.json and its lock, and that version is the one installed', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(lockRoot?.dependencies?.kysely).toBe(pinned);
    expect(installed).toBe(pinned);
  });

  it('dialects still make their adapter through createAdapter, which the dialects override to bind themselves', () => {
    expect(typeof SqliteDialect.prototype.createAdapter).toBe('function');
    expect(typeof PostgresDialect.prototype.createAdapter).toBe('function');
  });
});

describe.each(TEST_DIALECTS)('Kysely internals the fast path uses, on %s', (dialect) => {
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;

  beforeEach(async () => {
    testDatabase = await createTestDatabase(dialect);
    database = await openDatabase(testDatabase.target);
    await migrateToLatest(database.db);
    await database.db.insertInto('tenants').values({ id: 't1', name: 'Acme', created_at: 1000 }).execute();
  });
  afterEach(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it('a Kysely instance makes one adapter, which its transactions share, and exposes it with the plugins on getExecutor()', async () => {
    const { db } = database;
    const executor = db.getExecutor();
    expect(executor.adapter).toBeDefined();
    expect(db.getExecutor().adapter).toBe(executor.adapter); // the same object each time, not a new one
    expect(executor.plugins).toEqual([]);
    expect(db.isTransaction).toBe(false);
    await db.transaction().execute(async (trx) => {
      expect(trx.isTransaction).toBe(true);
      expect(trx.getExecutor().adapter).toBe(executor.adapter);
      expect(trx.getExecutor().plugins).toEqual([]);
    });
    // A plugin shows in the executor's list (the fast path then steps aside, as plugins may transform results).
    const withPlugin = db.withPlugin(new CamelCasePlugin());
    expect(withPlugin.getExecutor().plugins).toHaveLength(1);
    await withPlugin.transaction().execute(async (trx) => {
      expect(trx.getExecutor().plugins).toHaveLength(1);
      expect(dialectOf(trx).directConnection(trx)).toBeUndefined();
    });
  });

  it('compile() leaves each value, slots included, as the very object given, in placeholder order', () => {
    const { db } = database;
    const first = slot<string>('first');
    const second = slot<number>('second');
    const query = db.selectFrom('tenants').select('id').where('name', '=', first).where('created_at', '>', 5).where('created_at', '<', second);
    const compiled = query.compile();
    expect(compiled.parameters).toHaveLength(3);
    expect(compiled.parameters[0]).toBe(first);
    expect(compiled.parameters[1]).toBe(5);
    expect(compiled.parameters[2]).toBe(second);
    // Placeholders numbered ($1, $2, $3) on PostgreSQL, positional (?) on SQLite: in the parameters' order either way.
    expect(compiled.sql).toMatch(dialect === 'postgres' ? /"name" = \$1 .* > \$2 .* < \$3/ : /"name" = \? .* > \? .* < \?/);
    // The same query compiles to the same text each time: SQLite's statement cache depends on it.
    expect(query.compile().sql).toBe(compiled.sql);
  });

  it('CompiledQuery.raw and executeQuery run SQL text with positional parameters', async () => {
    const { db } = database;
    const text = dialect === 'postgres' ? 'select name from tenants where id = $1' : 'select name from tenants where id = ?';
    expect((await db.executeQuery(CompiledQuery.raw(text, ['t1']))).rows).toEqual([{ name: 'Acme' }]);
  });

  it("a precompiled query runs through the dialect's fast path in a transaction, bypassing Kysely's executor, with the same answers", async () => {
    const { db } = database;
    const byName = precompile(db.selectFrom('tenants').select(['id', 'name']).where('name', '=', slot<string>('name')));
    const insert = precompile(db.insertInto('tenants').values({ id: slot<string>('id'), name: slot<string>('name'), created_at: 2000 }));
    const viaKysely = await db.selectFrom('tenants').select(['id', 'name']).where('name', '=', 'Acme').execute();
    await db.transaction().execute(async (trx) => {
      const executeQuery = vi.spyOn(trx, 'executeQuery');
      expect((await byName.run(trx, { name: 'Acme' })).rows).toEqual(viaKysely);
      const inserted = await insert.run(trx, { id: 't2', name: 'Globex' });
      expect(inserted.numAffectedRows).toBe(1n);
      // SQLite: straight on the connection; PostgreSQL: through Kysely, as before.
      expect(executeQuery).toHaveBeenCalledTimes(dialect === 'sqlite' ? 0 : 2);
      executeQuery.mockRestore();
    });
    expect(await db.selectFrom('tenants').select('id').orderBy('id').execute()).toEqual([{ id: 't1' }, { id: 't2' }]);
  });

  if (dialect === 'sqlite') {
    it("SQLite: Kysely's driver holds its one connection from BEGIN to COMMIT, so a query outside the transaction waits for the commit", async () => {
      const { db } = database;
      const insert = rawStatement('insert into tenants (id, name, created_at) values (?, ?, 3000)');
      const events: string[] = [];
      let outside: Promise<unknown> | undefined;
      await db.transaction().execute(async (trx) => {
        await insert.run(trx, ['t3', 'Initech']); // straight on the connection, inside the transaction
        outside = db
          .selectFrom('tenants')
          .select('id')
          .where('id', '=', 't3')
          .execute()
          .then((rows) => events.push(`outside read ${rows.length}`));
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
        events.push('commit');
      });
      await outside;
      // Had the outside read run on the shared connection meanwhile, it would have come first (and seen the uncommitted row).
      expect(events).toEqual(['commit', 'outside read 1']);
    });

    it('SQLite: the driver answers a read with { rows } and a write with bigint numAffectedRows and insertId, as the direct path mimics', async () => {
      const { db } = database;
      const read = await db.executeQuery(CompiledQuery.raw('select id from tenants', []));
      expect(read).toEqual({ rows: [{ id: 't1' }] });
      const write = await db.executeQuery(CompiledQuery.raw("update tenants set name = 'Acme Corp' where id = ?", ['t1']));
      expect(write).toEqual({ rows: [], numAffectedRows: 1n, insertId: expect.any(BigInt) });
      await db.transaction().execute(async (trx) => {
        const direct = dialectOf(trx).directConnection(trx)!;
        expect(direct.prepare('select id from tenants')([])).toEqual(read);
        expect(direct.prepare("update tenants set name = 'Acme' where id = ?")(['t1'])).toEqual({ rows: [], numAffectedRows: 1n, insertId: expect.any(BigInt) });
      });
    });

    it('SQLite: the driver prepares each query through the database object it was given, each time (what the statement cache serves)', async () => {
      const sqlite = new SQLite(':memory:');
      const prepare = vi.fn((text: string) => sqlite.prepare(text));
      const own = new Kysely<any>({ dialect: new SqliteDialect({ database: { prepare, close: () => sqlite.close() } }) });
      try {
        await own.selectNoFrom((eb) => eb.val(1).as('one')).execute();
        await own.selectNoFrom((eb) => eb.val(1).as('one')).execute();
        expect(prepare.mock.calls.map(([text]) => text)).toEqual(['select ? as "one"', 'select ? as "one"']);
      } finally {
        await own.destroy();
      }
    });
  }
});
