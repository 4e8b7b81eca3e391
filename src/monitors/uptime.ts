/**
 * Uptime over 24 h / 7 d / 30 d / 1 y: the share of the window the monitor spent up, time-weighted
 * (each history entry's status holds until the next, the last until now; time before the first
 * entry and paused or maintenance time are not counted, see time-share.ts).
 *
 * Answered from rollups for the whole buckets they cover — day rollups up to the day watermark,
 * hour rollups up to the hour watermark — and from the monitor's history source for the rest:
 * the window's partial first hour and the time after the hour watermark. Never a scan of a
 * window's raw history. Where a partial first hour or day is past what is kept (raw results,
 * hour rollups), the window starts at the next kept bucket.
 *
 * `checks` / `up` count history entries; `uptimePercent` is time up / time known.
 */
import type { Db } from '../db/database.js';
import type { HistorySource } from '../kinds/history.js';
import { keyOf } from './monitor-keys.js';
import { DAY_MS, HOUR_MS, rollupSums, watermarks } from './rollups.js';
import { addFigures, NO_FIGURES, spanFigures, type SpanFigures } from './time-share.js';

export const UPTIME_WINDOWS = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS, '1y': 365 * DAY_MS } as const;
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

export interface UptimeFigures {
  checks: number;
  up: number;
  /** Time-weighted; null when the monitor's status was never known in the window. */
  uptimePercent: number | null;
  avgLatencyMs: number | null;
}

async function rollupFigures(db: Db, table: 'rollups_hour' | 'rollups_day', key: number | undefined, from: number, to: number): Promise<SpanFigures> {
  if (key === undefined || to <= from) return NO_FIGURES;
  const row = await db.selectFrom(table).select(rollupSums).where('monitor_key', '=', key).where('bucket_start', '>=', from).where('bucket_start', '<', to).executeTakeFirstOrThrow();
  return {
    upMs: Number(row.up_ms ?? 0),
    knownMs: Number(row.known_ms ?? 0),
    checks: Number(row.checks ?? 0),
    upChecks: Number(row.up_checks ?? 0),
    latencyCount: Number(row.latency_count ?? 0),
    latencySum: Number(row.latency_sum ?? 0),
  };
}

/** The [from, to) ranges of a window answered by each source, so that none overlaps another. */
export function coverage(from: number, now: number, marks: { hour: number; day: number }) {
  const hourFrom = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
  const hourTo = Math.min(marks.hour, now);
  if (hourTo <= hourFrom) return { days: [], hours: [], history: [[from, now]] as [number, number][] };
  const useDays = marks.day > dayFrom;
  return {
    days: useDays ? ([[dayFrom, marks.day]] as [number, number][]) : [],
    hours: (useDays
      ? [
          [hourFrom, dayFrom],
          [marks.day, hourTo],
        ]
      : [[hourFrom, hourTo]]) as [number, number][],
    history: [
      [from, hourFrom],
      [hourTo, now],
    ] as [number, number][],
  };
}

export async function computeUptime(db: Db, monitorId: string, history: HistorySource, now: number): Promise<Record<UptimeWindow, UptimeFigures>> {
  const marks = await watermarks(db);
  const key = await keyOf(db, monitorId);
  const entries = await Promise.all(
    (Object.entries(UPTIME_WINDOWS) as [UptimeWindow, number][]).map(async ([name, length]) => {
      const parts = coverage(now - length, now, marks);
      let sums = NO_FIGURES;
      for (const [a, b] of parts.days) sums = addFigures(sums, await rollupFigures(db, 'rollups_day', key, a, b));
      for (const [a, b] of parts.hours) sums = addFigures(sums, await rollupFigures(db, 'rollups_hour', key, a, b));
      for (const [a, b] of parts.history) sums = addFigures(sums, await spanFigures(db, monitorId, history, a, b, { throughEnd: b === now }));
      const figures: UptimeFigures = {
        checks: sums.checks,
        up: sums.upChecks,
        uptimePercent: sums.knownMs ? Math.round((sums.upMs / sums.knownMs) * 100_000) / 1000 : null,
        avgLatencyMs: sums.latencyCount ? Math.round(sums.latencySum / sums.latencyCount) : null,
      };
      return [name, figures] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<UptimeWindow, UptimeFigures>;
}
