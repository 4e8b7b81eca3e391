import type { Generated } from 'kysely';

/** One row per check: the high-volume table, pruned after RESULTS_RETENTION_DAYS. */
export interface CheckResultsTable {
  id: Generated<number>;
  monitor_id: string;
  at: number;
  status: string;
  latency_ms: number | null;
  value: number | null;
  message: string | null;
}

/** Per-minute and per-hour aggregates of results; uptime is answered from these. */
export interface RollupsTable {
  monitor_id: string;
  bucket_start: number;
  count: number;
  up_count: number;
  latency_count: number;
  latency_min: number | null;
  latency_max: number | null;
  latency_sum: number | null;
  latency_p95: number | null;
}
