/**
 * Runs threshold rules and hands their verdicts to the monitor core.
 *
 * Two ways in: `runOnce()` evaluates every active rule (the periodic tick, loop.ts), and the
 * sample events: when ingestion stored samples, the rules that react to the latest value
 * (numeric `last`, bool, string) and whose selector matches what was stored are evaluated at
 * once, so an alert does not wait for the tick. Events are coalesced: they gather while an
 * evaluation runs and the next one takes them all, so a burst of ingests costs a few
 * evaluations, not one per batch. Evaluations run one at a time in a process.
 *
 * A verdict becomes a result (critical → down, warning → warning, ok → up) only when the
 * monitor's state must change, or when the last recorded result is RESULT_REFRESH_MS old (so a
 * steady rule still has a history and uptime); never one per sample. Each batch is one
 * transaction: the rule's state is written by compare-and-set on its revision (two evaluators
 * never both write one evaluation; the loser's verdict is dropped, the winner's stands), and the
 * result with it.
 */
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import { UNWATCHED_STATES, type MonitorState, type ResultStatus } from '../../monitors/kinds.js';
import { tagsOf } from '../../monitors/monitors.repository.js';
import type { ResultRecorder } from '../../monitors/results.service.js';
import type { SampleEvents, StoredSamples } from '../sample-events.js';
import { labelsMatch, type Level } from './definition.js';
import { evaluateRule, type RuleVerdict } from './evaluate.js';
import { matchSeries, readingsOf } from './readings.js';
import { toDefinition, toEvaluationState } from './rules.repository.js';

/** An unchanged verdict is recorded again after this long: one result per rule per 5 minutes at most. */
export const RESULT_REFRESH_MS = 5 * 60_000;
/** Rules per transaction in the periodic run. */
const BATCH = 200;

const STATUS_OF: Record<Level, ResultStatus> = { ok: 'up', warning: 'warning', critical: 'down' };
const STATE_OF: Record<Level, MonitorState> = { ok: 'up', warning: 'warning', critical: 'down' };

export interface RuleEvaluatorOptions {
  db: Db;
  clock: Clock;
  recorder: ResultRecorder;
  sampleEvents: SampleEvents;
}

/**
 * What was stored since the last on-sample evaluation, per tenant: the batches themselves, looked
 * at only when the tenant has latest-value rules (most ingests meet none; keeping a reference
 * costs nothing per sample).
 */
type Touched = Map<string, StoredSamples[]>;

/** A few label sets per metric name suffice to match selectors. */
const LABEL_SETS_PER_NAME = 100;

/** The label sets stored per machine for the metric names in `names`. */
function labelsByMachine(stored: readonly StoredSamples[], names: ReadonlySet<string>): Map<string, Map<string, Record<string, string>[]>> {
  const machines = new Map<string, Map<string, Record<string, string>[]>>();
  for (const batch of stored) {
    for (const sample of batch.samples) {
      if (!names.has(sample.name)) continue;
      let byName = machines.get(batch.machineId);
      if (!byName) machines.set(batch.machineId, (byName = new Map<string, Record<string, string>[]>()));
      const seen = byName.get(sample.name);
      if (!seen) byName.set(sample.name, [sample.labels]);
      else if (seen.length < LABEL_SETS_PER_NAME) seen.push(sample.labels);
    }
  }
  return machines;
}

function evaluationRows(db: Db) {
  return db
    .selectFrom('metric_rules')
    .innerJoin('monitors', 'monitors.id', 'metric_rules.monitor_id')
    .selectAll('metric_rules')
    .select('monitors.state as monitor_state')
    .where('monitors.is_active', '=', 1);
}
type EvaluationRow = Awaited<ReturnType<ReturnType<typeof evaluationRows>['execute']>>[number];

