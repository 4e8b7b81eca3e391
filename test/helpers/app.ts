/**
 * A Vigie app on a fresh, migrated real database, driven with `app.inject` and a manual clock.
 * `createTenantWithKey` makes the fixtures most tests need: a tenant and a key of a given scope.
 */
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import type { DialectName } from '../../src/db/dialects/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { buildApp } from '../../src/app.js';
import type { ApiKeyScope } from '../../src/auth/api-key-tokens.js';
import type { UserRole } from '../../src/auth/roles.js';
import type { VigieApp } from '../../src/http/types.js';
import { providerSettingsFrom } from '../../src/notify/settings.js';
import { createServices, type Services } from '../../src/services.js';
import type { ReadinessProbe } from '../../src/health/probes.js';
import type { Logger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const TEST_SECRET_KEY = 'test-secret-key-test-secret-key-0123456789';

export interface TestContext {
  app: VigieApp;
  database: DatabaseHandle;
  services: Services;
  clock: ManualClock;
  config: Config;
  testDatabase: TestDatabase;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  probes?: readonly ReadinessProbe[];
  /** The app's logger (default: silent), for tests that read what is logged. */
  logger?: Logger;
}

export async function createTestApp(dialect: DialectName, options: TestAppOptions = {}): Promise<TestContext> {
  const testDatabase = await createTestDatabase(dialect);
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: testDatabase.url, ...options.env });
  const database = await openDatabase(config.database);
  await migrateToLatest(database.db);
  const clock = new ManualClock(Date.UTC(2026, 10, 21, 12, 0, 0));
  // One service graph shared by the app and the test, as the server shares it with its background work.
  const services = createServices({
    db: database.db,
    clock,
    secretKey: TEST_SECRET_KEY,
    jwtExpiresMinutes: config.jwtExpiresMinutes,
    providerSettings: providerSettingsFrom(config),
    logger: options.logger,
  });
  const app = await buildApp({ config, database, clock, secretKey: TEST_SECRET_KEY, probes: options.probes, services, logger: options.logger });
  return {
    app,
    database,
    services,
    clock,
    config,
    testDatabase,
    async close() {
      await app.close();
      await database.close();
      await testDatabase.drop();
    },
  };
}

export interface TenantFixture {
  tenantId: string;
  /** Secret of a key with the requested scope (full by default). */
  apiKey: string;
  apiKeyId: string;
}

let tenantCounter = 0;

export async function createTenantWithKey(ctx: TestContext, scope: ApiKeyScope = 'full', name?: string): Promise<TenantFixture> {
  const tenant = await ctx.services.tenants.create({ name: name ?? `Tenant ${++tenantCounter}` });
  const { apiKey, secret } = await ctx.services.apiKeys.create(tenant.id, { name: `${scope} key`, scope });
  return { tenantId: tenant.id, apiKey: secret, apiKeyId: apiKey.id };
}

export async function createUser(ctx: TestContext, tenantId: string, input: { email?: string; password?: string; role?: UserRole; isSuperuser?: boolean } = {}) {
  const email = input.email ?? `user${++tenantCounter}@example.com`;
  const password = input.password ?? 'correct horse battery';
  const user = await ctx.services.users.create(tenantId, { email, password, role: input.role ?? 'admin', isSuperuser: input.isSuperuser });
  return { user, email, password };
}

/** Logs in through the real route and returns the bearer token. */
export async function login(ctx: TestContext, email: string, password: string): Promise<string> {
  const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: email, password } });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return response.json().access_token as string;
}
