/**
 * When a heartbeat check expects its next ping, and what follows from each kind of ping, as pure
 * functions. Healthchecks' rules: a simple check expects a ping every `timeout` after the last
 * one; a cron or OnCalendar check expects one at each run of its expression in its IANA time zone
 * (croner and oncalendar.ts follow daylight-saving changes). Past the expected time the check is
 * late (`grace`); past expected + `grace` it is down. A `/start` ping means "running": down if no
 * end within grace.
 */
import { Cron } from 'croner';
import { nextRun, onCalendarProblem } from './oncalendar.js';

/** `started` is no longer written (migration 0017); kept so that a row read mid-upgrade still has a known state. */
export const HEARTBEAT_STATES = ['new', 'up', 'started', 'grace', 'down', 'paused'] as const;
export type HeartbeatState = (typeof HEARTBEAT_STATES)[number];

export interface HeartbeatSchedule {
  timeoutSeconds: number;
  graceSeconds: number;
  /** Cron or OnCalendar expression (scheduleKind tells which); null for a simple schedule. */
  schedule: string | null;
  tz: string;
}

export type ScheduleKind = 'simple' | 'cron' | 'oncalendar';

/**
 * Healthchecks' `guess_kind`, so no column is needed: one line of five fields is cron, any other
 * text OnCalendar (an OnCalendar line has at most four fields, so the two never overlap).
 */
export function scheduleKind(schedule: string | null): ScheduleKind {
  if (schedule === null) return 'simple';
  return !schedule.trim().includes('\n') && schedule.trim().split(/\s+/).length === 5 ? 'cron' : 'oncalendar';
}

/** Returns the error message of an invalid cron or OnCalendar expression or time zone, or null. */
export function scheduleProblem(schedule: string, tz: string): string | null {
  try {
    if (scheduleKind(schedule) === 'oncalendar') {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      const problem = onCalendarProblem(schedule);
      return problem === null ? null : `Invalid OnCalendar schedule "${schedule}": ${problem}`;
    }
    new Cron(schedule, { timezone: tz, paused: true });
    return null;
  } catch (error) {
    return `Invalid schedule "${schedule}" in ${tz}: ${(error as Error).message}`;
  }
}

/** The time the ping after one at `lastPingAt` is expected. */
export function nextExpectedAt(schedule: HeartbeatSchedule, lastPingAt: number): number {
  const kind = scheduleKind(schedule.schedule);
  if (kind === 'simple') return lastPingAt + schedule.timeoutSeconds * 1000;
  let run: number | null;
  if (kind === 'oncalendar') run = nextRun(schedule.schedule!, lastPingAt, schedule.tz);
  else run = new Cron(schedule.schedule!, { timezone: schedule.tz, paused: true }).nextRun(new Date(lastPingAt))?.getTime() ?? null;
  // An expression with no future run (e.g. a date in the past) never makes the check late.
  return run ?? Number.MAX_SAFE_INTEGER;
}

/** The check's status and deadlines once a ping has arrived. */
export interface Timing {
  status: HeartbeatState;
  /** When it goes down without another ping; null: it does not (down already, or new). */
  alertAfter: number | null;
  /** When the sweep next looks at it. */
  deadlineAt: number | null;
}

export function afterSuccess(schedule: HeartbeatSchedule, at: number): Timing {
  const expected = nextExpectedAt(schedule, at);
  return { status: 'up', alertAfter: Math.min(Number.MAX_SAFE_INTEGER, expected + schedule.graceSeconds * 1000), deadlineAt: expected };
}

/**
 * A run has started: it must end within grace. As in Healthchecks, a start changes no status (a
 * started check stays new, up, late or down; `started` is only a flag, and a status in API v1)
 * and never postpones an alert already due — a job that starts late still alerts at expected +
 * grace. A down check has nothing left to alert; a paused one stays quiet until resumed.
 */
export function afterStart(schedule: HeartbeatSchedule, at: number, status: HeartbeatState, alertAfter: number | null, deadlineAt: number | null): Timing {
  if (status === 'down' || status === 'paused') return { status, alertAfter: null, deadlineAt: null };
  const due = alertAfter === null ? at + schedule.graceSeconds * 1000 : Math.min(alertAfter, at + schedule.graceSeconds * 1000);
  return { status, alertAfter: due, deadlineAt: deadlineAt === null ? due : Math.min(deadlineAt, due) };
}

/** A success that left a run under way (another rid): the run must still end by `runDue`. */
export function stillRunning(timing: Timing, runDue: number): Timing {
  const alertAfter = timing.alertAfter === null ? runDue : Math.min(timing.alertAfter, runDue);
  return { status: timing.status, alertAfter, deadlineAt: timing.deadlineAt === null ? alertAfter : Math.min(timing.deadlineAt, alertAfter) };
}

export const AFTER_FAILURE: Timing = Object.freeze({ status: 'down', alertAfter: null, deadlineAt: null });

/** What the sweep does with a check whose deadline has come: late first, down at alert_after. */
export function atDeadline(status: HeartbeatState, alertAfter: number | null, now: number): Timing | null {
  if (alertAfter === null) return null;
  if (now >= alertAfter) return { ...AFTER_FAILURE };
  if (status === 'up') return { status: 'grace', alertAfter, deadlineAt: alertAfter };
  return null;
}
