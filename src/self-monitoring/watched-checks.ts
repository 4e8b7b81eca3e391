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
export const RECENT_FAILURES_LIMIT = 10;

/**
 * The dashboard's buckets. Every status is in exactly one (a complete Record: a new status does
 * not compile until it is placed): healthy = up, or running a started job; warning = late (a
 * heartbeat in its grace period) or degraded (a self check's warning); down; paused = paused or
 * in maintenance (nobody watches them); pending = never reported (a new heartbeat, a self check
 * not run yet).
 */
export const DASHBOARD_BUCKETS = ['healthy', 'warning', 'down', 'paused', 'pending'] as const;
export type DashboardBucket = (typeof DASHBOARD_BUCKETS)[number];
export const BUCKET_OF: Readonly<Record<WatchedCheckStatus, DashboardBucket>> = {
  up: 'healthy',
  started: 'healthy',
  grace: 'warning',
  warning: 'warning',
  down: 'down',
  paused: 'paused',
  maintenance: 'paused',
  new: 'pending',
  pending: 'pending',
};

export interface Dashboard {
  /** healthy / (healthy + warning + down) × 100, one decimal: the share of the checks that report that are up; null when none reports. */
  health_percentage: number | null;
  summary: { total_checks: number } & Record<DashboardBucket, number>;
  recent_failures: { name: string; last_ping: string | null; status: WatchedCheckStatus }[];
}

/**
 * The seed's dashboard figures: each check counted in its bucket (the buckets add up to
 * total_checks); health_percentage over the checks that report (healthy, warning, down), so that
 * checks never heard from and paused ones neither lower nor raise it, and null rather than a
 * reassuring 100 when no check reports; recent_failures = failing checks, most recent failure
 * first, at most 10.
 */
export function dashboardOf(checks: readonly WatchedCheck[]): Dashboard {
  const buckets = Object.fromEntries(DASHBOARD_BUCKETS.map((b) => [b, 0])) as Record<DashboardBucket, number>;
  for (const check of checks) buckets[BUCKET_OF[check.status]]++;
  const reporting = buckets.healthy + buckets.warning + buckets.down;
  const failing = checks.filter((c) => FAILING_STATUSES.includes(c.status)).sort((a, b) => (b.failingSince ?? 0) - (a.failingSince ?? 0) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return {
    health_percentage: reporting === 0 ? null : Math.round((buckets.healthy / reporting) * 1000) / 10,
    summary: { total_checks: checks.length, ...buckets },
    recent_failures: failing.slice(0, RECENT_FAILURES_LIMIT).map((c) => ({ name: c.name, last_ping: toIsoOrNull(c.lastPingAt), status: c.status })),
  };
}

/** How many checks are in each status (every status listed, zeros included). */
export function countsByStatus(checks: readonly WatchedCheck[]): Record<WatchedCheckStatus, number> {
  const counts = Object.fromEntries(WATCHED_CHECK_STATUSES.map((status) => [status, 0])) as Record<WatchedCheckStatus, number>;
  for (const check of checks) counts[check.status]++;
  return counts;
}
