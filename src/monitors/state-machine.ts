/**
 * The one state machine for every kind of monitor, as a pure function: given the monitor's
 * counters and a new result, what are the new counters and, if any, the new state.
 *
 * - A failure (`down` or `warning` result) that makes N in a row (N = the monitor's
 *   failure_threshold, else the tenant's consecutive_failures_threshold) moves the monitor to the
 *   result's status; further failures move it between `down` and `warning` at once.
 * - M successes in a row (recovery_threshold, default 1) bring a failing monitor back `up`.
 * - A `pending` monitor becomes `up` on its first success.
 */
import { isFailing, UNWATCHED_STATES, type MonitorState, type ResultStatus } from './kinds.js';

export interface MonitorCounters {
  state: MonitorState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

export interface Thresholds {
  failures: number;
  recoveries: number;
}

export interface Transition extends MonitorCounters {
  /** Set when the state changes. */
  flipTo?: MonitorState;
}

export function applyResult(current: MonitorCounters, status: ResultStatus, thresholds: Thresholds): Transition {
  if (UNWATCHED_STATES.includes(current.state)) return { ...current };
  if (status === 'up') {
    const successes = current.consecutiveSuccesses + 1;
    const recovers = current.state === 'pending' || (isFailing(current.state) && successes >= thresholds.recoveries);
    const next: Transition = { state: current.state, consecutiveFailures: 0, consecutiveSuccesses: successes };
    if (recovers) {
      next.state = 'up';
      next.flipTo = 'up';
    }
    return next;
  }
  const failures = current.consecutiveFailures + 1;
  const next: Transition = { state: current.state, consecutiveFailures: failures, consecutiveSuccesses: 0 };
  const alreadyFailing = isFailing(current.state);
  if ((alreadyFailing || failures >= thresholds.failures) && current.state !== status) {
    next.state = status;
    next.flipTo = status;
  }
  return next;
}
