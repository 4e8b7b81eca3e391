/**
 * Rollups and retention: what keeps uptime queries fast and the database bounded.
 *
 * - Every completed minute, that minute's raw results become one `rollups_minute` row per
 *   monitor (count, up count, latency min/avg/max and exact p95).
 * - Every completed hour, that hour's minute rollups merge into `rollups_hour` (p95 of the hour
 *   is the count-weighted 95th percentile of the minutes' p95: an approximation, documented).
 * - Watermarks in `app_meta` say how far each level got, so a restart resumes where it stopped.
 * - Raw results, minute and hour rollups are deleted after their retention, in batches.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { RollupsTable } from '../db/tables/check-results.table.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** At most this many buckets per run, so a long outage is caught up in steps. */
const MAX_BUCKETS_PER_RUN = 120;
const DELETE_BATCH = 5_000;

export interface RetentionDays {
  results: number;
  minuteRollups: number;
  hourRollups: number;
}

type RollupRow = RollupsTable;

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

function weightedPercentile(values: { value: number; weight: number }[], p: number): number | null {
  const total = values.reduce((sum, v) => sum + v.weight, 0);
  if (total === 0) return null;
  const sorted = [...values].sort((a, b) => a.value - b.value);
  let seen = 0;
  for (const v of sorted) {
    seen += v.weight;
    if (seen >= (p / 100) * total) return v.value;
  }
  return sorted[sorted.length - 1]!.value;
}

async function watermark(db: Db, key: string, fallback: number): Promise<number> {
  const row = await db.selectFrom('app_meta').select('value').where('key', '=', key).executeTakeFirst();
  return row ? Number(row.value) : fallback;
}

async function setWatermark(db: Db, key: string, value: number): Promise<void> {
  await db
    .insertInto('app_meta')
    .values({ key, value: String(value) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(value) }))
    .execute();
}

async function upsertRollups(db: Db, table: 'rollups_minute' | 'rollups_hour', rows: RollupRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto(table)
      .values(rows.slice(i, i + 500))
      .onConflict((oc) =>
        oc.columns(['monitor_id', 'bucket_start']).doUpdateSet((eb) => ({
          count: eb.ref('excluded.count'),
          up_count: eb.ref('excluded.up_count'),
          latency_count: eb.ref('excluded.latency_count'),
          latency_min: eb.ref('excluded.latency_min'),
          latency_max: eb.ref('excluded.latency_max'),
          latency_sum: eb.ref('excluded.latency_sum'),
          latency_p95: eb.ref('excluded.latency_p95'),
        })),
      )
      .execute();
  }
}

async function rollUpMinute(db: Db, start: number): Promise<void> {
  const results = await db
    .selectFrom('check_results')
    .select(['monitor_id', 'status', 'latency_ms'])
    .where('at', '>=', start)
    .where('at', '<', start + MINUTE_MS)
    .execute();
  const byMonitor = new Map<string, { count: number; up: number; latencies: number[] }>();
  for (const r of results) {
    const entry = byMonitor.get(r.monitor_id) ?? { count: 0, up: 0, latencies: [] };
    entry.count++;
    if (r.status === 'up') entry.up++;
    if (r.latency_ms !== null) entry.latencies.push(r.latency_ms);
    byMonitor.set(r.monitor_id, entry);
  }
  const rows: RollupRow[] = [...byMonitor].map(([monitorId, e]) => {
    const sorted = e.latencies.sort((a, b) => a - b);
    return {
      monitor_id: monitorId,
      bucket_start: start,
      count: e.count,
      up_count: e.up,
      latency_count: sorted.length,
      latency_min: sorted[0] ?? null,
      latency_max: sorted.at(-1) ?? null,
      latency_sum: sorted.length ? sorted.reduce((a, b) => a + b, 0) : null,
      latency_p95: percentile(sorted, 95),
    };
  });
  await upsertRollups(db, 'rollups_minute', rows);
}

