/**
 * No acknowledged ingest batch is lost, and none is half stored, when the server dies mid-flood
 * (issue 6). A real `vigie serve`, on SQLite and on PostgreSQL, takes batches from 16 agents (each its own hostname
 * and keep-alive connection, each batch a new X-Ingest-Id and a new `ts`: 200 numeric metrics and
 * a string metric whose value changes every batch). Once some hundreds of batches are answered
 * it is killed with SIGKILL (no shutdown, no flush), then restarted on the same data directory.
 *
 * Asserted after the restart:
 * - every acknowledged batch is answered as a duplicate when posted again (its ingest id was
 *   kept), with the answer it first got, and the restarted server stores nothing for it;
 * - in the database (read once the server has stopped cleanly): every acknowledged batch has its
 *   ingest id, its 200 samples at its time and its string change; every batch sent but never
 *   answered is all there or not there at all (ingest id and rows are one transaction).
 * The test checks that the kill really cut the flood (requests were in flight and failed on their
 * connections), otherwise it would prove nothing.
 *
 * SIGKILL leaves the operating system's page cache intact, so this does not test fsync
 * (synchronous=FULL does that against power loss, which a test cannot simulate). On PostgreSQL
 * the server process is the one killed; the database server lives on, as it would.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseTarget } from '../src/db/database-url.js';
import { openDatabase } from '../src/db/database.js';
import { runCli, startServe, tempWorkDir, type ServeProcess } from './helpers/cli.js';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from './helpers/databases.js';
import { sendOnce, type Answer } from './helpers/keep-alive-request.js';

const AGENTS = 16;
const METRICS = 200;
/** Kill once this many batches are acknowledged: well into the flood, whatever the machine's speed. */
const KILL_AFTER_ACKS = 300;

/** One POST of a batch on a keep-alive connection. */
const post = (agent: Agent, url: string, ingestId: string, body: string): Promise<Answer> =>
  sendOnce(agent, url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'dev-apikey-123', 'x-ingest-id': ingestId }, body });

interface Batch {
  hostname: string;
  ingestId: string;
  ts: number;
  body: string;
  answer?: { ingest_id: string; machine_id: string; accepted: number; received_at: string; duplicate: boolean };
}

function makeBatch(hostname: string, n: number, ts: number): Batch {
  const metrics = [
    ...Array.from({ length: METRICS }, (_, k) => ({ name: `metric_${k}`, type: 'numeric', value: n + k / 1000, labels: { shard: String(k % 4) }, ts })),
    { name: 'batch_no', type: 'string', value: String(n), ts },
  ];
  return { hostname, ingestId: randomUUID(), ts, body: JSON.stringify({ machine: { hostname, os: 'linux' }, metrics, sent_at: new Date(ts).toISOString() }) };
}

