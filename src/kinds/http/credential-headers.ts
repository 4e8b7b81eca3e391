/**
 * Which custom request headers of an HTTP target carry credentials, and their write-only
 * handling, like `auth`'s password and token: an answer shows such a header's name with its
 * value masked (a client sees that it is set, and can send the whole `headers` object back),
 * a PATCH keeps the stored value when it leaves the header out or sends the mask back, and
 * `null` removes it. Read-only keys could otherwise read a full API key from a target.
 */
import { ValidationError } from '../../errors.js';

/** What answers show instead of a credential header's value. */
export const HEADER_MASK = '********';

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'cookie']);
/** Names that say what they hold: X-Auth-Token, X-Client-Secret, X-Session-Id, Api-Key, X-Password… */
const CREDENTIAL_WORDS = /token|secret|key|auth|password|session/i;

/** The one rule: case-insensitive, on the header's name. */
export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADERS.has(name.toLowerCase()) || CREDENTIAL_WORDS.test(name);
}

/** The headers as an answer may show them. */
export function maskCredentialHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, isCredentialHeader(name) ? HEADER_MASK : value]));
}

/**
 * The headers to store from what a client sent (`given`, where `null` removes a header) and
 * what is stored: the given headers replace the stored ones, except stored credential headers,
 * which stay unless named with a new value or `null` (names compare case-insensitively, as HTTP's
 * do). The mask keeps a stored credential; with none stored under that name it is refused, so
 * the mask itself is never sent to a target as a credential.
 */
export function mergeHeaders(stored: Readonly<Record<string, string>>, given: Readonly<Record<string, string | null>>): Record<string, string> {
  const storedByName = new Map(Object.entries(stored).map(([name, value]) => [name.toLowerCase(), { name, value }]));
  const named = new Set(Object.keys(given).map((name) => name.toLowerCase()));
  const merged: Record<string, string> = {};
  for (const [name, { name: storedName, value }] of storedByName) {
    if (isCredentialHeader(name) && !named.has(name)) merged[storedName] = value;
  }
  for (const [name, value] of Object.entries(given)) {
    if (value === null) continue;
    if (value !== HEADER_MASK) {
      merged[name] = value;
      continue;
    }
    const kept = storedByName.get(name.toLowerCase());
    if (!kept || !isCredentialHeader(name)) {
      throw ValidationError.field(['body', 'headers', name], `"${HEADER_MASK}" stands for a stored credential header's value; there is none named ${name}: send the real value`);
    }
    merged[kept.name] = kept.value;
  }
  return merged;
}
