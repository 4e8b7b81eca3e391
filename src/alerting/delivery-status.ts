/**
 * What the outbox's attempt records say about delivery, for the people who would otherwise not
 * know that their notifications fail: each channel's last delivery outcome (GET
 * /api/v1/channels), the tenants that have e-mail channels (a warning at start-up when no SMTP
 * relay is configured) and recent failures by channel kind (the delivery self check).
 */
import type { Db } from '../db/database.js';

export interface LastDelivery {
  status: 'sent' | 'failed';
  /** When the attempt started (ms). */
  at: number;
  /** What the provider said, for a failure; null for a success. */
  error: string | null;
}

/** The latest delivery attempt of each of the tenant's channels that had one (the test button is not an attempt). */
export async function lastDeliveries(db: Db, tenantId: string, channelId?: string): Promise<Map<string, LastDelivery>> {
  let latest = db
    .selectFrom('notification_attempts')
    .innerJoin('notifications', 'notifications.id', 'notification_attempts.notification_id')
    .select(['notifications.channel_id', (eb) => eb.fn.max('notification_attempts.id').as('attempt_id')])
    .where('notification_attempts.tenant_id', '=', tenantId)
    .where('notifications.tenant_id', '=', tenantId)
    .groupBy('notifications.channel_id');
  if (channelId !== undefined) latest = latest.where('notifications.channel_id', '=', channelId);
  const ids = (await latest.execute()).map((row) => Number(row.attempt_id));
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('notification_attempts')
    .innerJoin('notifications', 'notifications.id', 'notification_attempts.notification_id')
    .select(['notifications.channel_id', 'notification_attempts.at', 'notification_attempts.ok', 'notification_attempts.detail'])
    .where('notification_attempts.tenant_id', '=', tenantId)
    .where('notification_attempts.id', 'in', ids)
    .execute();
  return new Map(rows.map((row) => [row.channel_id, { status: row.ok ? 'sent' : 'failed', at: Number(row.at), error: row.ok ? null : row.detail }]));
}

/** Tenants that would send e-mail: an active e-mail channel, or a notification_email (the default e-mail channel). */
export async function tenantsWithEmail(db: Db): Promise<number> {
  const rows = await db
    .selectFrom('channels')
    .select('tenant_id')
    .where('kind', '=', 'email')
    .where('is_active', '=', 1)
    .union(db.selectFrom('tenant_settings').select('tenant_id').where('notification_email', 'is not', null))
    .execute();
  return rows.length;
}

export interface RecentFailures {
  /** Failed attempts since the given time, by channel kind. */
  byKind: Map<string, number>;
  /** The latest failed e-mail attempt's detail (the server's own SMTP relay), if any. */
  lastEmailError: string | null;
}

/** Failed attempts of every tenant since `since`: counts by channel kind, never a tenant's row (the self check reads it). */
export async function recentFailures(db: Db, since: number): Promise<RecentFailures> {
  const failed = db
    .selectFrom('notification_attempts')
    .innerJoin('notifications', 'notifications.id', 'notification_attempts.notification_id')
    .innerJoin('channels', 'channels.id', 'notifications.channel_id')
    .where('notification_attempts.ok', '=', 0)
    .where('notification_attempts.at', '>=', since);
  const counts = await failed
    .select(['channels.kind', (eb) => eb.fn.countAll().as('n')])
    .groupBy('channels.kind')
    .execute();
  const lastEmail = await failed.select('notification_attempts.detail').where('channels.kind', '=', 'email').orderBy('notification_attempts.id', 'desc').limit(1).executeTakeFirst();
  return { byKind: new Map(counts.map((row) => [row.kind, Number(row.n)])), lastEmailError: lastEmail?.detail ?? null };
}
