import type { Generated } from 'kysely';

/** A heartbeat monitor's own settings and Healthchecks status (new, up, started, grace, down, paused). */
export interface HeartbeatChecksTable {
  monitor_id: string;
  tenant_id: string;
  /** The secret in the check's ping URL (/ping/{ping_uuid}); never the monitor id, which readers see. Set on every row; nullable only because SQLite cannot add a NOT NULL column. */
  ping_uuid: string | null;
  /** Names the check in its public badge URL (`/b/{2|3}/{badge_key}.svg`); set on every row. */
  badge_key: string | null;
  slug: string | null;
  description: Generated<string>;
  /** Simple schedule: a ping is expected every timeout_seconds. */
  timeout_seconds: number;
  grace_seconds: number;
  /** Cron schedule (null: simple), evaluated in `tz`. */
  schedule: string | null;
  tz: Generated<string>;
  manual_resume: Generated<number>;
  /** '' (any method) or 'POST'. */
  methods: Generated<string>;
  /** Healthchecks' e-mail ping filters: search the subject and/or the body for these comma-separated keywords (migration 0014). */
  filter_subject: Generated<number>;
  filter_body: Generated<number>;
  start_kw: Generated<string>;
  success_kw: Generated<string>;
  failure_kw: Generated<string>;
  /** Healthchecks' keyword filter on HTTP ping bodies, and whether a body matching no keyword is a failure (else ignored) (migration 0017); the latter applies to e-mail pings too. */
  filter_http_body: Generated<number>;
  filter_default_fail: Generated<number>;
  /** The rid of the last /start: a success with another rid leaves the run started. */
  last_start_rid: string | null;
  /** Tags as the Healthchecks API was given them (order and repeats kept); null when set by Vigie's own API. */
  tags_text: string | null;
  status: Generated<string>;
  last_ping_at: number | null;
  last_start_at: number | null;
  last_duration_ms: number | null;
  n_pings: Generated<number>;
  /** When the check goes down if no ping arrives (Healthchecks' alert_after). */
  alert_after: number | null;
  /** The check's next moment of truth (late, then down); null: nothing pending. */
  deadline_at: number | null;
  /** When the sweep next looks at the check (indexed): at or before deadline_at, which a ping may postpone without moving this; null with deadline_at. */
  sweep_at: number | null;
}

export interface PingsTable {
  id: Generated<number>;
  monitor_id: string;
  /** 1, 2, 3… per check, as Healthchecks numbers pings. */
  n: number;
  at: number;
  /** success, start, fail, log, exit */
  kind: string;
  exit_status: number | null;
  rid: string | null;
  method: string;
  remote_addr: string | null;
  user_agent: string | null;
  body: string | null;
  /** The size received, before truncation to the body limit. */
  body_size: Generated<number>;
  /** Run time, when the ping ends a run started with /start. */
  duration_ms: number | null;
}
