import type { Generated } from 'kysely';

/**
 * A backup job (seed 001): a monitor of kind `backup` and what the server expects of it. The job's
 * deposit directory is `<BACKUP_DEPOSIT_DIR>/<tenant_id>/<agent>/<monitor_id>/`.
 */
export interface BackupJobsTable {
  monitor_id: string;
  tenant_id: string;
  /** The agent's name: a directory name under the tenant's deposit directory. */
  agent: string;
  /** The database it backs up (seed 001 names jobs by agent and database). */
  database_name: string;
  /** Simple schedule: a run every interval_seconds. Null when `schedule` (cron) is set. */
  interval_seconds: number | null;
  /** Cron expression in `tz`; null for an interval. */
  schedule: string | null;
  tz: Generated<string>;
  grace_seconds: number;
  /** SIZE_ANOMALY: more than this percent away from the median of the last `size_window` healthy runs… */
  size_anomaly_percent: number;
  /** …and more than this many bytes away (both must hold: 20 → 22 MB must not alert). */
  size_anomaly_floor_bytes: number;
  size_window: number;
  /** How many healthy copies stay in the validated zone (seed 001: the last one). */
  keep_healthy: number;
  /** UNCHANGED runs in a row that are still fine (some databases do not change). */
  allowed_unchanged_runs: number;
  unchanged_streak: Generated<number>;
  /** When the next run is expected, and when it is MISSING (expected + grace; the sweep's index). */
  expected_at: number | null;
  missing_at: number | null;
  last_run_at: number | null;
  /** An accepted SIZE_ANOMALY's size and time: the size check's median starts from it (issue 16). */
  size_baseline_bytes: number | null;
  size_baseline_at: number | null;
}

/** One run of a job, as its agent reported it and as the server judged it. */
export interface BackupRunsTable {
  id: string;
  monitor_id: string;
  tenant_id: string;
  /** The agent's run id (unique per job: a run is never processed twice). */
  run_id: string;
  /** received → validating → promoting → promoted | rejected; `missed` for a MISSING run. */
  state: string;
  /** SUCCESS, FAILED, MISSING, TRANSFER_INTEGRITY_FAILED, UNCHANGED, SIZE_ANOMALY; null until judged. */
  status: string | null;
  reason: string | null;
  /** What the agent said: success | failure, its message and log tail. */
  agent_status: string | null;
  agent_message: string | null;
  log_tail: string | null;
  started_at: number | null;
  finished_at: number | null;
  file_count: number;
  /** Sizes (bytes) and SHA-256 of the manifest: as reported, and as measured by the server. */
  expected_size: number | null;
  measured_size: number | null;
  expected_sha256: string | null;
  measured_sha256: string | null;
  /** The files as reported, JSON [{path, size, sha256}]. */
  files_json: string;
  received_at: number;
  /** When its verdict became the monitor's result (`result_status`); the history's time. */
  judged_at: number | null;
  result_status: string | null;
  validated_at: number | null;
  promoted_at: number | null;
  validation_ms: number | null;
  promotion_ms: number | null;
  /** Who holds the run while validating or promoting (compare-and-set claims). */
  claim_token: string | null;
  /** The process holding the claim (scanner-lease.ts) and until when, unless it renews the lease. */
  claim_owner: string | null;
  claim_expires_at: number | null;
  /** The deposit's files were moved to quarantine or removed (a step after the state's commit). */
  cleaned_at: number | null;
  /** A promoted copy removed because newer healthy ones replaced it (keep_healthy). */
  pruned_at: number | null;
  /** An operator accepted this SIZE_ANOMALY's size as the new baseline. */
  size_accepted_at: number | null;
}
