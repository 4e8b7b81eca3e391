/**
 * Healthchecks compatibility (issue 14), behaviour by behaviour, each test naming the place in
 * Healthchecks' source (github.com/healthchecks/healthchecks) whose behaviour it checks: request
 * bodies and keys (hc/api/decorators.py), errors (hc/api/views.py Spec, format_first_error), API
 * versions and mount points (hc/api/urls.py, Check.to_dict), status semantics (Check.ping,
 * get_status, get_grace_start, views.pause/resume), ignored pings, slugs and ping keys
 * (views.ping_by_slug), fields (views._update, _lookup), flips (views.flips, FlipsFiltersForm)
 * and CORS (decorators.cors). Real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is
 * set), the app through inject, the manual clock.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { up as giveTenantsPingKeys } from '../src/db/migrations/2026_12_05_0018_tenant_ping_keys.js';
import { createServices } from '../src/services.js';
import { createTenantWithKey, createTestApp, createUser, login, TEST_SECRET_KEY, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

type Json = Record<string, any>;
const HOST = 'vigie.test';
const BASE = `http://${HOST}`;

describe.each(TEST_DIALECTS)('Healthchecks compatibility on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  let readOnly: string;

  beforeEach(async () => {
    // Links start with the configured public URL (issue 13), here the host the requests name.
    ctx = await createTestApp(dialect, { env: { PUBLIC_URL: BASE } });
    tenant = await createTenantWithKey(ctx);
    readOnly = (await ctx.services.apiKeys.create(tenant.tenantId, { name: 'ro', scope: 'read-only' })).secret;
  });
  afterEach(async () => {
    await ctx?.close();
  });

  /** A raw call: the body is sent as given, with the content type given (none by default). */
  const raw = (method: 'GET' | 'POST' | 'DELETE' | 'OPTIONS', url: string, options: { body?: string; type?: string; key?: string | null; headers?: Record<string, string> } = {}) =>
    ctx.app.inject({
      method,
      url,
      headers: {
        host: HOST,
        ...(options.key !== null && { 'x-api-key': options.key ?? tenant.apiKey }),
        ...(options.type && { 'content-type': options.type }),
        ...options.headers,
      },
      ...(options.body !== undefined && { payload: options.body }),
    });
  const api = async (method: 'GET' | 'POST' | 'DELETE', url: string, body?: object, expected = method === 'POST' && url.endsWith('/checks/') ? 201 : 200): Promise<Json> => {
    const response = await raw(method, url, body === undefined ? {} : { body: JSON.stringify(body), type: 'application/json' });
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(expected);
    return response.json();
  };
  const create = (body: object, root = '/hc/api/v3') => api('POST', `${root}/checks/`, body);
  const get = (uuid: string, root = '/hc/api/v3') => api('GET', `${root}/checks/${uuid}`);
  const ping = async (path: string, init: { method?: 'GET' | 'POST' | 'HEAD'; body?: string } = {}) => {
    const response = await ctx.app.inject({
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      url: path,
      headers: { host: HOST, 'content-type': 'text/plain' },
      ...(init.body !== undefined && { payload: init.body }),
    });
    return response;
  };
  const pinged = async (path: string, init?: { method?: 'GET' | 'POST' | 'HEAD'; body?: string }) => {
    const response = await ping(path, init);
    expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
  };
  const hcError = async (response: Awaited<ReturnType<typeof raw>>, status: number, error: string) => {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json()).toEqual({ error });
  };
  const sweep = () => ctx.services.heartbeatSweep.run();

  describe('request bodies (decorators.authorize: the body is JSON whatever its type, api_key in it)', () => {
    it('takes JSON sent as a form (curl --data), as text/plain and with no type; ignores unknown fields', async () => {
      for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/json']) {
        const response = await raw('POST', '/hc/api/v3/checks/', { body: JSON.stringify({ name: `by ${type}`, timeout: 3600, color: 'blue' }), type });
        expect(response.statusCode, `${type}: ${response.body}`).toBe(201);
        expect(response.json()).toMatchObject({ name: `by ${type}`, timeout: 3600 });
        expect(response.json()).not.toHaveProperty('color');
      }
    });

    it('an empty body is no body: pause and delete work with Content-Type: application/json', async () => {
      const { uuid } = await create({ name: 'job' });
      const paused = await raw('POST', `/hc/api/v3/checks/${uuid}/pause`, { body: '', type: 'application/json' });
      expect(paused.statusCode, paused.body).toBe(200);
      expect(paused.json().status).toBe('paused');
      const deleted = await raw('DELETE', `/hc/api/v3/checks/${uuid}`, { body: '', type: 'application/json' });
      expect(deleted.statusCode, deleted.body).toBe(200);
      expect((await raw('GET', `/hc/api/v3/checks/${uuid}`)).statusCode).toBe(404);
    });

    it('takes the key from api_key in the body of a call that writes, not of one that reads', async () => {
      const body = JSON.stringify({ api_key: tenant.apiKey, name: 'keyed in body' });
      const created = await raw('POST', '/hc/api/v3/checks/', { body, key: null, type: 'application/x-www-form-urlencoded' });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).not.toHaveProperty('api_key');
      // authorize_read looks at X-Api-Key only.
      await hcError(await raw('GET', `/hc/api/v3/checks/?api_key=${tenant.apiKey}`, { key: null }), 401, 'missing api key');
    });
  });

  describe("errors (decorators.py, views.Spec and format_first_error): Healthchecks' status and text", () => {
    it('401 missing api key / wrong api key; a read-only key where writing is a wrong key', async () => {
      await hcError(await raw('GET', '/hc/api/v3/checks/', { key: null }), 401, 'missing api key');
      await hcError(await raw('GET', '/hc/api/v3/checks/', { key: 'not-a-key' }), 401, 'wrong api key');
      await hcError(await raw('POST', '/hc/api/v3/checks/', { key: readOnly, body: '{}' }), 401, 'wrong api key');
      expect((await raw('GET', '/hc/api/v3/checks/', { key: readOnly })).statusCode).toBe(200);
    });

    it('400 could not parse request body; 400 when the JSON is not an object', async () => {
      await hcError(await raw('POST', '/hc/api/v3/checks/', { body: '{"name": ', type: 'application/json' }), 400, 'could not parse request body');
      // White space is not an empty body to Healthchecks either: json.loads(' ') fails.
      await hcError(await raw('POST', '/hc/api/v3/checks/', { body: ' \r\n', type: 'application/json' }), 400, 'could not parse request body');
      await hcError(await raw('POST', '/hc/api/v3/checks/', { body: '[1, 2]', type: 'application/json' }), 400, 'json validation error: value is not an object');
    });

    it('400 json validation error naming the first bad field, in the words of CUSTOM_ERRORS', async () => {
      const cases: [object, string][] = [
        [{ name: 'x'.repeat(101) }, 'name is too long'],
        [{ name: null }, 'name is not a string'],
        [{ timeout: 30 }, 'timeout is too small'],
        [{ grace: 31_536_001 }, 'grace is too large'],
        [{ timeout: '3600' }, 'timeout is not a number'],
        [{ manual_resume: 'yes' }, 'manual_resume is not a boolean'],
        [{ methods: 'GET' }, 'methods has unexpected value'],
        [{ slug: 'Not A Slug' }, 'slug does not match pattern'],
        [{ tz: 'Mars/Olympus' }, 'tz is not a valid timezone'],
        [{ schedule: '61 * * * *' }, 'schedule is not a valid cron or OnCalendar expression'],
        [{ unique: 'name' }, 'unique is not an array'],
        [{ unique: ['name', 'color'] }, "an item in 'unique' has unexpected value"],
        [{ failure_kw: 'k'.repeat(201) }, 'failure_kw is too long'],
        // Field order of the Spec model: channels comes before name.
        [{ name: 7, channels: 7 }, 'channels is not a string'],
      ];
      for (const [body, error] of cases) {
        await hcError(await raw('POST', '/hc/api/v3/checks/', { body: JSON.stringify(body), type: 'application/json' }), 400, `json validation error: ${error}`);
      }
      expect((await api('GET', '/hc/api/v3/checks/')).checks).toEqual([]);
    });

    it('404 for an unknown or malformed check, 409 "check is not paused"', async () => {
      expect((await raw('GET', `/hc/api/v3/checks/${randomUUID()}`)).statusCode).toBe(404);
      expect((await raw('GET', '/hc/api/v3/checks/not-a-uuid')).statusCode).toBe(404);
      const { uuid } = await create({ name: 'job' });
      const resumed = await raw('POST', `/hc/api/v3/checks/${uuid}/resume`);
      expect(resumed.statusCode).toBe(409);
      expect(resumed.body).toBe('check is not paused');
    });
  });

  describe('OnCalendar schedules (views.guess_kind and Spec.check_schedule; Check.get_grace_start and to_dict)', () => {
    it('every version takes one and answers it as schedule and tz, without timeout (test_create_check test_it_supports_oncalendar_syntax)', async () => {
      for (const root of ['/hc/api/v1', '/hc/api/v2', '/hc/api/v3', '/api/v1']) {
        const doc = await create({ name: `at ${root}`, schedule: '12:34', tz: 'Europe/Riga', grace: 60 }, root);
        expect(doc).toMatchObject({ schedule: '12:34', tz: 'Europe/Riga', grace: 60 });
        expect(doc).not.toHaveProperty('timeout');
      }
      // An update moves a check to a multi-line OnCalendar schedule with a zone of its own on one line (views._update).
      const { uuid } = await create({ name: 'two runs', timeout: 3600 });
      const schedule = 'Mon..Fri 09:00\nSat,Sun 11:00 America/New_York';
      const updated = await api('POST', `/hc/api/v3/checks/${uuid}`, { schedule, tz: 'Europe/Paris' });
      expect(updated).toMatchObject({ schedule, tz: 'Europe/Paris' });
      expect(updated).not.toHaveProperty('timeout');
      // Back to cron by Healthchecks' guess: one line of five fields.
      expect(await api('POST', `/hc/api/v3/checks/${uuid}`, { schedule: '0 9 * * 1-5' })).toMatchObject({ schedule: '0 9 * * 1-5' });
    });

    it('an invalid one is 400 "schedule is not a valid cron or OnCalendar expression" (test_it_validates_oncalendar_expression, test_it_rejects_bad_cron)', async () => {
      for (const schedule of ['12:34\nsurprise', 'bad-expression', '* * * * * *', '*-02-30 12:00', 'Mon *-*-* 25:00', '12:34 Europe/Surprise']) {
        await hcError(
          await raw('POST', '/hc/api/v3/checks/', { body: JSON.stringify({ schedule }), type: 'application/json' }),
          400,
          'json validation error: schedule is not a valid cron or OnCalendar expression',
        );
      }
      expect((await api('GET', '/hc/api/v3/checks/')).checks).toEqual([]);
    });

    it('the sweep makes it late, then down, at its runs in the check’s zone across a DST change (get_grace_start, going_down_after)', async () => {
      // Europe/Paris springs forward at 02:00 on 29 March 2026: 02:30 does not exist that day, so
      // a daily 02:30 run after the 28th's is expected on the 30th (00:30 UTC), not on the 29th.
      ctx.clock.set(Date.parse('2026-03-28T01:30:00Z'));
      const { uuid } = await create({ name: 'nightly', schedule: '02:30', tz: 'Europe/Paris', grace: 3600 });
      await pinged(`/ping/${uuid}`);
      expect(await get(uuid)).toMatchObject({ status: 'up', next_ping: '2026-03-30T00:30:00+00:00' });
      const state = async () => ((await api('GET', '/api/v1/monitors')).items as Json[]).find((m) => m.name === 'nightly')!.state;
      ctx.clock.set(Date.parse('2026-03-29T03:00:00Z'));
      await sweep();
      expect((await get(uuid)).status).toBe('up');
      ctx.clock.set(Date.parse('2026-03-30T00:31:00Z'));
      await sweep();
      expect((await get(uuid)).status).toBe('grace');
      ctx.clock.set(Date.parse('2026-03-30T01:31:00Z'));
      await sweep();
      expect((await get(uuid)).status).toBe('down');
      expect(await state()).toBe('down');
      // The next ping is expected at 02:30 summer time, 00:30 UTC, each day from then on.
      await pinged(`/ping/${uuid}`);
      expect(await get(uuid)).toMatchObject({ status: 'up', next_ping: '2026-03-31T00:30:00+00:00' });
    });
  });

  describe('API versions and mount points (urls.py: api/v1/, api/v2/, api/v3/; Check.to_dict(v))', () => {
    it('serves every version under /hc/api/vN, and /api/v3, /api/v2 and /api/v1/checks beside Vigie’s own /api/v1', async () => {
      for (const root of ['/hc/api/v1', '/hc/api/v2', '/hc/api/v3', '/api/v1', '/api/v2', '/api/v3']) {
        const check = await create({ name: `via ${root}` }, root);
        expect(check.update_url).toBe(`${BASE}${root}/checks/${check.uuid}`);
        expect(check.pause_url).toBe(`${BASE}${root}/checks/${check.uuid}/pause`);
        expect((await get(check.uuid, root)).name).toBe(`via ${root}`);
        expect((await api('GET', `${root}/badges/`)).badges).toHaveProperty('*');
        const status = await raw('GET', `${root}/status/`, { key: null });
        expect([status.statusCode, status.body]).toEqual([200, 'OK']);
      }
      // Healthchecks' channels list under /hc/api/v1; /api/v1/channels stays Vigie's own.
      expect(await api('GET', '/hc/api/v1/channels/')).toEqual({ channels: [] });
      expect(await api('GET', '/api/v1/channels')).toEqual([]);
    });

    it('v1 reports a running check as "started"; v2 and v3 keep its status with started: true', async () => {
      const { uuid } = await create({ name: 'job', timeout: 3600, grace: 600 });
      await pinged(`/ping/${uuid}`);
      await pinged(`/ping/${uuid}/start`);
      expect(await get(uuid, '/hc/api/v1')).toMatchObject({ status: 'started', started: true });
      expect(await get(uuid, '/hc/api/v2')).toMatchObject({ status: 'up', started: true });
      expect(await get(uuid, '/hc/api/v3')).toMatchObject({ status: 'up', started: true });
    });

    it('v1 and v2 derive the slug from the name (Django slugify); v3 never does', async () => {
      expect((await create({ name: 'Nightly Backup (db.eu)' }, '/hc/api/v1')).slug).toBe('nightly-backup-dbeu');
      const v3 = await create({ name: 'Nightly Backup' });
      expect(v3.slug).toBe('');
      expect((await api('POST', `/hc/api/v2/checks/${v3.uuid}`, { name: 'Renamed Job' })).slug).toBe('renamed-job');
      expect((await api('POST', `/hc/api/v3/checks/${v3.uuid}`, { name: 'Again' })).slug).toBe('renamed-job');
    });
  });

  describe('status semantics (Check.ping, get_status, get_grace_start, views.pause and resume)', () => {
    it('a start sets no last_ping and changes no status; a down check that starts stays down, badge too', async () => {
      const { uuid, badge_url } = await create({ name: 'job', timeout: 3600, grace: 600 });
      await pinged(`/ping/${uuid}/start`);
      expect(await get(uuid)).toMatchObject({ status: 'new', started: true, last_ping: null, next_ping: new Date(ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, '+00:00') });
      await pinged(`/ping/${uuid}/fail`);
      await pinged(`/ping/${uuid}/start`);
      expect(await get(uuid)).toMatchObject({ status: 'down', started: true });
      const badge = await ctx.app.inject({ method: 'GET', url: new URL(badge_url as string).pathname.replace(/\.svg$/, '.json') });
      expect(badge.json()).toMatchObject({ status: 'down' });
    });

    it('a start does not un-pause a paused check, which raises no alert; pause and resume end the run; resume clears last_ping', async () => {
      const { uuid } = await create({ name: 'job', timeout: 60, grace: 60 });
      await pinged(`/ping/${uuid}`);
      await pinged(`/ping/${uuid}/start`);
      const paused = await api('POST', `/hc/api/v3/checks/${uuid}/pause`);
      expect(paused).toMatchObject({ status: 'paused', started: false });
      expect(paused.last_ping).not.toBeNull();
      await pinged(`/ping/${uuid}/start`);
      ctx.clock.advance(3_600_000);
      await sweep();
      expect(await get(uuid)).toMatchObject({ status: 'paused', started: true });
      const monitor = (await api('GET', '/api/v1/monitors')).items[0] as Json;
      expect(monitor.state).toBe('paused');
      const resumed = await api('POST', `/hc/api/v3/checks/${uuid}/resume`);
      expect(resumed).toMatchObject({ status: 'new', started: false, last_ping: null, next_ping: null });
    });

    it('a success with another rid leaves the run started; the end with its rid measures last_duration', async () => {
      const { uuid } = await create({ name: 'job', timeout: 3600, grace: 600 });
      const [a, b] = [randomUUID(), randomUUID()];
      await pinged(`/ping/${uuid}/start?rid=${a}`);
      ctx.clock.advance(42_500);
      await pinged(`/ping/${uuid}?rid=${b}`);
      const running = await get(uuid);
      expect(running).toMatchObject({ status: 'up', started: true });
      expect(running).not.toHaveProperty('last_duration');
      // While a run is under way, the next ping is expected by its start (get_grace_start with_started).
      expect(running.next_ping).toBe(new Date(ctx.clock.now() - 42_500).toISOString().replace(/\.\d{3}Z$/, '+00:00'));
      ctx.clock.advance(20_000);
      await pinged(`/ping/${uuid}?rid=${a}`);
      expect(await get(uuid)).toMatchObject({ status: 'up', started: false, last_duration: 62 });
    });

    it('a run past its grace is down (get_status), and the sweep alerts it', async () => {
      const { uuid } = await create({ name: 'job', timeout: 3600, grace: 60 });
      await pinged(`/ping/${uuid}`);
      await pinged(`/ping/${uuid}/start`);
      ctx.clock.advance(61_000);
      expect((await get(uuid)).status).toBe('down');
      await sweep();
      const monitor = (await api('GET', '/api/v1/monitors')).items[0] as Json;
      expect(monitor.state).toBe('down');
    });
  });

  describe('ignored pings (views.ping: methods; Check.ping: manual_resume; filter_http_body)', () => {
    it('a GET to a POST-only check and any ping to a paused manual_resume check are stored as ign and counted', async () => {
      const received = async (kind: string) => {
        const text = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
        return Number(new RegExp(`^vigie_pings_received_total\\{kind="${kind}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      };
      const before = { ign: await received('ign'), success: await received('success'), fail: await received('fail') };
      const { uuid } = await create({ name: 'post only', methods: 'POST' });
      await pinged(`/ping/${uuid}`, { method: 'GET' });
      expect(await get(uuid)).toMatchObject({ status: 'new', n_pings: 1, last_ping: null });
      await pinged(`/ping/${uuid}`, { method: 'POST', body: 'done' });
      expect(await get(uuid)).toMatchObject({ status: 'up', n_pings: 2 });

      const manual = await create({ name: 'manual', manual_resume: true });
      await api('POST', `/hc/api/v3/checks/${manual.uuid}/pause`);
      await pinged(`/ping/${manual.uuid}`);
      await pinged(`/ping/${manual.uuid}/fail`);
      expect(await get(manual.uuid)).toMatchObject({ status: 'paused', n_pings: 2, last_ping: null });
      const { pings } = await api('GET', `/hc/api/v3/checks/${manual.uuid}/pings/`);
      expect(pings.map((p: Json) => [p.n, p.type])).toEqual([
        [2, 'ign'],
        [1, 'ign'],
      ]);
      expect((await api('GET', `/hc/api/v3/checks/${uuid}/pings/`)).pings.map((p: Json) => p.type)).toEqual(['success', 'ign']);
      // /metrics counts them as what they were recorded as, as it does e-mail pings: 3 ign, 1 success, no fail.
      expect({ ign: (await received('ign')) - before.ign, success: (await received('success')) - before.success, fail: (await received('fail')) - before.fail }).toEqual({
        ign: 3,
        success: 1,
        fail: 0,
      });
    });

    it('filter_http_body: the body keywords decide; no keyword is ign, or fail with filter_default_fail', async () => {
      const { uuid } = await create({ name: 'filtered', filter_http_body: true, success_kw: 'SUCCESS, COMPLETED', failure_kw: 'ERROR', start_kw: 'STARTED' });
      await pinged(`/ping/${uuid}/fail`, { body: 'backup COMPLETED' });
      expect((await get(uuid)).status).toBe('up');
      await pinged(`/ping/${uuid}`, { body: 'disk ERROR, not a SUCCESS' });
      expect((await get(uuid)).status).toBe('down');
      await pinged(`/ping/${uuid}`, { body: 'STARTED nightly' });
      expect(await get(uuid)).toMatchObject({ status: 'down', started: true });
      await pinged(`/ping/${uuid}`, { body: 'nothing to see' });
      const { pings } = await api('GET', `/hc/api/v3/checks/${uuid}/pings/`);
      expect(pings.map((p: Json) => p.type)).toEqual(['ign', 'start', 'fail', 'success']);
      await api('POST', `/hc/api/v3/checks/${uuid}`, { filter_default_fail: true });
      await pinged(`/ping/${uuid}`, { body: 'SUCCESS' });
      await pinged(`/ping/${uuid}`, { body: 'nothing to see' });
      expect((await get(uuid)).status).toBe('down');
    });
  });

  describe('slugs and ping keys (views.ping_by_slug, auto-provisioning)', () => {
    it('every tenant has a ping key an admin reads and regenerates; ?create=1 answers 201 Created, then 200 OK', async () => {
      const admin = await createUser(ctx, tenant.tenantId, { role: 'admin' });
      const member = await createUser(ctx, tenant.tenantId, { role: 'member' });
      const asAdmin = { authorization: `Bearer ${await login(ctx, admin.email, admin.password)}` };
      const read = await ctx.app.inject({ method: 'GET', url: '/api/v1/settings/ping-key', headers: asAdmin });
      expect(read.statusCode, read.body).toBe(200);
      const key = read.json().ping_key as string;
      expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const memberCall = await ctx.app.inject({ method: 'GET', url: '/api/v1/settings/ping-key', headers: { authorization: `Bearer ${await login(ctx, member.email, member.password)}` } });
      expect(memberCall.statusCode).toBe(403);

      const first = await ping(`/ping/${key}/db-backup?create=1`);
      expect([first.statusCode, first.body]).toEqual([201, 'Created']);
      const again = await ping(`/ping/${key}/db-backup?create=1`);
      expect([again.statusCode, again.body]).toEqual([200, 'OK']);
      const [made] = (await api('GET', '/hc/api/v3/checks/?slug=db-backup')).checks as Json[];
      expect(made).toMatchObject({ name: 'db-backup', slug: 'db-backup', status: 'up', n_pings: 2 });
      expect((await ping(`/ping/${key}/other`)).statusCode).toBe(404);

      const regenerated = await ctx.app.inject({ method: 'POST', url: '/api/v1/settings/ping-key/regenerate', headers: asAdmin });
      const newKey = regenerated.json().ping_key as string;
      expect(newKey).not.toBe(key);
      expect((await ping(`/ping/${key}/db-backup`)).statusCode).toBe(404);
      expect((await ping(`/ping/${newKey}/db-backup`)).statusCode).toBe(200);
    });

    it('simultaneous ?create=1 pings to a new slug create one check: one 201 Created, every other ping OK to it', async () => {
      const key = await ctx.services.heartbeats.pingKey(tenant.tenantId);
      const answers = await Promise.all(Array.from({ length: 25 }, () => ping(`/ping/${key}/race?create=1`)));
      expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(24);
      expect(answers.filter((a) => a.statusCode === 201).map((a) => a.body)).toEqual(['Created']);
      const made = (await api('GET', '/hc/api/v3/checks/?slug=race')).checks as Json[];
      expect(made).toHaveLength(1);
      expect(made[0]).toMatchObject({ slug: 'race', n_pings: 25 });
    });

    it.runIf(dialect === 'postgres')('creation is serialized in the database too: two processes (two pools, two service graphs) creating one slug make one check', async () => {
      // A second web process: its own connections and its own in-process serialization.
      const other = await openDatabase(ctx.config.database);
      try {
        const second = createServices({ db: other.db, clock: ctx.clock, secretKey: TEST_SECRET_KEY, jwtExpiresMinutes: 60 });
        const key = await ctx.services.heartbeats.pingKey(tenant.tenantId);
        const targets = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? second : ctx.services).heartbeats.pingTargetBySlug(key, 'two-processes', true)));
        expect(targets.filter((t) => typeof t === 'object' && t.created)).toHaveLength(1);
        expect(new Set(targets.map((t) => (typeof t === 'object' ? t.pingUuid : t))).size).toBe(1);
        expect((await api('GET', '/hc/api/v3/checks/?slug=two-processes')).checks).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    it('slugs may repeat; a slug ping to a repeated slug answers 409 ambiguous slug', async () => {
      const key = await ctx.services.heartbeats.pingKey(tenant.tenantId);
      await create({ name: 'one', slug: 'nightly' });
      await create({ name: 'two', slug: 'nightly' });
      const response = await ping(`/ping/${key}/nightly`);
      expect([response.statusCode, response.body]).toEqual([409, 'ambiguous slug']);
    });

    it('tenants made before migration 0018 get a ping key from it', async () => {
      const db = ctx.database.db;
      await db.updateTable('tenant_settings').set({ ping_key: null }).where('tenant_id', '=', tenant.tenantId).execute();
      await giveTenantsPingKeys(db);
      const row = await db.selectFrom('tenant_settings').select('ping_key').where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
      expect(row.ping_key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });
  });

  describe('fields (views._update, _lookup, Check.to_dict)', () => {
    it('accepts and answers every keyword field; subject and subject_fail map onto the subject filter', async () => {
      const check = await create({ name: 'mail', subject: 'OK', subject_fail: 'FAIL', start_kw: 'GO', filter_body: true });
      expect(check).toMatchObject({
        subject: 'OK',
        subject_fail: 'FAIL',
        success_kw: 'OK',
        failure_kw: 'FAIL',
        start_kw: 'GO',
        filter_subject: true,
        filter_body: true,
        filter_http_body: false,
        filter_default_fail: false,
      });
      const cleared = await api('POST', `/hc/api/v3/checks/${check.uuid}`, { subject: '', subject_fail: '' });
      expect(cleared).toMatchObject({ subject: '', subject_fail: '', filter_subject: false, start_kw: 'GO' });
    });

    it('channels by name or UUID, answered as sorted UUIDs; 400 for unknown, ambiguous or empty identifiers', async () => {
      const made: string[] = [];
      const channel = async (name: string) => {
        const response = await ctx.app.inject({
          method: 'POST',
          url: '/api/v1/channels',
          headers: { 'x-api-key': tenant.apiKey },
          payload: { name, kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } },
        });
        expect(response.statusCode, response.body).toBe(201);
        made.push(response.json().id as string);
        return response.json().id as string;
      };
      const ops = await channel('ops');
      const dev = await channel('dev');
      // Vigie's channel names are unique in a tenant: an identifier is ambiguous when a name is another channel's UUID.
      await channel(dev);
      const check = await create({ name: 'job', channels: `${ops},dev` });
      expect(check.channels).toBe([ops, dev].sort().join(','));
      expect((await api('POST', `/hc/api/v3/checks/${check.uuid}`, { channels: '*' })).channels).toBe([...made].sort().join(','));
      expect((await api('POST', `/hc/api/v3/checks/${check.uuid}`, { channels: '' })).channels).toBe('');
      const refused: [string, string][] = [
        ['nope', 'invalid channel identifier: nope'],
        [dev, `non-unique channel identifier: ${dev}`],
        ['ops,', 'empty channel identifier'],
      ];
      for (const [channels, error] of refused) await hcError(await raw('POST', `/hc/api/v3/checks/${check.uuid}`, { body: JSON.stringify({ channels }) }), 400, error);
    });

    it('keeps tags as sent, derives unique_key from the UUID as Healthchecks does, and a unique field left out creates a new check', async () => {
      const check = await create({ name: 'Backups', tags: 'www prod www', timeout: 3600 });
      expect(check.tags).toBe('www prod www');
      expect((await api('GET', '/hc/api/v3/checks/?tag=prod')).checks).toHaveLength(1);
      const listed = (await (await raw('GET', '/hc/api/v3/checks/', { key: readOnly })).json()).checks[0] as Json;
      expect(listed.unique_key).toBe(
        createHash('sha1')
          .update((check.uuid as string).replace(/-/g, '').slice(0, 16))
          .digest('hex'),
      );
      expect((await raw('GET', `/hc/api/v3/checks/${listed.unique_key}`, { key: readOnly })).json().name).toBe('Backups');
      // _lookup: `unique` names the slug, which the request does not give: a new check.
      const other = await raw('POST', '/hc/api/v3/checks/', { body: JSON.stringify({ name: 'Backups', unique: ['name', 'slug'] }) });
      expect(other.statusCode).toBe(201);
      const same = await raw('POST', '/hc/api/v3/checks/', { body: JSON.stringify({ name: 'Backups', tags: 'www prod www', unique: ['name', 'tags'] }) });
      expect([same.statusCode, same.json().uuid]).toEqual([200, check.uuid]);
    });
  });

  describe('flips (views.flips, FlipsFiltersForm, Flip.to_dict)', () => {
    it('answers {"flips": […]} newest first, pause and resume included, filtered by seconds, start and end; 400 for invalid values', async () => {
      const { uuid } = await create({ name: 'job', timeout: 3600 });
      const t0 = ctx.clock.now();
      await pinged(`/ping/${uuid}`);
      ctx.clock.advance(60_000);
      await pinged(`/ping/${uuid}/fail`);
      ctx.clock.advance(60_000);
      await api('POST', `/hc/api/v3/checks/${uuid}/pause`);
      ctx.clock.advance(60_000);
      await api('POST', `/hc/api/v3/checks/${uuid}/resume`);
      const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
      const { flips } = await api('GET', `/hc/api/v3/checks/${uuid}/flips/`);
      expect(flips).toEqual([
        { timestamp: at(t0 + 180_000), up: 0 },
        { timestamp: at(t0 + 120_000), up: 0 },
        { timestamp: at(t0 + 60_000), up: 0 },
        { timestamp: at(t0), up: 1 },
      ]);
      expect((await api('GET', `/hc/api/v3/checks/${uuid}/flips/?seconds=90`)).flips).toHaveLength(2);
      expect((await api('GET', `/hc/api/v3/checks/${uuid}/flips/?start=${(t0 + 60_000) / 1000}&end=${(t0 + 180_000) / 1000}`)).flips).toHaveLength(2);
      for (const query of ['seconds=-1', 'seconds=x', 'start=abc', 'end=99999999999', 'seconds=31536001']) {
        expect((await raw('GET', `/hc/api/v3/checks/${uuid}/flips/?${query}`)).statusCode, query).toBe(400);
      }
    });
  });

  describe('CORS (decorators.cors; views.ping and badges)', () => {
    it('Access-Control-Allow-Origin: * on the API, pings and badges; OPTIONS answered 204 with the allowed headers and methods', async () => {
      const check = await create({ name: 'job' });
      const listed = await raw('GET', '/hc/api/v3/checks/', { headers: { origin: 'https://dash.example' } });
      expect(listed.headers['access-control-allow-origin']).toBe('*');
      const preflight = await raw('OPTIONS', `/hc/api/v3/checks/${check.uuid}`, { key: null, headers: { origin: 'https://dash.example', 'access-control-request-method': 'DELETE' } });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': '*', 'access-control-allow-headers': 'X-Api-Key', 'access-control-max-age': '600' });
      expect(String(preflight.headers['access-control-allow-methods']).split(', ').sort()).toEqual(['DELETE', 'GET', 'OPTIONS', 'POST']);
      expect((await ping(`/ping/${check.uuid}`)).headers['access-control-allow-origin']).toBe('*');
      expect((await ctx.app.inject({ method: 'OPTIONS', url: `/ping/${check.uuid}` })).statusCode).toBe(204);
      const badge = await ctx.app.inject({ method: 'GET', url: new URL(check.badge_url as string).pathname });
      expect(badge.headers['access-control-allow-origin']).toBe('*');
    });
  });
});
