/**
 * Builds the HTTP application from explicit dependencies. Nothing here opens a port, reads the
 * environment or touches a global: `server.ts` does the former, tests call this directly.
 */
import { randomUUID } from 'node:crypto';
import formBody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { databaseProbe, redisProbe, type ReadinessProbe } from './health/probes.js';
import { installAccessControl } from './http/access.js';
import { clientErrorHandler } from './http/client-errors.js';
import { installDeclaredResponses } from './http/declared-responses.js';
import { frameworkErrorHandler, installErrorHandling } from './http/error-handler.js';
import { installJsonBodyParser } from './http/json-body.js';
import { installPublicUrl } from './http/public-url.js';
import { installRequestLog } from './http/request-log.js';
import { serverTimeoutOptions } from './http/server-timeouts.js';
import { ErrorResponse } from './http/schemas.js';
import type { VigieApp } from './http/types.js';
import { kindList } from './kinds/registry.js';
import { createLogger, type Logger } from './logger.js';
import { registerAlertEventRoutes } from './routes/alert-events.js';
import { registerApiKeyRoutes } from './routes/api-keys.js';
import { registerChannelRoutes } from './routes/channels.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerIncidentRoutes } from './routes/incidents.js';
import { registerMaintenanceRoutes } from './routes/maintenance.js';
import { registerMonitorRoutes } from './routes/monitors.js';
import { registerMonitoringRoutes } from './routes/monitoring.js';
import { registerPrometheusMetricsRoutes } from './routes/prometheus-metrics.js';
import { installHttpMetrics } from './observability/http-metrics.js';
import { registerSettingsRoutes } from './routes/settings.js';
import { registerSilenceRoutes } from './routes/silences.js';
import { registerTenantRoutes } from './routes/tenants.js';
import { registerUserRoutes } from './routes/users.js';
import { WebhookBody } from './notify/providers/webhook.js';
import { providerSettingsFrom } from './notify/settings.js';
import { createServices, type Services } from './services.js';
import { VERSION } from './version.js';
import type { Scheduler } from './realtime/coalescer.js';
import { websocketApiDescription } from './realtime/describe.js';
import { realtimeLimitsFrom, registerRealtimeRoutes } from './realtime/ws-route.js';

export interface AppDependencies {
  readonly config: Config;
  readonly database: DatabaseHandle;
  readonly clock: Clock;
  /** The resolved secret (SECRET_KEY or the one kept in the data directory). */
  readonly secretKey: string;
  /** Defaults to the database, plus Redis when REDIS_URL is set. */
  readonly probes?: readonly ReadinessProbe[];
  /** Built from the other dependencies when not given (the server shares its own with the background work). */
  readonly services?: Services;
  /** The process's logger; defaults to JSON logs at the configured level. */
  readonly logger?: Logger;
  /** Time for the WebSocket API's coalescing (tests move it by hand). */
  readonly realtimeScheduler?: Scheduler;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export async function buildApp(deps: AppDependencies): Promise<VigieApp> {
  const { config, database, clock } = deps;
  const app = Fastify({
    loggerInstance: (deps.logger ?? createLogger(config.logLevel)) as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // A caller's X-Request-Id is kept when it is harmless, so logs can be joined across systems.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Unknown body fields are refused (422 naming them), not silently dropped: a typo in a PATCH
    // must not look like success.
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    // Requests that arrive while closing get a 503 in the one error shape (error-handler.ts).
    return503OnClosing: false,
    ...serverTimeoutOptions(config),
    // Errors before routing (parser, timeouts, bad URLs) answer in the one error shape.
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
    // One line per request instead of Fastify's two, without query strings (request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    // The seeds' clients call `/api/v1/alerts/events/` and Healthchecks' `/api/v3/checks/`:
    // with and without the slash are the same route.
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Fastify parses text/plain by default, so a plain-text body reached the JSON schema and came
  // back as a confusing 422 "should be object". The API takes JSON (and login's form): anything
  // else is a 415. A route that wants raw text (e.g. ping bodies) adds its own parser in its scope.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app, config.bodyMaxDepth);

  const services =
    deps.services ??
    createServices({
      db: database.db,
      clock,
      secretKey: deps.secretKey,
      jwtExpiresMinutes: config.jwtExpiresMinutes,
      providerSettings: providerSettingsFrom(config),
    });

  app.addSchema(ErrorResponse);
  // Not used by a route: published under components/schemas for webhook receivers.
  app.addSchema({ $id: 'WebhookBody', ...WebhookBody });
  installErrorHandling(app);
  installAccessControl(app, services.authenticator);
  installDeclaredResponses(app);
  installHttpMetrics(app, services.observability);
  installRequestLog(app);
  installPublicUrl(app, config);
  app.addHook('onSend', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });

  await app.register(formBody, { bodyLimit: config.bodyLimitBytes });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      detail: `Too many requests: retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} seconds`,
    }),
  });
  await app.register(swagger, {
    // Shared schemas keep their $id as their name under components/schemas.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      info: { title: 'Vigie', version: VERSION, description: `Self-hosted, multi-tenant monitoring server.\n\n${websocketApiDescription()}` },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());

  const probes = deps.probes ?? [databaseProbe(database), ...(config.redisUrl ? [redisProbe(config.redisUrl)] : [])];
  registerHealthRoutes(app, probes);
  registerAuthRoutes(app, services, config.loginRateLimitPerMinute);
  registerApiKeyRoutes(app, services);
  registerSettingsRoutes(app, services);
  registerUserRoutes(app, services);
  registerTenantRoutes(app, services);
  registerMonitorRoutes(app, services);
  registerIncidentRoutes(app, services);
  registerChannelRoutes(app, services);
  registerSilenceRoutes(app, services, clock);
  registerMaintenanceRoutes(app, services, clock);
  registerAlertEventRoutes(app, services);
  registerMonitoringRoutes(app, services, { config, probes, clock });
  registerPrometheusMetricsRoutes(app, services, config);
  // Each kind's own API (kinds/registry.ts).
  const kindRouteDeps = { monitors: services.monitors, channels: services.channels, observability: services.observability, config, clock, db: database.db };
  for (const kind of kindList()) kind.routes?.(app, services.kindServices.get(kind.kind)!, kindRouteDeps);
  await registerRealtimeRoutes(app, {
    hub: services.hub,
    db: database.db,
    authenticator: services.authenticator,
    limits: realtimeLimitsFrom(config),
    ...(deps.realtimeScheduler && { scheduler: deps.realtimeScheduler }),
  });

  await app.ready();
  return app;
}
