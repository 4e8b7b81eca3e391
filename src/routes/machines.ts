/**
 * Machines (seed 000): registered by their first ingest. `GET /api/v1/machines` lists them with
 * their status (the monitor's state), last seen time, os and tags; `GET /api/v1/machines/{id}`
 * adds the latest value of each metric. A machine's id is its monitor's: pause, resume, delete
 * and alerting settings go through `/api/v1/monitors/{id}`.
 */
import { Type } from 'typebox';
import { actorOf } from '../http/access.js';
import { errorResponses, IdParams, Nullable, NullableTimestamp, pagingQuery, Timestamp, toIso, toIsoOrNull, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Machine } from '../metrics/machines.repository.js';
import type { MachineWithValues } from '../metrics/machines.service.js';
import { SERIES_TYPES } from '../metrics/series-types.js';
import { MONITOR_STATES, type MonitorState } from '../monitors/kinds.js';
import type { MachinesService } from '../metrics/machines.service.js';

const MachineFields = {
  id: Uuid,
  hostname: Type.String(),
  os: Nullable(Type.String()),
  info: Type.Record(Type.String(), Type.Unknown(), { description: "The other fields of the agent's machine object" }),
  status: Type.Enum([...MONITOR_STATES], { description: "up while metrics arrive; down after the tenant's heartbeat_threshold_minutes without any" }),
  is_active: Type.Boolean(),
  tags: Type.Array(Type.String()),
  first_seen_at: Timestamp,
  last_seen_at: Timestamp,
  state_changed_at: NullableTimestamp,
};

const MachineResponse = Type.Object(MachineFields);

const LatestValue = Type.Object({
  series_id: Type.Integer(),
  name: Type.String(),
  type: Type.Enum([...SERIES_TYPES]),
  unit: Nullable(Type.String()),
  labels: Type.Record(Type.String(), Type.String()),
  value: Nullable(Type.Union([Type.Number(), Type.Boolean(), Type.String()])),
  at: NullableTimestamp,
});

const MachineDetail = Type.Object({ ...MachineFields, metrics: Type.Array(LatestValue, { description: 'The latest value of each series, by name then labels' }) });

const ListQuery = Type.Object({
  status: Type.Optional(Type.Enum([...MONITOR_STATES])),
  tag: Type.Optional(Type.String({ maxLength: 100 })),
  search: Type.Optional(Type.String({ maxLength: 200, description: 'Case-insensitive substring of the hostname' })),
  ...pagingQuery(50),
});

const Page = Type.Object({ items: Type.Array(MachineResponse), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

const toMachineResponse = (m: Machine) => ({
  id: m.id,
  hostname: m.hostname,
  os: m.os,
  info: m.info,
  status: m.status,
  is_active: m.isActive,
  tags: m.tags,
  first_seen_at: toIso(m.firstSeenAt),
  last_seen_at: toIso(m.lastSeenAt),
  state_changed_at: toIsoOrNull(m.stateChangedAt),
});

const toDetail = (m: MachineWithValues) => ({
  ...toMachineResponse(m),
  metrics: m.metrics.map((v) => ({ series_id: v.seriesId, name: v.name, type: v.type, unit: v.unit, labels: v.labels, value: v.value, at: toIsoOrNull(v.at) })),
});

export function registerMachineRoutes(app: VigieApp, services: { readonly machines: MachinesService }): void {
  const tags = ['metrics'];

  app.get(
    '/api/v1/machines',
    {
      config: { access: 'read' },
      schema: { tags, summary: 'Machines (registered by their first ingest), filtered and paginated', querystring: ListQuery, response: { 200: Page, ...errorResponses(401, 403, 422) } },
    },
    async (request) => {
      const q = request.query;
      const page = await services.machines.list(actorOf(request).tenantId, { status: q.status as MonitorState | undefined, tag: q.tag, search: q.search, limit: q.limit, offset: q.offset });
      return { items: page.items.map(toMachineResponse), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/api/v1/machines/:id',
    {
      config: { access: 'read' },
      schema: { tags, summary: 'One machine with the latest value of each metric', params: IdParams, response: { 200: MachineDetail, ...errorResponses(401, 403, 404, 422) } },
    },
    async (request) => toDetail(await services.machines.get(actorOf(request).tenantId, request.params.id)),
  );
}
