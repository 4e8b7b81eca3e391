/**
 * No acknowledged ping is lost when the server dies mid-burst (issue 5). A real `vigie serve`
 * process, on SQLite and on PostgreSQL, takes a burst of pings over 20 heartbeat checks from 64 keep-alive
 * connections; after some hundreds are answered `200 OK` it is killed with SIGKILL (no shutdown,
 * no flush). Restarted on the same data directory, every check must have stored at least as many
 * pings as were acknowledged for it. A ping that was sent but never answered may or may not have
 * been stored — the client cannot know, and either outcome is correct — so that is the only
 * direction asserted; stored can also never exceed what was sent. The test checks that the kill
 * really cut the burst (requests were in flight and failed with connection errors), otherwise it
 * would prove nothing, and that the restarted server takes pings again.
 *
 * What it proves: the answer is sent only after the ping's transaction has committed (an answer
 * sent from a batch still being written would be lost with the process). SIGKILL leaves the
 * operating system's page cache intact, so this does not test fsync (synchronous=FULL does that
 * against power loss, which a test cannot simulate). On PostgreSQL the server process is the one
 * killed; the database server lives on, as it would.
 *
 * Ping URLs come from the `ping_url` the API gives, and stored pings are counted through the API
 * (`n_pings`): the test assumes nothing about how a ping URL maps to a check.
 */
import { rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempWorkDir, type ServeProcess } from './helpers/cli.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';
import { sendOnce } from './helpers/keep-alive-request.js';

const CHECKS = 20;
const CONNECTIONS = 64;
/** Kill once this many pings are acknowledged: well into the burst, whatever the machine's speed. */
const KILL_AFTER_ACKS = 600;

/** One GET ping on a keep-alive connection. */
const ping = (agent: Agent, url: string) => sendOnce(agent, url, { method: 'GET' });

interface V3Check {
  name: string;
  ping_url: string;
  n_pings: number;
}

describe.each(TEST_DIALECTS)('pings across a SIGKILL on %s', (dialect) => {
  const cwd = tempWorkDir();
  // The burst sends hundreds of pings per check within the minute: the per-check limit is off here.
  const env = { DATABASE_URL: 'sqlite:./data/vigie.db', SECRET_KEY: 'ping-crash-secret-ping-crash-secret-012345', PING_RATE_LIMIT_PER_MINUTE: '0' };
  const headers = { 'x-api-key': 'dev-apikey-123', 'content-type': 'application/json' };
  let server: ServeProcess | undefined;
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      database = await createTestDatabase('postgres');
      env.DATABASE_URL = database.url;
    }
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
  });

  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop('SIGKILL');
    await database?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  async function api<T>(path: string, init: RequestInit = {}, expected = 200): Promise<T> {
    const response = await fetch(`${server!.url}${path}`, { ...init, headers });
    const text = await response.text();
    expect(response.status, `${init.method ?? 'GET'} ${path}: ${text}`).toBe(expected);
    return JSON.parse(text) as T;
  }

  /** The burst's checks by name, as the running server lists them. */
  async function burstChecks(): Promise<Map<string, V3Check>> {
    const { checks } = await api<{ checks: V3Check[] }>('/api/v3/checks/');
    return new Map(checks.filter((c) => c.name.startsWith('burst ')).map((c) => [c.name, c]));
  }

  it('every acknowledged ping is stored after SIGKILL and restart', { timeout: 180_000 }, async () => {
    server = await startServe({ cwd, env, timeoutMs: 60_000 });
    const names = Array.from({ length: CHECKS }, (_, i) => `burst ${String(i).padStart(2, '0')}`);
    const targets: { name: string; url: string }[] = [];
    for (const name of names) {
      const created = await api<V3Check>('/api/v3/checks/', { method: 'POST', body: JSON.stringify({ name, timeout: 3600, grace: 60 }) }, 201);
      targets.push({ name, url: created.ping_url });
    }

    const sent = new Map(names.map((n) => [n, 0]));
    const acknowledged = new Map(names.map((n) => [n, 0]));
    const failuresBeforeKill: string[] = [];
    const failuresAfterKill: string[] = [];
    let totalAcks = 0;
    let inFlight = 0;
    let inFlightAtKill = 0;
    let next = 0;
    let killed: Promise<number | null> | undefined;

    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const connection = async () => {
      while (!killed) {
        const target = targets[next++ % CHECKS]!;
        sent.set(target.name, sent.get(target.name)! + 1);
        inFlight++;
        try {
          const answer = await ping(agent, target.url);
          // Anything but `200 OK` is a failure of the server, killed or not.
          expect(answer, `ping ${target.name}`).toEqual({ status: 200, body: 'OK' });
          acknowledged.set(target.name, acknowledged.get(target.name)! + 1);
          if (++totalAcks >= KILL_AFTER_ACKS && !killed) {
            inFlightAtKill = inFlight - 1; // every other connection's request is out
            killed = server!.stop('SIGKILL');
          }
        } catch (error) {
          if (!killed) failuresBeforeKill.push(String(error));
          else failuresAfterKill.push(String(error));
        } finally {
          inFlight--;
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, connection));
    agent.destroy();

    expect(failuresBeforeKill).toEqual([]);
    expect(await killed).toBe(null); // died of the signal, not of its own accord
    // The kill cut the burst: requests were out, and (some of) those failed on their connection.
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(failuresAfterKill.length).toBeGreaterThan(0);
    for (const failure of failuresAfterKill) expect(failure).toMatch(/ECONNRESET|socket hang up|ECONNREFUSED|aborted|EPIPE/);

    server = await startServe({ cwd, env, timeoutMs: 60_000 });
    const stored = await burstChecks();
    expect([...stored.keys()].sort()).toEqual(names);
    for (const name of names) {
      const nPings = stored.get(name)!.n_pings;
      expect(nPings, `${name}: stored vs acknowledged`).toBeGreaterThanOrEqual(acknowledged.get(name)!);
      expect(nPings, `${name}: stored vs sent`).toBeLessThanOrEqual(sent.get(name)!);
    }
    const totalStored = [...stored.values()].reduce((sum, c) => sum + c.n_pings, 0);
    expect(totalStored).toBeGreaterThanOrEqual(totalAcks);

    // The restarted server takes pings again (at the URLs it gives now: its port has changed).
    const retryAgent = new Agent({ keepAlive: true });
    for (const name of names) expect(await ping(retryAgent, stored.get(name)!.ping_url)).toEqual({ status: 200, body: 'OK' });
    retryAgent.destroy();
    const after = await burstChecks();
    for (const name of names) expect(after.get(name)!.n_pings, name).toBe(stored.get(name)!.n_pings + 1);

    expect(await server.stop()).toBe(0);
  });
});
