/**
 * Uptime over 24 h / 7 d / 30 d / 1 y, answered from rollups: hour rollups up to the hour
 * watermark, minute rollups up to the minute watermark, and raw results only for the minutes
 * not rolled up yet. Never a scan of a window's raw rows. The window's partial first hour comes
 * from minute rollups (so a 24 h window is not cut to 23 h); beyond their retention, and for the
 * partial first minute, the window starts at the next bucket.
 */
import type { Db } from '../db/database.js';
import { HOUR_MS, MINUTE_MS } from './rollups.js';

const DAY_MS = 86_400_000;

export const UPTIME_WINDOWS = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS, '1y': 365 * DAY_MS } as const;
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;

export interface UptimeFigures {
  checks: number;
  up: number;
  /** Null when there was no check in the window. */
  uptimePercent: number | null;
  avgLatencyMs: number | null;
}

interface Sums {
  checks: number;
  up: number;
  latencyCount: number;
  latencySum: number;
}

const ZERO: Sums = { checks: 0, up: 0, latencyCount: 0, latencySum: 0 };

async function watermarks(db: Db): Promise<{ minute: number; hour: number }> {
  const rows = await db.selectFrom('app_meta').select(['key', 'value']).where('key', 'in', ['rollup_minute_watermark', 'rollup_hour_watermark']).execute();
  const get = (key: string) => Number(rows.find((r) => r.key === key)?.value ?? 0);
  return { minute: get('rollup_minute_watermark'), hour: get('rollup_hour_watermark') };
}

async function rollupSums(db: Db, table: 'rollups_minute' | 'rollups_hour', monitorId: string, from: number, to: number): Promise<Sums> {
  if (to <= from) return ZERO;
  const row = await db
    .selectFrom(table)
    .select((eb) => [
      eb.fn.sum<number>('count').as('checks'),
      eb.fn.sum<number>('up_count').as('up'),
      eb.fn.sum<number>('latency_count').as('latency_count'),
      eb.fn.sum<number>('latency_sum').as('latency_sum'),
    ])
    .where('monitor_id', '=', monitorId)
    .where('bucket_start', '>=', from)
    .where('bucket_start', '<', to)
    .executeTakeFirstOrThrow();
  return { checks: Number(row.checks ?? 0), up: Number(row.up ?? 0), latencyCount: Number(row.latency_count ?? 0), latencySum: Number(row.latency_sum ?? 0) };
}

async function rawSums(db: Db, monitorId: string, from: number, to: number): Promise<Sums> {
  if (to <= from) return ZERO;
  const row = await db
    .selectFrom('check_results')
    .select((eb) => [
      eb.fn.countAll<number>().as('checks'),
      eb.fn.sum<number>(eb.case().when('status', '=', 'up').then(1).else(0).end()).as('up'),
      eb.fn.count<number>('latency_ms').as('latency_count'),
      eb.fn.sum<number>('latency_ms').as('latency_sum'),
    ])
    .where('monitor_id', '=', monitorId)
    .where('at', '>=', from)
    .where('at', '<=', to)
    .executeTakeFirstOrThrow();
  return { checks: Number(row.checks ?? 0), up: Number(row.up ?? 0), latencyCount: Number(row.latency_count ?? 0), latencySum: Number(row.latency_sum ?? 0) };
}

const add = (a: Sums, b: Sums): Sums => ({
  checks: a.checks + b.checks,
  up: a.up + b.up,
  latencyCount: a.latencyCount + b.latencyCount,
  latencySum: a.latencySum + b.latencySum,
});

export async function computeUptime(db: Db, monitorId: string, now: number): Promise<Record<UptimeWindow, UptimeFigures>> {
  const marks = await watermarks(db);
  const entries = await Promise.all(
    (Object.entries(UPTIME_WINDOWS) as [UptimeWindow, number][]).map(async ([name, length]) => {
      const from = now - length;
      const hourFrom = Math.ceil(from / HOUR_MS) * HOUR_MS;
      const minuteFrom = Math.ceil(from / MINUTE_MS) * MINUTE_MS;
      // Whole hours of the window that are rolled up…
      let sums = await rollupSums(db, 'rollups_hour', monitorId, hourFrom, marks.hour);
      // …the window's partial first hour, from its minutes (while they are kept)…
      if (hourFrom <= marks.hour) sums = add(sums, await rollupSums(db, 'rollups_minute', monitorId, minuteFrom, hourFrom));
      // …the minutes after the hour watermark, and the raw results after the minute watermark.
      sums = add(sums, await rollupSums(db, 'rollups_minute', monitorId, Math.max(minuteFrom, marks.hour), marks.minute));
      sums = add(sums, await rawSums(db, monitorId, Math.max(from, marks.minute), now));
      const figures: UptimeFigures = {
        checks: sums.checks,
        up: sums.up,
        uptimePercent: sums.checks ? Math.round((sums.up / sums.checks) * 100_000) / 1000 : null,
        avgLatencyMs: sums.latencyCount ? Math.round(sums.latencySum / sums.latencyCount) : null,
      };
      return [name, figures] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<UptimeWindow, UptimeFigures>;
}
