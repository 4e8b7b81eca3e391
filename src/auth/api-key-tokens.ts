/**
 * API key secrets: 256 random bits, shown once. Only a SHA-256 hash is stored: a fast hash is
 * enough for high-entropy tokens (nothing to brute-force) and keeps the lookup on every request
 * to one indexed equality.
 */
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_SCOPES = ['full', 'read-only', 'ingest'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const TOKEN_PREFIX = 'vk_';

export function generateApiKeySecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The first characters of a key, kept in clear so people can tell their keys apart. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, secret.startsWith(TOKEN_PREFIX) ? TOKEN_PREFIX.length + 6 : 6);
}
