/**
 * The Healthchecks Management API v3 (issue 5) over heartbeat checks, with app.inject and the
 * manual clock, on every dialect: the check object's exact shape for simple and cron checks
 * (URLs built from the request's own host), upsert with `unique`, partial updates, refused
 * input (unknown field, bad time zone or cron, duplicate slug), list filters (tags, slug), the
 * read-only key's subset (unique_key instead of the UUID and URLs, writes and pings refused),
 * pings through `/ping/{uuid}` seen as status, n_pings, last_ping, next_ping and in the pings
 * log (newest first, rid pairing and run time, body URLs and bodies), flips (up/down only),
 * pause, resume, delete, channels (`""`, `"*"`, ids), tenant isolation, and both URL spellings
 * (with and without the trailing slash). Expected shapes follow Healthchecks' API documentation.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

/** Every request names this host, also the configured PUBLIC_URL: the URLs in the answers start with it. */
const HOST = 'vigie.test:8080';
const BASE = `http://${HOST}`;
const START = Date.UTC(2026, 10, 21, 12, 0, 0); // the test app's clock starts here
/** Healthchecks' timestamps: ISO 8601, seconds, explicit +00:00. */
const hcTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
/** Ping dates keep the fraction of a second, as Healthchecks' pings list does. */
const pingTime = (ms: number) => new Date(ms).toISOString().replace(ms % 1000 === 0 ? /\.\d{3}Z$/ : /Z$/, ms % 1000 === 0 ? '+00:00' : '000+00:00'); // Python's isoformat
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Json = Record<string, any>;
type Method = 'GET' | 'POST' | 'DELETE';

