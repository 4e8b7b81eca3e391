/**
 * Rollups and retention: what keeps uptime queries fast and the database bounded.
 *
 * - Every completed hour becomes one `rollups_hour` row per monitor whose status was known in
 *   it: time up and time known (time-weighted, from the monitor's history source, see
 *   time-share.ts), entry counts and latency sums. The history source is chosen per monitor
 *   kind (`historyFor`), so every kind is rolled up the same way from what it records.
 * - Every completed day, its hour rows are summed into `rollups_day` (the long uptime windows).
 * - Watermarks in `app_meta` say how far each level got, so a restart resumes where it stopped.
 *   The first run starts at the oldest monitor's creation.
 * - Raw results, hour and day rollups are deleted after their retention, through their primary
 *   key (monitor key, time), monitor by monitor; raw results not yet rolled up, and hours not yet
 *   summed into days, are kept whatever their age.
 *
 * There is no minute level: at 60 s intervals it held one row per check, a copy of the results.
 */
import type { ExpressionBuilder } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { RollupsTable } from '../db/tables/check-results.table.js';
import type { HistorySource } from '../kinds/history.js';
import type { MonitorKind } from './kinds.js';
import { ensureAllKeys } from './monitor-keys.js';
import { checkResultsHistory } from './results-history.js';
import { spanFigures } from './time-share.js';
import { createYieldPoint } from '../yield-point.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** At most this many hours (and days) per run, so a long outage is caught up in steps. */
const MAX_BUCKETS_PER_RUN = 24;
const KEY_CHUNK = 500;

export interface RetentionDays {
  results: number;
  hourRollups: number;
  dayRollups: number;
}

export type HistoryFor = (kind: MonitorKind) => HistorySource;
export const defaultHistoryFor: HistoryFor = () => checkResultsHistory();

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

type Level = 'hour' | 'day';
const SIZE: Record<Level, number> = { hour: HOUR_MS, day: DAY_MS };
const TABLE = { hour: 'rollups_hour', day: 'rollups_day' } as const;

export async function watermarks(db: Db): Promise<Record<Level, number>> {
  const rows = await db.selectFrom('app_meta').select(['key', 'value']).where('key', 'in', ['rollup_hour_watermark', 'rollup_day_watermark']).execute();
  const get = (key: string) => Number(rows.find((r) => r.key === key)?.value ?? 0);
  return { hour: get('rollup_hour_watermark'), day: get('rollup_day_watermark') };
}

async function setWatermark(db: Db, level: Level, value: number): Promise<void> {
  const key = `rollup_${level}_watermark`;
  await db
    .insertInto('app_meta')
    .values({ key, value: String(value) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(value) }))
    .execute();
}

/** A row as the rollup job writes it: the table's own shape. */
type RollupRow = RollupsTable;

/** The sums of rollup rows over a range: what a day is made of, and what uptime adds up. */
export const rollupSums = (eb: ExpressionBuilder<Database, 'rollups_hour' | 'rollups_day'>) => [
  eb.fn.sum<number>('up_ms').as('up_ms'),
  eb.fn.sum<number>('known_ms').as('known_ms'),
  eb.fn.sum<number>('checks').as('checks'),
  eb.fn.sum<number>('up_checks').as('up_checks'),
  eb.fn.sum<number>('latency_count').as('latency_count'),
  eb.fn.sum<number>('latency_sum').as('latency_sum'),
];

async function upsertRollups(db: Db, level: Level, rows: RollupRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto(TABLE[level])
      .values(rows.slice(i, i + 500))
      .onConflict((oc) =>
        oc.columns(['monitor_key', 'bucket_start']).doUpdateSet((eb) => ({
          up_ms: eb.ref('excluded.up_ms'),
          known_ms: eb.ref('excluded.known_ms'),
          checks: eb.ref('excluded.checks'),
          up_checks: eb.ref('excluded.up_checks'),
          latency_count: eb.ref('excluded.latency_count'),
          latency_sum: eb.ref('excluded.latency_sum'),
        })),
      )
      .execute();
  }
}

async function rollUpHour(db: Db, start: number, historyFor: HistoryFor): Promise<void> {
  const end = start + HOUR_MS;
  // Kinds whose history is not in check_results (pings, ingests) get their key here.
  await ensureAllKeys(db);
  const monitors = await db
    .selectFrom('monitors')
    .innerJoin('monitor_keys', 'monitor_keys.monitor_id', 'monitors.id')
    .select(['monitors.id', 'monitors.kind', 'monitor_keys.key'])
    .where('monitors.created_at', '<', end)
    .execute();
  const rows: RollupRow[] = [];
  const pause = createYieldPoint();
  for (const monitor of monitors) {
    await pause();
    const f = await spanFigures(db, monitor.id, historyFor(monitor.kind as MonitorKind), start, end);
    if (f.knownMs === 0 && f.checks === 0) continue;
    rows.push({
      monitor_key: monitor.key,
      bucket_start: start,
      up_ms: f.upMs,
      known_ms: f.knownMs,
      checks: f.checks,
      up_checks: f.upChecks,
      latency_count: f.latencyCount,
      latency_sum: f.latencyCount ? f.latencySum : null,
    });
  }
  await upsertRollups(db, 'hour', rows);
}

