/**
 * Reads of the series store for the API: series of a tenant (filtered), raw samples, changes of
 * bool and string series, and buckets from rollups. Every function that finds series takes the
 * tenant id; the point readers take a series id the caller found that way.
 */
import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import { dialectOf, type Db } from '../db/database.js';
import type { SeriesTable } from '../db/tables/metrics.table.js';
import { bucketsQuery, toBucket, type BucketRow, type BucketSource } from './buckets.js';
import { sampleRows, withRecentLatest, type SampleRow } from './sample-rows.js';
import { parseStoredObject, type SeriesType } from './series-types.js';

export interface SeriesRecord {
  id: number;
  tenantId: string;
  machineId: string;
  hostname: string;
  name: string;
  labels: Record<string, string>;
  type: SeriesType;
  unit: string | null;
  createdAt: number;
  lastAt: number | null;
  /** numeric: the value; bool: 1 or 0. */
  lastNum: number | null;
  /** string series: the value. */
  lastText: string | null;
}

export interface SeriesFilter {
  /** A machine id or hostname. */
  machine?: string;
  name?: string;
  type?: SeriesType;
  /** Every pair must be among the series' labels. */
  labels: readonly (readonly [string, string])[];
}

const COLUMNS = [
  'series.id',
  'series.tenant_id',
  'series.machine_id',
  'machines.hostname',
  'series.name',
  'series.labels',
  'series.type',
  'series.unit',
  'series.created_at',
  'series.last_at',
  'series.last_num',
  'series.last_text',
] as const;

/** A series row joined with its machine's hostname (COLUMNS). */
function toRecord(row: Selectable<SeriesTable> & { hostname: string }): SeriesRecord {
  return {
    id: Number(row.id),
    tenantId: row.tenant_id,
    machineId: row.machine_id,
    hostname: row.hostname,
    name: row.name,
    labels: parseStoredObject<string>(row.labels),
    type: row.type as SeriesType,
    unit: row.unit,
    createdAt: Number(row.created_at),
    lastAt: row.last_at === null ? null : Number(row.last_at),
    lastNum: row.last_num === null ? null : Number(row.last_num),
    lastText: row.last_text,
  };
}

/** Series of one tenant with their machine; the tenant condition is on both tables. */
function tenantSeries(db: Db, tenantId: string) {
  return db.selectFrom('series').innerJoin('machines', 'machines.monitor_id', 'series.machine_id').where('series.tenant_id', '=', tenantId).where('machines.tenant_id', '=', tenantId);
}

/** A label pair matched against the stored JSON with the dialect's JSON functions (SqlDialect.jsonHasEntry). */
function hasLabel(db: Db, key: string, value: string): Expression<SqlBool> {
  return dialectOf(db).jsonHasEntry(sql.ref('series.labels'), key, value);
}

function filtered(db: Db, tenantId: string, filter: SeriesFilter) {
  let query = tenantSeries(db, tenantId);
  const machine = filter.machine;
  if (machine !== undefined) query = query.where((eb) => eb.or([eb('series.machine_id', '=', machine), eb('machines.hostname', '=', machine)]));
  if (filter.name !== undefined) query = query.where('series.name', '=', filter.name);
  if (filter.type !== undefined) query = query.where('series.type', '=', filter.type);
  for (const [key, value] of filter.labels) query = query.where(hasLabel(db, key, value));
  return query;
}

/** Records with their latest values, the recent samples' included (sample-rows.ts). */
const toRecords = (db: Db, rows: Parameters<typeof toRecord>[0][]) => withRecentLatest(db, rows.map(toRecord));

export async function findSeries(db: Db, tenantId: string, id: number): Promise<SeriesRecord | undefined> {
  const row = await tenantSeries(db, tenantId).select(COLUMNS).where('series.id', '=', id).executeTakeFirst();
  return row ? (await toRecords(db, [row]))[0] : undefined;
}

/** Ordered by hostname, name, then id (the order series appeared in): the order a reader scans a list in. */
export async function listSeries(db: Db, tenantId: string, filter: SeriesFilter, page: { limit: number; offset: number }): Promise<{ items: SeriesRecord[]; total: number }> {
  const query = filtered(db, tenantId, filter);
  const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await query.select(COLUMNS).orderBy('machines.hostname').orderBy('series.name').orderBy('series.id').limit(page.limit).offset(page.offset).execute();
  return { items: await toRecords(db, rows), total: Number(total.n) };
}

/** Up to `max` matching series, same order as the list. */
export async function selectSeries(db: Db, tenantId: string, filter: SeriesFilter, max: number): Promise<SeriesRecord[]> {
  const rows = await filtered(db, tenantId, filter).select(COLUMNS).orderBy('machines.hostname').orderBy('series.name').orderBy('series.id').limit(max).execute();
  return toRecords(db, rows);
}

/** Raw samples at times [from, to), oldest first, at most `limit`. */
export async function rawSamples(db: Db, seriesId: number, from: number, to: number, limit: number): Promise<{ at: number; value: number }[]> {
  const { rows } = await sql<SampleRow>`select at, value from (${sampleRows({ seriesIds: [seriesId], from, to })}) as v order by at limit ${sql.lit(limit)}`.execute(db);
  return rows.map((row) => ({ at: Number(row.at), value: Number(row.value) }));
}

/** How many raw samples [from, to) holds, counting no further than `cap` (bounded primary-key reads). */
export async function countRawSamples(db: Db, seriesId: number, from: number, to: number, cap: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*) as n from (select at from (${sampleRows({ seriesIds: [seriesId], from, to })}) as v limit ${sql.lit(cap)}) as x`.execute(db);
  return Number(rows[0]!.n);
}

/** Changes at times (after, upTo], oldest first, at most `limit`. */
export async function changesBetween(db: Db, seriesId: number, after: number, upTo: number, limit: number): Promise<{ at: number; value: string }[]> {
  const rows = await db.selectFrom('series_changes').select(['at', 'value']).where('series_id', '=', seriesId).where('at', '>', after).where('at', '<=', upTo).orderBy('at').limit(limit).execute();
  return rows.map((row) => ({ at: Number(row.at), value: row.value }));
}

/** How many changes (after, upTo] holds, counting no further than `cap`. */
export async function countChanges(db: Db, seriesId: number, after: number, upTo: number, cap: number): Promise<number> {
  const row = await db
    .selectFrom((eb) => eb.selectFrom('series_changes').select('at').where('series_id', '=', seriesId).where('at', '>', after).where('at', '<=', upTo).limit(cap).as('x'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The change in force at `at`: the latest at or before it. */
export async function changeInForce(db: Db, seriesId: number, at: number): Promise<{ at: number; value: string } | undefined> {
  const row = await db.selectFrom('series_changes').select(['at', 'value']).where('series_id', '=', seriesId).where('at', '<=', at).orderBy('at', 'desc').limit(1).executeTakeFirst();
  return row ? { at: Number(row.at), value: row.value } : undefined;
}

/** Buckets of `stepMs` of one series from a source, over source times [from, to), oldest first. */
export async function bucketsOf(db: Db, source: BucketSource, seriesId: number, from: number, to: number, stepMs: number): Promise<BucketRow[]> {
  if (from >= to) return [];
  const result = await bucketsQuery(source, { seriesIds: [seriesId], from, to }, stepMs).execute(db);
  return result.rows.map(toBucket).sort((a, b) => a.bucket_start - b.bucket_start);
}
