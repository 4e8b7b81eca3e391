/**
 * The e-mail ping listener inside a real `vigie serve` (SQLite): started with the other
 * background work when SMTPD_PORT is set, a check made through the Healthchecks API pinged by a
 * real SMTP client, and stopped cleanly with the server on SIGTERM
 * (exit 0, the SMTP port closed).
 */
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_API_KEY, runCli, serveApi, startServe, tempWorkDir, type ServeApi, type ServeProcess } from './helpers/cli.js';

const DOMAIN = 'pings.example.test';

describe('e-mail pings through vigie serve', () => {
  const cwd = tempWorkDir();
  const env = { DATABASE_URL: 'sqlite:./data/vigie.db', SECRET_KEY: 'email-serve-secret-email-serve-secret-0123', SMTPD_PORT: '0', PING_EMAIL_DOMAIN: DOMAIN };
  let server: ServeProcess | undefined;
  let api: ServeApi;
  let smtp: { host: string; port: number };

  beforeAll(async () => {
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
    server = await startServe({ cwd, env });
    api = serveApi(server);
    const announced = /"smtp":"([0-9.]+):(\d+)","domain":"([^"]+)"/.exec(server.output().stdout);
    expect(announced, server.output().stdout).not.toBeNull();
    expect(announced![3]).toBe(DOMAIN);
    smtp = { host: announced![1]!, port: Number(announced![2]) };
  });

  afterAll(async () => {
    if (server && server.child.exitCode === null) await server.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const send = (to: string, subject: string) =>
    createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true }).sendMail({ from: 'cron@example.org', to, subject, text: `${subject}\n` });

  it('pings a check by its UUID address, and stops with the server', async () => {
    const check = await api('POST', '/api/v3/checks/', { name: 'Mailed report', timeout: 3600, grace: 60 });
    const info = await send(`${check.uuid}@${DOMAIN}`, 'Report: all good');
    expect(info.accepted).toEqual([`${check.uuid}@${DOMAIN}`]);

    const after = await api('GET', `/api/v3/checks/${check.uuid}`);
    expect(after).toMatchObject({ status: 'up', n_pings: 1 });
    const { pings } = await api('GET', `/api/v3/checks/${check.uuid}/pings/`);
    expect(pings).toHaveLength(1);
    expect(pings[0]).toMatchObject({ type: 'success', method: 'email', remote_addr: '127.0.0.1', ua: 'Email from cron@example.org' });
    const body = await fetch(`${server!.url}/api/v3/checks/${check.uuid}/pings/1/body`, { headers: { 'x-api-key': DEV_API_KEY } }).then((r) => r.text());
    expect(body).toContain('Subject: Report: all good');

    expect(await server!.stop()).toBe(0);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(smtp.port, smtp.host);
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
