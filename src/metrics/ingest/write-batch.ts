/**
 * Writes one agent batch inside the writer's transaction: the ingest id (a duplicate stops
 * here and gets the first answer back), the machine (created with its monitor on its first
 * batch, its last_seen_at, os, info and tags kept current, and brought `up` when it was not),
 * the series (found in the cache or created), the bool and string values (a change row only when
 * the value differs from the one before it), and the numeric samples, which go to the
 * transaction's buffer to be written together with the other batches' at the end.
 *
 * Nothing is written for a batch that is refused (a metric whose series has another type): its
 * checks run before its first write, so the other batches of the transaction are unaffected.
 */
import type { Db } from '../../db/database.js';
import { ValidationError, type FieldProblem } from '../../errors.js';
import { UNWATCHED_STATES, type MonitorState } from '../../monitors/kinds.js';
import { createMonitorWithSettings } from '../../monitors/create-monitor.js';
import { replaceTags } from '../../monitors/monitors.repository.js';
import type { ResultRecorder } from '../../monitors/results.service.js';
import type { StoredSamples } from '../sample-events.js';
import { storedValue, type SeriesType } from '../series-types.js';
import type { IngestBatch, IngestMetric } from './ingest-body.js';
import type { IngestStatements } from './ingest-statements.js';
import type { NumericBuffer } from './numeric-buffer.js';
import { seriesKey, type CachedSeries, type SeriesCache } from './series-cache.js';

export interface IngestRequest {
  tenantId: string;
  /** Lower case. */
  ingestId: string;
  /** When the ingest id may be forgotten (METRICS_INGEST_ID_TTL_HOURS after receipt). */
  expiresAt: number;
  batch: IngestBatch;
}

/** The answer, as the API gives it; replayed (with `duplicate: true`) for the same ingest id. */
export interface IngestResponse {
  ingest_id: string;
  machine_id: string;
  accepted: number;
  received_at: string;
  duplicate: boolean;
}

export type BatchOutcome =
  { kind: 'stored'; response: IngestResponse; stored: StoredSamples; alerted: boolean } | { kind: 'duplicate'; response: IngestResponse } | { kind: 'refused'; error: ValidationError };

export interface WriteContext {
  statements: IngestStatements;
  cache: SeriesCache;
  recorder: ResultRecorder;
  /** The transaction's numeric samples, written after its last batch. */
  numeric: NumericBuffer;
}

/** A series id from the cache that the database no longer has: the transaction is retried. */
export class StaleSeriesError extends Error {}

/** New series per insert statement (ten values each). */
const SERIES_INSERT_CHUNK = 500;

/** A bool or string value as series_changes stores it. */
const changeValue = (type: SeriesType, num: number | null, text: string | null): string | null => {
  const value = storedValue(type, num, text);
  return value === null ? null : String(value);
};

async function machineSeries(trx: Db, ctx: WriteContext, machineId: string): Promise<Map<string, CachedSeries>> {
  const cached = ctx.cache.machine(machineId);
  if (cached) return cached;
  const rows = (await ctx.statements.loadSeries.run(trx, { machineId })).rows;
  return ctx.cache.load(
    machineId,
    rows.map((row) => [seriesKey(row.name, row.labels), { id: Number(row.id), type: row.type as SeriesType, unit: row.unit }]),
  );
}

/** Each metric's series from the machine's cache (undefined: a new series), and the metrics whose type differs from their series'. */
function knownSeries(metrics: readonly IngestMetric[], series: Map<string, CachedSeries>, hostname: string): { known: (CachedSeries | undefined)[]; problems: FieldProblem[] } {
  const known = new Array<CachedSeries | undefined>(metrics.length);
  const problems: FieldProblem[] = [];
  for (let i = 0; i < metrics.length; i++) {
    const metric = metrics[i]!;
    const entry = (known[i] = series.get(metric.key));
    if (entry && entry.type !== metric.type) {
      problems.push({
        loc: ['body', 'metrics', i, 'type'],
        msg: `${metric.name} ${metric.labelsKey} of ${hostname} is a ${entry.type} series; a metric keeps its type (use another name for ${metric.type} values)`,
        type: 'value_error',
      });
    }
  }
  return { known, problems };
}

