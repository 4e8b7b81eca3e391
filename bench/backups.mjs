#!/usr/bin/env node
/**
 * npm run bench:backups — what validating and promoting backups costs (issue 16).
 *
 * 1. Validation: a 2 GiB dump and 1,000 small files are hashed by Vigie's validator (the very
 *    function the scanner runs: streaming SHA-256 through one buffer, files opened without
 *    following links) and by `sha256sum` on the same data in the same run, both with the data in
 *    the page cache (a warm-up read first), alternating, best of BENCH_ROUNDS each. Prints MB/s
 *    of each and the ratio (goal: Vigie ≥ 0.9 of sha256sum).
 * 2. Promotion: the same validated run promoted into a validated zone on the same file system
 *    (hard links) and, from a deposit on another file system (/dev/shm, tmpfs), by copy; each
 *    with its fsyncs and the atomic rename.
 * 3. The scanner's idle pass: a real `vigie serve` (data directory and process from
 *    bench/lib/vigie.mjs, with the node flags users run it with) with 1,000 backup jobs (100 agents × 10 jobs),
 *    each of which has had one run promoted, then nothing new. Over BENCH_IDLE_SECONDS with a pass
 *    every second, the server's CPU and the bytes it read (rchar: every read() and pread(),
 *    page cache included) per pass, next to the size of the STATUS.json files it would read if it
 *    read them (goal: a pass with nothing new reads no file content).
 *
 * Knobs: BENCH_BIG_MIB (2048), BENCH_SMALL_FILES (1000), BENCH_SMALL_KIB (16), BENCH_ROUNDS (2),
 * BENCH_AGENTS (100), BENCH_JOBS_PER_AGENT (10), BENCH_IDLE_SECONDS (20), BENCH_PHASES
 * (validate,promote,idle). Everything runs under a temporary directory and on 127.0.0.1, and is
 * removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { announced, cpuSeconds, sleep, vigieListening } from './lib/measure.mjs';
import { buildIfNeeded, DEV_API_KEY, prepareVigie, root, spawnVigie } from './lib/vigie.mjs';

const BIG_MIB = Number(process.env.BENCH_BIG_MIB ?? 2048);
const SMALL_FILES = Number(process.env.BENCH_SMALL_FILES ?? 1000);
const SMALL_KIB = Number(process.env.BENCH_SMALL_KIB ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 100);
const JOBS_PER_AGENT = Number(process.env.BENCH_JOBS_PER_AGENT ?? 10);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
const PHASES = new Set((process.env.BENCH_PHASES ?? 'validate,promote,idle').split(','));
const GOAL_RATIO = 0.9;
const MIB = 1024 * 1024;

// Before the imports from dist/: a fresh clone has none yet.
buildIfNeeded();
const { validateDeposit } = await import(join(root, 'dist/kinds/backup/validator.js'));
const { promote } = await import(join(root, 'dist/kinds/backup/promoter.js'));
const { manifestSha256 } = await import(join(root, 'dist/kinds/backup/status-report.js'));

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const mbPerS = (bytes, s) => bytes / 1e6 / s;
const fmt = (n, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Writes the run's files under `dir`: one big dump (a 64 MiB random block repeated) and many small ones; returns its manifest. */
function writeRun(dir) {
  mkdirSync(join(dir, 'small'), { recursive: true });
  const block = randomBytes(Math.min(64, BIG_MIB) * MIB);
  const fd = openSync(join(dir, 'dump.sql.gz'), 'w');
  const bigHash = createHash('sha256');
  for (let written = 0; written < BIG_MIB * MIB; written += block.length) {
    // Each block is stamped with its position: the file is not one block repeated, as a real dump is not.
    block.writeUInt32LE(written / MIB, 0);
    writeSync(fd, block);
    bigHash.update(block);
  }
  closeSync(fd);
  const files = [{ path: 'dump.sql.gz', size: BIG_MIB * MIB, sha256: bigHash.digest('hex') }];
  for (let n = 0; n < SMALL_FILES; n++) {
    const content = randomBytes(SMALL_KIB * 1024);
    const path = `small/part-${String(n).padStart(4, '0')}.bin`;
    writeFileSync(join(dir, path), content);
    files.push({ path, size: content.length, sha256: createHash('sha256').update(content).digest('hex') });
  }
  return files;
}

