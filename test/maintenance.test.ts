/**
 * Maintenance windows.
 *
 * A. The schedule as pure functions (no database): one-off [start, end) bounds, recurring cron
 *    windows in a time zone (Europe/Paris and America/New_York, across both DST changes of 2026),
 *    recurring windows bounded by starts_at / ends_at, and cronProblem.
 * B. /api/v1/maintenance on every dialect: validation (422 with loc), creation with the tenant's
 *    time zone, list / get / partial PATCH / DELETE.
 * C–F. The sweep on every dialect with the manual clock: monitors enter `maintenance` (unchecked,
 *    results neither stored nor counted, no incident, no alert) and leave it to `pending`, due at
 *    once; a monitor down when its window opens has its incident resolved and the end is notified
 *    (webhook stand-in); paused monitors stay paused; deleting a window frees its monitors; uptime
 *    counts nothing for the maintenance period.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { activeOccurrence, cronProblem, nextOccurrenceStart, type MaintenanceSchedule } from '../src/alerting/maintenance-schedule.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { StandIn } from './helpers/receivers.js';

const T = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOUR = 3_600_000;
const MIN = 60_000;

describe('maintenance schedule (pure)', () => {
  const oneOff = (startsAt: number, endsAt: number): MaintenanceSchedule => ({ startsAt, endsAt, cron: null, durationSeconds: null, timezone: 'UTC' });
  const recurring = (cron: string, timezone: string, durationSeconds = 3600, bounds: { startsAt?: number; endsAt?: number } = {}): MaintenanceSchedule => ({
    startsAt: bounds.startsAt ?? null,
    endsAt: bounds.endsAt ?? null,
    cron,
    durationSeconds,
    timezone,
  });

  it('a one-off window is [starts_at, ends_at): start inclusive, end exclusive', () => {
    const s = T('2026-11-21T10:00:00Z');
    const e = T('2026-11-21T11:00:00Z');
    const w = oneOff(s, e);
    expect(activeOccurrence(w, s - 1)).toBeNull();
    expect(activeOccurrence(w, s)).toEqual({ start: s, end: e });
    expect(activeOccurrence(w, e - 1)).toEqual({ start: s, end: e });
    expect(activeOccurrence(w, e)).toBeNull();
    expect(nextOccurrenceStart(w, s - 1)).toBe(s);
    expect(nextOccurrenceStart(w, s)).toBeNull();
  });

  it("'0 2 * * *' for an hour in Europe/Paris: from 02:00 to 03:00 local time", () => {
    const w = recurring('0 2 * * *', 'Europe/Paris');
    // 22 Nov 2026: CET, UTC+1 → 02:00 local is 01:00Z.
    const occurrence = { start: T('2026-11-22T01:00:00Z'), end: T('2026-11-22T02:00:00Z') };
    expect(activeOccurrence(w, T('2026-11-22T00:59:00Z'))).toBeNull(); // 01:59 local
    expect(activeOccurrence(w, T('2026-11-22T01:00:00Z'))).toEqual(occurrence); // 02:00
    expect(activeOccurrence(w, T('2026-11-22T01:30:00Z'))).toEqual(occurrence); // 02:30
    expect(activeOccurrence(w, T('2026-11-22T02:00:00Z'))).toBeNull(); // 03:00 exactly
    // In summer (CEST, UTC+2) the same local hour is 00:00Z.
    expect(activeOccurrence(w, T('2026-07-01T00:30:00Z'))).toEqual({ start: T('2026-07-01T00:00:00Z'), end: T('2026-07-01T01:00:00Z') });
    expect(nextOccurrenceStart(w, T('2026-11-21T12:00:00Z'))).toBe(T('2026-11-22T01:00:00Z'));
  });

  it('Europe/Paris spring forward (29 Mar 2026, 02:00 does not exist): the run moves to 03:00 local, once', () => {
    const w = recurring('0 2 * * *', 'Europe/Paris');
    // 01:00Z is 03:00 CEST, the first instant after the gap.
    expect(nextOccurrenceStart(w, T('2026-03-28T12:00:00Z'))).toBe(T('2026-03-29T01:00:00Z'));
    expect(activeOccurrence(w, T('2026-03-29T00:59:59Z'))).toBeNull(); // 01:59:59 CET
    expect(activeOccurrence(w, T('2026-03-29T01:00:00Z'))).toEqual({ start: T('2026-03-29T01:00:00Z'), end: T('2026-03-29T02:00:00Z') });
    expect(activeOccurrence(w, T('2026-03-29T01:59:59Z'))).toEqual({ start: T('2026-03-29T01:00:00Z'), end: T('2026-03-29T02:00:00Z') });
    expect(activeOccurrence(w, T('2026-03-29T02:00:00Z'))).toBeNull();
    // The next day is back at 02:00 local, now 00:00Z.
    expect(nextOccurrenceStart(w, T('2026-03-29T01:00:00Z'))).toBe(T('2026-03-30T00:00:00Z'));
  });

  it('Europe/Paris fall back (25 Oct 2026, 02:00 happens twice): the window opens once, at the first 02:00', () => {
    const w = recurring('0 2 * * *', 'Europe/Paris');
    const first = { start: T('2026-10-25T00:00:00Z'), end: T('2026-10-25T01:00:00Z') }; // 02:00 CEST
    expect(nextOccurrenceStart(w, T('2026-10-24T12:00:00Z'))).toBe(first.start);
    expect(activeOccurrence(w, T('2026-10-25T00:30:00Z'))).toEqual(first);
    expect(activeOccurrence(w, T('2026-10-25T01:00:00Z'))).toBeNull(); // the second 02:00 (CET)
    expect(activeOccurrence(w, T('2026-10-25T01:30:00Z'))).toBeNull(); // the second 02:30
    expect(nextOccurrenceStart(w, first.start)).toBe(T('2026-10-26T01:00:00Z'));
  });

  it("America/New_York '30 1 * * *' across 8 Mar and 1 Nov 2026", () => {
    const w = recurring('30 1 * * *', 'America/New_York');
    // 8 Mar: 01:30 EST (06:30Z) exists; the clocks jump at 02:00, the window still lasts one real hour.
    expect(nextOccurrenceStart(w, T('2026-03-07T12:00:00Z'))).toBe(T('2026-03-08T06:30:00Z'));
    expect(activeOccurrence(w, T('2026-03-08T07:29:59Z'))).toEqual({ start: T('2026-03-08T06:30:00Z'), end: T('2026-03-08T07:30:00Z') });
    expect(activeOccurrence(w, T('2026-03-08T07:30:00Z'))).toBeNull();
    expect(nextOccurrenceStart(w, T('2026-03-08T06:30:00Z'))).toBe(T('2026-03-09T05:30:00Z')); // EDT from now on
    // 1 Nov: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST); the window opens at the first only.
    expect(activeOccurrence(w, T('2026-11-01T05:30:00Z'))).toEqual({ start: T('2026-11-01T05:30:00Z'), end: T('2026-11-01T06:30:00Z') });
    expect(activeOccurrence(w, T('2026-11-01T06:30:00Z'))).toBeNull();
    expect(activeOccurrence(w, T('2026-11-01T06:45:00Z'))).toBeNull();
    expect(nextOccurrenceStart(w, T('2026-11-01T05:30:00Z'))).toBe(T('2026-11-02T06:30:00Z'));
  });

  it('a recurring window bounded by starts_at and ends_at has no run before the one or from the other on', () => {
    const w = recurring('0 2 * * *', 'UTC', 3600, { startsAt: T('2026-11-23T00:00:00Z'), endsAt: T('2026-11-25T00:00:00Z') });
    expect(activeOccurrence(w, T('2026-11-22T02:30:00Z'))).toBeNull();
    expect(activeOccurrence(w, T('2026-11-23T02:30:00Z'))).toEqual({ start: T('2026-11-23T02:00:00Z'), end: T('2026-11-23T03:00:00Z') });
    expect(activeOccurrence(w, T('2026-11-24T02:30:00Z'))).toEqual({ start: T('2026-11-24T02:00:00Z'), end: T('2026-11-24T03:00:00Z') });
    expect(activeOccurrence(w, T('2026-11-25T02:30:00Z'))).toBeNull();
    expect(nextOccurrenceStart(w, T('2026-11-24T03:00:00Z'))).toBeNull();
    // The next start shown by the API is the first run the window will really open for.
    expect(nextOccurrenceStart(w, T('2026-11-21T12:00:00Z'))).toBe(T('2026-11-23T02:00:00Z'));
  });

  it('with overlapping runs, a run after starts_at covers now even when an earlier one was cut by starts_at', () => {
    // Hourly runs lasting two hours, from 10:30: the 11:00 run is in force at 11:15.
    const w = recurring('0 * * * *', 'UTC', 7200, { startsAt: T('2026-11-21T10:30:00Z') });
    expect(activeOccurrence(w, T('2026-11-21T11:15:00Z'))).toEqual({ start: T('2026-11-21T11:00:00Z'), end: T('2026-11-21T13:00:00Z') });
  });

  it('cronProblem: a message for an invalid expression, null for a valid one', () => {
    expect(cronProblem('61 * * * *', 'UTC')).toEqual(expect.stringContaining('Invalid cron expression "61 * * * *"'));
    expect(cronProblem('every night', 'UTC')).toEqual(expect.stringContaining('Invalid cron expression "every night"'));
    expect(cronProblem('0 2 * * SUN', 'Europe/Paris')).toBeNull();
    expect(cronProblem('0 0 2 * * *', 'UTC')).toBeNull(); // six fields, with seconds
  });
});

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());

describe.each(TEST_DIALECTS)('maintenance windows on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  let headers: Record<string, string>;

  afterEach(async () => {
    await ctx?.close();
    standIn.reset();
  });

  async function start() {
    ctx = await createTestApp(dialect);
    tenant = await createTenantWithKey(ctx);
    headers = { 'x-api-key': tenant.apiKey };
  }

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, h = headers) => ctx.app.inject({ method, url, headers: h, ...(payload && { payload }) });

  function ok(response: LightMyRequestResponse, status = 200) {
    expect(response.statusCode, response.body).toBe(status);
    return response.statusCode === 204 ? undefined : response.json();
  }

  let urlCounter = 0;
  async function createTarget(tags: string[] = ['db'], h = headers): Promise<string> {
    const payload = { name: `target ${++urlCounter}`, url: `http://127.0.0.1:9/${urlCounter}`, failure_threshold: 1, timeout_seconds: 2, tags };
    return ok(await call('POST', '/api/v1/http-targets', payload, h), 201).id as string;
  }

  const monitor = async (id: string) => ok(await call('GET', `/api/v1/monitors/${id}`));
  const record = (id: string, status: 'up' | 'down') => ctx.services.recorder.record(id, { status, message: status === 'up' ? 'HTTP 200' : 'connection refused', latencyMs: 5 });
  const createWindow = async (body: object) => ok(await call('POST', '/api/v1/maintenance', body), 201);
  const expect422 = async (body: object, detail: unknown[]) => {
    const response = await call('POST', '/api/v1/maintenance', body);
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json()).toEqual({ detail });
  };

  describe('API', () => {
    it('refuses invalid windows with 422 and the field at fault, and stores none of them', async () => {
      await start();
      const id = await createTarget();
      const now = ctx.clock.now();
      const starts_at = iso(now);
      const ends_at = iso(now + HOUR);
      const problem = (loc: (string | number)[], msg: unknown) => ({ loc, msg, type: 'value_error' });

      await expect422({ name: 'w', starts_at, monitor_ids: [id] }, [problem(['body', 'ends_at'], 'A one-off window needs ends_at')]);
      await expect422({ name: 'w', starts_at: ends_at, ends_at: starts_at, monitor_ids: [id] }, [problem(['body', 'ends_at'], 'ends_at must be after starts_at')]);
      await expect422({ name: 'w', cron: '0 2 * * *', monitor_ids: [id] }, [problem(['body', 'duration_seconds'], 'A recurring window needs duration_seconds')]);
      await expect422({ name: 'w', cron: '61 * * * *', duration_seconds: 3600, monitor_ids: [id] }, [problem(['body', 'cron'], expect.stringContaining('Invalid cron expression "61 * * * *"'))]);
      await expect422({ name: 'w', cron: '0 2 * * *', duration_seconds: 3600, timezone: 'Mars/Olympus', monitor_ids: [id] }, [
        problem(['body', 'timezone'], 'Unknown time zone "Mars/Olympus"; use an IANA name such as Europe/Paris or UTC'),
      ]);
      await expect422({ name: 'w', starts_at, ends_at }, [problem(['body', 'monitor_ids'], 'Name the monitors in maintenance: monitor_ids, tags, or both')]);

      const other = await createTenantWithKey(ctx);
      const foreign = await createTarget(['db'], { 'x-api-key': other.apiKey });
      await expect422({ name: 'w', starts_at, ends_at, monitor_ids: [foreign, id] }, [problem(['body', 'monitor_ids', 0], `No monitor ${foreign} in this tenant`)]);
      await expect422({ name: 'w', starts_at, ends_at, tags: ['db'], colour: 'red' }, [{ loc: ['body', 'colour'], msg: 'Extra field not permitted', type: 'extra_forbidden' }]);

      expect(ok(await call('GET', '/api/v1/maintenance'))).toEqual([]);
      expect((await monitor(id)).state).toBe('pending'); // no sweep moved anything
    });

    it("creates one-off and recurring windows (zone defaults to the tenant's), lists, gets, patches and deletes them", async () => {
      await start();
      const id = await createTarget();
      ok(await call('PATCH', '/api/v1/settings', { timezone: 'Europe/Paris' }));
      const now = ctx.clock.now(); // 2026-11-21T12:00Z
      const createdAt = iso(now);

      const future = await createWindow({ name: 'Upgrade', description: 'db v17', starts_at: iso(now + HOUR), ends_at: iso(now + 2 * HOUR), monitor_ids: [id] });
      expect(future).toEqual({
        id: expect.stringMatching(UUID),
        name: 'Upgrade',
        description: 'db v17',
        starts_at: iso(now + HOUR),
        ends_at: iso(now + 2 * HOUR),
        cron: null,
        duration_seconds: null,
        timezone: 'Europe/Paris',
        monitor_ids: [id],
        tags: [],
        active: false,
        current_ends_at: null,
        next_starts_at: iso(now + HOUR),
        created_at: createdAt,
        updated_at: createdAt,
      });

      const nightly = await createWindow({ name: 'Backups', cron: '0 2 * * *', duration_seconds: 3600, tags: ['db'] });
      expect(nightly).toMatchObject({ timezone: 'Europe/Paris', active: false, current_ends_at: null, next_starts_at: '2026-11-22T01:00:00.000Z', starts_at: null, ends_at: null, description: null });

      const current = await createWindow({ name: 'Now', starts_at: iso(now - MIN), ends_at: iso(now + HOUR), tags: ['db'], timezone: 'UTC' });
      expect(current).toMatchObject({ active: true, current_ends_at: iso(now + HOUR), next_starts_at: null, timezone: 'UTC' });

      expect(ok(await call('GET', '/api/v1/maintenance')).map((w: { name: string }) => w.name)).toEqual(['Backups', 'Now', 'Upgrade']);
      expect(ok(await call('GET', `/api/v1/maintenance/${future.id}`))).toEqual(future);

      ctx.clock.advance(1000);
      const renamed = ok(await call('PATCH', `/api/v1/maintenance/${future.id}`, { name: 'Major upgrade' }));
      expect(renamed).toEqual({ ...future, name: 'Major upgrade', next_starts_at: iso(now + HOUR), updated_at: iso(now + 1000) });
      expect(ok(await call('GET', `/api/v1/maintenance/${future.id}`))).toEqual(renamed);

      expect(ok(await call('DELETE', `/api/v1/maintenance/${future.id}`), 204)).toBeUndefined();
      const gone = await call('GET', `/api/v1/maintenance/${future.id}`);
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toEqual({ detail: 'Maintenance window not found' });
      expect((await call('DELETE', `/api/v1/maintenance/${future.id}`)).statusCode).toBe(404);
      expect(ok(await call('GET', '/api/v1/maintenance')).map((w: { name: string }) => w.name)).toEqual(['Backups', 'Now']);
    });
  });

  describe('sweep', () => {
    it('a window opening by tag puts an up monitor in maintenance: results ignored, no incident, no alert; it leaves to pending, due at once', async () => {
      await start();
      const id = await createTarget(['db']);
      const untagged = await createTarget(['web']);
      await record(id, 'up');
      await record(untagged, 'up');
      expect(await monitor(id)).toMatchObject({ state: 'up', next_due_at: iso(ctx.clock.now()) });

      const now = ctx.clock.now();
      const window = await createWindow({ name: 'Patch', starts_at: iso(now), ends_at: iso(now + HOUR), tags: ['db'] });
      expect(window.active).toBe(true);
      expect(await monitor(id)).toMatchObject({ state: 'maintenance', next_due_at: null, state_changed_at: iso(now) });
      expect((await monitor(untagged)).state).toBe('up');

      ctx.clock.advance(10 * MIN);
      const recorded = await record(id, 'down');
      expect(recorded?.flip).toBeUndefined();
      expect((await monitor(id)).state).toBe('maintenance');
      expect(ok(await call('GET', '/api/v1/incidents'))).toEqual([]);
      expect(ok(await call('GET', `/api/v1/monitors/${id}/results`)).map((r: { status: string; at: string }) => [r.status, r.at])).toEqual([['up', iso(now)]]);
      expect(ok(await call('GET', '/api/v1/alerts/events'))).toMatchObject({ items: [], total: 0 });

      ctx.clock.set(now + HOUR - 1);
      expect(await ctx.services.maintenance.sweep()).toEqual({ entered: 0, left: 0 });
      expect((await monitor(id)).state).toBe('maintenance');
      ctx.clock.set(now + HOUR);
      expect(await ctx.services.maintenance.sweep()).toEqual({ entered: 0, left: 1 });
      expect(await monitor(id)).toMatchObject({ state: 'pending', next_due_at: iso(now + HOUR), state_changed_at: iso(now + HOUR) });
      expect(ok(await call('GET', '/api/v1/alerts/events'))).toMatchObject({ items: [], total: 0 });

      // Watched again: a failure now counts.
      await record(id, 'down');
      expect((await monitor(id)).state).toBe('down');
    });

    it('a recurring window enters maintenance when its run starts and leaves when it ends', async () => {
      await start();
      const id = await createTarget([]);
      await record(id, 'up');
      const now = ctx.clock.now(); // 12:00Z
      const window = await createWindow({ name: 'Nightly', cron: '0 14 * * *', duration_seconds: 1800, timezone: 'UTC', monitor_ids: [id] });
      expect(window).toMatchObject({ active: false, next_starts_at: iso(now + 2 * HOUR) });
      expect((await monitor(id)).state).toBe('up');

      ctx.clock.set(now + 2 * HOUR - 1);
      expect(await ctx.services.maintenance.sweep()).toEqual({ entered: 0, left: 0 });
      ctx.clock.set(now + 2 * HOUR);
      expect(await ctx.services.maintenance.sweep()).toEqual({ entered: 1, left: 0 });
      expect(await monitor(id)).toMatchObject({ state: 'maintenance', next_due_at: null });
      expect(ok(await call('GET', `/api/v1/maintenance/${window.id}`))).toMatchObject({ active: true, current_ends_at: iso(now + 2 * HOUR + 30 * MIN) });

      ctx.clock.set(now + 2 * HOUR + 30 * MIN);
      expect(await ctx.services.maintenance.sweep()).toEqual({ entered: 0, left: 1 });
      expect(await monitor(id)).toMatchObject({ state: 'pending', next_due_at: iso(now + 2 * HOUR + 30 * MIN) });
    });

    /** A monitor (tagged db) down and notified, then, 5 min later, a maintenance window over it opens. */
    async function downWhenTheWindowOpens() {
      await start();
      ok(await call('PATCH', '/api/v1/settings', { alert_grouping_enabled: false }));
      const channel = ok(await call('POST', '/api/v1/channels', { name: 'hook', kind: 'webhook', config: { url: `${standIn.base}/hook` } }), 201);
      const id = await createTarget(['db']);
      const downAt = ctx.clock.now();
      await record(id, 'down');
      const [incident] = ok(await call('GET', '/api/v1/incidents'));
      await ctx.services.alertRouter.routeBatch();
      await ctx.services.delivery.deliverDue();
      const notifiedBefore = standIn.recorded.map((r) => JSON.parse(r.body).items[0].to_state);
      standIn.reset();

      ctx.clock.advance(5 * MIN);
      const at = ctx.clock.now();
      const window = await createWindow({ name: 'Fix', starts_at: iso(at), ends_at: iso(at + HOUR), monitor_ids: [id] });
      return { channel, id, downAt, incident, notifiedBefore, at, window };
    }

    it('a monitor down before the window: its incident is open and the down was notified', async () => {
      const { id, incident, notifiedBefore } = await downWhenTheWindowOpens();
      expect(incident).toMatchObject({ monitor_id: id, state: 'open', severity: 'down' });
      expect(notifiedBefore).toEqual(['down']);
    });

    it('a window opening on a down monitor puts it in maintenance and resolves its incident', async () => {
      const { id, incident, at, window } = await downWhenTheWindowOpens();
      expect(window.active).toBe(true);
      expect(await monitor(id)).toMatchObject({ state: 'maintenance', next_due_at: null });
      expect(ok(await call('GET', `/api/v1/incidents/${incident.id}`))).toMatchObject({ state: 'resolved', resolved_at: iso(at) });
    });

    it('the end of the down (down → maintenance) is an alert event, routed and sent, not suppressed', async () => {
      const { channel, id, downAt, incident, at } = await downWhenTheWindowOpens();
      expect(await ctx.services.alertRouter.routeBatch()).toEqual({ events: 1, queued: 1 });
      expect(await ctx.services.delivery.deliverDue()).toBe(1);
      const events = ok(await call('GET', `/api/v1/alerts/events?monitor=${id}`));
      expect(events.total).toBe(2);
      expect(events.items[0]).toMatchObject({
        kind: 'alert',
        from_state: 'down',
        to_state: 'maintenance',
        severity: 'critical',
        incident_id: incident.id,
        down_for_ms: at - downAt,
        reason: 'maintenance window "Fix"',
        at: iso(at),
        suppressed_by: null,
        routed_at: iso(at),
      });
      expect(events.items[0].notifications).toMatchObject([{ channel_id: channel.id, status: 'sent' }]);
    });

    it('the webhook gets the down → maintenance flip once, with its idempotency key and the incident it ends', async () => {
      const { channel, id, downAt, incident, at } = await downWhenTheWindowOpens();
      await ctx.services.alertRouter.routeBatch();
      await ctx.services.delivery.deliverDue();
      const flip = await ctx.database.db.selectFrom('monitor_flips').select('id').where('monitor_id', '=', id).where('to_state', '=', 'maintenance').executeTakeFirstOrThrow();
      expect(standIn.recorded).toHaveLength(1);
      const request = standIn.recorded[0]!;
      expect(request).toMatchObject({ method: 'POST', url: '/hook' });
      expect(request.headers['content-type']).toMatch(/^application\/json/);
      expect(request.headers['x-vigie-idempotency-key']).toBe(`${flip.id}:${channel.id}`);
      expect(request.headers['x-vigie-signature']).toBeUndefined();
      const body = JSON.parse(request.body);
      expect(body).toMatchObject({ version: 1, kind: 'alert', tenant: { time_zone: 'UTC' } });
      expect(body.items).toEqual([
        {
          monitor_id: id,
          monitor_name: expect.stringMatching(/^target \d+$/),
          monitor_kind: 'http',
          from_state: 'down',
          to_state: 'maintenance',
          reason: 'maintenance window "Fix"',
          at: iso(at),
          incident_id: incident.id,
          down_for_ms: at - downAt,
        },
      ]);
    });

    it('a paused monitor stays paused; deleting a window frees its monitors at once; pause + resume in a window goes back to maintenance', async () => {
      await start();
      const paused = await createTarget(['db']);
      const held = await createTarget(['db']);
      await record(held, 'up');
      expect(ok(await call('POST', `/api/v1/monitors/${paused}/pause`))).toMatchObject({ state: 'paused', is_active: false });

      const now = ctx.clock.now();
      const window = await createWindow({ name: 'W', starts_at: iso(now), ends_at: iso(now + HOUR), tags: ['db'] });
      expect(await monitor(paused)).toMatchObject({ state: 'paused', next_due_at: null });
      expect((await monitor(held)).state).toBe('maintenance');
      expect(await ctx.services.maintenance.sweep()).toEqual({ entered: 0, left: 0 });
      expect((await monitor(paused)).state).toBe('paused');

      // Pause and resume a monitor in maintenance: resume makes it pending, the sweep takes it back.
      ctx.clock.advance(MIN);
      expect(ok(await call('POST', `/api/v1/monitors/${held}/pause`))).toMatchObject({ state: 'paused' });
      expect(await ctx.services.maintenance.sweep()).toEqual({ entered: 0, left: 0 });
      expect((await monitor(held)).state).toBe('paused');
      ctx.clock.advance(MIN);
      expect(ok(await call('POST', `/api/v1/monitors/${held}/resume`))).toMatchObject({ state: 'pending', is_active: true });
      expect(await ctx.services.maintenance.sweep()).toEqual({ entered: 1, left: 0 });
      expect(await monitor(held)).toMatchObject({ state: 'maintenance', next_due_at: null });

      ctx.clock.advance(MIN);
      ok(await call('DELETE', `/api/v1/maintenance/${window.id}`), 204);
      expect(await monitor(held)).toMatchObject({ state: 'pending', next_due_at: iso(ctx.clock.now()) });
      expect((await monitor(paused)).state).toBe('paused');
      expect(ok(await call('GET', '/api/v1/alerts/events'))).toMatchObject({ total: 0 });
    });

    it('uptime counts no downtime for the maintenance period', async () => {
      await start();
      const id = await createTarget(['db']);
      const t0 = ctx.clock.now();
      await record(id, 'up');
      ctx.clock.advance(MIN);
      await record(id, 'up');

      ctx.clock.advance(MIN);
      const opened = ctx.clock.now();
      await createWindow({ name: 'W', starts_at: iso(opened), ends_at: iso(opened + 10 * MIN), monitor_ids: [id] });
      for (let i = 0; i < 5; i++) {
        ctx.clock.advance(MIN);
        await record(id, 'down');
      }
      ctx.clock.set(opened + 10 * MIN);
      await ctx.services.maintenance.sweep();
      await record(id, 'up');

      const results = ok(await call('GET', `/api/v1/monitors/${id}/results`));
      expect(results.map((r: { status: string; at: string }) => [r.status, r.at])).toEqual([
        ['up', iso(opened + 10 * MIN)],
        ['up', iso(t0 + MIN)],
        ['up', iso(t0)],
      ]);
      const uptime = ok(await call('GET', `/api/v1/monitors/${id}/uptime`));
      for (const span of ['24h', '7d', '30d', '1y']) expect(uptime[span]).toEqual({ checks: 3, up: 3, uptime_percent: 100, avg_latency_ms: 5 });
    });
  });
});
