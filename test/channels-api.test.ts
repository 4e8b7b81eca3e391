/**
 * Issue 4's /api/v1/channels on every dialect, through the HTTP API: creation of each kind with
 * write-only secrets (never in a response body, named by `secrets_set`), 422s that point into
 * the config, 409 on a duplicate name, PATCH keeping or removing secrets (proved by the HMAC a
 * stand-in webhook receives), the test button against stand-ins (webhook, Slack, Telegram,
 * PagerDuty, a real SMTP capture), the default e-mail channel that follows
 * PATCH /api/v1/settings, a monitor's channel_ids / repeat_interval_seconds, DELETE, and roles.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTenantWithKey, createTestApp, createUser, login, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { closedPort, parseMail, StandIn, startSmtpCapture } from './helpers/receivers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const CHAT_ID = -1001234567890;
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const WEBHOOK_SECRET = 'wh-s3cret-original-value';
const AUTH_HEADER = 'Bearer t0ken';
const SLACK_PATH = '/services/T0VIGIE/B0VIGIE/sl4ckS3cretPath';
const NOW_ISO = '2026-11-21T12:00:00.000Z';

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());
beforeEach(() => standIn.reset());

const hmac = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function expectStatus(response: LightMyRequestResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
}

describe.each(TEST_DIALECTS)('channel routes on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function start(env: Record<string, string> = {}, tenantName?: string) {
    ctx = await createTestApp(dialect, {
      env: { TELEGRAM_API_BASE_URL: standIn.base, PAGERDUTY_EVENTS_URL: `${standIn.base}/v2/enqueue`, ...env },
    });
    const tenant = await createTenantWithKey(ctx, 'full', tenantName);
    const headers = { 'x-api-key': tenant.apiKey };
    const app = ctx.app;
    const api = {
      create: (payload: unknown, h: Record<string, string> = headers) => app.inject({ method: 'POST', url: '/api/v1/channels', headers: h, payload: payload as object }),
      list: (h: Record<string, string> = headers) => app.inject({ method: 'GET', url: '/api/v1/channels', headers: h }),
      get: (id: string, h: Record<string, string> = headers) => app.inject({ method: 'GET', url: `/api/v1/channels/${id}`, headers: h }),
      patch: (id: string, payload: unknown, h: Record<string, string> = headers) => app.inject({ method: 'PATCH', url: `/api/v1/channels/${id}`, headers: h, payload: payload as object }),
      remove: (id: string, h: Record<string, string> = headers) => app.inject({ method: 'DELETE', url: `/api/v1/channels/${id}`, headers: h }),
      test: (id: string, h: Record<string, string> = headers) => app.inject({ method: 'POST', url: `/api/v1/channels/${id}/test`, headers: h }),
      settings: (payload: unknown) => app.inject({ method: 'PATCH', url: '/api/v1/settings', headers, payload: payload as object }),
      patchMonitor: (id: string, payload: unknown) => app.inject({ method: 'PATCH', url: `/api/v1/monitors/${id}`, headers, payload: payload as object }),
    };
    return { ctx, tenant, headers, api };
  }

  type Api = Awaited<ReturnType<typeof start>>['api'];

  async function created(api: Api, payload: unknown): Promise<string> {
    const response = await api.create(payload);
    expectStatus(response, 201);
    expect(response.json().id).toMatch(UUID);
    return response.json().id as string;
  }

  const webhook = (path = '/hook', extra: Record<string, unknown> = {}) => ({
    name: 'Hook',
    kind: 'webhook',
    config: { url: `${standIn.base}${path}`, secret: WEBHOOK_SECRET, headers: { Authorization: AUTH_HEADER } },
    ...extra,
  });

  it('creates a channel of each kind: 201, exact non-secret fields, secrets only named in secrets_set (create, GET one, GET list)', async () => {
    const { api } = await start();
    const kinds = [
      { input: { name: 'Mail', kind: 'email', config: { to: ['a@example.com', 'b@example.com'] } }, config: { to: ['a@example.com', 'b@example.com'] }, secrets: [] },
      { input: { name: 'Slack', kind: 'slack', config: { url: `${standIn.base}${SLACK_PATH}` } }, config: {}, secrets: ['url'] },
      { input: { name: 'Telegram', kind: 'telegram', config: { bot_token: BOT_TOKEN, chat_id: CHAT_ID } }, config: { chat_id: CHAT_ID }, secrets: ['bot_token'] },
      { input: { name: 'Pager', kind: 'pagerduty', config: { routing_key: ROUTING_KEY } }, config: {}, secrets: ['routing_key'] },
      { input: webhook(), config: { url: `${standIn.base}/hook` }, secrets: ['headers', 'secret'] },
    ];
    const secretValues = [SLACK_PATH, BOT_TOKEN, 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw', ROUTING_KEY, WEBHOOK_SECRET, 't0ken'];
    const expectNoSecret = (body: string) => {
      for (const secret of secretValues) expect(body).not.toContain(secret);
    };
    const expected = (id: string, k: (typeof kinds)[number]) => ({
      id,
      name: k.input.name,
      kind: k.input.kind,
      config: k.config,
      secrets_set: k.secrets,
      send_resolved: true,
      severities: null,
      tags: null,
      is_active: true,
      is_default_email: false,
      created_at: NOW_ISO,
      updated_at: NOW_ISO,
      last_delivery: null,
    });
    const sorted = (body: Record<string, unknown>) => ({ ...body, secrets_set: [...(body.secrets_set as string[])].sort() });

    const ids: string[] = [];
    for (const k of kinds) {
      const response = await api.create(k.input);
      expectStatus(response, 201);
      expectNoSecret(response.body);
      const id = response.json().id as string;
      ids.push(id);
      expect(sorted(response.json())).toEqual(expected(id, k));

      const one = await api.get(id);
      expectStatus(one, 200);
      expectNoSecret(one.body);
      expect(sorted(one.json())).toEqual(expected(id, k));
    }

    const list = await api.list();
    expectStatus(list, 200);
    expectNoSecret(list.body);
    const byId = new Map((list.json() as Record<string, unknown>[]).map((c) => [c.id as string, sorted(c)]));
    expect(byId.size).toBe(5);
    kinds.forEach((k, i) => expect(byId.get(ids[i]!)).toEqual(expected(ids[i]!, k)));
  });

  it('rejects bad configs with 422 entries pointing into the config, and creates nothing', async () => {
    const { api } = await start();
    const expect422 = async (payload: unknown, detail: unknown) => {
      const response = await api.create(payload);
      expectStatus(response, 422);
      expect(response.json()).toEqual({ detail });
    };

    await expect422({ name: 'Ftp', kind: 'webhook', config: { url: 'ftp://x' } }, [{ loc: ['body', 'config', 'url'], msg: 'Value must match pattern "^https?://"', type: 'pattern' }]);
    await expect422({ name: 'Extra', kind: 'slack', config: { url: `${standIn.base}/s`, channel: '#ops' } }, [
      { loc: ['body', 'config', 'channel'], msg: 'Extra field not permitted', type: 'extra_forbidden' },
    ]);
    await expect422({ name: 'Nobody', kind: 'email', config: { to: [] } }, [{ loc: ['body', 'config', 'to'], msg: 'Value must not have fewer than 1 items', type: 'minItems' }]);
    await expect422({ name: 'Bad mail', kind: 'email', config: { to: ['not an address'] } }, [{ loc: ['body', 'config', 'to', 0], msg: 'Value is not a valid email', type: 'email_parsing' }]);
    const badToken = await api.create({ name: 'Bot', kind: 'telegram', config: { bot_token: 'not-a-real-token', chat_id: 42 } });
    expectStatus(badToken, 422);
    expect(badToken.json()).toEqual({ detail: [{ loc: ['body', 'config', 'bot_token'], msg: 'Value must match pattern "^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$"', type: 'pattern' }] });
    expect(badToken.body).not.toContain('not-a-real-token');
    // A key missing from a config must be named like the request validator names one.
    await expect422({ name: 'No key', kind: 'pagerduty', config: {} }, [{ loc: ['body', 'config', 'routing_key'], msg: 'Field required', type: 'missing' }]);
    await expect422({ name: 'Sms', kind: 'sms', config: {} }, [{ loc: ['body', 'kind'], msg: 'Input should be one of: "email", "slack", "telegram", "pagerduty", "webhook"', type: 'enum' }]);
    await expect422({ kind: 'email', config: { to: ['a@example.com'] } }, [{ loc: ['body', 'name'], msg: 'Field required', type: 'missing' }]);

    expect((await api.list()).json()).toEqual([]);
  });

  it('409 on a duplicate name in the same tenant; the same name in another tenant is fine', async () => {
    const { ctx, api } = await start();
    await created(api, { name: 'Ops mail', kind: 'email', config: { to: ['a@example.com'] } });
    const duplicate = await api.create({ name: 'Ops mail', kind: 'slack', config: { url: `${standIn.base}/s` } });
    expectStatus(duplicate, 409);
    expect(duplicate.json()).toEqual({ detail: 'A channel named "Ops mail" already exists' });
    expect((await api.list()).json()).toHaveLength(1);

    const other = await createTenantWithKey(ctx);
    const elsewhere = await api.create({ name: 'Ops mail', kind: 'email', config: { to: ['b@example.com'] } }, { 'x-api-key': other.apiKey });
    expectStatus(elsewhere, 201);
    expect(elsewhere.json()).toMatchObject({ name: 'Ops mail', config: { to: ['b@example.com'] } });
  });

  it('PATCH config without the secret keeps it (signature by the original secret); secret: null removes it', async () => {
    const { api } = await start();
    const id = await created(api, webhook());

    const moved = await api.patch(id, { config: { url: `${standIn.base}/moved` } });
    expectStatus(moved, 200);
    expect(moved.json().config).toEqual({ url: `${standIn.base}/moved` });
    expect([...moved.json().secrets_set].sort()).toEqual(['headers', 'secret']);
    expect(moved.body).not.toContain(WEBHOOK_SECRET);

    expect((await api.test(id)).json()).toMatchObject({ ok: true, status: 200 });
    expect(standIn.recorded).toHaveLength(1);
    const signed = standIn.recorded[0]!;
    expect(signed.method).toBe('POST');
    expect(signed.url).toBe('/moved');
    expect(signed.headers['x-vigie-signature']).toBe(hmac(WEBHOOK_SECRET, signed.body));
    expect(signed.headers.authorization).toBe(AUTH_HEADER);

    standIn.reset();
    const unsigned = await api.patch(id, { config: { url: `${standIn.base}/moved`, secret: null } });
    expectStatus(unsigned, 200);
    expect(unsigned.json().secrets_set).toEqual(['headers']);
    expect((await api.test(id)).json()).toMatchObject({ ok: true, status: 200 });
    expect(standIn.recorded).toHaveLength(1);
    expect(standIn.recorded[0]!.headers).not.toHaveProperty('x-vigie-signature');
    expect(standIn.recorded[0]!.headers.authorization).toBe(AUTH_HEADER);

    standIn.reset();
    expectStatus(await api.patch(id, { config: { url: `${standIn.base}/moved`, secret: 'a-new-secret' } }), 200);
    await api.test(id);
    expect(standIn.recorded[0]!.headers['x-vigie-signature']).toBe(hmac('a-new-secret', standIn.recorded[0]!.body));
  });

  it('PATCH round-trips name, send_resolved, severities and tags; refuses unknown fields and kind', async () => {
    const { ctx, api } = await start();
    const id = await created(api, { name: 'Mail', kind: 'email', config: { to: ['a@example.com'] } });
    ctx.clock.advance(5_000);

    const patched = await api.patch(id, { name: 'On-call mail', send_resolved: false, severities: ['critical'], tags: ['prod', 'db'] });
    expectStatus(patched, 200);
    const expected = {
      id,
      name: 'On-call mail',
      kind: 'email',
      config: { to: ['a@example.com'] },
      secrets_set: [],
      send_resolved: false,
      severities: ['critical'],
      tags: ['prod', 'db'],
      is_active: true,
      is_default_email: false,
      created_at: NOW_ISO,
      updated_at: '2026-11-21T12:00:05.000Z',
      last_delivery: null,
    };
    expect(patched.json()).toEqual(expected);
    expect((await api.get(id)).json()).toEqual(expected);

    const cleared = await api.patch(id, { severities: null, tags: null });
    expect(cleared.json()).toMatchObject({ severities: null, tags: null, name: 'On-call mail', send_resolved: false });

    const unknown = await api.patch(id, { colour: 'red' });
    expectStatus(unknown, 422);
    expect(unknown.json()).toEqual({ detail: [{ loc: ['body', 'colour'], msg: 'Extra field not permitted', type: 'extra_forbidden' }] });
    const kind = await api.patch(id, { kind: 'slack' });
    expectStatus(kind, 422);
    expect(kind.json()).toEqual({ detail: [{ loc: ['body', 'kind'], msg: 'Extra field not permitted', type: 'extra_forbidden' }] });
    expect((await api.get(id)).json()).toMatchObject({ kind: 'email', name: 'On-call mail' });
  });

  it('/test sends one test message to a webhook and reports the answer: 200, 500, refused connection', async () => {
    const { tenant, api } = await start({}, 'Acme Ops');
    const id = await created(api, webhook());

    const ok = await api.test(id);
    expectStatus(ok, 200);
    expect(ok.json()).toEqual({ ok: true, retryable: false, status: 200, detail: `HTTP 200 from ${standIn.host}: {"ok":true}` });
    expect(standIn.recorded).toHaveLength(1);
    const sent = standIn.recorded[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/hook');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['x-vigie-idempotency-key']).toMatch(/^test:[0-9a-f-]{36}$/);
    const body = JSON.parse(sent.body);
    expect(body).toMatchObject({ version: 1, kind: 'test', tenant: { name: 'Acme Ops', time_zone: 'UTC' } });
    expect(body.title).toMatch(/^\[Acme Ops\] Test: /);
    expect(body.items).toEqual([
      {
        monitor_id: '00000000-0000-0000-0000-000000000000',
        monitor_name: 'Vigie test monitor',
        monitor_kind: 'http',
        from_state: 'up',
        to_state: 'down',
        reason: 'This is a test message: the channel works.',
        at: NOW_ISO,
        incident_id: null,
        down_for_ms: null,
      },
    ]);
    expect(tenant.tenantId).toMatch(UUID);

    standIn.answers.push({ status: 500, body: 'boom' });
    const failed = await api.test(id);
    expectStatus(failed, 200);
    expect(failed.json()).toEqual({ ok: false, retryable: true, status: 500, detail: `HTTP 500 from ${standIn.host}: boom` });

    const port = await closedPort();
    expectStatus(await api.patch(id, { config: { url: `http://127.0.0.1:${port}/hook` } }), 200);
    const refused = await api.test(id);
    expectStatus(refused, 200);
    expect(refused.json()).toEqual({ ok: false, retryable: true, status: null, detail: `connection refused by 127.0.0.1:${port}` });
    expect(standIn.recorded).toHaveLength(2);
  });

  it('/test of Slack, Telegram and PagerDuty hits the exact stand-in paths and never echoes a secret', async () => {
    const { api } = await start();
    const slack = await created(api, { name: 'Slack', kind: 'slack', config: { url: `${standIn.base}${SLACK_PATH}` } });
    const telegram = await created(api, { name: 'Telegram', kind: 'telegram', config: { bot_token: BOT_TOKEN, chat_id: CHAT_ID } });
    const pager = await created(api, { name: 'Pager', kind: 'pagerduty', config: { routing_key: ROUTING_KEY } });

    const slackTest = await api.test(slack);
    expect(slackTest.json()).toEqual({ ok: true, retryable: false, status: 200, detail: `HTTP 200 from ${standIn.host}: {"ok":true}` });
    expect(slackTest.body).not.toContain(SLACK_PATH);
    expect(standIn.recorded.map((r) => [r.method, r.url])).toEqual([['POST', SLACK_PATH]]);
    const slackBody = JSON.parse(standIn.recorded[0]!.body);
    expect(slackBody.text).toMatch(/Test: Vigie test monitor \(http\) is DOWN$/);
    expect(slackBody.blocks[0]).toMatchObject({ type: 'header' });

    standIn.reset();
    const telegramTest = await api.test(telegram);
    expect(telegramTest.json()).toMatchObject({ ok: true, retryable: false, status: 200 });
    expect(telegramTest.body).not.toContain(BOT_TOKEN);
    expect(telegramTest.body).not.toContain('AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw');
    expect(standIn.recorded.map((r) => [r.method, r.url])).toEqual([['POST', `/bot${BOT_TOKEN}/sendMessage`]]);
    expect(JSON.parse(standIn.recorded[0]!.body)).toMatchObject({ chat_id: CHAT_ID, parse_mode: 'HTML', text: expect.stringContaining('Vigie test monitor') });

    standIn.reset();
    standIn.answers.push({ status: 202, body: '{"status":"success"}' });
    const pagerTest = await api.test(pager);
    expect(pagerTest.json()).toMatchObject({ ok: true, retryable: false, status: 202 });
    expect(pagerTest.body).not.toContain(ROUTING_KEY);
    expect(standIn.recorded.map((r) => [r.method, r.url])).toEqual([['POST', '/v2/enqueue']]);
    expect(JSON.parse(standIn.recorded[0]!.body)).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', payload: { source: 'Vigie test monitor', severity: 'critical' } });
  });

  it('the default e-mail channel follows PATCH /api/v1/settings, refuses config changes and DELETE, and delivers its test over SMTP', async () => {
    const smtp = await startSmtpCapture();
    try {
      const { api } = await start({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_FROM: 'Vigie <alerts@vigie.test>' }, 'Tenant Ops');
      expectStatus(await api.settings({ notification_email: 'ops@tenant.example' }), 200);
      const list = (await api.list()).json();
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ is_default_email: true, kind: 'email', config: { to: ['ops@tenant.example'] }, is_active: true, secrets_set: [] });
      const id = list[0].id as string;

      expectStatus(await api.settings({ notification_email: 'oncall@tenant.example' }), 200);
      expect((await api.list()).json()).toEqual([expect.objectContaining({ id, config: { to: ['oncall@tenant.example'] }, is_active: true })]);
      expectStatus(await api.settings({ notification_email: 'ops@tenant.example' }), 200);

      const test = await api.test(id);
      expectStatus(test, 200);
      expect(test.json()).toMatchObject({ ok: true, retryable: false });
      expect(test.json().detail).toMatch(new RegExp(`^accepted by 127\\.0\\.0\\.1:${smtp.port}: 250`));
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]!.from).toBe('alerts@vigie.test');
      expect(smtp.received[0]!.to).toEqual(['ops@tenant.example']);
      const mail = parseMail(smtp.received[0]!.raw);
      expect(mail.headers.get('subject')).toMatch(/^\[Tenant Ops\] Test: /);
      expect(mail.headers.get('to')).toBe('ops@tenant.example');
      expect(mail.text).toContain('Vigie test monitor');

      const follows = "This channel follows the tenant's notification_email setting: change or clear the address with PATCH /api/v1/settings";
      const configPatch = await api.patch(id, { config: { to: ['other@example.com'] } });
      expectStatus(configPatch, 409);
      expect(configPatch.json()).toEqual({ detail: follows });
      const removal = await api.remove(id);
      expectStatus(removal, 409);
      expect(removal.json()).toEqual({ detail: follows });
      const severities = await api.patch(id, { severities: ['critical'] });
      expectStatus(severities, 200);
      expect(severities.json()).toMatchObject({ id, severities: ['critical'], config: { to: ['ops@tenant.example'] }, is_default_email: true });

      expectStatus(await api.settings({ notification_email: null }), 200);
      expect((await api.list()).json()).toEqual([expect.objectContaining({ id, is_default_email: true, is_active: false, severities: ['critical'] })]);
    } finally {
      await smtp.close();
    }
  });

  it("PATCH /api/v1/monitors/{id} sets channel_ids (only the tenant's channels) and repeat_interval_seconds", async () => {
    const { ctx, api, headers } = await start();
    const channelId = await created(api, webhook());
    const monitor = await ctx.app.inject({ method: 'POST', url: '/api/v1/http-targets', headers, payload: { name: 'Api', url: 'http://127.0.0.1:9/', failure_threshold: 1, timeout_seconds: 2 } });
    expectStatus(monitor, 201);
    const monitorId = monitor.json().id as string;

    const set = await api.patchMonitor(monitorId, { channel_ids: [channelId] });
    expectStatus(set, 200);
    expect(set.json()).toMatchObject({ id: monitorId, channel_ids: [channelId], repeat_interval_seconds: null });

    const unknownId = randomUUID();
    const unknown = await api.patchMonitor(monitorId, { channel_ids: [unknownId] });
    expectStatus(unknown, 422);
    expect(unknown.json()).toEqual({ detail: [{ loc: ['body', 'channel_ids', 0], msg: `No channel ${unknownId} in this tenant`, type: 'value_error' }] });

    const other = await createTenantWithKey(ctx);
    const foreign = await api.create({ name: 'Theirs', kind: 'email', config: { to: ['x@example.com'] } }, { 'x-api-key': other.apiKey });
    const foreignId = foreign.json().id as string;
    const cross = await api.patchMonitor(monitorId, { channel_ids: [foreignId] });
    expectStatus(cross, 422);
    expect(cross.json()).toEqual({ detail: [{ loc: ['body', 'channel_ids', 0], msg: `No channel ${foreignId} in this tenant`, type: 'value_error' }] });
    const mixed = await api.patchMonitor(monitorId, { channel_ids: [channelId, foreignId] });
    expectStatus(mixed, 422);
    expect(mixed.json().detail.map((d: { loc: unknown }) => d.loc)).toEqual([['body', 'channel_ids', 1]]);
    const getMonitor = () => ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${monitorId}`, headers });
    expect((await getMonitor()).json().channel_ids).toEqual([channelId]);

    const all = await api.patchMonitor(monitorId, { channel_ids: null });
    expectStatus(all, 200);
    expect(all.json().channel_ids).toBeNull();

    const repeat = await api.patchMonitor(monitorId, { repeat_interval_seconds: 600 });
    expectStatus(repeat, 200);
    expect(repeat.json()).toMatchObject({ repeat_interval_seconds: 600, channel_ids: null });
    expect((await getMonitor()).json()).toMatchObject({ repeat_interval_seconds: 600, channel_ids: null });
  });

  it('DELETE answers 204 then 404; viewers and read-only keys read but get 403 on writes', async () => {
    const { ctx, tenant, api } = await start();
    const id = await created(api, webhook());

    const { email, password } = await createUser(ctx, tenant.tenantId, { role: 'viewer' });
    const viewer = { authorization: `Bearer ${await login(ctx, email, password)}` };
    const { secret } = await ctx.services.apiKeys.create(tenant.tenantId, { name: 'reader', scope: 'read-only' });
    const reader = { 'x-api-key': secret };
    const payload = { name: 'Nope', kind: 'email', config: { to: ['a@example.com'] } };
    for (const [who, refusal] of [
      [viewer, 'Your role does not allow this operation (needs "write")'],
      [reader, 'This API key\'s scope does not allow this operation (needs "write")'],
    ] as const) {
      expectStatus(await api.list(who), 200);
      expectStatus(await api.get(id, who), 200);
      for (const response of [await api.create(payload, who), await api.patch(id, { name: 'Nope' }, who), await api.remove(id, who), await api.test(id, who)]) {
        expectStatus(response, 403);
        expect(response.json()).toEqual({ detail: refusal });
      }
    }
    expect(standIn.recorded).toHaveLength(0);
    expect((await api.list()).json()).toEqual([expect.objectContaining({ id, name: 'Hook' })]);

    const removed = await api.remove(id);
    expectStatus(removed, 204);
    expect(removed.body).toBe('');
    const gone = await api.get(id);
    expectStatus(gone, 404);
    expect(gone.json()).toEqual({ detail: 'Channel not found' });
    expectStatus(await api.remove(id), 404);
    expectStatus(await api.test(id), 404);
    expect((await api.list()).json()).toEqual([]);
  });
});
