import { randomUUID } from 'node:crypto';
import { newPingKey } from '../heartbeats/ping-key.js';
import { syncDefaultEmailChannel } from '../alerting/channels.repository.js';
import type { Db } from '../db/database.js';

export interface Tenant {
  id: string;
  name: string;
  createdAt: number;
}

export interface TenantSettings {
  notificationEmail: string | null;
  heartbeatThresholdMinutes: number;
  consecutiveFailuresThreshold: number;
  alertGroupingEnabled: boolean;
  timezone: string;
  groupWaitSeconds: number;
  groupIntervalSeconds: number;
  repeatIntervalSeconds: number;
}

type SettingsRow = {
  notification_email: string | null;
  heartbeat_threshold_minutes: number;
  consecutive_failures_threshold: number;
  alert_grouping_enabled: number;
  timezone: string;
  group_wait_seconds: number;
  group_interval_seconds: number;
  repeat_interval_seconds: number;
};

const toTenant = (row: { id: string; name: string; created_at: number }): Tenant => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
});

const toSettings = (row: SettingsRow): TenantSettings => ({
  notificationEmail: row.notification_email,
  heartbeatThresholdMinutes: row.heartbeat_threshold_minutes,
  consecutiveFailuresThreshold: row.consecutive_failures_threshold,
  alertGroupingEnabled: row.alert_grouping_enabled === 1,
  timezone: row.timezone,
  groupWaitSeconds: row.group_wait_seconds,
  groupIntervalSeconds: row.group_interval_seconds,
  repeatIntervalSeconds: row.repeat_interval_seconds,
});

/** Inserts the tenant and its settings row (column defaults unless given). Run inside a transaction. */
export async function insertTenant(db: Db, tenant: Tenant, settings: Partial<TenantSettings> = {}): Promise<void> {
  await db.insertInto('tenants').values({ id: tenant.id, name: tenant.name, created_at: tenant.createdAt }).execute();
  await db
    .insertInto('tenant_settings')
    .values({ tenant_id: tenant.id, notification_email: null, updated_at: tenant.createdAt, ping_key: newPingKey(), ...settingsColumns(settings) })
    .execute();
  if (settings.notificationEmail) await syncDefaultEmailChannel(db, tenant.id, settings.notificationEmail, tenant.createdAt, randomUUID);
}

export async function findTenant(db: Db, tenantId: string): Promise<Tenant | undefined> {
  const row = await db.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirst();
  return row && toTenant(row);
}

/** Superuser-only listing: the one read that spans tenants, by design. */
export async function listAllTenants(db: Db): Promise<Tenant[]> {
  const rows = await db.selectFrom('tenants').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toTenant);
}

export async function countTenants(db: Db): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findSettings(db: Db, tenantId: string): Promise<TenantSettings | undefined> {
  const row = await db
    .selectFrom('tenant_settings')
    .select([
      'notification_email',
      'heartbeat_threshold_minutes',
      'consecutive_failures_threshold',
      'alert_grouping_enabled',
      'timezone',
      'group_wait_seconds',
      'group_interval_seconds',
      'repeat_interval_seconds',
    ])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row && toSettings(row);
}

/** Run inside a transaction: a new notification_email also readdresses the default e-mail channel. */
export async function updateSettings(db: Db, tenantId: string, patch: Partial<TenantSettings>, now: number): Promise<void> {
  await db
    .updateTable('tenant_settings')
    .set({ ...settingsColumns(patch), updated_at: now })
    .where('tenant_id', '=', tenantId)
    .execute();
  if (patch.notificationEmail !== undefined) await syncDefaultEmailChannel(db, tenantId, patch.notificationEmail, now, randomUUID);
}

function settingsColumns(settings: Partial<TenantSettings>): Partial<SettingsRow> {
  const columns: Partial<SettingsRow> = {};
  if (settings.notificationEmail !== undefined) columns.notification_email = settings.notificationEmail;
  if (settings.heartbeatThresholdMinutes !== undefined) columns.heartbeat_threshold_minutes = settings.heartbeatThresholdMinutes;
  if (settings.consecutiveFailuresThreshold !== undefined) columns.consecutive_failures_threshold = settings.consecutiveFailuresThreshold;
  if (settings.alertGroupingEnabled !== undefined) columns.alert_grouping_enabled = settings.alertGroupingEnabled ? 1 : 0;
  if (settings.timezone !== undefined) columns.timezone = settings.timezone;
  if (settings.groupWaitSeconds !== undefined) columns.group_wait_seconds = settings.groupWaitSeconds;
  if (settings.groupIntervalSeconds !== undefined) columns.group_interval_seconds = settings.groupIntervalSeconds;
  if (settings.repeatIntervalSeconds !== undefined) columns.repeat_interval_seconds = settings.repeatIntervalSeconds;
  return columns;
}
