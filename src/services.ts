/**
 * Builds every service from explicit dependencies. Routes, the CLI and tests get their services
 * here; nothing is a module-level singleton.
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
import { createHttpTargetsService } from './checks/http/http-targets.service.js';
import { createCheckers } from './checks/index.js';
import { createBadgeLinks } from './heartbeats/badge-links.js';
import { createSampleEvents } from './metrics/sample-events.js';
import { createIngestWriter } from './metrics/ingest/ingest-writer.js';
import { createMachineLiveness } from './metrics/liveness.js';
import { createMachinesService } from './metrics/machines.service.js';
import { createSeriesService } from './metrics/series.service.js';
import { createRuleEvaluator } from './metrics/rules/evaluator.js';
import { createMetricRulesService } from './metrics/rules/rules.service.js';
import { createObservability } from './observability/observability.js';
import { createHeartbeatsService } from './heartbeats/heartbeats.service.js';
import { createPingWriter } from './heartbeats/pings.js';
import { createHeartbeatSweep } from './heartbeats/sweep.js';
import { createCheckRunner } from './monitors/check-runner.js';
import { createIncidentsService } from './monitors/incidents.service.js';
import { createMonitorsService } from './monitors/monitors.service.js';
import { createResultRecorder } from './monitors/results.service.js';
import { DEFAULT_PROVIDER_SETTINGS, type ProviderSettings } from './notify/provider.js';
import { createSelfMonitoring } from './self-monitoring/self-monitoring.service.js';
import { createWatchedChecks } from './self-monitoring/watched-checks.service.js';

export interface ServiceOptions extends ServiceContext {
  readonly secretKey: string;
  readonly jwtExpiresMinutes: number;
  /** Told how late each scheduled check started, in ms. */
  readonly onCheckLag?: (lagMs: number) => void;
  /** SMTP relay and provider base URLs (from the environment); defaults reach the real services. */
  readonly providerSettings?: ProviderSettings;
}

export function createServices(options: ServiceOptions) {
  const context: ServiceContext = { db: options.db, clock: options.clock };
  const tokens: TokenService = createTokenService(options.secretKey, options.jwtExpiresMinutes, options.clock);
  const providerSettings = options.providerSettings ?? DEFAULT_PROVIDER_SETTINGS;
  // Rung by result recording when it writes an alert event; the alerting loop answers it.
  const alertSignal = createWakeSignal();
  const sampleEvents = createSampleEvents();
  /** Vigie's own metrics for GET /metrics; the services below report to it. */
  const observability = createObservability({ ...context, sampleEvents });
  const recorder = createResultRecorder({ ...context, onFlipWritten: recordFlipEvent, onAlertEvent: alertSignal.wake, onFlip: observability.flipWritten });
  const selfMonitoring = createSelfMonitoring(context);
  const checks = createCheckRunner({ ...context, checkers: createCheckers(context, { selfProbes: selfMonitoring.probes }), recorder, onRun: observability.checkRan, onLag: (lagMs) => { observability.checkLagged(lagMs); options.onCheckLag?.(lagMs); } });
  const monitors = createMonitorsService({ ...context, recorder });
  const heartbeats = createHeartbeatsService({ ...context, monitors });
  return {
    /** Agent metrics: ingestion says here what it stored; rules and counters listen. */
    sampleEvents,
    /** The series store's read side: series, points (raw or rollups), exports. */
    series: createSeriesService(context),
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
    delivery: createDelivery({ ...context, providerSettings, onOutcome: observability.notificationAttempted }),
    reminders: createReminders(context),
    heartbeats,
    pings: createPingWriter({ ...context, recorder }),
    badges: createBadgeLinks({ db: options.db, secretKey: options.secretKey }),
    heartbeatSweep: createHeartbeatSweep({ ...context, recorder }),
    /** Agent ingestion: batches committed in groups, answered once stored. */
    ingest: createIngestWriter({ ...context, recorder, sampleEvents }),
    machines: createMachinesService(context),
    /** Machines silent past their tenant's heartbeat threshold go down (runtime, every 30 s). */
    machineLiveness: createMachineLiveness({ ...context, recorder }),
    incidents: createIncidentsService(context),
    httpTargets: createHttpTargetsService({ ...context, monitors, checks }),
    tokens,
    authenticator: createAuthenticator(context, tokens),
    tenants: createTenantsService(context),
    settings: createSettingsService(context),
    users: createUsersService(context),
    apiKeys: createApiKeysService(context),
    selfMonitoring,
    /** Seed 002's "checks": heartbeat and self checks in one list, the dashboard over them. */
    watchedChecks: createWatchedChecks({ ...context, heartbeats, monitors }),
    /** Threshold rules on agent metrics (monitors of kind metric). */
    metricRules: createMetricRulesService({ ...context, monitors }),
    /** Evaluates them: `runOnce()` on the tick (runtime), and at once on stored samples it listens to. */
    ruleEvaluator: createRuleEvaluator({ ...context, recorder, sampleEvents }),
  };
}

export type Services = ReturnType<typeof createServices>;
