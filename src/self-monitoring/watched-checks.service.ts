/**
 * A tenant's watched checks (watched-checks.ts): listed, paused and resumed, whatever their
 * kind. Each kind that seed 002 lists (its registry entry declares `watched`) says how its
 * monitors read there; pausing and resuming go through the monitor core, which runs the kind's
 * own hooks (a heartbeat also clears its deadlines), or through the kind's own API when it has
 * one (a heartbeat pauses and resumes as through Healthchecks' v3: resuming one that is not
 * paused is a 409). A check is named by its monitor id or, for a heartbeat, by its ping UUID
 * (what Healthchecks clients know). An id of another kind or tenant is a 404.
 */
import type { Db } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import type { WatchedKindHandlers } from '../kinds/contract.js';
import type { MonitorKind } from '../monitors/kinds.js';
import type { MonitorsService } from '../monitors/monitors.service.js';
import { countsByStatus, dashboardOf, type Dashboard, type WatchedCheck } from './watched-checks.js';

export function createWatchedChecks({ db, monitors, kinds }: { db: Db; monitors: MonitorsService; kinds: ReadonlyMap<MonitorKind, WatchedKindHandlers> }) {
  /** The check an id names: a monitor id, or another id a kind's clients use (a heartbeat's ping UUID). */
  async function locate(tenantId: string, id: string): Promise<{ handlers: WatchedKindHandlers; monitorId: string }> {
    const row = await db.selectFrom('monitors').select('kind').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    if (row) {
      const handlers = kinds.get(row.kind as MonitorKind);
      if (!handlers) throw new NotFoundError('Check'); // a monitor of a kind seed 002 does not list
      return { handlers, monitorId: id };
    }
    for (const handlers of kinds.values()) {
      const monitorId = await handlers.monitorIdOf?.(tenantId, id);
      if (monitorId) return { handlers, monitorId };
    }
    throw new NotFoundError('Check');
  }

  async function list(tenantId: string): Promise<WatchedCheck[]> {
    return (await Promise.all([...kinds.values()].map((handlers) => handlers.list(tenantId)))).flat();
  }

  async function act(action: 'pause' | 'resume', tenantId: string, id: string): Promise<WatchedCheck> {
    const { handlers, monitorId } = await locate(tenantId, id);
    const own = handlers[action];
    if (!own) return handlers.read(tenantId, await monitors[action](tenantId, monitorId));
    await own(tenantId, monitorId);
    return handlers.read(tenantId, await monitors.get(tenantId, monitorId));
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
