/**
 * Seed 002's "checks": what its Healthchecks instance watched, i.e. a tenant's heartbeat checks
 * (cron jobs, scripts) and its self checks (Vigie's own parts; the operator's tenant only), in
 * one list with one status vocabulary, and the dashboard summary computed over that list.
 * A heartbeat check's status is its Healthchecks status; a self check's is its monitor state.
 */
import { toIsoOrNull } from '../http/schemas.js';
import { HEARTBEAT_STATES } from '../heartbeats/schedule.js';
import { FAILING_STATES, MONITOR_STATES, type MonitorKind } from '../monitors/kinds.js';

export const WATCHED_CHECK_STATUSES = [...new Set([...HEARTBEAT_STATES, ...MONITOR_STATES])] as ((typeof HEARTBEAT_STATES)[number] | (typeof MONITOR_STATES)[number])[];
export type WatchedCheckStatus = (typeof WATCHED_CHECK_STATUSES)[number];

export interface WatchedCheck {
  id: string;
  name: string;
  /** A kind that declares `watched` in the registry (heartbeat, self). */
  kind: MonitorKind;
  status: WatchedCheckStatus;
  /** A heartbeat's last ping; a self check's last run. */
  lastPingAt: number | null;
  tags: string[];
  /** Since when it has been failing (down, late, degraded); null when it is not. */
  failingSince: number | null;
}

/** Failing statuses: down, late (a heartbeat in its grace period), degraded (a self check's warning). */
export const FAILING_STATUSES: readonly WatchedCheckStatus[] = [...FAILING_STATES, 'grace'];
/** Statuses nobody watches: they count neither for nor against health. */
export const UNWATCHED_STATUSES: readonly WatchedCheckStatus[] = ['paused', 'maintenance'];

export const RECENT_FAILURES_LIMIT = 10;

export interface Dashboard {
  health_percentage: number;
  summary: { total_checks: number; healthy: number; down: number; paused: number };
  recent_failures: { name: string; last_ping: string | null; status: WatchedCheckStatus }[];
}

/**
 * The seed's dashboard figures: healthy = up; paused = paused or in maintenance;
 * health_percentage = healthy / (total − paused) × 100, one decimal, 100 when nothing is watched;
 * recent_failures = failing checks, most recent failure first, at most 10.
 */
export function dashboardOf(checks: readonly WatchedCheck[]): Dashboard {
  const count = (test: (c: WatchedCheck) => boolean) => checks.filter(test).length;
  const healthy = count((c) => c.status === 'up');
  const paused = count((c) => UNWATCHED_STATUSES.includes(c.status));
  const watched = checks.length - paused;
  const failing = checks.filter((c) => FAILING_STATUSES.includes(c.status)).sort((a, b) => (b.failingSince ?? 0) - (a.failingSince ?? 0) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return {
    health_percentage: watched === 0 ? 100 : Math.round((healthy / watched) * 1000) / 10,
    summary: { total_checks: checks.length, healthy, down: count((c) => c.status === 'down'), paused },
    recent_failures: failing.slice(0, RECENT_FAILURES_LIMIT).map((c) => ({ name: c.name, last_ping: toIsoOrNull(c.lastPingAt), status: c.status })),
  };
}

/** How many checks are in each status (every status listed, zeros included). */
export function countsByStatus(checks: readonly WatchedCheck[]): Record<WatchedCheckStatus, number> {
  const counts = Object.fromEntries(WATCHED_CHECK_STATUSES.map((status) => [status, 0])) as Record<WatchedCheckStatus, number>;
  for (const check of checks) counts[check.status]++;
  return counts;
}
