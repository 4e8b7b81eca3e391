/**
 * The sample mover: moves numeric samples from `samples_recent`, where ingestion writes them,
 * into `samples`, the clustered history (why two tables: migration 0009). It sweeps the series
 * ids in slices, one slice per tick (every TICK_MS), each slice one transaction that
 * - moves each series' latest value (series.last_at / last_num) forward to its newest moved
 *   sample (so ingestion does not rewrite a series row per sample),
 * - copies the slice's recent samples into `samples` (the same time again keeps the later value),
 * - deletes them from `samples_recent`.
 * Readers see the two tables as one (sample-rows.ts), so a move changes nothing they read, and a
 * crash leaves either the whole slice moved or none of it. Each dialect writes the move itself
 * (SqlDialect.moveRecentSamples, src/db/dialects/*-sample-move.ts).
 *
 * Pacing. A move is cheap per sample when each series brings many samples (they land on the same
 * page of `samples`), and ingestion into `samples_recent` is cheap while that table stays small
 * (many series per page). So the sweep's cycle (the time between two visits of a series) follows
 * the ingest rate: each slice says how many samples per series arrived since the sweep last
 * passed there (the time of that pass is remembered), and the cycle moves towards the time in
 * which SAMPLES_PER_SERIES_TARGET samples arrive per series, but no longer than it takes to fill
 * MAX_RECENT_ROWS, within [MIN_CYCLE_MS, MAX_CYCLE_MS]: a quiet system moves everything within a
 * minute. The rate is measured, not inferred from the cycle, so the pace does not oscillate; only
 * on a first pass, with no earlier one to measure from, does a slice's density shorten the cycle.
 *
 * Several processes may run a mover against one PostgreSQL database, beside ingestion in every
 * web process. A row is moved by the statement that deletes it (DELETE … RETURNING feeds the
 * insert), so it is moved once, and a value an agent rewrites meanwhile is either moved or left
 * for the next sweep, never lost. A mover never waits for anyone else's row locks: it takes the
 * series it moves, and then their recent rows, with SKIP LOCKED, and leaves what is busy for its
 * next pass. Waiting is what made lock cycles: an ingest transaction that had rewritten a
 * recent row (or set a series' unit) and then wanted a row the mover had just deleted, while the
 * mover waited for the first row. Now only ingestion waits (for a mover's short transaction), so
 * no cycle can form between movers and writers, nor between two movers (they take disjoint
 * series).
 */
import { dialectOf, type Db } from '../db/database.js';
import type { MovedSamples } from '../db/dialects/storage-dialect.js';
import type { Logger } from '../logger.js';

export const TICK_MS = 100;
const SAMPLES_PER_SERIES_TARGET = 16;
const MAX_RECENT_ROWS = 400_000;
const MIN_CYCLE_MS = 500;
const MAX_CYCLE_MS = 60_000;
const START_CYCLE_MS = 5_000;
/** How far one slice moves the cycle towards what it asks for (the rest: earlier slices). */
const SMOOTHING = 0.3;
/** A slice with nothing to move lengthens the cycle by this much: idle series are visited less often. */
const IDLE_GROWTH = 1.02;

/** Samples moved, and series whose latest value moved forward (SqlDialect.moveRecentSamples writes the move). */
export type MoveReport = MovedSamples;

export interface SampleMoverOptions {
  db: Db;
  logger?: Pick<Logger, 'warn'>;
  /** Wall-clock ms; the pace is measured with it. */
  now?: () => number;
}

/** Where the sweep passed, and when: one entry per tick, in cursor order. */
interface Pass {
  from: number;
  at: number;
}

/** When the sweep `passes` (one full sweep, cursor order) went over series id `id`; undefined if it did not. */
function passedAt(passes: readonly Pass[], id: number): number | undefined {
  let lo = 0;
  let hi = passes.length - 1;
  let found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (passes[mid]!.from <= id) {
      found = passes[mid]!.at;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export function createSampleMover({ db, logger, now = Date.now }: SampleMoverOptions) {
  const dialect = dialectOf(db);
  let cycleMs = START_CYCLE_MS;
  let cursor = 0;
  let idSpace = -1;
  let lastTickAt: number | undefined;
  let previousSweep: Pass[] = [];
  let sweep: Pass[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  /** Moves the recent samples of series ids in [from, to), in one transaction. */
  const moveRange = (from: number, to: number): Promise<MoveReport> => dialect.moveRecentSamples(db, from, to);

  /** Moves the cycle towards what this slice's arrival rate asks for. */
  function adapt({ rows, series }: MoveReport, width: number, sinceLastPass: number | undefined): void {
    if (rows === 0) {
      cycleMs = Math.min(MAX_CYCLE_MS, cycleMs * IDLE_GROWTH);
      return;
    }
    const perSeries = rows / Math.max(series, 1);
    if (sinceLastPass === undefined || sinceLastPass <= 0) {
      // The first pass over these series (since the start, or since they appeared): no rate to
      // measure yet, but a slice far denser than wanted says the cycle is too long (a cycle grown
      // long while nothing arrived would otherwise let a whole sweep's worth pile up).
      if (perSeries > SAMPLES_PER_SERIES_TARGET) cycleMs = Math.max(MIN_CYCLE_MS, cycleMs * (SAMPLES_PER_SERIES_TARGET / perSeries));
      return;
    }
    const perSeriesPerMs = perSeries / sinceLastPass;
    const allRowsPerMs = (rows / sinceLastPass) * ((idSpace + 1) / width);
    const wanted = Math.min(SAMPLES_PER_SERIES_TARGET / perSeriesPerMs, MAX_RECENT_ROWS / allRowsPerMs);
    cycleMs = Math.min(MAX_CYCLE_MS, Math.max(MIN_CYCLE_MS, cycleMs + SMOOTHING * (wanted - cycleMs)));
  }

  /** Moves the next slice: as wide as the time since the last tick asks for at the current cycle. */
  async function tick(): Promise<MoveReport> {
    const at = now();
    if (cursor > idSpace) {
      const row = await db
        .selectFrom('series')
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst();
      idSpace = row?.id === null || row?.id === undefined ? 0 : Number(row.id);
      cursor = 0;
      previousSweep = sweep;
      sweep = [];
    }
    const elapsed = lastTickAt === undefined ? TICK_MS : Math.max(1, at - lastTickAt);
    lastTickAt = at;
    const width = Math.max(1, Math.ceil(((idSpace + 1) * elapsed) / cycleMs));
    const lastPass = passedAt(previousSweep, cursor);
    sweep.push({ from: cursor, at });
    const report = await moveRange(cursor, cursor + width);
    cursor += width;
    adapt(report, width, lastPass === undefined ? undefined : at - lastPass);
    return report;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .then(() => undefined)
        .catch((error: unknown) => logger?.warn({ err: error }, 'moving recent samples failed; retrying next tick'))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, TICK_MS);
    timer.unref();
  }

  return {
    moveRange,
    /** Moves every recent sample now, in one transaction (tests, tools). */
    moveAll: () => moveRange(0, Number.MAX_SAFE_INTEGER),
    /** One slice now, as the timer does (tests). */
    tick,
    /** The sweep's current cycle, ms (diagnostics and tests). */
    cycleMs: () => cycleMs,
    start(): void {
      stopped = false;
      schedule();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export type SampleMover = ReturnType<typeof createSampleMover>;