describe.each(TEST_DIALECTS)('ingestion across a SIGKILL on %s', (dialect) => {
  const cwd = tempWorkDir();
  const env = { DATABASE_URL: 'sqlite:./data/vigie.db', SECRET_KEY: 'ingest-crash-secret-ingest-crash-secret-0123' };
  let target: DatabaseTarget = { dialect: 'sqlite', path: join(cwd, 'data/vigie.db') };
  let server: ServeProcess | undefined;
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      database = await createTestDatabase('postgres');
      env.DATABASE_URL = database.url;
      target = database.target;
    }
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
  });

  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop('SIGKILL');
    await database?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('every acknowledged batch is stored whole, and every other batch whole or not at all', { timeout: 240_000 }, async () => {
    server = await startServe({ cwd, env, timeoutMs: 60_000 });
    const url = () => `${server!.url}/api/v1/ingest/metrics`;
    const sent: Batch[] = [];
    const failuresBeforeKill: string[] = [];
    const failuresAfterKill: string[] = [];
    let acks = 0;
    let inFlight = 0;
    let inFlightAtKill = 0;
    let killed: Promise<number | null> | undefined;

    const connections = new Agent({ keepAlive: true, maxSockets: AGENTS });
    const agentLoop = async (i: number) => {
      const hostname = `crash-agent-${String(i).padStart(2, '0')}`;
      let ts = Date.now() - 60_000;
      for (let n = 0; !killed; n++) {
        ts += 1000;
        const batch = makeBatch(hostname, n, ts);
        sent.push(batch);
        inFlight++;
        try {
          const answer = await post(connections, url(), batch.ingestId, batch.body);
          expect(answer.status, answer.body).toBe(200);
          batch.answer = JSON.parse(answer.body);
          expect(batch.answer).toMatchObject({ ingest_id: batch.ingestId, accepted: METRICS + 1, duplicate: false });
          if (++acks >= KILL_AFTER_ACKS && !killed) {
            inFlightAtKill = inFlight - 1;
            killed = server!.stop('SIGKILL');
          }
        } catch (error) {
          (killed ? failuresAfterKill : failuresBeforeKill).push(String(error));
        } finally {
          inFlight--;
        }
      }
    };
    await Promise.all(Array.from({ length: AGENTS }, (_, i) => agentLoop(i)));
    connections.destroy();

    expect(failuresBeforeKill).toEqual([]);
    expect(await killed).toBe(null); // died of the signal
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(failuresAfterKill.length).toBeGreaterThan(0);
    for (const failure of failuresAfterKill) expect(failure).toMatch(/ECONNRESET|socket hang up|ECONNREFUSED|aborted|EPIPE/);

    const acknowledged = sent.filter((b) => b.answer);
    const unanswered = sent.filter((b) => !b.answer);
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    // Restarted: each acknowledged batch again is a duplicate, answered as the first time.
    server = await startServe({ cwd, env, timeoutMs: 60_000 });
    const again = new Agent({ keepAlive: true, maxSockets: 8 });
    for (const batch of acknowledged) {
      const answer = await post(again, url(), batch.ingestId, batch.body);
      expect(answer.status, answer.body).toBe(200);
      expect(JSON.parse(answer.body), batch.ingestId).toEqual({ ...batch.answer, duplicate: true });
    }
    // And the restarted server takes new batches.
    const fresh = makeBatch('crash-agent-00', 1_000_000, Date.now());
    const freshAnswer = await post(again, url(), fresh.ingestId, fresh.body);
    expect(freshAnswer.status, freshAnswer.body).toBe(200);
    expect(JSON.parse(freshAnswer.body)).toMatchObject({ accepted: METRICS + 1, duplicate: false });
    again.destroy();
    expect(await server.stop()).toBe(0);

    const { db, close } = await openDatabase(target);
    try {
      const ingestIds = new Set((await db.selectFrom('ingest_batches').select('ingest_id').execute()).map((r) => r.ingest_id));
      // A sample is in samples, or in samples_recent when the mover had not taken it yet (a
      // time is never in both here: each batch has its own).
      const samplesAt = async (hostname: string, at: number) =>
        Number(
          (
            await sql<{ n: number | string }>`select count(*) as n from (select series_id, at from samples union all select series_id, at from samples_recent) s
              join series on series.id = s.series_id join machines on machines.monitor_id = series.machine_id where machines.hostname = ${hostname} and s.at = ${at}`.execute(db)
          ).rows[0]!.n,
        );
      const changeAt = async (hostname: string, at: number) =>
        (
          await sql<{ value: string }>`select value from series_changes join series on series.id = series_changes.series_id
            join machines on machines.monitor_id = series.machine_id where machines.hostname = ${hostname} and series.name = 'batch_no' and series_changes.at = ${at}`.execute(db)
        ).rows[0]?.value ?? null;
      const stored = async (batch: Batch) => ({
        ingestId: ingestIds.has(batch.ingestId),
        samples: await samplesAt(batch.hostname, batch.ts),
        change: await changeAt(batch.hostname, batch.ts),
      });
      for (const batch of acknowledged) {
        const n = JSON.parse(batch.body).metrics.at(-1).value as string;
        expect(await stored(batch), `${batch.hostname} at ${batch.ts}`).toEqual({ ingestId: true, samples: METRICS, change: n });
      }
      let storedUnanswered = 0;
      for (const batch of unanswered) {
        const found = await stored(batch);
        const n = JSON.parse(batch.body).metrics.at(-1).value as string;
        if (found.ingestId) storedUnanswered++;
        expect(
          [
            { ingestId: false, samples: 0, change: null },
            { ingestId: true, samples: METRICS, change: n },
          ],
          `${batch.hostname} at ${batch.ts}`,
        ).toContainEqual(found);
      }
      // Nothing was stored twice: one ingest id per stored batch, the fresh one included.
      expect(ingestIds.size).toBe(acknowledged.length + storedUnanswered + 1);
    } finally {
      await close();
    }
  });
});
