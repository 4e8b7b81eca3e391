/**
 * The embedded mode's background work, in this process: the job runner, the scheduler that feeds
 * it due checks, housekeeping, the alerting loop (routing, delivery, reminders, maintenance), and
 * every kind's own loops (kinds/registry.ts: sweeps, liveness, evaluators, writers to flush).
 * The scale-out issue swaps the job runner for BullMQ and runs this in `vigie worker`; the pieces
 * stay the same.
 */
import { createAlertingWork } from './alerting/alerting-work.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { createInProcessJobRunner } from './jobs/in-process.js';
import type { JobRunner } from './jobs/job-runner.js';
import type { KindRuntime } from './kinds/contract.js';
import type { BackgroundLoop } from './kinds/loops.js';
import { kindList, kindOf } from './kinds/registry.js';
import type { Logger } from './logger.js';
import { createHousekeeping } from './monitors/housekeeping.js';
import type { LagStats } from './monitors/lag-stats.js';
import { CHECK_JOB, createScheduler, type CheckJob } from './monitors/scheduler.js';
import { watchCheckQueue } from './self-monitoring/queue-watch.js';
import type { Services } from './services.js';

export interface BackgroundWork {
  readonly jobs: JobRunner;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface BackgroundWorkOptions {
  db: Db;
  clock: Clock;
  config: Config;
  services: Services;
  logger: Logger;
  /** Fed by the services' onCheckLag; summarised in the log once a minute. */
  lagStats: LagStats;
}

const STATS_LOG_INTERVAL_MS = 60_000;

export function createBackgroundWork({ db, clock, config, services, logger, lagStats }: BackgroundWorkOptions): BackgroundWork {
  let statsTimer: NodeJS.Timeout | undefined;
  let kindLoops: BackgroundLoop[] = [];
  const maxQueued = config.checkConcurrency * 2;
  // Watched so that self-monitoring sees how long checks wait to be claimed and to start.
  const jobs = watchCheckQueue(createInProcessJobRunner(logger), { clock, capacity: maxQueued });
  jobs.define<CheckJob>(CHECK_JOB, (job) => services.checks.runScheduled(job), { concurrency: config.checkConcurrency });
  const scheduler = createScheduler({ db, clock, jobs, maxQueued, logger });
  const housekeeping = createHousekeeping({
    db,
    clock,
    logger,
    // Rollups read each kind's own history (pings, ingests…), as uptime does.
    historyFor: (kind) => kindOf(kind).history,
    retention: { results: config.resultsRetentionDays, hourRollups: config.hourRollupsRetentionDays, dayRollups: config.dayRollupsRetentionDays },
  });
  const alerting = createAlertingWork({
    db,
    router: services.alertRouter,
    delivery: services.delivery,
    reminders: services.reminders,
    maintenance: services.maintenance,
    signal: services.alertSignal,
    logger,
  });
  return {
    jobs,
    async start() {
      const spread = await scheduler.spreadOverdue();
      if (spread > 0) logger.info({ monitors: spread }, 'spread monitors that fell due while Vigie was stopped');
      services.observability.watchCheckQueue(jobs.checkQueue);
      // After the spread, so that checks a kind provisions at start (self checks) run at once.
      const runtime: KindRuntime = { db, clock, config, logger, jobs, alerting, startedAt: clock.now() };
      kindLoops = kindList().flatMap((kind) => kind.loops?.(runtime, services.kindServices.get(kind.kind)!) ?? []);
      for (const loop of kindLoops) await loop.start();
      scheduler.start();
      housekeeping.start();
      alerting.start();
      statsTimer = setInterval(() => {
        const lag = lagStats.takeSummary();
        if (lag.checks > 0) logger.info({ scheduler: { ...lag, queued: jobs.depth(CHECK_JOB) } }, 'scheduler stats for the last minute');
      }, STATS_LOG_INTERVAL_MS);
      statsTimer.unref();
    },
    async stop() {
      clearInterval(statsTimer);
      // Kinds' loops first, in reverse: writers flush what they buffer, sweeps finish.
      for (const loop of [...kindLoops].reverse()) await loop.stop();
      await scheduler.stop();
      await housekeeping.stop();
      await jobs.stop();
      // Last: checks that finished above may have written alert events.
      await alerting.stop();
    },
  };
}
