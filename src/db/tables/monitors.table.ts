import type { Generated } from 'kysely';

/** Every monitor, whatever its kind; kind-specific settings live in a table of the kind. */
export interface MonitorsTable {
  id: string;
  tenant_id: string;
  kind: string;
  name: string;
  is_active: Generated<number>;
  state: Generated<string>;
  consecutive_failures: Generated<number>;
  consecutive_successes: Generated<number>;
  /** Null: the tenant's consecutive_failures_threshold applies. */
  failure_threshold: number | null;
  recovery_threshold: Generated<number>;
  /** Null for passive kinds (they report on events, not on a schedule). */
  interval_seconds: number | null;
  last_checked_at: number | null;
  /** Null when the scheduler has nothing to run (paused, inactive, passive). */
  next_due_at: number | null;
  state_changed_at: number | null;
  /** Bumped by every state write: the compare-and-set that keeps two workers from both flipping. */
  version: Generated<number>;
  /** Null: the tenant's repeat_interval_seconds applies; 0: no reminders. */
  repeat_interval_seconds: number | null;
  /** 1: notify every channel of the tenant; 0: only those in monitor_channels. */
  all_channels: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface MonitorTagsTable {
  monitor_id: string;
  tenant_id: string;
  tag: string;
}
