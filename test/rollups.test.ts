/**
 * Rollups, uptime and retention on real databases. Results are recorded through the recorder
 * at chosen times, then `rollUp` / `prune` run with the manual clock's time, and every figure is
 * checked against numbers worked out by hand (in the comments). Uptime is time-weighted: each
 * result's status holds until the next one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import type { HistorySource } from '../src/kinds/history.js';
import type { Logger } from '../src/logger.js';
import { createHousekeeping } from '../src/monitors/housekeeping.js';
import type { ResultStatus } from '../src/monitors/kinds.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, percentile, prune, rollUp } from '../src/monitors/rollups.js';
import { checkResultsHistory } from '../src/monitors/results-history.js';
import { computeUptime } from '../src/monitors/uptime.js';
import { createTenantWithKey, createTestApp, type TenantFixture, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';

const SECOND = 1000;
const silent = { warn: () => {}, debug: () => {} } as unknown as Pick<Logger, 'warn' | 'debug'>;
const RETENTION = { results: 7, hourRollups: 35, dayRollups: 400 };

describe('percentile (nearest rank)', () => {
  it('is the value at rank ceil(p/100 × n)', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1); // 1..20
    expect(percentile(values, 95)).toBe(19);
    expect(percentile(values, 50)).toBe(10);
    expect(percentile([3, 9], 95)).toBe(9);
    expect(percentile([], 95)).toBeNull();
  });
});

describe.each(TEST_DIALECTS)('rollups and retention on %s', (dialect) => {
  let ctx: TestContext;
  let tenant: TenantFixture;
  /** 2026-11-21 12:00:00 UTC: the manual clock's start, on an hour boundary (12 h after midnight). */
  let t0: number;

  afterEach(async () => {
    await ctx?.close();
  });

  async function start() {
    ctx = await createTestApp(dialect);
    tenant = await createTenantWithKey(ctx);
    t0 = ctx.clock.now();
    expect(t0 % HOUR_MS).toBe(0);
    expect(t0 % DAY_MS).toBe(12 * HOUR_MS);
  }

  let urlCounter = 0;
  const createMonitor = () => ctx.services.httpTargets.create(tenant.tenantId, { name: `m${++urlCounter}`, url: `http://127.0.0.1:9/${urlCounter}` });

  const record = (monitorId: string, at: number, status: ResultStatus, latencyMs: number | null) => ctx.services.recorder.record(monitorId, { status, latencyMs, message: status }, at);

  const keyOf = async (monitorId: string) => (await ctx.database.db.selectFrom('monitor_keys').select('key').where('monitor_id', '=', monitorId).executeTakeFirst())?.key ?? -1;
  /** A monitor's rollup rows as [bucket − t0, up_ms, known_ms, checks, up_checks, latency_count, latency_sum]. */
  const rows = async (table: 'rollups_hour' | 'rollups_day', monitorId: string) =>
    (
      await ctx.database.db
        .selectFrom(table)
        .selectAll()
        .where('monitor_key', '=', await keyOf(monitorId))
        .orderBy('bucket_start')
        .execute()
    ).map((r) => [Number(r.bucket_start) - t0, Number(r.up_ms), Number(r.known_ms), r.checks, r.up_checks, r.latency_count, r.latency_sum === null ? null : Number(r.latency_sum)]);
  const watermark = async (level: 'hour' | 'day') => Number((await ctx.database.db.selectFrom('app_meta').select('value').where('key', '=', `rollup_${level}_watermark`).executeTakeFirst())?.value);

  /** Runs rollUp until it has nothing left to do (each run does at most 24 buckets per level). */
  async function rollUpAll(now: number) {
    for (let i = 0; i < 40; i++) {
      const done = await rollUp(ctx.database.db, now);
      if (done.hours === 0 && done.days === 0) return;
    }
    throw new Error('rollUp never caught up');
  }

  const uptime = (id: string) => computeUptime(ctx.database.db, id, checkResultsHistory(), ctx.clock.now());

  it('rolls each completed hour into time shares per monitor: time up, time known, counts, latency sums', async () => {
    await start();
    const a = await createMonitor();
    const b = await createMonitor();
    const c = await createMonitor(); // never checked: no rows
    // A: up at 12:00, down at 12:50 (no latency), up at 13:10.
    await record(a, t0, 'up', 10);
    await record(a, t0 + 50 * MINUTE_MS, 'down', null);
    await record(a, t0 + 70 * MINUTE_MS, 'up', 30);
    // B: its first result, a warning, at 12:30; the half hour before it is not known.
    await record(b, t0 + 30 * MINUTE_MS, 'warning', 100);
    // 14:00:10: hours 12 and 13 are complete, 14 is not.
    ctx.clock.set(t0 + 2 * HOUR_MS + 10 * SECOND);
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ hours: 2, days: 0 });

    expect(await rows('rollups_hour', a)).toEqual([
      [0, 50 * MINUTE_MS, HOUR_MS, 2, 1, 1, 10], // up 12:00–12:50, down 12:50–13:00
      [HOUR_MS, 50 * MINUTE_MS, HOUR_MS, 1, 1, 1, 30], // down (carried) 13:00–13:10, up 13:10–14:00
    ]);
    expect(await rows('rollups_hour', b)).toEqual([
      [0, 0, 30 * MINUTE_MS, 1, 0, 1, 100], // a warning is known time, not up time
      [HOUR_MS, 0, HOUR_MS, 0, 0, 0, null], // still warning: no entry, the status holds
    ]);
    expect(await rows('rollups_hour', c)).toEqual([]);
    expect(await watermark('hour')).toBe(t0 + 2 * HOUR_MS);
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ hours: 0, days: 0 });
  });

  it('lets the event loop run while it rolls up an hour of many monitors (it held it 1.8 s at 10,000 monitors)', async () => {
    await start();
    const ids = [];
    for (let i = 0; i < 300; i++) ids.push(await createMonitor());
    for (const id of ids) await record(id, t0 + MINUTE_MS, 'up', 5);
    ctx.clock.set(t0 + HOUR_MS + 10 * SECOND);
    let turns = 0;
    let rolling = true;
    const tick = () => {
      if (!rolling) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const started = performance.now();
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ hours: 1, days: 0 });
    const tookMs = performance.now() - started;
    rolling = false;
    expect((await rows('rollups_hour', ids[299]!))[0]).toEqual([0, 59 * MINUTE_MS, 59 * MINUTE_MS, 1, 1, 1, 5]);
    // Other work ran during the rollup, about once per 10 ms of it (whatever the dialect's speed).
    expect(turns, `${turns} turns of the loop in ${tookMs.toFixed(0)} ms`).toBeGreaterThanOrEqual(Math.floor(tookMs / 40));
    expect(turns).toBeGreaterThan(0);
  }, 60_000);

  it('sums the hours of each completed day into a day row; catches up in steps and resumes after a restart', async () => {
    await start();
    const id = await createMonitor();
    // Up at 12:00 on the 21st, down at 01:00 on the 22nd; now 12:05 on the 23rd.
    await record(id, t0, 'up', 10);
    await record(id, t0 + 13 * HOUR_MS, 'down', 20);
    ctx.clock.set(t0 + 2 * DAY_MS + 5 * MINUTE_MS);
    // First run: 24 hours (12:00 on the 21st to 12:00 on the 22nd), then the 21st as a day.
    expect(await rollUp(ctx.database.db, ctx.clock.now())).toEqual({ hours: 24, days: 1 });
    expect(await watermark('hour')).toBe(t0 + DAY_MS);
    expect(await watermark('day')).toBe(t0 + 12 * HOUR_MS);
    // The 21st from 12:00: 12 hours known, all up, one check.
    expect(await rows('rollups_day', id)).toEqual([[-12 * HOUR_MS, 12 * HOUR_MS, 12 * HOUR_MS, 1, 1, 1, 10]]);

    // A "restart": a new database handle and a new housekeeping, which know only what is stored.
    const reopened = await openDatabase(ctx.database.target);
    try {
      await createHousekeeping({ db: reopened.db, clock: ctx.clock, retention: RETENTION, logger: silent }).runOnce();
      expect(await rollUp(reopened.db, ctx.clock.now())).toEqual({ hours: 0, days: 0 });
    } finally {
      await reopened.close();
    }
    expect(await watermark('hour')).toBe(t0 + 2 * DAY_MS);
    // The 22nd: up 00:00–01:00, then down; 24 hours known; the down check.
    const days = await rows('rollups_day', id);
    expect(days).toEqual([
      [-12 * HOUR_MS, 12 * HOUR_MS, 12 * HOUR_MS, 1, 1, 1, 10],
      [12 * HOUR_MS, HOUR_MS, DAY_MS, 1, 0, 1, 20],
    ]);
    // Every hour once, and each day the sum of its hours.
    const hours = await rows('rollups_hour', id);
    expect(hours.map((h) => h[0])).toEqual(Array.from({ length: 48 }, (_, i) => i * HOUR_MS));
    const of22nd = hours.filter((h) => (h[0] as number) >= 12 * HOUR_MS && (h[0] as number) < 36 * HOUR_MS);
    expect(of22nd.reduce((s, h) => s + (h[1] as number), 0)).toBe(HOUR_MS);
    expect(of22nd.reduce((s, h) => s + (h[2] as number), 0)).toBe(DAY_MS);
  });

  it('computes hours from the history source of each monitor kind (historyFor)', async () => {
    await start();
    const id = await createMonitor();
    // A kind whose history is elsewhere (pings, ingests): here a source with one down entry at 12:15.
    const other: HistorySource = {
      latest: async () => [],
      between: async (_db, monitorId, from) =>
        monitorId === id && from < t0 + HOUR_MS ? [{ at: t0 + 15 * MINUTE_MS, status: 'down', latencyMs: null, value: null, message: 'missed', source: 'sweep' }] : [],
    };
    ctx.clock.set(t0 + HOUR_MS + SECOND);
    expect(await rollUp(ctx.database.db, ctx.clock.now(), (kind) => (kind === 'http' ? other : checkResultsHistory()))).toEqual({ hours: 1, days: 0 });
    expect(await rows('rollups_hour', id)).toEqual([[0, 0, 45 * MINUTE_MS, 1, 0, 0, null]]);
  });

  describe('uptime (time-weighted)', () => {
    it('is 83.333 % for 50 minutes up and 10 down by timestamps, however many checks each part had', async () => {
      await start();
      const id = await createMonitor();
      // One up check at 12:00, then ten down checks 12:50 … 12:59; now 13:00. By count: 1 of 11.
      await record(id, t0, 'up', 20);
      for (let m = 50; m < 60; m++) await record(id, t0 + m * MINUTE_MS, 'down', null);
      ctx.clock.set(t0 + HOUR_MS);
      const expected = { checks: 11, up: 1, uptimePercent: 83.333, avgLatencyMs: 20 };
      expect(await uptime(id)).toEqual({ '24h': expected, '7d': expected, '30d': expected, '1y': expected });

      // The same once the hour is rolled up (the figures now come from the hour row).
      await rollUpAll(ctx.clock.now());
      expect(await watermark('hour')).toBe(t0 + HOUR_MS);
      expect(await uptime(id)).toEqual({ '24h': expected, '7d': expected, '30d': expected, '1y': expected });
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}/uptime`, headers: { 'x-api-key': tenant.apiKey } });
      expect(response.statusCode).toBe(200);
      const json = { checks: 11, up: 1, uptime_percent: 83.333, avg_latency_ms: 20 };
      expect(response.json()).toEqual({ '24h': json, '7d': json, '30d': json, '1y': json });
    });

    it('does not count the time before the first result, nor paused time, nor the time after a resume before the next result', async () => {
      await start();
      const id = await createMonitor();
      // Up at 12:10 and 12:15, paused 12:20, resumed 12:40, down at 12:50; now 13:00.
      // Known: 12:10–12:20 up (10 min), 12:50–13:00 down (10 min) → 50 %. By count: 2 of 3.
      await record(id, t0 + 10 * MINUTE_MS, 'up', 10);
      await record(id, t0 + 15 * MINUTE_MS, 'up', 20);
      ctx.clock.set(t0 + 20 * MINUTE_MS);
      await ctx.services.recorder.setState(id, 'paused', 'paused by a test');
      ctx.clock.set(t0 + 40 * MINUTE_MS);
      await ctx.services.recorder.setState(id, 'pending', 'resumed by a test');
      await record(id, t0 + 50 * MINUTE_MS, 'down', 30);
      ctx.clock.set(t0 + HOUR_MS);
      const expected = { checks: 3, up: 2, uptimePercent: 50, avgLatencyMs: 20 };
      expect((await uptime(id))['24h']).toEqual(expected);
      await rollUpAll(ctx.clock.now());
      expect(await rows('rollups_hour', id)).toEqual([[0, 10 * MINUTE_MS, 20 * MINUTE_MS, 3, 2, 3, 60]]);
      expect((await uptime(id))['24h']).toEqual(expected);
    });

    it("answers the window's partial first hour from history, whole hours and days from rollups, and reads rollups once raw results are pruned", async () => {
      await start();
      const id = await createMonitor();
      // Up at 12:00, down at 12:10, up at 12:20 (latencies 10, 20, 30); now 12:15 the next day.
      await record(id, t0, 'up', 10);
      await record(id, t0 + 10 * MINUTE_MS, 'down', 20);
      await record(id, t0 + 20 * MINUTE_MS, 'up', 30);
      ctx.clock.set(t0 + DAY_MS + 15 * MINUTE_MS);
      await rollUpAll(ctx.clock.now());
      expect(await watermark('hour')).toBe(t0 + DAY_MS);
      expect(await watermark('day')).toBe(t0 + 12 * HOUR_MS);
      const figures = await uptime(id);
      // 24 h from 12:15: down (the 12:10 result, carried) until 12:20, then up: 5 min down of 24 h
      // → 99.653 %; one check in the window (12:20).
      expect(figures['24h']).toEqual({ checks: 1, up: 1, uptimePercent: 99.653, avgLatencyMs: 30 });
      // 7 days: known from 12:00, 24 h 15 min, 10 min down → 99.313 %; three checks, latency 20.
      const all = { checks: 3, up: 2, uptimePercent: 99.313, avgLatencyMs: 20 };
      expect(figures['7d']).toEqual(all);
      expect(figures['1y']).toEqual(all);

      // Raw results kept 1 day: those before 12:15 yesterday go. The 24 h window no longer knows
      // the status at its start (the 12:10 result is gone), so it starts at 12:20; the longer
      // windows read the rollups and do not change.
      const pruned = await prune(ctx.database.db, ctx.clock.now(), { ...RETENTION, results: 1 });
      expect(pruned).toEqual({ results: 2, hourRollups: 0, dayRollups: 0 });
      const later = await uptime(id);
      expect(later['24h']).toEqual({ checks: 1, up: 1, uptimePercent: 100, avgLatencyMs: 30 });
      expect(later['7d']).toEqual(all);
      expect(later['30d']).toEqual(all);
    });

    it('is null for a monitor without results, and 404 for another tenant', async () => {
      await start();
      const id = await createMonitor();
      const empty = { checks: 0, up: 0, uptimePercent: null, avgLatencyMs: null };
      expect(await uptime(id)).toEqual({ '24h': empty, '7d': empty, '30d': empty, '1y': empty });
      const other = await createTenantWithKey(ctx);
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/monitors/${id}/uptime`, headers: { 'x-api-key': other.apiKey } });
      expect(response.statusCode).toBe(404);
    });
  });

  describe('prune', () => {
    it('deletes raw results, hour and day rollups past their retention and keeps newer rows', async () => {
      await start();
      ctx.clock.set(t0 - 11 * DAY_MS);
      const id = await createMonitor();
      const ages = [10 * DAY_MS, 7 * DAY_MS, 5 * DAY_MS, 2 * DAY_MS, HOUR_MS];
      for (const age of ages) await record(id, t0 - age, 'up', 10);
      ctx.clock.set(t0);
      await rollUpAll(t0);
      const hoursBefore = await rows('rollups_hour', id);
      const daysBefore = await rows('rollups_day', id);
      const older = (list: unknown[][], age: number) => list.filter((r) => (r[0] as number) < -age).length;
      // Hours known from the first result (10 days ago) to now; days from its day on.
      expect(hoursBefore).toHaveLength(10 * 24);
      expect(older(hoursBefore, 3 * DAY_MS)).toBe(7 * 24);
      expect(older(daysBefore, 9 * DAY_MS)).toBe(2); // the days starting 10.5 and 9.5 days ago

      const deleted = await prune(ctx.database.db, t0, { results: 7, hourRollups: 3, dayRollups: 9 });
      // Raw: older than 7 days is the 10-day one (exactly 7 days is kept).
      expect(deleted).toEqual({ results: 1, hourRollups: 7 * 24, dayRollups: 2 });
      const raw = await checkResultsHistory().between(ctx.database.db, id, t0 - 30 * DAY_MS, t0);
      expect(raw.map((r) => t0 - r.at)).toEqual([7 * DAY_MS, 5 * DAY_MS, 2 * DAY_MS, HOUR_MS]);
      expect(await rows('rollups_hour', id)).toEqual(hoursBefore.filter((r) => (r[0] as number) >= -3 * DAY_MS));
      expect(await rows('rollups_day', id)).toEqual(daysBefore.filter((r) => (r[0] as number) >= -9 * DAY_MS));
      expect(await prune(ctx.database.db, t0, { results: 7, hourRollups: 3, dayRollups: 9 })).toEqual({ results: 0, hourRollups: 0, dayRollups: 0 });
    });

    it('keeps raw results that are past retention but not rolled up yet', async () => {
      await start();
      ctx.clock.set(t0 - 9 * DAY_MS);
      const id = await createMonitor();
      await record(id, t0 - 9 * DAY_MS, 'down', 5);
      ctx.clock.set(t0);
      expect((await prune(ctx.database.db, t0, RETENTION)).results).toBe(0);
      await rollUpAll(t0);
      expect((await prune(ctx.database.db, t0, RETENTION)).results).toBe(1);
    });
  });
});
