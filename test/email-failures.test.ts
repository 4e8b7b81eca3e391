/**
 * E-mail that cannot go out is no longer silent. Without SMTP: `vigie serve` warns once at
 * start-up when a tenant has e-mail notifications; each failed attempt is logged at warn with
 * the channel, its kind and the reason; GET /api/v1/channels (and /{id}) shows each channel's
 * last delivery; the delivery self check names the missing relay. With a real SMTP server: the
 * same places show a success, and a relay that refuses the recipient shows its answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createServices } from '../src/services.js';
import { startServer } from '../src/server.js';
import { ManualClock } from '../src/clock.js';
import { createTenantWithKey, createTestApp, TEST_SECRET_KEY, type TestContext } from './helpers/app.js';
import { createTestDatabase, TEST_DIALECTS } from './helpers/databases.js';
import { captureLogs, LEVEL } from './helpers/log-capture.js';
import { startSmtpCapture, type SmtpCapture } from './helpers/receivers.js';

const NO_SMTP = 'e-mail is not configured on this server (no SMTP relay set)';

describe.each(TEST_DIALECTS)('e-mail delivery failures on %s', (dialect) => {
  let ctx: TestContext | undefined;
  let smtp: SmtpCapture | undefined;
  afterEach(async () => {
    await ctx?.close();
    await smtp?.close();
    ctx = smtp = undefined;
  });

  /** A tenant whose notification_email is its default e-mail channel, and a monitor that goes down and is routed to it. */
  async function alertByEmail(env: Record<string, string> = {}) {
    const logs = captureLogs('info');
    ctx = await createTestApp(dialect, { env, logger: logs.logger });
    const c = ctx;
    const tenant = await createTenantWithKey(c, 'full', 'Acme');
    const headers = { 'x-api-key': tenant.apiKey };
    const patched = await c.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers, payload: { notification_email: 'ops@acme.test', alert_grouping_enabled: false } });
    expect(patched.statusCode, patched.body).toBe(200);
    const channels = (await c.app.inject({ method: 'GET', url: '/api/v1/channels', headers })).json() as Record<string, any>[];
    const channel = channels.find((ch) => ch.is_default_email)!;
    expect(channel).toMatchObject({ kind: 'email', last_delivery: null });
    const target = await c.services.httpTargets.create(tenant.tenantId, { name: 'api', url: 'http://127.0.0.1:9/', failureThreshold: 1 });
    await c.services.recorder.record(target, { status: 'down', message: 'connection refused' });
    expect(await c.services.alertRouter.routeBatch()).toEqual({ events: 1, queued: 1 });
    expect(await c.services.delivery.deliverDue()).toBe(1);
    const read = async () => {
      const list = (await c.app.inject({ method: 'GET', url: '/api/v1/channels', headers })).json() as Record<string, any>[];
      const one = (await c.app.inject({ method: 'GET', url: `/api/v1/channels/${channel.id}`, headers })).json() as Record<string, any>;
      expect(list.find((ch) => ch.id === channel.id)).toEqual(one);
      return one;
    };
    return { logs, channelId: channel.id as string, read, tenant };
  }

  it('without SMTP: the failed attempt is logged at warn, shown on the channel and in the self check', async () => {
    const { logs, channelId, read } = await alertByEmail();
    const warned = logs.lines.filter((line) => line.level === LEVEL.warn);
    expect(warned).toEqual([expect.objectContaining({ msg: 'notification failed for good', channel: channelId, kind: 'email', reason: NO_SMTP })]);
    expect((await read()).last_delivery).toEqual({ status: 'failed', at: new Date(ctx!.clock.now()).toISOString(), error: NO_SMTP });

    const reading = await ctx!.services.selfMonitoring.probes.delivery.run();
    expect(reading.status).toBe('warning');
    expect(reading.message).toContain('SMTP is not configured (SMTP_HOST) but 1 tenant(s) have e-mail notifications: they fail');
    expect(reading.message).toContain(`1 notification attempt(s) failed in the last hour (email: 1); last e-mail error: ${NO_SMTP}`);
    // Failures age out of the window; the missing relay stays reported.
    ctx!.clock.advance(2 * 3_600_000);
    const later = await ctx!.services.selfMonitoring.probes.delivery.run();
    expect(later.message).not.toContain('failed in the last hour');
    expect(later.message).toContain('SMTP is not configured');
  });

  it('with a real SMTP server: the success is shown, nothing is warned', async () => {
    smtp = await startSmtpCapture();
    const { logs, read } = await alertByEmail({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port) });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to).toEqual(['ops@acme.test']);
    expect((await read()).last_delivery).toEqual({ status: 'sent', at: new Date(ctx!.clock.now()).toISOString(), error: null });
    expect(logs.lines.filter((line) => (line.level as number) >= LEVEL.warn)).toEqual([]);
    const reading = await ctx!.services.selfMonitoring.probes.delivery.run();
    expect(reading.message).not.toMatch(/SMTP|failed/);
  });

  it('a relay that refuses the recipient: warn with its answer, and the self check quotes it', async () => {
    smtp = await startSmtpCapture({ onRcptTo: (_address, _session, callback) => callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 })) });
    const { logs, channelId, read } = await alertByEmail({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port) });
    const warned = logs.lines.filter((line) => line.level === LEVEL.warn);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ channel: channelId, kind: 'email', reason: expect.stringContaining('550') });
    const last = (await read()).last_delivery;
    expect(last).toMatchObject({ status: 'failed', error: warned[0]!.reason });
    const reading = await ctx!.services.selfMonitoring.probes.delivery.run();
    expect(reading).toMatchObject({ status: 'warning', message: expect.stringContaining(`(email: 1); last e-mail error: ${String(warned[0]!.reason)}`) });
    expect(reading.message).not.toContain('SMTP is not configured');
  });

  it('vigie serve warns once at start-up when a tenant has e-mail notifications and SMTP is not configured', async () => {
    const testDatabase = await createTestDatabase(dialect);
    const dataDir = mkdtempSync(join(tmpdir(), 'vigie-email-'));
    try {
      // A database with one tenant whose notification_email is set.
      const seed = await openDatabase(loadConfig({ DATABASE_URL: testDatabase.url }).database);
      await migrateToLatest(seed.db);
      const services = createServices({ db: seed.db, clock: new ManualClock(Date.now()), secretKey: TEST_SECRET_KEY, jwtExpiresMinutes: 60 });
      const tenant = await services.tenants.create({ name: 'Acme' });
      await services.settings.update(tenant.id, { notificationEmail: 'ops@acme.test' });
      await seed.close();

      const startsWith = async (env: Record<string, string>) => {
        const logs = captureLogs('info');
        const config = loadConfig({ DATABASE_URL: testDatabase.url, PORT: '0', DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET_KEY, ...env });
        const server = await startServer({ config, logger: logs.logger });
        await server.stop();
        return logs.lines.filter((line) => String(line.msg).includes('SMTP is not configured'));
      };
      const warnings = await startsWith({});
      expect(warnings).toEqual([
        expect.objectContaining({
          level: LEVEL.warn,
          tenants: 1,
          msg: '1 tenant(s) have e-mail notifications (an e-mail channel or notification_email) but SMTP is not configured: set SMTP_HOST, or those e-mails fail',
        }),
      ]);
      expect(await startsWith({ SMTP_HOST: '127.0.0.1' })).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await testDatabase.drop();
    }
  });
});
