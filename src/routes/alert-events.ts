import { Type } from 'typebox';
import { ALERT_EVENT_KINDS, SEVERITIES } from '../alerting/events.js';
import { NOTIFICATION_STATUSES, type AlertEventView, type NotificationView } from '../alerting/alert-events.service.js';
import { actorOf } from '../http/access.js';
import { errorResponses, fromIso, IdParams, Nullable, NullableTimestamp, pagingQuery, Timestamp, toIso, toIsoOrNull, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import { MONITOR_KINDS, MONITOR_STATES } from '../monitors/kinds.js';
import { CHANNEL_KINDS } from '../notify/provider.js';
import type { Services } from '../services.js';

const AttemptResponse = Type.Object({
  at: Timestamp,
  ok: Type.Boolean(),
  retryable: Type.Boolean(),
  status: Nullable(Type.Integer({ description: 'HTTP status, or SMTP reply code' })),
  detail: Type.String(),
  duration_ms: Type.Integer(),
});

const NotificationResponse = Type.Object({
  id: Uuid,
  channel_id: Uuid,
  channel_name: Type.String(),
  channel_kind: Type.Enum([...CHANNEL_KINDS]),
  status: Type.Enum([...NOTIFICATION_STATUSES], { description: 'failed: retried for 24 h, or refused for good' }),
  grouped: Type.Boolean(),
  idempotency_key: Type.String({ description: 'Flip id + channel id: the same on every retry' }),
  attempts: Type.Integer(),
  next_attempt_at: NullableTimestamp,
  first_attempt_at: NullableTimestamp,
  sent_at: NullableTimestamp,
  last_error: Nullable(Type.String()),
  created_at: Timestamp,
  event_ids: Type.Array(Uuid),
  attempt_log: Type.Optional(Type.Array(AttemptResponse)),
});

const AlertEventResponse = Type.Object({
  id: Uuid,
  kind: Type.Enum([...ALERT_EVENT_KINDS], { description: 'alert: a change of state; reminder: an incident still open' }),
  monitor_id: Uuid,
  monitor_name: Type.String(),
  monitor_kind: Type.Enum([...MONITOR_KINDS]),
  incident_id: Nullable(Uuid),
  from_state: Type.Enum([...MONITOR_STATES]),
  to_state: Type.Enum([...MONITOR_STATES]),
  severity: Type.Enum([...SEVERITIES]),
  reason: Nullable(Type.String()),
  down_for_ms: Nullable(Type.Integer()),
  at: Timestamp,
  routed_at: NullableTimestamp,
  suppressed_by: Nullable(Type.String({ description: '"silence <id>" or "maintenance <id>": why nothing was sent' })),
  notifications: Type.Array(NotificationResponse),
});

const toNotificationResponse = (n: NotificationView) => ({
  id: n.id,
  channel_id: n.channelId,
  channel_name: n.channelName,
  channel_kind: n.channelKind,
  status: n.status,
  grouped: n.grouped,
  idempotency_key: n.idempotencyKey,
  attempts: n.attempts,
  next_attempt_at: toIsoOrNull(n.nextAttemptAt),
  first_attempt_at: toIsoOrNull(n.firstAttemptAt),
  sent_at: toIsoOrNull(n.sentAt),
  last_error: n.lastError,
  created_at: toIso(n.createdAt),
  event_ids: n.eventIds,
  ...(n.attemptLog && {
    attempt_log: n.attemptLog.map((a) => ({ at: toIso(a.at), ok: a.ok, retryable: a.retryable, status: a.status, detail: a.detail, duration_ms: a.durationMs })),
  }),
});

const toEventResponse = (e: AlertEventView) => ({
  id: e.id,
  kind: e.kind,
  monitor_id: e.monitorId,
  monitor_name: e.monitorName,
  monitor_kind: e.monitorKind,
  incident_id: e.incidentId,
  from_state: e.fromState,
  to_state: e.toState,
  severity: e.severity,
  reason: e.reason,
  down_for_ms: e.downForMs,
  at: toIso(e.at),
  routed_at: toIsoOrNull(e.routedAt),
  suppressed_by: e.suppressedBy,
  notifications: e.notifications.map(toNotificationResponse),
});

const EventsQuery = Type.Object({
  monitor: Type.Optional(Type.String({ format: 'uuid' })),
  kind: Type.Optional(Type.Enum([...ALERT_EVENT_KINDS])),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only events at or after this time' })),
  before: Type.Optional(Type.String({ format: 'date-time', description: 'Only events before this time' })),
  ...pagingQuery(100),
});

const NotificationsQuery = Type.Object({
  status: Type.Optional(Type.Enum([...NOTIFICATION_STATUSES])),
  ...pagingQuery(100),
});

export function registerAlertEventRoutes(app: VigieApp, services: Services): void {
  const tags = ['alerting'];

  app.get(
    '/api/v1/alerts/events',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Alert events, newest first, with the notifications they went out in',
        querystring: EventsQuery,
        response: { 200: Type.Object({ items: Type.Array(AlertEventResponse), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }), ...errorResponses(401, 403, 422) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await services.alertEvents.list(actorOf(request).tenantId, {
        monitorId: q.monitor,
        kind: q.kind,
        since: fromIso(q.since),
        before: fromIso(q.before),
        limit: q.limit,
        offset: q.offset,
      });
      return { items: page.items.map(toEventResponse), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/api/v1/alerts/events/:id',
    {
      config: { access: 'read' },
      schema: { tags, summary: 'One alert event, with every delivery attempt of its notifications', params: IdParams, response: { 200: AlertEventResponse, ...errorResponses(401, 403, 404, 422) } },
    },
    async (request) => toEventResponse(await services.alertEvents.get(actorOf(request).tenantId, request.params.id)),
  );

  app.get(
    '/api/v1/alerts/notifications',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'The notification outbox, newest first (e.g. ?status=failed)',
        querystring: NotificationsQuery,
        response: { 200: Type.Array(NotificationResponse), ...errorResponses(401, 403, 422) },
      },
    },
    async (request) => {
      const q = request.query;
      return (await services.alertEvents.notifications(actorOf(request).tenantId, { status: q.status, limit: q.limit, offset: q.offset })).map(toNotificationResponse);
    },
  );
}
