import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyScope } from '../src/auth/api-key-tokens.js';
import type { UserRole } from '../src/auth/roles.js';
import { createTenantWithKey, createTestApp, createUser, login, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const KEYS_URL = '/api/v1/api-keys';
const SETTINGS_URL = '/api/v1/settings';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PUBLIC_FIELDS = ['created_at', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'scope'];

const withKey = (key: string) => ({ 'x-api-key': key });
const withToken = (token: string) => ({ authorization: `Bearer ${token}` });
const scopeRefusal = (needs: string) => ({ detail: `This API key's scope does not allow this operation (needs "${needs}")` });
const roleRefusal = (needs: string) => ({ detail: `Your role does not allow this operation (needs "${needs}")` });

describe.each(TEST_DIALECTS)('API keys on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;

  beforeAll(async () => {
    ctx = await createTestApp(dialect);
    tenant = await createTenantWithKey(ctx);
  });
  afterAll(() => ctx?.close());

  async function createKey(body: Record<string, unknown>) {
    return ctx.app.inject({ method: 'POST', url: KEYS_URL, headers: withKey(tenant.apiKey), payload: body });
  }

  async function getKey(id: string) {
    return ctx.app.inject({ method: 'GET', url: `${KEYS_URL}/${id}`, headers: withKey(tenant.apiKey) });
  }

  async function newKey(scope: ApiKeyScope): Promise<{ id: string; key: string }> {
    const response = await createKey({ name: `${scope} test key`, scope });
    expect(response.statusCode).toBe(201);
    return response.json();
  }

  function getSettings(headers: Record<string, string>) {
    return ctx.app.inject({ method: 'GET', url: SETTINGS_URL, headers });
  }

  function patchSettings(headers: Record<string, string>) {
    return ctx.app.inject({ method: 'PATCH', url: SETTINGS_URL, headers, payload: { heartbeat_threshold_minutes: 7 } });
  }

  it('creates a key whose 256-bit secret is shown once', async () => {
    const response = await createKey({ name: 'CI deploy', scope: 'read-only' });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toEqual({
      id: expect.stringMatching(UUID),
      name: 'CI deploy',
      scope: 'read-only',
      prefix: body.key.slice(0, 9),
      created_at: new Date(ctx.clock.now()).toISOString(),
      last_used_at: null,
      revoked_at: null,
      key: expect.stringMatching(/^vk_[A-Za-z0-9_-]+$/),
    });
    expect(Buffer.from(body.key.slice('vk_'.length), 'base64url')).toHaveLength(32);
  });

  it('makes a full key when no scope is given', async () => {
    const response = await createKey({ name: 'default scope' });
    expect(response.statusCode).toBe(201);
    expect(response.json().scope).toBe('full');
  });

  it('stores only a hash of the secret', async () => {
    const { id, key } = await newKey('full');
    const row = await ctx.database.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    const secretPart = key.slice('vk_'.length);
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(secretPart);
    }
  });

  it('lists and shows keys without their secrets', async () => {
    const { id } = await newKey('ingest');
    const list = await ctx.app.inject({ method: 'GET', url: KEYS_URL, headers: withKey(tenant.apiKey) });
    expect(list.statusCode).toBe(200);
    const keys: Record<string, unknown>[] = list.json();
    expect(keys.map((k) => k.id)).toContain(id);
    expect(keys.map((k) => k.id)).toContain(tenant.apiKeyId);
    for (const key of keys) expect(Object.keys(key).sort()).toEqual(PUBLIC_FIELDS);

    const one = await getKey(id);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(keys.find((k) => k.id === id));
  });

  it("answers 404 for an unknown key and for another tenant's key", async () => {
    const other = await createTenantWithKey(ctx);
    for (const id of ['00000000-0000-4000-8000-000000000000', other.apiKeyId]) {
      const response = await getKey(id);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ detail: 'API key not found' });
    }
  });

  it('revokes a key: it stops working at once and the listing shows when', async () => {
    const { id, key } = await newKey('full');
    expect((await getSettings(withKey(key))).statusCode).toBe(200);

    const revoked = await ctx.app.inject({ method: 'DELETE', url: `${KEYS_URL}/${id}`, headers: withKey(tenant.apiKey) });
    expect(revoked.statusCode).toBe(204);
    expect(revoked.body).toBe('');

    const refused = await getSettings(withKey(key));
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ detail: 'Invalid or revoked API key' });

    const list = await ctx.app.inject({ method: 'GET', url: KEYS_URL, headers: withKey(tenant.apiKey) });
    const listed = list.json().find((k: { id: string }) => k.id === id);
    expect(listed.revoked_at).toBe(new Date(ctx.clock.now()).toISOString());
  });

  it('records last use at most once a minute', async () => {
    const { id, key } = await newKey('read-only');
    const lastUsed = async () => (await getKey(id)).json().last_used_at;
    expect(await lastUsed()).toBeNull();

    const firstUse = ctx.clock.now();
    await getSettings(withKey(key));
    expect(await lastUsed()).toBe(new Date(firstUse).toISOString());

    ctx.clock.advance(59_000);
    await getSettings(withKey(key));
    expect(await lastUsed()).toBe(new Date(firstUse).toISOString());

    ctx.clock.advance(1_000);
    await getSettings(withKey(key));
    expect(await lastUsed()).toBe(new Date(firstUse + 60_000).toISOString());
  });

  it('lets a read-only key read but not write or manage keys', async () => {
    const { key } = await newKey('read-only');
    expect((await getSettings(withKey(key))).statusCode).toBe(200);

    const patch = await patchSettings(withKey(key));
    expect(patch.statusCode).toBe(403);
    expect(patch.json()).toEqual(scopeRefusal('admin'));

    const create = await ctx.app.inject({ method: 'POST', url: KEYS_URL, headers: withKey(key), payload: { name: 'escalation' } });
    expect(create.statusCode).toBe(403);
    expect(create.json()).toEqual(scopeRefusal('admin'));
  });

  it('lets an ingest key do nothing but ingest', async () => {
    const { key } = await newKey('ingest');
    const response = await getSettings(withKey(key));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual(scopeRefusal('read'));
  });

  it('lets a full key read and change settings', async () => {
    const { key } = await newKey('full');
    expect((await getSettings(withKey(key))).statusCode).toBe(200);
    const patch = await patchSettings(withKey(key));
    expect(patch.statusCode).toBe(200);
    expect(patch.json().heartbeat_threshold_minutes).toBe(7);
  });

  it('refuses a missing key and an unknown key', async () => {
    const missing = await getSettings({});
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ detail: 'Not authenticated: send an X-API-Key header or an Authorization: Bearer token' });

    const unknown = await getSettings(withKey(`vk_${'A'.repeat(43)}`));
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual({ detail: 'Invalid or revoked API key' });
  });

  it.each<[UserRole, number, number]>([
    ['viewer', 200, 403],
    ['member', 200, 403],
    ['admin', 200, 200],
  ])('gives a %s user GET %i and PATCH %i on settings', async (role, getStatus, patchStatus) => {
    const { email, password } = await createUser(ctx, tenant.tenantId, { role });
    const token = await login(ctx, email, password);
    expect((await getSettings(withToken(token))).statusCode).toBe(getStatus);
    const patch = await patchSettings(withToken(token));
    expect(patch.statusCode).toBe(patchStatus);
    if (patchStatus === 403) expect(patch.json()).toEqual(roleRefusal('admin'));
  });

  it('rejects an empty name and an unknown scope', async () => {
    const empty = await createKey({ name: '' });
    expect(empty.statusCode).toBe(422);
    expect(empty.json()).toEqual({ detail: [{ loc: ['body', 'name'], msg: 'Value must NOT have fewer than 1 characters', type: 'minLength' }] });

    const badScope = await createKey({ name: 'x', scope: 'root' });
    expect(badScope.statusCode).toBe(422);
    expect(badScope.json()).toEqual({ detail: [{ loc: ['body', 'scope'], msg: 'Input should be one of: "full", "read-only", "ingest"', type: 'enum' }] });
  });
});
