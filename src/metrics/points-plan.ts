/**
 * Which resolution answers a points request, and the `step` parameter. Pure functions; the
 * service adds the one decision that needs the database (too many raw samples).
 *
 * Without `step` (auto), by the length of the range:
 * - up to 2 hours: raw samples, unless raw samples were pruned before `from` or the range holds
 *   more than MAX_POINTS of them (then minute buckets);
 * - up to 48 hours: minute buckets (at most 2,881), unless minute rollups were pruned before
 *   `from` (then hours);
 * - longer: hour buckets, several hours per bucket when one hour each would exceed MAX_POINTS
 *   (beyond ~416 days).
 *
 * `step` forces it: `raw`, or a duration `<n>m`, `<n>h`, `<n>d` (also `<n>s` when a whole number
 * of minutes) of at least one minute and at most 400 days. A step that is a whole number of
 * hours reads hour rollups, any other minute rollups; buckets are re-aggregated to the step,
 * aligned on multiples of it since the epoch (UTC), so a 1d bucket is a UTC day. More buckets
 * than MAX_POINTS, or more raw samples than MAX_POINTS with `step=raw`, is refused (422), not
 * silently downsampled: the caller asked for that resolution.
 */
import { ValidationError } from '../errors.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './buckets.js';
import type { StoreMarks } from './store-marks.js';

/** Points (or buckets, or changes) one answer holds at most. */
export const MAX_POINTS = 10_000;
export const RAW_MAX_SPAN_MS = 2 * HOUR_MS;
export const MINUTE_MAX_SPAN_MS = 48 * HOUR_MS;
const MAX_STEP_MS = 400 * DAY_MS;

export type StepChoice = { kind: 'auto' } | { kind: 'raw' } | { kind: 'buckets'; stepMs: number };
export type Resolution = 'raw' | 'minute' | 'hour';
export interface Plan {
  resolution: Resolution;
  /** Bucket size; null for raw samples. */
  stepMs: number | null;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };
const STEP_HELP = 'step must be "raw" or a duration of whole minutes such as 1m, 5m, 1h, 6h or 1d';

const stepProblem = (msg: string) => ValidationError.field(['query', 'step'], msg);

export function parseStep(text: string | undefined): StepChoice {
  if (text === undefined || text === '' || text === 'auto') return { kind: 'auto' };
  if (text === 'raw') return { kind: 'raw' };
  const match = /^(\d{1,9})([smhd])$/.exec(text);
  if (!match) throw stepProblem(`${STEP_HELP}; got "${text}"`);
  const stepMs = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (stepMs < MINUTE_MS) throw stepProblem(`step must be at least 1m (use step=raw for every sample); got "${text}"`);
  if (stepMs % MINUTE_MS !== 0) throw stepProblem(`step must be a whole number of minutes; got "${text}"`);
  if (stepMs > MAX_STEP_MS) throw stepProblem(`step must be at most 400d; got "${text}"`);
  return { kind: 'buckets', stepMs };
}

/** Buckets of `stepMs`, aligned on multiples of it, that the range [from, to] touches. */
export function bucketCount(from: number, to: number, stepMs: number): number {
  return Math.floor(to / stepMs) - Math.floor(from / stepMs) + 1;
}

/** A forced bucket step: minute or hour rollups by the step, refused past MAX_POINTS buckets. */
export function bucketPlan(stepMs: number, from: number, to: number): Plan {
  const count = bucketCount(from, to, stepMs);
  if (count > MAX_POINTS) throw stepProblem(`this range holds ${count} buckets of that step, more than the limit of ${MAX_POINTS}: use a larger step or a shorter range`);
  return { resolution: stepMs % HOUR_MS === 0 ? 'hour' : 'minute', stepMs };
}

/** Hour buckets, as many hours per bucket as it takes to stay within MAX_POINTS. */
export function hourPlan(from: number, to: number): Plan {
  let hours = Math.max(1, Math.ceil(bucketCount(from, to, HOUR_MS) / MAX_POINTS));
  while (bucketCount(from, to, hours * HOUR_MS) > MAX_POINTS) hours++;
  return { resolution: 'hour', stepMs: hours * HOUR_MS };
}

/** The automatic choice by range length and what retention still holds (raw count not checked here). */
export function autoPlan(from: number, to: number, marks: Pick<StoreMarks, 'rawPrunedBefore' | 'minutePrunedBefore'>): Plan {
  const span = to - from;
  if (span <= RAW_MAX_SPAN_MS && from >= marks.rawPrunedBefore) return { resolution: 'raw', stepMs: null };
  if (span <= MINUTE_MAX_SPAN_MS && from >= marks.minutePrunedBefore) return { resolution: 'minute', stepMs: MINUTE_MS };
  return hourPlan(from, to);
}