/** Creates the machine's monitor (kind machine: down after one missed threshold, up on the next batch) and its row. */
async function createMachine(trx: Db, tenantId: string, batch: IngestBatch): Promise<string> {
  const { machine, receivedAt } = batch;
  return createMonitorWithSettings(trx, { tenantId, kind: 'machine', name: machine.hostname, tags: machine.tags, failureThreshold: 1, recoveryThreshold: 1, now: receivedAt }, 'machines', {
    hostname: machine.hostname,
    os: machine.os ?? null,
    info: machine.info ?? '{}',
    first_seen_at: receivedAt,
    last_seen_at: receivedAt,
  });
}

/** Updates a known machine; returns its monitor's state, read after the machine's row is written (and so, on PostgreSQL, locked against the liveness sweep). */
async function touchMachine(trx: Db, ctx: WriteContext, tenantId: string, machineId: string, batch: IngestBatch): Promise<MonitorState> {
  const { machine } = batch;
  const touched = await ctx.statements.touchMachine.run(trx, { machineId, at: batch.receivedAt, os: machine.os ?? null, info: machine.info ?? null });
  if (touched.numAffectedRows === 0n) throw new StaleSeriesError(`machine ${machineId} was deleted during the batch`);
  if (machine.tags !== undefined) {
    const current = (await ctx.statements.machineTags.run(trx, { machineId })).rows.map((row) => row.tag);
    if (current.join('\u0000') !== machine.tags.join('\u0000')) await replaceTags(trx, tenantId, machineId, machine.tags);
  }
  const monitor = (await ctx.statements.monitorState.run(trx, { machineId })).rows[0];
  if (!monitor) throw new StaleSeriesError(`monitor ${machineId} was deleted during the batch`);
  return monitor.state as MonitorState;
}

/** Creates the series the batch names that the machine does not have yet (`known`: the ones it has, by metric; absent: look each up). */
async function createSeries(
  trx: Db,
  ctx: WriteContext,
  tenantId: string,
  machineId: string,
  metrics: readonly IngestMetric[],
  series: Map<string, CachedSeries>,
  known: readonly (CachedSeries | undefined)[] | undefined,
  now: number,
): Promise<void> {
  const missing = new Map<string, IngestMetric>();
  metrics.forEach((metric, i) => {
    if (known?.[i] === undefined && !series.has(metric.key) && !missing.has(metric.key)) missing.set(metric.key, metric);
  });
  const news = [...missing.values()];
  for (let start = 0; start < news.length; start += SERIES_INSERT_CHUNK) {
    const chunk = news.slice(start, start + SERIES_INSERT_CHUNK);
    const rows = await trx
      .insertInto('series')
      .values(
        chunk.map((m) => ({
          tenant_id: tenantId,
          machine_id: machineId,
          name: m.name,
          labels: m.labelsKey,
          type: m.type,
          unit: m.unit ?? null,
          created_at: now,
          last_at: null,
          last_num: null,
          last_text: null,
        })),
      )
      .returning(['id', 'name', 'labels', 'type', 'unit'])
      .execute();
    for (const row of rows) {
      const key = seriesKey(row.name, row.labels);
      const entry: CachedSeries = { id: Number(row.id), type: row.type as SeriesType, unit: row.unit };
      series.set(key, entry);
      ctx.cache.add(machineId, key, entry);
    }
  }
}

/**
 * Bool and string samples: each series' samples in time order against its stored latest value.
 * A newer value that differs is a change; the same time again overwrites (last write wins); an
 * older one (a late sample) is a change only if it differs from the value in effect then, and
 * does not become the latest.
 */
