import type { Db } from '../db/database.js';
import type { NotificationTenant } from '../notify/notification.js';

/** The tenant as messages show it: its name, and the time zone every time is written in. */
export async function tenantForMessages(db: Db, tenantId: string): Promise<NotificationTenant> {
  const row = await db
    .selectFrom('tenants')
    .innerJoin('tenant_settings', 'tenant_settings.tenant_id', 'tenants.id')
    .select(['tenants.name', 'tenant_settings.timezone'])
    .where('tenants.id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return { name: row.name, timeZone: row.timezone };
}
