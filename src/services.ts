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

export interface ServiceOptions extends ServiceContext {
  readonly secretKey: string;
  readonly jwtExpiresMinutes: number;
}

export function createServices(options: ServiceOptions) {
  const context: ServiceContext = { db: options.db, clock: options.clock };
  const tokens: TokenService = createTokenService(options.secretKey, options.jwtExpiresMinutes, options.clock);
  return {
    tokens,
    authenticator: createAuthenticator(context, tokens),
    tenants: createTenantsService(context),
    settings: createSettingsService(context),
    users: createUsersService(context),
    apiKeys: createApiKeysService(context),
  };
}

export type Services = ReturnType<typeof createServices>;
