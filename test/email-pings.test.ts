/**
 * Pings by e-mail (issue 14, seed 002's "SMTP pour email pings"), on every dialect: a real SMTP
 * client (nodemailer) sends to the real listener (smtp-server on 127.0.0.1, a free port) fed by
 * the app's own services. Healthchecks' behaviour matched (hc/api/management/commands/smtpd.py,
 * templates/docs/email.md): `{uuid}@domain` and `{ping_key}+{slug}@domain`; any message is a
 * success unless filtering is on; then failure keywords first, then success, then start, and a
 * message matching none is an ignored ping (`ign`); keywords are comma-separated and
 * case-sensitive. Vigie refuses unknown recipients at RCPT (550) and too large messages (552).
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { createTransport } from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createEmailListener, type EmailListener } from '../src/heartbeats/email-listener.js';
import { createEmailRecipients } from '../src/heartbeats/email-recipients.js';
import type { HeartbeatInput } from '../src/heartbeats/heartbeats.service.js';
import { emailPingLoops } from '../src/kinds/heartbeat/email-pings.js';
import { createLogger } from '../src/logger.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { heartbeatInput } from './helpers/heartbeat-fixtures.js';

const DOMAIN = 'hc.example.test';
const SENDER = 'backup@example.org';

interface Filter {
  filter_subject?: number;
  filter_body?: number;
  start_kw?: string;
  success_kw?: string;
  failure_kw?: string;
  filter_default_fail?: number;
}

describe.each(TEST_DIALECTS)('e-mail pings on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  let listener: EmailListener;

  afterEach(async () => {
    await listener?.stop();
    await ctx?.close();
  });

  async function start(options: { maxMessageBytes?: number; bodyLimitBytes?: number; env?: Record<string, string> } = {}) {
    ctx = await createTestApp(dialect, { env: options.env ?? {} });
    tenant = await createTenantWithKey(ctx);
    // The app's own gate, as `vigie serve` wires it (kinds/heartbeat/email-pings.ts): HTTP and e-mail pings share it.
    listener = createEmailListener({
      recipients: createEmailRecipients({ db: ctx.database.db, heartbeats: ctx.services.heartbeats }),
      pings: ctx.services.pings,
      gate: ctx.services.pingGate,
      logger: createLogger('silent'),
      options: {
        host: '127.0.0.1',
        port: 0,
        domain: DOMAIN,
        maxMessageBytes: options.maxMessageBytes ?? 64 * 1024,
        bodyLimitBytes: options.bodyLimitBytes ?? 100_000,
        rateLimitPerMinute: ctx.config.pingRateLimitPerMinute,
      },
    });
    await listener.start();
  }

  /** A check, with its keyword filter written as the Healthchecks API stores it. */
  async function createCheck(input: Partial<HeartbeatInput> = {}, filter: Filter = {}) {
    const check = await ctx.services.heartbeats.create(tenant.tenantId, heartbeatInput(input));
    if (Object.keys(filter).length > 0) await ctx.database.db.updateTable('heartbeat_checks').set(filter).where('monitor_id', '=', check.id).execute();
    return check;
  }

  /** Sends one message over SMTP to the listener; `to` is the envelope's recipient list. */
  function send(to: string[], message: { subject?: string; text?: string; html?: string; raw?: string } = {}) {
    const [host, port] = listener.address().split(':');
    const transport = createTransport({ host, port: Number(port), secure: false, ignoreTLS: true, connectionTimeout: 5000 });
    const content = message.raw !== undefined ? { raw: message.raw } : { from: SENDER, to, subject: message.subject ?? 'report', text: message.text, html: message.html };
    return transport.sendMail({ ...content, envelope: { from: SENDER, to } });
  }

  const address = (pingUuid: string) => `${pingUuid}@${DOMAIN}`;
  const pingRows = (id: string) => ctx.database.db.selectFrom('pings').selectAll().where('monitor_id', '=', id).orderBy('n').execute();
  const check = (id: string) => ctx.services.heartbeats.get(tenant.tenantId, id);

  it('a message to {uuid}@domain is a success ping: method email, the raw message as body, the client address, the sender as user agent', async () => {
    await start();
    const { id, pingUuid } = await createCheck();
    const info = await send([address(pingUuid)], { subject: 'Nightly backup', text: 'All went well.' });
    expect(info.accepted).toEqual([address(pingUuid)]);
    expect(info.response).toMatch(/^250 /);
    const [row] = await pingRows(id);
    expect(row).toMatchObject({ n: 1, kind: 'success', method: 'email', remote_addr: '127.0.0.1', user_agent: `Email from ${SENDER}`, rid: null, exit_status: null });
    expect(row!.body).toContain('Subject: Nightly backup');
    expect(row!.body).toContain('All went well.');
    expect(row!.body_size).toBe(Buffer.byteLength(row!.body!));
    expect(await check(id)).toMatchObject({ status: 'up', nPings: 1, lastPingAt: ctx.clock.now() });
    expect((await ctx.services.monitors.get(tenant.tenantId, id)).state).toBe('up');
  });

  it('with the subject filter: a failure keyword is a failure (it wins over a success keyword), a success keyword a success', async () => {
    await start();
    const { id, pingUuid } = await createCheck({}, { filter_subject: 1, success_kw: 'SUCCESS, OK', failure_kw: 'ERROR,FAILED' });
    await send([address(pingUuid)], { subject: 'Backup SUCCESS', text: 'ERROR in the body is not searched' });
    expect(await check(id)).toMatchObject({ status: 'up' });
    await send([address(pingUuid)], { subject: 'Backup OK with 1 ERROR' });
    expect(await check(id)).toMatchObject({ status: 'down', nPings: 2 });
    expect((await ctx.services.monitors.get(tenant.tenantId, id)).state).toBe('down');
    await send([address(pingUuid)], { subject: 'Backup OK' });
    expect(await check(id)).toMatchObject({ status: 'up', nPings: 3 });
    expect((await pingRows(id)).map((r) => r.kind)).toEqual(['success', 'fail', 'success']);
  });

  it('a start keyword starts a run that the next success ends with its duration', async () => {
    await start();
    const { id, pingUuid } = await createCheck({}, { filter_subject: 1, start_kw: 'Starting', success_kw: 'Finished' });
    await send([address(pingUuid)], { subject: 'Starting backup' });
    const startedAt = ctx.clock.now();
    expect(await check(id)).toMatchObject({ lastStartAt: startedAt, nPings: 1 });
    ctx.clock.advance(42_000);
    await send([address(pingUuid)], { subject: 'Finished backup' });
    expect(await check(id)).toMatchObject({ status: 'up', lastStartAt: null, lastDurationMs: 42_000, nPings: 2 });
    expect((await pingRows(id)).map((r) => [r.kind, r.duration_ms])).toEqual([
      ['start', null],
      ['success', 42_000],
    ]);
  });

  it('no keyword matching (keywords are case-sensitive) is an ignored ping: stored as ign and counted, the check unchanged', async () => {
    await start();
    const { id, pingUuid } = await createCheck({}, { filter_subject: 1, filter_body: 1, success_kw: 'SUCCESS', failure_kw: 'ERROR' });
    await send([address(pingUuid)], { subject: 'Backup SUCCESS' });
    const up = await check(id);
    ctx.clock.advance(10_000);
    await send([address(pingUuid)], { subject: 'backup success', text: 'an error, in lower case' });
    const after = await check(id);
    expect(after).toMatchObject({ status: 'up', nPings: 2, lastPingAt: up.lastPingAt, deadlineAt: up.deadlineAt });
    expect((await pingRows(id)).map((r) => r.kind)).toEqual(['success', 'ign']);
    // Not a result: uptime and the monitor's history know only the success.
    expect(await ctx.services.monitors.results(tenant.tenantId, id, { limit: 10 })).toHaveLength(1);

    // "If no keywords match: classify as failure" (filter_default_fail, migration 0017).
    await ctx.database.db.updateTable('heartbeat_checks').set({ filter_default_fail: 1 }).where('monitor_id', '=', id).execute();
    await send([address(pingUuid)], { subject: 'backup success' });
    expect(await check(id)).toMatchObject({ status: 'down', nPings: 3 });
    expect((await pingRows(id)).map((r) => r.kind)).toEqual(['success', 'ign', 'fail']);
  });

  it('the body filter reads the decoded plain part and the text of the HTML part, and an encoded subject', async () => {
    await start();
    const { id, pingUuid } = await createCheck({}, { filter_body: 1, failure_kw: 'Sauvegarde échouée', success_kw: 'Done' });
    // Quoted-printable body (nodemailer encodes the accented text): decoded before matching.
    await send([address(pingUuid)], { subject: 'rapport', text: 'Résultat : Sauvegarde échouée sur srv-01' });
    expect(await check(id)).toMatchObject({ status: 'down' });
    // HTML only: the keyword split by markup still matches its text; a keyword inside a <style> does not count.
    await send([address(pingUuid)], { subject: 'rapport', html: '<style>.x{content:"Sauvegarde échouée"}</style><p><b>Do</b>ne &amp; dusted</p>' });
    expect(await check(id)).toMatchObject({ status: 'up' });
    const subject = await createCheck({ name: 'subject' }, { filter_subject: 1, failure_kw: 'échec' });
    await send([address(subject.pingUuid)], { subject: 'Sauvegarde: échec', text: 'x' }); // sent as =?UTF-8?…?=
    expect(await check(subject.id)).toMatchObject({ status: 'down' });
    expect((await pingRows(subject.id))[0]!.body).toMatch(/Subject: =\?UTF-8\?/);
  });

  it("{ping_key}+{slug}@domain pings the slug's check; an upper-case UUID and domain are the same address; a check limited to POST still takes mail", async () => {
    await start();
    const key = await ctx.services.heartbeats.pingKey(tenant.tenantId);
    const bySlug = await createCheck({ slug: 'db-dump' });
    const postOnly = await createCheck({ name: 'post only', methods: 'POST' });
    const info = await send([`${key}+db-dump@${DOMAIN}`, `${postOnly.pingUuid.toUpperCase()}@${DOMAIN.toUpperCase()}`]);
    expect(info.rejected).toEqual([]);
    expect((await pingRows(bySlug.id)).map((r) => r.kind)).toEqual(['success']);
    expect((await pingRows(postOnly.id)).map((r) => [r.kind, r.method])).toEqual([['success', 'email']]);
  });

  it('refuses at RCPT (550) every recipient that names no check: unknown UUID, slug or key, another domain, anything else; the others still get their ping', async () => {
    await start();
    const key = await ctx.services.heartbeats.pingKey(tenant.tenantId);
    const { id, pingUuid } = await createCheck({ slug: 'known' });
    const unknown = [`${randomUUID()}@${DOMAIN}`, `${key}+unknown@${DOMAIN}`, `AAAAAAAAAAAAAAAAAAAAAA+known@${DOMAIN}`, `${pingUuid}@other.example`, `postmaster@${DOMAIN}`, `${key}+Known@${DOMAIN}`];
    const refused = await send(unknown).then(
      () => undefined,
      (error: { code?: string; responseCode?: number; rejected?: string[] }) => error,
    );
    expect(refused).toMatchObject({ code: 'EENVELOPE', responseCode: 550 });
    expect(refused!.rejected).toEqual(unknown);

    const mixed = await send([address(pingUuid), `${randomUUID()}@${DOMAIN}`]);
    expect(mixed.accepted).toEqual([address(pingUuid)]);
    expect(mixed.rejected).toHaveLength(1);
    expect(mixed.rejectedErrors?.[0]?.response).toMatch(/^550 5\.1\.1 /);
    expect((await pingRows(id)).map((r) => r.kind)).toEqual(['success']);
  });

  it('refuses a message over the size limit with 552 and records nothing; keeps PING_BODY_LIMIT_BYTES of an accepted one', async () => {
    await start({ maxMessageBytes: 4096, bodyLimitBytes: 1000 });
    const { id, pingUuid } = await createCheck();
    const refused = await send([address(pingUuid)], { text: 'x'.repeat(10_000) }).then(
      () => undefined,
      (error: { responseCode?: number; response?: string }) => error,
    );
    expect(refused?.responseCode).toBe(552);
    expect(await pingRows(id)).toEqual([]);
    expect(await check(id)).toMatchObject({ status: 'new', nPings: 0 });

    await send([address(pingUuid)], { text: 'y'.repeat(3000) });
    const [row] = await pingRows(id);
    expect(Buffer.byteLength(row!.body!)).toBe(1000);
    expect(row!.body_size).toBeGreaterThan(3000);
  });

  /** The /metrics counters of pings, as Prometheus reads them. */
  async function pingCounters(): Promise<Record<string, number>> {
    const text = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
    const found: Record<string, number> = {};
    for (const [, name, labels, value] of text.matchAll(/^(vigie_pings_(?:received|refused)_total)\{([^}]*)\} (\S+)$/gm)) found[`${name}{${labels}}`] = Number(value);
    return found;
  }

  /**
   * An SMTP conversation typed line by line over a socket, so that something can happen between
   * RCPT and DATA; each line answers with the server's reply (multi-line replies joined).
   */
  async function smtpSession() {
    const [host, port] = listener.address().split(':');
    const socket = connect(Number(port), host);
    let buffer = '';
    const waiters: ((line: string) => void)[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      // A reply ends with a line whose code is followed by a space.
      for (let match = /^(\d{3}) .*\r\n/m.exec(buffer); match; match = /^(\d{3}) .*\r\n/m.exec(buffer)) {
        const end = match.index + match[0].length;
        const reply = buffer.slice(0, end).trimEnd();
        buffer = buffer.slice(end);
        waiters.shift()?.(reply);
      }
    });
    const reply = () => new Promise<string>((resolve) => waiters.push(resolve));
    const greeting = await reply();
    expect(greeting).toMatch(/^220 /);
    return {
      say: async (line: string) => {
        const answer = reply();
        socket.write(`${line}\r\n`);
        return answer;
      },
      close: () => socket.destroy(),
    };
  }

  const httpPing = async (pingUuid: string) => (await ctx.app.inject({ method: 'GET', url: `/ping/${pingUuid}` })).statusCode;

  it('counts like an HTTP ping: in /metrics, and towards the same per-check limit, refused with 450 at RCPT when over it', async () => {
    await start({ env: { PING_RATE_LIMIT_PER_MINUTE: '3' } });
    const { id, pingUuid } = await createCheck();
    const other = await createCheck({ name: 'other' });
    expect([await httpPing(pingUuid), await httpPing(pingUuid)]).toEqual([200, 200]);
    expect((await send([address(pingUuid)], { subject: 'third' })).accepted).toEqual([address(pingUuid)]);
    expect(await pingCounters()).toMatchObject({ 'vigie_pings_received_total{kind="success"}': 3 });
    // The fourth ping of the minute, by e-mail: a temporary refusal, so the sending server retries later.
    const refused = await send([address(pingUuid)], { subject: 'fourth' }).catch((error: { responseCode?: number; response?: string }) => error);
    expect(refused).toMatchObject({ responseCode: 450 });
    expect((refused as { response: string }).response).toMatch(/^450 4\.7\.1 Rate limit exceeded for this check, try again in \d+ seconds/);
    // By HTTP too, after the e-mail counted; another check is not affected.
    expect(await httpPing(pingUuid)).toBe(429);
    expect((await send([address(other.pingUuid)], { subject: 'other' })).accepted).toEqual([address(other.pingUuid)]);
    // Two recipients, one over its limit: that one alone is refused, the other gets its ping.
    const mixed = await send([address(pingUuid), address(other.pingUuid)], { subject: 'both' });
    expect([mixed.accepted, mixed.rejected]).toEqual([[address(other.pingUuid)], [address(pingUuid)]]);
    expect(await check(id)).toMatchObject({ nPings: 3 });
    expect((await pingRows(id)).map((r) => r.method)).toEqual(['GET', 'GET', 'email']);
    expect(await pingCounters()).toMatchObject({ 'vigie_pings_received_total{kind="success"}': 5, 'vigie_pings_refused_total{reason="check_rate"}': 3 });
    // The next minute, mail is taken again.
    ctx.clock.advance(60_000);
    expect((await send([address(pingUuid)], { subject: 'later' })).accepted).toEqual([address(pingUuid)]);
    expect(await check(id)).toMatchObject({ nPings: 4 });
  });

  it('a check that went over its limit between RCPT and the end of DATA gets 451 for the message, and nothing is stored', async () => {
    await start({ env: { PING_RATE_LIMIT_PER_MINUTE: '2' } });
    const { id, pingUuid } = await createCheck();
    const smtp = await smtpSession();
    try {
      expect(await smtp.say('EHLO client.test')).toMatch(/^250/);
      expect(await smtp.say(`MAIL FROM:<${SENDER}>`)).toMatch(/^250 /);
      expect(await smtp.say(`RCPT TO:<${address(pingUuid)}>`)).toMatch(/^250 /);
      expect([await httpPing(pingUuid), await httpPing(pingUuid)]).toEqual([200, 200]);
      expect(await smtp.say('DATA')).toMatch(/^354 /);
      expect(await smtp.say(`Subject: late\r\nFrom: ${SENDER}\r\n\r\nbody\r\n.`)).toMatch(/^451 4\.7\.1 Rate limit exceeded/);
    } finally {
      smtp.close();
    }
    expect((await pingRows(id)).map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(await pingCounters()).toMatchObject({ 'vigie_pings_received_total{kind="success"}': 2, 'vigie_pings_refused_total{reason="check_rate"}': 1 });
  });

  it('counts a ping by the kind the keyword filter made it', async () => {
    await start();
    const { pingUuid } = await createCheck({}, { filter_subject: 1, failure_kw: 'FAILED', start_kw: 'Starting' });
    await send([address(pingUuid)], { subject: 'Starting' });
    await send([address(pingUuid)], { subject: 'Backup FAILED' });
    await send([address(pingUuid)], { subject: 'no keyword' });
    expect(await pingCounters()).toMatchObject({ 'vigie_pings_received_total{kind="start"}': 1, 'vigie_pings_received_total{kind="fail"}': 1, 'vigie_pings_received_total{kind="ign"}': 1 });
  });
});

describe('the e-mail listener as background work', () => {
  it('is not started unless SMTPD_PORT is set', () => {
    const runtime = { config: loadConfig({}) } as Parameters<typeof emailPingLoops>[0];
    expect(emailPingLoops(runtime, {} as Parameters<typeof emailPingLoops>[1])).toEqual([]);
    const on = { config: loadConfig({ SMTPD_PORT: '0' }), logger: createLogger('silent') } as Parameters<typeof emailPingLoops>[0];
    const own = { pingGate: { checkPings: () => ({ hit: () => 0, exceeded: () => 0 }) } } as unknown as Parameters<typeof emailPingLoops>[1];
    expect(emailPingLoops(on, own).map((l) => l.name)).toEqual(['e-mail ping listener']);
  });
});
