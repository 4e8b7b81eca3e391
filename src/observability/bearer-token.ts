/**
 * The `/metrics` token check: `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time
 * so that response timing does not reveal how much of a guess was right. Both sides are hashed
 * first: timingSafeEqual needs equal lengths, and comparing digests does not reveal the length.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function bearerTokenMatches(authorization: string | undefined, expected: string): boolean {
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim()) : null;
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!), digest(expected));
}
