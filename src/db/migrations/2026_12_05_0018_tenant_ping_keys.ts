/**
 * Every tenant has a ping key (Healthchecks' project ping key, the first part of
 * `/ping/{ping_key}/{slug}`): new tenants get one when they are made; this gives one to every
 * tenant made before. 22 URL-safe characters, 128 random bits each.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';

// Its own copy of the rule (src/heartbeats/ping-key.ts): a shipped migration must not change when the app does.
const newPingKey = (): string => randomBytes(16).toString('base64url');

export async function up(db: Kysely<any>): Promise<void> {
  const rows: { tenant_id: string }[] = await db.selectFrom('tenant_settings').select('tenant_id').where('ping_key', 'is', null).execute();
  for (const row of rows) await db.updateTable('tenant_settings').set({ ping_key: newPingKey() }).where('tenant_id', '=', row.tenant_id).execute();
}

export async function down(): Promise<void> {
  // The keys stay: a tenant's slug URLs keep working.
}
