/**
 * Builds every service from explicit dependencies. Routes, the CLI and tests get their services
 * here; nothing is a module-level singleton.
 */
import { createApiKeysService } from './auth/api-keys.service.js';
import { createAuthenticator } from './auth/authenticator.js';
import { createTokenService, type TokenService } from './auth/jwt.js';
import type { ServiceContext } from './auth/services.js';
import { createSettingsService, createTenantsService } from './auth/tenants.service.js';
import { createUsersService } from './auth/users.service.js';
import { createHttpTargetsService } from './checks/http/http-targets.service.js';
import { createCheckers } from './checks/index.js';
import { createCheckRunner } from './monitors/check-runner.js';
import { createIncidentsService } from './monitors/incidents.service.js';
import { createMonitorsService } from './monitors/monitors.service.js';
import { createResultRecorder } from './monitors/results.service.js';

export interface ServiceOptions extends ServiceContext {
  readonly secretKey: string;
  readonly jwtExpiresMinutes: number;
  /** Told how late each scheduled check started, in ms. */
  readonly onCheckLag?: (lagMs: number) => void;
}

export function createServices(options: ServiceOptions) {
  const context: ServiceContext = { db: options.db, clock: options.clock };
  const tokens: TokenService = createTokenService(options.secretKey, options.jwtExpiresMinutes, options.clock);
  const recorder = createResultRecorder(context);
  const checks = createCheckRunner({ ...context, checkers: createCheckers(context), recorder, onLag: options.onCheckLag });
  const monitors = createMonitorsService({ ...context, recorder });
  return {
    recorder,
    checks,
    monitors,
    incidents: createIncidentsService(context),
    httpTargets: createHttpTargetsService({ ...context, monitors, checks }),
    tokens,
    authenticator: createAuthenticator(context, tokens),
    tenants: createTenantsService(context),
    settings: createSettingsService(context),
    users: createUsersService(context),
    apiKeys: createApiKeysService(context),
  };
}

export type Services = ReturnType<typeof createServices>;
