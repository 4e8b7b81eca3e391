/**
 * The whole database as Kysely sees it: one entry per table, each typed in tables/*.table.ts.
 * Conventions that hold on both dialects: ids are UUID text, times are epoch milliseconds
 * (bigint), booleans are integers 0/1, JSON is text.
 */
import type {
  AlertEventsTable,
  ChannelsTable,
  MaintenanceWindowsTable,
  MonitorChannelsTable,
  NotificationAttemptsTable,
  NotificationItemsTable,
  NotificationsTable,
  SilencesTable,
} from './tables/alerting.table.js';
import type { ApiKeysTable } from './tables/api-keys.table.js';
import type { AppMetaTable } from './tables/app-meta.table.js';
import type { CheckResultsTable, MonitorKeysTable, RollupsTable } from './tables/check-results.table.js';
import type { HeartbeatChecksTable, PingsTable } from './tables/heartbeats.table.js';
import type { HttpTargetsTable } from './tables/http-targets.table.js';
import type { IncidentsTable, MonitorFlipsTable } from './tables/incidents.table.js';
import type { IngestBatchesTable, MachinesTable, SamplesTable, SeriesChangesTable, SeriesRollupsTable, SeriesTable } from './tables/metrics.table.js';
import type { MetricRulesTable } from './tables/metric-rules.table.js';
import type { MonitorsTable, MonitorTagsTable } from './tables/monitors.table.js';
import type { SelfChecksTable } from './tables/self-checks.table.js';
import type { TenantSettingsTable } from './tables/tenant-settings.table.js';
import type { TenantsTable } from './tables/tenants.table.js';
import type { UsersTable } from './tables/users.table.js';
import type { BackupJobsTable, BackupRunsTable } from './tables/backups.table.js';

export interface Database {
  tenants: TenantsTable;
  tenant_settings: TenantSettingsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  app_meta: AppMetaTable;
  monitors: MonitorsTable;
  monitor_tags: MonitorTagsTable;
  http_targets: HttpTargetsTable;
  monitor_keys: MonitorKeysTable;
  check_results: CheckResultsTable;
  rollups_hour: RollupsTable;
  rollups_day: RollupsTable;
  monitor_flips: MonitorFlipsTable;
  incidents: IncidentsTable;
  channels: ChannelsTable;
  monitor_channels: MonitorChannelsTable;
  alert_events: AlertEventsTable;
  notifications: NotificationsTable;
  notification_items: NotificationItemsTable;
  notification_attempts: NotificationAttemptsTable;
  silences: SilencesTable;
  maintenance_windows: MaintenanceWindowsTable;
  heartbeat_checks: HeartbeatChecksTable;
  pings: PingsTable;
  self_checks: SelfChecksTable;
  ingest_batches: IngestBatchesTable;
  machines: MachinesTable;
  series: SeriesTable;
  samples: SamplesTable;
  /** Numeric samples not yet moved into `samples` (migration 0009, metrics/sample-mover.ts). */
  samples_recent: SamplesTable;
  series_changes: SeriesChangesTable;
  series_rollups_minute: SeriesRollupsTable;
  series_rollups_hour: SeriesRollupsTable;
  metric_rules: MetricRulesTable;
  /** Seed 001's backup jobs and their runs (migration 0022, kinds/backup/). */
  backup_jobs: BackupJobsTable;
  backup_runs: BackupRunsTable;
}
