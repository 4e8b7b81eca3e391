/**
 * The read side of alerting (seed 003's alert events): events with the notifications they went
 * out in and every attempt, and the outbox itself filtered by status (e.g. what failed for good).
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import type { MonitorKind, MonitorState } from '../monitors/kinds.js';
import type { ChannelKind } from '../notify/provider.js';
import type { AlertEventKind, Severity } from './events.js';

export const NOTIFICATION_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export interface AttemptView {
  at: number;
  ok: boolean;
  retryable: boolean;
  status: number | null;
  detail: string;
  durationMs: number;
}

export interface NotificationView {
  id: string;
  channelId: string;
  channelName: string;
  channelKind: ChannelKind;
  status: NotificationStatus;
  grouped: boolean;
  idempotencyKey: string;
  attempts: number;
  /** For pending rows: when the next attempt is due. */
  nextAttemptAt: number | null;
  firstAttemptAt: number | null;
  sentAt: number | null;
  lastError: string | null;
  createdAt: number;
  eventIds: string[];
  attemptLog?: AttemptView[];
}

export interface AlertEventView {
  id: string;
  kind: AlertEventKind;
  monitorId: string;
  monitorName: string;
  monitorKind: MonitorKind;
  incidentId: string | null;
  fromState: MonitorState;
  toState: MonitorState;
  severity: Severity;
  reason: string | null;
  downForMs: number | null;
  at: number;
  routedAt: number | null;
  suppressedBy: string | null;
  notifications: NotificationView[];
}

export interface EventFilters {
  monitorId?: string;
  kind?: string;
  since?: number;
  before?: number;
  limit: number;
  offset: number;
}

export function createAlertEventsService({ db }: { db: Db; clock: Clock }) {
  const eventQuery = (tenantId: string) =>
    db
      .selectFrom('alert_events')
      .innerJoin('monitors', 'monitors.id', 'alert_events.monitor_id')
      .where('alert_events.tenant_id', '=', tenantId)
      .selectAll('alert_events')
      .select(['monitors.name as monitor_name', 'monitors.kind as monitor_kind']);

  async function notificationsOf(tenantId: string, where: { eventIds?: string[]; notificationIds?: string[]; status?: string; limit?: number; offset?: number }, withAttempts: boolean) {
    let query = db
      .selectFrom('notifications')
      .innerJoin('channels', 'channels.id', 'notifications.channel_id')
      .where('notifications.tenant_id', '=', tenantId)
      .selectAll('notifications')
      .select(['channels.name as channel_name', 'channels.kind as channel_kind']);
    if (where.eventIds) {
      if (where.eventIds.length === 0) return [];
      const eventIds = where.eventIds;
      query = query.where((eb) =>
        eb.exists(eb.selectFrom('notification_items').select('event_id').whereRef('notification_items.notification_id', '=', 'notifications.id').where('notification_items.event_id', 'in', eventIds)),
      );
    }
    if (where.status) query = query.where('notifications.status', '=', where.status);
    query = query.orderBy('notifications.created_at', 'desc').orderBy('notifications.id');
    if (where.limit !== undefined) query = query.limit(where.limit).offset(where.offset ?? 0);
    const rows = await query.execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const items = await db.selectFrom('notification_items').select(['notification_id', 'event_id']).where('tenant_id', '=', tenantId).where('notification_id', 'in', ids).execute();
    const attempts = withAttempts
      ? await db.selectFrom('notification_attempts').selectAll().where('tenant_id', '=', tenantId).where('notification_id', 'in', ids).orderBy('at').orderBy('id').execute()
      : [];
    return rows.map((row): NotificationView => ({
      id: row.id,
      channelId: row.channel_id,
      channelName: row.channel_name,
      channelKind: row.channel_kind as ChannelKind,
      status: row.status as NotificationStatus,
      grouped: row.grouped === 1,
      idempotencyKey: row.idempotency_key,
      attempts: row.attempts,
      nextAttemptAt: row.status === 'pending' ? row.due_at : null,
      firstAttemptAt: row.first_attempt_at,
      sentAt: row.sent_at,
      lastError: row.last_error,
      createdAt: row.created_at,
      eventIds: items.filter((i) => i.notification_id === row.id).map((i) => i.event_id),
      ...(withAttempts && {
        attemptLog: attempts
          .filter((a) => a.notification_id === row.id)
          .map((a) => ({ at: a.at, ok: a.ok === 1, retryable: a.retryable === 1, status: a.status, detail: a.detail, durationMs: a.duration_ms })),
      }),
    }));
  }

  type EventRow = Awaited<ReturnType<ReturnType<typeof eventQuery>['execute']>>[number];
  const toView = (row: EventRow, notifications: NotificationView[]): AlertEventView => ({
    id: row.id,
    kind: row.kind as AlertEventKind,
    monitorId: row.monitor_id,
    monitorName: row.monitor_name,
    monitorKind: row.monitor_kind as MonitorKind,
    incidentId: row.incident_id,
    fromState: row.from_state as MonitorState,
    toState: row.to_state as MonitorState,
    severity: row.severity as Severity,
    reason: row.reason,
    downForMs: row.down_for_ms,
    at: row.at,
    routedAt: row.routed_at,
    suppressedBy: row.suppressed_by,
    notifications: notifications.filter((n) => n.eventIds.includes(row.id)),
  });

  return {
    /** Newest first. */
    async list(tenantId: string, filters: EventFilters): Promise<{ items: AlertEventView[]; total: number }> {
      let query = eventQuery(tenantId);
      if (filters.monitorId) query = query.where('alert_events.monitor_id', '=', filters.monitorId);
      if (filters.kind) query = query.where('alert_events.kind', '=', filters.kind);
      if (filters.since !== undefined) query = query.where('alert_events.at', '>=', filters.since);
      if (filters.before !== undefined) query = query.where('alert_events.at', '<', filters.before);
      const total = await query
        .clearSelect()
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const rows = await query.orderBy('alert_events.at', 'desc').orderBy('alert_events.id').limit(filters.limit).offset(filters.offset).execute();
      const notifications = await notificationsOf(tenantId, { eventIds: rows.map((r) => r.id) }, false);
      return { items: rows.map((row) => toView(row, notifications)), total: Number(total.n) };
    },

    async get(tenantId: string, eventId: string): Promise<AlertEventView> {
      const row = await eventQuery(tenantId).where('alert_events.id', '=', eventId).executeTakeFirst();
      if (!row) throw new NotFoundError('Alert event');
      return toView(row, await notificationsOf(tenantId, { eventIds: [eventId] }, true));
    },

    /** The outbox, newest first, with each row's attempts. */
    async notifications(tenantId: string, filters: { status?: NotificationStatus; limit: number; offset: number }): Promise<NotificationView[]> {
      return notificationsOf(tenantId, filters, true);
    },
  };
}

export type AlertEventsService = ReturnType<typeof createAlertEventsService>;
