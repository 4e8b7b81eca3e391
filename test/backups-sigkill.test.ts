/**
 * The validator and promoter killed with SIGKILL at random points, over and over: a real `vigie
 * serve` process scans a deposit zone into which an agent (real rsync) puts a new run of two
 * jobs before each start, and is killed at a random moment of its scanning and promoting. After
 * each restart (start-up recovery done, before the next scan), the validated tree holds exactly
 * one complete healthy backup per job, and the database agrees: one promoted, unpruned run per
 * job, which is that copy, and no run left validating or promoting.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { parseDatabaseUrl } from '../src/db/database-url.js';
import { deposit, dump, sha256 } from './helpers/backup-agent.js';
import { startServe, tempWorkDir, type ServeProcess } from './helpers/cli.js';

const MIN_ITERATIONS = Number(process.env.BACKUP_KILL_ITERATIONS ?? 100);
/** The loop stops at MIN_ITERATIONS or after this long, whichever comes first (a loaded machine restarts slowly). */
const BUDGET_MS = 180_000;
/**
 * The loop must at least reach this many kills within its budget. An idle machine restarts
 * `vigie serve` in about a second and reaches MIN_ITERATIONS; a loaded one (10 s restarts were
 * seen with 2 cores shared by 8 sessions) gets this far, and the test says how far it got.
 */
const FLOOR_ITERATIONS = 10;
const FILES_PER_RUN = 20;

interface Job {
  id: string;
  agent: string;
}