async function allKeys(db: Db): Promise<number[]> {
  return (await db.selectFrom('monitor_keys').select('key').orderBy('key').execute()).map((r) => r.key);
}

async function rollUpDay(db: Db, start: number): Promise<void> {
  const keys = await allKeys(db);
  const pause = createYieldPoint();
  for (let i = 0; i < keys.length; i += KEY_CHUNK) {
    await pause();
    const sums = await db
      .selectFrom('rollups_hour')
      .select('monitor_key')
      .select(rollupSums)
      .where('monitor_key', 'in', keys.slice(i, i + KEY_CHUNK))
      .where('bucket_start', '>=', start)
      .where('bucket_start', '<', start + DAY_MS)
      .groupBy('monitor_key')
      .execute();
    await upsertRollups(
      db,
      'day',
      sums.map((s) => ({
        monitor_key: s.monitor_key,
        bucket_start: start,
        up_ms: Number(s.up_ms),
        known_ms: Number(s.known_ms),
        checks: Number(s.checks),
        up_checks: Number(s.up_checks),
        latency_count: Number(s.latency_count),
        latency_sum: s.latency_sum === null ? null : Number(s.latency_sum),
      })),
    );
  }
}

async function firstBucket(db: Db, size: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('monitors')
    .select((eb) => eb.fn.min('created_at').as('first'))
    .executeTakeFirst();
  return row?.first === null || row?.first === undefined ? undefined : Math.floor(Number(row.first) / size) * size;
}

/** Rolls up the completed buckets of one level from its watermark up to `end` (exclusive). */
async function rollUpLevel(db: Db, level: Level, end: number, historyFor: HistoryFor): Promise<{ done: number; watermark: number }> {
  const size = SIZE[level];
  const stored = await db.selectFrom('app_meta').select('value').where('key', '=', `rollup_${level}_watermark`).executeTakeFirst();
  let watermark = stored ? Number(stored.value) : await firstBucket(db, size);
  if (watermark === undefined) return { done: 0, watermark: 0 }; // no monitor yet
  let done = 0;
  while (done < MAX_BUCKETS_PER_RUN && watermark + size <= end) {
    await (level === 'hour' ? rollUpHour(db, watermark, historyFor) : rollUpDay(db, watermark));
    done++;
    watermark += size;
    await setWatermark(db, level, watermark);
  }
  if (!stored && done === 0) await setWatermark(db, level, watermark);
  return { done, watermark };
}

/** Rolls up every completed hour and day since the watermarks; returns buckets done. */
export async function rollUp(db: Db, now: number, historyFor: HistoryFor = defaultHistoryFor): Promise<{ hours: number; days: number }> {
  const hours = await rollUpLevel(db, 'hour', Math.floor(now / HOUR_MS) * HOUR_MS, historyFor);
  // A day is summed only once all its hours are rolled up.
  const days = await rollUpLevel(db, 'day', Math.floor(hours.watermark / DAY_MS) * DAY_MS, historyFor);
  return { hours: hours.done, days: days.done };
}

/** Deletes a table's rows older than `cutoff`, monitor by monitor through the primary key. */
async function deleteOlderThan(db: Db, table: 'check_results' | 'rollups_hour' | 'rollups_day', cutoff: number): Promise<number> {
  const time = table === 'check_results' ? 'at' : 'bucket_start';
  const keys = await allKeys(db);
  let deleted = 0;
  const pause = createYieldPoint();
  for (let i = 0; i < keys.length; i += KEY_CHUNK) {
    await pause();
    const result = await db
      .deleteFrom(table)
      .where('monitor_key', 'in', keys.slice(i, i + KEY_CHUNK))
      .where(time, '<', cutoff)
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}

/** Deletes what is past its retention; returns rows deleted per table. */
export async function prune(db: Db, now: number, retention: RetentionDays) {
  const marks = await watermarks(db);
  return {
    // Raw results the hour rollups have not covered yet are kept, whatever their age, so that a
    // rollup backlog never turns into lost uptime history; the same for hours not summed into days.
    results: await deleteOlderThan(db, 'check_results', Math.min(now - retention.results * DAY_MS, marks.hour)),
    hourRollups: await deleteOlderThan(db, 'rollups_hour', Math.min(now - retention.hourRollups * DAY_MS, marks.day)),
    dayRollups: await deleteOlderThan(db, 'rollups_day', now - retention.dayRollups * DAY_MS),
  };
}
