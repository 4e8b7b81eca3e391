#!/usr/bin/env node
/**
 * npm run bench:ingest — how many durable agent samples per second does one Vigie process take?
 *
 * Starts Vigie (`vigie serve`, embedded SQLite, its own process). For each batch size (100, then
 * 1,000 metrics), 20 agents — each its own hostname, its own keep-alive connection — post
 * batches to POST /api/v1/ingest/metrics as fast as their answers come back, each post with a
 * new X-Ingest-Id, for BENCH_SECONDS after a warm-up. An agent's metrics are its own series
 * (`metric_0` … `metric_999`, half of them with a `core` label), all numeric, each stamped with
 * the agent's `ts` (epoch ms, moving forward at every post), so every accepted metric is one row
 * of `samples`. Prints, per batch size: accepted samples/s and batches/s (200 answers completed
 * inside the window), latency p50 / p99 / max per batch, non-200 answers, connection errors,
 * Vigie's CPU (% of one core) and the generator's event-loop use (near 100%: the figure is the
 * generator's limit, not Vigie's).
 *
 * Then, in the same run, the same rows straight into a better-sqlite3 database in this process:
 * the `samples` table of the migrations (on a fresh database migrated by `vigie migrate`, with a
 * series row per agent metric), WAL and synchronous=FULL as Vigie opens SQLite, the same upsert,
 * one transaction per batch, as many batches of each size as Vigie acknowledged, in the same
 * round-robin over the agents. Its samples/s is what the straightforward write allows without
 * HTTP, JSON, checks, ingest ids or machines; the ratio Vigie / direct is printed per batch size.
 * Vigie itself writes into `samples_recent` and moves rows into `samples` in the background
 * (migration 0009), which costs fewer pages per sample than this direct write: a ratio above 1 is
 * that layout's gain, the direct writer is not a ceiling.
 *
 * Last, the rows Vigie stored are counted (after a clean stop): every acknowledged batch must have
 * its ingest id and its samples. Goal (issue 6): at least 200,000 durable samples/s on SQLite with
 * batches of 1,000.
 *
 * Knobs: BENCH_AGENTS (20), BENCH_SIZES (100,1000), BENCH_SECONDS (15), BENCH_WARMUP_SECONDS (3),
 * BENCH_GENERATORS (worker threads sharing the agents, 1), BENCH_CPU_PROF_DIR (Vigie runs with
 * --cpu-prof and writes its profile there on exit), BENCH_DIRECT=0 (skip the direct writer).
 * Everything runs on 127.0.0.1 and stops by itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Pool } from 'undici';
import { announced, cpuSeconds, merge, percentile, sleep, vigieListening, writtenBytes } from './lib/measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const AGENTS = Number(process.env.BENCH_AGENTS ?? 20);
const SIZES = (process.env.BENCH_SIZES ?? '100,1000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const GENERATORS = Number(process.env.BENCH_GENERATORS ?? 1);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR;
const DIRECT = process.env.BENCH_DIRECT !== '0';
const GOAL_SAMPLES_PER_S = 200_000;
const GOAL_BATCH = 1000;
const API_KEY = 'dev-apikey-123';

const log = (message) => process.stdout.write(`[bench] ${message}\n`);
const hostnameOf = (size, agent) => `agent-${size}-${String(agent).padStart(2, '0')}`;
const metricName = (k) => `metric_${k}`;
const labelsOf = (k) => (k % 2 === 0 ? { core: String(k % 16) } : undefined);

// ───────────────────────────── load generator (worker thread) ─────────────────────────────

/**
 * An agent's body with `"ts":0` in each metric, cut there once: a post joins the parts around
 * its own time, so building a 1,000-metric body costs one join, not a thousand stringifications.
 */
function bodyParts(size, agent) {
  const metrics = Array.from({ length: size }, (_, k) => ({ name: metricName(k), type: 'numeric', value: Math.round(Math.random() * 1e6) / 1e3, unit: 'ratio', labels: labelsOf(k), ts: 0 }));
  return JSON.stringify({ machine: { hostname: hostnameOf(size, agent), os: 'linux', agent_version: 'bench' }, metrics, sent_at: null }).split('"ts":0');
}

/**
 * Runs one loop per agent from `startAt` for the warm-up and the window. Counts what completes
 * inside the window [startAt + warmupMs, + windowMs]; counts every 200 of the whole run as
 * acknowledged, per agent (the direct writer replays as many batches).
 */
