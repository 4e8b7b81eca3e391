/**
 * Rollups, uptime and retention on real databases. Results are recorded through the recorder
 * at chosen times, then `rollUp` / `prune` run with the manual clock's time, and every figure is
 * checked against numbers worked out by hand (in the comments).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import type { Logger } from '../src/logger.js';
import { createHousekeeping } from '../src/monitors/housekeeping.js';
import type { ResultStatus } from '../src/monitors/kinds.js';
import { HOUR_MS, MINUTE_MS, percentile, prune, rollUp } from '../src/monitors/rollups.js';
import { computeUptime } from '../src/monitors/uptime.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const SECOND = 1000;
const DAY_MS = 86_400_000;
const silent = { warn: () => {}, debug: () => {} } as unknown as Pick<Logger, 'warn' | 'debug'>;

describe('percentile (nearest rank)', () => {
  it('is the value at rank ceil(p/100 × n)', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1); // 1..20
    expect(percentile(values, 95)).toBe(19); // rank ceil(19) = 19
    expect(percentile(values, 100)).toBe(20);
    expect(percentile(values, 50)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([3, 9], 95)).toBe(9); // rank ceil(1.9) = 2
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
    expect(percentile([], 95)).toBeNull();
  });
});

describe.each(TEST_DIALECTS)('rollups and retention on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  /** 2026-11-21 12:00:00 UTC: the manual clock's start, on an hour boundary. */
  let t0: number;

  afterEach(async () => {
    await ctx?.close();
  });

  async function start() {
    ctx = await createTestApp(dialect);
    tenant = await createTenantWithKey(ctx);
    t0 = ctx.clock.now();
    expect(t0 % HOUR_MS).toBe(0);
  }

  let urlCounter = 0;
  const createMonitor = () => ctx.services.httpTargets.create(tenant.tenantId, { name: `m${++urlCounter}`, url: `http://127.0.0.1:9/${urlCounter}` });

  const record = (monitorId: string, at: number, status: ResultStatus, latencyMs: number | null) =>
    ctx.services.recorder.record(monitorId, { status, latencyMs, message: status }, at);

  const minuteRows = (monitorId: string) =>
    ctx.database.db.selectFrom('rollups_minute').selectAll().where('monitor_id', '=', monitorId).orderBy('bucket_start').execute();
  const hourRows = (monitorId: string) =>
    ctx.database.db.selectFrom('rollups_hour').selectAll().where('monitor_id', '=', monitorId).orderBy('bucket_start').execute();
  const watermark = async (level: 'minute' | 'hour') =>
    Number((await ctx.database.db.selectFrom('app_meta').select('value').where('key', '=', `rollup_${level}_watermark`).executeTakeFirst())?.value);

  /** Runs rollUp until it has nothing left to do (each run does at most 120 buckets per level). */
  async function rollUpAll(now: number) {
    for (let i = 0; i < 10; i++) {
      const done = await rollUp(ctx.database.db, now);
      if (done.minutes === 0 && done.hours === 0) return;
    }
    throw new Error('rollUp never caught up');
  }

  it('rolls each completed minute into one row per monitor: count, up count, latency min/max/sum/p95', async () => {
    await start();
    const a = await createMonitor();
    const b = await createMonitor();
    // Minute 12:00, monitor A: 20 results with latencies 1..20 in a shuffled order; every 5th is down.
    const shuffled = [7, 3, 20, 1, 15, 9, 12, 18, 2, 11, 5, 19, 14, 8, 16, 4, 10, 13, 6, 17];
    for (const [i, latency] of shuffled.entries()) await record(a, t0 + i * 2 * SECOND, i % 5 === 4 ? 'down' : 'up', latency);
    // Minute 12:01, monitor A: a warning, a down without latency (refused), an up.
    await record(a, t0 + 61 * SECOND, 'warning', 250);
    await record(a, t0 + 62 * SECOND, 'down', null);
    await record(a, t0 + 119 * SECOND + 999, 'up', 40);
    // Minute 12:01, monitor B: one result. Minute 12:03, monitor B: only failures without latency.
    await record(b, t0 + 90 * SECOND, 'up', 33);
    await record(b, t0 + 180 * SECOND, 'down', null);
    await record(b, t0 + 181 * SECOND, 'down', null);
    // 12:04:10, the current minute: not complete, not rolled up.
    await record(a, t0 + 250 * SECOND, 'up', 99);

    ctx.clock.set(t0 + 4 * MINUTE_MS + 30 * SECOND);
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ minutes: 3, hours: 0 });

    const bucket = { monitor_id: a };
    expect(await minuteRows(a)).toEqual([
      // 20 results, 16 up; min 1, max 20, sum 210 (1+…+20); p95 = rank ceil(0.95 × 20) = 19 → 19.
      { ...bucket, bucket_start: t0, count: 20, up_count: 16, latency_count: 20, latency_min: 1, latency_max: 20, latency_sum: 210, latency_p95: 19 },
      // 3 results, 1 up (a warning is not up); latencies 250 and 40: p95 = rank ceil(1.9) = 2 → 250.
      { ...bucket, bucket_start: t0 + MINUTE_MS, count: 3, up_count: 1, latency_count: 2, latency_min: 40, latency_max: 250, latency_sum: 290, latency_p95: 250 },
    ]);
    expect(await minuteRows(b)).toEqual([
      { monitor_id: b, bucket_start: t0 + MINUTE_MS, count: 1, up_count: 1, latency_count: 1, latency_min: 33, latency_max: 33, latency_sum: 33, latency_p95: 33 },
      { monitor_id: b, bucket_start: t0 + 3 * MINUTE_MS, count: 2, up_count: 0, latency_count: 0, latency_min: null, latency_max: null, latency_sum: null, latency_p95: null },
    ]);
    expect(await watermark('minute')).toBe(t0 + 4 * MINUTE_MS);
    // The hour 12:00 is not complete: no hour row yet.
    expect(await hourRows(a)).toEqual([]);
  });

  it('merges the minutes of each completed hour into an hour row', async () => {
    await start();
    const id = await createMonitor();
    // 12:00: latencies 10, 20, …, 100 (10 results), all up. Minute p95: rank ceil(9.5) = 10 → 100.
    for (let i = 0; i < 10; i++) await record(id, t0 + i * SECOND, 'up', (i + 1) * 10);
    // 12:05: latencies 1..30, the first 6 down. Minute p95: rank ceil(28.5) = 29 → 29.
    for (let i = 0; i < 30; i++) await record(id, t0 + 5 * MINUTE_MS + i * SECOND, i < 6 ? 'down' : 'up', i + 1);
    // 12:59: two downs without latency.
    await record(id, t0 + 59 * MINUTE_MS, 'down', null);
    await record(id, t0 + 59 * MINUTE_MS + SECOND, 'down', null);
    // 13:30: one result, in the next hour.
    await record(id, t0 + 90 * MINUTE_MS, 'up', 500);

    ctx.clock.set(t0 + 2 * HOUR_MS + 10 * SECOND);
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ minutes: 4, hours: 2 });
    expect((await minuteRows(id)).map((m) => [(m.bucket_start - t0) / MINUTE_MS, m.count, m.latency_p95])).toEqual([
      [0, 10, 100],
      [5, 30, 29],
      [59, 2, null],
      [90, 1, 500],
    ]);
    expect(await hourRows(id)).toEqual([
      {
        monitor_id: id,
        bucket_start: t0,
        count: 42, // 10 + 30 + 2
        up_count: 34, // 10 + 24
        latency_count: 40,
        latency_min: 1,
        latency_max: 100,
        latency_sum: 1015, // 550 + 465
        // The count-weighted p95 of the minutes' p95: (29, weight 30), (100, weight 10); 95 % of 40
        // is 38, first reached at 100.
        latency_p95: 100,
      },
      { monitor_id: id, bucket_start: t0 + HOUR_MS, count: 1, up_count: 1, latency_count: 1, latency_min: 500, latency_max: 500, latency_sum: 500, latency_p95: 500 },
    ]);
    expect(await watermark('hour')).toBe(t0 + 2 * HOUR_MS);
  });

  it('watermarks: a second run does nothing; a restart resumes where the last run stopped', async () => {
    await start();
    const id = await createMonitor();
    for (let m = 0; m < 3; m++) await record(id, t0 + m * MINUTE_MS + 5 * SECOND, 'up', 10 + m);
    ctx.clock.set(t0 + 2 * MINUTE_MS + 30 * SECOND);
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ minutes: 2, hours: 0 });
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ minutes: 0, hours: 0 });
    const before = await minuteRows(id);
    expect(before.map((r) => (r.bucket_start - t0) / MINUTE_MS)).toEqual([0, 1]);

    // More results, then a "restart": a new database handle and a new housekeeping instance,
    // which know nothing but what is stored.
    for (let m = 3; m < 70; m++) await record(id, t0 + m * MINUTE_MS + 5 * SECOND, m % 10 === 0 ? 'down' : 'up', 10 + m);
    ctx.clock.set(t0 + 70 * MINUTE_MS + 30 * SECOND);
    const reopened = await openDatabase(ctx.database.target);
    try {
      const housekeeping = createHousekeeping({ db: reopened.db, clock: ctx.clock, retention: { results: 7, minuteRollups: 3, hourRollups: 400 }, logger: silent });
      await housekeeping.runOnce();
      expect(await rollUp(reopened.db, ctx.clock.now())).toEqual({ minutes: 0, hours: 0 });
    } finally {
      await reopened.close();
    }
    const after = await minuteRows(id);
    // Minutes 0..69, each once; the first two untouched.
    expect(after.map((r) => (r.bucket_start - t0) / MINUTE_MS)).toEqual(Array.from({ length: 70 }, (_, m) => m));
    expect(after.slice(0, 2)).toEqual(before);
    expect(after.every((r) => r.count === 1)).toBe(true);
    expect(after.filter((r) => r.up_count === 0).map((r) => (r.bucket_start - t0) / MINUTE_MS)).toEqual([10, 20, 30, 40, 50, 60]);
    // Hour 12:00 (minutes 0..59, 5 of them down) is complete; 13:00 is not.
    expect((await hourRows(id)).map((h) => [h.bucket_start - t0, h.count, h.up_count])).toEqual([[0, 60, 55]]);
    expect(await watermark('minute')).toBe(t0 + 70 * MINUTE_MS);
    expect(await watermark('hour')).toBe(t0 + HOUR_MS);
  });

  it('catches up a long backlog in runs of at most 120 buckets, and skips stretches without results', async () => {
    await start();
    const id = await createMonitor();
    // One result a minute for 200 minutes, then nothing for 3 days, then one more.
    for (let m = 0; m < 200; m++) await record(id, t0 + m * MINUTE_MS, 'up', m);
    const late = t0 + 3 * DAY_MS + 7 * MINUTE_MS;
    await record(id, late, 'down', null);
    ctx.clock.set(late + 2 * MINUTE_MS);

    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ minutes: 120, hours: 2 });
    expect(await watermark('minute')).toBe(t0 + 120 * MINUTE_MS);
    // The next run resumes at minute 120: the 80 remaining minutes, then the late one in one step.
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ minutes: 81, hours: 2 });
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ minutes: 0, hours: 0 });
    expect(await minuteRows(id)).toHaveLength(201);
    expect((await hourRows(id)).map((h) => [(h.bucket_start - t0) / HOUR_MS, h.count])).toEqual([
      [0, 60],
      [1, 60],
      [2, 60],
      [3, 20],
    ]); // the late minute's hour (72) is not complete yet
    expect(await watermark('minute')).toBe(late + 2 * MINUTE_MS);
    expect(await watermark('hour')).toBe(t0 + 72 * HOUR_MS);
  });

  describe('uptime', () => {
    /**
     * One result a minute at mm:05 for minutes 0..209 (3 h 30 min from 12:00), down when the
     * minute is a multiple of 7 (30 of 210: 0, 7, …, 203), latency = minute + 1 ms. Rolled up
     * at 15:20:30: hours 12–14 in hour rollups, 15:00–15:19 in minute rollups, and 15:20–15:29
     * left raw.
     */
    async function knownMix() {
      await start();
      const id = await createMonitor();
      const other = await createMonitor(); // its results must not count
      for (let m = 0; m < 210; m++) await record(id, t0 + m * MINUTE_MS + 5 * SECOND, m % 7 === 0 ? 'down' : 'up', m + 1);
      for (let m = 0; m < 30; m++) await record(other, t0 + m * MINUTE_MS + 6 * SECOND, 'down', 1);
      ctx.clock.set(t0 + 200 * MINUTE_MS + 30 * SECOND);
      await rollUpAll(ctx.clock.now());
      expect(await watermark('hour')).toBe(t0 + 3 * HOUR_MS);
      expect(await watermark('minute')).toBe(t0 + 200 * MINUTE_MS);
      ctx.clock.set(t0 + 210 * MINUTE_MS);
      return id;
    }

    // 180 of 210 up = 85.714…% → 85.714; latencies 1..210 average 105.5 → 106 (rounded).
    const ALL = { checks: 210, up: 180, uptimePercent: 85.714, avgLatencyMs: 106 };

    it('gives the exact percent for a known mix, from hour rollups, minute rollups and the raw tail', async () => {
      const id = await knownMix();
      const figures = await computeUptime(ctx.database.db, id, ctx.clock.now());
      expect(figures).toEqual({ '24h': ALL, '7d': ALL, '30d': ALL, '1y': ALL });

      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}/uptime`, headers: { 'x-api-key': tenant.apiKey } });
      expect(response.statusCode).toBe(200);
      const json = { checks: 210, up: 180, uptime_percent: 85.714, avg_latency_ms: 106 };
      expect(response.json()).toEqual({ '24h': json, '7d': json, '30d': json, '1y': json });
    });

    it('keeps giving it after the raw results are pruned: it reads the rollups', async () => {
      const id = await knownMix();
      // Delete every raw result that is rolled up (all but the ten raw ones of 15:20–15:29).
      await ctx.database.db.deleteFrom('check_results').where('at', '<', t0 + 200 * MINUTE_MS).execute();
      const left = await ctx.database.db.selectFrom('check_results').select('at').where('monitor_id', '=', id).execute();
      expect(left).toHaveLength(10);
      expect(await computeUptime(ctx.database.db, id, ctx.clock.now())).toEqual({ '24h': ALL, '7d': ALL, '30d': ALL, '1y': ALL });

      // Two days later, with prune at a retention of 1 day for raw results: none is left, the
      // 24 h window is empty and the longer ones still count everything.
      ctx.clock.set(t0 + 2 * DAY_MS + 210 * MINUTE_MS);
      await rollUpAll(ctx.clock.now());
      const pruned = await prune(ctx.database.db, ctx.clock.now(), { results: 1, minuteRollups: 3, hourRollups: 400 });
      expect(pruned).toEqual({ results: 10, minuteRollups: 0, hourRollups: 0 });
      expect(await ctx.database.db.selectFrom('check_results').select('id').execute()).toEqual([]);
      const later = await computeUptime(ctx.database.db, id, ctx.clock.now());
      expect(later['24h']).toEqual({ checks: 0, up: 0, uptimePercent: null, avgLatencyMs: null });
      expect(later['7d']).toEqual(ALL);
      expect(later['1y']).toEqual(ALL);
    });

    it("counts the window's partial first hour", async () => {
      await start();
      const id = await createMonitor();
      // A result every 10 minutes at :x0:05 from 12:00 for 147 results (k = 0..146, the last at
      // 12:20 the next day); down when k is a multiple of 4; latency 2k.
      for (let k = 0; k < 147; k++) await record(id, t0 + k * 10 * MINUTE_MS + 5 * SECOND, k % 4 === 0 ? 'down' : 'up', 2 * k);
      ctx.clock.set(t0 + DAY_MS + 30 * MINUTE_MS);
      await rollUpAll(ctx.clock.now());
      const figures = await computeUptime(ctx.database.db, id, ctx.clock.now());
      // The 24 h window starts at 12:30: k = 3..146, 144 results, the 12:30, 12:40 and 12:50 ones
      // from minute rollups. Down: k = 4, 8, …, 144 (36) → 108 up = 75 %. Latency: 2k averages 149.
      expect(figures['24h']).toEqual({ checks: 144, up: 108, uptimePercent: 75, avgLatencyMs: 149 });
      // 7 days: all 147, down k = 0, 4, …, 144 (37) → 110 up = 74.8299…% → 74.83; latency 146.
      expect(figures['7d']).toEqual({ checks: 147, up: 110, uptimePercent: 74.83, avgLatencyMs: 146 });
    });

    it('is null for a monitor without results, and 404 for another tenant', async () => {
      await start();
      const id = await createMonitor();
      const empty = { checks: 0, up: 0, uptimePercent: null, avgLatencyMs: null };
      expect(await computeUptime(ctx.database.db, id, ctx.clock.now())).toEqual({ '24h': empty, '7d': empty, '30d': empty, '1y': empty });
      const other = await createTenantWithKey(ctx);
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}/uptime`, headers: { 'x-api-key': other.apiKey } });
      expect(response.statusCode).toBe(404);
    });
  });

  describe('prune', () => {
    it('deletes raw results and rollups past their retention and keeps newer rows', async () => {
      await start();
      const id = await createMonitor();
      const ages = [10 * DAY_MS, 7 * DAY_MS, 5 * DAY_MS, 2 * DAY_MS, HOUR_MS];
      for (const age of ages) await record(id, t0 - age, 'up', 10);
      await rollUpAll(t0);
      expect(await minuteRows(id)).toHaveLength(5);
      expect(await hourRows(id)).toHaveLength(5);

      const deleted = await prune(ctx.database.db, t0, { results: 7, minuteRollups: 3, hourRollups: 9 });
      // Raw: older than 7 days is the 10-day one (exactly 7 days is kept). Minutes: older than
      // 3 days, the 10-, 7- and 5-day ones. Hours: older than 9 days, the 10-day one.
      expect(deleted).toEqual({ results: 1, minuteRollups: 3, hourRollups: 1 });
      const rawAges = (await ctx.database.db.selectFrom('check_results').select('at').orderBy('at').execute()).map((r) => t0 - r.at);
      expect(rawAges).toEqual([7 * DAY_MS, 5 * DAY_MS, 2 * DAY_MS, HOUR_MS]);
      expect((await minuteRows(id)).map((r) => t0 - r.bucket_start)).toEqual([2 * DAY_MS, HOUR_MS]);
      expect((await hourRows(id)).map((r) => t0 - r.bucket_start)).toEqual([7 * DAY_MS, 5 * DAY_MS, 2 * DAY_MS, HOUR_MS]);

      expect(await prune(ctx.database.db, t0, { results: 7, minuteRollups: 3, hourRollups: 9 })).toEqual({ results: 0, minuteRollups: 0, hourRollups: 0 });
    });

    it('deletes in batches until everything past retention is gone', async () => {
      await start();
      const id = await createMonitor();
      const old = t0 - 30 * DAY_MS;
      const rows = Array.from({ length: 12_345 }, (_, i) => ({ monitor_id: id, at: old + i, status: 'up', latency_ms: 5, value: null, message: null }));
      for (let i = 0; i < rows.length; i += 1000) await ctx.database.db.insertInto('check_results').values(rows.slice(i, i + 1000)).execute();
      await record(id, t0 - DAY_MS, 'up', 5);
      await rollUp(ctx.database.db, t0);
      const deleted = await prune(ctx.database.db, t0, { results: 7, minuteRollups: 3, hourRollups: 400 });
      expect(deleted.results).toBe(12_345);
      const left = await ctx.database.db.selectFrom('check_results').select('at').execute();
      expect(left).toEqual([{ at: t0 - DAY_MS }]);
    });

    it('keeps raw results that are past retention but not rolled up yet', async () => {
      await start();
      const id = await createMonitor();
      await record(id, t0 - 30 * DAY_MS, 'down', 5);
      expect((await prune(ctx.database.db, t0, { results: 7, minuteRollups: 3, hourRollups: 400 })).results).toBe(0);
      await rollUp(ctx.database.db, t0);
      expect((await prune(ctx.database.db, t0, { results: 7, minuteRollups: 3, hourRollups: 400 })).results).toBe(1);
    });
  });
});
