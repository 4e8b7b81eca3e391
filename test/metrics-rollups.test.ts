/**
 * Series store upkeep on real databases: minute and hour rollups checked against aggregates the
 * test computes itself from the raw samples it wrote (random values that are multiples of 1/8,
 * so sums are exact in binary floating point and compared exactly), late samples, reruns, and
 * retention at the configured ages moved through with the manual clock. Fixtures are written
 * straight into the tables (test/helpers/metrics-fixtures.ts), not through ingestion.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/metrics/buckets.js';
import { createMetricsHousekeeping } from '../src/metrics/housekeeping.js';
import { pruneSeriesStore, type MetricsRetentionDays } from '../src/metrics/retention.js';
import { createSeriesRollups, rollUpSeries, settledBefore, SETTLE_MS } from '../src/metrics/rollups.js';
import { readStoreMarks, writeStoreMark } from '../src/metrics/store-marks.js';
import type { Logger } from '../src/logger.js';
import { createTenantWithKey, createTestApp, type TestAppOptions, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { aggregateSamples, insertChanges, insertMachine, insertSamples, insertSeries, seededRandom, type Aggregate, type FixtureSeries, type RawSample } from './helpers/metrics-fixtures.js';

const SECOND = 1000;
const silent = { warn: () => {}, debug: () => {} } as unknown as Pick<Logger, 'warn' | 'debug'>;

/** The samples as stored: one per time, the last written winning. */
function stored(samples: readonly RawSample[]): RawSample[] {
  return [...new Map(samples.map((s) => [s.at, s])).values()];
}

