import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../db/errors.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { ServiceContext } from './services.js';
import { findSettings, findTenant, insertTenant, listAllTenants, updateSettings, type Tenant, type TenantSettings } from './tenants.repository.js';

export function createTenantsService({ db, clock }: ServiceContext) {
  return {
    async create(input: { name: string; id?: string }): Promise<Tenant> {
      const tenant: Tenant = { id: input.id ?? randomUUID(), name: input.name.trim(), createdAt: clock.now() };
      try {
        await db.transaction().execute((trx) => insertTenant(trx, tenant));
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError({ message: 'A tenant with this id already exists.', existing_id: tenant.id });
        throw error;
      }
      return tenant;
    },

    async get(tenantId: string): Promise<Tenant> {
      const tenant = await findTenant(db, tenantId);
      if (!tenant) throw new NotFoundError('Tenant');
      return tenant;
    },

    list: () => listAllTenants(db),
  };
}

export function createSettingsService({ db, clock }: ServiceContext) {
  const get = async (tenantId: string): Promise<TenantSettings> => {
    const settings = await findSettings(db, tenantId);
    if (!settings) throw new NotFoundError('Tenant settings');
    return settings;
  };
  return {
    get,
    async update(tenantId: string, patch: Partial<TenantSettings>): Promise<TenantSettings> {
      if (patch.timezone !== undefined && !isValidTimeZone(patch.timezone)) {
        throw ValidationError.field(['body', 'timezone'], `Unknown time zone "${patch.timezone}"; use an IANA name such as Europe/Paris or UTC`);
      }
      await db.transaction().execute((trx) => updateSettings(trx, tenantId, patch, clock.now()));
      return get(tenantId);
    },
  };
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export type TenantsService = ReturnType<typeof createTenantsService>;
export type SettingsService = ReturnType<typeof createSettingsService>;
