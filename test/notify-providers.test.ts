/**
 * Every notification provider against a real receiver: a real SMTP server (the smtp-server
 * package) for e-mail, and local node:http servers standing in for Slack, Telegram, PagerDuty
 * and a webhook receiver. Each test checks the exact request that would reach the third party
 * (method, path, headers, JSON), and how failures are classified for the delivery loop.
 */
import { createHmac } from 'node:crypto';
import type { SMTPServerAddress, SMTPServerOptions } from 'smtp-server';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AT, item, notification } from './helpers/notifications.js';
import { closedPort, parseMail, StandIn, startSmtpCapture, type Answer, type ReceivedMail, type RecordedRequest, type SmtpCapture } from './helpers/receivers.js';
import { PROVIDERS, providerFor } from '../src/notify/index.js';
import { renderHtml, renderSubject, renderText } from '../src/notify/message.js';
import { testNotification } from '../src/notify/notification.js';
import { CHANNEL_KINDS, DEFAULT_PROVIDER_SETTINGS, idempotencyKey, isChannelKind, redactConfig, type ProviderSettings, type SendContext } from '../src/notify/provider.js';
import { emailProvider, messageIdFor } from '../src/notify/providers/email.js';
import { pagerdutyProvider } from '../src/notify/providers/pagerduty.js';
import { slackProvider } from '../src/notify/providers/slack.js';
import { telegramProvider } from '../src/notify/providers/telegram.js';
import { webhookProvider } from '../src/notify/providers/webhook.js';

const FLIP_ID = '3f2b9c1e-8d4a-4e6f-9b7c-2a1d5e8f0c13';
const CHANNEL_ID = 'c0ffee00-1234-4abc-8def-0123456789ab';
const KEY = idempotencyKey(FLIP_ID, CHANNEL_ID);
const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';

const outage = notification([item()]);
const recovery = notification([item({ fromState: 'down', toState: 'up', reason: 'HTTP 200 in 12 ms', at: AT + 3_900_000, downForMs: 3_900_000 })]);

function context(settings: Partial<ProviderSettings> = {}): SendContext {
  return { idempotencyKey: KEY, settings: { ...DEFAULT_PROVIDER_SETTINGS, ...settings } };
}

const standIn = new StandIn();

beforeAll(() => standIn.start());
afterAll(() => standIn.stop());
beforeEach(() => standIn.reset());

function only(): RecordedRequest {
  expect(standIn.recorded).toHaveLength(1);
  return standIn.recorded[0]!;
}

// --- the registry and the configs ----------------------------------------------------------------

