import { Type } from 'typebox';
import { activeOccurrence, nextOccurrenceStart } from '../alerting/maintenance-schedule.js';
import type { MaintenanceWindow } from '../alerting/maintenance.service.js';
import type { Clock } from '../clock.js';
import { actorOf } from '../http/access.js';
import { errorResponses, fromIso, IdParams, NoContent, Nullable, NullableTimestamp, Timestamp, toIso, toIsoOrNull, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Services } from '../services.js';

const DateTime = Type.String({ format: 'date-time' });

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  description: Nullable(Type.String({ maxLength: 2000 })),
  starts_at: Nullable({ ...DateTime, description: 'One-off: when it starts. Recurring: optional, no run before it' }),
  ends_at: Nullable({ ...DateTime, description: 'One-off: when it ends. Recurring: optional, no run from it on' }),
  cron: Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'Recurring: when each window opens, e.g. "0 2 * * SUN" (5 or 6 fields)' })),
  duration_seconds: Nullable(Type.Integer({ minimum: 60, maximum: 31 * 86_400, description: 'Recurring: how long each window lasts' })),
  timezone: Nullable(Type.String({ minLength: 1, maxLength: 64, description: "IANA zone the cron runs in; default the tenant's" })),
  monitor_ids: Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1000, description: 'Monitors in maintenance' }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50, description: 'And every monitor with one of these tags' }),
};

const MaintenanceCreate = Type.Object(
  {
    name: fields.name,
    description: Type.Optional(fields.description),
    starts_at: Type.Optional(fields.starts_at),
    ends_at: Type.Optional(fields.ends_at),
    cron: Type.Optional(fields.cron),
    duration_seconds: Type.Optional(fields.duration_seconds),
    timezone: Type.Optional(fields.timezone),
    monitor_ids: Type.Optional(fields.monitor_ids),
    tags: Type.Optional(fields.tags),
  },
  { additionalProperties: false },
);
const MaintenancePatch = Type.Partial(Type.Object(fields), { minProperties: 1, additionalProperties: false });

const MaintenanceResponse = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  starts_at: NullableTimestamp,
  ends_at: NullableTimestamp,
  cron: Nullable(Type.String()),
  duration_seconds: Nullable(Type.Integer()),
  timezone: Type.String(),
  monitor_ids: Type.Array(Uuid),
  tags: Type.Array(Type.String()),
  active: Type.Boolean({ description: 'In force now' }),
  current_ends_at: NullableTimestamp,
  next_starts_at: NullableTimestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
});

const toResponse = (w: MaintenanceWindow, now: number) => {
  const current = activeOccurrence(w, now);
  return {
    id: w.id,
    name: w.name,
    description: w.description,
    starts_at: toIsoOrNull(w.startsAt),
    ends_at: toIsoOrNull(w.endsAt),
    cron: w.cron,
    duration_seconds: w.durationSeconds,
    timezone: w.timezone,
    monitor_ids: w.monitorIds,
    tags: w.tags,
    active: current !== null,
    current_ends_at: toIsoOrNull(current?.end ?? null),
    next_starts_at: toIsoOrNull(nextOccurrenceStart(w, now)),
    created_at: toIso(w.createdAt),
    updated_at: toIso(w.updatedAt),
  };
};

export function registerMaintenanceRoutes(app: VigieApp, services: Services, clock: Clock): void {
  const tags = ['alerting'];
  const notFound = errorResponses(401, 403, 404, 422);

  app.get(
    '/api/v1/maintenance',
    { config: { access: 'read' }, schema: { tags, summary: 'Maintenance windows', response: { 200: Type.Array(MaintenanceResponse), ...errorResponses(401, 403) } } },
    async (request) => (await services.maintenance.list(actorOf(request).tenantId)).map((w) => toResponse(w, clock.now())),
  );

  app.post(
    '/api/v1/maintenance',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Plan a maintenance window: one-off (starts_at, ends_at) or recurring (cron, duration_seconds, timezone)',
        body: MaintenanceCreate,
        response: { 201: MaintenanceResponse, ...errorResponses(401, 403, 422) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const window = await services.maintenance.create(actorOf(request).tenantId, {
        name: b.name.trim(),
        description: b.description ?? null,
        startsAt: fromIso(b.starts_at) ?? null,
        endsAt: fromIso(b.ends_at) ?? null,
        cron: b.cron ?? null,
        durationSeconds: b.duration_seconds ?? null,
        timezone: b.timezone ?? null,
        monitorIds: b.monitor_ids ?? [],
        tags: b.tags ?? [],
      });
      // Put the monitors in maintenance now rather than at the next sweep.
      await services.maintenance.sweep();
      return reply.status(201).send(toResponse(window, clock.now()));
    },
  );

  app.get(
    '/api/v1/maintenance/:id',
    { config: { access: 'read' }, schema: { tags, summary: 'One maintenance window', params: IdParams, response: { 200: MaintenanceResponse, ...notFound } } },
    async (request) => toResponse(await services.maintenance.get(actorOf(request).tenantId, request.params.id), clock.now()),
  );

  app.patch(
    '/api/v1/maintenance/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Change a maintenance window', params: IdParams, body: MaintenancePatch, response: { 200: MaintenanceResponse, ...notFound } } },
    async (request) => {
      const b = request.body;
      const window = await services.maintenance.update(actorOf(request).tenantId, request.params.id, {
        name: b.name?.trim(),
        description: b.description,
        startsAt: fromIso(b.starts_at),
        endsAt: fromIso(b.ends_at),
        cron: b.cron,
        durationSeconds: b.duration_seconds,
        timezone: b.timezone,
        monitorIds: b.monitor_ids,
        tags: b.tags,
      });
      await services.maintenance.sweep();
      return toResponse(window, clock.now());
    },
  );

  app.delete(
    '/api/v1/maintenance/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete a maintenance window (its monitors leave maintenance)', params: IdParams, response: { 204: NoContent, ...notFound } } },
    async (request, reply) => {
      await services.maintenance.remove(actorOf(request).tenantId, request.params.id);
      await services.maintenance.sweep();
      return reply.status(204).send(null);
    },
  );
}
