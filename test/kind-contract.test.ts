/**
 * The kind contract, run for every registered kind on every dialect: a kind gets these tests by
 * registering (kinds/registry.ts). Each is created as a user would (its `example`), then paused,
 * resumed, read, walked by another tenant and deleted through the generic monitor routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../src/kinds/registry.js';
import type { KindExample, KindPlugin } from '../src/kinds/contract.js';
import { MONITOR_KINDS, type MonitorKind } from '../src/monitors/kinds.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const plugin = (kind: MonitorKind) => KINDS[kind] as unknown as KindPlugin<MonitorKind, object>;

describe.each(TEST_DIALECTS)('the kind contract on %s', (dialect) => {
  let ctx: TestContext;
  let owner: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    ctx = await createTestApp(dialect);
    owner = await createTenantWithKey(ctx);
    other = await createTenantWithKey(ctx);
  });
  afterAll(() => ctx.close());

  const call = (fixture: TenantFixture, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    ctx.app.inject({ method, url, headers: { 'x-api-key': fixture.apiKey }, ...(payload !== undefined && { payload: payload as Record<string, unknown> }) });

  const make = (kind: MonitorKind): Promise<KindExample> => plugin(kind).example(ctx.services.kindServices.get(kind)!, owner.tenantId, ctx.services.kindHost);

  it('registers every kind that MONITOR_KINDS names, each under its own name', () => {
    expect(Object.keys(KINDS).sort()).toEqual([...MONITOR_KINDS].sort());
    for (const kind of MONITOR_KINDS) expect(KINDS[kind].kind).toBe(kind);
  });

  describe.each([...MONITOR_KINDS])('kind %s', (kind) => {
    let example: KindExample;
    beforeAll(async () => {
      example = await make(kind);
    });

    it('creates a monitor of the kind with its settings row', async () => {
      expect(example.id).toMatch(UUID);
      const response = await call(owner, 'GET', `/api/v1/monitors/${example.id}`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ id: example.id, kind });
      const table = plugin(kind).settingsTable;
      if (table) {
        const rows = await ctx.database.db.selectFrom(table).select(['monitor_id', 'tenant_id']).where('monitor_id', '=', example.id).execute();
        expect(rows).toEqual([{ monitor_id: example.id, tenant_id: owner.tenantId }]);
      }
    });

    it('pauses through the generic route, and a result recorded while paused is neither stored nor counted', async () => {
      const paused = await call(owner, 'POST', `/api/v1/monitors/${example.id}/pause`);
      expect(paused.statusCode).toBe(200);
      expect(paused.json()).toMatchObject({ state: 'paused', is_active: false, next_due_at: null });
      const before = (await call(owner, 'GET', `/api/v1/monitors/${example.id}/results`)).json() as unknown[];
      await ctx.services.recorder.record(example.id, { status: 'down', message: 'failed while paused' });
      const after = await call(owner, 'GET', `/api/v1/monitors/${example.id}/results`);
      expect(after.json()).toEqual(before);
      const monitor = (await call(owner, 'GET', `/api/v1/monitors/${example.id}`)).json();
      expect(monitor).toMatchObject({ state: 'paused', consecutive_failures: 0 });
      const incidents = await ctx.database.db.selectFrom('incidents').select('id').where('monitor_id', '=', example.id).execute();
      expect(incidents).toEqual([]);
    });

    it('resumes through the generic route to pending', async () => {
      const resumed = await call(owner, 'POST', `/api/v1/monitors/${example.id}/resume`);
      expect(resumed.statusCode).toBe(200);
      expect(resumed.json()).toMatchObject({ state: 'pending', is_active: true });
      const flips = await ctx.database.db.selectFrom('monitor_flips').select(['from_state', 'to_state']).where('monitor_id', '=', example.id).orderBy('at').execute();
      expect(flips.slice(-2)).toEqual([
        { from_state: expect.any(String), to_state: 'paused' },
        { from_state: 'paused', to_state: 'pending' },
      ]);
    });

    it('lists what the kind recorded as results, and answers uptime for every window', async () => {
      // A moment after the example's own events: a result at the same instant as a ping or an ingest is that event.
      ctx.clock.advance(1000);
      await ctx.services.recorder.record(example.id, { status: 'up', message: 'recorded by the contract test', latencyMs: 12 });
      const results = await call(owner, 'GET', `/api/v1/monitors/${example.id}/results`);
      expect(results.statusCode).toBe(200);
      expect(results.json()[0]).toMatchObject({ status: 'up', message: 'recorded by the contract test', latency_ms: 12 });
      const uptime = await call(owner, 'GET', `/api/v1/monitors/${example.id}/uptime`);
      expect(uptime.statusCode).toBe(200);
      expect(Object.keys(uptime.json())).toEqual(['24h', '7d', '30d', '1y']);
    });

    it("another tenant gets 404 from the kind's routes and the generic ones, which change nothing", async () => {
      const urls = [
        ...plugin(kind).isolationRoutes.map((route) => ({ ...route, url: fill(route.url, example) })),
        { method: 'GET' as const, url: `/api/v1/monitors/${example.id}` },
        { method: 'POST' as const, url: `/api/v1/monitors/${example.id}/pause` },
        { method: 'DELETE' as const, url: `/api/v1/monitors/${example.id}` },
      ];
      for (const route of urls) {
        const response = await call(other, route.method, route.url, 'payload' in route ? route.payload : undefined);
        expect({ route: `${route.method} ${route.url}`, status: response.statusCode }).toEqual({ route: `${route.method} ${route.url}`, status: 404 });
      }
      expect((await call(owner, 'GET', `/api/v1/monitors/${example.id}`)).json()).toMatchObject({ id: example.id, state: 'up', is_active: true });
    });

    it('deletes through the generic route, with its settings row', async () => {
      expect((await call(owner, 'DELETE', `/api/v1/monitors/${example.id}`)).statusCode).toBe(204);
      expect((await call(owner, 'GET', `/api/v1/monitors/${example.id}`)).statusCode).toBe(404);
      const table = plugin(kind).settingsTable;
      if (table) expect(await ctx.database.db.selectFrom(table).select('monitor_id').where('monitor_id', '=', example.id).execute()).toEqual([]);
    });
  });
});

/** The route's `{id}` and the example's other `{name}`s. */
function fill(url: string, example: KindExample): string {
  return url.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? example.id : (example.params?.[name] ?? `{${name}}`)));
}
