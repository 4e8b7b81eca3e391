/**
 * Vigie's own metrics for Prometheus (`GET /metrics`). One prom-client Registry per service graph,
 * not prom-client's global default registry: tests build several apps in one process, and each
 * must count only its own activity.
 *
 * Counters are fed by small hooks in the code that does the work (the HTTP onResponse hook,
 * the check runner, the ping route, the result recorder, delivery, the sample events); gauges
 * that describe a backlog (queues, database size) are computed when Prometheus scrapes, in
 * scrape-gauges.ts. Names follow Prometheus' conventions: `vigie_` prefix, base units in the
 * name (seconds, bytes), counters end in `_total`. Labels carry only bounded sets of values
 * (kinds, states, route patterns), never ids or tenant names.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { SampleEvents } from '../metrics/sample-events.js';
import type { Flip } from '../monitors/flips.js';
import { realtimeCpuSeconds } from '../realtime/cpu-meter.js';
import { installScrapeGauges, type CheckQueueDepth } from './scrape-gauges.js';

/** What became of one delivery attempt: sent, failed and due again later, or failed for good. */
export type NotificationOutcome = 'sent' | 'retry' | 'failed';

export interface ObservabilityOptions {
  db: Db;
  clock: Clock;
  /** Ingestion's "samples were stored" events, counted as they come. */
  sampleEvents: SampleEvents;
}

/** Scheduling lag spans milliseconds (healthy) to minutes (a stuck queue). */
const LAG_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createObservability({ db, clock, sampleEvents }: ObservabilityOptions) {
  const registry = new Registry();
  // Collector failures are logged through the app's logger once the HTTP side is installed.
  let log: Pick<Logger, 'warn'> = { warn: () => {} };

  const httpRequests = new Counter({
    name: 'vigie_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern (unmatched for unknown URLs) and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'vigie_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to sending its answer, by method, route pattern and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const checksRun = new Counter({
    name: 'vigie_checks_run_total',
    help: 'Checks run (scheduled and "check now"), by monitor kind and result status.',
    labelNames: ['kind', 'status'] as const,
    registers: [registry],
  });
  const checkLag = new Histogram({
    name: 'vigie_check_lag_seconds',
    help: 'How late scheduled checks started: start time minus the time they were due.',
    buckets: LAG_BUCKETS_SECONDS,
    registers: [registry],
  });
  const pings = new Counter({
    name: 'vigie_pings_received_total',
    help: 'Heartbeat pings recorded, HTTP and e-mail, by kind (success, start, fail, log, exit; ign: an e-mail matching no keyword).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const refusedPings = new Counter({
    name: 'vigie_pings_refused_total',
    help: 'Heartbeat pings refused with 429 (by e-mail: SMTP 450/451), not stored: check_rate (PING_RATE_LIMIT_PER_MINUTE), client_misses (PING_MISS_RATE_LIMIT_PER_MINUTE).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const samples = new Counter({
    name: 'vigie_ingested_samples_total',
    help: 'Agent metric samples durably stored, by type (numeric, bool, string).',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const flips = new Counter({
    name: 'vigie_flips_total',
    help: 'Monitor state changes written, by the state entered.',
    labelNames: ['to_state'] as const,
    registers: [registry],
  });
  const notifications = new Counter({
    name: 'vigie_notification_attempts_total',
    help: 'Notification delivery attempts, by outcome: sent, retry (failed, due again later), failed (given up).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const gauges = installScrapeGauges({ registry, db, clock, log: (fields, message) => log.warn(fields, message) });

  sampleEvents.listen(({ samples: stored }) => {
    // One increment per type, not per sample: a batch can hold thousands.
    const byType = new Map<string, number>();
    for (const sample of stored) byType.set(sample.type, (byType.get(sample.type) ?? 0) + 1);
    for (const [type, count] of byType) samples.inc({ type }, count);
  });

  // Process-wide like the process' own CPU counter: realtime/cpu-meter.ts says what it counts.
  let realtimeCpuReported = 0;
  new Counter({
    name: 'vigie_realtime_cpu_seconds_total',
    help: 'CPU time the live event feed took: delivering events to WebSocket subscriptions (filters, coalescing, framing) and writing them.',
    registers: [registry],
    collect() {
      const now = realtimeCpuSeconds();
      this.inc(now - realtimeCpuReported);
      realtimeCpuReported = now;
    },
  });

  // Process metrics (CPU, memory, event loop lag, GC, handles) under their standard names, so
  // the usual Node.js dashboards work. Started at the first scrape: each start adds an event
  // loop monitor and a GC observer to the process, which test apps that are never scraped
  // should not pile up.
  let defaultMetricsStarted = false;

  return {
    registry,
    /** The Prometheus text format's content type, `text/plain; version=0.0.4; charset=utf-8`. */
    contentType: registry.contentType,

    /** Where collector failures are logged (the app's logger, set when the HTTP side is installed). */
    logTo(logger: Pick<Logger, 'warn'>): void {
      log = logger;
    },

    /** The exposition text: every counter, and the scrape-time gauges computed now. */
    async scrape(): Promise<string> {
      if (!defaultMetricsStarted) {
        defaultMetricsStarted = true;
        collectDefaultMetrics({ register: registry });
      }
      return registry.metrics();
    },

    httpRequestDone(method: string, route: string, statusCode: number, seconds: number): void {
      const labels = { method, route, status_class: `${Math.floor(statusCode / 100)}xx` };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
    checkRan(kind: string, status: string): void {
      checksRun.inc({ kind, status });
    },
    checkLagged(lagMs: number): void {
      checkLag.observe(Math.max(0, lagMs) / 1000);
    },
    pingReceived(kind: string): void {
      pings.inc({ kind });
    },
    pingRefused(reason: 'check_rate' | 'client_misses'): void {
      refusedPings.inc({ reason });
    },
    flipWritten(flip: Pick<Flip, 'toState'>): void {
      flips.inc({ to_state: flip.toState });
    },
    notificationAttempted(outcome: NotificationOutcome): void {
      notifications.inc({ outcome });
    },
    /** The check job runner of this process (embedded mode): its depth is read at each scrape. */
    watchCheckQueue(queue: CheckQueueDepth): void {
      gauges.watchCheckQueue(queue);
    },
  };
}

export type Observability = ReturnType<typeof createObservability>;