async function writeTextual(trx: Db, ctx: WriteContext, metrics: readonly IngestMetric[]): Promise<void> {
  const bySeries = new Map<number, IngestMetric[]>();
  for (const metric of metrics) {
    const list = bySeries.get(metric.seriesId);
    if (list) list.push(metric);
    else bySeries.set(metric.seriesId, [metric]);
  }
  const stored = new Map((await ctx.statements.readLatest(trx, [...bySeries.keys()])).rows.map((row) => [Number(row.id), row]));
  const { upsertChange, changeAt, setLast } = ctx.statements;
  for (const [id, metrics] of bySeries) {
    const row = stored.get(id);
    if (!row) throw new StaleSeriesError(`series ${id} was deleted`);
    const type = metrics[0]!.type;
    let lastAt = row.last_at;
    let lastValue = changeValue(type, row.last_num, row.last_text);
    let latest: IngestMetric | undefined;
    for (const metric of metrics.length > 1 ? [...metrics].sort((a, b) => a.at - b.at) : metrics) {
      const value = changeValue(type, metric.value, metric.text)!;
      if (lastAt === null || metric.at >= lastAt) {
        if (value !== lastValue) await upsertChange.run(trx, { id, at: metric.at, value });
        lastAt = metric.at;
        lastValue = value;
        latest = metric;
      } else {
        const before = (await changeAt.run(trx, { id, at: metric.at })).rows[0];
        if (before?.value !== value) await upsertChange.run(trx, { id, at: metric.at, value });
      }
    }
    if (latest) await setLast.run(trx, { id, at: latest.at, num: latest.value, text: latest.text });
  }
}

export async function writeBatch(trx: Db, ctx: WriteContext, request: IngestRequest): Promise<BatchOutcome> {
  const { tenantId, ingestId, batch } = request;
  const { statements } = ctx;
  const earlier = (await statements.findBatch.run(trx, { tenantId, ingestId })).rows[0];
  if (earlier) return { kind: 'duplicate', response: { ...(JSON.parse(earlier.response) as Omit<IngestResponse, 'duplicate'>), duplicate: true } };

  let machineId = (await statements.findMachine.run(trx, { tenantId, hostname: batch.machine.hostname })).rows[0]?.monitor_id;
  let known: (CachedSeries | undefined)[] | undefined;
  if (machineId !== undefined) {
    const checked = knownSeries(batch.metrics, await machineSeries(trx, ctx, machineId), batch.machine.hostname);
    if (checked.problems.length) return { kind: 'refused', error: new ValidationError(checked.problems) };
    known = checked.known;
  }

  // Checked: from here on, everything is written.
  let state: MonitorState;
  if (machineId === undefined) {
    machineId = await createMachine(trx, tenantId, batch);
    ctx.cache.load(machineId, []);
    state = 'pending';
  } else {
    state = await touchMachine(trx, ctx, tenantId, machineId, batch);
  }
  let alerted = false;
  // One result when the machine comes (back) up, not one per batch.
  if (state !== 'up' && !UNWATCHED_STATES.includes(state)) {
    const written = await ctx.recorder.recordWithin(trx, machineId, { status: 'up', message: 'metrics received' }, batch.receivedAt);
    alerted = written?.alerted ?? false;
  }

  const series = await machineSeries(trx, ctx, machineId);
  await createSeries(trx, ctx, tenantId, machineId, batch.metrics, series, known, batch.receivedAt);

  const textual: IngestMetric[] = [];
  const unitChanged = new Set<number>();
  for (let i = 0; i < batch.metrics.length; i++) {
    const metric = batch.metrics[i]!;
    const entry = known?.[i] ?? series.get(metric.key)!;
    metric.seriesId = entry.id;
    if (metric.unit !== undefined && metric.unit !== entry.unit && !unitChanged.has(entry.id)) {
      unitChanged.add(entry.id);
      await statements.setUnit.run(trx, { id: entry.id, unit: metric.unit });
      entry.unit = metric.unit;
    }
    if (metric.type === 'numeric') ctx.numeric.add(entry.id, metric.at, metric.value!);
    else textual.push(metric);
  }
  if (textual.length) await writeTextual(trx, ctx, textual);

  const first: Omit<IngestResponse, 'duplicate'> = { ingest_id: ingestId, machine_id: machineId, accepted: batch.metrics.length, received_at: new Date(batch.receivedAt).toISOString() };
  await statements.insertBatch.run(trx, { tenantId, ingestId, receivedAt: batch.receivedAt, expiresAt: request.expiresAt, machineId, response: JSON.stringify(first) });
  return { kind: 'stored', response: { ...first, duplicate: false }, stored: { tenantId, machineId, samples: batch.metrics }, alerted };
}