/** sha256sum on the same files, in one process for the dump and batches for the small ones (as a shell script would). */
function sha256sumAll(dir, files) {
  const start = process.hrtime.bigint();
  const paths = files.map((f) => f.path);
  for (let i = 0; i < paths.length; i += 500) execFileSync('sha256sum', paths.slice(i, i + 500), { cwd: dir, maxBuffer: 64 * MIB });
  return seconds(start);
}

async function vigieValidate(dir, files) {
  const start = process.hrtime.bigint();
  const result = await validateDeposit(dir, files);
  if (!result.ok) throw new Error(`validation failed: ${result.reason}`);
  return { s: seconds(start), measured: result.files };
}

async function benchValidation(dir, files, totalBytes) {
  console.log(`\n1. validation of ${fmt(totalBytes / MIB, 0)} MiB (${BIG_MIB} MiB dump + ${SMALL_FILES} × ${SMALL_KIB} KiB), page cache warm, best of ${ROUNDS}`);
  sha256sumAll(dir, files); // warm-up: both read from the page cache
  let bestTool = Infinity;
  let bestVigie = Infinity;
  let measured;
  for (let round = 0; round < ROUNDS; round++) {
    bestTool = Math.min(bestTool, sha256sumAll(dir, files));
    const vigie = await vigieValidate(dir, files);
    bestVigie = Math.min(bestVigie, vigie.s);
    measured = vigie.measured;
  }
  const ratio = bestTool / bestVigie;
  console.log(`   sha256sum        ${fmt(bestTool, 2)} s   ${fmt(mbPerS(totalBytes, bestTool))} MB/s`);
  console.log(`   Vigie validator  ${fmt(bestVigie, 2)} s   ${fmt(mbPerS(totalBytes, bestVigie))} MB/s`);
  console.log(`   ratio Vigie / sha256sum: ${fmt(ratio, 2)} (goal ≥ ${GOAL_RATIO}) ${ratio >= GOAL_RATIO ? 'MET' : 'NOT MET'}`);
  return measured;
}

async function timedPromotion(depositDir, validatedJobDir, runId, measured) {
  const start = process.hrtime.bigint();
  const how = await promote({ depositDir, jobDir: validatedJobDir, runId, files: measured });
  return { how, s: seconds(start) };
}

async function benchPromotion(dir, files, measured, totalBytes, work) {
  console.log('\n2. promotion (staging, fsync of every file and directory, atomic rename, fsync of the parent)');
  const linked = await timedPromotion(dir, join(work, 'validated', 'job'), 'run-link', measured);
  console.log(`   same file system   ${linked.how.padEnd(4)}  ${fmt(linked.s, 2)} s`);
  const shm = '/dev/shm';
  if (!existsSync(shm) || statSync(shm).dev === statSync(work).dev) {
    console.log('   another file system: /dev/shm is missing or on the same device; copy not measured');
    return;
  }
  const other = mkdtempSync(join(shm, 'vigie-bench-deposit-'));
  try {
    execFileSync('cp', ['-a', `${dir}/.`, other]);
    const copyMeasured = (await vigieValidate(other, files)).measured;
    const copied = await timedPromotion(other, join(work, 'validated', 'job'), 'run-copy', copyMeasured);
    console.log(`   from tmpfs         ${copied.how.padEnd(4)}  ${fmt(copied.s, 2)} s   ${fmt(mbPerS(totalBytes, copied.s))} MB/s`);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
}

/** rchar (bytes asked of read()/pread(), cache included), read_bytes (from storage) and syscr of a process. */
function readCounters(pid) {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)[1]);
  return { rchar: field('rchar'), readBytes: field('read_bytes'), syscr: field('syscr'), cpu: cpuSeconds(pid) };
}

