/**
 * The embedded mode's background work, in this process: the job runner, the scheduler that feeds
 * it due checks, and housekeeping. The scale-out issue swaps the job runner for BullMQ and runs
 * this in `vigie worker`; the pieces stay the same.
 */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { createInProcessJobRunner } from './jobs/in-process.js';
import type { JobRunner } from './jobs/job-runner.js';
import type { Logger } from './logger.js';
import { createHousekeeping } from './monitors/housekeeping.js';
import { CHECK_JOB, createScheduler, type CheckJob } from './monitors/scheduler.js';
import type { Services } from './services.js';

export interface BackgroundWork {
  readonly jobs: JobRunner;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBackgroundWork({ db, clock, config, services, logger }: { db: Db; clock: Clock; config: Config; services: Services; logger: Logger }): BackgroundWork {
  const jobs = createInProcessJobRunner(logger);
  jobs.define<CheckJob>(CHECK_JOB, (job) => services.checks.runScheduled(job), { concurrency: config.checkConcurrency });
  const scheduler = createScheduler({ db, clock, jobs, maxQueued: config.checkConcurrency * 2, logger });
  const housekeeping = createHousekeeping({
    db,
    clock,
    logger,
    retention: { results: config.resultsRetentionDays, minuteRollups: config.minuteRollupsRetentionDays, hourRollups: config.hourRollupsRetentionDays },
  });
  return {
    jobs,
    async start() {
      const spread = await scheduler.spreadOverdue();
      if (spread > 0) logger.info({ monitors: spread }, 'spread monitors that fell due while Vigie was stopped');
      scheduler.start();
      housekeeping.start();
    },
    async stop() {
      await scheduler.stop();
      await housekeeping.stop();
      await jobs.stop();
    },
  };
}
