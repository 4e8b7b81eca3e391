import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { unknownChannelIds } from '../alerting/channels.repository.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { deleteMonitor, findMonitor, listMonitors, replaceMonitorChannels, updateMonitor, type Monitor, type MonitorFilters } from './monitors.repository.js';
import type { ResultRecorder } from './results.service.js';
import { computeUptime } from './uptime.js';
import { checkResultsHistory } from './results-history.js';

export interface ResultRow {
  at: number;
  status: string;
  latencyMs: number | null;
  value: number | null;
  message: string | null;
}

/** Operations common to monitors of every kind. Kind-specific creation lives with the kind. */
export function createMonitorsService({ db, clock, recorder }: { db: Db; clock: Clock; recorder: ResultRecorder }) {
  const get = async (tenantId: string, monitorId: string): Promise<Monitor> => {
    const monitor = await findMonitor(db, tenantId, monitorId);
    if (!monitor) throw new NotFoundError('Monitor');
    return monitor;
  };

  return {
    get,
    list: (tenantId: string, filters: MonitorFilters) => listMonitors(db, tenantId, filters),

    async pause(tenantId: string, monitorId: string): Promise<Monitor> {
      await get(tenantId, monitorId);
      await updateMonitor(db, tenantId, monitorId, { isActive: false, nextDueAt: null }, clock.now());
      await recorder.setState(monitorId, 'paused', 'paused by a user');
      return get(tenantId, monitorId);
    },

    async resume(tenantId: string, monitorId: string): Promise<Monitor> {
      const monitor = await get(tenantId, monitorId);
      if (monitor.isActive) return monitor;
      const now = clock.now();
      await updateMonitor(db, tenantId, monitorId, { isActive: true, nextDueAt: monitor.intervalSeconds ? now : null }, now);
      await recorder.setState(monitorId, 'pending', 'resumed by a user');
      return get(tenantId, monitorId);
    },

    /** Where a monitor's alerts go (null: every channel of the tenant) and how often it reminds. */
    async updateAlerting(tenantId: string, monitorId: string, changes: { channelIds?: string[] | null; repeatIntervalSeconds?: number | null }): Promise<Monitor> {
      await get(tenantId, monitorId);
      const channelIds = changes.channelIds;
      if (channelIds) {
        const unknown = new Set(await unknownChannelIds(db, tenantId, channelIds));
        const problems = channelIds.flatMap((id, i) => (unknown.has(id) ? [{ loc: ['body', 'channel_ids', i], msg: `No channel ${id} in this tenant`, type: 'value_error' }] : []));
        if (problems.length) throw new ValidationError(problems);
      }
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        if (channelIds !== undefined) await replaceMonitorChannels(trx, tenantId, monitorId, channelIds, now);
        if (changes.repeatIntervalSeconds !== undefined) await updateMonitor(trx, tenantId, monitorId, { repeatIntervalSeconds: changes.repeatIntervalSeconds }, now);
      });
      return get(tenantId, monitorId);
    },

    async remove(tenantId: string, monitorId: string): Promise<void> {
      if (!(await deleteMonitor(db, tenantId, monitorId))) throw new NotFoundError('Monitor');
    },

    /** The newest results first; `before` pages backwards in time. */
    async results(tenantId: string, monitorId: string, options: { limit: number; before?: number }): Promise<ResultRow[]> {
      await get(tenantId, monitorId);
      const entries = await checkResultsHistory.latest(db, monitorId, options);
      return entries.map((e) => ({ at: e.at, status: e.status, latencyMs: e.latencyMs, value: e.value, message: e.message }));
    },

    async uptime(tenantId: string, monitorId: string) {
      await get(tenantId, monitorId);
      return computeUptime(db, monitorId, checkResultsHistory, clock.now());
    },
  };
}

export type MonitorsService = ReturnType<typeof createMonitorsService>;
