/**
 * Reads of machines for the API: a machine is its `machines` row (hostname, os, info, first and
 * last seen) and its monitor (state, tags). Every function takes the tenant id.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { MonitorState } from '../monitors/kinds.js';
import { tagsOf } from '../monitors/monitors.repository.js';
import { withRecentLatest } from './sample-rows.js';
import { parseStoredObject, storedValue, type SeriesType } from './series-types.js';

export interface Machine {
  /** The machine's monitor id. */
  id: string;
  hostname: string;
  os: string | null;
  /** The other fields of the agent's `machine` object. */
  info: Record<string, unknown>;
  /** The monitor's state: up while metrics arrive, down after the tenant's heartbeat threshold of silence. */
  status: MonitorState;
  isActive: boolean;
  tags: string[];
  firstSeenAt: number;
  lastSeenAt: number;
  stateChangedAt: number | null;
}

export interface MachineFilters {
  status?: MonitorState;
  tag?: string;
  /** Case-insensitive substring of the hostname. */
  search?: string;
  limit: number;
  offset: number;
}

/** A series' latest value. */
export interface LatestValue {
  seriesId: number;
  name: string;
  type: SeriesType;
  unit: string | null;
  labels: Record<string, string>;
  /** numeric: a number; bool: true/false; string: the text; null before the first value. */
  value: number | boolean | string | null;
  at: number | null;
}

function machineQuery(db: Db, tenantId: string) {
  return db.selectFrom('machines').innerJoin('monitors', 'monitors.id', 'machines.monitor_id').where('machines.tenant_id', '=', tenantId).where('monitors.tenant_id', '=', tenantId);
}

const COLUMNS = [
  'machines.monitor_id',
  'machines.hostname',
  'machines.os',
  'machines.info',
  'machines.first_seen_at',
  'machines.last_seen_at',
  'monitors.state',
  'monitors.is_active',
  'monitors.state_changed_at',
] as const;

type Row = {
  monitor_id: string;
  hostname: string;
  os: string | null;
  info: string;
  first_seen_at: number;
  last_seen_at: number;
  state: string;
  is_active: number;
  state_changed_at: number | null;
};

const toMachine = (row: Row, tags: string[]): Machine => ({
  id: row.monitor_id,
  hostname: row.hostname,
  os: row.os,
  info: parseStoredObject(row.info),
  status: row.state as MonitorState,
  isActive: row.is_active === 1,
  tags,
  firstSeenAt: row.first_seen_at,
  lastSeenAt: row.last_seen_at,
  stateChangedAt: row.state_changed_at,
});

export async function findMachine(db: Db, tenantId: string, machineId: string): Promise<Machine | undefined> {
  const row = await machineQuery(db, tenantId).select(COLUMNS).where('machines.monitor_id', '=', machineId).executeTakeFirst();
  if (!row) return undefined;
  const tags = await tagsOf(db, tenantId, [row.monitor_id]);
  return toMachine(row, tags.get(row.monitor_id) ?? []);
}

export async function listMachines(db: Db, tenantId: string, filters: MachineFilters): Promise<{ items: Machine[]; total: number }> {
  let query = machineQuery(db, tenantId);
  if (filters.status) query = query.where('monitors.state', '=', filters.status);
  if (filters.search) {
    const pattern = `%${filters.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where(sql<boolean>`lower(machines.hostname) like ${pattern} escape '\\'`);
  }
  if (filters.tag) {
    const tag = filters.tag;
    query = query.where((eb) =>
      eb.exists(eb.selectFrom('monitor_tags').select('monitor_tags.tag').whereRef('monitor_tags.monitor_id', '=', 'machines.monitor_id').where('monitor_tags.tag', '=', tag)),
    );
  }
  const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await query.select(COLUMNS).orderBy('machines.hostname').orderBy('machines.monitor_id').limit(filters.limit).offset(filters.offset).execute();
  const tags = await tagsOf(
    db,
    tenantId,
    rows.map((row) => row.monitor_id),
  );
  return { items: rows.map((row) => toMachine(row, tags.get(row.monitor_id) ?? [])), total: Number(total.n) };
}

/** The latest value of each of a machine's series, by name then labels. */
export async function latestValues(db: Db, tenantId: string, machineId: string): Promise<LatestValue[]> {
  const rows = await db
    .selectFrom('series')
    .select(['id', 'name', 'type', 'unit', 'labels', 'last_at', 'last_num', 'last_text'])
    .where('tenant_id', '=', tenantId)
    .where('machine_id', '=', machineId)
    .orderBy('name')
    .orderBy('labels')
    .execute();
  const series = await withRecentLatest(
    db,
    rows.map((row) => ({ ...row, id: Number(row.id), lastAt: row.last_at === null ? null : Number(row.last_at), lastNum: row.last_num })),
  );
  return series.map((row) => {
    const type = row.type as SeriesType;
    return {
      seriesId: row.id,
      name: row.name,
      type,
      unit: row.unit,
      labels: parseStoredObject<string>(row.labels),
      value: storedValue(type, row.lastNum, row.last_text),
      at: row.lastAt,
    };
  });
}
