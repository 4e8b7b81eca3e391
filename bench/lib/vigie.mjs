/**
 * What the benchmarks that run a whole Vigie share: a local HTTP target for its HTTP monitors, a
 * fresh embedded-SQLite data directory with the development data set (`vigie bootstrap --dev`),
 * HTTP monitors seeded straight into that database before Vigie starts, and `vigie serve` started
 * with the node flags of `vigie`'s shebang, as users run it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sleep } from './measure.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = join(root, 'dist/cli.js');
/** The development data set's API key (src/auth/bootstrap.ts, DEV_DATA). */
export const DEV_API_KEY = 'dev-apikey-123';

/** An HTTP server answering 200 "ok" to anything: the target of every seeded monitor. */
export function startTargetServer() {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok');
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The node flags `vigie` starts with (its shebang line), so a bench measures the process users run. */
export function shippedNodeFlags() {
  const shebang = readFileSync(cli, 'utf8').split('\n', 1)[0];
  const flags = /^#!\/usr\/bin\/env -S node (.+)$/.exec(shebang)?.[1];
  return flags ? flags.split(' ') : [];
}

/** Builds dist/ with tsc when a source is newer than the last build (scripts/build-if-needed.mjs). */
export function buildIfNeeded() {
  execFileSync(process.execPath, [join(root, 'scripts/build-if-needed.mjs')], { stdio: 'inherit' });
}

/**
 * Builds dist/ if needed and makes a data directory with the development data set. Returns its
 * paths, the environment to start Vigie with (`extraEnv` added) and `remove()`.
 */
export function prepareVigie(name, extraEnv = {}) {
  buildIfNeeded();
  const dir = mkdtempSync(join(tmpdir(), `vigie-bench-${name}-`));
  const dbPath = join(dir, 'vigie.db');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: `sqlite:${dbPath}`, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'info', ...extraEnv };
  execFileSync(process.execPath, [cli, 'bootstrap', '--dev'], { env, stdio: 'ignore' });
  return { dir, dbPath, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Creates `count` HTTP monitors of the development tenant in the (stopped) Vigie's database, with
 * Vigie's own code (createMonitorWithSettings, the HTTP settings row), a thousand per transaction:
 * seconds for 10,000 where the API, one call each, takes minutes. Their first checks are spread
 * evenly over one interval, so the load is the steady one from the start (created through the API
 * in a burst, they would all come due at once). Returns their ids, in creation order.
 */
export async function seedHttpMonitors(dbPath, { count, intervalSeconds, targetPort }) {
  const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
  const [{ openDatabase }, { createMonitorWithSettings }, { newHttpTargetRow }, { DEV_DATA }] = await Promise.all([
    dist('db/database.js'),
    dist('monitors/create-monitor.js'),
    dist('kinds/http/http-targets.repository.js'),
    dist('auth/bootstrap.js'),
  ]);
  const handle = await openDatabase({ dialect: 'sqlite', path: dbPath });
  const ids = [];
  const now = Date.now();
  try {
    for (let first = 0; first < count; first += 1000) {
      await handle.db.transaction().execute(async (trx) => {
        for (let i = first; i < Math.min(count, first + 1000); i++) {
          const settings = newHttpTargetRow({
            url: `http://127.0.0.1:${targetPort}/t/${i}`,
            method: 'GET',
            expectedStatusCode: 200,
            timeoutSeconds: 10,
            followRedirects: true,
            tlsSkipVerify: false,
            headers: {},
            body: null,
            auth: null,
            assertions: [],
          });
          const fields = { tenantId: DEV_DATA.tenantId, kind: 'http', name: `bench ${i}`, intervalSeconds, nextDueAt: now + Math.floor((i * intervalSeconds * 1000) / count), now };
          ids.push(await createMonitorWithSettings(trx, fields, 'http_targets', settings));
        }
      });
    }
  } finally {
    await handle.close();
  }
  return ids;
}

/**
 * Starts `vigie serve` on the prepared environment, to profile it: BENCH_NODE_OPTIONS as its
 * NODE_OPTIONS (e.g. --heapsnapshot-signal=SIGUSR2) and BENCH_NODE_FLAGS added to its node flags
 * (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", which NODE_OPTIONS refuses). `stop()` ends it
 * (SIGTERM, then at most 15 s).
 */
export function spawnVigie(env) {
  const nodeOptions = process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {};
  const flags = [...shippedNodeFlags(), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
  const vigie = spawn(process.execPath, [...flags, cli, 'serve'], { env: { ...env, ...nodeOptions }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => vigie.on('exit', resolve));
  const stop = async () => {
    if (vigie.exitCode === null && vigie.signalCode === null) vigie.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
  };
  return { vigie, exited, stop };
}
