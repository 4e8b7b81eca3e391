/**
 * /api/v1/backup-jobs (management) and seed 001's read routes (/api/jobs, /api/jobs/{id}/history),
 * plus the STATUS.json schema agents write against. Thin: validate, call the jobs service, shape.
 */
import { Type, type Static } from 'typebox';
import { actorOf } from '../../http/access.js';
import { errorResponses, IdParams, NoContent, Nullable, Timestamp, Uuid, fromIso, pagingQuery } from '../../http/schemas.js';
import type { VigieApp } from '../../http/types.js';
import type { KindRouteDeps } from '../contract.js';
import type { BackupJob, BackupJobInput, BackupJobsService } from './jobs.service.js';
import { BACKUP_DEFAULTS } from './jobs.service.js';
import { agentRoot, depositPath } from './paths.js';
import { JobResponse, RunResponse, toJobResponse, toRunResponse } from './responses.js';
import { canonicalStatus, READABLE_STATUSES } from './statuses.js';
import { statusJsonSchema } from './status-report.js';
import { zonesOf } from './zones.js';

// No `default` keywords: these fields also validate PATCH bodies (the service applies BACKUP_DEFAULTS).
const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  agent: Type.String({ minLength: 1, maxLength: 128, description: 'A directory name: letters, digits, dot, dash, underscore' }),
  database: Type.String({ minLength: 1, maxLength: 200 }),
  interval_seconds: Nullable(
    Type.Integer({ minimum: 60, maximum: 366 * 86_400, description: `A run expected every so many seconds (default ${BACKUP_DEFAULTS.intervalSeconds}); ignored when schedule is set` }),
  ),
  schedule: Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'Cron expression of the expected runs, in tz' })),
  tz: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of schedule (default UTC)' }),
  grace_seconds: Type.Integer({ minimum: 0, maximum: 7 * 86_400, description: `MISSING after the expected time plus this (default ${BACKUP_DEFAULTS.graceSeconds})` }),
  size_anomaly_percent: Type.Integer({ minimum: 1, maximum: 10_000, description: `default ${BACKUP_DEFAULTS.sizeAnomalyPercent}` }),
  size_anomaly_floor_bytes: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: `default ${BACKUP_DEFAULTS.sizeAnomalyFloorBytes}` }),
  size_window: Type.Integer({ minimum: 1, maximum: 100, description: `Healthy runs whose median size is compared (default ${BACKUP_DEFAULTS.sizeWindow})` }),
  keep_healthy: Type.Integer({ minimum: 1, maximum: 100, description: 'Healthy copies kept in the validated zone (default 1)' }),
  allowed_unchanged_runs: Type.Integer({ minimum: 0, maximum: 1000, description: 'UNCHANGED runs in a row that stay up (default 0)' }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 }),
  channel_ids: Nullable(Type.Array(Uuid, { maxItems: 100, description: 'Channels alerted; null or absent: every channel of the tenant' })),
  failure_threshold: Nullable(Type.Integer({ minimum: 1, maximum: 100, description: 'Failed runs in a row before the job is down (default 1)' })),
  is_active: Type.Boolean(),
};

const CreateBody = Type.Object(
  {
    name: fields.name,
    agent: fields.agent,
    database: fields.database,
    interval_seconds: Type.Optional(fields.interval_seconds),
    schedule: Type.Optional(fields.schedule),
    tz: Type.Optional(fields.tz),
    grace_seconds: Type.Optional(fields.grace_seconds),
    size_anomaly_percent: Type.Optional(fields.size_anomaly_percent),
    size_anomaly_floor_bytes: Type.Optional(fields.size_anomaly_floor_bytes),
    size_window: Type.Optional(fields.size_window),
    keep_healthy: Type.Optional(fields.keep_healthy),
    allowed_unchanged_runs: Type.Optional(fields.allowed_unchanged_runs),
    tags: Type.Optional(fields.tags),
    channel_ids: Type.Optional(fields.channel_ids),
    failure_threshold: Type.Optional(fields.failure_threshold),
    is_active: Type.Optional(fields.is_active),
  },
  { additionalProperties: false },
);
const PatchBody = Type.Partial(Type.Object(fields), { minProperties: 1, additionalProperties: false });

