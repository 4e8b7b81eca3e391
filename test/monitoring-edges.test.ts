/**
 * Seed 002's `/api/monitoring/*` rough edges (issue 14), on every dialect:
 * - `checks/{id}/pause|resume` take a heartbeat's ping UUID (what Healthchecks clients know) as
 *   well as its monitor id, and mean what Healthchecks' v3 pause/resume mean (409 "not paused");
 * - the dashboard puts every check in exactly one bucket (pending for never-reported checks) and
 *   computes health over the checks that report: new checks no longer drag it to 33 %;
 * - after `bootstrap --dev` on a database whose first start made another tenant, the dev
 *   superuser `admin@example.com` is answered as the operator.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapDev, bootstrapFirstStart, DEV_DATA } from '../src/auth/bootstrap.js';
import { BUCKET_OF, DASHBOARD_BUCKETS, WATCHED_CHECK_STATUSES } from '../src/self-monitoring/watched-checks.js';
import { createTenantWithKey, createTestApp, createUser, login, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { heartbeatInput } from './helpers/heartbeat-fixtures.js';

const silentLogger = { info: () => {}, warn: () => {} };

it('every watched status is in exactly one dashboard bucket', () => {
  expect(Object.keys(BUCKET_OF).sort()).toEqual([...WATCHED_CHECK_STATUSES].sort());
  for (const bucket of Object.values(BUCKET_OF)) expect(DASHBOARD_BUCKETS).toContain(bucket);
});

describe.each(TEST_DIALECTS)('/api/monitoring edges on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;

  afterEach(async () => {
    await ctx?.close();
  });

  async function start(env: Record<string, string> = {}) {
    ctx = await createTestApp(dialect, { env });
    tenant = await createTenantWithKey(ctx);
  }
  const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = { 'x-api-key': tenant.apiKey }) => ctx.app.inject({ method, url, headers });
  const heartbeat = (name: string, tenantId = tenant.tenantId) => ctx.services.heartbeats.create(tenantId, heartbeatInput({ name }));
  const ping = async (pingUuid: string, suffix = '') => expect((await ctx.app.inject({ method: 'POST', url: `/ping/${pingUuid}${suffix}` })).statusCode).toBe(200);

  describe('pause and resume by ping UUID', () => {
    it("pauses and resumes a heartbeat named by its ping UUID, as Healthchecks' v3 does, with its 409 for a check not paused", async () => {
      await start();
      const check = await heartbeat('nightly');
      await ping(check.pingUuid);

      const paused = await call('POST', `/api/monitoring/checks/${check.pingUuid}/pause`);
      expect(paused.statusCode, paused.body).toBe(200);
      expect(paused.json()).toMatchObject({ id: check.id, kind: 'heartbeat', status: 'paused' });
      expect(await ctx.services.heartbeats.get(tenant.tenantId, check.id)).toMatchObject({ status: 'paused', deadlineAt: null, alertAfter: null });
      expect((await ctx.services.monitors.get(tenant.tenantId, check.id)).state).toBe('paused');

      const resumed = await call('POST', `/api/monitoring/checks/${check.pingUuid}/resume`);
      expect(resumed.statusCode, resumed.body).toBe(200);
      expect(resumed.json()).toMatchObject({ id: check.id, status: 'new' });

      // Not paused: the same answer as Healthchecks' v3 resume gives.
      const again = await call('POST', `/api/monitoring/checks/${check.pingUuid}/resume`);
      const v3 = await call('POST', `/api/v3/checks/${check.pingUuid}/resume`);
      expect(again.statusCode).toBe(409);
      expect(v3.statusCode).toBe(409);
      // Healthchecks answers its 409 in plain text; seed 002's route keeps Vigie's JSON shape with the same words.
      expect(v3.body).toBe('check is not paused');
      expect(again.json().detail).toMatch(/not paused/i);
      // By monitor id, the same.
      expect((await call('POST', `/api/monitoring/checks/${check.id}/resume`)).statusCode).toBe(409);
    });

    it("another tenant's ping UUID, or an unknown one, is a 404 and changes nothing", async () => {
      await start();
      const other = await createTenantWithKey(ctx, 'full', 'someone else');
      const theirs = await heartbeat('their job', other.tenantId);
      for (const id of [theirs.pingUuid, randomUUID()]) {
        for (const action of ['pause', 'resume']) {
          const response = await call('POST', `/api/monitoring/checks/${id}/${action}`);
          expect(response.statusCode).toBe(404);
          expect(response.json()).toEqual({ detail: 'Check not found' });
        }
      }
      expect((await ctx.services.heartbeats.get(other.tenantId, theirs.id)).status).toBe('new');
    });
  });

  describe('dashboard', () => {
    const dashboard = async () => {
      const response = await call('GET', '/api/monitoring/dashboard');
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { health_percentage: number | null; summary: Record<string, number> };
    };
    const bucketsAddUp = (summary: Record<string, number>) => expect(summary.healthy! + summary.warning! + summary.down! + summary.paused! + summary.pending!).toBe(summary.total_checks);

    it('checks that never reported are pending and do not lower health: one up and two new is 100 %, not 33 %', async () => {
      await start();
      const up = await heartbeat('reports');
      await heartbeat('new one');
      await heartbeat('new two');
      let figures = await dashboard();
      expect(figures).toMatchObject({ health_percentage: null, summary: { total_checks: 3, healthy: 0, warning: 0, down: 0, paused: 0, pending: 3 } });

      await ping(up.pingUuid);
      figures = await dashboard();
      expect(figures).toMatchObject({ health_percentage: 100, summary: { total_checks: 3, healthy: 1, pending: 2 } });
      bucketsAddUp(figures.summary);
    });

    it('a start alone leaves a new check pending (Healthchecks keeps it new, started), a failure is down, a pause leaves the share of the reporting checks', async () => {
      await start();
      const [a, b, c, d] = [await heartbeat('a'), await heartbeat('b'), await heartbeat('c'), await heartbeat('d')];
      await ping(a.pingUuid);
      await ping(b.pingUuid, '/start');
      await ping(c.pingUuid, '/fail');
      await ping(d.pingUuid);
      expect((await call('POST', `/api/monitoring/checks/${d.pingUuid}/pause`)).statusCode).toBe(200);
      const figures = await dashboard();
      // a up, c down: healthy 1 of the 2 that report; b has only started, so it is still new (pending); d paused counts in no share.
      expect(figures).toMatchObject({ health_percentage: 50, summary: { total_checks: 4, healthy: 1, warning: 0, down: 1, paused: 1, pending: 1 } });
      bucketsAddUp(figures.summary);
    });
  });

  describe('a superuser is the operator', () => {
    it('after bootstrap --dev on a database whose first start made another tenant, admin@example.com gets the self checks and their details', async () => {
      await start();
      const first = await bootstrapFirstStart({ db: ctx.database.db, clock: ctx.clock });
      expect(first).toBeDefined();
      ctx.clock.advance(1000);
      await bootstrapDev({ db: ctx.database.db, clock: ctx.clock });
      // The operator's tenant is the first start's (the oldest superuser's), where the self checks live.
      const report = await ctx.services.selfMonitoring.provision(undefined, silentLogger);
      expect(report?.created.length).toBeGreaterThan(0);
      expect((await ctx.services.selfMonitoring.operator()).tenantId).toBe(first!.tenantId);

      const token = await login(ctx, DEV_DATA.userEmail, DEV_DATA.userPassword);
      const asDevAdmin = { authorization: `Bearer ${token}` };
      const status = await call('GET', '/api/monitoring/status', asDevAdmin);
      expect(status.statusCode, status.body).toBe(200);
      const self = status.json().self_monitoring;
      expect(self.operator).toBe(true);
      expect(self.message).toContain('You are a superuser');
      expect(self.message).not.toContain('ask your Vigie operator');
      expect(self.services.map((s: { service: string }) => s.service)).toEqual(expect.arrayContaining(['database', 'scheduler', 'delivery']));
      // The dev key (an API key of the Dev tenant, not a superuser) is still not the operator.
      const byKey = await call('GET', '/api/monitoring/status', { 'x-api-key': DEV_DATA.apiKey });
      expect(byKey.json().self_monitoring).toMatchObject({ operator: false, message: "Self-monitoring of this Vigie belongs to its operator's tenant; ask your Vigie operator." });
      // Probe details too: the superuser reads them, the Dev tenant's key gets the generic sentence.
      expect((await call('GET', '/api/monitoring/check/database', asDevAdmin)).json().message).toMatch(/^the database answered in \d+ ms$/);
      expect((await call('GET', '/api/monitoring/check/database', { 'x-api-key': DEV_DATA.apiKey })).json().message).toContain("details are shown to the operator's tenant only");

      // An admin of the Dev tenant who is not a superuser is not the operator either.
      const plain = await createUser(ctx, DEV_DATA.tenantId, { role: 'admin' });
      const plainStatus = await call('GET', '/api/monitoring/status', { authorization: `Bearer ${await login(ctx, plain.email, plain.password)}` });
      expect(plainStatus.json().self_monitoring.operator).toBe(false);
    });
  });
});
