/**
 * Delivery survives the process: `vigie serve` (real process, on SQLite and on PostgreSQL) flips a
 * monitor down, the webhook receiver refuses the first attempt, the server is killed with SIGKILL
 * while the retry is pending, and after a restart the message arrives — once. The e-mail that
 * went out before the kill (to a real SMTP server) is not sent again. Also proves the live path
 * end to end: a check's flip reaches both receivers without anyone calling the router by hand.
 * On PostgreSQL the server process is the one killed; the database server lives on, as it would.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempWorkDir, type ServeProcess } from './helpers/cli.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';
import { eventually } from './helpers/eventually.js';
import { parseMail, startSmtpCapture, StandIn, type SmtpCapture } from './helpers/receivers.js';

describe.each(TEST_DIALECTS)('alert delivery across a crash on %s', (dialect) => {
  const cwd = tempWorkDir();
  const receiver = new StandIn();
  let smtp: SmtpCapture;
  let target: Server;
  let env: Record<string, string>;
  let server: ServeProcess | undefined;
  let database: TestDatabase | undefined;
  const headers = { 'x-api-key': 'dev-apikey-123', 'content-type': 'application/json' };

  beforeAll(async () => {
    await receiver.start();
    smtp = await startSmtpCapture();
    target = createServer((_request, response) => response.writeHead(503).end('down for maintenance'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    if (dialect === 'postgres') database = await createTestDatabase('postgres');
    env = {
      DATABASE_URL: database?.url ?? 'sqlite:./data/vigie.db',
      SECRET_KEY: 'alert-crash-secret-alert-crash-secret-0123',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_FROM: 'Vigie <alerts@vigie.test>',
    };
    // The dev tenant's notification_email (alerts@example.com) is its default e-mail channel.
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
  });

  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop('SIGKILL');
    await database?.drop();
    await receiver.stop();
    await smtp.close();
    target.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('a pending delivery arrives once after SIGKILL and restart; a sent one is not sent again', { timeout: 90_000 }, async () => {
    server = await startServe({ cwd, env });
    const api = (path: string, init: RequestInit = {}) => fetch(`${server!.url}${path}`, { ...init, headers });

    expect((await api('/api/v1/settings', { method: 'PATCH', body: JSON.stringify({ alert_grouping_enabled: false }) })).status).toBe(200);
    const channel = await api('/api/v1/channels', { method: 'POST', body: JSON.stringify({ name: 'ops hook', kind: 'webhook', config: { url: `${receiver.base}/hook` } }) });
    expect(channel.status).toBe(201);
    receiver.answers.push({ status: 503, body: 'receiver restarting' });

    const port = (target.address() as AddressInfo).port;
    const created = await api('/api/v1/http-targets', {
      method: 'POST',
      body: JSON.stringify({ name: 'billing api', url: `http://127.0.0.1:${port}/health`, failure_threshold: 1, check_interval_seconds: 300 }),
    });
    expect(created.status).toBe(201);
    const { id: monitorId } = (await created.json()) as { id: string };

    // The scheduled check flips the monitor down; the webhook refuses, the e-mail goes out.
    await eventually(() => (receiver.recorded.length >= 1 ? true : undefined), 'the first webhook attempt');
    await eventually(() => (smtp.received.length >= 1 ? true : undefined), 'the alert e-mail');
    const pending = await eventually(async () => {
      const rows = (await (await api('/api/v1/alerts/notifications?status=pending')).json()) as { channel_name: string; attempts: number; last_error: string }[];
      return rows.find((row) => row.channel_name === 'ops hook');
    }, 'the webhook notification to be pending a retry');
    expect(pending.attempts).toBe(1);
    expect(pending.last_error).toContain('503');

    // Killed while the retry is pending: no chance to clean up.
    expect(await server.stop('SIGKILL')).toBe(null);
    server = await startServe({ cwd, env });

    // The retry falls due 10 s after the failure and is sent by the new process.
    await eventually(() => (receiver.recorded.length >= 2 ? true : undefined), 'the retried webhook after the restart');
    const sent = await eventually(async () => {
      const rows = (await (await api('/api/v1/alerts/notifications?status=sent')).json()) as { channel_name: string; attempts: number; idempotency_key: string }[];
      return rows.find((row) => row.channel_name === 'ops hook');
    }, 'the webhook notification to be marked sent');
    expect(sent.attempts).toBe(2);

    // Give a duplicate every chance to show up, then count.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(receiver.recorded).toHaveLength(2);
    const [first, second] = receiver.recorded;
    expect(first!.headers['x-vigie-idempotency-key']).toBe(sent.idempotency_key);
    expect(second!.headers['x-vigie-idempotency-key']).toBe(sent.idempotency_key);
    const body = JSON.parse(second!.body) as { kind: string; items: { monitor_id: string; monitor_name: string; to_state: string; reason: string }[] };
    expect(body.kind).toBe('alert');
    expect(body.items).toEqual([expect.objectContaining({ monitor_id: monitorId, monitor_name: 'billing api', to_state: 'down', reason: 'expected status 200, got 503' })]);

    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to).toEqual(['alerts@example.com']);
    expect(parseMail(smtp.received[0]!.raw).headers.get('subject')).toBe('[Dev] billing api (http) is DOWN');

    const events = (await (await api(`/api/v1/alerts/events?monitor=${monitorId}`)).json()) as { total: number; items: { notifications: { status: string }[] }[] };
    expect(events.total).toBe(1);
    expect(events.items[0]!.notifications.map((n) => n.status).sort()).toEqual(['sent', 'sent']);
    expect(await server.stop()).toBe(0);
  });
});
