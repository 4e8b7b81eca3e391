/**
 * SECRET_KEY signs access tokens. When it is not set, one is generated on the first start and
 * kept in the data directory (readable by the owner only), so tokens survive restarts; a warning
 * says so at every start, because replicas of a scale-out deployment must share one key.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRET_KEY_FILE = 'secret_key';

export function resolveSecretKey(configured: string | undefined, dataDir: string, warn: (message: string) => void): string {
  if (configured) return configured;
  const path = join(dataDir, SECRET_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists, so two processes starting together cannot both write one.
    writeFileSync(path, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
    warn(`SECRET_KEY is not set: generated one and saved it in ${path}. Set SECRET_KEY to share it between replicas.`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    warn(`SECRET_KEY is not set: using the key kept in ${path}.`);
  }
  const key = readFileSync(path, 'utf8').trim();
  if (key.length < 32) throw new Error(`The key in ${path} is too short; delete the file to generate a new one, or set SECRET_KEY.`);
  return key;
}
