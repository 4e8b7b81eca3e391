/** The deposit and validated zones from the configuration, created with owner-only permissions. */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../../config.js';
import type { Zones } from './paths.js';

export function zonesOf(config: Pick<Config, 'dataDir' | 'backupDepositDir' | 'backupValidatedDir'>): Zones {
  return {
    depositDir: resolve(config.backupDepositDir ?? join(config.dataDir, 'backups', 'deposits')),
    validatedDir: resolve(config.backupValidatedDir ?? join(config.dataDir, 'backups', 'validated')),
  };
}

/**
 * Creates the zones that do not exist with mode 0700 (only Vigie's user). Existing ones keep their
 * permissions: an operator may have opened the deposit zone to the agents' transfer user.
 */
export async function ensureZones(zones: Zones): Promise<void> {
  for (const dir of [zones.depositDir, zones.validatedDir]) await mkdir(dir, { recursive: true, mode: 0o700 });
}
