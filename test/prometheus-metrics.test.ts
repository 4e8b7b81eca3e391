/**
 * Vigie's own metrics for Prometheus (issue 6), on every dialect: `GET /metrics` is valid text
 * exposition format (every line parsed here), holds each metric family with the values of the
 * activity the test caused (HTTP requests by route pattern, checks run and their lag, pings,
 * ingested samples, flips, notification attempts, queue depths, database size, process
 * metrics), needs no API key, and with METRICS_TOKEN set wants that bearer token. A failing
 * scrape-time reading leaves its gauge out instead of failing the scrape. Last, a real
 * Prometheus (the Debian package, installed by scripts/test-services.sh) scrapes a listening
 * Vigie with the token and a Vigie counter is read back through Prometheus' HTTP API.
 */
import { insertResult } from '../src/monitors/results-history.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLagStats } from '../src/monitors/lag-stats.js';
import { createBackgroundWork } from '../src/runtime.js';
import { createTenantWithKey, createTestApp, createUser, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { eventually } from './helpers/eventually.js';
import { closedPort, StandIn } from './helpers/receivers.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const MIN = 60_000;

// ---- a strict reader of the text exposition format --------------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < text.length) {
    const start = LABEL_PAIR.lastIndex;
    const match = LABEL_PAIR.exec(text);
    if (!match || LABEL_PAIR.lastIndex === start) throw new Error(`bad labels in line: ${line}`);
    labels[match[1]!] = match[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (/^nan$/i.test(text)) return NaN; // Prometheus parses it as Go's ParseFloat does: any case (prom-client writes "Nan")
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new Error(`bad value in line: ${line}`);
  return value;
}

/** Parses the whole text; throws on any line that is not valid exposition format. */
function parseExposition(text: string): Exposition {
  const result: Exposition = { types: new Map(), help: new Map(), samples: [] };
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, keyword, name, rest] = comment;
      expect(name).toMatch(new RegExp(`^${METRIC_NAME}$`));
      if (keyword === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest);
        result.types.set(name!, rest!);
      } else result.help.set(name!, rest!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    result.samples.push({ name: sample[1]!, labels: sample[2] ? parseLabels(sample[2], line) : {}, value: parseValue(sample[3]!, line) });
  }
  // Every sample belongs to a declared family (histograms add _bucket, _sum and _count).
  for (const sample of result.samples) {
    const family = [sample.name, sample.name.replace(/_(bucket|sum|count)$/, '')].find((name) => result.types.has(name));
    expect(family, `family of ${sample.name}`).toBeDefined();
  }
  return result;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

const VIGIE_FAMILIES = {
  vigie_realtime_cpu_seconds_total: 'counter',
  vigie_http_requests_total: 'counter',
  vigie_http_request_duration_seconds: 'histogram',
  vigie_checks_run_total: 'counter',
  vigie_check_lag_seconds: 'histogram',
  vigie_pings_received_total: 'counter',
  vigie_pings_refused_total: 'counter',
  vigie_ingested_samples_total: 'counter',
  vigie_flips_total: 'counter',
  vigie_notification_attempts_total: 'counter',
  vigie_queue_depth: 'gauge',
  vigie_database_size_bytes: 'gauge',
  vigie_scrape_collector_errors_total: 'counter',
};
const PROCESS_FAMILIES = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes'];

// ---------------------------------------------------------------------------------------------

const standIn = new StandIn();
beforeAll(() => standIn.start());
afterAll(() => standIn.stop());
beforeEach(() => standIn.reset());

