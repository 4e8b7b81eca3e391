import type { Permission } from './roles.js';

/** The authenticated caller of a request: every tenant-data call is made on its `tenantId`. */
export interface Actor {
  readonly tenantId: string;
  readonly kind: 'user' | 'api_key';
  /** Set for users. */
  readonly userId?: string;
  /** Set for API keys. */
  readonly apiKeyId?: string;
  readonly permissions: ReadonlySet<Permission>;
}
