/**
 * The compact results layout (migration 0012 and results-history.ts) on real databases: rows
 * stored before 0012 survive it with their meaning, the codec gives back what was recorded, and a
 * result stored in the same millisecond as another of its monitor is kept.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { createMigrator, migrateToLatest } from '../src/db/migrate.js';
import { migrations } from '../src/db/migrations/index.js';
import { checkResultsHistory, encodeMessage, insertResult } from '../src/monitors/results-history.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';

const HOUR_MS = 3_600_000;

describe.each(TEST_DIALECTS)('compact check results on %s', (dialect) => {
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

  async function monitor(id: string, now: number) {
    await database.db.insertInto('monitors').values({ id, tenant_id: 't1', kind: 'http', name: id, is_active: 1, state: 'up', recovery_threshold: 1, created_at: now, updated_at: now }).execute();
  }

  it('0012 keeps the results and hour rollups stored before it, with their meaning', async () => {
    await open();
    expect((await createMigrator(database.db).migrateTo('2026_11_25_0011_alert_events_incident')).error).toBeUndefined();
    const t0 = 1_764_000_000_000 - (1_764_000_000_000 % HOUR_MS);
    await database.db.insertInto('tenants').values({ id: 't1', name: 'A', created_at: t0 }).execute();
    await monitor('m1', t0);
    await monitor('m2', t0);
    // The old layout, written as the old code did (monitor_id text, status text).
    const old = [
      ['m1', t0 + 1000, 'up', 12, 200, 'HTTP 200 in 12 ms'],
      ['m1', t0 + 2000, 'down', null, null, 'connection refused by 127.0.0.1'],
      ['m1', t0 + 3000, 'warning', 40, 200, 'certificate expires in 3 days'],
      ['m1', t0 + 4000, 'up', 9, 200, 'HTTP 200 in 9 ms'],
      ['m1', t0 + 4000, 'down', 9, 500, 'expected status 200, got 500'], // same millisecond: the later row wins
      ['m2', t0 + 1500, 'up', 7, 204, 'HTTP 204 in 7 ms'],
    ] as const;
    for (const [m, at, status, latency, value, message] of old) {
      await sql`insert into check_results (monitor_id, at, status, latency_ms, value, message) values (${m}, ${at}, ${status}, ${latency}, ${value}, ${message})`.execute(database.db);
    }
    await sql`insert into rollups_hour (monitor_id, bucket_start, count, up_count, latency_count, latency_min, latency_max, latency_sum, latency_p95)
              values ('m1', ${t0 - HOUR_MS}, 60, 45, 60, 1, 9, 300, 8)`.execute(database.db);
    await sql`insert into app_meta (key, value) values ('rollup_hour_watermark', ${String(t0)}), ('rollup_minute_watermark', ${String(t0 + 60_000)})`.execute(database.db);

    // Every migration from 0012 on runs (later issues add theirs after it).
    expect(await migrateToLatest(database.db)).toEqual(Object.keys(migrations).slice(Object.keys(migrations).indexOf('2026_12_03_0012_compact_results')));

    const m1 = await checkResultsHistory().latest(database.db, 'm1', { limit: 10 });
    expect(m1.map(({ at, status, latencyMs, value, message }) => [at - t0, status, latencyMs, value, message])).toEqual([
      [4000, 'down', 9, 500, 'expected status 200, got 500'],
      [3000, 'warning', 40, 200, 'certificate expires in 3 days'],
      [2000, 'down', null, null, 'connection refused by 127.0.0.1'],
      [1000, 'up', 12, 200, 'HTTP 200 in 12 ms'],
    ]);
    expect((await checkResultsHistory().latest(database.db, 'm2', { limit: 10 })).map((e) => e.message)).toEqual(['HTTP 204 in 7 ms']);
    // The success sentence is not stored: it is rebuilt from the status code and latency.
    const stored = await database.db.selectFrom('check_results').select(['at', 'status', 'message']).orderBy('monitor_key').orderBy('at').execute();
    expect(stored.map((r) => [Number(r.status), r.message])).toEqual([
      [1, null],
      [0, 'connection refused by 127.0.0.1'],
      [2, 'certificate expires in 3 days'],
      [0, 'expected status 200, got 500'],
      [1, null],
    ]);
    // The old hour: 45 of 60 checks up becomes 45 of 60 minutes up.
    const hours = await database.db.selectFrom('rollups_hour').selectAll().execute();
    expect(hours.map((h) => [Number(h.bucket_start) - t0, Number(h.up_ms), Number(h.known_ms), h.checks, h.up_checks, h.latency_count, Number(h.latency_sum)])).toEqual([
      [-HOUR_MS, 45 * 60_000, HOUR_MS, 60, 45, 60, 300],
    ]);
    const marks = await database.db.selectFrom('app_meta').select(['key', 'value']).where('key', 'like', 'rollup_%').execute();
    expect(marks).toEqual([{ key: 'rollup_hour_watermark', value: String(t0) }]);
    // Deleting a monitor still deletes its results (monitors → monitor_keys → check_results).
    await database.db.deleteFrom('monitors').where('id', '=', 'm1').execute();
    expect(await database.db.selectFrom('check_results').select('at').execute()).toHaveLength(1);
  });

  it('keeps a second result of a monitor in the same millisecond, 1 ms later', async () => {
    await open();
    await migrateToLatest(database.db);
    const now = 1_764_000_000_000;
    await database.db.insertInto('tenants').values({ id: 't1', name: 'A', created_at: now }).execute();
    await monitor('m1', now);
    const base = { monitorId: 'm1', latencyMs: 5, value: 200 };
    expect(await insertResult(database.db, { ...base, at: now, status: 'up', message: 'HTTP 200 in 5 ms' })).toBe(now);
    expect(await insertResult(database.db, { ...base, at: now, status: 'down', message: 'expected status 201, got 200' })).toBe(now + 1);
    const entries = await checkResultsHistory().between(database.db, 'm1', now, now + 10);
    expect(entries.map((e) => [e.at - now, e.status, e.message, e.source])).toEqual([
      [0, 'up', 'HTTP 200 in 5 ms', 'check'],
      [1, 'down', 'expected status 201, got 200', 'check'],
    ]);
    // between() also gives the last entry before its start, so the status at the start is known.
    expect((await checkResultsHistory().between(database.db, 'm1', now + 1, now + 10)).map((e) => e.at - now)).toEqual([0, 1]);
  });

  it('keeps a burst of 200 results in one millisecond, in consecutive milliseconds (the fuzz found a 500 at 51)', async () => {
    await open();
    await migrateToLatest(database.db);
    const now = 1_764_000_000_000;
    await database.db.insertInto('tenants').values({ id: 't1', name: 'A', created_at: now }).execute();
    await monitor('m1', now);
    const stored: number[] = [];
    for (let i = 0; i < 200; i++) stored.push(await insertResult(database.db, { monitorId: 'm1', latencyMs: 1, value: null, at: now, status: 'up', message: `ping ${i}` }));
    expect(stored).toEqual(Array.from({ length: 200 }, (_, i) => now + i));
    expect(await database.db.selectFrom('check_results').select('at').execute()).toHaveLength(200);
  });
});

describe('the stored message', () => {
  it('is NULL only when it restates an up result’s status code and latency', () => {
    expect(encodeMessage({ status: 'up', value: 200, latencyMs: 12, message: 'HTTP 200 in 12 ms' })).toBeNull();
    expect(encodeMessage({ status: 'up', value: 200, latencyMs: 12, message: 'HTTP 200 in 13 ms' })).toBe('HTTP 200 in 13 ms');
    expect(encodeMessage({ status: 'down', value: 200, latencyMs: 12, message: 'HTTP 200 in 12 ms' })).toBe('HTTP 200 in 12 ms');
    expect(encodeMessage({ status: 'up', value: null, latencyMs: 3, message: 'database answered' })).toBe('database answered');
  });
});
