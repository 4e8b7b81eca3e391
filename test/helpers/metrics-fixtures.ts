/**
 * Series store fixtures written straight into the tables, as ingestion would leave them, so that
 * the series store's tests do not depend on the ingestion code: a machine (a monitor of kind
 * `machine` + its machines row), series, raw samples (moved ones keeping series.last_* on the
 * latest, or recent ones as ingestion leaves them before the sample mover runs) and
 * changes of bool/string series. `announce` tells the sample events what was "stored", as
 * ingestion does after its commit.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';
import type { BucketRow } from '../../src/metrics/buckets.js';
import { sampleRows, type SampleRow } from '../../src/metrics/sample-rows.js';
import type { SampleEvents } from '../../src/metrics/sample-events.js';
import type { SeriesType } from '../../src/metrics/series-types.js';
import { insertMonitor } from '../../src/monitors/monitors.repository.js';

export async function insertMachine(db: Db, input: { tenantId: string; hostname: string; now: number; os?: string; tags?: string[] }): Promise<string> {
  const id = randomUUID();
  await insertMonitor(db, {
    id,
    tenantId: input.tenantId,
    kind: 'machine',
    name: input.hostname,
    tags: input.tags ?? [],
    isActive: true,
    failureThreshold: 1,
    recoveryThreshold: 1,
    intervalSeconds: null,
    nextDueAt: null,
    now: input.now,
  });
  await db
    .insertInto('machines')
    .values({ monitor_id: id, tenant_id: input.tenantId, hostname: input.hostname, os: input.os ?? 'linux', first_seen_at: input.now, last_seen_at: input.now })
    .execute();
  return id;
}

export interface FixtureSeries {
  id: number;
  tenantId: string;
  machineId: string;
  name: string;
  type: SeriesType;
  labels: Record<string, string>;
}

/** Labels as ingestion stores them: JSON with sorted keys. */
export const canonicalLabels = (labels: Record<string, string>) => JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));

export async function insertSeries(
  db: Db,
  input: { tenantId: string; machineId: string; name: string; type?: SeriesType; labels?: Record<string, string>; unit?: string | null; now: number },
): Promise<FixtureSeries> {
  const type = input.type ?? 'numeric';
  const labels = input.labels ?? {};
  const row = await db
    .insertInto('series')
    .values({ tenant_id: input.tenantId, machine_id: input.machineId, name: input.name, labels: canonicalLabels(labels), type, unit: input.unit ?? null, created_at: input.now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(row.id), tenantId: input.tenantId, machineId: input.machineId, name: input.name, type, labels };
}

function announce(events: SampleEvents | undefined, series: FixtureSeries, samples: { at: number; value: number | null; text: string | null }[]) {
  events?.stored({
    tenantId: series.tenantId,
    machineId: series.machineId,
    samples: samples.map((s) => ({ seriesId: series.id, name: series.name, type: series.type, labels: series.labels, at: s.at, value: s.value, text: s.text })),
  });
}

/** Raw samples of a numeric series (same time again: the last value wins, as in ingestion). */
/** Upserts a series' samples into one of the two sample tables, 500 rows a statement. */
async function upsertSamples(db: Db, table: 'samples' | 'samples_recent', series: FixtureSeries, samples: readonly { at: number; value: number }[]): Promise<void> {
  for (let i = 0; i < samples.length; i += 500) {
    await db
      .insertInto(table)
      .values(samples.slice(i, i + 500).map((s) => ({ series_id: series.id, at: s.at, value: s.value })))
      .onConflict((oc) => oc.columns(['series_id', 'at']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .execute();
  }
}

export async function insertSamples(db: Db, series: FixtureSeries, samples: readonly { at: number; value: number }[], events?: SampleEvents): Promise<void> {
  await upsertSamples(db, 'samples', series, samples);
  if (samples.length === 0) return;
  const latest = samples.reduce((a, b) => (b.at >= a.at ? b : a));
  await db
    .updateTable('series')
    .set({ last_at: latest.at, last_num: latest.value })
    .where('id', '=', series.id)
    .where((eb) => eb.or([eb('last_at', 'is', null), eb('last_at', '<=', latest.at)]))
    .execute();
  announce(
    events,
    series,
    samples.map((s) => ({ at: s.at, value: s.value, text: null })),
  );
}

/** Changes of a bool ('true'/'false') or string series. */
export async function insertChanges(db: Db, series: FixtureSeries, changes: readonly { at: number; value: string }[]): Promise<void> {
  if (changes.length === 0) return;
  await db
    .insertInto('series_changes')
    .values(changes.map((c) => ({ series_id: series.id, at: c.at, value: c.value })))
    .execute();
  const latest = changes.reduce((a, b) => (b.at >= a.at ? b : a));
  await db
    .updateTable('series')
    .set(series.type === 'bool' ? { last_at: latest.at, last_num: latest.value === 'true' ? 1 : 0 } : { last_at: latest.at, last_text: latest.value })
    .where('id', '=', series.id)
    .execute();
}

export interface RawSample {
  at: number;
  value: number;
}

/** A rollup row without its series id. */
export type Aggregate = Omit<BucketRow, 'series_id'>;

/** What rollups of `size` must hold, worked out in the test from raw samples (those before `before`). */
export function aggregateSamples(samples: readonly RawSample[], size: number, before = Infinity): Aggregate[] {
  const byBucket = new Map<number, Aggregate>();
  for (const s of samples) {
    if (s.at >= before) continue;
    const start = Math.floor(s.at / size) * size;
    const a = byBucket.get(start);
    if (!a) {
      byBucket.set(start, { bucket_start: start, count: 1, min: s.value, max: s.value, sum: s.value, last: s.value, last_at: s.at });
      continue;
    }
    a.count++;
    a.min = Math.min(a.min, s.value);
    a.max = Math.max(a.max, s.value);
    a.sum += s.value;
    if (s.at > a.last_at) [a.last, a.last_at] = [s.value, s.at];
  }
  return [...byBucket.values()].sort((x, y) => x.bucket_start - y.bucket_start);
}

/** Deterministic pseudo-random numbers (mulberry32), so that a failure can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every raw sample of a tenant as readers see them (samples and samples_recent as one table,
 * src/metrics/sample-rows.ts), by series name then time: what "stored" means for ingestion.
 */
export async function storedSamples(db: Db, tenantId: string): Promise<{ name: string; labels: string; at: number; value: number }[]> {
  const series = await db.selectFrom('series').select(['id', 'name', 'labels']).where('tenant_id', '=', tenantId).where('type', '=', 'numeric').execute();
  if (series.length === 0) return [];
  const byId = new Map(series.map((s) => [Number(s.id), s]));
  const { rows } = await sql<SampleRow>`select series_id, at, value from (${sampleRows({ seriesIds: [...byId.keys()], from: 0 })}) as v`.execute(db);
  return rows
    .map((row) => {
      const s = byId.get(Number(row.series_id))!;
      return { name: s.name, labels: s.labels, at: Number(row.at), value: Number(row.value) };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.at - b.at));
}

/** Raw samples as ingestion writes them, into samples_recent, before the sample mover takes them (series.last_* untouched). */
export const insertRecentSamples = (db: Db, series: FixtureSeries, samples: readonly { at: number; value: number }[]): Promise<void> => upsertSamples(db, 'samples_recent', series, samples);
