import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';

/**
 * Keys that name heartbeat checks in public URLs, apart from their monitor ids.
 *
 * - `heartbeat_checks.ping_uuid`: the secret in a check's ping URL. Anyone who can read monitors
 *   (a read-only API key, a viewer) sees monitor ids; a ping URL lets one report a job as done,
 *   so the two must differ (Healthchecks hides the ping UUID from read-only keys for the same
 *   reason). Existing checks get a fresh UUID; there is no installed base whose URLs would break.
 * - `heartbeat_checks.badge_key`: names the check in its public badge URL (`/b/2/{badge_key}.svg`),
 *   which reveals nothing else.
 * - `tenant_settings.badge_key`: the project part of tag badge URLs (`/badge/{badge_key}/…`), made
 *   on first use like the ping key.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('heartbeat_checks').addColumn('ping_uuid', 'text').execute();
  await db.schema.alterTable('heartbeat_checks').addColumn('badge_key', 'text').execute();
  const rows: { monitor_id: string }[] = await db.selectFrom('heartbeat_checks').select('monitor_id').execute();
  for (const row of rows) {
    await db.updateTable('heartbeat_checks').set({ ping_uuid: randomUUID(), badge_key: randomUUID() }).where('monitor_id', '=', row.monitor_id).execute();
  }
  await db.schema.createIndex('heartbeat_checks_ping_uuid_idx').on('heartbeat_checks').column('ping_uuid').unique().execute();
  await db.schema.createIndex('heartbeat_checks_badge_key_idx').on('heartbeat_checks').column('badge_key').unique().execute();
  await db.schema.alterTable('tenant_settings').addColumn('badge_key', 'text').execute();
  await db.schema.createIndex('tenant_settings_badge_key_idx').on('tenant_settings').column('badge_key').unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tenant_settings_badge_key_idx').execute();
  await db.schema.alterTable('tenant_settings').dropColumn('badge_key').execute();
  await db.schema.dropIndex('heartbeat_checks_badge_key_idx').execute();
  await db.schema.dropIndex('heartbeat_checks_ping_uuid_idx').execute();
  await db.schema.alterTable('heartbeat_checks').dropColumn('badge_key').execute();
  await db.schema.alterTable('heartbeat_checks').dropColumn('ping_uuid').execute();
}
