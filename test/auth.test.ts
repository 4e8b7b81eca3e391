import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenKey, createTokenService } from '../src/auth/jwt.js';
import { createTenantWithKey, createTestApp, createUser, login, TEST_SECRET_KEY, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const LOGIN_URL = '/api/v1/auth/login';
const ME_URL = '/api/v1/auth/me';
/** A compact JWS: three base64url parts. */
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const BAD_CREDENTIALS = { detail: 'Incorrect username or password' };

function formLogin(ctx: TestContext, body: string) {
  return ctx.app.inject({ method: 'POST', url: LOGIN_URL, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body });
}

function jsonLogin(ctx: TestContext, body: Record<string, unknown>) {
  return ctx.app.inject({ method: 'POST', url: LOGIN_URL, payload: body });
}

function me(ctx: TestContext, token: string) {
  return ctx.app.inject({ method: 'GET', url: ME_URL, headers: { authorization: `Bearer ${token}` } });
}

function expectUnauthorized(response: Awaited<ReturnType<typeof me>>, detail: string) {
  expect(response.statusCode).toBe(401);
  expect(response.json()).toEqual({ detail });
  expect(response.headers['www-authenticate']).toBe('Bearer');
}

describe.each(TEST_DIALECTS)('login and tokens on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;

  beforeAll(async () => {
    // Many logins share this app; the login rate limit has its own suite below.
    ctx = await createTestApp(dialect, { env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });
    tenant = await createTenantWithKey(ctx);
  });
  afterAll(() => ctx?.close());

  it('accepts a form-encoded login, as curl -d sends it', async () => {
    await createUser(ctx, tenant.tenantId, { email: 'admin@example.com', password: 'admin123' });
    const response = await formLogin(ctx, 'username=admin@example.com&password=admin123');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(ctx.config.jwtExpiresMinutes * 60);
    expect(body.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('accepts JSON with username or with email, and the token identifies the user', async () => {
    const { user, email, password } = await createUser(ctx, tenant.tenantId, { role: 'member' });
    for (const field of ['username', 'email']) {
      const response = await jsonLogin(ctx, { [field]: email, password });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ access_token: expect.stringMatching(JWT), token_type: 'bearer', expires_in: ctx.config.jwtExpiresMinutes * 60 });

      const whoAmI = await me(ctx, response.json().access_token);
      expect(whoAmI.statusCode).toBe(200);
      expect(whoAmI.json()).toEqual({
        auth: 'user',
        id: user.id,
        tenant_id: tenant.tenantId,
        email,
        role: 'member',
        is_active: true,
        is_superuser: false,
        permissions: ['ingest', 'read', 'write'],
      });
    }
  });

  it('matches the e-mail whatever its case', async () => {
    const { email, password } = await createUser(ctx, tenant.tenantId, { email: 'mixed.case@example.com' });
    const response = await formLogin(ctx, `username=Mixed.CASE@Example.COM&password=${encodeURIComponent(password)}`);
    expect(response.statusCode).toBe(200);
    expect((await me(ctx, response.json().access_token)).json().email).toBe(email);
  });

  it('answers a wrong password and an unknown e-mail with the same 401', async () => {
    const { email } = await createUser(ctx, tenant.tenantId);
    expectUnauthorized(await jsonLogin(ctx, { username: email, password: 'wrong password' }), BAD_CREDENTIALS.detail);
    expectUnauthorized(await jsonLogin(ctx, { username: 'nobody@example.com', password: 'wrong password' }), BAD_CREDENTIALS.detail);
  });

  it('refuses a disabled user, at login and with a token issued before', async () => {
    const { user, email, password } = await createUser(ctx, tenant.tenantId);
    const token = await login(ctx, email, password);
    const patch = await ctx.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: { 'x-api-key': tenant.apiKey },
      payload: { is_active: false },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json().is_active).toBe(false);

    expectUnauthorized(await jsonLogin(ctx, { username: email, password }), BAD_CREDENTIALS.detail);
    expectUnauthorized(await me(ctx, token), 'User no longer exists or is disabled');
  });

  it('reports a missing username as a field problem', async () => {
    const response = await jsonLogin(ctx, { password: 'whatever1' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ detail: [{ loc: ['body', 'username'], msg: 'Field required', type: 'missing' }] });
  });

  it('refuses a token once it has expired', async () => {
    const { email, password } = await createUser(ctx, tenant.tenantId);
    const token = await login(ctx, email, password);
    expect((await me(ctx, token)).statusCode).toBe(200);
    ctx.clock.advance(ctx.config.jwtExpiresMinutes * 60_000 + 1000);
    expectUnauthorized(await me(ctx, token), 'Token expired');
  });

  it('refuses garbage, a tampered token and one signed with another key', async () => {
    const { user, email, password } = await createUser(ctx, tenant.tenantId);
    const token = await login(ctx, email, password);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    const otherTenant = await createTenantWithKey(ctx);
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, tid: otherTenant.tenantId })).toString('base64url');
    const foreignKey = createTokenService('another-secret-key-another-secret-key-42', 60, ctx.clock);
    const foreign = await foreignKey.issue({ userId: user.id, tenantId: tenant.tenantId });

    for (const bad of ['garbage', `${header}.${forgedPayload}.${signature}`, foreign.token]) {
      expectUnauthorized(await me(ctx, bad), 'Invalid token');
    }
    expect((await me(ctx, token)).statusCode).toBe(200);
  });

  it('refuses a token without exp even when signed with the server key, and accepts the same with exp', async () => {
    const { user } = await createUser(ctx, tenant.tenantId);
    const now = Math.floor(ctx.clock.now() / 1000);
    const sign = (withExp: boolean) => {
      const jwt = new SignJWT({ tid: tenant.tenantId }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(user.id).setIssuer('vigie').setIssuedAt(now);
      return (withExp ? jwt.setExpirationTime(now + 600) : jwt).sign(accessTokenKey(TEST_SECRET_KEY));
    };
    expectUnauthorized(await me(ctx, await sign(false)), 'Invalid token');
    expect((await me(ctx, await sign(true))).statusCode).toBe(200);
  });

  it('refuses the token of a user who was deleted', async () => {
    const { user, email, password } = await createUser(ctx, tenant.tenantId);
    const token = await login(ctx, email, password);
    const removed = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/users/${user.id}`, headers: { 'x-api-key': tenant.apiKey } });
    expect(removed.statusCode).toBe(204);
    expectUnauthorized(await me(ctx, token), 'User no longer exists or is disabled');
  });

  it('tells an API key who it is', async () => {
    const readOnly = await createTenantWithKey(ctx, 'read-only');
    const response = await ctx.app.inject({ method: 'GET', url: ME_URL, headers: { 'x-api-key': readOnly.apiKey } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      auth: 'api_key',
      id: readOnly.apiKeyId,
      tenant_id: readOnly.tenantId,
      name: 'read-only key',
      scope: 'read-only',
      permissions: ['read'],
    });
  });

  it('asks for credentials when none are sent', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: ME_URL });
    expectUnauthorized(response, 'Not authenticated: send an X-API-Key header or an Authorization: Bearer token');
  });
});

describe.each(TEST_DIALECTS)('login rate limit on %s', (dialect) => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestApp(dialect, { env: { LOGIN_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(() => ctx?.close());

  it('lets 3 attempts through in a minute and answers the 4th with 429', async () => {
    const tenant = await createTenantWithKey(ctx);
    const { email, password } = await createUser(ctx, tenant.tenantId);
    const statuses = [];
    for (const attempt of ['wrong password', 'wrong password', password]) {
      statuses.push((await jsonLogin(ctx, { username: email, password: attempt })).statusCode);
    }
    expect(statuses).toEqual([401, 401, 200]);

    // Even the right password is refused once the limit is reached.
    const limited = await jsonLogin(ctx, { username: email, password });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ detail: expect.stringMatching(/^Too many requests: retry in \d+ seconds$/) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});
