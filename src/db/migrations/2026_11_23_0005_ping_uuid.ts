import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';

/**
 * A heartbeat check's ping URL gets its own secret, `ping_uuid`, instead of the monitor id.
 * Anyone who can read monitors (a read-only API key, a viewer) sees monitor ids; knowing a ping
 * URL lets one report a job as done, so the two must differ (Healthchecks hides the ping UUID
 * from read-only keys for the same reason). Existing checks get a fresh UUID: their old ping
 * URLs stop working, which is the point of the change; there is no installed base yet.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('heartbeat_checks').addColumn('ping_uuid', 'text').execute();
  const rows: { monitor_id: string }[] = await db.selectFrom('heartbeat_checks').select('monitor_id').execute();
  for (const row of rows) await db.updateTable('heartbeat_checks').set({ ping_uuid: randomUUID() }).where('monitor_id', '=', row.monitor_id).execute();
  await db.schema.createIndex('heartbeat_checks_ping_uuid_idx').on('heartbeat_checks').column('ping_uuid').unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('heartbeat_checks_ping_uuid_idx').execute();
  await db.schema.alterTable('heartbeat_checks').dropColumn('ping_uuid').execute();
}