describe('the provider registry', () => {
  it('has one provider per channel kind, under its own name', () => {
    expect(Object.keys(PROVIDERS).sort()).toEqual([...CHANNEL_KINDS].sort());
    for (const kind of CHANNEL_KINDS) expect(providerFor(kind).kind).toBe(kind);
    expect(isChannelKind('slack')).toBe(true);
    expect(isChannelKind('sms')).toBe(false);
  });

  it("every secret field is a property of its provider's config schema", () => {
    for (const kind of CHANNEL_KINDS) {
      const { configSchema, secretFields } = providerFor(kind);
      const properties = Object.keys((configSchema as { properties: object }).properties);
      for (const field of secretFields) expect(properties).toContain(field);
    }
    expect(emailProvider.secretFields).toEqual([]);
    expect(slackProvider.secretFields).toEqual(['url']);
    expect(telegramProvider.secretFields).toEqual(['bot_token']);
    expect(pagerdutyProvider.secretFields).toEqual(['routing_key']);
    expect(webhookProvider.secretFields).toEqual(['secret', 'headers']);
  });

  it('config schemas accept good configs and refuse bad ones', () => {
    const valid = (kind: (typeof CHANNEL_KINDS)[number], config: unknown) => Value.Check(providerFor(kind).configSchema, config);
    expect(valid('email', { to: ['ops@example.com'] })).toBe(true);
    expect(valid('email', { to: [] })).toBe(false);
    expect(valid('email', { to: ['not an address'] })).toBe(false);
    expect(valid('email', { to: ['ops@example.com'], password: 'x' })).toBe(false);
    expect(valid('slack', { url: 'https://hooks.slack.com/services/T0/B0/XYZ' })).toBe(true);
    expect(valid('slack', { url: 'file:///etc/passwd' })).toBe(false);
    expect(valid('telegram', { bot_token: BOT_TOKEN, chat_id: -1001234567890 })).toBe(true);
    expect(valid('telegram', { bot_token: BOT_TOKEN, chat_id: '@vigie_alerts' })).toBe(true);
    expect(valid('telegram', { bot_token: '123:abc/../../x', chat_id: 1 })).toBe(false);
    expect(valid('telegram', { bot_token: BOT_TOKEN, chat_id: 'not a chat' })).toBe(false);
    expect(valid('pagerduty', { routing_key: ROUTING_KEY })).toBe(true);
    expect(valid('pagerduty', { routing_key: '' })).toBe(false);
    expect(valid('webhook', { url: 'https://example.com/hook' })).toBe(true);
    expect(valid('webhook', { url: 'https://example.com/hook', secret: 's', headers: { Authorization: 'Bearer t' } })).toBe(true);
    expect(valid('webhook', { url: 'https://example.com/hook', headers: { 'Bad Name': 'x' } })).toBe(false);
    expect(valid('webhook', { url: 'https://example.com/hook', headers: { 'X-Ok': 'a\r\nInjected: yes' } })).toBe(false);
  });

  it('redactConfig drops the secrets and says which are set', () => {
    expect(redactConfig(telegramProvider, { bot_token: BOT_TOKEN, chat_id: 42 })).toEqual({ config: { chat_id: 42 }, secretsSet: ['bot_token'] });
    expect(redactConfig(webhookProvider, { url: 'https://example.com/hook', secret: 'k', headers: { Authorization: 'Bearer t' } })).toEqual({
      config: { url: 'https://example.com/hook' },
      secretsSet: ['secret', 'headers'],
    });
    expect(redactConfig(webhookProvider, { url: 'https://example.com/hook' })).toEqual({ config: { url: 'https://example.com/hook' }, secretsSet: [] });
    expect(redactConfig(slackProvider, { url: 'https://hooks.slack.com/services/T0/B0/XYZ' })).toEqual({ config: {}, secretsSet: ['url'] });
    expect(redactConfig(emailProvider, { to: ['ops@example.com'] })).toEqual({ config: { to: ['ops@example.com'] }, secretsSet: [] });
  });
});

// --- e-mail over a real SMTP server ------------------------------------------------------------------

