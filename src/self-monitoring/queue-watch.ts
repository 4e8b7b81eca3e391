/**
 * Watches the check job queue of this process for the job-runner and scheduler probes: wraps
 * the job runner so that every check job is timed from the moment the scheduler hands it over
 * (its claim) to the moment its handler starts. The JobRunner interface only tells a depth;
 * "is the queue stuck?" needs the age of the oldest waiting job, and "is the scheduler late?"
 * the claim lag (claim time − due time), which only the hand-over sees. Both are kept here,
 * in memory, per process: they describe this process's queue.
 *
 * Jobs are matched by identity (the payload object the scheduler enqueued is the one the
 * in-process runner hands to the handler). Claim lags are kept as the worst lag per second over
 * a sliding window, so memory stays small whatever the number of monitors.
 */
import type { Clock } from '../clock.js';
import type { JobHandler, JobRunner } from '../jobs/job-runner.js';
import { CHECK_JOB, type CheckJob } from '../monitors/scheduler.js';
import type { CheckQueueSignals } from './environment.js';

/** How far back `worstClaimLagMs` looks. */
export const CLAIM_LAG_WINDOW_MS = 5 * 60_000;

export interface WatchedJobRunner extends JobRunner {
  readonly checkQueue: CheckQueueSignals;
}

export function watchCheckQueue(runner: JobRunner, { clock, capacity }: { clock: Clock; capacity: number }): WatchedJobRunner {
  /** Check jobs handed over and not started yet, in the order they were queued. */
  const waiting = new Map<object, number>();
  /** [second, worst claim lag in that second], oldest first. */
  let lagBySecond: [number, number][] = [];

  function forget(now: number): void {
    const horizon = Math.floor((now - CLAIM_LAG_WINDOW_MS) / 1000);
    if (lagBySecond.length && lagBySecond[0]![0] <= horizon) lagBySecond = lagBySecond.filter(([second]) => second > horizon);
  }

  function recordClaim(job: CheckJob, now: number): void {
    forget(now);
    const lag = Math.max(0, now - job.dueAt);
    const second = Math.floor(now / 1000);
    const last = lagBySecond.at(-1);
    if (last && last[0] === second) last[1] = Math.max(last[1], lag);
    else lagBySecond.push([second, lag]);
  }

  const checkQueue: CheckQueueSignals = {
    depth: () => runner.depth(CHECK_JOB),
    capacity,
    oldestWaitingSince: () => {
      for (const since of waiting.values()) return since;
      return null;
    },
    worstClaimLagMs: () => {
      forget(clock.now());
      return lagBySecond.length ? Math.max(...lagBySecond.map(([, lag]) => lag)) : null;
    },
  };

  return {
    checkQueue,
    define<P>(name: string, handler: JobHandler<P>, options: { concurrency: number }) {
      if (name !== CHECK_JOB) return runner.define(name, handler, options);
      runner.define<P>(
        name,
        (payload) => {
          waiting.delete(payload as object);
          return handler(payload);
        },
        options,
      );
    },
    async enqueue(name, payload) {
      if (name !== CHECK_JOB) return runner.enqueue(name, payload);
      const now = clock.now();
      recordClaim(payload as CheckJob, now);
      // Before the hand-over: the in-process runner may start the job within enqueue itself.
      waiting.set(payload as object, now);
      try {
        await runner.enqueue(name, payload);
      } catch (error) {
        waiting.delete(payload as object);
        throw error;
      }
    },
    depth: (name) => runner.depth(name),
    idle: () => runner.idle(),
    async stop() {
      await runner.stop();
      waiting.clear(); // the runner dropped what was waiting
    },
  };
}
