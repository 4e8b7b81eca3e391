import type { Generated } from 'kysely';

/** A place notifications go (e-mail, Slack, …); `config_json` holds the provider's config, secrets included. */
export interface ChannelsTable {
  id: string;
  tenant_id: string;
  name: string;
  kind: string;
  config_json: string;
  send_resolved: Generated<number>;
  /** JSON array of `warning` / `critical`; null: every severity. */
  severities_json: string | null;
  /** JSON array of tags; null: every monitor. */
  tags_json: string | null;
  is_active: Generated<number>;
  /** 1 for the channel kept in step with the tenant's notification_email setting. */
  is_default_email: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** A monitor's own channel list, used when its `all_channels` is 0. */
export interface MonitorChannelsTable {
  monitor_id: string;
  channel_id: string;
  tenant_id: string;
}

/** One notifiable change (a flip, or a reminder of an open incident): the seeds' "alert event". */
export interface AlertEventsTable {
  id: string;
  tenant_id: string;
  monitor_id: string;
  /** `alert` or `reminder`. */
  kind: string;
  flip_id: string | null;
  incident_id: string | null;
  from_state: string;
  to_state: string;
  /** `warning` or `critical`; a recovery has the severity of the incident it ends. */
  severity: string;
  reason: string | null;
  down_for_ms: number | null;
  at: number;
  /** Set when the router turned the event into notifications (or suppressed it). */
  routed_at: number | null;
  /** Why no notification went out: `silence <id>` or `maintenance <id>`. */
  suppressed_by: string | null;
}

/** The outbox: one message to one channel, listing one event or a group of them. */
export interface NotificationsTable {
  id: string;
  tenant_id: string;
  channel_id: string;
  idempotency_key: string;
  /** pending → sending → sent | failed (sending → pending again on a retryable failure). */
  status: string;
  grouped: Generated<number>;
  /** The channel id while this grouped message still takes events; null once claimed. Unique. */
  open_group: string | null;
  /**
   * pending: when the next attempt is due. sending: when the sender's lease runs out and another
   * worker may take the row over (its sender died mid-send). One column, so one index serves both.
   */
  due_at: number;
  attempts: Generated<number>;
  /** When a sender first took it: for a group, when it stopped taking events (its flush). */
  first_attempt_at: number | null;
  created_at: number;
  sent_at: number | null;
  last_error: string | null;
}

export interface NotificationItemsTable {
  notification_id: string;
  event_id: string;
  channel_id: string;
  tenant_id: string;
}

export interface NotificationAttemptsTable {
  id: Generated<number>;
  notification_id: string;
  tenant_id: string;
  at: number;
  ok: number;
  retryable: number;
  status: number | null;
  detail: string;
  duration_ms: number;
}

export interface SilencesTable {
  id: string;
  tenant_id: string;
  matchers_json: string;
  starts_at: number;
  ends_at: number;
  comment: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

/** One-off (starts_at + ends_at) or recurring (cron + duration_seconds, in `timezone`). */
export interface MaintenanceWindowsTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  starts_at: number | null;
  ends_at: number | null;
  cron: string | null;
  duration_seconds: number | null;
  timezone: string;
  monitor_ids_json: string;
  tags_json: string;
  created_at: number;
  updated_at: number;
}
