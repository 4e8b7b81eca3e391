#!/usr/bin/env node
/**
 * npm run bench:checks — can one Vigie process hold N HTTP monitors?
 *
 * Seeds N HTTP monitors (default 10,000) at a 60 s interval into a fresh embedded-SQLite database
 * (bench/lib/vigie.mjs: their first checks spread over one interval), starts a local HTTP target
 * server and Vigie (`vigie serve`, its own process), lets one interval pass so the scheduler and
 * the caches are warm, then measures for two intervals:
 *   expected vs achieved checks per second, scheduling lag p50/p99 (from Vigie's per-minute
 *   scheduler stats: actual start − next_due_at), CPU% and peak RSS of the Vigie process, and
 *   database growth per 1,000 checks (WAL included). Then Vigie stops and, after a checkpoint,
 *   the bytes at rest per stored check and per rollup row, and a projection of the steady-state
 *   database for 1,000 monitors at 60 s under the default retention (bench/lib/at-rest.mjs).
 * Goals: 10,000 monitors, p99 lag under 1 s, under 50% of one core (issue 3); peak RSS at most
 * 200 MiB, at most 60 bytes at rest per check, a projection of at most 500 MB (issue 12).
 * Peak RSS is mostly garbage between V8's collections, not live data (the live heap is ~50–70 MB
 * whatever the number of monitors); measured on 2026-12-03 at 10,000 monitors: 362 MiB with
 * plain `node`, 172 MiB with "--max-semi-space-size=4 --max-old-space-size=160" (326 MiB with the
 * semi-space flag alone): the old-generation cap is what bounds it. Vigie is started with the
 * flags of `vigie`'s shebang line (src/cli.ts), as users run it.
 *
 * Knobs: BENCH_MONITORS, BENCH_INTERVAL_SECONDS, BENCH_WINDOW_SECONDS, BENCH_CHECK_CONCURRENCY, and
 * BENCH_NODE_OPTIONS (NODE_OPTIONS for the Vigie process, e.g. --heapsnapshot-signal=SIGUSR2 to profile).
 * Everything runs on 127.0.0.1 and stops by itself.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { atRest } from './lib/at-rest.mjs';
import { cpuSeconds, sleep } from './lib/measure.mjs';
import { prepareVigie, seedHttpMonitors, spawnVigie, startTargetServer } from './lib/vigie.mjs';

const MONITORS = Number(process.env.BENCH_MONITORS ?? 10_000);
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_SECONDS ?? 60);
const WINDOW_S = Number(process.env.BENCH_WINDOW_SECONDS ?? 2 * INTERVAL_S);
const CONCURRENCY = String(process.env.BENCH_CHECK_CONCURRENCY ?? 200);
/** The defaults of config.ts (RESULTS_, HOUR_ROLLUPS_, DAY_ROLLUPS_RETENTION_DAYS), for the projection. */
const DEFAULT_RETENTION = { results: 7, hourRollups: 35, dayRollups: 400 };

const log = (message) => process.stdout.write(`[bench] ${message}\n`);

function peakRssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line.replace(/\D+/g, '')) / 1024;
}

function databaseBytes(path) {
  return [path, `${path}-wal`].filter(existsSync).reduce((sum, p) => sum + statSync(p).size, 0);
}

function countChecks(path) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('select count(*) as n from check_results').get().n;
  } finally {
    db.close();
  }
}

