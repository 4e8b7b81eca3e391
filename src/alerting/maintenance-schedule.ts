/**
 * When a maintenance window is in force, as a pure function of the window and a time. One-off:
 * `[starts_at, ends_at)`. Recurring: each run of the cron expression, in the window's IANA time
 * zone (croner follows daylight-saving changes), opens the window for `duration_seconds`.
 */
import { Cron } from 'croner';

export interface MaintenanceSchedule {
  startsAt: number | null;
  endsAt: number | null;
  cron: string | null;
  durationSeconds: number | null;
  timezone: string;
}

/** Returns the error message of an invalid cron expression or time zone, or null. */
export function cronProblem(expression: string, timezone: string): string | null {
  try {
    new Cron(expression, { timezone, paused: true });
    return null;
  } catch (error) {
    return `Invalid cron expression "${expression}": ${(error as Error).message}`;
  }
}

/** The occurrence in force at `now` ([start, end) in epoch ms), or null. */
export function activeOccurrence(schedule: MaintenanceSchedule, now: number): { start: number; end: number } | null {
  if (schedule.cron === null) {
    if (schedule.startsAt === null || schedule.endsAt === null) return null;
    return schedule.startsAt <= now && now < schedule.endsAt ? { start: schedule.startsAt, end: schedule.endsAt } : null;
  }
  const durationMs = (schedule.durationSeconds ?? 0) * 1000;
  if (durationMs <= 0) return null;
  // The only runs that can cover `now` start in (now - duration, now], and not before starts_at
  // when the window is bounded: take the first run after that and see whether it has started yet.
  // (nextRun finds runs strictly after the time it is given, hence the - 1 for starts_at.)
  const job = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
  const run = job.nextRun(new Date(Math.max(now - durationMs, schedule.startsAt === null ? -Infinity : schedule.startsAt - 1)));
  if (!run || run.getTime() > now) return null;
  const start = run.getTime();
  if (schedule.endsAt !== null && start >= schedule.endsAt) return null;
  return { start, end: start + durationMs };
}

/** The next start after `now` (for the API), or null when none is coming. */
export function nextOccurrenceStart(schedule: MaintenanceSchedule, now: number): number | null {
  if (schedule.cron === null) return schedule.startsAt !== null && schedule.startsAt > now ? schedule.startsAt : null;
  const from = Math.max(now, schedule.startsAt === null ? -Infinity : schedule.startsAt - 1);
  const run = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true }).nextRun(new Date(from));
  if (!run || (schedule.endsAt !== null && run.getTime() >= schedule.endsAt)) return null;
  return run.getTime();
}
