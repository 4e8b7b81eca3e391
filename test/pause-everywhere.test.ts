/**
 * Pause and resume mean one thing through every route, for every kind (issue 12, defects 1 and 2):
 * a heartbeat paused with the generic route has no deadline left and is resumed by a ping like one
 * paused through Healthchecks' API; a paused monitor stores and counts no result, and "check now"
 * on a paused HTTP target is refused with 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkResultsHistory } from '../src/monitors/results-history.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { heartbeatInput } from './helpers/heartbeat-fixtures.js';
import { StandIn } from './helpers/receivers.js';

describe.each(TEST_DIALECTS)('pause and resume on %s', (dialect) => {
  let ctx: TestContext;
  let owner: TenantFixture;

  beforeAll(async () => {
    ctx = await createTestApp(dialect);
    owner = await createTenantWithKey(ctx);
  });
  afterAll(() => ctx.close());

  const api = (method: 'GET' | 'POST', url: string) => ctx.app.inject({ method, url, headers: { 'x-api-key': owner.apiKey } });
  const heartbeatRow = (id: string) =>
    ctx.database.db.selectFrom('heartbeat_checks').select(['status', 'alert_after', 'deadline_at', 'sweep_at']).where('monitor_id', '=', id).executeTakeFirstOrThrow();

  describe('a heartbeat paused with POST /api/v1/monitors/{id}/pause', () => {
    let id: string;
    let pingUuid: string;
    beforeAll(async () => {
      const check = await ctx.services.heartbeats.create(owner.tenantId, heartbeatInput());
      id = check.id;
      pingUuid = check.pingUuid;
      expect((await ctx.app.inject({ method: 'GET', url: `/ping/${pingUuid}` })).statusCode).toBe(200);
      expect(await heartbeatRow(id)).toMatchObject({ status: 'up', deadline_at: expect.any(Number) });
      expect((await api('POST', `/api/v1/monitors/${id}/pause`)).json()).toMatchObject({ state: 'paused' });
    });

    it('has no deadline left, so the sweep never makes it late or down', async () => {
      expect(await heartbeatRow(id)).toEqual({ status: 'paused', alert_after: null, deadline_at: null, sweep_at: null });
      ctx.clock.advance(10 * 86_400_000);
      await ctx.services.heartbeatSweep.run();
      expect((await api('GET', `/api/v1/monitors/${id}`)).json()).toMatchObject({ state: 'paused' });
      expect((await ctx.app.inject({ method: 'GET', url: `/api/v3/checks/${pingUuid}`, headers: { 'x-api-key': owner.apiKey } })).json()).toMatchObject({ status: 'paused' });
    });

    it('is resumed by its next ping, as a check paused through /api/v3/checks/{uuid}/pause is', async () => {
      expect((await ctx.app.inject({ method: 'GET', url: `/ping/${pingUuid}` })).statusCode).toBe(200);
      expect((await api('GET', `/api/v1/monitors/${id}`)).json()).toMatchObject({ state: 'up', is_active: true });
      expect(await heartbeatRow(id)).toMatchObject({ status: 'up', deadline_at: expect.any(Number) });
    });

    it('resumed with the generic route, is `new` again and waits for a ping', async () => {
      await api('POST', `/api/v1/monitors/${id}/pause`);
      expect((await api('POST', `/api/v1/monitors/${id}/resume`)).json()).toMatchObject({ state: 'pending', is_active: true });
      expect(await heartbeatRow(id)).toEqual({ status: 'new', alert_after: null, deadline_at: null, sweep_at: null });
    });
  });

  describe('a paused HTTP target', () => {
    const receiver = new StandIn();
    let id: string;
    beforeAll(async () => {
      await receiver.start();
      id = await ctx.services.httpTargets.create(owner.tenantId, { name: 'paused site', url: `${receiver.base}/health` });
      expect((await api('POST', `/api/v1/monitors/${id}/pause`)).json()).toMatchObject({ state: 'paused' });
    });
    afterAll(() => receiver.stop());

    it('refuses "check now" with 409 and sends no request', async () => {
      const before = receiver.recorded.length;
      const response = await api('POST', `/api/v1/http-targets/${id}/check`);
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ detail: 'The HTTP target is paused: resume it to check it' });
      expect(receiver.recorded.length).toBe(before);
    });

    it('stores no result that arrives while it is paused (a check that was already running)', async () => {
      await ctx.services.recorder.record(id, { status: 'down', message: 'connection refused', latencyMs: 3 });
      expect(await checkResultsHistory().latest(ctx.database.db, id, { limit: 10 })).toEqual([]);
      expect((await api('GET', `/api/v1/monitors/${id}/uptime`)).json()['24h']).toMatchObject({ checks: 0, uptime_percent: null });
    });
  });
});
