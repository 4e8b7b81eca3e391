/**
 * Seed 002's `/api/monitoring/*` routes: Vigie's self-monitoring (its own parts, checked on
 * demand or read from its self checks) and the dashboard over a tenant's watched checks
 * (heartbeat checks and, for the operator's tenant, self checks). Thin: the work is in
 * self-monitoring/.
 *
 * `check/{service}` and `check/all` answer 200 whatever the part's state: the request worked
 * and its body says whether the part is up; a load balancer should probe
 * /api/v1/health/readiness, which answers 503.
 */
import { Type } from 'typebox';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ReadinessProbe } from '../health/probes.js';
import { actorOf } from '../http/access.js';
import { errorResponses, IdParams, Nullable, NullableTimestamp, Timestamp, toIso, toIsoOrNull, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import { MONITOR_STATES, RESULT_STATUSES } from '../monitors/kinds.js';
import type { Actor } from '../auth/actor.js';
import type { ServiceReading, Viewer } from '../self-monitoring/self-monitoring.service.js';
import { SELF_SERVICES, SERVICE_ALIASES } from '../self-monitoring/self-services.js';
import { kindList } from '../kinds/registry.js';
import { RECENT_FAILURES_LIMIT, WATCHED_CHECK_STATUSES, type WatchedCheck } from '../self-monitoring/watched-checks.js';
import type { Services } from '../services.js';

const ResultStatus = Type.Enum([...RESULT_STATUSES]);
const WatchedStatus = Type.Enum([...WATCHED_CHECK_STATUSES]);
const WorstStatus = Type.Enum([...RESULT_STATUSES], { description: 'The worst status of the services' });

const Health = Type.Object({
  status: Type.Literal('ok'),
  service: Type.Literal('vigie'),
  timestamp: Timestamp,
});

const Reading = Type.Object({
  service: Type.Enum([...SELF_SERVICES]),
  status: ResultStatus,
  latency_ms: Type.Integer({ description: 'How long the check took' }),
  message: Type.String({ description: "What the check found; details only for the operator's tenant" }),
  checked_at: Timestamp,
});

const AllReadings = Type.Object({
  status: WorstStatus,
  services: Type.Array(Reading),
});

const ServiceParams = Type.Object({
  service: Type.String({ maxLength: 64, description: `One of ${SELF_SERVICES.join(', ')}; also ${Object.keys(SERVICE_ALIASES).join(', ')} for the database` }),
});

const SelfCheckStatus = Type.Object({
  service: Type.Enum([...SELF_SERVICES]),
  check_id: Uuid,
  name: Type.String(),
  state: Type.Enum([...MONITOR_STATES]),
  interval_seconds: Nullable(Type.Integer()),
  last_checked_at: NullableTimestamp,
  message: Nullable(Type.String({ description: 'The message of its latest result' })),
});

const Status = Type.Object({
  self_monitoring: Type.Object({
    operator: Type.Boolean({ description: "Whether the caller is Vigie's operator: a superuser, or a user or key of the operator's tenant, which owns the self checks" }),
    status: Nullable(ResultStatus),
    message: Type.String(),
    services: Type.Array(SelfCheckStatus),
  }),
  checks: Type.Object({
    total: Type.Integer(),
    by_status: Type.Record(Type.String(), Type.Integer(), { description: `Watched checks per status: ${WATCHED_CHECK_STATUSES.join(', ')}` }),
  }),
  generated_at: Timestamp,
});

const Check = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: Type.Enum(kindList().flatMap((k) => (k.watched ? [k.kind] : []))),
  status: Type.Enum([...WATCHED_CHECK_STATUSES], { description: "A heartbeat check's Healthchecks status; a self check's monitor state" }),
  last_ping: Nullable(Type.String({ format: 'date-time', description: "A heartbeat's last ping; a self check's last run (ISO 8601, UTC)" })),
  tags: Type.Array(Type.String()),
});

const Checks = Type.Object({ checks: Type.Array(Check) });

const DASHBOARD_DESCRIPTION =
  "Seed 002's dashboard figures over the same checks as GET /api/monitoring/checks. Every check is in exactly one bucket of summary (they add up to total_checks): " +
  'healthy = up or running (started); warning = late (grace) or degraded (warning); down; paused = paused or in a maintenance window; pending = never reported (new, pending). ' +
  'health_percentage = healthy / (healthy + warning + down) × 100, rounded to one decimal: the share of the checks that report that are up (pending and paused checks neither lower nor raise it); null when no check reports. ' +
  `recent_failures = checks down, late (grace) or degraded (warning), the most recent failure first, at most ${RECENT_FAILURES_LIMIT}; last_ping is ISO 8601 or null.`;

const Dashboard = Type.Object(
  {
    health_percentage: Nullable(Type.Number({ description: 'healthy / (healthy + warning + down) × 100, rounded to one decimal; null when no check reports' })),
    summary: Type.Object({
      total_checks: Type.Integer({ description: 'Heartbeat checks, plus self checks for the operator’s tenant: the sum of the five buckets' }),
      healthy: Type.Integer({ description: 'Checks up, or running a started job' }),
      warning: Type.Integer({ description: 'Checks late (a heartbeat in its grace period) or degraded (a self check in warning)' }),
      down: Type.Integer({ description: 'Checks whose status is down' }),
      paused: Type.Integer({ description: 'Checks nobody watches now: paused, or in a maintenance window' }),
      pending: Type.Integer({ description: 'Checks never heard from: a new heartbeat, a self check not run yet' }),
    }),
    recent_failures: Type.Array(Type.Object({ name: Type.String(), last_ping: NullableTimestamp, status: WatchedStatus }), {
      description: `Checks failing now (down, grace: late, warning: degraded), the most recent failure first, at most ${RECENT_FAILURES_LIMIT}`,
    }),
  },
  { description: DASHBOARD_DESCRIPTION },
);

