/**
 * Series ids by machine, name and labels, kept in memory so that a batch of a known machine
 * resolves its series without a query. A machine's series are loaded all at once on its first
 * batch (one query, not one per metric), then grow as the writer creates series.
 *
 * Safe invalidation: entries are only ever added inside a write transaction, so the writer
 * clears the whole cache when a transaction fails (what it added may have been rolled back, and
 * an id may have vanished: the database is the truth, the cache is rebuilt from it). A machine
 * deleted with its monitor takes its series with it (foreign keys, cascade); a machine of the
 * same hostname created later has a new id, so stale entries are never reached, and they age
 * out. Bounded: past `maxSeries` entries, the machines loaded first are dropped.
 */
import type { SeriesType } from '../series-types.js';

export interface CachedSeries {
  id: number;
  type: SeriesType;
  unit: string | null;
}

/** The cache key of a series within its machine. */
export const seriesKey = (name: string, labelsKey: string) => `${name}\u0000${labelsKey}`;

export function createSeriesCache(maxSeries = 200_000) {
  /** Insertion order is eviction order. */
  const machines = new Map<string, Map<string, CachedSeries>>();
  let size = 0;

  function evict(): void {
    for (const [machineId, series] of machines) {
      if (size <= maxSeries) return;
      machines.delete(machineId);
      size -= series.size;
    }
  }

  return {
    /** The machine's series, or undefined when they are not loaded. */
    machine: (machineId: string): Map<string, CachedSeries> | undefined => machines.get(machineId),

    /** Records a machine's series as read from the database (all of them). */
    load(machineId: string, series: Iterable<[string, CachedSeries]>): Map<string, CachedSeries> {
      const map = new Map(series);
      size -= machines.get(machineId)?.size ?? 0;
      machines.set(machineId, map);
      size += map.size;
      evict();
      return map;
    },

    /** Adds series just created for a loaded machine. */
    add(machineId: string, key: string, series: CachedSeries): void {
      const map = machines.get(machineId);
      if (!map) return;
      if (!map.has(key)) size++;
      map.set(key, series);
    },

    clear(): void {
      machines.clear();
      size = 0;
    },

    size: () => size,
  };
}

export type SeriesCache = ReturnType<typeof createSeriesCache>;
