import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { HistoryEntry, HistorySource } from '../kinds/history.js';
import type { MonitorKind } from './kinds.js';
import { deleteMonitor, findMonitor, listMonitors, replaceMonitorChannels, unknownChannelIds, updateMonitor, type Monitor, type MonitorFilters } from './monitors.repository.js';
import type { ResultRecorder } from './results.service.js';
import { computeUptime } from './uptime.js';

export type ResultRow = HistoryEntry;

/** What the monitor core asks of a monitor's kind (kinds/contract.ts), given by the registry. */
export interface KindHooks {
  readonly history: HistorySource;
  onPause?(trx: Db, monitor: Pick<Monitor, 'id' | 'tenantId'>, at: number): Promise<void>;
  onResume?(trx: Db, monitor: Pick<Monitor, 'id' | 'tenantId'>, at: number): Promise<void>;
  lastActivity?(db: Db, tenantId: string, monitorIds: readonly string[]): Promise<Map<string, number | null>>;
}

export interface MonitorsServiceOptions {
  db: Db;
  clock: Clock;
  recorder: ResultRecorder;
  hooksOf: (kind: MonitorKind) => KindHooks;
}

/**
 * Operations common to monitors of every kind. Kind-specific creation lives with the kind; what a
 * kind adds to pausing, resuming, reading and history comes through its hooks.
 */
export function createMonitorsService({ db, clock, recorder, hooksOf }: MonitorsServiceOptions) {
  /** A kind that keeps its monitors' last activity in its own table overrides the monitor row's. */
  async function withLastActivity(tenantId: string, monitors: Monitor[]): Promise<Monitor[]> {
    const byKind = new Map<MonitorKind, Monitor[]>();
    for (const monitor of monitors) if (hooksOf(monitor.kind).lastActivity) byKind.set(monitor.kind, [...(byKind.get(monitor.kind) ?? []), monitor]);
    for (const [kind, ofKind] of byKind) {
      const seen = await hooksOf(kind).lastActivity!(
        db,
        tenantId,
        ofKind.map((m) => m.id),
      );
      for (const monitor of ofKind) monitor.lastCheckedAt = seen.get(monitor.id) ?? monitor.lastCheckedAt;
    }
    return monitors;
  }

  const get = async (tenantId: string, monitorId: string): Promise<Monitor> => {
    const monitor = await findMonitor(db, tenantId, monitorId);
    if (!monitor) throw new NotFoundError('Monitor');
    return (await withLastActivity(tenantId, [monitor]))[0]!;
  };

  return {
    get,
    async list(tenantId: string, filters: MonitorFilters) {
      const page = await listMonitors(db, tenantId, filters);
      return { ...page, items: await withLastActivity(tenantId, page.items) };
    },

    /**
     * Paused, whatever route asked (this one, seed 002's, Healthchecks'): no schedule, no alerts,
     * an open incident resolved, and the kind's own state paused in the same transaction.
     */
    async pause(tenantId: string, monitorId: string): Promise<Monitor> {
      const monitor = await get(tenantId, monitorId);
      const hooks = hooksOf(monitor.kind);
      const now = clock.now();
      const written = await db.transaction().execute(async (trx) => {
        await updateMonitor(trx, tenantId, monitorId, { isActive: false, nextDueAt: null }, now);
        await hooks.onPause?.(trx, monitor, now);
        return { ...(await recorder.setStateWithin(trx, monitorId, 'paused', 'paused by a user', now)), events: recorder.staged(trx) };
      });
      recorder.committed(written.events);
      if (written?.alerted) recorder.alertWritten();
      return get(tenantId, monitorId);
    },

    /** Back to `pending` (its next result decides), scheduled at once for active kinds. Resuming a running monitor changes nothing. */
    async resume(tenantId: string, monitorId: string): Promise<Monitor> {
      const monitor = await get(tenantId, monitorId);
      if (monitor.isActive) return monitor;
      const hooks = hooksOf(monitor.kind);
      const now = clock.now();
      const written = await db.transaction().execute(async (trx) => {
        await updateMonitor(trx, tenantId, monitorId, { isActive: true, nextDueAt: monitor.intervalSeconds ? now : null }, now);
        await hooks.onResume?.(trx, monitor, now);
        return { ...(await recorder.setStateWithin(trx, monitorId, 'pending', 'resumed by a user', now)), events: recorder.staged(trx) };
      });
      recorder.committed(written.events);
      if (written?.alerted) recorder.alertWritten();
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

    /** What the monitor's kind recorded (checks, pings, ingests, verdicts), newest first; `before` pages backwards in time. */
    async results(tenantId: string, monitorId: string, options: { limit: number; before?: number }): Promise<ResultRow[]> {
      const monitor = await get(tenantId, monitorId);
      return hooksOf(monitor.kind).history.latest(db, monitorId, options);
    },

    async uptime(tenantId: string, monitorId: string) {
      const monitor = await get(tenantId, monitorId);
      return computeUptime(db, monitorId, hooksOf(monitor.kind).history, clock.now());
    },
  };
}

export type MonitorsService = ReturnType<typeof createMonitorsService>;