export function createRuleEvaluator({ db, clock, recorder, sampleEvents }: RuleEvaluatorOptions) {
  let onError: (error: unknown) => void = () => {};
  /** The evaluation running now, if any; the next one waits for it. */
  let chain: Promise<unknown> = Promise.resolve();
  let touched: Touched = new Map();
  let draining: Promise<void> | undefined;

  function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = chain.then(work);
    chain = run.catch(() => {});
    return run;
  }

  /** Evaluates these rules now and writes what must be written; returns how many were evaluated. */
  async function evaluateRows(rows: readonly EvaluationRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const now = clock.now();
    const definitions = rows.map(toDefinition);
    const matched = await matchSeries(
      db,
      rows.map((row, i) => ({ tenantId: row.tenant_id, definition: definitions[i]! })),
    );
    const verdicts: RuleVerdict[] = [];
    for (const [i, row] of rows.entries()) {
      const definition = definitions[i]!;
      const series = matched[i]!;
      const readings = await readingsOf(db, definition, series, now);
      const previous = toEvaluationState(row);
      verdicts.push(evaluateRule({ definition, previous, matchedSeries: series.length, readings, now }));
    }
    const written = await db.transaction().execute(async (trx) => {
      let alerted = false;
      // Monitor rows are locked by recordWithin in id order, the same in every evaluator.
      const order = rows.map((_, i) => i).sort((a, b) => (rows[a]!.monitor_id < rows[b]!.monitor_id ? -1 : 1));
      for (const i of order) {
        const row = rows[i]!;
        const verdict = verdicts[i]!;
        const record = mustRecord(row, verdict, now);
        const won = await trx
          .updateTable('metric_rules')
          .set({
            observed_level: verdict.observed,
            warning_since: verdict.clocks.warningSince,
            critical_since: verdict.clocks.criticalSince,
            last_value: verdict.value,
            last_message: verdict.message,
            last_evaluated_at: now,
            revision: row.revision + 1,
            ...(record && { last_recorded_at: now }),
          })
          .where('monitor_id', '=', row.monitor_id)
          .where('revision', '=', row.revision)
          .executeTakeFirst();
        if (won.numUpdatedRows === 0n || !record || verdict.reported === undefined) continue;
        const result = await recorder.recordWithin(trx, row.monitor_id, { status: STATUS_OF[verdict.reported], message: verdict.message, value: verdict.value }, now);
        alerted ||= result?.alerted ?? false;
      }
      return { alerted, events: recorder.staged(trx) };
    });
    recorder.committed(written.events);
    if (written.alerted) recorder.alertWritten();
    return rows.length;
  }

  function mustRecord(row: EvaluationRow, verdict: RuleVerdict, now: number): boolean {
    if (verdict.reported === undefined) return false; // no data: keep what was reported
    const state = row.monitor_state as MonitorState;
    if (UNWATCHED_STATES.includes(state)) return false;
    if (state !== STATE_OF[verdict.reported]) return true;
    return row.last_recorded_at === null || now - row.last_recorded_at >= RESULT_REFRESH_MS;
  }

  /** Every active rule, in batches of one transaction each. */
  async function evaluateAll(): Promise<number> {
    let evaluated = 0;
    let after = '';
    for (;;) {
      const rows = await evaluationRows(db).where('metric_rules.monitor_id', '>', after).orderBy('metric_rules.monitor_id').limit(BATCH).execute();
      evaluated += await evaluateRows(rows);
      if (rows.length < BATCH) return evaluated;
      after = rows[rows.length - 1]!.monitor_id;
    }
  }

  /** The rules reacting to the latest value whose selector matches something in `batch`. */
  async function evaluateTouched(batch: Touched): Promise<number> {
    let evaluated = 0;
    for (const [tenantId, stored] of batch) {
      // A tenant has a handful of latest-value rules: read them all once, keep those on a stored name.
      const rules = await evaluationRows(db)
        .where('metric_rules.tenant_id', '=', tenantId)
        .where((eb) => eb.or([eb('metric_rules.value_type', '!=', 'numeric'), eb('metric_rules.aggregation', '=', 'last')]))
        .execute();
      if (rules.length === 0) continue;
      const machines = labelsByMachine(stored, new Set(rules.map((row) => row.metric)));
      const candidates = rules.filter((row) => [...machines.values()].some((byName) => byName.has(row.metric)));
      if (candidates.length === 0) continue;
      const tags = candidates.some((r) => r.machine_tag !== null) ? await tagsOf(db, tenantId, [...machines.keys()]) : new Map<string, string[]>();
      const matching = candidates.filter((row) => {
        const ruleLabels = JSON.parse(row.labels) as Record<string, string>;
        return [...machines].some(
          ([machineId, byName]) =>
            (row.machine_id === null || row.machine_id === machineId) &&
            (row.machine_tag === null || (tags.get(machineId) ?? []).includes(row.machine_tag)) &&
            (byName.get(row.metric) ?? []).some((labels) => labelsMatch(ruleLabels, labels)),
        );
      });
      evaluated += await evaluateRows(matching);
    }
    return evaluated;
  }

  function onStored(stored: StoredSamples): void {
    const list = touched.get(stored.tenantId);
    if (list) list.push(stored);
    else touched.set(stored.tenantId, [stored]);
    drainSoon();
  }

  /** Starts after the current tick of the event loop, so ingests that commit meanwhile join. */
  function drainSoon(): void {
    if (draining) return; // the running drain takes what arrives before it ends
    draining = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        while (touched.size > 0) {
          const batch = touched;
          touched = new Map();
          await oneAtATime(() => evaluateTouched(batch)).catch((error: unknown) => onError(error));
        }
      })
      .finally(() => {
        draining = undefined;
        if (touched.size > 0) drainSoon();
      });
  }

  /** Until no drain is pending and the last evaluation queued has ended. */
  async function idle(): Promise<void> {
    for (;;) {
      if (draining) {
        await draining;
        continue;
      }
      const last = chain;
      await last;
      if (last === chain && !draining) return;
    }
  }

  const unlisten = sampleEvents.listen(onStored);

  return {
    /** Evaluates every active rule now (the periodic tick); returns how many. */
    runOnce: () => oneAtATime(evaluateAll),
    /** Resolves when the evaluations of samples stored so far are done. */
    flush: idle,
    /** Where failures of on-sample evaluations go (the tick's failures reach its caller). */
    reportErrorsTo(handler: (error: unknown) => void): void {
      onError = handler;
    },
    /** Stops listening to sample events and waits for what was started. */
    async close(): Promise<void> {
      unlisten();
      await idle();
    },
  };
}

export type RuleEvaluator = ReturnType<typeof createRuleEvaluator>;
