/**
 * `?create=1` makes a check on the first ping to a new slug; simultaneous first pings (a fleet
 * of cron jobs starting on the same minute) must make one check, not one each. Two layers:
 * - in this process, creations of one (tenant, slug) run one after the other (`keyedSerial`),
 *   so a burst waits in memory rather than holding database connections that wait on a lock;
 * - in the database, for other processes, the creating transaction first takes a lock held to
 *   its end (`lockSlugCreation`), then looks for the slug again, and creates only if still absent.
 */
import type { Db } from '../db/database.js';

/**
 * Locks the tenant's slug creations until `trx` ends, the same way on every dialect: a no-op
 * write to the tenant's settings row (which every tenant has: it holds the ping key). On
 * PostgreSQL that is a row lock another transaction's same write waits for, and once it has it,
 * the re-read sees what the other committed (read committed); on SQLite it is the database's
 * write lock, taken before the re-read, so the read sees the latest commit (WAL). Per tenant
 * rather than per slug: only creations of a slug not found outside the lock contend for it.
 */
export async function lockSlugCreation(trx: Db, tenantId: string): Promise<void> {
  await trx
    .updateTable('tenant_settings')
    .set((eb) => ({ ping_key: eb.ref('ping_key') }))
    .where('tenant_id', '=', tenantId)
    .execute();
}
