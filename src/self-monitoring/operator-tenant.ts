/**
 * The operator's tenant: the one that owns Vigie's self checks (they alert through its channels
 * and appear in its lists). SELF_MONITORING_TENANT names it by id or by exact name (tenants have
 * no slug; a name shared by several tenants is refused, as ambiguous). Unset: the tenant of the
 * oldest active superuser, i.e. the admin that the first start or `vigie bootstrap` made.
 */
import type { Db } from '../db/database.js';

export type OperatorTenant = { tenantId: string; how: string } | { tenantId: null; why: string };

export async function resolveOperatorTenant(db: Db, setting: string | undefined): Promise<OperatorTenant> {
  if (setting !== undefined) {
    const byId = await db.selectFrom('tenants').select('id').where('id', '=', setting).executeTakeFirst();
    if (byId) return { tenantId: byId.id, how: `SELF_MONITORING_TENANT names tenant ${byId.id}` };
    const byName = await db.selectFrom('tenants').select('id').where('name', '=', setting).limit(2).execute();
    if (byName.length === 1) return { tenantId: byName[0]!.id, how: `SELF_MONITORING_TENANT names tenant "${setting}"` };
    if (byName.length > 1) return { tenantId: null, why: `several tenants are named "${setting}": set SELF_MONITORING_TENANT to the id of one` };
    return { tenantId: null, why: `SELF_MONITORING_TENANT="${setting}" is neither the id nor the name of a tenant` };
  }
  const superuser = await db.selectFrom('users').select('tenant_id').where('is_superuser', '=', 1).where('is_active', '=', 1).orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
  if (superuser) return { tenantId: superuser.tenant_id, how: "the oldest superuser's tenant" };
  return { tenantId: null, why: 'there is no superuser (create one with `vigie bootstrap`) and SELF_MONITORING_TENANT is not set' };
}
