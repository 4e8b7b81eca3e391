import type { Generated } from 'kysely';

/** One row per tenant (seed 000's client_settings). Booleans are stored as 0/1 on both dialects. */
export interface TenantSettingsTable {
  tenant_id: string;
  notification_email: string | null;
  heartbeat_threshold_minutes: Generated<number>;
  consecutive_failures_threshold: Generated<number>;
  alert_grouping_enabled: Generated<number>;
  timezone: Generated<string>;
  /** Grouping (Alertmanager's group_wait / group_interval) and reminders of open incidents. */
  group_wait_seconds: Generated<number>;
  group_interval_seconds: Generated<number>;
  repeat_interval_seconds: Generated<number>;
  /** The key of `/ping/{ping_key}/{slug}` URLs (Healthchecks' project ping key); null until made. */
  ping_key: string | null;
  /** The project part of public tag badge URLs (`/badge/{badge_key}/…`); null until made. */
  badge_key: string | null;
  updated_at: number;
}
