/**
 * A tenant's watched checks (watched-checks.ts): listed, paused and resumed, whatever their
 * kind. Each kind that seed 002 lists (its registry entry declares `watched`) says how its
 * monitors read there; pausing and resuming go through the monitor core, which runs the kind's
 * own hooks (a heartbeat also clears its deadlines). An id of another kind or tenant is a 404.
 */
import type { Db } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import type { WatchedKindHandlers } from '../kinds/contract.js';
import type { MonitorKind } from '../monitors/kinds.js';
import type { MonitorsService } from '../monitors/monitors.service.js';
import { countsByStatus, dashboardOf, type Dashboard, type WatchedCheck } from './watched-checks.js';

export function createWatchedChecks({ db, monitors, kinds }: { db: Db; monitors: MonitorsService; kinds: ReadonlyMap<MonitorKind, WatchedKindHandlers> }) {
  async function handlersOf(tenantId: string, id: string): Promise<WatchedKindHandlers> {
    const row = await db.selectFrom('monitors').select('kind').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    const handlers = row && kinds.get(row.kind as MonitorKind);
    if (!handlers) throw new NotFoundError('Check');
    return handlers;
  }

  async function list(tenantId: string): Promise<WatchedCheck[]> {
    return (await Promise.all([...kinds.values()].map((handlers) => handlers.list(tenantId)))).flat();
  }

  async function act(action: 'pause' | 'resume', tenantId: string, id: string): Promise<WatchedCheck> {
    const handlers = await handlersOf(tenantId, id);
    return handlers.read(tenantId, await monitors[action](tenantId, id));
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
