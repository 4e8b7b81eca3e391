#!/usr/bin/env node
/**
 * npm run bench:alerts — how long from a failing result to the webhook receiver?
 *
 * Starts a local HTTP target (healthy at first), a local webhook receiver, and Vigie (`vigie
 * serve`, embedded SQLite, its own process) with grouping off and one webhook channel. Creates N
 * HTTP monitors (default 1,000, failure_threshold 1, checked every 10 s), waits until all are
 * up, then turns the target to 503: every monitor's next check flips it down (about N / 10 flips
 * per second). For each monitor, latency = the moment the receiver gets the request − the flip's
 * `at` in the webhook body (when the result that crossed the threshold was recorded), both on
 * this machine's clock. Prints p50 / p90 / p99 / max.
 * Goal (issue 4): p99 under 500 ms in embedded mode.
 *
 * Knobs: BENCH_MONITORS, BENCH_INTERVAL_SECONDS. Everything runs on 127.0.0.1 and stops by itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { announced, percentile, sleep, vigieListening } from './lib/measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MONITORS = Number(process.env.BENCH_MONITORS ?? 1000);
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_SECONDS ?? 10);
const API_KEY = 'dev-apikey-123';

const log = (message) => process.stdout.write(`[bench] ${message}\n`);
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

async function main() {
  execFileSync(process.execPath, [join(root, 'scripts/build-if-needed.mjs')], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'vigie-bench-alerts-'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: `sqlite:${join(dir, 'vigie.db')}`, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'info' };
  const cli = join(root, 'dist/cli.js');
  execFileSync(process.execPath, [cli, 'bootstrap', '--dev'], { env, stdio: 'ignore' });

  let targetStatus = 200;
  const target = createServer((_request, response) => response.writeHead(targetStatus).end(targetStatus === 200 ? 'ok' : 'failing'));
  target.keepAliveTimeout = 1000;
  const targetPort = await listen(target);

  /** monitor id → latency in ms, first delivery only; duplicates are counted apart. */
  const latencies = new Map();
  let duplicates = 0;
  const receiver = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const receivedAt = Date.now();
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const item of body.items) {
        if (item.to_state !== 'down') continue;
        if (latencies.has(item.monitor_id)) duplicates++;
        else latencies.set(item.monitor_id, receivedAt - Date.parse(item.at));
      }
    });
  });
  const receiverPort = await listen(receiver);

  const vigie = spawn(process.execPath, [cli, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const listening = announced(vigie, vigieListening);
  try {
    const baseUrl = await listening;
    const api = async (method, path, body) => {
      const response = await fetch(`${baseUrl}${path}`, { method, headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: body && JSON.stringify(body) });
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return response.json();
    };
    // One message per flip, to one webhook (the dev tenant's default e-mail channel is switched off).
    await api('PATCH', '/api/v1/settings', { alert_grouping_enabled: false, notification_email: null });
    await api('POST', '/api/v1/channels', { name: 'bench receiver', kind: 'webhook', config: { url: `http://127.0.0.1:${receiverPort}/hook` } });

    log(`Vigie ${baseUrl} (pid ${vigie.pid}); creating ${MONITORS} monitors checked every ${INTERVAL_S} s`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < MONITORS) {
          const i = next++;
          await api('POST', '/api/v1/http-targets', { name: `bench ${i}`, url: `http://127.0.0.1:${targetPort}/t/${i}`, check_interval_seconds: INTERVAL_S, failure_threshold: 1 });
        }
      }),
    );
    for (;;) {
      // The bench's HTTP monitors only: the dev tenant also holds Vigie's self checks.
      const up = await api('GET', '/api/v1/monitors?kind=http&state=up&limit=1');
      if (up.total === MONITORS) break;
      log(`${up.total}/${MONITORS} monitors up…`);
      await sleep(2000);
    }

    log('all monitors up; the target now answers 503');
    targetStatus = 503;
    const deadline = Date.now() + (INTERVAL_S + 60) * 1000;
    while (latencies.size < MONITORS && Date.now() < deadline) {
      await sleep(1000);
      log(`${latencies.size}/${MONITORS} down alerts received`);
    }
    await sleep(2000); // a late duplicate would show up here

    const sorted = [...latencies.values()].sort((a, b) => a - b);
    const figures = {
      monitors: MONITORS,
      interval_s: INTERVAL_S,
      alerts_received: latencies.size,
      duplicates,
      latency_ms: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null },
    };
    console.log(JSON.stringify(figures, null, 2));
    const ok = latencies.size === MONITORS && duplicates === 0 && figures.latency_ms.p99 !== null && figures.latency_ms.p99 < 500;
    log(`goal (every alert once, p99 < 500 ms): ${ok ? 'MET' : 'NOT MET'}`);
  } finally {
    vigie.kill('SIGTERM');
    target.close();
    receiver.close();
    await sleep(500);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
