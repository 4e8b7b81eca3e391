/**
 * An empty body is no body, on every route of the app (issue 14): HTTP clients send
 * `Content-Type: application/json` by default, and `curl --data ''` a form type, also on a POST
 * or DELETE that carries nothing. The routes are taken from the app's own catalogue, so a new
 * route is covered: every body-less POST and DELETE answers an empty body exactly as it answers
 * no body at all, and every route with a body answers an empty body as it answers `{}` (its
 * schema then names the missing fields, 422). Then the routes the issue names, on real
 * resources.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, createUser, login, type TestContext } from './helpers/app.js';
import { HEALTHCHECKS_MOUNTS } from '../src/routes/healthchecks-v3.js';
import { TEST_DIALECTS } from './helpers/databases.js';

/** Routes whose scope parses its own bodies (the agent ingest reads raw JSON in a worker thread). */
const OWN_PARSER = new Set(['POST /api/v1/ingest/metrics']);

const EMPTY_BODIES = [
  { name: 'application/json, empty', headers: { 'content-type': 'application/json' }, payload: '' },
  { name: 'application/json; charset=utf-8, white space', headers: { 'content-type': 'application/json; charset=utf-8' }, payload: ' \r\n' },
  { name: "curl --data ''", headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' },
] as const;

/**
 * Healthchecks' API reads its body itself, as Healthchecks does (`json.loads(request.body)` when
 * the body is not empty): white space there is "could not parse request body" (400), which
 * test/healthchecks-compat.test.ts pins. Only truly empty bodies are compared on its routes.
 */
const isHealthchecksRoute = (url: string) => HEALTHCHECKS_MOUNTS.some((mount) => url.startsWith(`/hc${mount.prefix}/`) || url.startsWith(`${mount.prefix}/checks`));

/** What must be equal between two answers: status, and the body unless it is a creation (new ids). */
function comparable(response: LightMyRequestResponse) {
  const body = response.statusCode >= 400 ? (String(response.headers['content-type']).startsWith('application/json') ? (response.json() as unknown) : response.body) : null;
  return { status: response.statusCode, body };
}

describe.each(TEST_DIALECTS)('empty bodies on %s', (dialect) => {
  let ctx: TestContext;
  let auth: Record<string, string>;

  beforeAll(async () => {
    ctx = await createTestApp(dialect);
    const tenant = await createTenantWithKey(ctx);
    const { email, password } = await createUser(ctx, tenant.tenantId, { role: 'admin', isSuperuser: true });
    auth = { authorization: `Bearer ${await login(ctx, email, password)}` };
  });
  afterAll(() => ctx?.close());

  const withIds = (url: string) => url.replace(/:[A-Za-z]+/g, () => randomUUID());
  const send = (method: string, url: string, extra: { headers?: Record<string, string>; payload?: string } = {}) =>
    ctx.app.inject({ method: method as 'POST', url, headers: { ...auth, ...extra.headers }, ...(extra.payload !== undefined && { payload: extra.payload }) });

  it('every body-less POST and DELETE answers an empty body as it answers no body', async () => {
    const bodyless = ctx.app.routeCatalog.filter((r) => (r.method === 'POST' || r.method === 'DELETE') && !r.hasBodySchema);
    // The catalogue is where the list comes from: the routes the issue names are in it.
    expect(bodyless.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'POST /api/v1/http-targets/:id/check',
        'POST /api/v1/monitors/:id/pause',
        'POST /api/v1/monitors/:id/resume',
        'POST /api/v1/channels/:id/test',
        'DELETE /api/v1/monitors/:id',
        'POST /api/v3/checks/:uuid/pause',
        'DELETE /api/v3/checks/:uuid',
      ]),
    );
    for (const route of bodyless) {
      const url = withIds(route.url);
      const bare = comparable(await send(route.method, url));
      expect([415, 422], `${route.method} ${url} without a body: ${JSON.stringify(bare)}`).not.toContain(bare.status);
      for (const empty of EMPTY_BODIES) {
        if (isHealthchecksRoute(route.url) && empty.payload.trim() !== empty.payload) continue;
        const answer = comparable(await send(route.method, url, empty));
        expect(answer, `${route.method} ${route.url} with ${empty.name}`).toEqual(bare);
      }
    }
  });

  it('every route with a body answers an empty body as it answers {}: the missing fields, named', async () => {
    const withBody = ctx.app.routeCatalog.filter((r) => r.hasBodySchema && !OWN_PARSER.has(`${r.method} ${r.url}`));
    expect(withBody.length).toBeGreaterThan(10);
    for (const route of withBody) {
      const url = withIds(route.url);
      const asObject = comparable(await send(route.method, url, { headers: { 'content-type': 'application/json' }, payload: '{}' }));
      const empty = comparable(await send(route.method, url, { headers: { 'content-type': 'application/json' }, payload: '' }));
      expect(empty, `${route.method} ${route.url}`).toEqual(asObject);
    }
    const target = await send('POST', '/api/v1/http-targets', { headers: { 'content-type': 'application/json' }, payload: '' });
    expect(target.statusCode).toBe(422);
    expect(target.json().detail).toEqual(expect.arrayContaining([{ loc: ['body', 'url'], msg: 'Field required', type: 'missing' }]));
  });

  it('the body-less routes the issue names work on real resources with Content-Type: application/json and no body', async () => {
    const json = { headers: { 'content-type': 'application/json' }, payload: '' };
    const created = await send('POST', '/api/v1/http-targets', { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'discard port', url: 'http://127.0.0.1:9/' }) });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json() as { id: string };
    const checked = await send('POST', `/api/v1/http-targets/${id}/check`, json);
    expect(checked.statusCode, checked.body).toBe(200);
    const paused = await send('POST', `/api/v1/monitors/${id}/pause`, json);
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json()).toMatchObject({ id, state: 'paused' });
    const resumed = await send('POST', `/api/v1/monitors/${id}/resume`, EMPTY_BODIES[2]);
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect((resumed.json() as { state: string }).state).not.toBe('paused');

    const channel = await send('POST', '/api/v1/channels', {
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'ops', kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } }),
    });
    expect(channel.statusCode, channel.body).toBe(201);
    const tested = await send('POST', `/api/v1/channels/${(channel.json() as { id: string }).id}/test`, json);
    expect(tested.statusCode, tested.body).toBe(200); // the report says the receiver could not be reached
    const deleted = await send('DELETE', `/api/v1/monitors/${id}`, json);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await send('GET', `/api/v1/monitors/${id}`)).statusCode).toBe(404);
  });

  it('a body that is not JSON is still refused (422), and prototype poisoning too', async () => {
    const bad = await send('PATCH', '/api/v1/settings', { headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail[0]).toMatchObject({ loc: ['body'], type: 'json_invalid' });
    const poisoned = await send('PATCH', '/api/v1/settings', { headers: { 'content-type': 'application/json' }, payload: '{"__proto__":{"x":1}}' });
    expect(poisoned.statusCode).toBe(422);
  });
});
