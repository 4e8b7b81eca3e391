import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, createUser, login, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A compact JWS: three base64url parts. */
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const DEFAULT_SETTINGS = {
  notification_email: null,
  heartbeat_threshold_minutes: 5,
  consecutive_failures_threshold: 2,
  alert_grouping_enabled: true,
  timezone: 'UTC',
  group_wait_seconds: 30,
  group_interval_seconds: 300,
  repeat_interval_seconds: 14_400,
};
const MISSING_TENANT = '00000000-0000-4000-8000-00000000abcd';

const withKey = (key: string) => ({ 'x-api-key': key });
const withToken = (token: string) => ({ authorization: `Bearer ${token}` });

// Each suite logs in more often than the default login rate limit allows in a minute.
const appOptions = { env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } };

describe.each(TEST_DIALECTS)('tenant settings on %s', (dialect) => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestApp(dialect, appOptions);
  });
  afterAll(() => ctx?.close());

  const getSettings = (tenant: TenantFixture) => ctx.app.inject({ method: 'GET', url: '/api/v1/settings', headers: withKey(tenant.apiKey) });
  const patchSettings = (tenant: TenantFixture, payload: unknown) => ctx.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: withKey(tenant.apiKey), payload: payload as object });

  it('gives a new tenant the default settings', async () => {
    const response = await getSettings(await createTenantWithKey(ctx));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(DEFAULT_SETTINGS);
  });

  it('changes only the fields sent', async () => {
    const tenant = await createTenantWithKey(ctx);
    const first = await patchSettings(tenant, { timezone: 'Europe/Paris', alert_grouping_enabled: false });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ ...DEFAULT_SETTINGS, timezone: 'Europe/Paris', alert_grouping_enabled: false });

    const second = await patchSettings(tenant, { notification_email: 'ops@example.com' });
    const expected = { ...DEFAULT_SETTINGS, timezone: 'Europe/Paris', alert_grouping_enabled: false, notification_email: 'ops@example.com' };
    expect(second.json()).toEqual(expected);
    expect((await getSettings(tenant)).json()).toEqual(expected);
  });

  it('keeps each tenant its own settings', async () => {
    const changed = await createTenantWithKey(ctx);
    const untouched = await createTenantWithKey(ctx);
    expect((await patchSettings(changed, { consecutive_failures_threshold: 4 })).statusCode).toBe(200);
    expect((await getSettings(untouched)).json()).toEqual(DEFAULT_SETTINGS);
  });

  it('rejects an unknown time zone, a bad e-mail and an empty patch', async () => {
    const tenant = await createTenantWithKey(ctx);
    const timezone = await patchSettings(tenant, { timezone: 'Mars/Base' });
    expect(timezone.statusCode).toBe(422);
    expect(timezone.json()).toEqual({ detail: [{ loc: ['body', 'timezone'], msg: expect.stringContaining('Mars/Base'), type: 'value_error' }] });

    const email = await patchSettings(tenant, { notification_email: 'not-an-email' });
    expect(email.statusCode).toBe(422);
    expect(email.json()).toEqual({ detail: [{ loc: ['body', 'notification_email'], msg: 'Value is not a valid email', type: 'email_parsing' }] });

    const empty = await patchSettings(tenant, {});
    expect(empty.statusCode).toBe(422);
    expect(empty.json()).toEqual({ detail: [{ loc: ['body'], msg: 'Value must NOT have fewer than 1 properties', type: 'minProperties' }] });

    expect((await getSettings(tenant)).json()).toEqual(DEFAULT_SETTINGS);
  });
});

