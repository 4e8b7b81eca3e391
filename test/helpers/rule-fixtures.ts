/**
 * Rule tests' fixtures, on the clock's now: machines, series and samples through the series
 * store's fixtures (metrics-fixtures.ts), bool/string values as ingestion keeps them, and
 * `announce`, which tells the sample events what was stored, as ingestion does after its commit.
 */
import type { Db } from '../../src/db/database.js';
import type { StoredSample } from '../../src/metrics/sample-events.js';
import type { SeriesType } from '../../src/metrics/series-types.js';
import type { TestContext } from './app.js';
import { insertMachine, insertSamples, insertSeries, type FixtureSeries } from './metrics-fixtures.js';

export type SeriesFixture = FixtureSeries;

export function ruleFixtures(ctx: TestContext) {
  const db: Db = ctx.database.db;

  /** A machine (its monitor of kind `machine` and its row), with tags; returns its id. */
  const machine = (tenantId: string, hostname: string, tags: string[] = []): Promise<string> => insertMachine(db, { tenantId, hostname, tags, now: ctx.clock.now() });

  const series = (tenantId: string, machineId: string, name: string, type: SeriesType = 'numeric', labels: Record<string, string> = {}): Promise<SeriesFixture> =>
    insertSeries(db, { tenantId, machineId, name, type, labels, now: ctx.clock.now() });

  /** Numeric samples `[msAgo, value]` before the clock's now; the newest becomes the series' latest. */
  const samples = (s: SeriesFixture, points: readonly (readonly [number, number])[]): Promise<void> =>
    insertSamples(
      db,
      s,
      points.map(([ago, value]) => ({ at: ctx.clock.now() - ago, value })),
    );

  /** A bool or string value at the clock's now: a change row when it differs from the latest, and the series' latest. */
  async function value(s: SeriesFixture, v: boolean | string): Promise<void> {
    const now = ctx.clock.now();
    const text = String(v);
    const latest = await db.selectFrom('series').select(['last_num', 'last_text', 'last_at']).where('id', '=', s.id).executeTakeFirstOrThrow();
    const previous = latest.last_at === null ? null : s.type === 'bool' ? String(latest.last_num === 1) : latest.last_text;
    if (previous !== text) await db.insertInto('series_changes').values({ series_id: s.id, at: now, value: text }).execute();
    await db
      .updateTable('series')
      .set({ last_at: now, last_num: typeof v === 'boolean' ? (v ? 1 : 0) : null, last_text: typeof v === 'string' ? v : null })
      .where('id', '=', s.id)
      .execute();
  }

  /** Tells the sample events that these series got a sample now, as ingestion does after its commit. */
  function announce(...stored: SeriesFixture[]): void {
    const byMachine = new Map<string, SeriesFixture[]>();
    for (const s of stored) byMachine.set(s.machineId, [...(byMachine.get(s.machineId) ?? []), s]);
    for (const [machineId, list] of byMachine) {
      const samples: StoredSample[] = list.map((s) => ({ seriesId: s.id, name: s.name, type: s.type, labels: s.labels, at: ctx.clock.now(), value: null, text: null }));
      ctx.services.sampleEvents.stored({ tenantId: list[0]!.tenantId, machineId, samples });
    }
  }

  return { machine, series, samples, value, announce };
}
