/**
 * Backup jobs (seed 001): a monitor of kind `backup` plus what the server expects of it. Created,
 * read, changed and deleted here; the scanner (scanner.ts) and the sweep (missing-sweep.ts) act
 * on what the agents deposit and on what does not come.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { scheduleProblem } from '../../heartbeats/schedule.js';
import { createMonitorWithSettings } from '../../monitors/create-monitor.js';
import { findMonitor, replaceMonitorChannels, replaceTags, unknownChannelIds, updateMonitor, type Monitor } from '../../monitors/monitors.repository.js';
import type { MonitorsService } from '../../monitors/monitors.service.js';
import { findBackupJob, listBackupJobs, toJobColumns, updateBackupJob, type BackupJobSettings } from './jobs.repository.js';
import { isSafeName } from './paths.js';
import { listRuns, type RunFilters } from './runs.repository.js';
import { acceptLatestSize } from './accept-size.js';
import type { ResultRecorder } from '../../monitors/results.service.js';
import { deadlinesAfter } from './schedule.js';

export const BACKUP_DEFAULTS = {
  intervalSeconds: 86_400,
  tz: 'UTC',
  graceSeconds: 3600,
  sizeAnomalyPercent: 50,
  sizeAnomalyFloorBytes: 10 * 1024 * 1024,
  sizeWindow: 5,
  keepHealthy: 1,
  allowedUnchangedRuns: 0,
  /** One failed run is worth an alert: a backup is not retried every minute like a probe. */
  failureThreshold: 1,
} as const;

export interface BackupJobInput {
  name: string;
  agent: string;
  database: string;
  intervalSeconds?: number | null;
  schedule?: string | null;
  tz?: string;
  graceSeconds?: number;
  sizeAnomalyPercent?: number;
  sizeAnomalyFloorBytes?: number;
  sizeWindow?: number;
  keepHealthy?: number;
  allowedUnchangedRuns?: number;
  tags?: string[];
  channelIds?: string[] | null;
  failureThreshold?: number | null;
  isActive?: boolean;
}

export interface BackupJob extends BackupJobSettings {
  monitor: Monitor;
}

function checkAgent(agent: string | undefined): void {
  if (agent !== undefined && !isSafeName(agent)) {
    throw ValidationError.field(['body', 'agent'], 'An agent name is a directory name: letters, digits, dot, dash and underscore, not starting with a dot', 'value_error');
  }
}

function checkSchedule(schedule: string | null | undefined, tz: string): void {
  if (schedule === undefined || schedule === null) return;
  const problem = scheduleProblem(schedule, tz);
  if (problem) throw ValidationError.field(['body', 'schedule'], problem, 'value_error');
}

async function checkChannels(db: Db, tenantId: string, channelIds: string[] | null | undefined): Promise<void> {
  const unknown = await unknownChannelIds(db, tenantId, channelIds ?? []);
  if (unknown.length) throw ValidationError.field(['body', 'channel_ids'], `Unknown channel(s): ${unknown.join(', ')}`, 'value_error');
}

