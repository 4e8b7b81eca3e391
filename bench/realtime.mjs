#!/usr/bin/env node
/**
 * npm run bench:realtime — what the hub and the WebSocket API cost, and whether a slow client
 * hurts the others.
 *
 * Starts a local HTTP target server and Vigie (`vigie serve`, embedded SQLite, its own process,
 * the flags of `vigie`'s shebang), creates N HTTP monitors (default 10,000) at a 60 s interval
 * (167 results/s, as bench:checks) and runs an ingest stream (BENCH_MACHINES agents posting
 * BENCH_METRICS numeric metrics every second). Then three windows of BENCH_WINDOW_SECONDS:
 *   1. no WebSocket client: Vigie's CPU and RSS (the baseline);
 *   2. BENCH_CLIENTS clients (default 100), half subscribed to everything of their tenant, half to
 *      the results of 1% of the monitors: per-client messages/s, latency from a result's
 *      recording (its `at`) to its arrival at the client (p50/p99), Vigie's CPU and RSS, and the
 *      CPU ratio to the baseline;
 *   3. the same with one "everything" client that stops reading: the others' latency, Vigie's RSS
 *      over the window, and whether the stalled client was cut (WS_SEND_BUFFER_BYTES).
 * Goals (issue 15): p99 < 100 ms; the hub adding at most 15% CPU over the no-client window; with a
 * stalled client, the others' latency unchanged and memory bounded. The clients run in this
 * process, so on a small machine they compete with Vigie for CPU: read the figures with that.
 *
 * Knobs: BENCH_MONITORS, BENCH_INTERVAL_SECONDS, BENCH_WINDOW_SECONDS, BENCH_CLIENTS,
 * BENCH_MACHINES, BENCH_METRICS. Everything runs on 127.0.0.1 and stops by itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { announced, cpuSeconds, percentile, sleep, vigieListening } from './lib/measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MONITORS = Number(process.env.BENCH_MONITORS ?? 10_000);
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_SECONDS ?? 60);
const WINDOW_S = Number(process.env.BENCH_WINDOW_SECONDS ?? 40);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const MACHINES = Number(process.env.BENCH_MACHINES ?? 10);
const METRICS = Number(process.env.BENCH_METRICS ?? 20);
const API_KEY = 'dev-apikey-123';
const EVERYTHING = ['results', 'monitors', 'incidents', 'alerts', 'notifications', 'pings', 'machines', 'metrics', 'system_status'];

const decoder = new TextDecoder();
const log = (message) => process.stdout.write(`[bench] ${message}\n`);

function startTargetServer() {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok');
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const rssMiB = (pid) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

function shippedNodeFlags(cli) {
  const flags = /^#!\/usr\/bin\/env -S node (.+)$/.exec(readFileSync(cli, 'utf8').split('\n', 1)[0])?.[1];
  return flags ? flags.split(' ') : [];
}

async function createMonitors(baseUrl, targetPort) {
  const ids = [];
  let next = 0;
  const worker = async () => {
    while (next < MONITORS) {
      const i = next++;
      const response = await fetch(`${baseUrl}/api/v1/http-targets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ name: `bench ${i}`, url: `http://127.0.0.1:${targetPort}/t/${i}`, check_interval_seconds: INTERVAL_S }),
      });
      if (response.status !== 201) throw new Error(`creating monitor ${i}: ${response.status} ${await response.text()}`);
      ids[i] = (await response.json()).id;
      if ((i + 1) % 2000 === 0) log(`created ${i + 1}/${MONITORS} monitors`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return ids;
}

/** Agents posting their metrics every second until stopped. */
function startIngest(baseUrl) {
  let stopped = false;
  let posted = 0;
  const agent = async (m) => {
    while (!stopped) {
      const started = Date.now();
      const metrics = Array.from({ length: METRICS }, (_, i) => ({ name: `metric_${i}`, type: 'numeric', value: Math.random() * 100, labels: { core: String(i % 4) } }));
      const response = await fetch(`${baseUrl}/api/v1/ingest/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-ingest-id': randomUUID() },
        body: JSON.stringify({ machine: { hostname: `bench-${m}`, os: 'linux' }, metrics }),
      }).catch(() => undefined);
      if (response?.ok) posted += METRICS;
      await response?.arrayBuffer();
      await sleep(Math.max(0, 1000 - (Date.now() - started)));
    }
  };
  const running = Array.from({ length: MACHINES }, (_, m) => agent(m));
  return {
    posted: () => posted,
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
  };
}

/** One WebSocket client: counts messages, records result latencies while `recording`. */
function openClient(wsUrl, subscriptions) {
  const client = { messages: 0, latencies: [], recording: false, closedWith: null, cut: false };
  const ws = new WebSocket(wsUrl, { headers: { 'x-api-key': API_KEY } });
  client.ws = ws;
  ws.on('message', (raw) => {
    const message = JSON.parse(decoder.decode(raw));
    if (message.seq === undefined) {
      if (message.code === 'slow_consumer') client.cut = true;
      return;
    }
    if (!client.recording) return;
    client.messages++;
    if (message.type === 'result') client.latencies.push(Date.now() - message.data.at);
  });
  ws.on('close', (code) => (client.closedWith = code));
  client.ready = new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      for (const [i, subscription] of subscriptions.entries()) ws.send(JSON.stringify({ action: 'subscribe', id: `s${i}`, ...subscription }));
      resolve();
    });
  });
  return client;
}

/** Measures Vigie over one window: CPU% of one core and RSS (sampled every second). */
async function measureWindow(pid, label, during = async () => {}) {
  log(`${label}: measuring for ${WINDOW_S} s…`);
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  const rss = [];
  const sampler = setInterval(() => rss.push(rssMiB(pid)), 1000);
  await Promise.all([sleep(WINDOW_S * 1000), during()]);
  clearInterval(sampler);
  const seconds = (Date.now() - t0) / 1000;
  return { seconds, cpu_percent: +(((cpuSeconds(pid) - cpu0) / seconds) * 100).toFixed(1), rss_mib_max: +Math.max(...rss).toFixed(1), rss_mib_last: +rss.at(-1).toFixed(1) };
}

function clientFigures(clients, seconds) {
  const rates = clients.map((c) => c.messages / seconds).sort((a, b) => a - b);
  const latencies = clients.flatMap((c) => c.latencies).sort((a, b) => a - b);
  return {
    msgs_per_s_per_client: { min: +rates[0].toFixed(1), p50: +percentile(rates, 50).toFixed(1), max: +rates.at(-1).toFixed(1) },
    results_received: latencies.length,
    latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null },
  };
}

async function main() {
  execFileSync(process.execPath, [join(root, 'scripts/build-if-needed.mjs')], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'vigie-bench-realtime-'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: `sqlite:${join(dir, 'vigie.db')}`, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'warn', CHECK_CONCURRENCY: '200' };
  const cli = join(root, 'dist/cli.js');
  execFileSync(process.execPath, [cli, 'bootstrap', '--dev'], { env, stdio: 'ignore' });
  const target = await startTargetServer();
  const vigie = spawn(process.execPath, [...shippedNodeFlags(cli), cli, 'serve'], { env: { ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => vigie.on('exit', resolve));
  let ingest;
  const clients = [];
  try {
    const baseUrl = await announced(vigie, vigieListening);
    const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/api/v1/ws`;
    log(`Vigie ${baseUrl} (pid ${vigie.pid}); ${MONITORS} monitors every ${INTERVAL_S} s, ${MACHINES}×${METRICS} metrics/s, ${CLIENTS} clients, windows of ${WINDOW_S} s`);
    const ids = await createMonitors(baseUrl, target.address().port);
    ingest = startIngest(baseUrl);
    log('settling for 15 s');
    await sleep(15_000);

    const baseline = await measureWindow(vigie.pid, 'no client');

    const onePercent = ids.filter((_, i) => i % 100 === 0);
    for (let i = 0; i < CLIENTS; i++) {
      const subscriptions = i % 2 === 0 ? EVERYTHING.map((stream_type) => ({ stream_type })) : [{ stream_type: 'results', filters: { monitor_ids: onePercent } }];
      clients.push(openClient(wsUrl, subscriptions));
    }
    await Promise.all(clients.map((c) => c.ready));
    await sleep(2000);
    for (const c of clients) c.recording = true;
    const withClients = await measureWindow(vigie.pid, `${CLIENTS} clients`);
    const clientsFigures = clientFigures(clients, withClients.seconds);

    for (const c of clients) Object.assign(c, { messages: 0, latencies: [] });
    const stalled = clients[0];
    stalled.ws._socket.pause(); // stops reading: Vigie's writes to it pile up
    const withStalled = await measureWindow(vigie.pid, 'one client stops reading');
    const others = clients.slice(1);
    const stalledFigures = {
      ...clientFigures(others, withStalled.seconds),
      stalled_client_cut: stalled.cut || stalled.closedWith !== null || (stalled.ws._socket.resume(), await sleep(6000), stalled.cut || stalled.closedWith !== null),
    };

    const figures = {
      monitors: MONITORS,
      interval_s: INTERVAL_S,
      expected_results_per_s: +(MONITORS / INTERVAL_S).toFixed(1),
      ingest_samples_per_s: MACHINES * METRICS,
      clients: CLIENTS,
      window_s: WINDOW_S,
      no_client: baseline,
      with_clients: { ...withClients, ...clientsFigures, cpu_ratio_to_no_client: +(withClients.cpu_percent / baseline.cpu_percent).toFixed(2) },
      one_stalled: { ...withStalled, ...stalledFigures },
      machine: { cpus: (await import('node:os')).cpus().length, loadavg: (await import('node:os')).loadavg().map((l) => +l.toFixed(2)) },
    };
    console.log(JSON.stringify(figures, null, 2));
    const p99 = clientsFigures.latency_ms.p99;
    log(`goal p99 < 100 ms: ${p99 !== null && p99 < 100 ? 'MET' : 'NOT MET'} (${p99} ms)`);
    log(`goal hub CPU <= +15% over no client: ${withClients.cpu_percent <= baseline.cpu_percent * 1.15 ? 'MET' : 'NOT MET'} (${baseline.cpu_percent}% → ${withClients.cpu_percent}%)`);
    log(
      `goal with a stalled client: others' p99 ${stalledFigures.latency_ms.p99} ms (was ${p99}), RSS max ${withStalled.rss_mib_max} MiB (was ${withClients.rss_mib_max}), stalled client cut: ${stalledFigures.stalled_client_cut}`,
    );
  } finally {
    for (const c of clients) c.ws.terminate();
    await ingest?.stop();
    if (vigie.exitCode === null) vigie.kill('SIGTERM');
    target.close();
    await Promise.race([exited, sleep(15_000)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
