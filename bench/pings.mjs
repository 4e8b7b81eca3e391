#!/usr/bin/env node
/**
 * npm run bench:pings — how many durable pings per second does one Vigie process take?
 *
 * Starts Vigie (`vigie serve`, embedded SQLite, its own process), creates N heartbeat checks
 * (default 10,000) through the Healthchecks API v3 and takes their `ping_url`s. Then one load
 * generator (50 keep-alive connections in all; each sends a GET to a random check's ping URL as
 * soon as its previous answer arrives) measures, for BENCH_SECONDS after a warm-up:
 *   1. a bare `node:http` server in its own process that answers "OK" and stores nothing, at the
 *      same paths — what the machine and the generator allow at all;
 *   2. Vigie.
 * For each: pings/s (200 answers only), latency p50 / p99 / max, non-200 answers and connection
 * errors, CPU of the server process (% of one core, and µs per ping) and the generator's
 * event-loop utilisation (a generator near 100% means the figure is the generator's limit, not
 * the server's). Then the ratio Vigie / bare, and the pings Vigie stored (sum of `n_pings`
 * through the API) next to those it acknowledged over the whole run: stored must be ≥
 * acknowledged.
 * Goal (issue 5): at least 10,000 durable pings/s on SQLite, as close to the bare server as
 * storage allows.
 *
 * Before measuring, every check is pinged once (BENCH_PRIME=0 to skip): a check's first ping
 * flips it from new to up (a flip, an incident look-up, an event), which a check pinged for real
 * does once in its life; without priming, most pings of a 15 s run over 10,000 checks would be
 * first pings and the figure would not be the steady state.
 *
 * Knobs: BENCH_CHECKS (10000), BENCH_CONNECTIONS (50), BENCH_SECONDS (15), BENCH_WARMUP_SECONDS
 * (3), BENCH_PRIME (1), BENCH_GENERATORS (worker threads sharing the connections, 1),
 * BENCH_CREATE_CONCURRENCY (16), BENCH_CPU_PROF_DIR (if set, Vigie runs with --cpu-prof and
 * writes its profile there on exit). Everything runs on 127.0.0.1 and stops by itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Pool } from 'undici';
import { announced, cpuSeconds, merge, percentile, sleep, vigieListening } from './lib/measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHECKS = Number(process.env.BENCH_CHECKS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const GENERATORS = Number(process.env.BENCH_GENERATORS ?? 1);
const CREATE_CONCURRENCY = Number(process.env.BENCH_CREATE_CONCURRENCY ?? 16);
const PRIME = process.env.BENCH_PRIME !== '0';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR;
const GOAL_PINGS_PER_S = 10_000;
const API_KEY = 'dev-apikey-123';

const log = (message) => process.stdout.write(`[bench] ${message}\n`);

// ───────────────────────────── load generator (worker thread) ─────────────────────────────

/**
 * Runs `connections` request loops from `startAt` (epoch ms) for the warm-up and the window.
 * Counts what completes inside the window [startAt + warmupMs, + windowMs]; counts every 200
 * over the whole run as acknowledged (for the stored ≥ acknowledged check). Waits for the last
 * answers so nothing is left in flight when it reports.
 */
