import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { MonitorsTable } from '../db/tables/monitors.table.js';
import type { MonitorKind, MonitorState } from './kinds.js';

export interface Monitor {
  id: string;
  tenantId: string;
  kind: MonitorKind;
  name: string;
  tags: string[];
  isActive: boolean;
  state: MonitorState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  failureThreshold: number | null;
  recoveryThreshold: number;
  intervalSeconds: number | null;
  lastCheckedAt: number | null;
  nextDueAt: number | null;
  stateChangedAt: number | null;
  /** Null: the tenant's repeat interval applies; 0: no reminders. */
  repeatIntervalSeconds: number | null;
  /** Null: every channel of the tenant; otherwise only these. */
  channelIds: string[] | null;
  createdAt: number;
  updatedAt: number;
}

export interface MonitorFilters {
  kind?: MonitorKind;
  state?: MonitorState;
  tag?: string;
  search?: string;
  limit: number;
  offset: number;
}

type Row = Omit<MonitorsTable, 'is_active' | 'state' | 'consecutive_failures' | 'consecutive_successes' | 'recovery_threshold' | 'version' | 'all_channels'> & {
  is_active: number;
  all_channels: number;
  state: string;
  consecutive_failures: number;
  consecutive_successes: number;
  recovery_threshold: number;
};

