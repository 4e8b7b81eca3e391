/**
 * The set-up of a suite whose apps reach a local HTTP server: one StandIn for the whole file, and
 * per test a fresh app with a tenant, closed (and the StandIn's record and answers cleared) after
 * the test, so no test sees another's requests.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ApiKeyScope } from '../../src/auth/api-key-tokens.js';
import type { DialectName } from '../../src/db/dialects/index.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './app.js';
import { StandIn } from './receivers.js';

/** A StandIn listening from before the file's first test to after its last. Call at the top of the file. */
export function standInForFile(): StandIn {
  const standIn = new StandIn();
  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  return standIn;
}

export interface AppWithTenant {
  c: TestContext;
  tenant: TenantFixture;
  /** An API call as the tenant (`key` another key of it, e.g. a read-only one). */
  call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, key?: string): Promise<LightMyRequestResponse>;
}

/**
 * Inside a `describe` on `dialect`: returns `start(scope)`, which opens the test's app with a
 * tenant and a key of `scope`; the after-each hook closes it and resets `standIn`.
 */
export function appPerTest(dialect: DialectName, standIn: StandIn): (scope?: ApiKeyScope) => Promise<AppWithTenant> {
  let ctx: TestContext | undefined;
  afterEach(async () => {
    standIn.reset();
    await ctx?.close();
    ctx = undefined;
  });
  return async (scope = 'full') => {
    const c = (ctx = await createTestApp(dialect));
    const tenant = await createTenantWithKey(c, scope);
    const call: AppWithTenant['call'] = (method, url, payload, key = tenant.apiKey) => c.app.inject({ method, url, headers: { 'x-api-key': key }, ...(payload && { payload }) });
    return { c, tenant, call };
  };
}
