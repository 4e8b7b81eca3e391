/**
 * The series store's read side for the API: series of a tenant, and the points of one series
 * over a time range at the resolution points-plan.ts chooses, for the JSON answer and for
 * exports (one series, or many streamed one after the other).
 *
 * Rollups lag behind the clock (a minute is rolled up a little after it ends, an hour after its
 * last minute): buckets past the watermarks are aggregated from the finer source at read time
 * (hour rollups, then minute rollups, then raw samples), so an answer is complete up to `to`
 * whatever the rollup job's progress.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { HOUR_MS, MINUTE_MS, bucketOf, type BucketRow, type BucketSource } from './buckets.js';
import { MAX_POINTS, autoPlan, bucketPlan, parseStep, type Plan, type Resolution, type StepChoice } from './points-plan.js';
import {
  bucketsOf,
  changeInForce,
  changesBetween,
  countChanges,
  countRawSamples,
  findSeries,
  listSeries,
  rawSamples,
  selectSeries,
  type SeriesFilter,
  type SeriesRecord,
} from './series.repository.js';
import { readStoreMarks, type StoreMarks } from './store-marks.js';
import { storedValue } from './series-types.js';

/** Default range: the last hour. */
export const DEFAULT_RANGE_MS = HOUR_MS;
/** Series one export takes at most (each at most MAX_POINTS points). */
export const EXPORT_MAX_SERIES = 1_000;

export type SeriesValue = number | boolean | string;
export type AnswerResolution = Resolution | 'changes';

export interface ValuePoint {
  t: number;
  value: SeriesValue;
}
export interface BucketPoint {
  t: number;
  min: number;
  max: number;
  avg: number;
  count: number;
  last: number;
}
export type Point = ValuePoint | BucketPoint;

export interface PointsResult {
  series: SeriesRecord;
  from: number;
  to: number;
  resolution: AnswerResolution;
  /** Bucket size in ms; null for raw samples and changes. */
  stepMs: number | null;
  /** bool and string series: the change in force at `from` (its time is at or before `from`). */
  initial: ValuePoint | null;
  points: Point[];
}

export interface RangeQuery {
  /** Epoch ms, already parsed from ISO 8601 by the route's schema. */
  from?: number;
  to?: number;
  step?: string;
}

interface SeriesPlan {
  series: SeriesRecord;
  plan: Plan | 'changes';
}

/** The series' latest value, typed by the series' type. */
export function lastValueOf(series: SeriesRecord): SeriesValue | null {
  return series.lastAt === null ? null : storedValue(series.type, series.lastNum, series.lastText);
}

const changeValue = (series: SeriesRecord, text: string): SeriesValue => (series.type === 'bool' ? text === 'true' : text);

function mergeBucket(a: BucketRow, b: BucketRow): BucketRow {
  const later = b.last_at > a.last_at ? b : a;
  return { ...a, count: a.count + b.count, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), sum: a.sum + b.sum, last: later.last, last_at: later.last_at };
}

/** The range asked for, with defaults: `to` now, `from` an hour before `to`. */
export function resolveRange(query: RangeQuery, now: number): { from: number; to: number } {
  const to = query.to ?? now;
  const from = query.from ?? to - DEFAULT_RANGE_MS;
  if (from > to) throw ValidationError.field(['query', 'from'], `from (${new Date(from).toISOString()}) must not be after to (${new Date(to).toISOString()})`);
  return { from, to };
}

