/**
 * What the backup suites share: an app on a dialect with its own deposit and validated zones
 * under a temporary root, a tenant with a full key, a scanner on that app (real time moved an hour
 * on, so deposits count as settled), and a job created through the API.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Zones } from '../../src/kinds/backup/paths.js';
import { createBackupScanner, type ScannerOptions } from '../../src/kinds/backup/scanner.js';
import { ensureZones } from '../../src/kinds/backup/zones.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './app.js';
import type { DialectName } from '../../src/db/dialects/index.js';

const HOUR = 3_600_000;
const quiet = { warn() {}, info() {} };

export interface BackupApp {
  ctx: TestContext;
  tenant: TenantFixture;
  root: string;
  zones: Zones;
  /** A scanner on the app's database and zones; `options` override the defaults. */
  scanner(options?: Partial<ScannerOptions>): ReturnType<typeof createBackupScanner>;
  /**
   * A job created with the tenant's full key, of a new agent unless `settings.agent` names one;
   * `settings` add to name, agent and database. `job` is the API's answer.
   */
  newJob(settings?: Record<string, unknown>): Promise<{ id: string; agent: string; agentRoot: string; depositPath: string; job: Record<string, any> }>;
  close(): Promise<void>;
}

export async function openBackupApp(dialect: DialectName, name: string, env: Record<string, string> = {}): Promise<BackupApp> {
  const root = await mkdtemp(join(tmpdir(), `vigie-${name}-`));
  const zones = { depositDir: join(root, 'deposits'), validatedDir: join(root, 'validated') };
  const ctx = await createTestApp(dialect, { env: { BACKUP_DEPOSIT_DIR: zones.depositDir, BACKUP_VALIDATED_DIR: zones.validatedDir, ...env } });
  const tenant = await createTenantWithKey(ctx);
  await ensureZones(zones);
  return {
    ctx,
    tenant,
    root,
    zones,
    scanner: (options = {}) =>
      createBackupScanner({ db: ctx.database.db, clock: ctx.clock, recorder: ctx.services.recorder, zones, settleMs: 5000, logger: quiet, wallNow: () => Date.now() + HOUR, ...options }),
    async newJob(settings = {}) {
      const agent = typeof settings.agent === 'string' ? settings.agent : `agent-${Math.random().toString(36).slice(2, 8)}`;
      const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/backup-jobs', headers: { 'x-api-key': tenant.apiKey }, payload: { name: agent, agent, database: 'shop', ...settings } });
      expect(response.statusCode, response.body).toBe(201);
      const job = response.json();
      return { id: job.id as string, agent, agentRoot: join(zones.depositDir, tenant.tenantId, agent), depositPath: job.deposit_path as string, job };
    },
    async close() {
      await ctx.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Every file under a directory, relative and sorted, for "nothing written elsewhere" checks ([] when it is missing). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}