describe('email provider against a real SMTP server', () => {
  const logins: { username?: string; password?: string | null }[] = [];
  let capture: SmtpCapture;
  let received: ReceivedMail[] = [];
  let port = 0;
  const refusing: Pick<SMTPServerOptions, 'onAuth' | 'onRcptTo'> = {
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username, password: auth.password });
      if (auth.username === 'vigie' && auth.password === 's3cret') callback(null, { user: 'vigie' });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      if (address.address.startsWith('unknown@')) callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      else if (address.address.startsWith('busy@')) callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
      else callback();
    },
  };

  const smtp = () => ({ host: '127.0.0.1', port, secure: false, user: 'vigie', password: 's3cret', from: 'Vigie <alerts@vigie.test>' });

  beforeAll(async () => {
    capture = await startSmtpCapture(refusing);
    ({ port, received } = capture);
  });
  afterAll(() => capture.close());
  beforeEach(() => {
    received.length = 0;
    logins.length = 0;
  });

  it('delivers subject, From/To, and text + HTML bodies naming monitor, kind, state, reason and the local time', async () => {
    const message = notification([item()], { tenant: { name: 'acme', timeZone: 'America/New_York' } });
    const result = await emailProvider.send({ to: ['ops@example.com', 'oncall@example.com'] }, message, context({ smtp: smtp() }));
    expect(result).toEqual({ ok: true, retryable: false, detail: `accepted by 127.0.0.1:${port}: 250 Queued as 42` });

    expect(logins).toEqual([{ username: 'vigie', password: 's3cret' }]);
    expect(received).toHaveLength(1);
    const mail = received[0]!;
    expect(mail.from).toBe('alerts@vigie.test');
    expect(mail.to).toEqual(['ops@example.com', 'oncall@example.com']);

    const parsed = parseMail(mail.raw);
    expect(parsed.headers.get('from')).toBe('Vigie <alerts@vigie.test>');
    expect(parsed.headers.get('to')).toBe('ops@example.com, oncall@example.com');
    expect(parsed.headers.get('subject')).toBe('[acme] api.example.com (http) is DOWN');
    expect(parsed.headers.get('message-id')).toBe(messageIdFor(KEY, 'Vigie <alerts@vigie.test>'));
    expect(parsed.headers.get('message-id')).toMatch(/^<[0-9a-f]{40}\.vigie@vigie\.test>$/);
    expect(parsed.headers.get('x-vigie-idempotency-key')).toBe(`${FLIP_ID}:${CHANNEL_ID}`);

    expect(parsed.text).toBe(renderText(message));
    expect(parsed.text).toContain('api.example.com (http) is DOWN\n');
    expect(parsed.text).toContain('  State: DOWN (was UP)\n');
    expect(parsed.text).toContain('  Reason: connection refused by api.example.com\n');
    expect(parsed.text).toContain('  Time: 2026-03-14 10:04:05 America/New_York (GMT-04:00)\n');
    expect(parsed.html).toBe(renderHtml(message));
    expect(parsed.html).toContain('<td>2026-03-14 10:04:05 America/New_York (GMT-04:00)</td>');
  });

  it('a recovery mail says how long it was down; a retry carries the same Message-ID', async () => {
    await emailProvider.send({ to: ['ops@example.com'] }, recovery, context({ smtp: smtp() }));
    await emailProvider.send({ to: ['ops@example.com'] }, recovery, context({ smtp: smtp() }));
    const [first, second] = received.map((mail) => parseMail(mail.raw));
    expect(first!.headers.get('subject')).toBe('[acme] api.example.com (http) is UP');
    expect(first!.text).toContain('  Down for: 1 h 5 min\n');
    expect(first!.html).toContain('<th align="left" valign="top">Down for</th><td>1 h 5 min</td>');
    expect(second!.headers.get('message-id')).toBe(first!.headers.get('message-id'));
  });

  it('a monitor named <script> is escaped in the HTML part', async () => {
    const hostile = notification([item({ monitorName: '<script>alert(1)</script>' })]);
    await emailProvider.send({ to: ['ops@example.com'] }, hostile, context({ smtp: smtp() }));
    const parsed = parseMail(received[0]!.raw);
    expect(parsed.html).not.toContain('<script>');
    expect(parsed.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; (http) is DOWN');
    expect(parsed.headers.get('subject')).toBe('[acme] <script>alert(1)</script> (http) is DOWN');
  });

  it('a permanent rejection (550) is not retryable; a temporary one (451) is', async () => {
    const permanent = await emailProvider.send({ to: ['unknown@example.com'] }, outage, context({ smtp: smtp() }));
    expect(permanent).toMatchObject({ ok: false, retryable: false, status: 550 });
    expect(permanent.detail).toContain('No such user here');

    const temporary = await emailProvider.send({ to: ['busy@example.com'] }, outage, context({ smtp: smtp() }));
    expect(temporary).toMatchObject({ ok: false, retryable: true, status: 451 });
    expect(temporary.detail).toContain('Mailbox busy');
    expect(received).toHaveLength(0);
  });

  it('a partly rejected recipient list is delivered to the others, and the detail names the rejected', async () => {
    const result = await emailProvider.send({ to: ['ops@example.com', 'unknown@example.com'] }, outage, context({ smtp: smtp() }));
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/; rejected: unknown@example\.com$/);
    expect(received.map((mail) => mail.to)).toEqual([['ops@example.com']]);
  });

  it('wrong credentials are refused for good; a closed port may pass later; no relay is not retryable', async () => {
    const badLogin = await emailProvider.send({ to: ['ops@example.com'] }, outage, context({ smtp: { ...smtp(), password: 'wrong' } }));
    expect(badLogin).toMatchObject({ ok: false, retryable: false, status: 535 });

    const closed = await closedPort();
    const refused = await emailProvider.send({ to: ['ops@example.com'] }, outage, context({ smtp: { ...smtp(), port: closed } }));
    expect(refused.ok).toBe(false);
    expect(refused.retryable).toBe(true);
    expect(refused.status).toBeUndefined();
    expect(refused.detail).toContain(`127.0.0.1:${closed}`);
    expect(refused.detail).toContain('ECONNREFUSED');
    expect(refused.detail).not.toContain('s3cret');

    expect(await emailProvider.send({ to: ['ops@example.com'] }, outage, context({ smtp: null }))).toEqual({
      ok: false,
      retryable: false,
      detail: 'e-mail is not configured on this server (no SMTP relay set)',
    });
  });
});

