/**
 * What a kind declares as its history: the entries it really recorded (checks, pings, ingests,
 * sweep verdicts), newest first for `/monitors/{id}/results`, and oldest first over a time range
 * for uptime. Uptime is the share of the window the monitor spent up, computed the same way for
 * every kind from these entries: each entry's status holds until the next entry (see uptime.ts).
 */
import type { Db } from '../db/database.js';
import type { ResultStatus } from '../monitors/kinds.js';

export interface HistoryEntry {
  at: number;
  status: ResultStatus;
  latencyMs: number | null;
  value: number | null;
  message: string | null;
  /** What recorded it: `check`, `ping`, `ingest`, `sweep`… (shown by /results). */
  source: string;
}

export interface HistorySource {
  /** The newest entries first; `before` pages backwards in time. */
  latest(db: Db, monitorId: string, options: { limit: number; before?: number }): Promise<HistoryEntry[]>;
  /**
   * Entries with `from <= at < to`, oldest first, plus the last entry before `from` (if any, as the
   * first element), so the status at the window's start is known.
   */
  between(db: Db, monitorId: string, from: number, to: number): Promise<HistoryEntry[]>;
}

/**
 * A passive kind's history: what it records itself (pings, ingests) merged with the core's results
 * for it (sweep and liveness verdicts). A result recorded for one of the kind's own entries carries
 * that entry's timestamp: it is the same event, shown once, as the kind's.
 */
export function mergedHistory(own: HistorySource, core: HistorySource): HistorySource {
  const merge = (a: HistoryEntry[], b: HistoryEntry[], newestFirst: boolean): HistoryEntry[] => {
    const ownTimes = new Set(a.map((e) => e.at));
    const merged = [...a, ...b.filter((e) => !ownTimes.has(e.at))];
    return merged.sort((x, y) => (newestFirst ? y.at - x.at : x.at - y.at));
  };
  return {
    async latest(db, monitorId, options) {
      const [a, b] = await Promise.all([own.latest(db, monitorId, options), core.latest(db, monitorId, options)]);
      return merge(a, b, true).slice(0, options.limit);
    },
    async between(db, monitorId, from, to) {
      const [a, b] = await Promise.all([own.between(db, monitorId, from, to), core.between(db, monitorId, from, to)]);
      const merged = merge(a, b, false);
      // Keep one entry before the window: the newest of the two sources' leading entries.
      const firstInside = merged.findIndex((e) => e.at >= from);
      return firstInside > 1 ? merged.slice(firstInside - 1) : merged;
    },
  };
}