async function generate({ origin, size, agents, startAt, warmupMs, windowMs }) {
  const pool = new Pool(origin, { connections: agents.length, pipelining: 1, keepAliveTimeout: 60_000 });
  const windowStart = startAt + warmupMs;
  const windowEnd = windowStart + windowMs;
  const latencies = [];
  let samples = 0;
  const acknowledged = Object.fromEntries(agents.map((agent) => [agent, 0]));
  const non200 = {};
  const errors = {};
  await sleep(Math.max(0, startAt - Date.now()));
  let eluAtWindow;

  const loop = async (agent) => {
    const parts = bodyParts(size, agent);
    let lastTs = 0;
    while (Date.now() < windowEnd) {
      lastTs = Math.max(Date.now(), lastTs + 1); // every post a new time: one row per metric
      const body = parts.join(`"ts":${lastTs}`);
      const sentAt = performance.now();
      let status;
      let text;
      try {
        const response = await pool.request({
          path: '/api/v1/ingest/metrics',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-ingest-id': randomUUID() },
          body,
        });
        text = await response.body.text();
        status = response.statusCode;
      } catch (error) {
        const kind = error.code ?? error.name ?? 'error';
        if (Date.now() >= windowStart) errors[kind] = (errors[kind] ?? 0) + 1;
        await sleep(10);
        continue;
      }
      const doneAt = Date.now();
      if (status === 200) acknowledged[agent]++;
      if (doneAt < windowStart || doneAt > windowEnd) continue;
      eluAtWindow ??= performance.eventLoopUtilization();
      if (status !== 200) {
        non200[status] = (non200[status] ?? 0) + 1;
        if (!non200.example) non200.example = text.slice(0, 300);
        continue;
      }
      samples += JSON.parse(text).accepted;
      latencies.push(performance.now() - sentAt);
    }
  };
  await Promise.all(agents.map(loop));
  const elu = eluAtWindow ? performance.eventLoopUtilization(eluAtWindow).utilization : null;
  await pool.close();
  return { latencies, samples, acknowledged, non200, errors, elu };
}

// ───────────────────────────────────── orchestration ─────────────────────────────────────

