/**
 * Every error status the API gives, each in the one error format `{"detail": …}`: a message, a
 * list of `{loc, msg, type}` (422), or an object (409). And the request id that ties a response
 * to its log lines.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, createUser, type TestAppOptions, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectJsonError(response: LightMyRequestResponse, status: number, detail: unknown) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.json()).toEqual({ detail });
}

describe.each(TEST_DIALECTS)('error responses on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function start(options: TestAppOptions = {}) {
    ctx = await createTestApp(dialect, options);
    const tenant = await createTenantWithKey(ctx);
    return { ctx, tenant, headers: { 'x-api-key': tenant.apiKey } };
  }

  async function keyNames(ctx: TestContext, headers: Record<string, string>): Promise<string[]> {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers });
    expect(response.statusCode).toBe(200);
    return response.json().map((k: { name: string }) => k.name);
  }

  it('401 without a credential, with a bad key or a bad token, and says how to authenticate', async () => {
    const { ctx } = await start();
    const none = await ctx.app.inject({ method: 'GET', url: '/api/v1/settings' });
    expectJsonError(none, 401, 'Not authenticated: send an X-API-Key header or an Authorization: Bearer token');
    expect(none.headers['www-authenticate']).toBe('Bearer');

    const badKey = await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers: { 'x-api-key': 'vk_not-a-key' } });
    expectJsonError(badKey, 401, 'Invalid or revoked API key');
    expect(badKey.headers['www-authenticate']).toBe('Bearer');

    const badToken = await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers: { authorization: 'Bearer not.a.jwt' } });
    expectJsonError(badToken, 401, 'Invalid token');
    expect(badToken.headers['www-authenticate']).toBe('Bearer');
  });

  it('403 for a read-only key on a write route, which then changes nothing', async () => {
    const { ctx, tenant, headers } = await start();
    const { secret: readOnly } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'reader', scope: 'read-only' });
    // The key itself works where its scope allows.
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers: { 'x-api-key': readOnly } })).statusCode).toBe(200);

    const denied = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { 'x-api-key': readOnly }, payload: { name: 'escalated' } });
    expectJsonError(denied, 403, 'This API key\'s scope does not allow this operation (needs "admin")');
    expect(denied.headers['www-authenticate']).toBeUndefined();

    const patch = await ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: { 'x-api-key': readOnly }, payload: { timezone: 'Asia/Tokyo' } });
    expectJsonError(patch, 403, 'This API key\'s scope does not allow this operation (needs "admin")');

    expect(await keyNames(ctx, headers)).not.toContain('escalated');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers })).json().timezone).not.toBe('Asia/Tokyo');
  });

  it('404 for an unknown URL, without its query string, and for an unknown id', async () => {
    const { ctx, headers } = await start();
    expectJsonError(await ctx.app.inject({ method: 'GET', url: '/nope' }), 404, 'Not Found: GET /nope');
    expectJsonError(await ctx.app.inject({ method: 'DELETE', url: '/api/v1/nope?token=secret', headers }), 404, 'Not Found: DELETE /api/v1/nope');

    const id = randomUUID();
    expectJsonError(await ctx.app.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers }), 404, 'User not found');
    expectJsonError(await ctx.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, headers }), 404, 'API key not found');
  });

  it('409 for a second user with the same e-mail, in any letter case', async () => {
    const { ctx, headers } = await start();
    const first = await ctx.app.inject({ method: 'POST', url: '/api/v1/users', headers, payload: { email: 'dup@example.com', password: 'correct horse battery' } });
    expect(first.statusCode).toBe(201);
    const second = await ctx.app.inject({ method: 'POST', url: '/api/v1/users', headers, payload: { email: 'Dup@Example.com', password: 'another password' } });
    expectJsonError(second, 409, { message: 'A user with this e-mail already exists.' });
    const users = (await ctx.app.inject({ method: 'GET', url: '/api/v1/users', headers })).json();
    expect(users.map((u: { email: string }) => u.email)).toEqual(['dup@example.com']);
  });

  it('413 for a body over BODY_LIMIT_BYTES, naming the limit', async () => {
    const { ctx, headers } = await start({ env: { BODY_LIMIT_BYTES: '2048' } });
    const payload = JSON.stringify({ name: 'x'.repeat(4096) });
    expect(Buffer.byteLength(payload)).toBeGreaterThan(4096);
    const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { ...headers, 'content-type': 'application/json' }, payload });
    expectJsonError(response, 413, 'Request body is larger than the limit of 2048 bytes');
    // A body under the limit goes through.
    const small = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers, payload: { name: 'small' } });
    expect(small.statusCode).toBe(201);
    expect((await keyNames(ctx, headers)).sort()).toEqual(['full key', 'small']);
  });

  it('415 for a body that is neither JSON nor a form', async () => {
    const { ctx, headers } = await start();
    const plain = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { ...headers, 'content-type': 'text/plain' }, payload: 'name=x' });
    expectJsonError(plain, 415, 'Unsupported Content-Type "text/plain"; send application/json');
    const xml = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { ...headers, 'content-type': 'application/xml' }, payload: '<name>x</name>' });
    expectJsonError(xml, 415, 'Unsupported Content-Type "application/xml"; send application/json');
    expect(await keyNames(ctx, headers)).toEqual(['full key']);
  });

  it('422 for a body that is not JSON; an empty one is {}, so the missing fields are named (issue 14)', async () => {
    const { ctx, headers } = await start();
    const json = { ...headers, 'content-type': 'application/json' };
    const invalid = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: json, payload: '{"name": ' });
    expect(invalid.statusCode).toBe(422);
    const detail = invalid.json().detail;
    expect(detail).toHaveLength(1);
    expect(detail[0]).toMatchObject({ loc: ['body'], type: 'json_invalid' });
    expect(detail[0].msg).toMatch(/^JSON decode error: /);

    const empty = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: json, payload: '' });
    expectJsonError(empty, 422, [{ loc: ['body', 'name'], msg: 'Field required', type: 'missing' }]);
  });

  it('422 lists every bad field at once, each by name', async () => {
    const { ctx, headers } = await start();
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers,
      payload: { email: 'not-an-email', password: 'short', role: 'overlord' },
    });
    expect(response.statusCode).toBe(422);
    const detail = response.json().detail as { loc: unknown[]; msg: string; type: string }[];
    const byField = [...detail].sort((a, b) => String(a.loc[1]).localeCompare(String(b.loc[1])));
    expect(byField).toEqual([
      { loc: ['body', 'email'], msg: 'Value is not a valid email', type: 'email_parsing' },
      { loc: ['body', 'password'], msg: 'Value must NOT have fewer than 8 characters', type: 'minLength' },
      { loc: ['body', 'role'], msg: 'Input should be one of: "admin", "member", "viewer"', type: 'enum' },
    ]);

    const missing = await ctx.app.inject({ method: 'POST', url: '/api/v1/users', headers, payload: {} });
    expectJsonError(missing, 422, [
      { loc: ['body', 'email'], msg: 'Field required', type: 'missing' },
      { loc: ['body', 'password'], msg: 'Field required', type: 'missing' },
    ]);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/users', headers })).json()).toEqual([]);
  });

  it('422 for a path id that is not a UUID', async () => {
    const { ctx, headers } = await start();
    const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/users/not-a-uuid', headers });
    expectJsonError(response, 422, [{ loc: ['path', 'id'], msg: 'Value is not a valid uuid', type: 'uuid_parsing' }]);
  });

  it('429 in the same format once the login rate limit is spent', async () => {
    const { ctx, tenant } = await start({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '2' } });
    const { email, password } = await createUser(ctx, tenant.tenantId);
    const attempt = () => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: email, password } });
    expect((await attempt()).statusCode).toBe(200);
    expect((await attempt()).statusCode).toBe(200);
    const limited = await attempt();
    expect(limited.statusCode).toBe(429);
    expect(Object.keys(limited.json())).toEqual(['detail']);
    expect(limited.json().detail).toMatch(/^Too many requests: retry in \d+ seconds$/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('503 with Retry-After when the database is gone: a fixed message and the request id, no stack', async () => {
    const { ctx, headers } = await start();
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers })).statusCode).toBe(200);
    await ctx.database.close();

    const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    const requestId = response.headers['x-request-id'];
    expect(requestId).toMatch(UUID);
    expect(response.json()).toEqual({ detail: 'The database is unavailable; retry in a few seconds', request_id: requestId });
    expect(response.body).not.toMatch(/stack|\bat |destroyed|sqlite|postgres|pool/i);

    const tagged = await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers: { ...headers, 'x-request-id': 'abc-123' } });
    expect(tagged.json()).toEqual({ detail: 'The database is unavailable; retry in a few seconds', request_id: 'abc-123' });
  });

  it('500 for an error that is not the client\u2019s nor a passing outage (a table gone): a fixed message and the request id, no stack', async () => {
    const { ctx, headers } = await start();
    await ctx.database.db.schema.dropTable('tenant_settings').execute();

    const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers });
    expect(response.statusCode).toBe(500);
    expect(response.headers['retry-after']).toBeUndefined();
    expect(response.json()).toEqual({ detail: 'Internal server error', request_id: response.headers['x-request-id'] });
    expect(response.body).not.toMatch(/stack|\bat |tenant_settings|sqlite|postgres/i);
  });

  it('every response carries X-Request-Id: a safe one from the caller is kept, an unsafe one replaced', async () => {
    const { ctx } = await start();
    const plain = await ctx.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(plain.headers['x-request-id']).toMatch(UUID);
    const other = await ctx.app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(other.headers['x-request-id']).not.toBe(plain.headers['x-request-id']);

    const kept = await ctx.app.inject({ method: 'GET', url: '/api/v1/health', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    // Errors carry it too.
    const notFound = await ctx.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'trace.42:a_b' } });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.headers['x-request-id']).toBe('trace.42:a_b');

    for (const unsafe of ['a'.repeat(200), 'abc 123', '<script>', 'a;b=c']) {
      const replaced = await ctx.app.inject({ method: 'GET', url: '/api/v1/health', headers: { 'x-request-id': unsafe } });
      expect(replaced.headers['x-request-id'], unsafe).toMatch(UUID);
    }
  });
});
