/**
 * Queries compiled once (src/db/precompiled.ts), on every dialect: slots take each run's values,
 * constants stay, a missing value is refused before reaching the database, runs see their own
 * transaction and roll back with it, in a transaction or not; on SQLite a run in a transaction
 * goes straight to the transaction's connection (dialects/sqlite.ts, directConnection) and
 * answers as Kysely does, and refuses a transaction that has ended.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { directConnection } from '../src/db/dialects/sqlite.js';
import { precompile, slot } from '../src/db/precompiled.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';

describe.each(TEST_DIALECTS)('precompiled queries on %s', (dialect) => {
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;

  beforeEach(async () => {
    testDatabase = await createTestDatabase(dialect);
    database = await openDatabase(testDatabase.target);
    await migrateToLatest(database.db);
    for (const [id, name] of [
      ['t1', 'Acme'],
      ['t2', 'Globex'],
      ['t3', 'Initech'],
    ] as const) {
      await database.db.insertInto('tenants').values({ id, name, created_at: 1000 }).execute();
    }
  });
  afterEach(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it("binds each run's values to the slots and keeps the constants", async () => {
    const { db } = database;
    const byName = precompile(db.selectFrom('tenants').select(['id', 'name']).where('name', '=', slot<string>('name')).where('created_at', '=', 1000));
    expect((await byName.run(db, { name: 'Globex' })).rows).toEqual([{ id: 't2', name: 'Globex' }]);
    expect((await byName.run(db, { name: 'Acme' })).rows).toEqual([{ id: 't1', name: 'Acme' }]);
    expect((await byName.run(db, { name: 'nobody' })).rows).toEqual([]);
    expect(() => byName.run(db, {})).toThrow('no value for slot "name"');

    const rename = precompile(
      db
        .updateTable('tenants')
        .set({ name: slot<string>('to') })
        .where('id', '=', slot<string>('id')),
    );
    expect((await rename.run(db, { id: 't3', to: 'Initrode' })).numAffectedRows).toBe(1n);
    expect((await rename.run(db, { id: 'missing', to: 'x' })).numAffectedRows).toBe(0n);
    expect((await db.selectFrom('tenants').select('name').where('id', '=', 't3').executeTakeFirstOrThrow()).name).toBe('Initrode');
  });

  it('runs inside the transaction it is given, and rolls back with it', async () => {
    const { db } = database;
    const rename = precompile(
      db
        .updateTable('tenants')
        .set({ name: slot<string>('to') })
        .where('id', '=', slot<string>('id')),
    );
    await expect(
      db.transaction().execute(async (trx) => {
        await rename.run(trx, { id: 't1', to: 'changed' });
        expect((await trx.selectFrom('tenants').select('name').where('id', '=', 't1').executeTakeFirstOrThrow()).name).toBe('changed');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await db.selectFrom('tenants').select('name').where('id', '=', 't1').executeTakeFirstOrThrow()).name).toBe('Acme');
  });

  it('in a transaction, answers as Kysely does: rows, affected rows, insert ids', async () => {
    const { db } = database;
    const byName = precompile(db.selectFrom('tenants').select(['id', 'name']).where('name', '=', slot<string>('name')));
    const rename = precompile(
      db
        .updateTable('tenants')
        .set({ name: slot<string>('to') })
        .where('name', '=', slot<string>('from')),
    );
    const insert = precompile(db.insertInto('tenants').values({ id: slot<string>('id'), name: slot<string>('name'), created_at: 2000 }));
    await db.transaction().execute(async (trx) => {
      expect((await byName.run(trx, { name: 'Globex' })).rows).toEqual([{ id: 't2', name: 'Globex' }]);
      expect((await rename.run(trx, { from: 'Acme', to: 'Acme Corp' })).numAffectedRows).toBe(1n);
      expect((await rename.run(trx, { from: 'nobody', to: 'x' })).numAffectedRows).toBe(0n);
      expect((await insert.run(trx, { id: 't4', name: 'Umbrella' })).numAffectedRows).toBe(1n);
      expect(() => byName.run(trx, {})).toThrow('no value for slot "name"');
    });
    expect(await db.selectFrom('tenants').select('name').orderBy('id').execute()).toEqual([{ name: 'Acme Corp' }, { name: 'Globex' }, { name: 'Initech' }, { name: 'Umbrella' }]);
  });

  it('goes straight to the connection only in a transaction on SQLite', async () => {
    const { db } = database;
    expect(directConnection(db)).toBeUndefined(); // outside a transaction the connection may be another's
    await db.transaction().execute(async (trx) => {
      expect(directConnection(trx) !== undefined).toBe(dialect === 'sqlite');
    });
  });

  it('refuses a transaction that has ended, and leaves the database as it was', async () => {
    const { db } = database;
    const rename = precompile(
      db
        .updateTable('tenants')
        .set({ name: slot<string>('to') })
        .where('id', '=', slot<string>('id')),
    );
    let ended: typeof db | undefined;
    await db.transaction().execute(async (trx) => {
      ended = trx;
      await rename.run(trx, { id: 't1', to: 'inside' });
    });
    await expect(rename.run(ended!, { id: 't1', to: 'after its end' })).rejects.toThrow(/transaction/i);
    expect((await db.selectFrom('tenants').select('name').where('id', '=', 't1').executeTakeFirstOrThrow()).name).toBe('inside');
  });
});
