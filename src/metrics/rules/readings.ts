/**
 * What a batch of rules needs from the series store: the series each selector matches, and for
 * each series the value the rule judges. Plain SQL that both dialects run alike:
 * - numeric `last`: the newest raw sample within the window (max(at), then the value there by
 *   primary key); `avg` / `min` / `max`: an aggregate of the raw samples within the window,
 *   grouped by series — raw samples from both sample tables (sample-rows.ts);
 * - bool, string `differs`: the series' latest value (series.last_num / last_text);
 * - string `changed`: the series' changes within the window and the one before it.
 * A sample belongs to the window when its time is after now − window; samples stamped ahead of
 * the server's clock count (an agent whose clock runs a little fast still alerts at once).
 */
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { sampleRows, sampleValueAt } from '../sample-rows.js';
import { labelsMatch, type RuleDefinition } from './definition.js';
import type { SeriesReading, SeriesRef } from './evaluate.js';

/** Series ids per query: far below either dialect's limit on bound parameters. */
const CHUNK = 500;

export interface MatchedSeries extends SeriesRef {
  id: number;
  machineId: string;
  type: string;
  lastAt: number | null;
  lastNum: number | null;
  lastText: string | null;
}

export interface RuleSelector {
  tenantId: string;
  definition: RuleDefinition;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

const seriesOrder = (a: MatchedSeries, b: MatchedSeries) =>
  a.hostname.localeCompare(b.hostname) || a.name.localeCompare(b.name) || JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)) || a.id - b.id;

/**
 * The series each rule's selector matches, in a stable order (machine, name, labels). One query
 * per distinct (tenant, metric) of the batch and one per (tenant, machine tag), not per rule.
 */
export async function matchSeries(db: Db, rules: readonly RuleSelector[]): Promise<MatchedSeries[][]> {
  const byMetric = new Map<string, Promise<MatchedSeries[]>>();
  const byTag = new Map<string, Promise<Set<string>>>();
  const seriesOf = (tenantId: string, metric: string) => {
    const key = JSON.stringify([tenantId, metric]);
    let found = byMetric.get(key);
    if (!found) {
      found = db
        .selectFrom('series')
        .innerJoin('machines', 'machines.monitor_id', 'series.machine_id')
        .select(['series.id', 'series.machine_id', 'machines.hostname', 'series.name', 'series.labels', 'series.type', 'series.last_at', 'series.last_num', 'series.last_text'])
        .where('series.tenant_id', '=', tenantId)
        .where('series.name', '=', metric)
        .execute()
        .then((rows) =>
          rows
            .map((r) => ({
              id: Number(r.id),
              machineId: r.machine_id,
              hostname: r.hostname,
              name: r.name,
              labels: JSON.parse(r.labels) as Record<string, string>,
              type: r.type,
              lastAt: r.last_at,
              lastNum: r.last_num,
              lastText: r.last_text,
            }))
            .sort(seriesOrder),
        );
      byMetric.set(key, found);
    }
    return found;
  };
  const machinesTagged = (tenantId: string, tag: string) => {
    const key = JSON.stringify([tenantId, tag]);
    let found = byTag.get(key);
    if (!found) {
      found = db
        .selectFrom('monitor_tags')
        .select('monitor_id')
        .where('tenant_id', '=', tenantId)
        .where('tag', '=', tag)
        .execute()
        .then((rows) => new Set(rows.map((r) => r.monitor_id)));
      byTag.set(key, found);
    }
    return found;
  };
  return Promise.all(
    rules.map(async ({ tenantId, definition: d }) => {
      const [series, tagged] = await Promise.all([seriesOf(tenantId, d.metric), d.machineTag === null ? undefined : machinesTagged(tenantId, d.machineTag)]);
      return series.filter((s) => s.type === d.type && (d.machineId === null || s.machineId === d.machineId) && (!tagged || tagged.has(s.machineId)) && labelsMatch(d.labels, s.labels));
    }),
  );
}

/** The SQL of each windowed aggregation (a fixed set: no text from a request reaches the query). */
const AGGREGATE = { avg: sql`avg(value)`, min: sql`min(value)`, max: sql`max(value)` } as const;