const RunsQuery = Type.Object(
  {
    status: Type.Optional(Type.Array(Type.Enum([...READABLE_STATUSES]), { description: 'One or more statuses (HASH_MISMATCH is read as UNCHANGED)' })),
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    ...pagingQuery(50),
  },
  { additionalProperties: false },
);
const RunsPage = Type.Object({ items: Type.Array(RunResponse), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

function toInput(body: Partial<Static<typeof PatchBody>>): Partial<BackupJobInput> {
  return {
    name: body.name,
    agent: body.agent,
    database: body.database,
    intervalSeconds: body.interval_seconds,
    schedule: body.schedule,
    tz: body.tz,
    graceSeconds: body.grace_seconds,
    sizeAnomalyPercent: body.size_anomaly_percent,
    sizeAnomalyFloorBytes: body.size_anomaly_floor_bytes,
    sizeWindow: body.size_window,
    keepHealthy: body.keep_healthy,
    allowedUnchangedRuns: body.allowed_unchanged_runs,
    tags: body.tags,
    channelIds: body.channel_ids,
    failureThreshold: body.failure_threshold,
    isActive: body.is_active,
  };
}

export function registerBackupRoutes(app: VigieApp, own: { backupJobs: BackupJobsService }, deps: KindRouteDeps): void {
  const jobs = own.backupJobs;
  const zones = zonesOf(deps.config);
  const show = (job: BackupJob) => toJobResponse(job, { depositPath: depositPath(zones, job.tenantId, job.agent, job.monitorId), agentRoot: agentRoot(zones, job.tenantId, job.agent) });
  const tags = ['backups'];
  const byId = errorResponses(401, 403, 404, 422);

  app.post(
    '/api/v1/backup-jobs',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Create a backup job (seed 001); the answer names its deposit_path', body: CreateBody, response: { 201: JobResponse, ...errorResponses(401, 403, 422) } },
    },
    async (request, reply) => reply.status(201).send(show(await jobs.create(actorOf(request).tenantId, toInput(request.body) as BackupJobInput))),
  );
  app.get(
    '/api/v1/backup-jobs',
    { config: { access: 'read' }, schema: { tags, summary: "The tenant's backup jobs", response: { 200: Type.Array(JobResponse), ...errorResponses(401, 403) } } },
    async (request) => (await jobs.list(actorOf(request).tenantId)).map(show),
  );
  app.get('/api/v1/backup-jobs/:id', { config: { access: 'read' }, schema: { tags, summary: 'One backup job', params: IdParams, response: { 200: JobResponse, ...byId } } }, async (request) =>
    show(await jobs.get(actorOf(request).tenantId, request.params.id)),
  );
  app.patch(
    '/api/v1/backup-jobs/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Change some of a backup job', params: IdParams, body: PatchBody, response: { 200: JobResponse, ...byId } } },
    async (request) => show(await jobs.update(actorOf(request).tenantId, request.params.id, toInput(request.body))),
  );
  app.delete(
    '/api/v1/backup-jobs/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete a backup job and its history (files already promoted stay on disk)', params: IdParams, response: { 204: NoContent, ...byId } } },
    async (request, reply) => {
      await jobs.remove(actorOf(request).tenantId, request.params.id);
      return reply.status(204).send(null);
    },
  );
  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/v1/backup-jobs/:id/${action}`,
      {
        config: { access: 'write' },
        schema: { tags, summary: action === 'pause' ? 'Pause: no MISSING, runs not counted' : 'Resume: the next run is expected from now', params: IdParams, response: { 200: JobResponse, ...byId } },
      },
      async (request) => {
        const tenantId = actorOf(request).tenantId;
        await jobs[action](tenantId, request.params.id);
        return show(await jobs.get(tenantId, request.params.id));
      },
    );
  }

  app.post(
    '/api/v1/backup-jobs/:id/accept-size',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: "Accept the size of the job's latest run, a SIZE_ANOMALY, as the new baseline: later runs are compared with it, and the job is up again (409 if the latest run is not a SIZE_ANOMALY)",
        params: IdParams,
        response: { 200: JobResponse, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) => show(await jobs.acceptSize(actorOf(request).tenantId, request.params.id)),
  );

  const listRuns = async (tenantId: string, id: string, query: Static<typeof RunsQuery>) => {
    const page = await jobs.runs(tenantId, id, { statuses: query.status?.map(canonicalStatus), from: fromIso(query.from), to: fromIso(query.to), limit: query.limit, offset: query.offset });
    return { items: page.items.map(toRunResponse), total: page.total, limit: query.limit, offset: query.offset };
  };
  app.get(
    '/api/v1/backup-jobs/:id/runs',
    {
      config: { access: 'read' },
      schema: { tags, summary: "A job's runs, newest first, filtered by status and time received", params: IdParams, querystring: RunsQuery, response: { 200: RunsPage, ...byId } },
    },
    async (request) => listRuns(actorOf(request).tenantId, request.params.id, request.query),
  );

  // Seed 001's routes: the expected jobs and a job's history.
  app.get(
    '/api/jobs',
    { config: { access: 'read' }, schema: { tags, summary: 'Expected backup jobs (seed 001)', response: { 200: Type.Array(JobResponse), ...errorResponses(401, 403) } } },
    async (request) => (await jobs.list(actorOf(request).tenantId)).map(show),
  );
  app.get(
    '/api/jobs/:job_id/history',
    {
      config: { access: 'read' },
      schema: { tags, summary: "A backup job's history of runs (seed 001)", params: Type.Object({ job_id: Uuid }), querystring: RunsQuery, response: { 200: RunsPage, ...byId } },
    },
    async (request) => listRuns(actorOf(request).tenantId, request.params.job_id, request.query),
  );

  const schema = statusJsonSchema();
  app.get(
    '/api/v1/backups/status-schema',
    {
      config: { access: 'public' },
      schema: { tags, summary: "The JSON schema of an agent's STATUS.json (also schemas/status.schema.json)", response: { 200: Type.Object({}, { additionalProperties: true }) } },
    },
    async () => schema,
  );
}