/** One batch size against Vigie: every agent posting for the warm-up and the window. */
async function measure(origin, size, pid) {
  const startAt = Date.now() + 300;
  const warmupMs = WARMUP_SECONDS * 1000;
  const windowMs = SECONDS * 1000;
  const agents = Array.from({ length: AGENTS }, (_, i) => i);
  const shares = Array.from({ length: GENERATORS }, (_, g) => agents.filter((a) => a % GENERATORS === g)).filter((share) => share.length);
  log(`batches of ${size}: ${AGENTS} agents (${shares.length} generator thread(s)), ${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured…`);
  const results = shares.map(
    (share) =>
      new Promise((resolve, reject) => {
        const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { origin, size, agents: share, startAt, warmupMs, windowMs } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  await sleep(startAt + warmupMs - Date.now());
  const cpuStart = cpuSeconds(pid);
  const writtenStart = writtenBytes(pid);
  await sleep(windowMs);
  const cpuEnd = cpuSeconds(pid);
  const writtenEnd = writtenBytes(pid);
  const parts = await Promise.all(results);
  const all = Float64Array.from(parts.flatMap((part) => part.latencies)).sort();
  const ms = (v) => (v === null || v === undefined ? null : +v.toFixed(1));
  const samples = parts.reduce((n, part) => n + part.samples, 0);
  return {
    batch_size: size,
    samples_per_s: Math.round(samples / SECONDS),
    batches_per_s: Math.round(all.length / SECONDS),
    latency_ms: { p50: ms(percentile(all, 50)), p99: ms(percentile(all, 99)), max: ms(all.at(-1)) },
    non_200: parts.reduce((acc, part) => merge(acc, part.non200), {}),
    connection_errors: parts.reduce((acc, part) => merge(acc, part.errors), {}),
    server_cpu_percent_of_one_core: +(((cpuEnd - cpuStart) / SECONDS) * 100).toFixed(1),
    // Each batch touches one b-tree page per series; these say what the disk took per sample.
    server_written_mb_per_s: writtenStart === null ? null : +((writtenEnd - writtenStart) / SECONDS / 1e6).toFixed(1),
    server_written_bytes_per_sample: writtenStart === null || samples === 0 ? null : Math.round((writtenEnd - writtenStart) / samples),
    generator_event_loop_utilisation: parts.map((part) => (part.elu === null ? null : +part.elu.toFixed(2))),
    acknowledged_batches: parts.reduce((acc, part) => merge(acc, part.acknowledged), {}),
  };
}

/** Rows Vigie stored, counted once it has stopped. */
function storedRows(Database, path) {
  const db = new Database(path, { readonly: true });
  try {
    const count = (sql) => db.prepare(sql).get().n;
    // A sample is in samples or, not yet moved, in samples_recent (migration 0009).
    return {
      ingest_ids: count('select count(*) n from ingest_batches'),
      samples: count('select count(*) n from (select series_id, at from samples union select series_id, at from samples_recent)'),
    };
  } finally {
    db.close();
  }
}

/**
 * The same rows straight into better-sqlite3: for each size, as many batches per agent as Vigie
 * acknowledged, round-robin over the agents, one transaction per batch, each agent's times moving
 * forward by a millisecond at least per batch. Returns samples/s per size.
 */
function direct(Database, cli, env, dir, acknowledged) {
  const path = join(dir, 'direct.db');
  execFileSync(process.execPath, [cli, 'migrate'], { env: { ...env, DATABASE_URL: `sqlite:${path}` }, stdio: 'ignore' });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('cache_size = -65536');
  // A tenant, machine monitors and their series, so that samples' foreign keys hold as in Vigie.
  const now = Date.now();
  const tenantId = randomUUID();
  const seriesIds = new Map(); // `${size}/${agent}` → first series id of the agent's metrics
  db.transaction(() => {
    db.prepare('insert into tenants (id, name, created_at) values (?, ?, ?)').run(tenantId, 'direct', now);
    const monitor = db.prepare(
      "insert into monitors (id, tenant_id, kind, name, failure_threshold, interval_seconds, last_checked_at, next_due_at, state_changed_at, created_at, updated_at) values (?, ?, 'machine', ?, 1, null, null, null, ?, ?, ?)",
    );
    const machine = db.prepare('insert into machines (monitor_id, tenant_id, hostname, os, first_seen_at, last_seen_at) values (?, ?, ?, ?, ?, ?)');
    const series = db.prepare("insert into series (tenant_id, machine_id, name, labels, type, unit, created_at) values (?, ?, ?, ?, 'numeric', 'ratio', ?)");
    for (const size of SIZES) {
      for (let agent = 0; agent < AGENTS; agent++) {
        const id = randomUUID();
        monitor.run(id, tenantId, hostnameOf(size, agent), now, now, now);
        machine.run(id, tenantId, hostnameOf(size, agent), 'linux', now, now);
        for (let k = 0; k < size; k++) {
          const labels = labelsOf(k);
          const { lastInsertRowid } = series.run(tenantId, id, metricName(k), labels ? JSON.stringify(labels) : '{}', now);
          if (k === 0) seriesIds.set(`${size}/${agent}`, Number(lastInsertRowid));
        }
      }
    }
  })();
  const insert = db.prepare('insert into samples (series_id, at, value) values (?, ?, ?) on conflict (series_id, at) do update set value = excluded.value');
  const figures = {};
  for (const size of SIZES) {
    const left = { ...acknowledged[size] };
    const lastTs = new Array(AGENTS).fill(0);
    const batch = db.transaction((first, at) => {
      for (let k = 0; k < size; k++) insert.run(first + k, at, Math.random());
    });
    let batches = 0;
    const writtenStart = writtenBytes(process.pid);
    const started = performance.now();
    for (let remaining = true; remaining;) {
      remaining = false;
      for (let agent = 0; agent < AGENTS; agent++) {
        if (!(left[agent] > 0)) continue;
        left[agent]--;
        remaining = true;
        lastTs[agent] = Math.max(Date.now(), lastTs[agent] + 1);
        batch(seriesIds.get(`${size}/${agent}`), lastTs[agent]);
        batches++;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const written = writtenStart === null ? null : writtenBytes(process.pid) - writtenStart;
    figures[size] = {
      batches,
      samples: batches * size,
      seconds: +seconds.toFixed(2),
      samples_per_s: seconds > 0 ? Math.round((batches * size) / seconds) : null,
      written_bytes_per_sample: written === null || batches === 0 ? null : Math.round(written / (batches * size)),
    };
  }
  db.close();
  return figures;
}

async function main() {
  execFileSync(process.execPath, [join(root, 'scripts/build-if-needed.mjs')], { stdio: 'inherit' });
  const Database = createRequire(import.meta.url)('better-sqlite3');
  const dir = mkdtempSync(join(tmpdir(), 'vigie-bench-ingest-'));
  const dbPath = join(dir, 'vigie.db');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: `sqlite:${dbPath}`, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'info' };
  const cli = join(root, 'dist/cli.js');
  execFileSync(process.execPath, [cli, 'bootstrap', '--dev'], { env, stdio: 'ignore' });

  const profile = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  let vigie;
  const exited = (child) => new Promise((resolve) => (!child || child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
  try {
    vigie = spawn(process.execPath, [...profile, cli, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const origin = await announced(vigie, vigieListening);
    log(`Vigie ${origin} (pid ${vigie.pid}) on SQLite, ${availableParallelism()} CPU cores on this machine (shared with the generator)`);

    const vigieFigures = [];
    for (const size of SIZES) vigieFigures.push(await measure(origin, size, vigie.pid));

    vigie.kill('SIGTERM');
    await exited(vigie);
    const acknowledged = Object.fromEntries(vigieFigures.map((f) => [f.batch_size, f.acknowledged_batches]));
    const acknowledgedBatches = vigieFigures.reduce((n, f) => n + Object.values(f.acknowledged_batches).reduce((a, b) => a + b, 0), 0);
    const acknowledgedSamples = vigieFigures.reduce((n, f) => n + Object.values(f.acknowledged_batches).reduce((a, b) => a + b, 0) * f.batch_size, 0);
    const stored = storedRows(Database, dbPath);

    let directFigures = null;
    if (DIRECT) {
      log('the same rows straight into better-sqlite3 (one transaction per batch)…');
      directFigures = direct(Database, cli, env, dir, acknowledged);
    }

    const bySize = vigieFigures.map(({ acknowledged_batches: _, ...f }) => ({
      ...f,
      direct_samples_per_s: directFigures?.[f.batch_size]?.samples_per_s ?? null,
      ratio_vigie_to_direct: directFigures?.[f.batch_size]?.samples_per_s ? +(f.samples_per_s / directFigures[f.batch_size].samples_per_s).toFixed(3) : null,
    }));
    console.log(
      JSON.stringify(
        {
          agents: AGENTS,
          seconds: SECONDS,
          cpu_cores: availableParallelism(),
          load_average_1m_at_end: +loadavg()[0].toFixed(2),
          vigie: bySize,
          direct_better_sqlite3: directFigures,
          acknowledged: { batches: acknowledgedBatches, samples: acknowledgedSamples },
          stored,
        },
        null,
        2,
      ),
    );
    for (const f of vigieFigures) {
      if (f.generator_event_loop_utilisation.some((elu) => elu !== null && elu > 0.9))
        log(`note: the generator was saturated with batches of ${f.batch_size} (event loop > 90% busy): the figure may be the generator's limit`);
    }
    const complete = stored.ingest_ids >= acknowledgedBatches && stored.samples >= acknowledgedSamples;
    log(`every acknowledged batch stored (ingest ids ≥ ${acknowledgedBatches}, samples ≥ ${acknowledgedSamples}): ${complete ? 'yes' : 'NO'}`);
    const goal = vigieFigures.find((f) => f.batch_size === GOAL_BATCH);
    if (goal) {
      const met = goal.samples_per_s >= GOAL_SAMPLES_PER_S && complete;
      const ratio = bySize.find((f) => f.batch_size === GOAL_BATCH).ratio_vigie_to_direct;
      log(
        `goal (≥ ${GOAL_SAMPLES_PER_S} durable samples/s on SQLite with batches of ${GOAL_BATCH}): ${met ? 'MET' : 'NOT MET'} (${goal.samples_per_s} samples/s, p99 ${goal.latency_ms.p99} ms; ${ratio ?? '?'} of the direct better-sqlite3 writer)`,
      );
    }
  } finally {
    vigie?.kill('SIGTERM');
    await exited(vigie);
    rmSync(dir, { recursive: true, force: true });
  }
}

// One file, two roles: the orchestrator, and the load generator in each worker thread.
if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  // A rejection crashes the worker, which the main thread sees as the worker's 'error' event.
  void generate(workerData).then((result) => parentPort.postMessage(result));
}
