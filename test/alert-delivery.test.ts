/**
 * The notification outbox's delivery loop on every dialect, stepped with the manual clock:
 * retries on the backoff schedule with one idempotency key and exactly one success, permanent
 * failures, giving up after 24 h, a lease taken over after a sender died (and the stale sender
 * unable to touch the row), concurrent workers sending each message once, every provider end to
 * end through the outbox (real SMTP capture; PagerDuty, Telegram and Slack stand-ins), a hanging
 * channel not holding up another, and a monitor deleted between routing and delivery.
 * Grouping is off for the tenant throughout: one message per event and channel.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FIRST_RETRY_MS, GIVE_UP_AFTER_MS, nextAttemptAt } from '../src/alerting/backoff.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { parseMail, StandIn, startSmtpCapture, type RecordedRequest, type SmtpCapture } from './helpers/receivers.js';

const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const TENANT_NAME = 'Acme Ops';

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());
beforeEach(() => standIn.reset());

const json = (request: RecordedRequest) => JSON.parse(request.body) as Record<string, any>;
const keyOf = (request: RecordedRequest) => request.headers['x-vigie-idempotency-key'];
const fail503 = (n: number) => Array.from({ length: n }, () => ({ status: 503, body: '{"error":"busy"}' }));

function ok(response: LightMyRequestResponse, status = 200) {
  expect(response.statusCode, response.body).toBe(status);
  return status === 204 ? undefined : response.json();
}

describe.each(TEST_DIALECTS)('alert delivery on %s', (dialect) => {
  let ctx: TestContext | undefined;

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function start(env: Record<string, string> = {}) {
    ctx = await createTestApp(dialect, { env });
    const c = ctx;
    const tenant = await createTenantWithKey(c, 'full', TENANT_NAME);
    const headers = { 'x-api-key': tenant.apiKey };
    const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => c.app.inject({ method, url, headers, ...(payload && { payload }) });
    const t = {
      ctx: c,
      inject,
      settings: async (changes: object) => ok(await inject('PATCH', '/api/v1/settings', changes)),
      channel: async (kind: string, config: object, name = `${kind} channel`): Promise<string> => ok(await inject('POST', '/api/v1/channels', { name, kind, config }), 201).id,
      monitor: async (name: string, url = `https://${name}/health`): Promise<string> =>
        ok(await inject('POST', '/api/v1/http-targets', { name, url, failure_threshold: 1, recovery_threshold: 1, timeout_seconds: 2 }), 201).id,
      /** Records a result that flips the monitor; returns the flip id. */
      record: async (monitorId: string, status: 'up' | 'down', message: string): Promise<string> => {
        const recorded = await c.services.recorder.record(monitorId, { status, message });
        expect(recorded?.flip?.toState).toBe(status);
        return recorded!.flip!.id;
      },
      route: () => c.services.alertRouter.routeBatch(),
      deliverDue: () => c.services.delivery.deliverDue(),
      outbox: async (status?: string): Promise<Record<string, any>[]> => ok(await inject('GET', `/api/v1/alerts/notifications${status ? `?status=${status}` : ''}`)),
      events: async (monitorId: string): Promise<Record<string, any>[]> => ok(await inject('GET', `/api/v1/alerts/events?monitor=${monitorId}`)).items,
      event: async (id: string): Promise<Record<string, any>> => ok(await inject('GET', `/api/v1/alerts/events/${id}`)),
    };
    await t.settings({ alert_grouping_enabled: false });
    return t;
  }

  /** One monitor gone down and routed to one webhook channel. */
  async function downOnWebhook(t: Awaited<ReturnType<typeof start>>, url = `${standIn.base}/hook`) {
    const channelId = await t.channel('webhook', { url });
    const monitorId = await t.monitor('api.example.com');
    const flipId = await t.record(monitorId, 'down', 'connection refused');
    expect(await t.route()).toEqual({ events: 1, queued: 1 });
    const [event] = await t.events(monitorId);
    return { channelId, monitorId, eventId: event!.id as string, key: `${flipId}:${channelId}` };
  }

  it('retries a 503 after 10, 20 and 40 s with one idempotency key, and stops once sent', async () => {
    const t = await start();
    standIn.answers.push(...fail503(3));
    const { eventId, key } = await downOnWebhook(t);
    const created = t.ctx.clock.now();

    expect(await t.deliverDue()).toBe(1);
    expect(standIn.recorded).toHaveLength(1);
    expect(await t.deliverDue()).toBe(0); // not due yet
    t.ctx.clock.advance(FIRST_RETRY_MS - 1);
    expect(await t.deliverDue()).toBe(0);
    expect(standIn.recorded).toHaveLength(1);

    for (const [step, total] of [
      [1, 2],
      [20_000, 3],
      [40_000, 4],
    ] as const) {
      t.ctx.clock.advance(step);
      expect(await t.deliverDue()).toBe(1);
      expect(standIn.recorded).toHaveLength(total);
    }
    for (let i = 0; i < 5; i++) {
      t.ctx.clock.advance(86_400_000);
      expect(await t.deliverDue()).toBe(0);
    }
    expect(standIn.recorded).toHaveLength(4);
    for (const request of standIn.recorded) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/hook');
      expect(keyOf(request)).toBe(key);
    }
    expect(new Set(standIn.recorded.map((r) => r.body)).size).toBe(1); // the same message each time

    const [notification] = (await t.event(eventId)).notifications;
    expect(notification).toMatchObject({ status: 'sent', attempts: 4, idempotency_key: key, next_attempt_at: null, last_error: null });
    expect(notification.sent_at).toBe(new Date(created + 70_000).toISOString());
    expect(notification.first_attempt_at).toBe(new Date(created).toISOString());
    const log = notification.attempt_log as Record<string, any>[];
    expect(log.map((a) => [a.at, a.ok, a.retryable, a.status])).toEqual([
      [new Date(created).toISOString(), false, true, 503],
      [new Date(created + 10_000).toISOString(), false, true, 503],
      [new Date(created + 30_000).toISOString(), false, true, 503],
      [new Date(created + 70_000).toISOString(), true, false, 200],
    ]);
    expect(log[0]!.detail).toContain('HTTP 503');
  });

  it('marks a 400 failed after one attempt and never retries it', async () => {
    const t = await start();
    standIn.answers.push({ status: 400, body: '{"error":"bad payload"}' });
    const { eventId } = await downOnWebhook(t);

    expect(await t.deliverDue()).toBe(1);
    for (let i = 0; i < 4; i++) {
      t.ctx.clock.advance(3_600_000);
      expect(await t.deliverDue()).toBe(0);
    }
    expect(standIn.recorded).toHaveLength(1);

    const failed = await t.outbox('failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: 'failed', attempts: 1, next_attempt_at: null, event_ids: [eventId] });
    expect(failed[0]!.last_error).toContain('400');
    expect(failed[0]!.attempt_log).toMatchObject([{ ok: false, retryable: false, status: 400 }]);
    expect(await t.outbox('pending')).toEqual([]);
  });

  it('gives up after 24 h of 503s, on the backoff schedule', async () => {
    const t = await start();
    standIn.answers.push(...fail503(200));
    await downOnWebhook(t);
    const created = t.ctx.clock.now();

    // The schedule backoff.ts promises: first attempt at once, then 10 s, 20 s, 40 s… up to 1 h.
    const expectedTimes = [created];
    for (let next = nextAttemptAt(created, 1, created); next !== null; next = nextAttemptAt(created, expectedTimes.length, next)) expectedTimes.push(next);

    expect(await t.deliverDue()).toBe(1);
    for (;;) {
      const [row] = await t.outbox();
      if (row!.status !== 'pending') break;
      expect(row!.attempts).toBeLessThan(expectedTimes.length);
      t.ctx.clock.set(Date.parse(row!.next_attempt_at));
      expect(await t.deliverDue()).toBe(1);
    }
    const [row] = await t.outbox();
    expect(row).toMatchObject({ status: 'failed', attempts: expectedTimes.length, next_attempt_at: null });
    expect(row!.last_error).toContain('HTTP 503');
    const times = (row!.attempt_log as { at: string }[]).map((a) => Date.parse(a.at));
    expect(times).toEqual(expectedTimes);
    expect(times.at(-1)!).toBeLessThanOrEqual(created + GIVE_UP_AFTER_MS);
    expect(standIn.recorded).toHaveLength(expectedTimes.length);

    t.ctx.clock.advance(GIVE_UP_AFTER_MS);
    expect(await t.deliverDue()).toBe(0);
    expect(standIn.recorded).toHaveLength(expectedTimes.length);
  });

  it('takes over a row whose sender died once the lease runs out, and ignores the stale sender', async () => {
    const t = await start();
    const { eventId, key } = await downOnWebhook(t);
    const leaseMs = Math.max(60_000, t.ctx.config.notifyTimeoutSeconds * 1000 * 3);
    expect(leaseMs).toBe(60_000);

    const [stale, ...more] = await t.ctx.services.delivery.claim(10);
    expect(more).toEqual([]);
    expect(stale).toMatchObject({ attempts: 1, idempotency_key: key });
    expect((await t.outbox())[0]).toMatchObject({ status: 'sending', attempts: 1 });

    expect(await t.deliverDue()).toBe(0);
    t.ctx.clock.advance(leaseMs - 1);
    expect(await t.deliverDue()).toBe(0);
    expect(standIn.recorded).toHaveLength(0);
    t.ctx.clock.advance(1);
    expect(await t.deliverDue()).toBe(1);
    expect(standIn.recorded.map(keyOf)).toEqual([key]);

    const sent = (await t.event(eventId)).notifications[0];
    expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sent.attempt_log).toMatchObject([{ ok: true, status: 200 }]);

    // The dead sender wakes up: its (failing) send must not undo the takeover's success.
    standIn.answers.push(...fail503(1));
    await t.ctx.services.delivery.deliver(stale!);
    const after = (await t.event(eventId)).notifications[0];
    expect(after).toEqual(sent);
    t.ctx.clock.advance(86_400_000);
    expect(await t.deliverDue()).toBe(0);
  });

  it('ignores a stale sender that finishes while the takeover is still sending', async () => {
    const t = await start();
    const { eventId, key } = await downOnWebhook(t);
    const delivery = t.ctx.services.delivery;
    const [stale] = await delivery.claim(10);
    t.ctx.clock.advance(Math.max(60_000, t.ctx.config.notifyTimeoutSeconds * 3000));
    const [takeover] = await delivery.claim(10);
    expect(takeover).toMatchObject({ id: stale!.id, attempts: 2, idempotency_key: key });

    standIn.answers.push(...fail503(1));
    await delivery.deliver(stale!); // the row is `sending` again, but under a newer attempt
    expect((await t.event(eventId)).notifications[0]).toMatchObject({ status: 'sending', attempts: 2, last_error: null, attempt_log: [] });

    await delivery.deliver(takeover!);
    expect((await t.event(eventId)).notifications[0]).toMatchObject({ status: 'sent', attempts: 2, attempt_log: [{ ok: true, status: 200 }] });
    expect(standIn.recorded.map(keyOf)).toEqual([key, key]); // at least once: both senders reached the receiver
  });

  it('sends each message exactly once with three delivery workers at the same time', async () => {
    const t = await start();
    await t.channel('webhook', { url: `${standIn.base}/hook` });
    for (let i = 0; i < 20; i++) {
      const id = await t.monitor(`m${i}.example.com`);
      await t.record(id, 'down', 'connection refused');
    }
    expect(await t.route()).toEqual({ events: 20, queued: 20 });

    // Three pooled connections open and idle (PostgreSQL), so the workers' claims really overlap
    // instead of the first one taking everything while the others wait for a new connection.
    await Promise.all([1, 2, 3].map(() => t.ctx.database.db.transaction().execute((trx) => trx.selectFrom('notifications').select('id').execute())));
    const counts = await Promise.all([t.deliverDue(), t.deliverDue(), t.deliverDue()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
    expect(standIn.recorded).toHaveLength(20);
    expect(new Set(standIn.recorded.map(keyOf)).size).toBe(20);
    expect(new Set(standIn.recorded.map((r) => json(r).items[0].monitor_name)).size).toBe(20);
    const rows = await t.outbox();
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(Array.from({ length: 20 }, () => ['sent', 1]));
    expect(await t.deliverDue()).toBe(0);
  });

  describe('providers through the outbox', () => {
    let smtp: SmtpCapture | undefined;
    afterEach(async () => {
      await smtp?.close();
      smtp = undefined;
    });

    it("e-mails an outage and its recovery in the tenant's time zone", async () => {
      smtp = await startSmtpCapture();
      const t = await start({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_FROM: 'Vigie <alerts@vigie.test>' });
      await t.settings({ timezone: 'Europe/Paris' });
      const channelId = await t.channel('email', { to: ['ops@example.com'] });
      const monitorId = await t.monitor('api.example.com');
      const downFlip = await t.record(monitorId, 'down', 'connection refused');
      await t.route();
      expect(await t.deliverDue()).toBe(1);

      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]).toMatchObject({ from: 'alerts@vigie.test', to: ['ops@example.com'] });
      const down = parseMail(smtp.received[0]!.raw);
      expect(down.headers.get('subject')).toBe(`[${TENANT_NAME}] api.example.com (http) is DOWN`);
      expect(down.headers.get('x-vigie-idempotency-key')).toBe(`${downFlip}:${channelId}`);
      expect(down.text).toContain('api.example.com (http) is DOWN');
      expect(down.text).toContain('Kind: http');
      expect(down.text).toContain('State: DOWN (was PENDING)');
      expect(down.text).toContain('Reason: connection refused');
      // The clock stands at 2026-11-21 12:00:00 UTC: 13:00 in Paris (winter time).
      expect(down.text).toContain('Time: 2026-11-21 13:00:00 Europe/Paris (GMT+01:00)');
      expect(down.text).not.toContain('Down for');

      t.ctx.clock.advance(65 * 60_000);
      await t.record(monitorId, 'up', 'HTTP 200');
      await t.route();
      expect(await t.deliverDue()).toBe(1);
      expect(smtp.received).toHaveLength(2);
      const up = parseMail(smtp.received[1]!.raw);
      expect(up.headers.get('subject')).toBe(`[${TENANT_NAME}] api.example.com (http) is UP`);
      expect(up.text).toContain('State: UP (was DOWN)');
      expect(up.text).toContain('Time: 2026-11-21 14:05:00 Europe/Paris (GMT+01:00)');
      expect(up.text).toContain('Down for: 1 h 5 min');
      expect((await t.outbox()).map((r) => r.status)).toEqual(['sent', 'sent']);
    });

    it('triggers and resolves PagerDuty by incident, and posts to Telegram and Slack', async () => {
      const t = await start({ TELEGRAM_API_BASE_URL: standIn.base, PAGERDUTY_EVENTS_URL: `${standIn.base}/v2/enqueue` });
      await t.channel('pagerduty', { routing_key: ROUTING_KEY });
      await t.channel('telegram', { bot_token: BOT_TOKEN, chat_id: -1001234567890 });
      await t.channel('slack', { url: `${standIn.base}/services/T/B/X` });
      const monitorId = await t.monitor('api.example.com');
      await t.record(monitorId, 'down', 'connection refused');
      await t.route();
      expect(await t.deliverDue()).toBe(3);
      const [downEvent] = await t.events(monitorId);
      const incidentId = downEvent!.incident_id as string;
      expect(incidentId).toMatch(/^[0-9a-f-]{36}$/);

      const byPath = (path: string) => standIn.recorded.filter((r) => r.url === path);
      for (const request of standIn.recorded) {
        expect(request.method).toBe('POST');
        expect(request.headers['content-type']).toBe('application/json');
      }
      const subject = `[${TENANT_NAME}] api.example.com (http) is DOWN`;
      const [trigger] = byPath('/v2/enqueue');
      expect(json(trigger!)).toMatchObject({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: incidentId,
        payload: { summary: `${subject}: connection refused`, source: 'api.example.com', severity: 'critical', component: 'http' },
      });
      const [telegram, ...moreTelegram] = byPath(`/bot${BOT_TOKEN}/sendMessage`);
      expect(moreTelegram).toEqual([]);
      expect(json(telegram!)).toMatchObject({ chat_id: -1001234567890, parse_mode: 'HTML' });
      expect(json(telegram!).text).toContain(`<b>${subject}</b>`);
      const [slack, ...moreSlack] = byPath('/services/T/B/X');
      expect(moreSlack).toEqual([]);
      const slackBody = json(slack!);
      expect(slackBody.text).toBe(subject);
      expect(slackBody.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: subject, emoji: false } });
      expect(standIn.recorded).toHaveLength(3);

      standIn.reset();
      t.ctx.clock.advance(60_000);
      await t.record(monitorId, 'up', 'HTTP 200');
      await t.route();
      expect(await t.deliverDue()).toBe(3);
      expect(byPath('/v2/enqueue').map(json)).toEqual([{ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: incidentId }]);
      expect(json(byPath(`/bot${BOT_TOKEN}/sendMessage`)[0]!).text).toContain('is UP');
      expect(json(byPath('/services/T/B/X')[0]!).text).toBe(`[${TENANT_NAME}] api.example.com (http) is UP`);
      expect(standIn.recorded).toHaveLength(3);
    });
  });

  it('does not let a hanging channel hold up another; the timeout is retried later', async () => {
    const t = await start({ NOTIFY_TIMEOUT_SECONDS: '1' });
    const hanging = await t.channel('webhook', { url: `${standIn.base}/hang` }, 'A');
    const healthy = await t.channel('webhook', { url: `${standIn.base}/b` }, 'B');
    const monitorId = await t.monitor('api.example.com');
    await t.record(monitorId, 'down', 'connection refused');
    expect(await t.route()).toEqual({ events: 1, queued: 2 });
    const now = t.ctx.clock.now();

    expect(await t.deliverDue()).toBe(2);
    expect(standIn.recorded.map((r) => r.url).sort()).toEqual(['/b', '/hang']);
    const rows = await t.outbox();
    const a = rows.find((r) => r.channel_id === hanging)!;
    const b = rows.find((r) => r.channel_id === healthy)!;
    expect(b).toMatchObject({ status: 'sent', attempts: 1 });
    expect(a).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: new Date(now + FIRST_RETRY_MS).toISOString() });
    expect(a.last_error).toContain('no answer');
    expect(a.attempt_log).toMatchObject([{ ok: false, retryable: true, status: null }]);
  });

  it('fails a message whose monitor was deleted after routing, without sending anything', async () => {
    const t = await start();
    const { monitorId, channelId } = await downOnWebhook(t);
    expect(await t.outbox('pending')).toHaveLength(1);
    ok(await t.inject('DELETE', `/api/v1/http-targets/${monitorId}`), 204);

    // The event goes with the monitor (cascade); the outbox row stays, with nothing left in it.
    expect(await t.deliverDue()).toBe(1);
    expect(standIn.recorded).toEqual([]);
    const failed = await t.outbox('failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ channel_id: channelId, status: 'failed', attempts: 1, event_ids: [], last_error: 'Nothing left to send: the monitors were deleted' });
    expect(failed[0]!.attempt_log).toMatchObject([{ ok: false, retryable: false, status: null }]);
    t.ctx.clock.advance(3_600_000);
    expect(await t.deliverDue()).toBe(0);
    expect(standIn.recorded).toEqual([]);
  });
});
