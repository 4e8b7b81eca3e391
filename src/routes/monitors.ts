import { Type } from 'typebox';
import { actorOf } from '../http/access.js';
import { errorResponses, fromIso, IdParams, NoContent, Nullable, NullableTimestamp, pagingQuery, Timestamp, toIso, toIsoOrNull, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import { MONITOR_KINDS, MONITOR_STATES, RESULT_STATUSES, type MonitorKind, type MonitorState } from '../monitors/kinds.js';
import type { Monitor } from '../monitors/monitors.repository.js';
import type { ResultRow } from '../monitors/monitors.service.js';
import type { UptimeFigures } from '../monitors/uptime.js';
import type { Services } from '../services.js';

export const MonitorResponse = Type.Object({
  id: Uuid,
  kind: Type.Enum([...MONITOR_KINDS]),
  name: Type.String(),
  tags: Type.Array(Type.String()),
  is_active: Type.Boolean(),
  state: Type.Enum([...MONITOR_STATES]),
  consecutive_failures: Type.Integer(),
  consecutive_successes: Type.Integer(),
  failure_threshold: Nullable(Type.Integer({ description: "Null: the tenant's consecutive_failures_threshold applies" })),
  recovery_threshold: Type.Integer(),
  interval_seconds: Nullable(Type.Integer()),
  last_checked_at: NullableTimestamp,
  next_due_at: NullableTimestamp,
  state_changed_at: NullableTimestamp,
  channel_ids: Nullable(Type.Array(Uuid, { description: 'Channels its alerts go to; null: every channel of the tenant' })),
  repeat_interval_seconds: Nullable(Type.Integer({ description: "Reminder interval while an incident is open; null: the tenant's; 0: none" })),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const AlertingPatch = Type.Object(
  {
    channel_ids: Type.Optional(Nullable(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100, uniqueItems: true, description: 'null: every channel of the tenant; []: none' }))),
    repeat_interval_seconds: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 604_800, description: "null: the tenant's repeat_interval_seconds; 0: no reminders" }))),
  },
  { minProperties: 1, additionalProperties: false },
);

export function toMonitorResponse(m: Monitor) {
  return {
    id: m.id,
    kind: m.kind,
    name: m.name,
    tags: m.tags,
    is_active: m.isActive,
    state: m.state,
    consecutive_failures: m.consecutiveFailures,
    consecutive_successes: m.consecutiveSuccesses,
    failure_threshold: m.failureThreshold,
    recovery_threshold: m.recoveryThreshold,
    interval_seconds: m.intervalSeconds,
    last_checked_at: toIsoOrNull(m.lastCheckedAt),
    next_due_at: toIsoOrNull(m.nextDueAt),
    state_changed_at: toIsoOrNull(m.stateChangedAt),
    channel_ids: m.channelIds,
    repeat_interval_seconds: m.repeatIntervalSeconds,
    created_at: toIso(m.createdAt),
    updated_at: toIso(m.updatedAt),
  };
}

export const ResultResponse = Type.Object({
  at: Timestamp,
  status: Type.Enum([...RESULT_STATUSES]),
  latency_ms: Nullable(Type.Integer()),
  value: Nullable(Type.Number()),
  message: Nullable(Type.String()),
  source: Type.Optional(Type.String({ description: 'What recorded it: check, ping, ingest, sweep, liveness, evaluation' })),
});

export const toResultResponse = (r: Pick<ResultRow, 'at' | 'status' | 'latencyMs' | 'value' | 'message'> & { source?: string }) => ({
  at: toIso(r.at),
  status: r.status as (typeof RESULT_STATUSES)[number],
  latency_ms: r.latencyMs,
  value: r.value,
  message: r.message,
  ...(r.source !== undefined && { source: r.source }),
});

const ListQuery = Type.Object({
  kind: Type.Optional(Type.Enum([...MONITOR_KINDS])),
  state: Type.Optional(Type.Enum([...MONITOR_STATES])),
  tag: Type.Optional(Type.String({ maxLength: 100 })),
  search: Type.Optional(Type.String({ maxLength: 200, description: 'Case-insensitive substring of the name' })),
  ...pagingQuery(50),
});

