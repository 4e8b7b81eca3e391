import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempWorkDir } from './helpers/cli.js';
import { eventually } from './helpers/eventually.js';

describe('vigie serve runs scheduled checks', () => {
  let target: Server;
  let hits: string[] = [];
  let status = 200;
  const cwd = tempWorkDir();
  const env = { DATABASE_URL: 'sqlite:./data/vigie.db', SECRET_KEY: 'serve-checks-secret-serve-checks-secret-01' };
  const headers = { 'x-api-key': 'dev-apikey-123', 'content-type': 'application/json' };

  beforeAll(async () => {
    target = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.writeHead(status).end('hello');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
  });

  afterAll(() => {
    target.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('checks a new target right away, records results, flips it down, and resumes after a restart', async () => {
    const port = (target.address() as AddressInfo).port;
    let server = await startServe({ cwd, env });
    const created = await fetch(`${server.url}/api/v1/http-targets`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'local site', url: `http://127.0.0.1:${port}/health`, check_interval_seconds: 10, failure_threshold: 1 }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    // The scheduler runs the first check without anyone asking.
    await eventually(async () => (hits.includes('/health') ? true : undefined), 'the first scheduled check');
    const results = await eventually(async () => {
      const rows = (await (await fetch(`${server.url}/api/v1/monitors/${id}/results`, { headers })).json()) as { status: string; message: string }[];
      return rows.length ? rows : undefined;
    }, 'a stored result');
    expect(results[0]).toMatchObject({ status: 'up' });
    const monitor = (await (await fetch(`${server.url}/api/v1/monitors/${id}`, { headers })).json()) as { state: string; next_due_at: string };
    expect(monitor.state).toBe('up');
    expect(Date.parse(monitor.next_due_at)).toBeGreaterThan(Date.now());

    // Restart: the stored schedule is picked up again, and a failing target flips the monitor down.
    expect(await server.stop()).toBe(0);
    status = 503;
    hits = [];
    server = await startServe({ cwd, env });
    await eventually(async () => {
      const m = (await (await fetch(`${server.url}/api/v1/monitors/${id}`, { headers })).json()) as { state: string };
      return m.state === 'down' ? m : undefined;
    }, 'the monitor to go down after the restart');
    expect(hits.length).toBeGreaterThan(0);
    const incidents = (await (await fetch(`${server.url}/api/v1/incidents?monitor=${id}`, { headers })).json()) as { state: string; reason: string }[];
    expect(incidents).toMatchObject([{ state: 'open', reason: 'expected status 200, got 503' }]);
    expect(await server.stop()).toBe(0);
  });
});
