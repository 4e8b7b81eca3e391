/**
 * The validator and promoter killed with SIGKILL at random points, at least 100 times (issue 16).
 * Each iteration an agent (real rsync) deposits a new run of two jobs (while the previous process
 * still runs, as agents do not wait for the scanner), then a scanning process
 * (test/helpers/backup-scan-worker.mjs: the backup kind's scanner over the real database and
 * zones, nothing else) starts, runs its start-up recovery, and is killed: either by itself with
 * SIGKILL at an injected step (claimed, validated, promoting, renamed, promoted, pruned: between
 * the very writes a crash could separate), or from outside at a random moment of its passes.
 * After each restart and its recovery, before the next pass: the validated tree holds exactly one
 * complete healthy backup per job, whose every file's size and SHA-256 match its run's report;
 * the database agrees (one promoted, unpruned run per job, which is that copy; no run left
 * validating or promoting); nothing is written outside the zones. A restart costs a Node start and
 * a database connection, so the loop reaches its 100 kills within its time budget; it prints how
 * many it reached and fails below 100 unless the budget ran out first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestSha256 } from '../src/kinds/backup/status-report.js';
import { STAGING_PREFIX } from '../src/kinds/backup/paths.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { dump, sha256, statusReport, writeStatus } from './helpers/backup-agent.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const execFileAsync = promisify(execFile);
const MIN_ITERATIONS = 100;
/** Per dialect; the loop stops at MIN_ITERATIONS or when this runs out (reported, and then the only excuse for fewer). */
const BUDGET_MS = Number(process.env.BACKUP_KILL_BUDGET_MS ?? 170_000);
const WORKER = join(import.meta.dirname, 'helpers', 'backup-scan-worker.mjs');
const STEPS = ['claimed', 'validated', 'promoting', 'renamed', 'promoted', 'pruned'] as const;
const FILES_PER_RUN = 3;
const PRELOADED = 3;

interface Job {
  id: string;
  agent: string;
}

interface Worker {
  child: ChildProcess;
  /** Resolves when the process has said `line` (or rejects if it exits first). */
  said(line: string): Promise<void>;
  exited: Promise<NodeJS.Signals | null>;
  hasExited(): boolean;
  stderr(): string;
  lastStep(): string | undefined;
}

/** Starts a worker, which loads its code and waits to be told `start`. */
function startWorker(args: string[]): Worker {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting = new Map<string, () => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    waiting.get(line)?.();
  });
  let gone = false;
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => {
      gone = true;
      resolve(signal);
    }),
  );
  return {
    child,
    exited,
    hasExited: () => gone,
    stderr: () => stderr,
    said: (line) =>
      lines.includes(line)
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            waiting.set(line, resolve);
            void exited.then((signal) => reject(new Error(`worker exited (${signal}) before "${line}"; said ${lines.slice(-5).join(' | ')}; stderr: ${stderr}`)));
          }),
    lastStep: () => lines.findLast((l) => l.startsWith('step '))?.slice(5),
  };
}

async function kill(worker: Worker): Promise<void> {
  worker.child.kill('SIGKILL');
  await worker.exited;
}

