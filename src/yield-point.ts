/**
 * Long background work (the hour rollup over every monitor, pruning) runs on the event loop that
 * also serves requests, checks and sockets. On SQLite every query is synchronous, and awaiting a
 * promise that settles at once never lets the loop run: rolling up one hour of 10,000 monitors
 * held it for 1.8 s (bench:realtime, every live event and request of that time late by as much).
 * A yield point, called between steps of such work, lets the loop run its I/O and timers once the
 * work has held it for `budgetMs`, and costs a clock read otherwise.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

export const DEFAULT_YIELD_BUDGET_MS = 10;

export type YieldPoint = () => Promise<void>;

/** `now`: a clock in milliseconds (tests give their own). */
export function createYieldPoint(budgetMs: number = DEFAULT_YIELD_BUDGET_MS, now: () => number = () => performance.now()): YieldPoint {
  let since = now();
  return async () => {
    if (now() - since < budgetMs) return;
    await nextTurn();
    since = now();
  };
}
