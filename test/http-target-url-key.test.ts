/**
 * Seed 000's duplicate-URL rule compares normalised URLs (kinds/http/url-key.ts, migration 0015):
 * scheme and host in any case and an explicit default port name the same target (409 naming the
 * first), the path stays case-sensitive, answers keep the URL as written; and rows stored before
 * 0015 get their key, the oldest of two old duplicates keeping the plain one.
 */
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { createMigrator, migrateToLatest } from '../src/db/migrate.js';
import { findHttpTargetIdByUrl } from '../src/kinds/http/http-targets.repository.js';
import { DUPLICATE_URL_MESSAGE } from '../src/kinds/http/http-targets.service.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';

describe.each(TEST_DIALECTS)('the duplicate-URL rule on normalised URLs on %s', (dialect) => {
  let ctx: TestContext | undefined;
  let testDatabase: TestDatabase | undefined;
  let database: DatabaseHandle | undefined;

  afterEach(async () => {
    await ctx?.close();
    await database?.close();
    await testDatabase?.drop();
    ctx = database = testDatabase = undefined;
  });

  it('scheme and host case and the default port do not make a new URL; the path case does', async () => {
    const c = (ctx = await createTestApp(dialect));
    const { apiKey } = await createTenantWithKey(c);
    const call = (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: object) => c.app.inject({ method, url, headers: { 'x-api-key': apiKey }, ...(payload && { payload }) });
    const create = (url: string) => call('POST', '/api/v1/http-targets', { name: url, url });

    const first = await create('https://httpbin.org/status/500');
    expect(first.statusCode).toBe(201);
    const existing = { detail: { message: DUPLICATE_URL_MESSAGE, existing_id: first.json().id } };
    for (const same of ['HTTPS://HTTPBIN.ORG:443/status/500', 'https://HttpBin.org/status/500', 'https://httpbin.org:443/status/500']) {
      const again = await create(same);
      expect(again.statusCode, same).toBe(409);
      expect(again.json()).toEqual(existing);
    }
    for (const other of ['https://httpbin.org/STATUS/500', 'http://httpbin.org/status/500', 'https://httpbin.org:8443/status/500', 'https://httpbin.org/status/500?x=1']) {
      expect((await create(other)).statusCode, other).toBe(201);
    }
    const plainHttp = await create('HTTP://EXAMPLE.COM:80');
    expect(plainHttp.statusCode).toBe(201);
    expect((await create('http://example.com/')).json()).toEqual({ detail: { message: DUPLICATE_URL_MESSAGE, existing_id: plainHttp.json().id } });

    // Answers keep the URL as written; a PATCH onto another target's URL in another spelling is a 409.
    expect((await call('GET', `/api/v1/http-targets/${plainHttp.json().id}`)).json().url).toBe('HTTP://EXAMPLE.COM:80');
    const clash = await call('PATCH', `/api/v1/http-targets/${plainHttp.json().id}`, { url: 'https://HTTPBIN.org:443/status/500' });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toEqual(existing);
    // Its own URL in another spelling is not a clash.
    expect((await call('PATCH', `/api/v1/http-targets/${first.json().id}`, { url: 'HTTPS://httpbin.org/status/500' })).statusCode).toBe(200);
  });

  it('0015 gives rows stored before it their key; of two old duplicates the oldest keeps it', async () => {
    testDatabase = await createTestDatabase(dialect);
    database = await openDatabase(testDatabase.target);
    const db = database.db;
    // Rows as the code before 0015 wrote them (no url_key): the typed schema is the current one.
    const raw = db as unknown as Kysely<any>;
    expect((await createMigrator(db).migrateTo('2026_12_05_0014_heartbeat_keywords')).error).toBeUndefined();
    const t0 = 1_764_000_000_000;
    for (const tenant of ['t1', 't2']) await db.insertInto('tenants').values({ id: tenant, name: tenant, created_at: t0 }).execute();
    const rows = [
      ['b-newer', 't1', 'HTTPS://EXAMPLE.COM:443/x', t0 + 1000],
      ['a-older', 't1', 'https://example.com/x', t0],
      ['c-path', 't1', 'https://example.com/X', t0 + 2000],
      ['d-other-tenant', 't2', 'https://Example.com/x', t0 + 3000],
    ] as const;
    for (const [id, tenant, url, at] of rows) {
      await db.insertInto('monitors').values({ id, tenant_id: tenant, kind: 'http', name: id, is_active: 1, state: 'up', recovery_threshold: 1, created_at: at, updated_at: at }).execute();
      await raw.insertInto('http_targets').values({ monitor_id: id, tenant_id: tenant, url, method: 'GET', expected_status_code: 200, timeout_seconds: 10 }).execute();
    }

    expect(await migrateToLatest(db)).toContain('2026_12_05_0015_http_target_url_key');
    const keys = await db.selectFrom('http_targets').select(['monitor_id', 'url', 'url_key']).orderBy('monitor_id').execute();
    expect(keys).toEqual([
      { monitor_id: 'a-older', url: 'https://example.com/x', url_key: 'https://example.com/x' },
      { monitor_id: 'b-newer', url: 'HTTPS://EXAMPLE.COM:443/x', url_key: 'duplicate:b-newer:https://example.com/x' },
      { monitor_id: 'c-path', url: 'https://example.com/X', url_key: 'https://example.com/X' },
      { monitor_id: 'd-other-tenant', url: 'https://Example.com/x', url_key: 'https://example.com/x' },
    ]);
    expect(await findHttpTargetIdByUrl(db, 't1', 'https://EXAMPLE.com:443/x')).toBe('a-older');
    expect(await findHttpTargetIdByUrl(db, 't2', 'https://example.com/x')).toBe('d-other-tenant');
    // The unique index is on the key now, not on the URL as written.
    await raw.insertInto('monitors').values({ id: 'e-new', tenant_id: 't1', kind: 'http', name: 'e', is_active: 1, state: 'up', recovery_threshold: 1, created_at: t0, updated_at: t0 }).execute();
    const target = { monitor_id: 'e-new', tenant_id: 't1', method: 'GET', expected_status_code: 200, timeout_seconds: 10 };
    await expect(
      raw
        .insertInto('http_targets')
        .values({ ...target, url: 'https://example.com:443/x', url_key: 'https://example.com/x' })
        .execute(),
    ).rejects.toThrow();
    await raw
      .insertInto('http_targets')
      .values({ ...target, url: 'https://example.com/x', url_key: 'https://example.com/z' })
      .execute();
  });
});