describe.each(TEST_DIALECTS)('users on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  let admin: { id: string; token: string };

  beforeAll(async () => {
    ctx = await createTestApp(dialect, appOptions);
    tenant = await createTenantWithKey(ctx);
    const { user, email, password } = await createUser(ctx, tenant.tenantId, { role: 'admin' });
    admin = { id: user.id, token: await login(ctx, email, password) };
  });
  afterAll(() => ctx?.close());

  const asAdmin = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => ctx.app.inject({ method, url, headers: withToken(admin.token), ...(payload && { payload }) });

  it('creates a user and never returns a password', async () => {
    const response = await asAdmin('POST', '/api/v1/users', { email: 'New.Person@Example.com', password: 'long enough 1', role: 'viewer' });
    expect(response.statusCode).toBe(201);
    const now = new Date(ctx.clock.now()).toISOString();
    expect(response.json()).toEqual({
      id: expect.stringMatching(UUID),
      tenant_id: tenant.tenantId,
      email: 'new.person@example.com',
      role: 'viewer',
      is_superuser: false,
      is_active: true,
      created_at: now,
      updated_at: now,
    });

    const list = await asAdmin('GET', '/api/v1/users');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toContainEqual(response.json());
    expect(list.body).not.toMatch(/password/i);
  });

  it('refuses a second user with the same e-mail, whatever its case', async () => {
    const { email } = await createUser(ctx, tenant.tenantId, { email: 'taken@example.com' });
    for (const duplicate of [email, 'Taken@EXAMPLE.com']) {
      const response = await asAdmin('POST', '/api/v1/users', { email: duplicate, password: 'long enough 1' });
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ detail: { message: 'A user with this e-mail already exists.' } });
    }
  });

  it('refuses a short password', async () => {
    const response = await asAdmin('POST', '/api/v1/users', { email: 'short@example.com', password: 'short' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ detail: [{ loc: ['body', 'password'], msg: 'Value must NOT have fewer than 8 characters', type: 'minLength' }] });
  });

  it('shows a user and changes its role', async () => {
    const { user } = await createUser(ctx, tenant.tenantId, { role: 'viewer' });
    const shown = await asAdmin('GET', `/api/v1/users/${user.id}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ id: user.id, email: user.email, role: 'viewer' });

    ctx.clock.advance(5_000);
    const patched = await asAdmin('PATCH', `/api/v1/users/${user.id}`, { role: 'member' });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toEqual({ ...shown.json(), role: 'member', updated_at: new Date(ctx.clock.now()).toISOString() });
  });

  it('changes a password: the new one logs in, the old one no longer does', async () => {
    const { user, email, password } = await createUser(ctx, tenant.tenantId);
    const patched = await asAdmin('PATCH', `/api/v1/users/${user.id}`, { password: 'brand new secret' });
    expect(patched.statusCode).toBe(200);
    const token = await login(ctx, email, 'brand new secret');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: withToken(token) })).json().id).toBe(user.id);
    const old = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: email, password } });
    expect(old.statusCode).toBe(401);
  });

  it('deletes a user, after which it is not found', async () => {
    const { user } = await createUser(ctx, tenant.tenantId);
    const removed = await asAdmin('DELETE', `/api/v1/users/${user.id}`);
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe('');
    const gone = await asAdmin('GET', `/api/v1/users/${user.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ detail: 'User not found' });
  });

  it('does not let an admin delete their own user', async () => {
    const response = await asAdmin('DELETE', `/api/v1/users/${admin.id}`);
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ detail: 'You cannot delete your own user' });
    expect((await asAdmin('GET', `/api/v1/users/${admin.id}`)).statusCode).toBe(200);
  });

  it('does not let a non-superuser grant superuser', async () => {
    const created = await asAdmin('POST', '/api/v1/users', { email: 'wannabe@example.com', password: 'long enough 1', is_superuser: true });
    expect(created.statusCode).toBe(403);
    expect(created.json()).toEqual({ detail: 'Only a superuser may set is_superuser' });

    const { user } = await createUser(ctx, tenant.tenantId);
    const patched = await asAdmin('PATCH', `/api/v1/users/${user.id}`, { is_superuser: true });
    expect(patched.statusCode).toBe(403);
    expect(patched.json()).toEqual({ detail: 'Only a superuser may set is_superuser' });
  });

  it('does not let a non-superuser take over or delete a superuser', async () => {
    const { user, email, password } = await createUser(ctx, tenant.tenantId, { isSuperuser: true });
    const patched = await asAdmin('PATCH', `/api/v1/users/${user.id}`, { password: 'taken over 123' });
    expect(patched.statusCode).toBe(403);
    expect(patched.json()).toEqual({ detail: 'Only a superuser may change or delete a superuser' });
    const removed = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/users/${user.id}`, headers: withKey(tenant.apiKey) });
    expect(removed.statusCode).toBe(403);
    expect(await login(ctx, email, password)).toMatch(JWT); // the superuser can still log in with the old password
  });

  it("answers 404 for another tenant's user", async () => {
    const other = await createTenantWithKey(ctx);
    const { user } = await createUser(ctx, other.tenantId);
    for (const [method, payload] of [['GET'], ['PATCH', { role: 'viewer' }], ['DELETE']] as const) {
      const response = await asAdmin(method, `/api/v1/users/${user.id}`, payload);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ detail: 'User not found' });
    }
  });
});

describe.each(TEST_DIALECTS)('tenants on %s', (dialect) => {
  let ctx: TestContext;
  let home: TenantFixture;
  let superuser: Record<string, string>;

  beforeAll(async () => {
    ctx = await createTestApp(dialect, appOptions);
    home = await createTenantWithKey(ctx);
    const { email, password } = await createUser(ctx, home.tenantId, { isSuperuser: true });
    superuser = withToken(await login(ctx, email, password));
  });
  afterAll(() => ctx?.close());

  const call = (headers: Record<string, string>, method: 'GET' | 'POST', url: string, payload?: object) => ctx.app.inject({ method, url, headers, ...(payload && { payload }) });

  it('lets a superuser create a tenant, with default settings', async () => {
    const created = await call(superuser, 'POST', '/api/v1/tenants', { name: 'Acme' });
    expect(created.statusCode).toBe(201);
    const tenant = created.json();
    expect(tenant).toEqual({ id: expect.stringMatching(UUID), name: 'Acme', created_at: new Date(ctx.clock.now()).toISOString() });

    const settings = await ctx.database.db.selectFrom('tenant_settings').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow();
    expect(settings).toMatchObject({
      notification_email: null,
      heartbeat_threshold_minutes: 5,
      consecutive_failures_threshold: 2,
      alert_grouping_enabled: 1,
      timezone: 'UTC',
    });

    const list = await call(superuser, 'GET', '/api/v1/tenants');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toContainEqual(tenant);
    expect(list.json().map((t: { id: string }) => t.id)).toContain(home.tenantId);

    const one = await call(superuser, 'GET', `/api/v1/tenants/${tenant.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(tenant);
  });

  it("lets a superuser list and add a tenant's users, who then log in to that tenant", async () => {
    const tenant = (await call(superuser, 'POST', '/api/v1/tenants', { name: 'Globex' })).json();
    const empty = await call(superuser, 'GET', `/api/v1/tenants/${tenant.id}/users`);
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual([]);

    const added = await call(superuser, 'POST', `/api/v1/tenants/${tenant.id}/users`, { email: 'boss@globex.example', password: 'long enough 1' });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ tenant_id: tenant.id, email: 'boss@globex.example', role: 'admin', is_superuser: false });
    expect((await call(superuser, 'GET', `/api/v1/tenants/${tenant.id}/users`)).json()).toEqual([added.json()]);

    const token = await login(ctx, 'boss@globex.example', 'long enough 1');
    const me = await call(withToken(token), 'GET', '/api/v1/auth/me');
    expect(me.json().tenant_id).toBe(tenant.id);
  });

  it('answers 404 for an unknown tenant', async () => {
    const requests = [
      call(superuser, 'GET', `/api/v1/tenants/${MISSING_TENANT}`),
      call(superuser, 'GET', `/api/v1/tenants/${MISSING_TENANT}/users`),
      call(superuser, 'POST', `/api/v1/tenants/${MISSING_TENANT}/users`, { email: 'ghost@example.com', password: 'long enough 1' }),
    ];
    for (const response of await Promise.all(requests)) {
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ detail: 'Tenant not found' });
    }
  });

  it('refuses a tenant id that already exists', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    expect((await call(superuser, 'POST', '/api/v1/tenants', { id, name: 'First' })).statusCode).toBe(201);
    const again = await call(superuser, 'POST', '/api/v1/tenants', { id, name: 'Second' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ detail: { message: 'A tenant with this id already exists.', existing_id: id } });
    expect((await call(superuser, 'GET', `/api/v1/tenants/${id}`)).json().name).toBe('First');
  });

  it('refuses every tenant route to a full API key and to a non-superuser admin', async () => {
    const { email, password } = await createUser(ctx, home.tenantId, { role: 'admin' });
    const callers: [Record<string, string>, string][] = [
      [withKey(home.apiKey), `This API key's scope does not allow this operation (needs "superuser")`],
      [withToken(await login(ctx, email, password)), 'Your role does not allow this operation (needs "superuser")'],
    ];
    for (const [headers, detail] of callers) {
      const responses = [
        await call(headers, 'GET', '/api/v1/tenants'),
        await call(headers, 'POST', '/api/v1/tenants', { name: 'Sneaky' }),
        await call(headers, 'GET', `/api/v1/tenants/${home.tenantId}`),
        await call(headers, 'GET', `/api/v1/tenants/${home.tenantId}/users`),
        await call(headers, 'POST', `/api/v1/tenants/${home.tenantId}/users`, { email: 'sneaky@example.com', password: 'long enough 1' }),
      ];
      for (const response of responses) {
        expect(response.statusCode).toBe(403);
        expect(response.json()).toEqual({ detail });
      }
    }
    const names = (await call(superuser, 'GET', '/api/v1/tenants')).json().map((t: { name: string }) => t.name);
    expect(names).not.toContain('Sneaky');
  });
});