// --- Slack --------------------------------------------------------------------------------------------

describe('slack provider against a local stand-in', () => {
  it('POSTs Block Kit blocks to the webhook URL', async () => {
    const result = await slackProvider.send({ url: `${standIn.base}/services/T000/B000/XXXX` }, recovery, context());
    expect(result).toEqual({ ok: true, retryable: false, status: 200, detail: `HTTP 200 from ${standIn.host}: {"ok":true}` });
    const request = only();
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/services/T000/B000/XXXX');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe('Vigie notifier');
    expect(JSON.parse(request.body)).toEqual({
      text: '[acme] api.example.com (http) is UP',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '[acme] api.example.com (http) is UP', emoji: false } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: [
              '*api.example.com (http) is UP*',
              '*Monitor:* api.example.com',
              '*Kind:* http',
              '*State:* UP (was DOWN)',
              '*Reason:* HTTP 200 in 12 ms',
              '*Time:* 2026-03-14 16:09:05 Europe/Paris (GMT+01:00)',
              '*Down for:* 1 h 5 min',
            ].join('\n'),
          },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Sent by Vigie for acme.' }] },
      ],
    });
  });

  it('escapes <, > and & so a name cannot become a link or a mention', async () => {
    await slackProvider.send({ url: `${standIn.base}/hook` }, notification([item({ monitorName: '<!channel> & <http://evil|x>' })]), context());
    const body = JSON.parse(only().body) as { text: string; blocks: { text?: { text: string } }[] };
    expect(body.text).toBe('[acme] &lt;!channel&gt; &amp; &lt;http://evil|x&gt; (http) is DOWN');
    expect(body.blocks[1]!.text!.text.startsWith('*&lt;!channel&gt; &amp; &lt;http://evil|x&gt; (http) is DOWN*\n')).toBe(true);
    // The header is plain_text: Slack shows it as is, so it is not escaped.
    expect(body.blocks[0]!.text!.text).toBe('[acme] <!channel> & <http://evil|x> (http) is DOWN');
  });

  it('a group of 45 shows 40 monitors and counts the rest, within 50 blocks', async () => {
    const items = Array.from({ length: 45 }, (_, i) => item({ monitorName: `m${i}` }));
    await slackProvider.send({ url: `${standIn.base}/hook` }, notification(items), context());
    const body = JSON.parse(only().body) as { blocks: { text?: { text: string } }[] };
    expect(body.blocks.length).toBeLessThanOrEqual(50);
    expect(body.blocks[1]!.text!.text).toBe('45 monitors changed state.');
    expect(body.blocks.at(-2)!.text!.text).toBe('…and 5 more monitors.');
  });

  it('404 no_service is not retryable; 500 and 429 are', async () => {
    standIn.answers.push(
      { status: 404, body: 'no_service', contentType: 'text/plain' },
      { status: 500, body: 'oops', contentType: 'text/plain' },
      { status: 429, body: 'rate_limited', contentType: 'text/plain' },
    );
    const config = { url: `${standIn.base}/services/T000/B000/XXXX` };
    expect(await slackProvider.send(config, outage, context())).toEqual({ ok: false, retryable: false, status: 404, detail: `HTTP 404 from ${standIn.host}: no_service` });
    expect(await slackProvider.send(config, outage, context())).toEqual({ ok: false, retryable: true, status: 500, detail: `HTTP 500 from ${standIn.host}: oops` });
    expect(await slackProvider.send(config, outage, context())).toEqual({ ok: false, retryable: true, status: 429, detail: `HTTP 429 from ${standIn.host}: rate_limited` });
  });
});

// --- Telegram -----------------------------------------------------------------------------------------

