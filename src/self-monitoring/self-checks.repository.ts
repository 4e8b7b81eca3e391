/** The `self_checks` table: which monitor of kind `self` watches which part of Vigie. */
import type { Db } from '../db/database.js';
import type { MonitorState } from '../monitors/kinds.js';
import { latestMessage } from '../monitors/results-history.js';
import { SELF_SERVICES, type SelfService } from './self-services.js';

export interface SelfCheckRow {
  monitorId: string;
  service: SelfService;
  name: string;
  state: MonitorState;
  isActive: boolean;
  intervalSeconds: number | null;
  lastCheckedAt: number | null;
  stateChangedAt: number | null;
}

const isSelfService = (value: string): value is SelfService => (SELF_SERVICES as readonly string[]).includes(value);

/** A tenant's self checks with their monitors, in SELF_SERVICES order. */
export async function listSelfChecks(db: Db, tenantId: string): Promise<SelfCheckRow[]> {
  const rows = await db
    .selectFrom('self_checks')
    .innerJoin('monitors', 'monitors.id', 'self_checks.monitor_id')
    .select([
      'self_checks.monitor_id',
      'self_checks.service',
      'monitors.name',
      'monitors.state',
      'monitors.is_active',
      'monitors.interval_seconds',
      'monitors.last_checked_at',
      'monitors.state_changed_at',
    ])
    .where('self_checks.tenant_id', '=', tenantId)
    .where('monitors.tenant_id', '=', tenantId)
    .execute();
  return rows
    .filter((row) => isSelfService(row.service))
    .map((row) => ({
      monitorId: row.monitor_id,
      service: row.service as SelfService,
      name: row.name,
      state: row.state as MonitorState,
      isActive: row.is_active === 1,
      intervalSeconds: row.interval_seconds,
      lastCheckedAt: row.last_checked_at,
      stateChangedAt: row.state_changed_at,
    }))
    .sort((a, b) => SELF_SERVICES.indexOf(a.service) - SELF_SERVICES.indexOf(b.service));
}

/** The service a self check watches, for its checker (which has the monitor id the scheduler claimed). */
export async function serviceOfSelfCheck(db: Db, monitorId: string): Promise<SelfService | undefined> {
  const row = await db.selectFrom('self_checks').select('service').where('monitor_id', '=', monitorId).executeTakeFirst();
  return row && isSelfService(row.service) ? row.service : undefined;
}

/** The message of each monitor's latest result, for the status page. */
export async function latestMessages(db: Db, monitorIds: readonly string[]): Promise<Map<string, string | null>> {
  const messages = new Map<string, string | null>();
  for (const monitorId of monitorIds) {
    messages.set(monitorId, (await latestMessage(db, monitorId)) ?? null);
  }
  return messages;
}