/** Who reads self-monitoring: a superuser is Vigie's operator, whichever tenant holds the self checks. */
const viewerOf = (actor: Actor): Viewer => ({ tenantId: actor.tenantId, superuser: actor.permissions.has('superuser') });

const toReading = (r: ServiceReading) => ({ service: r.service, status: r.status, latency_ms: r.latencyMs, message: r.message, checked_at: toIso(r.checkedAt) });

const toCheck = (c: WatchedCheck) => ({ id: c.id, name: c.name, kind: c.kind, status: c.status, last_ping: toIsoOrNull(c.lastPingAt), tags: c.tags });

export function registerMonitoringRoutes(app: VigieApp, services: Services, options: { config: Config; probes: readonly ReadinessProbe[]; clock: Clock }): void {
  const tags = ['monitoring'];
  const { clock } = options;
  // The self probes of the database and Redis are this app's readiness probes.
  services.selfMonitoring.configure({ readiness: options.probes, operatorTenant: options.config.selfMonitoringTenant, emailRelayConfigured: options.config.smtpHost !== undefined });

  app.get(
    '/api/monitoring/health',
    { config: { access: 'public' }, schema: { tags, summary: 'Liveness (seed 002): the process answers; says nothing of its parts', response: { 200: Health } } },
    async () => ({ status: 'ok' as const, service: 'vigie' as const, timestamp: toIso(clock.now()) }),
  );

  app.get(
    '/api/monitoring/status',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Self-monitoring's checks (operator's tenant) and the tenant's watched checks per status",
        response: { 200: Status, ...errorResponses(401, 403) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const tenantId = actor.tenantId;
      const [self, counts] = await Promise.all([services.selfMonitoring.status(viewerOf(actor)), services.watchedChecks.countsByStatus(tenantId)]);
      return {
        self_monitoring: {
          operator: self.operator,
          status: self.status,
          message: self.message,
          services: self.services.map((s) => ({
            service: s.service,
            check_id: s.checkId,
            name: s.name,
            state: s.state,
            interval_seconds: s.intervalSeconds,
            last_checked_at: toIsoOrNull(s.lastCheckedAt),
            message: s.message,
          })),
        },
        checks: { total: Object.values(counts).reduce((a, b) => a + b, 0), by_status: counts },
        generated_at: toIso(clock.now()),
      };
    },
  );

  // A static segment wins over a parameter in Fastify's router, whatever the order: `check/all`
  // never reaches `check/:service`.
  app.get(
    '/api/monitoring/check/all',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Runs every self probe this process can run, now; 200 even when one is down', response: { 200: AllReadings, ...errorResponses(401, 403) } },
    },
    async (request) => {
      const all = await services.selfMonitoring.checkAll(viewerOf(actorOf(request)));
      return { status: all.status, services: all.services.map(toReading) };
    },
  );

  app.get(
    '/api/monitoring/check/:service',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Runs one self probe now; 200 even when the part is down (the body says so)',
        description: `Services: ${SELF_SERVICES.join(', ')}. The database is also postgres, postgresql, sqlite or db. An unknown service, or Redis without REDIS_URL, is a 404.`,
        params: ServiceParams,
        response: { 200: Reading, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => toReading(await services.selfMonitoring.checkNow(request.params.service, viewerOf(actorOf(request)))),
  );

  app.get(
    '/api/monitoring/checks',
    { config: { access: 'admin' }, schema: { tags, summary: "The tenant's watched checks: heartbeat checks and self checks", response: { 200: Checks, ...errorResponses(401, 403) } } },
    async (request) => ({ checks: (await services.watchedChecks.list(actorOf(request).tenantId)).map(toCheck) }),
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/monitoring/checks/:id/${action}`,
      {
        config: { access: 'admin' },
        schema: {
          tags,
          summary: action === 'pause' ? 'Pause a heartbeat or self check: no alerts until resumed' : 'Resume a paused check (a heartbeat that is not paused: 409, as Healthchecks answers)',
          description:
            "`id` is the check's id or, for a heartbeat, the UUID of its ping URL (Healthchecks' name for it); a heartbeat pauses and resumes exactly as through /api/v3/checks/{uuid}/pause|resume.",
          params: IdParams,
          response: { 200: Check, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (request) => toCheck(await services.watchedChecks[action](actorOf(request).tenantId, request.params.id)),
    );
  }

  app.get(
    '/api/monitoring/dashboard',
    { config: { access: 'read' }, schema: { tags, summary: "Seed 002's dashboard figures", description: DASHBOARD_DESCRIPTION, response: { 200: Dashboard, ...errorResponses(401, 403) } } },
    async (request) => services.watchedChecks.dashboard(actorOf(request).tenantId),
  );
}
