/**
 * A tenant's watched checks (watched-checks.ts): listed, paused and resumed, whatever their
 * kind. Each kind does its own pausing (a heartbeat check also clears its deadlines), through
 * its service, chosen from a registry by kind; an id of another kind or tenant is a 404.
 */
import type { Db } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import type { HeartbeatCheck } from '../heartbeats/heartbeats.repository.js';
import { listHeartbeats } from '../heartbeats/heartbeats.repository.js';
import type { HeartbeatsService } from '../heartbeats/heartbeats.service.js';
import type { Monitor } from '../monitors/monitors.repository.js';
import type { MonitorsService } from '../monitors/monitors.service.js';
import { countsByStatus, dashboardOf, WATCHED_KINDS, type Dashboard, type WatchedCheck, type WatchedKind } from './watched-checks.js';

/** Enough for any tenant; the list is not paginated, as the seed's is not. */
const ALL = { limit: 100_000, offset: 0 } as const;

function fromHeartbeat(check: HeartbeatCheck, monitor: Pick<Monitor, 'stateChangedAt'> | undefined): WatchedCheck {
  const failingSince =
    check.status === 'down' ? (monitor?.stateChangedAt ?? null) : check.status === 'grace' && check.alertAfter !== null ? check.alertAfter - check.graceSeconds * 1000 : null;
  return { id: check.id, name: check.name, kind: 'heartbeat', status: check.status, lastPingAt: check.lastPingAt, tags: check.tags, failingSince };
}

function fromSelfMonitor(monitor: Monitor): WatchedCheck {
  const failing = monitor.state === 'down' || monitor.state === 'warning';
  return { id: monitor.id, name: monitor.name, kind: 'self', status: monitor.state, lastPingAt: monitor.lastCheckedAt, tags: monitor.tags, failingSince: failing ? monitor.stateChangedAt : null };
}

export function createWatchedChecks({ db, heartbeats, monitors }: { db: Db; heartbeats: HeartbeatsService; monitors: MonitorsService }) {
  /** Each kind's own reading, pause and resume. Resuming a check that is not paused changes nothing. */
  const KINDS: Record<WatchedKind, {
    read(tenantId: string, monitor: Monitor): Promise<WatchedCheck>;
    pause(tenantId: string, id: string): Promise<unknown>;
    resume(tenantId: string, id: string): Promise<unknown>;
  }> = {
    heartbeat: {
      read: async (tenantId, monitor) => fromHeartbeat(await heartbeats.get(tenantId, monitor.id), monitor),
      pause: (tenantId, id) => heartbeats.pause(tenantId, id),
      resume: async (tenantId, id) => {
        if ((await heartbeats.get(tenantId, id)).status === 'paused') await heartbeats.resume(tenantId, id);
      },
    },
    self: {
      read: async (_tenantId, monitor) => fromSelfMonitor(monitor),
      pause: (tenantId, id) => monitors.pause(tenantId, id),
      resume: (tenantId, id) => monitors.resume(tenantId, id),
    },
  };

  async function kindOf(tenantId: string, id: string): Promise<WatchedKind> {
    const row = await db.selectFrom('monitors').select('kind').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    const kind = WATCHED_KINDS.find((k) => k === row?.kind);
    if (!kind) throw new NotFoundError('Check');
    return kind;
  }

  async function list(tenantId: string): Promise<WatchedCheck[]> {
    const [beats, beatMonitors, selfMonitors] = await Promise.all([
      listHeartbeats(db, tenantId),
      monitors.list(tenantId, { kind: 'heartbeat', ...ALL }),
      monitors.list(tenantId, { kind: 'self', ...ALL }),
    ]);
    const byId = new Map(beatMonitors.items.map((m) => [m.id, m]));
    return [...beats.map((check) => fromHeartbeat(check, byId.get(check.id))), ...selfMonitors.items.map(fromSelfMonitor)];
  }

  async function act(action: 'pause' | 'resume', tenantId: string, id: string): Promise<WatchedCheck> {
    const kind = await kindOf(tenantId, id);
    await KINDS[kind][action](tenantId, id);
    return KINDS[kind].read(tenantId, await monitors.get(tenantId, id));
  }

  return {
    list,
    pause: (tenantId: string, id: string) => act('pause', tenantId, id),
    resume: (tenantId: string, id: string) => act('resume', tenantId, id),
    dashboard: async (tenantId: string): Promise<Dashboard> => dashboardOf(await list(tenantId)),
    countsByStatus: async (tenantId: string) => countsByStatus(await list(tenantId)),
  };
}

export type WatchedChecks = ReturnType<typeof createWatchedChecks>;