describe('telegram provider against a local stand-in', () => {
  it('POSTs sendMessage with chat_id, HTML text and parse_mode to {base}/bot{token}/sendMessage', async () => {
    const hostile = notification([item({ monitorName: '<script>alert(1)</script>', reason: 'a & b' })]);
    const result = await telegramProvider.send({ bot_token: BOT_TOKEN, chat_id: -1001234567890 }, hostile, context({ telegramApiBaseUrl: `${standIn.base}/tg/` }));
    expect(result).toMatchObject({ ok: true, retryable: false, status: 200 });
    const request = only();
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`/tg/bot${BOT_TOKEN}/sendMessage`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({
      chat_id: -1001234567890,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      text: [
        '<b>[acme] &lt;script&gt;alert(1)&lt;/script&gt; (http) is DOWN</b>',
        '',
        '<b>&lt;script&gt;alert(1)&lt;/script&gt; (http) is DOWN</b>',
        'Monitor: &lt;script&gt;alert(1)&lt;/script&gt;',
        'Kind: http',
        'State: DOWN (was UP)',
        'Reason: a &amp; b',
        'Time: 2026-03-14 15:04:05 Europe/Paris (GMT+01:00)',
        '',
        '<i>Sent by Vigie for acme.</i>',
      ].join('\n'),
    });
  });

  it('a channel name as chat_id; a recovery names how long it was down', async () => {
    await telegramProvider.send({ bot_token: BOT_TOKEN, chat_id: '@vigie_alerts' }, recovery, context({ telegramApiBaseUrl: standIn.base }));
    const body = JSON.parse(only().body) as { chat_id: string; text: string };
    expect(body.chat_id).toBe('@vigie_alerts');
    expect(body.text).toContain('\nDown for: 1 h 5 min\n');
  });

  it('a huge group stays under 4,096 characters and counts what it left out', async () => {
    const items = Array.from({ length: 100 }, (_, i) => item({ monitorName: `monitor-${i}` }));
    await telegramProvider.send({ bot_token: BOT_TOKEN, chat_id: 1 }, notification(items), context({ telegramApiBaseUrl: standIn.base }));
    const { text } = JSON.parse(only().body) as { text: string };
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text).toMatch(/\n…and \d+ more monitors\.\n\n<i>Sent by Vigie for acme\.<\/i>$/);
  });

  it('401 (bad token) is not retryable and the detail never shows the token; 502 is retryable', async () => {
    standIn.answers.push({ status: 401, body: '{"ok":false,"error_code":401,"description":"Unauthorized"}' }, { status: 502, body: 'bad gateway', contentType: 'text/plain' });
    const config = { bot_token: BOT_TOKEN, chat_id: 1 };
    const unauthorized = await telegramProvider.send(config, outage, context({ telegramApiBaseUrl: standIn.base }));
    expect(unauthorized).toEqual({ ok: false, retryable: false, status: 401, detail: `HTTP 401 from ${standIn.host}: {"ok":false,"error_code":401,"description":"Unauthorized"}` });
    const gateway = await telegramProvider.send(config, outage, context({ telegramApiBaseUrl: standIn.base }));
    expect(gateway).toMatchObject({ ok: false, retryable: true, status: 502 });

    const closed = await closedPort();
    const refused = await telegramProvider.send(config, outage, context({ telegramApiBaseUrl: `http://127.0.0.1:${closed}` }));
    expect(refused).toEqual({ ok: false, retryable: true, detail: `connection refused by 127.0.0.1:${closed}` });
    for (const result of [unauthorized, gateway, refused]) expect(result.detail).not.toContain(BOT_TOKEN.split(':')[1]);
  });
});

// --- PagerDuty ----------------------------------------------------------------------------------------

