/**
 * The embedded mode's background work, in this process: the job runner, the scheduler that feeds
 * it due checks, housekeeping, the sample mover, the heartbeat deadline sweep, and the alerting
 * loop (routing, delivery, reminders, maintenance). The scale-out issue swaps the job runner for
 * BullMQ and runs this in `vigie worker`; the pieces stay the same.
 */
import { createAlertingWork } from './alerting/alerting-work.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { createInProcessJobRunner } from './jobs/in-process.js';
import type { JobRunner } from './jobs/job-runner.js';
import type { Logger } from './logger.js';
import { createRuleEvaluationLoop } from './metrics/rules/loop.js';
import { createMetricsHousekeeping } from './metrics/housekeeping.js';
import { createSampleMover } from './metrics/sample-mover.js';
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
/** How often heartbeat deadlines are looked at: a late or down check shows within a second. */
const HEARTBEAT_SWEEP_MS = 1000;
/** How often machines' silence is looked at (seed 000's heartbeat job ran every 120 s; thresholds are minutes). */
const LIVENESS_SWEEP_MS = 30_000;

export function createBackgroundWork({ db, clock, config, services, logger, lagStats }: BackgroundWorkOptions): BackgroundWork {
  let statsTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  let livenessTimer: NodeJS.Timeout | undefined;
  let livenessSweeping: Promise<unknown> | undefined;
  const maxQueued = config.checkConcurrency * 2;
  // Watched so that self-monitoring sees how long checks wait to be claimed and to start.
  const jobs = watchCheckQueue(createInProcessJobRunner(logger), { clock, capacity: maxQueued });
  jobs.define<CheckJob>(CHECK_JOB, (job) => services.checks.runScheduled(job), { concurrency: config.checkConcurrency });
  const scheduler = createScheduler({ db, clock, jobs, maxQueued, logger });
  const housekeeping = createHousekeeping({
    db,
    clock,
    logger,
    retention: { results: config.resultsRetentionDays, hourRollups: config.hourRollupsRetentionDays, dayRollups: config.dayRollupsRetentionDays },
  });
  // Series store: rollups (hearing late samples from ingestion) and retention, every minute.
  const metricsHousekeeping = createMetricsHousekeeping({
    db,
    clock,
    logger,
    sampleEvents: services.sampleEvents,
    retention: { raw: config.metricsRawRetentionDays, minuteRollups: config.metricsMinuteRollupsRetentionDays, hourRollups: config.metricsHourRollupsRetentionDays },
  });
  // Numeric samples from samples_recent into samples, a slice of series every 100 ms.
  const sampleMover = createSampleMover({ db, logger });
  const ruleEvaluation = createRuleEvaluationLoop({ evaluator: services.ruleEvaluator, intervalSeconds: config.metricRulesEvaluationSeconds, logger });
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
      // After the spread, so that new self checks run at once.
      services.selfMonitoring.attachRuntime({ startedAt: clock.now(), checkQueue: jobs.checkQueue, alerting });
      services.observability.watchCheckQueue(jobs.checkQueue);
      await services.selfMonitoring
        .provision(config.selfMonitoringTenant, logger)
        .catch((error: unknown) => logger.warn({ err: error }, 'self-monitoring: could not create the self checks; retried at the next start'));
      scheduler.start();
      housekeeping.start();
      metricsHousekeeping.start();
      sampleMover.start();
      ruleEvaluation.start();
      alerting.start();
      sweepTimer = setInterval(() => {
        sweeping ??= services.heartbeatSweep
          .run()
          .catch((error: unknown) => logger.warn({ err: error }, 'heartbeat sweep failed'))
          .finally(() => (sweeping = undefined));
      }, HEARTBEAT_SWEEP_MS);
      sweepTimer.unref();
      livenessTimer = setInterval(() => {
        livenessSweeping ??= services.machineLiveness
          .run()
          .catch((error: unknown) => logger.warn({ err: error }, 'machine liveness sweep failed'))
          .finally(() => (livenessSweeping = undefined));
      }, LIVENESS_SWEEP_MS);
      livenessTimer.unref();
      statsTimer = setInterval(() => {
        const lag = lagStats.takeSummary();
        if (lag.checks > 0) logger.info({ scheduler: { ...lag, queued: jobs.depth(CHECK_JOB) } }, 'scheduler stats for the last minute');
      }, STATS_LOG_INTERVAL_MS);
      statsTimer.unref();
    },
    async stop() {
      clearInterval(statsTimer);
      clearInterval(sweepTimer);
      await sweeping;
      clearInterval(livenessTimer);
      await livenessSweeping;
      await services.pings.flush();
      await services.ingest.flush();
      await scheduler.stop();
      await housekeeping.stop();
      await metricsHousekeeping.stop();
      await sampleMover.stop();
      await ruleEvaluation.stop();
      await jobs.stop();
      // Last: checks that finished above may have written alert events.
      await alerting.stop();
    },
  };
}