/** Numeric rules: each series' aggregate over the window; series without samples there are left out. */
async function numericReadings(db: Db, definition: RuleDefinition, series: readonly MatchedSeries[], now: number): Promise<SeriesReading[]> {
  const from = now - (definition.windowSeconds ?? 0) * 1000;
  const values = new Map<number, number>();
  for (const part of chunks(series.map((s) => s.id))) {
    // Integer milliseconds: "after from" is "from + 1 or later".
    const rows = sampleRows({ seriesIds: part, from: from + 1 });
    const query =
      definition.aggregation === 'last'
        ? sql<{ series_id: number; value: number | null }>`select g.series_id, ${sampleValueAt(sql.ref('g.series_id'), sql.ref('g.at'))} as value
            from (select series_id, max(at) as at from (${rows}) as v group by series_id) g`
        : sql<{ series_id: number; value: number | null }>`select series_id, ${AGGREGATE[definition.aggregation ?? 'avg']} as value from (${rows}) as v group by series_id`;
    for (const r of (await query.execute(db)).rows) if (r.value !== null) values.set(Number(r.series_id), Number(r.value));
  }
  return series.flatMap((s) => {
    const value = values.get(s.id);
    return value === undefined ? [] : [{ series: s, kind: 'number' as const, value }];
  });
}

/**
 * String `changed`: per series, the changes within the window and the value before them. A
 * change is a row whose value differs from the one before it (so a repeated row, or the very
 * first value a series ever had, is not one). The newest change is reported.
 */
async function changeReadings(db: Db, definition: RuleDefinition, series: readonly MatchedSeries[], now: number): Promise<SeriesReading[]> {
  const from = now - (definition.windowSeconds ?? 0) * 1000;
  const history = new Map<number, { at: number; value: string }[]>();
  for (const part of chunks(series.map((s) => s.id))) {
    const before = await db
      .selectFrom('series_changes as c')
      .select(['c.series_id', 'c.at', 'c.value'])
      .where('c.series_id', 'in', part)
      .where('c.at', '=', (eb) =>
        eb
          .selectFrom('series_changes as prior')
          .select((e) => e.fn.max('prior.at').as('at'))
          .whereRef('prior.series_id', '=', 'c.series_id')
          .where('prior.at', '<=', from),
      )
      .execute();
    const within = await db.selectFrom('series_changes').select(['series_id', 'at', 'value']).where('series_id', 'in', part).where('at', '>', from).orderBy('series_id').orderBy('at').execute();
    for (const r of [...before, ...within]) {
      const id = Number(r.series_id);
      const rows = history.get(id) ?? [];
      rows.push({ at: Number(r.at), value: r.value });
      history.set(id, rows);
    }
  }
  return series.flatMap((s) => {
    const rows = history.get(s.id);
    if (!rows || rows.length === 0) return [];
    let change: { from: string; at: number } | null = null;
    for (let i = 1; i < rows.length; i++) {
      if (rows[i]!.value !== rows[i - 1]!.value) change = { from: rows[i - 1]!.value, at: rows[i]!.at };
    }
    return [{ series: s, kind: 'change' as const, latest: rows[rows.length - 1]!.value, change }];
  });
}

/** Readings of one rule's matched series: one per series that has data. */
export async function readingsOf(db: Db, definition: RuleDefinition, series: readonly MatchedSeries[], now: number): Promise<SeriesReading[]> {
  if (series.length === 0) return [];
  if (definition.type === 'numeric') return numericReadings(db, definition, series, now);
  if (definition.type === 'bool') {
    return series.flatMap((s) => (s.lastAt === null || s.lastNum === null ? [] : [{ series: s, kind: 'number' as const, value: s.lastNum === 0 ? 0 : 1 }]));
  }
  if (definition.condition === 'changed') return changeReadings(db, definition, series, now);
  return series.flatMap((s) => (s.lastAt === null || s.lastText === null ? [] : [{ series: s, kind: 'text' as const, text: s.lastText }]));
}
