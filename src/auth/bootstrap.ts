/**
 * Two ways to get a first tenant, user and API key:
 * - first start: an empty database gets a tenant, an admin and a key with random secrets that
 *   are returned once for the CLI to print, and never again (a marker row guards it, also
 *   against two replicas starting at the same moment);
 * - `vigie bootstrap --dev`: the fixed development data set of seeds 000, 002 and 003,
 *   created only where missing, so running it twice changes nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { displayPrefix, generateApiKeySecret, hashApiKeySecret } from './api-key-tokens.js';
import { insertApiKey } from './api-keys.repository.js';
import { hashPassword } from './passwords.js';
import type { ServiceContext } from './services.js';
import { findTenant, insertTenant } from './tenants.repository.js';
import { countUsers, findUserByEmailForLogin, insertUser } from './users.repository.js';

const BOOTSTRAP_MARKER = 'first_start_bootstrap_at';

export const DEV_DATA = {
  tenantId: '00000000-0000-0000-0000-000000000001',
  tenantName: 'Dev',
  apiKeyId: '00000000-0000-0000-0000-000000000002',
  apiKey: 'dev-apikey-123',
  settings: {
    notificationEmail: 'alerts@example.com',
    heartbeatThresholdMinutes: 5,
    consecutiveFailuresThreshold: 2,
    alertGroupingEnabled: true,
  },
  userEmail: 'admin@example.com',
  userPassword: 'admin123',
} as const;

export interface FirstStartCredentials {
  tenantId: string;
  tenantName: string;
  email: string;
  password: string;
  apiKey: string;
}

export const FIRST_ADMIN_EMAIL = 'admin@vigie.local';

async function markBootstrapped(db: Db, now: number): Promise<void> {
  await db
    .insertInto('app_meta')
    .values({ key: BOOTSTRAP_MARKER, value: String(now) })
    .execute();
}

async function isBootstrapped(db: Db): Promise<boolean> {
  return (await db.selectFrom('app_meta').select('key').where('key', '=', BOOTSTRAP_MARKER).executeTakeFirst()) !== undefined;
}

/** Creates the first tenant, admin and key on an empty database; returns undefined otherwise. */
export async function bootstrapFirstStart({ db, clock }: ServiceContext): Promise<FirstStartCredentials | undefined> {
  if (await isBootstrapped(db)) return undefined;
  const now = clock.now();
  const credentials: FirstStartCredentials = {
    tenantId: randomUUID(),
    tenantName: 'Default',
    email: FIRST_ADMIN_EMAIL,
    password: randomBytes(12).toString('base64url'),
    apiKey: generateApiKeySecret(),
  };
  const passwordHash = await hashPassword(credentials.password);
  try {
    return await db.transaction().execute(async (trx) => {
      // The marker goes first: a second replica racing us fails here and creates nothing.
      await markBootstrapped(trx, now);
      if ((await countUsers(trx)) > 0) return undefined; // e.g. `bootstrap --dev` ran first
      await insertTenant(trx, { id: credentials.tenantId, name: credentials.tenantName, createdAt: now });
      await insertUser(trx, {
        id: randomUUID(),
        tenantId: credentials.tenantId,
        email: credentials.email,
        passwordHash,
        role: 'admin',
        isSuperuser: true,
        isActive: true,
        createdAt: now,
        updatedAt: now,
      });
      await insertApiKey(
        trx,
        { id: randomUUID(), tenantId: credentials.tenantId, name: 'first-start', scope: 'full', prefix: displayPrefix(credentials.apiKey), createdAt: now, lastUsedAt: null, revokedAt: null },
        hashApiKeySecret(credentials.apiKey),
      );
      return credentials;
    });
  } catch (error) {
    if (isUniqueViolation(error)) return undefined;
    throw error;
  }
}

export interface DevBootstrapReport {
  created: string[];
  alreadyPresent: string[];
}

/** Creates whatever part of the development data set is missing, and reports what it did. */
export async function bootstrapDev({ db, clock }: ServiceContext): Promise<DevBootstrapReport> {
  const report: DevBootstrapReport = { created: [], alreadyPresent: [] };
  const now = clock.now();
  const note = (done: boolean, what: string) => (done ? report.created : report.alreadyPresent).push(what);

  await db.transaction().execute(async (trx) => {
    const tenantExists = (await findTenant(trx, DEV_DATA.tenantId)) !== undefined;
    if (!tenantExists) {
      await insertTenant(trx, { id: DEV_DATA.tenantId, name: DEV_DATA.tenantName, createdAt: now }, DEV_DATA.settings);
    }
    note(!tenantExists, `tenant ${DEV_DATA.tenantName} (${DEV_DATA.tenantId}) with its settings`);

    const keyHash = hashApiKeySecret(DEV_DATA.apiKey);
    const keyExists = (await trx.selectFrom('api_keys').select('id').where('key_hash', '=', keyHash).executeTakeFirst()) !== undefined;
    if (!keyExists) {
      await insertApiKey(
        trx,
        { id: DEV_DATA.apiKeyId, tenantId: DEV_DATA.tenantId, name: 'dev', scope: 'full', prefix: displayPrefix(DEV_DATA.apiKey), createdAt: now, lastUsedAt: null, revokedAt: null },
        keyHash,
      );
    }
    note(!keyExists, `API key ${DEV_DATA.apiKey}`);

    const userExists = (await findUserByEmailForLogin(trx, DEV_DATA.userEmail)) !== undefined;
    if (!userExists) {
      await insertUser(trx, {
        id: randomUUID(),
        tenantId: DEV_DATA.tenantId,
        email: DEV_DATA.userEmail,
        passwordHash: await hashPassword(DEV_DATA.userPassword),
        role: 'admin',
        isSuperuser: true,
        isActive: true,
        createdAt: now,
        updatedAt: now,
      });
    }
    note(!userExists, `user ${DEV_DATA.userEmail} / ${DEV_DATA.userPassword} (admin, superuser)`);

    // Users now exist, so a later first start must not create a second admin.
    await trx
      .insertInto('app_meta')
      .values({ key: BOOTSTRAP_MARKER, value: String(now) })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  });
  return report;
}
