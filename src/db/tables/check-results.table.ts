import type { Generated } from 'kysely';

/**
 * A small integer per monitor, so that the high-volume tables below repeat 1–3 bytes per row
 * instead of a 36-character UUID. Created on a monitor's first stored result or rollup.
 */
export interface MonitorKeysTable {
  key: Generated<number>;
  monitor_id: string;
}

/**
 * One row per check: the high-volume table, clustered on (monitor_key, at) (WITHOUT ROWID on
 * SQLite, so the row is the index entry), pruned after RESULTS_RETENTION_DAYS. `status` is a
 * small integer (results-history.ts maps it); `message` is NULL when it only restates the
 * status code and latency (the HTTP probe's success sentence), and is rebuilt on read.
 */
export interface CheckResultsTable {
  monitor_key: number;
  at: number;
  status: number;
  latency_ms: number | null;
  value: number | null;
  message: string | null;
}

/**
 * Per-hour and per-day aggregates of a monitor's history; uptime is answered from these for
 * whole buckets. `known_ms` is the time the monitor's status was known (watched, after its first
 * entry), `up_ms` the part of it spent up; `checks` / `up_checks` count history entries.
 */
export interface RollupsTable {
  monitor_key: number;
  bucket_start: number;
  up_ms: number;
  known_ms: number;
  checks: number;
  up_checks: number;
  latency_count: number;
  latency_sum: number | null;
}
