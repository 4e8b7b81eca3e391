import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServe, tempWorkDir } from './helpers/cli.js';

/** Sends the head and half the body of a request, and returns a way to send the rest. */
function openSlowRequest(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const body = JSON.stringify({ username: 'nobody@example.com', password: 'wrong password' });
  let response = '';
  socket.on('data', (chunk) => (response += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  socket.write(body.slice(0, 10));
  return {
    // write, not end: a half-closed socket would tell the server the client has gone.
    finish: () => socket.write(body.slice(10)),
    response: async () => {
      await closed;
      return response;
    },
  };
}

describe('graceful shutdown', () => {
  it('lets an in-flight request finish on SIGTERM, then closes the database cleanly', async () => {
    const cwd = tempWorkDir();
    const server = await startServe({ cwd, env: { DATABASE_URL: 'sqlite:./data/vigie.db', LOG_LEVEL: 'info' } });
    expect(existsSync(join(cwd, 'data', 'vigie.db-wal'))).toBe(true);

    const request = openSlowRequest(server.url);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the server has the request's head
    const exitCode = server.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200)); // shutdown has begun
    request.finish();

    const response = await request.response();
    expect(response).toMatch(/^HTTP\/1\.1 401 /);
    expect(response).toContain('Incorrect username or password');
    expect(await exitCode).toBe(0);
    expect(server.output().stdout).toContain('"msg":"Vigie stopped"');
    // SQLite removes the write-ahead log when the last connection closes cleanly.
    expect(existsSync(join(cwd, 'data', 'vigie.db-wal'))).toBe(false);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('keeps a generated SECRET_KEY in the data directory, so tokens survive a restart', async () => {
    const cwd = tempWorkDir();
    const env = { DATABASE_URL: 'sqlite:./data/vigie.db', DATA_DIR: './data' };
    let server = await startServe({ cwd, env });
    expect(server.output().stdout).toContain('SECRET_KEY is not set: generated one');
    const credentials = server.output().stdout;
    const email = /Login e-mail : (\S+)/.exec(credentials)![1]!;
    const password = /Password {5}: (\S+)/.exec(credentials)![1]!;
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: email, password }),
    });
    const token = ((await login.json()) as { access_token: string }).access_token;
    await server.stop();

    server = await startServe({ cwd, env });
    expect(server.output().stdout).toContain('using the key kept in');
    const me = await fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await server.stop()).toBe(0);
    rmSync(cwd, { recursive: true, force: true });
  });
});
