/**
 * The time-weighted figures of one monitor over [from, to): how long its status was known and
 * how long it was up, from its history (each entry's status holds until the next entry, the
 * last until `to`), plus counts of the entries in the span. Time before the first entry is not
 * known; paused and maintenance time (flips into and out of those states) is not counted, and
 * after a resume the status is unknown again until the next entry. A `warning` is known time
 * that is not up.
 */
import type { Db } from '../db/database.js';
import type { HistorySource } from '../kinds/history.js';
import { UNWATCHED_STATES, type MonitorState, type ResultStatus } from './kinds.js';

export interface SpanFigures {
  upMs: number;
  knownMs: number;
  checks: number;
  upChecks: number;
  latencyCount: number;
  latencySum: number;
}

export const NO_FIGURES: SpanFigures = { upMs: 0, knownMs: 0, checks: 0, upChecks: 0, latencyCount: 0, latencySum: 0 };

export const addFigures = (a: SpanFigures, b: SpanFigures): SpanFigures => ({
  upMs: a.upMs + b.upMs,
  knownMs: a.knownMs + b.knownMs,
  checks: a.checks + b.checks,
  upChecks: a.upChecks + b.upChecks,
  latencyCount: a.latencyCount + b.latencyCount,
  latencySum: a.latencySum + b.latencySum,
});

const unwatched = (state: string) => UNWATCHED_STATES.includes(state as MonitorState);

/** Flips into or out of paused/maintenance that matter to [from, to): those inside it and the last one before it. */
async function watchFlips(db: Db, monitorId: string, from: number, to: number): Promise<{ at: number; watched: boolean }[]> {
  const relevant = (q: ReturnType<typeof base>) => q.where((eb) => eb.or([eb('from_state', 'in', UNWATCHED_STATES), eb('to_state', 'in', UNWATCHED_STATES)]));
  const base = () => db.selectFrom('monitor_flips').select(['at', 'to_state']).where('monitor_id', '=', monitorId);
  const before = await relevant(base().where('at', '<', from))
    .orderBy('at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const inside = await relevant(base().where('at', '>=', from).where('at', '<', to))
    .orderBy('at')
    .execute();
  return [...(before ? [before] : []), ...inside].map((f) => ({ at: Number(f.at), watched: !unwatched(f.to_state) }));
}

/**
 * `throughEnd`: an entry at exactly `to` is counted too (uptime's window ends now, and a result
 * recorded now is in it); it adds no time.
 */
export async function spanFigures(db: Db, monitorId: string, history: HistorySource, from: number, to: number, { throughEnd = false } = {}): Promise<SpanFigures> {
  if (to <= from) return NO_FIGURES;
  const last = throughEnd ? to + 1 : to;
  const entries = await history.between(db, monitorId, from, last);
  const flips = await watchFlips(db, monitorId, from, last);
  // One timeline. Within one millisecond an entry keeps its count: a resume comes before it, a
  // pause after it (a check, then the pause; the end of maintenance, then a check).
  const events = [...entries.map((e) => ({ at: e.at, order: 0, entry: e })), ...flips.map((f) => ({ at: f.at, order: f.watched ? -1 : 1, watched: f.watched }))].sort(
    (a, b) => a.at - b.at || a.order - b.order,
  );

  const figures = { ...NO_FIGURES };
  let status: ResultStatus | null = null;
  let watched = true;
  let cursor = from;
  const hold = (until: number) => {
    const end = Math.min(until, to);
    if (end > cursor && status !== null) {
      figures.knownMs += end - cursor;
      if (status === 'up') figures.upMs += end - cursor;
    }
    cursor = Math.max(cursor, end);
  };
  for (const event of events) {
    hold(event.at);
    if ('entry' in event && event.entry) {
      const e = event.entry;
      if (watched && e.at >= from && e.at < last) {
        figures.checks++;
        if (e.status === 'up') figures.upChecks++;
        if (e.latencyMs !== null) {
          figures.latencyCount++;
          figures.latencySum += e.latencyMs;
        }
      }
      if (watched) status = e.status;
    } else {
      watched = (event as { watched: boolean }).watched;
      status = null;
    }
  }
  hold(to);
  return figures;
}
