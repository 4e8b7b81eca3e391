/**
 * Samples that arrive after their minute was rolled up (an agent retrying an old batch, or
 * sending what it buffered while the network was down): heard from the sample events that
 * ingestion emits after each commit, remembered per series as one range of minutes, and handed
 * to the next rollup run, which recomputes exactly those minutes (and their hours) from raw.
 *
 * Why a listener and not a rescan: samples are keyed by (series, time) with no insertion time,
 * so a rescan cannot tell new rows from old ones except by rereading every minute it covers.
 * The listener costs one comparison per stored sample and reads nothing.
 *
 * Limits: the set lives in memory, so a late sample stored just before a crash, or by another
 * process than the one running the rollups (the future scale-out mode, until sample events
 * travel over the bus), is not recomputed: its minute keeps the aggregate computed without it
 * (the raw sample itself is kept and answers short ranges). Memory: one entry per series at most.
 */
import type { Clock } from '../clock.js';
import { MINUTE_MS, bucketOf } from './buckets.js';
import type { SampleEvents, StoredSamples } from './sample-events.js';

/** A series' minutes to recompute: [from, to), minute-aligned. */
export interface LateRange {
  seriesId: number;
  from: number;
  to: number;
}

export interface LateSamples {
  /** Up to `max` series' ranges, removed from the set. */
  take(max: number): LateRange[];
  /** Gives ranges back (a run that failed), merged with what arrived meanwhile. */
  giveBack(ranges: readonly LateRange[]): void;
  /** Series waiting. */
  size(): number;
  /** Stops listening. */
  close(): void;
}

/**
 * `settledBefore(now)`: minutes before it may already be rolled up, so a sample there is late.
 * The rollup job passes its own rule, so the two always agree.
 */
export function createLateSamples({ clock, events, settledBefore }: { clock: Clock; events?: SampleEvents; settledBefore: (now: number) => number }): LateSamples {
  let pending = new Map<number, { from: number; to: number }>();

  function mark(seriesId: number, from: number, to: number): void {
    const known = pending.get(seriesId);
    pending.set(seriesId, known ? { from: Math.min(known.from, from), to: Math.max(known.to, to) } : { from, to });
  }

  function heard(stored: StoredSamples): void {
    const threshold = settledBefore(clock.now());
    for (const sample of stored.samples) {
      if (sample.type !== 'numeric' || sample.at >= threshold) continue;
      const minute = bucketOf(sample.at, MINUTE_MS);
      mark(sample.seriesId, minute, minute + MINUTE_MS);
    }
  }

  const stop = events?.listen(heard);

  return {
    take(max) {
      const taken: LateRange[] = [];
      for (const [seriesId, range] of pending) {
        if (taken.length >= max) break;
        taken.push({ seriesId, ...range });
      }
      for (const range of taken) pending.delete(range.seriesId);
      return taken;
    },
    giveBack(ranges) {
      for (const range of ranges) mark(range.seriesId, range.from, range.to);
    },
    size: () => pending.size,
    close() {
      stop?.();
      pending = new Map();
    },
  };
}