const toMonitor = (row: Row, tags: string[], channels: string[]): Monitor => ({
  id: row.id,
  tenantId: row.tenant_id,
  kind: row.kind as MonitorKind,
  name: row.name,
  tags,
  isActive: row.is_active === 1,
  state: row.state as MonitorState,
  consecutiveFailures: row.consecutive_failures,
  consecutiveSuccesses: row.consecutive_successes,
  failureThreshold: row.failure_threshold,
  recoveryThreshold: row.recovery_threshold,
  intervalSeconds: row.interval_seconds,
  lastCheckedAt: row.last_checked_at,
  nextDueAt: row.next_due_at,
  stateChangedAt: row.state_changed_at,
  repeatIntervalSeconds: row.repeat_interval_seconds,
  channelIds: row.all_channels === 1 ? null : channels,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export type NewMonitor = Pick<Monitor, 'id' | 'tenantId' | 'kind' | 'name' | 'tags' | 'isActive' | 'failureThreshold' | 'recoveryThreshold' | 'intervalSeconds' | 'nextDueAt'> & {
  now: number;
};

export async function insertMonitor(db: Db, monitor: NewMonitor): Promise<void> {
  await db
    .insertInto('monitors')
    .values({
      id: monitor.id,
      tenant_id: monitor.tenantId,
      kind: monitor.kind,
      name: monitor.name,
      is_active: monitor.isActive ? 1 : 0,
      state: monitor.isActive ? 'pending' : 'paused',
      failure_threshold: monitor.failureThreshold,
      recovery_threshold: monitor.recoveryThreshold,
      interval_seconds: monitor.intervalSeconds,
      last_checked_at: null,
      next_due_at: monitor.isActive ? monitor.nextDueAt : null,
      state_changed_at: monitor.now,
      created_at: monitor.now,
      updated_at: monitor.now,
    })
    .execute();
  await replaceTags(db, monitor.tenantId, monitor.id, monitor.tags);
}

export async function replaceTags(db: Db, tenantId: string, monitorId: string, tags: string[]): Promise<void> {
  await db.deleteFrom('monitor_tags').where('monitor_id', '=', monitorId).where('tenant_id', '=', tenantId).execute();
  const unique = [...new Set(tags)];
  if (unique.length) {
    await db
      .insertInto('monitor_tags')
      .values(unique.map((tag) => ({ monitor_id: monitorId, tenant_id: tenantId, tag })))
      .execute();
  }
}

/** The ids among `channelIds` that are not channels of this tenant (a monitor's own channel list is checked with it). */
export async function unknownChannelIds(db: Db, tenantId: string, channelIds: readonly string[]): Promise<string[]> {
  if (channelIds.length === 0) return [];
  const rows = await db
    .selectFrom('channels')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', [...channelIds])
    .execute();
  const known = new Set(rows.map((r) => r.id));
  return channelIds.filter((id) => !known.has(id));
}

/**
 * Replaces a monitor's own channel list; null goes back to "every channel of the tenant".
 * The caller has checked that the channels are the tenant's.
 */
export async function replaceMonitorChannels(db: Db, tenantId: string, monitorId: string, channelIds: string[] | null, now: number): Promise<void> {
  await db.deleteFrom('monitor_channels').where('monitor_id', '=', monitorId).where('tenant_id', '=', tenantId).execute();
  const unique = [...new Set(channelIds ?? [])];
  if (unique.length) {
    await db
      .insertInto('monitor_channels')
      .values(unique.map((channel_id) => ({ monitor_id: monitorId, channel_id, tenant_id: tenantId })))
      .execute();
  }
  await db
    .updateTable('monitors')
    .set({ all_channels: channelIds === null ? 1 : 0, updated_at: now })
    .where('id', '=', monitorId)
    .where('tenant_id', '=', tenantId)
    .execute();
}

/** Rows of a side table keyed by monitor (its tags, its own channels), grouped per monitor. */
function groupByMonitor(monitorIds: readonly string[], rows: readonly { monitor_id: string; value: string }[]): Map<string, string[]> {
  const byMonitor = new Map<string, string[]>(monitorIds.map((id) => [id, []]));
  for (const row of rows) byMonitor.get(row.monitor_id)?.push(row.value);
  return byMonitor;
}

/** Tags of some monitors of one tenant, sorted. */
export async function tagsOf(db: Db, tenantId: string, monitorIds: string[]): Promise<Map<string, string[]>> {
  if (monitorIds.length === 0) return new Map();
  const rows = await db.selectFrom('monitor_tags').select(['monitor_id', 'tag as value']).where('tenant_id', '=', tenantId).where('monitor_id', 'in', monitorIds).orderBy('tag').execute();
  return groupByMonitor(monitorIds, rows);
}

/** The own channel lists of some monitors of one tenant (meaningful where all_channels is 0). */
export async function channelsOf(db: Db, tenantId: string, monitorIds: string[]): Promise<Map<string, string[]>> {
  if (monitorIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('monitor_channels')
    .select(['monitor_id', 'channel_id as value'])
    .where('tenant_id', '=', tenantId)
    .where('monitor_id', 'in', monitorIds)
    .orderBy('channel_id')
    .execute();
  return groupByMonitor(monitorIds, rows);
}

/** A kind that keeps its last activity elsewhere (a heartbeat's last ping) overlays it: monitors.service, KindHooks.lastActivity. */
const MONITOR_COLUMNS = [
  'id',
  'tenant_id',
  'kind',
  'name',
  'is_active',
  'state',
  'consecutive_failures',
  'consecutive_successes',
  'failure_threshold',
  'recovery_threshold',
  'interval_seconds',
  'last_checked_at',
  'next_due_at',
  'state_changed_at',
  'repeat_interval_seconds',
  'all_channels',
  'created_at',
  'updated_at',
] as const;

/** Several monitors of a tenant by id, in three queries whatever their number; unknown ids are left out. */
export async function findMonitors(db: Db, tenantId: string, monitorIds: readonly string[]): Promise<Map<string, Monitor>> {
  if (monitorIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('monitors')
    .select(MONITOR_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', [...monitorIds])
    .execute();
  const ids = rows.map((r) => r.id);
  const [tags, channels] = await Promise.all([tagsOf(db, tenantId, ids), channelsOf(db, tenantId, ids)]);
  return new Map(rows.map((row) => [row.id, toMonitor(row, tags.get(row.id) ?? [], channels.get(row.id) ?? [])]));
}

export async function findMonitor(db: Db, tenantId: string, monitorId: string): Promise<Monitor | undefined> {
  const row = await db.selectFrom('monitors').select(MONITOR_COLUMNS).where('tenant_id', '=', tenantId).where('id', '=', monitorId).executeTakeFirst();
  if (!row) return undefined;
  const [tags, channels] = await Promise.all([tagsOf(db, tenantId, [row.id]), channelsOf(db, tenantId, [row.id])]);
  return toMonitor(row, tags.get(row.id) ?? [], channels.get(row.id) ?? []);
}

export async function listMonitors(db: Db, tenantId: string, filters: MonitorFilters): Promise<{ items: Monitor[]; total: number }> {
  let query = db.selectFrom('monitors').where('monitors.tenant_id', '=', tenantId);
  if (filters.kind) query = query.where('kind', '=', filters.kind);
  if (filters.state) query = query.where('state', '=', filters.state);
  if (filters.search) {
    const pattern = `%${filters.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where(sql<boolean>`lower(name) like ${pattern} escape '\\'`);
  }
  if (filters.tag) {
    const tag = filters.tag;
    query = query.where((eb) => eb.exists(eb.selectFrom('monitor_tags').select('tag').whereRef('monitor_tags.monitor_id', '=', 'monitors.id').where('monitor_tags.tag', '=', tag)));
  }
  const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await query.select(MONITOR_COLUMNS).orderBy('name').orderBy('id').limit(filters.limit).offset(filters.offset).execute();
  const ids = rows.map((r) => r.id);
  const [tags, channels] = await Promise.all([tagsOf(db, tenantId, ids), channelsOf(db, tenantId, ids)]);
  return { items: rows.map((row) => toMonitor(row, tags.get(row.id) ?? [], channels.get(row.id) ?? [])), total: Number(total.n) };
}

export interface MonitorPatch {
  name?: string;
  isActive?: boolean;
  failureThreshold?: number | null;
  recoveryThreshold?: number;
  intervalSeconds?: number | null;
  nextDueAt?: number | null;
  repeatIntervalSeconds?: number | null;
  state?: MonitorState;
}

export async function updateMonitor(db: Db, tenantId: string, monitorId: string, patch: MonitorPatch, now: number): Promise<boolean> {
  const result = await db
    .updateTable('monitors')
    .set((eb) => ({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.isActive !== undefined && { is_active: patch.isActive ? 1 : 0 }),
      ...(patch.failureThreshold !== undefined && { failure_threshold: patch.failureThreshold }),
      ...(patch.recoveryThreshold !== undefined && { recovery_threshold: patch.recoveryThreshold }),
      ...(patch.intervalSeconds !== undefined && { interval_seconds: patch.intervalSeconds }),
      ...(patch.nextDueAt !== undefined && { next_due_at: patch.nextDueAt }),
      ...(patch.repeatIntervalSeconds !== undefined && { repeat_interval_seconds: patch.repeatIntervalSeconds }),
      ...(patch.state !== undefined && {
        state: patch.state,
        state_changed_at: now,
        consecutive_failures: 0,
        consecutive_successes: 0,
        version: eb('version', '+', 1),
      }),
      updated_at: now,
    }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', monitorId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteMonitor(db: Db, tenantId: string, monitorId: string): Promise<boolean> {
  const result = await db.deleteFrom('monitors').where('tenant_id', '=', tenantId).where('id', '=', monitorId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
