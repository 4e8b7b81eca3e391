/**
 * Gauges computed when Prometheus scrapes (prom-client's `collect()`), because they describe a
 * backlog at this moment rather than events: the check job queue of this process, alert events
 * not routed yet, notifications due, and the database's size.
 *
 * A scrape must stay cheap and must not fail because one figure could not be read: each reading
 * is bounded in time (a timer, plus `statement_timeout` on PostgreSQL so the server stops working
 * too), and a reading that fails or times out is logged, counted in
 * `vigie_scrape_collector_errors_total`, and left out of that scrape (no sample rather than a
 * stale or made-up one). The queries use the partial indexes the router and delivery use to find
 * their work. They count across tenants on purpose: these are the operator's figures about the
 * process, and they reveal no tenant's data.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { dialectOf, type Db } from '../db/database.js';

/** What the scrape reads of a job queue: jobs waiting or running. */
export interface CheckQueueDepth {
  depth(): number;
}

/** Well under Prometheus' default scrape timeout (10 s). */
export const SCRAPE_READING_TIMEOUT_MS = 2000;

type Reading = () => Promise<number | undefined> | number | undefined;

export interface ScrapeGaugeOptions {
  registry: Registry;
  db: Db;
  clock: Clock;
  log: (fields: Record<string, unknown>, message: string) => void;
}

export function installScrapeGauges({ registry, db, clock, log }: ScrapeGaugeOptions) {
  let checkQueue: CheckQueueDepth | undefined;
  const dialect = dialectOf(db);

  /** Readings of the scrape under way: the error counter waits for them (see below). */
  const inFlight = new Set<Promise<unknown>>();

  /** The reading's value, or undefined (logged and counted) when it failed or took too long. */
  function guarded(collector: string, read: Reading): Promise<number | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`took longer than ${SCRAPE_READING_TIMEOUT_MS} ms`)), SCRAPE_READING_TIMEOUT_MS);
    });
    const reading = Promise.race([Promise.resolve().then(read), timeout])
      .catch((error: unknown) => {
        errors.inc({ collector });
        log({ err: error, collector }, 'metrics: a scrape-time reading failed; it is left out of this scrape');
        return undefined;
      })
      .finally(() => {
        clearTimeout(timer);
        inFlight.delete(reading);
      });
    inFlight.add(reading);
    return reading;
  }

  /** Runs a read-only query; where the dialect can (PostgreSQL), the server itself gives up after the time limit. */
  function boundedQuery<T>(work: (db: Db) => Promise<T>): Promise<T> {
    return dialect.boundedRead(db, SCRAPE_READING_TIMEOUT_MS, work);
  }

  const countOf = (row: { n: number | string | bigint } | undefined) => Number(row?.n ?? 0);

  const QUEUES: Record<string, Reading> = {
    check_jobs: () => checkQueue?.depth(),
    unrouted_alert_events: () =>
      boundedQuery((q) =>
        q
          .selectFrom('alert_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('routed_at', 'is', null)
          .executeTakeFirst(),
      ).then(countOf),
    due_notifications: () =>
      boundedQuery((q) =>
        q
          .selectFrom('notifications')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', 'in', ['pending', 'sending'])
          .where('due_at', '<=', clock.now())
          .executeTakeFirst(),
      ).then(countOf),
  };

  const queueDepth = new Gauge({
    name: 'vigie_queue_depth',
    help: "Work waiting, read at scrape time: check_jobs (this process's check job runner, waiting or running), unrouted_alert_events, due_notifications.",
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const names = Object.keys(QUEUES);
      const values = await Promise.all(names.map((name) => guarded(name, QUEUES[name]!)));
      // Replaced in one synchronous step, so a scrape never shows a half-updated set.
      queueDepth.reset();
      names.forEach((queue, i) => {
        if (values[i] !== undefined) queueDepth.set({ queue }, values[i]);
      });
    },
  });

  const databaseSize = new Gauge({
    name: 'vigie_database_size_bytes',
    help: 'Size of the database: SQLite pages in use times the page size (WAL not included); PostgreSQL pg_database_size.',
    labelNames: ['dialect'] as const,
    registers: [registry],
    async collect() {
      const bytes = await guarded('database_size', () => boundedQuery((q) => dialect.databaseSizeBytes(q)));
      databaseSize.reset();
      if (bytes !== undefined && Number.isFinite(bytes)) databaseSize.set({ dialect: dialect.name }, bytes);
    },
  });

  // Registered after the gauges: prom-client starts every metric's collection in registration
  // order, so the gauges' readings are under way when this waits for them, and a failure shows
  // in the same scrape that lacks the gauge.
  const errors = new Counter({
    name: 'vigie_scrape_collector_errors_total',
    help: 'Scrape-time readings that failed or took too long (left out of that scrape), by collector.',
    labelNames: ['collector'] as const,
    registers: [registry],
    async collect() {
      await Promise.all([...inFlight]);
    },
  });

  return {
    watchCheckQueue(queue: CheckQueueDepth): void {
      checkQueue = queue;
    },
  };
}
