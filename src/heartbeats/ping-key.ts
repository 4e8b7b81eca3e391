/**
 * A tenant's ping key: the first part of its slug ping URLs (`/ping/{ping_key}/{slug}`), as
 * Healthchecks' project ping key. Every tenant has one from its creation (migration 0018 for the
 * tenants made before); an admin can read it and replace it (the old slug URLs then stop working).
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import { NotFoundError } from '../errors.js';

/** 22 URL-safe characters, 128 random bits: never a UUID, so `/ping/{a}/{b}` tells the two apart. */
export const newPingKey = (): string => randomBytes(16).toString('base64url');

export async function readPingKey(db: Db, tenantId: string): Promise<string> {
  const row = await db.selectFrom('tenant_settings').select('ping_key').where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!row) throw new NotFoundError('Tenant');
  if (row.ping_key) return row.ping_key;
  // A tenant row written around this code (a fixture, an import): it gets one now.
  await db.updateTable('tenant_settings').set({ ping_key: newPingKey() }).where('tenant_id', '=', tenantId).where('ping_key', 'is', null).execute();
  return readPingKey(db, tenantId);
}

export async function regeneratePingKey(db: Db, tenantId: string): Promise<string> {
  const key = newPingKey();
  const changed = await db.updateTable('tenant_settings').set({ ping_key: key }).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (changed.numUpdatedRows === 0n) throw new NotFoundError('Tenant');
  return key;
}
