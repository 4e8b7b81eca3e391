import { Type } from 'typebox';
import { actorOf } from '../http/access.js';
import { errorResponses, fromIso, IdParams, Nullable, NullableTimestamp, pagingQuery, Timestamp, toIso, toIsoOrNull, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Incident } from '../monitors/incidents.service.js';
import { INCIDENT_STATES, MONITOR_KINDS, type IncidentState, type MonitorKind } from '../monitors/kinds.js';
import type { Services } from '../services.js';

const IncidentResponse = Type.Object({
  id: Uuid,
  monitor_id: Uuid,
  monitor_name: Type.String(),
  monitor_kind: Type.Enum([...MONITOR_KINDS]),
  severity: Type.String({ description: 'down or warning' }),
  state: Type.Enum([...INCIDENT_STATES]),
  reason: Nullable(Type.String()),
  opened_at: Timestamp,
  resolved_at: NullableTimestamp,
  acknowledged_at: NullableTimestamp,
  acknowledged_by: Nullable(Type.String()),
});

const toResponse = (i: Incident) => ({
  id: i.id,
  monitor_id: i.monitorId,
  monitor_name: i.monitorName,
  monitor_kind: i.monitorKind,
  severity: i.severity,
  state: i.state,
  reason: i.reason,
  opened_at: toIso(i.openedAt),
  resolved_at: toIsoOrNull(i.resolvedAt),
  acknowledged_at: toIsoOrNull(i.acknowledgedAt),
  acknowledged_by: i.acknowledgedBy,
});

const ListQuery = Type.Object({
  state: Type.Optional(Type.Enum([...INCIDENT_STATES])),
  monitor: Type.Optional(Type.String({ format: 'uuid' })),
  kind: Type.Optional(Type.Enum([...MONITOR_KINDS])),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only incidents opened at or after this time' })),
  ...pagingQuery(100),
});

export function registerIncidentRoutes(app: VigieApp, services: Services): void {
  const tags = ['incidents'];

  app.get(
    '/api/v1/incidents',
    { config: { access: 'read' }, schema: { tags, summary: 'Incidents, newest first', querystring: ListQuery, response: { 200: Type.Array(IncidentResponse), ...errorResponses(401, 403, 422) } } },
    async (request) => {
      const q = request.query;
      const incidents = await services.incidents.list(actorOf(request).tenantId, {
        state: q.state as IncidentState | undefined,
        monitorId: q.monitor,
        kind: q.kind as MonitorKind | undefined,
        since: fromIso(q.since),
        limit: q.limit,
        offset: q.offset,
      });
      return incidents.map(toResponse);
    },
  );

  app.get(
    '/api/v1/incidents/:id',
    { config: { access: 'read' }, schema: { tags, summary: 'One incident', params: IdParams, response: { 200: IncidentResponse, ...errorResponses(401, 403, 404, 422) } } },
    async (request) => toResponse(await services.incidents.get(actorOf(request).tenantId, request.params.id)),
  );

  app.post(
    '/api/v1/incidents/:id/ack',
    { config: { access: 'write' }, schema: { tags, summary: 'Acknowledge an incident', params: IdParams, response: { 200: IncidentResponse, ...errorResponses(401, 403, 404, 422) } } },
    async (request) => {
      const actor = actorOf(request);
      const by = actor.kind === 'user' ? `user:${actor.userId}` : `api_key:${actor.apiKeyId}`;
      return toResponse(await services.incidents.acknowledge(actor.tenantId, request.params.id, by));
    },
  );
}
