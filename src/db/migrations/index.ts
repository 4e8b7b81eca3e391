/**
 * Every migration, in order. Imported statically (not read from a folder at run time) so the
 * same list works from src/ under the test runner and from dist/ in production. Names are
 * dated: add a new file for every schema change, never edit one that has shipped.
 */
import type { Migration } from 'kysely';
import * as foundation from './2026_11_21_0001_foundation.js';
import * as monitors from './2026_11_21_0002_monitors.js';
import * as alerting from './2026_11_22_0003_alerting.js';
import * as heartbeats from './2026_11_22_0004_heartbeats.js';
import * as checkKeys from './2026_11_23_0005_check_keys.js';
import * as selfChecks from './2026_11_23_0006_self_checks.js';
import * as metrics from './2026_11_23_0007_metrics.js';
import * as metricRules from './2026_11_23_0008_metric_rules.js';
import * as recentSamples from './2026_11_24_0009_recent_samples.js';
import * as heartbeatSweepAt from './2026_11_24_0010_heartbeat_sweep_at.js';
import * as alertEventsIncident from './2026_11_25_0011_alert_events_incident.js';
import * as compactResults from './2026_12_03_0012_compact_results.js';
import * as ingestBatchesMachine from './2026_12_03_0013_ingest_batches_machine.js';
import * as heartbeatKeywords from './2026_12_05_0014_heartbeat_keywords.js';
import * as httpTargetUrlKey from './2026_12_05_0015_http_target_url_key.js';
import * as healthchecksSemantics from './2026_12_05_0017_healthchecks_semantics.js';
import * as tenantPingKeys from './2026_12_05_0018_tenant_ping_keys.js';
import * as backups from './2026_12_05_0022_backups.js';
import * as backupLeases from './2026_12_05_0023_backup_leases.js';

export const migrations: Record<string, Migration> = {
  '2026_11_21_0001_foundation': foundation,
  '2026_11_21_0002_monitors': monitors,
  '2026_11_22_0003_alerting': alerting,
  '2026_11_22_0004_heartbeats': heartbeats,
  '2026_11_23_0005_check_keys': checkKeys,
  '2026_11_23_0006_self_checks': selfChecks,
  '2026_11_23_0007_metrics': metrics,
  '2026_11_23_0008_metric_rules': metricRules,
  '2026_11_24_0009_recent_samples': recentSamples,
  '2026_11_24_0010_heartbeat_sweep_at': heartbeatSweepAt,
  '2026_11_25_0011_alert_events_incident': alertEventsIncident,
  '2026_12_03_0012_compact_results': compactResults,
  '2026_12_03_0013_ingest_batches_machine': ingestBatchesMachine,
  '2026_12_05_0014_heartbeat_keywords': heartbeatKeywords,
  '2026_12_05_0015_http_target_url_key': httpTargetUrlKey,
  '2026_12_05_0017_healthchecks_semantics': healthchecksSemantics,
  '2026_12_05_0018_tenant_ping_keys': tenantPingKeys,
  '2026_12_05_0022_backups': backups,
  '2026_12_05_0023_backup_leases': backupLeases,
};
