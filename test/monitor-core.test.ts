/**
 * The monitor core on real databases: thresholds from the tenant and the monitor, flip rows,
 * incidents opened / escalated / resolved / acknowledged, the compare-and-set under concurrent
 * results, and the generic monitor and incident routes.
 *
 * Monitors are HTTP targets on a closed port (nothing here runs their checks: results are
 * recorded directly through the recorder, at times taken from the manual clock).
 */
import { checkResultsHistory } from '../src/monitors/results-history.js';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultStatus } from '../src/monitors/kinds.js';
import { insertMonitor } from '../src/monitors/monitors.repository.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe.each(TEST_DIALECTS)('monitor core on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  let headers: Record<string, string>;

  afterEach(async () => {
    await ctx?.close();
  });

  async function start() {
    ctx = await createTestApp(dialect);
    tenant = await createTenantWithKey(ctx);
    headers = { 'x-api-key': tenant.apiKey };
  }

  let urlCounter = 0;
  const createMonitor = (input: { name?: string; tags?: string[]; failureThreshold?: number | null; recoveryThreshold?: number; tenantId?: string } = {}) =>
    ctx.services.httpTargets.create(input.tenantId ?? tenant.tenantId, {
      name: input.name ?? `target ${++urlCounter}`,
      url: `http://127.0.0.1:9/${++urlCounter}`,
      tags: input.tags,
      failureThreshold: input.failureThreshold,
      recoveryThreshold: input.recoveryThreshold,
    });

  /** Records one result a second later than the previous one; returns what the recorder returned. */
  async function record(monitorId: string, status: ResultStatus, message = `${status} result`) {
    ctx.clock.advance(1000);
    return ctx.services.recorder.record(monitorId, { status, latencyMs: 10, message }, ctx.clock.now());
  }

  async function recordMany(monitorId: string, statuses: ResultStatus[]) {
    for (const status of statuses) await record(monitorId, status);
  }

  const monitor = (id: string) => ctx.services.monitors.get(tenant.tenantId, id);

  const flipRows = (monitorId: string) => ctx.database.db.selectFrom('monitor_flips').selectAll().where('monitor_id', '=', monitorId).orderBy('at').execute();

  const incidentRows = (monitorId: string) => ctx.database.db.selectFrom('incidents').selectAll().where('monitor_id', '=', monitorId).orderBy('opened_at').execute();

  describe('thresholds', () => {
    it("takes N from the tenant's consecutive_failures_threshold", async () => {
      await start();
      await ctx.services.settings.update(tenant.tenantId, { consecutiveFailuresThreshold: 3 });
      const id = await createMonitor();
      await recordMany(id, ['up', 'down', 'down']);
      expect(await monitor(id)).toMatchObject({ state: 'up', consecutiveFailures: 2 });
      await record(id, 'down');
      expect(await monitor(id)).toMatchObject({ state: 'down', consecutiveFailures: 3, consecutiveSuccesses: 0 });
    });

    it('uses the default tenant threshold of 2 when the tenant did not set one', async () => {
      await start();
      expect((await ctx.services.settings.get(tenant.tenantId)).consecutiveFailuresThreshold).toBe(2);
      const id = await createMonitor();
      await record(id, 'down');
      expect((await monitor(id)).state).toBe('pending');
      await record(id, 'down');
      expect((await monitor(id)).state).toBe('down');
    });

    it("a monitor's failure_threshold overrides the tenant's, in both directions", async () => {
      await start();
      await ctx.services.settings.update(tenant.tenantId, { consecutiveFailuresThreshold: 3 });
      const strict = await createMonitor({ failureThreshold: 1 });
      const lenient = await createMonitor({ failureThreshold: 5 });
      const inherits = await createMonitor();
      for (const id of [strict, lenient, inherits]) await record(id, 'up');

      await record(strict, 'down');
      expect((await monitor(strict)).state).toBe('down');

      await recordMany(inherits, ['down', 'down', 'down']);
      expect((await monitor(inherits)).state).toBe('down');

      await recordMany(lenient, ['down', 'down', 'down', 'down']);
      expect((await monitor(lenient)).state).toBe('up');
      await record(lenient, 'down');
      expect((await monitor(lenient)).state).toBe('down');
    });

    it('the tenant threshold is read at each result, so changing it applies at once', async () => {
      await start();
      const id = await createMonitor();
      await recordMany(id, ['up', 'down']);
      await ctx.services.settings.update(tenant.tenantId, { consecutiveFailuresThreshold: 4 });
      await recordMany(id, ['down', 'down']);
      expect(await monitor(id)).toMatchObject({ state: 'up', consecutiveFailures: 3 });
      await record(id, 'down');
      expect((await monitor(id)).state).toBe('down');
    });

    it('recovery_threshold M: back up only after M successes in a row', async () => {
      await start();
      const id = await createMonitor({ failureThreshold: 1, recoveryThreshold: 3 });
      await recordMany(id, ['up', 'down', 'up', 'up']);
      expect(await monitor(id)).toMatchObject({ state: 'down', consecutiveSuccesses: 2 });
      await recordMany(id, ['down', 'up', 'up']);
      expect((await monitor(id)).state).toBe('down');
      await record(id, 'up');
      expect(await monitor(id)).toMatchObject({ state: 'up', consecutiveSuccesses: 3, consecutiveFailures: 0 });
    });
  });

  describe('flips and incidents', () => {
    it('writes exactly one flip row per change of state, none for results that change nothing', async () => {
      await start();
      const id = await createMonitor({ failureThreshold: 2 });
      const t0 = ctx.clock.now();
      // pending→up, (2 failures) up→down, down→warning, warning→down, (2 successes, M=1) down→up
      await recordMany(id, ['up', 'up', 'down', 'down', 'down', 'warning', 'warning', 'down', 'up', 'up']);
      const flips = await flipRows(id);
      expect(flips.map((f) => [f.from_state, f.to_state, f.at - t0])).toEqual([
        ['pending', 'up', 1000],
        ['up', 'down', 4000],
        ['down', 'warning', 6000],
        ['warning', 'down', 8000],
        ['down', 'up', 9000],
      ]);
      expect(flips.every((f) => f.tenant_id === tenant.tenantId)).toBe(true);
      expect(flips[1]!.reason).toBe('down result');

      const current = await monitor(id);
      expect(current.stateChangedAt).toBe(t0 + 9000);
      expect(current.lastCheckedAt).toBe(t0 + 10_000);
      const results = await checkResultsHistory().latest(ctx.database.db, id, { limit: 100 });
      expect(results).toHaveLength(10);
    });

    it('the recorder returns the flip it wrote, with the id of the row', async () => {
      await start();
      const id = await createMonitor({ failureThreshold: 1 });
      const first = await record(id, 'up');
      expect(first?.flip).toMatchObject({ monitorId: id, tenantId: tenant.tenantId, fromState: 'pending', toState: 'up' });
      const second = await record(id, 'up');
      expect(second?.flip).toBeUndefined();
      const rows = await flipRows(id);
      expect(rows.map((r) => r.id)).toEqual([first!.flip!.id]);
    });

    it('a flip to down opens one incident, and the flip back up resolves it', async () => {
      await start();
      const id = await createMonitor({ failureThreshold: 2 });
      await recordMany(id, ['up', 'down']);
      expect(await incidentRows(id)).toEqual([]);
      const down = await record(id, 'down', 'connection refused');
      await recordMany(id, ['down', 'down']);

      let incidents = await incidentRows(id);
      expect(incidents).toHaveLength(1);
      expect(incidents[0]).toMatchObject({
        tenant_id: tenant.tenantId,
        severity: 'down',
        state: 'open',
        reason: 'connection refused',
        opened_at: down!.at,
        opened_by_flip_id: down!.flip!.id,
        resolved_at: null,
        resolved_by_flip_id: null,
        acknowledged_at: null,
      });

      const up = await record(id, 'up');
      incidents = await incidentRows(id);
      expect(incidents).toHaveLength(1);
      expect(incidents[0]).toMatchObject({ state: 'resolved', resolved_at: up!.at, resolved_by_flip_id: up!.flip!.id, severity: 'down' });

      // The next outage is a new incident.
      await recordMany(id, ['down', 'down']);
      incidents = await incidentRows(id);
      expect(incidents.map((i) => i.state)).toEqual(['resolved', 'open']);
    });

    it('warning opens an incident of severity warning; warning→down escalates that same incident', async () => {
      await start();
      const id = await createMonitor({ failureThreshold: 2 });
      await recordMany(id, ['up', 'warning', 'warning']);
      let incidents = await incidentRows(id);
      expect(incidents.map((i) => [i.state, i.severity])).toEqual([['open', 'warning']]);
      const openedId = incidents[0]!.id;

      await record(id, 'down');
      incidents = await incidentRows(id);
      expect(incidents.map((i) => [i.id, i.state, i.severity])).toEqual([[openedId, 'open', 'down']]);

      // And back to warning: still the same incident, now of the milder severity.
      await record(id, 'warning');
      incidents = await incidentRows(id);
      expect(incidents.map((i) => [i.id, i.state, i.severity])).toEqual([[openedId, 'open', 'warning']]);

      await record(id, 'up');
      incidents = await incidentRows(id);
      expect(incidents.map((i) => [i.id, i.state])).toEqual([[openedId, 'resolved']]);
      expect((await flipRows(id)).map((f) => f.to_state)).toEqual(['up', 'warning', 'down', 'warning', 'up']);
    });

    it('20 concurrent failures for one monitor: each counts once, one flip, one incident', async () => {
      await start();
      const id = await createMonitor({ failureThreshold: 2 });
      await record(id, 'up');
      const at = ctx.clock.now() + 1000;
      const recorded = await Promise.all(Array.from({ length: 20 }, (_, i) => ctx.services.recorder.record(id, { status: 'down', latencyMs: i, message: `failure ${i}` }, at)));
      expect(recorded.every((r) => r !== undefined)).toBe(true);
      expect(recorded.filter((r) => r?.flip).map((r) => r!.flip!.toState)).toEqual(['down']);

      const current = await monitor(id);
      expect(current).toMatchObject({ state: 'down', consecutiveFailures: 20, consecutiveSuccesses: 0 });
      const flips = await flipRows(id);
      expect(flips.map((f) => [f.from_state, f.to_state])).toEqual([
        ['pending', 'up'],
        ['up', 'down'],
      ]);
      expect(await incidentRows(id)).toHaveLength(1);
      const results = (await checkResultsHistory().latest(ctx.database.db, id, { limit: 1000 })).filter((r) => r.status === 'down');
      expect(results.map((r) => r.latencyMs).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('concurrent failures then concurrent successes on several monitors at once stay exact', async () => {
      await start();
      const ids = await Promise.all([createMonitor({ failureThreshold: 3 }), createMonitor({ failureThreshold: 3 }), createMonitor({ failureThreshold: 3 })]);
      const at = ctx.clock.now() + 1000;
      await Promise.all(ids.flatMap((id) => Array.from({ length: 8 }, () => ctx.services.recorder.record(id, { status: 'down', message: 'refused' }, at))));
      await Promise.all(ids.flatMap((id) => Array.from({ length: 4 }, () => ctx.services.recorder.record(id, { status: 'up', message: 'ok' }, at + 1000))));
      for (const id of ids) {
        expect(await monitor(id)).toMatchObject({ state: 'up', consecutiveFailures: 0, consecutiveSuccesses: 4 });
        expect((await flipRows(id)).map((f) => [f.from_state, f.to_state])).toEqual([
          ['pending', 'down'],
          ['down', 'up'],
        ]);
        expect((await incidentRows(id)).map((i) => i.state)).toEqual(['resolved']);
      }
    });
  });

  describe('GET /api/v1/monitors', () => {
    const list = async (query: string) => {
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors${query}`, headers });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { items: { id: string; name: string; kind: string; state: string; tags: string[] }[]; total: number; limit: number; offset: number };
    };
    const names = (page: { items: { name: string }[] }) => page.items.map((m) => m.name);

    /**
     * Five monitors of the tenant (api-gateway down, web-frontend up, the rest pending; one a
     * heartbeat), and another tenant's monitor whose name and tags match, which never shows.
     */
    async function fiveMonitors() {
      await start();
      const api = await createMonitor({ name: 'api-gateway', tags: ['prod', 'edge'], failureThreshold: 1 });
      const web = await createMonitor({ name: 'web-frontend', tags: ['prod'] });
      await createMonitor({ name: 'staging-api', tags: ['staging'] });
      await createMonitor({ name: '100%_done' });
      const now = ctx.clock.now();
      await insertMonitor(ctx.database.db, {
        id: randomUUID(),
        tenantId: tenant.tenantId,
        kind: 'heartbeat',
        name: 'nightly-backup-job',
        tags: ['prod'],
        isActive: true,
        failureThreshold: null,
        recoveryThreshold: 1,
        intervalSeconds: null,
        nextDueAt: null,
        now,
      });
      // Another tenant's monitor with matching names and tags never shows.
      const other = await createTenantWithKey(ctx);
      await createMonitor({ name: 'api-other-tenant', tags: ['prod'], tenantId: other.tenantId });

      await record(api, 'down');
      await record(web, 'up');
      return { api };
    }

    it("lists the tenant's monitors by name without filters, never another tenant's", async () => {
      await fiveMonitors();
      expect(names(await list(''))).toEqual(['100%_done', 'api-gateway', 'nightly-backup-job', 'staging-api', 'web-frontend']);
    });

    it('filters by kind', async () => {
      await fiveMonitors();
      expect(names(await list('?kind=http'))).toEqual(['100%_done', 'api-gateway', 'staging-api', 'web-frontend']);
      expect(names(await list('?kind=heartbeat'))).toEqual(['nightly-backup-job']);
      // A kind that is not registered yet is not a filter value.
      const unknownKind = await ctx.app.inject({ method: 'GET', url: '/api/v1/monitors?kind=container', headers });
      expect(unknownKind.statusCode).toBe(422);
    });

    it('filters by state', async () => {
      await fiveMonitors();
      expect(names(await list('?state=down'))).toEqual(['api-gateway']);
      expect(names(await list('?state=up'))).toEqual(['web-frontend']);
      expect(names(await list('?state=pending'))).toEqual(['100%_done', 'nightly-backup-job', 'staging-api']);
    });

    it('filters by tag, whole tags only', async () => {
      await fiveMonitors();
      expect(names(await list('?tag=prod'))).toEqual(['api-gateway', 'nightly-backup-job', 'web-frontend']);
      expect(names(await list('?tag=edge'))).toEqual(['api-gateway']);
      expect(names(await list('?tag=pro'))).toEqual([]);
    });

    it('searches names case-insensitively, LIKE wildcards taken as literal characters', async () => {
      await fiveMonitors();
      expect(names(await list('?search=API'))).toEqual(['api-gateway', 'staging-api']);
      expect(names(await list('?search=front'))).toEqual(['web-frontend']);
      // LIKE wildcards in the search are literal characters.
      expect(names(await list(`?search=${encodeURIComponent('%')}`))).toEqual(['100%_done']);
      expect(names(await list('?search=_'))).toEqual(['100%_done']);
    });

    it('combines filters, and lists each item with its id, kind, state and tags', async () => {
      const { api } = await fiveMonitors();
      expect(names(await list('?tag=prod&kind=http&state=up'))).toEqual(['web-frontend']);
      expect(names(await list('?tag=prod&search=api'))).toEqual(['api-gateway']);

      const page = await list('?tag=edge');
      expect(page.items[0]).toMatchObject({ id: api, kind: 'http', state: 'down', tags: ['edge', 'prod'] });
      expect(page.total).toBe(1);
    });

    it('paginates on the server: limit, offset and the total of the filtered set', async () => {
      await start();
      for (let i = 0; i < 7; i++) await createMonitor({ name: `m${i}`, tags: i % 2 === 0 ? ['even'] : [] });
      const first = await list('?limit=3');
      expect(first).toMatchObject({ total: 7, limit: 3, offset: 0 });
      expect(names(first)).toEqual(['m0', 'm1', 'm2']);
      expect(names(await list('?limit=3&offset=3'))).toEqual(['m3', 'm4', 'm5']);
      const last = await list('?limit=3&offset=6');
      expect(names(last)).toEqual(['m6']);
      expect(last.total).toBe(7);
      expect(await list('?limit=3&offset=9')).toMatchObject({ items: [], total: 7 });

      const even = await list('?tag=even&limit=2&offset=1');
      expect(names(even)).toEqual(['m2', 'm4']);
      expect(even.total).toBe(4);

      const defaults = await list('');
      expect(defaults).toMatchObject({ limit: 50, offset: 0, total: 7 });
      for (const bad of ['?limit=0', '?limit=501', '?offset=-1', '?state=sleeping', '?kind=ftp']) {
        expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors${bad}`, headers })).statusCode, bad).toBe(422);
      }
    });

    it('GET one gives the monitor; another tenant gets 404', async () => {
      await start();
      const id = await createMonitor({ name: 'one', tags: ['b', 'a'] });
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}`, headers });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        id,
        kind: 'http',
        name: 'one',
        tags: ['a', 'b'],
        is_active: true,
        state: 'pending',
        interval_seconds: 60,
        next_due_at: iso(ctx.clock.now()),
        failure_threshold: null,
        recovery_threshold: 1,
      });
      const other = await createTenantWithKey(ctx);
      const hidden = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}`, headers: { 'x-api-key': other.apiKey } });
      expect(hidden.statusCode).toBe(404);
    });
  });

  describe('GET /api/v1/monitors/{id}/results', () => {
    it('lists results newest first, pages backwards with before, and honours limit', async () => {
      await start();
      const id = await createMonitor();
      const t0 = ctx.clock.now();
      const statuses: ResultStatus[] = ['up', 'up', 'down', 'warning', 'up', 'down', 'up'];
      for (const [i, status] of statuses.entries()) {
        await ctx.services.recorder.record(id, { status, latencyMs: 100 + i, message: `result ${i}` }, t0 + (i + 1) * 60_000);
      }
      const get = async (query: string) => {
        const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}/results${query}`, headers });
        expect(response.statusCode, response.body).toBe(200);
        return response.json() as { at: string; status: string; latency_ms: number; message: string }[];
      };
      const all = await get('');
      expect(all.map((r) => r.message)).toEqual(['result 6', 'result 5', 'result 4', 'result 3', 'result 2', 'result 1', 'result 0']);
      expect(all[0]).toEqual({ at: iso(t0 + 7 * 60_000), status: 'up', latency_ms: 106, value: null, message: 'result 6', source: 'check' });
      expect(all[3]).toMatchObject({ status: 'warning', latency_ms: 103 });

      const page1 = await get('?limit=3');
      expect(page1.map((r) => r.message)).toEqual(['result 6', 'result 5', 'result 4']);
      const page2 = await get(`?limit=3&before=${encodeURIComponent(page1.at(-1)!.at)}`);
      expect(page2.map((r) => r.message)).toEqual(['result 3', 'result 2', 'result 1']);
      const page3 = await get(`?limit=3&before=${encodeURIComponent(page2.at(-1)!.at)}`);
      expect(page3.map((r) => r.message)).toEqual(['result 0']);
      expect(await get(`?before=${encodeURIComponent(iso(t0 + 60_000))}`)).toEqual([]);

      const other = await createTenantWithKey(ctx);
      const hidden = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}/results`, headers: { 'x-api-key': other.apiKey } });
      expect(hidden.statusCode).toBe(404);
    });
  });

  describe('pause and resume', () => {
    it('pause: state paused, next_due_at null, a flip row; results while paused change nothing; resume: pending, due now', async () => {
      await start();
      const id = await createMonitor({ failureThreshold: 1 });
      await recordMany(id, ['up', 'down']);
      expect((await monitor(id)).state).toBe('down');

      ctx.clock.advance(5000);
      const pausedAt = ctx.clock.now();
      const paused = await ctx.app.inject({ method: 'POST', url: `/api/v1/monitors/${id}/pause`, headers });
      expect(paused.statusCode, paused.body).toBe(200);
      expect(paused.json()).toMatchObject({ state: 'paused', is_active: false, next_due_at: null, consecutive_failures: 0, state_changed_at: iso(pausedAt) });
      const pauseFlips = (await flipRows(id)).filter((f) => f.to_state === 'paused');
      expect(pauseFlips.map((f) => [f.from_state, f.at])).toEqual([['down', pausedAt]]);

      // A second pause changes nothing and writes no flip.
      expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/monitors/${id}/pause`, headers })).json().state).toBe('paused');
      expect((await flipRows(id)).filter((f) => f.to_state === 'paused')).toHaveLength(1);

      await recordMany(id, ['down', 'down', 'up']);
      expect(await monitor(id)).toMatchObject({ state: 'paused', consecutiveFailures: 0, consecutiveSuccesses: 0, nextDueAt: null });
      const flipsWhilePaused = await flipRows(id);
      expect(flipsWhilePaused.at(-1)!.to_state).toBe('paused');
      // Pausing ends the open incident, so a failure after the resume opens a new one.
      const incidents = await ctx.database.db.selectFrom('incidents').select(['state', 'resolved_at']).where('monitor_id', '=', id).execute();
      expect(incidents).toEqual([{ state: 'resolved', resolved_at: pausedAt }]);

      ctx.clock.advance(60_000);
      const resumedAt = ctx.clock.now();
      const resumed = await ctx.app.inject({ method: 'POST', url: `/api/v1/monitors/${id}/resume`, headers });
      expect(resumed.statusCode).toBe(200);
      expect(resumed.json()).toMatchObject({ state: 'pending', is_active: true, next_due_at: iso(resumedAt), state_changed_at: iso(resumedAt) });
      expect((await flipRows(id)).map((f) => [f.from_state, f.to_state])).toEqual([
        ['pending', 'up'],
        ['up', 'down'],
        ['down', 'paused'],
        ['paused', 'pending'],
      ]);
      // Resuming an active monitor is a no-op.
      await ctx.app.inject({ method: 'POST', url: `/api/v1/monitors/${id}/resume`, headers });
      expect(await flipRows(id)).toHaveLength(4);

      // After the resume the state machine runs again.
      await record(id, 'up');
      expect((await monitor(id)).state).toBe('up');
    });

    it('pause and resume need a write credential and the owning tenant', async () => {
      await start();
      const id = await createMonitor();
      const { secret } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'reader', scope: 'read-only' });
      expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/monitors/${id}/pause`, headers: { 'x-api-key': secret } })).statusCode).toBe(403);
      const other = await createTenantWithKey(ctx);
      expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/monitors/${id}/pause`, headers: { 'x-api-key': other.apiKey } })).statusCode).toBe(404);
      expect((await monitor(id)).state).toBe('pending');
      expect(await flipRows(id)).toEqual([]);
    });
  });

  describe('incidents routes', () => {
    type IncidentJson = {
      id: string;
      monitor_id: string;
      monitor_name: string;
      monitor_kind: string;
      severity: string;
      state: string;
      opened_at: string;
      resolved_at: string | null;
      acknowledged_at: string | null;
      acknowledged_by: string | null;
      reason: string | null;
    };

    const listIncidents = async (query: string) => {
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/incidents${query}`, headers });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as IncidentJson[];
    };

    /** Monitor A: an incident resolved, then a new one open. Monitor B: one open incident, opened last. */
    async function scenario() {
      await start();
      const a = await createMonitor({ name: 'alpha', failureThreshold: 1 });
      const b = await createMonitor({ name: 'bravo', failureThreshold: 1 });
      await recordMany(a, ['down', 'up']);
      const t1 = ctx.clock.now();
      ctx.clock.advance(60_000);
      const secondOpen = await record(a, 'down', 'expected status 200, got 503');
      ctx.clock.advance(60_000);
      const thirdOpen = await record(b, 'warning', 'certificate expires in 3 days');
      const byOpening = await ctx.database.db.selectFrom('incidents').select(['id', 'opened_at']).orderBy('opened_at').execute();
      return { a, b, t1, secondOpenAt: secondOpen!.at, thirdOpenAt: thirdOpen!.at, ids: byOpening.map((i) => i.id) };
    }

    it('lists newest first and filters by state, monitor, kind and since', async () => {
      const s = await scenario();
      const [first, second, third] = s.ids;
      const all = await listIncidents('');
      expect(all.map((i) => i.id)).toEqual([third, second, first]);
      expect(all[0]).toMatchObject({
        monitor_id: s.b,
        monitor_name: 'bravo',
        monitor_kind: 'http',
        severity: 'warning',
        state: 'open',
        reason: 'certificate expires in 3 days',
        opened_at: iso(s.thirdOpenAt),
        resolved_at: null,
      });
      expect(all[2]).toMatchObject({ monitor_id: s.a, state: 'resolved', severity: 'down' });
      expect(all[2]!.resolved_at).toBe(iso(s.t1)); // the 'up' that ended it

      expect((await listIncidents('?state=open')).map((i) => i.id)).toEqual([third, second]);
      expect((await listIncidents('?state=resolved')).map((i) => i.id)).toEqual([first]);
      expect((await listIncidents(`?monitor=${s.a}`)).map((i) => i.id)).toEqual([second, first]);
      expect((await listIncidents(`?monitor=${s.a}&state=open`)).map((i) => i.id)).toEqual([second]);
      expect((await listIncidents('?kind=http')).map((i) => i.id)).toEqual([third, second, first]);
      expect(await listIncidents('?kind=heartbeat')).toEqual([]);
      // since is inclusive of its instant.
      expect((await listIncidents(`?since=${encodeURIComponent(iso(s.secondOpenAt))}`)).map((i) => i.id)).toEqual([third, second]);
      expect((await listIncidents(`?since=${encodeURIComponent(iso(s.secondOpenAt + 1))}`)).map((i) => i.id)).toEqual([third]);
      expect((await listIncidents(`?since=${encodeURIComponent(iso(s.t1))}`)).map((i) => i.id)).toEqual([third, second]);
      expect((await listIncidents('?limit=1&offset=1')).map((i) => i.id)).toEqual([second]);
      expect(await listIncidents(`?monitor=${randomUUID()}`)).toEqual([]);

      // Another tenant sees none of them.
      const other = await createTenantWithKey(ctx);
      const foreign = await ctx.app.inject({ method: 'GET', url: '/api/v1/incidents', headers: { 'x-api-key': other.apiKey } });
      expect(foreign.json()).toEqual([]);
    });

    it('GET one incident; unknown or foreign ids are 404', async () => {
      const s = await scenario();
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/incidents/${s.ids[1]}`, headers });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        id: s.ids[1],
        monitor_id: s.a,
        monitor_name: 'alpha',
        state: 'open',
        severity: 'down',
        reason: 'expected status 200, got 503',
        opened_at: iso(s.secondOpenAt),
        acknowledged_at: null,
        acknowledged_by: null,
      });
      expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/incidents/${randomUUID()}`, headers })).statusCode).toBe(404);
      const other = await createTenantWithKey(ctx);
      expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/incidents/${s.ids[1]}`, headers: { 'x-api-key': other.apiKey } })).statusCode).toBe(404);
    });

    it('ack sets acknowledged_at and acknowledged_by once; a second ack keeps the first', async () => {
      const s = await scenario();
      const incidentId = s.ids[2]!;
      ctx.clock.advance(30_000);
      const ackedAt = ctx.clock.now();
      const first = await ctx.app.inject({ method: 'POST', url: `/api/v1/incidents/${incidentId}/ack`, headers });
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json()).toMatchObject({ id: incidentId, acknowledged_at: iso(ackedAt), acknowledged_by: `api_key:${tenant.apiKeyId}`, state: 'open' });

      ctx.clock.advance(30_000);
      const { apiKey: secondKey, secret } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'second', scope: 'full' });
      const again = await ctx.app.inject({ method: 'POST', url: `/api/v1/incidents/${incidentId}/ack`, headers: { 'x-api-key': secret } });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ acknowledged_at: iso(ackedAt), acknowledged_by: `api_key:${tenant.apiKeyId}` });
      expect(again.json().acknowledged_by).not.toBe(`api_key:${secondKey.id}`);

      // The others are untouched; a read-only key and another tenant cannot ack.
      const others = await ctx.database.db.selectFrom('incidents').select('acknowledged_at').where('id', '!=', incidentId).execute();
      expect(others.every((i) => i.acknowledged_at === null)).toBe(true);
      const { secret: reader } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'reader', scope: 'read-only' });
      expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/incidents/${s.ids[0]}/ack`, headers: { 'x-api-key': reader } })).statusCode).toBe(403);
      const other = await createTenantWithKey(ctx);
      expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/incidents/${s.ids[0]}/ack`, headers: { 'x-api-key': other.apiKey } })).statusCode).toBe(404);
      expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/incidents/${randomUUID()}/ack`, headers })).statusCode).toBe(404);
      const untouched = await ctx.database.db.selectFrom('incidents').select('acknowledged_at').where('id', '=', s.ids[0]!).executeTakeFirstOrThrow();
      expect(untouched.acknowledged_at).toBeNull();
    });
  });
});
