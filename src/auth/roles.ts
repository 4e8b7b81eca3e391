/**
 * Who may do what. Routes declare the permission they need; users get permissions from their
 * role (plus `superuser` from their flag), API keys from their scope.
 */
import type { ApiKeyScope } from './api-key-tokens.js';

export const USER_ROLES = ['admin', 'member', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** `ingest` covers agent ingestion and pings (later issues); `superuser` manages tenants. */
export const PERMISSIONS = ['read', 'write', 'admin', 'ingest', 'superuser'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ROLE_PERMISSIONS: Record<UserRole, readonly Permission[]> = {
  admin: ['read', 'write', 'admin', 'ingest'],
  member: ['read', 'write', 'ingest'],
  viewer: ['read'],
};

const SCOPE_PERMISSIONS: Record<ApiKeyScope, readonly Permission[]> = {
  full: ['read', 'write', 'admin', 'ingest'],
  'read-only': ['read'],
  ingest: ['ingest'],
};

export function permissionsOfUser(role: UserRole, isSuperuser: boolean): ReadonlySet<Permission> {
  return new Set<Permission>([...ROLE_PERMISSIONS[role], ...(isSuperuser ? (['superuser'] as const) : [])]);
}

export function permissionsOfApiKey(scope: ApiKeyScope): ReadonlySet<Permission> {
  return new Set(SCOPE_PERMISSIONS[scope]);
}