async function main() {
  const { dbPath, env, remove } = prepareVigie('checks', {
    CHECK_CONCURRENCY: CONCURRENCY,
  });
  const target = await startTargetServer();
  const seedStart = Date.now();
  await seedHttpMonitors(dbPath, { count: MONITORS, intervalSeconds: INTERVAL_S, targetPort: target.address().port });
  log(`seeded ${MONITORS} monitors in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);
  const { vigie, stop: stopVigie } = spawnVigie(env);
  const lagMinutes = [];
  let baseUrl;
  let buffered = '';
  const listening = new Promise((resolve, reject) => {
    vigie.on('exit', (code) => reject(new Error(`vigie exited with ${code}`)));
    vigie.stdout.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line);
        if (entry.msg === 'Vigie is listening') resolve(entry.url);
        if (entry.scheduler) lagMinutes.push({ at: Date.now(), ...entry.scheduler });
      }
    });
  });
  const stop = async () => {
    target.close();
    await stopVigie();
  };
  try {
    baseUrl = await listening;
    log(`Vigie ${baseUrl} (pid ${vigie.pid}), target server on port ${target.address().port}, ${MONITORS} monitors every ${INTERVAL_S} s; warming up for one interval`);
    await sleep(INTERVAL_S * 1000);

    const start = { at: Date.now(), cpu: cpuSeconds(vigie.pid), bytes: databaseBytes(dbPath), checks: countChecks(dbPath) };
    log(`measuring for ${WINDOW_S} s…`);
    for (let elapsed = 0; elapsed < WINDOW_S; elapsed += 10) {
      await sleep(10_000);
      log(`${elapsed + 10}/${WINDOW_S} s, ${countChecks(dbPath) - start.checks} checks so far`);
    }
    const end = { at: Date.now(), cpu: cpuSeconds(vigie.pid), bytes: databaseBytes(dbPath), checks: countChecks(dbPath) };

    const seconds = (end.at - start.at) / 1000;
    const checks = end.checks - start.checks;
    const minutes = lagMinutes.filter((m) => m.at > start.at && m.at <= end.at + 1000);
    const p50s = minutes.map((m) => m.p50Ms).filter((v) => v !== null);
    const p99s = minutes.map((m) => m.p99Ms).filter((v) => v !== null);
    const cpuPercent = ((end.cpu - start.cpu) / seconds) * 100;
    const figures = {
      monitors: MONITORS,
      interval_s: INTERVAL_S,
      window_s: Math.round(seconds),
      expected_checks_per_s: +(MONITORS / INTERVAL_S).toFixed(1),
      achieved_checks_per_s: +(checks / seconds).toFixed(1),
      achieved_ratio: +(checks / seconds / (MONITORS / INTERVAL_S)).toFixed(3),
      lag_p50_ms_per_minute: p50s,
      lag_p99_ms_per_minute: p99s,
      lag_p99_ms_worst_minute: p99s.length ? Math.max(...p99s) : null,
      cpu_percent_of_one_core: +cpuPercent.toFixed(1),
      peak_rss_mib: +peakRssMiB(vigie.pid).toFixed(1),
      db_bytes_per_1000_checks: checks ? Math.round(((end.bytes - start.bytes) / checks) * 1000) : null,
      db_size_mib_at_end: +(end.bytes / 1024 / 1024).toFixed(1),
    };
    await stop();
    const rest = atRest(dbPath, DEFAULT_RETENTION);
    console.log(JSON.stringify({ ...figures, ...rest }, null, 2));
    const ok = figures.achieved_ratio >= 0.98 && (figures.lag_p99_ms_worst_minute ?? Infinity) < 1000 && cpuPercent < 50;
    log(`goal (p99 lag < 1000 ms, CPU < 50% of one core, all checks run): ${ok ? 'MET' : 'NOT MET'}`);
    const footprint = figures.peak_rss_mib <= 200 && (rest.check_results_bytes_at_rest_per_check ?? Infinity) <= 60 && rest.projection_1000_monitors_60s.total_mb <= 500;
    log(
      `footprint goal (peak RSS <= 200 MiB: ${figures.peak_rss_mib}; <= 60 B at rest per check: ${rest.check_results_bytes_at_rest_per_check}; ` +
        `1,000 monitors at 60 s <= 500 MB: ${rest.projection_1000_monitors_60s.total_mb} MB): ${footprint ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    await stop();
    await sleep(500);
    remove();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
