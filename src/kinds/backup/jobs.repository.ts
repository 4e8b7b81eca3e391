/** The backup_jobs table: a job's settings and its schedule's deadlines. Every read takes the tenant. */
import type { Selectable, Updateable } from 'kysely';
import type { Db } from '../../db/database.js';
import type { BackupJobsTable } from '../../db/tables/backups.table.js';

export interface BackupJobSettings {
  monitorId: string;
  tenantId: string;
  agent: string;
  database: string;
  intervalSeconds: number | null;
  schedule: string | null;
  tz: string;
  graceSeconds: number;
  sizeAnomalyPercent: number;
  sizeAnomalyFloorBytes: number;
  sizeWindow: number;
  keepHealthy: number;
  allowedUnchangedRuns: number;
  unchangedStreak: number;
  expectedAt: number | null;
  missingAt: number | null;
  lastRunAt: number | null;
  /** An accepted SIZE_ANOMALY's size, and when it was accepted: the size check's median starts from it. */
  sizeBaselineBytes: number | null;
  sizeBaselineAt: number | null;
}

export type BackupJobSettingsPatch = Partial<Omit<BackupJobSettings, 'monitorId' | 'tenantId'>>;

export const toJobSettings = (row: Selectable<BackupJobsTable>): BackupJobSettings => ({
  monitorId: row.monitor_id,
  tenantId: row.tenant_id,
  agent: row.agent,
  database: row.database_name,
  intervalSeconds: row.interval_seconds,
  schedule: row.schedule,
  tz: row.tz,
  graceSeconds: row.grace_seconds,
  sizeAnomalyPercent: row.size_anomaly_percent,
  sizeAnomalyFloorBytes: Number(row.size_anomaly_floor_bytes),
  sizeWindow: row.size_window,
  keepHealthy: row.keep_healthy,
  allowedUnchangedRuns: row.allowed_unchanged_runs,
  unchangedStreak: row.unchanged_streak,
  expectedAt: row.expected_at === null ? null : Number(row.expected_at),
  missingAt: row.missing_at === null ? null : Number(row.missing_at),
  lastRunAt: row.last_run_at === null ? null : Number(row.last_run_at),
  sizeBaselineBytes: row.size_baseline_bytes === null ? null : Number(row.size_baseline_bytes),
  sizeBaselineAt: row.size_baseline_at === null ? null : Number(row.size_baseline_at),
});

export function toJobColumns(patch: BackupJobSettingsPatch): Updateable<BackupJobsTable> {
  const columns: Partial<Record<keyof BackupJobsTable, unknown>> = {
    agent: patch.agent,
    database_name: patch.database,
    interval_seconds: patch.intervalSeconds,
    schedule: patch.schedule,
    tz: patch.tz,
    grace_seconds: patch.graceSeconds,
    size_anomaly_percent: patch.sizeAnomalyPercent,
    size_anomaly_floor_bytes: patch.sizeAnomalyFloorBytes,
    size_window: patch.sizeWindow,
    keep_healthy: patch.keepHealthy,
    allowed_unchanged_runs: patch.allowedUnchangedRuns,
    unchanged_streak: patch.unchangedStreak,
    expected_at: patch.expectedAt,
    missing_at: patch.missingAt,
    last_run_at: patch.lastRunAt,
    size_baseline_bytes: patch.sizeBaselineBytes,
    size_baseline_at: patch.sizeBaselineAt,
  };
  return Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== undefined)) as Updateable<BackupJobsTable>;
}

export async function findBackupJob(db: Db, tenantId: string, monitorId: string): Promise<BackupJobSettings | undefined> {
  const row = await db.selectFrom('backup_jobs').selectAll().where('tenant_id', '=', tenantId).where('monitor_id', '=', monitorId).executeTakeFirst();
  return row && toJobSettings(row);
}

export async function listBackupJobs(db: Db, tenantId: string): Promise<BackupJobSettings[]> {
  const rows = await db.selectFrom('backup_jobs').selectAll().where('tenant_id', '=', tenantId).orderBy('agent').orderBy('database_name').execute();
  return rows.map(toJobSettings);
}

/** The jobs of one agent of a tenant: what the scanner matches a STATUS.json's entries against. */
export async function listAgentJobs(db: Db, tenantId: string, agent: string): Promise<BackupJobSettings[]> {
  const rows = await db.selectFrom('backup_jobs').selectAll().where('tenant_id', '=', tenantId).where('agent', '=', agent).execute();
  return rows.map(toJobSettings);
}

export async function updateBackupJob(db: Db, tenantId: string, monitorId: string, patch: BackupJobSettingsPatch): Promise<void> {
  const columns = toJobColumns(patch);
  if (Object.keys(columns).length === 0) return;
  await db.updateTable('backup_jobs').set(columns).where('tenant_id', '=', tenantId).where('monitor_id', '=', monitorId).execute();
}
