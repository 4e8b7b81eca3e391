/**
 * Seed 002's `/api/monitoring/*` routes over HTTP (app.inject), on every dialect: each route's
 * shape and access level (public, read, admin), `check/{service}` with its aliases and 404s,
 * `check/all` winning over `check/{service}`, the details of probe messages kept to the
 * operator's tenant, the list of watched checks (heartbeat + self) and their pause/resume, and
 * the dashboard's figures with checks in every state: heartbeat states driven by pings and the
 * deadline sweep, self states by the self checker against real broken parts (Redis on a closed
 * port, a stalled job queue).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeartbeatInput } from '../src/heartbeats/heartbeats.service.js';
import type { RuntimeSignals } from '../src/self-monitoring/environment.js';
import { createTenantWithKey, createTestApp, createUser, login, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { heartbeatInput } from './helpers/heartbeat-fixtures.js';
import { closedPort } from './helpers/receivers.js';

const SEC = 1000;
const iso = (ms: number) => new Date(ms).toISOString();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const silentLogger = { info: () => {}, warn: () => {} };

type Method = 'GET' | 'POST';

/** Runtime signals of a process whose check queue and alerting loop are as the test says. */
function fakeRuntime(clock: { now(): number }, queue: { depth?: number; waitingSince?: number | null } = {}): RuntimeSignals {
  return {
    startedAt: clock.now(),
    checkQueue: { depth: () => queue.depth ?? 0, capacity: 200, oldestWaitingSince: () => queue.waitingSince ?? null, worstClaimLagMs: () => null },
    alerting: { msSinceLastPass: () => 500 },
  };
}