describe.each(TEST_DIALECTS)('Prometheus /metrics on %s', (dialect) => {
  let ctx: TestContext | undefined;
  let tenant: TenantFixture;

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function start(env: Record<string, string> = {}): Promise<TestContext> {
    ctx = await createTestApp(dialect, { env });
    tenant = await createTenantWithKey(ctx);
    return ctx;
  }

  const api = async (c: TestContext, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    c.app.inject({ method, url, headers: { 'x-api-key': tenant.apiKey }, ...(payload && { payload }) });

  async function scrape(c: TestContext, headers: Record<string, string> = {}): Promise<Exposition> {
    const response = await c.app.inject({ method: 'GET', url: '/metrics', headers });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    return parseExposition(response.body);
  }

  const createHeartbeat = (c: TestContext) =>
    c.services.heartbeats.create(tenant.tenantId, {
      name: 'nightly',
      slug: null,
      tags: [],
      description: '',
      timeoutSeconds: 3600,
      graceSeconds: 60,
      schedule: null,
      tz: 'UTC',
      manualResume: false,
      methods: '',
    });

  /**
   * Activity of every kind, then a first scrape: three webhook channels (one that answers, one
   * unreachable, one to deactivate between routing and delivery); a check now and a scheduled
   * check 1.5 s late, both down; pings (three successes, a log, an unknown check); samples; HTTP
   * requests on a route with an id and on no route.
   */
  async function afterActivity() {
    const c = await start();
    const ok = (response: LightMyRequestResponse, status = 200) => expect(response.statusCode, response.body).toBe(status);

    // Notifications: three channels, one that answers, one that is unreachable, one deactivated
    // between routing and delivery.
    const channel = async (name: string, url: string) => {
      const response = await api(c, 'POST', '/api/v1/channels', { name, kind: 'webhook', config: { url } });
      ok(response, 201);
      return response.json().id as string;
    };
    await channel('answers', `${standIn.base}/hook`);
    await channel('unreachable', `http://127.0.0.1:${await closedPort()}/hook`);
    const deactivated = await channel('deactivated', `${standIn.base}/other`);

    // Checks: a check now and a scheduled check that started 1.5 s late, both down (nothing listens).
    const target = await c.services.httpTargets.create(tenant.tenantId, { name: 'site', url: `http://127.0.0.1:${await closedPort()}/`, failureThreshold: 1 });
    expect((await c.services.checks.runNow(target))?.flip?.toState).toBe('down');
    await c.services.checks.runScheduled({ monitorId: target, dueAt: c.clock.now() - 1500 });

    // Pings: three successes and one log on a heartbeat check, and one for an unknown check.
    const heartbeat = await createHeartbeat(c);
    for (let i = 0; i < 3; i++) ok(await c.app.inject({ method: 'GET', url: `/ping/${heartbeat.pingUuid}` }));
    ok(await c.app.inject({ method: 'POST', url: `/ping/${heartbeat.pingUuid}/log`, payload: 'hello', headers: { 'content-type': 'text/plain' } }));
    ok(await c.app.inject({ method: 'GET', url: `/ping/${randomUUID()}` }), 404);

    // Samples, as ingestion announces them after its commit.
    const sample = (type: string, value: number | null) => ({ seriesId: 1, name: 'm', type, labels: {}, at: c.clock.now(), value, text: value === null ? 'v' : null });
    c.services.sampleEvents.stored({
      tenantId: tenant.tenantId,
      machineId: 'm1',
      samples: [sample('numeric', 1), sample('numeric', 2), sample('numeric', 3), sample('bool', 1), sample('string', null)],
    });
    c.services.sampleEvents.stored({ tenantId: tenant.tenantId, machineId: 'm1', samples: [sample('numeric', 4), sample('numeric', 5)] });

    // HTTP: a route with an id, and a URL that matches no route.
    ok(await api(c, 'GET', `/api/v1/monitors/${target}`));
    ok(await api(c, 'GET', `/api/v1/monitors/${target}`));
    ok(await c.app.inject({ method: 'GET', url: `/no/such/page/${target}` }), 404);

    const m = await scrape(c);
    return { c, ok, m, target, heartbeat, deactivated };
  }

  /** afterActivity, then the alert events routed and the group wait passed. */
  async function afterRouting() {
    const a = await afterActivity();
    await a.c.services.alertRouter.routeBatch();
    a.c.clock.advance(10 * MIN);
    return a;
  }

  it('declares every Vigie family with its type and help, and the process families', async () => {
    const { m } = await afterActivity();
    for (const [name, type] of Object.entries(VIGIE_FAMILIES)) expect(m.types.get(name), name).toBe(type);
    for (const name of PROCESS_FAMILIES) expect(m.types.has(name), name).toBe(true);
    for (const name of Object.keys(VIGIE_FAMILIES)) expect(m.help.get(name)?.length, name).toBeGreaterThan(20);
  });

  it("before routing: the flip's alert event waits for the router, nothing is due, no job runner depth", async () => {
    const { m } = await afterActivity();
    expect(valueOf(m, 'vigie_queue_depth', { queue: 'unrouted_alert_events' })).toBe(1);
    expect(valueOf(m, 'vigie_queue_depth', { queue: 'due_notifications' })).toBe(0);
    // No job runner in this process (no background work started): no made-up depth.
    expect(valueOf(m, 'vigie_queue_depth', { queue: 'check_jobs' })).toBeUndefined();
  });

  it('counts the checks run by kind and status, and the lag of the scheduled one', async () => {
    const { m } = await afterActivity();
    expect(valueOf(m, 'vigie_checks_run_total', { kind: 'http', status: 'down' })).toBe(2);
    expect(valueOf(m, 'vigie_check_lag_seconds_count')).toBe(1);
    expect(valueOf(m, 'vigie_check_lag_seconds_sum')).toBe(1.5);
    expect(valueOf(m, 'vigie_check_lag_seconds_bucket', { le: '1' })).toBe(0);
    expect(valueOf(m, 'vigie_check_lag_seconds_bucket', { le: '2.5' })).toBe(1);
  });

  it('counts pings by kind, and ingested samples by type', async () => {
    const { m } = await afterActivity();
    expect(valueOf(m, 'vigie_pings_received_total', { kind: 'success' })).toBe(3);
    expect(valueOf(m, 'vigie_pings_received_total', { kind: 'log' })).toBe(1);
    expect(
      m.samples
        .filter((s) => s.name === 'vigie_pings_received_total')
        .map((s) => s.labels.kind)
        .sort(),
    ).toEqual(['log', 'success']);

    expect(valueOf(m, 'vigie_ingested_samples_total', { type: 'numeric' })).toBe(5);
    expect(valueOf(m, 'vigie_ingested_samples_total', { type: 'bool' })).toBe(1);
    expect(valueOf(m, 'vigie_ingested_samples_total', { type: 'string' })).toBe(1);
  });

  it('counts exactly the flips written', async () => {
    const { c, m } = await afterActivity();
    // Flips: exactly those written (the target's down, and the heartbeat's first ping bringing it up).
    const flips = await c.database.db.selectFrom('monitor_flips').select('to_state').execute();
    const written = new Map<string, number>();
    for (const { to_state } of flips) written.set(to_state, (written.get(to_state) ?? 0) + 1);
    expect(written.get('down')).toBe(1);
    const counted = new Map(m.samples.filter((s) => s.name === 'vigie_flips_total').map((s) => [s.labels.to_state!, s.value]));
    expect(counted).toEqual(written);
  });

  it('counts HTTP requests by route pattern, never by URL; a scrape is counted once answered', async () => {
    const { m, target, heartbeat } = await afterActivity();
    // HTTP requests by route pattern, never by URL: no id appears anywhere in the exposition.
    const monitorRoute = { method: 'GET', route: '/api/v1/monitors/:id', status_class: '2xx' };
    expect(valueOf(m, 'vigie_http_requests_total', monitorRoute)).toBe(2);
    expect(valueOf(m, 'vigie_http_request_duration_seconds_count', monitorRoute)).toBe(2);
    expect(valueOf(m, 'vigie_http_request_duration_seconds_bucket', { ...monitorRoute, le: '+Inf' })).toBe(2);
    expect(valueOf(m, 'vigie_http_requests_total', { method: 'GET', route: '/ping/:first', status_class: '2xx' })).toBe(3);
    expect(valueOf(m, 'vigie_http_requests_total', { method: 'GET', route: '/ping/:first', status_class: '4xx' })).toBe(1);
    expect(valueOf(m, 'vigie_http_requests_total', { method: 'POST', route: '/ping/:first/:second', status_class: '2xx' })).toBe(1);
    expect(valueOf(m, 'vigie_http_requests_total', { method: 'GET', route: 'unmatched', status_class: '4xx' })).toBe(1);
    const labelValues = m.samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues.filter((v) => v.includes(target) || v.includes(heartbeat.pingUuid) || v.includes(tenant.tenantId))).toEqual([]);
    // The scrape itself is counted once it is answered: absent from the first, in the second.
    expect(valueOf(m, 'vigie_http_requests_total', { route: '/metrics' })).toBeUndefined();
  });

  it('after routing: three notifications due, none attempted yet; the first scrape is counted', async () => {
    const { c } = await afterRouting();
    // Routed: three notifications, due once the group wait has passed.
    const m = await scrape(c);
    expect(valueOf(m, 'vigie_http_requests_total', { method: 'GET', route: '/metrics', status_class: '2xx' })).toBe(1);
    expect(valueOf(m, 'vigie_queue_depth', { queue: 'unrouted_alert_events' })).toBe(0);
    expect(valueOf(m, 'vigie_queue_depth', { queue: 'due_notifications' })).toBe(3);
    expect(valueOf(m, 'vigie_notification_attempts_total', { outcome: 'sent' })).toBeUndefined();
  });

  it('after delivery: one sent, one to retry later, one failed for good; nothing due', async () => {
    const { c, ok, deactivated } = await afterRouting();
    // Delivered: one sent, one to retry later, one failed for good.
    ok(await api(c, 'PATCH', `/api/v1/channels/${deactivated}`, { is_active: false }));
    expect(await c.services.delivery.deliverDue()).toBe(3);
    expect(standIn.recorded.map((r) => r.url)).toEqual(['/hook']);
    const m = await scrape(c);
    expect(valueOf(m, 'vigie_notification_attempts_total', { outcome: 'sent' })).toBe(1);
    expect(valueOf(m, 'vigie_notification_attempts_total', { outcome: 'retry' })).toBe(1);
    expect(valueOf(m, 'vigie_notification_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(valueOf(m, 'vigie_queue_depth', { queue: 'due_notifications' })).toBe(0);
    expect(valueOf(m, 'vigie_scrape_collector_errors_total', { collector: 'database_size' })).toBeUndefined();
  });

  it('counts the samples of a real ingest once, not again for a duplicate', async () => {
    const c = await start();
    const ingest = (ingestId: string) =>
      c.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/metrics',
        headers: { 'x-api-key': tenant.apiKey, 'x-ingest-id': ingestId },
        payload: {
          machine: { hostname: 'web-01', os: 'linux' },
          metrics: [
            { name: 'cpu_load', type: 'numeric', value: 0.42, unit: 'ratio' },
            { name: 'disk_used', type: 'numeric', value: 0.5 },
            { name: 'service_nginx_ok', type: 'bool', value: true },
            { name: 'version', type: 'string', value: '1.0.0' },
          ],
          sent_at: null,
        },
      });
    const id = randomUUID();
    for (const ingestId of [id, id, randomUUID()]) expect((await ingest(ingestId)).statusCode).toBe(200);
    const m = await scrape(c);
    expect(valueOf(m, 'vigie_ingested_samples_total', { type: 'numeric' })).toBe(4);
    expect(valueOf(m, 'vigie_ingested_samples_total', { type: 'bool' })).toBe(2);
    expect(valueOf(m, 'vigie_ingested_samples_total', { type: 'string' })).toBe(2);
  });

  it('reports the size of the database, which grows with what is stored', async () => {
    const c = await start();
    const size = async () => valueOf(await scrape(c), 'vigie_database_size_bytes', { dialect })!;
    const before = await size();
    expect(before).toBeGreaterThan(100_000);
    if (dialect === 'sqlite') expect(before % 512).toBe(0); // whole pages
    const target = await c.services.httpTargets.create(tenant.tenantId, { name: 'site', url: 'https://example.com/', failureThreshold: 1 });
    for (let i = 0; i < 2000; i++) await insertResult(c.database.db, { monitorId: target, at: i, status: 'up', latencyMs: 1, value: null, message: randomUUID().repeat(50) });
    expect(await size()).toBeGreaterThan(before + 2_000_000);
  });

  it('needs no API key, and with METRICS_TOKEN set wants that bearer token', async () => {
    let c = await start();
    expect((await c.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    await c.close();

    c = await start({ METRICS_TOKEN: TOKEN });
    const get = (headers: Record<string, string>) => c.app.inject({ method: 'GET', url: '/metrics', headers });
    const refused = [
      [{}, 'This server protects /metrics: send "Authorization: Bearer <METRICS_TOKEN>" (API keys are not accepted here)'],
      [{ authorization: `Bearer ${TOKEN}x` }, 'Wrong metrics token: /metrics wants "Authorization: Bearer <METRICS_TOKEN>" with the token configured on the server'],
      [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, expect.stringMatching(/^Wrong metrics token/)],
      [{ authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, expect.stringMatching(/^Wrong metrics token/)],
      [{ 'x-api-key': tenant.apiKey }, expect.stringMatching(/^This server protects \/metrics/)],
    ] as const;
    for (const [headers, detail] of refused) {
      const response = await get(headers);
      expect(response.statusCode, JSON.stringify(headers)).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json()).toEqual({ detail });
    }
    const accepted = await get({ authorization: `Bearer ${TOKEN}` });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.headers['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    // The refusals were counted like any request (401 on the /metrics route).
    expect(valueOf(parseExposition(accepted.body), 'vigie_http_requests_total', { route: '/metrics', status_class: '4xx' })).toBe(refused.length);
    expect((await get({ authorization: `bearer   ${TOKEN}` })).statusCode).toBe(200);
  });

  it('refuses a METRICS_TOKEN too short to be a secret, naming the variable', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow('Invalid environment variable METRICS_TOKEN: must be at least 16 characters long (got 5)');
    expect(() => loadConfig({ METRICS_TOKEN: 'with a space in the token' })).toThrow(/METRICS_TOKEN: must be printable ASCII without spaces/);
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });

  it('still answers when a scrape-time reading fails: that gauge is left out, the failure counted', async () => {
    const c = await start();
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    await c.database.close();
    const m = await scrape(c);
    expect(valueOf(m, 'vigie_database_size_bytes', { dialect })).toBeUndefined();
    expect(valueOf(m, 'vigie_queue_depth', { queue: 'due_notifications' })).toBeUndefined();
    expect(valueOf(m, 'vigie_queue_depth', { queue: 'unrouted_alert_events' })).toBeUndefined();
    for (const collector of ['database_size', 'due_notifications', 'unrouted_alert_events']) {
      expect(valueOf(m, 'vigie_scrape_collector_errors_total', { collector }), collector).toBe(1);
    }
    // The counters are all there.
    expect(valueOf(m, 'vigie_http_requests_total', { route: '/api/v1/health', status_class: '2xx' })).toBe(1);
  });

  it('gives up on a reading that takes too long: the scrape answers without it', async () => {
    const c = await start();
    // Something holds the notifications table: a lock on PostgreSQL (the server's
    // statement_timeout ends the count), SQLite's one connection on SQLite (the timer does).
    let release!: () => void;
    let taken!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const lockTaken = new Promise<void>((resolve) => (taken = resolve));
    const blocker = c.database.db.transaction().execute(async (trx) => {
      if (dialect === 'postgres') await sql`LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE`.execute(trx);
      taken();
      await held;
    });
    await lockTaken;
    try {
      const m = await scrape(c);
      expect(valueOf(m, 'vigie_queue_depth', { queue: 'due_notifications' })).toBeUndefined();
      expect(valueOf(m, 'vigie_scrape_collector_errors_total', { collector: 'due_notifications' })).toBe(1);
      // On PostgreSQL the other readings do not touch the locked table and answer.
      if (dialect === 'postgres') expect(valueOf(m, 'vigie_queue_depth', { queue: 'unrouted_alert_events' })).toBe(0);
    } finally {
      release();
      await blocker;
    }
    expect(valueOf(await scrape(c), 'vigie_queue_depth', { queue: 'due_notifications' })).toBe(0);
  });

  it('with background work running, counts the scheduled checks and shows the check job queue', async () => {
    const c = await start();
    await createUser(c, tenant.tenantId, { isSuperuser: true });
    const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
    const background = createBackgroundWork({ db: c.database.db, clock: c.clock, config: c.config, services: c.services, logger: quiet as never, lagStats: createLagStats() });
    expect(valueOf(await scrape(c), 'vigie_queue_depth', { queue: 'check_jobs' })).toBeUndefined();
    await background.start();
    try {
      // The four self checks run once each, through the scheduler and the job runner.
      const checksRun = (m: Exposition) => m.samples.filter((s) => s.name === 'vigie_checks_run_total');
      const m = await eventually(async () => {
        const now = await scrape(c);
        return checksRun(now).reduce((sum, s) => sum + s.value, 0) === 4 ? now : undefined;
      }, 'the four self checks to have run');
      expect(checksRun(m).every((s) => s.labels.kind === 'self')).toBe(true);
      // Each was late by the time from its due time to its start: observed once per scheduled run.
      expect(valueOf(m, 'vigie_check_lag_seconds_count')).toBe(4);
      await background.jobs.idle();
      expect(valueOf(await scrape(c), 'vigie_queue_depth', { queue: 'check_jobs' })).toBe(0);
    } finally {
      await background.stop();
    }
  });

  describe('scraped by a real Prometheus', () => {
    let prometheus: ChildProcess | undefined;
    let workDir: string | undefined;

    afterEach(async () => {
      if (prometheus && prometheus.exitCode === null) {
        const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
        prometheus.kill('SIGTERM');
        const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      prometheus = undefined;
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      workDir = undefined;
    });

    it('scrapes Vigie with the token, and a Vigie counter reads back through the query API', { timeout: 90_000 }, async () => {
      const c = await start({ METRICS_TOKEN: TOKEN });
      await c.app.listen({ port: 0, host: '127.0.0.1' });
      const vigie = `127.0.0.1:${(c.app.server.address() as AddressInfo).port}`;
      const heartbeat = await createHeartbeat(c);
      const ping = async () => expect((await c.app.inject({ method: 'GET', url: `/ping/${heartbeat.pingUuid}` })).statusCode).toBe(200);
      for (let i = 0; i < 3; i++) await ping();

      const port = await closedPort();
      workDir = mkdtempSync(join(tmpdir(), 'vigie-prometheus-'));
      const job = (name: string, authorization: string) =>
        [`  - job_name: ${name}`, '    scrape_interval: 1s', '    scrape_timeout: 1s', authorization, `    static_configs:`, `      - targets: ['${vigie}']`].filter(Boolean).join('\n');
      writeFileSync(
        join(workDir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'scrape_configs:',
          job('vigie', `    authorization:\n      type: Bearer\n      credentials: ${TOKEN}`),
          job('vigie-without-token', ''),
        ].join('\n') + '\n',
      );
      const binary = process.env.TEST_PROMETHEUS_BIN ?? 'prometheus';
      let output = '';
      prometheus = spawn(binary, [`--config.file=${join(workDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const spawnFailure = new Promise<never>((_, reject) =>
        prometheus!.once('error', (error) => reject(new Error(`cannot start ${binary} (install the Debian package prometheus; scripts/test-services.sh does): ${error.message}`))),
      );
      spawnFailure.catch(() => {});
      for (const stream of [prometheus.stdout!, prometheus.stderr!]) stream.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
      const base = `http://127.0.0.1:${port}`;
      const getJson = async (path: string): Promise<any> => {
        if (prometheus?.exitCode !== null) throw new Error(`prometheus exited (${prometheus?.exitCode}):\n${output}`);
        try {
          const response = await fetch(`${base}${path}`);
          return response.ok ? await response.json() : undefined;
        } catch {
          return undefined; // not listening yet
        }
      };

      const targets = await Promise.race([
        spawnFailure,
        eventually(
          async () => {
            const body = await getJson('/api/v1/targets');
            const active = (body?.data?.activeTargets ?? []) as { labels: { job: string }; health: string; lastError: string }[];
            const byJob = new Map(active.map((t) => [t.labels.job, t]));
            return byJob.get('vigie')?.health === 'up' && byJob.get('vigie-without-token')?.health === 'down' ? byJob : undefined;
          },
          'Prometheus to scrape Vigie',
          60_000,
          250,
        ),
      ]);
      expect(targets.get('vigie')!.lastError).toBe('');
      expect(targets.get('vigie-without-token')!.lastError).toMatch(/401/);

      const query = async (promql: string) => {
        const body = await getJson(`/api/v1/query?query=${encodeURIComponent(promql)}`);
        expect(body?.status).toBe('success');
        return body.data.result as { metric: Record<string, string>; value: [number, string] }[];
      };
      const pingsSeen = (expected: string) =>
        eventually(
          async () => {
            const result = await query('vigie_pings_received_total{job="vigie",kind="success"}');
            return result.length === 1 && result[0]!.value[1] === expected ? result[0] : undefined;
          },
          `Prometheus to read ${expected} pings`,
          30_000,
          250,
        );
      const three = await pingsSeen('3');
      expect(three.metric).toEqual({ __name__: 'vigie_pings_received_total', instance: vigie, job: 'vigie', kind: 'success' });

      // Live: two more pings show up at a later scrape.
      await ping();
      await ping();
      await pingsSeen('5');

      const size = await query(`vigie_database_size_bytes{job="vigie",dialect="${dialect}"}`);
      expect(size).toHaveLength(1);
      expect(Number(size[0]!.value[1])).toBeGreaterThan(100_000);
      const pingRequests = await query('sum(vigie_http_requests_total{job="vigie",route="/ping/:first",status_class="2xx"})');
      expect(pingRequests[0]!.value[1]).toBe('5');
    });
  });
});
