/**
 * JSON bodies nested deeper than BODY_MAX_DEPTH (64) are answered 400 with a clear detail before
 * anything walks them, on every JSON route, agent ingestion included (its worker thread too):
 * a 10,000-deep body used to overflow the stack (500). The depth counter itself is a loop, so
 * a million levels do not overflow it either.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonNestsDeeperThan } from '../src/http/json-depth.js';
import { createIngestBodyChecker, parseAndCheck } from '../src/metrics/ingest/body-checker.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const THREAD_SCRIPT = new URL('../dist/metrics/ingest/body-check-thread.js', import.meta.url);
const nestedArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
const TOO_DEEP = { detail: 'JSON body is nested deeper than 64 levels (BODY_MAX_DEPTH)' };

describe('the depth counter', () => {
  it('counts arrays and objects, not brackets inside strings (escaped quotes included)', () => {
    expect(jsonNestsDeeperThan(nestedArray(64), 64)).toBe(false);
    expect(jsonNestsDeeperThan(nestedArray(65), 64)).toBe(true);
    expect(jsonNestsDeeperThan(nestedObject(64), 64)).toBe(false);
    expect(jsonNestsDeeperThan(nestedObject(65), 64)).toBe(true);
    expect(jsonNestsDeeperThan(JSON.stringify({ a: '['.repeat(1000), b: '\\"{{{{{{' }), 2)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ a: 'x"' + '['.repeat(100) }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify([{ a: [{}] }, [], [[1]]]), 4)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify([{ a: [{}] }, [], [[1]]]), 3)).toBe(true);
  });

  it('does not overflow on a million levels', () => {
    expect(jsonNestsDeeperThan(nestedArray(1_000_000), 64)).toBe(true);
  });

  it('refuses a 10,000-deep ingest body in the calling thread and in the worker thread', async () => {
    const body = `{"machine":{"hostname":"x","deep":${nestedArray(10_000)}},"metrics":[]}`;
    expect(parseAndCheck(body, 0, 10)).toEqual({ ok: false, tooDeep: 64 });
    const threaded = createIngestBodyChecker({ maxMetrics: 10, maxDepth: 32, threads: 1, threadScript: THREAD_SCRIPT });
    try {
      expect(threaded.threaded).toBe(true);
      expect(await threaded.check(body, 0)).toEqual({ ok: false, tooDeep: 32 });
      expect(await threaded.check(JSON.stringify({ machine: { hostname: 'x' }, metrics: [] }), 0)).toMatchObject({ ok: true });
    } finally {
      await threaded.close();
    }
  });
});

describe.each(TEST_DIALECTS)('JSON nesting limit on the routes on %s', (dialect) => {
  let ctx: TestContext;
  let apiKey: string;

  beforeAll(async () => {
    ctx = await createTestApp(dialect);
    apiKey = (await createTenantWithKey(ctx)).apiKey;
  });
  afterAll(() => ctx.close());

  const post = (method: 'POST' | 'PATCH', url: string, payload: string, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method, url, payload, headers: { 'content-type': 'application/json', 'x-api-key': apiKey, ...headers } });

  /** A body of the route's own shape, with a 10,000-deep value where the route takes any JSON (or an extra field). */
  const deep = (prefix: string, suffix: string) => `${prefix}${nestedArray(10_000)}${suffix}`;

  it.each([
    ['POST', '/api/v1/http-targets', deep('{"name":"x","url":"https://example.com","assertions":[{"type":"json_path_equals","path":"$.a","value":', '}]}')],
    ['PATCH', '/api/v1/settings', deep('{"notification_email":', '}')],
    ['POST', '/api/v1/silences', deep('{"comment":"x","ends_at":"2030-01-01T00:00:00Z","matchers":', '}')],
    ['POST', '/api/v1/channels', deep('{"name":"x","kind":"webhook","config":', '}')],
    ['POST', '/api/v1/auth/login', deep('{"username":', ',"password":"x"}')],
  ] as const)('%s %s: 400 with a clear detail', async (method, url, body) => {
    const response = await post(method, url, body);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual(TOO_DEEP);
  });

  it('Healthchecks API v3: 400, in its own error shape', async () => {
    const response = await post('POST', '/api/v3/checks/', deep('{"name":"x","tags":', '}'));
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual({ error: TOO_DEEP.detail });
  });

  it('agent ingestion: 400, nothing stored', async () => {
    const response = await post('POST', '/api/v1/ingest/metrics', deep('{"machine":{"hostname":"deep-1","x":', '},"metrics":[]}'), { 'x-ingest-id': randomUUID() });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual(TOO_DEEP);
    const machines = await ctx.app.inject({ method: 'GET', url: '/api/v1/machines', headers: { 'x-api-key': apiKey } });
    expect(machines.json().items).toEqual([]);
  });

  it('a body within the limit goes on to validation as before', async () => {
    const value = JSON.parse(nestedArray(60));
    const response = await post('POST', '/api/v1/http-targets', JSON.stringify({ name: 'x', url: 'https://example.com/60', assertions: [{ type: 'json_path_equals', path: '$.a', value }] }));
    expect(response.statusCode, response.body).toBe(201);
  });
});

describe('BODY_MAX_DEPTH', () => {
  it('sets the limit', async () => {
    const ctx = await createTestApp('sqlite', { env: { BODY_MAX_DEPTH: '3' } });
    try {
      const { apiKey } = await createTenantWithKey(ctx);
      const send = (assertions: unknown) =>
        ctx.app.inject({ method: 'POST', url: '/api/v1/http-targets', headers: { 'x-api-key': apiKey }, payload: { name: 'x', url: 'https://example.com', assertions } });
      // body → assertions → assertion → value: four levels with an array value.
      expect((await send([{ type: 'json_path_equals', path: '$.a', value: 1 }])).statusCode).toBe(201);
      const deeper = await send([{ type: 'json_path_equals', path: '$.a', value: [1] }]);
      expect(deeper.statusCode).toBe(400);
      expect(deeper.json()).toEqual({ detail: 'JSON body is nested deeper than 3 levels (BODY_MAX_DEPTH)' });
    } finally {
      await ctx.close();
    }
  });
});