async function api(baseUrl, method, path, body) {
  const response = await fetch(new URL(path, baseUrl), { method, headers: { 'x-api-key': DEV_API_KEY, ...(body && { 'content-type': 'application/json' }) }, body: body && JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function inBatches(items, size, work) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

async function benchIdlePass() {
  const jobs = AGENTS * JOBS_PER_AGENT;
  console.log(`\n3. the scanner's idle pass over ${jobs} job directories (${AGENTS} agents × ${JOBS_PER_AGENT} jobs), one pass a second`);
  const { env, remove } = prepareVigie('backups', { BACKUP_SCAN_SECONDS: '1', BACKUP_SETTLE_SECONDS: '0' });
  const { vigie, stop } = spawnVigie(env);
  try {
    const baseUrl = await announced(vigie, vigieListening);
    const created = [];
    const specs = Array.from({ length: jobs }, (_, n) => ({ name: `job-${n}`, agent: `agent-${Math.floor(n / JOBS_PER_AGENT)}`, database: `db-${n}`, interval_seconds: 86_400 }));
    await inBatches(specs, 16, async (spec) => created.push(await api(baseUrl, 'POST', '/api/v1/backup-jobs', spec)));
    // Each agent deposits one small run per job, then its STATUS.json, written last.
    const byAgent = new Map();
    for (const job of created) byAgent.set(job.agent_root, [...(byAgent.get(job.agent_root) ?? []), job]);
    let statusBytes = 0;
    for (const [agentRoot, agentJobs] of byAgent) {
      const entries = agentJobs.map((job) => {
        const content = randomBytes(4096);
        mkdirSync(job.deposit_path, { recursive: true });
        writeFileSync(join(job.deposit_path, 'dump.sql.gz'), content);
        const files = [{ path: 'dump.sql.gz', size: content.length, sha256: createHash('sha256').update(content).digest('hex') }];
        const now = new Date().toISOString();
        return { job_id: job.id, run_id: 'run-1', status: 'success', started_at: now, finished_at: now, files, manifest_sha256: manifestSha256(files) };
      });
      const text = JSON.stringify({ schema_version: 1, agent: agentJobs[0].agent, generated_at: new Date().toISOString(), jobs: entries });
      writeFileSync(join(agentRoot, '.STATUS.json.tmp'), text);
      renameSync(join(agentRoot, '.STATUS.json.tmp'), join(agentRoot, 'STATUS.json'));
      statusBytes += text.length;
    }
    const started = Date.now();
    for (;;) {
      const list = await api(baseUrl, 'GET', '/api/v1/backup-jobs');
      const done = list.filter((job) => job.last_run_at !== null).length;
      if (done === jobs) break;
      if (Date.now() - started > 600_000) throw new Error(`only ${done} of ${jobs} runs were judged in 10 minutes`);
      await sleep(1000);
    }
    console.log(`   ${jobs} first runs validated and promoted in ${fmt((Date.now() - started) / 1000)} s (end to end, polling every second)`);
    await sleep(3000); // the pass that cleans the judged deposits, and one more
    const before = readCounters(vigie.pid);
    await sleep(IDLE_SECONDS * 1000);
    const after = readCounters(vigie.pid);
    const passes = IDLE_SECONDS; // BACKUP_SCAN_SECONDS=1
    console.log(
      `   over ${IDLE_SECONDS} s (~${passes} passes): CPU ${fmt(((after.cpu - before.cpu) / passes) * 1000)} ms per pass (${fmt(((after.cpu - before.cpu) / IDLE_SECONDS) * 100)} % of one core)`,
    );
    console.log(
      `   read per pass: ${fmt((after.rchar - before.rchar) / passes, 0)} bytes through read() (${fmt((after.syscr - before.syscr) / passes, 0)} calls), ${fmt((after.readBytes - before.readBytes) / passes, 0)} bytes from storage`,
    );
    console.log(`   the ${AGENTS} STATUS.json files hold ${fmt(statusBytes, 0)} bytes: a pass that read them would read at least that`);
    // What a pass still reads is libuv's 8-byte wake-ups (an eventfd read per finished file-system call), not content.
    const ok = (after.rchar - before.rchar) / passes < statusBytes / 10;
    console.log(`   goal (a pass with nothing new reads no file content): ${ok ? 'MET' : 'NOT MET'}`);
  } finally {
    await stop();
    remove();
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vigie-bench-backups-'));
  console.log(
    `bench:backups — load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, data under ${work}`,
  );
  try {
    if (PHASES.has('validate') || PHASES.has('promote')) {
      const deposit = join(work, 'deposit');
      const files = writeRun(deposit);
      const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
      const measured = PHASES.has('validate') ? await benchValidation(deposit, files, totalBytes) : (await vigieValidate(deposit, files)).measured;
      if (PHASES.has('promote')) await benchPromotion(deposit, files, measured, totalBytes, work);
      rmSync(deposit, { recursive: true, force: true });
    }
    if (PHASES.has('idle')) await benchIdlePass();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
