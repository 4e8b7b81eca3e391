/**
 * Rollups and retention: what keeps uptime queries fast and the database bounded.
 *
 * - Every completed minute, that minute's raw results become one `rollups_minute` row per
 *   monitor (count, up count, latency min/avg/max and exact p95).
 * - Every completed hour, that hour's minute rollups merge into `rollups_hour` (p95 of the hour
 *   is the count-weighted 95th percentile of the minutes' p95: an approximation, documented).
 * - Watermarks in `app_meta` say how far each level got, so a restart resumes where it stopped.
 *   The first run starts at the oldest result; minutes and hours without data are skipped.
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

/** The start of the first bucket at or after `from` with data to roll up (results for minutes, minute rollups for hours). */
async function nextBucketWithData(db: Db, level: 'minute' | 'hour', from: number): Promise<number | undefined> {
  const row =
    level === 'minute'
      ? await db.selectFrom('check_results').select((eb) => eb.fn.min('at').as('first')).where('at', '>=', from).executeTakeFirst()
      : await db.selectFrom('rollups_minute').select((eb) => eb.fn.min('bucket_start').as('first')).where('bucket_start', '>=', from).executeTakeFirst();
  if (row?.first === null || row?.first === undefined) return undefined;
  const size = level === 'minute' ? MINUTE_MS : HOUR_MS;
  return Math.floor(Number(row.first) / size) * size;
}

/**
 * Rolls up the completed buckets of one level from its watermark up to `end` (exclusive).
 * Without a watermark (first run) it starts at the first bucket that has data, so results
 * recorded before the first run are rolled up too; stretches without data (Vigie stopped for
 * days) are skipped in one step instead of bucket by bucket.
 */
async function rollUpLevel(db: Db, level: 'minute' | 'hour', end: number): Promise<{ done: number; watermark: number }> {
  const key = `rollup_${level}_watermark`;
  const size = level === 'minute' ? MINUTE_MS : HOUR_MS;
  const stored = await db.selectFrom('app_meta').select('value').where('key', '=', key).executeTakeFirst();
  let watermark = stored ? Number(stored.value) : undefined;
  let done = 0;
  while (done < MAX_BUCKETS_PER_RUN) {
    const next = await nextBucketWithData(db, level, watermark ?? 0);
    if (next === undefined || next >= end) {
      // Nothing more to roll up before `end`: the watermark moves up to it.
      if (watermark === undefined || end > watermark) {
        watermark = end;
        await setWatermark(db, key, end);
      }
      return { done, watermark };
    }
    await (level === 'minute' ? rollUpMinute(db, next) : rollUpHour(db, next));
    done++;
    watermark = next + size;
    await setWatermark(db, key, watermark);
  }
  return { done, watermark: watermark! };
}

/** Rolls up every completed minute and hour since the watermarks; returns buckets done. */
export async function rollUp(db: Db, now: number): Promise<{ minutes: number; hours: number }> {
  const minutes = await rollUpLevel(db, 'minute', Math.floor(now / MINUTE_MS) * MINUTE_MS);
  // An hour is rolled up only once all its minutes are.
  const hours = await rollUpLevel(db, 'hour', Math.floor(minutes.watermark / HOUR_MS) * HOUR_MS);
  return { minutes: minutes.done, hours: hours.done };
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
  // Raw results that the minute rollups have not covered yet are kept, whatever their age, so
  // that a rollup backlog never turns into lost uptime history.
  const minuteWatermark = await db.selectFrom('app_meta').select('value').where('key', '=', 'rollup_minute_watermark').executeTakeFirst();
  const rolledUpTo = minuteWatermark ? Number(minuteWatermark.value) : 0;
  return {
    results: await deleteOlderThan(db, 'check_results', Math.min(now - retention.results * DAY_MS, rolledUpTo)),
    minuteRollups: await deleteOlderThan(db, 'rollups_minute', now - retention.minuteRollups * DAY_MS),
    hourRollups: await deleteOlderThan(db, 'rollups_hour', now - retention.hourRollups * DAY_MS),
  };
}
