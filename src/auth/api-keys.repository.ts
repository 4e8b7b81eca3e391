import type { Db } from '../db/database.js';
import type { ApiKeysTable } from '../db/tables/api-keys.table.js';
import type { ApiKeyScope } from './api-key-tokens.js';

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  scope: ApiKeyScope;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

const toApiKey = (row: Omit<ApiKeysTable, 'key_hash'>): ApiKey => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  scope: row.scope as ApiKeyScope,
  prefix: row.prefix,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

const PUBLIC_COLUMNS = ['id', 'tenant_id', 'name', 'scope', 'prefix', 'created_at', 'last_used_at', 'revoked_at'] as const;

export async function insertApiKey(db: Db, key: ApiKey, keyHash: string): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      tenant_id: key.tenantId,
      name: key.name,
      scope: key.scope,
      key_hash: keyHash,
      prefix: key.prefix,
      created_at: key.createdAt,
      last_used_at: key.lastUsedAt,
      revoked_at: key.revokedAt,
    })
    .execute();
}

/** Authentication looks a key up by its hash: the key itself is what names the tenant. */
export async function findActiveApiKeyByHash(db: Db, keyHash: string): Promise<ApiKey | undefined> {
  const row = await db.selectFrom('api_keys').select(PUBLIC_COLUMNS).where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
  return row && toApiKey(row);
}

export async function listApiKeys(db: Db, tenantId: string): Promise<ApiKey[]> {
  const rows = await db.selectFrom('api_keys').select(PUBLIC_COLUMNS).where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toApiKey);
}

export async function findApiKey(db: Db, tenantId: string, keyId: string): Promise<ApiKey | undefined> {
  const row = await db.selectFrom('api_keys').select(PUBLIC_COLUMNS).where('tenant_id', '=', tenantId).where('id', '=', keyId).executeTakeFirst();
  return row && toApiKey(row);
}

/** Marks the key revoked (kept for audit). Returns false when no such key exists in the tenant. */
export async function revokeApiKey(db: Db, tenantId: string, keyId: string, now: number): Promise<boolean> {
  const key = await findApiKey(db, tenantId, keyId);
  if (!key) return false;
  if (key.revokedAt === null) {
    await db.updateTable('api_keys').set({ revoked_at: now }).where('tenant_id', '=', tenantId).where('id', '=', keyId).execute();
  }
  return true;
}

export async function touchApiKeyLastUsed(db: Db, tenantId: string, keyId: string, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: now }).where('tenant_id', '=', tenantId).where('id', '=', keyId).execute();
}