describe.each(TEST_DIALECTS)('series rollups and retention on %s', (dialect) => {
  let ctx: TestContext;
  let tenantId: string;
  let machineId: string;
  /** 2026-11-21 12:00:00 UTC, the manual clock's start: on an hour boundary. */
  let t0: number;

  afterEach(async () => {
    await ctx?.close();
  });

  async function start(options: TestAppOptions = {}) {
    ctx = await createTestApp(dialect, options);
    tenantId = (await createTenantWithKey(ctx)).tenantId;
    t0 = ctx.clock.now();
    expect(t0 % HOUR_MS).toBe(0);
    machineId = await insertMachine(ctx.database.db, { tenantId, hostname: 'web-01', now: t0 });
  }

  const db = () => ctx.database.db;
  let seriesCounter = 0;
  const numericSeries = (labels: Record<string, string> = {}) => insertSeries(db(), { tenantId, machineId, name: `metric_${++seriesCounter}`, labels, now: t0 });

  const rows = async (table: 'series_rollups_minute' | 'series_rollups_hour', series: FixtureSeries): Promise<Aggregate[]> =>
    (await db().selectFrom(table).select(['bucket_start', 'count', 'min', 'max', 'sum', 'last', 'last_at']).where('series_id', '=', series.id).orderBy('bucket_start').execute()).map((r) => ({
      bucket_start: Number(r.bucket_start),
      count: Number(r.count),
      min: r.min,
      max: r.max,
      sum: r.sum,
      last: r.last,
      last_at: Number(r.last_at),
    }));

  /** Runs rollups at the clock's time until a run writes nothing new. */
  async function rollUpAll() {
    for (let i = 0; i < 10; i++) {
      const report = await rollUpSeries(db(), ctx.clock.now());
      if (report.minuteBuckets === 0 && report.hourBuckets === 0) return;
    }
    throw new Error('rollups never caught up');
  }

  function randomSamples(rng: () => number, count: number, from: number, span: number): RawSample[] {
    return Array.from({ length: count }, () => ({ at: from + Math.floor(rng() * span), value: Math.round(rng() * 16_000 - 8_000) / 8 }));
  }

  it('minute and hour rollups equal the aggregates of random raw samples; bool series and unsettled minutes are left alone', async () => {
    await start();
    const rng = seededRandom(20261121);
    const series = [await numericSeries(), await numericSeries({ disk: 'sda' }), await numericSeries({ disk: 'sdb' })];
    const written: RawSample[][] = [];
    for (const s of series) {
      const samples = randomSamples(rng, 700, t0, 3 * HOUR_MS + 10 * MINUTE_MS);
      // Edges: a minute's first and last millisecond, the last one carrying "last".
      samples.push({ at: t0 + 17 * MINUTE_MS, value: 1.5 }, { at: t0 + 18 * MINUTE_MS - 1, value: -2.25 });
      await insertSamples(db(), s, samples);
      written.push(stored(samples));
    }
    const flag = await insertSeries(db(), { tenantId, machineId, name: 'nginx_ok', type: 'bool', now: t0 });
    await insertChanges(db(), flag, [{ at: t0 + 5 * SECOND, value: 'true' }]);

    // 15:05: minutes up to 15:03 are settled (SETTLE_MS = 2 min), hours up to 15:00 complete.
    ctx.clock.set(t0 + 3 * HOUR_MS + 5 * MINUTE_MS);
    expect(settledBefore(ctx.clock.now())).toBe(t0 + 3 * HOUR_MS + 3 * MINUTE_MS);
    await rollUpAll();

    const marks = await readStoreMarks(db());
    expect(marks.minuteWatermark).toBe(t0 + 3 * HOUR_MS + 3 * MINUTE_MS);
    expect(marks.hourWatermark).toBe(t0 + 3 * HOUR_MS);
    for (const [i, s] of series.entries()) {
      const minutes = await rows('series_rollups_minute', s);
      expect(minutes).toEqual(aggregateSamples(written[i]!, MINUTE_MS, marks.minuteWatermark));
      expect(minutes.length).toBeGreaterThan(150);
      expect(await rows('series_rollups_hour', s)).toEqual(aggregateSamples(written[i]!, HOUR_MS, marks.hourWatermark));
    }
    // The edge minute: first and last millisecond both in, "last" is the later one.
    const edge = (await rows('series_rollups_minute', series[0]!)).find((r) => r.bucket_start === t0 + 17 * MINUTE_MS)!;
    expect([edge.last, edge.last_at]).toEqual([-2.25, t0 + 18 * MINUTE_MS - 1]);
    expect(await db().selectFrom('series_rollups_minute').select('series_id').where('series_id', '=', flag.id).execute()).toEqual([]);
  });

  it('reruns change nothing, and a replay from an older watermark (a crash before it was saved) writes the same rows', async () => {
    await start();
    const rng = seededRandom(7);
    const s = await numericSeries();
    const samples = stored(randomSamples(rng, 400, t0, 2 * HOUR_MS));
    await insertSamples(db(), s, samples);
    ctx.clock.set(t0 + 2 * HOUR_MS + 3 * MINUTE_MS);
    await rollUpAll();
    const minutes = await rows('series_rollups_minute', s);
    const hours = await rows('series_rollups_hour', s);
    expect(hours).toEqual(aggregateSamples(samples, HOUR_MS));

    expect(await rollUpSeries(db(), ctx.clock.now())).toEqual({ minuteBuckets: 0, hourBuckets: 0, lateSeries: 0 });
    await writeStoreMark(db(), 'minuteWatermark', t0 + 10 * MINUTE_MS);
    await writeStoreMark(db(), 'hourWatermark', t0);
    await rollUpAll();
    expect(await rows('series_rollups_minute', s)).toEqual(minutes);
    expect(await rows('series_rollups_hour', s)).toEqual(hours);
  });

  it('late samples (an agent retrying old batches) are heard and their minutes and hours recomputed', async () => {
    await start();
    const rng = seededRandom(42);
    const s = await numericSeries();
    const other = await numericSeries();
    let samples = stored(randomSamples(rng, 300, t0, 2 * HOUR_MS));
    await insertSamples(db(), s, samples);
    await insertSamples(db(), other, [{ at: t0 + 30 * SECOND, value: 1 }]);
    const rollups = createSeriesRollups({ db: db(), clock: ctx.clock, events: ctx.services.sampleEvents });
    try {
      ctx.clock.set(t0 + 2 * HOUR_MS + 10 * MINUTE_MS);
      await rollups.run();
      await rollups.run();
      expect(await rows('series_rollups_hour', s)).toEqual(aggregateSamples(samples, HOUR_MS));
      const otherBefore = await rows('series_rollups_minute', other);

      // Hours later, an old batch arrives: a new maximum and a new "last" in minute 12:03, a new
      // minimum early in minute 13:41, and a new value for a time already stored.
      const replaced = samples[10]!;
      const late: RawSample[] = [
        { at: t0 + 3 * MINUTE_MS + 59 * SECOND + 999, value: 5_000 },
        { at: t0 + 101 * MINUTE_MS, value: -5_000 },
        { at: replaced.at, value: replaced.value + 0.5 },
      ];
      ctx.clock.set(t0 + 5 * HOUR_MS);
      await insertSamples(db(), s, late, ctx.services.sampleEvents);
      samples = stored([...samples, ...late]);
      expect(rollups.pendingLateSeries()).toBe(1);

      const report = await rollups.run();
      expect(report.lateSeries).toBe(1);
      expect(rollups.pendingLateSeries()).toBe(0);
      const marks = await readStoreMarks(db());
      expect(await rows('series_rollups_minute', s)).toEqual(aggregateSamples(samples, MINUTE_MS, marks.minuteWatermark));
      expect(await rows('series_rollups_hour', s)).toEqual(aggregateSamples(samples, HOUR_MS, marks.hourWatermark));
      const minute3 = (await rows('series_rollups_minute', s)).find((r) => r.bucket_start === t0 + 3 * MINUTE_MS)!;
      expect([minute3.max, minute3.last]).toEqual([5_000, 5_000]);
      // Another series' rows are not touched.
      expect(await rows('series_rollups_minute', other)).toEqual(otherBefore);

      // A sample of the current, unsettled minute is not "late": the forward pass takes it.
      await insertSamples(db(), s, [{ at: ctx.clock.now() - 10 * SECOND, value: 3 }], ctx.services.sampleEvents);
      expect(rollups.pendingLateSeries()).toBe(0);
    } finally {
      rollups.close();
    }
    // Closed: no longer listening.
    await insertSamples(db(), s, [{ at: t0 + 5 * SECOND, value: 9 }], ctx.services.sampleEvents);
    expect(rollups.pendingLateSeries()).toBe(0);
  });

  it("hour rollups merge minute rollups: counts and sums add up, min and max hold, last is the latest minute's last", async () => {
    await start();
    const s = await numericSeries();
    // Minute rollups only (no raw samples): the hour must come from them.
    const minuteRows: Aggregate[] = [
      { bucket_start: t0, count: 2, min: 1, max: 5, sum: 6, last: 5, last_at: t0 + 50 * SECOND },
      { bucket_start: t0 + 10 * MINUTE_MS, count: 3, min: -2, max: 4, sum: 3, last: -2, last_at: t0 + 10 * MINUTE_MS + 59 * SECOND },
      { bucket_start: t0 + 59 * MINUTE_MS, count: 1, min: 7, max: 7, sum: 7, last: 7, last_at: t0 + 59 * MINUTE_MS + SECOND },
      { bucket_start: t0 + HOUR_MS + 5 * MINUTE_MS, count: 4, min: 0, max: 8, sum: 10, last: 0, last_at: t0 + HOUR_MS + 5 * MINUTE_MS + 2 * SECOND },
    ];
    await db()
      .insertInto('series_rollups_minute')
      .values(minuteRows.map((r) => ({ series_id: s.id, ...r })))
      .execute();
    ctx.clock.set(t0 + 2 * HOUR_MS + 5 * MINUTE_MS);
    await rollUpAll();
    expect(await rows('series_rollups_hour', s)).toEqual([
      { bucket_start: t0, count: 6, min: -2, max: 7, sum: 16, last: 7, last_at: t0 + 59 * MINUTE_MS + SECOND },
      { bucket_start: t0 + HOUR_MS, count: 4, min: 0, max: 8, sum: 10, last: 0, last_at: t0 + HOUR_MS + 5 * MINUTE_MS + 2 * SECOND },
    ]);
  });

  it('works through more series than one statement takes, and catches a long backlog up in bounded runs, skipping empty stretches', async () => {
    await start();
    // 205 series (statements take 200), one sample each in minute 12:00.
    const many = await db()
      .insertInto('series')
      .values(Array.from({ length: 205 }, (_, i) => ({ tenant_id: tenantId, machine_id: machineId, name: `bulk_${i}`, labels: '{}', type: 'numeric', unit: null, created_at: t0 })))
      .returning('id')
      .execute();
    await db()
      .insertInto('samples')
      .values(many.map((row, i) => ({ series_id: Number(row.id), at: t0 + (i % 60) * SECOND, value: i })))
      .execute();
    // One series: a sample a minute for 200 minutes, then nothing for 3 days, then one more.
    const s = await numericSeries();
    const samples: RawSample[] = Array.from({ length: 200 }, (_, m) => ({ at: t0 + m * MINUTE_MS + 7 * SECOND, value: m }));
    const late = t0 + 3 * DAY_MS + 7 * MINUTE_MS;
    samples.push({ at: late, value: -1 });
    await insertSamples(db(), s, samples);
    ctx.clock.set(late + SETTLE_MS + MINUTE_MS);

    // A run covers at most 120 minutes.
    const first = await rollUpSeries(db(), ctx.clock.now());
    expect(first.minuteBuckets).toBe(205 + 120);
    expect((await readStoreMarks(db())).minuteWatermark).toBe(t0 + 120 * MINUTE_MS);
    const second = await rollUpSeries(db(), ctx.clock.now());
    expect(second.minuteBuckets).toBe(81); // the other 80 minutes, then the one 3 days later, the gap skipped
    expect(await rollUpSeries(db(), ctx.clock.now())).toEqual({ minuteBuckets: 0, hourBuckets: 0, lateSeries: 0 });

    const counts = await db().selectFrom('series_rollups_minute').select(['series_id', 'count']).where('bucket_start', '=', t0).execute();
    expect(counts).toHaveLength(206);
    expect(counts.every((r) => Number(r.count) === 1)).toBe(true);
    expect(await rows('series_rollups_minute', s)).toEqual(aggregateSamples(samples, MINUTE_MS));
    // The hour of the last sample is not over yet.
    expect(await rows('series_rollups_hour', s)).toEqual(aggregateSamples(samples, HOUR_MS, Math.floor(late / HOUR_MS) * HOUR_MS));
    expect((await readStoreMarks(db())).hourWatermark).toBe(Math.floor(late / HOUR_MS) * HOUR_MS);
  });

  describe('retention', () => {
    const defaults: MetricsRetentionDays = { raw: 7, minuteRollups: 30, hourRollups: 400 };

    const times = async (table: 'samples' | 'series_changes', series: FixtureSeries) =>
      (await db().selectFrom(table).select('at').where('series_id', '=', series.id).orderBy('at').execute()).map((r) => Number(r.at));
    const buckets = async (table: 'series_rollups_minute' | 'series_rollups_hour', series: FixtureSeries) =>
      (await db().selectFrom(table).select('bucket_start').where('series_id', '=', series.id).orderBy('bucket_start').execute()).map((r) => Number(r.bucket_start));

    it('defaults are 7, 30 and 400 days, read from METRICS_*_RETENTION_DAYS', async () => {
      await start({ env: { METRICS_RAW_RETENTION_DAYS: '3', METRICS_MINUTE_ROLLUPS_RETENTION_DAYS: '10', METRICS_HOUR_ROLLUPS_RETENTION_DAYS: '90' } });
      expect([ctx.config.metricsRawRetentionDays, ctx.config.metricsMinuteRollupsRetentionDays, ctx.config.metricsHourRollupsRetentionDays]).toEqual([3, 10, 90]);
      const plain = await createTestApp(dialect);
      try {
        expect([plain.config.metricsRawRetentionDays, plain.config.metricsMinuteRollupsRetentionDays, plain.config.metricsHourRollupsRetentionDays]).toEqual([7, 30, 400]);
      } finally {
        await plain.close();
      }
    });

    it('deletes raw samples, changes and rollups past their ages as the clock moves, keeping the change in force at the cutoff', async () => {
      await start();
      const now = t0;
      const s = await numericSeries();
      const flag = await insertSeries(db(), { tenantId, machineId, name: 'nginx_ok', type: 'bool', now: t0 });
      const version = await insertSeries(db(), { tenantId, machineId, name: 'version', type: 'string', now: t0 });
      await insertSamples(
        db(),
        s,
        [8, 7.5, 6, 1].map((days, i) => ({ at: now - days * DAY_MS, value: i })),
      );
      await insertChanges(
        db(),
        flag,
        [10, 9, 8, 2].map((days, i) => ({ at: now - days * DAY_MS, value: i % 2 === 0 ? 'true' : 'false' })),
      );
      await insertChanges(db(), version, [{ at: now - 20 * DAY_MS, value: '1.0.0' }]);
      await rollUpAll();
      const rollupRow = (start: number) => ({ series_id: s.id, bucket_start: start, count: 1, min: 0, max: 0, sum: 0, last: 0, last_at: start });
      await db()
        .insertInto('series_rollups_minute')
        .values([rollupRow(now - 31 * DAY_MS), rollupRow(now - 29 * DAY_MS)])
        .execute();
      await db()
        .insertInto('series_rollups_hour')
        .values([rollupRow(now - 401 * DAY_MS), rollupRow(now - 399 * DAY_MS)])
        .execute();
      const minutesBefore = await buckets('series_rollups_minute', s);

      const report = await pruneSeriesStore(db(), now, defaults);
      expect(report).toMatchObject({ samples: 2, changes: 2, minuteRollups: 1, hourRollups: 1 });
      expect(await times('samples', s)).toEqual([now - 6 * DAY_MS, now - DAY_MS]);
      // Changes at 10 and 9 days go; 8 days stays (it was the value in force 7 days ago), and the
      // string series' only change, 20 days old, is still its current value.
      expect(await times('series_changes', flag)).toEqual([now - 8 * DAY_MS, now - 2 * DAY_MS]);
      expect(await times('series_changes', version)).toEqual([now - 20 * DAY_MS]);
      expect(await buckets('series_rollups_minute', s)).toEqual(minutesBefore.filter((b) => b !== now - 31 * DAY_MS));
      expect(await buckets('series_rollups_hour', s)).toContain(now - 399 * DAY_MS);
      expect(await buckets('series_rollups_hour', s)).not.toContain(now - 401 * DAY_MS);
      expect((await readStoreMarks(db())).rawPrunedBefore).toBe(now - 7 * DAY_MS);

      // Two days later the 6-day-old sample is 8 days old.
      ctx.clock.advance(2 * DAY_MS);
      await rollUpAll();
      await pruneSeriesStore(db(), ctx.clock.now(), defaults);
      expect(await times('samples', s)).toEqual([now - DAY_MS]);
      expect(await times('series_changes', flag)).toEqual([now - 8 * DAY_MS, now - 2 * DAY_MS]);
      // The minute rollups of the deleted samples remain (kept 30 days).
      expect(await buckets('series_rollups_minute', s)).toContain(Math.floor((now - 6 * DAY_MS) / MINUTE_MS) * MINUTE_MS);
    });

    it('keeps raw samples the rollups have not covered yet, whatever their age', async () => {
      await start();
      const s = await numericSeries();
      await insertSamples(db(), s, [{ at: t0 - 10 * DAY_MS, value: 4 }]);
      expect((await pruneSeriesStore(db(), t0, defaults)).samples).toBe(0);
      expect(await times('samples', s)).toEqual([t0 - 10 * DAY_MS]);
      await rollUpAll();
      expect(await pruneSeriesStore(db(), t0, defaults)).toMatchObject({ samples: 1 });
      expect(await buckets('series_rollups_minute', s)).toEqual([t0 - 10 * DAY_MS]);
    });

    it('deletes in bounded batches until done (more rows than one statement deletes)', async () => {
      await start();
      const s = await numericSeries();
      const old = Array.from({ length: 12_345 }, (_, i) => ({ at: t0 - 9 * DAY_MS + i * SECOND, value: i % 7 }));
      await insertSamples(db(), s, [...old, { at: t0 - HOUR_MS, value: 1 }]);
      await writeStoreMark(db(), 'minuteWatermark', t0);
      expect((await pruneSeriesStore(db(), t0, defaults)).samples).toBe(12_345);
      expect(await times('samples', s)).toEqual([t0 - HOUR_MS]);
    });

    it('a late sample older than the raw retention does not rewrite its minute from what is left', async () => {
      await start();
      const s = await numericSeries();
      const rollups = createSeriesRollups({ db: db(), clock: ctx.clock, events: ctx.services.sampleEvents });
      try {
        const old = t0 - 8 * DAY_MS;
        await insertSamples(
          db(),
          s,
          [1, 2, 3].map((v, i) => ({ at: old + i * SECOND, value: v })),
        );
        await rollups.run();
        await pruneSeriesStore(db(), t0, defaults);
        const before = await rows('series_rollups_minute', s);
        expect(before).toEqual([{ bucket_start: old, count: 3, min: 1, max: 3, sum: 6, last: 3, last_at: old + 2 * SECOND }]);
        await insertSamples(db(), s, [{ at: old + 30 * SECOND, value: 100 }], ctx.services.sampleEvents);
        await rollups.run();
        expect(await rows('series_rollups_minute', s)).toEqual(before);
      } finally {
        rollups.close();
      }
    });

    it('deletes ingest ids whose idempotency window is over, and only those', async () => {
      await start();
      const batch = (ingestId: string, expiresAt: number) => ({
        tenant_id: tenantId,
        ingest_id: ingestId,
        received_at: expiresAt - DAY_MS,
        expires_at: expiresAt,
        machine_id: machineId,
        response: '{}',
      });
      await db()
        .insertInto('ingest_batches')
        .values([batch('expired', t0 - 1), batch('expires-now', t0), batch('later', t0 + HOUR_MS)])
        .execute();
      expect((await pruneSeriesStore(db(), t0, defaults)).ingestBatches).toBe(1);
      const left = await db().selectFrom('ingest_batches').select('ingest_id').orderBy('ingest_id').execute();
      expect(left.map((r) => r.ingest_id)).toEqual(['expires-now', 'later']);
      ctx.clock.advance(HOUR_MS + 1);
      expect((await pruneSeriesStore(db(), ctx.clock.now(), defaults)).ingestBatches).toBe(2);
    });

    it('the housekeeping pass rolls up and then prunes with the configured ages', async () => {
      await start({ env: { METRICS_RAW_RETENTION_DAYS: '2' } });
      const s = await numericSeries();
      await insertSamples(db(), s, [
        { at: t0 - 3 * DAY_MS, value: 5 },
        { at: t0 - DAY_MS, value: 6 },
      ]);
      const housekeeping = createMetricsHousekeeping({
        db: db(),
        clock: ctx.clock,
        logger: silent,
        sampleEvents: ctx.services.sampleEvents,
        retention: { raw: ctx.config.metricsRawRetentionDays, minuteRollups: ctx.config.metricsMinuteRollupsRetentionDays, hourRollups: ctx.config.metricsHourRollupsRetentionDays },
      });
      try {
        const { rolled, pruned } = await housekeeping.runOnce();
        expect(rolled.minuteBuckets).toBe(2);
        expect(pruned.samples).toBe(1);
        expect(await times('samples', s)).toEqual([t0 - DAY_MS]);
        expect(await buckets('series_rollups_minute', s)).toEqual([t0 - 3 * DAY_MS, t0 - DAY_MS]);
      } finally {
        await housekeeping.stop();
      }
    });
  });
});