async function rollUpHour(db: Db, start: number): Promise<void> {
  const minutes = await db.selectFrom('rollups_minute').selectAll().where('bucket_start', '>=', start).where('bucket_start', '<', start + HOUR_MS).execute();
  const byMonitor = new Map<string, RollupRow[]>();
  for (const m of minutes) byMonitor.set(m.monitor_id, [...(byMonitor.get(m.monitor_id) ?? []), m]);
  const rows: RollupRow[] = [...byMonitor].map(([monitorId, parts]) => {
    const withLatency = parts.filter((p) => p.latency_count > 0);
    return {
      monitor_id: monitorId,
      bucket_start: start,
      count: parts.reduce((s, p) => s + p.count, 0),
      up_count: parts.reduce((s, p) => s + p.up_count, 0),
      latency_count: withLatency.reduce((s, p) => s + p.latency_count, 0),
      latency_min: withLatency.length ? Math.min(...withLatency.map((p) => p.latency_min!)) : null,
      latency_max: withLatency.length ? Math.max(...withLatency.map((p) => p.latency_max!)) : null,
      latency_sum: withLatency.length ? withLatency.reduce((s, p) => s + p.latency_sum!, 0) : null,
      latency_p95: weightedPercentile(withLatency.map((p) => ({ value: p.latency_p95!, weight: p.latency_count })), 95),
    };
  });
  await upsertRollups(db, 'rollups_hour', rows);
}

/** Rolls up every completed minute and hour since the watermarks; returns buckets done. */
export async function rollUp(db: Db, now: number): Promise<{ minutes: number; hours: number }> {
  const done = { minutes: 0, hours: 0 };
  const lastMinute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  let minute = await watermark(db, 'rollup_minute_watermark', lastMinute - MINUTE_MS);
  for (; minute < lastMinute && done.minutes < MAX_BUCKETS_PER_RUN; minute += MINUTE_MS, done.minutes++) {
    await rollUpMinute(db, minute);
    await setWatermark(db, 'rollup_minute_watermark', minute + MINUTE_MS);
  }
  // An hour is rolled up only once all its minutes are.
  const lastHour = Math.floor(minute / HOUR_MS) * HOUR_MS;
  let hour = await watermark(db, 'rollup_hour_watermark', lastHour - HOUR_MS);
  for (; hour < lastHour && done.hours < MAX_BUCKETS_PER_RUN; hour += HOUR_MS, done.hours++) {
    await rollUpHour(db, hour);
    await setWatermark(db, 'rollup_hour_watermark', hour + HOUR_MS);
  }
  return done;
}

async function deleteOlderThan(db: Db, table: 'check_results' | 'rollups_minute' | 'rollups_hour', cutoff: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result =
      table === 'check_results'
        ? await db
            .deleteFrom('check_results')
            .where('id', 'in', (eb) => eb.selectFrom('check_results').select('id').where('at', '<', cutoff).limit(DELETE_BATCH))
            .executeTakeFirst()
        : await db
            .deleteFrom(table)
            .where(sql<boolean>`(monitor_id, bucket_start) in (select monitor_id, bucket_start from ${sql.table(table)} where bucket_start < ${cutoff} limit ${DELETE_BATCH})`)
            .executeTakeFirst();
    const n = Number(result.numDeletedRows);
    deleted += n;
    if (n < DELETE_BATCH) return deleted;
  }
}

/** Deletes what is past its retention; returns rows deleted per table. */
export async function prune(db: Db, now: number, retention: RetentionDays) {
  return {
    results: await deleteOlderThan(db, 'check_results', now - retention.results * DAY_MS),
    minuteRollups: await deleteOlderThan(db, 'rollups_minute', now - retention.minuteRollups * DAY_MS),
    hourRollups: await deleteOlderThan(db, 'rollups_hour', now - retention.hourRollups * DAY_MS),
  };
}