/** Every file under a directory, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe.each(TEST_DIALECTS)('backups under SIGKILL on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  let root: string;
  let zones: { depositDir: string; validatedDir: string };
  const jobs: Job[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vigie-sigkill-'));
    zones = { depositDir: join(root, 'deposits'), validatedDir: join(root, 'validated') };
    ctx = await createTestApp(dialect, { env: { BACKUP_DEPOSIT_DIR: zones.depositDir, BACKUP_VALIDATED_DIR: zones.validatedDir } });
    tenant = await createTenantWithKey(ctx);
    for (const agent of ['db-a', 'db-b']) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/backup-jobs',
        headers: { 'x-api-key': tenant.apiKey },
        payload: { name: `${agent} dump`, agent, database: 'main', size_anomaly_percent: 1000 },
      });
      expect(response.statusCode, response.body).toBe(201);
      jobs.push({ id: response.json().id as string, agent });
    }
  });
  afterAll(async () => {
    await ctx.close();
    if (process.env.BACKUP_KILL_KEEP) console.log('kept', root);
    else await rm(root, { recursive: true, force: true });
  });

  const files = (seed: number, runId: string) =>
    Array.from({ length: FILES_PER_RUN }, (_, n) => ({ path: `${runId}/part-${n}.bin`, content: dump(2048 + ((seed * 7 + n) % 512), seed * 1000 + n + 1) }));

  /** Both agents' new run, as the agents do it (files by one real rsync, then each STATUS.json written last); their source removed after. */
  async function depositRound(round: number): Promise<void> {
    const source = join(root, 'agent-source');
    const runId = `run-${round}`;
    const runs = jobs.map((job, index) => ({ job, run: { jobId: job.id, runId, files: files(round * 10 + index, runId) } }));
    for (const { job, run } of runs) {
      for (const file of run.files) {
        await mkdir(join(source, job.agent, job.id, runId), { recursive: true });
        await writeFile(join(source, job.agent, job.id, file.path), file.content);
      }
    }
    await mkdir(join(zones.depositDir, tenant.tenantId), { recursive: true });
    await execFileAsync('rsync', ['-a', `${source}/`, `${join(zones.depositDir, tenant.tenantId)}/`]);
    for (const { job, run } of runs) await writeStatus(join(zones.depositDir, tenant.tenantId, job.agent), statusReport(job.agent, [run]));
    await rm(source, { recursive: true, force: true });
  }

  /** The invariant after a restart's recovery (the worker waits before its first pass meanwhile). */
  async function checkTree(iteration: number): Promise<void> {
    const db = ctx.database.db;
    const label = `iteration ${iteration}`;
    const unfinished = await db.selectFrom('backup_runs').select(['run_id', 'state', 'claim_owner']).where('state', 'in', ['validating', 'promoting']).execute();
    expect(unfinished, `${label}: runs left unfinished after recovery`).toEqual([]);
    for (const job of jobs) {
      const healthy = await db.selectFrom('backup_runs').selectAll().where('monitor_id', '=', job.id).where('state', '=', 'promoted').where('pruned_at', 'is', null).execute();
      expect(healthy.length, `${label}: healthy runs of ${job.agent}`).toBe(1);
      const run = healthy[0]!;
      const jobDir = join(zones.validatedDir, tenant.tenantId, job.agent, job.id);
      expect(await readdir(jobDir), `${label}: copies of ${job.agent}`).toEqual([run.run_id]);
      const manifest = JSON.parse(run.files_json) as { path: string; size: number; sha256: string }[];
      expect(run.measured_sha256, `${label}: the run's measured hash is its report's`).toBe(manifestSha256(manifest));
      const copy = join(jobDir, run.run_id);
      expect((await filesUnder(copy)).sort(), `${label}: files in the copy of ${job.agent}`).toEqual(manifest.map((f) => f.path).sort());
      for (const file of manifest) {
        const content = await readFile(join(copy, file.path));
        expect({ path: file.path, size: content.length, sha256: sha256(content) }, label).toEqual(file);
      }
    }
    // Nothing outside the zones (the agents' source is removed after each deposit), no staging left.
    for (const path of await filesUnder(root)) {
      const top = path.split(sep)[0];
      expect(['deposits', 'validated'], `${label}: ${path}`).toContain(top);
      expect(path.includes(STAGING_PREFIX), `${label}: ${path}`).toBe(false);
    }
  }

  it(`keeps one complete healthy copy per job through ${MIN_ITERATIONS} kills at random and injected points`, { timeout: BUDGET_MS + 120_000 }, async () => {
    const args = [ctx.testDatabase.url, zones.depositDir, zones.validatedDir];
    // One healthy run per job before the kills.
    await depositRound(0);
    const first = startWorker(args);
    first.child.stdin!.write('start\n');
    await first.said('recovered');
    first.child.stdin!.write('go\n');
    await first.said('pass');
    await kill(first);
    await checkTree(0);

    const started = Date.now();
    const restarts: number[] = [];
    const killedAt = new Map<string, number>();
    let iteration = 0;
    // Workers loading their code ahead (a restart then waits for none on a loaded machine).
    const ready = Array.from({ length: PRELOADED }, () => startWorker(args));
    let nextDeposit = depositRound(1);
    const spent = { deposit: 0, loading: 0, check: 0, passes: 0 };
    const since = (from: number) => Date.now() - from;
    while (iteration < MIN_ITERATIONS && Date.now() - started < BUDGET_MS) {
      iteration++;
      let at = Date.now();
      await nextDeposit;
      spent.deposit += since(at);
      // Two kills in three at an injected step (each step in turn, its first or second time), the rest at a random moment.
      const injected = iteration % 3 !== 0 ? STEPS[Math.floor(iteration / 1.5) % STEPS.length]! : undefined;
      const worker = ready.shift()!;
      ready.push(startWorker(args));
      at = Date.now();
      await worker.said('loaded');
      spent.loading += since(at);
      const restartedAt = Date.now();
      worker.child.stdin!.write(injected ? `start ${injected} ${1 + (iteration % 2)}\n` : 'start\n');
      await worker.said('recovered').catch(() => undefined); // a kill injected at a step its recovery runs is one too
      restarts.push(Date.now() - restartedAt);
      if (!worker.hasExited()) {
        at = Date.now();
        await checkTree(iteration);
        spent.check += since(at);
        at = Date.now();
        worker.child.stdin!.write('go\n');
        nextDeposit = depositRound(iteration + 1); // the agents go on depositing while the scanner runs
        const timer = setTimeout(() => worker.child.kill('SIGKILL'), injected ? 5000 : Math.random() * 250);
        await worker.exited;
        clearTimeout(timer);
        spent.passes += since(at);
      } else {
        nextDeposit = depositRound(iteration + 1);
      }
      // Killed, never crashed: an error in recovery or a pass would end the process otherwise.
      expect(await worker.exited, `iteration ${iteration}: ${worker.stderr()}`).toBe('SIGKILL');
      const where = worker.lastStep() === injected && injected ? `at ${injected}` : `during ${worker.lastStep() ?? 'start-up'}`;
      killedAt.set(where, (killedAt.get(where) ?? 0) + 1);
    }
    await Promise.all([nextDeposit, ...ready.map(kill)]);
    const elapsed = Date.now() - started;

    // A last restart, left to finish: recovery, then passes until every deposited run is judged.
    const last = startWorker(args);
    last.child.stdin!.write('start\n');
    await last.said('recovered');
    await checkTree(iteration + 1);
    last.child.stdin!.write('go\n');
    for (let waited = 0; waited < 30_000; waited += 100) {
      const pending = await ctx.database.db.selectFrom('backup_runs').select('id').where('state', 'in', ['received', 'validating', 'promoting']).execute();
      if (pending.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await kill(last);
    const restarted = startWorker(args);
    restarted.child.stdin!.write('start\n');
    await restarted.said('recovered');
    await checkTree(iteration + 2);
    await kill(restarted);

    const sorted = [...restarts].sort((a, b) => a - b);
    console.log(
      `backups under SIGKILL (${dialect}): ${iteration} kills in ${Math.round(elapsed / 1000)} s; restart + recovery median ${sorted[Math.floor(sorted.length / 2)]} ms; ms spent:`,
      spent,
      'killed:',
      Object.fromEntries([...killedAt].sort()),
    );
    if (iteration < MIN_ITERATIONS) expect(elapsed, `only ${iteration} kills, and the budget had not run out`).toBeGreaterThanOrEqual(BUDGET_MS);
    // Kills landed at every injected step, and runs kept being promoted between them: nothing left unjudged, no run lost to a kill.
    for (const step of STEPS) expect(killedAt.get(`at ${step}`) ?? 0, `kills at ${step}`).toBeGreaterThan(0);
    const runs = await ctx.database.db.selectFrom('backup_runs').select(['run_id', 'state', 'status']).execute();
    expect(runs.filter((r) => r.state !== 'promoted' || r.status !== 'SUCCESS')).toEqual([]);
    expect(runs.length).toBeGreaterThan(iteration);
  });
});
