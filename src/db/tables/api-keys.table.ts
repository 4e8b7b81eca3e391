/** API keys: only a SHA-256 hash of the secret is stored; `prefix` lets people recognise a key. */
export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  scope: string;
  key_hash: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}