describe('pagerduty provider against a local stand-in', () => {
  const accepted = (dedupKey: string): Answer => ({ status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedupKey }) });
  const settings = () => context({ pagerdutyEventsUrl: `${standIn.base}/v2/enqueue` });

  it('down triggers a critical alert whose dedup_key is the incident id', async () => {
    standIn.answers.push(accepted('5d6e7f80-aaaa-4bbb-8ccc-123456789012'));
    const result = await pagerdutyProvider.send({ routing_key: ROUTING_KEY }, outage, settings());
    expect(result).toMatchObject({ ok: true, retryable: false, status: 202 });
    const request = only();
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v2/enqueue');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: '5d6e7f80-aaaa-4bbb-8ccc-123456789012',
      client: 'Vigie',
      payload: {
        summary: '[acme] api.example.com (http) is DOWN: connection refused by api.example.com',
        source: 'api.example.com',
        severity: 'critical',
        timestamp: '2026-03-14T14:04:05.000Z',
        component: 'http',
        group: 'acme',
        custom_details: {
          monitor_id: '7b0c4a52-3f0e-4a57-9d4e-1c3a8e2f6b01',
          monitor_kind: 'http',
          from_state: 'up',
          to_state: 'down',
          reason: 'connection refused by api.example.com',
          notification_kind: 'alert',
        },
      },
    });
  });

  it('warning triggers with severity warning; up resolves the same dedup_key', async () => {
    await pagerdutyProvider.send({ routing_key: ROUTING_KEY }, notification([item({ toState: 'warning' })]), settings());
    await pagerdutyProvider.send({ routing_key: ROUTING_KEY }, recovery, settings());
    const [warning, resolve] = standIn.recorded.map((request) => JSON.parse(request.body) as Record<string, unknown>);
    expect(warning).toMatchObject({ event_action: 'trigger', dedup_key: '5d6e7f80-aaaa-4bbb-8ccc-123456789012', payload: { severity: 'warning' } });
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: '5d6e7f80-aaaa-4bbb-8ccc-123456789012' });
  });

  it('a group sends one event per monitor and stops at the first failure', async () => {
    const group = notification([item({ incidentId: 'inc-a' }), item({ incidentId: 'inc-b', fromState: 'down', toState: 'up', downForMs: 60_000 })]);
    expect(await pagerdutyProvider.send({ routing_key: ROUTING_KEY }, group, settings())).toMatchObject({ ok: true, detail: expect.stringMatching(/^event 2 of 2 \(resolve\): HTTP 200/) });
    expect(standIn.recorded.map((request) => JSON.parse(request.body) as { event_action: string; dedup_key: string })).toMatchObject([
      { event_action: 'trigger', dedup_key: 'inc-a' },
      { event_action: 'resolve', dedup_key: 'inc-b' },
    ]);

    standIn.reset();
    standIn.answers.push({ status: 500, body: '{"status":"error"}' });
    const failed = await pagerdutyProvider.send({ routing_key: ROUTING_KEY }, group, settings());
    expect(failed).toMatchObject({ ok: false, retryable: true, status: 500, detail: `event 1 of 2 (trigger): HTTP 500 from ${standIn.host}: {"status":"error"}` });
    expect(standIn.recorded).toHaveLength(1);
  });

  it('a test has no incident: the idempotency key is the dedup key', async () => {
    await pagerdutyProvider.send({ routing_key: ROUTING_KEY }, testNotification({ name: 'acme', timeZone: 'UTC' }, AT), settings());
    expect(JSON.parse(only().body)).toMatchObject({ event_action: 'trigger', dedup_key: KEY, payload: { custom_details: { notification_kind: 'test' } } });
  });

  it('400 (invalid event) is not retryable', async () => {
    standIn.answers.push({ status: 400, body: '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'routing_key\' is incorrect"]}' });
    const result = await pagerdutyProvider.send({ routing_key: ROUTING_KEY }, outage, settings());
    expect(result).toMatchObject({ ok: false, retryable: false, status: 400 });
    expect(result.detail).toContain('Event object is invalid');
  });
});

// --- webhook ------------------------------------------------------------------------------------------

