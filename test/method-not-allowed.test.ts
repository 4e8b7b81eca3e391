/**
 * A known path asked with a method it does not have answers 405 with `Allow` naming the methods
 * it has (RFC 9110), in the one error shape; an unknown path stays 404. Through the app (inject),
 * for static paths, paths with parameters, Healthchecks' trailing-slash paths, and before any
 * credential is checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { patternToRegExp } from '../src/http/method-not-allowed.js';

describe('405 Method Not Allowed', () => {
  let ctx: TestContext;
  let headers: Record<string, string>;

  beforeAll(async () => {
    ctx = await createTestApp('sqlite');
    headers = { 'x-api-key': (await createTenantWithKey(ctx)).apiKey };
  });
  afterAll(async () => {
    await ctx.close();
  });

  it.each([
    ['PUT', '/api/v1/settings', 'GET, PATCH'],
    ['POST', '/api/v1/settings', 'GET, PATCH'],
    ['PUT', '/api/v1/monitors/0b5e5f0e-8a59-4f70-9c5a-1d2b3c4d5e6f', 'GET, PATCH, DELETE'],
    ['GET', '/api/v1/auth/login', 'POST'],
    ['DELETE', '/api/v1/channels', 'GET, POST'],
    // Healthchecks' routes and pings answer OPTIONS too (CORS preflight, issue 14).
    ['PATCH', '/api/v3/checks/', 'GET, POST, OPTIONS'],
    ['PATCH', '/api/v3/checks', 'GET, POST, OPTIONS'],
    ['PUT', '/ping/0b5e5f0e-8a59-4f70-9c5a-1d2b3c4d5e6f', 'GET, POST, OPTIONS'],
    ['OPTIONS', '/health', 'GET'],
  ])('%s %s → 405, Allow: %s', async (method, url, allow) => {
    const response = await ctx.app.inject({ method: method as 'PUT', url: `${url}?token=secret`, headers });
    expect(response.statusCode, response.body).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    // Healthchecks' API (/api/v3/) also carries `error`, as every error there does.
    expect(response.json()).toMatchObject({ detail: `Method ${method} is not allowed on ${url}; allowed: ${allow}` });
  });

  it('says so without credentials too (the methods of a path are public, like the OpenAPI document)', async () => {
    const response = await ctx.app.inject({ method: 'PUT', url: '/api/v1/settings' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, PATCH');
  });

  it('an unknown path stays 404, whatever the method', async () => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const response = await ctx.app.inject({ method, url: '/api/v1/nothing-here', headers });
      expect(response.statusCode).toBe(404);
      expect(response.headers.allow).toBeUndefined();
      expect(response.json()).toEqual({ detail: `Not Found: ${method} /api/v1/nothing-here` });
    }
    expect((await ctx.app.inject({ method: 'PUT', url: '/api/v1/settings/extra', headers })).statusCode).toBe(404);
  });

  it('the methods a path has still answer as before', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers })).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'HEAD', url: '/health' })).statusCode).toBe(200);
  });

  it('reads route patterns as the router does', () => {
    expect(patternToRegExp('/api/v1/monitors/:id').test('/api/v1/monitors/abc')).toBe(true);
    expect(patternToRegExp('/api/v1/monitors/:id').test('/api/v1/monitors/abc/results')).toBe(false);
    expect(patternToRegExp('/docs/static/*').test('/docs/static/a/b.js')).toBe(true);
    expect(patternToRegExp('/api/v3/checks/').test('/api/v3/checks')).toBe(true);
    expect(patternToRegExp('/v/:n(^\\d+$)').test('/v/12')).toBe(true);
    expect(patternToRegExp('/a.b').test('/aXb')).toBe(false);
  });
});