const Page = Type.Object({ items: Type.Array(MonitorResponse), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

const UptimeFiguresSchema = Type.Object({
  checks: Type.Integer(),
  up: Type.Integer(),
  uptime_percent: Nullable(Type.Number()),
  avg_latency_ms: Nullable(Type.Integer()),
});
const UptimeResponse = Type.Object({ '24h': UptimeFiguresSchema, '7d': UptimeFiguresSchema, '30d': UptimeFiguresSchema, '1y': UptimeFiguresSchema });

const ResultsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  before: Type.Optional(Type.String({ format: 'date-time', description: 'Only results before this time (paging backwards)' })),
});

export function registerMonitorRoutes(app: VigieApp, services: Services): void {
  const tags = ['monitors'];
  const notFound = errorResponses(401, 403, 404, 422);

  app.get(
    '/api/v1/monitors',
    { config: { access: 'read' }, schema: { tags, summary: 'Monitors of every kind, filtered and paginated', querystring: ListQuery, response: { 200: Page, ...errorResponses(401, 403, 422) } } },
    async (request) => {
      const q = request.query;
      const page = await services.monitors.list(actorOf(request).tenantId, {
        kind: q.kind as MonitorKind | undefined,
        state: q.state as MonitorState | undefined,
        tag: q.tag,
        search: q.search,
        limit: q.limit,
        offset: q.offset,
      });
      return { items: page.items.map(toMonitorResponse), total: page.total, limit: q.limit, offset: q.offset };
    },
  );

  app.get('/api/v1/monitors/:id', { config: { access: 'read' }, schema: { tags, summary: 'One monitor', params: IdParams, response: { 200: MonitorResponse, ...notFound } } }, async (request) =>
    toMonitorResponse(await services.monitors.get(actorOf(request).tenantId, request.params.id)),
  );

  app.get(
    '/api/v1/monitors/:id/results',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: "What the monitor's kind recorded (checks, pings, ingests, verdicts), newest first",
        params: IdParams,
        querystring: ResultsQuery,
        response: { 200: Type.Array(ResultResponse), ...notFound },
      },
    },
    async (request) => {
      const before = fromIso(request.query.before);
      const rows = await services.monitors.results(actorOf(request).tenantId, request.params.id, { limit: request.query.limit, before });
      return rows.map(toResultResponse);
    },
  );

  app.get(
    '/api/v1/monitors/:id/uptime',
    { config: { access: 'read' }, schema: { tags, summary: 'Uptime over 24 h, 7 d, 30 d and 1 y, from rollups', params: IdParams, response: { 200: UptimeResponse, ...notFound } } },
    async (request) => {
      const figures = await services.monitors.uptime(actorOf(request).tenantId, request.params.id);
      const toResponse = (f: UptimeFigures) => ({ checks: f.checks, up: f.up, uptime_percent: f.uptimePercent, avg_latency_ms: f.avgLatencyMs });
      return { '24h': toResponse(figures['24h']), '7d': toResponse(figures['7d']), '30d': toResponse(figures['30d']), '1y': toResponse(figures['1y']) };
    },
  );

  app.delete(
    '/api/v1/monitors/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete a monitor of any kind, with its settings and history', params: IdParams, response: { 204: NoContent, ...notFound } } },
    async (request, reply) => {
      await services.monitors.remove(actorOf(request).tenantId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.patch(
    '/api/v1/monitors/:id',
    {
      config: { access: 'write' },
      schema: { tags, summary: "A monitor's alerting: its channels and reminder interval", params: IdParams, body: AlertingPatch, response: { 200: MonitorResponse, ...notFound } },
    },
    async (request) => {
      const body = request.body;
      const monitor = await services.monitors.updateAlerting(actorOf(request).tenantId, request.params.id, {
        channelIds: body.channel_ids,
        repeatIntervalSeconds: body.repeat_interval_seconds,
      });
      return toMonitorResponse(monitor);
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/v1/monitors/:id/${action}`,
      {
        config: { access: 'write' },
        schema: { tags, summary: action === 'pause' ? 'Pause a monitor: no checks, no alerts' : 'Resume a paused monitor', params: IdParams, response: { 200: MonitorResponse, ...notFound } },
      },
      async (request) => toMonitorResponse(await services.monitors[action](actorOf(request).tenantId, request.params.id)),
    );
  }
}
