/**
 * Per-minute and per-hour rollups of numeric series (count, min, max, sum, last, last_at), the
 * store behind medium and long ranges of the points API.
 *
 * How a run works:
 * 1. Minutes: from the minute watermark up to the last *settled* minute (a minute is settled
 *    SETTLE_MS after it ends, so that batches in flight when it ended are in), raw samples are
 *    aggregated into series_rollups_minute, window by window (WINDOW of time x SERIES_CHUNK
 *    series per statement, so no statement reads more than a bounded slice), the watermark
 *    saved after each window. Stretches without data are skipped in one step.
 * 2. Hours: from the hour watermark up to the last hour whose minutes are all rolled up, minute
 *    rollups merge into series_rollups_hour the same way.
 * 3. Late samples: samples stored after their minute was rolled up are heard through the sample
 *    events (late-samples.ts); their series' minutes, then the hours holding them, are
 *    recomputed from raw with an upsert. Why not recompute a trailing window every run (as a
 *    simpler design would): agents retry batches hours old, so the window would have to be
 *    hours long, rereading hours of every series every minute; the monitors' rollups
 *    (src/monitors/rollups.ts) have only the watermark and lose late results, the limitation
 *    this avoids.
 *
 * Writes are upserts of whole buckets computed from their source, so a rerun (after a crash
 * between a window and its watermark) gives the same rows.
 */
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, bucketOf, upsertBuckets, type BucketSource, type RollupTable } from './buckets.js';
import { createLateSamples, type LateRange, type LateSamples } from './late-samples.js';
import type { SampleEvents } from './sample-events.js';
import { readStoreMarks, writeStoreMark, type StoreMarkName } from './store-marks.js';

/** How long after a minute ends it is rolled up: agents' batches in flight by then are in. */
export const SETTLE_MS = 2 * MINUTE_MS;
/** Minutes before this (at time `now`) may be rolled up already. */
export const settledBefore = (now: number) => bucketOf(now - SETTLE_MS, MINUTE_MS);

/** Series per statement. */
const SERIES_CHUNK = 200;
/** Late series recomputed per run; the rest wait for the next run. */
const LATE_SERIES_PER_RUN = 1_000;
/** Raw samples of one late series read per statement: 6 hours (21,600 rows at one a second). */
const LATE_WINDOW_MS = 6 * HOUR_MS;
/** Minute rollups of one late series merged per statement: 2 days (2,880 rows). */
const LATE_HOURS_WINDOW_MS = 2 * DAY_MS;

interface Level {
  mark: StoreMarkName;
  size: number;
  source: BucketSource;
  target: RollupTable;
  /** Time per statement. */
  window: number;
  /** Time caught up per run at most, so a long stop is caught up in steps. */
  budget: number;
}

const MINUTES: Level = { mark: 'minuteWatermark', size: MINUTE_MS, source: 'samples', target: 'series_rollups_minute', window: 10 * MINUTE_MS, budget: 120 * MINUTE_MS };
const HOURS: Level = { mark: 'hourWatermark', size: HOUR_MS, source: 'series_rollups_minute', target: 'series_rollups_hour', window: 2 * HOUR_MS, budget: 48 * HOUR_MS };

export interface RollupReport {
  /** Rollup rows written by the forward passes (one per series and bucket with data). */
  minuteBuckets: number;
  hourBuckets: number;
  /** Series whose late samples were recomputed. */
  lateSeries: number;
}

const ceilTo = (t: number, size: number) => Math.ceil(t / size) * size;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function numericSeriesIds(db: Db): Promise<number[]> {
  const rows = await db.selectFrom('series').select('id').where('type', '=', 'numeric').orderBy('id').execute();
  return rows.map((row) => Number(row.id));
}

/** Where a level's source keeps its rows: raw samples in both sample tables (sample-rows.ts). */
const SOURCE_TABLES: Record<BucketSource, { tables: readonly ('samples' | 'samples_recent' | RollupTable)[]; time: 'at' | 'bucket_start' }> = {
  samples: { tables: ['samples', 'samples_recent'], time: 'at' },
  series_rollups_minute: { tables: ['series_rollups_minute'], time: 'bucket_start' },
  series_rollups_hour: { tables: ['series_rollups_hour'], time: 'bucket_start' },
};

/**
 * The first time at or after `from` with data in the level's source, looked up series by series
 * (a primary-key probe each): there is no index on time alone.
 */