describe('webhook provider against a local stand-in', () => {
  const expectedBody = {
    version: 1,
    kind: 'alert',
    tenant: { name: 'acme', time_zone: 'Europe/Paris' },
    title: '[acme] api.example.com (http) is UP',
    text: renderText(recovery),
    items: [
      {
        monitor_id: '7b0c4a52-3f0e-4a57-9d4e-1c3a8e2f6b01',
        monitor_name: 'api.example.com',
        monitor_kind: 'http',
        from_state: 'down',
        to_state: 'up',
        reason: 'HTTP 200 in 12 ms',
        at: '2026-03-14T15:09:05.000Z',
        incident_id: '5d6e7f80-aaaa-4bbb-8ccc-123456789012',
        down_for_ms: 3_900_000,
      },
    ],
  };

  it('POSTs the documented body with the idempotency key, a signature and custom headers', async () => {
    const config = {
      url: `${standIn.base}/hooks/vigie?source=test`,
      secret: 'whsec-0123456789',
      headers: { Authorization: 'Bearer receiver-token', 'X-Team': 'ops', 'Content-Type': 'text/plain', 'X-Vigie-Signature': 'sha256=forged' },
    };
    const result = await webhookProvider.send(config, recovery, context());
    expect(result).toEqual({ ok: true, retryable: false, status: 200, detail: `HTTP 200 from ${standIn.host}: {"ok":true}` });
    const request = only();
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks/vigie?source=test');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe('Vigie notifier');
    expect(request.headers.authorization).toBe('Bearer receiver-token');
    expect(request.headers['x-team']).toBe('ops');
    expect(request.headers['x-vigie-idempotency-key']).toBe(`${FLIP_ID}:${CHANNEL_ID}`);
    const expectedSignature = `sha256=${createHmac('sha256', 'whsec-0123456789').update(request.body).digest('hex')}`;
    expect(request.headers['x-vigie-signature']).toBe(expectedSignature);
    expect(JSON.parse(request.body)).toEqual(expectedBody);
  });

  it('without a secret there is no signature header, even a custom one', async () => {
    await webhookProvider.send({ url: `${standIn.base}/hook`, headers: { 'x-vigie-signature': 'sha256=forged' } }, recovery, context());
    const request = only();
    expect(request.headers['x-vigie-signature']).toBeUndefined();
    expect(request.headers['x-vigie-idempotency-key']).toBe(KEY);
    expect(JSON.parse(request.body)).toEqual(expectedBody);
  });

  it('a group lists every monitor; the test message has kind test', async () => {
    const group = notification([item(), item({ monitorId: 'm2', monitorName: 'worker', monitorKind: 'heartbeat', reason: null, incidentId: null })]);
    await webhookProvider.send({ url: `${standIn.base}/hook` }, group, context());
    await webhookProvider.send({ url: `${standIn.base}/hook` }, testNotification({ name: 'acme', timeZone: 'UTC' }, AT), context());
    const [grouped, test] = standIn.recorded.map(
      (request) => JSON.parse(request.body) as { kind: string; title: string; items: { monitor_name: string; reason: string | null; incident_id: string | null }[] },
    );
    expect(grouped!.title).toBe(renderSubject(group));
    expect(grouped!.items).toMatchObject([{ monitor_name: 'api.example.com' }, { monitor_name: 'worker', reason: null, incident_id: null }]);
    expect(test).toMatchObject({ kind: 'test', items: [{ monitor_name: 'Vigie test monitor', incident_id: null }] });
  });

  it('500 and 429 are retryable, 400 and 410 are not, a closed port is retryable with a clear detail', async () => {
    standIn.answers.push(
      { status: 500, body: 'internal error', contentType: 'text/plain' },
      { status: 429, body: '', contentType: 'text/plain' },
      { status: 400, body: '{"error":"bad payload"}' },
      { status: 410, body: 'gone', contentType: 'text/plain' },
    );
    const config = { url: `${standIn.base}/hook` };
    expect(await webhookProvider.send(config, outage, context())).toEqual({ ok: false, retryable: true, status: 500, detail: `HTTP 500 from ${standIn.host}: internal error` });
    expect(await webhookProvider.send(config, outage, context())).toEqual({ ok: false, retryable: true, status: 429, detail: `HTTP 429 from ${standIn.host}` });
    expect(await webhookProvider.send(config, outage, context())).toEqual({ ok: false, retryable: false, status: 400, detail: `HTTP 400 from ${standIn.host}: {"error":"bad payload"}` });
    expect(await webhookProvider.send(config, outage, context())).toMatchObject({ ok: false, retryable: false, status: 410 });

    const closed = await closedPort();
    expect(await webhookProvider.send({ url: `http://127.0.0.1:${closed}/hook` }, outage, context())).toEqual({
      ok: false,
      retryable: true,
      detail: `connection refused by 127.0.0.1:${closed}`,
    });
  });

  it('an unparsable URL (a config that skipped validation) fails for good without echoing the URL', async () => {
    expect(await webhookProvider.send({ url: 'http://[not-a-host/secret-path' }, outage, context())).toEqual({
      ok: false,
      retryable: false,
      detail: 'the destination URL is not valid',
    });
  });

  it('a receiver that never answers is retryable once the timeout passes', async () => {
    const result = await webhookProvider.send({ url: `${standIn.base}/hang` }, outage, context({ timeoutMs: 300 }));
    expect(result).toEqual({ ok: false, retryable: true, detail: `no answer from ${standIn.host} within 300 ms` });
  });
});