describe('backups under SIGKILL', () => {
  const cwd = tempWorkDir();
  const zones = { depositDir: join(cwd, 'deposits'), validatedDir: join(cwd, 'validated') };
  const env = {
    DATABASE_URL: 'sqlite:./data/vigie.db',
    BACKUP_DEPOSIT_DIR: zones.depositDir,
    BACKUP_VALIDATED_DIR: zones.validatedDir,
    BACKUP_SCAN_SECONDS: '1',
    BACKUP_SETTLE_SECONDS: '0',
  };
  let server: ServeProcess | undefined;
  let database: DatabaseHandle | undefined;

  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await database?.close();
    if (!process.env.BACKUP_KILL_KEEP) await rm(cwd, { recursive: true, force: true });
    else console.log('kept', cwd);
  });

  const files = (seed: number, runId: string) => Array.from({ length: FILES_PER_RUN }, (_, n) => ({ path: `${runId}/part-${n}.bin`, content: dump(4096 + n, seed * 1000 + n + 1) }));

  async function depositRound(tenantId: string, jobs: Job[], round: number): Promise<void> {
    for (const [index, job] of jobs.entries()) {
      const runId = `run-${round}`;
      await deposit(join(cwd, 'agent-source', String(round)), join(zones.depositDir, tenantId, job.agent), job.agent, [{ jobId: job.id, runId, files: files(round * 10 + index, runId) }]);
    }
  }

  /**
   * The invariant, read while the restarted server waits for its first scan (so kept lean: names
   * and sizes), or with the server stopped (`hashes`: every file's SHA-256 too).
   */
  async function checkTree(tenantId: string, jobs: Job[], iteration: number, hashes = false): Promise<void> {
    const db = database!.db;
    const unfinished = await db.selectFrom('backup_runs').select(['run_id', 'state']).where('state', 'in', ['validating', 'promoting']).execute();
    expect(unfinished, `iteration ${iteration}: runs left unfinished after recovery`).toEqual([]);
    for (const job of jobs) {
      const healthy = await db.selectFrom('backup_runs').selectAll().where('monitor_id', '=', job.id).where('state', '=', 'promoted').where('pruned_at', 'is', null).execute();
      expect(healthy.length, `iteration ${iteration}: healthy runs of ${job.agent}`).toBe(1);
      const jobDir = join(zones.validatedDir, tenantId, job.agent, job.id);
      expect(await readdir(jobDir), `iteration ${iteration}: copies of ${job.agent}`).toEqual([healthy[0]!.run_id]);
      const manifest = JSON.parse(healthy[0]!.files_json) as { path: string; size: number; sha256: string }[];
      const copy = join(jobDir, healthy[0]!.run_id);
      const present = (await readdir(copy, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
      expect(present, `iteration ${iteration}: files in the copy of ${job.agent}`).toBe(manifest.length);
      for (const file of manifest) {
        if (!hashes) {
          expect((await stat(join(copy, file.path))).size, `iteration ${iteration}: ${file.path}`).toBe(file.size);
          continue;
        }
        const content = await readFile(join(copy, file.path));
        expect({ path: file.path, size: content.length, sha256: sha256(content) }).toEqual(file);
      }
    }
  }

  it(`keeps one complete healthy copy per job through kills at random points (up to ${MIN_ITERATIONS} within the time budget)`, { timeout: BUDGET_MS + 240_000 }, async () => {
    // First start: bootstrap prints an API key; two jobs; one healthy run each before the kills.
    server = await startServe({ cwd, env, timeoutMs: 60_000 });
    const out = server.output().stdout;
    const apiKey = /API key\s+:\s+(\S+)/.exec(out)![1]!;
    const tenantId = /Tenant id\s+:\s+(\S+)/.exec(out)![1]!;
    const jobs: Job[] = [];
    for (const agent of ['db-a', 'db-b']) {
      const response = await fetch(`${server.url}/api/v1/backup-jobs`, {
        method: 'POST',
        headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `${agent} dump`, agent, database: 'main', size_anomaly_percent: 1000 }),
      });
      expect(response.status).toBe(201);
      jobs.push({ id: ((await response.json()) as { id: string }).id, agent });
    }
    database = await openDatabase(parseDatabaseUrl(`sqlite:${join(cwd, 'data', 'vigie.db')}`));
    await depositRound(tenantId, jobs, 0);
    for (let waited = 0; waited < 20_000; waited += 200) {
      const promoted = await database.db.selectFrom('backup_runs').select('id').where('state', '=', 'promoted').execute();
      if (promoted.length === jobs.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    server.child.kill('SIGKILL');
    await new Promise((r) => server!.child.once('close', r));

    const started = Date.now();
    let iteration = 0;
    const killedDuring = new Map<string, number>();
    while (iteration < MIN_ITERATIONS && Date.now() - started < BUDGET_MS) {
      iteration++;
      await depositRound(tenantId, jobs, iteration);
      server = await startServe({ cwd, env, timeoutMs: 60_000 });
      await checkTree(tenantId, jobs, iteration);
      // The first scan is a second after start; kill somewhere in it or in the promotion that follows.
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 800));
      const states = await database.db.selectFrom('backup_runs').select('state').where('state', 'in', ['received', 'validating', 'promoting']).execute();
      const phase =
        states
          .map((s) => s.state)
          .sort()
          .join('+') || 'idle';
      killedDuring.set(phase, (killedDuring.get(phase) ?? 0) + 1);
      server.child.kill('SIGKILL');
      await new Promise((r) => server!.child.once('close', r));
    }
    // One last restart (recovery), stopped before its first scan: every file of every copy hashed.
    server = await startServe({ cwd, env, timeoutMs: 60_000 });
    server.child.kill('SIGKILL');
    await new Promise((r) => server!.child.once('close', r));
    await checkTree(tenantId, jobs, iteration + 1, true);
    console.log(`backups under SIGKILL: ${iteration} kills in ${Math.round((Date.now() - started) / 1000)} s; runs in flight when killed:`, Object.fromEntries(killedDuring));
    expect(iteration).toBeGreaterThanOrEqual(Math.min(MIN_ITERATIONS, FLOOR_ITERATIONS));
    // Kills landed while runs were in flight, and runs kept being promoted between kills.
    expect([...killedDuring.keys()].some((phase) => phase !== 'idle')).toBe(true);
    const promoted = await database.db.selectFrom('backup_runs').select('id').where('state', '=', 'promoted').execute();
    expect(promoted.length).toBeGreaterThan(jobs.length + Math.min(iteration, FLOOR_ITERATIONS) / 4);
  });
});
