import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../errors.js';
import { displayPrefix, generateApiKeySecret, hashApiKeySecret, type ApiKeyScope } from './api-key-tokens.js';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey, type ApiKey } from './api-keys.repository.js';
import type { ServiceContext } from './services.js';

export interface CreatedApiKey {
  apiKey: ApiKey;
  /** The secret, returned this once and never stored. */
  secret: string;
}

export function createApiKeysService({ db, clock }: ServiceContext) {
  return {
    async create(tenantId: string, input: { name: string; scope: ApiKeyScope }, secret = generateApiKeySecret(), id = randomUUID()): Promise<CreatedApiKey> {
      const apiKey: ApiKey = {
        id,
        tenantId,
        name: input.name.trim(),
        scope: input.scope,
        prefix: displayPrefix(secret),
        createdAt: clock.now(),
        lastUsedAt: null,
        revokedAt: null,
      };
      await insertApiKey(db, apiKey, hashApiKeySecret(secret));
      return { apiKey, secret };
    },

    list: (tenantId: string) => listApiKeys(db, tenantId),

    async get(tenantId: string, keyId: string): Promise<ApiKey> {
      const key = await findApiKey(db, tenantId, keyId);
      if (!key) throw new NotFoundError('API key');
      return key;
    },

    async revoke(tenantId: string, keyId: string): Promise<void> {
      if (!(await revokeApiKey(db, tenantId, keyId, clock.now()))) throw new NotFoundError('API key');
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