describe.each(TEST_DIALECTS)('/api/monitoring on %s', (dialect) => {
  let ctx: TestContext;
  let ops: TenantFixture;
  let opsReadOnly: TenantFixture;

  afterEach(async () => {
    await ctx?.close();
  });

  /** An app whose operator tenant is "ops" (by name), with a read-only key of its own. */
  async function start(env: Record<string, string> = {}) {
    ctx = await createTestApp(dialect, { env: { SELF_MONITORING_TENANT: 'ops', ...env } });
    ops = await createTenantWithKey(ctx, 'full', 'ops');
    const readOnly = await ctx.services.apiKeys.create(ops.tenantId, { name: 'viewer', scope: 'read-only' });
    opsReadOnly = { ...ops, apiKey: readOnly.secret, apiKeyId: readOnly.apiKey.id };
  }

  const call = (method: Method, url: string, key?: string) => ctx.app.inject({ method, url, headers: key ? { 'x-api-key': key } : {} });
  async function json(method: Method, url: string, key = ops.apiKey, status = 200) {
    const response = await call(method, url, key);
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
    return response.json();
  }

  const provision = () => ctx.services.selfMonitoring.provision('ops', silentLogger);
  const selfCheckId = async (service: string) =>
    (await ctx.database.db.selectFrom('self_checks').select('monitor_id').where('tenant_id', '=', ops.tenantId).where('service', '=', service).executeTakeFirstOrThrow()).monitor_id;

  const heartbeat = (name: string, input: Partial<HeartbeatInput> = {}, tenantId = ops.tenantId) => ctx.services.heartbeats.create(tenantId, heartbeatInput({ name, ...input }));
  async function ping(pingUuid: string, suffix = '') {
    const response = await ctx.app.inject({ method: 'POST', url: `/ping/${pingUuid}${suffix}` });
    expect(response.statusCode, response.body).toBe(200);
  }

  describe('access levels', () => {
    it('health is public and says only that the process answers', async () => {
      await start({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
      const response = await call('GET', '/api/monitoring/health');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok', service: 'vigie', timestamp: iso(ctx.clock.now()) });
      // Redis is down, and the public answer neither says so nor names a host.
      expect(response.body).not.toMatch(/redis|127\.0\.0\.1|database/i);
    });

    it('read routes take a read-only key; admin routes refuse it with 403; every route but health wants a credential', async () => {
      await start();
      const heartbeatCheck = await heartbeat('nightly');
      const readRoutes: [Method, string][] = [
        ['GET', '/api/monitoring/check/database'],
        ['GET', '/api/monitoring/dashboard'],
      ];
      const adminRoutes: [Method, string][] = [
        ['GET', '/api/monitoring/status'],
        ['GET', '/api/monitoring/check/all'],
        ['GET', '/api/monitoring/checks'],
        ['POST', `/api/monitoring/checks/${heartbeatCheck.id}/pause`],
        ['POST', `/api/monitoring/checks/${heartbeatCheck.id}/resume`],
      ];
      for (const [method, url] of readRoutes) {
        expect((await call(method, url, opsReadOnly.apiKey)).statusCode, url).toBe(200);
      }
      for (const [method, url] of adminRoutes) {
        const response = await call(method, url, opsReadOnly.apiKey);
        expect(response.statusCode, url).toBe(403);
        expect(response.json().detail).toBe('This API key\'s scope does not allow this operation (needs "admin")');
      }
      for (const [method, url] of [...readRoutes, ...adminRoutes]) expect((await call(method, url)).statusCode, url).toBe(401);
      // The check was never paused by the refused calls.
      expect((await ctx.services.heartbeats.get(ops.tenantId, heartbeatCheck.id)).status).toBe('new');

      // A member (read + write, not admin) reads the dashboard but not the status.
      const member = await createUser(ctx, ops.tenantId, { role: 'member' });
      const token = await login(ctx, member.email, member.password);
      const asMember = (url: string) => ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expect((await asMember('/api/monitoring/dashboard')).statusCode).toBe(200);
      expect((await asMember('/api/monitoring/status')).statusCode).toBe(403);
    });

    it('publishes every route in /openapi.json with its response schema', async () => {
      await start();
      const paths = (await json('GET', '/openapi.json')).paths as Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
      for (const [path, method] of [
        ['/api/monitoring/health', 'get'],
        ['/api/monitoring/status', 'get'],
        ['/api/monitoring/check/all', 'get'],
        ['/api/monitoring/check/{service}', 'get'],
        ['/api/monitoring/checks', 'get'],
        ['/api/monitoring/checks/{id}/pause', 'post'],
        ['/api/monitoring/checks/{id}/resume', 'post'],
        ['/api/monitoring/dashboard', 'get'],
      ] as const) {
        expect(paths[path]?.[method]?.responses['200'], `${method} ${path}`).toMatchObject({ content: { 'application/json': { schema: { type: 'object', required: expect.any(Array) } } } });
      }
      expect(paths['/api/monitoring/health']!.get!.security).toEqual([]);
      const dashboard = paths['/api/monitoring/dashboard']!.get! as unknown as { description: string };
      expect(dashboard.description).toContain('healthy / (healthy + warning + down) × 100');
    });
  });

  describe('check/{service} and check/all', () => {
    it('runs the database probe under its name and every alias, any case', async () => {
      await start();
      for (const name of ['database', 'postgres', 'postgresql', 'sqlite', 'db', 'POSTGRES']) {
        const body = await json('GET', `/api/monitoring/check/${name}`, opsReadOnly.apiKey);
        expect(body, name).toEqual({
          service: 'database',
          status: 'up',
          latency_ms: expect.any(Number),
          message: expect.stringMatching(/^the database answered in \d+ ms$/),
          checked_at: iso(ctx.clock.now()),
        });
      }
    });

    it('answers 404 naming the known services for an unknown one, and for Redis or the job runner where they are not', async () => {
      await start();
      const unknown = await json('GET', '/api/monitoring/check/kafka', ops.apiKey, 404);
      expect(unknown.detail).toBe('Unknown service "kafka". Known services: database (also postgres, postgresql, sqlite, db), redis, job-runner, scheduler, delivery');
      expect((await json('GET', '/api/monitoring/check/redis', ops.apiKey, 404)).detail).toBe('Redis is not configured (REDIS_URL is not set)');
      expect((await json('GET', '/api/monitoring/check/job-runner', ops.apiKey, 404)).detail).toBe('The check job runner does not run in this process');
      // Once background work runs here, the job runner can be checked.
      ctx.services.selfMonitoring.attachRuntime(fakeRuntime(ctx.clock));
      expect(await json('GET', '/api/monitoring/check/job-runner')).toMatchObject({ service: 'job-runner', status: 'up' });
    });

    it("a broken Redis is 200 with status down; the reason only for the operator's tenant", async () => {
      const port = await closedPort();
      await start({ REDIS_URL: `redis://127.0.0.1:${port}` });
      const mine = await json('GET', '/api/monitoring/check/redis', opsReadOnly.apiKey);
      expect(mine).toMatchObject({ service: 'redis', status: 'down', checked_at: iso(ctx.clock.now()) });
      expect(mine.message).toMatch(/^Redis does not answer: \S/);

      const other = await createTenantWithKey(ctx, 'read-only', 'someone else');
      const theirs = await json('GET', '/api/monitoring/check/redis', other.apiKey);
      expect(theirs).toEqual({
        service: 'redis',
        status: 'down',
        latency_ms: expect.any(Number),
        message: "redis is down (details are shown to the operator's tenant only)",
        checked_at: iso(ctx.clock.now()),
      });
      expect(JSON.stringify(theirs)).not.toContain(String(port));
    });

    it.runIf(process.env.TEST_REDIS_URL)('a working Redis is up', async () => {
      await start({ REDIS_URL: process.env.TEST_REDIS_URL! });
      expect(await json('GET', '/api/monitoring/check/redis')).toMatchObject({ service: 'redis', status: 'up', message: expect.stringMatching(/^Redis answered in \d+ ms$/) });
    });

    it('check/all is its own admin route, not check/{service} with "all"; it runs every probe this process can run', async () => {
      await start({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
      // The read-only key may call check/{service}: a 403 proves that "all" reached the admin route.
      const refused = await call('GET', '/api/monitoring/check/all', opsReadOnly.apiKey);
      expect(refused.statusCode).toBe(403);
      const all = await json('GET', '/api/monitoring/check/all');
      expect(all.status).toBe('down');
      expect(all.services.map((s: { service: string; status: string }) => `${s.service}:${s.status}`)).toEqual(['database:up', 'redis:down', 'scheduler:up', 'delivery:up']);
      const reading = (service: string, status: string, message: string | RegExp) => ({
        service,
        status,
        latency_ms: expect.any(Number), // real time taken: not knowable
        message: typeof message === 'string' ? message : expect.stringMatching(message),
        checked_at: iso(ctx.clock.now()),
      });
      expect(all.services).toEqual([
        reading('database', 'up', /^the database answered in \d+ ms$/),
        reading('redis', 'down', 'Redis does not answer: Connection is closed.'),
        reading('scheduler', 'up', 'no due check is waiting to be claimed'),
        reading('delivery', 'up', 'no notification is overdue'),
      ]);

      ctx.services.selfMonitoring.attachRuntime(fakeRuntime(ctx.clock, { depth: 3, waitingSince: ctx.clock.now() - 45 * SEC }));
      const withRuntime = await json('GET', '/api/monitoring/check/all');
      expect(withRuntime.services.map((s: { service: string; status: string }) => `${s.service}:${s.status}`)).toEqual([
        'database:up',
        'redis:down',
        'job-runner:warning',
        'scheduler:up',
        'delivery:up',
      ]);
      expect(withRuntime.services[2].message).toBe('the oldest queued check has waited 45 s to start (3 queued or running)');
    });
  });

  describe('status', () => {
    it("shows the operator's self checks with state, last check and message, and the tenant's checks per status", async () => {
      await start({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
      const before = await json('GET', '/api/monitoring/status');
      expect(before.self_monitoring).toEqual({ operator: true, status: null, message: expect.stringContaining('its checks are created when the background work starts'), services: [] });

      await provision();
      const database = await selfCheckId('database');
      const redis = await selfCheckId('redis');
      await ctx.services.checks.runNow(database);
      ctx.clock.advance(5 * SEC);
      await ctx.services.checks.runNow(redis);
      await ctx.services.checks.runNow(redis); // the tenant's threshold is 2 failures in a row
      const hb = await heartbeat('nightly');
      await ping(hb.pingUuid);

      const status = await json('GET', '/api/monitoring/status');
      expect(status.self_monitoring.operator).toBe(true);
      expect(status.self_monitoring.status).toBe('down');
      expect(status.self_monitoring.message).toBe('This tenant runs Vigie\'s self-monitoring (SELF_MONITORING_TENANT names tenant "ops").');
      expect(status.self_monitoring.services).toEqual([
        {
          service: 'database',
          check_id: database,
          name: 'Vigie database',
          state: 'up',
          interval_seconds: 30,
          last_checked_at: iso(ctx.clock.now() - 5 * SEC),
          message: expect.stringMatching(/^the database answered in \d+ ms$/),
        },
        {
          service: 'redis',
          check_id: redis,
          name: 'Vigie Redis',
          state: 'down',
          interval_seconds: 30,
          last_checked_at: iso(ctx.clock.now()),
          message: expect.stringMatching(/^Redis does not answer: /),
        },
        { service: 'scheduler', check_id: expect.stringMatching(UUID), name: 'Vigie scheduler', state: 'pending', interval_seconds: 60, last_checked_at: null, message: null },
        { service: 'delivery', check_id: expect.stringMatching(UUID), name: 'Vigie notification delivery', state: 'pending', interval_seconds: 60, last_checked_at: null, message: null },
      ]);
      expect(status.checks.total).toBe(5);
      expect(status.checks.by_status).toMatchObject({ up: 2, down: 1, pending: 2, paused: 0, grace: 0, new: 0 });
      expect(status.generated_at).toBe(iso(ctx.clock.now()));
    });

    it("tells another tenant that self-monitoring is the operator's, and counts only its own checks", async () => {
      await start();
      await provision();
      const other = await createTenantWithKey(ctx, 'full', 'someone else');
      await heartbeat('their job', {}, other.tenantId);
      const status = await json('GET', '/api/monitoring/status', other.apiKey);
      expect(status.self_monitoring).toEqual({ operator: false, status: null, message: "Self-monitoring of this Vigie belongs to its operator's tenant; ask your Vigie operator.", services: [] });
      expect(status.checks.total).toBe(1);
      expect(status.checks.by_status.new).toBe(1);
    });

    it('says when self-monitoring is off, without naming the setting that failed', async () => {
      await start({ SELF_MONITORING_TENANT: 'nobody-by-that-name' });
      const status = await json('GET', '/api/monitoring/status');
      expect(status.self_monitoring).toEqual({ operator: false, status: null, message: 'Self-monitoring is off: no operator tenant (see SELF_MONITORING_TENANT).', services: [] });
    });
  });

  describe('checks, pause and resume', () => {
    it("lists the tenant's heartbeat and self checks; pauses and resumes each kind through its own service", async () => {
      await start();
      await provision();
      const hb = await heartbeat('nightly backup', { tags: ['db', 'nightly'] });
      ctx.clock.advance(SEC);
      await ping(hb.pingUuid);
      const database = await selfCheckId('database');
      await ctx.services.checks.runNow(database);

      const { checks } = await json('GET', '/api/monitoring/checks');
      expect(checks).toEqual([
        { id: hb.id, name: 'nightly backup', kind: 'heartbeat', status: 'up', last_ping: iso(ctx.clock.now()), tags: ['db', 'nightly'] },
        { id: database, name: 'Vigie database', kind: 'self', status: 'up', last_ping: iso(ctx.clock.now()), tags: ['self-monitoring', 'vigie'] },
        { id: expect.stringMatching(UUID), name: 'Vigie notification delivery', kind: 'self', status: 'pending', last_ping: null, tags: ['self-monitoring', 'vigie'] },
        { id: expect.stringMatching(UUID), name: 'Vigie scheduler', kind: 'self', status: 'pending', last_ping: null, tags: ['self-monitoring', 'vigie'] },
      ]);

      // A heartbeat check: paused with its deadlines cleared, resumed to "new" as Healthchecks does.
      expect(await json('POST', `/api/monitoring/checks/${hb.id}/pause`)).toMatchObject({ id: hb.id, kind: 'heartbeat', status: 'paused' });
      expect(await ctx.services.heartbeats.get(ops.tenantId, hb.id)).toMatchObject({ status: 'paused', deadlineAt: null, alertAfter: null });
      expect((await ctx.services.monitors.get(ops.tenantId, hb.id)).state).toBe('paused');
      expect(await json('POST', `/api/monitoring/checks/${hb.id}/resume`)).toMatchObject({ id: hb.id, status: 'new' });
      expect((await ctx.services.monitors.get(ops.tenantId, hb.id)).state).toBe('pending');
      // Resuming a heartbeat that is not paused is a 409, as through Healthchecks' v3 (issue 14).
      expect(await json('POST', `/api/monitoring/checks/${hb.id}/resume`, ops.apiKey, 409)).toEqual({ detail: 'The check is not paused' });
      expect(await ctx.services.heartbeats.get(ops.tenantId, hb.id)).toMatchObject({ status: 'new' });

      // A self check: no longer scheduled while paused, due again at once when resumed.
      expect(await json('POST', `/api/monitoring/checks/${database}/pause`)).toEqual({
        id: database,
        name: 'Vigie database',
        kind: 'self',
        status: 'paused',
        last_ping: iso(ctx.clock.now()),
        tags: ['self-monitoring', 'vigie'],
      });
      expect(await ctx.services.monitors.get(ops.tenantId, database)).toMatchObject({ state: 'paused', isActive: false, nextDueAt: null });
      expect(await json('POST', `/api/monitoring/checks/${database}/resume`)).toMatchObject({ id: database, status: 'pending' });
      expect(await ctx.services.monitors.get(ops.tenantId, database)).toMatchObject({ state: 'pending', isActive: true, nextDueAt: ctx.clock.now() });
    });

    it('answers 404 for a monitor of another kind, of another tenant, or unknown, and 422 for a malformed id', async () => {
      await start();
      const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/http-targets', headers: { 'x-api-key': ops.apiKey }, payload: { name: 'site', url: 'http://127.0.0.1:9/' } });
      expect(created.statusCode, created.body).toBe(201);
      const other = await createTenantWithKey(ctx, 'full', 'someone else');
      const theirs = await heartbeat('their job', {}, other.tenantId);
      for (const id of [created.json().id as string, theirs.id, randomUUID()]) {
        for (const action of ['pause', 'resume']) {
          expect(await json('POST', `/api/monitoring/checks/${id}/${action}`, ops.apiKey, 404)).toEqual({ detail: 'Check not found' });
        }
      }
      expect((await ctx.services.heartbeats.get(other.tenantId, theirs.id)).status).toBe('new');
      expect((await call('POST', '/api/monitoring/checks/not-a-uuid/pause', ops.apiKey)).statusCode).toBe(422);
    });
  });

  describe('dashboard', () => {
    it('has no health percentage (null) for a tenant without checks', async () => {
      await start();
      expect(await json('GET', '/api/monitoring/dashboard', opsReadOnly.apiKey)).toEqual({
        health_percentage: null,
        summary: { total_checks: 0, healthy: 0, warning: 0, down: 0, paused: 0, pending: 0 },
        recent_failures: [],
      });
    });

    it('counts heartbeat and self checks in every state, the most recent failure first', async () => {
      await start({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
      const t0 = ctx.clock.now();
      const at = (seconds: number) => ctx.clock.set(t0 + seconds * SEC);
      // The job queue of this "process" has a check waiting since 15 s before t0.
      ctx.services.selfMonitoring.attachRuntime(fakeRuntime(ctx.clock, { depth: 4, waitingSince: t0 - 15 * SEC }));
      const report = await provision();
      expect(report?.created).toEqual(['database', 'redis', 'job-runner', 'scheduler', 'delivery']);
      const self = Object.fromEntries(await Promise.all(['database', 'redis', 'job-runner', 'scheduler', 'delivery'].map(async (s) => [s, await selfCheckId(s)] as const)));

      const up = await heartbeat('backup up');
      const failed = await heartbeat('export failed');
      const late = await heartbeat('report late', { timeoutSeconds: 60, graceSeconds: 3600 });
      const paused = await heartbeat('cleanup paused');
      await heartbeat('never pinged');
      await ping(late.pingUuid);
      await ctx.services.checks.runNow(self.database!); // up
      await ctx.services.checks.runNow(self.scheduler!); // up: nothing overdue 0 s after provisioning

      at(10);
      await ping(failed.pingUuid, '/fail'); // down at t0 + 10 s
      at(20);
      for (let i = 0; i < 2; i++) await ctx.services.checks.runNow(self.redis!); // down at t0 + 20 s
      at(30);
      for (let i = 0; i < 2; i++) await ctx.services.checks.runNow(self['job-runner']!); // waited 45 s: warning at t0 + 30 s
      at(61);
      expect(await ctx.services.heartbeatSweep.run()).toBe(1); // late: in its grace since t0 + 60 s
      at(70);
      await ping(up.pingUuid);
      await json('POST', `/api/monitoring/checks/${paused.id}/pause`);
      await json('POST', `/api/monitoring/checks/${self.delivery}/pause`);

      const statuses = Object.fromEntries((await json('GET', '/api/monitoring/checks')).checks.map((c: { name: string; status: string }) => [c.name, c.status]));
      expect(statuses).toEqual({
        'backup up': 'up',
        'export failed': 'down',
        'report late': 'grace',
        'cleanup paused': 'paused',
        'never pinged': 'new',
        'Vigie database': 'up',
        'Vigie Redis': 'down',
        'Vigie job runner': 'warning',
        'Vigie scheduler': 'up',
        'Vigie notification delivery': 'paused',
      });
      // healthy 3 (backup up, database, scheduler) of the 7 that report (3 + 2 warning + 2 down) = 42.9 %;
      // the never-pinged check is pending, the two paused ones paused: each of the 10 in one bucket.
      expect(await json('GET', '/api/monitoring/dashboard', opsReadOnly.apiKey)).toEqual({
        health_percentage: 42.9,
        summary: { total_checks: 10, healthy: 3, warning: 2, down: 2, paused: 2, pending: 1 },
        recent_failures: [
          { name: 'report late', last_ping: iso(t0), status: 'grace' },
          { name: 'Vigie job runner', last_ping: iso(t0 + 30 * SEC), status: 'warning' },
          { name: 'Vigie Redis', last_ping: iso(t0 + 20 * SEC), status: 'down' },
          { name: 'export failed', last_ping: iso(t0 + 10 * SEC), status: 'down' },
        ],
      });

      // Another tenant's dashboard holds none of this.
      const other = await createTenantWithKey(ctx, 'read-only', 'someone else');
      expect((await json('GET', '/api/monitoring/dashboard', other.apiKey)).summary).toEqual({ total_checks: 0, healthy: 0, warning: 0, down: 0, paused: 0, pending: 0 });
    });

    it('rounds to one decimal and lists at most ten failures', async () => {
      await start();
      const checks = [];
      for (let i = 0; i < 12; i++) checks.push(await heartbeat(`job ${String(i).padStart(2, '0')}`));
      await ping(checks[0]!.pingUuid);
      for (const check of checks.slice(1)) {
        ctx.clock.advance(SEC);
        await ping(check.pingUuid, '/fail');
      }
      const dashboard = await json('GET', '/api/monitoring/dashboard');
      // 1 healthy of 12 watched: 8.333… % → 8.3.
      expect(dashboard.health_percentage).toBe(8.3);
      expect(dashboard.summary).toEqual({ total_checks: 12, healthy: 1, warning: 0, down: 11, paused: 0, pending: 0 });
      expect(dashboard.recent_failures.map((f: { name: string }) => f.name)).toEqual(['job 11', 'job 10', 'job 09', 'job 08', 'job 07', 'job 06', 'job 05', 'job 04', 'job 03', 'job 02']);
      for (const failure of dashboard.recent_failures) expect(failure.last_ping).toMatch(ISO);
    });
  });
});
