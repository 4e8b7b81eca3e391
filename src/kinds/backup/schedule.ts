/**
 * When a job's next run is expected and when it is MISSING: the heartbeat schedules' rules
 * (heartbeats/schedule.ts: an interval after the last run, or the next run of a cron expression
 * in its time zone), plus the job's grace.
 */
import { nextExpectedAt } from '../../heartbeats/schedule.js';
import type { BackupJobSettings } from './jobs.repository.js';

export type JobSchedule = Pick<BackupJobSettings, 'intervalSeconds' | 'schedule' | 'tz' | 'graceSeconds'>;

/** The deadlines after a run (or the job's creation, or its resumption) at `at`. */
export function deadlinesAfter(job: JobSchedule, at: number): { expectedAt: number; missingAt: number } {
  const expectedAt = nextExpectedAt({ timeoutSeconds: job.intervalSeconds ?? 86_400, graceSeconds: job.graceSeconds, schedule: job.schedule, tz: job.tz }, at);
  return { expectedAt, missingAt: Math.min(Number.MAX_SAFE_INTEGER, expectedAt + job.graceSeconds * 1000) };
}
