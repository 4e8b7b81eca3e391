/**
 * The two sample tables (migration 0009) on real databases: readers see `samples` and
 * `samples_recent` as one table (a key in both is read once, with the later value), the mover
 * moves slices in one transaction and moves each series' latest value forward only, the sweep
 * paces itself by the measured arrival rate, and movers running beside ingestion and each other
 * lose nothing and store nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { bucketsQuery, MINUTE_MS } from '../src/metrics/buckets.js';
import { createIngestStatements } from '../src/metrics/ingest/ingest-statements.js';
import type { RuleDefinition } from '../src/metrics/rules/definition.js';
import { readingsOf, type MatchedSeries } from '../src/metrics/rules/readings.js';
import { createSampleMover, TICK_MS } from '../src/metrics/sample-mover.js';
import { rollUpSeries } from '../src/metrics/rollups.js';
import { countRawSamples, rawSamples } from '../src/metrics/series.repository.js';
import { createTenantWithKey, createTestApp, type TestContext } from './helpers/app.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { insertMachine, insertRecentSamples, insertSamples, insertSeries, seededRandom, type FixtureSeries } from './helpers/metrics-fixtures.js';

describe.each(TEST_DIALECTS)('recent samples and the sample mover on %s', (dialect) => {
  let ctx: TestContext;
  let tenantId: string;
  let machineId: string;
  let t0: number;
  let counter = 0;

  afterEach(async () => {
    await ctx?.close();
  });

  async function start() {
    ctx = await createTestApp(dialect);
    tenantId = (await createTenantWithKey(ctx)).tenantId;
    t0 = ctx.clock.now();
    machineId = await insertMachine(ctx.database.db, { tenantId, hostname: 'web-01', now: t0 });
  }
  const db = () => ctx.database.db;
  const newSeries = () => insertSeries(db(), { tenantId, machineId, name: `metric_${++counter}`, now: t0 });
  const tableRows = async (table: 'samples' | 'samples_recent', series: FixtureSeries) =>
    (await db().selectFrom(table).select(['at', 'value']).where('series_id', '=', series.id).orderBy('at').execute()).map((r) => [Number(r.at) - t0, Number(r.value)]);
  const latestOf = async (series: FixtureSeries) => {
    const row = await db().selectFrom('series').select(['last_at', 'last_num']).where('id', '=', series.id).executeTakeFirstOrThrow();
    return { at: row.last_at === null ? null : Number(row.last_at) - t0, value: row.last_num };
  };

  it('readers see both tables as one: a time in both is read once, with the recent (later) value', async () => {
    await start();
    const s = await newSeries();
    await insertSamples(
      db(),
      s,
      [0, 1, 2, 3, 4].map((i) => ({ at: t0 + i * 1000, value: i })),
    );
    // 4 s is sent again with another value (not yet moved), 5 s and 6 s are new.
    await insertRecentSamples(db(), s, [
      { at: t0 + 4000, value: 40 },
      { at: t0 + 5000, value: 5 },
      { at: t0 + 6000, value: 6 },
    ]);

    expect((await rawSamples(db(), s.id, t0, t0 + 10_000, 100)).map((p) => [p.at - t0, p.value])).toEqual([
      [0, 0],
      [1000, 1],
      [2000, 2],
      [3000, 3],
      [4000, 40],
      [5000, 5],
      [6000, 6],
    ]);
    expect(await rawSamples(db(), s.id, t0, t0 + 10_000, 3)).toHaveLength(3);
    expect(await countRawSamples(db(), s.id, t0, t0 + 10_000, 100)).toBe(7);
    expect(await countRawSamples(db(), s.id, t0 + 3500, t0 + 5500, 100)).toBe(2);

    const { rows } = await sql<{
      count: number;
      sum: number;
      min: number;
      max: number;
      last: number;
      last_at: number;
    }>`select * from (${bucketsQuery('samples', { seriesIds: [s.id], from: t0, to: t0 + MINUTE_MS }, MINUTE_MS)}) b`.execute(db());
    expect(rows.map((r) => ({ count: Number(r.count), sum: Number(r.sum), min: Number(r.min), max: Number(r.max), last: Number(r.last), last_at: Number(r.last_at) - t0 }))).toEqual([
      { count: 7, sum: 0 + 1 + 2 + 3 + 40 + 5 + 6, min: 0, max: 40, last: 6, last_at: 6000 },
    ]);

    // Rules read the same rows: the average counts 4 s once, with its recent value; `last` is the newest.
    const matched: MatchedSeries = { id: s.id, machineId, hostname: 'web-01', name: s.name, labels: {}, type: 'numeric', lastAt: null, lastNum: null, lastText: null };
    const rule = (aggregation: 'avg' | 'last' | 'max'): RuleDefinition => ({
      metric: s.name,
      machineId: null,
      machineTag: null,
      labels: {},
      type: 'numeric',
      aggregation,
      windowSeconds: 60,
      comparison: '>',
      warningThreshold: null,
      criticalThreshold: 10,
      alertWhen: null,
      condition: null,
      expected: null,
      level: null,
      forSeconds: 0,
    });
    const value = async (aggregation: 'avg' | 'last' | 'max') => ((await readingsOf(db(), rule(aggregation), [matched], t0 + 10_000))[0] as { value: number }).value;
    expect(await value('avg')).toBeCloseTo((0 + 1 + 2 + 3 + 40 + 5 + 6) / 7, 10);
    expect(await value('last')).toBe(6);
    expect(await value('max')).toBe(40);
  });

  it('rollups find samples that are only in samples_recent, after an idle stretch', async () => {
    await start();
    const s = await newSeries();
    // Nothing for half an hour, then two samples the mover has not moved yet.
    await insertRecentSamples(db(), s, [
      { at: t0 + 30 * MINUTE_MS + 1000, value: 2 },
      { at: t0 + 30 * MINUTE_MS + 2000, value: 4 },
    ]);
    await rollUpSeries(db(), t0 + 40 * MINUTE_MS);
    const rows = await db().selectFrom('series_rollups_minute').select(['bucket_start', 'count', 'sum', 'last']).where('series_id', '=', s.id).execute();
    expect(rows.map((r) => ({ minute: (Number(r.bucket_start) - t0) / MINUTE_MS, count: Number(r.count), sum: Number(r.sum), last: Number(r.last) }))).toEqual([
      { minute: 30, count: 2, sum: 6, last: 4 },
    ]);
  });

  it('moving a slice copies its recent samples into samples (the later value wins), empties it, and moves the latest value forward only', async () => {
    await start();
    const mover = createSampleMover({ db: db() });
    const late = await newSeries();
    const fresh = await newSeries();
    const untouched = await newSeries();
    await insertSamples(db(), late, [
      { at: t0 + 1000, value: 1 },
      { at: t0 + 100_000, value: 100 },
    ]);
    await insertRecentSamples(db(), late, [
      { at: t0 + 1000, value: 11 }, // the same time again: replaces 1
      { at: t0 + 50_000, value: 50 }, // late: older than the latest
    ]);
    await insertRecentSamples(db(), fresh, [
      { at: t0 + 7000, value: 7 },
      { at: t0 + 9000, value: 9 },
      { at: t0 + 8000, value: 8 },
    ]);
    await insertRecentSamples(db(), untouched, [{ at: t0 + 1000, value: 1 }]);

    // A slice that holds `late` and `fresh` but not `untouched` (ids are consecutive).
    const report = await mover.moveRange(late.id, untouched.id);
    expect(report).toEqual({ rows: 5, series: 1 }); // `late`'s latest stays at 100 s
    expect(await tableRows('samples_recent', late)).toEqual([]);
    expect(await tableRows('samples_recent', fresh)).toEqual([]);
    expect(await tableRows('samples', late)).toEqual([
      [1000, 11],
      [50_000, 50],
      [100_000, 100],
    ]);
    expect(await tableRows('samples', fresh)).toEqual([
      [7000, 7],
      [8000, 8],
      [9000, 9],
    ]);
    expect(await latestOf(late)).toEqual({ at: 100_000, value: 100 });
    expect(await latestOf(fresh)).toEqual({ at: 9000, value: 9 });
    expect(await tableRows('samples_recent', untouched)).toEqual([[1000, 1]]);
    expect(await latestOf(untouched)).toEqual({ at: null, value: null });

    expect(await mover.moveAll()).toEqual({ rows: 1, series: 1 });
    expect(await tableRows('samples', untouched)).toEqual([[1000, 1]]);
    expect(await mover.moveAll()).toEqual({ rows: 0, series: 0 });
  });

  it('the API shows a series\u2019 newest value whether or not it has been moved', async () => {
    await start();
    const mover = createSampleMover({ db: db() });
    const key = (await createTenantWithKey(ctx, 'full', 'Other')).apiKey;
    const post = (value: number, ts: number) =>
      ctx.app.inject({
        method: 'POST',
        url: '/api/v1/ingest/metrics',
        headers: { 'x-api-key': key, 'x-ingest-id': randomUUID(), 'content-type': 'application/json' },
        payload: { machine: { hostname: 'db-01' }, metrics: [{ name: 'load', type: 'numeric', value, ts }] },
      });
    const latest = async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/series?name=load', headers: { 'x-api-key': key } });
      expect(response.statusCode, response.body).toBe(200);
      const [series] = response.json().items;
      return [series.last_value, Date.parse(series.last_at) - t0];
    };
    expect((await post(1, t0 - 2000)).statusCode).toBe(200);
    expect(await latest()).toEqual([1, -2000]); // only in samples_recent
    await mover.moveAll();
    expect(await latest()).toEqual([1, -2000]); // only in samples / series.last_*
    expect((await post(5, t0 - 5000)).statusCode).toBe(200); // late: not the newest
    expect(await latest()).toEqual([1, -2000]);
    expect((await post(3, t0 - 1000)).statusCode).toBe(200);
    expect(await latest()).toEqual([3, -1000]);
    await mover.moveAll();
    expect(await latest()).toEqual([3, -1000]);
  });

  it('the sweep paces itself: samples arriving fast shorten its cycle, slices with nothing to move lengthen it', async () => {
    await start();
    let now = 1_000_000;
    const mover = createSampleMover({ db: db(), now: () => now });
    const series: FixtureSeries[] = [];
    for (let i = 0; i < 40; i++) series.push(await newSeries());
    const sweep = async () => {
      // Ticks until the cursor wraps: the first tick of the next sweep reads the id space again.
      const start = mover.cycleMs();
      let moved = 0;
      for (let i = 0; i < 10_000 && now < 1_000_000 + 1e9; i++) {
        now += TICK_MS;
        moved += (await mover.tick()).rows;
        if (i > 0 && moved > 0 && (await db().selectFrom('samples_recent').select('series_id').limit(1).execute()).length === 0) break;
      }
      return { start, end: mover.cycleMs(), moved };
    };
    const fill = (perSeries: number) =>
      Promise.all(
        series.map((s) =>
          insertRecentSamples(
            db(),
            s,
            Array.from({ length: perSeries }, (_, k) => ({ at: now + k, value: k })),
          ),
        ),
      );

    // A long idle stretch first: the cycle grows to its longest.
    for (let i = 0; i < 400; i++) {
      now += TICK_MS;
      await mover.tick();
    }
    expect(mover.cycleMs()).toBe(60_000);
    await fill(200);
    // No earlier pass to measure a rate against, but 200 samples per series where 16 are wanted:
    // the first sweep shortens the cycle at once instead of crawling through a minute-long one.
    const first = await sweep();
    expect(first.moved).toBe(40 * 200);
    expect(first.end).toBeLessThan(first.start / 10);
    // Then the measured rate decides: 200 samples per series arrived in one (short) cycle.
    await fill(200);
    const second = await sweep();
    expect(second.moved).toBe(40 * 200);
    expect(second.end).toBeLessThanOrEqual(second.start);
    // Two samples per series in a cycle, 16 wanted: the measured rate asks for a longer cycle.
    await fill(2);
    const third = await sweep();
    expect(third.moved).toBe(40 * 2);
    expect(third.end).toBeGreaterThan(third.start);
    for (let i = 0; i < 50; i++) {
      now += TICK_MS;
      await mover.tick(); // nothing to move
    }
    expect(mover.cycleMs()).toBeGreaterThan(second.end);
  });

  it('movers beside ingestion and beside each other lose nothing and store nothing twice', async () => {
    await start();
    const statements = createIngestStatements(db());
    const series: FixtureSeries[] = [];
    for (let i = 0; i < 30; i++) series.push(await newSeries());
    const random = seededRandom(7);
    const expected = new Map<string, number>();
    let writing = true;

    const write = async () => {
      for (let round = 0; round < 60; round++) {
        const rows = { ids: [] as number[], ats: [] as number[], nums: [] as number[] };
        for (const s of series) {
          // Times repeat across rounds: a value sent again for a time already moved must win.
          const at = t0 + Math.floor(random() * 40) * 1000;
          if (rows.ids.some((id, i) => id === s.id && rows.ats[i] === at)) continue;
          const value = round * 1000 + s.id;
          rows.ids.push(s.id);
          rows.ats.push(at);
          rows.nums.push(value);
        }
        await db()
          .transaction()
          .execute((trx) => statements.insertSamples(trx, rows));
        rows.ids.forEach((id, i) => expected.set(`${id}/${rows.ats[i]}`, rows.nums[i]!));
      }
      writing = false;
    };
    const move = async (mover: ReturnType<typeof createSampleMover>) => {
      while (writing) {
        const from = series[Math.floor(random() * series.length)]!.id;
        await mover.moveRange(from, from + 1 + Math.floor(random() * 10));
      }
    };
    // Three movers on overlapping slices beside the writer (on PostgreSQL, three connections).
    await Promise.all([write(), move(createSampleMover({ db: db() })), move(createSampleMover({ db: db() })), move(createSampleMover({ db: db() }))]);
    await createSampleMover({ db: db() }).moveAll();

    const stored = await db().selectFrom('samples').select(['series_id', 'at', 'value']).execute();
    expect(stored).toHaveLength(expected.size);
    expect(new Map(stored.map((r) => [`${Number(r.series_id)}/${Number(r.at)}`, Number(r.value)]))).toEqual(expected);
    expect(await db().selectFrom('samples_recent').select('series_id').execute()).toEqual([]);
  });

  // Only PostgreSQL has concurrent writers (SQLite runs one transaction at a time).
  if (dialect === 'postgres') {
    it('a mover waits for no ingest transaction: what one holds is left for the next pass, so no lock cycle forms', async () => {
      await start();
      const statements = createIngestStatements(db());
      const [a, b, c] = [await newSeries(), await newSeries(), await newSeries()];
      await insertRecentSamples(db(), a, [
        { at: t0, value: 1 },
        { at: t0 + 1000, value: 2 },
      ]);
      await insertRecentSamples(db(), b, [{ at: t0, value: 1 }]);
      await insertRecentSamples(db(), c, [{ at: t0, value: 1 }]);
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      // An ingest transaction rewrites a's first sample and sets b's unit (locking that row and
      // b's series row), then, later, writes a's second sample again: the row a mover deletes.
      const writer = db()
        .transaction()
        .execute(async (trx) => {
          await statements.insertSamples(trx, { ids: [a.id], ats: [t0], nums: [10] });
          await statements.setUnit.run(trx, { id: b.id, unit: 'ms' });
          holding();
          await released;
          await statements.insertSamples(trx, { ids: [a.id, c.id], ats: [t0 + 1000, t0], nums: [20, 30] });
        });
      await held;
      // A mover that waited for the writer's locks would never return here (the writer waits for this test).
      const mover = createSampleMover({ db: db() });
      expect(await mover.moveRange(a.id, c.id + 1)).toEqual({ rows: 2, series: 2 });
      expect(await tableRows('samples_recent', a)).toEqual([[0, 1]]);
      expect(await tableRows('samples_recent', b)).toEqual([[0, 1]]);
      expect(await tableRows('samples', a)).toEqual([[1000, 2]]);
      expect(await tableRows('samples', c)).toEqual([[0, 1]]);
      release();
      await writer;

      expect(await mover.moveRange(a.id, c.id + 1)).toEqual({ rows: 4, series: 3 });
      expect(await tableRows('samples', a)).toEqual([
        [0, 10],
        [1000, 20],
      ]);
      expect(await tableRows('samples', b)).toEqual([[0, 1]]);
      expect(await tableRows('samples', c)).toEqual([[0, 30]]);
      expect(await db().selectFrom('samples_recent').select('series_id').execute()).toEqual([]);
    });
  }
});
