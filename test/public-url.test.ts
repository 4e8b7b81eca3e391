/**
 * Absolute links come from PUBLIC_URL (default http://HOST:PORT), never from the request: a
 * request with a forged Host or X-Forwarded-* headers gets links on the configured URL. And
 * PUBLIC_URL's parsing: trailing slash dropped, http(s) only, wildcard hosts shown as loopback.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const FORGED = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };

describe('PUBLIC_URL parsing', () => {
  it('defaults to http://HOST:PORT, with wildcard addresses shown as loopback', () => {
    expect(loadConfig({}).publicUrl).toBe('http://127.0.0.1:8000');
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '9000' }).publicUrl).toBe('http://127.0.0.1:9000');
    expect(loadConfig({ HOST: '::' }).publicUrl).toBe('http://127.0.0.1:8000');
    expect(loadConfig({ HOST: '::1' }).publicUrl).toBe('http://[::1]:8000');
    expect(loadConfig({ HOST: 'vigie.lan' }).publicUrl).toBe('http://vigie.lan:8000');
  });

  it('drops the trailing slash and keeps a path prefix', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://vigie.example.com/' }).publicUrl).toBe('https://vigie.example.com');
    expect(loadConfig({ PUBLIC_URL: 'https://example.com/vigie//' }).publicUrl).toBe('https://example.com/vigie');
  });

  it.each([
    ['ftp://vigie.example.com', 'Invalid environment variable PUBLIC_URL: expected an http(s) URL, got scheme "ftp:"'],
    ['vigie.example.com', 'Invalid environment variable PUBLIC_URL: expected an http(s) URL, got "vigie.example.com"'],
    ['https://vigie.example.com/?x=1', expect.stringContaining('without query, fragment or credentials')],
    ['https://user:pw@vigie.example.com', expect.stringContaining('without query, fragment or credentials')],
  ])('refuses PUBLIC_URL=%s', (value, message) => {
    let thrown: unknown;
    try {
      loadConfig({ PUBLIC_URL: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe('PUBLIC_URL');
    expect((thrown as ConfigError).message).toEqual(message);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_SECONDS: '40' })).toThrow('Invalid environment variable HEADERS_TIMEOUT_SECONDS: must not be longer than REQUEST_TIMEOUT_SECONDS (30), got 40');
  });
});

describe.each(TEST_DIALECTS)('links from PUBLIC_URL on %s', (dialect) => {
  let ctx: TestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  it('a request with Host: evil.example gets ping, update and badge links on the configured URL', async () => {
    ctx = await createTestApp(dialect, { env: { PUBLIC_URL: 'https://vigie.example.com/base/', TRUST_PROXY: 'true' } });
    const tenant = await createTenantWithKey(ctx);
    const headers = { ...FORGED, 'x-api-key': tenant.apiKey };
    const created = await ctx.app.inject({ method: 'POST', url: '/api/v3/checks/', headers, payload: { name: 'nightly', tags: 'backup' } });
    expect(created.statusCode, created.body).toBe(201);
    const check = created.json();
    const base = 'https://vigie.example.com/base';
    expect(check).toMatchObject({
      ping_url: `${base}/ping/${check.uuid}`,
      update_url: `${base}/api/v3/checks/${check.uuid}`,
      pause_url: `${base}/api/v3/checks/${check.uuid}/pause`,
      resume_url: `${base}/api/v3/checks/${check.uuid}/resume`,
      badge_url: expect.stringMatching(new RegExp(`^${base}/b/2/[0-9a-f-]{36}\\.svg$`)),
    });
    const listed = (await ctx.app.inject({ method: 'GET', url: '/api/v3/checks/', headers })).json();
    expect(listed.checks[0].ping_url).toBe(`${base}/ping/${check.uuid}`);

    // A ping with a body, then its body_url in the pings list.
    expect((await ctx.app.inject({ method: 'POST', url: `/ping/${check.uuid}`, payload: 'log line', headers: { ...FORGED, 'content-type': 'text/plain' } })).statusCode).toBe(200);
    const pings = (await ctx.app.inject({ method: 'GET', url: `/api/v3/checks/${check.uuid}/pings/`, headers })).json();
    expect(pings.pings[0].body_url).toBe(`${base}/api/v3/checks/${check.uuid}/pings/1/body`);

    const badges = (await ctx.app.inject({ method: 'GET', url: '/api/v3/badges/', headers })).json();
    const links = Object.values(badges.badges as Record<string, Record<string, string>>).flatMap((set) => Object.values(set));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link.startsWith(`${base}/badge/`), link).toBe(true);
    expect(JSON.stringify([check, listed, pings, badges])).not.toContain('evil.example');
  });

  it('without PUBLIC_URL, links name the address the server listens on, even when PORT=0', async () => {
    ctx = await createTestApp(dialect, { env: { PORT: '0' } });
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (ctx.app.server.address() as AddressInfo).port;
    const tenant = await createTenantWithKey(ctx);
    const response = await fetch(`http://127.0.0.1:${port}/api/v3/checks/`, {
      method: 'POST',
      headers: { 'x-api-key': tenant.apiKey, 'content-type': 'application/json', 'x-forwarded-host': 'evil.example' },
      body: JSON.stringify({ name: 'job' }),
    });
    const check = (await response.json()) as { uuid: string; ping_url: string };
    expect(check.ping_url).toBe(`http://127.0.0.1:${port}/ping/${check.uuid}`);
  });
});
