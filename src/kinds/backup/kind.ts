/**
 * Kind `backup` (seed 001): a passive kind. Agents deposit files and a STATUS.json; the scanner
 * validates, promotes and judges each run, and the MISSING sweep judges the runs that did not
 * come. Both record through the core recorder, so alerts take the same pipeline as every kind.
 */
import type { Config } from '../../config.js';
import { checkResultsHistory } from '../../monitors/results-history.js';
import { defineKind } from '../contract.js';
import { mergedHistory } from '../history.js';
import { intervalLoop, type BackgroundLoop } from '../loops.js';
import { runHistory } from './history.js';
import { createBackupJobsService } from './jobs.service.js';
import { createMissingSweep } from './missing-sweep.js';
import { registerBackupRoutes } from './routes.js';
import { registerDepositRoutes } from './deposit-routes.js';
import { createBackupScanner } from './scanner.js';
import { deadlinesAfter } from './schedule.js';
import { findBackupJob, updateBackupJob } from './jobs.repository.js';
import { ensureZones, zonesOf } from './zones.js';

/** How often MISSING deadlines are looked at. */
const SWEEP_INTERVAL_MS = 5000;

const DAY_MS = 86_400_000;

/** The scanner's settings from the environment (BACKUP_*). */
export const scannerSettings = (config: Pick<Config, 'backupSettleSeconds' | 'backupQuarantineRetentionDays' | 'backupRunRetentionDays' | 'backupClaimLeaseSeconds'>) => ({
  settleMs: config.backupSettleSeconds * 1000,
  quarantineRetentionMs: config.backupQuarantineRetentionDays * DAY_MS,
  runRetentionMs: config.backupRunRetentionDays * DAY_MS,
  leaseMs: config.backupClaimLeaseSeconds * 1000,
});

export const backupKind = defineKind({
  kind: 'backup',
  settingsTable: 'backup_jobs',
  services: (host) => ({
    backupJobs: createBackupJobsService(host),
    backupMissingSweep: createMissingSweep(host),
    /** The recorder the scanner (built by the loops, which know the zones) judges runs through. */
    backupRecorder: host.recorder,
  }),
  async onPause(trx, monitor) {
    await updateBackupJob(trx, monitor.tenantId, monitor.id, { expectedAt: null, missingAt: null });
  },
  async onResume(trx, monitor, at) {
    const job = await findBackupJob(trx, monitor.tenantId, monitor.id);
    if (job) await updateBackupJob(trx, monitor.tenantId, monitor.id, deadlinesAfter(job, at));
  },
  history: mergedHistory(runHistory, checkResultsHistory('sweep')),
  loops(runtime, own): BackgroundLoop[] {
    const zones = zonesOf(runtime.config);
    const scanner = createBackupScanner({
      db: runtime.db,
      clock: runtime.clock,
      recorder: own.backupRecorder,
      zones,
      logger: runtime.logger,
      ...scannerSettings(runtime.config),
    });
    const scan = intervalLoop('backup scanner', runtime.config.backupScanSeconds * 1000, () => scanner.pass(), runtime.logger);
    return [
      {
        name: 'backup scanner',
        // The zones exist and an interrupted promotion is finished before the first pass.
        async start() {
          await ensureZones(zones);
          await scanner.recover();
          void scan.start();
        },
        stop: () => scan.stop(),
      },
      intervalLoop('backup missing sweep', SWEEP_INTERVAL_MS, () => own.backupMissingSweep.run(), runtime.logger),
    ];
  },
  routes: (app, own, deps) => (registerBackupRoutes(app, own, deps), registerDepositRoutes(app, deps)),
  isolationRoutes: [
    { method: 'GET', url: '/api/v1/backup-jobs/{id}' },
    { method: 'PATCH', url: '/api/v1/backup-jobs/{id}', payload: { name: 'taken over' } },
    { method: 'POST', url: '/api/v1/backup-jobs/{id}/pause' },
    { method: 'POST', url: '/api/v1/backup-jobs/{id}/resume' },
    { method: 'GET', url: '/api/v1/backup-jobs/{id}/runs' },
    { method: 'POST', url: '/api/v1/backup-jobs/{id}/accept-size' },
    { method: 'GET', url: '/api/jobs/{id}/history' },
    {
      method: 'POST',
      url: '/api/v1/backup-jobs/{id}/runs/r1/report',
      payload: {
        status: 'failure',
        started_at: '2026-12-05T02:00:00Z',
        finished_at: '2026-12-05T02:01:00Z',
        files: [],
        manifest_sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    },
    { method: 'DELETE', url: '/api/v1/backup-jobs/{id}' },
  ],
  example: async (own, tenantId) => ({ id: (await own.backupJobs.create(tenantId, { name: 'example backup', agent: 'db-host-1', database: 'shop' })).monitorId }),
});
