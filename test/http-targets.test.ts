/**
 * Seed 000's /api/v1/http-targets on every dialect: creation with its defaults, the 409 on a
 * duplicate URL (also under a race of concurrent requests), validation, list/get/patch/delete,
 * write-only credentials, the manual check against a real local server with the state machine's
 * threshold, incident and recovery, and read-only keys.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DUPLICATE = 'An HTTP target with this URL already exists for this client.';

function expectJsonError(response: LightMyRequestResponse, status: number, detail: unknown) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.json()).toEqual({ detail });
}

/** A local target: /status/NNN answers NNN; /switch answers whatever the test last set. */
const target = {
  server: undefined as Server | undefined,
  base: '',
  switchStatus: 200,
  requests: [] as { method: string; url: string; authorization: string | undefined }[],
};

beforeAll(async () => {
  target.server = createServer((request: IncomingMessage, response) => {
    target.requests.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization });
    const status = /^\/status\/(\d{3})$/.exec(request.url ?? '');
    const code = status ? Number(status[1]) : request.url === '/switch' ? target.switchStatus : 200;
    response.writeHead(code, { 'content-type': 'text/plain' }).end(`answered ${code}`);
  });
  await new Promise<void>((resolve) => target.server!.listen(0, '127.0.0.1', resolve));
  target.base = `http://127.0.0.1:${(target.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  target.server?.closeAllConnections();
  await new Promise<void>((resolve) => target.server?.close(() => resolve()));
});

describe.each(TEST_DIALECTS)('HTTP target routes on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function start() {
    ctx = await createTestApp(dialect);
    const tenant = await createTenantWithKey(ctx);
    const headers = { 'x-api-key': tenant.apiKey };
    const app = ctx.app;
    const api = {
      post: (payload: unknown, h: Record<string, string> = headers) => app.inject({ method: 'POST', url: '/api/v1/http-targets', headers: h, payload: payload as object }),
      list: (h: Record<string, string> = headers) => app.inject({ method: 'GET', url: '/api/v1/http-targets', headers: h }),
      get: (id: string, h: Record<string, string> = headers) => app.inject({ method: 'GET', url: `/api/v1/http-targets/${id}`, headers: h }),
      patch: (id: string, payload: unknown, h: Record<string, string> = headers) => app.inject({ method: 'PATCH', url: `/api/v1/http-targets/${id}`, headers: h, payload: payload as object }),
      remove: (id: string, h: Record<string, string> = headers) => app.inject({ method: 'DELETE', url: `/api/v1/http-targets/${id}`, headers: h }),
      check: (id: string, h: Record<string, string> = headers) => app.inject({ method: 'POST', url: `/api/v1/http-targets/${id}/check`, headers: h }),
    };
    return { ctx, tenant, headers, api };
  }

  async function created(response: LightMyRequestResponse): Promise<string> {
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(Object.keys(body)).toEqual(['id']);
    expect(body.id).toMatch(UUID);
    return body.id as string;
  }

  it("creates a target from seed 000's exact payload: 201 with only its id, then readable", async () => {
    const { ctx, api } = await start();
    const url = `${target.base}/status/500`;
    const response = await api.post({
      name: 'Httpbin 500 (via API)',
      url,
      method: 'GET',
      expected_status_code: 200,
      timeout_seconds: 10,
      check_interval_seconds: 60,
      is_active: true,
    });
    const id = await created(response);
    expect(response.json()).toEqual({ id });

    const got = await api.get(id);
    expect(got.statusCode).toBe(200);
    const createdAt = new Date(ctx.clock.now()).toISOString();
    expect(got.json()).toEqual({
      id,
      name: 'Httpbin 500 (via API)',
      url,
      method: 'GET',
      expected_status_code: 200,
      timeout_seconds: 10,
      check_interval_seconds: 60,
      is_active: true,
      tags: [],
      headers: {},
      body: null,
      auth: null,
      follow_redirects: true,
      tls_skip_verify: false,
      assertions: [],
      failure_threshold: null,
      recovery_threshold: 1,
      state: 'pending',
      last_checked_at: null,
      created_at: createdAt,
      updated_at: createdAt,
    });
  });

  it('fills the defaults when only a name and a URL are given', async () => {
    const { ctx, api, headers } = await start();
    const id = await created(await api.post({ name: 'Minimal', url: `${target.base}/status/200` }));
    const got = (await api.get(id)).json();
    expect(got).toMatchObject({
      name: 'Minimal',
      url: `${target.base}/status/200`,
      method: 'GET',
      expected_status_code: 200,
      timeout_seconds: 10,
      check_interval_seconds: 60,
      is_active: true,
      follow_redirects: true,
      tls_skip_verify: false,
      state: 'pending',
    });
    // The generic monitor view agrees.
    const monitor = (await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}`, headers })).json();
    expect(monitor).toMatchObject({ id, kind: 'http', name: 'Minimal', interval_seconds: 60, is_active: true, state: 'pending' });
  });

  it('the same URL again is a 409 naming the first target; the same URL in another tenant is fine', async () => {
    const { ctx, api } = await start();
    const url = `${target.base}/status/200`;
    const first = await created(await api.post({ name: 'First', url }));
    const again = await api.post({ name: 'Second, same URL', url, method: 'HEAD' });
    expectJsonError(again, 409, { message: DUPLICATE, existing_id: first });
    expect((await api.list()).json().map((t: { id: string }) => t.id)).toEqual([first]);

    const other = await createTenantWithKey(ctx);
    const otherHeaders = { 'x-api-key': other.apiKey };
    const second = await created(await api.post({ name: 'Other tenant', url }, otherHeaders));
    expect(second).not.toBe(first);
    expect((await api.list(otherHeaders)).json().map((t: { id: string }) => t.id)).toEqual([second]);
    // Neither tenant sees the other's target.
    expectJsonError(await api.get(second), 404, 'HTTP target not found');
    expectJsonError(await api.get(first, otherHeaders), 404, 'HTTP target not found');
    expectJsonError(await api.patch(first, { name: 'hijacked' }, otherHeaders), 404, 'HTTP target not found');
    expectJsonError(await api.check(first, otherHeaders), 404, 'HTTP target not found');
    expectJsonError(await api.remove(first, otherHeaders), 404, 'HTTP target not found');
    expect((await api.get(first)).json()).toMatchObject({ id: first, name: 'First', last_checked_at: null });
  });

  it('10 concurrent creations of one URL: exactly one 201 and nine 409 naming it', async () => {
    const { api } = await start();
    const url = `${target.base}/status/200?race=1`;
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => api.post({ name: `Racer ${i}`, url })));
    const winners = responses.filter((r) => r.statusCode === 201);
    const losers = responses.filter((r) => r.statusCode === 409);
    expect(responses.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    expect(winners).toHaveLength(1);
    const id = winners[0]!.json().id as string;
    expect(id).toMatch(UUID);
    for (const loser of losers) expect(loser.json()).toEqual({ detail: { message: DUPLICATE, existing_id: id } });

    const list = (await api.list()).json();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id, url });
  });

  it('422 for a URL that is not http(s), or not a URL, with pydantic wording at body.url', async () => {
    const { api } = await start();
    const ftp = await api.post({ name: 'FTP', url: 'ftp://example.com' });
    expect(ftp.statusCode).toBe(422);
    expect(ftp.json().detail).toContainEqual({ loc: ['body', 'url'], msg: "URL scheme should be 'http' or 'https'", type: 'url_scheme' });
    expectJsonError(ftp, 422, [{ loc: ['body', 'url'], msg: "URL scheme should be 'http' or 'https'", type: 'url_scheme' }]);

    expectJsonError(await api.post({ name: 'Garbage', url: 'not a url' }), 422, [{ loc: ['body', 'url'], msg: 'Input should be a valid URL', type: 'url_parsing' }]);
    expect((await api.list()).json()).toEqual([]);
  });

  it('422 for an interval under 10 s, an unknown field, a missing name, and an assertion without its field', async () => {
    const { api } = await start();
    const url = `${target.base}/status/200`;

    const fast = await api.post({ name: 'Too often', url, check_interval_seconds: 5 });
    expectJsonError(fast, 422, [{ loc: ['body', 'check_interval_seconds'], msg: 'Value must be >= 10', type: 'minimum' }]);

    const extra = await api.post({ name: 'Typo', url, check_interval: 60 });
    expectJsonError(extra, 422, [{ loc: ['body', 'check_interval'], msg: 'Extra field not permitted', type: 'extra_forbidden' }]);

    expectJsonError(await api.post({ url }), 422, [{ loc: ['body', 'name'], msg: 'Field required', type: 'missing' }]);

    const noValues = await api.post({ name: 'Assert', url, assertions: [{ type: 'status_in' }] });
    expectJsonError(noValues, 422, [{ loc: ['body', 'assertions', 0, 'values'], msg: 'Field required for a status_in assertion', type: 'missing' }]);

    const noPattern = await api.post({
      name: 'Assert',
      url,
      assertions: [
        { type: 'body_contains', value: 'ok' },
        { type: 'json_path_matches', path: '$.status' },
      ],
    });
    expectJsonError(noPattern, 422, [{ loc: ['body', 'assertions', 1, 'pattern'], msg: 'Field required for a json_path_matches assertion', type: 'missing' }]);

    // Headers the probe could never send are refused up front, not failed on every check.
    expectJsonError(await api.post({ name: 'Header', url, headers: { 'bad header': 'x' } }), 422, [{ loc: ['body', 'headers', 'bad header'], msg: 'Invalid HTTP header name', type: 'value_error' }]);
    expectJsonError(await api.post({ name: 'Header', url, headers: { 'x-ok': 'tab\tis fine', 'x-split': 'a\r\nx-injected: 1' } }), 422, [
      { loc: ['body', 'headers', 'x-split'], msg: 'HTTP header value must not contain control characters', type: 'value_error' },
    ]);

    const unknownType = await api.post({ name: 'Assert', url, assertions: [{ type: 'body_length_under', value: 3 }] });
    expect(unknownType.statusCode).toBe(422);
    expect(unknownType.json().detail.map((d: { loc: unknown }) => d.loc)).toEqual([['body', 'assertions', 0, 'type']]);

    expect((await api.list()).json()).toEqual([]);
  });

  it('list, get, patch (keeping what is not given), patch to a taken URL (409), delete then 404', async () => {
    const { ctx, api } = await start();
    const a = await created(
      await api.post({
        name: 'A',
        url: `${target.base}/status/200?a`,
        method: 'POST',
        headers: { 'x-trace': 'abc' },
        body: '{"ping":1}',
        tags: ['prod', 'api'],
        assertions: [{ type: 'body_contains', value: 'answered' }],
      }),
    );
    const b = await created(await api.post({ name: 'B', url: `${target.base}/status/200?b`, is_active: false }));

    const list = (await api.list()).json() as { id: string; name: string; is_active: boolean; state: string }[];
    expect(list.map((t) => [t.id, t.name, t.is_active, t.state]).sort()).toEqual(
      [
        [a, 'A', true, 'pending'],
        [b, 'B', false, 'paused'],
      ].sort(),
    );

    const before = (await api.get(a)).json();
    expect(before).toMatchObject({
      method: 'POST',
      headers: { 'x-trace': 'abc' },
      body: '{"ping":1}',
      assertions: [{ type: 'body_contains', value: 'answered' }],
    });
    expect([...before.tags].sort()).toEqual(['api', 'prod']);

    ctx.clock.advance(60_000);
    const patched = await api.patch(a, { name: 'A renamed', timeout_seconds: 5 });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toEqual({ ...before, name: 'A renamed', timeout_seconds: 5, updated_at: new Date(ctx.clock.now()).toISOString() });
    expect((await api.get(a)).json()).toEqual(patched.json());

    const clash = await api.patch(a, { url: `${target.base}/status/200?b` });
    expectJsonError(clash, 409, { message: DUPLICATE, existing_id: b });
    expect((await api.get(a)).json().url).toBe(`${target.base}/status/200?a`);

    // Patching to its own URL is not a clash.
    expect((await api.patch(a, { url: `${target.base}/status/200?a` })).statusCode).toBe(200);

    expectJsonError(await api.patch(a, {}), 422, [{ loc: ['body'], msg: 'Value must NOT have fewer than 1 properties', type: 'minProperties' }]);
    expectJsonError(await api.patch(a, { headers: { 'a:b': '1' } }), 422, [{ loc: ['body', 'headers', 'a:b'], msg: 'Invalid HTTP header name', type: 'value_error' }]);
    expectJsonError(await api.patch(a, { url: 'ftp://example.com' }), 422, [{ loc: ['body', 'url'], msg: "URL scheme should be 'http' or 'https'", type: 'url_scheme' }]);

    const deleted = await api.remove(a);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expectJsonError(await api.get(a), 404, 'HTTP target not found');
    expectJsonError(await api.remove(a), 404, 'HTTP target not found');
    expectJsonError(await api.patch(a, { name: 'ghost' }), 404, 'HTTP target not found');
    expectJsonError(await api.check(a), 404, 'HTTP target not found');
    expect((await api.list()).json().map((t: { id: string }) => t.id)).toEqual([b]);

    // The URL is free again.
    await created(await api.post({ name: 'A again', url: `${target.base}/status/200?a` }));
    expectJsonError(await api.get(randomUUID()), 404, 'HTTP target not found');
  });

  it('credentials are write-only: the password and token never come back', async () => {
    const { api } = await start();
    const password = 'pa55-w0rd-never-shown';
    const token = 'tok-never-shown-0123456789';
    const basic = await created(await api.post({ name: 'Basic', url: `${target.base}/status/200?basic`, auth: { type: 'basic', username: 'alice', password } }));
    const bearer = await created(await api.post({ name: 'Bearer', url: `${target.base}/status/200?bearer`, auth: { type: 'bearer', token } }));

    const got = await api.get(basic);
    expect(got.json().auth).toEqual({ type: 'basic', username: 'alice' });
    expect(got.body).not.toContain(password);
    expect((await api.get(bearer)).json().auth).toEqual({ type: 'bearer' });
    const list = await api.list();
    expect(list.body).not.toContain(password);
    expect(list.body).not.toContain(token);

    const patched = await api.patch(basic, { name: 'Basic renamed' });
    expect(patched.json().auth).toEqual({ type: 'basic', username: 'alice' });
    expect(patched.body).not.toContain(password);

    // The stored password is still used by the check.
    const check = await api.check(basic);
    expect(check.statusCode).toBe(200);
    expect(check.body).not.toContain(password);
    const received = target.requests.filter((r) => r.url === '/status/200?basic');
    expect(received.at(-1)!.authorization).toBe(`Basic ${Buffer.from(`alice:${password}`).toString('base64')}`);

    // A PATCH that leaves the secret out (as a client that sends back what it read) keeps it.
    const renamedUser = await api.patch(basic, { auth: { type: 'basic', username: 'bob' } });
    expect(renamedUser.statusCode, renamedUser.body).toBe(200);
    expect(renamedUser.json().auth).toEqual({ type: 'basic', username: 'bob' });
    await api.check(basic);
    expect(target.requests.filter((r) => r.url === '/status/200?basic')).toHaveLength(received.length + 1);
    expect(target.requests.filter((r) => r.url === '/status/200?basic').at(-1)!.authorization).toBe(`Basic ${Buffer.from(`bob:${password}`).toString('base64')}`);
    expect((await api.patch(bearer, { auth: { type: 'bearer' } })).statusCode).toBe(200);
    await api.check(bearer);
    expect(target.requests.filter((r) => r.url === '/status/200?bearer').at(-1)!.authorization).toBe(`Bearer ${token}`);

    // Switching type needs the new secret.
    expectJsonError(await api.patch(basic, { auth: { type: 'bearer' } }), 422, [{ loc: ['body', 'auth', 'token'], msg: 'Field required for bearer auth', type: 'missing' }]);
    expect((await api.get(basic)).json().auth).toEqual({ type: 'basic', username: 'bob' });

    // Auth can be removed.
    expect((await api.patch(basic, { auth: null })).json().auth).toBeNull();
    await api.check(basic);
    expect(target.requests.filter((r) => r.url === '/status/200?basic').at(-1)!.authorization).toBeUndefined();
  });

  it('a credential without its secret is refused on creation', async () => {
    const { api } = await start();
    const url = `${target.base}/status/200?nosecret`;
    expectJsonError(await api.post({ name: 'No token', url, auth: { type: 'bearer' } }), 422, [{ loc: ['body', 'auth', 'token'], msg: 'Field required for bearer auth', type: 'missing' }]);
    expectJsonError(await api.post({ name: 'No password', url, auth: { type: 'basic', username: 'alice' } }), 422, [
      { loc: ['body', 'auth', 'password'], msg: 'Field required for basic auth', type: 'missing' },
    ]);
    const extra = await api.post({ name: 'Extra', url, auth: { type: 'bearer', token: 't', scheme: 'x' } });
    expect(extra.statusCode).toBe(422);
    expect(extra.json().detail).toContainEqual({ loc: ['body', 'auth', 'scheme'], msg: 'Extra field not permitted', type: 'extra_forbidden' });
    expect((await api.list()).json()).toEqual([]);
  });

  it('is_active false pauses the monitor (no next check), true resumes it as pending; a new interval reschedules', async () => {
    const { ctx, api, headers } = await start();
    const id = await created(await api.post({ name: 'Toggle', url: `${target.base}/status/200?toggle` }));
    const monitor = async () => (await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}`, headers })).json();
    const createdAt = new Date(ctx.clock.now()).toISOString();
    expect(await monitor()).toMatchObject({ is_active: true, state: 'pending', next_due_at: createdAt });

    ctx.clock.advance(5_000);
    expect((await api.patch(id, { is_active: false })).json()).toMatchObject({ is_active: false, state: 'paused' });
    expect(await monitor()).toMatchObject({ is_active: false, state: 'paused', next_due_at: null });

    ctx.clock.advance(5_000);
    const resumedAt = new Date(ctx.clock.now()).toISOString();
    expect((await api.patch(id, { is_active: true })).json()).toMatchObject({ is_active: true, state: 'pending' });
    expect(await monitor()).toMatchObject({ is_active: true, state: 'pending', next_due_at: resumedAt });

    ctx.clock.advance(5_000);
    const changedAt = new Date(ctx.clock.now()).toISOString();
    expect((await api.patch(id, { check_interval_seconds: 300 })).json()).toMatchObject({ check_interval_seconds: 300 });
    expect(await monitor()).toMatchObject({ interval_seconds: 300, next_due_at: changedAt });
  });

  it('check now: a 500 is down; with threshold 2 the monitor is pending, then down with an open incident, then up and resolved', async () => {
    const { ctx, api, headers } = await start();
    const settings = await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers, payload: { consecutive_failures_threshold: 2 } });
    expect(settings.json().consecutive_failures_threshold).toBe(2);

    target.switchStatus = 500;
    const id = await created(await api.post({ name: 'Switch', url: `${target.base}/switch` }));
    const incidents = async (state?: 'open' | 'resolved') =>
      (await ctx.app.inject({ method: 'GET', url: `/api/v1/incidents${state ? `?state=${state}` : ''}`, headers })).json() as Record<string, unknown>[];

    const first = await api.check(id);
    expect(first.statusCode, first.body).toBe(200);
    const firstAt = new Date(ctx.clock.now()).toISOString();
    expect(first.json()).toEqual({ at: firstAt, status: 'down', latency_ms: first.json().latency_ms, value: 500, message: 'expected status 200, got 500', state: 'pending' });
    expect(first.json().latency_ms).toBeGreaterThanOrEqual(0);
    expect(first.json().latency_ms).toBeLessThan(10_000); // within the target's timeout
    expect((await api.get(id)).json()).toMatchObject({ state: 'pending', last_checked_at: firstAt });
    expect(await incidents()).toEqual([]);

    ctx.clock.advance(60_000);
    const second = await api.check(id);
    const downAt = new Date(ctx.clock.now()).toISOString();
    expect(second.json()).toMatchObject({ at: downAt, status: 'down', value: 500, message: 'expected status 200, got 500', state: 'down' });
    const open = await incidents('open');
    expect(open).toHaveLength(1);
    expect(open[0]).toEqual({
      id: open[0]!.id,
      monitor_id: id,
      monitor_name: 'Switch',
      monitor_kind: 'http',
      severity: 'down',
      state: 'open',
      reason: 'expected status 200, got 500',
      opened_at: downAt,
      resolved_at: null,
      acknowledged_at: null,
      acknowledged_by: null,
    });

    // A third failure keeps the one incident.
    ctx.clock.advance(60_000);
    expect((await api.check(id)).json().state).toBe('down');
    expect(await incidents()).toHaveLength(1);

    target.switchStatus = 200;
    ctx.clock.advance(60_000);
    const recovered = await api.check(id);
    const upAt = new Date(ctx.clock.now()).toISOString();
    expect(recovered.json()).toEqual({ at: upAt, status: 'up', latency_ms: recovered.json().latency_ms, value: 200, message: `HTTP 200 in ${recovered.json().latency_ms} ms`, state: 'up' });
    expect(await incidents('open')).toEqual([]);
    const resolved = await incidents('resolved');
    expect(resolved).toEqual([{ ...open[0], state: 'resolved', resolved_at: upAt }]);

    const results = (await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}/results`, headers })).json() as { status: string; message: string }[];
    expect(results.map((r) => r.status)).toEqual(['up', 'down', 'down', 'down']);
  });

  it('check now on a target whose server refuses connections reports it', async () => {
    const { api } = await start();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const id = await created(await api.post({ name: 'Closed', url: `http://127.0.0.1:${port}/` }));
    const check = await api.check(id);
    expect(check.statusCode).toBe(200);
    expect(check.json()).toMatchObject({ status: 'down', latency_ms: null, value: null, message: 'connection refused by 127.0.0.1', state: 'pending' });
  });

  it('a read-only key reads but gets 403 on POST, PATCH, DELETE and check, which change nothing', async () => {
    const { ctx, tenant, api } = await start();
    const id = await created(await api.post({ name: 'Guarded', url: `${target.base}/status/200?guarded` }));
    const { secret } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'reader', scope: 'read-only' });
    const reader = { 'x-api-key': secret };
    const forbidden = 'This API key\'s scope does not allow this operation (needs "write")';
    const requestsBefore = target.requests.length;

    expect((await api.list(reader)).statusCode).toBe(200);
    expect((await api.get(id, reader)).statusCode).toBe(200);
    expectJsonError(await api.post({ name: 'Nope', url: `${target.base}/status/200?nope` }, reader), 403, forbidden);
    expectJsonError(await api.patch(id, { name: 'Nope' }, reader), 403, forbidden);
    expectJsonError(await api.remove(id, reader), 403, forbidden);
    expectJsonError(await api.check(id, reader), 403, forbidden);

    const list = (await api.list()).json();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id, name: 'Guarded', state: 'pending', last_checked_at: null });
    expect(target.requests.length).toBe(requestsBefore);
  });
});
