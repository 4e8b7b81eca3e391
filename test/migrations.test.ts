import { NO_MIGRATIONS, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { createMigrator, migrateToLatest } from '../src/db/migrate.js';
import { migrations } from '../src/db/migrations/index.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';

const EXPECTED_TABLES = [
  'alert_events',
  'api_keys',
  'app_meta',
  'backup_jobs',
  'backup_runs',
  'channels',
  'check_results',
  'heartbeat_checks',
  'http_targets',
  'incidents',
  'ingest_batches',
  'machines',
  'maintenance_windows',
  'metric_rules',
  'monitor_channels',
  'monitor_flips',
  'monitor_keys',
  'monitor_tags',
  'monitors',
  'notification_attempts',
  'notification_items',
  'notifications',
  'pings',
  'rollups_day',
  'rollups_hour',
  'samples',
  'samples_recent',
  'self_checks',
  'series',
  'series_changes',
  'series_rollups_hour',
  'series_rollups_minute',
  'silences',
  'tenant_settings',
  'tenants',
  'users',
];

describe.each(TEST_DIALECTS)('migrations on %s', (dialect) => {
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;

  afterEach(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  async function open() {
    testDatabase = await createTestDatabase(dialect);
    database = await openDatabase(testDatabase.target);
  }

  it('creates every table, and a second run applies nothing', async () => {
    await open();
    const applied = await migrateToLatest(database.db);
    expect(applied).toEqual(Object.keys(migrations));
    const tables = (await database.db.introspection.getTables()).map((t) => t.name).sort();
    expect(tables).toEqual(EXPECTED_TABLES);
    expect(await migrateToLatest(database.db)).toEqual([]);
  });

  it('migrates down to nothing and back up again', async () => {
    await open();
    await migrateToLatest(database.db);
    const migrator = createMigrator(database.db);
    const down = await migrator.migrateTo(NO_MIGRATIONS);
    expect(down.error).toBeUndefined();
    const tablesLeft = (await database.db.introspection.getTables()).map((t) => t.name);
    expect(tablesLeft.filter((name) => EXPECTED_TABLES.includes(name))).toEqual([]);
    expect(await migrateToLatest(database.db)).toEqual(Object.keys(migrations));
  });

  it('enforces the constraints the services rely on', async () => {
    await open();
    await migrateToLatest(database.db);
    const now = Date.now();
    await database.db.insertInto('tenants').values({ id: 't1', name: 'A', created_at: now }).execute();
    // Foreign keys are on (SQLite needs the pragma): a user of a missing tenant is refused.
    await expect(
      database.db
        .insertInto('users')
        .values({ id: 'u1', tenant_id: 'missing', email: 'a@x.io', password_hash: 'h', role: 'admin', is_superuser: 0, is_active: 1, created_at: now, updated_at: now })
        .execute(),
    ).rejects.toThrow();
    // E-mails are unique; API key hashes are unique.
    const user = { tenant_id: 't1', email: 'a@x.io', password_hash: 'h', role: 'admin', is_superuser: 0, is_active: 1, created_at: now, updated_at: now };
    await database.db
      .insertInto('users')
      .values({ id: 'u1', ...user })
      .execute();
    await expect(
      database.db
        .insertInto('users')
        .values({ id: 'u2', ...user })
        .execute(),
    ).rejects.toThrow();
    // Deleting a tenant removes what it owns.
    await database.db.deleteFrom('tenants').where('id', '=', 't1').execute();
    const left = await sql<{ n: number }>`select count(*) as n from users`.execute(database.db);
    expect(Number(left.rows[0]?.n)).toBe(0);
  });

  it('gives heartbeat checks made before 0005 a ping UUID and a badge key of their own, unique', async () => {
    await open();
    await createMigrator(database.db).migrateTo('2026_11_22_0004_heartbeats');
    const now = Date.now();
    const db = database.db as unknown as import('kysely').Kysely<any>;
    await db.insertInto('tenants').values({ id: 't1', name: 'A', created_at: now }).execute();
    for (const id of ['m1', 'm2']) {
      await db
        .insertInto('monitors')
        .values({
          id,
          tenant_id: 't1',
          kind: 'heartbeat',
          name: id,
          is_active: 1,
          state: 'pending',
          failure_threshold: 1,
          recovery_threshold: 1,
          state_changed_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await db.insertInto('heartbeat_checks').values({ monitor_id: id, tenant_id: 't1', timeout_seconds: 60, grace_seconds: 60 }).execute();
    }
    await migrateToLatest(database.db);
    const rows = await database.db.selectFrom('heartbeat_checks').select(['monitor_id', 'ping_uuid', 'badge_key']).orderBy('monitor_id').execute();
    expect(rows.map((r) => r.monitor_id)).toEqual(['m1', 'm2']);
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const row of rows) {
      expect(row.ping_uuid).toMatch(v4);
      expect(row.badge_key).toMatch(v4);
      expect(row.badge_key).not.toBe(row.ping_uuid);
    }
    expect(rows[0]!.ping_uuid).not.toBe(rows[1]!.ping_uuid);
    await expect(database.db.updateTable('heartbeat_checks').set({ ping_uuid: rows[0]!.ping_uuid }).where('monitor_id', '=', 'm2').execute()).rejects.toThrow();
  });

  it('going back before 0009 keeps the samples not yet moved out of samples_recent', async () => {
    await open();
    await migrateToLatest(database.db);
    const now = Date.now();
    const db = database.db;
    await db.insertInto('tenants').values({ id: 't1', name: 'A', created_at: now }).execute();
    await db
      .insertInto('monitors')
      .values({
        id: 'm1',
        tenant_id: 't1',
        kind: 'machine',
        name: 'web',
        is_active: 1,
        state: 'up',
        failure_threshold: 1,
        recovery_threshold: 1,
        state_changed_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await db.insertInto('machines').values({ monitor_id: 'm1', tenant_id: 't1', hostname: 'web', first_seen_at: now, last_seen_at: now }).execute();
    const { id } = await db.insertInto('series').values({ tenant_id: 't1', machine_id: 'm1', name: 'load', labels: '{}', type: 'numeric', created_at: now }).returning('id').executeTakeFirstOrThrow();
    await db
      .insertInto('samples')
      .values([
        { series_id: id, at: 1, value: 1 },
        { series_id: id, at: 2, value: 2 },
      ])
      .execute();
    await db
      .insertInto('samples_recent')
      .values([
        { series_id: id, at: 2, value: 20 },
        { series_id: id, at: 3, value: 3 },
      ])
      .execute();

    expect((await createMigrator(db).migrateTo('2026_11_23_0008_metric_rules')).error).toBeUndefined();
    const rows = await db.selectFrom('samples').select(['at', 'value']).orderBy('at').execute();
    expect(rows.map((r) => [Number(r.at), Number(r.value)])).toEqual([
      [1, 1],
      [2, 20],
      [3, 3],
    ]);
  });

  it('keeps epoch-millisecond times as numbers on read', async () => {
    await open();
    await migrateToLatest(database.db);
    const at = Date.UTC(2026, 10, 21, 12, 0, 0, 123);
    await database.db.insertInto('tenants').values({ id: 't1', name: 'A', created_at: at }).execute();
    const row = await database.db.selectFrom('tenants').select('created_at').executeTakeFirstOrThrow();
    expect(row.created_at).toBe(at);
  });
});
