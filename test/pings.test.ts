/**
 * Heartbeat checks (issue 5) end to end over HTTP with app.inject, on every dialect: the ping
 * protocol (every suffix, HEAD/GET/POST and checks limited to POST, rid pairing and run time,
 * bodies of any content type and the body limit, slug URLs with ?create=1, unknown and
 * malformed ids), schedules stepped with the manual clock and the deadline sweep (simple and
 * cron, across the daylight-saving days of Europe/Paris and America/New_York), pause and
 * manual_resume, a missed deadline reaching a webhook through the alerting pipeline, and no
 * acknowledged ping lost in a burst. Pings are read straight from the `pings` table.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HeartbeatInput } from '../src/heartbeats/heartbeats.service.js';
import { heartbeatInput } from './helpers/heartbeat-fixtures.js';
import { PINGS_KEPT } from '../src/heartbeats/pings.js';
import { checkResultsHistory } from '../src/monitors/results-history.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { StandIn } from './helpers/receivers.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());
beforeEach(() => standIn.reset());

describe.each(TEST_DIALECTS)('heartbeat pings on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  let headers: Record<string, string>;

  afterEach(async () => {
    await ctx?.close();
  });

  async function start(env: Record<string, string> = {}) {
    ctx = await createTestApp(dialect, { env });
    tenant = await createTenantWithKey(ctx);
    headers = { 'x-api-key': tenant.apiKey };
  }

  const createCheck = (input: Partial<HeartbeatInput> = {}, tenantId = tenant.tenantId) => ctx.services.heartbeats.create(tenantId, heartbeatInput(input));

  type Method = 'GET' | 'POST' | 'HEAD';
  const ping = (url: string, options: { method?: Method; body?: string | Buffer; contentType?: string; from?: string } = {}) =>
    ctx.app.inject({
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      url,
      ...(options.from !== undefined && { remoteAddress: options.from }),
      ...(options.body !== undefined && { payload: options.body, headers: { 'content-type': options.contentType ?? 'text/plain' } }),
    });

  function expectAnswer(response: LightMyRequestResponse, status: number, text: string) {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.body).toBe(text);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
  }
  const expectOk = (response: LightMyRequestResponse) => expectAnswer(response, 200, 'OK');

  const check = (id: string) => ctx.services.heartbeats.get(tenant.tenantId, id);
  const pingRows = (id: string) => ctx.database.db.selectFrom('pings').selectAll().where('monitor_id', '=', id).orderBy('n').execute();
  const lastPing = async (id: string) => (await pingRows(id)).at(-1)!;
  const api = async (url: string, method: 'GET' | 'POST' | 'PATCH' = 'GET', payload?: object) => {
    const response = await ctx.app.inject({ method, url, headers, ...(payload && { payload }) });
    expect(response.statusCode, response.body).toBe(method === 'POST' ? 201 : 200);
    return response.json();
  };
  const monitorState = async (id: string) => (await api(`/api/v1/monitors/${id}`)).state as string;
  const events = async (id: string): Promise<Record<string, any>[]> => (await api(`/api/v1/alerts/events?monitor=${id}`)).items;
  const incidents = async (id: string): Promise<Record<string, any>[]> => {
    const body = await api(`/api/v1/incidents?monitor=${id}`);
    return Array.isArray(body) ? body : body.items;
  };
  const sweep = () => ctx.services.heartbeatSweep.run();

  describe('the ping protocol', () => {
    /** A new check pinged once (success) at t0. */
    async function pingedOnce() {
      await start();
      const { id, pingUuid } = await createCheck();
      const t0 = ctx.clock.now();
      const first = await ping(`/ping/${pingUuid}`);
      return { id, pingUuid, t0, first };
    }

    /** Pings `/ping/<uuid>/<suffix>` after moving the clock by `afterMs`; each must be answered OK. */
    async function pingsAfter(pingUuid: string, steps: [afterMs: number, suffix: string][]) {
      for (const [afterMs, suffix] of steps) {
        ctx.clock.advance(afterMs);
        expectOk(await ping(`/ping/${pingUuid}/${suffix}`));
      }
    }

    it('a success ping: OK with the body limit; the check is up, with its deadline and alert time, and the ping stored', async () => {
      const { id, t0, first } = await pingedOnce();
      expectOk(first);
      expect(first.headers['ping-body-limit']).toBe('100000');
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 1, lastPingAt: t0, deadlineAt: t0 + 60_000, alertAfter: t0 + 90_000 });
      expect(await monitorState(id)).toBe('up');
      expect(await pingRows(id)).toMatchObject([{ n: 1, at: t0, kind: 'success', method: 'GET', exit_status: null, rid: null, body: null, body_size: 0, duration_ms: null }]);
    });

    it('a start ping: the check stays up (Healthchecks: started is a flag), runs with the grace as its deadline, and sets no last ping', async () => {
      const { id, pingUuid, t0 } = await pingedOnce();
      await pingsAfter(pingUuid, [[1000, 'start']]);
      expect(await check(id)).toMatchObject({ status: 'up', lastStartAt: t0 + 1000, lastPingAt: t0, nPings: 2, deadlineAt: t0 + 31_000 });
      expect(await monitorState(id)).toBe('up');
      expect(await lastPing(id)).toMatchObject({ n: 2, kind: 'start' });
    });

    it("a fail ping: the check is down with the run's duration; an incident opens and an alert names the failure", async () => {
      const { id, pingUuid } = await pingedOnce();
      await pingsAfter(pingUuid, [
        [1000, 'start'],
        [2000, 'fail'],
      ]);
      expect(await check(id)).toMatchObject({ status: 'down', nPings: 3, lastDurationMs: 2000, lastStartAt: null, deadlineAt: null, alertAfter: null });
      expect(await monitorState(id)).toBe('down');
      expect(await lastPing(id)).toMatchObject({ n: 3, kind: 'fail', duration_ms: 2000 });
      const [incident] = await incidents(id);
      expect(incident).toMatchObject({ state: 'open', monitor_kind: 'heartbeat', reason: 'reported a failure' });
      expect(await events(id)).toMatchObject([{ kind: 'alert', monitor_kind: 'heartbeat', from_state: 'up', to_state: 'down', reason: 'reported a failure', incident_id: incident!.id }]);
    });

    it('exit status 0 after a failure: the check is up again and the incident resolved', async () => {
      const { id, pingUuid } = await pingedOnce();
      await pingsAfter(pingUuid, [
        [1000, 'start'],
        [2000, 'fail'],
      ]);
      const [incident] = await incidents(id);
      await pingsAfter(pingUuid, [[1000, '0']]);
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 4 });
      expect(await monitorState(id)).toBe('up');
      expect(await lastPing(id)).toMatchObject({ kind: 'exit', exit_status: 0 });
      expect(await incidents(id)).toMatchObject([{ id: incident!.id, state: 'resolved', resolved_at: iso(ctx.clock.now()) }]);
      expect((await events(id)).map((e) => e.to_state)).toEqual(['up', 'down']); // newest first
    });

    it('a non-zero exit status is down, and the alert names the status', async () => {
      const { id, pingUuid } = await pingedOnce();
      await pingsAfter(pingUuid, [[1000, '3']]);
      expect(await check(id)).toMatchObject({ status: 'down' });
      expect(await lastPing(id)).toMatchObject({ kind: 'exit', exit_status: 3 });
      expect((await events(id))[0]).toMatchObject({ to_state: 'down', reason: 'exited with status 3' });
    });

    it('an exit status with output: the body is stored, and the alert reason ends with its last 200 characters', async () => {
      const { id, pingUuid } = await pingedOnce();
      ctx.clock.advance(1000);
      const output = `${'line of output\n'.repeat(30)}rsync: write failed: No space left on device\n`;
      expectOk(await ping(`/ping/${pingUuid}/255`, { body: output }));
      expect(await lastPing(id)).toMatchObject({ kind: 'exit', exit_status: 255, body: output, body_size: output.length });
      expect((await events(id))[0]).toMatchObject({ to_state: 'down', reason: `exited with status 255: ${output.trim().slice(-200)}` });
    });

    it('a log ping is stored and numbered, and changes nothing else', async () => {
      const { id, pingUuid } = await pingedOnce();
      await pingsAfter(pingUuid, [[1000, 'fail']]);
      const before = await check(id);
      ctx.clock.advance(1000);
      expectOk(await ping(`/ping/${pingUuid}/log`, { body: 'still going' }));
      expect(await check(id)).toEqual({ ...before, nPings: before.nPings + 1 });
      expect(await lastPing(id)).toMatchObject({ n: before.nPings + 1, kind: 'log', body: 'still going' });
    });

    it('bad suffixes and malformed ids are 400, unknown ids 404, and none of them is stored', async () => {
      const { id, pingUuid } = await pingedOnce();
      await pingsAfter(pingUuid, [
        [1000, 'start'],
        [1000, 'fail'],
      ]);
      const stored = (await pingRows(id)).length;
      for (const bad of ['256', '1000', 'abc', '-1', 'START']) expectAnswer(await ping(`/ping/${pingUuid}/${bad}`), 400, 'invalid url format');
      for (const bad of ['not-a-uuid', '1234', `${pingUuid}0`, pingUuid.replace(/-/g, '')]) expectAnswer(await ping(`/ping/${bad}`), 400, 'invalid url format');
      expectAnswer(await ping(`/ping/${randomUUID()}`), 404, 'not found');
      expectAnswer(await ping(`/ping/${randomUUID()}/fail`), 404, 'not found');
      expect(await pingRows(id)).toHaveLength(stored);
      expect((await check(id)).nPings).toBe(stored);
    });

    it('the ping URL holds a secret of its own: what a read-only key sees of a check does not ping it', async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      expect(pingUuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(pingUuid).not.toBe(id);
      const { secret: readOnlyKey } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'dashboard', scope: 'read-only' });
      const seen = await ctx.app.inject({ method: 'GET', url: '/api/v1/monitors', headers: { 'x-api-key': readOnlyKey } });
      expect(seen.statusCode).toBe(200);
      expect(seen.body).toContain(id);
      expect(seen.body).not.toContain(pingUuid);
      expectAnswer(await ping(`/ping/${id}`), 404, 'not found');
      expect(await pingRows(id)).toEqual([]);
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await pingRows(id)).toHaveLength(1);
    });

    it('accepts HEAD, GET and POST; a check limited to POST answers GET and HEAD without recording them', async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      const head = await ping(`/ping/${pingUuid}`, { method: 'HEAD' });
      expect(head.statusCode).toBe(200);
      expect(head.body).toBe('');
      expectOk(await ping(`/ping/${pingUuid}`, { method: 'GET' }));
      expectOk(await ping(`/ping/${pingUuid}`, { method: 'POST' }));
      expect((await ping(`/ping/${pingUuid}/start`, { method: 'HEAD' })).statusCode).toBe(200);
      expect((await pingRows(id)).map((p) => [p.n, p.method, p.kind])).toEqual([
        [1, 'HEAD', 'success'],
        [2, 'GET', 'success'],
        [3, 'POST', 'success'],
        [4, 'HEAD', 'start'],
      ]);
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 4 });

      const postOnly = await createCheck({ name: 'post only', methods: 'POST' });
      expectOk(await ping(`/ping/${postOnly.pingUuid}`, { method: 'GET' }));
      expectOk(await ping(`/ping/${postOnly.pingUuid}/fail`, { method: 'GET' }));
      expect((await ping(`/ping/${postOnly.pingUuid}`, { method: 'HEAD' })).statusCode).toBe(200);
      // Healthchecks keeps them as ignored pings (kind ign), counted, changing nothing.
      expect((await pingRows(postOnly.id)).map((p) => [p.n, p.method, p.kind])).toEqual([
        [1, 'GET', 'ign'],
        [2, 'GET', 'ign'],
        [3, 'HEAD', 'ign'],
      ]);
      expect(await check(postOnly.id)).toMatchObject({ status: 'new', nPings: 3, lastPingAt: null });
      expect(await monitorState(postOnly.id)).toBe('pending');
      expectOk(await ping(`/ping/${postOnly.pingUuid}`, { method: 'POST', body: 'done' }));
      expect((await pingRows(postOnly.id)).at(-1)).toMatchObject({ n: 4, method: 'POST', kind: 'success', body: 'done' });
      expect(await check(postOnly.id)).toMatchObject({ status: 'up', nPings: 4 });
    });

    it('pairs a start with its end by rid to measure the run time; without rid the last start is used', async () => {
      await start();
      const { id, pingUuid } = await createCheck({ graceSeconds: 3600 });
      const [ridA, ridB] = [randomUUID(), randomUUID()];
      const t = ctx.clock.now();
      expectOk(await ping(`/ping/${pingUuid}/start?rid=${ridA}`));
      ctx.clock.advance(5000);
      expectOk(await ping(`/ping/${pingUuid}/start?rid=${ridB}`));
      ctx.clock.advance(60_000);
      expectOk(await ping(`/ping/${pingUuid}/0?rid=${ridA}`));
      expect(await pingRows(id)).toMatchObject([
        { n: 1, kind: 'start', rid: ridA, at: t, duration_ms: null },
        { n: 2, kind: 'start', rid: ridB, at: t + 5000, duration_ms: null },
        { n: 3, kind: 'exit', exit_status: 0, rid: ridA, at: t + 65_000, duration_ms: 65_000 },
      ]);
      // The ping measures its own run (rid A); the check's run is B's, still under way (Healthchecks' last_start_rid).
      expect(await check(id)).toMatchObject({ status: 'up', lastDurationMs: null, lastStartAt: t + 5000, lastStartRid: ridB });

      // A rid that started nothing measures nothing.
      ctx.clock.advance(1000);
      expectOk(await ping(`/ping/${pingUuid}?rid=${randomUUID()}`));
      expect(await lastPing(id)).toMatchObject({ kind: 'success', duration_ms: null });

      // Without rid: from the last start.
      ctx.clock.advance(1000);
      expectOk(await ping(`/ping/${pingUuid}/start`));
      ctx.clock.advance(7000);
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await lastPing(id)).toMatchObject({ kind: 'success', rid: null, duration_ms: 7000 });
      expect(await check(id)).toMatchObject({ lastDurationMs: 7000, lastStartAt: null });

      const stored = (await pingRows(id)).length;
      for (const bad of ['nope', '1234', `${ridA}x`]) expectAnswer(await ping(`/ping/${pingUuid}/start?rid=${bad}`), 400, 'invalid url format');
      expect(await pingRows(id)).toHaveLength(stored);
    });
  });

  describe('bodies', () => {
    it('keeps text/plain, JSON and octet-stream bodies as text', async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      expectOk(await ping(`/ping/${pingUuid}/log`, { body: 'backup: 42 files\n', contentType: 'text/plain' }));
      expectOk(await ping(`/ping/${pingUuid}/log`, { body: '{"files":42,"ok":true}', contentType: 'application/json' }));
      expectOk(await ping(`/ping/${pingUuid}/log`, { body: Buffer.from('raw bytes é\n', 'utf8'), contentType: 'application/octet-stream' }));
      expectOk(await ping(`/ping/${pingUuid}/log`, { body: 'no content type at all', contentType: 'application/x-www-form-urlencoded' }));
      expect((await pingRows(id)).map((p) => [p.body, p.body_size])).toEqual([
        ['backup: 42 files\n', 17],
        ['{"files":42,"ok":true}', 22],
        ['raw bytes é\n', 13],
        ['no content type at all', 22],
      ]);
    });

    it('stores a binary body (NUL bytes included) and answers 200', async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      const other = await createCheck({ name: 'other' });
      const binary = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0x0a]);
      const responses = await Promise.all([
        ping(`/ping/${other.pingUuid}`),
        ping(`/ping/${pingUuid}`, { body: binary, contentType: 'application/octet-stream' }),
        ping(`/ping/${other.pingUuid}`),
        ping(`/ping/${other.pingUuid}`),
      ]);
      expect(responses.map((r) => `${r.statusCode} ${r.body}`)).toEqual(['200 OK', '200 OK', '200 OK', '200 OK']);
      expect(await pingRows(id)).toMatchObject([{ n: 1, kind: 'success', body_size: 8 }]);
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 1 });
      expect(await check(other.id)).toMatchObject({ status: 'up', nPings: 3 });
    });

    it('a ping the database refuses (a NUL byte on PostgreSQL) does not fail the other pings of its batch', async () => {
      await start();
      const { pingUuid } = await createCheck();
      const other = await createCheck({ name: 'other' });
      const binary = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0x0a]);
      // Straight through the writer: the first ping occupies it, the next two share one batch.
      const input = (pingUuid: string, body: string | null) =>
        ({ pingUuid, kind: 'log', exitStatus: null, rid: null, method: 'POST', remoteAddr: null, userAgent: null, body, bodySize: body?.length ?? 0 }) as const;
      const settled = await Promise.allSettled([
        ctx.services.pings.record(input(other.pingUuid, 'first')),
        ctx.services.pings.record(input(pingUuid, binary.toString('utf8'))),
        ctx.services.pings.record(input(other.pingUuid, 'batched with the binary one')),
      ]);
      expect(settled[0]).toEqual({ status: 'fulfilled', value: 'log' });
      expect(settled[2]).toEqual({ status: 'fulfilled', value: 'log' });
      expect(await pingRows(other.id)).toMatchObject([
        { n: 1, body: 'first' },
        { n: 2, body: 'batched with the binary one' },
      ]);
    });

    it('truncates a body over PING_BODY_LIMIT_BYTES to the limit, keeps its full size, and answers 200', async () => {
      await start({ PING_BODY_LIMIT_BYTES: '1000' });
      const { id, pingUuid } = await createCheck();
      const body = 'x'.repeat(999) + 'yz' + 'z'.repeat(1499);
      const response = await ping(`/ping/${pingUuid}/fail`, { body });
      expectOk(response);
      expect(response.headers['ping-body-limit']).toBe('1000');
      const stored = await lastPing(id);
      expect(stored.body).toBe(body.slice(0, 1000));
      expect(Buffer.byteLength(stored.body!)).toBe(1000);
      expect(stored.body_size).toBe(2500);
      expect(await check(id)).toMatchObject({ status: 'down' });

      // Cut inside a two-byte character: what is kept is a prefix, within the limit.
      const accented = 'a' + 'é'.repeat(600);
      expectOk(await ping(`/ping/${pingUuid}/log`, { body: accented }));
      const cut = await lastPing(id);
      expect(cut.body_size).toBe(1201);
      expect(Buffer.byteLength(cut.body!)).toBeLessThanOrEqual(1000);
      expect(accented.startsWith(cut.body!)).toBe(true);
      expect(cut.body!.length).toBe(500);
    });

    it('reads and drops a body of several megabytes at the default limit rather than refusing it', async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      const big = Buffer.alloc(3 * 1024 * 1024, 'b');
      expectOk(await ping(`/ping/${pingUuid}`, { body: big, contentType: 'application/octet-stream' }));
      const stored = await lastPing(id);
      expect(stored.body).toBe('b'.repeat(100_000));
      expect(stored.body_size).toBe(3 * 1024 * 1024);
    });
  });

  describe('slug URLs', () => {
    it('pings by ping key and slug, creates with ?create=1 once, and refuses unknown keys and bad slugs', async () => {
      await start();
      const key = await ctx.services.heartbeats.pingKey(tenant.tenantId);
      expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(await ctx.services.heartbeats.pingKey(tenant.tenantId)).toBe(key);
      const { id } = await createCheck({ slug: 'nightly-backup' });
      const countChecks = async () => (await ctx.database.db.selectFrom('heartbeat_checks').select('monitor_id').where('tenant_id', '=', tenant.tenantId).execute()).length;

      expectOk(await ping(`/ping/${key}/nightly-backup`));
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 1 });
      expectOk(await ping(`/ping/${key}/nightly-backup/start`));
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 2 });
      expectOk(await ping(`/ping/${key}/nightly-backup/2`, { method: 'POST', body: 'oops' }));
      expect(await check(id)).toMatchObject({ status: 'down', nPings: 3 });
      expect(await lastPing(id)).toMatchObject({ kind: 'exit', exit_status: 2, body: 'oops' });
      expectAnswer(await ping(`/ping/${key}/nightly-backup/abc`), 400, 'invalid url format');

      expectAnswer(await ping(`/ping/${key}/weekly-report`), 404, 'not found');
      expectAnswer(await ping(`/ping/${key}/weekly-report?create=0`), 404, 'not found');
      expect(await countChecks()).toBe(1);

      expectAnswer(await ping(`/ping/${key}/weekly-report?create=1`), 201, 'Created'); // views.ping_by_slug
      expect(await countChecks()).toBe(2);
      const made = (await ctx.database.db.selectFrom('heartbeat_checks').select('monitor_id').where('slug', '=', 'weekly-report').executeTakeFirstOrThrow()).monitor_id;
      expect(await check(made)).toMatchObject({ name: 'weekly-report', slug: 'weekly-report', status: 'up', nPings: 1 });
      expect(await api(`/api/v1/monitors/${made}`)).toMatchObject({ kind: 'heartbeat', name: 'weekly-report', state: 'up' });
      expectOk(await ping(`/ping/${key}/weekly-report?create=1`));
      expect(await countChecks()).toBe(2);
      expect(await check(made)).toMatchObject({ nPings: 2 });
      expectOk(await ping(`/ping/${key}/nightly-backup/0?create=1`));
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 4 });

      // Another tenant's key never reaches these checks, with or without create.
      const other = await createTenantWithKey(ctx);
      const otherKey = await ctx.services.heartbeats.pingKey(other.tenantId);
      expect(otherKey).not.toBe(key);
      expectAnswer(await ping(`/ping/${otherKey}/nightly-backup`), 404, 'not found');
      expect(await check(id)).toMatchObject({ nPings: 4 });

      expectAnswer(await ping('/ping/AAAAAAAAAAAAAAAAAAAAAA/nightly-backup'), 404, 'not found');
      expectAnswer(await ping('/ping/AAAAAAAAAAAAAAAAAAAAAA/anything?create=1'), 404, 'not found');
      for (const bad of ['Nightly-Backup', 'bad.slug', 'bad%20slug', 'caf%C3%A9']) {
        expectAnswer(await ping(`/ping/${key}/${bad}?create=1`), 400, 'invalid url format');
      }
      expect(await countChecks()).toBe(2);
    });
  });

  describe('schedules and the sweep', () => {
    it('simple schedule: late at the timeout, down after the grace with an alert, up on the next ping', async () => {
      await start();
      const { id, pingUuid } = await createCheck({ timeoutSeconds: 60, graceSeconds: 30 });
      const t = ctx.clock.now();
      expectOk(await ping(`/ping/${pingUuid}`));
      const upEvents = (await events(id)).length;

      ctx.clock.set(t + 59_999);
      expect(await sweep()).toBe(0);
      expect(await check(id)).toMatchObject({ status: 'up' });

      ctx.clock.set(t + 60_000);
      expect(await sweep()).toBe(1);
      expect(await check(id)).toMatchObject({ status: 'grace', deadlineAt: t + 90_000, alertAfter: t + 90_000 });
      expect(await monitorState(id)).toBe('up');
      expect(await events(id)).toHaveLength(upEvents);
      expect(await sweep()).toBe(0);

      ctx.clock.set(t + 89_999);
      expect(await sweep()).toBe(0);
      ctx.clock.set(t + 90_000);
      expect(await sweep()).toBe(1);
      expect(await check(id)).toMatchObject({ status: 'down', deadlineAt: null, alertAfter: null });
      expect(await monitorState(id)).toBe('down');
      const [incident] = await incidents(id);
      expect(incident).toMatchObject({ state: 'open', reason: `no ping since ${iso(t)}` });
      const [down] = await events(id);
      expect(down).toMatchObject({ to_state: 'down', from_state: 'up', monitor_kind: 'heartbeat', at: iso(t + 90_000), incident_id: incident!.id });
      expect(down!.reason).toMatch(/^no ping since /);
      ctx.clock.advance(3_600_000);
      expect(await sweep()).toBe(0);

      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await check(id)).toMatchObject({ status: 'up', deadlineAt: ctx.clock.now() + 60_000 });
      expect(await monitorState(id)).toBe('up');
      expect((await incidents(id))[0]).toMatchObject({ state: 'resolved' });
    });

    it('a start with no end is down after the grace, saying it did not finish', async () => {
      await start();
      const { id, pingUuid } = await createCheck({ timeoutSeconds: 3600, graceSeconds: 30 });
      expectOk(await ping(`/ping/${pingUuid}`));
      ctx.clock.advance(1000);
      const t = ctx.clock.now();
      expectOk(await ping(`/ping/${pingUuid}/start`));
      ctx.clock.set(t + 29_999);
      expect(await sweep()).toBe(0);
      expect(await check(id)).toMatchObject({ status: 'up', lastStartAt: t });
      ctx.clock.set(t + 30_000);
      expect(await sweep()).toBe(1);
      expect(await check(id)).toMatchObject({ status: 'down' });
      expect(await monitorState(id)).toBe('down');
      expect((await events(id))[0]!.reason).toContain('did not finish');
    });

    it('a start never postpones an alert already due: down at min(expected + grace, start + grace)', async () => {
      await start();
      const { id, pingUuid } = await createCheck({ timeoutSeconds: 60, graceSeconds: 30 });
      const t0 = ctx.clock.now();
      expectOk(await ping(`/ping/${pingUuid}`)); // expected at t0 + 60 s, down at t0 + 90 s
      ctx.clock.set(t0 + 50_000);
      expectOk(await ping(`/ping/${pingUuid}/start`)); // must end by t0 + 80 s: sooner
      expect(await check(id)).toMatchObject({ status: 'up', alertAfter: t0 + 80_000 });
      ctx.clock.set(t0 + 70_000);
      expectOk(await ping(`/ping/${pingUuid}/start`)); // a second start, late: t0 + 80 s still stands
      expect(await check(id)).toMatchObject({ status: 'up', alertAfter: t0 + 80_000 });
      ctx.clock.set(t0 + 79_999);
      expect(await sweep()).toBe(1); // late since t0 + 60 s (the start changes no status)
      expect(await check(id)).toMatchObject({ status: 'grace' });
      ctx.clock.set(t0 + 80_000);
      expect(await sweep()).toBe(1);
      expect(await check(id)).toMatchObject({ status: 'down' });

      // A job that starts after it was expected (in grace) still alerts at expected + grace.
      const late = await createCheck({ name: 'late job', timeoutSeconds: 60, graceSeconds: 30 });
      const t1 = ctx.clock.now();
      expectOk(await ping(`/ping/${late.pingUuid}`));
      ctx.clock.set(t1 + 70_000);
      await sweep();
      expect(await check(late.id)).toMatchObject({ status: 'grace' });
      expectOk(await ping(`/ping/${late.pingUuid}/start`));
      expect(await check(late.id)).toMatchObject({ status: 'grace', alertAfter: t1 + 90_000 });
      // A new check has no deadline yet: its first start gives it start + grace.
      const fresh = await createCheck({ name: 'fresh job', timeoutSeconds: 60, graceSeconds: 30 });
      expectOk(await ping(`/ping/${fresh.pingUuid}/start`));
      expect(await check(fresh.id)).toMatchObject({ status: 'new', alertAfter: ctx.clock.now() + 30_000 });
    });

    it('cron in Europe/Paris follows the spring-forward and fall-back days', async () => {
      await start();
      const { id, pingUuid } = await createCheck({ schedule: '0 9 * * *', tz: 'Europe/Paris', graceSeconds: 3600 });
      ctx.clock.set(at('2026-03-28T08:00:00Z')); // 09:00 CET
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await check(id)).toMatchObject({ deadlineAt: at('2026-03-29T07:00:00Z'), alertAfter: at('2026-03-29T08:00:00Z') }); // 09:00 CEST
      ctx.clock.set(at('2026-03-29T06:59:59.999Z'));
      expect(await sweep()).toBe(0);
      ctx.clock.set(at('2026-03-29T07:00:00Z'));
      expect(await sweep()).toBe(1);
      expect(await check(id)).toMatchObject({ status: 'grace' });
      ctx.clock.set(at('2026-03-29T07:20:00Z'));
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await check(id)).toMatchObject({ status: 'up', deadlineAt: at('2026-03-30T07:00:00Z') });

      ctx.clock.set(at('2026-10-24T07:00:00Z')); // 09:00 CEST
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await check(id)).toMatchObject({ deadlineAt: at('2026-10-25T08:00:00Z'), alertAfter: at('2026-10-25T09:00:00Z') }); // 09:00 CET
      ctx.clock.set(at('2026-10-25T08:00:00Z'));
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await check(id)).toMatchObject({ deadlineAt: at('2026-10-26T08:00:00Z') });
    });

    it('cron in America/New_York expects 02:30 once on the day it does not exist', async () => {
      await start();
      const { id, pingUuid } = await createCheck({ schedule: '30 2 * * *', tz: 'America/New_York', graceSeconds: 600 });
      ctx.clock.set(at('2026-03-07T07:30:00Z')); // 02:30 EST
      expectOk(await ping(`/ping/${pingUuid}`));
      // 02:30 is skipped on 2026-03-08 (02:00 EST → 03:00 EDT): croner runs at 03:00 EDT that day.
      const expected = (await check(id)).deadlineAt!;
      expect(expected).toBe(at('2026-03-08T07:00:00Z'));
      expect(new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', dateStyle: 'short' }).format(expected)).toBe('2026-03-08');
      ctx.clock.set(expected - 1);
      expect(await sweep()).toBe(0);
      ctx.clock.set(expected);
      expect(await sweep()).toBe(1);
      expect(await check(id)).toMatchObject({ status: 'grace' });
      ctx.clock.set(expected + 60_000);
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await check(id)).toMatchObject({ status: 'up', deadlineAt: at('2026-03-09T06:30:00Z') }); // 02:30 EDT
    });
  });

  describe('paused checks', () => {
    it('a ping resumes a paused check, its flip history a chain', async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      expectOk(await ping(`/ping/${pingUuid}`));
      ctx.clock.advance(1000);
      await ctx.services.heartbeats.pause(tenant.tenantId, id);
      expect(await check(id)).toMatchObject({ status: 'paused', deadlineAt: null, alertAfter: null });
      expect(await monitorState(id)).toBe('paused');
      ctx.clock.advance(10_000);
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 2, lastPingAt: ctx.clock.now(), deadlineAt: ctx.clock.now() + 60_000 });
      expect(await api(`/api/v1/monitors/${id}`)).toMatchObject({ state: 'up', is_active: true });
      // Each flip starts from the state the previous one ended in (as monitors.resume records it).
      const flips = await ctx.database.db.selectFrom('monitor_flips').select(['from_state', 'to_state']).where('monitor_id', '=', id).orderBy('at').execute();
      expect(flips.slice(0, 2)).toEqual([
        { from_state: 'pending', to_state: 'up' },
        { from_state: 'up', to_state: 'paused' },
      ]);
      expect(flips.at(-1)!.to_state).toBe('up');
      flips.slice(1).forEach((flip, i) => expect(flip.from_state, JSON.stringify(flips)).toBe(flips[i]!.to_state));
    });

    it('with manual_resume a ping is stored as ignored (ign) and the check stays paused until resumed', async () => {
      await start();
      const { id, pingUuid } = await createCheck({ manualResume: true });
      expectOk(await ping(`/ping/${pingUuid}`));
      await ctx.services.heartbeats.pause(tenant.tenantId, id);
      ctx.clock.advance(10_000);
      expectOk(await ping(`/ping/${pingUuid}`));
      expectOk(await ping(`/ping/${pingUuid}/fail`));
      expect(await pingRows(id)).toMatchObject([{ n: 1 }, { n: 2, kind: 'ign' }, { n: 3, kind: 'ign' }]);
      expect(await check(id)).toMatchObject({ status: 'paused', nPings: 3, deadlineAt: null, alertAfter: null });
      expect(await monitorState(id)).toBe('paused');
      ctx.clock.advance(86_400_000);
      expect(await sweep()).toBe(0);
      expect(await check(id)).toMatchObject({ status: 'paused' });
      expect(await events(id)).toEqual([]);

      await ctx.services.heartbeats.resume(tenant.tenantId, id);
      expect(await check(id)).toMatchObject({ status: 'new' });
      expect(await monitorState(id)).toBe('pending');
      expectOk(await ping(`/ping/${pingUuid}`));
      expect(await check(id)).toMatchObject({ status: 'up', nPings: 4 });
      expect(await monitorState(id)).toBe('up');
    });
  });

  describe('alerting', () => {
    it('a missed deadline reaches a webhook as a heartbeat going down, and the next ping as its recovery', async () => {
      await start();
      const channel = await api('/api/v1/channels', 'POST', { name: 'ops hook', kind: 'webhook', config: { url: `${standIn.base}/hook` } });
      await api('/api/v1/settings', 'PATCH', { alert_grouping_enabled: false });
      const { id, pingUuid } = await createCheck({ name: 'db dump' });
      const t = ctx.clock.now();
      expectOk(await ping(`/ping/${pingUuid}`));
      ctx.clock.set(t + 60_000);
      await sweep(); // grace: nothing to send
      ctx.clock.set(t + 90_000);
      expect(await sweep()).toBe(1);

      await ctx.services.alertRouter.routeBatch();
      await ctx.services.delivery.deliverDue();
      expect(standIn.recorded).toHaveLength(1);
      const [request] = standIn.recorded;
      expect(request).toMatchObject({ method: 'POST', url: '/hook' });
      expect(request!.headers['content-type']).toMatch(/^application\/json/);
      const flip = await ctx.database.db.selectFrom('monitor_flips').select('id').where('monitor_id', '=', id).where('to_state', '=', 'down').executeTakeFirstOrThrow();
      expect(request!.headers['x-vigie-idempotency-key']).toBe(`${flip.id}:${channel.id}`);
      const body = JSON.parse(request!.body);
      expect(body.items).toHaveLength(1);
      expect(body.items[0]).toMatchObject({
        monitor_id: id,
        monitor_name: 'db dump',
        monitor_kind: 'heartbeat',
        from_state: 'up',
        to_state: 'down',
        reason: `no ping since ${iso(t)}`,
        at: iso(t + 90_000),
      });

      ctx.clock.advance(5000);
      expectOk(await ping(`/ping/${pingUuid}`));
      await ctx.services.alertRouter.routeBatch();
      await ctx.services.delivery.deliverDue();
      expect(standIn.recorded).toHaveLength(2);
      expect(JSON.parse(standIn.recorded[1]!.body).items[0]).toMatchObject({ monitor_id: id, monitor_kind: 'heartbeat', from_state: 'down', to_state: 'up', down_for_ms: 5000 });
    });
  });

  describe('rate limits', () => {
    const MINUTE = 60_000;
    /** Seconds left in the clock's current minute, as Retry-After gives them. */
    const secondsToNextMinute = () => Math.ceil((MINUTE - (ctx.clock.now() % MINUTE)) / 1000);
    const refusedCount = async (reason: string) => {
      const exposition = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
      const line = exposition.split('\n').find((l) => l.startsWith(`vigie_pings_refused_total{reason="${reason}"}`));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    function expectRefused(response: LightMyRequestResponse) {
      expectAnswer(response, 429, 'rate limit exceeded');
      expect(response.headers['retry-after']).toBe(String(secondsToNextMinute()));
    }

    it('refuses pings past PING_RATE_LIMIT_PER_MINUTE for one check with 429 and Retry-After, stores none of them, and takes them again the next minute', async () => {
      await start({ PING_RATE_LIMIT_PER_MINUTE: '3' });
      ctx.clock.advance(20_000);
      const key = await ctx.services.heartbeats.pingKey(tenant.tenantId);
      const busy = await createCheck({ slug: 'busy' });
      const quiet = await createCheck({ name: 'quiet' });

      expectOk(await ping(`/ping/${busy.pingUuid}/start`));
      expectOk(await ping(`/ping/${busy.pingUuid}`));
      expectOk(await ping(`/ping/${busy.pingUuid}/log`, { body: 'third' }));
      expectRefused(await ping(`/ping/${busy.pingUuid}/fail`, { body: 'refused' }));
      expectRefused(await ping(`/ping/${busy.pingUuid}`, { from: '10.0.0.7' })); // per check, whoever sends it
      expect((await pingRows(busy.id)).map((r) => r.kind)).toEqual(['start', 'success', 'log']);
      expect(await check(busy.id)).toMatchObject({ status: 'up', nPings: 3 });
      expect(await refusedCount('check_rate')).toBe(2);

      // The check's slug URL shares its count; another check has its own.
      expectRefused(await ping(`/ping/${key}/busy/fail`));
      for (let i = 0; i < 3; i++) expectOk(await ping(`/ping/${quiet.pingUuid}`));
      expectRefused(await ping(`/ping/${quiet.pingUuid}`));
      expect(await check(busy.id)).toMatchObject({ nPings: 3, status: 'up' });
      expect(await refusedCount('check_rate')).toBe(4);

      ctx.clock.advance(secondsToNextMinute() * 1000);
      expectOk(await ping(`/ping/${key}/busy/fail`));
      expect(await check(busy.id)).toMatchObject({ nPings: 4, status: 'down' });
    });

    it('an address past PING_MISS_RATE_LIMIT_PER_MINUTE unknown or malformed ping URLs gets 429 for its misses until the minute ends; its pings to existing checks still count', async () => {
      await start({ PING_MISS_RATE_LIMIT_PER_MINUTE: '3' });
      const key = await ctx.services.heartbeats.pingKey(tenant.tenantId);
      const { id, pingUuid } = await createCheck({ slug: 'nightly' });
      const scanner = '203.0.113.9';

      expectOk(await ping(`/ping/${pingUuid}`, { from: scanner })); // a ping that finds its check is no miss
      expectAnswer(await ping(`/ping/${randomUUID()}`, { from: scanner }), 404, 'not found');
      expectAnswer(await ping('/ping/not-a-uuid', { from: scanner }), 400, 'invalid url format');
      expectAnswer(await ping(`/ping/${key}/no-such-slug`, { from: scanner }), 404, 'not found');
      expectRefused(await ping(`/ping/${randomUUID()}`, { from: scanner }));
      expectRefused(await ping('/ping/not-a-uuid/either', { from: scanner }));
      // One address may be a NAT or proxy in front of many hosts: a valid ping always gets through.
      expectOk(await ping(`/ping/${pingUuid}`, { from: scanner }));
      expectOk(await ping(`/ping/${key}/nightly/fail`, { from: scanner }));
      expectRefused(await ping(`/ping/${key}/no-such-slug`, { from: scanner }));
      expectOk(await ping(`/ping/${pingUuid}`, { from: '203.0.113.10' }));
      expectAnswer(await ping(`/ping/${randomUUID()}`, { from: '203.0.113.10' }), 404, 'not found');
      expect(await check(id)).toMatchObject({ nPings: 4, status: 'up' });
      expect((await pingRows(id)).map((r) => r.kind)).toEqual(['success', 'success', 'fail', 'success']);
      expect(await refusedCount('client_misses')).toBe(3);

      ctx.clock.advance(secondsToNextMinute() * 1000);
      expectAnswer(await ping(`/ping/${randomUUID()}`, { from: scanner }), 404, 'not found');
      expectOk(await ping(`/ping/${pingUuid}`, { from: scanner }));
      expect(await check(id)).toMatchObject({ nPings: 5 });
    });
  });

  describe('concurrency', () => {
    it('acknowledges 200 concurrent pings only once stored: n = 1..200, none lost', async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      const other = await createCheck({ name: 'other' });
      const responses = await Promise.all(Array.from({ length: 250 }, (_, i) => (i % 5 === 4 ? ping(`/ping/${other.pingUuid}/log`, { body: `o${i}` }) : ping(`/ping/${pingUuid}`, { body: `p${i}` }))));
      for (const response of responses) expectOk(response);
      const rows = await pingRows(id);
      expect(rows).toHaveLength(200);
      expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.body)).size).toBe(200);
      expect(await check(id)).toMatchObject({ nPings: 200, status: 'up' });
      expect((await pingRows(other.id)).map((r) => r.n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await check(other.id)).toMatchObject({ nPings: 50 });
    });

    it(`keeps the last ${PINGS_KEPT} pings of a check, and its count`, async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      const input = { pingUuid, kind: 'success', exitStatus: null, rid: null, method: 'GET', remoteAddr: null, userAgent: null, body: null, bodySize: 0 } as const;
      const total = PINGS_KEPT + 150;
      const outcomes = await Promise.all(Array.from({ length: total }, () => ctx.services.pings.record(input)));
      expect(new Set(outcomes)).toEqual(new Set(['success']));
      const ns = (await pingRows(id)).map((r) => r.n);
      // Pruned when n reached the last multiple of 100: at most 99 more than PINGS_KEPT are kept.
      const prunedAt = Math.floor(total / 100) * 100;
      expect(ns[0]).toBe(prunedAt - PINGS_KEPT + 1);
      expect(ns.at(-1)).toBe(total);
      expect(ns).toEqual(Array.from({ length: total - prunedAt + PINGS_KEPT }, (_, i) => prunedAt - PINGS_KEPT + 1 + i));
      expect(await check(id)).toMatchObject({ nPings: total });
    });

    it('a success on a check that is up writes no result row; changes of state still do', async () => {
      await start();
      const { id, pingUuid } = await createCheck();
      // The core's result rows (the ping's history, /results, is its pings: see below).
      const results = () => checkResultsHistory().latest(ctx.database.db, id, { limit: 100 });
      expectOk(await ping(`/ping/${pingUuid}`)); // pending → up: a result and a flip
      expect((await results()).map((r) => r.status)).toEqual(['up']);
      for (let i = 0; i < 3; i++) expectOk(await ping(`/ping/${pingUuid}`));
      expect(await results()).toHaveLength(1);
      const history = (await api(`/api/v1/monitors/${id}/results`)) as Record<string, any>[];
      expect(history.map((r) => [r.status, r.source, r.message])).toEqual(Array.from({ length: 4 }, () => ['up', 'ping', 'ping received']));
      const monitor = await api(`/api/v1/monitors/${id}`);
      expect(monitor).toMatchObject({ state: 'up', last_checked_at: iso(ctx.clock.now()) });
      expectOk(await ping(`/ping/${pingUuid}/fail`)); // up → down
      expectOk(await ping(`/ping/${pingUuid}`)); // down → up
      expect((await results()).map((r) => r.status)).toEqual(['up', 'down', 'up']);
      expect((await pingRows(id)).map((r) => r.kind)).toEqual(['success', 'success', 'success', 'success', 'fail', 'success']);
    });
  });
});
