/**
 * Turns a request's credential (X-API-Key or Bearer JWT) into an Actor, or throws 401.
 * Knows nothing of HTTP: the route layer hands it the header values.
 */
import { UnauthorizedError } from '../errors.js';
import type { Actor } from './actor.js';
import { hashApiKeySecret } from './api-key-tokens.js';
import { findActiveApiKeyByHash, touchApiKeyLastUsed } from './api-keys.repository.js';
import { InvalidTokenError, type TokenService } from './jwt.js';
import { permissionsOfApiKey, permissionsOfUser } from './roles.js';
import type { ServiceContext } from './services.js';
import { findUser } from './users.repository.js';

/** `last_used_at` is a hint for people, not an audit log: write it at most once a minute per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface Credentials {
  apiKey?: string | undefined;
  bearerToken?: string | undefined;
}

export function createAuthenticator({ db, clock }: ServiceContext, tokens: TokenService) {
  async function fromApiKey(secret: string): Promise<Actor> {
    const key = await findActiveApiKeyByHash(db, hashApiKeySecret(secret));
    if (!key) throw new UnauthorizedError('Invalid or revoked API key');
    const now = clock.now();
    if (key.lastUsedAt === null || now - key.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      await touchApiKeyLastUsed(db, key.tenantId, key.id, now);
    }
    return { tenantId: key.tenantId, kind: 'api_key', apiKeyId: key.id, permissions: permissionsOfApiKey(key.scope) };
  }

  async function fromBearer(token: string): Promise<Actor> {
    let claims;
    try {
      claims = await tokens.verify(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw new UnauthorizedError(error.message);
      throw error;
    }
    const user = await findUser(db, claims.tenantId, claims.userId);
    if (!user || !user.isActive) throw new UnauthorizedError('User no longer exists or is disabled');
    return { tenantId: user.tenantId, kind: 'user', userId: user.id, permissions: permissionsOfUser(user.role, user.isSuperuser) };
  }

  return {
    async authenticate({ apiKey, bearerToken }: Credentials): Promise<Actor> {
      if (apiKey !== undefined && apiKey !== '') return fromApiKey(apiKey);
      if (bearerToken !== undefined && bearerToken !== '') return fromBearer(bearerToken);
      throw new UnauthorizedError('Not authenticated: send an X-API-Key header or an Authorization: Bearer token');
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
