/**
 * Builds every service from explicit dependencies. Routes, the CLI and tests get their services
 * here; nothing is a module-level singleton. The core's services are built first, then each
 * kind's (kinds/registry.ts), then the check runner from the kinds' checkers.
 */
import { createAlertEventsService } from './alerting/alert-events.service.js';
import { createChannelsService } from './alerting/channels.service.js';
import { createDelivery } from './alerting/delivery.js';
import { recordFlipEvent } from './alerting/events.js';
import { createMaintenanceService } from './alerting/maintenance.service.js';
import { createReminders } from './alerting/reminders.js';
import { createAlertRouter } from './alerting/router.js';
import { createSilencesService } from './alerting/silences.service.js';
import { createWakeSignal } from './alerting/wake-signal.js';
import { createApiKeysService } from './auth/api-keys.service.js';
import { createAuthenticator } from './auth/authenticator.js';
import { createTokenService, type TokenService } from './auth/jwt.js';
import type { ServiceContext } from './auth/services.js';
import { createSettingsService, createTenantsService } from './auth/tenants.service.js';
import { createUsersService } from './auth/users.service.js';
import type { KindHost, WatchedKindHandlers } from './kinds/contract.js';
import { kindList, kindOf, type AllKindServices } from './kinds/registry.js';
import { createSampleEvents } from './metrics/sample-events.js';
import { createObservability } from './observability/observability.js';
import { createCheckRunner, type CheckRunner } from './monitors/check-runner.js';
import type { Checker } from './monitors/checker.js';
import { createIncidentsService } from './monitors/incidents.service.js';
import type { MonitorKind } from './monitors/kinds.js';
import { createMonitorsService } from './monitors/monitors.service.js';
import { createResultRecorder } from './monitors/results.service.js';
import { DEFAULT_PROVIDER_SETTINGS, type ProviderSettings } from './notify/provider.js';
import { createWatchedChecks } from './self-monitoring/watched-checks.service.js';
import type { Logger } from './logger.js';
import { sampleEvents as samplesToEvents } from './realtime/events.js';
import { createInProcessHub, type Hub } from './realtime/hub.js';

export interface ServiceOptions extends ServiceContext {
  readonly secretKey: string;
  readonly jwtExpiresMinutes: number;
  /** Told how late each scheduled check started, in ms. */
  readonly onCheckLag?: (lagMs: number) => void;
  /** SMTP relay and provider base URLs (from the environment); defaults reach the real services. */
  readonly providerSettings?: ProviderSettings;
  /** Where delivery logs each failed attempt (the server's logger); none in most tests. */
  readonly logger?: Logger;
  /** The realtime hub (realtime/): in-process by default; the server gives the Redis one when REDIS_URL is set. */
  readonly hub?: Hub;
}

/** Each kind's services, by kind, as the runtime and the app hand them back to the kind. */
export type KindServicesByKind = ReadonlyMap<MonitorKind, object>;

export function createServices(options: ServiceOptions) {
  const context: ServiceContext = { db: options.db, clock: options.clock };
  const tokens: TokenService = createTokenService(options.secretKey, options.jwtExpiresMinutes, options.clock);
  const providerSettings = options.providerSettings ?? DEFAULT_PROVIDER_SETTINGS;
  // Rung by result recording when it writes an alert event; the alerting loop answers it.
  const alertSignal = createWakeSignal();
  const sampleEvents = createSampleEvents();
  const hub = options.hub ?? createInProcessHub();
  // Samples are told after their commit already (ingest-writer): they go to the hub from there.
  sampleEvents.listen((stored) => hub.publish(...samplesToEvents(stored)));
  /** Vigie's own metrics for GET /metrics; the services below report to it. */
  const observability = createObservability({ ...context, sampleEvents });
  const recorder = createResultRecorder({ ...context, onFlipWritten: recordFlipEvent, onAlertEvent: alertSignal.wake, onFlip: observability.flipWritten, hub });
  const monitors = createMonitorsService({ ...context, recorder, hooksOf: kindOf });

  // The check runner needs every kind's checker, and a kind's services may run checks: bound below.
  const late: { checks?: CheckRunner } = {};
  const host: KindHost = {
    ...context,
    secretKey: options.secretKey,
    monitors,
    recorder,
    sampleEvents,
    observability,
    checks: { runNow: (monitorId) => late.checks!.runNow(monitorId) },
    hub,
  };
  const byKind = new Map<MonitorKind, object>(kindList().map((kind) => [kind.kind, kind.services(host)]));
  const checkers: Checker[] = kindList().flatMap((kind) => (kind.checker ? [kind.checker(host, byKind.get(kind.kind)!)] : []));
  const checks = createCheckRunner({
    ...context,
    checkers,
    recorder,
    onRun: observability.checkRan,
    onLag: (lagMs) => {
      observability.checkLagged(lagMs);
      options.onCheckLag?.(lagMs);
    },
  });
  late.checks = checks;
  const watched = new Map<MonitorKind, WatchedKindHandlers>(kindList().flatMap((kind) => (kind.watched ? [[kind.kind, kind.watched(byKind.get(kind.kind)!, host)] as const] : [])));
  const kindServices = Object.assign({}, ...byKind.values()) as AllKindServices;

  return {
    ...kindServices,
    /** Each kind's own services, for the kinds' loops and routes. */
    kindServices: byKind as KindServicesByKind,
    kindHost: host,
    hub,
    sampleEvents,
    observability,
    recorder,
    checks,
    monitors,
    alertSignal,
    channels: createChannelsService({ ...context, providerSettings }),
    silences: createSilencesService(context),
    maintenance: createMaintenanceService({ ...context, recorder }),
    alertEvents: createAlertEventsService(context),
    alertRouter: createAlertRouter(context),
    delivery: createDelivery({ ...context, providerSettings, logger: options.logger, onOutcome: observability.notificationAttempted, hub }),
    reminders: createReminders(context),
    incidents: createIncidentsService({ ...context, hub }),
    tokens,
    authenticator: createAuthenticator(context, tokens),
    tenants: createTenantsService(context),
    settings: createSettingsService(context),
    users: createUsersService(context),
    apiKeys: createApiKeysService(context),
    /** Seed 002's "checks": the kinds that declare `watched` (heartbeat, self) in one list, the dashboard over them. */
    watchedChecks: createWatchedChecks({ ...context, monitors, kinds: watched }),
  };
}

export type Services = ReturnType<typeof createServices>;