async function firstDataAt(db: Db, level: Level, from: number): Promise<number | undefined> {
  const { tables, time } = SOURCE_TABLES[level.source];
  let first: number | undefined;
  for (const table of tables) {
    const { rows } = await sql<{ first: number | null }>`select min(x.m) as first from (
        select (select min(t.${sql.ref(time)}) from ${sql.table(table)} t where t.series_id = se.id and t.${sql.ref(time)} >= ${from}) as m
        from series se where se.type = 'numeric'
      ) x`.execute(db);
    const found = rows[0]?.first;
    if (found !== null && found !== undefined) first = Math.min(first ?? Infinity, Number(found));
  }
  return first;
}

/** Rolls one level forward from its watermark towards `end` (exclusive); returns the new watermark. */
async function rollForward(db: Db, level: Level, from: number, end: number, seriesIds: readonly number[]): Promise<{ watermark: number; written: number }> {
  let watermark = from;
  let budget = level.budget;
  let total = 0;
  while (watermark < end && budget > 0) {
    const windowEnd = Math.min(end, watermark + level.window);
    let written = 0;
    for (const ids of chunks(seriesIds, SERIES_CHUNK)) {
      written += await upsertBuckets(db, level.target, level.source, { seriesIds: ids, from: watermark, to: windowEnd });
    }
    // Only windows with data use the budget: an empty one is followed by a jump to data.
    if (written > 0) budget -= windowEnd - watermark;
    total += written;
    watermark = windowEnd;
    if (written === 0 && watermark < end) {
      // Nothing here: jump to the next bucket with data (or to the end).
      const next = await firstDataAt(db, level, watermark);
      watermark = next === undefined ? end : Math.min(end, Math.max(watermark, bucketOf(next, level.size)));
    }
    await writeStoreMark(db, level.mark, watermark);
  }
  return { watermark, written: total };
}

/** Recomputes the minutes of late samples, then their hours, within what retention still holds whole. */
async function recomputeLate(db: Db, ranges: readonly LateRange[]): Promise<void> {
  const marks = await readStoreMarks(db);
  const rawFloor = ceilTo(marks.rawPrunedBefore, MINUTE_MS);
  const minuteFloor = ceilTo(marks.minutePrunedBefore, HOUR_MS);
  for (const range of ranges) {
    const ids = [range.seriesId];
    // Minutes at or after the watermark are not rolled up yet: the forward pass does them.
    const from = Math.max(range.from, rawFloor);
    const to = Math.min(range.to, marks.minuteWatermark);
    if (from >= to) continue;
    for (let t = from; t < to; t += LATE_WINDOW_MS) {
      await upsertBuckets(db, 'series_rollups_minute', 'samples', { seriesIds: ids, from: t, to: Math.min(to, t + LATE_WINDOW_MS) });
    }
    const hourFrom = Math.max(bucketOf(from, HOUR_MS), minuteFloor);
    const hourTo = Math.min(ceilTo(to, HOUR_MS), marks.hourWatermark);
    for (let t = hourFrom; t < hourTo; t += LATE_HOURS_WINDOW_MS) {
      await upsertBuckets(db, 'series_rollups_hour', 'series_rollups_minute', { seriesIds: ids, from: t, to: Math.min(hourTo, t + LATE_HOURS_WINDOW_MS) });
    }
  }
}

/**
 * One rollup pass at time `now`: minutes, hours, then the late samples in `late` (if given).
 * Safe to call again at once (it then does nothing new).
 */
export async function rollUpSeries(db: Db, now: number, late?: LateSamples): Promise<RollupReport> {
  const marks = await readStoreMarks(db);
  const seriesIds = await numericSeriesIds(db);
  const minutes = await rollForward(db, MINUTES, marks.minuteWatermark, settledBefore(now), seriesIds);
  // An hour is rolled up only once all its minutes are.
  const hours = await rollForward(db, HOURS, marks.hourWatermark, bucketOf(minutes.watermark, HOUR_MS), seriesIds);
  const ranges = late?.take(LATE_SERIES_PER_RUN) ?? [];
  try {
    await recomputeLate(db, ranges);
  } catch (error) {
    late?.giveBack(ranges);
    throw error;
  }
  return { minuteBuckets: minutes.written, hourBuckets: hours.written, lateSeries: ranges.length };
}

export interface SeriesRollups {
  run(): Promise<RollupReport>;
  /** Series with late samples waiting for the next run. */
  pendingLateSeries(): number;
  /** Stops listening to sample events. */
  close(): void;
}

/** The rollup job with its late-sample listener; `run` uses the clock's time. */
export function createSeriesRollups({ db, clock, events }: { db: Db; clock: Clock; events?: SampleEvents }): SeriesRollups {
  const late = createLateSamples({ clock, events, settledBefore });
  return {
    run: () => rollUpSeries(db, clock.now(), late),
    pendingLateSeries: () => late.size(),
    close: () => late.close(),
  };
}
