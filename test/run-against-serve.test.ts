/**
 * `vigie run` and `vigie ping` (issue 5) against a real `vigie serve` process on SQLite: a check
 * made through the Healthchecks API v3, a command that succeeds and one that fails (exit 3) each
 * reported as a start and an end with the same run id and a run time, the command's output as
 * the success ping's body, the check down with an open incident after the failure, `vigie ping`
 * bringing it back up, and a ping to an unknown check exiting 1.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_API_KEY, runCli, serveApi, startServe, tempWorkDir, type ServeApi, type ServeProcess } from './helpers/cli.js';

describe('vigie run against vigie serve', () => {
  const cwd = tempWorkDir();
  const env = { DATABASE_URL: 'sqlite:./data/vigie.db', SECRET_KEY: 'run-serve-secret-run-serve-secret-0123456' };
  const headers = { 'x-api-key': DEV_API_KEY };
  let server: ServeProcess | undefined;
  let api: ServeApi;

  beforeAll(async () => {
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
    server = await startServe({ cwd, env });
    api = serveApi(server);
  });

  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('reports a succeeding and a failing command, and vigie ping brings the check back up', async () => {
    const check = await api('POST', '/api/v3/checks/', { name: 'Nightly backup', timeout: 3600, grace: 60 });
    const uuid = check.uuid as string;
    expect(check.ping_url).toBe(`${server!.url}/ping/${uuid}`);
    const pingUrl = check.ping_url as string;

    const succeeded = await runCli(['run', '--ping-url', pingUrl, '--', process.execPath, '-e', "console.log('backup done'); process.exit(0)"], { cwd, env });
    expect(succeeded.code, succeeded.stderr).toBe(0);
    expect(succeeded.stdout).toBe('backup done\n'); // the output is still shown
    expect(succeeded.stderr).toBe(''); // no ping failed

    const failed = await runCli(['run', '--ping-url', pingUrl, '--', process.execPath, '-e', "console.error('disk full'); process.exit(3)"], { cwd, env });
    expect(failed.code, failed.stderr).toBe(3);
    expect(failed.stderr).toBe('disk full\n');

    const { pings } = await api('GET', `/api/v3/checks/${uuid}/pings/`);
    const oldestFirst = [...pings].reverse();
    expect(oldestFirst.map((p: any) => [p.n, p.type, p.exitstatus])).toEqual([
      [1, 'start', null],
      [2, 'success', 0],
      [3, 'start', null],
      [4, 'fail', 3],
    ]);
    const [start1, end1, start2, end2] = oldestFirst;
    expect(start1.rid).toMatch(/^[0-9a-f-]{36}$/);
    expect(end1.rid).toBe(start1.rid);
    expect(start2.rid).toMatch(/^[0-9a-f-]{36}$/);
    expect(end2.rid).toBe(start2.rid);
    expect(start2.rid).not.toBe(start1.rid);
    for (const start of [start1, start2]) expect(start).not.toHaveProperty('duration');
    for (const end of [end1, end2]) {
      // Seconds between the start and its end ping, as the command ran: real time, so bounds only.
      expect(end.duration).toBeGreaterThanOrEqual(0);
      expect(end.duration).toBeLessThan(60);
      expect(end.method).toBe('POST');
      expect(end.body_url).toBe(`${server!.url}/api/v3/checks/${uuid}/pings/${end.n}/body`);
    }

    const body1 = await fetch(end1.body_url, { headers });
    expect(body1.status).toBe(200);
    expect(await body1.text()).toContain('backup done');
    const body2 = await fetch(end2.body_url, { headers });
    expect(await body2.text()).toContain('disk full');

    expect(await api('GET', `/api/v3/checks/${uuid}`)).toMatchObject({ status: 'down', n_pings: 4, started: false, next_ping: null });
    // The v3 UUID is the ping URL's secret; Vigie's own API knows the check by its monitor id.
    const { items: monitors } = await api('GET', '/api/v1/monitors?kind=heartbeat');
    expect(monitors).toHaveLength(1);
    const monitorId = monitors[0].id as string;
    expect(monitorId).not.toBe(uuid);
    const open = await api('GET', `/api/v1/incidents?monitor=${monitorId}&state=open`);
    expect(open).toEqual([expect.objectContaining({ monitor_id: monitorId, monitor_name: 'Nightly backup', monitor_kind: 'heartbeat', state: 'open', resolved_at: null })]);
    expect(open[0].reason).toContain('exited with status 3');

    // A plain success ping from the command line ends the incident.
    const pinged = await runCli(['ping', pingUrl], { cwd, env });
    expect(pinged.code, pinged.stderr).toBe(0);
    expect(await api('GET', `/api/v3/checks/${uuid}`)).toMatchObject({ status: 'up', n_pings: 5 });
    expect((await api('GET', `/api/v3/checks/${uuid}/pings/`)).pings[0]).toMatchObject({ n: 5, type: 'success', method: 'GET', rid: null });
    expect(await api('GET', `/api/v1/incidents?monitor=${monitorId}&state=open`)).toEqual([]);
    const all = await api('GET', `/api/v1/incidents?monitor=${monitorId}`);
    expect(all).toEqual([expect.objectContaining({ id: open[0].id, state: 'resolved' })]);
  });

  it('vigie ping to an unknown check exits 1 and says why', async () => {
    const unknown = await runCli(['ping', `${server!.url}/ping/${randomUUID()}`], { cwd, env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^vigie ping: .*404.*\(after 1 attempt\(s\)\)\n$/);
  });
});