async function generate({ origin, paths, connections, startAt, warmupMs, windowMs }) {
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const windowStart = startAt + warmupMs;
  const windowEnd = windowStart + windowMs;
  let latencies = new Float64Array(1 << 16);
  let measured = 0;
  let acknowledged = 0;
  const non200 = {};
  const errors = {};
  await sleep(Math.max(0, startAt - Date.now()));
  let eluAtWindow; // the generator's own busyness, from its first answer in the window

  const loop = async () => {
    while (Date.now() < windowEnd) {
      const path = paths[Math.floor(Math.random() * paths.length)];
      const sentAt = performance.now();
      let status;
      try {
        const response = await pool.request({ path, method: 'GET' });
        await response.body.text();
        status = response.statusCode;
      } catch (error) {
        const kind = error.code ?? error.name ?? 'error';
        if (Date.now() >= windowStart) errors[kind] = (errors[kind] ?? 0) + 1;
        await sleep(10); // a refused connection fails at once: do not spin
        continue;
      }
      const doneAt = Date.now();
      if (status === 200) acknowledged++;
      if (doneAt < windowStart || doneAt > windowEnd) continue;
      eluAtWindow ??= performance.eventLoopUtilization();
      if (status !== 200) {
        non200[status] = (non200[status] ?? 0) + 1;
        continue;
      }
      if (measured === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[measured++] = performance.now() - sentAt;
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const elu = eluAtWindow ? performance.eventLoopUtilization(eluAtWindow).utilization : null;
  await pool.close();
  return { latencies: latencies.slice(0, measured), acknowledged, non200, errors, elu };
}

// ───────────────────────────────────── orchestration ─────────────────────────────────────

/** Measures one server with the same generator settings; `pid` is the server's, for its CPU. */
async function measure(label, origin, paths, pid) {
  const startAt = Date.now() + 300;
  const warmupMs = WARMUP_SECONDS * 1000;
  const windowMs = SECONDS * 1000;
  const shares = Array.from({ length: GENERATORS }, (_, i) => Math.floor(CONNECTIONS / GENERATORS) + (i < CONNECTIONS % GENERATORS ? 1 : 0));
  log(`${label}: ${CONNECTIONS} connections (${GENERATORS} generator thread(s)), ${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured…`);
  const results = shares.map(
    (connections) =>
      new Promise((resolve, reject) => {
        const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { origin, paths, connections, startAt, warmupMs, windowMs } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  await sleep(startAt + warmupMs - Date.now());
  const cpuStart = cpuSeconds(pid);
  await sleep(windowMs);
  const cpuEnd = cpuSeconds(pid);
  const parts = await Promise.all(results);

  const all = new Float64Array(parts.reduce((n, part) => n + part.latencies.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part.latencies, offset);
    offset += part.latencies.length;
  }
  all.sort();
  const ms = (v) => (v === null || v === undefined ? null : +v.toFixed(2));
  return {
    pings_per_s: Math.round(all.length / SECONDS),
    latency_ms: { p50: ms(percentile(all, 50)), p99: ms(percentile(all, 99)), max: ms(all.at(-1)) },
    non_200: parts.reduce((acc, part) => merge(acc, part.non200), {}),
    connection_errors: parts.reduce((acc, part) => merge(acc, part.errors), {}),
    server_cpu_percent_of_one_core: +(((cpuEnd - cpuStart) / SECONDS) * 100).toFixed(1),
    // What to compare between two builds: throughput moves with the machine's load, this less so.
    server_cpu_us_per_ping: all.length ? +(((cpuEnd - cpuStart) * 1e6) / all.length).toFixed(1) : null,
    generator_event_loop_utilisation: parts.map((part) => (part.elu === null ? null : +part.elu.toFixed(2))),
    acknowledged_whole_run: parts.reduce((n, part) => n + part.acknowledged, 0),
  };
}

const BARE_SERVER = `
const server = require('node:http').createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('OK'));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

async function createChecks(baseUrl) {
  const pingUrls = new Array(CHECKS);
  let next = 0;
  let created = 0;
  const worker = async () => {
    while (next < CHECKS) {
      const i = next++;
      const response = await fetch(`${baseUrl}/api/v3/checks/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ name: `bench ${i}`, timeout: 86_400, grace: 3600 }),
      });
      if (response.status !== 201) throw new Error(`creating check ${i}: ${response.status} ${await response.text()}`);
      pingUrls[i] = (await response.json()).ping_url;
      if (++created % 1000 === 0) log(`created ${created}/${CHECKS} checks`);
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
  return pingUrls;
}

/** One ping per check, CONNECTIONS at a time; throws on anything but 200 OK. */
async function primeChecks(origin, paths) {
  const pool = new Pool(origin, { connections: CONNECTIONS });
  let next = 0;
  const loop = async () => {
    while (next < paths.length) {
      const path = paths[next++];
      const response = await pool.request({ path, method: 'GET' });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`priming ${path}: ${response.statusCode} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  await pool.close();
}

async function storedPings(baseUrl) {
  const response = await fetch(`${baseUrl}/api/v3/checks/`, { headers: { 'x-api-key': API_KEY } });
  if (response.status !== 200) throw new Error(`listing checks: ${response.status} ${await response.text()}`);
  const { checks } = await response.json();
  return checks.filter((c) => c.name.startsWith('bench ')).reduce((sum, c) => sum + c.n_pings, 0);
}

async function main() {
  execFileSync(process.execPath, [join(root, 'scripts/build-if-needed.mjs')], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'vigie-bench-pings-'));
  // With fewer checks (BENCH_CHECKS) each gets many pings a minute: the per-check limit stays on
  // (its cost is part of the path measured) but high enough never to refuse one.
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: `sqlite:${join(dir, 'vigie.db')}`,
    DATA_DIR: dir,
    PORT: '0',
    LOG_LEVEL: 'info',
    PING_RATE_LIMIT_PER_MINUTE: '100000000',
  };
  const cli = join(root, 'dist/cli.js');
  execFileSync(process.execPath, [cli, 'bootstrap', '--dev'], { env, stdio: 'ignore' });

  const profile = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  let vigie;
  let bare;
  try {
    vigie = spawn(process.execPath, [...profile, cli, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    bare = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const baseUrl = await announced(vigie, vigieListening);
    const barePort = await announced(bare, (line) => /^port (\d+)$/.exec(line)?.[1]);
    log(`Vigie ${baseUrl} (pid ${vigie.pid}), bare node:http server on port ${barePort} (pid ${bare.pid}); creating ${CHECKS} checks`);

    const createStart = Date.now();
    const pingUrls = await createChecks(baseUrl);
    log(`created ${CHECKS} checks in ${((Date.now() - createStart) / 1000).toFixed(1)} s`);
    const origin = new URL(pingUrls[0]).origin;
    if (pingUrls.some((url) => new URL(url).origin !== origin)) throw new Error('ping URLs on more than one origin');
    const paths = pingUrls.map((url) => new URL(url).pathname);

    if (PRIME) {
      const primeStart = Date.now();
      await primeChecks(origin, paths);
      log(`pinged each check once in ${((Date.now() - primeStart) / 1000).toFixed(1)} s (their first pings flip them up; not measured)`);
    }

    const bareFigures = await measure('bare node:http', `http://127.0.0.1:${barePort}`, paths, bare.pid);
    bare.kill('SIGTERM');
    const storedBefore = await storedPings(baseUrl);
    const vigieFigures = await measure('Vigie', origin, paths, vigie.pid);
    const stored = (await storedPings(baseUrl)) - storedBefore;

    const acknowledged = vigieFigures.acknowledged_whole_run;
    const figures = {
      checks: CHECKS,
      connections: CONNECTIONS,
      generator_threads: GENERATORS,
      cpu_cores: availableParallelism(),
      // Other work on the machine takes CPU from both servers and the generator alike.
      load_average_1m_at_end: +loadavg()[0].toFixed(2),
      seconds: SECONDS,
      primed: PRIME,
      vigie: vigieFigures,
      bare: bareFigures,
      ratio_vigie_to_bare: bareFigures.pings_per_s ? +(vigieFigures.pings_per_s / bareFigures.pings_per_s).toFixed(3) : null,
      vigie_pings_acknowledged: acknowledged,
      vigie_pings_stored: stored,
    };
    console.log(JSON.stringify(figures, null, 2));

    const busy = (elus) => elus.some((elu) => elu !== null && elu > 0.9);
    if (busy(bareFigures.generator_event_loop_utilisation) && bareFigures.server_cpu_percent_of_one_core < 90) {
      log(
        `note: the generator was saturated against the bare server (event loop > 90% busy, server below one core): the bare figure is the generator's limit; try BENCH_GENERATORS=2 if this machine has cores to spare (it has ${availableParallelism()})`,
      );
    }
    if (busy(vigieFigures.generator_event_loop_utilisation) && vigieFigures.server_cpu_percent_of_one_core < 90) {
      log("note: the generator was saturated against Vigie: the Vigie figure may be the generator's limit");
    }
    log(`stored ≥ acknowledged: ${stored >= acknowledged ? 'yes' : `NO — ${acknowledged - stored} acknowledged pings missing`}`);
    const ok = vigieFigures.pings_per_s >= GOAL_PINGS_PER_S && stored >= acknowledged;
    log(`goal (≥ ${GOAL_PINGS_PER_S} durable pings/s on SQLite): ${ok ? 'MET' : 'NOT MET'} (${vigieFigures.pings_per_s} pings/s, ${figures.ratio_vigie_to_bare ?? '?'} of the bare server)`);
  } finally {
    // SIGTERM lets Vigie finish its writes (and write its CPU profile) before the files go.
    const exited = (child) => new Promise((resolve) => (!child || child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
    vigie?.kill('SIGTERM');
    bare?.kill('SIGTERM');
    await Promise.all([exited(vigie), exited(bare)]);
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
  void generate(workerData).then((result) => parentPort.postMessage(result, [result.latencies.buffer]));
}
