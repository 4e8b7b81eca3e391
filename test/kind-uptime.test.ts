/**
 * Uptime is the share of the window a monitor spent up, computed the same way for every kind from
 * what the kind recorded (issue 12, defect 3): a heartbeat's pings count by the time each one's
 * verdict held, not by the transitions they caused (before, six pings with one failure were 2/3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { heartbeatInput } from './helpers/heartbeat-fixtures.js';

const MIN = 60_000;

describe.each(TEST_DIALECTS)('uptime of a heartbeat on %s', (dialect) => {
  let ctx: TestContext;
  let owner: TenantFixture;
  beforeAll(async () => {
    ctx = await createTestApp(dialect);
    owner = await createTenantWithKey(ctx);
  });
  afterAll(() => ctx.close());

  it('six pings ten minutes apart, the third a failure: down for the ten minutes until the next success', async () => {
    const check = await ctx.services.heartbeats.create(owner.tenantId, heartbeatInput({ timeoutSeconds: 3600, graceSeconds: 600 }));
    for (let i = 0; i < 6; i++) {
      const response = await ctx.app.inject({ method: 'POST', url: `/ping/${check.pingUuid}${i === 2 ? '/fail' : ''}` });
      expect(response.statusCode).toBe(200);
      ctx.clock.advance(10 * MIN);
    }
    // Known from the first ping to now (60 min), down from the fail ping to the next one (10 min).
    const uptime = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${check.id}/uptime`, headers: { 'x-api-key': owner.apiKey } });
    expect(uptime.json()['24h']).toMatchObject({ checks: 6, up: 5, uptime_percent: 83.333 });
    const results = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${check.id}/results`, headers: { 'x-api-key': owner.apiKey } });
    expect((results.json() as { status: string; source: string }[]).map((r) => `${r.status}/${r.source}`)).toEqual(['up/ping', 'up/ping', 'up/ping', 'down/ping', 'up/ping', 'up/ping']);
  });
});