describe.each(TEST_DIALECTS)('Healthchecks API v3 on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;

  beforeEach(async () => {
    ctx = await createTestApp(dialect, { env: { PUBLIC_URL: BASE } });
    tenant = await createTenantWithKey(ctx);
  });
  afterEach(async () => {
    await ctx?.close();
  });

  const call = (method: Method, url: string, payload?: object, apiKey: string = tenant.apiKey) =>
    ctx.app.inject({ method, url, headers: { host: HOST, 'x-api-key': apiKey }, ...(payload !== undefined && { payload }) });
  async function ok(method: Method, url: string, payload?: object, status = 200): Promise<Json> {
    const response = await call(method, url, payload);
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
    return response.json();
  }
  const create = (payload: object) => ok('POST', '/api/v3/checks/', payload, 201);
  const getCheck = (uuid: string) => ok('GET', `/api/v3/checks/${uuid}`);
  const status = async (method: Method, url: string, payload?: object, apiKey?: string) => (await call(method, url, payload, apiKey)).statusCode;
  const ping = (path: string, body?: string) =>
    ctx.app.inject({
      method: body === undefined ? 'GET' : 'POST',
      url: path,
      headers: { host: HOST, 'user-agent': 'curl/8.5.0', ...(body !== undefined && { 'content-type': 'text/plain' }) },
      ...(body !== undefined && { payload: body }),
    });
  async function pinged(path: string, body?: string) {
    const response = await ping(path, body);
    expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
    expect(response.body).toBe('OK');
  }
  const urls = (uuid: string) => ({
    uuid,
    ping_url: `${BASE}/ping/${uuid}`,
    update_url: `${BASE}/api/v3/checks/${uuid}`,
    pause_url: `${BASE}/api/v3/checks/${uuid}/pause`,
    resume_url: `${BASE}/api/v3/checks/${uuid}/resume`,
  });
  const names = (list: Json) => (list.checks as Json[]).map((c) => c.name).sort();

  const createBackups = () => create({ name: 'Backups', tags: 'prod www', timeout: 3600, grace: 60 });
  const createNightly = () => create({ name: 'Nightly', schedule: '0 2 * * *', tz: 'Europe/Paris', grace: 600 });

  it('creates a simple check with the documented fields, URLs on the request host', async () => {
    const backups = await createBackups();
    expect(backups.uuid).toMatch(UUID);
    const { channels, ...rest } = backups; // channels: see the channels test
    expect(channels).toBe(''); // none unless asked for
    expect(rest).toMatchObject({
      name: 'Backups',
      slug: '', // v3 never derives a slug from the name (views._update)
      tags: 'prod www',
      desc: '',
      grace: 60,
      n_pings: 0,
      status: 'new',
      started: false,
      last_ping: null,
      next_ping: null,
      manual_resume: false,
      methods: '',
      badge_url: expect.stringMatching(new RegExp(`^${BASE}/b/2/[0-9a-f-]{36}\\.svg$`)),
      timeout: 3600,
      ...urls(backups.uuid),
    });
    expect(await getCheck(backups.uuid)).toEqual(backups);
  });

  it('creates a cron check with its schedule and zone instead of a timeout', async () => {
    const nightly = await createNightly();
    const { channels: _ignored, ...nightlyRest } = nightly;
    expect(nightlyRest).toMatchObject({
      name: 'Nightly',
      slug: '',
      tags: '',
      desc: '',
      grace: 600,
      n_pings: 0,
      status: 'new',
      started: false,
      last_ping: null,
      next_ping: null,
      manual_resume: false,
      methods: '',
      badge_url: expect.stringMatching(new RegExp(`^${BASE}/b/2/[0-9a-f-]{36}\\.svg$`)),
      schedule: '0 2 * * *',
      tz: 'Europe/Paris',
      ...urls(nightly.uuid),
    });
    expect(nightly).not.toHaveProperty('timeout');
  });

  it('gives each check its own UUID and a badge named by a key of its own', async () => {
    const backups = await createBackups();
    const nightly = await createNightly();
    expect(nightly.uuid).not.toBe(backups.uuid);
    // The badge names the check by a key of its own: nothing in it leads to the ping URL.
    expect(backups.badge_url).not.toContain(backups.uuid);
    expect(nightly.badge_url).not.toBe(backups.badge_url);
  });

  it('upserts by tags as sent (views._lookup compares the tags text)', async () => {
    const first = await create({ name: 'Backups', tags: 'www prod', timeout: 3600 });
    const again = await call('POST', '/api/v3/checks/', { name: 'Backups copy', tags: 'www prod', timeout: 7200, unique: ['tags'] });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ uuid: first.uuid, name: 'Backups copy', slug: '', timeout: 7200 });
    expect((await ok('GET', '/api/v3/checks/')).checks).toHaveLength(1);
  });

  it('upserts with unique, updates only the fields given, and refuses bad input', async () => {
    const first = await create({ name: 'Backups', tags: 'prod www', timeout: 3600, grace: 60 });

    const upserted = await ok('POST', '/api/v3/checks/', { name: 'Backups', tags: 'db prod', timeout: 7200, unique: ['name'] }, 200);
    expect(upserted).toEqual({ ...first, tags: 'db prod', timeout: 7200 });
    expect((await ok('GET', '/api/v3/checks/')).checks).toHaveLength(1);

    const updated = await ok('POST', `/api/v3/checks/${first.uuid}`, { desc: 'x' });
    expect(updated).toEqual({ ...upserted, desc: 'x' });
    expect(await getCheck(first.uuid)).toEqual(updated);

    // As Healthchecks: unknown fields are ignored; bad values are 400 json validation errors (views.Spec).
    const unknown = await call('POST', '/api/v3/checks/', { name: 'Other', colour: 'red' });
    expect(unknown.statusCode).toBe(201);
    const badTz = await call('POST', '/api/v3/checks/', { name: 'Bad', schedule: '0 2 * * *', tz: 'Mars/Olympus_Mons' });
    expect([badTz.statusCode, badTz.json()]).toEqual([400, { error: 'json validation error: tz is not a valid timezone' }]);
    const badCron = await call('POST', '/api/v3/checks/', { name: 'Bad', schedule: '61 * * * *', tz: 'UTC' });
    expect([badCron.statusCode, badCron.json()]).toEqual([400, { error: 'json validation error: schedule is not a valid cron or OnCalendar expression' }]);
    expect(await status('POST', `/api/v3/checks/${first.uuid}`, { schedule: 'every day' })).toBe(400);
    // Slugs may repeat (a slug ping to one answers 409 ambiguous slug).
    expect(await status('POST', '/api/v3/checks/', { name: 'Same slug', slug: 'backups' })).toBe(201);
    expect(await status('POST', '/api/v3/checks/', { name: 'Same slug again', slug: 'backups' })).toBe(201);

    // Nothing refused was written.
    expect(names(await ok('GET', '/api/v3/checks/'))).toEqual(['Backups', 'Other', 'Same slug', 'Same slug again']);
    expect(await getCheck(first.uuid)).toEqual(updated);
  });

  it('lists checks filtered by tags (all required) and slug, and gets one', async () => {
    const a = await create({ name: 'Alpha', tags: 'prod www' });
    const b = await create({ name: 'Beta', tags: 'prod db', slug: 'beta' });
    await create({ name: 'Gamma', tags: 'staging' });

    expect(names(await ok('GET', '/api/v3/checks/'))).toEqual(['Alpha', 'Beta', 'Gamma']);
    expect(names(await ok('GET', '/api/v3/checks/?tag=prod'))).toEqual(['Alpha', 'Beta']);
    expect(names(await ok('GET', '/api/v3/checks/?tag=prod&tag=www'))).toEqual(['Alpha']);
    expect(names(await ok('GET', '/api/v3/checks/?tag=www&tag=db'))).toEqual([]);
    expect(names(await ok('GET', '/api/v3/checks/?slug=beta'))).toEqual(['Beta']);
    expect(names(await ok('GET', '/api/v3/checks/?slug=nope'))).toEqual([]);

    const listed = (await ok('GET', '/api/v3/checks/?tag=www')).checks;
    expect(listed).toEqual([await getCheck(a.uuid)]);
    expect((await getCheck(b.uuid)).name).toBe('Beta');
    expect(await status('GET', `/api/v3/checks/${randomUUID()}`)).toBe(404);
  });

  it('gives a read-only key the read-only subset: unique_key instead of the UUID and URLs', async () => {
    const check = await create({ name: 'Backups', tags: 'prod', timeout: 3600, grace: 60 });
    await pinged(`/ping/${check.uuid}/fail`);
    const { secret: readOnly } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'dashboard', scope: 'read-only' });

    const list = await call('GET', '/api/v3/checks/', undefined, readOnly);
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(check.uuid);
    const [seen] = list.json().checks as Json[];
    const full = await getCheck(check.uuid);
    const { uuid: _u, ping_url: _p, update_url: _up, pause_url: _pa, resume_url: _r, channels: _c, ...shared } = full;
    expect(seen).toEqual({ ...shared, unique_key: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(seen!.status).toBe('down');

    const one = await call('GET', `/api/v3/checks/${seen!.unique_key}`, undefined, readOnly);
    expect(one.statusCode, one.body).toBe(200);
    expect(one.body).not.toContain(check.uuid);
    expect(one.json()).toEqual(seen);
    const flips = await call('GET', `/api/v3/checks/${seen!.unique_key}/flips/`, undefined, readOnly);
    expect(flips.statusCode, flips.body).toBe(200);
    expect(flips.json()).toEqual({ flips: [{ timestamp: hcTime(START), up: 0 }] });
    expect(await status('GET', `/api/v3/checks/${'0'.repeat(40)}`, undefined, readOnly)).toBe(404);

    expect(await status('POST', '/api/v3/checks/', { name: 'Sneaky' }, readOnly)).toBe(401);
    expect(await status('POST', `/api/v3/checks/${check.uuid}`, { desc: 'x' }, readOnly)).toBe(401);
    expect(await status('DELETE', `/api/v3/checks/${check.uuid}`, undefined, readOnly)).toBe(401);
    expect(await status('POST', `/api/v3/checks/${check.uuid}/pause`, undefined, readOnly)).toBe(401);
    expect(await status('GET', `/api/v3/checks/${check.uuid}/pings/`, undefined, readOnly)).toBe(401);
    expect(await status('GET', `/api/v3/checks/${check.uuid}/pings/1/body`, undefined, readOnly)).toBe(401);
    expect(await status('GET', '/api/v3/channels/', undefined, readOnly)).toBe(401);
    expect(await getCheck(check.uuid)).toEqual(full); // nothing changed
    expect(await status('GET', '/api/v3/checks/', undefined, 'not-a-key')).toBe(401);
  });

  it('shows pings as status, n_pings, last_ping and next_ping, and in the pings log newest first', async () => {
    const { uuid } = await create({ name: 'Backups', timeout: 3600, grace: 60 });
    const rid = randomUUID();

    await pinged(`/ping/${uuid}`);
    let check = await getCheck(uuid);
    expect(check).toMatchObject({ status: 'up', started: false, n_pings: 1, last_ping: hcTime(START), next_ping: hcTime(START + 3600_000) });

    ctx.clock.advance(10_000);
    await pinged(`/ping/${uuid}/start?rid=${rid}`);
    expect(await getCheck(uuid)).toMatchObject({ status: 'up', started: true, n_pings: 2 });

    ctx.clock.advance(3_250);
    await pinged(`/ping/${uuid}?rid=${rid}`, 'backup done\n12 files\n');
    check = await getCheck(uuid);
    expect(check).toMatchObject({ status: 'up', started: false, n_pings: 3, last_ping: hcTime(START + 13_250), next_ping: hcTime(START + 13_250 + 3600_000) });

    const common = { scheme: 'http', remote_addr: '127.0.0.1', ua: 'curl/8.5.0', body_url: null, exitstatus: null };
    const { pings } = await ok('GET', `/api/v3/checks/${uuid}/pings/`);
    expect(pings).toEqual([
      { ...common, type: 'success', date: pingTime(START + 13_250), n: 3, method: 'POST', rid, duration: 3.25, body_url: `${BASE}/api/v3/checks/${uuid}/pings/3/body` },
      { ...common, type: 'start', date: pingTime(START + 10_000), n: 2, method: 'GET', rid },
      { ...common, type: 'success', date: pingTime(START), n: 1, method: 'GET', rid: null },
    ]);

    const body = await call('GET', `/api/v3/checks/${uuid}/pings/3/body`);
    expect(body.statusCode).toBe(200);
    expect(body.headers['content-type']).toMatch(/^text\/plain/);
    expect(body.body).toBe('backup done\n12 files\n');
    expect(await status('GET', `/api/v3/checks/${uuid}/pings/2/body`)).toBe(404); // a ping without body
    expect(await status('GET', `/api/v3/checks/${uuid}/pings/99/body`)).toBe(404);
  });

  it('lists flips newest first as {"flips": […]}, a pause included (views.flips)', async () => {
    const { uuid } = await create({ name: 'Backups', timeout: 3600, grace: 60 });
    await pinged(`/ping/${uuid}/fail`);
    expect((await getCheck(uuid)).status).toBe('down');
    ctx.clock.advance(60_000);
    await pinged(`/ping/${uuid}/0`);
    expect((await getCheck(uuid)).status).toBe('up');
    ctx.clock.advance(60_000);
    await ok('POST', `/api/v3/checks/${uuid}/pause`); // a change of state, but not between up and down

    expect(await ok('GET', `/api/v3/checks/${uuid}/flips/`)).toEqual({
      flips: [
        { timestamp: hcTime(START + 120_000), up: 0 },
        { timestamp: hcTime(START + 60_000), up: 1 },
        { timestamp: hcTime(START), up: 0 },
      ],
    });
  });

  it('pauses, resumes and deletes a check', async () => {
    const created = await create({ name: 'Backups', timeout: 3600, grace: 60 });
    const { uuid } = created;
    await pinged(`/ping/${uuid}`);

    const paused = await ok('POST', `/api/v3/checks/${uuid}/pause`);
    expect(paused).toMatchObject({ uuid, status: 'paused', next_ping: null });
    expect(await getCheck(uuid)).toEqual(paused);

    const resumed = await ok('POST', `/api/v3/checks/${uuid}/resume`);
    expect(resumed).toEqual({ ...paused, status: 'new', last_ping: null }); // views.resume clears last_ping
    expect(await getCheck(uuid)).toEqual(resumed);

    const deleted = await ok('DELETE', `/api/v3/checks/${uuid}`);
    expect(deleted).toEqual(resumed);
    expect(await status('GET', `/api/v3/checks/${uuid}`)).toBe(404);
    expect(await status('DELETE', `/api/v3/checks/${uuid}`)).toBe(404);
    expect(await status('POST', `/api/v3/checks/${uuid}/pause`)).toBe(404);
    expect((await ok('GET', '/api/v3/checks/')).checks).toEqual([]);
    expect((await ping(`/ping/${uuid}`)).statusCode).toBe(404);
  });

  it('answers 409 to resuming a check that is not paused, as Healthchecks documents', async () => {
    const { uuid } = await create({ name: 'Backups' });
    await pinged(`/ping/${uuid}`);
    expect(await status('POST', `/api/v3/checks/${uuid}/resume`)).toBe(409);
    expect((await getCheck(uuid)).status).toBe('up');
  });

  it('lists channels and assigns none, all or some to checks', async () => {
    const channel = await ok('POST', '/api/v1/channels', { name: 'ops hook', kind: 'webhook', config: { url: 'http://127.0.0.1:9/x' } }, 201);
    expect(await ok('GET', '/api/v3/channels/')).toEqual({ channels: [{ id: channel.id, name: 'ops hook', kind: 'webhook' }] });

    // Healthchecks answers channels as the sorted UUIDs of the channels assigned ("*" assigns them all).
    const none = await create({ name: 'None', channels: '' });
    const all = await create({ name: 'All', channels: '*' });
    const some = await create({ name: 'Some', channels: channel.id });
    expect([none.channels, all.channels, some.channels]).toEqual(['', channel.id, channel.id]);
    expect((await getCheck(none.uuid)).channels).toBe('');
    expect((await getCheck(all.uuid)).channels).toBe(channel.id);
    expect((await getCheck(some.uuid)).channels).toBe(channel.id);

    expect((await ok('POST', `/api/v3/checks/${all.uuid}`, { channels: '' })).channels).toBe('');
    expect((await ok('POST', `/api/v3/checks/${none.uuid}`, { channels: channel.id })).channels).toBe(channel.id);

    // An upsert that finds its check applies `channels` too.
    const upserted = await ok('POST', '/api/v3/checks/', { name: 'Some', channels: '*', unique: ['name'] }, 200);
    expect(upserted).toMatchObject({ uuid: some.uuid, channels: channel.id });
    expect((await getCheck(some.uuid)).channels).toBe(channel.id);
  });

  it('assigns no channels to a check created without the field, as Healthchecks documents', async () => {
    await ok('POST', '/api/v1/channels', { name: 'ops hook', kind: 'webhook', config: { url: 'http://127.0.0.1:9/x' } }, 201);
    const check = await create({ name: 'Backups' });
    expect(check.channels).toBe('');
  });

  it('keeps each tenant to its own checks', async () => {
    const { uuid } = await create({ name: 'Backups' });
    await pinged(`/ping/${uuid}`);
    const other = await createTenantWithKey(ctx);
    expect((await call('GET', '/api/v3/checks/', undefined, other.apiKey)).json()).toEqual({ checks: [] });
    for (const [method, url] of [
      ['GET', `/api/v3/checks/${uuid}`],
      ['POST', `/api/v3/checks/${uuid}`],
      ['DELETE', `/api/v3/checks/${uuid}`],
      ['POST', `/api/v3/checks/${uuid}/pause`],
      ['GET', `/api/v3/checks/${uuid}/pings/`],
      ['GET', `/api/v3/checks/${uuid}/pings/1/body`],
      ['GET', `/api/v3/checks/${uuid}/flips/`],
    ] as [Method, string][]) {
      expect(await status(method, url, method === 'POST' ? {} : undefined, other.apiKey), `${method} ${url}`).toBe(404);
    }
    expect((await getCheck(uuid)).status).toBe('up');
  });

  it('answers with and without the trailing slash', async () => {
    const created = await ok('POST', '/api/v3/checks', { name: 'Backups' }, 201);
    const withSlash = await ok('GET', '/api/v3/checks/');
    expect(withSlash.checks).toEqual([created]);
    expect(await ok('GET', '/api/v3/checks')).toEqual(withSlash);
    await pinged(`/ping/${created.uuid}`);
    expect(await ok('GET', `/api/v3/checks/${created.uuid}/pings`)).toEqual(await ok('GET', `/api/v3/checks/${created.uuid}/pings/`));
    expect(await ok('GET', `/api/v3/checks/${created.uuid}/flips`)).toEqual(await ok('GET', `/api/v3/checks/${created.uuid}/flips/`));
    expect(await ok('GET', '/api/v3/channels')).toEqual(await ok('GET', '/api/v3/channels/'));
  });
});
