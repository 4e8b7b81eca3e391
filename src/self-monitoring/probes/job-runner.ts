/**
 * The job-runner self probe: is the check job queue of this process moving? A check that has
 * waited long to start means every slot is taken by slow or hung checks; a full queue means the
 * scheduler is holding due checks back. Only where background work runs (it is that process's
 * queue that is measured).
 *
 * A limit in the nature of the thing: this self check is itself a job of that queue, so a queue
 * that stands completely still cannot run it; it then shows only through `check/job-runner` or
 * `check/all` (on demand, outside the queue) and through the scheduler probe of another process.
 */
import type { ProbeEnvironment } from '../environment.js';
import { combine, describeDuration, gradeAge, type AgeThresholds, type SelfProbe } from '../probe.js';

/** The oldest queued check's wait: a warning past 30 s, down past 2 min (checks run every 10 s or more). */
export const QUEUE_WAIT: AgeThresholds = { warningMs: 30_000, downMs: 120_000 };

export function jobRunnerSelfProbe(env: ProbeEnvironment): SelfProbe {
  return {
    service: 'job-runner',
    title: 'Vigie job runner',
    intervalSeconds: 60,
    unavailableReason: 'The check job runner does not run in this process',
    available: () => env.runtime() !== undefined,
    async run() {
      const runtime = env.runtime();
      if (!runtime) return { status: 'down', latencyMs: 0, message: 'The check job runner does not run in this process' };
      const { checkQueue } = runtime;
      const depth = checkQueue.depth();
      const since = checkQueue.oldestWaitingSince();
      const waitMs = since === null ? 0 : Math.max(0, env.clock.now() - since);
      const waitStatus = gradeAge(waitMs, QUEUE_WAIT);
      const findings = [
        waitStatus === 'up'
          ? { status: waitStatus, message: `${depth} check(s) queued or running, room for ${checkQueue.capacity}` }
          : { status: waitStatus, message: `the oldest queued check has waited ${describeDuration(waitMs)} to start (${depth} queued or running)` },
      ];
      if (depth >= checkQueue.capacity) {
        findings.push({ status: 'warning', message: `the check queue is full (${depth} of ${checkQueue.capacity}): due checks wait for room` });
      }
      return combine(findings, 0);
    },
  };
}
