/**
 * Machines, series and samples written straight into their tables (as ingestion would store
 * them), so that rule tests depend on the schema only, not on the ingestion code. `announce`
 * then tells the sample events what was stored, as ingestion does after its commit.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/database.js';
import { insertMonitor } from '../../src/monitors/monitors.repository.js';
import type { StoredSample } from '../../src/metrics/sample-events.js';
import type { TestContext } from './app.js';

type SeriesType = 'numeric' | 'bool' | 'string';

export interface SeriesFixture {
  id: number;
  tenantId: string;
  machineId: string;
  name: string;
  type: SeriesType;
  labels: Record<string, string>;
}

const canonical = (labels: Record<string, string>) => JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))));

export function ruleFixtures(ctx: TestContext) {
  const db: Db = ctx.database.db;

  /** A machine (its monitor of kind `machine` and its row), with tags; returns its id. */
  async function machine(tenantId: string, hostname: string, tags: string[] = []): Promise<string> {
    const id = randomUUID();
    const now = ctx.clock.now();
    await insertMonitor(db, { id, tenantId, kind: 'machine', name: hostname, tags, isActive: true, failureThreshold: 1, recoveryThreshold: 1, intervalSeconds: null, nextDueAt: null, now });
    await db.insertInto('machines').values({ monitor_id: id, tenant_id: tenantId, hostname, os: 'linux', first_seen_at: now, last_seen_at: now }).execute();
    return id;
  }

  async function series(tenantId: string, machineId: string, name: string, type: SeriesType = 'numeric', labels: Record<string, string> = {}): Promise<SeriesFixture> {
    const row = await db
      .insertInto('series')
      .values({ tenant_id: tenantId, machine_id: machineId, name, labels: canonical(labels), type, unit: null, created_at: ctx.clock.now(), last_at: null, last_num: null, last_text: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), tenantId, machineId, name, type, labels };
  }

  /** Numeric samples `[msAgo, value]` before the clock's now; the newest becomes the series' latest. */
  async function samples(s: SeriesFixture, points: readonly (readonly [number, number])[]): Promise<void> {
    const now = ctx.clock.now();
    const rows = points.map(([ago, value]) => ({ series_id: s.id, at: now - ago, value }));
    await db.insertInto('samples').values(rows).execute();
    const newest = rows.reduce((a, b) => (b.at > a.at ? b : a));
    await db.updateTable('series').set({ last_at: newest.at, last_num: newest.value }).where('id', '=', s.id).where((eb) => eb.or([eb('last_at', 'is', null), eb('last_at', '<=', newest.at)])).execute();
  }

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