export function createSeriesService({ db, clock }: { db: Db; clock: Clock }) {
  async function get(tenantId: string, idText: string): Promise<SeriesRecord> {
    // Ids are integers; anything else is simply not a series (404, as for another tenant's).
    const id = /^\d{1,15}$/.test(idText) ? Number(idText) : undefined;
    const series = id === undefined ? undefined : await findSeries(db, tenantId, id);
    if (!series) throw new NotFoundError('Series');
    return series;
  }

  /** Decides the resolution for one series, reading only bounded counts; refuses what exceeds the limits. */
  async function planFor(series: SeriesRecord, range: { from: number; to: number }, step: StepChoice, marks: StoreMarks): Promise<SeriesPlan> {
    const { from, to } = range;
    if (series.type !== 'numeric') {
      // bool and string series answer their changes whatever the step.
      const changes = await countChanges(db, series.id, from, to, MAX_POINTS + 1);
      if (changes > MAX_POINTS) throw ValidationError.field(['query', 'from'], `series ${series.id} changed more than ${MAX_POINTS} times in this range: use a shorter range`);
      return { series, plan: 'changes' };
    }
    if (step.kind === 'buckets') return { series, plan: bucketPlan(step.stepMs, from, to) };
    const plan: Plan = step.kind === 'raw' ? { resolution: 'raw', stepMs: null } : autoPlan(from, to, marks);
    if (plan.resolution !== 'raw') return { series, plan };
    const count = await countRawSamples(db, series.id, from, to + 1, MAX_POINTS + 1);
    if (count <= MAX_POINTS) return { series, plan };
    if (step.kind === 'raw') {
      throw ValidationError.field(['query', 'step'], `series ${series.id} has more than ${MAX_POINTS} raw samples in this range: use a shorter range or a step such as 1m`);
    }
    return { series, plan: bucketPlan(MINUTE_MS, from, to) };
  }

  /**
   * Buckets of the plan's step over whole buckets covering [from, to]: each time segment read
   * from the coarsest source that holds it complete (see the module comment).
   */
  async function bucketPoints(seriesId: number, plan: Plan, range: { from: number; to: number }, marks: StoreMarks): Promise<BucketPoint[]> {
    const step = plan.stepMs!;
    const start = bucketOf(range.from, step);
    const end = bucketOf(range.to, step) + step;
    const segments: [BucketSource, number, number][] =
      plan.resolution === 'hour'
        ? [
            ['series_rollups_hour', start, Math.min(end, marks.hourWatermark)],
            ['series_rollups_minute', Math.max(start, marks.hourWatermark), Math.min(end, marks.minuteWatermark)],
            ['samples', Math.max(start, marks.minuteWatermark, marks.hourWatermark), end],
          ]
        : [
            ['series_rollups_minute', start, Math.min(end, marks.minuteWatermark)],
            ['samples', Math.max(start, marks.minuteWatermark), end],
          ];
    const merged = new Map<number, BucketRow>();
    for (const [source, from, to] of segments) {
      for (const row of await bucketsOf(db, source, seriesId, from, to, step)) {
        const known = merged.get(row.bucket_start);
        merged.set(row.bucket_start, known ? mergeBucket(known, row) : row);
      }
    }
    return [...merged.values()].sort((a, b) => a.bucket_start - b.bucket_start).map((b) => ({ t: b.bucket_start, min: b.min, max: b.max, avg: b.sum / b.count, count: b.count, last: b.last }));
  }

  async function fetchPoints({ series, plan }: SeriesPlan, range: { from: number; to: number }, marks: StoreMarks): Promise<PointsResult> {
    const base = { series, from: range.from, to: range.to };
    if (plan === 'changes') {
      const inForce = await changeInForce(db, series.id, range.from);
      const changes = await changesBetween(db, series.id, range.from, range.to, MAX_POINTS);
      return {
        ...base,
        resolution: 'changes',
        stepMs: null,
        initial: inForce ? { t: inForce.at, value: changeValue(series, inForce.value) } : null,
        points: changes.map((c) => ({ t: c.at, value: changeValue(series, c.value) })),
      };
    }
    if (plan.resolution === 'raw') {
      const samples = await rawSamples(db, series.id, range.from, range.to + 1, MAX_POINTS);
      return { ...base, resolution: 'raw', stepMs: null, initial: null, points: samples.map((s) => ({ t: s.at, value: s.value })) };
    }
    return { ...base, resolution: plan.resolution, stepMs: plan.stepMs, initial: null, points: await bucketPoints(series.id, plan, range, marks) };
  }

  return {
    list: (tenantId: string, filter: SeriesFilter, page: { limit: number; offset: number }) => listSeries(db, tenantId, filter, page),

    get,

    /** One series' points; 404 for an id that is not the tenant's, 422 for a bad range or step. */
    async points(tenantId: string, idText: string, query: RangeQuery): Promise<PointsResult> {
      const range = resolveRange(query, clock.now());
      const step = parseStep(query.step);
      const series = await get(tenantId, idText);
      const marks = await readStoreMarks(db);
      return fetchPoints(await planFor(series, range, step, marks), range, marks);
    },

    /**
     * Several series for an export: everything is checked before the first byte (a stream
     * cannot turn into a 422 half-way), then `results()` reads one series at a time, so memory
     * holds one series' points at most.
     */
    async exportSelection(tenantId: string, filter: SeriesFilter, query: RangeQuery) {
      const range = resolveRange(query, clock.now());
      const step = parseStep(query.step);
      const series = await selectSeries(db, tenantId, filter, EXPORT_MAX_SERIES + 1);
      if (series.length > EXPORT_MAX_SERIES) {
        throw ValidationError.field(['query'], `more than ${EXPORT_MAX_SERIES} series match: narrow the export with machine, name or label`);
      }
      const marks = await readStoreMarks(db);
      const plans: SeriesPlan[] = [];
      for (const one of series) plans.push(await planFor(one, range, step, marks));
      return {
        range,
        seriesCount: plans.length,
        async *results(): AsyncGenerator<PointsResult> {
          for (const plan of plans) yield await fetchPoints(plan, range, marks);
        },
      };
    },
  };
}

export type SeriesService = ReturnType<typeof createSeriesService>;