export function createBackupJobsService({ db, clock, monitors, recorder }: { db: Db; clock: Clock; monitors: MonitorsService; recorder: ResultRecorder }) {
  const get = async (tenantId: string, monitorId: string): Promise<BackupJob> => {
    const [monitor, settings] = await Promise.all([findMonitor(db, tenantId, monitorId), findBackupJob(db, tenantId, monitorId)]);
    if (!monitor || !settings) throw new NotFoundError('Backup job');
    return { ...settings, monitor };
  };

  return {
    get,

    async create(tenantId: string, input: BackupJobInput): Promise<BackupJob> {
      checkAgent(input.agent);
      const tz = input.tz ?? BACKUP_DEFAULTS.tz;
      checkSchedule(input.schedule, tz);
      await checkChannels(db, tenantId, input.channelIds);
      const id = randomUUID();
      const now = clock.now();
      const schedule = input.schedule ?? null;
      const settings = {
        agent: input.agent,
        database: input.database,
        intervalSeconds: schedule === null ? (input.intervalSeconds ?? BACKUP_DEFAULTS.intervalSeconds) : null,
        schedule,
        tz,
        graceSeconds: input.graceSeconds ?? BACKUP_DEFAULTS.graceSeconds,
        sizeAnomalyPercent: input.sizeAnomalyPercent ?? BACKUP_DEFAULTS.sizeAnomalyPercent,
        sizeAnomalyFloorBytes: input.sizeAnomalyFloorBytes ?? BACKUP_DEFAULTS.sizeAnomalyFloorBytes,
        sizeWindow: input.sizeWindow ?? BACKUP_DEFAULTS.sizeWindow,
        keepHealthy: input.keepHealthy ?? BACKUP_DEFAULTS.keepHealthy,
        allowedUnchangedRuns: input.allowedUnchangedRuns ?? BACKUP_DEFAULTS.allowedUnchangedRuns,
      };
      const isActive = input.isActive ?? true;
      const deadlines = isActive ? deadlinesAfter(settings, now) : { expectedAt: null, missingAt: null };
      await db.transaction().execute(async (trx) => {
        await createMonitorWithSettings(
          trx,
          {
            id,
            tenantId,
            kind: 'backup',
            name: input.name,
            tags: input.tags,
            isActive,
            failureThreshold: input.failureThreshold === undefined ? BACKUP_DEFAULTS.failureThreshold : input.failureThreshold,
            now,
          },
          'backup_jobs',
          toJobColumns({ ...settings, ...deadlines }) as never,
        );
        if (input.channelIds !== undefined) await replaceMonitorChannels(trx, tenantId, id, input.channelIds, now);
      });
      return get(tenantId, id);
    },

    list: async (tenantId: string): Promise<BackupJob[]> => {
      const [settings, all] = await Promise.all([listBackupJobs(db, tenantId), monitors.list(tenantId, { kind: 'backup', limit: 100_000, offset: 0 })]);
      const byId = new Map(all.items.map((m) => [m.id, m]));
      return settings.filter((s) => byId.has(s.monitorId)).map((s) => ({ ...s, monitor: byId.get(s.monitorId)! }));
    },

    async update(tenantId: string, monitorId: string, input: Partial<BackupJobInput>): Promise<BackupJob> {
      const current = await get(tenantId, monitorId);
      checkAgent(input.agent);
      const tz = input.tz ?? current.tz;
      const schedule = input.schedule === undefined ? current.schedule : input.schedule;
      checkSchedule(schedule, tz);
      await checkChannels(db, tenantId, input.channelIds);
      const now = clock.now();
      // A cron schedule replaces the interval and the other way round.
      const intervalSeconds = schedule !== null ? null : (input.intervalSeconds ?? current.intervalSeconds ?? BACKUP_DEFAULTS.intervalSeconds);
      const next = { ...current, ...definedOf(input), tz, schedule, intervalSeconds };
      const scheduleChanged = next.schedule !== current.schedule || next.intervalSeconds !== current.intervalSeconds || next.tz !== current.tz || next.graceSeconds !== current.graceSeconds;
      const deadlines = scheduleChanged && current.monitor.isActive ? deadlinesAfter(next, current.lastRunAt ?? now) : {};
      await db.transaction().execute(async (trx) => {
        await updateMonitor(trx, tenantId, monitorId, { name: input.name, failureThreshold: input.failureThreshold }, now);
        if (input.tags !== undefined) await replaceTags(trx, tenantId, monitorId, input.tags);
        if (input.channelIds !== undefined) await replaceMonitorChannels(trx, tenantId, monitorId, input.channelIds, now);
        await updateBackupJob(trx, tenantId, monitorId, { ...pickSettings(next), ...deadlines });
      });
      if (input.isActive === false) await monitors.pause(tenantId, monitorId);
      if (input.isActive === true) await monitors.resume(tenantId, monitorId);
      return get(tenantId, monitorId);
    },

    remove: (tenantId: string, monitorId: string) => get(tenantId, monitorId).then(() => monitors.remove(tenantId, monitorId)),
    pause: (tenantId: string, monitorId: string) => get(tenantId, monitorId).then(() => monitors.pause(tenantId, monitorId)),
    resume: (tenantId: string, monitorId: string) => get(tenantId, monitorId).then(() => monitors.resume(tenantId, monitorId)),

    /** Accepts the size of the job's latest run, a SIZE_ANOMALY (accept-size.ts); 409 otherwise. */
    async acceptSize(tenantId: string, monitorId: string): Promise<BackupJob> {
      await get(tenantId, monitorId);
      await acceptLatestSize({ db, clock, recorder }, tenantId, monitorId);
      return get(tenantId, monitorId);
    },

    /** A job's runs, newest first (404 for a job of another tenant). */
    async runs(tenantId: string, monitorId: string, filters: RunFilters) {
      await get(tenantId, monitorId);
      return listRuns(db, tenantId, monitorId, filters);
    },
  };
}

function definedOf(input: Partial<BackupJobInput>) {
  const settings = {
    agent: input.agent,
    database: input.database,
    graceSeconds: input.graceSeconds,
    sizeAnomalyPercent: input.sizeAnomalyPercent,
    sizeAnomalyFloorBytes: input.sizeAnomalyFloorBytes,
    sizeWindow: input.sizeWindow,
    keepHealthy: input.keepHealthy,
    allowedUnchangedRuns: input.allowedUnchangedRuns,
  };
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as Partial<BackupJobSettings>;
}

const pickSettings = (job: BackupJobSettings) => ({
  agent: job.agent,
  database: job.database,
  intervalSeconds: job.intervalSeconds,
  schedule: job.schedule,
  tz: job.tz,
  graceSeconds: job.graceSeconds,
  sizeAnomalyPercent: job.sizeAnomalyPercent,
  sizeAnomalyFloorBytes: job.sizeAnomalyFloorBytes,
  sizeWindow: job.sizeWindow,
  keepHealthy: job.keepHealthy,
  allowedUnchangedRuns: job.allowedUnchangedRuns,
});

export type BackupJobsService = ReturnType<typeof createBackupJobsService>;
